"""vinci-rl make-tiny-model OUT [--kind KIND] [--size smoke|learner] [--corpus shapes]: a tiny random-weight VLM
directory (no hub access)."""

from __future__ import annotations

import argparse

from vinci_rl.cli import CliError

CORPORA = ("none", "shapes")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from vinci_rl.models.tiny import KINDS, SIZES

    parser.add_argument("out", help="output directory")
    parser.add_argument("--kind", default="qwen2.5-vl", choices=sorted(KINDS), help="model family (default qwen2.5-vl)")
    parser.add_argument(
        "--size", default="smoke", choices=sorted(SIZES),
        help="smoke: start-up cost only (tests); learner: can learn the shapes task on a CPU (default smoke)",
    )  # fmt: skip
    parser.add_argument(
        "--corpus", default="none", choices=CORPORA, help="task text the tokenizer is also trained on (default none)"
    )
    parser.add_argument("--seed", type=int, default=0, help="weight initialisation seed (default 0)")


def run(args: argparse.Namespace) -> int:
    from vinci_rl.models.tiny import make_tiny_model

    corpus = None
    if args.corpus == "shapes":
        from vinci_rl.data.shapes_task import tokenizer_corpus

        corpus = tokenizer_corpus()
    try:
        out = make_tiny_model(args.out, args.kind, seed=args.seed, extra_corpus=corpus, size=args.size)
    except (ValueError, OSError) as e:
        raise CliError(str(e)) from e
    print(out)
    return 0
