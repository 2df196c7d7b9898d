"""One row schema: `vinci-rl prepare`, the bundled sample set and the shapes task write the same columns, verl's
SFT dataset trains on what prepare writes, and the typed reader reads any of them back."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from data_helpers import BLUE_CIRCLE, RED_RECT

from vinci_rl.data.prepare import PrepareConfig, prepare
from vinci_rl.data.rows import COLUMNS, RowError, answer_text, make_row, read_rows, write_rows

SFT_RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "sft_warmstart.yaml"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, data_renderer):
    src = tmp_path_factory.mktemp("rows_src")
    (src / "a.svg").write_text(RED_RECT)
    (src / "b.svg").write_text(BLUE_CIRCLE)
    out = tmp_path_factory.mktemp("rows_out")
    s = prepare(PrepareConfig(source=src, out_dir=out, size=(64, 64), progress=False), renderer=data_renderer)
    assert s.rows == {"train": 2}
    return out / "train.parquet"


def test_prepare_sample_set_and_shapes_task_write_the_same_columns(prepared, sample_data, tmp_path):
    """prepare's parquet had no `messages` column (its column list had drifted from the schema), so the SFT
    warm start could not train on prepared data; every writer now goes through rows.write_rows."""
    from vinci_rl.data import shapes_task

    shapes_task.build_shapes_set(tmp_path / "shapes", n_train=2, seed=0)
    written = {
        "prepare": prepared,
        "sample_set": sample_data / "train.parquet",
        "shapes_task": tmp_path / "shapes" / "train.parquet",
    }
    for name, path in written.items():
        assert list(pd.read_parquet(path).columns) == list(COLUMNS), name


def test_an_empty_split_keeps_the_columns(tmp_path):
    write_rows(tmp_path / "val.parquet", [])
    assert list(pd.read_parquet(tmp_path / "val.parquet").columns) == list(COLUMNS)


def test_verl_sft_dataset_trains_on_a_prepared_parquet(prepared, tiny_vlm):
    """verl's own SFT dataset (the sft_warmstart recipe's data settings) reads prepare's output: the loss mask
    covers exactly the fenced ground truth."""
    import verl  # noqa: F401  (plugins)
    from transformers import AutoProcessor, AutoTokenizer
    from verl.utils.dataset.multiturn_sft_dataset import MultiTurnSFTDataset

    from vinci_rl.train.recipe import compose_recipe

    cfg = compose_recipe(SFT_RECIPE, ["data.max_length=1024"])
    tokenizer = AutoTokenizer.from_pretrained(tiny_vlm)
    dataset = MultiTurnSFTDataset(str(prepared), tokenizer, cfg.data, processor=AutoProcessor.from_pretrained(tiny_vlm))
    rows = read_rows(prepared)
    for i, row in enumerate(rows):
        item = dataset[i]
        trained = tokenizer.decode(item["input_ids"][item["loss_mask"].bool()])
        assert trained.startswith(answer_text(row.language, row.ground_truth))


def test_read_rows_gives_typed_rows_back(prepared):
    rows = read_rows(prepared)
    assert [(r.id, r.index, r.language) for r in rows] == [("a", 0, "svg"), ("b", 1, "svg")]
    assert rows[0].ground_truth == RED_RECT and rows[0].prompt.startswith("<image>")
    assert rows[0].decode().shape == (64, 64, 3) and rows[0].gt_tokens is None
    assert [r.id for r in read_rows(prepared, limit=1)] == ["a"]


def test_read_rows_names_the_file_row_and_column(tmp_path, prepared):
    with pytest.raises(RowError, match="not found: .*nope.parquet"):
        read_rows(tmp_path / "nope.parquet")
    df = pd.read_parquet(prepared)
    df.drop(columns=["images"]).to_parquet(tmp_path / "no_images.parquet")
    with pytest.raises(RowError, match="no column 'images'"):
        read_rows(tmp_path / "no_images.parquet")
    df.loc[1, "images"] = None
    df.to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(RowError, match=r"bad.parquet row 1 \(id 'b'\): no image bytes in column 'images'"):
        read_rows(tmp_path / "bad.parquet")


def test_make_row_builds_every_column():
    import numpy as np

    row = make_row("x", 3, "latex", "\\draw (0,0);", np.zeros((4, 4, 3), np.uint8), gt_tokens=7)
    assert tuple(row) == COLUMNS
    assert row["data_source"] == "vinci/latex" and row["extra_info"]["gt_tokens"] == 7
    assert row["messages"][-1] == {"role": "assistant", "content": "```latex\n\\draw (0,0);\n```"}
