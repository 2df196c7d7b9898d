"""The reward-fidelity cases: degenerate outputs, non-square references, answer fences, near misses.

Each case is a program (or a model response) scored with `vinci-rl score` against a reference image that is
itself a render of a reference program. The rank tests import the programs from here; run the file to print
the before/after table of every case through the real CLI:

    .venv/bin/python tests/reward/fidelity_cases.py [--out DIR]

Columns: case, preset, overall, status, terms. Presets named NAME+tiny run NAME with a tiny random DINOv2 (no
weights here; the DINO numbers show the pipeline, not what DINOv2-large would say). To score with another
checkout of the package (say, the code before a change), run it from outside the repository with PYTHONPATH
pointing at that checkout.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# ---- SVG scene with a coloured background ----------------------------------------------------------------

SCENE_HEAD = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200" viewBox="0 0 200 200">'
SCENE_BG = '<rect width="200" height="200" fill="#dfe8f1"/>'
SCENE_RECT = '<rect x="25" y="30" width="60" height="45" fill="#1f3a68"/>'
SCENE_CIRCLE = '<circle cx="145" cy="60" r="26" fill="#f08a24"/>'
SCENE_TRIANGLE = '<polygon points="50,175 100,105 150,175" fill="#2f9e5a"/>'
SCENE = {
    "exact": SCENE_HEAD + SCENE_BG + SCENE_RECT + SCENE_CIRCLE + SCENE_TRIANGLE + "</svg>",
    "partial": SCENE_HEAD + SCENE_BG + SCENE_RECT + SCENE_CIRCLE + "</svg>",
    "one_mark": SCENE_HEAD + SCENE_BG + SCENE_RECT + "</svg>",
    "dot": SCENE_HEAD + SCENE_BG + '<circle cx="100" cy="100" r="1.5" fill="#000000"/></svg>',
    "background_only": SCENE_HEAD + SCENE_BG + "</svg>",
    # the right background and two of the shapes, in the wrong places
    "misplaced": SCENE_HEAD + SCENE_BG + '<rect x="115" y="135" width="60" height="45" fill="#1f3a68"/>'
    '<circle cx="50" cy="150" r="26" fill="#f08a24"/></svg>',
    "gradient_only": SCENE_HEAD + '<defs><linearGradient id="g"><stop offset="0" stop-color="#dfe8f1"/>'
    '<stop offset="1" stop-color="#b9c9da"/></linearGradient></defs><rect width="200" height="200" fill="url(#g)"/></svg>',
    "white": SCENE_HEAD + "</svg>",
}

# ---- an SVG logo and its near misses ------------------------------------------------------------------------


def logo(dx: float = 0.0, scale: float = 1.0, color: str = "#c0392b") -> str:
    """A 200x200 logo (ring, bar, dot); dx shifts it right (in px), scale grows it about the centre."""
    t = f'translate({100 + dx} 100) scale({scale}) translate(-100 -100)'
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200" viewBox="0 0 200 200">'
        f'<g transform="{t}"><circle cx="100" cy="100" r="55" fill="none" stroke="{color}" stroke-width="14"/>'
        f'<rect x="88" y="60" width="24" height="80" fill="{color}"/><circle cx="100" cy="40" r="9" fill="#2c3e50"/></g></svg>'
    )


DIAMOND = ('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200" viewBox="0 0 200 200">'
           '<polygon points="100,30 170,100 100,170 30,100" fill="#7f8c8d"/></svg>')  # fmt: skip

# ---- HTML -----------------------------------------------------------------------------------------------------

HTML_STYLE = "<style>body{margin:0;background:#f4efe6;font-family:sans-serif}.b{position:absolute}</style>"
HTML = {
    "exact": "<html><head>" + HTML_STYLE + "</head><body>"
    "<div class='b' style='left:0;top:0;width:400px;height:48px;background:#22313f'></div>"
    "<div class='b' style='left:24px;top:80px;width:160px;height:110px;background:#e67e22'></div>"
    "<div class='b' style='left:216px;top:80px;width:160px;height:110px;background:#2980b9'></div>"
    "<p class='b' style='left:24px;top:200px;font-size:20px;color:#22313f'>Quarterly report</p></body></html>",
    "empty_page": "<html><head>" + HTML_STYLE + "</head><body></body></html>",
    "wrong_layout": "<html><head>" + HTML_STYLE + "</head><body>"
    "<div class='b' style='left:0;top:232px;width:400px;height:48px;background:#22313f'></div>"
    "<div class='b' style='left:40px;top:30px;width:110px;height:160px;background:#2980b9'></div>"
    "<div class='b' style='left:240px;top:40px;width:120px;height:120px;background:#e67e22'></div></body></html>",
}

# ---- non-square references ------------------------------------------------------------------------------------

WIDE_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="1300" height="480" viewBox="0 0 1300 480">'
    '<rect x="40" y="60" width="380" height="300" fill="#2d6cdf"/><circle cx="700" cy="240" r="160" fill="#e4572e"/>'
    '<polygon points="950,420 1100,60 1250,420" fill="#29bf12"/></svg>'
)
INCH_SVG = (  # physical units, no viewBox: the raster depends on the dpi
    '<svg xmlns="http://www.w3.org/2000/svg" width="3in" height="3in">'
    '<rect x="20" y="20" width="120" height="80" fill="#8e44ad"/><circle cx="200" cy="190" r="60" fill="#16a085"/></svg>'
)
MERMAID_LR = "graph LR\n  A[Load] --> B[Render]\n  B --> C[Compare]\n  C --> D[Reward]\n"
MERMAID_TD = MERMAID_LR.replace("graph LR", "graph TD")
MERMAID_OTHER = "graph LR\n  X((Start)) --> Y{Check}\n  Y -->|yes| Z[Done]\n  Y -->|no| X\n"
TIKZ_WIDE = r"""\begin{tikzpicture}
\fill[blue!70] (0,0) rectangle (3,2);
\fill[red!70] (5,1) circle (1);
\draw[line width=3pt] (7,0) -- (12,2);
\end{tikzpicture}"""
HTML_WIDE = ("<html><body style='margin:0;background:#fff'>"
             "<div style='position:absolute;left:30px;top:40px;width:300px;height:200px;background:#8e44ad'></div>"
             "<div style='position:absolute;left:500px;top:120px;width:420px;height:160px;background:#f39c12'></div>"
             "</body></html>")  # fmt: skip

# ---- a chart and its near misses ------------------------------------------------------------------------------

CHART = """import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(4, 3))
x = [0, 1, 2, 3]
ax.bar([i - 0.2 for i in x], {a}, width=0.4, color='{ca}')
ax.bar([i + 0.2 for i in x], {b}, width=0.4, color='{cb}')
ax.set_xticks(x)
ax.set_ylim(0, 6)
plt.savefig('out.png')
"""
CHART_EXACT = CHART.format(a=[3, 5, 2, 4], b=[4, 2, 5, 3], ca="tab:blue", cb="tab:orange")
CHART_DROP_BAR = CHART.format(a=[3, 5, 2, 4], b=[4, 2, 5, 0], ca="tab:blue", cb="tab:orange")
CHART_RECOLOUR = CHART.format(a=[3, 5, 2, 4], b=[4, 2, 5, 3], ca="tab:blue", cb="tab:green")


# ---- ladders per language, drawn for any canvas size (w, h) ----------------------------------------------------
#
# rungs: empty (the canvas with nothing on it), one_mark, partial, exact; near misses: shift_small (3.5 % of the
# short side), shift_large (14 %), rescale (x 1.1), recolour; unrelated: another picture on the same canvas.


def svg_picture(w: int, h: int, parts: str = "bg rect circle tri", dx: float = 0.0, scale: float = 1.0,
                recolour: bool = False, unrelated: bool = False) -> str:  # fmt: skip
    parts = set(parts.split())
    s = min(w, h)
    body = []
    if unrelated:
        body.append(f'<rect width="{w}" height="{h}" fill="#dfe8f1"/>')
        body.append(f'<polygon points="{0.5 * w},{0.1 * h} {0.5 * w + 0.3 * s},{0.5 * h} {0.5 * w},{0.9 * h} '
                    f'{0.5 * w - 0.3 * s},{0.5 * h}" fill="#7f8c8d"/>')  # fmt: skip
    else:
        if "bg" in parts:
            body.append(f'<rect width="{w}" height="{h}" fill="#dfe8f1"/>')
        g = []
        if "rect" in parts:
            g.append(f'<rect x="{0.12 * w}" y="{0.15 * h}" width="{0.3 * s}" height="{0.22 * s}" fill="{"#6a1f68" if recolour else "#1f3a68"}"/>')
        if "circle" in parts:
            g.append(f'<circle cx="{0.72 * w}" cy="{0.3 * h}" r="{0.13 * s}" fill="#f08a24"/>')
        if "tri" in parts:
            cx, cy, r = 0.45 * w, 0.72 * h, 0.2 * s
            g.append(f'<polygon points="{cx - r},{cy + 0.6 * r} {cx},{cy - 0.8 * r} {cx + r},{cy + 0.6 * r}" fill="#2f9e5a"/>')
        t = f"translate({dx * s} 0) translate({w / 2} {h / 2}) scale({scale}) translate({-w / 2} {-h / 2})"
        body.append(f'<g transform="{t}">' + "".join(g) + "</g>")
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">' + "".join(body) + "</svg>"


def html_page(w: int, h: int, parts: str = "header box1 box2 text", dx: float = 0.0, scale: float = 1.0,
              recolour: bool = False, unrelated: bool = False) -> str:  # fmt: skip
    parts = set(parts.split())
    s = min(w, h)
    style = "<style>body{margin:0;background:#f4efe6;font-family:sans-serif;overflow:hidden}.b{position:absolute}</style>"
    items = []
    if unrelated:
        items.append(f"<div class='b' style='left:{0.5 * w - 0.3 * s}px;top:{0.2 * h}px;width:{0.6 * s}px;height:{0.6 * s}px;"
                     "border-radius:50%;background:#8e44ad'></div>")  # fmt: skip
        items.append(f"<div class='b' style='left:0;top:{0.88 * h}px;width:{w}px;height:{0.12 * h}px;background:#16a085'></div>")
    else:
        if "header" in parts:
            items.append(f"<div class='b' style='left:0;top:0;width:{w}px;height:{0.17 * h}px;background:#22313f'></div>")
        if "box1" in parts:
            items.append(f"<div class='b' style='left:{0.06 * w}px;top:{0.28 * h}px;width:{0.4 * w}px;height:{0.4 * h}px;"
                         f"background:{'#c0392b' if recolour else '#e67e22'}'></div>")  # fmt: skip
        if "box2" in parts:
            items.append(f"<div class='b' style='left:{0.54 * w}px;top:{0.28 * h}px;width:{0.4 * w}px;height:{0.4 * h}px;background:#2980b9'></div>")
        if "text" in parts:
            items.append(f"<p class='b' style='left:{0.06 * w}px;top:{0.72 * h}px;margin:0;font-size:{0.08 * s}px;color:#22313f'>Quarterly report</p>")
    wrap = f"<div style='position:absolute;left:{dx * s}px;top:0;width:{w}px;height:{h}px;transform:scale({scale})'>"
    return f"<html><head>{style}</head><body>{wrap}{''.join(items)}</div></body></html>"


def tikz_picture(w: int, h: int, parts: str = "bg rect circle line", dx: float = 0.0, scale: float = 1.0,
                 recolour: bool = False, unrelated: bool = False) -> str:  # fmt: skip
    parts = set(parts.split())
    W, H = w / 100, h / 100
    s = min(W, H)
    lines = [r"\begin{tikzpicture}", rf"\path[use as bounding box] (0,0) rectangle ({W:.3f},{H:.3f});"]
    if unrelated:
        lines.append(rf"\fill[gray!12] (0,0) rectangle ({W:.3f},{H:.3f});")
        lines.append(rf"\fill[violet!70] ({0.5 * W:.3f},{0.5 * H:.3f}) ellipse ({0.35 * s:.3f} and {0.2 * s:.3f});")
    else:
        if "bg" in parts:
            lines.append(rf"\fill[gray!12] (0,0) rectangle ({W:.3f},{H:.3f});")
        lines.append(rf"\begin{{scope}}[shift={{({dx * s:.3f},0)}}, shift={{({0.5 * W:.3f},{0.5 * H:.3f})}}, scale={scale}, shift={{({-0.5 * W:.3f},{-0.5 * H:.3f})}}]")
        if "rect" in parts:
            colour = "orange!90!black" if recolour else "blue!70!black"
            lines.append(rf"\fill[{colour}] ({0.1 * W:.3f},{0.55 * H:.3f}) rectangle ({0.1 * W + 0.3 * s:.3f},{0.55 * H + 0.25 * s:.3f});")
        if "circle" in parts:
            lines.append(rf"\fill[red!70] ({0.7 * W:.3f},{0.65 * H:.3f}) circle ({0.14 * s:.3f});")
        if "line" in parts:
            lines.append(rf"\draw[line width=2.5pt] ({0.15 * W:.3f},{0.2 * H:.3f}) -- ({0.85 * W:.3f},{0.3 * H:.3f});")
        lines.append(r"\end{scope}")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


def chart_program(w: int, h: int, parts: str = "axes a b", dx: float = 0.0, scale: float = 1.0,
                  recolour: bool = False, unrelated: bool = False) -> str:  # fmt: skip
    parts = set(parts.split())
    lines = ["import matplotlib", "matplotlib.use('Agg')", "import matplotlib.pyplot as plt",
             f"fig, ax = plt.subplots(figsize=({w / 100}, {h / 100}))"]  # fmt: skip
    if unrelated:
        lines.append("ax.pie([30, 45, 25], colors=['tab:purple', 'tab:olive', 'tab:cyan'])")
    else:
        shift = dx * 4  # the x axis spans about 4 units
        a, b = [3 * scale, 5 * scale, 2 * scale, 4 * scale], [4 * scale, 2 * scale, 5 * scale, 3 * scale]
        if "one" in parts:
            lines.append(f"ax.bar([{-0.2 + shift}], [{a[0]}], width=0.4, color='tab:blue')")
        if "a" in parts:
            lines.append(f"ax.bar([i - 0.2 + {shift} for i in range(4)], {a}, width=0.4, color='tab:blue')")
        if "b" in parts:
            lines.append(f"ax.bar([i + 0.2 + {shift} for i in range(4)], {b}, width=0.4, color='{'tab:green' if recolour else 'tab:orange'}')")
        lines += ["ax.set_xlim(-0.8, 3.8)", "ax.set_ylim(0, 6.5)", "ax.set_xticks(range(4))"]
    lines.append("plt.savefig('out.png')")
    return "\n".join(lines) + "\n"


MERMAID_NODES = ["A[Load] --> B[Render]", "B --> C[Compare]", "C --> D[Reward]"]


def mermaid_program(w: int, h: int, parts: str = "3", recolour: bool = False, relabel: bool = False,
                    unrelated: bool = False, **_) -> str:  # fmt: skip
    if unrelated:
        return 'pie title Budget\n  "CPU" : 45\n  "GPU" : 35\n  "Disk" : 20\n'
    n = int(parts)
    direction = "LR" if w >= h else "TD"  # the layout that fits the canvas
    lines = [f"graph {direction}"] + (["  A[Load]"] if n == 0 else ["  " + e for e in MERMAID_NODES[:n]])
    if recolour:
        lines.append("  style B fill:#f9d5a7")
    text = "\n".join(lines) + "\n"
    return text.replace("Compare", "Contrast") if relabel else text


SMILES = {"empty": "", "one_mark": "OC=O", "partial": "c1ccccc1", "exact": "c1ccc(cc1)C(=O)O",
          "one_atom": "c1ccc(cc1)C(=O)N", "extra_methyl": "Cc1ccc(cc1)C(=O)O", "unrelated": "CCCCCCCCCC(C)(C)CCN"}  # fmt: skip


def ladder(lang: str, w: int, h: int) -> dict[str, str]:
    """The programs of one language's ladder on a w x h canvas (see the comment above)."""
    if lang == "smiles":
        return dict(SMILES)
    if lang == "mermaid":
        m = lambda **k: mermaid_program(w, h, **k)  # noqa: E731
        return {"empty": "graph LR\n" if w >= h else "graph TD\n", "one_mark": m(parts="0"), "partial": m(parts="1"), "exact": m(),
                "recolour": m(recolour=True), "relabel": m(relabel=True), "unrelated": m(unrelated=True)}  # fmt: skip
    make, parts = {
        "svg": (svg_picture, ("bg", "bg rect", "bg rect circle")),
        "html": (html_page, ("", "header", "header box1")),
        "latex": (tikz_picture, ("bg", "bg rect", "bg rect circle")),
        "python": (chart_program, ("axes", "axes one", "axes a")),
    }[lang]
    f = lambda **k: make(w, h, **k)  # noqa: E731
    return {
        "empty": f(parts=parts[0]), "one_mark": f(parts=parts[1]), "partial": f(parts=parts[2]), "exact": f(),
        "shift_small": f(dx=0.035), "shift_large": f(dx=0.14), "rescale": f(scale=1.1), "recolour": f(recolour=True),
        "unrelated": f(unrelated=True),
    }  # fmt: skip


def fenced(tag: str, code: str, fence: str = "```", close: bool = True) -> str:
    return f"Here is the code:\n{fence}{tag}\n{code}\n" + (f"{fence}\n" if close else "")


@dataclass(frozen=True)
class Case:
    name: str
    lang: str
    code: str  # bare code or a whole response (as_response)
    ref_lang: str
    ref_code: str
    size: tuple[int, int]
    preset: str = "default"
    ground_truth: str | None = None
    as_response: bool = False
    ref_dpi128: bool = False  # reference rasterised like RLRF's rewarder (cairosvg, dpi 128)


def cases() -> list[Case]:
    S, sz = SCENE["exact"], (200, 200)
    out: list[Case] = []
    for preset in ("default", "rlrf"):
        for k in ("background_only", "dot", "misplaced", "one_mark", "partial", "exact"):
            out.append(Case(f"scene/{k}", "svg", SCENE[k], "svg", S, sz, preset))
    for k in ("empty_page", "wrong_layout", "exact"):
        out.append(Case(f"html/{k}", "html", HTML[k], "html", HTML["exact"], (400, 280)))
    out.append(Case("svg_inches/exact", "svg", INCH_SVG, "svg", INCH_SVG, (512, 512), "rlrf", INCH_SVG, ref_dpi128=True))
    for preset in ("rlrf", "default"):
        out += [
            Case("wide/svg_1300x480", "svg", WIDE_SVG, "svg", WIDE_SVG, (1300, 480), preset, WIDE_SVG),
            Case("wide/mermaid_800x400", "mermaid", MERMAID_LR, "mermaid", MERMAID_LR, (800, 400), preset, MERMAID_LR),
            Case("wide/tikz_900x300", "latex", TIKZ_WIDE, "latex", TIKZ_WIDE, (900, 300), preset, TIKZ_WIDE),
            Case("wide/html_1000x400", "html", HTML_WIDE, "html", HTML_WIDE, (1000, 400), preset, HTML_WIDE),
        ]
    fences = {
        "xml": fenced("xml", S),
        "untagged": fenced("", S),
        "tilde": fenced("svg", S, fence="~~~"),
        "cut_off_complete": fenced("svg", S, close=False),
        "cut_off_midway": fenced("svg", S[: len(S) * 2 // 3], close=False),
        "svg_then_bash": fenced("svg", S) + "Save it and run:\n```bash\nrsvg-convert scene.svg > scene.png\n```\n",
    }
    for k, resp in fences.items():
        out.append(Case(f"fence/{k}", "svg", resp, "svg", S, sz, as_response=True))
    out.append(Case("fence/tikz", "latex", fenced("tikz", TIKZ_WIDE), "latex", TIKZ_WIDE, (900, 300), as_response=True))
    out.append(Case("scene/gradient_only", "svg", SCENE["gradient_only"], "svg", S, sz))
    universal = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><rect x="50" y="50" width="100" height="100" fill="#888"/></svg>'
    out.append(Case("universal/vs_scene", "svg", universal, "svg", S, sz))
    out.append(Case("universal/vs_logo", "svg", universal, "svg", logo(), sz))
    out.append(Case("off_canvas/all", "svg", SCENE["exact"].replace("<rect x", '<g transform="translate(300 0)"><rect x').replace("</svg>", "</g></svg>"), "svg", S, sz))
    L = logo()
    out += [
        Case("logo/exact", "svg", L, "svg", L, sz),
        Case("logo/shift_3.5pct", "svg", logo(dx=7), "svg", L, sz),
        Case("logo/shift_14pct", "svg", logo(dx=28), "svg", L, sz),
        Case("logo/scale_1.1", "svg", logo(scale=1.1), "svg", L, sz),
        Case("logo/recolour", "svg", logo(color="#d35400"), "svg", L, sz),
        Case("logo/bare_diamond", "svg", DIAMOND, "svg", L, sz),
        Case("logo/white", "svg", SCENE["white"], "svg", L, sz),
        Case("mermaid/exact", "mermaid", MERMAID_LR, "mermaid", MERMAID_LR, (800, 400)),
        Case("mermaid/top_down", "mermaid", MERMAID_TD, "mermaid", MERMAID_LR, (800, 400)),
        Case("mermaid/similar_flowchart", "mermaid", MERMAID_OTHER, "mermaid", MERMAID_LR, (800, 400)),
        Case("mermaid/unrelated_pie", "mermaid", mermaid_program(800, 400, unrelated=True), "mermaid", MERMAID_LR, (800, 400)),
        Case("chart/exact", "python", CHART_EXACT, "python", CHART_EXACT, (400, 300)),
        Case("chart/drop_bar", "python", CHART_DROP_BAR, "python", CHART_EXACT, (400, 300)),
        Case("chart/recolour_series", "python", CHART_RECOLOUR, "python", CHART_EXACT, (400, 300)),
    ]
    for preset in ("vincicoder+tiny", "coarse_fine+tiny"):
        for k in ("white", "background_only", "one_mark", "partial", "exact"):
            out.append(Case(f"scene/{k}", "svg", SCENE[k], "svg", S, sz, preset))
    return out


TINY_DINO = {"model": None, "tile_size": 56, "max_tiles": 4, "dtype": "float32", "device": "cpu",
             "config": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
                        "patch_size": 14, "image_size": 56}}  # fmt: skip


def rlrf_raster(svg: str, size: tuple[int, int]):
    """RLRF's rewarder rasterisation: cairosvg.svg2png(white background, output size, dpi 128), as RGB."""
    import io

    import cairosvg
    import numpy as np
    from PIL import Image

    png = cairosvg.svg2png(bytestring=svg.encode(), background_color="white", output_width=size[0],
                           output_height=size[1], dpi=128)  # fmt: skip
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def build(out: Path) -> list[tuple[Case, dict[str, Path]]]:
    """Write every case's files (code, reference PNG, ground truth) under out."""
    from PIL import Image

    from vinci_rl.render import Renderer

    out.mkdir(parents=True, exist_ok=True)
    built = []
    refs: dict[tuple, Path] = {}
    with Renderer() as r:
        for i, c in enumerate(cases()):
            key = (c.ref_lang, c.ref_code, c.size, c.ref_dpi128)
            if key not in refs:
                if c.ref_dpi128:
                    image = rlrf_raster(c.ref_code, c.size)
                else:
                    res = r.render(c.ref_lang, c.ref_code, c.size)
                    assert res.ok, f"{c.name}: reference render {res.status}: {res.message}"
                    image = res.image
                refs[key] = out / f"ref{len(refs)}.png"
                Image.fromarray(image).save(refs[key])
            files = {"reference": refs[key], "code": out / f"case{i}.txt"}
            files["code"].write_text(c.code)
            if c.ground_truth is not None:
                files["ground_truth"] = out / f"gt{i}.txt"
                files["ground_truth"].write_text(c.ground_truth)
            built.append((c, files))
    return built


def score_cli(c: Case, files: dict[str, Path]) -> dict:
    cmd = [sys.executable, "-m", "vinci_rl", "score", "--lang", c.lang, "--code", str(files["code"]),
           "--reference", str(files["reference"]), "--json"]  # fmt: skip
    if c.preset.endswith("+tiny"):
        import yaml

        config = files["code"].parent / f"{c.preset}.yaml"
        config.write_text(yaml.safe_dump({"preset": c.preset.removesuffix("+tiny"), "dino": TINY_DINO}))
        cmd += ["--config", str(config)]
    else:
        cmd += ["--preset", c.preset]
    if "ground_truth" in files:
        cmd += ["--ground-truth", str(files["ground_truth"])]
    if c.as_response:
        cmd.append("--as-response")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        return {"overall": float("nan"), "status": "cli_error: " + proc.stderr.strip().splitlines()[-1][-120:], "terms": {}}
    return json.loads(proc.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None, help="where to write the case files (default: a temp dir)")
    ap.add_argument("--json", type=Path, default=None, help="also write the rows as JSON here")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="vinci-fidelity-"))
    rows = []
    print("| case | preset | overall | status | terms |\n| --- | --- | --- | --- | --- |")
    for c, files in build(out):
        r = score_cli(c, files)
        terms = " ".join(f"{k}={v:+.3f}" for k, v in r["terms"].items())
        print(f"| {c.name} | {c.preset} | {r['overall']:+.3f} | {r['status']} | {terms} |", flush=True)
        rows.append({"case": c.name, "preset": c.preset, **r})
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
