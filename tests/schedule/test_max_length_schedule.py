"""The max-length schedule's policies, table-driven, and its config errors."""

from __future__ import annotations

import pickle

import pytest

from vinci_rl.schedule.max_length import MaxLengthSchedule, truncation_rate

CAP = 256


@pytest.mark.parametrize(
    "cfg, step, gt, expected",
    [
        ({"policy": "batch_max_gt", "factor": 1.0, "margin": 16}, 1, [40, 100, 70], 116),
        ({"policy": "batch_max_gt", "factor": 1.5, "margin": 0}, 1, [40, 100, 70], 150),
        ({"policy": "batch_max_gt", "factor": 1.0, "margin": 16}, 1, [400], CAP),  # clamped to the cap
        ({"policy": "batch_max_gt", "factor": 1.0, "margin": 0, "min_tokens": 32}, 1, [3, 5], 32),  # floor
        ({"policy": "batch_max_gt"}, 1, [-1, -1], CAP),  # no known lengths: the cap
        ({"policy": "batch_max_gt", "margin": 0}, 1, [-1, 20], 20),  # unknown rows are ignored
        ({"policy": "linear", "start_tokens": 64, "end_tokens": 192, "ramp_steps": 5}, 1, [], 64),
        ({"policy": "linear", "start_tokens": 64, "end_tokens": 192, "ramp_steps": 5}, 3, [], 128),
        ({"policy": "linear", "start_tokens": 64, "end_tokens": 192, "ramp_steps": 5}, 5, [], 192),
        ({"policy": "linear", "start_tokens": 64, "end_tokens": 192, "ramp_steps": 5}, 50, [], 192),
        ({"policy": "linear", "start_tokens": 64, "ramp_steps": 3}, 3, [], CAP),  # end defaults to the cap
        ({"policy": "fixed"}, 7, [10], CAP),
        ({"policy": "fixed", "fixed_tokens": 100}, 7, [10], 100),
        ({"policy": "fixed", "fixed_tokens": 1000}, 7, [10], CAP),
    ],
)
def test_budget(cfg, step, gt, expected):
    assert MaxLengthSchedule.from_dict(cfg).budget(step, gt, cap=CAP) == expected


@pytest.mark.parametrize(
    "cfg, message",
    [
        ({"policy": "exponential"}, "policy: 'exponential' is not one of"),
        ({"polciy": "fixed"}, "unknown key(s) ['polciy']"),
        ({"min_tokens": 0}, "min_tokens >= 1"),
        ({"factor": 0}, "factor > 0"),
    ],
)
def test_bad_config_names_the_key(cfg, message):
    with pytest.raises(ValueError) as e:
        MaxLengthSchedule.from_dict(cfg)
    assert message in str(e.value) and "vinci.schedule" in str(e.value)


def test_truncation_rate_and_pickling():
    assert truncation_rate([10, 32, 32, 5], 32) == 0.5
    assert truncation_rate([], 32) == 0.0
    sched = MaxLengthSchedule.from_dict({"policy": "linear"})
    assert pickle.loads(pickle.dumps(sched)) == sched
