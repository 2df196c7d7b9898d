"""Pure terms, table-driven: pixel_l2, canny_l2, ssim, ssim_structure, shape, pixel_coarse, length, format; all pickle."""

import math
import pickle

import cv2
import numpy as np
import pytest
from reward_helpers import canvas, noise, other_shapes, shapes

from vinci_rl.reward.terms import (
    CannyL2,
    FormatReward,
    LengthReward,
    PixelCoarse,
    PixelL2,
    ShapeOverlap,
    canny_l2,
    format_reward,
    l2_reward,
    length_reward,
    pixel_coarse,
    pixel_l2,
    shape,
    ssim,
    ssim_structure,
    standardize,
    standardized_l2,
)

GRAY = np.full((96, 128, 3), 128, np.uint8)


@pytest.mark.parametrize(
    "l2,expected",
    [(0.0, 1.0), (0.5, 0.5), (1.0, 0.0), (1.5, -0.5), (2.0, -1.0), (4.0, -1.0), (float("nan"), -1.0)],
)
def test_l2_reward_table(l2, expected):
    assert l2_reward(l2) == pytest.approx(expected)


def test_standardize_constant_is_none_and_l2_nan():
    assert standardize(GRAY) is None
    assert math.isnan(standardized_l2(GRAY, noise()))  # RLRF divides by a zero std: NaN
    s = standardize(noise())
    assert s.mean() == pytest.approx(0, abs=1e-6) and s.std() == pytest.approx(1, rel=1e-5)


def test_standardized_l2_is_two_minus_two_corr():
    a, b = noise(seed=1).astype(float), (noise(seed=1) // 2 + noise(seed=2) // 2).astype(float)
    corr = np.corrcoef(a.ravel(), b.ravel())[0, 1]
    assert standardized_l2(a, b) == pytest.approx(2 - 2 * corr, rel=1e-5)


@pytest.mark.parametrize(
    "pred,ref,expected",
    [
        (shapes(), shapes(), 1.0),  # identical
        (255 - noise(), noise(), -1.0),  # anti-correlated: l2 = 4, clipped
        (GRAY, noise(), -1.0),  # constant pred: RLRF's NaN path
        (canvas(), shapes(), -1.0),  # an empty canvas is never paid
        (canvas(), canvas(), -1.0),  # both constant: RLRF's code still divides by zero
        (noise(), GRAY, -1.0),  # constant reference
    ],
)
def test_pixel_l2_table(pred, ref, expected):
    v = pixel_l2(pred, ref)
    assert not math.isnan(v)
    assert v == pytest.approx(expected, abs=1e-6)


def test_both_flat_value_is_configurable():
    assert PixelL2(both_flat=1.0)(canvas(), canvas()) == 1.0
    assert PixelL2(both_flat=1.0)(canvas(), shapes()) == -1.0  # one side flat: always -1
    assert CannyL2(both_flat=1.0)(GRAY, canvas()) == 1.0  # neither has an edge
    assert CannyL2(both_flat=1.0)(GRAY, shapes()) == -1.0


def test_pixel_l2_orders_degradations():
    ref = shapes()
    small, large = pixel_l2(shapes(dx=3), ref), pixel_l2(other_shapes(), ref)
    assert 1.0 > small > large


def test_pred_is_resized_to_reference():
    ref = shapes(128, 96)
    big = cv2.resize(ref, (256, 192), interpolation=cv2.INTER_CUBIC)  # the same drawing at twice the size
    assert pixel_l2(big, ref) > 0.95
    assert canny_l2(big, ref) > 0.5
    assert ssim(big, ref) > 0.9


@pytest.mark.parametrize(
    "pred,ref,expected",
    [
        (shapes(), shapes(), 1.0),
        (canvas(), shapes(), -1.0),  # no edges at all: constant edge map, NaN path
        (np.full((96, 128, 3), (223, 232, 241), np.uint8), shapes(), -1.0),  # a coloured flat fill
        (canvas(), canvas(), -1.0),
    ],
)
def test_canny_l2_table(pred, ref, expected):
    v = canny_l2(pred, ref)
    assert not math.isnan(v) and v == pytest.approx(expected, abs=1e-6)


def test_canny_l2_orders_degradations():
    ref = shapes()
    assert 1.0 > canny_l2(shapes(dx=2), ref) > canny_l2(other_shapes(), ref)


def test_canny_edges_parameters():
    e = CannyL2().edges(shapes())
    assert e.dtype == np.uint8 and e.shape == (96, 128) and e.max() > 0
    # no blur, no dilation: a thinner edge map
    assert (CannyL2(dilate=1, blur=1).edges(shapes()) > 0).sum() < (e > 0).sum()


@pytest.mark.parametrize(
    "pred,ref,lo,hi",
    [
        (shapes(), shapes(), 1.0, 1.0),
        (canvas(), canvas(), 1.0, 1.0),
        (shapes(dx=3), shapes(), 0.8, 0.999),
        (other_shapes(), shapes(), 0.3, 0.85),
        (noise(), shapes(), -1.0, 0.2),
    ],
)
def test_ssim_table(pred, ref, lo, hi):
    v = ssim(pred, ref)
    assert lo - 1e-9 <= v <= hi + 1e-9


def test_ssim_symmetric():
    assert ssim(shapes(dx=4), shapes()) == pytest.approx(ssim(shapes(), shapes(dx=4)))


def sparse(w: int = 200, h: int = 160, x: int = 40) -> np.ndarray:
    """A small dark square on a large white canvas (a sparse drawing)."""
    img = canvas(w, h)
    cv2.rectangle(img, (x, 50), (x + 30, 80), (30, 30, 30), -1)
    return img


def test_ssim_structure_does_not_pay_an_empty_canvas():
    ref = sparse()
    # plain SSIM: most windows are blank in both, so the empty canvas looks 90 % right
    assert ssim(canvas(200, 160), ref) > 0.85
    empty, wrong = ssim_structure(canvas(200, 160), ref), ssim_structure(sparse(x=120), ref)
    assert abs(empty) < 0.1 and abs(wrong) < 0.1  # nothing where the reference has structure
    assert ssim_structure(ref, ref) == pytest.approx(1.0)
    assert ssim_structure(sparse(x=42), ref) > 0.3 > empty
    assert ssim_structure(canvas(), canvas()) == pytest.approx(1.0)  # no structure anywhere: plain SSIM


def moved(image: np.ndarray, dx: int) -> np.ndarray:
    """The whole picture moved right by dx px, white coming in from the left."""
    out = np.full_like(image, 255)
    out[:, dx:] = image[:, : image.shape[1] - dx]
    return out


@pytest.mark.parametrize("term", [shape, pixel_coarse])
def test_coarse_terms_tolerate_shifts(term):
    ref = shapes(256, 192)
    exact, near, far = term(ref, ref), term(moved(ref, 6), ref), term(moved(ref, 27), ref)
    other, empty = term(other_shapes(256, 192), ref), term(canvas(256, 192), ref)
    assert exact == pytest.approx(1.0, abs=1e-6)
    assert 1.0 > near > far > other > empty == -1.0
    assert near > 0.8  # 3 % of the short side: barely a cost
    assert far > 0.5 > pixel_l2(moved(ref, 27), ref) + 0.5  # 14 %: the pixel term sees almost nothing


def test_shape_is_colour_blind_and_pixel_coarse_is_not():
    ref = shapes()
    recoloured = shapes(color=(30, 160, 40))
    assert shape(recoloured, ref) == pytest.approx(1.0, abs=1e-6)
    assert pixel_coarse(recoloured, ref) < 0.99


def test_shift_cost_is_the_distance():
    ref = shapes(256, 192)
    moved = np.roll(ref, 19, axis=1)  # 10 % of the short side; the content stays inside the canvas
    no_penalty = ShapeOverlap(penalty=0.0)(moved, ref)
    assert no_penalty == pytest.approx(1.0, abs=0.02)
    assert ShapeOverlap(penalty=1.0)(moved, ref) == pytest.approx(no_penalty - 2 * 0.1, abs=0.03)
    assert ShapeOverlap(max_shift=0.05)(moved, ref) < 0.6  # beyond the search range


@pytest.mark.parametrize(
    "term,pred,ref,expected",
    [
        (shape, canvas(), canvas(), 1.0),  # both empty
        (shape, canvas(), shapes(), -1.0),
        (shape, shapes(), canvas(), -1.0),
        (pixel_coarse, GRAY, canvas(), 1.0),  # both flat
        (pixel_coarse, GRAY, shapes(), -1.0),
    ],
)
def test_coarse_terms_flat_table(term, pred, ref, expected):
    assert term(pred, ref) == pytest.approx(expected)


def test_colour_prices_the_colours_the_standardised_terms_ignore():
    from vinci_rl.reward.terms.colour import ColourTerm, mean_delta_e

    cream = shapes()
    cream[np.all(cream == 255, axis=2)] = (253, 246, 227)
    assert ColourTerm()(cream, cream) == pytest.approx(1.0)
    assert pixel_coarse(shapes(), cream) > 0.99  # the standardised term barely sees the background
    wrong_background = ColourTerm()(shapes(), cream)
    assert wrong_background == pytest.approx(1 - 2 * mean_delta_e(shapes(), cream) / 25) and wrong_background < 0.9
    assert ColourTerm()(shapes(color=(30, 160, 40)), shapes()) < 1.0


@pytest.mark.parametrize(
    "pred_len,gt_len,floor_ratio,floor_penalty,expected",
    [
        (50, 100, 0.1, -1.0, 1.0),  # <= half of GT
        (30, 100, 0.1, -1.0, 1.0),
        (100, 100, 0.1, -1.0, 0.75),  # equal length
        (150, 100, 0.1, -1.0, 0.0),  # 1.5x
        (125, 100, 0.1, -1.0, 1 - 0.75**2),
        (200, 100, 0.1, -1.0, 1 - 1.5**2),  # -1.25 -> clipped
        (300, 100, 0.1, -1.0, -1.0),
        (10, 100, 0.1, -1.0, 1.0),  # exactly at the floor: not below it
        (9, 100, 0.1, -1.0, -1.0),  # below the floor: length collapse penalty
        (0, 100, 0.1, -1.0, -1.0),
        (20, 100, 0.3, -0.5, -0.5),  # configured floor
        (0, 100, 0.0, -1.0, 1.0),  # floor disabled
    ],
)
def test_length_table(pred_len, gt_len, floor_ratio, floor_penalty, expected):
    r = LengthReward(floor_ratio, floor_penalty)(pred_len, gt_len)
    assert r == pytest.approx(max(-1.0, min(1.0, expected)))


def test_length_rejects_zero_gt():
    with pytest.raises(ValueError):
        length_reward(10, 0)


@pytest.mark.parametrize(
    "term,fence_ok,expected",
    [(format_reward, True, 1.0), (format_reward, False, 0.0), (FormatReward(wrong_value=-1.0), False, -1.0)],
)
def test_format_table(term, fence_ok, expected):
    assert term(fence_ok) == expected


def test_format_lenient_value():
    f = FormatReward(wrong_value=0.0, lenient_value=0.5)
    assert (f(True), f(True, lenient=True), f(False, lenient=True), f(False)) == (1.0, 1.0, 0.5, 0.0)


@pytest.mark.parametrize(
    "term", [pixel_l2, canny_l2, CannyL2(low=10, high=40), ssim, ssim_structure, shape, pixel_coarse, PixelCoarse(side=32)]
)
def test_image_terms_pickle(term):
    clone = pickle.loads(pickle.dumps(term))
    assert clone(shapes(dx=2), shapes()) == term(shapes(dx=2), shapes())


@pytest.mark.parametrize("term,args", [(LengthReward(0.2, -0.3), (10, 100)), (FormatReward(0.5, -0.5), (False,))])
def test_text_terms_pickle(term, args):
    clone = pickle.loads(pickle.dumps(term))
    assert clone == term and clone(*args) == term(*args)
