"""Mermaid diagrams -> SVG with mermaid.js inside the sandboxed Chromium of the HTML renderer, fully offline.

The bundle (`mermaid.min.js` from the npm package `mermaid`, dist/) is read from RenderConfig.mermaid_js, by default
`<python prefix>/share/vinci-rl/mermaid.min.js`; when it is missing every mermaid render is renderer_crash with the
install command in the message. mermaid runs with securityLevel "strict"; the diagram text is passed to the page as
data. The SVG is scaled to fit the requested size (aspect kept, centred, white padding).
"""

from __future__ import annotations

import os
import sys

from vinci_rl.render.config import RenderConfig
from vinci_rl.render.result import PARSE_ERROR, RENDERER_CRASH, RenderResult

INSTALL_HINT = (
    "npm pack mermaid@11.17.2 && tar -xzf mermaid-11.17.2.tgz package/dist/mermaid.min.js && "
    "install -D package/dist/mermaid.min.js \"$VENV/share/vinci-rl/mermaid.min.js\""
)
MERMAID_DRAW = """async ([code, w, h]) => {
  if (!window.__vinciMermaid) {
    mermaid.initialize({startOnLoad: false, securityLevel: 'strict', suppressErrorRendering: true});
    window.__vinciMermaid = {n: 0};
  }
  const div = document.getElementById('plot');
  div.innerHTML = '';
  div.style.width = w + 'px'; div.style.height = h + 'px';
  const {svg} = await mermaid.render('vinci-mermaid-' + (window.__vinciMermaid.n++), code);
  div.innerHTML = svg;
  const el = div.querySelector('svg');
  el.removeAttribute('style');
  el.setAttribute('width', w); el.setAttribute('height', h);
  el.setAttribute('preserveAspectRatio', 'xMidYMid meet');
}"""
MAX_MERMAID_CHARS = 50_000


def default_bundle_path() -> str:
    return os.path.join(sys.prefix, "share", "vinci-rl", "mermaid.min.js")


class MermaidBackend:
    """Draws through the html backend's Chromium (one extra page). Single-threaded."""

    def __init__(self, config: RenderConfig, mode: str, backends=None):
        self.config, self.backends = config, backends
        self.bundle = config.mermaid_js or default_bundle_path()

    def render(self, code: str, size: tuple[int, int]) -> RenderResult:
        if not os.path.exists(self.bundle):
            return RenderResult(RENDERER_CRASH, None, f"mermaid bundle missing at {self.bundle}; install: {INSTALL_HINT}")
        if len(code) > MAX_MERMAID_CHARS:
            return RenderResult(PARSE_ERROR, None, f"mermaid source longer than {MAX_MERMAID_CHARS} characters")
        return self.backends("html").render_library("mermaid", self._script, MERMAID_DRAW, code, size)

    def _script(self) -> str:
        with open(self.bundle, encoding="utf-8") as f:
            return f.read()

    def close(self) -> None:
        pass
