"""Sandboxed renderers: code of a language -> an RGB image at the requested size, as a RenderResult.

    from vinci_rl.render import Renderer, RenderConfig
    with Renderer(RenderConfig(sandbox="auto")) as r:
        res = r.render("svg", '<svg ...>', size=(512, 512))   # res.status, res.image (HxWx3 uint8)

A Renderer owns warm backends (a cairosvg worker, a Chromium browser, a Python forkserver, a TeX format and job
dir), each started on first use of its language and stopped by close(). It is meant for ONE thread with no running
asyncio loop (a plain, non-async Ray actor with max_concurrency=1 owns one): the Playwright sync API and the worker
pipes are not thread-safe. render() never raises for bad code: every failure is a status (see result.py). Each
result carries extra["sandbox"]: "bwrap" (namespaces + rlimits + uid drop) or "rlimits-only" (see sandbox.py).
Renders are isolated from each other: a fresh forked child (python), a fresh job dir (latex), a fresh document
(html), a stateless worker (svg).
"""

from __future__ import annotations

import importlib
import time

from vinci_rl.languages import LANGUAGES as _LANGUAGE_TABLE
from vinci_rl.render import sandbox
from vinci_rl.render.config import RenderConfig
from vinci_rl.render.result import (
    EMPTY,
    PARSE_ERROR,
    RENDERER_CRASH,
    RESOURCE_LIMIT,
    UNSUPPORTED_LANGUAGE,
    RenderResult,
    is_near_white,
)

# language -> "module:Class"; imported on first use so that an unused renderer costs nothing (the language table).
BACKENDS = {name: lang.backend for name, lang in _LANGUAGE_TABLE.items()}
LANGUAGES = tuple(BACKENDS)

__all__ = ["LANGUAGES", "RenderConfig", "RenderResult", "Renderer", "is_near_white", "render"]


class Renderer:
    """Renders code of any language in LANGUAGES; owns its warm backends. Single-threaded; a context manager."""

    def __init__(self, config: RenderConfig | dict | None = None):
        """config: a RenderConfig, a plain dict of its keys (unknown keys raise ValueError), or None for defaults."""
        self.config = RenderConfig.from_dict(config) if isinstance(config, dict) else (config or RenderConfig())
        self.mode = sandbox.resolve_mode(self.config.sandbox)
        self._backends: dict = {}

    def backend(self, lang: str):
        """The warm backend of `lang`, created on first use (python uses the html backend for plotly figures)."""
        if lang not in self._backends:
            module, cls = BACKENDS[lang].split(":")
            self._backends[lang] = getattr(importlib.import_module(module), cls)(self.config, self.mode, self.backend)
        return self._backends[lang]

    def render(self, lang: str, code: str, size: tuple[int, int] | None = None) -> RenderResult:
        t0 = time.monotonic()
        result = self._checked_render(lang, code, size or self.config.size)
        result.elapsed_s = time.monotonic() - t0
        result.extra.setdefault("sandbox", self.mode)
        return result

    def _checked_render(self, lang: str, code, size) -> RenderResult:
        refusal = self._refusal(lang, code, size)
        if refusal is not None:
            return refusal
        try:
            return self.backend(lang).render(code, (int(size[0]), int(size[1])))
        except Exception as e:  # a renderer bug is a defined value (renderer_crash), never an exception to the caller
            return RenderResult(RENDERER_CRASH, None, f"{lang} renderer failed: {type(e).__name__}: {e}"[:1000])

    def _refusal(self, lang: str, code, size) -> RenderResult | None:
        """Cheap checks before any backend runs; None when the job may go ahead."""
        if lang not in BACKENDS:
            return RenderResult(UNSUPPORTED_LANGUAGE, None, f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
        if not isinstance(code, str):
            return RenderResult(PARSE_ERROR, None, f"code must be str, got {type(code).__name__}")
        w, h = int(size[0]), int(size[1])
        if w <= 0 or h <= 0 or w * h > self.config.max_pixels:
            return RenderResult(RESOURCE_LIMIT, None, f"size {w}x{h} outside 1..{self.config.max_pixels} pixels")
        if len(code.encode("utf-8", "replace")) > self.config.max_code_bytes:
            return RenderResult(RESOURCE_LIMIT, None, f"code longer than {self.config.max_code_bytes} bytes")
        if not code.strip():
            return RenderResult(EMPTY, None, "empty code")
        return None

    def close(self) -> None:
        """Stop every process this renderer started (workers, browser)."""
        backends, self._backends = self._backends, {}
        errors = []
        for lang, b in backends.items():
            try:
                b.close()
            except Exception as e:  # keep closing the others; report every failure at the end
                errors.append(f"{lang}: {type(e).__name__}: {e}")
        if errors:
            raise RuntimeError("closing renderers failed: " + "; ".join(errors))

    def __enter__(self) -> "Renderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def render(lang: str, code: str, size: tuple[int, int] | None = None,
           config: RenderConfig | dict | None = None) -> RenderResult:
    """One-shot convenience: a fresh Renderer, one render, everything stopped (cold start on every call)."""
    with Renderer(config) as r:
        return r.render(lang, code, size)
