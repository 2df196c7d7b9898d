"""The `vinci` reward manager on a hand-built verl DataProto: run_single streams each sample to the pool without
blocking verl's event loop, and returns reward_score plus every term, status/<kind> and bookkeeping key. The
in-process backend (vinci.pool.enabled: false) gives the same rewards."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
import time
import uuid

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from PIL import Image

from pool_helpers import COLORS, TINY_REWARD, fenced, reference, svg

from reward_workers import deployment
from reward_workers.config import PoolConfig

pytestmark = pytest.mark.timeout(300)
RESPONSE_LEN = 160


@pytest.fixture(scope="module")
def tokenizer():
    from vinci_rl.models.tiny_tokenizer import train_tokenizer

    return train_tokenizer()


def _batch(tokenizer, responses: list[str], with_image: list[bool] | None = None):
    """A verl batch as the reward loop sees it: prompt + response ids, attention mask, and the dataset columns."""
    from verl import DataProto

    n = len(responses)
    with_image = with_image or [True] * n
    prompt_len = 4
    ids = torch.full((n, RESPONSE_LEN), tokenizer.pad_token_id or 0, dtype=torch.long)
    mask = torch.zeros((n, prompt_len + RESPONSE_LEN), dtype=torch.long)
    mask[:, :prompt_len] = 1
    for i, text in enumerate(responses):
        tok = tokenizer.encode(text, add_special_tokens=False)[:RESPONSE_LEN]
        ids[i, : len(tok)] = torch.tensor(tok)
        mask[i, prompt_len : prompt_len + len(tok)] = 1
    raw_prompt = np.empty(n, dtype=object)
    for i in range(n):
        parts = [{"type": "text", "text": "Write SVG code that draws this image."}]
        if with_image[i]:
            parts.insert(0, {"type": "image", "image": Image.fromarray(reference())})
        raw_prompt[i] = [{"role": "user", "content": parts}]
    return DataProto.from_dict(
        tensors={"responses": ids, "attention_mask": mask, "prompts": torch.ones((n, prompt_len), dtype=torch.long)},
        non_tensors={
            "raw_prompt": raw_prompt,
            "data_source": np.array(["vinci/svg"] * n, dtype=object),
            "extra_info": np.array([{"language": "svg", "index": i, "id": f"row{i}"} for i in range(n)], dtype=object),
            "reward_model": np.array([{"style": "rule", "ground_truth": svg("red")}] * n, dtype=object),
        },
    )


def _run_in_own_loop(manager, data, n: int):
    """Like verl's reward-loop worker: the manager's coroutines on an event loop of their own thread (the test
    thread may already host one, e.g. Playwright's sync API of a renderer another test left open)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _run(manager, data, n)).result()


async def _run(manager, data, n: int):
    """run_single for every row concurrently, plus a heartbeat proving the event loop never blocks meanwhile."""
    beats, gaps = [], []

    async def heartbeat():
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            beats.append(now)
            last = now

    hb = asyncio.create_task(heartbeat())
    try:
        outs = await asyncio.gather(*(manager.run_single(data[i : i + 1]) for i in range(n)))
    finally:
        hb.cancel()
    return outs, gaps


def _manager(vinci: dict, tokenizer):
    from vinci_rl.train.reward_manager import VinciRewardManager

    config = OmegaConf.create({"vinci": vinci, "reward": {}})
    return VinciRewardManager(config, tokenizer)


def test_run_single_streams_samples_to_the_pool(ray_cluster, tokenizer):
    name = f"rm-pool-{uuid.uuid4().hex[:6]}"
    pool_block = {"name": name, "namespace": "vinci-rl-tests", "size": 1, "resource": "reward_cpu"}
    responses = [fenced("svg", svg(c)) for c in COLORS[:4]] + ["I cannot draw that.", fenced("svg", svg("red"))]
    n = len(responses)
    data = _batch(tokenizer, responses, with_image=[True] * (n - 1) + [False])
    try:
        manager = _manager({"pool": pool_block, "reward": TINY_REWARD}, tokenizer)  # creates the pool
        assert deployment.find_pool(PoolConfig.from_dict(pool_block)) is not None
        outs, gaps = _run_in_own_loop(manager, data, n)
        assert len(outs) == n
        terms = list(TINY_REWARD["weights"])
        for out in outs:
            info = out["reward_extra_info"]
            assert info["vinci/scored"] == 1.0 and info["vinci/reward"] == out["reward_score"]
            assert set(terms) <= set(info) and "reward_time_s" in info
            assert sum(v for k, v in info.items() if k.startswith("status/")) == 1.0
        assert [o["reward_extra_info"]["vinci/index"] for o in outs[:5]] == [0, 1, 2, 3, 4]
        first = outs[0]["reward_extra_info"]
        assert first["status/ok"] == 1.0 and outs[0]["reward_score"] > 0.9 and first["pixel_l2"] > 0.95
        assert all(o["reward_extra_info"]["status/ok"] == 1.0 for o in outs[:4])
        assert outs[0]["reward_score"] > outs[1]["reward_score"]  # red matches the red reference best
        assert outs[4]["reward_extra_info"]["status/no_code"] == 1.0 and outs[4]["reward_score"] == -1.0
        assert outs[5]["reward_extra_info"]["status/bad_sample"] == 1.0  # no image in the prompt
        # A blocking call would freeze the loop for a whole pool round trip (the first one includes the worker's
        # renderer start, > 1 s); scheduling noise on a loaded 2-core box stays well below that.
        assert max(gaps) < 1.0, f"the event loop was blocked for {max(gaps):.2f} s"

        # The trainer's per-step pool metrics (this job's bucket, reset after reading).
        from reward_workers.client import pool_step_metrics

        metrics = pool_step_metrics(OmegaConf.create({"vinci": {"pool": pool_block}}))
        assert metrics["reward_pool/samples"] == n - 1 and metrics["reward_pool/fail_rate/no_code"] == pytest.approx(0.2)
        assert pool_step_metrics(OmegaConf.create({"vinci": {"pool": pool_block}}))["reward_pool/samples"] == 0

        # Same rows scored in-process (vinci.pool.enabled: false): the same rewards.
        local = _manager({"pool": {"enabled": False}, "reward": TINY_REWARD}, tokenizer)
        local_outs, _ = _run_in_own_loop(local, data, n)
        assert [o["reward_score"] for o in local_outs] == pytest.approx([o["reward_score"] for o in outs], abs=1e-5)
    finally:
        deployment.stop_pool(PoolConfig.from_dict(pool_block))


def test_weight_ramp_reweighs_training_samples_and_leaves_failures(tokenizer):
    """With vinci.weight_ramp, a row carrying the step's weight (the trainer's column) is scored with the ramped
    term at that weight; a row without it (validation) keeps vinci.reward's weights; a failure stays -1."""
    from vinci_rl.reward.composite import composite
    from vinci_rl.schedule.weight_ramp import WEIGHT_KEY

    reward = {"weights": {"pixel_l2": 1.0, "length": 0.5, "format": 0.1}, "size": [96, 96]}
    vinci = {"pool": {"enabled": False}, "reward": reward, "weight_ramp": {"term": "length", "start": 0.0, "steps": 3}}
    responses = [fenced("svg", svg("red")), "I cannot draw that."]
    plain, ramped = _batch(tokenizer, responses), _batch(tokenizer, responses)
    short_gt = np.array([{"style": "rule", "ground_truth": svg("red")[:40]}] * 2, dtype=object)
    plain.non_tensor_batch["reward_model"] = ramped.non_tensor_batch["reward_model"] = short_gt  # answer too long
    ramped.non_tensor_batch[WEIGHT_KEY] = np.array([3.0, 3.0])
    manager = _manager(vinci, tokenizer)
    assert manager.ramp.end == 0.5  # the term's weight in vinci.reward
    (kept, failed), _ = _run_in_own_loop(manager, plain, 2)
    (moved, failed_ramped), _ = _run_in_own_loop(manager, ramped, 2)
    terms = {k: moved["reward_extra_info"][k] for k in reward["weights"]}
    assert terms["length"] < 0.7 < terms["pixel_l2"]  # the weights matter: the terms differ
    assert kept["reward_score"] == pytest.approx(composite(terms, reward["weights"], True), abs=1e-6)
    assert moved["reward_score"] == pytest.approx(composite(terms, {**reward["weights"], "length": 3.0}, True), abs=1e-6)
    assert moved["reward_score"] < kept["reward_score"]
    assert moved["reward_extra_info"]["vinci/reward"] == moved["reward_score"]
    assert failed["reward_score"] == failed_ramped["reward_score"] == -1.0
