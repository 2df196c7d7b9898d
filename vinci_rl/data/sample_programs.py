"""Generators of small, varied programs per language: the source of the bundled sample set.

Each generator takes a `random.Random` and returns code; the same seed gives the same program.
"""

from __future__ import annotations

import random

PALETTE = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
WORDS = ["Alpha", "Beta", "Gamma", "Delta", "Sales", "Users", "Growth", "Q1", "Q2", "Score"]


def svg_program(rng: random.Random) -> str:
    shapes = []
    for _ in range(rng.randint(2, 4)):
        color = rng.choice(PALETTE)
        if rng.random() < 0.5:
            x, y, w, h = rng.randint(0, 60), rng.randint(0, 60), rng.randint(15, 40), rng.randint(15, 40)
            shapes.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{color}"/>')
        else:
            cx, cy, r = rng.randint(20, 80), rng.randint(20, 80), rng.randint(8, 20)
            shapes.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{color}"/>')
    body = "\n  ".join(shapes)
    return f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">\n  {body}\n</svg>'


def html_program(rng: random.Random) -> str:
    bg, fg = rng.sample(PALETTE, 2)
    title = rng.choice(WORDS)
    items = "".join(f"<li>{w}</li>" for w in rng.sample(WORDS, rng.randint(2, 3)))
    return (
        '<html><body style="margin:0;font-family:sans-serif;background:#fff">\n'
        f'<div style="background:{bg};color:#fff;padding:6px;font-size:18px">{title}</div>\n'
        f'<ul style="color:{fg};font-size:14px">{items}</ul>\n'
        "</body></html>"
    )


def latex_program(rng: random.Random) -> str:
    c1, c2 = rng.sample(["red", "blue", "green!60!black", "orange", "violet"], 2)
    w, h = rng.randint(2, 4), rng.randint(1, 3)
    label = rng.choice(WORDS)
    return (
        "\\begin{tikzpicture}\n"
        f"  \\draw[thick,fill={c1}!30] (0,0) rectangle ({w},{h});\n"
        f"  \\draw[{c2},line width=2pt] (0,0) -- ({w},{h});\n"
        f"  \\node at ({w / 2},{h + 0.4}) {{{label}}};\n"
        "\\end{tikzpicture}"
    )


def python_program(rng: random.Random) -> str:
    labels = rng.sample(WORDS, 3)
    values = [rng.randint(1, 9) for _ in labels]
    color = rng.choice(PALETTE)
    kind = rng.choice(["bar", "plot"])
    draw = f"ax.bar({labels!r}, {values!r}, color='{color}')" if kind == "bar" else (
        f"ax.plot({values!r}, color='{color}', marker='o', linewidth=3)"
    )
    return (
        "import matplotlib.pyplot as plt\n"
        "fig, ax = plt.subplots(figsize=(3, 3))\n"
        f"{draw}\n"
        f"ax.set_title('{rng.choice(WORDS)}')\n"
        "plt.show()"
    )


SMILES = [
    "CCO",
    "c1ccccc1O",
    "CC(=O)Oc1ccccc1C(=O)O",
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
    "C1CCCCC1N",
    "OC(=O)CCc1ccccc1",
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
    "c1ccc2ccccc2c1",
    "NCCc1ccc(O)c(O)c1",
    "CC(=O)Nc1ccc(O)cc1",
]


def smiles_program(rng: random.Random) -> str:
    return rng.choice(SMILES)


def mermaid_program(rng: random.Random) -> str:
    words = rng.sample(WORDS, rng.randint(3, 4))
    shapes = ["[{}]", "({})", "{{{{{}}}}}", "([{}])"]
    nodes = [f"N{i}" + rng.choice(shapes).format(w) for i, w in enumerate(words)]
    lines = [f"graph {rng.choice(['LR', 'TD'])}"]
    lines += [f"  {nodes[i] if i == 0 else f'N{i}'} --> {nodes[i + 1]}" for i in range(len(nodes) - 1)]
    lines.append(f"  N{len(nodes) - 1} --> N0")
    lines.append(f"  style N{rng.randrange(len(nodes))} fill:{rng.choice(PALETTE)},color:#fff")
    return "\n".join(lines)


GENERATORS = {
    "html": html_program,
    "svg": svg_program,
    "latex": latex_program,
    "python": python_program,
    "smiles": smiles_program,
    "mermaid": mermaid_program,
}
