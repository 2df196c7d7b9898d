"""Shift-tolerant terms at a coarse scale: near misses (a shape a little off, a bit too big, recoloured) score
well above unrelated pictures and empty canvases.

Both images are reduced (area average) so that their short side is `side` px (64), and compared at every
translation d of the prediction up to `max_shift` (a fraction of the short side): score(d) = similarity(d) -
`penalty` * |d| / short side, and the term is the best score. A shift costs what it is off by, no more: a copy
moved by 14 % keeps 0.86 of its similarity where the pixel terms see no overlap at all.

`shape`: colour-blind. Each image's foreground is what differs (by more than `tol` in some channel) from its own
background colour (the most common colour of its border); similarity = soft Dice of the two foreground masks
(2 sum(a b) / (sum a^2 + sum b^2)); the term is 2 * best - 1 in [-1, 1]. An empty canvas (no foreground) scores
-1; both empty score 1.

`pixel_coarse`: colour-aware. Similarity = correlation of the colour images (each channel centred on its mean,
one norm over the three); the term is the best score in [-1, 1]. A flat image scores -1 (both flat: 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from vinci_rl.reward.image import align


def reduce(image: np.ndarray, side: int) -> np.ndarray:
    """float32 copy of image with its short side reduced to `side` px by area averaging (never enlarged)."""
    h, w = image.shape[:2]
    scale = side / min(h, w)
    a = image.astype(np.float32)
    if scale >= 1.0:
        return a
    return cv2.resize(a, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def background_colour(image: np.ndarray) -> np.ndarray:
    """The most common colour of the image's border (colours binned by 8 levels; the median of the bin)."""
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]]).astype(np.int32)
    q = border // 8
    keys = (q[:, 0] * 32 + q[:, 1]) * 32 + q[:, 2]
    mode = np.bincount(keys).argmax()
    return np.median(border[keys == mode], axis=0).astype(np.float32)


def foreground(image: np.ndarray, tol: float = 12.0) -> np.ndarray:
    """1.0 where a pixel differs from the background colour by more than tol in some channel, else 0.0."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    r, g, b = (float(v) for v in np.round(background_colour(image)))
    diff = cv2.absdiff(image, (r, g, b, 0.0))  # OpenCV ops: numpy's per-pixel max over 3 channels is 10x slower
    diff = cv2.reduce(diff.reshape(-1, 3), 1, cv2.REDUCE_MAX).reshape(image.shape[:2])
    return (diff > tol).astype(np.float32)


def cross_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """c[H + dy, W + dx] = sum_x a(x - d) b(x) for every shift d (zero padding); a, b: H x W."""
    h, w = a.shape
    fa = np.fft.rfft2(a, (2 * h, 2 * w))
    fb = np.fft.rfft2(b, (2 * h, 2 * w))
    c = np.fft.irfft2(np.conj(fa) * fb, (2 * h, 2 * w))
    return np.roll(c, (h, w), axis=(0, 1))


@lru_cache(maxsize=64)
def _shift_cost(h: int, w: int, max_shift: float, penalty: float) -> np.ndarray:
    """penalty * |d| / min(h, w) per shift in cross_correlation's layout; inf beyond max_shift."""
    ys, xs = np.mgrid[-h : h, -w : w]
    dist = np.sqrt(ys * ys + xs * xs) / min(h, w)
    cost = penalty * dist
    cost[dist > max_shift] = np.inf
    return cost


@dataclass(frozen=True)
class _Coarse:
    side: int = 64
    max_shift: float = 0.25
    penalty: float = 1.0

    def best(self, similarity: np.ndarray) -> float:
        """max over shifts of similarity(d) - penalty * |d|."""
        h, w = similarity.shape[0] // 2, similarity.shape[1] // 2
        return float(np.max(similarity - _shift_cost(h, w, self.max_shift, self.penalty)))


@dataclass(frozen=True)
class ShapeOverlap(_Coarse):
    """Foreground overlap (soft Dice), best over small shifts, in [-1, 1]; colour-blind."""

    tol: float = 12.0
    blur: float = 1.0  # Gaussian sigma on the reduced masks, px

    def mask(self, image: np.ndarray) -> np.ndarray:
        m = reduce(foreground(image, self.tol), self.side)
        return cv2.GaussianBlur(m, (0, 0), self.blur) if self.blur > 0 else m

    def __call__(self, pred: np.ndarray, ref: np.ndarray) -> float:
        a, b = self.mask(align(pred, ref)), self.mask(ref)
        na, nb = float((a * a).sum()), float((b * b).sum())
        if na == 0.0 and nb == 0.0:
            return 1.0
        if na == 0.0 or nb == 0.0:
            return -1.0
        dice = 2.0 * cross_correlation(a, b) / (na + nb)
        return float(np.clip(2.0 * self.best(dice) - 1.0, -1.0, 1.0))


@dataclass(frozen=True)
class PixelCoarse(_Coarse):
    """Correlation of the reduced colour images, best over small shifts, in [-1, 1]."""

    flat_rms: float = 0.5  # an image whose centred values have an RMS below this (0-255 levels) is flat

    def __call__(self, pred: np.ndarray, ref: np.ndarray) -> float:
        a, b = reduce(align(pred, ref), self.side), reduce(ref, self.side)
        a = a - a.reshape(-1, 3).mean(axis=0)
        b = b - b.reshape(-1, 3).mean(axis=0)
        na, nb = float((a * a).sum()), float((b * b).sum())
        flat_a, flat_b = na < self.flat_rms**2 * a.size, nb < self.flat_rms**2 * b.size
        if flat_a and flat_b:
            return 1.0
        if flat_a or flat_b:
            return -1.0
        corr = sum(cross_correlation(a[..., k], b[..., k]) for k in range(3)) / np.sqrt(na * nb)
        return float(np.clip(self.best(corr), -1.0, 1.0))


shape = ShapeOverlap()
pixel_coarse = PixelCoarse()
