"""The reward's schema: typed dataclasses; values come from YAML (a preset, a reward file or a recipe).

A reward YAML is either the reward mapping itself or a recipe with a top-level `vinci: {reward: {...}}`
block (other recipe keys are left to their owners). `preset: NAME` inside the mapping starts from a preset
in `vinci_rl/reward/presets/` and overrides it key by key (nested blocks merge; `weights` replaces the
preset's weights as a whole, so a term can be dropped). Unknown keys raise ValueError naming the key and
the file. `RewardConfig()` equals the `default` preset: every value that preset sets is read from
`presets/default.yaml`, the one place it is written (the fields below it does not set keep their defaults here).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from vinci_rl.typed_config import build

PRESETS_DIR = Path(__file__).parent / "presets"

# Every term the scorer knows, with the value it takes when the render failed (its lowest value) unless
# `term_failure_values` says otherwise.
TERM_FLOORS: dict[str, float] = {
    "pixel_l2": -1.0,
    "canny_l2": -1.0,
    "ssim": -1.0,
    "ssim_structure": -1.0,
    "shape": -1.0,
    "pixel_coarse": -1.0,
    "colour": -1.0,
    "dino_coarse": 0.0,
    "dino_fine": 0.0,
    "dino_crops": 0.0,
    "lpips": -1.0,
    "dreamsim": -1.0,
    "length": -1.0,
    "format": 0.0,
}
TERMS = tuple(TERM_FLOORS)
# Terms computed from the render; the others (length, format) only need the text.
IMAGE_TERMS = frozenset(
    {"pixel_l2", "canny_l2", "ssim", "ssim_structure", "shape", "pixel_coarse", "colour", "lpips", "dreamsim"}
) | frozenset({"dino_coarse", "dino_fine", "dino_crops"})
DINO_TERMS = frozenset({"dino_coarse", "dino_fine", "dino_crops"})

RENDER_FAILURE_MODES = ("overall", "terms")
ON_MISSING = ("fail", "raw", "vincicoder", "rlrf")
REFERENCE_SOURCES = ("image", "ground_truth")
DINO_FEATURES = ("cls_prenorm", "cls", "mean")
DTYPES = ("bfloat16", "float32", "float16")
LENGTH_UNITS = ("chars", "tokens")
_DEFAULT_PRESET: dict[str, Any] = yaml.safe_load((PRESETS_DIR / "default.yaml").read_text())


def _default(dotted: str) -> Any:
    """A value of the default preset (presets/default.yaml): the field defaults below that it sets."""
    value: Any = _DEFAULT_PRESET
    for part in dotted.split("."):
        value = value[part]
    return value


@dataclass
class LanguageConfig:
    # How the code is read from the response and what happens when nothing is read (vinci_rl/reward/extract.py):
    # "fail" -> fences as models write them (exact, aliases, untagged, ~~~, cut off); nothing read: the sample
    #           scores failure_rewards[wrong_language | no_code];
    # "raw"  -> the same reading; nothing read: the last fenced block of any tag, else the whole response;
    # "vincicoder" -> VinciCoder's regex (exact tag, inline fences); nothing read: failure;
    # "rlrf" -> RLRF's rule for SVG (the last <svg>...</svg> span, fenced or not); nothing read: failure.
    on_missing: str = _default("language.on_missing")
    # Extra fence tags per language read as an exact fence (the built-in aliases xml, tikz, py, ... are lenient).
    aliases: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class LengthConfig:
    # "chars" counts characters; "tokens" counts tokens of `tokenizer` (a path or hub id, loaded lazily),
    # unless the caller passes the lengths itself.
    unit: str = _default("length.unit")
    tokenizer: str | None = None
    # Below floor_ratio x the ground-truth length the term is floor_penalty (RLRF's length-collapse hack).
    floor_ratio: float = _default("length.floor_ratio")
    floor_penalty: float = _default("length.floor_penalty")


@dataclass
class FormatConfig:
    # The format term: 1 for an exact fence, lenient_value for code read from a fence written another way
    # (alias, untagged, ~~~, cut off), wrong_value when no block of the target language was read.
    wrong_value: float = _default("format.wrong_value")
    lenient_value: float = _default("format.lenient_value")


@dataclass
class PixelConfig:
    # pixel_l2 / canny_l2 when a map is constant (a flat render, an edge map without edges): -1 (RLRF's NaN path);
    # when both maps are: both_flat (RLRF: -1; ours: 1, the two images agree).
    both_flat: float = _default("pixel.both_flat")


@dataclass
class DinoConfig:
    # Weights: a local directory or a hub id passed to Dinov2Model.from_pretrained ...
    model: str | None = None
    # ... or a Dinov2Config as a dict: random weights (tests, smoke runs). One of the two is needed.
    config: dict[str, Any] | None = None
    # cls_prenorm: CLS of the last layer before the final LayerNorm (VinciCoder); cls: CLS after it;
    # mean: mean of the patch tokens after it (StarVector DinoScore).
    feature: str = "cls_prenorm"
    tile_size: int = 448
    max_tiles: int = 12
    # bfloat16 casts the model with .to() (faster than autocast on CPU with AMX); float32 for exactness.
    dtype: str = "bfloat16"
    # "auto": cuda when available, else cpu.
    device: str = "auto"
    # Crops per forward pass.
    batch_size: int = 16
    # Reference images whose view features are kept (LRU, keyed by sha1 of the pixels + tiling spec).
    cache_size: int = 1024
    image_mean: list[float] = field(default_factory=lambda: [0.485, 0.456, 0.406])
    image_std: list[float] = field(default_factory=lambda: [0.229, 0.224, 0.225])


@dataclass
class LpipsConfig:
    # A torch state_dict of a whole `lpips.LPIPS(net=net)` module (no download happens).
    path: str | None = None
    net: str = "alex"
    size: int = 256
    device: str = "auto"


@dataclass
class DreamSimConfig:
    # The dreamsim cache directory holding its checkpoints (no download happens when they are there).
    path: str | None = None
    type: str = "ensemble"
    device: str = "auto"


@dataclass
class RewardConfig:
    # term -> weight. Only the listed terms are computed and reported (weight 0 = logged, not counted).
    weights: dict[str, float] = field(default_factory=lambda: dict(_default("weights")))
    # true: overall = sum(w * term) / sum(w) over the terms present; false: overall = sum(w * term).
    normalize_weights: bool = _default("normalize_weights")
    # Overall reward of a failed sample (render failure in "overall" mode, wrong language, no code). RLRF: -1.
    failure_reward: float = _default("failure_reward")
    # Per failure kind override of failure_reward: a render status (parse_error, timeout, blank, ...) or
    # wrong_language / no_code.
    failure_rewards: dict[str, float] = field(default_factory=dict)
    # On a render failure: "overall" -> overall = the failure reward (RLRF);
    # "terms" -> image terms take their failure value and the composite is computed as usual (VinciCoder).
    render_failure: str = _default("render_failure")
    # term -> value filled in when the render failed; default: the term's lowest value (TERM_FLOORS).
    term_failure_values: dict[str, float] = field(default_factory=dict)
    # A near-white render (mean >= 254 or pixel range < 5; status blank) counts as a render failure (RLRF). Off
    # in our presets: a sparse drawing on white can be near-white, and no_content_is_failure catches empty ones.
    blank_is_failure: bool = _default("blank_is_failure")
    # A render with no detail at all (a flat fill, a smooth gradient, a background only, an empty page) against a
    # reference that has some counts as a render failure (status blank, whatever its colour): an empty canvas is
    # never paid.
    no_content_is_failure: bool = _default("no_content_is_failure")
    # "reference": render and compare at the reference image's size, scaled down to max_pixels;
    # [width, height]: a fixed canvas (RLRF: [512, 512]); the render keeps the reference's aspect ratio, fitted
    # in the canvas, and both sides are padded to it with white the same way.
    size: Any = _default("size")
    max_pixels: int | None = _default("max_pixels")
    # What the render is compared with: "image" (the reference image) or "ground_truth": the ground-truth code
    # rendered by the same renderer at the same size (RLRF), the image when there is no ground truth or it fails.
    reference_source: str = _default("reference_source")
    # language -> [width, height]: rasterise the prediction inside this box (the scoring size's aspect kept) and
    # resize it (bicubic) to the scoring size (VinciCoder renders SVG at 336 x 336).
    render_sizes: dict[str, list[int]] = field(default_factory=dict)
    # Languages whose layout depends on the canvas size (an HTML viewport, a matplotlib figure in inches): they
    # are rendered at the reference image's own size (within the renderer's max_pixels) and then scaled to the
    # scoring size, so a capped or fixed scoring size does not reflow the page. SVG, TikZ, Mermaid and SMILES
    # drawings scale with the canvas and are rendered at the scoring size.
    native_size_languages: list[str] = field(default_factory=lambda: ["html", "python"])
    language: LanguageConfig = field(default_factory=LanguageConfig)
    length: LengthConfig = field(default_factory=LengthConfig)
    format: FormatConfig = field(default_factory=FormatConfig)
    pixel: PixelConfig = field(default_factory=PixelConfig)
    dino: DinoConfig = field(default_factory=DinoConfig)
    lpips: LpipsConfig = field(default_factory=LpipsConfig)
    dreamsim: DreamSimConfig = field(default_factory=DreamSimConfig)
    # Passed to vinci_rl.render.RenderConfig (its own keys; it rejects unknown ones).
    render: dict[str, Any] = field(default_factory=dict)

    # ---- loading -------------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, source: str = "<dict>") -> "RewardConfig":
        """Build from a reward mapping (keys as above; `preset: NAME` allowed). Raises ValueError."""
        data = dict(data or {})
        preset = data.pop("preset", None)
        if preset is not None:
            base = _preset_dict(str(preset), source)
            data = _merge(base, data)
        cfg = build(cls, data, source, "reward")
        cfg.validate(source)
        return cfg

    @classmethod
    def from_yaml(cls, path: str | Path) -> "RewardConfig":
        """Load a reward YAML or a recipe YAML with a top-level `vinci: {reward: ...}` block."""
        from vinci_rl.train.vinci_block import read_vinci_block, read_yaml

        path = Path(path)
        block = read_vinci_block(path, "reward config")  # a recipe's block, composed as training composes it
        raw = (read_yaml(path, "reward config") or {}) if block is None else (block.get("reward") or {})
        if not isinstance(raw, dict):
            where = "at the top level" if block is None else "in 'vinci.reward'"
            raise ValueError(f"{path}: expected a mapping {where}, got {type(raw).__name__}")
        return cls.from_dict(raw, source=str(path))

    @classmethod
    def from_preset(cls, name: str) -> "RewardConfig":
        """A bundled preset: see `presets()`."""
        return cls.from_dict(_preset_dict(name, f"preset {name!r}"), source=str(PRESETS_DIR / f"{name}.yaml"))

    @classmethod
    def load(cls, spec: str | Path | Mapping[str, Any] | "RewardConfig" | None) -> "RewardConfig":
        """One entry point: None -> default; a config; a dict; a preset name; a YAML path."""
        if spec is None:
            return cls.from_preset("default")
        if isinstance(spec, RewardConfig):
            return spec
        if isinstance(spec, Mapping):
            return cls.from_dict(spec)
        if isinstance(spec, str) and (PRESETS_DIR / f"{spec}.yaml").is_file():
            return cls.from_preset(spec)
        return cls.from_yaml(spec)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    # ---- checks and derived values -------------------------------------------------------------------

    def validate(self, source: str = "<dict>") -> None:
        def bad(msg: str) -> ValueError:
            return ValueError(f"{source}: {msg}")

        if not self.weights:
            raise bad("reward.weights is empty: configure at least one term")
        for name, w in self.weights.items():
            if name not in TERM_FLOORS:
                raise bad(f"unknown term 'reward.weights.{name}'; known terms: {', '.join(TERMS)}")
            if not isinstance(w, (int, float)) or isinstance(w, bool):
                raise bad(f"reward.weights.{name} must be a number, got {w!r}")
        for name in self.term_failure_values:
            if name not in TERM_FLOORS:
                raise bad(f"unknown term 'reward.term_failure_values.{name}'")
        if self.render_failure not in RENDER_FAILURE_MODES:
            raise bad(f"reward.render_failure must be one of {RENDER_FAILURE_MODES}, got {self.render_failure!r}")
        if self.language.on_missing not in ON_MISSING:
            raise bad(f"reward.language.on_missing must be one of {ON_MISSING}, got {self.language.on_missing!r}")
        if self.reference_source not in REFERENCE_SOURCES:
            raise bad(f"reward.reference_source must be one of {REFERENCE_SOURCES}, got {self.reference_source!r}")
        if not isinstance(self.native_size_languages, (list, tuple)) or not all(isinstance(x, str) for x in self.native_size_languages):
            raise bad(f"reward.native_size_languages must be a list of language names, got {self.native_size_languages!r}")
        for lang, box in self.render_sizes.items():
            if not (isinstance(box, (list, tuple)) and len(box) == 2 and all(isinstance(v, int) and v > 0 for v in box)):
                raise bad(f"reward.render_sizes.{lang} must be [width, height] positive ints, got {box!r}")
        if self.length.unit not in LENGTH_UNITS:
            raise bad(f"reward.length.unit must be one of {LENGTH_UNITS}, got {self.length.unit!r}")
        if self.dino.feature not in DINO_FEATURES:
            raise bad(f"reward.dino.feature must be one of {DINO_FEATURES}, got {self.dino.feature!r}")
        if self.dino.dtype not in DTYPES:
            raise bad(f"reward.dino.dtype must be one of {DTYPES}, got {self.dino.dtype!r}")
        if self.dino.config is not None and not isinstance(self.dino.config, dict):
            raise bad(f"reward.dino.config must be a mapping of Dinov2Config fields, got {self.dino.config!r}")
        if self.dino.tile_size < 14 or self.dino.max_tiles < 1:
            raise bad("reward.dino.tile_size must be >= 14 and reward.dino.max_tiles >= 1")
        if DINO_TERMS & set(self.weights) and not (self.dino.model or self.dino.config):
            raise bad("dino terms are weighted but neither reward.dino.model (path / hub id) nor reward.dino.config is set")
        if "lpips" in self.weights and not self.lpips.path:
            raise bad("term lpips is weighted but reward.lpips.path (LPIPS weights) is not set")
        if "dreamsim" in self.weights and not self.dreamsim.path:
            raise bad("term dreamsim is weighted but reward.dreamsim.path (DreamSim checkpoint dir) is not set")
        size = self.size
        if isinstance(size, str):
            if size != "reference":
                raise bad(f"reward.size must be 'reference' or [width, height], got {size!r}")
        elif not (isinstance(size, (list, tuple)) and len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size)):
            raise bad(f"reward.size must be 'reference' or [width, height] positive ints, got {size!r}")
        if self.max_pixels is not None and self.max_pixels <= 0:
            raise bad(f"reward.max_pixels must be positive or null, got {self.max_pixels!r}")
        if not isinstance(self.render, dict):
            raise bad(f"reward.render must be a mapping, got {self.render!r}")
        from vinci_rl.render.config import RenderConfig

        try:
            RenderConfig.from_dict(self.render)
        except (ValueError, TypeError) as e:
            raise bad(f"reward.render: {e}") from e

    def failure_value(self, kind: str) -> float:
        """Overall reward of a sample that failed with this kind (render status, wrong_language, no_code)."""
        return float(self.failure_rewards.get(kind, self.failure_reward))

    def term_failure_value(self, term: str) -> float:
        return float(self.term_failure_values.get(term, TERM_FLOORS[term]))


def presets() -> list[str]:
    """Names of the bundled presets."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def _preset_dict(name: str, source: str) -> dict[str, Any]:
    path = PRESETS_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ValueError(f"{source}: unknown reward preset {name!r}; available: {', '.join(presets())}")
    data = yaml.safe_load(path.read_text()) or {}
    if "preset" in data:
        data = _merge(_preset_dict(str(data.pop("preset")), str(path)), data)
    return data


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if k != "weights" and isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = _merge(dict(out[k]), v)
        else:
            out[k] = v
    return out
