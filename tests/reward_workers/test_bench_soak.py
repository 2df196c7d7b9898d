"""`vinci-rl bench soak --json` on a short stream: every sample answered, hostile ones included, memory sampled for
the pool and each worker. No timing or memory threshold is asserted (those are the benchmark's numbers)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_bench_soak_answers_every_sample_and_reports_memory(tmp_path):
    from reward_workers.bench.soak import HOSTILE_EVERY

    n = 2 * HOSTILE_EVERY
    cmd = [sys.executable, "-m", "vinci_rl", "bench", "soak", "--soak-samples", str(n), "--json", "--quiet"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=540)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["sent"] == report["answered"] == n and report["lost"] == 0
    assert sum(report["statuses"].values()) == n
    assert sum(report["by_kind"]["hostile"].values()) == 2  # answered like any other sample
    assert report["windows"][-1]["samples"] == n
    assert {"pool", "worker_0", "worker_1", "worker_0_with_renderers"} <= set(report["memory_growth_after_warmup"])
    assert all(m["pool"] > 0 and len(m["workers"]) == 2 for m in report["memory_samples"])
