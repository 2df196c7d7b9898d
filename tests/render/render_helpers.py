"""Samples and checks shared by the renderer tests (imported by basename; tests/ has no __init__.py)."""

from __future__ import annotations

import numpy as np

from vinci_rl.render.result import OK

# Budgets of the session renderer: long enough for a normal sample on a busy 2-core box, short enough for attacks.
TEST_TIMEOUTS = {"svg": 3.0, "html": 5.0, "latex": 8.0, "python": 8.0, "smiles": 3.0}
SLACK_S = 4.0  # allowed overrun on a timeout (kill, reap, screenshot teardown)

# A normal sample per language that draws something red; used for correctness and for recovery after attacks.
RED_SAMPLES = {
    "svg": '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
    '<rect x="0" y="0" width="50" height="50" fill="red"/></svg>',
    "html": "<html><body style='margin:0'><div style='width:50vw;height:50vh;background:red'></div></body></html>",
    "latex": r"\begin{tikzpicture}\fill[red] (0,0) rectangle (3,3);\end{tikzpicture}",
    "python": "import matplotlib.pyplot as plt\nfrom matplotlib.patches import Rectangle\n"
    "fig = plt.figure()\nax = fig.add_axes([0, 0.5, 0.5, 0.5])\n"
    "ax.add_patch(Rectangle((0, 0), 1, 1, color='red'))\nax.axis('off')\nplt.savefig('out.png')\n",
    "smiles": "O=C=O",
    "mermaid": "graph LR\n  A[Start] --> B[End]\n  style A fill:#ff0000,stroke:#ff0000\n",
}


def red_fraction(img: np.ndarray) -> float:
    """Share of pixels that are clearly red."""
    r, g, b = (img[..., i].astype(int) for i in range(3))
    return float(((r > 200) & (g < 80) & (b < 80)).mean())


def assert_renders_normally(renderer, lang: str, size=(256, 256)) -> None:
    """The same Renderer still renders a normal sample of `lang` correctly (used after every attack)."""
    res = renderer.render(lang, RED_SAMPLES[lang], size)
    assert res.status == OK, (lang, res.status, res.message)
    assert res.image.shape == (size[1], size[0], 3)
    assert red_fraction(res.image) > 0.001, f"{lang}: no red in the render after an attack"
