"""Warm cost per render per language at 512x512, and the SVG worker's overhead against bare in-process cairosvg.
Not a test (not collected): a benchmark that prints a table.

    .venv/bin/python tests/render/bench_render.py [--repeats 20]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time

SIZE = (512, 512)
ICON_SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g fill="none" stroke="#1a73e8" stroke-width="2"
stroke-linecap="round" stroke-linejoin="round"><circle cx="12" cy="12" r="10"/><path d="M12 6v6l4 2"/>
<path d="M4.9 4.9l2.1 2.1M16.9 16.9l2.2 2.2M4.9 19.1l2.1-2.1M16.9 7.1l2.2-2.2"/></g>
<rect x="9" y="9" width="6" height="6" rx="1" fill="#ea4335"/></svg>"""
SAMPLES = {
    "html": "<html><body style='font-family:sans-serif'><h1 style='color:#c00'>Quarterly report</h1>"
    "<table border=1><tr><th>Q</th><th>Revenue</th></tr><tr><td>1</td><td>10</td></tr><tr><td>2</td><td>12</td></tr>"
    "</table><div style='width:200px;height:80px;background:linear-gradient(90deg,red,blue)'></div></body></html>",
    "latex": r"\begin{tikzpicture}\begin{axis}[title={Growth}]\addplot {x^2};\addplot {2*x};\end{axis}\end{tikzpicture}",
    "python": "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.bar(['a', 'b', 'c'], [3, 5, 2], color='C1')\n"
    "ax.set_title('Sales')\nplt.savefig('out.png')\n",
    "plotly": "import plotly.graph_objects as go\nfig = go.Figure(go.Scatter(x=[1, 2, 3], y=[2, 1, 3]))\nfig.show()\n",
    "smiles": "CC(=O)Oc1ccccc1C(=O)O",
    "mermaid": "graph TD\n  A[Input image] --> B{Render}\n  B -->|ok| C[Score]\n  B -->|fail| D[Zero]\n",
}


def chart_svg() -> str:
    """A matplotlib bar chart as SVG (text as paths): a typical 'chart' sample."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.bar(range(12), [3, 5, 2, 6, 4, 7, 3, 5, 6, 2, 4, 5], color="C0")
    ax.set_title("Monthly volume")
    ax.set_xlabel("month")
    ax.set_ylabel("units")
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    return buf.getvalue()


def median_ms(fn, repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def interleaved_median_ms(fns, repeats: int, warmup: int = 3) -> list[float]:
    """Median ms of each function, run round-robin so that load drifts on a shared box hit all of them alike."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - t0)
    return [1000 * statistics.median(t) for t in times]


def bare_cairosvg(svg: str):
    """In-process cairosvg, PNG bytes (what the design doc measured) and PNG decoded to an array."""
    import cairosvg
    import numpy as np
    from PIL import Image

    def png():
        return cairosvg.svg2png(bytestring=svg.encode(), output_width=SIZE[0], output_height=SIZE[1])

    def array():
        return np.asarray(Image.open(io.BytesIO(png())).convert("RGB"))

    return png, array


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    from vinci_rl.render import Renderer
    from vinci_rl.render.mermaid import default_bundle_path
    from vinci_rl.render.svg import handle as svg_handle

    rows = []
    with Renderer() as r:
        for name, svg in (("svg icon", ICON_SVG), ("svg chart", chart_svg())):
            assert r.render("svg", svg, SIZE).ok
            png, array = bare_cairosvg(svg)
            raw = lambda: svg_handle({"width": SIZE[0], "height": SIZE[1]}, svg.encode())  # noqa: E731
            worker, bare_png, bare_arr, bare_raw = interleaved_median_ms(
                [lambda: r.render("svg", svg, SIZE), png, array, raw], args.repeats)
            rows.append((name, worker, f"bare svg2png {bare_png:.1f} ms (x{worker / bare_png:.2f}); "
                                       f"svg2png+decode {bare_arr:.1f} ms (x{worker / bare_arr:.2f}); "
                                       f"same raw-pixel render in-process {bare_raw:.1f} ms (x{worker / bare_raw:.2f})"))
        for name, code in SAMPLES.items():
            lang = "python" if name == "plotly" else name
            if lang == "mermaid" and not os.path.exists(r.config.mermaid_js or default_bundle_path()):
                continue
            t0 = time.perf_counter()
            res = r.render(lang, code, SIZE)
            first = 1000 * (time.perf_counter() - t0)
            assert res.ok, (name, res.status, res.message)
            ms = median_ms(lambda: r.render(lang, code, SIZE), args.repeats)
            rows.append((name, ms, f"first render {first:.0f} ms; sandbox={res.extra['sandbox']}"))
    print(f"warm render cost at {SIZE[0]}x{SIZE[1]}, median of {args.repeats} after 3 warm-up renders")
    for name, ms, note in rows:
        print(f"  {name:10s} {ms:8.1f} ms   {note}")


if __name__ == "__main__":
    main()
