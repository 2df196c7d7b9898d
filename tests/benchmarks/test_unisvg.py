"""UniSVG ISVGEN: SSIM (skimage's definition) on hand-derived cases, answer extraction and fix_svg, CLIP by a tiny
random model, LPIPS reported unavailable without weights, render failures left out, the score formula."""

from __future__ import annotations

import math

import numpy as np
import pytest
from benchmark_test_helpers import FIXTURES, TINY_CLIP

from vinci_rl.benchmarks import MetricContext, MissingWeights, get_benchmark
from vinci_rl.benchmarks.unisvg import EMPTY_SVG, close_tags, extract_svg, ssim_skimage

C1 = (0.01 * 255) ** 2


@pytest.fixture(scope="module")
def ctx():
    c = MetricContext(clip_config=TINY_CLIP)
    yield c
    c.close()


def flat(value: int, size: int = 20) -> np.ndarray:
    return np.full((size, size, 3), value, np.uint8)


def test_ssim_hand_values():
    """Flat images have no variance: SSIM = (2 mx my + C1) / (mx^2 + my^2 + C1) with C1 = (0.01 * 255)^2."""
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    assert ssim_skimage(noise, noise) == pytest.approx(1.0)
    assert ssim_skimage(flat(0), flat(255)) == pytest.approx(C1 / (255**2 + C1))
    assert ssim_skimage(flat(100), flat(200)) == pytest.approx((2 * 100 * 200 + C1) / (100**2 + 200**2 + C1))
    assert ssim_skimage(noise, 255 - noise) < 0


def test_extraction_like_unisvg():
    svg = '<svg width="4"><rect/></svg>'
    assert extract_svg(f"Here:\n```svg\n{svg}\n```\nand <svg>2</svg>") == svg  # the first complete one
    assert extract_svg("no code") == EMPTY_SVG
    assert close_tags('<svg a="1"><g><path d="M0 0"/><rect x="1"') == '<svg a="1"><g><path d="M0 0"/></path></g></svg>'
    assert extract_svg('<svg a="1"><g>') == '<svg a="1"><g></g></svg>'


def test_reference_svg_scores_the_maximum(ctx):
    bench = get_benchmark("unisvg")
    items = bench.load(FIXTURES / "unisvg")
    assert [it.id for it in items] == ["icon_square.png", "icon_circle.png"]  # ISVGEN only
    assert items[0].prompt == "<image>Please generate the SVG code for this image."
    row = bench.score(items[0], bench.extract(items[0].reference), ctx)
    assert row["SSIM"] == pytest.approx(1.0) and row["CLIP"] == pytest.approx(1.0) and row["rendered"] == 1.0
    assert math.isnan(row["LPIPS"])  # no --lpips: the column is unavailable, and says why
    assert "--lpips" in ctx.unavailable["LPIPS"]
    other = bench.score(items[0], items[1].reference, ctx)
    assert other["SSIM"] < 1.0 and other["CLIP"] < 1.0


def test_failures(ctx):
    bench = get_benchmark("unisvg")
    item = bench.load(FIXTURES / "unisvg")[0]
    broken = bench.score(item, "<svg xmlns='http://www.w3.org/2000/svg'><rect></g></svg>", ctx)
    assert broken["rendered"] == 0.0
    missing = bench.score(item, "", ctx)  # no answer at all: UniSVG's 0 / 1 / 0
    assert (missing["SSIM"], missing["LPIPS"], missing["CLIP"]) == (0.0, 1.0, 0.0)
    rows = [{"SSIM": 1.0, "LPIPS": 0.2, "CLIP": 0.5, "rendered": 1.0}, {"SSIM": 0.0, "LPIPS": 1.0, "CLIP": 0.0,
            "rendered": 1.0}, {"SSIM": math.nan, "LPIPS": math.nan, "CLIP": math.nan, "rendered": 0.0}]
    table = bench.aggregate(rows)
    assert table == {"SSIM": 0.5, "LPIPS": 0.6, "CLIP": 0.25, "Score": pytest.approx(0.2 * 0.5 + 0.2 * 0.4 + 0.6 * 0.25)}
    assert bench.notes(rows) == ["1 answer(s) did not render and are left out of the means (as UniSVG's evaluation)"]


def test_missing_clip_weights_name_the_flag():
    bench = get_benchmark("unisvg")
    item = bench.load(FIXTURES / "unisvg")[0]
    bare = MetricContext()
    try:
        row = bench.score(item, item.reference, bare)
    finally:
        bare.close()
    assert math.isnan(row["CLIP"]) and "--clip PATH" in bare.unavailable["CLIP"]
    assert "UniSVG CLIP score" in bare.unavailable["CLIP"]
    with pytest.raises(MissingWeights, match="--lpips"):
        from vinci_rl.benchmarks.unisvg import _lpips_model

        _lpips_model(MetricContext(lpips_path="/nonexistent/lpips.pth"))


def test_clip_similarity_is_the_cosine_of_clipmodels_image_embeds(ctx):
    """UniSVG: outputs.image_embeds of CLIPModel(**processor(text, images)) for [reference, render], then cosine."""
    import torch
    from PIL import Image

    from vinci_rl.benchmarks.unisvg import ClipImages, clip_similarity

    a = np.asarray(Image.open(FIXTURES / "unisvg" / "png" / "icon_square.png").convert("RGB"))
    b = np.asarray(Image.open(FIXTURES / "unisvg" / "png" / "icon_circle.png").convert("RGB"))
    ours = clip_similarity(ctx, b, a, "square")
    clip = ctx.cached("unisvg-clip", lambda: ClipImages(ctx))
    pixels = clip.processor(images=[Image.fromarray(a), Image.fromarray(b)], return_tensors="pt")["pixel_values"]
    with torch.inference_mode():
        emb = clip.model(input_ids=torch.tensor([[0, 5, 1]] * 2), pixel_values=pixels).image_embeds
    assert ours == pytest.approx(float(torch.cosine_similarity(emb[0], emb[1], dim=0)), abs=1e-5)


HAVE_LPIPS = __import__("importlib").util.find_spec("lpips") is not None


@pytest.mark.skipif(not HAVE_LPIPS, reason="the lpips package is not installed (not a dependency); the missing-package "
                    "message is tested above, the distance runs where it is installed")
def test_lpips_distance_matches_the_lpips_package(tmp_path):
    import lpips
    import torch
    from PIL import Image

    from vinci_rl.benchmarks.unisvg import lpips_distance

    model = lpips.LPIPS(net="alex", pretrained=False, pnet_rand=True, verbose=False)
    torch.save(model.state_dict(), tmp_path / "lpips.pth")
    a = np.asarray(Image.open(FIXTURES / "unisvg" / "png" / "icon_square.png").convert("RGB"))
    b = np.asarray(Image.open(FIXTURES / "unisvg" / "png" / "icon_circle.png").convert("RGB"))
    c = MetricContext(lpips_path=str(tmp_path / "lpips.pth"))
    assert lpips_distance(c, a, a) == 0.0
    assert lpips_distance(c, a, b) == pytest.approx(model(lpips.im2tensor(a), lpips.im2tensor(b)).item(), abs=1e-6)


@pytest.mark.skipif(HAVE_LPIPS, reason="lpips is installed: the missing-package message cannot be shown")
def test_missing_lpips_package_is_named(tmp_path):
    from vinci_rl.benchmarks.unisvg import _lpips_model

    (tmp_path / "lpips.pth").write_bytes(b"")
    with pytest.raises(MissingWeights, match=r"UniSVG LPIPS .*'lpips' package is not installed \(pip install lpips\)"):
        _lpips_model(MetricContext(lpips_path=str(tmp_path / "lpips.pth")))
