"""ChartMimic (Yang et al., ICLR 2025): chart image -> matplotlib code, scored by its low-level metrics.

    vinci-rl eval --benchmark chartmimic DATA_DIR              # Direct Mimic
    vinci-rl eval --benchmark chartmimic-customized DATA_DIR   # Customized Mimic

Layout (ChartMimic's dataset tarball): DATA_DIR is the task folder (`direct_600/`, `customized_600/`, `ori_500/`, ...)
or a folder holding it; each item is `<id>.py` (the ground-truth program) + `<id>.png`. The figure size of the prompt
comes from ChartMimic's `dimentions_info.jsonl` when it lies in DATA_DIR or up to two folders above it, else from the
ground truth's `figsize=(w, h)`; Customized Mimic needs `dimentions_info_edit.jsonl` (its instructions).

Per item, as ChartMimic's code_checker / code_interpreter / evaluators do: the first ```python block of the response;
for Customized Mimic the ground truth's "Part 2: Data Preparation" block is put before it; everything from the first
`plt.savefig(` and the first `plt.show(` on is cut and `plt.savefig(<pdf>)` appended; the axes' ticks are removed
before the first `plt.savefig` (so tick labels are not texts). Both programs then run in the project's Python sandbox
with matplotlib traced (mpl_trace.py) and the four F1 scores follow (text, layout, chart type, colour). A prediction
that raises (or has no python block) does not execute: it scores 0 everywhere, as ChartMimic counts only the
programs that ran (sum of F1 over them / all items). The table: Exec Rate, the four scores and their mean (the
paper's low-level score). The high-level score (GPT-4o judging the two pictures) is not computed.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from vinci_rl.benchmarks.base import BenchmarkDataError, BenchmarkItem, MetricContext, register
from vinci_rl.benchmarks.ciede2000 import color_similarity, hex_to_rgb

DIRECT_INSTRUCTION = (
    "You are an expert Python developer who specializes in writing matplotlib code based on a given picture. "
    "I found a very nice picture in a STEM paper, but there is no corresponding source code available. I need your "
    "help to generate the Python code that can reproduce the picture based on the picture I provide.\n"
    "Note that it is necessary to use figsize=({width}, {height}) to set the image size to match the original size.\n"
    "Now, please give me the matplotlib code that reproduces the picture below."
)
CUSTOMIZED_SUFFIX = "\nNote that it is necessary to use figsize=({width}, {height}) to set the image size.\n"
TASK_FOLDERS = {
    "direct": ("direct_600", "direct_1800", "ori_500"),
    "customized": ("customized_600", "customized_1800", "customized_500"),
}
INFO_FILES = {"direct": "dimentions_info.jsonl", "customized": "dimentions_info_edit.jsonl"}
PYTHON_BLOCK = re.compile(r"```python(.*?)```", re.S)
DATA_BLOCK = re.compile(r"# ===================\n# Part 2: Data Preparation\n# ===================\n(.*?)"
                        r"# ===================\n# Part 3: Plot Configuration and Rendering\n# ===================", re.S)
# The imports ChartMimic puts before a Customized Mimic answer, with the ground truth's data block.
DATA_PREAMBLE = (
    "#Variable Code Block\nimport warnings;warnings.filterwarnings('ignore', category=UserWarning);"
    "warnings.filterwarnings('ignore', category=FutureWarning);import matplotlib.pyplot as plt;import pandas as pd;"
    "import numpy as np;np.random.seed(0);import math;from matplotlib_venn import venn2;from matplotlib import cm;"
    "from scipy.stats import gaussian_kde;import networkx as nx;from matplotlib.gridspec import GridSpec;"
    "from scipy.stats import multivariate_normal;import colorsys;import matplotlib.colors as mcolors;"
    "from matplotlib.colors import LogNorm;from scipy.stats import norm;import matplotlib.gridspec as gridspec;"
    "import seaborn as sns\n"
)
TICK_REMOVAL = "\nall_axes = plt.gcf().get_axes()\nfor ax in all_axes:\n    ax.set_xticks([])\n    ax.set_yticks([])\n"
COLOR_FILTER_MIN = 10  # more distinct colours than this: near-duplicates (similarity > 0.7) are dropped
COLOR_FILTER_SIMILARITY = 0.7
METRICS = ("text", "layout", "type", "color")
FAILED = {"exec": 0.0, **{m: 0.0 for m in METRICS}}


# ------------------------------------------------------------------ programs


def extract(response: str) -> str:
    """ChartMimic's reading of a response: the first ```python block ("" when there is none)."""
    found = PYTHON_BLOCK.findall(response)
    return found[0] if found else ""


def prediction_program(code: str, data_code: str | None = None) -> str:
    """The program ChartMimic runs for an answer: [data block +] code cut at the first savefig/show, + savefig."""
    if data_code is not None:
        code = data_code + "\n" + code
    code = re.sub(r"plt\.savefig\(.*\n*", "", code, flags=re.S)
    code = re.sub(r"plt.show\(.*\n*", "", code, flags=re.S)
    return code.strip() + '\nplt.savefig("prediction.pdf")'


def data_block(reference_code: str) -> str | None:
    """The ground truth's data preparation block with ChartMimic's imports (Customized Mimic); None when absent."""
    match = DATA_BLOCK.search(reference_code)
    return DATA_PREAMBLE + match.group(1).strip() if match else None


def traced_program(code: str, graph_layout: bool) -> str:
    """The program run in the sandbox: the tracer installed, ticks removed before the first plt.savefig, the trace
    left in `__vinci_result__` (read back by PythonBackend.run_json)."""
    source = (Path(__file__).parent / "mpl_trace.py").read_text(encoding="utf-8")
    at = code.find("plt.savefig")
    if at >= 0:
        code = code[:at] + TICK_REMOVAL + code[at:]
    prefix = (f"import types as _vinci_types\n_vinci_trace = _vinci_types.ModuleType('vinci_mpl_trace')\n"
              f"exec(compile({source!r}, 'mpl_trace.py', 'exec'), _vinci_trace.__dict__)\n_vinci_trace.install()\n")
    return prefix + code + f"\n__vinci_result__ = _vinci_trace.collect({graph_layout!r})\n"


def run_traced(ctx: MetricContext, code: str, graph_layout: bool) -> tuple[dict | None, str]:
    """(trace, "") when the program ran to its end, else (None, why)."""
    result = ctx.renderer().backend("python").run_json(traced_program(code, graph_layout))
    if not result.ok or not isinstance(result.extra.get("result"), dict):
        return None, f"{result.status}: {result.message}"
    return result.extra["result"], ""


# ------------------------------------------------------------------ the four scores


def f1_of(n_correct: float, n_generated: int, n_reference: int) -> dict[str, float]:
    precision = n_correct / n_generated if n_generated else 0.0
    recall = n_correct / n_reference if n_reference else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def multiset_f1(generated: list, reference: list) -> dict[str, float]:
    """Text and layout: matches counted with multiplicity; 0 when either side is empty."""
    if not generated or not reference:
        return f1_of(0, 0, 0)
    key = lambda v: json.dumps(v, sort_keys=True)  # noqa: E731  (layout cells are dicts)
    common = Counter(map(key, generated)) & Counter(map(key, reference))
    return f1_of(sum(common.values()), len(generated), len(reference))


def type_f1(generated: dict[str, int], reference: dict[str, int]) -> dict[str, float]:
    """Chart types: per traced function min(calls in generated, calls in reference)."""
    n_correct = sum(min(n, reference.get(k, 0)) for k, n in generated.items())
    return f1_of(n_correct, sum(generated.values()), sum(reference.values()))


def color_value_similarity(c1: str, c2: str) -> float:
    """Two hex colours: CIEDE2000 similarity; two colormap names: 1 if equal; a hex and a name: 0."""
    if c1.startswith("#") and c2.startswith("#"):
        return color_similarity(hex_to_rgb(c1), hex_to_rgb(c2))
    if not c1.startswith("#") and not c2.startswith("#"):
        return 1.0 if c1 == c2 else 0.0
    return 0.0


def filter_colors(colors: list[str]) -> list[str]:
    """ChartMimic's filter for charts with many colours: keep a colour only if no kept one is more than 0.7 similar
    (across groups), in list order."""
    if len(colors) <= COLOR_FILTER_MIN:
        return list(colors)
    kept: list[str] = []
    for entry in colors:
        value = entry.split("--", 1)[1]
        if all(color_value_similarity(value, k.split("--", 1)[1]) <= COLOR_FILTER_SIMILARITY for k in kept):
            kept.append(entry)
    return kept


def best_assignment(a: list[str], b: list[str]) -> float:
    """Maximum total similarity of a one-to-one pairing of two colour lists (ChartMimic enumerates permutations of
    the longer list; the Hungarian algorithm finds the same maximum)."""
    if not a or not b:
        return 0.0
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    sim = np.array([[color_value_similarity(x, y) for y in b] for x in a])
    rows, cols = linear_sum_assignment(sim, maximize=True)
    return float(sim[rows, cols].sum())


def color_f1(generated: list[str], reference: list[str]) -> dict[str, float]:
    """Colours grouped by the function that drew them; per group the best pairing's total similarity; precision and
    recall divide the sum by the number of generated / reference colours."""
    generated, reference = filter_colors(generated), filter_colors(reference)
    groups: dict[str, tuple[list, list]] = {}
    for side, colors in ((0, generated), (1, reference)):
        for entry in colors:
            group, value = entry.split("--", 1)
            groups.setdefault(group, ([], []))[side].append(value)
    total = sum(best_assignment(g, r) for g, r in groups.values())
    return f1_of(total, len(generated), len(reference))


def compare(generated: dict, reference: dict) -> dict[str, float]:
    """The four F1 scores of two traces."""
    return {
        "text": multiset_f1(generated["texts"], reference["texts"])["f1"],
        "layout": multiset_f1(generated["layouts"], reference["layouts"])["f1"],
        "type": type_f1(generated["types"], reference["types"])["f1"],
        "color": color_f1(generated["colors"], reference["colors"])["f1"],
    }


EMPTY_TRACE = {"texts": [], "layouts": [], "types": {}, "colors": []}


# ------------------------------------------------------------------ the benchmark


class ChartMimic:
    language = "python"
    columns = ("Exec Rate", "Text", "Layout", "Type", "Color", "Low-Level")

    def __init__(self, task: str):
        self.task = task
        self.name = "chartmimic" if task == "direct" else f"chartmimic-{task}"

    def load(self, data_dir: Path) -> list[BenchmarkItem]:
        folder = task_folder(Path(data_dir), self.task)
        info = read_info(folder, self.task)
        items = []
        for code_file in sorted(folder.glob("*.py")):
            image = code_file.with_suffix(".png")
            if not image.is_file():
                raise BenchmarkDataError(f"{self.name}: {image} is missing (every <id>.py needs its <id>.png)")
            reference = code_file.read_text(encoding="utf-8")
            items.append(BenchmarkItem(code_file.stem, image, self._prompt(code_file, reference, info), reference,
                                       self.language, {"task": self.task}))
        if not items:
            raise BenchmarkDataError(f"{self.name}: no <id>.py / <id>.png pairs in {folder}")
        return items

    def _prompt(self, code_file: Path, reference: str, info: dict) -> str:
        idx = "_".join(code_file.stem.split("_")[:2])
        entry = info.get(idx) or {}
        width, height = entry.get("width"), entry.get("height")
        if width is None or height is None:
            width, height = figsize_of(reference, code_file)
        if self.task == "direct":
            return DIRECT_INSTRUCTION.format(width=width, height=height)
        if not entry.get("instruction"):
            raise BenchmarkDataError(f"{self.name}: no 'instruction' for {idx!r} in {INFO_FILES[self.task]}")
        return entry["instruction"] + CUSTOMIZED_SUFFIX.format(width=width, height=height)

    def extract(self, response: str) -> str:
        return extract(response)

    def score(self, item: BenchmarkItem, prediction: str, ctx: MetricContext) -> dict[str, float]:
        if not prediction.strip():
            return dict(FAILED)
        graph = item.id.startswith("graph")
        data_code = data_block(item.reference or "") if self.task == "customized" else None
        generated, _ = run_traced(ctx, prediction_program(prediction, data_code), graph)
        if generated is None:
            return dict(FAILED)
        reference = ctx.cached(f"chartmimic:{self.task}:{item.id}",
                               lambda: run_traced(ctx, item.reference or "", graph)[0] or EMPTY_TRACE)
        return {"exec": 1.0, **compare(generated, reference)}

    def passed(self, row: dict[str, float]) -> bool:
        return row.get("exec", 0.0) >= 1.0

    def aggregate(self, rows: list[dict[str, float]]) -> dict[str, float]:
        n = max(len(rows), 1)
        means = {m: sum(r.get(m, 0.0) for r in rows) / n for m in ("exec", *METRICS)}
        low = sum(means[m] for m in METRICS) / len(METRICS)
        return dict(zip(self.columns, (means["exec"], means["text"], means["layout"], means["type"], means["color"],
                                       low)))

    def notes(self, rows: list[dict[str, float]]) -> list[str]:
        return ["ChartMimic's high-level score (GPT-4o comparing the two pictures) and its Overall are not computed: "
                "they need the OpenAI API. Low-Level is the mean of Text, Layout, Type and Color."]


def task_folder(data_dir: Path, task: str) -> Path:
    if any(data_dir.glob("*.py")):
        return data_dir
    for name in TASK_FOLDERS[task]:
        for parent in (data_dir, data_dir / "dataset"):
            if (parent / name).is_dir():
                return parent / name
    raise BenchmarkDataError(f"chartmimic: {data_dir} holds no <id>.py files and none of the folders "
                             f"{', '.join(TASK_FOLDERS[task])}")


def read_info(folder: Path, task: str) -> dict[str, dict]:
    """ChartMimic's per-item figure sizes (and instructions) by idx, from the first info file found upwards."""
    name = INFO_FILES[task]
    for parent in (folder, folder.parent, folder.parent.parent):
        path = parent / name
        if path.is_file():
            out = {}
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if line.strip():
                    try:
                        entry = json.loads(line)
                        out[str(entry["idx"])] = entry
                    except (ValueError, KeyError, TypeError) as e:
                        raise BenchmarkDataError(f"{path}:{n}: expected a JSON object with 'idx' ({e})") from e
            return out
    if task == "customized":
        raise BenchmarkDataError(f"chartmimic-customized: {name} (the instructions) not found in {folder} or the two "
                                 "folders above it")
    return {}


FIGSIZE = re.compile(r"figsize\s*=\s*\(\s*([0-9.]+)\s*,\s*([0-9.]+)\s*\)")


def figsize_of(code: str, code_file: Path) -> tuple[float, float]:
    match = FIGSIZE.search(code)
    if not match:
        raise BenchmarkDataError(f"chartmimic: {code_file} has no figsize=(w, h) and no dimentions_info.jsonl entry")
    return float(match.group(1)), float(match.group(2))


CHARTMIMIC = register(ChartMimic("direct"))
CHARTMIMIC_CUSTOMIZED = register(ChartMimic("customized"))
