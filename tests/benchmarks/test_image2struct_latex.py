"""HELM Image2Struct LaTeX: block EMD / EMS against values derived by hand from HELM's definition, HELM's document
preparation and answer extraction, compile failures, the published layout."""

from __future__ import annotations

import numpy as np
import pytest
from benchmark_test_helpers import FIXTURES
from PIL import Image, ImageDraw

from vinci_rl.benchmarks import BenchmarkDataError, MetricContext, get_benchmark
from vinci_rl.benchmarks.block_emd import block_emd, constant_image, ems, most_frequent_color, pad_to_match
from vinci_rl.benchmarks.image2struct import PROMPT, compile_latex, extract_helm, helm_document, math_mode_retry

BLACK, WHITE = (0, 0, 0), (255, 255, 255)


def halves(left, right) -> Image.Image:
    """16 x 8: two 8 x 8 patches, left and right."""
    img = Image.new("RGB", (16, 8), left)
    img.paste(Image.new("RGB", (8, 8), right), (8, 0))
    return img


@pytest.fixture(scope="module")
def ctx():
    c = MetricContext()
    yield c
    c.close()


def drawing() -> Image.Image:
    img = Image.new("RGB", (60, 40), WHITE)
    d = ImageDraw.Draw(img)
    d.rectangle([5, 5, 25, 30], fill=BLACK)
    d.line([30, 35, 55, 5], fill=(200, 20, 20), width=3)
    return img


def test_identical_images_score_one():
    ref = drawing()
    assert block_emd(ref, ref) == 0.0
    assert ems(ref.copy(), ref) == 1.0


def test_the_constant_image_scores_zero():
    ref = drawing()  # mostly white -> the baseline is black
    assert constant_image(ref).getpixel((0, 0)) == BLACK
    assert ems(constant_image(ref), ref) == pytest.approx(0.0, abs=1e-6)
    dark = Image.new("RGB", (24, 16), BLACK)
    ImageDraw.Draw(dark).rectangle([2, 2, 10, 10], fill=WHITE)
    assert constant_image(dark).getpixel((0, 0)) == WHITE


def test_swapped_halves_by_hand():
    """ref = [black | white], pred = [white | black] (16 x 8, two patches).

    Most frequent colour: a 64/64 tie, np.unique order -> black (grey 0), share 0.5 (not > 0.5: no patch dropped).
    Patch weights: pred [1, 0.001], ref [0.001, 1] -> shared max [1, 1] -> [0.5, 0.5]. A patch moved onto an equal
    patch costs only its position: L1 (0, 0.5) x sqrt(64) / (16 + 8) = 1/6; onto the other colour, the pixel EMD is
    1 (every pixel changes grey by 1). The optimum swaps: block EMD = 0.5/6 + 0.5/6 = 1/6.
    Baseline: white (grey(black) < 127). Weights const [0.5, 0.5], ref [0.001, 1]/1.001 -> max [0.5, 0.999001]
    normalised: a = 0.5 / 1.499001 on the left. Cost: left white -> ref black 1, -> ref white 1/6; right white ->
    black 7/6, -> white 0; with flow t on (left, right): a + t/3, minimal at t = 0: block EMD = a.
    EMS = 1 - (1/6) / a = 1 - 1.499001 / 3."""
    ref, pred = halves(BLACK, WHITE), halves(WHITE, BLACK)
    color, share = most_frequent_color(np.array(ref))
    assert tuple(color) == BLACK and share == 0.5
    assert block_emd(pred, ref) == pytest.approx(1 / 6, abs=1e-5)
    a = 0.5 / (0.5 + 1 / 1.001)
    assert block_emd(constant_image(ref), ref) == pytest.approx(a, abs=1e-5)
    assert ems(pred, ref) == pytest.approx(1 - (1 / 1.001 + 0.5) / 3, abs=1e-4)


def test_a_small_shift_costs_less_than_a_big_one():
    ref = drawing()
    near, far = Image.new("RGB", ref.size, WHITE), Image.new("RGB", ref.size, WHITE)
    near.paste(ref.crop((0, 0, 58, 40)), (2, 0))
    far.paste(ref.crop((0, 0, 40, 40)), (20, 0))
    assert 1.0 > ems(near, ref) > ems(far, ref) > 0.0


def test_padding_extends_the_smaller_side_with_white():
    small, big = Image.new("RGB", (10, 30), BLACK), Image.new("RGB", (20, 12), BLACK)
    a, b = pad_to_match(small, big)
    assert a.size == b.size == (20, 30)
    assert a.getpixel((15, 5)) == WHITE and a.getpixel((5, 5)) == BLACK
    assert b.getpixel((5, 20)) == WHITE and b.getpixel((5, 5)) == BLACK


def test_helm_document():
    tex = helm_document("\\documentclass[12pt]{report}\n\\usepackage{foo}\n\\begin{document}\n"
                        "\\begin{equation}\\label{eq:1}\nx\\end{equation}\\end{document}")
    assert tex.startswith("\\documentclass{article}\n")
    assert "\\usepackage{foo}" not in tex and "\\usepackage{tikz}" in tex and "\\label" not in tex
    assert "\\begin{equation*}" in tex and tex.count("\\begin{document}") == 1
    bare = helm_document("x^2")
    assert bare.index("\\begin{document}x^2\\end{document}") > bare.index("\\usepackage{pgfplots}")
    assert "$$x^2$$" in math_mode_retry(bare)


def test_extract_like_helm():
    assert extract_helm("a\n```latex\nA\n```\nb\n```latex\nB\n```") == "\nA\n"  # the first block
    assert extract_helm("```\nX\n```") == "\nX\n"
    assert extract_helm("  \\draw (0,0);  ") == "\\draw (0,0);"
    assert PROMPT.count("<image>") == 1 and PROMPT.endswith("<image>")


def test_compile_failure_scores_zero(ctx, tmp_path):
    bench = get_benchmark("image2struct-latex")
    item = bench.load(FIXTURES / "image2struct-latex")[0]
    assert bench.score(item, "\\undefinedmacro{x}", ctx) == {"Compile": 0.0, "EMS": 0.0}
    image, error = compile_latex(ctx, "x^2")  # "Missing $ inserted": HELM retries inside $$..$$
    assert image is not None and error == ""


def test_reference_code_scores_one(ctx):
    bench = get_benchmark("image2struct-latex")
    items = bench.load(FIXTURES / "image2struct-latex")
    assert {it.meta["subset"] for it in items} == {"plot", "equation"}
    item = next(it for it in items if it.id == "i2s-plot-2")
    assert bench.score(item, bench.extract(f"```latex\n{item.reference}\n```"), ctx) == {"Compile": 1.0, "EMS": 1.0}
    other = next(it for it in items if it.id == "i2s-plot-1")
    row = bench.score(item, other.reference, ctx)
    assert row["Compile"] == 1.0 and row["EMS"] < 1.0


def test_layout_errors(tmp_path):
    bench = get_benchmark("image2struct-latex")
    with pytest.raises(BenchmarkDataError, match="validation-\\*.parquet"):
        bench.load(tmp_path)
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "plot").mkdir()
    pq.write_table(pa.Table.from_pylist([{"uuid": "u1", "structure": "x"}]), tmp_path / "plot" / "validation-0.parquet")
    with pytest.raises(BenchmarkDataError, match="no column 'image'"):
        bench.load(tmp_path)
