"""`vinci-rl bench learn`: the learning pipeline on several seeds, compared on the same held-out prompts.

Per seed: base -> SFT -> GRPO, plus the control "SFT continued for GRPO's wall time" (from the same SFT
checkpoint), all evaluated with the same code path. For each comparison (SFT - base, RL - SFT, SFT longer - SFT,
RL - SFT longer) it prints the mean difference of the held-out reward with a paired 95% confidence interval over
the held-out prompts (Student t), per seed and pooled over seeds, and the render-rate differences.

`--refine` (render and refine): the SFT data also holds refinement rows, GRPO runs the 2-turn vinci_refine_agent
loop (recipes/refine_learn_tiny_cpu.yaml) and every evaluation takes 2 turns, the render of turn 1 shown back to
the model. Stage "<s>@<t>" is stage s's answers after turn t and "<s>:gain" its per-prompt final - first turn
change; the comparisons ask whether turn 2 beats turn 1 for each stage, and whether GRPO's gain from the second
turn beats SFT's (a difference of differences, paired per prompt).
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import IO

import numpy as np

COMPARISONS = (("sft", "base"), ("rl", "sft"), ("sft_longer", "sft"), ("rl", "sft_longer"))
# What is compared: the reward, and the task's own correctness (share of grid cells right), which the reward
# does not see, so that a policy gaming the reward shows up as a gain in one and not the other.
METRICS = ("reward", "cell_accuracy")


def t_quantile(p: float, df: int) -> float:
    """Student t quantile by the Cornish-Fisher expansion around the normal one (Abramowitz & Stegun 26.7.5):
    within 1e-3 of the exact value from 5 degrees of freedom up (the pairs here number 64 or more)."""
    from statistics import NormalDist

    z = NormalDist().inv_cdf(p)
    g = (
        (z**3 + z) / 4,
        (5 * z**5 + 16 * z**3 + 3 * z) / 96,
        (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
        (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160,
    )
    return z + sum(gk / df ** (k + 1) for k, gk in enumerate(g))


def paired_ci(a: list[float], b: list[float], level: float = 0.95) -> dict[str, float]:
    """Mean of a - b with a Student-t confidence interval over the pairs."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = len(d)
    mean = float(d.mean())
    if n < 2:
        return {"n": n, "mean": mean, "low": math.nan, "high": math.nan}
    half = float(t_quantile(0.5 + level / 2, n - 1) * d.std(ddof=1) / math.sqrt(n))
    return {"n": n, "mean": mean, "low": mean - half, "high": mean + half}


REFINE_EXAMPLES = 2000  # refinement rows added to the 4000 task rows of the SFT stage
REFINE_STAGES = ("sft", "rl", "sft_longer")


def refine_variant(cfg):
    """The LearnConfig of `bench learn --refine`: refinement rows for SFT (and room for their two answers and
    two images), the render-and-refine GRPO recipe, every evaluation over as many turns as the recipe trains."""
    from vinci_rl.learn.pipeline import REPO_RECIPES
    from vinci_rl.refine.config import RefineConfig
    from vinci_rl.train.vinci_block import read_vinci_block

    recipe = REPO_RECIPES / "refine_learn_tiny_cpu.yaml"
    refine = RefineConfig.from_dict(read_vinci_block(str(recipe), "--refine").get("refine"), f"{recipe}: vinci.refine")
    return replace(
        cfg,
        refine_examples=REFINE_EXAMPLES,
        turns=refine.turns,
        grpo_recipe=recipe,
        sft_overrides=["data.max_length=352", *cfg.sft_overrides],
    )


def refine_comparisons(turns: int) -> tuple[tuple[str, str], ...]:
    """Turn K against turn 1 per stage; RL's gain from refining against SFT's; RL against SFT at turn 1 (at turn K,
    the final answers, that is COMPARISONS' "rl - sft")."""
    per_stage = tuple((f"{s}@{turns}", f"{s}@1") for s in REFINE_STAGES)
    gains = (("rl:gain", "sft:gain"), ("rl:gain", "sft_longer:gain"))
    return per_stage + gains + (("rl@1", "sft@1"),)


def expand_turns(stages: dict[str, dict]) -> dict[str, dict]:
    """The stages plus "<s>@<t>" (stage s after turn t) and "<s>:gain" (final - first turn, per prompt) for every
    stage evaluated over several turns."""
    out = dict(stages)
    for name, st in stages.items():
        turns = st.get("turns") or []
        for t, summary in enumerate(turns, 1):
            out[f"{name}@{t}"] = summary
        if len(turns) > 1:
            out[f"{name}:gain"] = _gain(turns[-1], turns[0])
    return out


def _gain(last: dict, first: dict) -> dict:
    """A pseudo-stage whose per-prompt values are last - first (reward and task scores) and whose render rate is
    the change of render rate: comparing two gains is a paired difference of differences."""
    before = {s["id"]: s for s in first["samples"]}
    samples = [
        {"id": s["id"], "reward": s["reward"] - before[s["id"]]["reward"],
         "task": {k: v - before[s["id"]]["task"][k] for k, v in s["task"].items()}}
        for s in last["samples"] if s["id"] in before
    ]  # fmt: skip
    return {
        "n": len(samples),
        "render_rate": last["render_rate"] - first["render_rate"],
        "reward": float(np.mean([s["reward"] for s in samples])),
        "terms": {},
        "task": {k: float(np.mean([s["task"][k] for s in samples])) for k in first["task"]},
        "samples": samples,
    }


def _per_prompt(stage: dict, metric: str) -> dict[str, float]:
    return {s["id"]: float(s[metric] if metric == "reward" else s["task"][metric]) for s in stage["samples"]}


def compare(stages: dict[str, dict], a: str, b: str, metric: str = "reward") -> tuple[list[float], list[float], dict]:
    """Paired held-out values of `metric` for stages a and b (same prompts), their CI and the render-rate change."""
    ra, rb = _per_prompt(stages[a], metric), _per_prompt(stages[b], metric)
    ids = sorted(set(ra) & set(rb))
    xa, xb = [ra[i] for i in ids], [rb[i] for i in ids]
    row = paired_ci(xa, xb)
    row["render_rate_diff"] = stages[a]["render_rate"] - stages[b]["render_rate"]
    return xa, xb, row


def summarise(per_seed: dict[int, dict[str, dict]], metrics: tuple[str, ...] = METRICS, comparisons=COMPARISONS) -> dict:
    """"<a> - <b>: <metric>" -> {"per_seed": {seed: row}, "pooled": row} for every comparison the seeds have."""
    out = {}
    for metric in metrics:
        for a, b in comparisons:
            if not all(a in st and b in st for st in per_seed.values()):
                continue
            rows, pool_a, pool_b = {}, [], []
            for seed, stages in per_seed.items():
                xa, xb, rows[seed] = compare(stages, a, b, metric)
                pool_a += xa
                pool_b += xb
            out[f"{a} - {b}: {metric}"] = {"per_seed": rows, "pooled": paired_ci(pool_a, pool_b)}
    return out


def format_summary(summary: dict, per_seed: dict[int, dict[str, dict]]) -> str:
    lines = ["held-out means per stage (reward; render rate; cells right; a gain: turn K - turn 1 of each):"]
    for seed, stages in per_seed.items():
        lines.append(f"  seed {seed}:")
        lines += [
            f"    {k:<16} {v['reward']:+.3f}; {v['render_rate']:+.2f}; {v['task']['cell_accuracy']:+.3f}" for k, v in stages.items()
        ]
    return "\n".join(lines) + "\n" + format_differences(summary)


def format_differences(summary: dict, pooled: bool = True) -> str:
    """One line per comparison and seed (mean difference, paired 95% CI, render-rate change), then the pooled one."""
    lines = ["differences (paired over held-out prompts, 95% CI):"]
    for name, block in summary.items():
        for seed, r in block["per_seed"].items():
            lines.append(
                f"  {name:<44} seed {seed}: {r['mean']:+.3f}  [{r['low']:+.3f}, {r['high']:+.3f}]"
                f"  render rate {r['render_rate_diff']:+.2f}"
            )
        p = block["pooled"]
        if pooled:
            lines.append(f"  {name:<44} pooled: {p['mean']:+.3f}  [{p['low']:+.3f}, {p['high']:+.3f}]  (n={p['n']})")
    return "\n".join(lines)


def finished_seed(cfg) -> tuple[dict, dict] | None:
    """(stages, stage wall times) of a seed that a run in cfg.run_dir finished with the same settings (recipes
    compared by file name), read from its learning.json; None when there is none (the seed runs)."""
    from vinci_rl.learn.pipeline import config_record

    path = Path(cfg.run_dir) / "learning.json"
    if not path.is_file():
        return None
    saved = json.loads(path.read_text())

    def settings(config: dict) -> dict:
        return {k: Path(v).name if k.endswith("_recipe") else v for k, v in config.items()}

    if settings(saved.get("config", {})) != settings(config_record(cfg)) or "sft_longer" not in saved.get("stages", {}):
        return None
    times = {k.removesuffix("_s"): v for k, v in saved.get("timings_s", {}).items() if k != "total_s"}
    return saved["stages"], times


def run_bench(base_cfg, seeds: list[int], out: IO[str]) -> dict:
    """The pipeline once per seed (in RUN_DIR/seed<k>; a seed finished before with the same settings is read back,
    not run again), then the summary; written to RUN_DIR/bench_learn.json. With base_cfg.turns > 1
    (refine_variant), the per-turn stages and the refine comparisons too."""
    from vinci_rl.learn.pipeline import run_pipeline

    multi_turn = base_cfg.turns > 1

    per_seed, timings = {}, {}
    for seed in seeds:
        cfg = replace(base_cfg, seed=seed, run_dir=Path(base_cfg.run_dir) / f"seed{seed}")
        done = finished_seed(cfg)
        if done is not None:
            out.write(f"[bench learn] seed {seed}: finished before with these settings, read from {cfg.run_dir / 'learning.json'}\n")
            stages, timings[seed] = done
        else:
            out.write(f"[bench learn] seed {seed} -> {cfg.run_dir}\n")
            result = run_pipeline(cfg, out, sft_longer=True)
            stages, timings[seed] = result.stages, {name: r.wall_s for name, r in result.runs.items()}
        per_seed[seed] = expand_turns(stages) if multi_turn else stages
    comparisons = COMPARISONS + (refine_comparisons(base_cfg.turns) if multi_turn else ())
    summary = summarise(per_seed, comparisons=comparisons)
    report = {
        "seeds": seeds,
        "stages": {
            s: {k: {m: v[m] for m in ("render_rate", "reward", "terms", "task")} for k, v in st.items()}
            for s, st in per_seed.items()
        },
        "comparisons": summary,
        "wall_s": timings,
    }
    Path(base_cfg.run_dir, "bench_learn.json").write_text(json.dumps(report, indent=2, default=str))
    out.write(format_summary(summary, per_seed) + "\n")
    return report
