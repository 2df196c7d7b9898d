"""Loading a VLM (real weights by local path or hub id, or a tiny model directory) with its processor."""

from __future__ import annotations

from pathlib import Path


def load_vlm(path_or_id: str, dtype: str = "auto", device: str = "cpu"):
    """Returns (model, processor). A local directory is used as is; anything else is treated as a hub id
    (downloaded by transformers, so it needs hub access). Raises FileNotFoundError for a missing local path
    that looks like a path."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    looks_local = path_or_id.startswith((".", "/", "~")) or Path(path_or_id).exists()
    if looks_local and not Path(path_or_id).expanduser().is_dir():
        raise FileNotFoundError(f"model directory {path_or_id} does not exist")
    src = str(Path(path_or_id).expanduser()) if looks_local else path_or_id
    model = AutoModelForImageTextToText.from_pretrained(src, dtype=dtype).to(device)
    processor = AutoProcessor.from_pretrained(src)
    return model, processor
