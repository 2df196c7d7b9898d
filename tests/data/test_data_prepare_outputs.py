"""`vinci-rl prepare` writes its output directory whole and says what it made up: stale splits are removed (they
leaked into training), foreign parquet files refused, synthesised images and relabelled languages counted and
listed, mislabelled code rejected, and a split that cannot be honoured is an error."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from data_helpers import BLUE_CIRCLE, GREEN_BOTH, RED_RECT, picture, png, read_jsonl

from vinci_rl.cli import main
from vinci_rl.data import filters
from vinci_rl.data.prepare import IMAGE_RENDERED, LANGUAGE_RELABELLED, PrepareConfig, prepare

SMILES = ["CCO", "CCN", "c1ccccc1", "CC(=O)O", "C1CCCCC1", "OCCO"]


def run(data_renderer, source, out, **kw):
    return prepare(PrepareConfig(source=source, out_dir=out, progress=False, size=(48, 48), **kw), renderer=data_renderer)


@pytest.fixture
def molecules(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for i, smi in enumerate(SMILES):
        (src / f"m{i}.smi").write_text(smi)
    return src


def test_rerun_without_val_removes_the_earlier_val_split(tmp_path, data_renderer, molecules):
    """Re-running without --val used to leave the old val.parquet beside a train file holding its rows."""
    out = tmp_path / "out"
    run(data_renderer, molecules, out, val=2)
    assert (out / "val.parquet").is_file()
    s = run(data_renderer, molecules, out)
    assert not (out / "val.parquet").exists() and s.removed == ["val.parquet"]
    assert len(pd.read_parquet(out / "train.parquet")) == 6
    assert sorted(p.name for p in out.iterdir()) == ["changes.jsonl", "rejected.jsonl", "summary.json", "train.parquet"]


def test_a_parquet_prepare_did_not_write_is_refused(tmp_path, molecules, capsys):
    out = tmp_path / "out"
    out.mkdir()
    pd.DataFrame({"x": [1]}).to_parquet(out / "test.parquet")
    rc = main(["prepare", str(molecules), "--out", str(out), "--quiet"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "holds parquet files prepare did not write: test.parquet" in err and str(out) in err
    assert sorted(p.name for p in out.iterdir()) == ["test.parquet"]  # nothing written, nothing removed


@pytest.mark.parametrize(
    "val, message",
    [(50, "val 50 asks for 50 validation rows, but only 6 rows were kept"), (6, "asks for 6 validation rows")],
)
def test_a_split_that_cannot_be_honoured_is_an_error(tmp_path, molecules, capsys, val, message):
    """--val 50 on a handful of rows used to give train 1 / val 5 without a word."""
    rc = main(["prepare", str(molecules), "--out", str(tmp_path / "out"), "--val", str(val), "--size", "48", "--quiet"])
    assert rc == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out" / "train.parquet").exists()


def test_one_kept_row_cannot_be_split_and_a_fractional_count_is_refused(tmp_path, data_renderer):
    src = tmp_path / "one"
    src.mkdir()
    (src / "a.smi").write_text("CCO")
    with pytest.raises(ValueError, match="cannot split 1 kept row"):
        run(data_renderer, src, tmp_path / "out", val=0.5)
    with pytest.raises(ValueError, match="whole row count, got 2.5"):
        run(data_renderer, src, tmp_path / "out", val=2.5)


def test_synthesised_images_are_counted_and_listed(tmp_path, data_renderer):
    """A code file without an image is rendered to make one: kept, and now counted and listed."""
    src = tmp_path / "pairs"
    src.mkdir()
    (src / "given.svg").write_text(RED_RECT)
    (src / "given.png").write_bytes(png(picture(1)))
    (src / "made.svg").write_text(BLUE_CIRCLE)
    s = run(data_renderer, src, tmp_path / "out")
    assert s.rows == {"train": 2} and s.synthesised == 1 and s.relabelled == 0
    changes = read_jsonl(tmp_path / "out" / "changes.jsonl")
    assert [(c["id"], c["change"]) for c in changes] == [("made", IMAGE_RENDERED)]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["synthesised"] == 1 and summary["outputs"]["changes"].endswith("changes.jsonl")
    assert "images rendered from code 1, languages relabelled 0" in s.text()


def test_relabelled_languages_are_counted_and_mislabelled_code_is_rejected(tmp_path, data_renderer):
    """'tikz' is another name of latex: such rows are kept and listed; Mermaid code labelled 'tikz' used to be
    kept as LaTeX (it renders as plain text) and is now rejected, naming both languages."""
    mermaid = "graph LR\n  A[start] --> B[end]"
    table = pd.DataFrame(
        {
            "id": ["tikz_ok", "mermaid_as_tikz", "smiles_as_smi", "svg_as_html"],
            "code": ["\\begin{tikzpicture}\\fill[red] (0,0) rectangle (1,1);\\end{tikzpicture}", mermaid, "CCO", GREEN_BOTH],
            "language": ["tikz", "tikz", "smi", "html"],
        }
    )
    table.to_json(tmp_path / "t.jsonl", orient="records", lines=True)
    s = run(data_renderer, tmp_path / "t.jsonl", tmp_path / "out")
    bad = {b["id"]: b for b in s.rejected_rows}
    assert set(bad) == {"mermaid_as_tikz", "svg_as_html"}
    assert bad["mermaid_as_tikz"]["reason"] == filters.BAD_INPUT
    assert bad["mermaid_as_tikz"]["detail"] == "labelled 'tikz' (latex) but the code starts like mermaid"
    assert bad["svg_as_html"]["detail"] == "labelled 'html' but the code starts like svg"
    assert s.relabelled == 2 and s.per_language == {"latex": 1, "smiles": 1}
    changes = [(c["id"], c["change"], c["detail"]) for c in s.changed_rows if c["change"] == LANGUAGE_RELABELLED]
    assert changes == [("tikz_ok", LANGUAGE_RELABELLED, "language 'tikz' read as latex"),
                       ("smiles_as_smi", LANGUAGE_RELABELLED, "language 'smi' read as smiles")]  # fmt: skip
