"""Real-world code renders as its author meant, scored against what the author's own environment produced
(realworld_cases.py), under the default reward preset:

- Python charts at their own figure size and dpi, `bbox_inches='tight'`, a save followed by `clf()` / `fig.clear()`,
  seaborn / scipy / networkx / squarify charts, and CJK labels in Simplified and Traditional Chinese, Japanese and
  Korean set in the fonts the authors' machines name: each scores at the top against the file the program itself
  writes when run unmodified.
- HTML pages that load Tailwind (CSS and the Play CDN script), Bootstrap 4 / 5, Font Awesome, a Google font, jQuery
  and Chart.js from CDNs: each scores at the top against the same page with the frameworks inlined, and clearly
  lower with the offline mirror switched off, which then lists the missing resources.
- CJK text draws real glyphs (not boxes) in every renderer; LaTeX with CJK text compiles with xelatex + xeCJK, ctex
  documents too.
- A module, TeX package or font that is not installed ends in status missing_module naming it, and the reward pool
  counts renders with missing resources (reward_pool/missing_resources_rate).
"""

from __future__ import annotations

import numpy as np
import pytest
import realworld_cases as C

from vinci_rl.render import RenderConfig, Renderer
from vinci_rl.render.result import MISSING_MODULE, OK
from vinci_rl.reward import VisualScorer
from vinci_rl.reward.config import RewardConfig

TOP = 0.99  # "at the top": the overall reward of the default preset is 1.0 for a pixel-identical picture


@pytest.fixture(scope="module")
def scorer(renderer):
    return VisualScorer(RewardConfig.from_dict({"preset": "default"}), renderer=renderer)


@pytest.fixture(scope="module")
def mirror(renderer):
    from vinci_rl.render.cdn_mirror import Mirror

    m = Mirror()
    if not m.available:
        pytest.fail(f"the CDN mirror is not installed in {m.root}: run `make install`")
    return m


def fenced(lang: str, code: str) -> str:
    return f"```{lang}\n{code}\n```"


# ---------------------------------------------------------------- Python charts


@pytest.mark.parametrize("name", sorted(C.CHARTS))
def test_chart_scores_at_the_top_against_its_own_saved_file(name, scorer, renderer, tmp_path):
    reference = C.author_chart(name, str(tmp_path))
    result = scorer.score(fenced("python", C.chart_code(name)), "python", reference)
    assert result.status == OK and result.overall >= TOP, (name, reference.shape, result)
    own = renderer.render("python", C.chart_code(name), (64, 64)).extra["natural_size"]
    assert tuple(own) == (reference.shape[1], reference.shape[0])  # the picture's own size is the saved file's


def test_figure_size_and_dpi_are_the_programs_own(renderer):
    res = renderer.render("python", C.chart_code("dpi200"), (400, 300))
    assert res.status == OK and res.extra["natural_size"] == [1600, 1200] and res.image.shape == (300, 400, 3)
    shown = "import matplotlib.pyplot as plt\nplt.figure(figsize=(5, 2), dpi=80)\nplt.plot([0, 1])\nplt.show()\n"
    assert renderer.render("python", shown, (100, 100)).extra["natural_size"] == [400, 160]


def test_an_oversized_save_is_drawn_at_a_lower_dpi_within_the_pixel_cap(config):
    code = ("import matplotlib.pyplot as plt\nplt.figure(figsize=(20, 20))\nplt.fill_between([0, 1], [0, 1], color='red')\n"
            "plt.savefig('x.png', dpi=600)\n")
    with Renderer(RenderConfig(timeout_s=config.timeout_s, max_pixels=1000 * 1000)) as r:
        res = r.render("python", code, (200, 200))
    w, h = res.extra["natural_size"]
    assert res.status == OK and w * h <= 1000 * 1000 and res.extra["dpi_capped"] < 600


def test_show_in_tight_mode_crops_like_a_notebook(config):
    code = ("import matplotlib.pyplot as plt\nfig = plt.figure(figsize=(8, 8))\nfig.add_axes([0.4, 0.4, 0.2, 0.2])"
            ".plot([0, 1])\nplt.show()\n")
    with Renderer(RenderConfig(timeout_s=config.timeout_s, python_show="tight")) as r:
        tight = r.render("python", code, (100, 100)).extra["natural_size"]
    assert tight[0] < 400 and tight[1] < 400  # the figure is 800 x 800; the axes and their labels are much smaller
    with pytest.raises(ValueError, match="python_show"):
        RenderConfig(python_show="notebook")


def test_a_program_can_read_back_what_it_saved(renderer):
    code = ("import io\nimport matplotlib.pyplot as plt\nfrom PIL import Image\nplt.figure(figsize=(3, 2))\n"
            "plt.plot([0, 1], color='red', linewidth=8)\nbuf = io.BytesIO()\nplt.savefig(buf, format='png')\n"
            "assert Image.open(io.BytesIO(buf.getvalue())).size == (300, 200)\nplt.savefig('c.png')\n"
            "assert Image.open('c.png').size == (300, 200)\nplt.savefig('/mnt/data/chart.png')\n")
    res = renderer.render("python", code, (300, 200))
    assert res.status == OK, res.message


def test_plotly_figure_is_drawn_at_its_own_size(renderer):
    code = ("import plotly.graph_objects as go\nfig = go.Figure(go.Bar(x=[1, 2], y=[3, 4], marker_color='red'))\n"
            "fig.update_layout(width=900, height=300)\nfig.show()\n")
    res = renderer.render("python", code, (300, 300))
    assert res.status == OK and res.extra["natural_size"] == [900, 300] and res.image.shape == (300, 300, 3)


@pytest.mark.parametrize("module", ["seaborn", "scipy.stats", "networkx", "squarify", "matplotlib_venn", "pandas"])
def test_chart_libraries_are_installed(renderer, module):
    code = f"import {module}\nimport matplotlib.pyplot as plt\nplt.plot([0, 1], color='red')\nplt.savefig('x.png')\n"
    assert renderer.render("python", code, (64, 64)).status == OK


def test_a_missing_module_gets_its_own_status(renderer):
    res = renderer.render("python", "import numpy\nimport surely_not_installed_pkg.sub\n", (64, 64))
    assert res.status == MISSING_MODULE and res.message == "missing_module: surely_not_installed_pkg"
    assert res.extra["missing_module"] == "surely_not_installed_pkg"
    assert renderer.render("python", "from numpy import not_a_name\n", (64, 64)).status == "parse_error"


def test_the_score_names_a_missing_module_once(scorer):
    result = scorer.score(fenced("python", "import surely_not_installed_pkg\n"), "python", np.full((32, 32, 3), 255, np.uint8))
    assert result.status == MISSING_MODULE and result.overall == -1.0
    assert result.message.split("; ")[0] == "render missing_module: surely_not_installed_pkg", result.message


# ---------------------------------------------------------------- CDN pages


@pytest.fixture(scope="module")
def author_browser(config):
    """The same Chromium, taking pages of any length (an inlined framework is megabytes)."""
    with Renderer(RenderConfig(timeout_s=config.timeout_s, max_code_bytes=64 << 20)) as r:
        yield r


@pytest.mark.parametrize("name", sorted(C.PAGES))
def test_cdn_page_scores_at_the_top_against_the_page_with_frameworks_inlined(name, scorer, renderer, mirror, config,
                                                                               author_browser):
    page = C.PAGES[name]
    reference = author_browser.render("html", C.inline_page(page, mirror), C.PAGE_SIZE)
    assert reference.status == OK and "missing_resources" not in reference.extra, reference.extra
    served = renderer.render("html", page, C.PAGE_SIZE)
    assert served.extra.get("cdn_served", 0) >= 1 and "missing_resources" not in served.extra, served.extra
    result = scorer.score(fenced("html", page), "html", reference.image)
    assert result.status == OK and result.overall >= TOP, (name, result)
    assert result.missing_resources == []
    with Renderer(RenderConfig(timeout_s=config.timeout_s, cdn_mirror="off")) as bare:
        offline = VisualScorer(RewardConfig.from_dict({"preset": "default"}), renderer=bare).score(
            fenced("html", page), "html", reference.image)
    assert offline.missing_resources and offline.overall < result.overall - 0.05, (name, offline)


def test_missing_resources_are_listed_and_nothing_is_fetched(renderer, http_server):
    page = (f"<html><head><link rel='stylesheet' href='https://cdn.jsdelivr.net/npm/not-a-mirrored-lib@1/x.css'>"
            f"<link href='https://fonts.googleapis.com/css2?family=Roboto&family=No+Such+Font' rel='stylesheet'>"
            f"</head><body style='font-family:Roboto'><img src='http://127.0.0.1:{http_server.server_port}/a.png'>"
            f"<p>text</p></body></html>")
    res = renderer.render("html", page, (200, 100))
    missing = res.extra["missing_resources"]
    assert any("not-a-mirrored-lib" in m for m in missing) and any("No Such Font" in m for m in missing)
    assert any("127.0.0.1" in m for m in missing) and http_server.hits == []
    assert res.extra["cdn_served"] >= 2  # the Roboto stylesheet and its font file


def test_version_substitutions_are_reported(renderer):
    page = "<link href='https://stackpath.bootstrapcdn.com/bootstrap/4.5.2/css/bootstrap.min.css' rel=stylesheet><p>x</p>"
    assert "bootstrap@4.5.2 -> 4.6.2" in renderer.render("html", page, (200, 100)).extra["cdn_substituted"]


@pytest.mark.parametrize("url,source", [
    ("https://cdn.tailwindcss.com/3.4.1?plugins=forms,typography", "tailwindcss-cdn@3.4.10/tailwindcss-with-all-plugins.js"),
    ("https://unpkg.com/@tailwindcss/browser@4", "@tailwindcss/browser@4.3.4/dist/index.global.js"),
    ("https://maxcdn.bootstrapcdn.com/font-awesome/4.7.0/css/font-awesome.min.css", "font-awesome@4.7.0/css/font-awesome.min.css"),
    ("https://use.fontawesome.com/releases/v5.15.4/css/all.css", "@fortawesome/fontawesome-free@5.15.4/css/all.css"),
    ("https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.4.0/webfonts/fa-solid-900.woff2",
     "@fortawesome/fontawesome-free@6.7.2/webfonts/fa-solid-900.woff2"),
    ("https://d3js.org/d3.v7.min.js", "d3@7.9.0/dist/d3.min.js"),
    ("https://cdn.plot.ly/plotly-latest.min.js", "plotly.js-dist-min@1.58.5/plotly.min.js"),
    ("https://cdn.jsdelivr.net/npm/chart.js", "chart.js@4.6.1/dist/chart.umd.min.js"),
    ("https://cdnjs.cloudflare.com/ajax/libs/normalize/8.0.1/normalize.min.css", "normalize.css@8.0.1/normalize.css"),
])
def test_cdn_url_shapes(mirror, url, source):
    assert mirror.resolve(url).source == source


@pytest.mark.parametrize("url", [
    "https://cdn.jsdelivr.net/npm/bootstrap@5.3.0/../../../../etc/passwd",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.3.0/dist/%2e%2e/%2e%2e/package.json",
    "https://cdn.jsdelivr.net/npm/jquery@2/dist/jquery.min.js",  # a major release that is not mirrored
    "https://example.com/bootstrap.min.css",
])
def test_the_mirror_serves_nothing_else(mirror, url):
    assert mirror.resolve(url) is None


# ---------------------------------------------------------------- CJK in every renderer

CJK_PROGRAMS = {  # {text} is replaced by two different strings of CJK characters
    "html": "<html><body style='margin:0;font-size:48px'>{text}</body></html>",
    "svg": "<svg xmlns='http://www.w3.org/2000/svg' width='300' height='100'><text x='5' y='70' font-size='48' "
           "font-family='Microsoft YaHei'>{text}</text></svg>",
    "mermaid": "graph LR\n  A[{text}] --> B[{text}]\n",
    "latex": "\\begin{{tikzpicture}}\\node[font=\\Huge] {{{text}}};\\end{{tikzpicture}}",
    "python": "import matplotlib.pyplot as plt\nplt.rcParams['font.sans-serif'] = ['PingFang SC']\n"
              "plt.figure(figsize=(3, 1))\nplt.text(0.05, 0.3, '{text}', fontsize=40)\nplt.axis('off')\nplt.savefig('x.png')\n",
}


@pytest.mark.parametrize("lang", sorted(CJK_PROGRAMS))
@pytest.mark.parametrize("texts", [("中文标签", "日本語版"), ("한국어판", "繁體標籤")])
def test_cjk_text_draws_glyphs_not_boxes(renderer, lang, texts, request):
    """Missing glyphs are all drawn as the same box: two different strings then render identically."""
    if lang == "mermaid":
        request.getfixturevalue("mermaid_bundle")
    a, b = (renderer.render(lang, CJK_PROGRAMS[lang].format(text=t), (300, 100)) for t in texts)
    assert a.status == OK and b.status == OK, (a.message, b.message)
    assert np.abs(a.image.astype(int) - b.image.astype(int)).max() > 100


def test_latex_cjk_text_without_cjk_setup_compiles_like_the_authors_xecjk_document(renderer, scorer):
    """The author's document sets up xeCJK with a CJK font; an answer that leaves that out renders the same."""
    body = ("\\begin{document}\n\\begin{tikzpicture}\\node[draw,fill=yellow!40] {图表 标题};"
            "\\draw[->] (-1,-1) -- (1,-1);\\end{tikzpicture}\n\\end{document}\n")
    preamble = "\\documentclass[border=4pt]{standalone}\n\\usepackage{tikz}\n"
    authors = preamble + ("\\usepackage{xeCJK}\\setCJKmainfont{Noto Serif CJK SC}\\setCJKsansfont{Noto Sans CJK SC}"
                          "\\setCJKmonofont{Noto Sans Mono CJK SC}\n") + body
    reference = renderer.render("latex", authors, (400, 200))
    assert reference.status == OK and reference.extra["engine"] == "xelatex", reference.message
    result = scorer.score(fenced("latex", preamble + body), "latex", reference.image)
    assert result.status == OK and result.overall >= TOP, result
    snippet = "\\begin{tikzpicture}\\node {图表};\\end{tikzpicture}"
    assert renderer.render("latex", snippet, (200, 100)).extra["engine"] == "xelatex"
    ctex = "\\documentclass{ctexart}\n\\begin{document}\n\\section{引言}\n中文文档。\n\\end{document}\n"
    assert renderer.render("latex", ctex, (400, 200)).status == OK


@pytest.mark.parametrize("code,missing", [
    ("\\documentclass{article}\n\\usepackage{CJKutf8}\n\\begin{document}\n\\begin{CJK}{UTF8}{gbsn}中\\end{CJK}\n"
     "\\end{document}\n", "CJKutf8.sty"),
    ("\\documentclass{article}\n\\usepackage{fontspec}\n\\setmainfont{SimSun}\n\\begin{document}\nx\n\\end{document}\n",
     "font 'SimSun'"),
])
def test_latex_names_what_it_is_missing(renderer, code, missing):
    res = renderer.render("latex", code, (200, 100))
    assert res.status == MISSING_MODULE and res.extra["missing_module"] == missing, res.message


def test_latex_without_xetex_says_what_to_install(renderer, monkeypatch):
    backend = renderer.backend("latex")
    monkeypatch.setattr(backend, "xetex_missing", "xelatex is not installed: install the Debian packages ...")
    res = renderer.render("latex", "\\begin{tikzpicture}\\node {中文};\\end{tikzpicture}", (200, 100))
    assert res.status == MISSING_MODULE and res.message.startswith("missing_module: xelatex + xeCJK (CJK text)")


# ---------------------------------------------------------------- reward pool metrics


def test_the_pool_counts_renders_with_missing_resources(scorer):
    from reward_workers.pool_metrics import PoolStats
    from reward_workers.results import result_dict

    page = "<html><body><img src='https://example.com/a.png' width=50 height=50><p>hello</p></body></html>"
    reference = scorer.renderer.render("html", page, (200, 100)).image
    missing = scorer.score(fenced("html", page), "html", reference)
    clean = scorer.score(fenced("html", "<p>hello</p>"), "html", reference)
    assert missing.missing_resources == ["https://example.com/a.png"] and "not loaded" in missing.message
    stats = PoolStats()
    for res in (missing, clean, clean, clean):
        stats.record("job", result_dict(res), latency=0.1, cached=False)
    assert stats.step_metrics("job", 0, 1, 0, reset=True)["reward_pool/missing_resources_rate"] == 0.25
