"""Small programs and images for the data tests (SVG and SMILES: the fast real renderers)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image


def svg(shapes: str, size: int = 100) -> str:
    return f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}">{shapes}</svg>'


RED_RECT = svg('<rect x="10" y="10" width="40" height="30" fill="#d62728"/>')
BLUE_CIRCLE = svg('<circle cx="50" cy="50" r="25" fill="#1f77b4"/>')
GREEN_BOTH = svg('<rect x="5" y="60" width="60" height="20" fill="#2ca02c"/><circle cx="70" cy="30" r="15" fill="#9467bd"/>')


def picture(seed: int, w: int = 64, h: int = 48) -> np.ndarray:
    """A white image with one coloured block, different per seed."""
    rng = np.random.RandomState(seed)
    img = np.full((h, w, 3), 255, np.uint8)
    x, y = rng.randint(0, w // 2), rng.randint(0, h // 2)
    img[y : y + h // 3, x : x + w // 3] = rng.randint(0, 200, 3)
    return img


def png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def decode(row_images) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(row_images[0]["bytes"])).convert("RGB"))


def read_rows(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
