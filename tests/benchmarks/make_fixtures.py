"""Rebuild the small benchmark fixtures under tests/benchmarks/fixtures/ (each in its benchmark's published layout).

    .venv/bin/python tests/benchmarks/make_fixtures.py

The reference images are made by the same code paths the metrics use (HELM's LaTeX compile, the SVG renderer at
336 x 336, RDKit drawings), so a prediction equal to the reference scores the maximum.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

HERE = Path(__file__).parent / "fixtures"

LATEX = {  # uuid -> (subset, structure): tiny pictures so that the images stay under 100 patches
    "i2s-plot-1": ("plot", "\\begin{tikzpicture}\\draw[thick] (0,0) -- (0.6,0.4) -- (1,0.1);\\end{tikzpicture}"),
    "i2s-plot-2": ("plot", "\\begin{tikzpicture}\\fill[blue] (0,0) rectangle (0.5,0.5);\\end{tikzpicture}"),
    "i2s-eq-1": ("equation", "$x^2 + y$"),
}
SVGS = {
    "icon_square.png": '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect x="2" y="2" width="5" '
    'height="5" fill="red"/></svg>',
    "icon_circle.png": '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="3" '
    'fill="#1a5"/></svg>',
}
MOLECULES = {"phenol": ("c1ccccc1O", "python"), "aspirin": ("CC(=O)Oc1ccccc1C(=O)O", "python"),
             "ethanol": ("CCO", "smiles")}


def latex() -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from vinci_rl.benchmarks import MetricContext
    from vinci_rl.benchmarks.image2struct import compile_latex

    ctx = MetricContext()
    try:
        for subset in ("plot", "equation"):
            rows = []
            for uuid, (sub, code) in LATEX.items():
                if sub != subset:
                    continue
                image, err = compile_latex(ctx, code)
                assert image is not None, err
                buf = io.BytesIO()
                image.save(buf, format="PNG")
                rows.append({"uuid": f'"{uuid}"', "category": f'"{subset}"', "difficulty": "easy", "structure": code,
                             "image": {"bytes": buf.getvalue(), "path": f"{uuid}.png"}})
            out = HERE / "image2struct-latex" / subset
            out.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pylist(rows), out / "validation-00000-of-00001.parquet")
    finally:
        ctx.close()


def unisvg() -> None:
    from PIL import Image

    from vinci_rl.render import Renderer

    out = HERE / "unisvg"
    (out / "png").mkdir(parents=True, exist_ok=True)
    items = []
    with Renderer() as r:
        for name, svg in SVGS.items():
            Image.fromarray(r.render("svg", svg, (336, 336)).image).save(out / "png" / name)
            items.append({"q_text": "Please generate the SVG code for this image.", "image_path": name,
                          "type": "ISVGEN", "a_text": svg})
    items.append({"q_text": "What colour is the square?", "image_path": "icon_square.png", "type": "ISVGUN_color",
                  "a_text": "red"})
    (out / "test.json").write_text(json.dumps(items, indent=1) + "\n")


def chemdraw() -> None:
    from rdkit import Chem
    from rdkit.Chem import Draw

    out = HERE / "chemdraw"
    (out / "images").mkdir(parents=True, exist_ok=True)
    lines = []
    for name, (smiles, lang) in MOLECULES.items():
        Draw.MolToImage(Chem.MolFromSmiles(smiles), size=(96, 96)).save(out / "images" / f"{name}.png")
        lines.append(json.dumps({"id": name, "image": f"images/{name}.png", "smiles": smiles, "language": lang}))
    (out / "test.jsonl").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    latex()
    unisvg()
    chemdraw()
