"""VinciCoder's coarse-to-fine DINO terms, the pure part: InternVL-style tiling and the crop scores.

Tiling: among the grids (i, j) (i columns, j rows) with i * j <= max_tiles, pick the one whose aspect i / j
is closest to the image's width / height (ties go to the larger grid when the image has more than half its
pixels, as InternVL's `find_closest_aspect_ratio`); resize the image to (tile * i, tile * j) and cut the
tile x tile crops = the fine view. One tile x tile thumbnail of the whole image = the coarse view (with a
1 x 1 grid the only tile is the thumbnail). The prediction is resized to the reference's size first
(`image.align`), so both sides get the same grid.

Per crop: (cos + 1) / 2 in [0, 1]. coarse = thumbnail score, fine = mean over the tiles (the paper's two
views, weighted separately in our `coarse_fine` preset); crops = mean over every crop, thumbnail and tiles alike
(the thumbnail weighs 1 / (tiles + 1)): what VinciCoder's released reward computes.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image


@lru_cache(maxsize=64)
def _grids(max_tiles: int) -> tuple[tuple[int, int], ...]:
    grids = {(i, j) for i in range(1, max_tiles + 1) for j in range(1, max_tiles + 1) if i * j <= max_tiles}
    return tuple(sorted(grids, key=lambda g: (g[0] * g[1], g)))


def tile_grid(width: int, height: int, max_tiles: int = 12, tile_size: int = 448) -> tuple[int, int]:
    """(columns, rows) of the tiling grid for an image of width x height."""
    if max_tiles < 1:
        raise ValueError(f"max_tiles must be >= 1, got {max_tiles}")
    aspect = width / height
    area = width * height
    best, best_diff = (1, 1), float("inf")
    for i, j in _grids(max_tiles):
        diff = abs(aspect - i / j)
        if diff < best_diff:
            best, best_diff = (i, j), diff
        elif diff == best_diff and area > 0.5 * tile_size * tile_size * i * j:
            best = (i, j)
    return best


def dino_views(image: np.ndarray, tile_size: int = 448, max_tiles: int = 12) -> list[np.ndarray]:
    """[thumbnail, tile_1, ..., tile_n] as tile_size^2 RGB arrays (tiles row-major). With a 1 x 1 grid the
    list is just [thumbnail]."""
    h, w = image.shape[:2]
    cols, rows = tile_grid(w, h, max_tiles, tile_size)
    pil = Image.fromarray(image)
    thumb = np.asarray(pil.resize((tile_size, tile_size), Image.BICUBIC))
    if cols * rows == 1:
        return [thumb]
    big = np.asarray(pil.resize((tile_size * cols, tile_size * rows), Image.BICUBIC))
    tiles = [
        big[r * tile_size : (r + 1) * tile_size, c * tile_size : (c + 1) * tile_size]
        for r in range(rows)
        for c in range(cols)
    ]
    return [thumb, *tiles]


def crop_scores(pred_feats: np.ndarray, ref_feats: np.ndarray) -> np.ndarray:
    """(cos + 1) / 2 per row of two [N, D] feature arrays."""
    if pred_feats.shape != ref_feats.shape:
        raise ValueError(f"feature shape mismatch {pred_feats.shape} vs {ref_feats.shape}")
    p = pred_feats.astype(np.float64)
    r = ref_feats.astype(np.float64)
    norms = np.linalg.norm(p, axis=1) * np.linalg.norm(r, axis=1)
    cos = np.sum(p * r, axis=1) / np.maximum(norms, 1e-12)
    return np.clip((cos + 1.0) / 2.0, 0.0, 1.0)


def coarse_fine(pred_feats: np.ndarray, ref_feats: np.ndarray) -> tuple[float, float]:
    """(dino_coarse, dino_fine) from [1 + tiles, D] view features (row 0 = thumbnail) of both sides."""
    s = crop_scores(pred_feats, ref_feats)
    coarse = float(s[0])
    fine = float(s[1:].mean()) if len(s) > 1 else coarse
    return coarse, fine


def crops_mean(pred_feats: np.ndarray, ref_feats: np.ndarray) -> float:
    """dino_crops (VinciCoder): (cos + 1) / 2 averaged over all [1 + tiles] views."""
    return float(crop_scores(pred_feats, ref_feats).mean())
