"""`vinci-rl` command line. Each subcommand lives in its own module with `add_arguments(parser)` and
`run(args) -> int`; modules are imported only when their command runs, so `vinci-rl --help` stays fast."""

from __future__ import annotations

import argparse
import importlib
import sys

# command name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "render": ("vinci_rl.cli.render_cmd", "render code of a language to a PNG"),
    "score": ("vinci_rl.cli.score_cmd", "score code against a reference image; prints the reward and its terms"),
    "make-tiny-model": ("vinci_rl.cli.make_tiny_model_cmd", "build a tiny random-weight VLM (tests, demo)"),
    "make-sample-data": ("vinci_rl.cli.sample_data_cmd", "render the bundled sample set into verl parquet files"),
    "prepare": ("vinci_rl.cli.prepare_cmd", "turn image/code data into verl parquet: filters, split, bad-row report"),
    "eval": ("vinci_rl.cli.eval_cmd", "score predictions (JSONL or a vLLM server) against a test parquet; JSON + HTML report"),
    "sft": ("vinci_rl.cli.sft_cmd", "stage-1 SFT with verl's SFT trainer; writes a loadable model directory"),
    "train": ("vinci_rl.cli.train_cmd", "run verl's GRPO trainer on a recipe"),
    "workers": ("vinci_rl.cli.workers_cmd", "run the reward pool on a Ray cluster: start | status | scale | stop"),
    "drill": ("vinci_rl.cli.drill_cmd", "drill a real multi-node Ray cluster: submit, scale, node loss, resume"),
    "bench": ("vinci_rl.cli.bench_cmd", "benchmarks: `bench reward` compares reward scoring paths (samples/s)"),
    "demo": ("vinci_rl.cli.demo_cmd", "the whole CPU demo: tiny VLM, sample data, GRPO steps, report"),
}


class CliError(Exception):
    """A user error: printed as one line naming the bad file/field/value, exit status 2."""


def cli_language(value: str, flag: str = "--lang") -> str:
    """A language as a user types it ('SVG', 'tikz') -> its key, read the way prepare reads a language column."""
    from vinci_rl.languages import LANGUAGES, NAMES, normalize

    key = normalize(value)
    if key not in LANGUAGES:
        raise CliError(f"{flag}: unknown language {value!r}; known: {', '.join(NAMES)}")
    return key


def main(argv: list[str] | None = None) -> int:
    import vinci_rl

    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="vinci-rl",
        description=vinci_rl.__doc__.strip().removeprefix("vinci-rl: "),
        epilog="`vinci-rl COMMAND --help` lists a command's flags.",
    )
    parser.add_argument("--version", action="version", version=f"vinci-rl {vinci_rl.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        parser.parse_args(argv or ["--help"])
        return 2
    name = argv[0]
    module = importlib.import_module(COMMANDS[name][0])
    cmd_parser = argparse.ArgumentParser(prog=f"vinci-rl {name}", description=COMMANDS[name][1])
    module.add_arguments(cmd_parser)
    args = cmd_parser.parse_intermixed_args(argv[1:])
    try:
        return int(module.run(args) or 0)
    except CliError as e:
        print(f"vinci-rl {name}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
