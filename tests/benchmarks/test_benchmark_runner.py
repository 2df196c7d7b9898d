"""The benchmark runner and `vinci-rl eval --benchmark`: registry, responses, pass@k, the printed table, the results
files, and the error messages."""

from __future__ import annotations

import json
import math

import pytest
from benchmark_test_helpers import FIXTURES, TINY_CLIP

from vinci_rl.benchmarks import MetricContext, benchmark_names, get_benchmark
from vinci_rl.benchmarks.runner import RunConfig, pass_at_k, read_responses, run_benchmark
from vinci_rl.cli import main
from vinci_rl.eval import PredictionError

DRAW = "```python\nfrom rdkit import Chem\nm = Chem.MolFromSmiles({!r})\n```"


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_registry():
    assert {"image2struct-latex", "chemdraw", "unisvg"} <= set(benchmark_names())
    with pytest.raises(ValueError, match="unknown benchmark 'nope'; known: .*chemdraw.*unisvg"):
        get_benchmark("nope")


def test_pass_at_k_unbiased_estimator():
    assert pass_at_k(5, 2, 1) == pytest.approx(0.4)
    assert pass_at_k(5, 2, 2) == pytest.approx(1 - 3 / 10)  # 1 - C(3,2) / C(5,2)
    assert pass_at_k(5, 0, 3) == 0.0 and pass_at_k(5, 3, 3) == 1.0
    with pytest.raises(ValueError, match="pass@6 needs at least 6 samples"):
        pass_at_k(5, 1, 6)


def test_read_responses(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "response": "x"}, {"id": "a", "code": "y"}, {"id": 3, "code": ""}])
    got = read_responses(path)
    assert [(r.text, r.is_response) for r in got["a"]] == [("x", True), ("y", False)] and "3" in got
    (tmp_path / "bad.jsonl").write_text('{"id": "a", "response": "x"}\n{"id": "b"}\n')
    with pytest.raises(PredictionError, match="bad.jsonl:2: needs a 'response' or 'code' field"):
        read_responses(tmp_path / "bad.jsonl")
    with pytest.raises(PredictionError, match="predictions file not found"):
        read_responses(tmp_path / "none.jsonl")


def test_chemdraw_run_with_samples_and_pass_at_k(tmp_path):
    preds = write_jsonl(tmp_path / "p.jsonl", [
        {"id": "phenol", "response": DRAW.format("Oc1ccccc1")},
        {"id": "phenol", "response": DRAW.format("c1ccccc1N")},
        {"id": "aspirin", "response": "no code"},
        {"id": "aspirin", "response": DRAW.format("CC(=O)Oc1ccccc1C(=O)O")},
        {"id": "ethanol", "response": "```smiles\nOCC\n```"},
        {"id": "ethanol", "response": "```smiles\nC1CC\n```"},
        {"id": "stray", "code": "CCO"},
    ])
    result = run_benchmark(RunConfig("chemdraw", FIXTURES / "chemdraw", tmp_path / "out", preds, progress=False))
    row = result.table["all"]
    assert row["Tanimoto@1.0"] == pytest.approx(0.5)  # each item: one of its two samples is exact
    assert row["Exec Rate"] == pytest.approx((1 + 0.5 + 0.5) / 3)
    assert result.pass_at_k == {"pass@1": pytest.approx(0.5)} and result.n_samples == 6
    assert any("1 prediction id(s) match no item" in n for n in result.notes)
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["table"]["all"]["Tanimoto@1.0"] == pytest.approx(0.5) and data["pass_at_k"]["pass@1"] == pytest.approx(0.5)
    items = [json.loads(line) for line in (tmp_path / "out" / "items.jsonl").read_text().splitlines()]
    assert [len(i["samples"]) for i in items] == [2, 2, 2]


def test_cli_chemdraw_table(tmp_path, capsys):
    preds = write_jsonl(tmp_path / "p.jsonl", [{"id": "phenol", "code": "from rdkit import Chem\nChem.MolFromSmiles('Oc1ccccc1')"},
                                              {"id": "ethanol", "response": "```smiles\nC1CC\n```"}])
    rc = main(["eval", "--benchmark", "chemdraw", str(FIXTURES / "chemdraw"), "--predictions", str(preds),
               "--out", str(tmp_path / "out"), "--quiet"])
    out = capsys.readouterr().out
    assert rc == 0
    lines = out.splitlines()
    assert lines[0] == "chemdraw (values x 100)"
    assert [c.strip() for c in lines[1].strip("|").split("|")] == ["", "Exec Rate", "Tanimoto", "Tanimoto@1.0", "pass@1"]
    assert [c.strip() for c in lines[3].strip("|").split("|")] == ["all", "33.3", "33.3", "33.3", "33.3"]
    assert "1 item(s) had no prediction" in out  # aspirin
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["benchmark"] == "chemdraw" and data["n_items"] == 3


def test_cli_image2struct_groups_by_subset(tmp_path, capsys):
    items = get_benchmark("image2struct-latex").load(FIXTURES / "image2struct-latex")
    preds = write_jsonl(tmp_path / "p.jsonl", [{"id": it.id, "response": f"```latex\n{it.reference}\n```"} for it in items
                                               if it.id != "i2s-eq-1"] + [{"id": "i2s-eq-1", "response": "\\nosuch"}])
    rc = main(["eval", "--benchmark", "image2struct-latex", str(FIXTURES / "image2struct-latex"), "--predictions",
               str(preds), "--out", str(tmp_path / "out"), "--quiet"])
    out = capsys.readouterr().out
    assert rc == 0
    rows = {line.strip("|").split("|")[0].strip(): [c.strip() for c in line.strip("|").split("|")[1:]]
            for line in out.splitlines() if line.startswith("| ")}
    assert rows["all"] == ["66.7", "66.7"] and rows["plot"] == ["100.0", "100.0"] and rows["equation"] == ["0.0", "0.0"]


def test_cli_unisvg_without_lpips_reports_the_column_unavailable(tmp_path, capsys):
    items = get_benchmark("unisvg").load(FIXTURES / "unisvg")
    preds = write_jsonl(tmp_path / "p.jsonl", [{"id": it.id, "response": it.reference} for it in items])
    rc = main(["eval", "--benchmark", "unisvg", str(FIXTURES / "unisvg"), "--predictions", str(preds),
               "--out", str(tmp_path / "out"), "--clip-config", json.dumps(TINY_CLIP), "--quiet"])
    captured = capsys.readouterr()
    assert rc == 0
    row = next(line for line in captured.out.splitlines() if line.startswith("| all"))
    assert [c.strip() for c in row.strip("|").split("|")] == ["all", "100.0", "n/a", "100.0", "n/a"]
    assert "LPIPS not computed: UniSVG LPIPS needs weights: pass --lpips PATH" in captured.err
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["table"]["all"]["LPIPS"] is None and "--lpips" in data["unavailable"]["LPIPS"]


def test_cli_errors(tmp_path, capsys):
    preds = write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "code": "x"}])
    assert main(["eval", "--benchmark", "nope", str(tmp_path), "--predictions", str(preds), "--out", str(tmp_path)]) == 2
    assert "unknown benchmark 'nope'; known:" in capsys.readouterr().err
    assert main(["eval", "--benchmark", "chemdraw", str(tmp_path / "none"), "--predictions", str(preds),
                 "--out", str(tmp_path / "o")]) == 2
    assert "chemdraw: data directory not found: " in capsys.readouterr().err
    assert main(["eval", "--benchmark", "unisvg", str(tmp_path), "--predictions", str(preds),
                 "--out", str(tmp_path / "o")]) == 2
    assert "test.json not found" in capsys.readouterr().err


def test_unavailable_columns_show_na_and_stay_nan(tmp_path):
    ctx = MetricContext()
    assert math.isnan(ctx.optional("CLIP", lambda: get_benchmark("unisvg") and _raise()))
    assert ctx.unavailable["CLIP"].startswith("UniSVG CLIP score needs weights: pass --clip PATH")


def _raise():
    from vinci_rl.benchmarks import MissingWeights

    raise MissingWeights("--clip", "UniSVG CLIP score")
