"""SVG -> pixels with cairosvg, in a persistent warm worker subprocess (killable: `<use>` bombs burn 14-19 s).

The worker runs under the sandbox (bubblewrap when available) with RLIMIT_AS. cairosvg gets `unsafe=False` (no XML
entities, no external DTDs) and a url_fetcher that serves `data:` URLs only: `href="/etc/passwd"`, `file://` and
`http://` references are refused (drawn as nothing). The output is always rasterised at the requested size, so a
1x1 viewBox still fills W x H; physical units (in, mm, pt) resolve at RenderConfig.svg_dpi (96 = the CSS pixel; RLRF's
rewarder uses 128); alpha is composited onto white in the worker and raw RGB comes back. Fonts: cairo draws a text run with one font and
no glyph fallback, so a run with CJK text is drawn with an installed Noto CJK family (fonts.py `cairo_family`).
"""

from __future__ import annotations

import sys
import time

from vinci_rl.render import sandbox
from vinci_rl.render.config import RenderConfig
from vinci_rl.render.raster import result_from_reply
from vinci_rl.render.result import RENDERER_CRASH, TIMEOUT, RenderResult
from vinci_rl.render.worker import WorkerError, WorkerProcess

# ---------------------------------------------------------------- worker side (runs inside the sandbox)

_EMPTY_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"></svg>'
_refused: list[str] = []


def data_only_fetcher(url: str, resource_type: str) -> bytes:
    """cairosvg url_fetcher: decode `data:` URLs, refuse everything else (files, http) by serving an empty SVG."""
    if url.startswith("data:"):
        from urllib.request import urlopen

        return urlopen(url).read()
    _refused.append(url[:200])
    return _EMPTY_SVG


def worker_setup() -> None:
    import cairosvg  # noqa: F401  (preload: the import is most of a cold start)
    import numpy  # noqa: F401

    _install_cjk_text()


def _install_cjk_text() -> None:
    """Wrap cairosvg's text drawer: a run holding CJK text gets a CJK family its requested one lacks (cairo's toy
    font API would draw boxes)."""
    import subprocess

    import cairosvg.text

    from vinci_rl.render.fonts import cairo_family

    try:
        out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    installed = {name.strip() for line in out.splitlines() for name in line.split(",")}
    draw = cairosvg.text.text

    def text(surface, node, draw_as_text=False):
        family = (node.get("font-family") or "sans-serif").split(",")[0].strip("\"' ")
        chosen = cairo_family(family, node.text or "", installed)
        if chosen != family:
            node["font-family"] = chosen
        return draw(surface, node, draw_as_text)

    import cairosvg.surface

    # surface.py dispatches on its TAGS table and compares entries with its own `text` name: replace both.
    for tag, fn in list(cairosvg.surface.TAGS.items()):
        if fn is draw:
            cairosvg.surface.TAGS[tag] = text
    cairosvg.surface.text = cairosvg.text.text = text


def handle(header: dict, payload: bytes) -> tuple[dict, bytes]:
    import numpy as np
    from cairosvg.parser import Tree
    from cairosvg.surface import PNGSurface

    w, h = int(header["width"]), int(header["height"])
    dpi = float(header.get("dpi", 96.0))
    _refused.clear()
    try:
        tree = Tree(bytestring=payload, unsafe=False, url_fetcher=data_only_fetcher)
        surface = PNGSurface(tree, None, dpi, output_width=w, output_height=h, background_color="white")
    except MemoryError:
        return {"status": "resource_limit", "message": "SVG render ran out of memory"}, b""
    except Exception as e:  # cairosvg raises many types for malformed documents
        return {"status": "parse_error", "message": f"{type(e).__name__}: {e}"[:500]}, b""
    surface.cairo.flush()
    stride = surface.cairo.get_stride()
    bgra = np.ndarray((h, stride // 4, 4), np.uint8, surface.cairo.get_data())
    rgb = np.ascontiguousarray(bgra[:, :w, 2::-1])  # background is opaque white, so premultiplied == straight
    return {"status": "ok", "width": w, "height": h, "refused_urls": list(_refused)}, rgb


# ---------------------------------------------------------------- parent side


class SvgBackend:
    """Owns one warm cairosvg worker. Single-threaded."""

    def __init__(self, config: RenderConfig, mode: str, backends=None):
        self.config, self.mode = config, mode
        argv = [sys.executable, "-m", "vinci_rl.render.worker", __name__]
        if mode == sandbox.BWRAP:
            argv = sandbox.bwrap_argv(ro=sandbox.python_ro_paths(), tmp_mb=16) + argv
        limits = dict(memory_mb=config.memory_mb, fsize_mb=config.max_output_mb, nofile=256)
        self.worker = WorkerProcess(argv, sandbox.python_worker_env(), preexec_fn=lambda: sandbox.set_rlimits(**limits))

    def render(self, code: str, size: tuple[int, int]) -> RenderResult:
        t0 = time.monotonic()
        w, h = size
        try:
            reply, data = self.worker.request(
                {"width": w, "height": h, "dpi": self.config.svg_dpi}, code.encode(), self.config.timeout_for("svg"),
                max_payload=w * h * 3,
            )
        except WorkerError as e:
            status = TIMEOUT if e.timed_out else RENDERER_CRASH
            return RenderResult(status, None, str(e), time.monotonic() - t0)
        return result_from_reply(reply, data, size, time.monotonic() - t0)

    def close(self) -> None:
        self.worker.kill()
