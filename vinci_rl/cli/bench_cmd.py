"""`vinci-rl bench reward|schedule|learn|modes`: benchmarks that print side-by-side ratios. Not tests.

`bench reward` compares reward scoring paths side by side (samples/s per language).
`bench schedule` runs the tiny CPU GRPO loop with the max-length schedule and with a fixed cap (tokens, time);
see vinci_rl/schedule/bench.py.
`bench modes` runs the tiny CPU GRPO loop under vinci_sync and vinci_colocate_async (step time, exposed reward time,
tokens/s, ratios); see vinci_rl/train/bench_modes.py.
`bench learn` runs base -> SFT -> GRPO (and SFT trained longer for GRPO's wall time) per seed and prints held-out
reward differences with paired 95% confidence intervals; see vinci_rl/learn/bench.py (~15 min per seed on 2 cores).
`bench learn --refine` is its render-and-refine variant: SFT with refinement rows, 2-turn GRPO, 2-turn evaluations;
it reports per stage whether turn 2 beats turn 1 (default run folder runs/bench-learn-refine).

    vinci-rl bench reward                      # quick default (16 samples per language), a minute or two on 2 cores
    vinci-rl bench reward --samples 64 --json  # last stdout line: one JSON object

Prints samples/s of: a reference-style scorer (fresh process pool per batch, a new browser per HTML render, a new
Python process per chart, no caching), verl's naive path (compute_score called sequentially, one warm scorer), and
the reward pool with 1 and 2 workers; and the ratios pool/reference, pool/naive, 2 workers/1 worker. With --json
the last line is {"languages": {LANG: {"reference_style", "naive", "pool_1", "pool_2", "speedup_vs_reference",
"speedup_vs_naive", "scaling_2_vs_1"}}, "svg_overhead_vs_raw": x, ...}. See reward_workers/bench/run.py.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from vinci_rl.cli import CliError

BENCHES = ("reward", "schedule", "learn", "soak", "modes")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from reward_workers.bench.corpus import LANGUAGES

    parser.add_argument(
        "bench", choices=BENCHES, help="reward: reward scoring paths; schedule: max-length schedule; learn: SFT and GRPO gains"
    )
    parser.add_argument("--samples", type=int, default=16, help="samples per language (default 16: a minute or two)")
    parser.add_argument("--languages", default=",".join(LANGUAGES), help=f"comma-separated subset of {','.join(LANGUAGES)}")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed")
    parser.add_argument("--json", action="store_true", help="print the table, then the result as one JSON object on the last line")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--steps", type=int, default=5, help="schedule / modes: GRPO steps per run (default 5)")
    parser.add_argument("--run-dir", type=Path, help="schedule / learn: where runs go (default runs/bench-<name>)")
    parser.add_argument("--soak-samples", type=int, default=10_000, help="soak: samples in all (default 10000)")
    parser.add_argument(
        "--seeds", type=int, default=3,
        help="learn: seeds 0..N-1 (default 3); a seed already finished in --run-dir with the same settings is read back",
    )  # fmt: skip
    parser.add_argument("--sft-steps", type=int, help="learn: SFT steps (default: the demo's)")
    parser.add_argument("--grpo-steps", type=int, help="learn: GRPO steps (default: the demo's)")
    parser.add_argument(
        "--refine", action="store_true",
        help="learn: the render-and-refine variant (refinement rows in SFT, 2-turn GRPO and evaluations: does turn 2 beat turn 1?)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    if args.refine and args.bench != "learn":
        raise CliError(f"--refine is a variant of `bench learn`, not of `bench {args.bench}`")
    default_dir = f"runs/bench-{args.bench}" + ("-refine" if args.refine else "")
    args.run_dir = (args.run_dir or Path(default_dir)).resolve()
    if args.bench in ("schedule", "modes"):
        return _run_training_bench(args)
    if args.bench == "soak":  # reward_workers/bench/soak.py: >= 10,000 mixed samples through the pool, RSS over time
        from reward_workers.bench.soak import format_report, run_soak

        report = run_soak(args.soak_samples, workers=2, seed=args.seed, quiet=args.quiet)
        print(format_report(report), flush=True)
        if args.json:
            print(json.dumps(report), flush=True)
        return 0 if report["lost"] == 0 else 1
    if args.bench == "learn":
        return _run_learn(args)
    from reward_workers.bench.corpus import LANGUAGES
    from reward_workers.bench.run import format_table, run_reward_bench

    languages = tuple(x.strip() for x in args.languages.split(",") if x.strip())
    unknown = [x for x in languages if x not in LANGUAGES]
    if unknown or not languages:
        raise CliError(f"--languages: unknown {unknown or 'empty'}; known: {', '.join(LANGUAGES)}")
    if args.samples < 1:
        raise CliError("--samples must be >= 1")
    report = run_reward_bench(args.samples, languages, quiet=args.quiet, seed=args.seed)
    print(format_table(report), flush=True)
    if args.json:
        print(json.dumps(report), flush=True)
    return 0


def _run_training_bench(args: argparse.Namespace) -> int:
    """schedule / modes: short tiny CPU GRPO runs side by side (step 1 includes start-up: reported apart)."""
    if args.bench == "schedule":
        from vinci_rl.schedule.bench import format_table
        from vinci_rl.schedule.bench import run_schedule_bench as run_bench

        min_steps = 2
    else:
        from vinci_rl.train.bench_modes import format_table
        from vinci_rl.train.bench_modes import run_modes_bench as run_bench

        min_steps = 3
    if args.steps < min_steps:
        raise CliError(f"--steps must be >= {min_steps} (step 1 includes start-up and is reported apart)")
    report = run_bench(args.run_dir, steps=args.steps)
    print(format_table(report), flush=True)
    if args.json:
        print(json.dumps(report), flush=True)
    return 0


def _run_learn(args: argparse.Namespace) -> int:
    import sys
    from dataclasses import replace

    from vinci_rl.learn.bench import refine_variant, run_bench
    from vinci_rl.learn.pipeline import LearnConfig, StageError

    if args.seeds < 1:
        raise CliError(f"--seeds must be >= 1, got {args.seeds}")
    cfg = LearnConfig(run_dir=args.run_dir)
    if args.refine:
        cfg = refine_variant(cfg)
    for name in ("sft_steps", "grpo_steps"):
        value = getattr(args, name)
        if value is not None:
            if value < 1:
                raise CliError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
            cfg = replace(cfg, **{name: value})
    try:
        report = run_bench(cfg, list(range(args.seeds)), sys.stdout)
    except StageError as e:
        raise CliError(str(e)) from e
    if args.json:
        print(json.dumps(report["comparisons"], default=str), flush=True)
    return 0
