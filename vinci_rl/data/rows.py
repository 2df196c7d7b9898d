"""THE row schema of every vinci-rl dataset (verl's multimodal parquet), its writer and its reader.

  data_source   "vinci/<language>"
  prompt        [{"role": "user", "content": "<image>..."}]       the image goes where <image> stands
  messages      the prompt plus the assistant's fenced ground truth: verl's SFT trainer reads this column
                (recipes/sft_warmstart.yaml), so one parquet serves stage-1 SFT and RL
  images        [{"bytes": PNG, "path": None}]
  ability       "image_to_code"
  reward_model  {"style": "rule", "ground_truth": <code>}
  extra_info    {"id", "index", "language", "gt_chars", "gt_tokens"}   gt_tokens: -1 when no tokenizer was given

A refinement example (make_row(..., attempt=Attempt(...)), vinci_rl/data/refine_examples.py) has the turns the
render-and-refine agent loop shows the model: `messages` = the task, a wrong answer, its render with the feedback
text, the ground truth; `images` = [reference, render of the wrong answer]; a message-level `loss_mask` (1 only on
the last answer: vinci_rl/data/sft_dataset.py trains on nothing else); extra_info.perturbation names the change.

    make_row(...) -> dict          one row (prepare, the sample set and the shapes task all build rows with it)
    write_rows(path, rows)         a parquet with exactly COLUMNS, in that order
    read_rows(path) -> [TaskRow]   typed rows back (evaluation, reports), errors naming the file, row and column
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
from PIL import Image

from vinci_rl.languages import GENERIC_PROMPT, LANGUAGES

COLUMNS = ("data_source", "prompt", "messages", "images", "ability", "reward_model", "extra_info")
ABILITY = "image_to_code"
SOURCE_PREFIX = "vinci/"  # data_source = SOURCE_PREFIX + language

# The default template of a language without its own (placeholders {name} {fence} {language}; <image> once).
PROMPT_TEMPLATE = GENERIC_PROMPT
# The default template per language (prepare's defaults; --template / --templates override them).
PROMPT_TEMPLATES = {name: lang.prompt for name, lang in LANGUAGES.items()}


class RowError(ValueError):
    """A dataset row that does not follow the schema; the message names the file, the row and the column."""


def check_template(template: str, where: str = "prompt template") -> str:
    """The template itself, or ValueError naming `where` when it lacks <image> or has an unknown placeholder."""
    if not isinstance(template, str) or template.count("<image>") != 1:
        raise ValueError(f"{where} must contain <image> exactly once: {template!r}")
    try:
        template.format(name="", fence="", language="")
    except (KeyError, IndexError, ValueError) as e:
        raise ValueError(f"{where}: bad placeholder {e} in {template!r}; known: {{name}} {{fence}} {{language}}") from e
    return template


def _fence(language: str) -> str:
    lang = LANGUAGES.get(language)
    return lang.fence if lang else language


def prompt_text(language: str, template: str = PROMPT_TEMPLATE) -> str:
    check_template(template)
    lang = LANGUAGES.get(language)
    return template.format(name=lang.title if lang else language, fence=_fence(language), language=language)


def answer_text(language: str, code: str) -> str:
    """The assistant turn the model is trained to write: the program in one fence of its language."""
    return f"```{_fence(language)}\n{code}\n```"


def png_bytes(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


@dataclass
class Attempt:
    """A refinement example's wrong first answer and the feedback turn after it."""

    code: str  # the wrong program
    render: np.ndarray  # its render, as shown to the model
    feedback: str  # the feedback text after the render
    kind: str = ""  # what was changed (vinci_rl/data/perturb.py)


def _refine_messages(prompt: list[dict], language: str, code: str, attempt: Attempt) -> list[dict]:
    turns = [*prompt, {"role": "assistant", "content": answer_text(language, attempt.code)},
             {"role": "user", "content": "<image>" + attempt.feedback}]  # fmt: skip
    return [{**m, "loss_mask": 0} for m in turns] + [{"role": "assistant", "content": answer_text(language, code), "loss_mask": 1}]


def make_row(
    sample_id: str,
    index: int,
    language: str,
    code: str,
    image: np.ndarray,
    gt_tokens: int | None = None,
    template: str = PROMPT_TEMPLATE,
    attempt: Attempt | None = None,
) -> dict:
    prompt = [{"role": "user", "content": prompt_text(language, template)}]
    answer = [{"role": "assistant", "content": answer_text(language, code)}]
    row = {
        "data_source": SOURCE_PREFIX + language,
        "prompt": prompt,
        "messages": [*prompt, *answer] if attempt is None else _refine_messages(prompt, language, code, attempt),
        "images": [{"bytes": png_bytes(image), "path": None}],
        "ability": ABILITY,
        "reward_model": {"style": "rule", "ground_truth": code},
        "extra_info": {
            "id": sample_id,
            "index": index,
            "language": language,
            "gt_chars": len(code),
            "gt_tokens": -1 if gt_tokens is None else int(gt_tokens),
        },
    }
    if attempt is not None:
        row["images"].append({"bytes": png_bytes(attempt.render), "path": None})
        row["extra_info"]["perturbation"] = attempt.kind
    return row


def write_rows(path: str | Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    """Rows made by make_row -> a parquet holding exactly COLUMNS (an empty split keeps them too)."""
    import pandas as pd

    path = Path(path)
    pd.DataFrame(list(rows), columns=list(COLUMNS)).to_parquet(path)
    return path


# ---- reading ----------------------------------------------------------------------------------------------


def language_of(data_source: str | None, extra_info: Mapping[str, Any]) -> str:
    """The row's target language: extra_info.language, else the <language> of data_source "vinci/<language>"."""
    lang = extra_info.get("language")
    if not lang and data_source and str(data_source).startswith(SOURCE_PREFIX):
        lang = str(data_source)[len(SOURCE_PREFIX) :]
    if not lang:
        raise RowError(
            f"no target language: extra_info.language missing and data_source {data_source!r} is not "
            f"'{SOURCE_PREFIX}<lang>'"
        )
    return str(lang)


def gt_tokens_of(extra_info: Mapping[str, Any] | None) -> int | None:
    """The ground-truth token length written at prepare time; None when unknown (-1 or absent)."""
    value = (extra_info or {}).get("gt_tokens")
    return int(value) if value is not None and int(value) >= 0 else None


@dataclass
class TaskRow:
    """One row of a dataset, typed: what evaluation and reports read."""

    id: str
    index: int
    language: str
    ground_truth: str
    image_png: bytes  # decoded when used, so a large test set is not held as pixels
    prompt: str  # the user turn's text, <image> where the image goes
    source: str  # "<file> row <n> (id ...)", for messages
    gt_tokens: int | None = None

    def decode(self) -> np.ndarray:
        """The reference image, RGB uint8."""
        from vinci_rl.reward.image import to_rgb

        try:
            return to_rgb(self.image_png)
        except ValueError as e:
            raise RowError(f"{self.source}: unreadable image: {e}") from e


def task_row(row: Mapping[str, Any], where: str) -> TaskRow:
    """A TaskRow from one parquet record (a mapping of COLUMNS); RowError naming `where` and the column."""
    info = row.get("extra_info")
    if not isinstance(info, Mapping):
        raise RowError(f"{where}: column 'extra_info' must be a mapping, got {type(info).__name__}")
    where = f"{where} (id {info.get('id')!r})"
    try:
        png = bytes(row["images"][0]["bytes"])
    except (TypeError, IndexError, KeyError) as e:
        raise RowError(f"{where}: no image bytes in column 'images': {e}") from e
    prompt = row.get("prompt")
    text = prompt[0]["content"] if prompt is not None and len(prompt) else ""
    try:
        gt = row["reward_model"]["ground_truth"]
        sample_id, index = str(info["id"]), int(info["index"])
    except (TypeError, KeyError, ValueError) as e:
        raise RowError(f"{where}: missing or bad field {e} (reward_model.ground_truth, extra_info.id / index)") from e
    language = language_of(row.get("data_source"), info)
    return TaskRow(sample_id, index, language, gt, png, text, where, gt_tokens_of(info))


READ_COLUMNS = ("images", "reward_model", "extra_info", "prompt")  # what read_rows needs


def read_rows(path: str | Path, limit: int | None = None) -> list[TaskRow]:
    """The rows of a dataset parquet (the first `limit` when given); RowError naming the file, row and column."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise RowError(f"dataset parquet not found: {path}")
    df = pd.read_parquet(path)
    for col in READ_COLUMNS:
        if col not in df.columns:
            raise RowError(f"{path}: no column {col!r} (columns: {list(df.columns)}); make it with vinci-rl prepare")
    records = df.head(limit).to_dict("records") if limit else df.to_dict("records")
    return [task_row(r, f"{path} row {i}") for i, r in enumerate(records)]
