"""Every report card says why it scored what it scored, rows without a prediction are counted and shown, and an
evaluation in which no prediction renders says so (a note, and a warning on the CLI's stderr) instead of reporting failure values as scores.

Before, a row whose code sat in another language's fence showed ssim 1.000, mse 0 and reward -1 with no reason on
its card, a test row without a prediction was not mentioned, and an evaluation where nothing rendered reported
`dino_score 0.0` and exited 0."""

from __future__ import annotations

import json

import pytest
from eval_helpers import BLANK_SVG, BLUE_CIRCLE, RED_RECT

from vinci_rl.cli import main
from vinci_rl.eval import EvalConfig, evaluate


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.fixture(scope="module")
def wrong_fence(tmp_path_factory, test_parquet, eval_renderer):
    out = tmp_path_factory.mktemp("eval_reasons")
    preds = _write(out / "p.jsonl", [
        {"id": "a_red", "response": f"```python\n{RED_RECT}\n```"},  # right code, another language's fence
        {"id": "b_blue", "response": f"```svg\n{BLUE_CIRCLE}\n```"},
    ])  # fmt: skip
    cfg = EvalConfig(data=test_parquet, out_dir=out, predictions=preds, gallery=8, progress=False)
    return evaluate(cfg, renderer=eval_renderer)


def test_a_wrong_fence_card_says_why_it_scores_minus_one(wrong_fence):
    s = {x.id: x for x in wrong_fence.samples}["a_red"]
    assert s.rendered and s.metrics["ssim"] == pytest.approx(1.0) and s.metrics["reward"] == -1.0
    assert s.read_as == "raw" and s.reward_status == "wrong_language"
    reasons = "; ".join(s.reasons())
    assert "no ```svg block" in reasons and "reward wrong_language" in reasons
    page = open(wrong_fence.outputs["html"]).read()
    assert "reward wrong_language" in page and "no ```svg block" in page
    assert {x.id: x for x in wrong_fence.samples}["b_blue"].reasons() == []  # an exact copy needs no excuse


def test_rows_without_a_prediction_are_counted_and_shown(wrong_fence):
    missing = [s for s in wrong_fence.samples if s.status == "missing"]
    assert len(missing) == 4
    assert any(n.startswith("4 of 6 test rows have no prediction") for n in wrong_fence.notes), wrong_fence.notes
    page = open(wrong_fence.outputs["html"]).read()
    assert "4 of 6 test rows have no prediction" in page
    for s in missing:
        assert f"{s.id} ({s.language})" in page and "no prediction for this test row" in "; ".join(s.reasons())


def test_no_prediction_rendering_is_said_not_scored(tmp_path, test_parquet, capsys):
    preds = _write(tmp_path / "p.jsonl", [{"id": "a_red", "code": BLANK_SVG}, {"id": "b_blue", "code": "<svg"}])
    out = tmp_path / "o"
    rc = main(["eval", str(test_parquet), "--predictions", str(preds), "--out", str(out), "--no-reward", "--quiet"])
    captured = capsys.readouterr()
    assert rc == 0  # a model that renders nothing yet (an untrained one) is a result, said loudly
    assert captured.err.startswith("warning: no prediction rendered") and "blank 1" in captured.err and "blank 1" in captured.err
    data = json.loads((out / "eval.json").read_text())  # the outputs are still written, with the note
    assert data["table"]["overall"]["render_rate"] == 0.0
    assert any("no prediction rendered" in n for n in data["notes"])


def test_every_row_without_a_prediction_has_a_card_beyond_the_best_and_worst(tmp_path, test_parquet, eval_renderer):
    preds = _write(tmp_path / "p.jsonl", [{"id": "a_red", "code": RED_RECT}, {"id": "b_blue", "code": BLUE_CIRCLE}])
    cfg = EvalConfig(data=test_parquet, out_dir=tmp_path, predictions=preds, gallery=1, reward=None, progress=False)
    result = evaluate(cfg, renderer=eval_renderer)
    page = open(result.outputs["html"]).read()
    assert "Best 1" in page and "Worst 1, worst first" in page and "No prediction: 3 more rows" in page
    missing = [s for s in result.samples if s.status == "missing"]
    assert len(missing) == 4 and all(f"{s.id} ({s.language})" in page for s in missing)
