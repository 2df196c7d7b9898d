"""Evaluation metrics as people report them (DESIGN.md §2), pure functions of two RGB uint8 images or two codes.

- DINO score (StarVector DinoScore): DINOv2 (base) patch tokens mean-pooled, s = cos(pred, ref),
  score = (s + 1) / 2. Images are resized to 224 x 224 (bicubic) and ImageNet-normalised; StarVector's image
  processor resizes the short side to 256 and centre-crops 224, which we skip so that nothing is cut off.
- SSIM: vinci_rl.reward.terms.ssim (grayscale, Gaussian 11 x 11, sigma 1.5), in [-1, 1].
- MSE ("pixel L2"): mean squared difference of RGB values scaled to [0, 1] (StarVector's MSE), in [0, 1].
- LPIPS: distance (lower is better), from vinci_rl.reward.terms.perceptual.LpipsTerm when its weights exist.
- Tanimoto: RDKit Morgan fingerprints (radius 2, 2048 bits) of the two molecules, in [0, 1].
The prediction is always resized (bicubic) to the reference's size first.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

import numpy as np

from vinci_rl.reward.image import align
from vinci_rl.reward.terms.ssim import ssim as _ssim

# metric -> (higher is better, value given to a sample whose prediction did not render)
METRICS: dict[str, tuple[bool, float]] = {
    "dino_score": (True, 0.0),
    "ssim": (True, 0.0),
    "mse": (False, 1.0),
    "lpips": (False, 1.0),
    "tanimoto": (True, 0.0),
    "reward": (True, float("nan")),  # the reward has its own failure values (the recipe's)
}

# StarVector DinoScore: DINOv2-base, mean of the patch tokens, one 224 x 224 view.
STARVECTOR_DINO = {"feature": "mean", "tile_size": 224, "max_tiles": 1, "dtype": "float32"}


def ssim(pred: np.ndarray, ref: np.ndarray) -> float:
    return _ssim(pred, ref)


def mse(pred: np.ndarray, ref: np.ndarray) -> float:
    a = align(pred, ref).astype(np.float64) / 255.0
    b = ref.astype(np.float64) / 255.0
    return float(np.mean((a - b) ** 2))


def dino_scores(encoder: Any, preds: Sequence[np.ndarray], refs: Sequence[np.ndarray]) -> list[float]:
    """StarVector DinoScore of each (pred, ref) pair with a vinci_rl.reward.dino.DinoEncoder built from
    STARVECTOR_DINO (one view per image); reference features are cached by the encoder."""
    if not preds:
        return []
    preds = [align(p, r) for p, r in zip(preds, refs)]
    feats = encoder.view_features(list(preds) + list(refs), cache=[False] * len(preds) + [True] * len(refs))
    out = []
    for k in range(len(preds)):
        a, b = feats[k][0].astype(np.float64), feats[len(preds) + k][0].astype(np.float64)
        cos = float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))
        out.append(float(np.clip((cos + 1.0) / 2.0, 0.0, 1.0)))
    return out


# ---- chemistry ---------------------------------------------------------------------------------------------

_SMILES_IN_PYTHON = re.compile(r"MolFromSmiles\(\s*(?:r|u)?(['\"])(.+?)\1")


def smiles_of(language: str, code: str | None) -> str | None:
    """The SMILES a program draws: the code itself for language smiles; for Python (RDKit drawing code) the
    last literal passed to Chem.MolFromSmiles. None when there is none."""
    if not code:
        return None
    if language == "smiles":
        return code.strip() or None
    if language == "python":
        found = _SMILES_IN_PYTHON.findall(code)
        return found[-1][1] if found else None
    return None


def tanimoto(smiles_a: str | None, smiles_b: str | None, radius: int = 2, n_bits: int = 2048) -> float | None:
    """Morgan-fingerprint Tanimoto similarity; 0.0 when a SMILES does not parse; None when the reference has none."""
    from rdkit import Chem, DataStructs, RDLogger
    from rdkit.Chem import rdFingerprintGenerator

    RDLogger.DisableLog("rdApp.*")
    if not smiles_b:
        return None
    ref = Chem.MolFromSmiles(smiles_b)
    if ref is None or ref.GetNumAtoms() == 0:
        return None
    pred = Chem.MolFromSmiles(smiles_a) if smiles_a else None
    if pred is None or pred.GetNumAtoms() == 0:
        return 0.0
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    return float(DataStructs.TanimotoSimilarity(gen.GetFingerprint(pred), gen.GetFingerprint(ref)))
