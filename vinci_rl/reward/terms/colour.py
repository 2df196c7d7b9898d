"""Colour fidelity: the mean perceptual colour difference (CIE76 delta E in CIELAB) between the two images at a
coarse scale, as a reward in [-1, 1].

RLRF's pixel terms standardise each image (zero mean, unit std), so a render in the wrong colours - a cream
background drawn white, a red bar drawn orange - loses little: a policy trained on them learns to ignore colour.
This term prices it: both images are area-downsampled to at most `side` pixels on the longer edge (anti-aliasing
and sub-pixel offsets do not count), converted to CIELAB, and
reward = 1 - 2 * min(1, mean delta E / scale): 1 identical, 0 at a mean difference of scale/2, -1 at >= scale.
With scale 25: a whole-image background off by delta E 10 costs 0.8; a small shape in the wrong colour ~0.3.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vinci_rl.reward.image import align, resize


def _lab(image: np.ndarray, side: int) -> np.ndarray:
    h, w = image.shape[:2]
    scale = min(1.0, side / float(max(h, w)))
    if scale < 1.0:
        image = resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), "area")
    return cv2.cvtColor(np.ascontiguousarray(image, dtype=np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def mean_delta_e(pred: np.ndarray, ref: np.ndarray, side: int = 32) -> float:
    """Mean CIE76 delta E between pred (resized to ref first) and ref, both at <= side pixels per edge."""
    pred = align(pred, ref)
    a, b = _lab(pred, side), _lab(ref, side)
    return float(np.sqrt(((a - b) ** 2).sum(axis=-1)).mean())


@dataclass(frozen=True)
class ColourTerm:
    side: int = 32
    scale: float = 25.0

    def __call__(self, pred: np.ndarray, ref: np.ndarray) -> float:
        return float(1.0 - 2.0 * min(1.0, mean_delta_e(pred, ref, self.side) / self.scale))


colour = ColourTerm()
