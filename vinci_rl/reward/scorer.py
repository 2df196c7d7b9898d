"""VisualScorer: response text + target language + reference image -> RewardResult (overall + named terms).

Steps per sample: extract the code of the target language -> pick the scoring size -> render -> resize the
render to the reference -> image terms (pixel_l2, canny_l2, ssim, lpips, dreamsim) -> DINO terms, batched
over all samples of a `score_many` call (a group's shared reference is encoded once and cached) -> text
terms (length, format) -> composite.

Composite: overall = sum(w * term) over the terms present, divided by sum(w) when normalize_weights is on.
Only terms listed in `weights` are computed and reported. `length` is absent when no ground-truth length
is known (the message says so), and the normalisation then runs over the remaining weights.

Failures are values: no block of the target language -> status wrong_language / no_code and overall =
failure_rewards[status]; a render failure (any render status but ok, and blank when blank_is_failure) ->
status = the render status and, in render_failure "overall" mode, overall = failure_rewards[status]; in
"terms" mode the image terms take their failure values and the composite is computed. Text terms are
always computed when they can be.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from vinci_rl.render.result import BLANK, RENDERER_CRASH, is_near_white
from vinci_rl.reward.config import DINO_TERMS, IMAGE_TERMS, RewardConfig
from vinci_rl.reward.extract import OK, extract_code
from vinci_rl.reward.image import ImageLike, align, resize, scoring_size, to_rgb
from vinci_rl.reward.terms.dino import coarse_fine
from vinci_rl.reward.terms.format import FormatReward
from vinci_rl.reward.terms.length import LengthReward
from vinci_rl.reward.terms.pixel import CannyL2, pixel_l2
from vinci_rl.reward.terms.ssim import ssim

@dataclass
class Sample:
    """One thing to score. lang is the target language from the task, never guessed from the response."""

    response: str
    lang: str
    reference: ImageLike
    ground_truth: str | None = None
    gt_length: int | None = None  # ground-truth length in the configured unit (overrides ground_truth)
    pred_length: int | None = None  # response code length in the configured unit (else measured)


@dataclass
class RewardResult:
    overall: float
    terms: dict[str, float]
    status: str  # "ok", a render status (parse_error, timeout, blank, ...), "wrong_language" or "no_code"
    message: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == OK

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Work:
    """Per-sample state while a batch is scored."""

    def __init__(self, sample: Sample):
        self.sample = sample
        self.terms: dict[str, float] = {}
        self.status = OK
        self.render_failed = False
        self.code: str | None = None
        self.fence_ok = False
        self.pred: np.ndarray | None = None
        self.ref: np.ndarray | None = None
        self.notes: list[str] = []
        self.timings: dict[str, float] = {}


class VisualScorer:
    """Scores responses against reference images with the terms and weights of a RewardConfig.

    config: a RewardConfig, a dict, a preset name or a YAML path (None -> the default preset).
    renderer: a vinci_rl.render.Renderer (created lazily from config.render when not given; closed by
    close() only when created here). encoder: a DinoEncoder (created lazily from config.dino).
    """

    def __init__(self, config: RewardConfig | Mapping | str | None = None, renderer: Any = None, encoder: Any = None):
        self.config = RewardConfig.load(config)
        self._renderer = renderer
        self._owns_renderer = renderer is None
        self._encoder = encoder
        self._tokenizer = None
        cfg = self.config
        self._length = LengthReward(cfg.length.floor_ratio, cfg.length.floor_penalty)
        self._format = FormatReward(wrong_value=cfg.format.wrong_value)
        self._image_terms: dict[str, Any] = {}
        for name in cfg.weights:
            if name == "pixel_l2":
                self._image_terms[name] = pixel_l2
            elif name == "canny_l2":
                self._image_terms[name] = CannyL2()
            elif name == "ssim":
                self._image_terms[name] = ssim
            elif name == "lpips":
                from vinci_rl.reward.terms.perceptual import LpipsTerm

                self._image_terms[name] = LpipsTerm(cfg.lpips)
            elif name == "dreamsim":
                from vinci_rl.reward.terms.perceptual import DreamSimTerm

                self._image_terms[name] = DreamSimTerm(cfg.dreamsim)

    # ---- lifecycle -----------------------------------------------------------------------------------

    @property
    def renderer(self) -> Any:
        if self._renderer is None:
            from vinci_rl.render import RenderConfig, Renderer

            self._renderer = Renderer(RenderConfig.from_dict(self.config.render))
        return self._renderer

    @property
    def encoder(self) -> Any:
        if self._encoder is None:
            from vinci_rl.reward.dino import DinoEncoder

            self._encoder = DinoEncoder(self.config.dino)
        return self._encoder

    def close(self) -> None:
        if self._owns_renderer and self._renderer is not None:
            close = getattr(self._renderer, "close", None)
            if close is not None:
                close()
            self._renderer = None

    def __enter__(self) -> "VisualScorer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        # Ship the config only; the renderer, encoder and tokenizer are rebuilt lazily on the other side.
        return {"config": self.config}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["config"])

    # ---- scoring -------------------------------------------------------------------------------------

    def score(
        self,
        response: str,
        lang: str,
        reference: ImageLike,
        ground_truth: str | None = None,
        gt_length: int | None = None,
        pred_length: int | None = None,
    ) -> RewardResult:
        return self.score_many([Sample(response, lang, reference, ground_truth, gt_length, pred_length)])[0]

    def score_many(self, samples: Sequence[Sample | Mapping[str, Any]]) -> list[RewardResult]:
        """Score a batch: renders one by one, then one DINO pass over every render and distinct reference."""
        works = [_Work(s if isinstance(s, Sample) else Sample(**s)) for s in samples]
        for w in works:
            t0 = time.perf_counter()
            self._prepare(w)
            w.timings["total_s"] = time.perf_counter() - t0
        dino_s = self._dino_terms(works)
        results = []
        for w in works:
            t0 = time.perf_counter()
            self._text_terms(w)
            overall = self._composite(w)
            w.timings["total_s"] += time.perf_counter() - t0
            if dino_s is not None:
                w.timings["dino_batch_s"] = dino_s
                w.timings["total_s"] += dino_s / len(works)
            terms = {name: w.terms[name] for name in self.config.weights if name in w.terms}
            results.append(RewardResult(float(overall), terms, w.status, "; ".join(w.notes), w.timings))
        return results

    def _prepare(self, w: _Work) -> None:
        """Extraction, reference, render and the non-DINO image terms of one sample."""
        cfg, s = self.config, w.sample
        t = time.perf_counter()
        ex = extract_code(s.response, s.lang, cfg.language.aliases, cfg.language.on_missing)
        w.code, w.fence_ok = ex.code, ex.fence_ok
        w.timings["extract_s"] = time.perf_counter() - t
        if ex.code is None:
            w.status = ex.status
            w.notes.append(f"{ex.status}: no ```{s.lang} block" + (f" (fences seen: {list(ex.tags)})" if ex.tags else ""))
            self._fail_image_terms(w)
            return
        if ex.status != OK:
            w.notes.append(f"{ex.status}: no ```{s.lang} block, scoring the raw text")

        ref = to_rgb(s.reference)
        size = scoring_size((ref.shape[1], ref.shape[0]), cfg.size, cfg.max_pixels)
        w.ref = resize(ref, size, "bicubic")

        t = time.perf_counter()
        try:
            res = self.renderer.render(s.lang, ex.code, size=size)
            status, image, message = res.status, res.image, res.message
        except Exception as e:  # a renderer bug must not kill the batch: it is a defined failure, reported
            status, image, message = RENDERER_CRASH, None, f"{type(e).__name__}: {e}"
        w.timings["render_s"] = time.perf_counter() - t

        if status == OK and image is not None and cfg.blank_is_failure and is_near_white(image):
            status = BLANK
        usable = image is not None and (status == OK or (status == BLANK and not cfg.blank_is_failure))
        if not usable:
            w.status, w.render_failed = status, True
            w.notes.append(f"render {status}" + (f": {message}" if message else ""))
            self._fail_image_terms(w)
            return
        if status != OK:
            w.notes.append(f"render {status} (scored anyway)")
        w.pred = align(image, w.ref)

        t = time.perf_counter()
        for name, fn in self._image_terms.items():
            w.terms[name] = float(fn(w.pred, w.ref))
        w.timings["terms_s"] = time.perf_counter() - t

    def _fail_image_terms(self, w: _Work) -> None:
        for name in self.config.weights:
            if name in IMAGE_TERMS:
                w.terms[name] = self.config.term_failure_value(name)

    def _dino_terms(self, works: list[_Work]) -> float | None:
        if not DINO_TERMS & set(self.config.weights):
            return None
        live = [w for w in works if w.pred is not None]
        if not live:
            return None
        t = time.perf_counter()
        images = [w.pred for w in live] + [w.ref for w in live]
        feats = self.encoder.view_features(images, cache=[False] * len(live) + [True] * len(live))
        for k, w in enumerate(live):
            coarse, fine = coarse_fine(feats[k], feats[len(live) + k])
            if "dino_coarse" in self.config.weights:
                w.terms["dino_coarse"] = coarse
            if "dino_fine" in self.config.weights:
                w.terms["dino_fine"] = fine
        return time.perf_counter() - t

    def _text_terms(self, w: _Work) -> None:
        weights = self.config.weights
        if "format" in weights:
            w.terms["format"] = self._format(w.fence_ok)
        if "length" in weights:
            if w.code is None:
                w.terms["length"] = self.config.term_failure_value("length")
                return
            gt_len = w.sample.gt_length
            if gt_len is None and w.sample.ground_truth is not None:
                gt = extract_code(w.sample.ground_truth, w.sample.lang, self.config.language.aliases, "raw").code or ""
                gt_len = self._measure(gt)
            if not gt_len:
                w.notes.append("length skipped: no ground-truth length")
                return
            pred_len = w.sample.pred_length if w.sample.pred_length is not None else self._measure(w.code)
            w.terms["length"] = self._length(pred_len, gt_len)

    def _measure(self, text: str) -> int:
        lcfg = self.config.length
        if lcfg.unit == "chars":
            return len(text)
        if not lcfg.tokenizer:
            raise ValueError("reward.length.unit is 'tokens' but reward.length.tokenizer is not set and no length was given")
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(lcfg.tokenizer)
        return len(self._tokenizer.encode(text, add_special_tokens=False))

    def _composite(self, w: _Work) -> float:
        cfg = self.config
        if w.code is None or (w.render_failed and cfg.render_failure == "overall"):
            return cfg.failure_value(w.status)
        present = [(cfg.weights[n], v) for n, v in w.terms.items() if n in cfg.weights]
        total = sum(wt * v for wt, v in present)
        if cfg.normalize_weights:
            denom = sum(wt for wt, _ in present)
            return total / denom if denom else 0.0
        return total

