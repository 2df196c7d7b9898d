"""Normal samples of every language render ok, at the requested size, RGB uint8, with the expected colours in place;
invalid code is parse_error, nothing to draw is empty, an all-white drawing is blank."""

from __future__ import annotations

import os

import numpy as np
import pytest
from render_helpers import RED_SAMPLES, red_fraction

from vinci_rl.render import LANGUAGES, RenderConfig, Renderer
from vinci_rl.render.result import BLANK, EMPTY, OK, PARSE_ERROR, RESOURCE_LIMIT, UNSUPPORTED_LANGUAGE


@pytest.mark.parametrize("lang", ["svg", "html", "latex", "python", "smiles", "mermaid"])
@pytest.mark.parametrize("size", [(512, 512), (320, 200)])
def test_red_sample_renders_at_requested_size(renderer, lang, size, request):
    if lang == "mermaid":
        request.getfixturevalue("mermaid_bundle")
    res = renderer.render(lang, RED_SAMPLES[lang], size)
    assert res.status == OK, res.message
    assert res.image.dtype == np.uint8 and res.image.shape == (size[1], size[0], 3)
    assert red_fraction(res.image) > 0.001
    assert res.extra["sandbox"] in ("bwrap", "rlimits-only")


@pytest.mark.parametrize("lang", ["svg", "html", "python"])
def test_red_square_is_in_the_top_left_quadrant(renderer, lang):
    img = renderer.render(lang, RED_SAMPLES[lang], (512, 512)).image
    assert red_fraction(img[:256, :256]) > 0.9
    assert red_fraction(img[256:, 256:]) == 0.0


def test_latex_figure_is_fitted_and_centred(renderer):
    img = renderer.render("latex", RED_SAMPLES["latex"], (400, 300)).image
    assert tuple(img[150, 200]) == (255, 0, 0)  # centre is red: a square fitted into a wide canvas
    assert img[150, 5].min() > 250  # padded with white on the sides


def test_tiny_viewbox_svg_fills_the_requested_size(renderer):
    svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1" width="1" height="1"><rect width="1" height="1" fill="red"/></svg>'
    res = renderer.render("svg", svg, (512, 512))
    assert res.image.shape == (512, 512, 3) and red_fraction(res.image) > 0.99


def test_transparent_svg_is_composited_on_white(renderer):
    svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="5" height="10" fill="blue" fill-opacity="0.5"/></svg>'
    img = renderer.render("svg", svg, (100, 100)).image
    assert tuple(img[50, 90]) == (255, 255, 255)
    assert abs(int(img[50, 10, 0]) - 127) <= 2 and img[50, 10, 2] == 255


PLOTLY_CASES = {
    "show": "import plotly.graph_objects as go\nfig = go.Figure(go.Bar(x=[1, 2], y=[3, 4], marker_color='red'))\nfig.show()\n",
    "left_in_globals": "import plotly.express as px\nfig = px.bar(x=[1, 2], y=[3, 4])\nfig.update_traces(marker_color='red')\n",
    "write_image": "import plotly.graph_objects as go\nf = go.Figure(go.Bar(x=[1], y=[1], marker_color='red'))\nf.write_image('c.png')\n",
}


@pytest.mark.parametrize("case", sorted(PLOTLY_CASES))
def test_plotly_figure_renders(renderer, case):
    res = renderer.render("python", PLOTLY_CASES[case], (400, 300))
    assert res.status == OK, res.message
    assert res.extra.get("via") == "plotly"
    assert res.image.shape == (300, 400, 3) and red_fraction(res.image) > 0.01


RDKIT_CASES = {
    "image_in_globals": "from rdkit import Chem\nfrom rdkit.Chem import Draw\n"
    "img = Draw.MolToImage(Chem.MolFromSmiles('O=C=O'), size=(300, 300))\n",
    "mol_to_file": "from rdkit import Chem\nfrom rdkit.Chem import Draw\nDraw.MolToFile(Chem.MolFromSmiles('O=C=O'), 'm.png')\n",
    "png_bytes": "from rdkit import Chem\nfrom rdkit.Chem.Draw import rdMolDraw2D\nd = rdMolDraw2D.MolDraw2DCairo(300, 300)\n"
    "d.DrawMolecule(Chem.MolFromSmiles('O=C=O'))\nd.FinishDrawing()\npng = d.GetDrawingText()\n",
}


@pytest.mark.parametrize("case", sorted(RDKIT_CASES))
def test_rdkit_drawing_code_renders(renderer, case):
    res = renderer.render("python", RDKIT_CASES[case], (256, 256))
    assert res.status == OK, res.message
    assert res.image.shape == (256, 256, 3) and red_fraction(res.image) > 0.001  # oxygen atoms are red


STATUS_CASES = [
    ("svg", "<svg><rect", PARSE_ERROR),
    ("svg", '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="white"/></svg>', BLANK),
    ("html", "<p></p>", BLANK),
    ("latex", r"\begin{tikzpicture}\fill[red] (0,0) rectangle (2,2)\end{tikzpicture}", PARSE_ERROR),
    ("latex", r"\begin{tikzpicture}\fill[white] (0,0) rectangle (2,2);\end{tikzpicture}", BLANK),
    ("python", "def f(:\n", PARSE_ERROR),
    ("python", "1 / 0\n", PARSE_ERROR),
    ("python", "import matplotlib.pyplot as plt\nx = 1\n", EMPTY),
    ("python", "import matplotlib.pyplot as plt\nplt.figure()\nplt.show()\n", BLANK),
    ("smiles", "C1CC(", PARSE_ERROR),
    ("mermaid", "graph LR\n  A -->", PARSE_ERROR),
    ("smiles", "   ", EMPTY),
]


@pytest.mark.parametrize("lang,code,status", STATUS_CASES)
def test_failure_statuses(renderer, lang, code, status, request):
    if lang == "mermaid":
        request.getfixturevalue("mermaid_bundle")
    res = renderer.render(lang, code, (256, 256))
    assert res.status == status, res.message
    assert (res.image is not None) == (status == BLANK)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_empty_code_is_empty(renderer, lang):
    assert renderer.render(lang, "  \n ").status == EMPTY


def test_refusals_before_any_backend_runs():
    r = Renderer(RenderConfig(max_code_bytes=100, max_pixels=1000 * 1000))
    assert r.render("cobol", "x").status == UNSUPPORTED_LANGUAGE
    assert r.render("svg", "<svg/>" * 50).status == RESOURCE_LIMIT
    assert r.render("svg", "<svg/>", (2000, 2000)).status == RESOURCE_LIMIT
    assert r.render("svg", "<svg/>", (0, 10)).status == RESOURCE_LIMIT
    assert r._backends == {}  # nothing was started


def test_config_from_dict_rejects_unknown_keys():
    assert RenderConfig.from_dict({"size": [256, 128], "timeout_s": {"svg": 1}}).size == (256, 128)
    assert RenderConfig.from_dict({"timeout_s": {"svg": 1}}).timeout_for("latex") == 10.0
    with pytest.raises(ValueError, match="timeout"):
        RenderConfig.from_dict({"timeout": 3})
    with pytest.raises(ValueError, match="sandbox"):
        RenderConfig(sandbox="docker")
    assert Renderer({"max_code_bytes": 10}).config.max_code_bytes == 10
    with pytest.raises(ValueError, match="colour"):
        Renderer({"colour": "red"})


def test_one_shot_render_stops_everything():
    from vinci_rl.render import render

    res = render("svg", RED_SAMPLES["svg"], (64, 64))
    assert res.status == OK and res.image.shape == (64, 64, 3)


def test_close_stops_every_process_and_removes_temp_dirs():
    import psutil

    others = set(psutil.Process().children(recursive=True))  # e.g. the session renderer's processes
    r = Renderer(RenderConfig())
    for lang in ("svg", "html", "latex", "python"):
        assert r.render(lang, RED_SAMPLES[lang], (64, 64)).status == OK
    dirs = [r.backend("latex").root, r.backend("html").dir]
    assert all(os.path.isdir(d) for d in dirs)
    mine = set(psutil.Process().children(recursive=True)) - others
    assert mine
    r.close()
    _, alive = psutil.wait_procs(list(mine), timeout=5)
    assert alive == []
    assert not any(os.path.exists(d) for d in dirs)


def test_html_javascript_switch(renderer):
    page = "<body style='margin:0'><div id=d style='width:100vw;height:100vh'></div>" \
           "<script>document.getElementById('d').style.background = 'red'</script></body>"
    assert red_fraction(renderer.render("html", page, (64, 64)).image) > 0.9
    with Renderer(RenderConfig(html_javascript=False)) as r:
        res = r.render("html", page, (64, 64))
    assert res.status == BLANK and red_fraction(res.image) == 0.0


SETTLING_PAGE = """<style>body{margin:0} div{width:100vw;height:33vh}
@keyframes fade{from{background:blue} to{background:red}}
#a{animation:fade 30s forwards} #b{background:blue;transition:background-color 30s linear} #b.on{background:red}
#c{animation:fade 30s infinite}</style><div id=a></div><div id=b></div><div id=c></div>
<script>addEventListener('load', () => { document.body.offsetWidth; document.getElementById('b').className = 'on' })</script>"""


def test_html_animations_and_transitions_are_shown_settled(renderer):
    """A 30 s fade-in and a 30 s transition started on load are drawn at their end (the settled page, as in the
    author's screenshot, not the frame the timing caught); an endless animation is left running without error."""
    res = renderer.render("html", SETTLING_PAGE, (60, 60))
    assert res.status == OK
    assert red_fraction(res.image[:38]) > 0.95, res.image[::10, 30]  # rows of #a and #b
    assert red_fraction(res.image[42:]) < 0.5  # #c, endless, is near its start (blue)


def test_missing_mermaid_bundle_is_a_clear_failure(tmp_path):
    with Renderer(RenderConfig(mermaid_js=str(tmp_path / "nope.js"))) as r:
        res = r.render("mermaid", "graph LR\n A --> B")
    assert res.status == "renderer_crash" and "npm pack mermaid" in res.message


def test_svg_worker_pixels_equal_in_process_cairosvg(renderer):
    import io

    import cairosvg
    from PIL import Image

    svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 30"><circle cx="15" cy="15" r="12" fill="#1a73e8"/>' \
          '<path d="M2 28 L38 2" stroke="#ea4335" stroke-width="3" stroke-opacity="0.6"/></svg>'
    png = cairosvg.svg2png(bytestring=svg.encode(), output_width=200, output_height=150, background_color="white")
    expected = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert np.array_equal(renderer.render("svg", svg, (200, 150)).image, expected)
