"""LaTeX / TikZ / pgfplots -> pdflatex (xelatex for CJK text and Unicode-font documents) -> page 1 rasterised with
PyMuPDF.

Sources: a full document (`\\documentclass`) is compiled as given, except that an article-like class is switched to
`standalone` (as VinciCoder does); when that fails to compile, the original document is compiled with an empty page
style and the raster is cropped to its ink. Snippets (a bare tikzpicture/axis, or body text) are wrapped in a
standalone template that loads tikz, pgfplots (compat 1.18) and common packages.

Engine: pdflatex, except for code that needs XeTeX: CJK text, or a package or class that only works there (ctex,
xeCJK, fontspec, unicode-math, polyglossia). CJK text without CJK support of its own gets xeCJK with the installed
Noto CJK fonts (snippets always; documents after their preamble). A document that loads a package, class or font
TeX Live here does not have fails with status missing_module naming it (`missing_module: CJKutf8.sty`); so does CJK
text when xelatex or xeCJK is not installed.

Output: page 1 is rasterised (at latex_dpi, at most 2x the target) and FITTED into the requested size: aspect ratio
kept, centred, white padding. Only page 1 is ever read.

Security: env `openin_any=p openout_any=p shell_escape=f` and `-no-shell-escape -halt-on-error
-interaction=nonstopmode`; a wall-clock timeout (`\\def\\x{\\x}\\x` hangs); RLIMIT_AS/CPU/FSIZE. Under bubblewrap,
pdflatex sees only the TeX trees and a private size-capped tmpfs job dir, with no network; the PDF is copied out
through a bound directory (so a 200k-page document or a flood of \\openout files fills the tmpfs, not the disk).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import numpy as np

from vinci_rl.render import sandbox
from vinci_rl.render.config import RenderConfig
from vinci_rl.render.fonts import has_cjk
from vinci_rl.render.raster import finish, fit_on_white
from vinci_rl.render.result import EMPTY, MISSING_MODULE, PARSE_ERROR, RESOURCE_LIMIT, TIMEOUT, RenderResult

ARTICLE_LIKE = ("article", "report", "book", "scrartcl", "scrreprt", "scrbook", "extarticle", "amsart", "memoir",
                "ctexart", "ctexrep", "ctexbook")
PREAMBLE = r"""\usepackage[utf8]{inputenc}
\usepackage{amsmath,amssymb,xcolor,graphicx,booktabs,array}
\usepackage{tikz}
\usepackage{pgfplots}
\pgfplotsset{compat=1.18}
\usetikzlibrary{arrows.meta,positioning,shapes,calc,patterns,decorations.pathreplacing,backgrounds,fit}
"""
TEX_ENV = {
    "openin_any": "p", "openout_any": "p", "shell_escape": "f",
    "MKTEXPK": "0", "MKTEXTFM": "0", "MKTEXMF": "0", "MKTEXTEX": "0",
}
TEX_RO = ("/etc/texmf", "/var/lib/texmf")
SNIPPET_CLASS = r"\documentclass[border=4pt,varwidth]{standalone}"
FORMAT_NAME = "vinci-snippet"
PDFLATEX = ["pdflatex", "-no-shell-escape", "-halt-on-error", "-interaction=nonstopmode", "main.tex"]
_DOCCLASS = re.compile(r"\\documentclass\s*(\[[^\]]*\])?\s*\{\s*([A-Za-z0-9_-]+)\s*\}")
# xeCJK with the installed Noto CJK faces (fonts-noto-cjk): what CJK text without CJK support of its own gets.
CJK_SUPPORT = ("\\usepackage{xeCJK}\\setCJKmainfont{Noto Serif CJK SC}\\setCJKsansfont{Noto Sans CJK SC}"
               "\\setCJKmonofont{Noto Sans Mono CJK SC}\n")
_XETEX_ONLY = re.compile(r"\\(?:usepackage|RequirePackage)\s*(?:\[[^\]]*\])?\s*\{[^}]*\b(?:xeCJK|ctex|fontspec|"
                         r"unicode-math|polyglossia|xunicode|xltxtra)\b|\\documentclass\s*(?:\[[^\]]*\])?\s*\{\s*ctex")
_CJK_PACKAGE = re.compile(r"\\(?:usepackage|RequirePackage)\s*(?:\[[^\]]*\])?\s*\{[^}]*\b(?:xeCJK|ctex|CJK|CJKutf8|"
                          r"zxjatype|luatexja|kotex)\b|\\documentclass\s*(?:\[[^\]]*\])?\s*\{\s*(?:ctex|ltjs|bxjs|ujarticle)")
_PDFTEX_CJK = re.compile(r"\\(?:usepackage|RequirePackage)\s*(?:\[[^\]]*\])?\s*\{[^}]*\b(?:CJK|CJKutf8)\b")
_MISSING_FILE = re.compile(r"! (?:LaTeX|Class \S+|Package \S+) Error: File `([^'/]+\.(?:sty|cls))' not found")
_MISSING_FONT = re.compile(r'! Package fontspec Error: The font "([^"]+)" cannot be found')
XETEX_HINT = "install the Debian packages texlive-xetex and texlive-lang-cjk (launch/apt-packages.txt)"


def engine_for(code: str) -> str:
    """"xelatex" for packages/classes that need XeTeX and for CJK text (unless it is set with pdfTeX's CJK
    package), else "pdflatex"."""
    if _XETEX_ONLY.search(code) or (has_cjk(code) and not _PDFTEX_CJK.search(code)):
        return "xelatex"
    return "pdflatex"


def add_cjk_support(tex: str) -> str:
    """xeCJK before \\begin{document} when the source has CJK text and no CJK support of its own."""
    if not has_cjk(tex) or _CJK_PACKAGE.search(tex):
        return tex
    return re.sub(r"\\begin\s*\{document\}", lambda m: CJK_SUPPORT + m.group(0), tex, count=1)


def sources(code: str, engine: str = "pdflatex") -> list[tuple[str, bool, bool]]:
    """Candidate documents to compile, in order: (tex source, crop the raster to its ink, uses the snippet format).
    Under xelatex, CJK text without CJK support of its own gets xeCJK (the snippet format is pdflatex's)."""
    xe = engine == "xelatex"
    m = _DOCCLASS.search(code)
    if m is None:
        tex = wrap_snippet(code)
        return [(add_cjk_support(tex) if xe else tex, False, not xe)]
    if m.group(2) not in ARTICLE_LIKE:
        return [(add_cjk_support(code) if xe else code, False, False)]
    opts = (m.group(1) or "[]")[1:-1]
    opts = ",".join(o for o in (opts, "border=4pt", "varwidth") if o.strip())
    standalone = code[: m.start()] + f"\\documentclass[{opts}]{{standalone}}" + code[m.end() :]
    plain = re.sub(r"\\begin\s*\{document\}", lambda _: r"\begin{document}\pagestyle{empty}", code, count=1)
    if xe:
        standalone, plain = add_cjk_support(standalone), add_cjk_support(plain)
    return [(standalone, False, False), (plain, True, False)]


def wrap_snippet(code: str) -> str:
    """A bare tikzpicture/axis/body text inside a standalone template (an axis also gets its tikzpicture)."""
    body = code.strip()
    if body.startswith(r"\begin{axis}"):
        body = "\\begin{tikzpicture}\n" + body + "\n\\end{tikzpicture}"
    return f"{SNIPPET_CLASS}\n{PREAMBLE}\\begin{{document}}\n{body}\n\\end{{document}}\n"


class LatexBackend:
    """Runs pdflatex once per render in a fresh job dir under a private temp root. Single-threaded.

    Snippets compile against a format with the template's preamble preloaded (mylatexformat, built once from our
    own trusted template at start-up): ~0.15-0.3 s instead of ~0.5 s per compile."""

    def __init__(self, config: RenderConfig, mode: str, backends=None):
        self.config, self.mode = config, mode
        self.root = tempfile.mkdtemp(prefix="vinci-latex-")
        self.fmt = build_snippet_format(os.path.join(self.root, "fmt"))
        self.xetex_missing = xetex_missing()

    def render(self, code: str, size: tuple[int, int]) -> RenderResult:
        t0 = time.monotonic()
        deadline = t0 + self.config.timeout_for("latex")
        engine = engine_for(code)
        if engine == "xelatex" and self.xetex_missing:
            need = "xelatex + xeCJK (CJK text)" if has_cjk(code) else "xelatex"
            return RenderResult(MISSING_MODULE, None, f"missing_module: {need}; {self.xetex_missing}",
                                time.monotonic() - t0, {"missing_module": need})
        first_error = None
        for tex, crop, preloaded in sources(code, engine):
            status, detail = self._compile(tex, deadline, preloaded and self.fmt is not None, engine)
            if status == "ok":
                result = self._raster(detail, size, crop, time.monotonic() - t0)
                if engine != "pdflatex":
                    result.extra["engine"] = engine
                return result
            if status != PARSE_ERROR:
                return _failure(status, detail, time.monotonic() - t0)
            first_error = first_error or detail
        return RenderResult(PARSE_ERROR, None, first_error or "", time.monotonic() - t0)

    def _compile(self, tex: str, deadline: float, preloaded: bool, engine: str = "pdflatex") -> tuple[str, str]:
        """("ok", path of the PDF) or (status, message). The job dir is removed by the next compile."""
        job = os.path.join(self.root, "job")
        shutil.rmtree(job, ignore_errors=True)
        os.makedirs(job)
        with open(os.path.join(job, "main.tex"), "w") as f:
            f.write(tex)
        argv, cwd = self._argv(job, preloaded, engine)
        limits = dict(memory_mb=self.config.memory_mb, fsize_mb=self.config.max_output_mb, nofile=256,
                      cpu_s=int(self.config.timeout_for("latex")) + 2)
        env = sandbox.scrubbed_env(home=cwd if self.mode != sandbox.BWRAP else "/tmp", extra=TEX_ENV)
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=lambda: sandbox.set_rlimits(**limits))
        try:
            rc = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return TIMEOUT, "pdflatex ran past its time budget"
        return self._verdict(rc, job)

    def _argv(self, job: str, preloaded: bool, engine: str = "pdflatex") -> tuple[list[str], str]:
        pdflatex = [engine] + PDFLATEX[1:]
        if preloaded:
            pdflatex = pdflatex[:1] + [f"-fmt={FORMAT_NAME}"] + pdflatex[1:]
        if self.mode != sandbox.BWRAP:
            if preloaded:
                os.symlink(self.fmt, os.path.join(job, FORMAT_NAME + ".fmt"))
            return pdflatex, job
        script = (
            "cp /out/main.tex /tmp/ && cd /tmp && " + " ".join(pdflatex) + " >/dev/null 2>&1; rc=$?; "
            "head -c 200000 main.log > /out/main.log; [ $rc = 0 ] && cp main.pdf /out/; exit $rc"
        )
        tmp_mb = self.config.max_output_mb + 16  # RLIMIT_FSIZE trips before the tmpfs fills
        rw = [(job, "/out")]
        ro = [p for p in TEX_RO if os.path.exists(p)]
        argv = sandbox.bwrap_argv(ro=ro, rw=rw, tmp_mb=tmp_mb)[:-1]
        if preloaded:
            argv += ["--ro-bind", self.fmt, f"/tmp/{FORMAT_NAME}.fmt"]
        argv += ["--", "sh", "-c", script]
        return argv, job

    def _verdict(self, rc: int, job: str) -> tuple[str, str]:
        pdf = os.path.join(job, "main.pdf")
        if rc in (-signal.SIGXFSZ, 128 + signal.SIGXFSZ):
            return RESOURCE_LIMIT, f"pdflatex output exceeded {self.config.max_output_mb} MiB"
        if rc in (-signal.SIGXCPU, 128 + signal.SIGXCPU, -signal.SIGKILL, 128 + signal.SIGKILL):
            return TIMEOUT, "pdflatex ran out of CPU time"
        log = _read_log(job)
        if rc != 0 or not os.path.exists(pdf):
            if "TeX capacity exceeded" in log or "No space left" in log or "write error" in log:
                return RESOURCE_LIMIT, _first_error(log)
            missing = _MISSING_FILE.search(log) or _MISSING_FONT.search(log)
            if missing:
                what = missing.group(1) if missing.re is _MISSING_FILE else f"font {missing.group(1)!r}"
                return MISSING_MODULE, f"missing_module: {what} (not in this TeX Live); {_first_error(log)}"[:500]
            return PARSE_ERROR, _first_error(log) or f"pdflatex exited with {rc}"
        return "ok", pdf

    def _raster(self, pdf: str, size: tuple[int, int], crop: bool, elapsed: float) -> RenderResult:
        import pymupdf

        with pymupdf.open(pdf) as doc:
            if doc.page_count == 0:
                return RenderResult(EMPTY, None, "the document has no pages", elapsed)
            page = doc[0]
            pw, ph = max(page.rect.width, 1.0), max(page.rect.height, 1.0)
            zoom = min(self.config.latex_dpi / 72, 2 * min(size[0] / pw, size[1] / ph))
            pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
            img = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width, pix.n)[..., :3]
        if crop:
            img = crop_to_ink(img)
        return finish(fit_on_white(np.ascontiguousarray(img), size), elapsed, pages=1)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def xetex_missing() -> str:
    """"" when xelatex and xeCJK are installed, else what is missing and how to install it."""
    if shutil.which("xelatex") is None:
        return "xelatex is not installed: " + XETEX_HINT
    try:
        found = subprocess.run(["kpsewhich", "xeCJK.sty"], capture_output=True, text=True, timeout=30,
                               env=sandbox.scrubbed_env(extra=TEX_ENV)).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        found = ""
    return "" if found else "xeCJK.sty is not installed: " + XETEX_HINT


def _failure(status: str, detail: str, elapsed: float) -> RenderResult:
    result = RenderResult(status, None, detail, elapsed)
    if status == MISSING_MODULE:
        result.extra["missing_module"] = detail.split(";")[0].removeprefix("missing_module: ").removesuffix(
            " (not in this TeX Live)")
    return result


def build_snippet_format(fmt_dir: str) -> str | None:
    """Dump the snippet template's preamble into a pdflatex format (mylatexformat); None when that fails, and
    snippets then compile from scratch. The input is our own template, never generated code."""
    os.makedirs(fmt_dir, exist_ok=True)
    with open(os.path.join(fmt_dir, "template.tex"), "w") as f:
        f.write(f"{SNIPPET_CLASS}\n{PREAMBLE}\\begin{{document}}\n\\end{{document}}\n")
    argv = ["pdflatex", "-ini", f"-jobname={FORMAT_NAME}", "-interaction=nonstopmode", "-no-shell-escape",
            "&pdflatex", "mylatexformat.ltx", "template.tex"]
    try:
        subprocess.run(argv, cwd=fmt_dir, env=sandbox.scrubbed_env(home=fmt_dir, extra=TEX_ENV), timeout=120,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    fmt = os.path.join(fmt_dir, FORMAT_NAME + ".fmt")
    return fmt if os.path.exists(fmt) else None


def crop_to_ink(img: np.ndarray, margin: float = 0.02) -> np.ndarray:
    """Crop to the bounding box of non-white pixels plus a small margin (whole image when all white)."""
    ys, xs = np.nonzero((img < 250).any(axis=2))
    if len(xs) == 0:
        return img
    m = int(margin * max(img.shape[:2]))
    y0, y1 = max(0, ys.min() - m), min(img.shape[0], ys.max() + m + 1)
    x0, x1 = max(0, xs.min() - m), min(img.shape[1], xs.max() + m + 1)
    return img[y0:y1, x0:x1]


def _read_log(job: str) -> str:
    try:
        with open(os.path.join(job, "main.log"), "rb") as f:
            return f.read(200_000).decode("latin-1")
    except OSError:
        return ""


def _first_error(log: str) -> str:
    """The first `! ...` error line of a TeX log and the line after it."""
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("!"):
            return " ".join(lines[i : i + 2])[:500]
    return ""
