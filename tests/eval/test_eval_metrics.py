"""Metric values on constructed cases: DINO score (StarVector), SSIM, MSE, Tanimoto, and the SMILES finder."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from eval_helpers import TINY_DINO

from vinci_rl.eval import metrics as M

pytest.importorskip("transformers")


def shapes(w: int = 128, h: int = 96) -> np.ndarray:
    img = np.full((h, w, 3), 255, np.uint8)
    cv2.rectangle(img, (20, 20), (60, 60), (200, 30, 30), -1)
    cv2.circle(img, (95, 55), 18, (30, 60, 200), -1)
    return img


@pytest.fixture(scope="module")
def encoder():
    from vinci_rl.reward.dino import DinoEncoder

    return DinoEncoder({**M.STARVECTOR_DINO, "config": TINY_DINO})


def test_identical_images_score_one(encoder):
    img = shapes()
    assert M.dino_scores(encoder, [img], [img]) == [pytest.approx(1.0, abs=1e-6)]
    assert M.ssim(img, img) == pytest.approx(1.0)
    assert M.mse(img, img) == 0.0


def test_blank_prediction_scores_lower_than_the_copy(encoder):
    img, blank = shapes(), np.full((96, 128, 3), 255, np.uint8)
    dino_same, dino_blank = M.dino_scores(encoder, [img, blank], [img, img])
    assert dino_blank < dino_same
    assert M.ssim(blank, img) < 0.8
    assert M.mse(blank, img) > 0.05


def test_dino_score_is_starvector_mean_pooled_single_view(encoder):
    assert encoder.config.feature == "mean" and encoder.config.max_tiles == 1 and encoder.config.tile_size == 224
    assert 0.0 <= M.dino_scores(encoder, [shapes()[::-1].copy()], [shapes()])[0] <= 1.0


def test_prediction_is_resized_to_the_reference():
    img = shapes()
    big = cv2.resize(img, (256, 192), interpolation=cv2.INTER_NEAREST)
    assert M.ssim(big, img) > 0.9 and M.mse(big, img) < 0.01


@pytest.mark.parametrize(
    "pred,ref,expected",
    [
        ("c1ccccc1O", "c1ccccc1O", 1.0),
        ("Oc1ccccc1", "c1ccccc1O", 1.0),  # another SMILES of the same molecule
        ("not a smiles", "CCO", 0.0),
        (None, "CCO", 0.0),
        ("CCO", "", None),  # no reference molecule: no Tanimoto
    ],
)
def test_tanimoto_table(pred, ref, expected):
    assert M.tanimoto(pred, ref) == expected


def test_tanimoto_of_another_molecule_is_below_one():
    assert 0.0 < M.tanimoto("Cc1ccccc1O", "c1ccccc1O") < 1.0
    assert M.tanimoto("CCO", "c1ccccc1O") < 0.5


@pytest.mark.parametrize(
    "lang,code,expected",
    [
        ("smiles", " CCO\n", "CCO"),
        ("python", "from rdkit import Chem\nm = Chem.MolFromSmiles('CC(=O)O')\nDraw.MolToImage(m)", "CC(=O)O"),
        ("python", 'a = Chem.MolFromSmiles("CCO")\nb = Chem.MolFromSmiles("c1ccccc1")', "c1ccccc1"),  # the last one
        ("python", "import matplotlib.pyplot as plt", None),
        ("svg", "<svg/>", None),
    ],
)
def test_smiles_of(lang, code, expected):
    assert M.smiles_of(lang, code) == expected


def test_dino_weights_load_from_a_directory(tmp_path):
    """The real loading path (--dino PATH): weights saved with save_pretrained, read back by from_pretrained."""
    from transformers import Dinov2Config, Dinov2Model

    from vinci_rl.eval.evaluate import EvalConfig, _dino_encoder

    Dinov2Model(Dinov2Config(**TINY_DINO)).save_pretrained(tmp_path / "dino")
    notes: list[str] = []
    enc = _dino_encoder(EvalConfig(data="x", out_dir="y", dino=str(tmp_path / "dino")), notes)
    img = shapes()
    assert M.dino_scores(enc, [img], [img]) == [pytest.approx(1.0, abs=1e-6)]
    assert notes == [] and enc.config.model == str(tmp_path / "dino")


def test_lpips_is_omitted_with_a_note_or_refused_with_a_bad_path(tmp_path):
    import importlib.util

    from vinci_rl.eval.evaluate import EvalConfig, _lpips_term
    from vinci_rl.eval.predictions import PredictionError

    notes: list[str] = []
    assert _lpips_term(EvalConfig(data="x", out_dir="y"), notes) is None and "no LPIPS weights" in notes[0]
    with pytest.raises(PredictionError, match="LPIPS weights not found: .*nope.pth"):
        _lpips_term(EvalConfig(data="x", out_dir="y", lpips=str(tmp_path / "nope.pth")), [])
    (tmp_path / "w.pth").write_bytes(b"")
    if importlib.util.find_spec("lpips") is None:
        notes = []
        assert _lpips_term(EvalConfig(data="x", out_dir="y", lpips=str(tmp_path / "w.pth")), notes) is None
        assert "'lpips' package is not installed" in notes[0]
