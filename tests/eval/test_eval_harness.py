"""`vinci-rl eval` on JSONL predictions: per-sample statuses and metrics, the per-language table, eval.json,
the report's gallery loading in headless Chromium, and the user errors."""

from __future__ import annotations

import json
import threading

import pytest
from eval_helpers import BLANK_SVG, BLUE_CIRCLE, RED_RECT, TEST_SET, TINY_DINO

from vinci_rl.cli import main
from vinci_rl.eval import EvalConfig, PredictionError, evaluate

PREDICTIONS = [
    {"id": "a_red", "code": RED_RECT},  # exact copy, bare code
    {"index": 1, "response": f"Sure.\n```svg\n{BLUE_CIRCLE}\n```\nDone."},  # exact copy, by index, in a fence
    {"id": "c_green", "response": f"```svg\n{BLANK_SVG}\n```"},  # renders blank (near-white)
    {"id": "d_phenol", "code": "Oc1ccccc1"},  # the same molecule written differently
    {"id": "e_aspirin", "response": "```smiles\nCCO\n```"},  # another molecule
    {"id": "zz_not_in_test", "code": RED_RECT},  # matches no test row; f_unanswered has no prediction
]


def write_predictions(path, records=PREDICTIONS):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.fixture(scope="module")
def result(tmp_path_factory, test_parquet, eval_renderer):
    out = tmp_path_factory.mktemp("eval_out")
    preds = write_predictions(out / "preds.jsonl")
    cfg = EvalConfig(data=test_parquet, out_dir=out, predictions=preds, dino_config=TINY_DINO, gallery=2, progress=False)
    return evaluate(cfg, renderer=eval_renderer)


def by_id(result):
    return {s.id: s for s in result.samples}


def test_per_sample_statuses_and_metrics(result):
    s = by_id(result)
    assert [x.id for x in result.samples] == list(TEST_SET)
    for exact in ("a_red", "b_blue"):
        m = s[exact].metrics
        assert s[exact].status == "ok" and s[exact].fence_ok
        assert m["dino_score"] == pytest.approx(1.0, abs=1e-6) and m["ssim"] == pytest.approx(1.0) and m["mse"] == 0.0
        assert m["reward"] > 0.9
    blank = s["c_green"]
    assert blank.status == "blank" and not blank.rendered
    assert blank.metrics["dino_score"] == 0.0 and blank.metrics["ssim"] == 0.0 and blank.metrics["mse"] == 1.0
    assert blank.metrics["reward"] == -1.0  # the default preset's failure reward
    # the same molecule from another SMILES: drawn differently (pixels differ), Tanimoto still 1
    assert s["d_phenol"].metrics["tanimoto"] == 1.0 and s["d_phenol"].metrics["ssim"] < 1.0
    assert 0.0 <= s["e_aspirin"].metrics["tanimoto"] < 1.0 and s["e_aspirin"].status == "ok"
    assert s["f_unanswered"].status == "missing" and s["f_unanswered"].metrics["reward"] == -1.0
    assert result.unmatched == ["zz_not_in_test"]


def test_table_per_language_and_overall(result):
    t = result.table
    assert set(t) == {"overall", "svg", "smiles"}
    assert t["overall"]["n"] == 6 and t["svg"]["n"] == 4 and t["smiles"]["n"] == 2
    assert t["svg"]["render_rate"] == pytest.approx(2 / 4)  # blank and missing do not count as rendered
    assert t["smiles"]["render_rate"] == 1.0
    assert t["svg"]["ssim"] == pytest.approx(0.5)  # two perfect copies, two failures at 0
    assert t["svg"]["ssim_rendered"] == pytest.approx(1.0)
    assert t["smiles"]["tanimoto"] == pytest.approx((1.0 + by_id(result)["e_aspirin"].metrics["tanimoto"]) / 2)
    assert "tanimoto" not in t["svg"] and "lpips" not in t["overall"]
    assert any("lpips omitted" in n for n in result.notes)


def test_json_output(result):
    data = json.loads(open(result.outputs["json"]).read())
    assert data["table"]["overall"]["n"] == 6
    assert {s["id"]: s["status"] for s in data["samples"]}["c_green"] == "blank"
    assert data["config"]["dino_config"] == TINY_DINO


def open_in_chromium(path) -> dict:
    """Load a file in headless Chromium (Debian's, never a downloaded one) and read back what the page shows.

    Runs in its own thread: a warm HTML renderer elsewhere in this process keeps a Playwright loop on the main one.
    """
    from playwright.sync_api import sync_playwright

    found: dict = {}

    def look() -> None:
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
                try:
                    page = browser.new_page()
                    page.goto(f"file://{path}")
                    page.wait_for_load_state("load")
                    found["images"] = page.evaluate(
                        "Array.from(document.images).map(i => ({alt: i.alt, ok: i.complete && i.naturalWidth > 0}))"
                    )
                    found["headers"] = page.evaluate(
                        "Array.from(document.querySelectorAll('table.metrics th')).map(t => t.textContent)"
                    )
                    found["cards"] = page.evaluate("Array.from(document.querySelectorAll('.card h3')).map(h => h.textContent)")
                finally:
                    browser.close()
        except Exception as e:  # re-raised on the test's thread below
            found["error"] = e

    t = threading.Thread(target=look)
    t.start()
    t.join(120)
    if "error" in found:
        raise found["error"]
    return found


def test_report_gallery_images_load_in_chromium(result):
    """Open report.html in headless Chromium: every gallery image decodes (naturalWidth > 0)."""
    pytest.importorskip("playwright.sync_api")
    html = open(result.outputs["html"]).read()
    assert "Best 2" in html and "Worst 2, worst first" in html
    page = open_in_chromium(result.outputs["html"])
    images, headers, cards = page["images"], page["headers"], page["cards"]
    # best 2 (the exact copies: reference + render each), worst 2 (missing: reference only; blank: both)
    assert cards[:2] == ["a_red (svg)", "b_blue (svg)"] or cards[:2] == ["b_blue (svg)", "a_red (svg)"]
    assert set(cards[2:]) == {"f_unanswered (svg)", "c_green (svg)"}
    assert len(images) == 7 and all(i["ok"] for i in images), images
    assert {"overall", "svg", "smiles", "dino_score", "ssim", "tanimoto", "reward"} <= set(h.strip(" ↓") for h in headers)


def test_eval_cli_writes_outputs_and_prints_the_table(tmp_path, test_parquet, capsys):
    preds = write_predictions(tmp_path / "p.jsonl", PREDICTIONS[:2])
    rc = main(["eval", str(test_parquet), "--predictions", str(preds), "--out", str(tmp_path / "o"), "--no-reward", "--quiet"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "overall" in out and "dino_score omitted" in out and "reward omitted" in out
    assert (tmp_path / "o" / "eval.json").is_file() and (tmp_path / "o" / "report.html").is_file()


def test_mean_reward_under_a_recipe(tmp_path, test_parquet, eval_renderer):
    """--reward takes a recipe YAML (its vinci.reward block): here SSIM alone, so an exact copy scores 1."""
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("vinci:\n  reward:\n    weights: {ssim: 1.0}\n    failure_reward: -0.5\n")
    preds = write_predictions(tmp_path / "p.jsonl", PREDICTIONS[:3])
    cfg = EvalConfig(data=test_parquet, out_dir=tmp_path / "o", predictions=preds, reward=str(recipe), progress=False)
    s = by_id(evaluate(cfg, renderer=eval_renderer))
    assert s["a_red"].metrics["reward"] == pytest.approx(1.0) and s["a_red"].reward_terms == {"ssim": pytest.approx(1.0)}
    assert s["c_green"].metrics["reward"] == -0.5  # blank render: the recipe's failure reward
    assert s["d_phenol"].metrics["reward"] == -0.5  # no prediction


@pytest.mark.parametrize(
    "lines,message",
    [
        (['{"id": "a_red", "code": "x"}', "not json"], "p.jsonl:2: not JSON"),
        (['{"id": "a_red"}'], "p.jsonl:1: needs a 'response' or 'code'"),
        (['{"code": "x"}'], "p.jsonl:1: needs an 'id' or 'index'"),
        (['{"id": "a_red", "code": "x"}', '{"id": "a_red", "code": "y"}'], "p.jsonl:2: a second prediction for 'a_red'"),
        (['{"id": "nothing", "code": "x"}'], "no prediction matches a test row"),
    ],
)
def test_bad_predictions_name_file_and_line(tmp_path, test_parquet, capsys, lines, message):
    (tmp_path / "p.jsonl").write_text("\n".join(lines) + "\n")
    rc = main(["eval", str(test_parquet), "--predictions", str(tmp_path / "p.jsonl"), "--out", str(tmp_path / "o"), "--quiet"])
    assert rc == 2
    assert message in capsys.readouterr().err


def test_reward_config_errors_surface_before_any_work(tmp_path, test_parquet):
    preds = write_predictions(tmp_path / "p.jsonl", PREDICTIONS[:1])
    with pytest.raises(ValueError, match="unknown reward preset|cannot read reward config"):
        evaluate(EvalConfig(data=test_parquet, out_dir=tmp_path, predictions=preds, reward="no-such-preset", progress=False))
    with pytest.raises(PredictionError, match="test parquet not found"):
        evaluate(EvalConfig(data=tmp_path / "nope.parquet", out_dir=tmp_path, predictions=preds, progress=False))
