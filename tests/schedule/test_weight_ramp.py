"""vinci.weight_ramp: a term's weight from `start` at step 1 to `end` at step `steps`, then constant; bad blocks
are errors naming the key; a failure value is never reweighted."""

from __future__ import annotations

import pytest

from vinci_rl.reward.composite import composite, reweighted
from vinci_rl.reward.scorer import RewardResult
from vinci_rl.schedule.weight_ramp import WeightRamp
from vinci_rl.train.vinci_schema import vinci_problems


def test_ramp_is_linear_then_constant():
    ramp = WeightRamp.from_dict({"term": "length", "start": 0.1, "end": 0.5, "steps": 5})
    assert [ramp.weight(s) for s in (1, 2, 3, 5, 9)] == pytest.approx([0.1, 0.2, 0.3, 0.5, 0.5])


def test_end_defaults_to_the_reward_weight_and_the_term_must_exist():
    ramp = WeightRamp.from_dict({"start": 0.0, "steps": 2}).resolved({"length": 0.4, "pixel_l2": 1.0})
    assert (ramp.end, ramp.weight(1), ramp.weight(2)) == (0.4, 0.0, 0.4)
    with pytest.raises(ValueError, match=r"vinci.weight_ramp.term: 'length' is not a term .*pixel_l2"):
        WeightRamp().resolved({"pixel_l2": 1.0})


@pytest.mark.parametrize(
    "block, message",
    [({"strat": 0.1}, r"unknown key\(s\) \['strat'\]"), ({"steps": 0}, r"steps: 0"), ({"start": -1}, "start=-1")],
)
def test_bad_blocks_name_the_key(block, message):
    problems = vinci_problems({"weight_ramp": block})
    assert len(problems) == 1 and problems[0].startswith("vinci.weight_ramp") and message.replace("\\", "") in (
        problems[0].replace("\\", "")
    ) or pytest.fail(problems)


def test_reweighting_changes_a_weighted_sum_and_never_a_failure_value():
    terms = {"pixel_l2": 1.0, "length": -1.0}
    ok = RewardResult(composite(terms, {"pixel_l2": 1.0, "length": 1.0}, True), terms, "ok", weighted=True)
    failed = RewardResult(-1.0, terms, "parse_error", weighted=False)
    assert ok.overall == 0.0
    assert reweighted(ok, {"pixel_l2": 1.0, "length": 3.0}, True) == pytest.approx(-0.5)
    assert reweighted(ok, {"pixel_l2": 1.0, "length": 3.0}, False) == pytest.approx(-2.0)
    assert reweighted(failed, {"pixel_l2": 1.0, "length": 0.0}, True) == -1.0
