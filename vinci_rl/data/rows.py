"""verl's multimodal parquet row for one image -> code pair (the schema every vinci-rl dataset uses).

  data_source   "vinci/<language>"
  prompt        [{"role": "user", "content": "<image>..."}]       the image goes where <image> stands
  images        [{"bytes": PNG, "path": None}]
  ability       "image_to_code"
  reward_model  {"style": "rule", "ground_truth": <code>}
  extra_info    {"id", "index", "language", "gt_chars", "gt_tokens"}   gt_tokens: -1 when no tokenizer was given
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

FENCE = {"svg": "svg", "html": "html", "latex": "latex", "python": "python", "smiles": "smiles", "mermaid": "mermaid"}
LANGUAGE_NAMES = {
    "svg": "SVG",
    "html": "HTML/CSS",
    "latex": "LaTeX (TikZ)",
    "python": "Python (matplotlib)",
    "smiles": "SMILES",
    "mermaid": "Mermaid",
}
PROMPT_TEMPLATE = "<image>Write {name} code that renders exactly this image. Answer with one ```{fence} code block."


def prompt_text(language: str, template: str = PROMPT_TEMPLATE) -> str:
    if "<image>" not in template:
        raise ValueError(f"prompt template must contain <image>: {template!r}")
    return template.format(name=LANGUAGE_NAMES.get(language, language), fence=FENCE.get(language, language))


def png_bytes(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def make_row(
    sample_id: str,
    index: int,
    language: str,
    code: str,
    image: np.ndarray,
    gt_tokens: int | None = None,
    template: str = PROMPT_TEMPLATE,
) -> dict:
    return {
        "data_source": f"vinci/{language}",
        "prompt": [{"role": "user", "content": prompt_text(language, template)}],
        "images": [{"bytes": png_bytes(image), "path": None}],
        "ability": "image_to_code",
        "reward_model": {"style": "rule", "ground_truth": code},
        "extra_info": {
            "id": sample_id,
            "index": index,
            "language": language,
            "gt_chars": len(code),
            "gt_tokens": -1 if gt_tokens is None else int(gt_tokens),
        },
    }
