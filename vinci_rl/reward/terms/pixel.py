"""RLRF's pixel terms: standardised L2 on the pixels and on blurred Canny edge maps.

l2 = mean((a - mean(a)) / std(a) - (b - mean(b)) / std(b))^2 over all values; reward = -clip(l2 - 1, -1, 1):
1 for identical images, 0 at l2 = 1 (uncorrelated), -1 at l2 >= 2 (anti-correlated). Because the images
are standardised, l2 = 2 - 2 * corr(a, b). A constant image (std 0) standardises to all zeros (no NaN).
The prediction is resized (bicubic) to the reference's size first.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vinci_rl.reward.image import align

_EPS = 1e-8


def standardize(x: np.ndarray) -> np.ndarray:
    """Zero mean, unit std over all values, as float32 (statistics in float64); a constant input gives zeros."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    mean, std = cv2.meanStdDev(x.reshape(-1, 1))  # float64 statistics, ~100x faster than numpy's std
    mean, std = float(mean[0, 0]), float(std[0, 0])
    if std <= _EPS:
        return np.zeros_like(x)
    return (x - np.float32(mean)) * np.float32(1.0 / std)


def standardized_l2(a: np.ndarray, b: np.ndarray) -> float:
    """Mean squared difference of the two standardised arrays (same shape)."""
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch {a.shape} vs {b.shape}")
    d = (standardize(a) - standardize(b)).ravel()
    return float(np.square(d).sum(dtype=np.float64)) / d.size


def l2_reward(l2: float) -> float:
    """RLRF: -clip(l2 - 1, -1, 1)."""
    return float(-np.clip(l2 - 1.0, -1.0, 1.0))


def pixel_l2(pred: np.ndarray, ref: np.ndarray) -> float:
    """Standardised pixel L2 reward in [-1, 1] (RGB values, pred resized to ref first)."""
    return l2_reward(standardized_l2(align(pred, ref), ref))


@dataclass(frozen=True)
class CannyL2:
    """Standardised L2 reward on edge maps: Canny(low, high) on gray, dilate, Gaussian blur, then L2."""

    low: int = 50
    high: int = 150
    dilate: int = 3
    blur: int = 13

    def edges(self, image: np.ndarray) -> np.ndarray:
        gray = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
        e = cv2.Canny(gray, self.low, self.high)
        if self.dilate > 1:
            e = cv2.dilate(e, np.ones((self.dilate, self.dilate), np.uint8))
        if self.blur > 1:
            e = cv2.GaussianBlur(e, (self.blur, self.blur), 0)
        return e

    def __call__(self, pred: np.ndarray, ref: np.ndarray) -> float:
        return l2_reward(standardized_l2(self.edges(align(pred, ref)), self.edges(ref)))


canny_l2 = CannyL2()
