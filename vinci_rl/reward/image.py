"""Image plumbing shared by the reward terms: load a reference, resize, hash, pick the scoring size.

Every image here is an H x W x 3 RGB uint8 numpy array on a white background (the renderer's format).
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image

ImageLike = Union[np.ndarray, Image.Image, bytes, bytearray, str, os.PathLike]


def to_rgb(image: ImageLike) -> np.ndarray:
    """Any reference form (array, PIL image, encoded bytes, file path) -> H x W x 3 uint8 RGB.

    Transparent images are composited on white, as the renderers draw on white. Raises ValueError naming
    the file when it cannot be read.
    """
    if isinstance(image, np.ndarray):
        return _array_to_rgb(image)
    if isinstance(image, Image.Image):
        return _pil_to_rgb(image)
    if isinstance(image, (bytes, bytearray)):
        try:
            with Image.open(io.BytesIO(bytes(image))) as im:
                return _pil_to_rgb(im)
        except Exception as e:  # PIL raises several types for bad data
            raise ValueError(f"cannot decode reference image bytes: {e}") from e
    if isinstance(image, (str, os.PathLike)):
        path = Path(image)
        if not path.is_file():
            raise ValueError(f"reference image not found: {path}")
        try:
            with Image.open(path) as im:
                return _pil_to_rgb(im)
        except Exception as e:
            raise ValueError(f"cannot read reference image {path}: {e}") from e
    raise TypeError(f"unsupported reference image type {type(image).__name__}")


def _pil_to_rgb(im: Image.Image) -> np.ndarray:
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba)
    return np.ascontiguousarray(np.asarray(im.convert("RGB"), dtype=np.uint8))


def _array_to_rgb(a: np.ndarray) -> np.ndarray:
    if a.dtype != np.uint8:
        if np.issubdtype(a.dtype, np.floating) and a.size and float(np.nanmax(a)) <= 1.0:
            a = a * 255.0
        a = np.clip(np.nan_to_num(a), 0, 255).astype(np.uint8)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    elif a.ndim == 3 and a.shape[2] == 4:
        alpha = a[:, :, 3:4].astype(np.float32) / 255.0
        a = (a[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)).round().astype(np.uint8)
    elif a.ndim == 3 and a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    if a.ndim != 3 or a.shape[2] != 3 or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"image must be HxW, HxWx3 or HxWx4, got shape {a.shape}")
    return np.ascontiguousarray(a)


def resize(image: np.ndarray, size: tuple[int, int], resample: str = "bicubic") -> np.ndarray:
    """Resize an RGB uint8 image to size=(width, height); a no-op when it already has that size."""
    w, h = int(size[0]), int(size[1])
    if image.shape[1] == w and image.shape[0] == h:
        return image
    method = {"bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR, "area": Image.BOX, "nearest": Image.NEAREST}[
        resample
    ]
    return np.asarray(Image.fromarray(image).resize((w, h), method), dtype=np.uint8)


def align(pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """The prediction resized (bicubic) to the reference's size, as both reference systems do."""
    return resize(pred, (ref.shape[1], ref.shape[0]), "bicubic")


def image_key(image: np.ndarray) -> str:
    """sha1 of the pixels and the shape: the cache key of a reference image."""
    h = hashlib.sha1(np.ascontiguousarray(image).tobytes())
    h.update(repr(image.shape).encode())
    return h.hexdigest()


def scoring_size(
    ref_size: tuple[int, int], policy: str | tuple[int, int] | list[int], max_pixels: int | None
) -> tuple[int, int]:
    """The (width, height) at which the prediction is rendered.

    policy "reference": the reference's own size, scaled down (aspect kept) to at most max_pixels.
    policy [w, h]: a fixed canvas (RLRF: 512 x 512). The render keeps the reference's aspect ratio: it is the
    largest size of that aspect that fits in w x h (w x h itself for a reference of the same aspect), and the
    scorer pads it (and the reference, resized to it) to w x h with white, centred (`pad_to`). So the reference
    and the render are fitted the same way and the program that drew the reference scores at the top for any
    aspect ratio.
    """
    if isinstance(policy, str):
        if policy != "reference":
            raise ValueError(f"size policy must be 'reference' or [width, height], got {policy!r}")
        w, h = int(ref_size[0]), int(ref_size[1])
        if max_pixels and w * h > max_pixels:
            scale = (max_pixels / float(w * h)) ** 0.5
            w, h = max(1, int(w * scale)), max(1, int(h * scale))
        return w, h
    return fit_size(ref_size, (int(policy[0]), int(policy[1])))


def fit_size(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """The largest (width, height) with the aspect ratio of size that fits in box (rounded, at least 1 px)."""
    w, h = int(size[0]), int(size[1])
    bw, bh = int(box[0]), int(box[1])
    if w * bh == h * bw:
        return bw, bh
    scale = min(bw / w, bh / h)
    return max(1, min(bw, round(w * scale))), max(1, min(bh, round(h * scale)))


def pad_to(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """image centred on a white canvas of size (width, height); a no-op when it already has that size."""
    w, h = int(size[0]), int(size[1])
    ih, iw = image.shape[:2]
    if (iw, ih) == (w, h):
        return image
    if iw > w or ih > h:
        raise ValueError(f"cannot pad a {iw}x{ih} image to {w}x{h}")
    canvas = np.full((h, w, 3), 255, np.uint8)
    x0, y0 = (w - iw) // 2, (h - ih) // 2
    canvas[y0 : y0 + ih, x0 : x0 + iw] = image
    return canvas


def has_detail(image: np.ndarray, tol: float = 8.0, sigma: float = 2.0) -> bool:
    """Whether the image holds any local detail: a pixel that differs by more than tol (any channel, 0-255)
    from the Gaussian blur (sigma px) of its neighbourhood, away from a 3-sigma border.

    A flat fill, a smooth gradient, a background-only canvas or an empty page has none; one small dot, a
    hairline or a faint shape has some.
    """
    import cv2

    m = int(np.ceil(3 * sigma))
    if image.shape[0] <= 2 * m or image.shape[1] <= 2 * m:
        return bool(int(image.max()) - int(image.min()) > tol)
    image = np.ascontiguousarray(image, dtype=np.uint8)
    blurred = cv2.GaussianBlur(image, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    diff = cv2.absdiff(image, blurred)[m:-m, m:-m]
    return bool(cv2.minMaxLoc(diff.reshape(diff.shape[0], -1))[1] > tol)
