"""ChartMimic low-level metrics: CIEDE2000 against Sharma et al.'s test data, the four F1 scores on hand-computed
cases, the program preparation, and both programs traced in the real Python sandbox on the fixture layout."""

from __future__ import annotations

import pytest
from benchmark_test_helpers import FIXTURES

from vinci_rl.benchmarks import BenchmarkDataError, MetricContext, get_benchmark
from vinci_rl.benchmarks.chartmimic import (
    FAILED,
    color_f1,
    extract,
    filter_colors,
    multiset_f1,
    prediction_program,
    traced_program,
    type_f1,
)
from vinci_rl.benchmarks.ciede2000 import color_similarity, delta_e_2000, srgb_to_lab

# Sharma, Wu, Dalal (2005), "The CIEDE2000 color-difference formula: implementation notes, supplementary test data
# and mathematical observations", Table 1: (L1, a1, b1), (L2, a2, b2), dE00.
SHARMA = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 3.1571, -77.2803), (50.0, 0.0, -82.7485), 2.8615),
    ((50.0, 2.8361, -74.0200), (50.0, 0.0, -82.7485), 3.4412),
    ((50.0, -1.3802, -84.2814), (50.0, 0.0, -82.7485), 1.0000),
    ((50.0, -1.1848, -84.8006), (50.0, 0.0, -82.7485), 1.0000),
    ((50.0, -0.9009, -85.5211), (50.0, 0.0, -82.7485), 1.0000),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, -1.0, 2.0), (50.0, 0.0, 0.0), 2.3669),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0009), 7.1792),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0010), 7.1792),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0011), 7.2195),
    ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0012), 7.2195),
    ((50.0, -0.001, 2.49), (50.0, 0.0009, -2.49), 4.8045),
    ((50.0, -0.001, 2.49), (50.0, 0.0010, -2.49), 4.8045),
    ((50.0, -0.001, 2.49), (50.0, 0.0011, -2.49), 4.7461),
    ((50.0, 2.5, 0.0), (50.0, 0.0, -2.5), 4.3065),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((50.0, 2.5, 0.0), (61.0, -5.0, 29.0), 22.8977),
    ((50.0, 2.5, 0.0), (56.0, -27.0, -3.0), 31.9030),
    ((50.0, 2.5, 0.0), (58.0, 24.0, 15.0), 19.4535),
    ((50.0, 2.5, 0.0), (50.0, 3.1736, 0.5854), 1.0000),
    ((50.0, 2.5, 0.0), (50.0, 3.2972, 0.0), 1.0000),
    ((50.0, 2.5, 0.0), (50.0, 1.8634, 0.5757), 1.0000),
    ((50.0, 2.5, 0.0), (50.0, 3.2592, 0.3350), 1.0000),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((63.0109, -31.0961, -5.8663), (62.8187, -29.7946, -4.0864), 1.2630),
    ((61.2901, 3.7196, -5.3901), (61.4292, 2.2480, -4.9620), 1.8731),
    ((35.0831, -44.1164, 3.7933), (35.0232, -40.0716, 1.5901), 1.8645),
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
    ((36.4612, 47.8580, 18.3852), (36.2715, 50.5065, 21.2231), 1.4146),
    ((90.8027, -2.0831, 1.4410), (91.1528, -1.6435, 0.0447), 1.4441),
    ((90.9257, -0.5406, -0.9208), (88.6381, -0.8985, -0.7239), 1.5381),
    ((6.7747, -0.2908, -2.4247), (5.8714, -0.0985, -2.2286), 0.6377),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]


@pytest.mark.parametrize("lab1,lab2,expected", SHARMA)
def test_ciede2000_matches_sharma_test_data_both_ways(lab1, lab2, expected):
    assert delta_e_2000(lab1, lab2) == pytest.approx(expected, abs=1e-4)
    assert delta_e_2000(lab2, lab1) == pytest.approx(expected, abs=1e-4)


def test_srgb_to_lab_uses_the_d65_white_and_gives_the_textbook_primaries():
    assert srgb_to_lab((255, 255, 255)) == pytest.approx((100.0, 0.0, 0.0), abs=0.01)
    assert srgb_to_lab((255, 0, 0)) == pytest.approx((53.24, 80.09, 67.20), abs=0.01)
    assert color_similarity((10, 20, 30), (10, 20, 30)) == 1.0
    assert color_similarity((0, 0, 0), (255, 255, 255)) == pytest.approx(0.0, abs=1e-6)  # dE ~ 100


def test_text_and_layout_f1_count_matches_with_multiplicity():
    # generated [a, a, b], reference [a, c]: one match; P = 1/3, R = 1/2, F1 = 2 PR / (P + R) = 0.4
    assert multiset_f1(["a", "a", "b"], ["a", "c"]) == pytest.approx({"precision": 1 / 3, "recall": 0.5, "f1": 0.4})
    cell = {"nrows": 1, "ncols": 2, "row_start": 0, "row_end": 0, "col_start": 0, "col_end": 0}
    assert multiset_f1([cell, dict(cell, col_start=1, col_end=1)], [cell])["f1"] == pytest.approx(2 / 3)
    assert multiset_f1([], ["a"])["f1"] == 0.0


def test_type_f1_takes_the_smaller_call_count_per_function():
    # bar 2 vs 1 -> 1 correct; plot / scatter unmatched: P = 1/3, R = 1/2
    assert type_f1({"bar": 2, "plot": 1}, {"bar": 1, "scatter": 1})["f1"] == pytest.approx(0.4)
    assert type_f1({}, {"bar": 1})["f1"] == 0.0


def test_color_f1_pairs_colours_within_each_drawing_function():
    # one exact red pair; the generated green has no partner: total 1, P = 1/2, R = 1, F1 = 2/3
    assert color_f1(["bar--#FF0000", "bar--#00FF00"], ["bar--#FF0000"])["f1"] == pytest.approx(2 / 3)
    # the same colours from different functions never pair
    assert color_f1(["pie--#FF0000"], ["bar--#FF0000"])["f1"] == 0.0
    # colormap names pair only with the same name
    assert color_f1(["imshow--viridis"], ["imshow--viridis"])["f1"] == 1.0
    assert color_f1(["imshow--viridis"], ["imshow--magma"])["f1"] == 0.0
    # the best pairing, not the first: red-red and blue-blue
    sim = color_similarity((0, 0, 255), (0, 0, 250))
    assert color_f1(["bar--#0000FA", "bar--#FF0000"], ["bar--#FF0000", "bar--#0000FF"])["f1"] == pytest.approx((1 + sim) / 2)


def test_filter_colors_drops_near_duplicates_only_beyond_ten_colours():
    ten = [f"bar--#{v:02X}0000" for v in range(100, 200, 10)]
    assert filter_colors(ten) == ten
    eleven = [*ten, "bar--#00FF00"]
    kept = filter_colors(eleven)
    assert kept[0] == ten[0] and "bar--#00FF00" in kept and len(kept) < len(eleven)


def test_prediction_program_cuts_at_the_first_savefig_and_show_and_saves_a_pdf():
    code = "import matplotlib.pyplot as plt\nplt.plot([1])\nplt.show()\nprint('after')\nplt.savefig('x.png')\n"
    program = prediction_program(code)
    assert program == 'import matplotlib.pyplot as plt\nplt.plot([1])\nplt.savefig("prediction.pdf")'
    assert prediction_program("plt.plot([1])", "x = 1").startswith("x = 1\nplt.plot")
    assert extract("text ```python\nA\n``` more ```python\nB\n```") == "\nA\n"
    assert extract("```py\nA\n```") == ""
    traced = traced_program(program, False)
    assert traced.index("set_xticks([])") < traced.index('plt.savefig("prediction.pdf")')


# ------------------------------------------------------------------ the benchmark, in the sandbox


@pytest.fixture(scope="module")
def ctx():
    context = MetricContext()
    yield context
    context.close()


@pytest.fixture(scope="module")
def items():
    return {it.id: it for it in get_benchmark("chartmimic").load(FIXTURES / "chartmimic")}


def test_load_reads_the_published_layout_and_the_prompt_sizes(items):
    assert sorted(items) == ["bar_1", "line_2"]
    bar = items["bar_1"]
    assert bar.image.name == "bar_1.png" and bar.language == "python"
    assert "figsize=(6.0, 3.0)" in bar.prompt and bar.prompt.startswith("You are an expert Python developer")
    custom = get_benchmark("chartmimic-customized").load(FIXTURES / "chartmimic")
    assert [it.id for it in custom] == ["line_2"]
    assert custom[0].prompt.startswith("There is a reference image") and "figsize=(4.0, 3.0)" in custom[0].prompt


def test_load_names_what_is_missing(tmp_path):
    (tmp_path / "direct_600").mkdir()
    (tmp_path / "direct_600" / "a_1.py").write_text("import matplotlib\n")
    with pytest.raises(BenchmarkDataError, match="a_1.png"):
        get_benchmark("chartmimic").load(tmp_path)
    (tmp_path / "customized_600").mkdir()
    (tmp_path / "customized_600" / "a_1.py").write_text("import matplotlib\n")
    (tmp_path / "customized_600" / "a_1.png").write_bytes(b"")
    with pytest.raises(BenchmarkDataError, match="dimentions_info_edit.jsonl"):
        get_benchmark("chartmimic-customized").load(tmp_path / "customized_600")


def test_identical_program_scores_one_everywhere(ctx, items):
    bench = get_benchmark("chartmimic")
    for item in items.values():
        assert bench.score(item, item.reference, ctx) == {"exec": 1.0, "text": 1.0, "layout": 1.0, "type": 1.0,
                                                          "color": 1.0}


def test_known_mismatches_give_the_hand_computed_f1(ctx, items):
    item = items["bar_1"]
    # bar colour #1F77B4 -> #FF7F0E and title "Counts" -> "Count": texts {Counts, Category, trend} vs
    # {Count, Category, trend}: 2 of 3 -> F1 2/3; colours {bar, line, axhline}: 2 exact + sim(bar) over 3
    pred = item.reference.replace("#1f77b4", "#ff7f0e").replace('"Counts"', '"Count"')
    row = get_benchmark("chartmimic").score(item, pred, ctx)
    assert row["text"] == pytest.approx(2 / 3)
    assert row["color"] == pytest.approx((2 + color_similarity((0x1F, 0x77, 0xB4), (0xFF, 0x7F, 0x0E))) / 3)
    assert row["type"] == 1.0 and row["layout"] == 1.0
    # a scatter instead of the bars: types {scatter, plot, axhline} vs {bar, plot, axhline}: F1 2/3; one subplot
    # of 1x1 instead of two of 1x2: layout 0
    pred = item.reference.replace("axes[0].bar(labels, values", "axes[0].scatter(labels, values")
    pred = pred.replace("plt.subplots(1, 2,", "plt.subplots(2, 1,")
    row = get_benchmark("chartmimic").score(item, pred, ctx)
    assert row["type"] == pytest.approx(2 / 3) and row["layout"] == 0.0


def test_a_program_that_fails_or_is_missing_scores_the_failure_value(ctx, items):
    bench = get_benchmark("chartmimic")
    item = items["line_2"]
    assert bench.score(item, item.reference.replace("ax.set_title", "raise ValueError('boom')\nax.set_title"), ctx) == FAILED
    # what follows the first plt.savefig is cut, as ChartMimic does: an error there never runs
    assert bench.score(item, item.reference + "\nraise ValueError('boom')\n", ctx)["exec"] == 1.0
    assert bench.score(item, "import matplotlib.pyplot as plt\nplt.plot(undefined_name)\n", ctx) == FAILED
    assert bench.score(item, "", ctx) == FAILED
    assert bench.extract("no code here") == ""


def test_customized_mimic_runs_the_answer_after_the_reference_data_block(ctx):
    bench = get_benchmark("chartmimic-customized")
    item = bench.load(FIXTURES / "chartmimic")[0]
    # the answer uses x, y1, y2 without defining them: they come from the ground truth's data block
    answer = "fig, ax = plt.subplots(figsize=(4.0, 3.0))\nax.plot(x, y1, color='#d62728')\nplt.savefig('out.pdf')\n"
    row = bench.score(item, answer, ctx)
    assert row["exec"] == 1.0 and row["layout"] == 1.0 and 0.0 < row["type"] < 1.0


def test_aggregate_is_the_mean_over_all_items_with_failures_as_zero():
    bench = get_benchmark("chartmimic")
    rows = [{"exec": 1.0, "text": 1.0, "layout": 1.0, "type": 0.5, "color": 0.5}, dict(FAILED)]
    table = bench.aggregate(rows)
    assert tuple(table) == bench.columns
    assert table == pytest.approx({"Exec Rate": 0.5, "Text": 0.5, "Layout": 0.5, "Type": 0.25, "Color": 0.25,
                                   "Low-Level": 0.375})
    assert any("GPT-4o" in n for n in bench.notes(rows))
