"""UniSVG image-to-SVG (`unisvg`, the ISVGEN task): SSIM, LPIPS, CLIP and 0.2 SSIM + 0.2 (1 - LPIPS) + 0.6 CLIP.

Data (the UniSVG test set, downloaded): DATA_DIR/test.json - a list of {"q_text", "image_path", "type", "a_text"}
(only type "ISVGEN" is read) - and the PNGs at DATA_DIR/png/<image_path> (or DATA_DIR/<image_path>).
Prompt: the image, then q_text (UniSVG infer.py). Item id: image_path.

As UniSVG's evaluation.py computes them:
- code: the first `<svg ...>...</svg>` in the answer; else an unclosed `<svg ...` to the end with its open tags
  closed (fix_svg); else an empty 336 x 336 SVG;
- render: cairosvg at 336 x 336 on white (the project's sandboxed SVG renderer). An answer that does not render
  is left out of the means (UniSVG `continue`s past it); the notes count them. An item with no answer at all
  scores SSIM 0, LPIPS 1, CLIP 0;
- SSIM: skimage structural_similarity on the RGB arrays, 7 x 7 uniform window, sample covariance, data range 255,
  the mean over channels of the mean over the map without its 3-pixel border (written here with scipy);
- LPIPS: lpips.LPIPS(net='alex') distance on [-1, 1] tensors at 336 x 336 (weights by --lpips);
- CLIP: cosine of the CLIP image embeddings (ViT-L/14-336, weights by --clip) of reference and render;
- reference and render of different sizes: SSIM 0, LPIPS 1, CLIP 0 (UniSVG's ValueError branch).
Score = 0.2 SSIM + 0.2 (1 - LPIPS) + 0.6 CLIP of the means (calculate_isvgen_tsvgen_score).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np

from vinci_rl.benchmarks.base import UNAVAILABLE, BenchmarkDataError, BenchmarkItem, MetricContext, MissingWeights, mean, register

SIZE = 336
EMPTY_SVG = f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}"></svg>'
FAILED = {"SSIM": 0.0, "LPIPS": 1.0, "CLIP": 0.0}  # UniSVG's values for a missing answer / a size mismatch
_SVG = re.compile(r"<svg[^>]*>(.*?)</svg>", re.DOTALL)
_SVG_OPEN = re.compile(r"<svg[^>]*>.*", re.DOTALL)


# ---- the answer's SVG -----------------------------------------------------------------------------------------


def close_tags(svg: str) -> str:
    """UniSVG's fix_svg: drop a trailing unfinished tag, close the opened tags never closed (innermost last opened
    first), end with </svg>."""
    svg = re.sub(r"<[^>]*$", "", svg)
    opened = re.findall(r"<([a-zA-Z]+)[^>]*>", svg)
    closed = re.findall(r"</([a-zA-Z]+)>", svg)
    stack = []
    for tag in opened:
        if tag in closed:
            closed.remove(tag)
        else:
            stack.append(tag)
    svg += "".join(f"</{t}>" for t in reversed(stack))
    return svg if svg.strip().endswith("</svg>") else svg + "</svg>"


def extract_svg(answer: str) -> str:
    m = _SVG.search(answer)
    if m:
        return m.group(0)
    m = _SVG_OPEN.search(answer)
    return close_tags(m.group(0)) if m else EMPTY_SVG


# ---- metrics --------------------------------------------------------------------------------------------------


def ssim_skimage(a: np.ndarray, b: np.ndarray, win: int = 7) -> float:
    """skimage.metrics.structural_similarity(a, b, win_size=win, channel_axis=2) for uint8 RGB images."""
    from scipy.ndimage import uniform_filter

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    cov_norm = win * win / (win * win - 1)
    pad = (win - 1) // 2
    out = []
    for ch in range(a.shape[2]):
        x, y = a[..., ch].astype(np.float64), b[..., ch].astype(np.float64)
        ux, uy = uniform_filter(x, size=win), uniform_filter(y, size=win)
        vx = cov_norm * (uniform_filter(x * x, size=win) - ux * ux)
        vy = cov_norm * (uniform_filter(y * y, size=win) - uy * uy)
        vxy = cov_norm * (uniform_filter(x * y, size=win) - ux * uy)
        s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
        out.append(s[pad:-pad, pad:-pad].mean(dtype=np.float64))
    return float(np.mean(out))


def _lpips_model(ctx: MetricContext):
    import importlib.util

    if not ctx.lpips_path:
        raise MissingWeights("--lpips", "UniSVG LPIPS", "a state_dict of lpips.LPIPS(net='alex')")
    if not Path(ctx.lpips_path).exists():
        raise MissingWeights("--lpips", "UniSVG LPIPS", f"{ctx.lpips_path} does not exist")
    if importlib.util.find_spec("lpips") is None:
        raise MissingWeights("--lpips", "UniSVG LPIPS", "the 'lpips' package is not installed (pip install lpips)")
    from vinci_rl.reward.terms.perceptual import load_lpips

    return load_lpips(ctx.lpips_path, "alex", ctx.device)


def lpips_distance(ctx: MetricContext, a: np.ndarray, b: np.ndarray) -> float:
    import torch

    model = ctx.cached("unisvg-lpips", lambda: _lpips_model(ctx))
    t = lambda x: torch.from_numpy(x.astype(np.float32) / 127.5 - 1).permute(2, 0, 1)[None].to(ctx.device)  # noqa: E731
    with torch.inference_mode():
        return float(model(t(a), t(b)).flatten()[0])


class ClipImages:
    """CLIP image embeddings (CLIPModel.get_image_features: the projected pooled output) with its preprocessing."""

    def __init__(self, ctx: MetricContext):
        import torch
        from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

        if ctx.clip_path:
            from vinci_rl.models.locate import ModelPathError, locate_pretrained

            try:
                path = locate_pretrained(ctx.clip_path, "--clip (CLIP weights)")
            except ModelPathError as e:
                raise MissingWeights("--clip", "UniSVG CLIP score", str(e)) from e
            self.model = CLIPModel.from_pretrained(path)
            self.processor = CLIPImageProcessor.from_pretrained(path)
        elif ctx.clip_config:
            torch.manual_seed(0)
            self.model = CLIPModel(CLIPConfig(**ctx.clip_config))
            side = self.model.config.vision_config.image_size
            self.processor = CLIPImageProcessor(size={"shortest_edge": side}, crop_size={"height": side, "width": side})
        else:
            raise MissingWeights("--clip", "UniSVG CLIP score", "openai/clip-vit-large-patch14-336 on disk")
        self.model = self.model.to(ctx.device).eval()
        self.device = ctx.device
        self._cache: dict[str, np.ndarray] = {}

    def embed(self, image: np.ndarray, key: str | None = None) -> np.ndarray:
        import torch
        from PIL import Image

        if key is not None and key in self._cache:
            return self._cache[key]
        pixels = self.processor(images=[Image.fromarray(image)], return_tensors="pt")["pixel_values"].to(self.device)
        with torch.inference_mode():
            pooled = self.model.vision_model(pixel_values=pixels).pooler_output
            emb = self.model.visual_projection(pooled)[0].float().cpu().numpy().astype(np.float64)
        if key is not None:
            self._cache[key] = emb
        return emb


def clip_similarity(ctx: MetricContext, pred: np.ndarray, ref: np.ndarray, ref_key: str) -> float:
    clip = ctx.cached("unisvg-clip", lambda: ClipImages(ctx))
    a, b = clip.embed(pred), clip.embed(ref, ref_key)
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))


# ---- the benchmark --------------------------------------------------------------------------------------------


class UniSvg:
    name = "unisvg"
    language = "svg"
    columns = ("SSIM", "LPIPS", "CLIP", "Score")

    def load(self, data_dir: Path) -> list[BenchmarkItem]:
        path = data_dir / "test.json"
        if not path.is_file():
            raise BenchmarkDataError(f"{self.name}: {path} not found (UniSVG's test set: a JSON list of items)")
        try:
            records = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise BenchmarkDataError(f"{path}: not JSON: {e}") from e
        if not isinstance(records, list):
            raise BenchmarkDataError(f"{path}: expected a JSON list of items")
        items = [self._item(data_dir, path, n, r) for n, r in enumerate(records) if isinstance(r, dict)
                 and r.get("type") == "ISVGEN"]
        if not items:
            raise BenchmarkDataError(f"{path}: no item of type 'ISVGEN'")
        return items

    def _item(self, data_dir: Path, path: Path, n: int, rec: dict) -> BenchmarkItem:
        for key in ("q_text", "image_path"):
            if not isinstance(rec.get(key), str):
                raise BenchmarkDataError(f"{path}: item {n}: missing field {key!r}")
        image = next((p for p in (data_dir / "png" / rec["image_path"], data_dir / rec["image_path"]) if p.is_file()),
                     None)
        if image is None:
            raise BenchmarkDataError(f"{path}: item {n}: image not found: {data_dir / 'png' / rec['image_path']}")
        return BenchmarkItem(rec["image_path"], image, "<image>" + rec["q_text"], rec.get("a_text"), self.language, {})

    def extract(self, response: str) -> str:
        return extract_svg(response)

    def score(self, item: BenchmarkItem, prediction: str, ctx: MetricContext) -> dict[str, float]:
        from PIL import Image

        if not prediction:
            return {**FAILED, "rendered": 1.0}
        res = ctx.renderer().render("svg", prediction, (SIZE, SIZE))
        if res.image is None:
            return {"SSIM": UNAVAILABLE, "LPIPS": UNAVAILABLE, "CLIP": UNAVAILABLE, "rendered": 0.0}
        ref = np.asarray(Image.open(item.image).convert("RGB"))
        if ref.shape != res.image.shape:
            return {**FAILED, "rendered": 1.0, "size_mismatch": 1.0}
        return {
            "SSIM": ssim_skimage(ref, res.image),
            "LPIPS": ctx.optional("LPIPS", lambda: lpips_distance(ctx, ref, res.image)),
            "CLIP": ctx.optional("CLIP", lambda: clip_similarity(ctx, res.image, ref, str(item.image))),
            "rendered": 1.0,
        }

    def aggregate(self, rows: list[dict[str, float]]) -> dict[str, float]:
        kept = [r for r in rows if r.get("rendered", 1.0) == 1.0]
        ssim, lp, clip = (mean([r[c] for r in kept]) for c in ("SSIM", "LPIPS", "CLIP"))
        score = 0.2 * ssim + 0.2 * (1 - lp) + 0.6 * clip
        return {"SSIM": ssim, "LPIPS": lp, "CLIP": clip, "Score": UNAVAILABLE if math.isnan(score) else score}

    def notes(self, rows: list[dict[str, float]]) -> list[str]:
        out = []
        failed = sum(1 for r in rows if r.get("rendered", 1.0) < 1.0)
        if failed:
            out.append(f"{failed} answer(s) did not render and are left out of the means (as UniSVG's evaluation)")
        mismatched = sum(1 for r in rows if r.get("size_mismatch"))
        if mismatched:
            out.append(f"{mismatched} reference image(s) are not {SIZE}x{SIZE}: scored SSIM 0, LPIPS 1, CLIP 0 "
                       "(as UniSVG's evaluation)")
        return out


register(UniSvg())
