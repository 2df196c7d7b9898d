"""Predictions from a model checkpoint loaded in this process with transformers (no server): a local
directory or a hub id, e.g. the `model/` folder that `vinci-rl sft` writes, or a GRPO checkpoint's
`actor/huggingface`. Batched generation, greedy by default; the replies are written to predictions.jsonl
exactly like a server's, so the rest of the evaluation is the same code path.

Fine for small models and small test sets (the learning demo evaluates its 64 held-out prompts this way in
seconds); for a 7B model use a vLLM server (--server).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from vinci_rl.eval.predictions import PredictionError


@dataclass
class LocalModelConfig:
    path: str  # model directory or hub id
    max_tokens: int = 2048
    temperature: float = 0.0  # 0: greedy
    batch_size: int = 16
    seed: int = 0
    device: str = "auto"  # auto: cuda when available, else cpu


def _messages(prompt: str) -> list[dict]:
    """The test row's prompt as one user turn, the image where <image> stands."""
    before, _, after = prompt.partition("<image>")
    parts = [{"type": "text", "text": before}] if before.strip() else []
    parts.append({"type": "image"})
    if after.strip():
        parts.append({"type": "text", "text": after})
    return [{"role": "user", "content": parts}]


def _load(cfg: LocalModelConfig):
    import torch
    from transformers.utils import logging as hf_logging

    from vinci_rl.models.loading import load_vlm

    hf_logging.disable_progress_bar()

    device = cfg.device if cfg.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        model, processor = load_vlm(cfg.path, device=device)
    except (OSError, ValueError) as e:
        raise PredictionError(f"cannot load the model {cfg.path}: {e}") from e
    processor.tokenizer.padding_side = "left"  # generation continues every row from its own last token
    return model.eval(), processor, device


def _generate_batch(model, processor, device: str, batch: list[tuple[str, str, bytes]], cfg: LocalModelConfig) -> list[str]:
    import torch
    from PIL import Image

    texts = [processor.apply_chat_template(_messages(p), add_generation_prompt=True, tokenize=False) for _, p, _ in batch]
    images = [[Image.open(io.BytesIO(png)).convert("RGB")] for _, _, png in batch]
    inputs = processor(text=texts, images=images, padding=True, return_tensors="pt").to(device)
    sampling = {"do_sample": True, "temperature": cfg.temperature} if cfg.temperature > 0 else {"do_sample": False}
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=cfg.max_tokens, **sampling)
    new = out[:, inputs["input_ids"].shape[1] :]
    return processor.batch_decode(new, skip_special_tokens=True)


def generate_local(
    cfg: LocalModelConfig, items: list[tuple[str, str, bytes]], out_jsonl: Path, progress: bool = True
) -> Path:
    """One response per (id, prompt text, image PNG), written as {"id", "response"} lines."""
    import torch

    model, processor, device = _load(cfg)
    torch.manual_seed(cfg.seed)
    results = []
    batches = [items[i : i + cfg.batch_size] for i in range(0, len(items), max(1, cfg.batch_size))]
    for batch in tqdm(batches, desc="generate", unit="batch", disable=not progress):
        replies = _generate_batch(model, processor, device, batch, cfg)
        results += [{"id": sample_id, "response": reply} for (sample_id, _, _), reply in zip(batch, replies)]
    out_jsonl.parent.mkdir(parents=True, exist_ok=True)
    out_jsonl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results))
    return out_jsonl
