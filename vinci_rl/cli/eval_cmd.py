"""vinci-rl eval TEST.parquet --out DIR (--predictions FILE.jsonl | --server URL | --local-model DIR): metrics, eval.json, report.html.

    vinci-rl eval runs/data/val.parquet --predictions preds.jsonl --out runs/eval --dino /models/dinov2-base
    vinci-rl eval runs/data/val.parquet --server http://localhost:8000/v1 --out runs/eval --reward rlrf
    vinci-rl eval runs/shapes/heldout.parquet --local-model runs/sft/model --out runs/eval --max-tokens 96
    vinci-rl eval runs/data/val.parquet --predictions preds.jsonl --out runs/eval --reward recipes/my_recipe.yaml
    vinci-rl eval --benchmark unisvg data/unisvg --predictions answers.jsonl --out runs/unisvg --clip /models/clip-l-336
    vinci-rl eval runs/data/val.parquet --server http://localhost:8000/v1 --out runs/eval --turns 3 --reward recipes/refine_chart.yaml

Predictions JSONL: one {"id" or "index", "response" or "code"} per line ("response": the model's full text, the
last fenced block of the row's language is scored; "code": the bare program). With --server the prompts are
sent to an OpenAI-compatible endpoint (vLLM) and the replies saved to DIR/predictions.jsonl.
With --turns K, each answer's render (the reward's) goes back to the model as a new user turn, up to K answers
per row with the stop rules of the vinci_refine_agent agent loop (the feedback text and rules from --reward's
vinci.refine block when it has one): metrics per turn, the rate of rows whose final reward beats turn 1's.
Metrics per language and overall: render_rate, format_rate, dino_score (StarVector: DINOv2 mean-pooled,
(cos+1)/2; needs --dino), ssim, mse, lpips (needs --lpips), tanimoto (SMILES / RDKit code), reward (--reward).
"""

from __future__ import annotations

import argparse
import json
import sys

from vinci_rl.cli import CliError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__.split("\n\n")[0]
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__.split("\n\n", 1)[1]
    parser.add_argument("data", help="test parquet made by `vinci-rl prepare` (with --benchmark: the benchmark's data dir)")
    parser.add_argument("--benchmark", metavar="NAME", help="a paper benchmark's own data layout, prompt and metrics "
                        "(image2struct-latex, chemdraw, unisvg, ...; README 'Paper-comparable evaluation')")
    parser.add_argument("--out", required=True, help="output directory (eval.json, report.html)")
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--predictions", help='JSONL of {"id"|"index", "response"|"code"}')
    src.add_argument("--server", help="OpenAI-compatible (vLLM) base URL, e.g. http://localhost:8000/v1")
    src.add_argument(
        "--local-model", metavar="DIR", help="generate in this process with transformers from a model directory or hub id"
    )
    gen = parser.add_argument_group("generation (--server / --local-model)")
    gen.add_argument("--model", help="served model name (default: the first the server lists)")
    gen.add_argument("--batch-size", type=int, default=16, help="prompts per generate call with --local-model (default 16)")
    gen.add_argument("--max-tokens", type=int, default=2048, help="max new tokens per response (default 2048)")
    gen.add_argument("--temperature", type=float, default=0.0, help="sampling temperature (default 0)")
    gen.add_argument("--concurrency", type=int, default=8, help="requests in flight (default 8)")
    gen.add_argument("--api-key", default="EMPTY", help="bearer token for the server (default EMPTY)")
    met = parser.add_argument_group("metrics")
    met.add_argument("--dino", help="DINOv2 weights (directory / hub id; StarVector uses dinov2-base)")
    met.add_argument("--dino-config", help="Dinov2Config as JSON text or a .json/.yaml file: random weights (tests)")
    met.add_argument("--lpips", help="LPIPS weights: a state_dict of lpips.LPIPS(net='alex')")
    met.add_argument("--clip", help="CLIP weights (directory / hub id) for --benchmark metrics (UniSVG: ViT-L/14-336)")
    met.add_argument("--clip-config", help="CLIPConfig as JSON text or a .json/.yaml file: random weights (tests)")
    met.add_argument("--samples", type=int, default=1, help="--benchmark: responses generated per item (pass@k)")
    met.add_argument("--reward", default="default", help="reward preset, reward YAML or recipe YAML (default: default)")
    met.add_argument("--no-reward", action="store_true", help="skip the mean reward")
    ref = parser.add_argument_group("render and refine (per-turn evaluation)")
    ref.add_argument("--turns", type=int, default=1, help="answers per row: the render of each goes back to the model (default 1)")
    ref.add_argument("--stop-score", type=float, help="--turns: stop a row once its reward reaches this")
    ref.add_argument("--show-scores", action="store_true", default=None, help="--turns: the feedback lists the reward terms")
    parser.add_argument("--limit", type=int, help="first N test rows only")
    parser.add_argument("--gallery", type=int, default=8, help="best and worst cases in the report, each (default 8)")
    parser.add_argument("--sandbox", choices=["auto", "bwrap", "none"], default="auto", help="render sandbox")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def _dino_config(text: str | None, flag: str = "--dino-config") -> dict | None:
    if not text:
        return None
    import yaml

    try:
        if text.strip().startswith("{"):
            data = json.loads(text)
        else:
            with open(text) as f:
                data = yaml.safe_load(f)
    except (OSError, ValueError, yaml.YAMLError) as e:
        raise CliError(f"{flag} {text!r}: {e}") from e
    if not isinstance(data, dict):
        raise CliError(f"{flag} {text!r}: expected a mapping of config fields")
    return data


def _evaluate_turns(cfg, args: argparse.Namespace):
    """eval --turns K (vinci_rl/eval/turns.py): the turn rules from --reward's vinci.refine block, flags on top."""
    from vinci_rl.eval.turns import evaluate_turns, refine_config

    refine = refine_config(args.turns, cfg.reward, stop_score=args.stop_score, show_scores=args.show_scores)
    return evaluate_turns(cfg, refine)


def run(args: argparse.Namespace) -> int:
    from vinci_rl.eval import EvalConfig, PredictionError, ServerConfig, evaluate
    from vinci_rl.eval.local_model import LocalModelConfig

    server = local = None
    if args.local_model:
        local = LocalModelConfig(args.local_model, args.max_tokens, args.temperature, args.batch_size)
    if args.server:
        server = ServerConfig(
            args.server, args.model, args.max_tokens, args.temperature, args.api_key, args.concurrency
        )
    per_turn = args.turns != 1 or args.stop_score is not None or args.show_scores
    if args.benchmark and per_turn:
        raise CliError("--turns / --stop-score / --show-scores evaluate a prepared test parquet; not with --benchmark")
    if args.benchmark:
        return _run_benchmark(args, server, local)
    cfg = EvalConfig(
        data=args.data,
        out_dir=args.out,
        predictions=args.predictions,
        server=server,
        local_model=local,
        dino=args.dino,
        dino_config=_dino_config(args.dino_config),
        lpips=args.lpips,
        reward=None if args.no_reward else args.reward,
        limit=args.limit,
        gallery=args.gallery,
        render={"sandbox": args.sandbox},
        progress=not args.quiet,
    )
    try:
        result = _evaluate_turns(cfg, args) if per_turn else evaluate(cfg)
    except (PredictionError, ValueError, OSError, RuntimeError) as e:
        raise CliError(str(e)) from e
    print(result.text())
    if result.nothing_rendered:  # the table holds failure values only: say so where it cannot be missed
        note = next((n for n in result.notes if n.startswith("no prediction rendered")), "no prediction rendered")
        print(f"warning: {note}; see {result.outputs['html']}", file=sys.stderr)
    return 0


def _run_benchmark(args: argparse.Namespace, server, local) -> int:
    """`--benchmark NAME DATA_DIR`: vinci_rl.benchmarks.runner; prints the paper-layout table."""
    from pathlib import Path

    from vinci_rl.benchmarks import BenchmarkDataError, MetricContext, MissingWeights
    from vinci_rl.benchmarks.runner import RunConfig, run_benchmark
    from vinci_rl.eval import PredictionError

    ctx = MetricContext(clip_path=args.clip, lpips_path=args.lpips, sandbox=args.sandbox,
                        clip_config=_dino_config(args.clip_config, "--clip-config"))
    cfg = RunConfig(args.benchmark, Path(args.data), Path(args.out), Path(args.predictions) if args.predictions else None,
                    server, local, max(1, args.samples), limit=args.limit, progress=not args.quiet, context=ctx)
    try:
        result = run_benchmark(cfg)
    except (BenchmarkDataError, MissingWeights, PredictionError, ValueError, OSError) as e:
        raise CliError(str(e)) from e
    print(result.table_text())
    for col, why in result.unavailable.items():
        print(f"warning: {col} not computed: {why}", file=sys.stderr)
    return 0
