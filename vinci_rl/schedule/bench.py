"""`vinci-rl bench schedule`: the same short CPU GRPO run (tiny_cpu) with the dynamic max-length schedule and
with a fixed cap, side by side: tokens generated and rollout time. Not a test; a few minutes on 2 cores.

Both runs get the same cap (`data.max_response_length`, default 128 here); the scheduled run's budget per step
is the batch's longest ground truth x factor + margin (the recipe's `vinci.schedule`), the fixed run's is the
cap. Each run is a separate `vinci-rl train` process with its own embedded Ray cluster.
"""

from __future__ import annotations

from pathlib import Path

from vinci_rl.train.bench_run import train_for_bench

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "tiny_cpu.yaml"
MODES = {"schedule": [], "fixed": ["vinci.schedule.policy=fixed"]}


def _run(mode: str, root: Path, model: Path, data: Path, steps: int, cap: int) -> dict:
    run = train_for_bench(RECIPE, mode, root, [
        f"data.train_files={data / 'train.parquet'}", f"data.val_files={data / 'val.parquet'}",
        f"actor_rollout_ref.model.path={model}", f"trainer.total_training_steps={steps}",
        f"data.max_response_length={cap}", "vinci.pictures.every_n_steps=0", *MODES[mode],
    ])  # fmt: skip
    metrics = run.metrics
    return {
        "generated_tokens": sum(s.response_tokens for s in run.samples),
        "rollout_s": sum(m["timing_s/gen"] for m in metrics),
        "rollout_s_after_step_1": sum(m["timing_s/gen"] for m in metrics[1:]),
        "step_s_after_step_1": sum(m["timing_s/step"] for m in metrics[1:]),
        "max_tokens_per_step": [m.get("schedule/max_tokens") for m in metrics],
        "truncation_rate": sum(m.get("schedule/truncation_rate", 0.0) for m in metrics) / len(metrics),
        "wall_s": run.wall_s,
    }


def run_schedule_bench(root: Path, steps: int = 5, cap: int = 128) -> dict:
    from vinci_rl.data.sample_set import build_sample_set
    from vinci_rl.models.tiny import make_tiny_model

    root.mkdir(parents=True, exist_ok=True)
    model = make_tiny_model(root / "model", "qwen2.5-vl")
    build_sample_set(root / "data", n_train=4 * steps, n_val=4, tokenizer_path=str(model))
    report = {mode: _run(mode, root, model, root / "data", steps, cap) for mode in MODES}
    s, f = report["schedule"], report["fixed"]
    report["tokens_ratio_schedule_vs_fixed"] = round(s["generated_tokens"] / max(1, f["generated_tokens"]), 3)
    report["rollout_time_ratio_schedule_vs_fixed"] = round(s["rollout_s_after_step_1"] / f["rollout_s_after_step_1"], 3)
    report["steps"], report["cap"] = steps, cap
    return report


def format_table(report: dict) -> str:
    rows = [f"{'':28}{'schedule':>12}{'fixed cap':>12}{'ratio':>8}"]
    for key in ("generated_tokens", "rollout_s", "rollout_s_after_step_1", "step_s_after_step_1"):
        s, f = report["schedule"][key], report["fixed"][key]
        rows.append(f"{key:28}{s:12.1f}{f:12.1f}{s / f if f else float('nan'):8.2f}")
    rows.append(f"{'max_tokens per step':28}{str(report['schedule']['max_tokens_per_step']):>24}")
    return "\n".join(rows)
