"""`vinci-rl bench modes`: the same short CPU GRPO run (tiny_cpu) under vinci_sync and vinci_colocate_async, side by
side in one invocation: step time, exposed reward time, reward compute time, generated tokens per second, and the
async/sync ratios. Not a test; ~5 minutes on 2 cores.

    vinci-rl bench modes --steps 6 --json

Both runs get the same model, data, schedule and seeds; only `trainer.v1.trainer_mode` differs. Each is a
separate `vinci-rl train` process with its own embedded Ray cluster, run one after the other. Step 1 includes
start-up (vLLM warm-up, the reward pool's first renders) and is left out of every per-step number:
- step_s: mean `timing_s/step` (sampling + training + weight sync of one step);
- exposed_s / compute_s: mean `reward_pool/exposed_s` / `reward_pool/compute_s` (vinci_rl/train/reward_timing.py);
- tokens_per_s: response tokens of the samples trained on, over the summed step time;
- staleness: mean `training/off_policy/trajectory_staleness/mean` (weight versions behind; 0 in sync).
"""

from __future__ import annotations

from pathlib import Path

from vinci_rl.train.bench_run import train_for_bench

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "tiny_cpu.yaml"
MODES = ("vinci_sync", "vinci_colocate_async")
RATIO_KEYS = ("step_s", "exposed_s", "tokens_per_s")


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def summarize(metrics: list[dict], samples: list, wall_s: float) -> dict:
    """A run's numbers from its metrics.jsonl rows (data dicts, by step) and sample log, step 1 left out."""
    later = [m for m in metrics if m["training/global_step"] > 1]
    steps = {m["training/global_step"] for m in later}
    step_s = [m["timing_s/step"] for m in later]
    tokens = sum(s.response_tokens for s in samples if s.step in steps)
    return {
        "steps_measured": len(later),
        "step_s": _mean(step_s),
        "gen_s": _mean([m["timing_s/gen"] for m in later]),
        "exposed_s": _mean([m["reward_pool/exposed_s"] for m in later if "reward_pool/exposed_s" in m]),
        "compute_s": _mean([m["reward_pool/compute_s"] for m in later if "reward_pool/compute_s" in m]),
        "tokens_per_s": tokens / sum(step_s) if step_s else float("nan"),
        "staleness": _mean([m.get("training/off_policy/trajectory_staleness/mean", 0.0) for m in later]),
        "wall_s": wall_s,
    }


def _run(mode: str, root: Path, model: Path, data: Path, steps: int) -> dict:
    run = train_for_bench(RECIPE, mode, root, [
        f"trainer.v1.trainer_mode={mode}",
        f"data.train_files={data / 'train.parquet'}", f"data.val_files={data / 'val.parquet'}",
        f"actor_rollout_ref.model.path={model}", f"trainer.total_training_steps={steps}",
        "vinci.pictures.every_n_steps=0",
    ])  # fmt: skip
    return summarize(run.metrics, run.samples, run.wall_s)


def ratios(report: dict, base: str = "vinci_sync") -> dict[str, float]:
    """Each other mode's numbers over the base mode's, from the same invocation."""
    out = {}
    for mode in MODES:
        if mode != base:
            for key in RATIO_KEYS:
                out[f"{key}_{mode}_vs_{base}"] = round(report[mode][key] / report[base][key], 3)
    return out


def run_modes_bench(root: Path, steps: int = 6) -> dict:
    from vinci_rl.data.sample_set import build_sample_set
    from vinci_rl.models.tiny import make_tiny_model

    root.mkdir(parents=True, exist_ok=True)
    model = make_tiny_model(root / "model", "qwen2.5-vl")
    # async modes queue one batch ahead (verl's warm-up batch) and one per step: enough rows for all of them
    build_sample_set(root / "data", n_train=4 * (steps + 2), n_val=4, tokenizer_path=str(model))
    report: dict = {mode: _run(mode, root, model, root / "data", steps) for mode in MODES}
    report["ratios"] = ratios(report)
    report["steps"] = steps
    return report


def format_table(report: dict) -> str:
    sync, other = MODES
    rows = [f"{'(steps 2..N, means)':22}{'sync':>12}{'colocate_async':>16}{'ratio':>8}"]
    for key in ("step_s", "gen_s", "exposed_s", "compute_s", "tokens_per_s", "staleness", "wall_s"):
        a, b = report[sync][key], report[other][key]
        rows.append(f"{key:22}{a:12.3f}{b:16.3f}{b / a if a else float('nan'):8.2f}")
    return "\n".join(rows)
