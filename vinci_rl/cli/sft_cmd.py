"""vinci-rl sft RECIPE [hydra overrides ...]: stage-1 SFT with verl's own SFT trainer; writes RUN_DIR/model."""

from __future__ import annotations

import argparse
from pathlib import Path

from vinci_rl.cli import CliError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipe", help="SFT recipe YAML on verl's sft_trainer_engine (e.g. recipes/sft_tiny_cpu.yaml)")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. trainer.total_training_steps=50")
    parser.add_argument("--address", help="Ray cluster to run on (default: a new embedded local cluster)")
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "gpu"),
        default="auto",
        help="cpu: verl on CPU tensors (auto picks it on a local machine without a GPU)",
    )
    parser.add_argument("--run-dir", type=Path, help="where metrics.jsonl, checkpoints/ and model/ go")
    parser.add_argument("--check", action="store_true", help="compose and validate the recipe, then exit")
    parser.add_argument("--verbose", action="store_true", help="show verl's full output instead of one line per step")


def run(args: argparse.Namespace) -> int:
    from vinci_rl.cpu import activate_cpu_env, decide_device

    # The SFT driver is the trainer itself: a CPU run must be declared before verl is first imported, so that
    # verl resolves its platform (and our plugin registers the cpu one) in this process too.
    device = decide_device(args.device, args.address)
    if device == "cpu":
        activate_cpu_env()
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
    from vinci_rl.train import sft
    from vinci_rl.train.console import run_quietly

    run_dir = (args.run_dir or training.default_run_dir(cfg)).resolve()
    try:
        sft.prepare_sft(cfg, run_dir, device, args.address)
        print(f"vinci-rl sft: device={device} run_dir={run_dir}", flush=True)
        steps = cfg.trainer.total_training_steps
        model = run_quietly(lambda: sft.run_sft(cfg, run_dir), run_dir, steps, "sft", args.verbose)
    except RecipeError as e:
        raise CliError(str(e)) from e
    print(f"vinci-rl sft: done; model in {model}")
    return 0
