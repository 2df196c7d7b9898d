"""The length term compares the answer with the ground truth in the same unit: the prepared token count is
used only when the reward counts tokens; with the default (characters) the ground truth is measured like the
answer. (Passing a token count as a character length made every rollout's length term -1.)"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from vinci_rl.train.reward_manager import LocalScoringBackend
from vinci_rl.train.sample_fields import RewardInputs

PROGRAM = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect x="1" y="1" width="4" height="3" fill="#d62728"/></svg>'


def _inputs(reference: np.ndarray) -> RewardInputs:
    return RewardInputs("svg", reference, PROGRAM, "row0", 0, gt_tokens=12)


def test_gt_length_is_given_only_in_the_reward_unit():
    inputs = _inputs(np.zeros((8, 8, 3), np.uint8))
    assert inputs.gt_length("tokens") == 12
    assert inputs.gt_length("chars") is None


def test_the_exact_program_gets_the_equal_length_score_not_the_floor():
    from vinci_rl.render import Renderer

    with Renderer() as r:
        reference = r.render("svg", PROGRAM, size=(64, 64)).image
    backend = LocalScoringBackend({"preset": "default"})
    coro = backend.score(f"```svg\n{PROGRAM}\n```", _inputs(reference))
    with ThreadPoolExecutor(1) as pool:  # a loop of its own: an earlier test may leave one running on this thread
        result = pool.submit(asyncio.run, coro).result()
    assert result.status == "ok"
    assert result.terms["length"] == 0.75  # RLRF: an answer as long as the ground truth scores 0.75
