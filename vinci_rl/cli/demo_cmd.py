"""vinci-rl demo: does training make the model better? The two-stage method end to end on a CPU, one seed.

Builds the tiny `learner` VLM and the `shapes` task (image -> SVG of 1-3 primitives; a fixed held-out split),
then: evaluate the base model -> SFT (verl's SFT trainer) -> evaluate -> GRPO from the SFT checkpoint (verl's
trainer, vLLM rollout, the reward pool) -> evaluate. Every evaluation uses the same 256 held-out prompts, the
same `vinci-rl eval` code path and the same reward preset. Writes learning.json, reward_curves.png and
gallery.html (reference | base | SFT | RL) into the run folder and prints the stage table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from vinci_rl.cli import CliError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from vinci_rl.learn.pipeline import LearnConfig

    d = LearnConfig(run_dir=Path("."))
    parser.description = __doc__.split("\n\n")[0]
    parser.add_argument("--run-dir", type=Path, help="run folder (default runs/demo-<time>)")
    parser.add_argument("--seed", type=int, default=d.seed, help=f"data, model and training seed (default {d.seed})")
    parser.add_argument("--sft-steps", type=int, default=d.sft_steps, help=f"SFT steps (default {d.sft_steps})")
    parser.add_argument("--grpo-steps", "--steps", type=int, default=d.grpo_steps, help=f"GRPO steps (default {d.grpo_steps})")
    parser.add_argument("--train-rows", type=int, default=d.n_train, help=f"training scenes (default {d.n_train})")
    parser.add_argument("--kind", default=d.kind, help=f"tiny model family (default {d.kind})")
    parser.add_argument("--grpo-override", action="append", default=[], metavar="KEY=VALUE", help="Hydra override for the GRPO recipe (repeatable)")
    parser.add_argument("--sft-override", action="append", default=[], metavar="KEY=VALUE", help="Hydra override for the SFT recipe (repeatable)")
    parser.add_argument("--verbose", action="store_true", help="show the trainers' full output")


def run(args: argparse.Namespace) -> int:
    from vinci_rl.learn.pipeline import LearnConfig, StageError, run_pipeline
    from vinci_rl.learn.bench import format_differences, summarise
    from vinci_rl.learn.report import stage_table

    for name in ("seed", "sft_steps", "grpo_steps", "train_rows"):
        if getattr(args, name) < (0 if name == "seed" else 1):
            raise CliError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    run_dir = (args.run_dir or Path("runs") / f"demo-{time.strftime('%Y%m%d-%H%M%S')}").resolve()
    cfg = LearnConfig(
        run_dir=run_dir, seed=args.seed, n_train=args.train_rows, kind=args.kind, sft_steps=args.sft_steps,
        grpo_steps=args.grpo_steps, sft_overrides=args.sft_override, grpo_overrides=args.grpo_override,
        verbose=args.verbose,
    )  # fmt: skip
    t0 = time.time()
    print(f"[demo] run folder {run_dir}", flush=True)
    try:
        result = run_pipeline(cfg, sys.stdout)
    except StageError as e:
        raise CliError(str(e)) from e
    print(f"\n[demo] held-out results ({result.stages['base']['n']} prompts, reward preset {cfg.reward}):")
    print(stage_table(result.stages))
    print("\n[demo] " + format_differences(summarise({cfg.seed: result.stages}), pooled=False))
    print(f"\n[demo] done in {time.time() - t0:.0f} s")
    for name, path in result.outputs.items():
        print(f"  {name + ':':<15}{path}")
    return 0
