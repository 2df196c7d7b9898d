"""Render-and-refine's pure rules: the config's checks, when a trajectory stops, the trajectory reward options, the
final turn's span and the per-turn numbers the reward manager adds."""

from __future__ import annotations

import math

import pytest

from vinci_rl.refine.config import RefineConfig
from vinci_rl.refine.reward import final_span, refine_outcome, refine_record
from vinci_rl.refine.rules import (
    LENGTH, MAX_TURNS, REPEAT, SCORE, STOP_REASONS, feedback_text, stop_after_scoring, stop_before_scoring,
    trajectory_reward,
)  # fmt: skip

TERMS = ["pixel_l2", "format"]


@pytest.mark.parametrize(
    "section, message",
    [
        ({"turns": 0}, "turns: 0 must be an integer >= 1"),
        ({"turns": 2.5}, "turns"),
        ({"reward": "best"}, "reward: 'best' is not one of"),
        ({"budget": "step"}, "budget: 'step' is not one of"),
        ({"discount": 1.5}, "discount: 1.5 must be in"),
        ({"improvement_weight": -1}, "improvement_weight"),
        ({"stop_score": "high"}, "stop_score"),
        ({"show_scores": "yes"}, "show_scores"),
        ({"turn": 2}, r"unknown key\(s\) \['turn'\]"),
    ],
)
def test_bad_config_is_named(section, message):
    with pytest.raises(ValueError, match=message):
        RefineConfig.from_dict(section)


def test_defaults_are_two_turns_final_reward():
    cfg = RefineConfig.from_dict(None)
    assert (cfg.turns, cfg.reward, cfg.stop_score, cfg.budget) == (2, "final", None, "turn")


@pytest.mark.parametrize(
    "turn, code, earlier, room, expected",
    [
        (1, "<svg/>", [], 100, None),  # first answer, room left: score it and show the render
        (2, "<svg  />\n", ["<svg />"], 100, REPEAT),  # same code up to whitespace
        (2, "<svg/>", [None], 100, None),  # an earlier turn without code is no repeat
        (1, None, [None], 100, None),  # no code twice is no repeat either
        (3, "<a/>", ["<b/>", "<c/>"], 100, MAX_TURNS),
        (3, "<b/>", ["<b/>", "<c/>"], 100, REPEAT),  # a repeat on the last turn says so
        (1, "<a/>", [], 0, LENGTH),
    ],
)
def test_stop_before_scoring(turn, code, earlier, room, expected):
    assert stop_before_scoring(turn, RefineConfig(turns=3), code, earlier, room) == expected


def test_stop_after_scoring_only_with_a_threshold():
    assert stop_after_scoring(0.99, RefineConfig()) is None
    cfg = RefineConfig(stop_score=0.8)
    assert stop_after_scoring(0.8, cfg) == SCORE
    assert stop_after_scoring(0.79, cfg) is None


@pytest.mark.parametrize(
    "cfg, rewards, expected",
    [
        (RefineConfig(), [0.2, 0.5], 0.5),
        (RefineConfig(), [0.7], 0.7),
        (RefineConfig(reward="improvement"), [0.2, 0.5], 0.8),  # 0.5 + (0.5 - 0.2)
        (RefineConfig(reward="improvement", improvement_weight=0.5), [0.6, 0.4], 0.3),  # worse: bonus negative
        (RefineConfig(reward="improvement"), [0.6], 0.6),  # one turn: no bonus
        (RefineConfig(reward="discounted", discount=0.5), [0.2, 0.8], (0.5 * 0.2 + 0.8) / 1.5),
        (RefineConfig(reward="discounted", discount=0.5), [0.0, 0.4, 1.0], (0.25 * 0 + 0.5 * 0.4 + 1.0) / 1.75),
        (RefineConfig(reward="discounted", discount=0.0), [0.9, 0.1], 0.1),  # g = 0: final only
        (RefineConfig(reward="discounted", discount=1.0), [-1.0, 0.5], -0.25),  # g = 1: the mean
    ],
)
def test_trajectory_reward(cfg, rewards, expected):
    assert trajectory_reward(cfg, rewards) == pytest.approx(expected)


def test_trajectory_reward_needs_a_turn():
    with pytest.raises(ValueError, match="at least one turn"):
        trajectory_reward(RefineConfig(), [])


def test_feedback_text_shows_scores_only_when_asked_and_always_a_failure():
    plain = feedback_text(RefineConfig(), "ok", 0.5, {"pixel_l2": 0.25})
    assert plain == RefineConfig().feedback
    scored = feedback_text(RefineConfig(show_scores=True), "ok", 0.5, {"pixel_l2": 0.25})
    assert "Score 0.50 (pixel_l2 0.25)" in scored
    failed = feedback_text(RefineConfig(), "parse_error", -1.0, {}, "unclosed tag")
    assert "did not render cleanly (parse_error: unclosed tag)" in failed


def test_final_span_clips_to_the_valid_tokens():
    assert final_span(None, 30) == (0, 30)
    assert final_span({"final_span": [40, 60]}, 50) == (40, 50)
    assert final_span({"final_span": [40, 60]}, 30) == (30, 30)


def test_refine_record_is_read_from_tool_extra_fields_or_a_column():
    import numpy as np

    record = {"final_span": [3, 9], "turns": 2}
    column = np.empty(1, dtype=object)
    column[0] = {"vinci_refine": record}
    assert refine_record({"tool_extra_fields": column}) == record
    assert refine_record({"vinci_refine": record}) == record
    assert refine_record({"extra_info": {}}) is None


def _out(reward: float, pixel: float) -> dict:
    return {"reward_score": reward, "reward_extra_info": {"pixel_l2": pixel, "format": 0.0, "vinci/reward": reward}}


def test_refine_outcome_improvement_and_per_turn_numbers():
    record = {"final_span": [0, 5], "turns": 2, "stop": MAX_TURNS,
              "scored": [{"overall": 0.2, "terms": {"pixel_l2": 0.1, "format": 1.0}, "status": "ok"}]}  # fmt: skip
    cfg = RefineConfig(reward="improvement")
    res = refine_outcome(cfg, record, _out(0.5, 0.4), TERMS, "vinci/reward")
    info = res["reward_extra_info"]
    assert res["reward_score"] == pytest.approx(0.8) == info["vinci/reward"]
    assert info["turn1/overall"] == 0.2 and info["turn1/pixel_l2"] == 0.1
    assert info["final/overall"] == 0.5 and info["final/pixel_l2"] == 0.4
    assert info["refine/improved"] == 1.0 and info["refine/improvement"] == pytest.approx(0.3)
    assert info["refine/turns"] == 2.0 and info["refine/stop/max_turns"] == 1.0
    assert sum(info[f"refine/stop/{r}"] for r in STOP_REASONS) == 1.0


def test_refine_outcome_keys_are_the_same_for_one_turn_and_rows_without_a_record():
    stopped = {"final_span": [0, 5], "turns": 1, "stop": SCORE,
               "scored": [{"overall": 0.95, "terms": {"pixel_l2": 0.9}, "status": "ok"}]}  # fmt: skip
    a = refine_outcome(RefineConfig(reward="improvement"), stopped, _out(0.95, 0.9), TERMS, "vinci/reward")
    b = refine_outcome(RefineConfig(), None, _out(-1.0, math.nan), TERMS, "vinci/reward")
    assert set(a["reward_extra_info"]) == set(b["reward_extra_info"])
    assert a["reward_score"] == 0.95  # one turn: first == final, no bonus
    assert a["reward_extra_info"]["refine/stop/score"] == 1.0 and a["reward_extra_info"]["refine/improved"] == 0.0
    assert b["reward_extra_info"]["refine/turns"] == 1.0
