"""The one result type every renderer returns. Failures are values, never exceptions."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

OK = "ok"
PARSE_ERROR = "parse_error"  # the code is not valid for its language (XML error, TeX error, Python exception)
TIMEOUT = "timeout"  # the render ran past its time budget (infinite loops, <use> bombs)
RESOURCE_LIMIT = "resource_limit"  # memory / output size / page count / pixel budget exceeded
BLANK = "blank"  # rendered, but near-white (mean >= 254 or pixel range < 5); the image is still attached
EMPTY = "empty"  # nothing to render (empty code, empty figure, empty molecule)
SANDBOX_VIOLATION = "sandbox_violation"  # the code tried something the sandbox forbids (file read, network, exec)
RENDERER_CRASH = "renderer_crash"  # the renderer itself died (browser crash, worker killed); it is restarted
UNSUPPORTED_LANGUAGE = "unsupported_language"
MISSING_MODULE = "missing_module"  # the code needs a module/package the renderer does not have (message names it)

STATUSES = (
    OK,
    PARSE_ERROR,
    TIMEOUT,
    RESOURCE_LIMIT,
    BLANK,
    EMPTY,
    SANDBOX_VIOLATION,
    RENDERER_CRASH,
    UNSUPPORTED_LANGUAGE,
    MISSING_MODULE,
)


@dataclass
class RenderResult:
    """Outcome of one render.

    image: H x W x 3 RGB uint8 on a white background, at the requested size, or None when there is no image.
    """

    status: str
    image: np.ndarray | None = None
    message: str = ""
    elapsed_s: float = 0.0
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"unknown render status {self.status!r}; expected one of {STATUSES}")
        if self.image is not None:
            img = self.image
            if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
                raise ValueError(f"render image must be HxWx3 uint8, got {img.dtype} {img.shape}")

    @property
    def ok(self) -> bool:
        return self.status == OK


def is_near_white(image: np.ndarray) -> bool:
    """RLRF's blank test: mean >= 254 or pixel range < 5."""
    return float(image.mean()) >= 254.0 or int(image.max()) - int(image.min()) < 5
