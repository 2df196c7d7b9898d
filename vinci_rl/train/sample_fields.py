"""Reading one sample's reward inputs out of a verl batch row (DataProto item / non-tensor fields).

The dataset schema (written by `vinci-rl prepare` and the sample-set builder):
  data_source  "vinci/<language>"
  prompt       chat messages whose user turn contains "<image>" (the reference image)
  images       [{"bytes": PNG, "path": None}]      -> verl moves it into raw_prompt's image part
  reward_model {"style": "rule", "ground_truth": <code>}
  extra_info   {"language": ..., "id": ..., "gt_tokens": ...}
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image


class SampleFieldError(ValueError):
    """A batch row lacks a field the visual reward needs (names the field)."""


@dataclass
class RewardInputs:
    language: str
    reference: np.ndarray  # H x W x 3 uint8
    ground_truth: str | None
    sample_id: str
    index: int  # extra_info.index: the row of the dataset (-1 when absent)
    gt_tokens: int | None

    def gt_length(self, unit: str) -> int | None:
        """The ground-truth length the length term compares with, in the reward's unit: the token count written
        at prepare time when it counts tokens; None when it counts characters (the scorer then measures the
        ground truth exactly as it measures the answer)."""
        return self.gt_tokens if unit == "tokens" else None


def _as_dict(value) -> dict:
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    if isinstance(value, np.ndarray) and value.size == 1:
        return _as_dict(value.item())
    raise SampleFieldError(f"expected a dict, got {type(value).__name__}")


def _iter_message_parts(raw_prompt):
    messages = raw_prompt.tolist() if isinstance(raw_prompt, np.ndarray) else list(raw_prompt)
    for message in messages:
        if isinstance(message, list):  # np.array([messages]) flattened one level deeper
            yield from _iter_message_parts(message)
            continue
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            yield from content


def reference_image(raw_prompt) -> np.ndarray:
    """The first image of the prompt, as RGB uint8."""
    for part in _iter_message_parts(raw_prompt):
        if not isinstance(part, dict) or part.get("type") != "image":
            continue
        img = part.get("image")
        if isinstance(img, Image.Image):
            return np.asarray(img.convert("RGB"))
        data = part.get("bytes") or (img if isinstance(img, bytes | bytearray) else None)
        if data:
            return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        path = part.get("path") or (img if isinstance(img, str) else None)
        if path:
            return np.asarray(Image.open(path).convert("RGB"))
    raise SampleFieldError("raw_prompt has no image part: the reference image must be in the prompt (<image>)")


def language_of(data_source: str | None, extra_info: dict) -> str:
    lang = extra_info.get("language")
    if not lang and data_source and data_source.startswith("vinci/"):
        lang = data_source.split("/", 1)[1]
    if not lang:
        raise SampleFieldError(
            f"no target language: extra_info.language missing and data_source {data_source!r} is not 'vinci/<lang>'"
        )
    return str(lang)


def reward_inputs(non_tensor: dict) -> RewardInputs:
    """Collect the reward inputs from one row's non-tensor fields."""
    extra = _as_dict(non_tensor.get("extra_info"))
    reward_model = _as_dict(non_tensor.get("reward_model"))
    if "raw_prompt" not in non_tensor:
        raise SampleFieldError("batch row has no raw_prompt field")
    gt_tokens = extra.get("gt_tokens")
    return RewardInputs(
        language=language_of(non_tensor.get("data_source"), extra),
        reference=reference_image(non_tensor["raw_prompt"]),
        ground_truth=reward_model.get("ground_truth"),
        sample_id=str(extra.get("id", extra.get("index", ""))),
        index=int(extra.get("index", -1)),
        gt_tokens=int(gt_tokens) if gt_tokens is not None and int(gt_tokens) >= 0 else None,
    )
