"""Pure terms, table-driven: pixel_l2, canny_l2, ssim, length, format; all pickle."""

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
    canny_l2,
    format_reward,
    l2_reward,
    length_reward,
    pixel_l2,
    ssim,
    standardize,
    standardized_l2,
)

GRAY = np.full((96, 128, 3), 128, np.uint8)


@pytest.mark.parametrize(
    "l2,expected",
    [(0.0, 1.0), (0.5, 0.5), (1.0, 0.0), (1.5, -0.5), (2.0, -1.0), (4.0, -1.0)],
)
def test_l2_reward_table(l2, expected):
    assert l2_reward(l2) == pytest.approx(expected)


def test_standardize_constant_gives_zeros():
    z = standardize(GRAY)
    assert not np.isnan(z).any() and np.all(z == 0)
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
        (GRAY, noise(), 0.0),  # constant pred: standardises to 0, l2 = 1, no NaN
        (canvas(), canvas(), 1.0),  # both constant
        (noise(), GRAY, 0.0),  # constant reference
    ],
)
def test_pixel_l2_table(pred, ref, expected):
    v = pixel_l2(pred, ref)
    assert not math.isnan(v)
    assert v == pytest.approx(expected, abs=1e-6)


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
        (canvas(), shapes(), 0.0),  # no edges at all: constant edge map
        (canvas(), canvas(), 1.0),
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


@pytest.mark.parametrize("term", [pixel_l2, canny_l2, CannyL2(low=10, high=40), ssim])
def test_image_terms_pickle(term):
    clone = pickle.loads(pickle.dumps(term))
    assert clone(shapes(dx=2), shapes()) == term(shapes(dx=2), shapes())


@pytest.mark.parametrize("term,args", [(LengthReward(0.2, -0.3), (10, 100)), (FormatReward(0.5, -0.5), (False,))])
def test_text_terms_pickle(term, args):
    clone = pickle.loads(pickle.dumps(term))
    assert clone == term and clone(*args) == term(*args)
