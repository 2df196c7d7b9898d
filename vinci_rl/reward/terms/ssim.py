"""SSIM (Wang et al. 2004) on grayscale: 11x11 Gaussian window, sigma 1.5, K1 = 0.01, K2 = 0.03, L = 255.

Returns the mean SSIM in [-1, 1] (1 for identical images). The prediction is resized (bicubic) to the
reference's size first.
"""

from __future__ import annotations

import cv2
import numpy as np

from vinci_rl.reward.image import align

_C1 = (0.01 * 255) ** 2
_C2 = (0.03 * 255) ** 2


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY).astype(np.float32)


def ssim(pred: np.ndarray, ref: np.ndarray) -> float:
    x, y = _gray(align(pred, ref)), _gray(ref)

    def blur(a: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(a, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)

    mx, my = blur(x), blur(y)
    sxx = blur(x * x) - mx * mx
    syy = blur(y * y) - my * my
    sxy = blur(x * y) - mx * my
    num = (2 * mx * my + _C1) * (2 * sxy + _C2)
    den = (mx * mx + my * my + _C1) * (sxx + syy + _C2)
    return float(np.clip(np.mean(num / den, dtype=np.float64), -1.0, 1.0))
