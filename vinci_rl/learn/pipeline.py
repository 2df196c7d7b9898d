"""The two-stage method end to end, on one seed: evaluate the base model -> SFT -> evaluate -> GRPO from the SFT
checkpoint -> evaluate, every evaluation on the same held-out prompts with the same `vinci-rl eval` code path
and reward preset.

    run = run_pipeline(LearnConfig(run_dir=Path("runs/demo"), seed=0), out=sys.stdout)

Run folder: model/ (the tiny base VLM), data/ (train + held-out parquet), sft/ and grpo/ (the runs of
`vinci-rl sft` / `vinci-rl train`, each with its metrics.jsonl, log and checkpoints), eval/<stage>/ (eval.json,
report.html, predictions.jsonl). SFT and GRPO run as `vinci-rl` subprocesses: each starts and stops its own Ray
cluster and prints one line per step; their full output goes to the stage's train.log.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

REPO_RECIPES = Path(__file__).resolve().parents[2] / "recipes"
STAGES = ("base", "sft", "rl")


class StageError(RuntimeError):
    """A stage failed; the message names the stage and its log file."""


@dataclass
class LearnConfig:
    run_dir: Path
    seed: int = 0
    n_train: int = 4000
    kind: str = "qwen3-vl"
    sft_steps: int = 300
    grpo_steps: int = 30
    sft_recipe: Path = REPO_RECIPES / "sft_tiny_cpu.yaml"
    grpo_recipe: Path = REPO_RECIPES / "learn_tiny_cpu.yaml"
    reward: str = "default"  # the preset every evaluation reports (the GRPO recipe trains with its own vinci.reward)
    eval_max_tokens: int = 96
    sft_overrides: list[str] = field(default_factory=list)
    grpo_overrides: list[str] = field(default_factory=list)
    verbose: bool = False
    # render and refine: refinement rows added to the SFT data (DATA/refine.parquet), and the answers per held-out
    # row in every evaluation (> 1: each answer's render goes back to the model, the turn rules of grpo_recipe)
    refine_examples: int = 0
    turns: int = 1


@dataclass
class StageRun:
    name: str
    model: Path
    wall_s: float = 0.0
    run_dir: Path | None = None  # the training run folder (None for the base model)


def build_inputs(cfg: LearnConfig, out: IO[str]) -> tuple[Path, Path]:
    """The tiny `learner` VLM (its tokenizer trained on the task) and the shapes data (train + held-out)."""
    from vinci_rl.data.shapes_task import build_shapes_set, tokenizer_corpus
    from vinci_rl.models.tiny import make_tiny_model

    model = make_tiny_model(cfg.run_dir / "model", cfg.kind, seed=cfg.seed, extra_corpus=tokenizer_corpus(), size="learner")
    summary = build_shapes_set(cfg.run_dir / "data", cfg.n_train, cfg.seed, str(model))
    out.write(f"[learn] base model {model} ({cfg.kind}, learner size); data {summary['rows']}\n")
    if cfg.refine_examples:
        from vinci_rl.data.shapes_task import build_refine_rows

        stats = build_refine_rows(cfg.run_dir / "data", cfg.refine_examples, cfg.seed)
        out.write(f"[learn] refinement rows for SFT: {stats['built']} built ({stats['kinds']})\n")
    return model, cfg.run_dir / "data"


def sft_train_files(cfg: LearnConfig, data: Path) -> str:
    """The SFT stage's data.train_files: the task's rows, and the refinement rows when the run has them."""
    files = [data / "train.parquet", *([data / "refine.parquet"] if cfg.refine_examples else [])]
    return str(files[0]) if len(files) == 1 else "[" + ",".join(str(f) for f in files) + "]"


def run_vinci(args: list[str], log_name: Path, verbose: bool) -> float:
    """`vinci-rl ARGS` in a subprocess (its compact step lines pass through); returns its wall time."""
    cmd = [sys.executable, "-m", "vinci_rl", *args, *(["--verbose"] if verbose else [])]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, check=False)
    if proc.returncode != 0:
        raise StageError(f"`vinci-rl {args[0]}` failed (exit {proc.returncode}); full output in {log_name}")
    return time.monotonic() - t0


def sft_stage(cfg: LearnConfig, name: str, init_model: Path, data: Path, steps: int) -> StageRun:
    """`vinci-rl sft` from init_model for `steps` steps; the model is RUN/<name>/model."""
    run_dir = cfg.run_dir / name
    args = [
        "sft", str(cfg.sft_recipe),
        f"data.train_files={sft_train_files(cfg, data)}",
        f"data.val_files={data / 'heldout.parquet'}",
        f"model.path={init_model}",
        f"trainer.total_training_steps={steps}",
        f"trainer.total_epochs={_epochs_for(steps, cfg)}",
        f"trainer.seed={cfg.seed}",
        f"engine.seed={cfg.seed}",
        *cfg.sft_overrides,
        "--run-dir", str(run_dir),
    ]  # fmt: skip
    wall = run_vinci(args, run_dir / "train.log", cfg.verbose)
    return StageRun(name, run_dir / "model", wall, run_dir)


def _epochs_for(steps: int, cfg: LearnConfig) -> int:
    """Enough epochs for `steps` (verl's SFT loop ends at the last epoch whatever the step count)."""
    from omegaconf import OmegaConf

    batch = int(OmegaConf.load(cfg.sft_recipe).data.train_batch_size)
    per_epoch = max(1, (cfg.n_train + cfg.refine_examples) // batch)
    return max(1, -(-steps // per_epoch))


def grpo_stage(cfg: LearnConfig, sft_model: Path, data: Path) -> StageRun:
    """`vinci-rl train` (GRPO) from the SFT model; the model is the last checkpoint, exported to RUN/grpo/model."""
    from vinci_rl.train.sft import export_model

    run_dir = cfg.run_dir / "grpo"
    args = [
        "train", str(cfg.grpo_recipe),
        f"data.train_files={data / 'train.parquet'}",
        f"data.val_files={data / 'heldout.parquet'}",
        f"actor_rollout_ref.model.path={sft_model}",
        f"trainer.total_training_steps={cfg.grpo_steps}",
        f"trainer.save_freq={cfg.grpo_steps}",
        "actor_rollout_ref.actor.checkpoint.save_contents=[model,hf_model]",
        f"data.seed={cfg.seed}",
        f"actor_rollout_ref.rollout.seed={cfg.seed}",
        *cfg.grpo_overrides,
        "--run-dir", str(run_dir),
    ]  # fmt: skip
    wall = run_vinci(args, run_dir / "train.log", cfg.verbose)
    model = export_model(run_dir / "checkpoints", str(sft_model), run_dir / "model", "global_step_*/actor/huggingface")
    return StageRun("rl", model, wall, run_dir)


def eval_stage(cfg: LearnConfig, name: str, model: Path, data: Path, out: IO[str]):
    """The held-out evaluation of one model: the same code path as `vinci-rl eval --local-model` (with
    `--turns K --reward GRPO_RECIPE` when the run evaluates K turns)."""
    from vinci_rl.eval import EvalConfig, evaluate
    from vinci_rl.eval.local_model import LocalModelConfig
    from vinci_rl.eval.turns import evaluate_turns, refine_config

    local = LocalModelConfig(str(model), max_tokens=cfg.eval_max_tokens, temperature=0.0, batch_size=64, seed=cfg.seed)
    ecfg = EvalConfig(
        data=data / "heldout.parquet",
        out_dir=cfg.run_dir / "eval" / name,
        local_model=local,
        reward=cfg.reward,
        title=f"held-out evaluation: {name}",
        progress=False,
    )
    if cfg.turns > 1:
        result = evaluate_turns(ecfg, refine_config(cfg.turns, str(cfg.grpo_recipe)))
        for row in result.turns["per_turn"]:
            out.write(f"[learn] eval {name:>4} turn {row['turn']}: render rate {row['render_rate']:.2f}  mean reward {row['reward']:+.3f}\n")
        return result
    result = evaluate(ecfg)
    row = result.table["overall"]
    out.write(f"[learn] eval {name:>4}: render rate {row['render_rate']:.2f}  mean reward {row['reward']:+.3f}\n")
    return result


@dataclass
class LearnRun:
    stages: dict[str, dict]  # stage -> report.stage_summary
    runs: dict[str, StageRun]
    outputs: dict[str, Path]


def run_pipeline(cfg: LearnConfig, out: IO[str], sft_longer: bool = False) -> LearnRun:
    """base -> eval -> SFT -> eval -> GRPO -> eval (and, for the benchmark, SFT continued for GRPO's wall time)."""
    from vinci_rl.learn import report

    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    base_model, data = build_inputs(cfg, out)
    runs = {"base": StageRun("base", base_model)}
    results = {"base": eval_stage(cfg, "base", base_model, data, out)}
    out.write(f"[learn] SFT: {cfg.sft_steps} steps (verl's SFT trainer, start-up included in the time)\n")
    runs["sft"] = sft_stage(cfg, "sft", base_model, data, cfg.sft_steps)
    results["sft"] = eval_stage(cfg, "sft", runs["sft"].model, data, out)
    out.write(f"[learn] GRPO: {cfg.grpo_steps} steps from the SFT checkpoint\n")
    runs["rl"] = grpo_stage(cfg, runs["sft"].model, data)
    results["rl"] = eval_stage(cfg, "rl", runs["rl"].model, data, out)
    if sft_longer:
        steps = max(1, round(cfg.sft_steps * runs["rl"].wall_s / runs["sft"].wall_s))
        out.write(f"[learn] SFT continued for GRPO's wall time: {steps} more steps from the SFT checkpoint\n")
        runs["sft_longer"] = sft_stage(cfg, "sft_longer", runs["sft"].model, data, steps)
        results["sft_longer"] = eval_stage(cfg, "sft_longer", runs["sft_longer"].model, data, out)
    truth = ground_truths(data / "heldout.parquet")
    stages = {name: report.stage_summary(r, truth) for name, r in results.items()}
    timings = {f"{name}_s": r.wall_s for name, r in runs.items() if r.wall_s}
    timings["total_s"] = time.monotonic() - t0
    outputs = write_reports(cfg, stages, runs, data, timings)
    return LearnRun(stages, runs, outputs)


def ground_truths(parquet: Path) -> dict[str, str]:
    import pandas as pd

    df = pd.read_parquet(parquet, columns=["extra_info", "reward_model"])
    return {str(e["id"]): r["ground_truth"] for e, r in zip(df.extra_info, df.reward_model)}


def config_record(cfg: LearnConfig) -> dict:
    """The run's settings as learning.json records them (paths as strings)."""
    from dataclasses import asdict

    return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()}


def write_reports(cfg: LearnConfig, stages: dict, runs: dict[str, StageRun], data: Path, timings: dict) -> dict[str, Path]:
    from vinci_rl.learn import report

    baselines = {name: stages[name]["reward"] for name in ("sft", "rl") if name in stages}
    eval_dirs = {name: cfg.run_dir / "eval" / name for name in stages}
    return {
        "learning": report.write_learning_json(cfg.run_dir / "learning.json", config_record(cfg), stages, timings),
        "reward_curves": report.reward_curves(
            runs["rl"].run_dir / "metrics.jsonl", runs["sft"].run_dir / "metrics.jsonl", baselines,
            cfg.run_dir / "reward_curves.png",
        ),
        "gallery": report.stage_gallery(data / "heldout.parquet", eval_dirs, cfg.run_dir / "gallery.html"),
    }  # fmt: skip
