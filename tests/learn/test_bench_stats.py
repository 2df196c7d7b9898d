"""The benchmark's statistics: Student t quantiles and paired confidence intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vinci_rl.learn.bench import (
    COMPARISONS,
    compare,
    expand_turns,
    format_differences,
    paired_ci,
    refine_comparisons,
    summarise,
    t_quantile,
)


@pytest.mark.parametrize("df, expected", [(5, 2.5706), (10, 2.2281), (30, 2.0423), (63, 1.9983), (191, 1.9725)])
def test_t_quantile_matches_the_tables(df, expected):
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=1e-3)


def test_paired_ci_on_known_differences():
    a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    b = [0.0, 1.5, 2.0, 4.0, 3.5, 5.0]  # differences 1, .5, 1, 0, 1.5, 1: mean .8333, sd .5164
    ci = paired_ci(a, b)
    half = 2.5706 * 0.516398 / math.sqrt(6)
    assert ci["mean"] == pytest.approx(0.833333, abs=1e-5)
    assert ci["low"] == pytest.approx(0.833333 - half, abs=2e-3) and ci["high"] == pytest.approx(0.833333 + half, abs=2e-3)
    assert math.isnan(paired_ci([1.0], [0.0])["low"])


def _stage(rewards: dict[str, float], render: float) -> dict:
    return {"render_rate": render, "reward": float(np.mean(list(rewards.values()))), "terms": {}, "task": {},
            "samples": [{"id": k, "reward": v, "task": {"cell_accuracy": 0.5}} for k, v in rewards.items()]}  # fmt: skip


def test_comparisons_pair_by_prompt_and_pool_over_seeds():
    rng = np.random.default_rng(0)
    per_seed = {}
    for seed in (0, 1):
        sft = {f"p{i}": float(rng.normal(-0.2, 0.3)) for i in range(64)}
        per_seed[seed] = {
            "base": _stage({k: -1.0 for k in sft}, 0.0),
            "sft": _stage(sft, 1.0),
            # listed in another order: pairing is by prompt id
            "rl": _stage({k: sft[k] + 0.1 for k in reversed(list(sft))}, 1.0),
        }
    summary = summarise(per_seed)
    # no sft_longer stage: its comparisons are left out
    assert set(summary) == {f"{c}: {m}" for c in ("sft - base", "rl - sft") for m in ("reward", "cell_accuracy")}
    assert summary["rl - sft: cell_accuracy"]["pooled"]["mean"] == 0.0
    rl = summary["rl - sft: reward"]
    assert rl["pooled"]["n"] == 128
    assert rl["pooled"]["mean"] == pytest.approx(0.1) and rl["pooled"]["high"] - rl["pooled"]["low"] < 1e-9
    assert summary["sft - base: reward"]["per_seed"][0]["render_rate_diff"] == 1.0
    _, _, row = compare(per_seed[0], "sft", "base")
    assert row["low"] > 0


def test_the_demo_prints_one_line_per_comparison_without_a_pooled_row():
    rewards = {f"p{i}": -0.2 + 0.01 * i for i in range(8)}
    stages = {"base": _stage({k: -1.0 for k in rewards}, 0.0), "sft": _stage(rewards, 1.0),
              "rl": _stage({k: v + 0.1 for k, v in rewards.items()}, 1.0)}  # fmt: skip
    text = format_differences(summarise({3: stages}), pooled=False)
    assert "  rl - sft: reward                             seed 3: +0.100  [+0.100, +0.100]  render rate +0.00" in text.splitlines()
    assert "pooled" not in text and len(text.splitlines()) == 1 + 4


def _turns_stage(first: dict[str, float], last: dict[str, float], cells: tuple[float, float] = (0.5, 0.5)) -> dict:
    turns = [_stage(first, 1.0), _stage(last, 1.0)]
    for turn, c in zip(turns, cells):
        for sample in turn["samples"]:
            sample["task"] = {"cell_accuracy": c}
        turn["task"] = {"cell_accuracy": c}
    return {**turns[-1], "turns": turns}


def test_the_refine_variant_compares_turn_2_with_turn_1_and_the_gains_across_stages():
    rng = np.random.default_rng(1)
    ids = [f"p{i}" for i in range(64)]
    first = {k: float(rng.normal(-0.2, 0.3)) for k in ids}
    noise = {k: float(rng.normal(0, 0.05)) for k in ids}
    stages = {
        "base": _turns_stage({k: -1.0 for k in ids}, {k: -1.0 for k in ids}),
        # SFT: turn 2 worse by 0.05 on every prompt; RL: turn 2 better by 0.1 + noise (mean ~0.1)
        "sft": _turns_stage(first, {k: v - 0.05 for k, v in first.items()}, cells=(0.6, 0.5)),
        "rl": _turns_stage(first, {k: v + 0.1 + noise[k] for k, v in first.items()}, cells=(0.6, 0.7)),
    }
    expanded = expand_turns(stages)
    assert {"sft@1", "sft@2", "rl@1", "rl@2", "sft:gain", "rl:gain", "base:gain"} <= set(expanded)
    summary = summarise({0: expanded}, comparisons=COMPARISONS + refine_comparisons(2))
    assert summary["sft@2 - sft@1: reward"]["pooled"]["mean"] == pytest.approx(-0.05)
    rl = summary["rl@2 - rl@1: reward"]["pooled"]
    assert rl["low"] > 0 and rl["mean"] == pytest.approx(0.1 + np.mean(list(noise.values())))
    # the difference of differences: RL's per-prompt gain against SFT's
    did = summary["rl:gain - sft:gain: reward"]["pooled"]
    assert did["mean"] == pytest.approx(rl["mean"] + 0.05) and did["n"] == 64
    assert summary["rl:gain - sft:gain: cell_accuracy"]["pooled"]["mean"] == pytest.approx(0.1 - (-0.1))
    assert summary["rl@1 - sft@1: reward"]["pooled"]["mean"] == 0.0
    # no sft_longer stage: its comparisons are left out, the rest stay
    assert not any("sft_longer" in k for k in summary) and "rl - sft: reward" in summary
