"""VisualScorer: response text + target language + reference image -> RewardResult (overall + named terms).

Steps per sample: the render plan (plan.py: the code of the target language, the scoring size, the render
size) -> the reference at the scoring size (the image, or the ground truth rendered when reference_source is
ground_truth) -> render -> resize the render to the reference (and, on a fixed canvas, pad both to it) ->
blank / no-content checks -> image terms
(pixel_l2, canny_l2, ssim, ssim_structure, shape, pixel_coarse, lpips, dreamsim) -> DINO terms, batched over
all samples of a `score_many` call (a group's shared reference is encoded once and cached) -> text terms
(length, format) -> composite.

Composite: overall = sum(w * term) over the terms present, divided by sum(w) when normalize_weights is on.
Only terms listed in `weights` are computed and reported. `length` is absent when no ground-truth length
is known (the message says so), and the normalisation then runs over the remaining weights.

Failures are values: no block of the target language -> status wrong_language / no_code and overall =
failure_rewards[status]; a render failure (any render status but ok; blank for a render without any detail when
no_content_is_failure, and for a near-white one when blank_is_failure) ->
status = the render status and, in render_failure "overall" mode, overall = failure_rewards[status]; in
"terms" mode the image terms take their failure values and the composite is computed. Text terms are
always computed when they can be.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from vinci_rl.render.result import BLANK, RENDERER_CRASH, is_near_white
from vinci_rl.reward.composite import composite
from vinci_rl.reward.config import DINO_TERMS, IMAGE_TERMS, RewardConfig
from vinci_rl.reward.extract import OK
from vinci_rl.reward.image import ImageLike, align, has_detail, pad_to, resize, to_rgb
from vinci_rl.reward.plan import RenderJob, RenderPlan, plan_render, read_answer, renderer_max_pixels
from vinci_rl.reward.terms.coarse import PixelCoarse, ShapeOverlap
from vinci_rl.reward.terms.colour import ColourTerm
from vinci_rl.reward.terms.dino import coarse_fine, crops_mean
from vinci_rl.reward.terms.format import FormatReward
from vinci_rl.reward.terms.length import LengthReward
from vinci_rl.reward.terms.pixel import CannyL2, PixelL2
from vinci_rl.reward.terms.ssim import ssim, ssim_structure


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
    # What the render could not load (HTML: URLs the offline CDN mirror does not serve); the render went on without.
    missing_resources: list[str] = field(default_factory=list)
    # overall is the weighted sum of terms (false: a failure value, which no reweighting changes).
    weighted: bool = False

    # The answer's render as it was compared (aligned to the reference), when there was one; not in to_dict.
    render: np.ndarray | None = field(default=None, repr=False, compare=False, kw_only=True)

    @property
    def ok(self) -> bool:
        return self.status == OK

    def to_dict(self) -> dict[str, Any]:
        """overall, terms, status, message, timings; missing_resources too when there are any (the render and the
        weighted flag stay out: the flag travels in the pool's wire dict, reward_workers/results.py)."""
        d = asdict(self)
        d.pop("render", None)
        d.pop("weighted", None)
        if not d["missing_resources"]:
            del d["missing_resources"]
        return d


class _Work:
    """Per-sample state while a batch is scored."""

    def __init__(self, sample: Sample):
        self.sample = sample
        self.terms: dict[str, float] = {}
        self.status = OK
        self.render_failed = False
        self.code: str | None = None
        self.gt_code: str | None = None
        self.fence_ok = False
        self.lenient = False
        self.pred: np.ndarray | None = None
        self.render: np.ndarray | None = None  # the render as compared, even when it failed a check
        self.ref: np.ndarray | None = None
        self.notes: list[str] = []
        self.timings: dict[str, float] = {}
        self.missing_resources: list[str] = []


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
        self._format = FormatReward(wrong_value=cfg.format.wrong_value, lenient_value=cfg.format.lenient_value)
        self._gt_renders: OrderedDict[tuple, np.ndarray | None] = OrderedDict()
        self._render_max_pixels = renderer_max_pixels(cfg)
        plain = {
            "pixel_l2": PixelL2(both_flat=cfg.pixel.both_flat),
            "canny_l2": CannyL2(both_flat=cfg.pixel.both_flat),
            "ssim": ssim,
            "ssim_structure": ssim_structure,
            "shape": ShapeOverlap(),
            "pixel_coarse": PixelCoarse(),
            "colour": ColourTerm(),
        }
        self._image_terms: dict[str, Any] = {}
        for name in cfg.weights:
            if name in plain:
                self._image_terms[name] = plain[name]
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
            results.append(RewardResult(float(overall), terms, w.status, "; ".join(w.notes), w.timings,
                                        w.missing_resources, weighted=not self._failed(w)))
        for result, w in zip(results, works, strict=True):
            result.render = w.render
        return results

    def plan(self, sample: Sample) -> RenderPlan:
        """The render plan of a sample under this scorer's config (sample.reference must be an RGB array)."""
        ref = sample.reference
        return plan_render(sample.response, sample.lang, (ref.shape[1], ref.shape[0]), self.config,
                           sample.ground_truth, render_max_pixels=self._render_max_pixels)  # fmt: skip

    def planned_renders(self, samples: Sequence[Sample]) -> list[RenderJob]:
        """Every render score_many(samples) will ask the renderer for, in its order (a ground-truth reference is
        rendered once: not again for a later sample of the call, nor when an earlier call cached it). Each sample's
        reference becomes an RGB array; a sample whose reference cannot be read plans nothing (scoring reports it)."""
        jobs: list[RenderJob] = []
        gt_seen: set[tuple] = set()
        for s in samples:
            try:
                s.reference = to_rgb(s.reference)
            except (ValueError, TypeError):
                continue
            plan = self.plan(s)
            if plan.gt_job is not None:
                key = self._gt_key(plan.gt_job)
                if key not in gt_seen and key not in self._gt_renders:
                    jobs.append(plan.gt_job)
                gt_seen.add(key)
            if plan.answer_job is not None:
                jobs.append(plan.answer_job)
        return jobs

    def _prepare(self, w: _Work) -> None:
        """Extraction, reference, render and the non-DINO image terms of one sample."""
        s = w.sample
        t = time.perf_counter()
        ex = read_answer(s.response, s.lang, self.config)  # the plan's reading, before the reference is looked at
        w.code, w.fence_ok, w.lenient = ex.code, ex.fence_ok, ex.lenient
        w.timings["extract_s"] = time.perf_counter() - t
        if ex.code is None:
            w.status = ex.status
            w.notes.append(f"{ex.status}: no ```{s.lang} block" + (f" (fences seen: {list(ex.tags)})" if ex.tags else ""))
            self._fail_image_terms(w)
            return
        if ex.status != OK:
            w.notes.append(f"{ex.status}: no ```{s.lang} block, scoring the raw text")
        elif ex.lenient:
            w.notes.append(f"code read from a fence other than ```{s.lang}")

        s.reference = to_rgb(s.reference)
        plan = self.plan(s)
        w.gt_code = plan.gt_code
        ref = self._reference_at(w, s.reference, plan)
        w.ref = pad_to(ref, plan.canvas)

        t = time.perf_counter()
        try:
            res = self.renderer.render(s.lang, ex.code, size=plan.render_size)
            status, image, message = res.status, res.image, res.message
            w.missing_resources = [str(u) for u in res.extra.get("missing_resources", [])]
            if w.missing_resources:
                w.notes.append(f"{len(w.missing_resources)} resource(s) not loaded: {', '.join(w.missing_resources[:3])}")
        except Exception as e:  # a renderer bug must not kill the batch: it is a defined failure, reported
            status, image, message = RENDERER_CRASH, None, f"{type(e).__name__}: {e}"
        w.timings["render_s"] = time.perf_counter() - t

        if image is not None:
            image = pad_to(align(image, ref), plan.canvas)
            w.render = image
        status, message, failed = self._check_render(status, image, w.ref, message)
        if failed:
            w.status, w.render_failed = status, True
            detail = message.removeprefix(f"{status}: ") if message else ""  # renderers may start with the status
            w.notes.append(f"render {status}" + (f": {detail}" if detail else ""))
            self._fail_image_terms(w)
            return
        if status != OK:
            w.notes.append(f"render {status} (scored anyway)")
        w.pred = image

        t = time.perf_counter()
        for name, fn in self._image_terms.items():
            w.terms[name] = float(fn(w.pred, w.ref))
        w.timings["terms_s"] = time.perf_counter() - t

    def _check_render(self, status: str, image: np.ndarray | None, ref: np.ndarray, message: str) -> tuple[str, str, bool]:
        """(status, message, failed) after the content checks on the image as it is compared: no detail while the
        reference has some (no_content_is_failure), near-white (RLRF's blank test; a failure when blank_is_failure).
        Both get status blank, told apart by the message."""
        cfg = self.config
        if image is None or status not in (OK, BLANK):
            return status, message, True
        near_white = is_near_white(image)
        if cfg.no_content_is_failure and not has_detail(image) and has_detail(ref):
            return BLANK, "render has no detail (flat fill, gradient or background only)", True
        if near_white:
            return BLANK, "render is near-white", cfg.blank_is_failure
        return OK, message, False

    def _reference_at(self, w: _Work, ref: np.ndarray, plan: RenderPlan) -> np.ndarray:
        """The reference at the scoring size: the image resized, or the ground truth rendered like the prediction
        (reference_source: ground_truth)."""
        if self.config.reference_source == "ground_truth" and w.sample.ground_truth is not None:
            if plan.gt_job is not None:
                image = self._render_ground_truth(plan.gt_job)
                if image is not None:
                    return resize(image, plan.size, "bicubic")
            w.notes.append("ground truth did not render: compared with the reference image")
        return resize(ref, plan.size, "bicubic")

    @staticmethod
    def _gt_key(job: RenderJob) -> tuple:
        return (job.lang, hashlib.sha1(job.code.encode()).hexdigest(), tuple(job.size))

    def _render_ground_truth(self, job: RenderJob) -> np.ndarray | None:
        key = self._gt_key(job)
        if key in self._gt_renders:
            self._gt_renders.move_to_end(key)
            return self._gt_renders[key]
        try:
            res = self.renderer.render(job.lang, job.code, size=job.size)
            image = res.image if res.status in (OK, BLANK) else None
        except Exception:  # a renderer bug on the ground truth: fall back to the image (noted by the caller)
            image = None
        self._gt_renders[key] = image
        while len(self._gt_renders) > 64:
            self._gt_renders.popitem(last=False)
        return image

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
            pred_feats, ref_feats = feats[k], feats[len(live) + k]
            coarse, fine = coarse_fine(pred_feats, ref_feats)
            if "dino_coarse" in self.config.weights:
                w.terms["dino_coarse"] = coarse
            if "dino_fine" in self.config.weights:
                w.terms["dino_fine"] = fine
            if "dino_crops" in self.config.weights:
                w.terms["dino_crops"] = crops_mean(pred_feats, ref_feats)
        return time.perf_counter() - t

    def _text_terms(self, w: _Work) -> None:
        weights = self.config.weights
        if "format" in weights:
            w.terms["format"] = self._format(w.fence_ok, w.lenient)
        if "length" in weights:
            if w.code is None:
                w.terms["length"] = self.config.term_failure_value("length")
                return
            gt_len = w.sample.gt_length
            if gt_len is None and w.sample.ground_truth is not None:
                gt_len = self._measure(w.gt_code or "")
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
            from vinci_rl.models.locate import load_tokenizer

            self._tokenizer = load_tokenizer(lcfg.tokenizer, "reward.length.tokenizer")
        return len(self._tokenizer.encode(text, add_special_tokens=False))

    def _failed(self, w: _Work) -> bool:
        """The overall reward is the failure value: no code, or a failed render under render_failure: overall."""
        return w.code is None or (w.render_failed and self.config.render_failure == "overall")

    def _composite(self, w: _Work) -> float:
        cfg = self.config
        if self._failed(w):
            return cfg.failure_value(w.status)
        return composite(w.terms, cfg.weights, cfg.normalize_weights)

