"""One short training run for a benchmark: `vinci-rl train RECIPE` in its own process (with its own embedded Ray
cluster), its output kept in `<root>/<name>.log`, its metrics rows and sample log read back. Used by
`vinci-rl bench schedule` (vinci_rl/schedule/bench.py) and `vinci-rl bench modes` (vinci_rl/train/bench_modes.py).
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from vinci_rl.report.run_report import read_jsonl
from vinci_rl.train.sample_log import SampleRecord, read_samples


@dataclass
class BenchRun:
    metrics: list[dict]  # metrics.jsonl's data dicts, one per step
    samples: list[SampleRecord]
    wall_s: float  # the whole process, start-up included


def train_for_bench(recipe: Path, name: str, root: Path, overrides: list[str]) -> BenchRun:
    """Train `recipe` with `overrides` into `<root>/<name>`; a failed run raises with the path of its log."""
    run_dir = root / name
    cmd = [sys.executable, "-m", "vinci_rl", "train", str(recipe), *overrides, "--run-dir", str(run_dir)]
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - t0
    log = root / f"{name}.log"
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} run failed; log: {log}")
    return BenchRun([row["data"] for row in read_jsonl(run_dir / "metrics.jsonl")], read_samples(run_dir), wall)
