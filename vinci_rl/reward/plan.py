"""The render plan: which code of an answer is scored, and at which sizes it and the reference are rendered and
compared. A pure function of (answer, target language, reference size, reward config, ground truth).

    plan = plan_render(response, "html", (1280, 720), RewardConfig.load("default"), ground_truth=gt)
    plan.answer.code, plan.answer.fence_ok     # what is rendered, and how it was read
    plan.size, plan.canvas, plan.render_size   # compared at size, padded to canvas, rasterised at render_size
    plan.jobs()                                # every render the scorer asks for, in its order

The scorer follows it; the reward worker prefetches exactly `plan.jobs()`; the pool's dedupe key is built from
`read_answer`; evaluation and the run reports render by it. So a rule changed here changes everywhere at once.

Sizes: the scoring size is the reference's own size capped at `max_pixels`, or the reference's aspect fitted in a
fixed canvas (`size: [w, h]`, both sides then padded to it with white). The answer is rasterised inside
`render_sizes[lang]` when configured (VinciCoder: SVG at 336^2), at the reference's own size (capped at the
renderers' max_pixels) for a language whose layout depends on the canvas (the language table's `native_size`
languages, `native_size_languages` in the config), else at the scoring size; the render is then resized to the
scoring size. With `reference_source: ground_truth` the ground truth is rendered the same way as the reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vinci_rl.reward.extract import Extraction, extract_code
from vinci_rl.reward.image import fit_size, scoring_size

if TYPE_CHECKING:
    from vinci_rl.reward.config import RewardConfig


@dataclass(frozen=True)
class RenderJob:
    """One render the scorer asks its renderer for."""

    lang: str
    code: str
    size: tuple[int, int]


@dataclass(frozen=True)
class RenderPlan:
    lang: str
    answer: Extraction  # the code read from the answer (None: nothing read) and how it was read
    size: tuple[int, int]  # the scoring size: render and reference are compared at it
    canvas: tuple[int, int]  # both sides are padded to it (the size itself unless the config fixes a canvas)
    render_size: tuple[int, int]  # where the answer's code (and a ground-truth reference) is rasterised
    gt_code: str | None  # the ground-truth code as the reward reads it (length term; reference when rendered)
    gt_reference: bool  # the reference is the ground truth rendered like the answer (reference_source)

    @property
    def code(self) -> str | None:
        return self.answer.code

    @property
    def gt_job(self) -> RenderJob | None:
        """The ground truth's render, when it is the reference."""
        return RenderJob(self.lang, self.gt_code, self.render_size) if self.gt_reference and self.gt_code else None

    @property
    def answer_job(self) -> RenderJob | None:
        """The answer's render, when code was read."""
        return None if self.answer.code is None else RenderJob(self.lang, self.answer.code, self.render_size)

    def jobs(self) -> list[RenderJob]:
        """The renders the scorer asks for, in its order: the ground-truth reference first, then the answer."""
        return [job for job in (self.gt_job, self.answer_job) if job is not None]


def read_answer(response: str, lang: str, config: "RewardConfig", on_missing: str | None = None) -> Extraction:
    """The code of the target language in a response, read by the config's rule (or `on_missing`'s)."""
    return extract_code(response, lang, config.language.aliases, on_missing or config.language.on_missing)


def ground_truth_code(ground_truth: str | None, lang: str, config: "RewardConfig") -> str | None:
    """The ground-truth code: as given under RLRF's reading (it renders and measures the raw string), else read
    like an answer with the raw fallback (a fenced ground truth is unwrapped)."""
    if ground_truth is None:
        return None
    if config.language.on_missing == "rlrf":
        return ground_truth
    return extract_code(ground_truth, lang, config.language.aliases, "raw").code


def renderer_max_pixels(config: "RewardConfig") -> int:
    """The renderers' own pixel cap under this config (a native-size render stays within it)."""
    from vinci_rl.render.config import RenderConfig

    return RenderConfig.from_dict(config.render).max_pixels


def plan_sizes(
    lang: str, ref_size: tuple[int, int], config: "RewardConfig", render_max_pixels: int | None = None
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """(scoring size, canvas, render size) for a reference of ref_size (width, height)."""
    ref_size = (int(ref_size[0]), int(ref_size[1]))
    size = scoring_size(ref_size, config.size, config.max_pixels)
    canvas = (int(config.size[0]), int(config.size[1])) if isinstance(config.size, (list, tuple)) else size
    box = config.render_sizes.get(lang)
    if box:
        render_size = fit_size(size, (int(box[0]), int(box[1])))
    elif lang in config.native_size_languages and ref_size != size:
        cap = render_max_pixels if render_max_pixels is not None else renderer_max_pixels(config)
        render_size = scoring_size(ref_size, "reference", cap)
    else:
        render_size = size
    return size, canvas, render_size


def plan_render(
    response: str,
    lang: str,
    ref_size: tuple[int, int],
    config: "RewardConfig",
    ground_truth: str | None = None,
    on_missing: str | None = None,
    render_max_pixels: int | None = None,
) -> RenderPlan:
    """The plan of one sample (see the module docstring); on_missing overrides the config's reading rule."""
    answer = read_answer(response, lang, config, on_missing)
    size, canvas, render_size = plan_sizes(lang, ref_size, config, render_max_pixels)
    gt_code = ground_truth_code(ground_truth, lang, config)
    gt_reference = config.reference_source == "ground_truth" and bool(gt_code)
    return RenderPlan(lang, answer, size, canvas, render_size, gt_code, gt_reference)
