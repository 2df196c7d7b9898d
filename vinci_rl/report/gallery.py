"""A self-contained HTML gallery (images inlined as data: URIs): one card per sample with the reference image,
the render of the model's code, its scores and the code itself."""

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


def data_uri(image: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _img(image: np.ndarray | None, alt: str) -> str:
    if image is None:
        return f'<div class="missing">{html.escape(alt)}: no image</div>'
    return f'<img alt="{html.escape(alt)}" src="{data_uri(image)}">'


def _card(e: GalleryEntry) -> str:
    scores = "".join(f"<tr><td>{html.escape(k)}</td><td>{v:.3f}</td></tr>" for k, v in e.scores.items())
    code = html.escape(e.code[:2000])
    return (
        f'<div class="card"><h3>{html.escape(e.title)}</h3>'
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
"""


def write_gallery(entries: list[GalleryEntry], out: str | Path, title: str, intro_html: str = "") -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    cards = "\n".join(_card(e) for e in entries)
    out.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{intro_html}"
        f'<div class="grid">{cards}</div></body></html>'
    )
    return out
