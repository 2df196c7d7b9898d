"""RenderConfig: every knob of the renderers and the sandbox, loadable from a plain dict (a recipe's `render:` block)."""

from __future__ import annotations

from dataclasses import dataclass, field

from vinci_rl.languages import LANGUAGES

DEFAULT_TIMEOUTS_S = {name: lang.timeout_s for name, lang in LANGUAGES.items()}  # the language table's


@dataclass
class RenderConfig:
    # Output size (width, height) in pixels when render() is called without a size.
    size: tuple[int, int] = (512, 512)
    # Wall-clock budget per render, seconds, per language (missing languages fall back to 10 s).
    timeout_s: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TIMEOUTS_S))
    # Longer code is refused with status resource_limit before anything runs.
    max_code_bytes: int = 200_000
    # Address-space limit (RLIMIT_AS) for sandboxed render processes (SVG worker, Python jobs, pdflatex), MiB.
    memory_mb: int = 2048
    # Requested sizes with width * height above this are refused with status resource_limit.
    max_pixels: int = 2048 * 2048
    # "auto": bubblewrap when it works here, else rlimits + privilege drop only; "bwrap": require it; "none": rlimits only.
    sandbox: str = "auto"
    # SVG: dots per inch for physical units (in, mm, pt, ...); 96 is the CSS pixel, RLRF's rewarder uses 128.
    svg_dpi: float = 96.0
    # LaTeX: page 1 is rasterised at this resolution (capped at 2x the target size), then fitted onto the canvas.
    latex_dpi: int = 300
    # Largest file (PDF, logs, \openout) a sandboxed process may write, MiB (RLIMIT_FSIZE), and the size of its tmpfs.
    max_output_mb: int = 64
    # HTML: run page JavaScript (plotly and mermaid need it); False renders static HTML/CSS only.
    html_javascript: bool = True
    # Chromium binary (Debian package); Playwright never downloads a browser.
    chromium_path: str = "/usr/bin/chromium"
    # mermaid.min.js (npm package `mermaid`, dist/); "" = <python prefix>/share/vinci-rl/mermaid.min.js.
    mermaid_js: str = ""
    # HTML: the offline CDN mirror folder (render/cdn_mirror.py); "" = <python prefix>/share/vinci-rl/cdn; "off": none.
    cdn_mirror: str = ""
    # Python jobs: max processes of the sandbox uid (RLIMIT_NPROC; this is what contains fork bombs).
    python_max_procs: int = 64
    # Unprivileged uid/gid the Python jobs run as when the renderer runs as root.
    sandbox_uid: int = 65534
    # Python: what plt.show() displays: "figure" (the whole figure at its size and dpi, a script's window) or "tight"
    # (bbox_inches='tight', as Jupyter's inline backend shows it: for corpora made in notebooks).
    python_show: str = "figure"

    def __post_init__(self):
        self.size = (int(self.size[0]), int(self.size[1]))
        self.timeout_s = {**DEFAULT_TIMEOUTS_S, **{k: float(v) for k, v in self.timeout_s.items()}}
        if isinstance(self.svg_dpi, bool) or not isinstance(self.svg_dpi, (int, float)) or self.svg_dpi <= 0:
            raise ValueError(f"render.svg_dpi must be a positive number, got {self.svg_dpi!r}")
        if self.python_show not in ("figure", "tight"):
            raise ValueError(f"render.python_show must be 'figure' or 'tight', got {self.python_show!r}")
        if self.sandbox not in ("auto", "bwrap", "none"):
            raise ValueError(f"render.sandbox must be 'auto', 'bwrap' or 'none', got {self.sandbox!r}")

    @classmethod
    def from_dict(cls, d: dict | None, source: str = "render config") -> "RenderConfig":
        """Build from a plain dict; an unknown key raises ValueError naming it."""
        from vinci_rl.typed_config import build

        return build(cls, d, source, "render")

    def timeout_for(self, lang: str) -> float:
        return self.timeout_s.get(lang, 10.0)
