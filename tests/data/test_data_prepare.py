"""`vinci-rl prepare`: every input shape, every filter, the bad-row report, templates, tokens, split, errors.

Real renderers (SVG via cairosvg, SMILES via RDKit); inputs are built in tmp dirs.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from data_helpers import BLUE_CIRCLE, GREEN_BOTH, RED_RECT, decode, picture, png, read_jsonl, read_rows, svg

from vinci_rl.cli import main
from vinci_rl.data import filters
from vinci_rl.data.prepare import PrepareConfig, prepare
from vinci_rl.data.rows import COLUMNS, PROMPT_TEMPLATES, check_template
from vinci_rl.data.sources import Columns, InputError

# The schema's columns, `messages` (verl's SFT column) included: a list kept here had drifted from the schema.
ROW_KEYS = list(COLUMNS)


def run_prepare(data_renderer, source, out, **kw):
    kw.setdefault("progress", False)
    return prepare(PrepareConfig(source=source, out_dir=out, **kw), renderer=data_renderer)


def check_schema(df, language_of):
    assert list(df.columns) == ROW_KEYS
    for i, r in enumerate(df.itertuples()):
        info = r.extra_info
        lang = language_of[info["id"]]
        assert r.data_source == f"vinci/{lang}" and info["language"] == lang
        assert info["index"] == i
        assert r.prompt[0]["role"] == "user" and r.prompt[0]["content"].count("<image>") == 1
        assert r.reward_model["style"] == "rule" and info["gt_chars"] == len(r.reward_model["ground_truth"])
        assert r.ability == "image_to_code"
        assert decode(r.images).ndim == 3


# ---- input shapes ------------------------------------------------------------------------------------------


def test_folder_of_pairs_keeps_given_images_and_reports_orphans(tmp_path, data_renderer):
    src = tmp_path / "pairs"
    (src / "sub").mkdir(parents=True)
    images = {"a": picture(1), "b": picture(2), "sub/c": picture(3)}
    (src / "a.svg").write_text(RED_RECT)
    (src / "b.smi").write_text("c1ccccc1O")
    (src / "sub" / "c.svg").write_text(BLUE_CIRCLE)
    for stem, img in images.items():
        (src / f"{stem}.png").write_bytes(png(img))
    (src / "orphan.png").write_bytes(png(picture(4)))  # an image without code: a bad row, not a silent drop
    (src / "notes.md").write_text("ignored")

    s = run_prepare(data_renderer, src, tmp_path / "out")

    df = read_rows(tmp_path / "out" / "train.parquet")
    check_schema(df, {"a": "svg", "b": "smiles", "sub/c": "svg"})
    for r in df.itertuples():
        np.testing.assert_array_equal(decode(r.images), images[r.extra_info["id"]])  # the pair's own image
        assert r.extra_info["gt_tokens"] == -1  # no tokenizer
    assert s.rows == {"train": 3} and s.per_language == {"svg": 2, "smiles": 1}
    assert s.rejected[filters.BAD_INPUT] == 1
    bad = read_jsonl(tmp_path / "out" / "rejected.jsonl")
    assert [(b["id"], b["reason"]) for b in bad] == [("orphan", "bad_input")]
    assert "no code file" in bad[0]["detail"]
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["rejected"]["bad_input"] == 1


def test_code_alone_folder_renders_the_ground_truth(tmp_path, data_renderer):
    src = tmp_path / "corpus"
    src.mkdir()
    (src / "x1.svg").write_text(RED_RECT)
    (src / "x2.svg").write_text(BLUE_CIRCLE)
    (src / "x3.txt").write_text(GREEN_BOTH)  # unknown extension, language from --lang

    s = run_prepare(data_renderer, src, tmp_path / "out", lang="svg", size=(96, 64))

    df = read_rows(tmp_path / "out" / "train.parquet")
    assert s.rows == {"train": 3}
    for r in df.itertuples():
        img = decode(r.images)
        assert img.shape == (64, 96, 3) and not filters.near_white(img)
        ref = data_renderer.render("svg", r.reward_model["ground_truth"], size=(96, 64)).image
        np.testing.assert_array_equal(img, ref)


IMAGE_FORMS = {
    "bytes": lambda b, rel: b,
    "path": lambda b, rel: rel,  # relative to the table's folder
    "dict": lambda b, rel: {"bytes": b, "path": None},
    "path_dict": lambda b, rel: {"bytes": None, "path": rel},
    "list": lambda b, rel: [{"bytes": b, "path": None}],  # verl's own images column
}


@pytest.mark.parametrize("form", list(IMAGE_FORMS))
def test_table_with_mapped_columns_and_each_image_form(tmp_path, data_renderer, form):
    import pandas as pd

    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "p.png").write_bytes(png(picture(5)))
    cell = IMAGE_FORMS[form](png(picture(5)), "imgs/p.png")
    table = pd.DataFrame(
        {
            "key": ["with_image", "code_only", "smiles"],
            "src": [RED_RECT, BLUE_CIRCLE, "CCO"],
            "kind": ["svg", "svg", "smiles"],
            "png": [cell, None, None],  # no image: rendered from the code
        }
    )
    path = tmp_path / "table.parquet"
    table.to_parquet(path)

    cols = Columns(image="png", code="src", language="kind", id="key")
    s = run_prepare(data_renderer, path, tmp_path / "out", columns=cols, size=(50, 40))

    df = read_rows(tmp_path / "out" / "train.parquet")
    check_schema(df, dict(zip(table.key, table.kind)))
    got = {r.extra_info["id"]: decode(r.images) for r in df.itertuples()}
    np.testing.assert_array_equal(got["with_image"], picture(5))
    assert got["code_only"].shape == got["smiles"].shape == (40, 50, 3)
    assert s.rows == {"train": 3} and sum(s.rejected.values()) == 0


def test_jsonl_table_through_the_cli_with_flags(tmp_path, capsys):
    (tmp_path / "a.png").write_bytes(png(picture(9)))
    lines = [
        {"name": "one", "program": RED_RECT, "img": "a.png"},
        {"name": "two", "program": BLUE_CIRCLE, "img": "missing.png"},  # unreadable image: a bad row naming it
    ]
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    out = tmp_path / "out"
    rc = main(
        ["prepare", str(tmp_path / "t.jsonl"), "--out", str(out), "--lang", "svg", "--image-col", "img",
         "--code-col", "program", "--id-col", "name", "--template", "default=<image>Draw it as {language}.", "--quiet"]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert "prepared 1 of 2 records" in printed and "two: bad_input" in printed
    df = read_rows(out / "train.parquet")
    assert df.prompt[0][0]["content"] == "<image>Draw it as svg."
    bad = read_jsonl(out / "rejected.jsonl")
    assert bad[0]["id"] == "two" and "img" in bad[0]["detail"] and "missing.png" in bad[0]["detail"]


def test_hf_datasets_folder(tmp_path, data_renderer):
    datasets = pytest.importorskip("datasets")
    from PIL import Image

    ds = datasets.Dataset.from_dict(
        {"image": [Image.fromarray(picture(10)), Image.fromarray(picture(11))], "code": [RED_RECT, "c1ccccc1"],
         "language": ["svg", "smiles"]},
        features=datasets.Features(
            {"image": datasets.Image(), "code": datasets.Value("string"), "language": datasets.Value("string")}
        ),
    )
    ds.save_to_disk(str(tmp_path / "hf"))

    s = run_prepare(data_renderer, tmp_path / "hf", tmp_path / "out")

    df = read_rows(tmp_path / "out" / "train.parquet")
    assert s.rows == {"train": 2} and [r["id"] for r in df.extra_info] == ["row-0", "row-1"]
    np.testing.assert_array_equal(decode(df.images[1]), picture(11))


# ---- filters and the bad-row report ------------------------------------------------------------------------


def test_every_filter_counts_and_reports_its_row(tmp_path, data_renderer, tokenizer_dir):
    long_svg = svg("".join(f'<rect x="{i}" y="{i}" width="5" height="5" fill="#1f77b4"/>' for i in range(0, 90, 3)))
    cases = {  # files are read in name order: the originals come before their duplicates
        "a_good": RED_RECT,
        "b_too_long": long_svg,  # tokens_out_of_bounds
        "c_dup_code": "  " + RED_RECT.replace(" ", "\n    ") + "\n",  # duplicate_code: only whitespace differs
        "d_broken": "<svg xmlns='http://www.w3.org/2000/svg'><rect",  # render_failed
        "e_white": svg(""),  # near_white
        # low_entropy: one colour but a 2-pixel dot (a perfectly flat image is near-white by RLRF's range test)
        "f_flat": svg('<rect width="100" height="100" fill="#1f77b4"/><rect x="50" y="50" width="2" height="2" fill="#d62728"/>'),
        "g_dup_image": RED_RECT.replace("#d62728", "rgb(214,39,40)"),  # duplicate_image: other code, same pixels
        "h_bad_smiles": "C1CC(",  # render_failed (RDKit parse error)
    }
    src = tmp_path / "in"
    src.mkdir()
    for name, code in cases.items():
        (src / f"{name}.{'smi' if name.endswith('smiles') else 'svg'}").write_text(code)

    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    n_long = len(tok(long_svg, add_special_tokens=False)["input_ids"])
    s = run_prepare(data_renderer, src, tmp_path / "out", tokenizer=tokenizer_dir, max_tokens=n_long - 1, size=(64, 64))

    expected = {
        "b_too_long": filters.TOKENS_OUT_OF_BOUNDS,
        "c_dup_code": filters.DUPLICATE_CODE,
        "d_broken": filters.RENDER_FAILED,
        "e_white": filters.NEAR_WHITE,
        "f_flat": filters.LOW_ENTROPY,
        "g_dup_image": filters.DUPLICATE_IMAGE,
        "h_bad_smiles": filters.RENDER_FAILED,
    }
    bad = {b["id"]: b for b in read_jsonl(tmp_path / "out" / "rejected.jsonl")}
    assert {k: v["reason"] for k, v in bad.items()} == expected
    assert bad["c_dup_code"]["detail"] == "same code as a_good"
    assert bad["g_dup_image"]["detail"] == "same image as a_good"
    assert bad["d_broken"]["detail"].startswith("parse_error")
    assert all(b["source"] for b in bad.values())
    assert s.rejected == {
        filters.BAD_INPUT: 0, filters.TOKENS_OUT_OF_BOUNDS: 1, filters.DUPLICATE_CODE: 1, filters.RENDER_FAILED: 2,
        filters.NEAR_WHITE: 1, filters.LOW_ENTROPY: 1, filters.DUPLICATE_IMAGE: 1,
    }
    assert s.rows == {"train": 1}
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["rejected"] == s.rejected and len(summary["rejected_rows"]) == 7
    df = read_rows(tmp_path / "out" / "train.parquet")
    gt_tokens = df.extra_info[0]["gt_tokens"]
    assert 0 < gt_tokens == len(tok(RED_RECT, add_special_tokens=False)["input_ids"])
    assert s.gt_tokens["max"] == gt_tokens


def test_render_check_rejects_pairs_whose_code_does_not_render(tmp_path, data_renderer):
    src = tmp_path / "pairs"
    src.mkdir()
    (src / "ok.svg").write_text(RED_RECT)
    (src / "ok.png").write_bytes(png(picture(1)))
    (src / "bad.svg").write_text("<svg")
    (src / "bad.png").write_bytes(png(picture(2)))
    s = run_prepare(data_renderer, src, tmp_path / "a")
    assert s.rows == {"train": 1} and s.rejected[filters.RENDER_FAILED] == 1
    s = run_prepare(data_renderer, src, tmp_path / "b", render_check=False)
    assert s.rows == {"train": 2}


def test_default_templates_are_valid_and_per_language():
    for lang, template in PROMPT_TEMPLATES.items():
        check_template(template, lang)
    assert "SMILES" in PROMPT_TEMPLATES["smiles"] and "```latex" in PROMPT_TEMPLATES["latex"]


def test_language_names_are_normalised_and_unknown_ones_reported(tmp_path, data_renderer):
    import pandas as pd

    pd.DataFrame(
        {"code": [RED_RECT, "CCO", "x"], "language": [" SVG", "smi", "cobol"], "id": ["a", "b", "c"]}
    ).to_json(tmp_path / "t.jsonl", orient="records", lines=True)
    s = run_prepare(data_renderer, tmp_path / "t.jsonl", tmp_path / "out", size=(32, 32))
    assert s.per_language == {"svg": 1, "smiles": 1}
    assert [(b["id"], b["reason"]) for b in s.rejected_rows] == [("c", "bad_input")]
    assert "unknown language 'cobol'" in s.rejected_rows[0]["detail"]


def test_colour_entropy_orders_images():
    white = np.full((32, 32, 3), 255, np.uint8)
    assert filters.colour_entropy(white) == 0.0
    half = white.copy()
    half[:16] = (200, 30, 30)
    assert filters.colour_entropy(half) == pytest.approx(1.0)  # two colours, half each: one bit
    quarters = half.copy()
    quarters[:, :16] = (30, 30, 200)
    assert filters.colour_entropy(quarters) == pytest.approx(1.5)  # 1/2 blue, 1/4 red, 1/4 white
    noise = np.random.RandomState(0).randint(0, 256, (64, 64, 3), dtype=np.uint8)
    assert filters.colour_entropy(noise) > 10


# ---- split, templates, errors ------------------------------------------------------------------------------


def test_val_split_is_seeded_and_disjoint(tmp_path, data_renderer):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(6):
        (src / f"m{i}.smi").write_text(["CCO", "CCN", "c1ccccc1", "CC(=O)O", "C1CCCCC1", "OCCO"][i])
    s1 = run_prepare(data_renderer, src, tmp_path / "a", val=2, size=(48, 48))
    s2 = run_prepare(data_renderer, src, tmp_path / "b", val=0.34, size=(48, 48))
    assert s1.rows == {"train": 4, "val": 2} == s2.rows
    ids = lambda d, split: [r["id"] for r in read_rows(tmp_path / d / f"{split}.parquet").extra_info]  # noqa: E731
    assert ids("a", "val") == ids("b", "val")  # same seed, same split
    assert not set(ids("a", "val")) & set(ids("a", "train"))
    assert [r["index"] for r in read_rows(tmp_path / "a" / "val.parquet").extra_info] == [0, 1]


def test_per_language_templates_from_yaml(tmp_path, data_renderer, capsys):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.svg").write_text(RED_RECT)
    (src / "b.smi").write_text("CCO")
    (tmp_path / "t.yaml").write_text("smiles: 'Name this molecule <image> as ```{fence}```'\n")
    rc = main(["prepare", str(src), "--out", str(tmp_path / "out"), "--templates", str(tmp_path / "t.yaml"), "--quiet"])
    assert rc == 0
    prompts = {r.extra_info["id"]: r.prompt[0]["content"] for r in read_rows(tmp_path / "out" / "train.parquet").itertuples()}
    assert prompts["b"] == "Name this molecule <image> as ```smiles```"
    assert prompts["a"] == PROMPT_TEMPLATES["svg"].format(name="SVG", fence="svg")


@pytest.mark.parametrize(
    "args,message",
    [
        (["--template", "svg=Draw this."], "must contain <image>"),
        (["--template", "svg=<image>{oops}"], "bad placeholder"),
        (["--max-tokens", "10"], "need a tokenizer"),
        (["--size", "abc"], "--size"),
        (["--lang", "cobol"], "unknown language 'cobol'"),
    ],
)
def test_cli_user_errors_name_the_bad_value(tmp_path, capsys, args, message):
    (tmp_path / "a.svg").write_text(RED_RECT)
    rc = main(["prepare", str(tmp_path), "--out", str(tmp_path / "out"), "--quiet", *args])
    assert rc == 2
    assert message in capsys.readouterr().err


def test_missing_column_and_input_errors_name_them(tmp_path):
    import pandas as pd

    path = tmp_path / "t.parquet"
    pd.DataFrame({"svg_code": [RED_RECT], "language": ["svg"]}).to_parquet(path)
    with pytest.raises(InputError, match="no code column 'code'.*--code-col"):
        prepare(PrepareConfig(source=path, out_dir=tmp_path / "o", progress=False))
    with pytest.raises(InputError, match="input not found: .*nothere"):
        prepare(PrepareConfig(source=tmp_path / "nothere", out_dir=tmp_path / "o", progress=False))
    rc = main(["prepare", str(path), "--out", str(tmp_path / "o"), "--code-col", "svg_code", "--lang-col", "lang", "--quiet"])
    assert rc == 2
