"""Refinement examples (`vinci-rl prepare --refine-examples N`): perturbations change the code and, through the real
sandboxed renderers, the render; they are deterministic by seed; a candidate that does not render or renders like
the ground truth is rejected for another; the rows load in verl's SFT dataset with only the fix trained."""

from __future__ import annotations

import io
import random
import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from vinci_rl.cli import main
from vinci_rl.data.perturb import PERTURBATIONS, candidates
from vinci_rl.data.prepare import PrepareConfig, prepare
from vinci_rl.data.rows import answer_text
from vinci_rl.data.sample_programs import GENERATORS
from vinci_rl.refine.config import DEFAULT_FEEDBACK
from vinci_rl.render import RenderConfig, Renderer
from vinci_rl.reward import RewardConfig, VisualScorer

SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">{}</svg>'
SOURCES = {  # quick renderers only (cairosvg, RDKit, pdflatex)
    "a_svg.svg": SVG.format('<rect x="10" y="10" width="40" height="30" fill="#d62728"/><circle cx="70" cy="60" r="20" fill="#1f77b4"/>'),
    "b_mol.smi": "CC(=O)Oc1ccccc1C(=O)O",
    "c_tikz.tex": "\\begin{tikzpicture}\n  \\draw[thick,fill=blue!30] (0,0) rectangle (3,2);\n  \\node at (1.5,2.4) {Sales};\n\\end{tikzpicture}",
}


@pytest.fixture(scope="module")
def renderer():
    with Renderer(RenderConfig(timeout_s={"svg": 10.0, "smiles": 10.0, "latex": 20.0})) as r:
        yield r


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    src = tmp_path_factory.mktemp("refine_src")
    for name, code in SOURCES.items():
        (src / name).write_text(code)
    return src


def _prepare(source, out, renderer, n=6, seed=0):
    cfg = PrepareConfig(source=source, out_dir=out, size=(128, 96), refine_examples=n, seed=seed, progress=False)
    return prepare(cfg, renderer=renderer)


@pytest.fixture(scope="module")
def prepared(source, tmp_path_factory, renderer):
    out = tmp_path_factory.mktemp("refine_out")
    return out, _prepare(source, out, renderer)


# ---- perturbations (pure) -------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", sorted(GENERATORS))
def test_candidates_change_the_code_and_are_deterministic_by_seed(language):
    code = GENERATORS[language](random.Random(3))
    first = list(candidates(code, language, random.Random(7), 12))
    assert first == list(candidates(code, language, random.Random(7), 12))
    assert first and all(new != code for _, new in first) and len({new for _, new in first}) == len(first)
    assert {kind for kind, _ in first} <= set(PERTURBATIONS[language])
    others = [list(candidates(code, language, random.Random(s), 12)) for s in range(8, 12)]
    assert any(o != first for o in others)


RECT = '<rect x="10" y="10" width="40" height="30" fill="#d62728"/>'


@pytest.mark.parametrize(
    "language, kind, code, check",
    [
        ("svg", "recolour", SVG.format(RECT), lambda new: "#d62728" not in new and re.search(r'fill="#[0-9a-f]{6}"', new)),
        ("svg", "resize", SVG.format(RECT), lambda new: new.count('"10"') + new.count('"40"') + new.count('"30"') == 3),
        ("svg", "drop", SVG.format(RECT + RECT.replace("10", "60")), lambda new: new.count("<rect") == 1),
        ("svg", "extra", SVG.format(RECT), lambda new: new.count("<rect") == 2 and 'transform="translate(12,12)"' in new),
        ("svg", "retext", SVG.format('<text x="5" y="50">Sales</text>'), lambda new: "Sales" not in new and "<text" in new),
        ("html", "drop", "<ul><li>A1</li><li>B2</li></ul>", lambda new: new.count("<li>") == 1),
        ("html", "retext", "<style>p{color:red}</style><p>Growth</p>", lambda new: "<style>p{color:red}</style>" in new and "Growth" not in new),
        ("latex", "drop", "\\draw (0,0) -- (1,1);\n\\node at (0,1) {A};", lambda new: new.count(";") == 1),
        ("latex", "extra", "\\draw (0,0) -- (1,1);", lambda new: new.count("\\draw") == 2 and "shift" in new),
        ("latex", "retext", "\\node at (0,1) {Sales};", lambda new: "Sales" not in new and new.startswith("\\node at (0,1) {")),
        ("python", "retext", "ax.plot([1, 2], color='red')\nax.set_title('Sales')", lambda new: "'Sales'" not in new and "color='red'" in new),
        ("python", "drop", "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([1, 2])\nplt.show()",
         lambda new: "ax.plot" not in new and "plt.subplots()" in new and "plt.show()" in new),
        ("smiles", "retext", "CCO", lambda new: new in ("NCO", "CNO", "CCS")),
        ("smiles", "extra", "CCO", lambda new: "(C)" in new),
        ("mermaid", "drop", "graph LR\n  A[Go] --> B[Stop]\n  B --> C[End]", lambda new: new.startswith("graph LR") and new.count("-->") == 1),
        ("mermaid", "extra", "graph LR\n  A[Go] --> B[Stop]", lambda new: new.count("-->") == 2 and "Extra" in new),
    ],
)
def test_each_kind_changes_what_it_says(language, kind, code, check):
    new = PERTURBATIONS[language][kind](code, random.Random(0))
    assert new is not None and new != code and check(new), new


def test_a_kind_with_nothing_to_change_gives_none_and_an_unknown_language_is_named():
    assert PERTURBATIONS["svg"]["retext"](SVG.format(RECT), random.Random(0)) is None
    with pytest.raises(ValueError, match="no perturbations for language 'cobol'"):
        list(candidates("x", "cobol", random.Random(0), 3))


# ---- refinement rows through prepare, real renders ----------------------------------------------------------------


def _png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _code(message: str, language: str) -> str:
    fence = "latex" if language == "latex" else language
    return message.split(f"```{fence}\n", 1)[1].rsplit("\n```", 1)[0]


def test_refine_parquet_holds_the_turns_of_the_agent_loop_with_the_attempts_render(prepared, renderer):
    out, summary = prepared
    assert summary.rows == {"train": 3, "refine": 6} and summary.refine["built"] == 6
    assert "refinement examples 6 of 6" in summary.text() and "prepared 3 of 3 records" in summary.text()
    scorer = VisualScorer(RewardConfig.load("default"), renderer=renderer)
    refine = pd.read_parquet(out / "refine.parquet")
    train = pd.read_parquet(out / "train.parquet").set_index(pd.read_parquet(out / "train.parquet").extra_info.map(lambda e: e["id"]))
    for _, row in refine.iterrows():
        info = row.extra_info
        source = train.loc[info["id"].rsplit("~refine", 1)[0]]
        gt, lang = source.reward_model["ground_truth"], info["language"]
        roles = [(m["role"], m["loss_mask"]) for m in row.messages]
        assert roles == [("user", 0), ("assistant", 0), ("user", 0), ("assistant", 1)]
        assert row.messages[0]["content"] == source.prompt[0]["content"]
        assert row.messages[2]["content"] == "<image>" + DEFAULT_FEEDBACK
        assert row.messages[3]["content"] == answer_text(lang, gt) and row.reward_model["ground_truth"] == gt
        attempt = _code(row.messages[1]["content"], lang)
        assert attempt != gt and info["perturbation"] in PERTURBATIONS[lang]
        reference = _png(row.images[0]["bytes"])
        assert np.array_equal(reference, _png(source.images[0]["bytes"]))
        shown = _png(row.images[1]["bytes"])
        rescored = scorer.score(answer_text(lang, attempt), lang, reference, ground_truth=gt)
        assert rescored.ok and np.array_equal(shown, rescored.render)  # the render of the wrong answer, as scored
        gt_render = scorer.score(answer_text(lang, gt), lang, reference, ground_truth=gt).render
        assert np.mean(np.abs(shown.astype(int) - gt_render.astype(int)).max(-1) > 24) >= 0.002  # it changed


def test_same_seed_same_examples_other_seed_other_examples(source, prepared, tmp_path, renderer):
    out, _ = prepared
    _prepare(source, tmp_path / "again", renderer)
    _prepare(source, tmp_path / "seed1", renderer, seed=1)

    def examples(d):
        df = pd.read_parquet(d / "refine.parquet")
        return [(r.messages[1]["content"], r.images[1]["bytes"]) for r in df.itertuples()]

    assert examples(out) == examples(tmp_path / "again")
    assert examples(out) != examples(tmp_path / "seed1")


def test_a_candidate_that_fails_or_leaves_the_render_unchanged_is_rejected(source, tmp_path, renderer, monkeypatch):
    import vinci_rl.data.refine_examples as refine_examples

    def scripted(code, language, rng, tries):
        if language != "svg":  # the other rows give no example
            return
        yield "broken", code.replace("</svg>", "")  # does not parse
        yield "invisible", code.replace("</svg>", "<!-- a comment --></svg>")  # renders the same
        yield "good", code.replace("#1f77b4", "#2ca02c")

    monkeypatch.setattr(refine_examples, "candidates", scripted)
    summary = _prepare(source, tmp_path, renderer, n=3)
    assert summary.refine["rejected"] == {"render_failed": 1, "render_unchanged": 1}
    assert summary.rows["refine"] == 1 and sorted(summary.refine["no_example"]) == ["b_mol", "c_tikz"]
    svg_row = next(pd.read_parquet(tmp_path / "refine.parquet").itertuples())
    assert svg_row.extra_info["perturbation"] == "good" and "#2ca02c" in svg_row.messages[1]["content"]


def test_a_row_with_no_passing_candidate_gives_no_example_and_is_counted(source, tmp_path, renderer, monkeypatch):
    import vinci_rl.data.refine_examples as refine_examples

    monkeypatch.setattr(refine_examples, "candidates", lambda code, language, rng, tries: iter([("same", code + " ")]))
    summary = _prepare(source, tmp_path, renderer, n=4)
    assert summary.rows["refine"] == 0 and len(summary.refine["no_example"]) == 4
    assert summary.refine["rejected"]["render_unchanged"] == 4


def test_a_prepared_set_is_a_source_too(prepared, tmp_path, renderer):
    out, _ = prepared
    summary = _prepare(out / "train.parquet", tmp_path, renderer, n=2)
    assert summary.rows == {"train": 3, "refine": 2} and summary.rejected_rows == []
    ids = sorted(e["id"] for e in pd.read_parquet(tmp_path / "train.parquet").extra_info)
    assert ids == ["a_svg", "b_mol", "c_tikz"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--refine-examples", "-1"], "refine_examples must be a whole number >= 0, got -1"),
        (["--refine-examples", "2", "--split-name", "refine"], "split_name 'refine' clashes with the refinement examples"),
    ],
)
def test_bad_refine_options_are_named(source, tmp_path, capsys, args, message):
    assert main(["prepare", str(source), "--out", str(tmp_path / "o"), "--quiet", *args]) == 2
    assert message in capsys.readouterr().err


# ---- verl's SFT dataset -----------------------------------------------------------------------------------------


def test_refinement_rows_load_in_verls_sft_dataset_and_only_the_fix_is_trained(prepared, tiny_vlm):
    import verl  # noqa: F401  (plugins)
    from omegaconf import OmegaConf
    from transformers import AutoProcessor, AutoTokenizer
    from verl.utils.dataset.multiturn_sft_dataset import MultiTurnSFTDataset

    from vinci_rl.data.sft_dataset import MessageMaskSFTDataset

    out, _ = prepared
    cfg = OmegaConf.create({"messages_key": "messages", "image_key": "images", "max_length": 4096, "truncation": "error",
                            "pad_mode": "no_padding"})  # fmt: skip
    tokenizer, processor = AutoTokenizer.from_pretrained(tiny_vlm), AutoProcessor.from_pretrained(tiny_vlm)
    files = [str(out / "train.parquet"), str(out / "refine.parquet")]  # mixed: plain rows and refinement rows
    ours = MessageMaskSFTDataset(files, tokenizer, cfg, processor=processor)
    plain = MultiTurnSFTDataset([str(out / "refine.parquet")], tokenizer, cfg, processor=processor)
    rows = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    assert len(ours) == len(rows) == 9
    for i in range(len(rows)):
        item = ours[i]
        messages = rows.messages[i]
        trained = tokenizer.decode(item["input_ids"][item["loss_mask"].bool()])
        assert trained.startswith(messages[-1]["content"])  # the ground truth's fenced answer (then the turn's end)
        assert len(item["multi_modal_inputs"]["image_grid_thw"]) == len(rows.images[i])
        if len(messages) == 4:  # a refinement row: the wrong answer is context only; verl alone would train it
            assert messages[1]["content"] not in trained
            assert messages[1]["content"] in tokenizer.decode(plain[i - 3]["input_ids"][plain[i - 3]["loss_mask"].bool()])
