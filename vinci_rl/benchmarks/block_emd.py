"""HELM Image2Struct's block Earth Mover's Distance and Earth Mover Similarity (EMS), written from its definition.

    ems(pred, ref)          # 1 - block_emd(pred, ref) / block_emd(constant, ref); 1 for identical images
    block_emd(pred, ref)    # ref decides the most frequent colour

Definition (HELM, src/helm/benchmark/metrics/vision_language/emd_utils.py `compute_emd_recursive` and
image_metrics.py `ems`), every constant as there:
- Both images RGB, the same size. When ceil(W/8) * ceil(H/8) > 100 patches, both are resized (PIL bicubic) to
  W' = ceil((W/8) / sqrt(n/100)) * 8 and H' = floor(100 / (W'/8)) * 8.
- The reference's most frequent colour c (ties: the smallest colour, as np.unique orders them) and its frequency f.
  Images whose sides are not multiples of 8 are padded at the bottom with c's red value and at the right with its
  green value (numpy per-axis constants, as the released code pads), then scaled to [0, 1] and made grey with
  0.299 R + 0.587 G + 0.114 B.
- 8x8 patches. A patch's weight is 1 when any pixel differs from grey(c), else 0.001, normalised over the image.
  When f > 0.5, patches equal to grey(c) in both images are dropped (unless that drops them all). Both images then
  share the weights max(w_pred, w_ref), normalised.
- Cost of moving patch i (pred) to patch j (ref): the pixel-level EMD between them (cv2.EMD, L1 over (grey, x, y)
  with x, y = column/8, row/8; a pixel weighs 1, or 0.001 when it equals grey(c); weights normalised per patch)
  plus the L1 distance of the patch positions (row/rows, column/columns) times sqrt(64) / (W' + H').
- block EMD = cv2.EMD of the two patch signatures under that cost matrix.
- EMS: the constant image is white when grey(c) * 255 < 127, else black. A zero denominator gives 0 (HELM's
  metric error value).
Identical patch pairs are computed once (same result, fewer cv2.EMD calls).
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

PATCH = (8, 8)
MAX_PATCHES = 100
THRESHOLD_MFC = 0.5
WEIGHT_MFC = 0.001
_GRAY = np.array([[0.299], [0.587], [0.114]])


def to_gray(a: np.ndarray) -> np.ndarray:
    """(..., 3) -> (..., 1): 0.299 R + 0.587 G + 0.114 B (float64, as a matrix product)."""
    return np.matmul(a, _GRAY)


def most_frequent_color(img: np.ndarray) -> tuple[np.ndarray, float]:
    """The most frequent RGB colour (uint8, shape (3,)) and its share of the pixels; ties go to the smallest."""
    colors, counts = np.unique(img.reshape(-1, img.shape[2]), axis=0, return_counts=True)
    i = int(np.argmax(counts))
    return colors[i], float(counts[i] / (img.shape[0] * img.shape[1]))


def gray_of(rgb: np.ndarray) -> float:
    return float(to_gray(rgb).squeeze() / 255.0)


def patch_signature(img: np.ndarray, mfc: np.ndarray) -> np.ndarray:
    """(patches, 1 + 64 + 2) float32 rows: weight, the 64 grey values, (row, col) position in [0, 1)."""
    ph, pw = PATCH
    a = np.array(img, dtype=np.float32)
    pad_h, pad_w = (-a.shape[0]) % ph, (-a.shape[1]) % pw
    if pad_h or pad_w:
        pads = ((mfc[0], mfc[0]), (mfc[1], mfc[1]), (mfc[2], mfc[2]))
        a = np.pad(a, ((0, pad_h), (0, pad_w), (0, 0)), "constant", constant_values=pads)
    a /= 255.0
    g = to_gray(a)
    rows, cols = g.shape[0] // ph, g.shape[1] // pw
    patches = g.reshape(rows, ph, cols, pw, 1).transpose(0, 2, 1, 3, 4).reshape(rows * cols, ph * pw)
    pos = np.mgrid[0:rows, 0:cols].transpose(1, 2, 0).reshape(-1, 2) / np.array([rows, cols])
    busy = np.any(patches != gray_of(mfc), axis=1, keepdims=True).astype(np.float32)
    weight = WEIGHT_MFC + (1 - WEIGHT_MFC) * busy
    weight /= np.sum(weight)
    return np.hstack((weight, patches, pos)).astype(np.float32)


def _pixel_signatures(sig: np.ndarray, gray_mfc: float) -> np.ndarray:
    """Per patch, its pixel-level signature (64, 4): weight, grey, x, y (float32)."""
    n, flat = sig.shape[0], PATCH[0] * PATCH[1]
    values = sig[:, 1:-2].reshape(n, flat, 1)
    x, y = np.meshgrid(np.arange(PATCH[0]) / PATCH[0], np.arange(PATCH[1]) / PATCH[1])
    xy = np.repeat(np.stack((x.ravel(), y.ravel()), axis=1)[None], n, axis=0)
    local = WEIGHT_MFC + (1 - WEIGHT_MFC) * (values != gray_mfc).astype(np.float32)
    local *= sig[:, 0].reshape(-1, 1, 1)
    local /= np.sum(local, axis=1, keepdims=True)
    return np.concatenate((local, values, xy), axis=2).astype(np.float32)


def _cost_matrix(sig1: np.ndarray, sig2: np.ndarray, gray_mfc: float, dim: tuple[int, int]) -> np.ndarray:
    import cv2

    sub1, sub2 = _pixel_signatures(sig1, gray_mfc), _pixel_signatures(sig2, gray_mfc)
    keys1 = [s.tobytes() for s in sub1]
    keys2 = [s.tobytes() for s in sub2]
    multiplier = (PATCH[0] * PATCH[1]) ** 0.5 / (dim[0] + dim[1])
    pos_cost = np.abs(sig1[:, None, -2:] - sig2[None, :, -2:]).sum(axis=2) * multiplier
    pair: dict[tuple[bytes, bytes], float] = {}
    cost = np.zeros((sig1.shape[0], sig2.shape[0]))
    for i in range(sig1.shape[0]):
        for j in range(sig2.shape[0]):
            key = (keys1[i], keys2[j])
            if key not in pair:
                pair[key] = cv2.EMD(sub1[i], sub2[j], cv2.DIST_L1)[0]
            cost[i, j] = pair[key] + pos_cost[i, j]
    return cost.astype(np.float32)


def _working_size(w: int, h: int) -> tuple[int, int] | None:
    """The resize HELM applies when the image has more than MAX_PATCHES patches; None when it has not."""
    n = math.ceil(w / PATCH[0]) * math.ceil(h / PATCH[1])
    if n <= MAX_PATCHES:
        return None
    divider = (n / MAX_PATCHES) ** 0.5
    new_w = math.ceil((w / PATCH[1]) / divider) * PATCH[1]
    new_h = math.floor(MAX_PATCHES / (new_w / PATCH[0])) * PATCH[0]
    return new_w, new_h


def block_emd(pred: Image.Image, ref: Image.Image) -> float:
    """HELM's compute_emd_recursive(pred, ref) with its default parameters."""
    import cv2

    if pred.size != ref.size:
        raise ValueError(f"images must have the same size, got {pred.size} and {ref.size}")
    pred, ref = pred.convert("RGB"), ref.convert("RGB")
    if np.array_equal(np.asarray(pred), np.asarray(ref)):
        return 0.0  # every patch stays where it is: no work (the full computation gives 0 too, slowly)
    size = _working_size(*pred.size)
    if size is not None:
        pred, ref = pred.resize(size, Image.BICUBIC), ref.resize(size, Image.BICUBIC)
    a, b = np.array(pred), np.array(ref)
    mfc, freq = most_frequent_color(b)
    gray_mfc = gray_of(mfc)
    sig1, sig2 = patch_signature(a, mfc), patch_signature(b, mfc)
    if freq > THRESHOLD_MFC:
        keep = np.any(sig1[:, 1:-2] != gray_mfc, axis=1) | np.any(sig2[:, 1:-2] != gray_mfc, axis=1)
        if np.any(keep):
            sig1, sig2 = sig1[keep], sig2[keep]
    weights = np.maximum(sig1[:, 0], sig2[:, 0])
    weights /= np.sum(weights)
    sig1[:, 0] = weights
    sig2[:, 0] = weights
    cost = _cost_matrix(sig1, sig2, gray_mfc, pred.size)
    return float(cv2.EMD(sig1, sig2, cv2.DIST_USER, cost)[0])


def constant_image(ref: Image.Image) -> Image.Image:
    """HELM's EMS baseline: white when the reference's most frequent colour is dark (grey < 127), else black."""
    mfc, _ = most_frequent_color(np.array(ref.convert("RGB")))
    dark = float(to_gray(mfc)[0]) < 127
    return Image.new("RGB", ref.size, (255, 255, 255) if dark else (0, 0, 0))


def ems(pred: Image.Image, ref: Image.Image) -> float:
    """Earth Mover Similarity: 1 - block_emd(pred, ref) / block_emd(constant, ref); 0 when the denominator is 0."""
    base = block_emd(constant_image(ref), ref)
    if base == 0:
        return 0.0
    return 1.0 - block_emd(pred, ref) / base


def pad_to_match(pred: Image.Image, ref: Image.Image) -> tuple[Image.Image, Image.Image]:
    """HELM's "padding" size handling (Image2Struct LaTeX): per axis, the smaller image is extended with white on
    the right / bottom (pasted at the top-left) to the larger one's size."""
    for axis in (0, 1):
        if pred.size[axis] < ref.size[axis]:
            pred = _pad_axis(pred, ref.size[axis], axis)
        elif pred.size[axis] > ref.size[axis]:
            ref = _pad_axis(ref, pred.size[axis], axis)
    return pred, ref


def _pad_axis(img: Image.Image, length: int, axis: int) -> Image.Image:
    size = list(img.size)
    size[axis] = length
    out = Image.new("RGB", (size[0], size[1]), (255, 255, 255))
    out.paste(img, (0, 0))
    return out
