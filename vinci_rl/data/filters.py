"""The checks `vinci-rl prepare` runs on every record, as pure functions plus a duplicate tracker.

Every rejected record gets exactly one reason (the first check it fails, in REASONS order) and is written to
rejected.jsonl with its id; every reason is counted in the summary, zeros included.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from vinci_rl.render.result import is_near_white

BAD_INPUT = "bad_input"  # unreadable record: missing/undecodable image or code, unknown language
TOKENS_OUT_OF_BOUNDS = "tokens_out_of_bounds"  # ground-truth token length outside [--min-tokens, --max-tokens]
DUPLICATE_CODE = "duplicate_code"  # same ground-truth code (whitespace-normalised) as an earlier kept record
RENDER_FAILED = "render_failed"  # the ground truth does not render (status and message in the detail)
NEAR_WHITE = "near_white"  # the image is near-white (mean >= 254 or pixel range < 5, RLRF)
LOW_ENTROPY = "low_entropy"  # colour entropy below --min-entropy bits (a flat, near-uniform image)
DUPLICATE_IMAGE = "duplicate_image"  # same pixels as an earlier kept record
REASONS = (BAD_INPUT, TOKENS_OUT_OF_BOUNDS, DUPLICATE_CODE, RENDER_FAILED, NEAR_WHITE, LOW_ENTROPY, DUPLICATE_IMAGE)


def colour_entropy(image: np.ndarray, bits: int = 4) -> float:
    """Shannon entropy (bits) of the colour histogram, each channel quantised to `bits` bits.

    0 for a single colour; a white page with a few flat shapes is ~0.5-2; photos reach 10+.
    """
    q = (np.asarray(image, dtype=np.uint8) >> (8 - bits)).astype(np.int64)
    codes = (q[..., 0] << (2 * bits)) | (q[..., 1] << bits) | q[..., 2]
    counts = np.bincount(codes.ravel(), minlength=1 << (3 * bits)).astype(np.float64)
    p = counts[counts > 0] / counts.sum()
    return float(max(0.0, -(p * np.log2(p)).sum()))


def near_white(image: np.ndarray) -> bool:
    return is_near_white(image)


def image_hash(image: np.ndarray) -> str:
    h = hashlib.sha1(np.ascontiguousarray(image).tobytes())
    h.update(repr(image.shape).encode())
    return h.hexdigest()


def code_key(code: str) -> str:
    """Whitespace-normalised code: two programs that differ only in spacing/indentation are duplicates."""
    return hashlib.sha1(re.sub(r"\s+", " ", code).strip().encode("utf-8")).hexdigest()


def tokens_in_bounds(n: int, low: int | None, high: int | None) -> bool:
    return (low is None or n >= low) and (high is None or n <= high)


class Seen:
    """First-come duplicate detection: remembers the id that first had each code / image."""

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}
        self.images: dict[str, str] = {}

    def code_duplicate_of(self, code: str) -> str | None:
        return self.codes.get(code_key(code))

    def image_duplicate_of(self, image: np.ndarray) -> str | None:
        return self.images.get(image_hash(image))

    def keep(self, record_id: str, code: str, image: np.ndarray) -> None:
        self.codes.setdefault(code_key(code), record_id)
        self.images.setdefault(image_hash(image), record_id)

