"""The evaluation harness: predictions for a test parquet -> per-sample metrics -> per-language table -> JSON + HTML.

    from vinci_rl.eval import EvalConfig, evaluate
    result = evaluate(EvalConfig(data="runs/data/test.parquet", out_dir="runs/eval", predictions="preds.jsonl",
                                 dino="/models/dinov2-base", reward="default"))

Per test row: pick the prediction (by extra_info.id, else extra_info.index) -> extract the code of the row's
language (its last fenced block; a response without one is scored as raw text, and counts against the
format rate) -> render it at the reference's size (capped at the reward's max_pixels) -> metrics (metrics.py).
A row with no prediction, or a prediction that does not render (any render status but ok: errors, timeouts,
near-white renders) counts in the render rate and takes each metric's failure value (DINO 0, SSIM 0, MSE 1,
LPIPS 1, Tanimoto 0); the rendered-only means are reported beside. The mean reward is the recipe's own
overall score (its failure values included), from VisualScorer with the same renders.
"""

from __future__ import annotations

import io
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from vinci_rl.eval import metrics as M
from vinci_rl.eval.local_model import LocalModelConfig, generate_local
from vinci_rl.eval.predictions import Prediction, PredictionError, ServerConfig, generate, load_predictions
from vinci_rl.reward.extract import extract_code
from vinci_rl.reward.image import resize, scoring_size, to_rgb

MISSING = "missing"  # no prediction for this test row
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


@dataclass
class SampleResult:
    id: str
    index: int
    language: str
    status: str  # "ok", a render status, or "missing"
    fence_ok: bool
    metrics: dict[str, float | None]
    message: str = ""
    code: str = ""
    reward_terms: dict[str, float] = field(default_factory=dict)

    @property
    def rendered(self) -> bool:
        return self.status == "ok"


@dataclass
class EvalResult:
    config: dict[str, Any]
    table: dict[str, dict[str, Any]]  # "overall" and each language -> metric -> value
    samples: list[SampleResult]
    notes: list[str]
    outputs: dict[str, str] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)  # prediction keys not in the test set
    elapsed_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["samples"] = [asdict(s) for s in self.samples]
        return d

    def text(self) -> str:
        cols = ["n", "render_rate", "format_rate", *[m for m in M.METRICS if any(m in r for r in self.table.values())]]
        lines = ["  ".join(f"{c:>12}" for c in ["language", *cols])]
        for name, row in self.table.items():
            cells = [f"{name:>12}"]
            for c in cols:
                v = row.get(c)
                cells.append(f"{'-' if v is None else (f'{v:.4f}' if isinstance(v, float) else v):>12}")
            lines.append("  ".join(cells))
        lines += [f"note: {n}" for n in self.notes]
        lines += [f"{k}: {v}" for k, v in self.outputs.items()]
        return "\n".join(lines)


@dataclass
class _Row:
    id: str
    index: int
    language: str
    ground_truth: str
    image_png: bytes  # decoded when scored, so a large test set is not held as pixels
    prompt: str
    source: str

    def decode(self) -> np.ndarray:
        try:
            return to_rgb(self.image_png)
        except ValueError as e:
            raise PredictionError(f"{self.source}: unreadable image: {e}") from e


def load_test_rows(path: str | Path, limit: int | None = None) -> list[_Row]:
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise PredictionError(f"test parquet not found: {path}")
    df = pd.read_parquet(path)
    for col in ("images", "reward_model", "extra_info", "prompt"):
        if col not in df.columns:
            raise PredictionError(f"{path}: no column {col!r} (columns: {list(df.columns)}); make it with vinci-rl prepare")
    rows = []
    for i, r in enumerate(df.head(limit).itertuples() if limit else df.itertuples()):
        info = r.extra_info
        where = f"{path} row {i} (id {info.get('id')!r})"
        try:
            png = bytes(r.images[0]["bytes"])
        except (TypeError, IndexError, KeyError) as e:
            raise PredictionError(f"{where}: no image bytes in column 'images': {e}") from e
        prompt = r.prompt[0]["content"] if len(r.prompt) else ""
        gt = r.reward_model["ground_truth"]
        rows.append(_Row(str(info["id"]), int(info["index"]), str(info["language"]), gt, png, prompt, where))
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
    if not (cfg.dino or cfg.dino_config):
        notes.append("dino_score omitted: no DINOv2 weights (--dino PATH, e.g. facebook/dinov2-base on disk)")
        return None
    from vinci_rl.reward.dino import DinoEncoder

    enc = DinoEncoder({**M.STARVECTOR_DINO, "model": cfg.dino, "config": None if cfg.dino else cfg.dino_config})
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


def _match(
    rows: list[_Row], by_id: dict[str, Prediction], by_index: dict[int, Prediction]
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


def evaluate(cfg: EvalConfig, renderer: Any = None) -> EvalResult:
    """Score, aggregate, write eval.json and report.html. renderer: a warm Renderer to use (not closed here)."""
    from vinci_rl.eval.report import write_report
    from vinci_rl.reward import RewardConfig

    t0 = time.monotonic()
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = load_test_rows(cfg.data, cfg.limit)
    notes: list[str] = []
    reward_cfg = RewardConfig.load(cfg.reward) if cfg.reward else None  # config errors surface before any work
    pred_path = cfg.predictions
    if pred_path is None:
        pred_path = _generate(cfg, rows, out / "predictions.jsonl", notes)
    preds, unmatched = _match(rows, *load_predictions(pred_path))
    if unmatched:
        notes.append(f"{len(unmatched)} predictions match no test row (first: {unmatched[:5]})")
    encoder = _dino_encoder(cfg, notes)
    lpips_term = _lpips_term(cfg, notes)
    if reward_cfg is None:
        notes.append("reward omitted (no --reward)")

    own = renderer is None
    if own:
        from vinci_rl.render import RenderConfig, Renderer

        renderer = Renderer(RenderConfig.from_dict(cfg.render))
    try:
        samples, thumbs = _score_all(cfg, rows, preds, renderer, reward_cfg, encoder, lpips_term)
    finally:
        if own:
            renderer.close()
    _fill_failures(samples, has_dino=encoder is not None, has_lpips=lpips_term is not None)

    result = EvalResult(
        config={k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items() if k not in ("server", "local_model")},
        table=aggregate(samples),
        samples=samples,
        notes=notes,
        unmatched=unmatched,
    )
    result.outputs = {"json": str(out / "eval.json"), "html": str(out / "report.html"), "predictions": str(pred_path)}
    result.elapsed_s = time.monotonic() - t0
    Path(result.outputs["json"]).write_text(json.dumps(result.to_dict(), indent=2, default=_json_default))
    refs = {k: v[0] for k, v in thumbs.items()}
    write_report(result, refs, {k: v[1] for k, v in thumbs.items()}, result.outputs["html"], cfg.gallery, cfg.title)
    return result


def _generate(cfg: EvalConfig, rows: list[_Row], out_jsonl: Path, notes: list[str]) -> Path:
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


def _score_all(cfg: EvalConfig, rows, preds, renderer, reward_cfg, encoder, lpips_term):
    """Per-sample results (DINO batched every DINO_BATCH rendered samples) and id -> (reference, render) thumbnails."""
    from vinci_rl.reward import VisualScorer

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
    try:
        for row, pred in tqdm(list(zip(rows, preds)), desc="eval", unit="sample", disable=not cfg.progress):
            reference = row.decode()
            s, image, ref = _score_one(row, reference, pred, cached, reward_cfg, cfg.max_pixels, lpips_term)
            if scorer is not None and pred is not None:
                resp = pred.text if pred.is_response else f"```{row.language}\n{pred.text}\n```"
                r = scorer.score(resp, row.language, reference, ground_truth=row.ground_truth)
                s.metrics["reward"], s.reward_terms = r.overall, r.terms
            elif scorer is not None:
                s.metrics["reward"] = reward_cfg.failure_value("no_code")
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


def thumbnail(image: np.ndarray, side: int = THUMB_SIDE) -> np.ndarray:
    """The image scaled down (aspect kept) so that its longer side is at most `side` (the report shows ~140 px)."""
    h, w = image.shape[:2]
    if max(h, w) <= side:
        return image
    scale = side / float(max(h, w))
    return resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), "area")


def _score_one(
    row: _Row, reference: np.ndarray, pred: Prediction | None, renderer: Any, reward_cfg: Any, max_pixels: int, lpips_term: Any
):
    """(SampleResult without DINO, the render or None, the reference at the scoring size)."""
    size_policy = reward_cfg.size if reward_cfg is not None else "reference"
    cap = reward_cfg.max_pixels if reward_cfg is not None else max_pixels
    size = scoring_size((reference.shape[1], reference.shape[0]), size_policy, cap)
    ref = resize(reference, size, "bicubic")
    gt_smiles = M.smiles_of(row.language, row.ground_truth)
    if pred is None:
        s = SampleResult(row.id, row.index, row.language, MISSING, False, {}, "no prediction for this row")
        if gt_smiles:
            s.metrics["tanimoto"] = 0.0
        return s, None, ref
    if pred.is_response:
        aliases = reward_cfg.language.aliases if reward_cfg is not None else None
        ex = extract_code(pred.text, row.language, aliases, "raw")
        code, fence_ok = ex.code or "", ex.fence_ok
    else:
        code, fence_ok = pred.text.strip("\n"), True
    res = renderer.render(row.language, code, size)
    status = res.status if res.status != "ok" or res.image is not None else "renderer_crash"
    s = SampleResult(row.id, row.index, row.language, status, fence_ok, {}, res.message[:500], code[:4000])
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


def _mean(values: list[float]) -> float | None:
    vals = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return float(np.mean(vals)) if vals else None


def aggregate(samples: list[SampleResult]) -> dict[str, dict[str, Any]]:
    """'overall' and each language -> n, render_rate, format_rate, metric means (failures included) and
    '<metric>_rendered' means over rendered samples only."""
    groups: dict[str, list[SampleResult]] = {"overall": samples}
    for s in samples:
        groups.setdefault(s.language, []).append(s)
    table = {}
    for name, group in groups.items():
        row: dict[str, Any] = {
            "n": len(group),
            "render_rate": float(np.mean([s.rendered for s in group])),
            "format_rate": float(np.mean([s.fence_ok for s in group])),
        }
        for m in M.METRICS:
            vals = [s.metrics[m] for s in group if m in s.metrics]
            if vals:
                row[m] = _mean(vals)
                if m not in ("tanimoto", "reward"):
                    row[f"{m}_rendered"] = _mean([s.metrics[m] for s in group if m in s.metrics and s.rendered])
        table[name] = row
    return table


def rank_key(s: SampleResult) -> float:
    """Higher is better: the reward when there is one, else the DINO score, else SSIM; failures lowest."""
    for m in ("reward", "dino_score", "ssim", "tanimoto"):
        v = s.metrics.get(m)
        if v is not None and not math.isnan(v):
            return float(v) + (0.0 if s.rendered else -10.0)
    return -10.0


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    if isinstance(o, (bytes, io.BytesIO)):
        return None
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
