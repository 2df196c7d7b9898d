"""verl's multimodal parquet row for one image -> code pair (the schema every vinci-rl dataset uses).

  data_source   "vinci/<language>"
  prompt        [{"role": "user", "content": "<image>..."}]       the image goes where <image> stands
  images        [{"bytes": PNG, "path": None}]
  ability       "image_to_code"
  reward_model  {"style": "rule", "ground_truth": <code>}
  extra_info    {"id", "index", "language", "gt_chars", "gt_tokens"}   gt_tokens: -1 when no tokenizer was given
  messages      the prompt plus the assistant's fenced ground truth: verl's SFT trainer reads this column
                (recipes/sft_warmstart.yaml), so one parquet serves stage-1 SFT and RL
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
# Placeholders: {name} (LANGUAGE_NAMES), {fence} (FENCE), {language} (the key). `<image>` must appear exactly once.
PROMPT_TEMPLATE = "<image>Write {name} code that renders exactly this image. Answer with one ```{fence} code block."
# The default template per language (prepare's defaults; --template / --templates override them).
PROMPT_TEMPLATES = {
    "svg": PROMPT_TEMPLATE,
    "html": "<image>Write HTML/CSS for a web page that renders exactly like this screenshot. "
    "Answer with one ```html code block.",
    "latex": "<image>Write LaTeX (TikZ or pgfplots) code that draws exactly this figure. "
    "Answer with one ```latex code block.",
    "python": "<image>Write Python (matplotlib) code that plots this chart. Answer with one ```python code block.",
    "smiles": "<image>Write the SMILES string of the molecule in this image. Answer with one ```smiles code block.",
    "mermaid": "<image>Write Mermaid code that renders exactly this diagram. Answer with one ```mermaid code block.",
}


def check_template(template: str, where: str = "prompt template") -> str:
    """The template itself, or ValueError naming `where` when it lacks <image> or has an unknown placeholder."""
    if not isinstance(template, str) or template.count("<image>") != 1:
        raise ValueError(f"{where} must contain <image> exactly once: {template!r}")
    try:
        template.format(name="", fence="", language="")
    except (KeyError, IndexError, ValueError) as e:
        raise ValueError(f"{where}: bad placeholder {e} in {template!r}; known: {{name}} {{fence}} {{language}}") from e
    return template


def prompt_text(language: str, template: str = PROMPT_TEMPLATE) -> str:
    check_template(template)
    return template.format(
        name=LANGUAGE_NAMES.get(language, language), fence=FENCE.get(language, language), language=language
    )


def png_bytes(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def answer_text(language: str, code: str) -> str:
    """The assistant turn the model is trained to write: the program in one fence of its language."""
    return f"```{FENCE.get(language, language)}\n{code}\n```"


def make_row(
    sample_id: str,
    index: int,
    language: str,
    code: str,
    image: np.ndarray,
    gt_tokens: int | None = None,
    template: str = PROMPT_TEMPLATE,
) -> dict:
    prompt = [{"role": "user", "content": prompt_text(language, template)}]
    answer = answer_text(language, code)
    return {
        "data_source": f"vinci/{language}",
        "prompt": prompt,
        "messages": [*prompt, {"role": "assistant", "content": answer}],
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
