"""Real-world programs and the images their authors' own environments produced (imported by basename).

Python charts: the reference is what the program itself wrote, run unmodified by a plain Python (matplotlib's Agg,
no sandbox, no capture: `savefig` writes its file) on a machine that has the fonts the program names (SimHei,
Microsoft JhengHei, MS Gothic, Malgun Gothic, Arial... are registered there under those names, drawn with the Noto
CJK and the metric-compatible Liberation faces).
CDN pages: the reference is the same page with every CDN stylesheet, script and font inlined (data: URLs), so it
needs no network at all.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import textwrap
from urllib.parse import urljoin

import numpy as np
from PIL import Image

# ---------------------------------------------------------------- Python charts

CHART_FILE = "chart.png"
CHARTS = {
    # ChartMimic's shape: figsize, savefig(bbox_inches='tight') at the default dpi
    "figsize_tight": """
        import matplotlib.pyplot as plt
        import numpy as np
        fig, ax = plt.subplots(figsize=(8, 6))
        x = np.arange(5)
        ax.bar(x - 0.2, [3, 5, 2, 6, 4], 0.4, label='2023', color='#1f77b4')
        ax.bar(x + 0.2, [4, 3, 5, 5, 2], 0.4, label='2024', color='#ff7f0e')
        ax.set_xticks(x, ['North', 'South', 'East', 'West', 'Central'])
        ax.set_title('Regional sales, a long title that needs the room of an 8 x 6 inch figure')
        ax.set_ylabel('units (thousands)')
        ax.legend(loc='upper left', bbox_to_anchor=(1.02, 1))
        plt.tight_layout()
        plt.savefig('chart.png', bbox_inches='tight')
        """,
    # a high-dpi save: 1600 x 1200 pixels
    "dpi200": """
        import matplotlib.pyplot as plt
        import numpy as np
        x = np.linspace(0, 10, 200)
        fig, ax = plt.subplots(figsize=(8, 6))
        ax.plot(x, np.sin(x), label='sin', linewidth=2)
        ax.plot(x, np.cos(x), '--', label='cos')
        ax.fill_between(x, np.sin(x), np.cos(x), alpha=0.2)
        ax.set_title('Trigonometry'); ax.legend(); ax.grid(True)
        fig.savefig('chart.png', dpi=200)
        """,
    # save, then clear: the saved chart is the picture
    "savefig_then_clf": """
        import matplotlib.pyplot as plt
        plt.figure(figsize=(6, 4))
        plt.pie([35, 25, 20, 20], labels=['A', 'B', 'C', 'D'], autopct='%1.0f%%', startangle=90)
        plt.title('Share')
        plt.savefig('chart.png')
        plt.clf()
        plt.close('all')
        """,
    "savefig_then_fig_clear": """
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), dpi=120)
        axes[0].scatter([1, 2, 3, 4], [4, 1, 3, 2], s=200, c=['r', 'g', 'b', 'k'])
        axes[1].barh(['x', 'y', 'z'], [2, 5, 3], color='purple')
        fig.suptitle('Two panels')
        fig.savefig('chart.png', facecolor='#f4f4f4')
        fig.clear()
        """,
    "seaborn_heatmap": """
        import matplotlib.pyplot as plt
        import numpy as np
        import seaborn as sns
        sns.set_theme(style='white')
        rng = np.random.default_rng(3)
        data = rng.integers(0, 100, size=(6, 8))
        plt.figure(figsize=(9, 6))
        sns.heatmap(data, annot=True, fmt='d', cmap='YlGnBu', linewidths=0.5)
        plt.title('Counts per cell')
        plt.savefig('chart.png', dpi=110, bbox_inches='tight')
        """,
    "seaborn_violin": """
        import matplotlib.pyplot as plt
        import numpy as np
        import pandas as pd
        import seaborn as sns
        sns.set_theme(style='whitegrid', palette='muted')
        rng = np.random.default_rng(0)
        df = pd.DataFrame({'group': np.repeat(['a', 'b', 'c'], 80),
                           'value': np.concatenate([rng.normal(m, 1, 80) for m in (0, 2, 1)])})
        ax = sns.violinplot(data=df, x='group', y='value', hue='group', inner='quartile')
        ax.set_title('Distributions')
        plt.savefig('chart.png', bbox_inches='tight')
        """,
    "scipy_fit": """
        import matplotlib.pyplot as plt
        import numpy as np
        from scipy import stats
        from scipy.interpolate import make_interp_spline
        x = np.array([0, 1, 2, 3, 4, 5, 6]); y = np.array([1, 3, 2, 5, 4, 6, 5])
        xs = np.linspace(0, 6, 300)
        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
        a.plot(xs, make_interp_spline(x, y, k=3)(xs)); a.plot(x, y, 'o'); a.set_title('spline')
        grid = np.linspace(-4, 4, 200)
        b.plot(grid, stats.norm.pdf(grid), label='normal'); b.plot(grid, stats.t.pdf(grid, 2), label='t(2)')
        b.legend(); b.set_title('densities')
        plt.savefig('chart.png', bbox_inches='tight', pad_inches=0.3)
        """,
    "networkx_squarify": """
        import matplotlib.pyplot as plt
        import networkx as nx
        import squarify
        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 5))
        g = nx.cycle_graph(6)
        nx.draw_networkx(g, pos=nx.circular_layout(g), ax=a, node_color='orchid', node_size=600)
        a.set_axis_off()
        squarify.plot(sizes=[50, 25, 15, 10], label=['A', 'B', 'C', 'D'], color=['#e41a1c', '#377eb8', '#4daf4a', '#984ea3'], ax=b)
        b.axis('off')
        plt.savefig('chart.png', bbox_inches='tight')
        """,
}
# CJK labels in every CJK language, with the fonts the authors' machines name.
CJK_CHARTS = {
    "cjk_simplified": ("SimHei", "销售额 月度统计", ["一月", "二月", "三月", "四月"], "月份", "金额（万元）"),
    "cjk_traditional": ("Microsoft JhengHei", "銷售額 月度統計", ["一月", "二月", "三月", "四月"], "月份", "金額（萬元）"),
    "cjk_japanese": ("MS Gothic", "月別売上高の推移", ["一月", "二月", "三月", "四月"], "月", "売上（万円）"),
    "cjk_korean": ("Malgun Gothic", "월별 매출 현황", ["1월", "2월", "3월", "4월"], "월", "매출 (만원)"),
}
CJK_TEMPLATE = """
import matplotlib.pyplot as plt
plt.rcParams['font.sans-serif'] = [{font!r}]
plt.rcParams['axes.unicode_minus'] = False
fig, ax = plt.subplots(figsize=(7, 5))
ax.bar({labels!r}, [12, -3, 9, 15], color='#4c72b0', label={title!r})
ax.set_title({title!r}, fontsize=16)
ax.set_xlabel({xlabel!r}); ax.set_ylabel({ylabel!r})
ax.legend()
plt.savefig('chart.png', dpi=100, bbox_inches='tight')
"""
for _name, (_font, _title, _labels, _x, _y) in CJK_CHARTS.items():
    CHARTS[_name] = CJK_TEMPLATE.format(font=_font, title=_title, labels=_labels, xlabel=_x, ylabel=_y)

# The author's machine: matplotlib with the fonts the programs name installed (as ChartMimic's authors installed
# Arial and Times New Roman). Stand-ins: the Noto CJK faces for the CJK fonts, the metric-compatible Liberation
# faces for Arial / Times New Roman (seaborn's theme asks for Arial first).
AUTHOR_PYTHON = """
import dataclasses, runpy, sys
import matplotlib
matplotlib.use('Agg')
from matplotlib import font_manager as fm
def install(name, stand_in):
    fm.fontManager.ttflist.extend(dataclasses.replace(f, name=name) for f in fm.fontManager.ttflist if f.name == stand_in)
for name in {fonts!r}:
    install(name, 'Noto Sans CJK SC')
install('Arial', 'Liberation Sans')
install('Times New Roman', 'Liberation Serif')
runpy.run_path(sys.argv[1], run_name='__main__')
"""


def chart_code(name: str) -> str:
    return textwrap.dedent(CHARTS[name]).strip() + "\n"


def author_chart(name: str, workdir: str) -> np.ndarray:
    """The file the program writes when its author runs it (see the module doc)."""
    os.makedirs(workdir, exist_ok=True)
    program = os.path.join(workdir, "program.py")
    with open(program, "w") as f:
        f.write(chart_code(name))
    runner = os.path.join(workdir, "author_env.py")
    with open(runner, "w") as f:
        f.write(AUTHOR_PYTHON.format(fonts=sorted({c[0] for c in CJK_CHARTS.values()})))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": workdir, "MPLCONFIGDIR": os.path.join(workdir, "mpl"),
           "MPLBACKEND": "Agg", "LANG": "C.UTF-8"}
    subprocess.run([sys.executable, runner, program], cwd=workdir, env=env, check=True, timeout=120,
                   capture_output=True)
    with Image.open(os.path.join(workdir, CHART_FILE)) as im:
        return np.asarray(im.convert("RGB"))


# ---------------------------------------------------------------- CDN pages

PAGES = {
    # WebSight's shape: Tailwind 2 from jsDelivr
    "tailwind2_css": """<html><link href="https://cdn.jsdelivr.net/npm/tailwindcss@2.2.19/dist/tailwind.min.css" rel="stylesheet">
<body class="bg-gray-100 font-sans">
<header class="bg-indigo-700 text-white p-6"><h1 class="text-4xl font-bold">Green Valley Farm</h1>
<p class="mt-2 text-indigo-200">Fresh produce, delivered weekly</p></header>
<main class="container mx-auto p-6 grid grid-cols-3 gap-6">
<div class="bg-white rounded-lg shadow-lg p-4"><h2 class="text-xl font-semibold text-gray-800">Vegetables</h2><p class="text-gray-600 mt-2">Seasonal and organic.</p></div>
<div class="bg-white rounded-lg shadow-lg p-4"><h2 class="text-xl font-semibold text-gray-800">Fruit</h2><p class="text-gray-600 mt-2">Picked this morning.</p></div>
<div class="bg-yellow-300 rounded-lg shadow-lg p-4"><h2 class="text-xl font-semibold">Boxes</h2><button class="mt-3 px-4 py-2 bg-green-600 text-white rounded-full">Order</button></div>
</main></body></html>""",
    # the Tailwind Play CDN script (v3), with a config block
    "tailwind_play": """<!doctype html><html><head><script src="https://cdn.tailwindcss.com"></script>
<script>tailwind.config = {theme: {extend: {colors: {brand: '#da373d'}}}}</script></head>
<body class="bg-slate-50">
<nav class="flex items-center justify-between px-8 py-4 bg-white shadow"><span class="text-2xl font-extrabold text-brand">Acme</span>
<div class="space-x-6 text-slate-600"><a href="#">Docs</a><a href="#">Pricing</a><a class="px-4 py-2 rounded-md bg-brand text-white" href="#">Sign up</a></div></nav>
<section class="max-w-3xl mx-auto mt-16 text-center"><h1 class="text-5xl font-black tracking-tight text-slate-900">Ship faster</h1>
<p class="mt-6 text-lg text-slate-500">Everything you need, nothing you don't.</p>
<div class="mt-10 grid grid-cols-3 gap-4"><div class="h-24 rounded-xl bg-sky-400"></div><div class="h-24 rounded-xl bg-amber-400"></div><div class="h-24 rounded-xl bg-emerald-400"></div></div></section>
</body></html>""",
    # Bootstrap 5 + Font Awesome 6 (cdnjs) + a Google font
    "bootstrap5_fa_fonts": """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<link href="https://cdn.jsdelivr.net/npm/bootstrap@5.3.0/dist/css/bootstrap.min.css" rel="stylesheet">
<link rel="stylesheet" href="https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.4.0/css/all.min.css">
<link href="https://fonts.googleapis.com/css2?family=Poppins:wght@400;700&display=swap" rel="stylesheet">
<style>body{font-family:'Poppins',sans-serif}</style></head><body>
<nav class="navbar navbar-dark bg-dark px-3"><span class="navbar-brand"><i class="fa-solid fa-rocket"></i> Launchpad</span></nav>
<div class="container mt-4"><div class="row">
<div class="col-4"><div class="card"><div class="card-body"><h5 class="card-title"><i class="fa-solid fa-chart-line text-primary"></i> Growth</h5><p class="card-text">Up 24% this quarter.</p><a class="btn btn-primary">Details</a></div></div></div>
<div class="col-4"><div class="alert alert-warning"><i class="fa-solid fa-triangle-exclamation"></i> Maintenance tonight</div>
<span class="badge bg-success fs-5">Online</span></div>
<div class="col-4"><ul class="list-group"><li class="list-group-item active">Inbox</li><li class="list-group-item">Drafts</li><li class="list-group-item">Sent</li></ul></div>
</div><table class="table table-striped mt-4"><thead><tr><th>#</th><th>Name</th><th>Score</th></tr></thead>
<tbody><tr><td>1</td><td>Ada</td><td>97</td></tr><tr><td>2</td><td>Linus</td><td>88</td></tr></tbody></table></div>
<script src="https://cdn.jsdelivr.net/npm/bootstrap@5.3.0/dist/js/bootstrap.bundle.min.js"></script></body></html>""",
    # Bootstrap 4 from BootstrapCDN with jQuery drawing part of the page
    "bootstrap4_jquery": """<html><head>
<link rel="stylesheet" href="https://stackpath.bootstrapcdn.com/bootstrap/4.5.2/css/bootstrap.min.css">
<script src="https://code.jquery.com/jquery-3.5.1.slim.min.js"></script></head><body>
<div class="jumbotron"><h1 class="display-4">Hello, world!</h1><p class="lead">A Bootstrap 4 jumbotron.</p>
<a class="btn btn-danger btn-lg" href="#">Learn more</a></div><div id="list" class="container"></div>
<script>$(function(){ ['alpha','beta','gamma'].forEach(function(t){ $('#list').append('<div class="alert alert-info">'+t+'</div>'); }); });</script>
</body></html>""",
    # a Chart.js chart (animation off: the author's screenshot shows the finished chart)
    "chartjs": """<html><body style="margin:0"><canvas id="c" width="600" height="360"></canvas>
<script src="https://cdn.jsdelivr.net/npm/chart.js@4.4.0/dist/chart.umd.min.js"></script>
<script>new Chart(document.getElementById('c'), {type: 'bar', data: {labels: ['Q1','Q2','Q3','Q4'],
datasets: [{label: 'Revenue', data: [12, 19, 7, 15], backgroundColor: ['#e6194b','#3cb44b','#4363d8','#f58231']}]},
options: {animation: false, responsive: false}});</script></body></html>""",
}
PAGE_SIZE = (1024, 640)
_REF = re.compile(r"""(<link[^>]*href=["'](https?://[^"']+)["'][^>]*>)|(<script[^>]*src=["'](https?://[^"']+)["'][^>]*>\s*</script>)""")


def inline_page(html: str, mirror) -> str:
    """The page with every CDN stylesheet and script inlined, fonts and images in them as data: URLs (nothing left to
    load): what the author's browser had in memory after fetching them."""
    def replace(m):
        url = m.group(2) or m.group(4)
        served = mirror.resolve(url)
        assert served is not None, f"the mirror does not serve {url}"
        if m.group(1):
            css = _inline_css_urls(served.body.decode("utf-8"), url, mirror)
            return f"<style>{css}</style>"
        return "<script>" + served.body.decode("utf-8").replace("</script", "<\\/script") + "</script>"

    return _REF.sub(replace, html)


def _inline_css_urls(css: str, base: str, mirror) -> str:
    def data_url(m):
        ref = m.group(2)
        if ref.startswith("data:"):
            return m.group(0)
        served = mirror.resolve(urljoin(base, ref))
        if served is None:  # a subset or format the page never uses (woff next to woff2): leave it unreachable
            return m.group(0)
        return f"url(data:{served.content_type};base64,{base64.b64encode(served.body).decode()})"

    return re.sub(r"""url\((["']?)([^)"']+)\1\)""", data_url, css)
