"""The bundled sample set: the committed program files are what the generators make, and they all prepare cleanly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from vinci_rl.data.prepare import PrepareConfig, prepare
from vinci_rl.data.sample_set import PROGRAM_LANGUAGES, build_sample_set, sample_plan, write_programs
from vinci_rl.data.sources import CODE_EXTENSIONS
from vinci_rl.render.mermaid import default_bundle_path

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "data" / "sample_set"


def test_committed_programs_match_the_generators(tmp_path):
    written = write_programs(tmp_path, 32, 8, seed=0)
    assert written == {"train": 32, "val": 8}
    ours = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(SAMPLE_DIR) for p in SAMPLE_DIR.rglob("*") if p.suffix in CODE_EXTENSIONS)
    assert ours == committed, "data/sample_set is stale: run `vinci-rl make-sample-data data/sample_set --programs`"
    for rel in ours:
        assert (tmp_path / rel).read_text() == (SAMPLE_DIR / rel).read_text(), rel


def test_plan_has_every_language_and_one_html_row_in_every_four():
    plan = sample_plan(32, 8, seed=0)
    train = plan["train"]
    assert all(lang == "html" for _, lang, _ in train[::4])
    assert all(sum(lang == "html" for _, lang, _ in train[i : i + 4]) == 1 for i in range(0, 32, 4))
    assert {lang for _, lang, _ in train} == {"html", "svg", "latex", "python", "smiles"}
    codes = [code for _, _, code in train]
    assert len(set(codes)) == len(codes)
    assert sample_plan(32, 8, seed=0) == plan
    programs = sample_plan(32, 8, 0, PROGRAM_LANGUAGES)["train"]  # the committed files add Mermaid
    assert {lang for _, lang, _ in programs} == {"html", "svg", "latex", "python", "smiles", "mermaid"}
    assert all(lang == "html" for _, lang, _ in programs[::4])


def test_committed_val_programs_prepare_without_rejects(tmp_path, data_renderer):
    """The shipped set through the code-only path: every program renders with the real renderers."""
    cfg = PrepareConfig(source=SAMPLE_DIR / "val", out_dir=tmp_path, size=(128, 128), split_name="val", progress=False)
    s = prepare(cfg, renderer=data_renderer)
    expected = [sample_id for sample_id, _, _ in sample_plan(32, 8, 0, PROGRAM_LANGUAGES)["val"]]
    if not Path(default_bundle_path()).is_file():  # no mermaid.js here: the Mermaid row is reported, not dropped
        assert [(b["id"], b["reason"]) for b in s.rejected_rows] == [("val-006-mermaid", "render_failed")]
        expected.remove("val-006-mermaid")
    else:
        assert sum(s.rejected.values()) == 0, s.rejected_rows
    df = pd.read_parquet(tmp_path / "val.parquet")
    assert [r["id"] for r in df.extra_info] == expected


def test_build_sample_set_keeps_its_contract(tmp_path):
    summary = build_sample_set(tmp_path, n_train=4, n_val=1, size=(64, 64))
    assert not summary.failed and summary.rows == {"train": 4, "val": 1}
    df = pd.read_parquet(tmp_path / "train.parquet")
    assert [r["language"] for r in df.extra_info][0] == "html"
    assert all(r["gt_tokens"] == -1 for r in df.extra_info)
    assert df.prompt[0][0]["content"].startswith("<image>")
