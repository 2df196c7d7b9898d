"""HELM Image2Struct LaTeX (`image2struct-latex`): compile rate and Earth Mover Similarity, as HELM computes them.

Data (the Hugging Face dataset stanford-crfm/i2s-latex, downloaded): DATA_DIR/<subset>/validation-*.parquet for the
subsets equation, table, plot, algorithm (wild subsets too), or DATA_DIR itself holding one subset's parquet files.
Columns read: uuid, image ({bytes, path}), category (the subset, quoted as '"plot"'), structure (the LaTeX source,
optional). HELM's split is "validation"; `test-*.parquet` files are read when there is no validation file.

Per response (HELM annotation/image2struct/latex_compiler_annotator.py and scenarios/.../utils_latex.py):
- the code is the text between the first ```latex and the next ```, else between the first ``` and the next ```,
  else the whole (stripped) response;
- HELM's document: numbered environments made starred, \\label removed, \\begin/\\end{document} added when absent,
  the document class set to article, every \\usepackage replaced by HELM's preamble; compiled with pdflatex in
  the project's sandbox; a "Missing $ inserted" / "allowed only in math mode" error retries with the body in $$..$$
  (at most 3 retries, as HELM);
- page 1 at 200 dpi, the bottom 20 % cut off (the page number), cropped to its non-white box;
- the render and the reference are padded with white to the same size (HELM's "padding" size handling for LaTeX)
  and EMS (block_emd.py) is computed. A compile failure scores Compile 0 and EMS 0.
"""

from __future__ import annotations

import atexit
import functools
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from vinci_rl.benchmarks.base import BenchmarkDataError, BenchmarkItem, MetricContext, mean, register

INSTRUCTIONS = "Just give a short answer without answering in a complete sentence."
BASE_PROMPT = (
    "Please provide the LaTeX code used to generate this image. Only generate the code relevant to what you see. "
    "Your code will be surrounded by all the imports necessary as well as the begin and end document delimiters."
)
PROMPT = INSTRUCTIONS + "\n" + BASE_PROMPT + "<image>"  # HELM: instructions block, "\n" + the input text, the image
SUBSETS = ("equation", "table", "plot", "algorithm", "wild", "wild_legacy")

# HELM's preamble, in its order; packages missing from this TeX Live are left out (see helm_preamble()).
HELM_PACKAGES = (
    ("", "amsmath,amssymb,amsfonts"), ("", "graphicx"), ("", "amsmath"), ("", "xcolor"), ("", "algorithm"),
    ("", "algorithmicx"), ("", "algpseudocode"), ("", "listings"), ("", "stfloats"), ("", "epstopdf"),
    ("", "pgfplots"), ("", "tikz"), ("", "tikz-cd"), ("", "tikz-qtree"), ("", "tikz-dependency"),
    ("", "tikz-3dplot"), ("", "tikz-network"), ("[flushleft]", "threeparttable"), ("", "adjustbox"),
)
BEGIN_FILE = r"\documentclass{article}"
BEGIN_DOC, END_DOC = r"\begin{document}", r"\end{document}"
NUMBERED = ("equation", "align", "alignat", "gather", "flalign", "multline", "eqnarray", "subeqnarray", "aligneq")
# Errors HELM treats as the code's own fault (no retry).
FATAL = ("Undefined control sequence", "LaTeX Error: Lonely \\item--perhaps a missing list environment.",
         "Missing } inserted", "Missing { inserted", "Double subscript.", "LaTeX Error: Not in outer par mode.",
         "Extra alignment tab has been changed to \\cr.", "Missing \\", "LaTeX Error: \\begin{",
         "Misplaced \\noalign", " already defined.")
MAX_RETRIES = 3
DPI = 200  # pdf2image's default, which HELM uses
COMPILE_TIMEOUT_S = 30.0


@functools.lru_cache(maxsize=1)
def helm_preamble() -> tuple[str, tuple[str, ...]]:
    """(HELM's \\usepackage lines, the packages left out because this TeX Live lacks them)."""
    lines, missing = [], []
    for opts, names in HELM_PACKAGES:
        absent = [n for n in names.split(",") if not _installed(n)]
        if absent:
            missing.extend(absent)
            continue
        lines.append(f"\\usepackage{opts}{{{names}}}")
    return "\n" + "\n".join(lines) + "\n", tuple(missing)


def _installed(package: str) -> bool:
    if shutil.which("kpsewhich") is None:
        return True  # no TeX at all: the compile fails and says so
    try:
        out = subprocess.run(["kpsewhich", f"{package}.sty"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return True
    return bool(out.stdout.strip())


def helm_document(code: str) -> str:
    """The document HELM compiles for a LaTeX answer (utils_latex.latex_to_image, before compiling)."""
    for env in NUMBERED:
        code = code.replace("{" + env + "}", "{" + env + "*}")
    code = re.sub(r"\\label\{.*?\}[\t ]*(\n)?", "", code)
    if BEGIN_DOC not in code and BEGIN_FILE not in code:
        code = BEGIN_DOC + code
    if END_DOC not in code:
        code = code + END_DOC
    cls = re.search(r"\\documentclass(\[.*?\])?\{.*?\}", code) or re.search(r"\\documentstyle(\[.*?\])?\{.*?\}", code)
    code = code.replace(cls.group(), BEGIN_FILE) if cls else BEGIN_FILE + "\n\n" + code
    code = re.sub(r"\\usepackage(\[.*?\])?\{.*\}", "", code)
    return code.replace(BEGIN_FILE, BEGIN_FILE + "\n" + helm_preamble()[0] + "\n")


def math_mode_retry(tex: str) -> str:
    """HELM's fix for "Missing $ inserted": the document body inside $$ ... $$."""
    return re.sub(r"(?<=\\begin{document})(.*?)(?=\\end{document})", r"$$\1$$", tex, flags=re.DOTALL)


def extract_helm(response: str) -> str:
    """HELM's code block rule: first ```latex ... ```, else first ``` ... ```, else the whole response."""
    text = response.strip()
    for start in ("```latex", "```"):
        i = text.find(start)
        if i >= 0:
            j = text.find("```", i + len(start))
            if j >= 0:
                return text[i + len(start) : j]
    return text


def compile_latex(ctx: MetricContext, code: str):
    """The answer compiled HELM's way -> (PIL image or None, error message)."""
    from vinci_rl.render.latex import LatexBackend

    backend = ctx.renderer().backend("latex")
    assert isinstance(backend, LatexBackend)
    tex = helm_document(code)
    for attempt in range(MAX_RETRIES + 1):
        status, detail = backend._compile(tex, time.monotonic() + COMPILE_TIMEOUT_S, False, "pdflatex")
        if status == "ok":
            return _raster(detail), ""
        # HELM: errors that are the code's own fault fail at once; an undefined environment's retry adds a
        # \usepackage that HELM's own preprocessing strips again, so it never compiles: a failure here too.
        retry = "Missing $ inserted" in detail or " allowed only in math mode" in detail
        if status != "parse_error" or any(f in detail for f in FATAL) or not retry or attempt == MAX_RETRIES:
            return None, f"{status}: {detail}"
        tex = math_mode_retry(tex)
    return None, "unreachable"


def _raster(pdf_path: str):
    """Page 1 at 200 dpi, bottom 20 % removed, cropped to the non-white box (HELM's pdf_to_image(crop=True))."""
    import numpy as np
    import pymupdf
    from PIL import Image, ImageOps

    with pymupdf.open(pdf_path) as doc:
        pix = doc[0].get_pixmap(matrix=pymupdf.Matrix(DPI / 72, DPI / 72), alpha=False)
        img = Image.fromarray(np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width, pix.n)[..., :3])
    w, h = img.size
    img = img.crop((0, 0, w, h - int(h * 0.2)))
    return img.crop(ImageOps.invert(img).getbbox())


class Image2StructLatex:
    name = "image2struct-latex"
    language = "latex"
    columns = ("Compile", "EMS")

    def __init__(self):
        self._images: Path | None = None  # the parquet rows' images as files, made on the first load

    def _image_dir(self) -> Path:
        if self._images is None:
            self._images = Path(tempfile.mkdtemp(prefix="vinci-i2s-latex-"))
            atexit.register(shutil.rmtree, self._images, True)
        return self._images

    def load(self, data_dir: Path) -> list[BenchmarkItem]:
        subsets = [d for d in sorted(data_dir.iterdir()) if d.is_dir() and d.name in SUBSETS]
        dirs = subsets or [data_dir]
        items = [it for d in dirs for it in self._load_subset(d)]
        if not items:
            raise BenchmarkDataError(
                f"{self.name}: no validation-*.parquet (or test-*.parquet) under {data_dir} or its subset folders "
                f"({', '.join(SUBSETS)})")
        return items

    def _load_subset(self, folder: Path) -> list[BenchmarkItem]:
        import pyarrow.parquet as pq

        files = sorted(folder.glob("validation-*.parquet")) or sorted(folder.glob("test-*.parquet"))
        items = []
        for f in files:
            table = pq.read_table(f)
            for col in ("uuid", "image"):
                if col not in table.column_names:
                    raise BenchmarkDataError(f"{f}: no column {col!r} (columns: {', '.join(table.column_names)})")
            for n, row in enumerate(table.to_pylist()):
                items.append(self._item(f, n, row, folder.name))
        return items

    def _item(self, f: Path, n: int, row: dict, subset: str) -> BenchmarkItem:
        uuid = str(row["uuid"]).replace('"', "")
        image = row["image"]
        data = image.get("bytes") if isinstance(image, dict) else None
        if not data:
            raise BenchmarkDataError(f"{f}: row {n} ({uuid}): the image has no bytes")
        path = self._image_dir() / f"{uuid}.png"
        path.write_bytes(data)
        category = str(row.get("category") or subset).strip('"')
        return BenchmarkItem(uuid, path, PROMPT, row.get("structure"), self.language,
                             {"subset": category, "difficulty": row.get("difficulty")})

    def group(self, item: BenchmarkItem) -> str:
        return item.meta["subset"]

    def extract(self, response: str) -> str:
        return extract_helm(response)

    def score(self, item: BenchmarkItem, prediction: str, ctx: MetricContext) -> dict[str, float]:
        import cv2
        from PIL import Image

        from vinci_rl.benchmarks.block_emd import ems, pad_to_match

        image, _ = compile_latex(ctx, prediction or "")
        if image is None:
            return {"Compile": 0.0, "EMS": 0.0}
        pred, ref = pad_to_match(image.convert("RGB"), Image.open(item.image).convert("RGB"))
        try:
            value = ems(pred, ref)
        except (ValueError, ArithmeticError, cv2.error):  # HELM: an error inside a metric scores 0 for it
            value = 0.0
        return {"Compile": 1.0, "EMS": value}

    def aggregate(self, rows: list[dict[str, float]]) -> dict[str, float]:
        return {c: mean([r[c] for r in rows]) for c in self.columns}

    def notes(self, rows: list[dict[str, float]]) -> list[str]:
        missing = helm_preamble()[1]
        if not missing:
            return []
        return [f"HELM preamble packages not installed here, left out: {', '.join(missing)}"]


register(Image2StructLatex())
