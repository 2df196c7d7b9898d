"""The `rlrf` preset against RLRF's released rewarder (svg_rewarder.SVGRewarderV2.svg_compute_score with
rewards_img.reward_img_l2 and rewards_svg.reward_svg_length_quadratic), re-implemented here from the formulas as
that code states them:

- rasterise: cairosvg.svg2png(bytestring, background_color='white', output_width=512, output_height=512,
  dpi=128, scale=2); RGBA pasted on white; RGB -> BGR; the ground truth is rasterised the same way when no
  image is given;
- invalid SVG -> -1; near-white prediction (mean >= 254 or max - min < 5) -> -1;
- img_l2: cv2.resize(pred, label size); with canny: Canny(50, 150) on BGR2GRAY, binarised to 255, dilated by a
  3x3 kernel once, back to 3 channels; GaussianBlur(blur, blur) when blur > 0; each image standardised with its
  own np.mean / np.std in float32; l2 = sum((a - b)^2) / size; NaN -> -1, else -clip(l2 - 1, -1, 1);
- length: clip(1 - (max(0, len(pred) - len(gt) / 2) / len(gt))^2, -1, 1) on the raw strings;
- overall = text_weight * length + image_weight * sum(w_i * img_l2_i).

Our preset's normalised weights (pixel 1, canny 1, length 0.1) are the rewarder configured with img_l2 (blur 0)
and img_l2_canny (blur 13) at 1/2.1 each and text weight 0.1/2.1. Everything agrees to 1e-4.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from vinci_rl.reward import RewardConfig, VisualScorer
from vinci_rl.reward.terms import canny_l2, length_reward, pixel_l2

sys.path.insert(0, str(Path(__file__).parent))
import fidelity_cases as F  # noqa: E402

cairosvg = pytest.importorskip("cairosvg")

# ---- RLRF's formulas, as stated in its released code -------------------------------------------------------------


def rlrf_raster(svg: str, size: int = 512) -> np.ndarray:
    png = cairosvg.svg2png(bytestring=svg.encode(), background_color="white", output_width=size,
                           output_height=size, dpi=128, scale=2)  # fmt: skip
    im = Image.open(io.BytesIO(png))
    if im.mode == "RGBA":
        bg = Image.new("RGB", im.size, (255, 255, 255))
        bg.paste(im, mask=im.split()[3])
        im = bg
    return np.array(im)[:, :, ::-1].copy()  # BGR, as pil_png_to_np returns it


def rlrf_canny(img: np.ndarray) -> np.ndarray:
    edges = cv2.Canny(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), 50, 150)
    edges[edges != 0] = 255
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8), iterations=1)
    return cv2.cvtColor(edges, cv2.COLOR_GRAY2BGR)


def rlrf_img_l2(label: np.ndarray, pred: np.ndarray, canny: bool = False, blur: int = 0) -> float:
    pred = cv2.resize(pred, (label.shape[1], label.shape[0]))
    if canny:
        pred, label = rlrf_canny(pred), rlrf_canny(label)
    if blur > 0:
        label, pred = cv2.GaussianBlur(label, (blur, blur), 0), cv2.GaussianBlur(pred, (blur, blur), 0)
    label, pred = label.astype(np.float32), pred.astype(np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        label = (label - np.mean(label)) / np.std(label)
        pred = (pred - np.mean(pred)) / np.std(pred)
        l2 = np.sum((label - pred) ** 2) / np.prod(label.shape)
    return -1.0 if np.isnan(l2) else float(-1 * np.clip(l2 - 1, -1, 1))


def rlrf_length(gt: str, pred: str) -> float:
    return float(np.clip(1 - (max(0, (len(pred) - len(gt) / 2)) / len(gt)) ** 2, -1, 1))


def rlrf_overall(svg_pred: str, svg_gt: str) -> float:
    """svg_compute_score with the weights of our preset (image 1/2.1 + 1/2.1, text 0.1/2.1)."""
    try:
        img_pred = rlrf_raster(svg_pred)
    except Exception:  # cairosvg failed: the fallback image with status invalid
        return -1.0
    if np.mean(img_pred) >= 254 or int(np.max(img_pred)) - int(np.min(img_pred)) < 5:
        return -1.0
    img_gt = rlrf_raster(svg_gt)
    image = rlrf_img_l2(img_gt, img_pred) / 2.1 + rlrf_img_l2(img_gt, img_pred, canny=True, blur=13) / 2.1
    return 0.1 / 2.1 * rlrf_length(svg_gt, svg_pred) + image


# ---- constructed cases ---------------------------------------------------------------------------------------------

GRADIENT = F.SCENE["gradient_only"]
PAIRS = {
    "identical": (F.SCENE["exact"], F.SCENE["exact"]),
    "partial": (F.SCENE["partial"], F.SCENE["exact"]),
    "misplaced": (F.SCENE["misplaced"], F.SCENE["exact"]),
    "background_only": (F.SCENE["background_only"], F.SCENE["exact"]),  # no edge: Canny NaN path
    "gradient": (GRADIENT, F.SCENE["exact"]),
    "dot": (F.SCENE["dot"], F.SCENE["exact"]),
    "white": (F.SCENE["white"], F.SCENE["exact"]),  # blank rule
    "logo_shift": (F.logo(dx=7), F.logo()),
    "logo_recolour": (F.logo(color="#d35400"), F.logo()),
    "inches": (F.INCH_SVG, F.INCH_SVG),  # physical units: the raster depends on the dpi
    "inches_vs_px": (F.INCH_SVG.replace("3in", "288"), F.INCH_SVG),
    "wide": (F.WIDE_SVG, F.WIDE_SVG),  # letterboxed in 512^2 on both sides
    "wide_shift": (F.WIDE_SVG.replace('x="40"', 'x="90"'), F.WIDE_SVG),
    "long_code": (F.SCENE["exact"].replace("</svg>", "<!--" + "x" * 900 + "--></svg>"), F.SCENE["exact"]),  # > 1.5x
    "invalid": ("<svg xmlns='http://www.w3.org/2000/svg'><rect", F.SCENE["exact"]),
}


@pytest.fixture(scope="module")
def rasters():
    return {k: (rlrf_raster(p) if "invalid" not in k else None, rlrf_raster(g)) for k, (p, g) in PAIRS.items()}


@pytest.mark.parametrize("case", [k for k in PAIRS if k != "invalid"])
def test_terms_match_rlrf(case, rasters):
    pred, gt = rasters[case]
    # our terms take RGB; RLRF's arrays are BGR: flip both (the L2s do not depend on the channel order)
    pred_rgb, gt_rgb = pred[:, :, ::-1], gt[:, :, ::-1]
    rlrf = {"pixel_l2": rlrf_img_l2(gt, pred), "canny_l2": rlrf_img_l2(gt, pred, canny=True, blur=13)}
    ours = {"pixel_l2": pixel_l2(pred_rgb, gt_rgb), "canny_l2": canny_l2(pred_rgb, gt_rgb)}
    assert ours == pytest.approx(rlrf, abs=1e-4)


@pytest.mark.parametrize("pred_len,gt_len", [(10, 100), (50, 100), (75, 100), (100, 100), (150, 100), (260, 100), (1, 3)])
def test_length_matches_rlrf(pred_len, gt_len):
    assert length_reward.__class__(floor_ratio=0.0)(pred_len, gt_len) == pytest.approx(rlrf_length("g" * gt_len, "p" * pred_len))
    cfg = RewardConfig.from_preset("rlrf").length
    assert (cfg.floor_ratio, cfg.unit) == (0.0, "chars")  # no floor in the released code; len() of the strings


@pytest.fixture(scope="module")
def rlrf_scorer():
    from vinci_rl.render import Renderer, RenderConfig

    cfg = RewardConfig.from_preset("rlrf")
    with Renderer(RenderConfig.from_dict(cfg.render)) as r:
        yield VisualScorer(cfg, renderer=r)


@pytest.mark.parametrize("case", list(PAIRS))
def test_whole_preset_matches_rlrf(case, rlrf_scorer, rasters):
    pred, gt = PAIRS[case]
    reference = rlrf_raster(gt)[:, :, ::-1]  # the image is the ground truth's 512^2 raster, as RGB
    r = rlrf_scorer.score(pred, "svg", reference, ground_truth=gt)  # RLRF models answer with bare SVG
    assert r.overall == pytest.approx(rlrf_overall(pred, gt), abs=1e-4), (r.status, r.terms)


def test_fenced_answer_is_read_like_rlrfs_extract_svg(rlrf_scorer):
    pred, gt = PAIRS["partial"]
    response = f"Sure, here it is:\n```svg\n{pred}\n```\nAnything else?"
    r = rlrf_scorer.score(response, "svg", rlrf_raster(gt)[:, :, ::-1], ground_truth=gt)
    assert r.overall == pytest.approx(rlrf_overall(pred, gt), abs=1e-4)
    assert r.terms["length"] == pytest.approx(rlrf_length(gt, pred))  # the span, not the response


def test_reference_image_is_used_without_ground_truth(rlrf_scorer):
    pred, gt = PAIRS["logo_shift"]
    r = rlrf_scorer.score(pred, "svg", rlrf_raster(gt)[:, :, ::-1])
    assert set(r.terms) == {"pixel_l2", "canny_l2"}  # no length without a ground truth
    expected = (rlrf_img_l2(rlrf_raster(gt), rlrf_raster(pred)) + rlrf_img_l2(rlrf_raster(gt), rlrf_raster(pred), True, 13)) / 2
    assert r.overall == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("response", ["no svg here", "```svg\n<rect/>\n```"])
def test_no_svg_element_scores_minus_one(rlrf_scorer, response):
    r = rlrf_scorer.score(response, "svg", rlrf_raster(F.SCENE["exact"])[:, :, ::-1], ground_truth=F.SCENE["exact"])
    assert (r.status, r.overall) == ("no_code", -1.0)  # RLRF: extract_svg returns "", which is invalid
