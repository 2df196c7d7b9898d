"""vinci-rl make-tiny-model OUT --kind KIND: a tiny random-weight VLM directory (no hub access)."""

from __future__ import annotations

import argparse

from vinci_rl.cli import CliError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from vinci_rl.models.tiny import KINDS

    parser.add_argument("out", help="output directory")
    parser.add_argument("--kind", default="qwen2.5-vl", choices=sorted(KINDS))
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    from vinci_rl.models.tiny import make_tiny_model

    try:
        out = make_tiny_model(args.out, args.kind, seed=args.seed)
    except (ValueError, OSError) as e:
        raise CliError(str(e)) from e
    print(out)
    return 0
