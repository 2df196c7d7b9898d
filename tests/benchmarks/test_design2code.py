"""Design2Code visual score: the response cleanup and pre-processing, the recolouring and block finding, the matching
rules on constructed blocks with hand-computed values, and whole pages through the real Chromium renderer."""

from __future__ import annotations

import math

import numpy as np
import pytest
from benchmark_test_helpers import FIXTURES, TINY_CLIP

from vinci_rl.benchmarks import BenchmarkDataError, MetricContext, get_benchmark
from vinci_rl.benchmarks.ciede2000 import color_similarity
from vinci_rl.benchmarks.design2code import (
    block_scores,
    cleanup_response,
    context_cost,
    cut_repetition,
    mean_gain,
    merge_same_box,
    pre_process,
)
from vinci_rl.benchmarks.design2code_blocks import blocks_from_screens, color_pool, recolour, shifted_pixels


def block(text, bbox, color=(0, 0, 0)):
    return {"text": text, "bbox": bbox, "color": color}


def test_cleanup_response_strips_fences_and_text_around_the_document():
    assert cleanup_response("```html\n<html><p>x</p></html>\n```") == "<html><p>x</p></html>"
    assert cleanup_response("Here:\n<!DOCTYPE html><html></html> bye") == "<!DOCTYPE html><html></html>"


def test_pre_process_wraps_fragments_and_cuts_a_repeated_tail():
    assert pre_process("hello") == "<html><body><p>hello</p></body></html>"
    assert pre_process("<HTML lang='en'>x</HTML>") == "<HTML lang='en'>x</HTML>"
    head = "".join(f"<p>unique paragraph number {i} about a topic {i * 7} with words</p>" for i in range(3))
    loop = "<div>" + "the same sentence repeated by a looping model. " * 60 + "</div>"
    cut = cut_repetition(head + loop)
    assert cut.startswith(head) and len(cut) < len(head + loop)
    assert cut_repetition(head) == head


def test_recolour_gives_each_text_element_the_next_pool_colour_and_reads_the_text_tree():
    pool = color_pool(0)
    assert pool[0] == "#FAFAFA" and len(pool) == 4096 and color_pool(50)[0] == "#2C2C2C"
    html = '<html><head><title>T</title></head><body><h1 style="color: red; margin:0">Big</h1><p>a <i>b</i></p>' \
           '<em style="color:#123456">c</em></body></html>'
    out, texts = recolour(html, 0)
    assert 'color: #FAFAFA !important' in out and 'color: #FAFAEA !important' in out
    assert "background-color: rgba(255, 255, 255, 0.0) !important" in out.split("<title")[0]
    assert "red" not in out and "margin:0" in out
    # head text excluded; <i> inherits its <p>'s colour; a non-text tag keeps its own style colour
    assert texts == [("Big", "#FAFAFA"), ("a", "#FAFAEA"), ("b", "#FAFAEA"), ("c", "#123456")]


def test_blocks_are_the_boxes_of_the_shifted_pixels_of_each_colour():
    h, w = 10, 20
    coloured = np.full((h, w, 3), 255, dtype=np.uint8)
    coloured[2:4, 5:9] = (250, 250, 250)  # "#FAFAFA" text pixels
    shifted_screen = coloured.copy()
    shifted_screen[2:4, 5:9] = (44, 44, 44)  # +50 mod 256
    plain = np.zeros((h, w, 3), dtype=np.uint8)
    plain[2:4, 5:9] = (10, 20, 30)
    moved = shifted_pixels(coloured, shifted_screen)
    assert moved.shape == (8, 2)
    blocks = blocks_from_screens(plain, coloured, [("Hi", "#FAFAFA"), ("gone", "#0A0A0A")], moved)
    assert blocks == [{"text": "hi", "bbox": (5 / 20, 2 / 10, 4 / 20, 2 / 10), "color": (10, 20, 30)}]
    assert shifted_pixels(coloured, shifted_screen[:5]) is None


def test_same_box_blocks_merge_and_colours_average():
    merged = merge_same_box([block("a", (0, 0, 1, 1), (10, 20, 30)), block("b", (0, 0, 1, 1), (30, 40, 50)),
                             block("c", (0, 1, 1, 1))])
    assert [b["text"] for b in merged] == ["a b", "c"] and merged[0]["color"] == [20, 30, 40]


def test_context_bonus_and_merge_gain_follow_the_reference_rules():
    cost = np.array([[-1.0, -0.2], [-0.3, -0.9]])
    # (0,0): neighbours without itself {-0.2, -0.3, -0.9}; the 2 lowest sum -1.2; bonus 0.1 x -1.2
    adjusted = context_cost(cost, 0.1, 1)
    assert adjusted[0, 0] == pytest.approx(-1.12) and adjusted[0, 1] == -0.2
    assert mean_gain([-0.6, -1.0], [-0.9, -1.0]) == pytest.approx(0.3)  # the unshared costs: -0.6 vs -0.9
    assert mean_gain([-0.9, -1.0], [-0.6, -1.0]) == pytest.approx(-0.3)


def test_block_scores_on_constructed_pages():
    ref = [block("welcome home", (0.1, 0.1, 0.2, 0.1), (200, 0, 0)), block("about us", (0.1, 0.5, 0.2, 0.1))]
    assert block_scores([dict(b) for b in ref], [dict(b) for b in ref]) == pytest.approx((1.0, 1.0, 1.0, 1.0))
    # the second block moved down by 0.2 and recoloured; a hallucinated extra block of area 0.1 x 0.1
    pred = [dict(ref[0]), block("about us", (0.1, 0.7, 0.2, 0.1), (0, 0, 200)), block("zzz", (0.8, 0.8, 0.1, 0.1))]
    match, text, pos, color = block_scores(pred, [dict(b) for b in ref])
    assert match == pytest.approx(0.08 / (0.08 + 0.01))  # matched areas 4 x 0.02, unmatched 0.01
    assert text == 1.0 and pos == pytest.approx((1.0 + 0.8) / 2)
    assert color == pytest.approx((1.0 + color_similarity((0, 0, 0), (0, 0, 200))) / 2)
    # texts under 0.5 similar never match
    assert block_scores([block("xyz", (0, 0, 1, 1))], [block("abc", (0, 0, 1, 1))]) is None


def test_neighbouring_blocks_merge_when_that_matches_better():
    ref = [block("sign up today", (0.1, 0.1, 0.3, 0.1))]
    pred = [block("sign up", (0.1, 0.1, 0.15, 0.1)), block("today", (0.25, 0.1, 0.15, 0.1))]
    match, text, pos, _ = block_scores(pred, ref)
    assert (match, text, pos) == pytest.approx((1.0, 1.0, 1.0))


# ------------------------------------------------------------------ whole pages, in Chromium


@pytest.fixture(scope="module")
def ctx():
    context = MetricContext(clip_config=TINY_CLIP)
    yield context
    context.close()


@pytest.fixture(scope="module")
def items():
    return {it.id: it for it in get_benchmark("design2code").load(FIXTURES / "design2code")}


def test_load_reads_the_testset_layout_and_inlines_the_placeholder(items, tmp_path):
    assert sorted(items) == ["1", "2"]
    assert items["1"].prompt.startswith("You are an expert web developer") and items["1"].language == "html"
    assert items["1"].meta["placeholder"].startswith("data:image/jpeg;base64,")
    (tmp_path / "3.html").write_text("<p>x</p>")
    with pytest.raises(BenchmarkDataError, match="3.png"):
        get_benchmark("design2code").load(tmp_path)


def test_identical_page_scores_one_and_a_changed_page_less(ctx, items):
    bench = get_benchmark("design2code")
    item = items["1"]
    same = bench.score(item, item.reference, ctx)
    assert same == pytest.approx({"Block-Match": 1.0, "Text": 1.0, "Position": 1.0, "Color": 1.0, "CLIP": 1.0,
                                  "Score": 1.0})
    changed = bench.score(item, item.reference.replace("#c00", "#00c").replace("any time", "never"), ctx)
    assert changed["Color"] < 1.0 and changed["Text"] < 1.0 and changed["Score"] < 1.0
    assert changed["Score"] == pytest.approx(0.2 * sum(changed[c] for c in bench.columns[:5]))


def test_an_empty_or_broken_prediction_scores_only_its_clip_share(ctx, items):
    bench = get_benchmark("design2code")
    row = bench.score(items["2"], "", ctx)
    assert row["Block-Match"] == row["Text"] == row["Position"] == row["Color"] == 0.0
    assert row["Score"] == pytest.approx(0.2 * row["CLIP"])


def test_without_clip_weights_the_clip_column_is_unavailable(items):
    context = MetricContext()
    try:
        row = get_benchmark("design2code").score(items["2"], items["2"].reference, context)
        assert math.isnan(row["CLIP"]) and math.isnan(row["Score"]) and row["Text"] == 1.0
        assert "--clip" in context.unavailable["CLIP"] and "Design2Code" in context.unavailable["CLIP"]
    finally:
        context.close()


def test_aggregate_is_the_mean_per_column():
    bench = get_benchmark("design2code")
    rows = [dict.fromkeys(bench.columns, 1.0), dict.fromkeys(bench.columns, 0.5)]
    assert bench.aggregate(rows) == dict.fromkeys(bench.columns, 0.75)
