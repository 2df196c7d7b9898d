"""The benchmark interface: items, the Benchmark protocol, the metric context, the registry, the errors.

    from vinci_rl.benchmarks import get_benchmark, MetricContext
    bench = get_benchmark("image2struct-latex")
    items = bench.load(Path("data/image2struct"))            # the published layout; BenchmarkDataError names what is missing
    row = bench.score(items[0], prediction_code, MetricContext())  # {column-part: float}; failures are values
    table = bench.aggregate([row, ...])                        # keys == bench.columns

A benchmark module defines one object satisfying `Benchmark` and calls `register(obj)` at import time; the package
__init__ imports every benchmark module. `score` gets the code already extracted from the response ("" when the
response held none) and never raises for a bad prediction: a failure is the
benchmark's own failure value. A metric whose weights were not given raises MissingWeights (naming the flag and the
metric); a metric that is optional for its benchmark goes through `MetricContext.optional`, which records the reason
and yields NaN, shown as "n/a" in the table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol, runtime_checkable

UNAVAILABLE = float("nan")  # a column that could not be computed (its reason is in MetricContext.unavailable)


@dataclass(frozen=True)
class BenchmarkItem:
    id: str
    image: Path  # the reference image file
    prompt: str  # the prompt exactly as the benchmark's own inference code builds it
    reference: str | None  # ground-truth code / SMILES / text, when the layout has it
    language: str  # vinci-rl language name (svg, html, latex, python, smiles, ...)
    meta: dict = field(default_factory=dict)  # anything else the metric needs (e.g. the subset)


@runtime_checkable
class Benchmark(Protocol):
    name: str  # the --benchmark value, e.g. "image2struct-latex"
    language: str
    columns: tuple[str, ...]  # the paper table's columns, in order

    def load(self, data_dir: Path) -> list[BenchmarkItem]:
        """The items of the published layout; BenchmarkDataError naming the missing file/field."""
        ...

    def score(self, item: BenchmarkItem, prediction: str, ctx: "MetricContext") -> dict[str, float]:
        """Per item; prediction is the extracted code ("" when the response held none). A failure is the benchmark's
        defined failure value, never an exception."""
        ...

    def aggregate(self, rows: list[dict[str, float]]) -> dict[str, float]:
        """The table row (keys == columns)."""
        ...


class BenchmarkDataError(ValueError):
    """The data directory does not hold the benchmark's published layout (the message names the file/field)."""


class MissingWeights(RuntimeError):
    """A metric needs model weights (or a package) that were not given.

    MissingWeights("--clip", "UniSVG CLIP score") -> "UniSVG CLIP score needs weights: pass --clip PATH ..."
    """

    def __init__(self, flag: str, metric: str, detail: str = ""):
        self.flag, self.metric = flag, metric
        msg = f"{metric} needs weights: pass {flag} PATH (a local directory/file or a hub id)"
        super().__init__(f"{msg}; {detail}" if detail else msg)


@dataclass
class MetricContext:
    clip_path: str | None = None  # CLIP weights by local path / hub id
    lpips_path: str | None = None  # LPIPS weights (state_dict of lpips.LPIPS(net='alex')) by path
    sandbox: str = "auto"  # render sandbox ("auto", "bwrap", "none")
    work_dir: Path | None = None
    clip_config: dict | None = None  # a CLIPConfig as a dict: random weights (tests), instead of clip_path
    device: str = "cpu"
    # lazily built models and renderers, by key; see cached()
    models: dict[str, Any] = field(default_factory=dict)
    # column -> why it could not be computed (filled by optional())
    unavailable: dict[str, str] = field(default_factory=dict)

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        """The object stored under key, built by build() on first use."""
        if key not in self.models:
            self.models[key] = build()
        return self.models[key]

    def optional(self, column: str, compute: Callable[[], float]) -> float:
        """compute(), or NaN with the reason recorded when it raises MissingWeights (the column shows n/a)."""
        if column in self.unavailable:
            return UNAVAILABLE
        try:
            return compute()
        except MissingWeights as e:
            self.unavailable[column] = str(e)
            return UNAVAILABLE

    def renderer(self):
        """One shared sandboxed Renderer (vinci_rl.render), started on first use; closed by close()."""
        from vinci_rl.render import Renderer

        return self.cached("renderer", lambda: Renderer({"sandbox": self.sandbox}))

    def close(self) -> None:
        r = self.models.pop("renderer", None)
        if r is not None:
            r.close()


_REGISTRY: dict[str, Benchmark] = {}


def register(bench: Benchmark) -> Benchmark:
    """Add a benchmark under bench.name (a second one with the same name is an error); returns it."""
    for attr in ("name", "language", "columns", "load", "score", "aggregate"):
        if not hasattr(bench, attr):
            raise TypeError(f"benchmark {bench!r} lacks {attr!r}")
    old = _REGISTRY.get(bench.name)
    if old is not None and old is not bench:
        raise ValueError(f"benchmark {bench.name!r} is registered twice ({type(old).__name__}, {type(bench).__name__})")
    _REGISTRY[bench.name] = bench
    return bench


def benchmark_names() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def get_benchmark(name: str) -> Benchmark:
    """The registered benchmark called name; ValueError listing the known ones otherwise."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown benchmark {name!r}; known: {', '.join(benchmark_names()) or '(none)'}") from None


def mean(values: list[float]) -> float:
    """Mean of the values (NaN when any is NaN - an unavailable column stays unavailable; 0.0 for no values)."""
    if not values:
        return 0.0
    if any(isinstance(v, float) and math.isnan(v) for v in values):
        return UNAVAILABLE
    return sum(values) / len(values)
