"""vinci-rl demo: the whole CPU demo in one command.

Builds a tiny random-weight Qwen2.5-VL, renders the bundled sample set, runs GRPO steps of the `tiny_cpu`
recipe with the visual reward on an embedded local Ray cluster, and writes the run folder: metrics.jsonl,
samples.jsonl, reward_curves.png and gallery.html.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from vinci_rl.cli import CliError

REPO_RECIPES = Path(__file__).resolve().parents[2] / "recipes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-dir", type=Path, help="run folder (default runs/demo-<time>)")
    parser.add_argument("--steps", type=int, default=20, help="GRPO steps (default 20)")
    parser.add_argument("--recipe", type=Path, default=REPO_RECIPES / "tiny_cpu.yaml")
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides for the recipe")


def run(args: argparse.Namespace) -> int:
    from vinci_rl.data.sample_set import build_sample_set
    from vinci_rl.models.tiny import make_tiny_model
    from vinci_rl.report.run_report import write_run_report
    from vinci_rl.train import run as training
    from vinci_rl.train.recipe import RecipeError, check_recipe, compose_recipe

    if args.steps < 1:
        raise CliError(f"--steps must be >= 1, got {args.steps}")
    run_dir = (args.run_dir or Path("runs") / f"demo-{time.strftime('%Y%m%d-%H%M%S')}").resolve()
    t0 = time.time()
    print(f"[demo] 1/4 tiny VLM -> {run_dir / 'model'}", flush=True)
    model = make_tiny_model(run_dir / "model", "qwen2.5-vl")
    print(f"[demo] 2/4 sample set -> {run_dir / 'data'}", flush=True)
    summary = build_sample_set(run_dir / "data", tokenizer_path=str(model))
    if summary.failed:
        raise CliError(f"sample programs failed to render: {summary.failed}")
    overrides = [
        f"data.train_files={run_dir / 'data' / 'train.parquet'}",
        f"data.val_files={run_dir / 'data' / 'val.parquet'}",
        f"actor_rollout_ref.model.path={model}",
        f"trainer.total_training_steps={args.steps}",
        *args.overrides,
    ]
    try:
        cfg = compose_recipe(args.recipe, overrides)
        check_recipe(cfg, str(args.recipe))
        device = training.decide_device("auto", None)
        training.prepare(cfg, run_dir, device, None)
    except RecipeError as e:
        raise CliError(str(e)) from e
    print(f"[demo] 3/4 GRPO: {args.steps} steps on {device} (first step includes vLLM and renderer start-up)", flush=True)
    training.train(cfg)
    print("[demo] 4/4 report", flush=True)
    paths = write_run_report(run_dir)
    print(f"[demo] done in {time.time() - t0:.0f} s. Run folder: {run_dir}")
    print(f"  metrics:       {run_dir / 'metrics.jsonl'}")
    print(f"  reward curves: {paths['reward_curves']}")
    print(f"  gallery:       {paths['gallery']}")
    return 0
