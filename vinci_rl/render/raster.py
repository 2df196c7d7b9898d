"""Small image helpers shared by the renderers: alpha onto white, fit onto a canvas, raw bytes -> array, final status."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from vinci_rl.render.result import BLANK, OK, RENDERER_CRASH, STATUSES, RenderResult, is_near_white

# Statuses a sandboxed worker may report; anything else it claims becomes renderer_crash.
WORKER_STATUSES = tuple(s for s in STATUSES if s not in (OK, BLANK, "unsupported_language"))


def rgba_to_rgb_on_white(rgba: np.ndarray) -> np.ndarray:
    """Composite an HxWx4 (straight alpha) uint8 image onto white, returning HxWx3 uint8."""
    if rgba[..., 3].min() == 255:  # opaque (a chart on its own background): nothing to composite
        return np.ascontiguousarray(rgba[..., :3])
    rgb = rgba[..., :3].astype(np.uint16)
    alpha = rgba[..., 3:4].astype(np.uint16)
    out = (rgb * alpha + 255 * (255 - alpha) + 127) // 255
    return out.astype(np.uint8)


def pil_to_rgb_array(img: Image.Image) -> np.ndarray:
    """Any PIL image -> HxWx3 uint8 on white (transparency composited onto white)."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        return rgba_to_rgb_on_white(np.asarray(img.convert("RGBA")))
    return np.asarray(img.convert("RGB"))


def png_to_rgb(data: bytes, max_pixels: int) -> np.ndarray:
    """Decode PNG/JPEG bytes, refusing decompression bombs beyond max_pixels."""
    img = Image.open(io.BytesIO(data))
    if img.width * img.height > max_pixels:
        raise ValueError(f"image of {img.width}x{img.height} exceeds {max_pixels} pixels")
    return pil_to_rgb_array(img)


def resize_exact(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Stretch to exactly (width, height); a no-op when already there."""
    w, h = size
    if img.shape[1] == w and img.shape[0] == h:
        return img
    return np.asarray(Image.fromarray(img).resize((w, h), Image.LANCZOS))


def fit_on_white(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale to fit inside (width, height) keeping the aspect ratio, centred on a white canvas."""
    w, h = size
    ih, iw = img.shape[:2]
    scale = min(w / iw, h / ih)
    nw, nh = max(1, min(w, round(iw * scale))), max(1, min(h, round(ih * scale)))
    scaled = resize_exact(img, (nw, nh))
    canvas = np.full((h, w, 3), 255, dtype=np.uint8)
    x0, y0 = (w - nw) // 2, (h - nh) // 2
    canvas[y0 : y0 + nh, x0 : x0 + nw] = scaled
    return canvas


def rgb_from_raw(data: bytes, width: int, height: int) -> np.ndarray:
    """Raw RGB bytes from a worker -> HxWx3 array; the length must match exactly."""
    if len(data) != width * height * 3:
        raise ValueError(f"raw image has {len(data)} bytes, expected {width}x{height}x3")
    image = np.frombuffer(data, dtype=np.uint8).reshape(height, width, 3)
    return image if image.flags.writeable else image.copy()  # a bytearray from the pipe is already our own copy


def finish(image: np.ndarray, elapsed_s: float = 0.0, **extra) -> RenderResult:
    """The final verdict on a produced image: ok, or blank when it is near-white (the image stays attached)."""
    status = BLANK if is_near_white(image) else OK
    message = "render is near-white" if status == BLANK else ""
    return RenderResult(status, image, message, elapsed_s, dict(extra))


def result_from_reply(reply: dict, data: bytes, size: tuple[int, int], elapsed: float) -> RenderResult:
    """Turn a worker's (header, raw RGB) reply into a RenderResult, validating everything it claims."""
    status = reply.get("status")
    if status != "ok":
        status = status if status in WORKER_STATUSES else RENDERER_CRASH
        return RenderResult(status, None, str(reply.get("message", ""))[:1000], elapsed)
    try:
        image = rgb_from_raw(data, *size)
    except ValueError as e:
        return RenderResult(RENDERER_CRASH, None, str(e), elapsed)
    refused = reply.get("refused_urls") or []
    extra = {"refused_urls": [str(u)[:200] for u in refused[:20]]} if refused else {}
    return finish(image, elapsed, **extra)
