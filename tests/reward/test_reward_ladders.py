"""Rank order on degradation ladders, per language, with the real renderers and the pixel terms only.

For each language the test writes a reference program, renders it to the reference image, then scores
four responses against it: the identical code, a small change (one shape shifted a few px / one colour
nudged), a large change (different shapes and colours) and a blank drawing. The composite of pixel_l2 +
canny_l2 (blank render -> failure -1) must rank identical > small > large > blank.
"""

from __future__ import annotations

import importlib.util

import pytest
from reward_helpers import fenced

from vinci_rl.reward import VisualScorer

SIZE = (256, 192)
CONFIG = {"weights": {"pixel_l2": 1.0, "canny_l2": 1.0}, "size": "reference"}

SVG_HEAD = '<svg xmlns="http://www.w3.org/2000/svg" width="256" height="192" viewBox="0 0 256 192">'
SVG = {
    "identical": SVG_HEAD + '<rect x="30" y="30" width="80" height="80" fill="#c81e1e"/>'
    '<circle cx="190" cy="110" r="40" fill="#1e3cc8"/></svg>',
    "small": SVG_HEAD + '<rect x="35" y="30" width="80" height="80" fill="#be2828"/>'
    '<circle cx="190" cy="110" r="40" fill="#1e3cc8"/></svg>',
    "large": SVG_HEAD + '<polygon points="20,120 70,15 125,120" fill="#14a028"/>'
    '<rect x="165" y="60" width="70" height="100" fill="#f0a000"/></svg>',
    "blank": SVG_HEAD + '<rect width="256" height="192" fill="white"/></svg>',
}

HTML_HEAD = "<html><body style='margin:0;background:white;width:256px;height:192px;position:relative'>"
HTML = {
    "identical": HTML_HEAD + "<div style='position:absolute;left:30px;top:30px;width:80px;height:80px;background:#c81e1e'></div>"
    "<div style='position:absolute;left:150px;top:70px;width:80px;height:80px;border-radius:40px;background:#1e3cc8'></div></body></html>",
    "small": HTML_HEAD + "<div style='position:absolute;left:35px;top:30px;width:80px;height:80px;background:#be2828'></div>"
    "<div style='position:absolute;left:150px;top:70px;width:80px;height:80px;border-radius:40px;background:#1e3cc8'></div></body></html>",
    "large": HTML_HEAD + "<div style='position:absolute;left:20px;top:50px;width:110px;height:50px;border-radius:25px;background:#14a028'></div>"
    "<div style='position:absolute;left:165px;top:60px;width:70px;height:100px;background:#f0a000'></div></body></html>",
    "blank": HTML_HEAD + "</body></html>",
}

TIKZ = r"""\begin{tikzpicture}
\path[use as bounding box] (0,0) rectangle (4,3);
%s
\end{tikzpicture}"""
LATEX = {
    "identical": TIKZ % r"\fill[red!80!black] (0.5,1.2) rectangle (1.8,2.5); \fill[blue!80!black] (3,1.2) circle (0.6);",
    "small": TIKZ % r"\fill[red!75!black] (0.6,1.2) rectangle (1.9,2.5); \fill[blue!80!black] (3,1.2) circle (0.6);",
    "large": TIKZ % r"\fill[green!60!black] (0.3,1.0) -- (1.2,2.8) -- (2.1,1.0) -- cycle; \fill[orange] (2.6,0.5) rectangle (3.5,2.0);",
    "blank": TIKZ % r"\node at (2,1.5) {};",
}

PYTHON_HEAD = "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(4, 3))\n"
PYTHON = {
    "identical": PYTHON_HEAD + "ax.bar(['a', 'b', 'c', 'd'], [3, 5, 2, 4], color='tab:blue')\nax.set_ylim(0, 6)\nplt.savefig('out.png')\n",
    "small": PYTHON_HEAD + "ax.bar(['a', 'b', 'c', 'd'], [3, 5, 2.3, 4], color='tab:blue')\nax.set_ylim(0, 6)\nplt.savefig('out.png')\n",
    "large": PYTHON_HEAD + "ax.plot(['a', 'b', 'c', 'd'], [1, 4, 5, 2], color='tab:red', linewidth=4)\nax.set_ylim(0, 6)\nplt.savefig('out.png')\n",
    "blank": PYTHON_HEAD + "ax.axis('off')\nplt.savefig('out.png')\n",
}

SMILES = {
    "identical": "c1ccc(cc1)C(=O)O",  # benzoic acid
    "small": "c1ccc(cc1)C(=O)N",  # benzamide: one atom differs
    "large": "CCCCCCCCCC(C)(C)CCN",  # a long aliphatic chain
    "blank": "",  # empty molecule: nothing drawn
}

LADDERS = {"svg": SVG, "html": HTML, "latex": LATEX, "python": PYTHON, "smiles": SMILES}
BACKEND_MODULES = {
    "svg": "vinci_rl.render.svg",
    "html": "vinci_rl.render.html",
    "latex": "vinci_rl.render.latex",
    "python": "vinci_rl.render.python_code",
    "smiles": "vinci_rl.render.smiles",
}


@pytest.fixture(scope="module")
def renderer():
    from vinci_rl.render import Renderer

    with Renderer() as r:
        yield r


@pytest.mark.slow
@pytest.mark.parametrize("lang", list(LADDERS))
def test_degradation_ladder(lang, renderer):
    if importlib.util.find_spec(BACKEND_MODULES[lang]) is None:
        pytest.skip(f"the {lang} renderer ({BACKEND_MODULES[lang]}) is not in vinci_rl.render yet")
    ladder = LADDERS[lang]
    ref = renderer.render(lang, ladder["identical"], size=SIZE)
    assert ref.ok, f"reference {lang} render failed: {ref.status} {ref.message}"
    scorer = VisualScorer(CONFIG, renderer=renderer)
    results = {k: scorer.score(fenced(lang, code), lang, ref.image) for k, code in ladder.items()}
    scores = {k: r.overall for k, r in results.items()}
    detail = {k: (round(r.overall, 4), r.status, {t: round(v, 3) for t, v in r.terms.items()}) for k, r in results.items()}
    assert results["identical"].status == "ok", detail
    assert scores["identical"] == pytest.approx(1.0, abs=1e-3), detail
    assert scores["identical"] > scores["small"] > scores["large"] > scores["blank"], detail
    assert results["blank"].status != "ok" and scores["blank"] == -1.0, detail
