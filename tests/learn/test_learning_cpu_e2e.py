"""The learning check, end to end on CPU, through the demo's own pipeline (vinci_rl.learn.pipeline) with fewer
steps: the base model never writes a program that renders; after a short SFT (verl's SFT trainer) the loss has
fallen by an order of magnitude and most held-out answers render; GRPO steps from the SFT checkpoint run with the
render reward, score every rollout, change the weights, and the reports are written. Pass/fail here cannot come
from chance (a random model renders nothing); whether GRPO beats SFT is measured by `vinci-rl bench learn`."""

from __future__ import annotations

import fcntl
import io
import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from vinci_rl.data.shapes_task import HELDOUT_SIZE
from vinci_rl.learn.pipeline import LearnConfig, run_pipeline
from vinci_rl.reward.composite import composite
from vinci_rl.reward.config import RewardConfig

E2E_LOCK = "/tmp/vinci-e2e.lock"
SFT_STEPS, GRPO_STEPS = 100, 2
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1500)]


@pytest.fixture(scope="module")
def learn_run(tmp_path_factory):
    cfg = LearnConfig(
        run_dir=tmp_path_factory.mktemp("learn"), n_train=1000, sft_steps=SFT_STEPS, grpo_steps=GRPO_STEPS,
        grpo_overrides=["data.train_batch_size=8", "actor_rollout_ref.actor.ppo_mini_batch_size=8",
                        "+vinci.weight_ramp={term:length,start:0.0,steps:2}"],
    )  # fmt: skip
    out = io.StringIO()
    with open(E2E_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = run_pipeline(cfg, out)
    print(out.getvalue())
    return cfg, result


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_sft_loss_falls_by_an_order_of_magnitude(learn_run):
    cfg, result = learn_run
    losses = [r["data"]["train/loss"] for r in _jsonl(result.runs["sft"].run_dir / "metrics.jsonl") if "train/loss" in r["data"]]
    assert len(losses) == SFT_STEPS
    assert np.mean(losses[-10:]) < 0.1 * np.mean(losses[:3]), (losses[:3], losses[-10:])


def test_sft_beats_the_base_model_on_heldout_renders_and_reward(learn_run):
    _, result = learn_run
    base, sft = result.stages["base"], result.stages["sft"]
    assert base["n"] == sft["n"] == HELDOUT_SIZE
    assert base["render_rate"] == 0.0 and base["reward"] == -1.0
    assert sft["render_rate"] >= 0.75, sft["render_rate"]
    assert sft["reward"] > base["reward"] + 0.5


def test_grpo_from_the_sft_checkpoint_scores_every_rollout_with_the_render_reward(learn_run):
    _, result = learn_run
    run_dir = result.runs["rl"].run_dir
    metrics, samples = _jsonl(run_dir / "metrics.jsonl"), _jsonl(run_dir / "samples.jsonl")
    assert [m["step"] for m in metrics] == list(range(1, GRPO_STEPS + 1))
    per_step = 8 * 8  # prompts x rollouts
    assert len(samples) == GRPO_STEPS * per_step
    assert all(s["reward_extra_info"]["vinci/scored"] == 1.0 for s in samples)
    ok = [s for s in samples if s["status"] == "ok"]
    assert len(ok) > per_step, "an SFT model's rollouts render"
    # the length term compares like with like: an ok answer near the ground truth's length is not at the floor
    assert np.mean([s["reward_extra_info"]["length"] for s in ok]) > 0.0
    for m in metrics:
        assert m["data"]["reward/scored_samples"] == per_step


def test_the_length_weight_ramp_is_logged_and_used_per_step(learn_run):
    """vinci.weight_ramp (length 0 at step 1 -> the preset's weight at step 2): each step logs its weight, and every
    rendered rollout's reward is the composite of its terms with that step's length weight."""
    _, result = learn_run
    run_dir = result.runs["rl"].run_dir
    weights = RewardConfig.from_preset("default").weights
    logged = {m["step"]: m["data"]["reward/weight/length"] for m in _jsonl(run_dir / "metrics.jsonl")}
    assert logged == {1: 0.0, 2: weights["length"]}
    checked = 0
    for s in _jsonl(run_dir / "samples.jsonl"):
        info = s["reward_extra_info"]
        if s["status"] == "ok":
            terms = {k: info[k] for k in weights}
            step_weights = {**weights, "length": logged[s["step"]]}
            assert info["vinci/reward"] == pytest.approx(composite(terms, step_weights, True), abs=1e-5)
            checked += 1
    assert checked > 8


def test_grpo_changed_the_sft_weights(learn_run):
    _, result = learn_run

    def weights(d: Path) -> dict:
        return {k: v for f in sorted(d.glob("*.safetensors")) for k, v in load_file(str(f)).items()}

    before, after = weights(result.runs["sft"].model), weights(result.runs["rl"].model)
    changed = [k for k in before if not np.array_equal(before[k], after[k])]
    assert len(changed) > len(before) // 2


def test_the_reports_are_written(learn_run):
    cfg, result = learn_run
    learning = json.loads((cfg.run_dir / "learning.json").read_text())
    assert set(learning["stages"]) == {"base", "sft", "rl"}
    for stage in learning["stages"].values():
        assert len(stage["samples"]) == HELDOUT_SIZE and "render_rate" in stage and "terms" in stage
    gallery = (cfg.run_dir / "gallery.html").read_text()
    assert gallery.count("<tr>") == 17 and gallery.count("data:image/png;base64,") >= 16 * 2
    assert (cfg.run_dir / "reward_curves.png").stat().st_size > 10_000
    # every stage was scored by the same evaluation on the same prompts
    ids = [sorted(s["id"] for s in st["samples"]) for st in learning["stages"].values()]
    assert ids[0] == ids[1] == ids[2]
