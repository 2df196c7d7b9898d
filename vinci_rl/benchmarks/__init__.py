"""Paper-comparable evaluation: each benchmark's published data layout, prompt and official metrics.

    from vinci_rl.benchmarks import get_benchmark, benchmark_names
    get_benchmark("unisvg").columns        # ("SSIM", "LPIPS", "CLIP", "Score")

Benchmark modules register themselves on import (see base.py); this package imports each module in
BENCHMARK_MODULES. Heavy dependencies (torch, transformers, rdkit) are imported by the metrics on first use.
`vinci-rl eval --benchmark NAME DATA_DIR` runs one (runner.py).
"""

from __future__ import annotations

import importlib

from vinci_rl.benchmarks.base import (
    UNAVAILABLE,
    Benchmark,
    BenchmarkDataError,
    BenchmarkItem,
    MetricContext,
    MissingWeights,
    benchmark_names,
    get_benchmark,
    register,
)

# Modules that define and register benchmarks. The optional ones may be absent from an installation; any other
# import failure (including a missing dependency inside an optional module) is an error.
BENCHMARK_MODULES = ("image2struct", "chemdraw", "unisvg")
OPTIONAL_MODULES = ("chartmimic", "design2code")


def _import_benchmarks() -> None:
    for name in BENCHMARK_MODULES + OPTIONAL_MODULES:
        full = f"{__name__}.{name}"
        try:
            importlib.import_module(full)
        except ModuleNotFoundError as e:
            if name not in OPTIONAL_MODULES or e.name != full:
                raise


_import_benchmarks()

__all__ = [
    "UNAVAILABLE",
    "Benchmark",
    "BenchmarkDataError",
    "BenchmarkItem",
    "MetricContext",
    "MissingWeights",
    "benchmark_names",
    "get_benchmark",
    "register",
]
