"""vinci-rl make-sample-data OUT: render the bundled sample set (or the shapes task) into parquet files.

    vinci-rl make-sample-data runs/sample_data --tokenizer runs/tiny-qwen2.5-vl
    vinci-rl make-sample-data data/sample_set --programs     # regenerate the committed program files
    vinci-rl make-sample-data runs/shapes --task shapes --train 4000 --tokenizer runs/learner
"""

from __future__ import annotations

import argparse

from vinci_rl.cli import CliError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", help="output directory (train.parquet, val.parquet, summary.json)")
    parser.add_argument(
        "--task", choices=("sample", "shapes"), default="sample",
        help="sample: the bundled multi-language set (train/val); shapes: the learnable SVG task (train + the fixed "
        "64-scene heldout split)",
    )  # fmt: skip
    parser.add_argument("--tokenizer", help="model directory whose tokenizer counts ground-truth tokens")
    parser.add_argument("--train", type=int, default=None, help="train rows (default 32; shapes: 4000)")
    parser.add_argument("--val", type=int, default=8, help="validation rows (default 8)")
    parser.add_argument("--size", type=int, default=128, help="reference image side in pixels (default 128)")
    parser.add_argument("--seed", type=int, default=0, help="program generator seed (default 0)")
    parser.add_argument(
        "--programs", action="store_true",
        help="only write the programs as files OUT/<split>/<id>.<ext>, for `vinci-rl prepare`",
    )


def run(args: argparse.Namespace) -> int:
    from vinci_rl.data.sample_set import build_sample_set, write_programs

    if args.task == "shapes":
        return _shapes(args)
    args.train = 32 if args.train is None else args.train
    if args.train < 1 or args.val < 1:
        raise CliError(f"--train and --val must be >= 1 (got {args.train}, {args.val})")
    if args.programs:
        written = write_programs(args.out, args.train, args.val, args.seed)
        print(f"programs written to {args.out}: {written}")
        return 0
    try:
        summary = build_sample_set(args.out, args.train, args.val, (args.size, args.size), args.tokenizer, args.seed)
    except OSError as e:
        raise CliError(str(e)) from e
    print(f"rows: {summary.rows}; per language: {summary.per_language}")
    for failure in summary.failed:
        print(f"  not rendered: {failure['id']} ({failure['status']}): {failure['message'][:200]}")
    return 1 if summary.failed else 0


def _shapes(args: argparse.Namespace) -> int:
    from vinci_rl.data.shapes_task import build_shapes_set

    n_train = 4000 if args.train is None else args.train
    if n_train < 1:
        raise CliError(f"--train must be >= 1, got {n_train}")
    if args.programs:
        raise CliError("--programs writes the bundled sample set's files; the shapes task has none")
    try:
        summary = build_shapes_set(args.out, n_train, args.seed, args.tokenizer)
    except OSError as e:
        raise CliError(str(e)) from e
    print(f"rows: {summary['rows']} (held-out scenes are fixed; {summary['skipped_heldout']} training draws skipped)")
    return 0
