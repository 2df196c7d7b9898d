"""A self-contained HTML gallery (images inlined as data: URIs): one card per sample with the reference image,
the render of the model's code, its scores and the code itself.

    write_gallery(entries, "out.html", "title")                          # one grid
    write_sections([("Best", best), ("Worst", worst)], "out.html", "title", intro_html=table_html)
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image


@dataclass
class GalleryEntry:
    title: str
    reference: np.ndarray | None
    render: np.ndarray | None  # None when the code did not render
    scores: dict[str, float] = field(default_factory=dict)
    status: str = ""
    code: str = ""
    note: str = ""  # one line under the title (e.g. the failure message)


def data_uri(image: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _img(image: np.ndarray | None, alt: str) -> str:
    if image is None:
        return f'<div class="missing">{html.escape(alt)}: no image</div>'
    return f'<img alt="{html.escape(alt)}" src="{data_uri(image)}">'


def _fmt(v) -> str:
    return f"{v:.3f}" if isinstance(v, (int, float)) else html.escape(str(v))


def _card(e: GalleryEntry) -> str:
    scores = "".join(f"<tr><td>{html.escape(k)}</td><td>{_fmt(v)}</td></tr>" for k, v in e.scores.items())
    code = html.escape(e.code[:2000])
    note = f'<div class="note">{html.escape(e.note[:300])}</div>' if e.note else ""
    return (
        f'<div class="card"><h3>{html.escape(e.title)}</h3>{note}'
        f'<div class="pair"><figure>{_img(e.reference, "reference")}<figcaption>reference</figcaption></figure>'
        f'<figure>{_img(e.render, "render")}<figcaption>render ({html.escape(e.status)})</figcaption></figure></div>'
        f"<table>{scores}</table><pre>{code}</pre></div>"
    )


STYLE = """
body{font-family:sans-serif;margin:16px;background:#fafafa} .grid{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px;width:300px}
.card h3{font-size:13px;margin:0 0 6px} .pair{display:flex;gap:6px} figure{margin:0}
img{width:140px;height:140px;object-fit:contain;border:1px solid #eee;background:#fff}
.missing{width:140px;height:140px;display:flex;align-items:center;justify-content:center;color:#a00;font-size:12px;border:1px dashed #a00}
figcaption{font-size:11px;color:#555} table{font-size:11px} pre{font-size:10px;max-height:120px;overflow:auto;background:#f4f4f4}
.note{font-size:11px;color:#a00;margin-bottom:4px;word-break:break-word}
table.metrics{border-collapse:collapse;font-size:13px;margin:8px 0 16px} table.metrics td,table.metrics th{border:1px solid #ccc;padding:3px 8px;text-align:right}
table.metrics th{background:#eee} ul.notes{font-size:12px;color:#555}
"""


def write_sections(
    sections: list[tuple[str, list[GalleryEntry]]], out: str | Path, title: str, intro_html: str = ""
) -> Path:
    """Several titled grids in one page (a section with an empty title gets no heading)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    body = []
    for heading, entries in sections:
        if heading:
            body.append(f"<h2>{html.escape(heading)}</h2>")
        body.append('<div class="grid">' + "\n".join(_card(e) for e in entries) + "</div>")
    out.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{intro_html}"
        + "\n".join(body)
        + "</body></html>"
    )
    return out


def write_gallery(entries: list[GalleryEntry], out: str | Path, title: str, intro_html: str = "") -> Path:
    return write_sections([("", entries)], out, title, intro_html)
