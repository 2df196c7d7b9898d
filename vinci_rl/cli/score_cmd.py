"""`vinci-rl score`: render code and score it against a reference image; prints the reward and its terms.

    vinci-rl score --lang svg --code out.svg --reference ref.png --json
    vinci-rl score --lang latex --code response.txt --reference ref.png --preset rlrf --ground-truth gt.tex

--code holds bare code or a model response. Bare code (no ``` fence in it) is wrapped in a fence of --lang
so that it is scored as code; --as-response scores the file exactly as a model response (so a missing or
wrong fence counts as the reward config says). With --json exactly one JSON object goes to stdout:
{"overall", "terms", "status", "message", "timings"}. The default config needs no model weights.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from vinci_rl.cli import CliError, cli_language


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", required=True, help="target language of the task, any case (svg, html, latex, python, smiles, mermaid)")
    parser.add_argument("--code", required=True, metavar="FILE", help="file with the code or the model response ('-' = stdin)")
    parser.add_argument("--reference", required=True, metavar="IMAGE", help="reference image (PNG, JPEG, ...)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--config", metavar="YAML", help="reward YAML, or a recipe with a vinci.reward block")
    group.add_argument("--preset", metavar="NAME", help="bundled reward preset (default, coarse_fine, rlrf, vincicoder)")
    parser.add_argument("--ground-truth", metavar="FILE", help="ground-truth code (enables the length term)")
    parser.add_argument("--as-response", action="store_true", help="score the file as a raw model response (no fence added)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def run(args: argparse.Namespace) -> int:
    from vinci_rl.data.rows import answer_text
    from vinci_rl.reward.config import RewardConfig, presets
    from vinci_rl.reward.image import to_rgb

    response = _read_text(args.code, "--code")
    ground_truth = _read_text(args.ground_truth, "--ground-truth") if args.ground_truth else None
    lang = cli_language(args.lang)
    try:
        reference = to_rgb(Path(args.reference))
    except (ValueError, TypeError) as e:
        raise CliError(f"--reference: {e}") from e
    try:
        if args.preset:
            if args.preset not in presets():
                raise CliError(f"--preset: unknown preset {args.preset!r}; available: {', '.join(presets())}")
            config = RewardConfig.from_preset(args.preset)
        elif args.config:
            config = RewardConfig.from_yaml(args.config)
        else:
            config = RewardConfig.from_preset("default")
    except ValueError as e:
        raise CliError(str(e)) from e
    if not args.as_response and "```" not in response:
        response = answer_text(lang, response)

    from vinci_rl.reward.scorer import VisualScorer

    # Anything a backend prints must not corrupt the one JSON object on stdout.
    with contextlib.redirect_stdout(sys.stderr):
        try:
            with VisualScorer(config) as scorer:
                result = scorer.score(response, lang, reference, ground_truth=ground_truth)
        except (ValueError, RuntimeError) as e:  # config problems found at scoring time (weights path, tokenizer)
            raise CliError(str(e)) from e
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        print(_table(result, config.weights))
    return 0


def _read_text(path: str, flag: str) -> str:
    if path == "-":
        return sys.stdin.read()
    p = Path(path)
    if not p.is_file():
        raise CliError(f"{flag}: file not found: {p}")
    try:
        return p.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise CliError(f"{flag}: cannot read {p}: {e}") from e


def _table(result, weights: dict[str, float]) -> str:
    lines = [f"overall  {result.overall:+.4f}", f"status   {result.status}"]
    for name, value in result.terms.items():
        lines.append(f"  {name:<12} {value:+.4f}   (weight {weights.get(name, 0.0):g})")
    if result.message:
        lines.append(f"message  {result.message}")
    lines.append("timings  " + ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in result.timings.items()))
    return "\n".join(lines)
