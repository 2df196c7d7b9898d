"""Loading a VLM (real weights by local path or hub id, or a tiny model directory) with its processor."""

from __future__ import annotations


def load_vlm(path_or_id: str, dtype: str = "auto", device: str = "cpu"):
    """Returns (model, processor). A local directory is used as is; anything else is treated as a hub id
    (downloaded by transformers, so it needs hub access). A value that is neither a local directory nor reachable
    raises vinci_rl.models.locate.ModelPathError (a FileNotFoundError and a ValueError) naming it, in seconds."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from vinci_rl.models.locate import locate_pretrained

    src = locate_pretrained(path_or_id, "model")
    model = AutoModelForImageTextToText.from_pretrained(src, dtype=dtype).to(device)
    processor = AutoProcessor.from_pretrained(src)
    return model, processor
