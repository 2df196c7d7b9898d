"""`vinci-rl bench reward --json` on a tiny corpus: every mode runs and the last stdout line has the documented
shape. No timing is asserted (timings belong to the benchmark, not to a test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODES = ("reference_style", "naive", "pool_1", "pool_2")
RATIOS = ("speedup_vs_reference", "speedup_vs_naive", "scaling_2_vs_1")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_bench_reward_json_shape(tmp_path):
    cmd = [sys.executable, "-m", "vinci_rl", "bench", "reward", "--json", "--quiet", "--samples", "3", "--languages", "svg,smiles"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=540)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    report = json.loads(lines[-1])
    assert "samples/s" in proc.stdout  # the table comes first
    assert set(report["languages"]) == {"svg", "smiles"}
    for row in report["languages"].values():
        for key in MODES + RATIOS:
            assert isinstance(row[key], (int, float)) and row[key] > 0, (key, row)
    assert isinstance(report["svg_overhead_vs_raw"], float) and report["svg_overhead_vs_raw"] > 0
    assert sum(report["statuses"]["svg"].values()) == 3


def test_bench_rejects_unknown_languages(capsys):
    from vinci_rl.cli import main

    assert main(["bench", "reward", "--languages", "svg,cobol"]) == 2
    assert "cobol" in capsys.readouterr().err
