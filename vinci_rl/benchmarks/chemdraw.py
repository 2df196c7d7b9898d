"""ChemDraw-style molecule drawing (`chemdraw`): execution rate and RDKit fingerprint Tanimoto against the reference.

Data: DATA_DIR/test.jsonl, one object per line: {"id", "image" (a path relative to DATA_DIR), "smiles" (the
reference molecule)}, optional "language" ("python": RDKit drawing code, the default; "smiles": a bare SMILES
answer) and "prompt" (the benchmark's own prompt, with <image> where the image goes). A reference SMILES that RDKit
cannot parse is a data error naming the line (the chemistry OCR evaluations skip such rows; we refuse them).

Per response (the chemistry OCR evaluations' Tanimoto, ChemVLM evaluation/test_smiles_ocr.py `sim_cal_metric`):
- Exec Rate: python - the program runs in the project's sandboxed Python renderer without an error (a figure is
  not required); smiles - the answer parses to a non-empty molecule.
- Tanimoto: RDKit Morgan fingerprints, radius 2, 2048 bits (vinci_rl.eval.metrics.tanimoto) of the predicted
  molecule and the reference; 0 when the prediction does not run / parse or names no molecule. For python the
  molecule is the last SMILES literal passed to Chem.MolFromSmiles in the program.
- Tanimoto@1.0: the share of answers whose Tanimoto is exactly 1 (ChemVLM's "tanimoto@1.0"); it is also the pass
  criterion of pass@k.
"""

from __future__ import annotations

import json
from pathlib import Path

from vinci_rl.benchmarks.base import BenchmarkDataError, BenchmarkItem, MetricContext, mean, register

PROMPTS = {
    "python": "<image>Write Python code with RDKit that draws the molecule in this image "
    "(build it with Chem.MolFromSmiles). Answer with one ```python code block.",
    "smiles": "<image>Write the SMILES string of the molecule in this image. Answer with one ```smiles code block.",
}
# Render statuses of a program that ran to its end (an empty figure still ran).
RAN = ("ok", "blank", "empty")
RENDER_SIZE = (256, 256)


def parses(smiles: str | None) -> bool:
    """Whether RDKit reads the SMILES as a molecule with at least one atom (an empty string is a valid, empty one)."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    if not smiles or not smiles.strip():
        return False
    mol = Chem.MolFromSmiles(smiles.strip())
    return mol is not None and mol.GetNumAtoms() > 0


class ChemDraw:
    name = "chemdraw"
    language = "python"
    columns = ("Exec Rate", "Tanimoto", "Tanimoto@1.0")

    def load(self, data_dir: Path) -> list[BenchmarkItem]:
        path = data_dir / "test.jsonl"
        if not path.is_file():
            raise BenchmarkDataError(f"{self.name}: {path} not found (one JSON object per line: id, image, smiles)")
        items = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                items.append(self._item(data_dir, path, n, line))
        return items

    def _item(self, data_dir: Path, path: Path, n: int, line: str) -> BenchmarkItem:
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise BenchmarkDataError(f"{path}:{n}: not JSON: {e}") from e
        for key in ("id", "image", "smiles"):
            if not isinstance(rec, dict) or rec.get(key) in (None, ""):
                raise BenchmarkDataError(f"{path}:{n}: missing field {key!r}")
        image = data_dir / str(rec["image"])
        if not image.is_file():
            raise BenchmarkDataError(f"{path}:{n}: image file not found: {image}")
        if not parses(rec["smiles"]):
            raise BenchmarkDataError(f"{path}:{n}: the reference SMILES {rec['smiles']!r} does not parse with RDKit")
        lang = rec.get("language", "python")
        if lang not in PROMPTS:
            raise BenchmarkDataError(f"{path}:{n}: language must be one of {', '.join(PROMPTS)}, got {lang!r}")
        prompt = rec.get("prompt") or PROMPTS[lang]
        if prompt.count("<image>") != 1:
            raise BenchmarkDataError(f"{path}:{n}: the prompt must hold <image> exactly once")
        return BenchmarkItem(str(rec["id"]), image, prompt, rec["smiles"], lang, {})

    def score(self, item: BenchmarkItem, prediction: str, ctx: MetricContext) -> dict[str, float]:
        from vinci_rl.eval.metrics import smiles_of, tanimoto

        code = (prediction or "").strip()
        if item.language == "smiles":
            ran = parses(code)
        else:
            ran = bool(code) and ctx.renderer().render("python", code, RENDER_SIZE).status in RAN
        sim = tanimoto(smiles_of(item.language, code), item.reference) if ran else 0.0
        sim = float(sim or 0.0)
        return {"Exec Rate": float(ran), "Tanimoto": sim, "Tanimoto@1.0": float(sim == 1.0)}

    def passed(self, row: dict[str, float]) -> bool:
        return row["Tanimoto"] == 1.0

    def aggregate(self, rows: list[dict[str, float]]) -> dict[str, float]:
        return {c: mean([r[c] for r in rows]) for c in self.columns}


register(ChemDraw())
