"""A render-and-refine trajectory written to vinci.refine.trace_dir: `<id>.json` (the row, the turns' texts, the
`vinci_refine` record, the response token ids and mask) and `<id>.image<k>.png`, every image the model was shown,
exactly as handed to vLLM and the actor (image 0: the task's; image k: the render shown after turn k)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from uuid import uuid4

logger = logging.getLogger(__name__)


def _extra_info(kwargs: dict) -> dict:
    info = kwargs.get("extra_info")
    if hasattr(info, "item") and not isinstance(info, dict):
        info = info.item()
    return info if isinstance(info, dict) else {}


def write_trace(trace_dir: str, kwargs: dict, roll: Any, record: dict, turn_texts: list[str]) -> Path | None:
    """Write one trajectory; a write failure is logged, never raised (tracing must not stop training)."""
    out = Path(trace_dir)
    name = uuid4().hex
    try:
        out.mkdir(parents=True, exist_ok=True)
        files = []
        for k, image in enumerate(roll.images):
            path = out / f"{name}.image{k}.png"
            image.save(path, format="PNG")
            files.append(path.name)
        n = len(roll.mask)
        info = _extra_info(kwargs)
        doc = {
            "index": info.get("index"), "id": info.get("id"), "language": info.get("language"), "record": record, "turn_texts": turn_texts,
            "response_ids": roll.ids[len(roll.ids) - n :], "response_mask": roll.mask, "images": files,
        }  # fmt: skip
        path = out / f"{name}.json"
        path.write_text(json.dumps(doc, default=str))
        return path
    except OSError:
        logger.exception("vinci_refine_agent: writing the trace to %s failed", trace_dir)
        return None
