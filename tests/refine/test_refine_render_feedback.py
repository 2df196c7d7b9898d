"""The render shown in a feedback turn comes from the scoring backend itself: the scorer keeps the render it compared,
the pool's wire dict carries it (PNG) only when asked, and a request asking for it is not served a plain result."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from reward_workers.client import to_reward_result
from reward_workers.results import result_dict
from reward_workers.routing import request_key
from vinci_rl.reward.config import RewardConfig
from vinci_rl.reward.scorer import VisualScorer
from vinci_rl.train.reward_manager import LocalScoringBackend
from vinci_rl.train.sample_fields import RewardInputs

CFG = {"weights": {"pixel_l2": 1.0, "format": 0.1}, "size": [64, 64]}
RED_SQUARE = '```svg\n<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="white"/><rect x="8" y="8" width="24" height="24" fill="red"/></svg>\n```'  # noqa: E501


def _reference() -> np.ndarray:
    ref = np.full((64, 64, 3), 255, np.uint8)
    ref[32:56, 32:56] = (0, 0, 255)
    return ref


def test_the_scorer_keeps_the_render_it_compared_and_to_dict_leaves_it_out():
    r = VisualScorer(RewardConfig.from_dict(CFG)).score(RED_SQUARE, "svg", _reference())
    assert r.ok and r.render is not None and r.render.shape == (64, 64, 3)
    assert tuple(r.render[16, 16]) == (255, 0, 0) and tuple(r.render[48, 48]) == (255, 255, 255)
    assert "render" not in r.to_dict()


def test_the_wire_dict_carries_the_render_only_when_asked():
    r = VisualScorer(RewardConfig.from_dict(CFG)).score(RED_SQUARE, "svg", _reference())
    assert "render_png" not in result_dict(r)
    back = to_reward_result(result_dict(r, with_render=True))
    assert np.array_equal(back.render, r.render) and back.overall == r.overall
    assert to_reward_result(result_dict(r)).render is None


def test_a_request_for_the_render_has_its_own_cache_key():
    cfg = RewardConfig.from_dict(CFG)
    plain = {"response": RED_SQUARE, "lang": "svg", "ref_key": "abc"}
    assert request_key(plain, cfg) == request_key(dict(plain), cfg)
    assert request_key({**plain, "return_render": True}, cfg) != request_key(plain, cfg)


def test_in_process_scoring_returns_the_render():
    backend = LocalScoringBackend(CFG)
    inputs = RewardInputs("svg", _reference(), None, "s0", 0, None)
    with ThreadPoolExecutor(1) as pool:  # a loop of its own: an earlier test may leave one running on this thread
        r = pool.submit(asyncio.run, backend.score(RED_SQUARE, inputs, return_render=True)).result()
    assert r.render is not None and tuple(r.render[16, 16]) == (255, 0, 0)
