"""SSIM (Wang et al. 2004) on grayscale: 11x11 Gaussian window, sigma 1.5, K1 = 0.01, K2 = 0.03, L = 255.

`ssim`: the mean of the SSIM map in [-1, 1] (1 for identical images) - the metric papers report.
`ssim_structure`: the same map averaged with weights sigma_pred^2 + sigma_ref^2, the local variances: windows
that are flat in both images (the empty margins of a drawing) count for nothing, so an empty or near-flat
canvas no longer scores high just because most of a sparse reference is background (plain SSIM gives an empty
canvas 0.8 against a sparse drawing; this gives it about 0). With no structure in either image it is the plain
mean. The prediction is resized (bicubic) to the reference's size first.
"""

from __future__ import annotations

import cv2
import numpy as np

from vinci_rl.reward.image import align

_C1 = (0.01 * 255) ** 2
_C2 = (0.03 * 255) ** 2


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY).astype(np.float32)


def _blur(a: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(a, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)


def _ssim_map(pred: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(SSIM map, local variance of pred, local variance of ref)."""
    x, y = _gray(align(pred, ref)), _gray(ref)
    mx, my = _blur(x), _blur(y)
    sxx = _blur(x * x) - mx * mx
    syy = _blur(y * y) - my * my
    sxy = _blur(x * y) - mx * my
    num = (2 * mx * my + _C1) * (2 * sxy + _C2)
    den = (mx * mx + my * my + _C1) * (sxx + syy + _C2)
    return num / den, np.maximum(sxx, 0.0), np.maximum(syy, 0.0)


def ssim(pred: np.ndarray, ref: np.ndarray) -> float:
    m, _, _ = _ssim_map(pred, ref)
    return float(np.clip(np.mean(m, dtype=np.float64), -1.0, 1.0))


def ssim_structure(pred: np.ndarray, ref: np.ndarray) -> float:
    m, sxx, syy = _ssim_map(pred, ref)
    w = (sxx + syy).astype(np.float64)
    total = w.sum()
    if total <= 1e-3 * w.size:  # no structure anywhere: nothing to weigh by
        return float(np.clip(np.mean(m, dtype=np.float64), -1.0, 1.0))
    return float(np.clip((m * w).sum() / total, -1.0, 1.0))
