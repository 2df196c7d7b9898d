"""`vinci-rl bench reward|schedule`: benchmarks that print side-by-side ratios. Not tests.

`bench reward` compares reward scoring paths side by side (samples/s per language).
`bench schedule` runs the tiny CPU GRPO loop with the max-length schedule and with a fixed cap (tokens, time);
see vinci_rl/schedule/bench.py.

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

BENCHES = ("reward", "schedule")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from reward_workers.bench.corpus import LANGUAGES

    parser.add_argument("bench", choices=BENCHES, help="reward: reward scoring paths; schedule: max-length schedule")
    parser.add_argument("--samples", type=int, default=16, help="samples per language (default 16: a minute or two)")
    parser.add_argument("--languages", default=",".join(LANGUAGES), help=f"comma-separated subset of {','.join(LANGUAGES)}")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed")
    parser.add_argument("--json", action="store_true", help="print the table, then the result as one JSON object on the last line")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--steps", type=int, default=5, help="schedule: GRPO steps per run (default 5)")
    parser.add_argument("--run-dir", type=Path, default=Path("runs/bench-schedule"), help="schedule: where runs go")


def run(args: argparse.Namespace) -> int:
    if args.bench == "schedule":
        return _run_schedule(args)
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


def _run_schedule(args: argparse.Namespace) -> int:
    from vinci_rl.schedule.bench import format_table, run_schedule_bench

    if args.steps < 2:
        raise CliError("--steps must be >= 2 (step 1 includes start-up and is reported apart)")
    report = run_schedule_bench(args.run_dir.resolve(), steps=args.steps)
    print(format_table(report), flush=True)
    if args.json:
        print(json.dumps(report), flush=True)
    return 0
