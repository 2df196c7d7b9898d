"""The evaluation harness: predictions for a test parquet -> per-sample metrics -> per-language table -> JSON + HTML.

    from vinci_rl.eval import EvalConfig, evaluate
    result = evaluate(EvalConfig(data="runs/data/test.parquet", out_dir="runs/eval", predictions="preds.jsonl",
                                 dino="/models/dinov2-base", reward="default"))

Per test row (rows.read_rows): pick the prediction (by extra_info.id, else extra_info.index) -> the render plan
of the reward config (vinci_rl/reward/plan.py), reading the code of the row's language leniently (its last
fenced block; a response without one is scored as raw text, and counts against the format rate) -> render it
where the reward renders it, compare at the reward's scoring size -> metrics (metrics.py). A row with no
prediction, or a prediction that does not render (any render status but ok: errors, timeouts, near-white
renders) counts in the render rate and takes each metric's failure value (DINO 0, SSIM 0, MSE 1, LPIPS 1,
Tanimoto 0); the rendered-only means are reported beside, and the notes say how many rows had no prediction and
when nothing rendered at all. The mean reward is the recipe's own overall score (its failure values included),
from VisualScorer with the same renders; its status and notes go with each sample, so every report card says
why it scored what it scored. Model weights (--dino) are located before any work: a path that is neither a
local directory nor reachable fails in seconds, naming it.
"""

from __future__ import annotations

import json
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

import vinci_rl.eval.metrics as M
from vinci_rl.data.rows import RowError, TaskRow, answer_text, read_rows
from vinci_rl.eval.local_model import LocalModelConfig, generate_local
from vinci_rl.eval.predictions import Prediction, PredictionError, ServerConfig, generate, load_predictions
from vinci_rl.eval.results import MISSING, EvalResult, SampleResult, aggregate, json_default, rank_key
from vinci_rl.reward.image import resize
from vinci_rl.reward.plan import plan_sizes, read_answer

__all__ = ["EvalConfig", "EvalResult", "MISSING", "SampleResult", "aggregate", "evaluate", "load_test_rows", "rank_key"]

DINO_BATCH = 32  # rendered samples per DINO forward pass (renders are not all kept in memory)
THUMB_SIDE = 256  # gallery images are kept at most this large


@dataclass
class EvalConfig:
    data: str | Path  # test parquet (vinci-rl prepare's schema)
    out_dir: str | Path
    predictions: str | Path | None = None  # JSONL of {"id"|"index", "response"|"code"}
    server: ServerConfig | None = None  # or generate with a vLLM server
    local_model: LocalModelConfig | None = None  # or generate in this process with transformers
    # DINOv2 weights (a directory / hub id) for the DINO score, or a Dinov2Config dict (random weights: tests).
    dino: str | None = None
    dino_config: dict[str, Any] | None = None
    # LPIPS weights (a state_dict of lpips.LPIPS(net="alex")); omitted with a note when absent.
    lpips: str | None = None
    # Reward preset name / reward YAML / recipe YAML whose mean reward is reported; None skips it.
    reward: str | None = "default"
    limit: int | None = None  # first N test rows only
    gallery: int = 8  # best and worst cases shown in the report, each
    max_pixels: int = 1024 * 1024  # render size cap when no reward config gives one
    render: dict[str, Any] = field(default_factory=dict)
    title: str = ""
    progress: bool = True


_Row = TaskRow  # a test row (vinci_rl.data.rows.TaskRow: id, index, language, ground_truth, decode(), ...)


def load_test_rows(path: str | Path, limit: int | None = None) -> list[TaskRow]:
    """The test parquet's rows (the first `limit`); PredictionError naming the file / row / column otherwise."""
    path = Path(path)
    if not path.is_file():
        raise PredictionError(f"test parquet not found: {path}")
    try:
        rows = read_rows(path, limit)
    except RowError as e:
        raise PredictionError(str(e)) from e
    if not rows:
        raise PredictionError(f"{path}: no rows")
    return rows


class _CachingRenderer:
    """Hands the reward scorer the render this harness just made (same language, code and size)."""

    def __init__(self, renderer: Any):
        self.renderer = renderer
        self._last: tuple[tuple, Any] | None = None

    def render(self, lang: str, code: str, size: tuple[int, int]) -> Any:
        key = (lang, code, tuple(int(v) for v in size))
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        res = self.renderer.render(lang, code, size=size)
        self._last = (key, res)
        return res

    def close(self) -> None:
        pass


def _dino_encoder(cfg: EvalConfig, notes: list[str]) -> Any:
    """The StarVector DINO encoder (weights located now, loaded on first use), or None with a note."""
    if not (cfg.dino or cfg.dino_config):
        notes.append("dino_score omitted: no DINOv2 weights (--dino PATH, e.g. facebook/dinov2-base on disk)")
        return None
    from vinci_rl.models.locate import ModelPathError, locate_pretrained
    from vinci_rl.reward.dino import DinoEncoder

    model = None
    if cfg.dino:
        try:
            model = locate_pretrained(cfg.dino, "--dino (DINOv2 weights)")
        except ModelPathError as e:
            raise PredictionError(str(e)) from e
    enc = DinoEncoder({**M.STARVECTOR_DINO, "model": model, "config": None if cfg.dino else cfg.dino_config})
    if not cfg.dino:
        notes.append("dino_score from a random-weight DINOv2 config (tests / smoke runs only)")
    return enc


def _lpips_term(cfg: EvalConfig, notes: list[str]) -> Any:
    import importlib.util

    if not cfg.lpips:
        notes.append("lpips omitted: no LPIPS weights (--lpips PATH, a state_dict of lpips.LPIPS(net='alex'))")
        return None
    if not Path(cfg.lpips).exists():
        raise PredictionError(f"LPIPS weights not found: {cfg.lpips}")
    if importlib.util.find_spec("lpips") is None:
        notes.append(f"lpips omitted: weights given ({cfg.lpips}) but the 'lpips' package is not installed")
        return None
    from vinci_rl.reward.config import LpipsConfig
    from vinci_rl.reward.terms.perceptual import LpipsTerm

    return LpipsTerm(LpipsConfig(path=cfg.lpips))


def match_predictions(
    rows: list[TaskRow], by_id: dict[str, Prediction], by_index: dict[int, Prediction]
) -> tuple[list[Prediction | None], list[str]]:
    """The prediction of each test row (by id, else by index; None when missing) and the unmatched keys."""
    preds = [by_id.get(r.id, by_index.get(r.index)) for r in rows]
    ids, idx = {r.id for r in rows}, {r.index for r in rows}
    unmatched = [k for k in by_id if k not in ids] + [str(k) for k in by_index if k not in idx]
    if not any(p is not None for p in preds):
        raise PredictionError(
            f"no prediction matches a test row by id or index (test ids like {rows[0].id!r}; predictions like "
            f"{next(iter(by_id), None) or next(iter(by_index), None)!r})"
        )
    return preds, unmatched


@dataclass
class EvalRun:
    """What an evaluation sets up before it scores: the test rows, the reward config, the metric models, the notes."""

    out: Path
    rows: list[TaskRow]
    notes: list[str]
    reward_cfg: Any
    encoder: Any
    lpips_term: Any
    t0: float = field(default_factory=time.monotonic)


def start_run(cfg: EvalConfig) -> EvalRun:
    """The output folder, the test rows, the reward config and the metric models (bad input fails here, before any
    generation or scoring)."""
    from vinci_rl.reward import RewardConfig

    t0 = time.monotonic()
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = load_test_rows(cfg.data, cfg.limit)
    notes: list[str] = []
    reward_cfg = RewardConfig.load(cfg.reward) if cfg.reward else None  # config errors surface before any work
    encoder = _dino_encoder(cfg, notes)  # so do weights that cannot be found
    lpips_term = _lpips_term(cfg, notes)
    if reward_cfg is None:
        notes.append("reward omitted (no --reward)")
    return EvalRun(out, rows, notes, reward_cfg, encoder, lpips_term, t0)


def renderer_for(cfg: EvalConfig, renderer: Any = None) -> Any:
    """A context for the renderer given (not closed here), or for one made from cfg.render (closed on exit)."""
    from vinci_rl.render import RenderConfig, Renderer

    return nullcontext(renderer) if renderer is not None else Renderer(RenderConfig.from_dict(cfg.render))


def score_predictions(cfg: EvalConfig, run: EvalRun, rows: list[TaskRow], preds: list, renderer: Any, rewards: dict | None = None):
    """(samples, id -> (reference, render) thumbnails) of `rows` with their predictions; failures take each metric's
    failure value. rewards: a dict that receives id -> the RewardResult (its render included)."""
    samples, thumbs = _score_all(cfg, rows, preds, renderer, run.reward_cfg, run.encoder, run.lpips_term, rewards)
    _fill_failures(samples, has_dino=run.encoder is not None, has_lpips=run.lpips_term is not None)
    return samples, thumbs


def finish_run(cfg: EvalConfig, run: EvalRun, samples, thumbs, unmatched: list[str], pred_path: Path, turns=None) -> EvalResult:
    """The result (the table over `samples`, the notes, the per-turn numbers when given), eval.json, report.html."""
    from vinci_rl.eval.report import write_report

    run.notes += _outcome_notes(samples)
    result = EvalResult(
        config={k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items() if k not in ("server", "local_model")},
        table=aggregate(samples),
        samples=samples,
        notes=run.notes,
        unmatched=unmatched,
        turns=turns,
    )
    result.outputs = {"json": str(run.out / "eval.json"), "html": str(run.out / "report.html"), "predictions": str(pred_path)}
    result.elapsed_s = time.monotonic() - run.t0
    Path(result.outputs["json"]).write_text(json.dumps(result.to_dict(), indent=2, default=json_default))
    refs = {k: v[0] for k, v in thumbs.items()}
    write_report(result, refs, {k: v[1] for k, v in thumbs.items()}, result.outputs["html"], cfg.gallery, cfg.title)
    return result


def evaluate(cfg: EvalConfig, renderer: Any = None) -> EvalResult:
    """Score, aggregate, write eval.json and report.html. renderer: a warm Renderer to use (not closed here)."""
    run = start_run(cfg)
    pred_path = cfg.predictions
    if pred_path is None:
        pred_path = _generate(cfg, run.rows, run.out / "predictions.jsonl", run.notes)
    preds, unmatched = match_predictions(run.rows, *load_predictions(pred_path))
    if unmatched:
        run.notes.append(f"{len(unmatched)} predictions match no test row (first: {unmatched[:5]})")
    with renderer_for(cfg, renderer) as r:
        samples, thumbs = score_predictions(cfg, run, run.rows, preds, r)
    return finish_run(cfg, run, samples, thumbs, unmatched, pred_path)


def _outcome_notes(samples: list[SampleResult]) -> list[str]:
    """Notes on rows without a prediction, and on an evaluation where no prediction rendered at all."""
    notes = []
    missing = [s.id for s in samples if s.status == MISSING]
    if missing:
        notes.append(f"{len(missing)} of {len(samples)} test rows have no prediction (first: {missing[:5]}); they "
                     "count as failures")  # fmt: skip
    answered = [s for s in samples if s.status != MISSING]
    if answered and not any(s.rendered for s in answered):  # EvalResult.nothing_rendered; the CLI then fails
        statuses: dict[str, int] = {}
        for s in answered:
            statuses[s.status] = statuses.get(s.status, 0) + 1
        notes.append(f"no prediction rendered ({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}): every "
                     "image metric is its failure value, not a measurement of the renders")  # fmt: skip
    return notes


def _generate(cfg: EvalConfig, rows: list[TaskRow], out_jsonl: Path, notes: list[str]) -> Path:
    items = [(r.id, r.prompt, r.image_png) for r in rows]
    if cfg.server is not None:
        path = generate(cfg.server, items, out_jsonl, cfg.progress)
        notes.append(f"predictions generated by {cfg.server.model} at {cfg.server.url}")
        return path
    if cfg.local_model is not None:
        path = generate_local(cfg.local_model, items, out_jsonl, cfg.progress)
        how = "greedy" if cfg.local_model.temperature <= 0 else f"temperature {cfg.local_model.temperature}"
        notes.append(f"predictions generated by {cfg.local_model.path} (transformers, {how})")
        return path
    raise PredictionError("give predictions (a JSONL file), a vLLM server URL or a local model")


def _score_all(cfg: EvalConfig, rows, preds, renderer, reward_cfg, encoder, lpips_term, rewards: dict | None = None):
    """Per-sample results (DINO batched every DINO_BATCH rendered samples) and id -> (reference, render) thumbnails."""
    from vinci_rl.reward import RewardConfig, VisualScorer

    samples: list[SampleResult] = []
    thumbs: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
    pending: list[tuple[SampleResult, np.ndarray, np.ndarray]] = []  # rendered, waiting for the DINO pass

    def flush() -> None:
        if encoder is not None and pending:
            for (s, _, _), v in zip(pending, M.dino_scores(encoder, [p[1] for p in pending], [p[2] for p in pending])):
                s.metrics["dino_score"] = v
        pending.clear()

    cached = _CachingRenderer(renderer)
    scorer = VisualScorer(reward_cfg, renderer=cached) if reward_cfg is not None else None
    # Sizes follow the reward's render plan; without a reward, the default one's with this harness's pixel cap.
    plan_cfg = reward_cfg or RewardConfig.from_dict({"max_pixels": cfg.max_pixels, "render": cfg.render})
    try:
        for row, pred in tqdm(list(zip(rows, preds)), desc="eval", unit="sample", disable=not cfg.progress):
            reference = row.decode()
            s, image, ref = _score_one(row, reference, pred, cached, plan_cfg, lpips_term)
            if scorer is not None:
                r = _reward(s, scorer, reward_cfg, row, reference, pred)
                if rewards is not None:
                    rewards[s.id] = r
            samples.append(s)
            thumbs[s.id] = (thumbnail(reference), None if image is None else thumbnail(image))
            if s.rendered:
                pending.append((s, image, ref))
                if len(pending) >= DINO_BATCH:
                    flush()
        flush()
    finally:
        if scorer is not None:
            scorer.close()
    return samples, thumbs


def _reward(s: SampleResult, scorer: Any, reward_cfg: Any, row: TaskRow, reference: np.ndarray, pred: Any) -> Any:
    """The reward of one sample under the recipe's config, with its status and notes; the RewardResult (None
    without a prediction)."""
    if pred is None:
        s.metrics["reward"] = reward_cfg.failure_value("no_code")
        s.reward_status, s.reward_message = "no_code", "no prediction"
        return None
    response = pred.text if pred.is_response else answer_text(row.language, pred.text)
    r = scorer.score(response, row.language, reference, ground_truth=row.ground_truth)
    s.metrics["reward"], s.reward_terms = r.overall, r.terms
    s.reward_status, s.reward_message = r.status, r.message[:500]
    return r


def thumbnail(image: np.ndarray, side: int = THUMB_SIDE) -> np.ndarray:
    """The image scaled down (aspect kept) so that its longer side is at most `side` (the report shows ~140 px)."""
    h, w = image.shape[:2]
    if max(h, w) <= side:
        return image
    scale = side / float(max(h, w))
    return resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), "area")


def _score_one(row: TaskRow, reference: np.ndarray, pred: Prediction | None, renderer: Any, plan_cfg: Any, lpips_term: Any):
    """(SampleResult without DINO and reward, the render at the scoring size or None, the reference at it)."""
    size, _, render_size = plan_sizes(row.language, (reference.shape[1], reference.shape[0]), plan_cfg)
    ref = resize(reference, size, "bicubic")
    gt_smiles = M.smiles_of(row.language, row.ground_truth)
    if pred is None:
        s = SampleResult(row.id, row.index, row.language, MISSING, False, {}, "no prediction for this row")
        if gt_smiles:
            s.metrics["tanimoto"] = 0.0
        return s, None, ref
    if pred.is_response:  # read like the reward reads it, but leniently: no block -> the raw text
        ex = read_answer(pred.text, row.language, plan_cfg, on_missing="raw")
        code, fence_ok, read_as = ex.code or "", ex.fence_ok, ex.how
    else:
        code, fence_ok, read_as = pred.text.strip("\n"), True, ""
    res = renderer.render(row.language, code, render_size)
    status = res.status if res.status != "ok" or res.image is not None else "renderer_crash"
    s = SampleResult(row.id, row.index, row.language, status, fence_ok, {}, res.message[:500], code[:4000], read_as=read_as)
    if gt_smiles:
        s.metrics["tanimoto"] = M.tanimoto(M.smiles_of(row.language, code), gt_smiles)
    image = res.image
    if s.rendered:
        pred_img = resize(image, size, "bicubic")
        s.metrics["ssim"] = M.ssim(pred_img, ref)
        s.metrics["mse"] = M.mse(pred_img, ref)
        if lpips_term is not None:
            s.metrics["lpips"] = float((1.0 - lpips_term(pred_img, ref)) / 2.0)
        image = pred_img
    return s, image, ref


def _fill_failures(samples: list[SampleResult], has_dino: bool, has_lpips: bool) -> None:
    """Failed renders take each image metric's failure value (kept apart from the rendered-only means)."""
    image_metrics = ["ssim", "mse"] + (["dino_score"] if has_dino else []) + (["lpips"] if has_lpips else [])
    for s in samples:
        if not s.rendered:
            for m in image_metrics:
                s.metrics[m] = M.METRICS[m][1]
