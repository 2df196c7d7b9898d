"""Predictions from a model checkpoint loaded in this process with transformers (no server): a local
directory or a hub id, e.g. the `model/` folder that `vinci-rl sft` writes, or a GRPO checkpoint's
`actor/huggingface`. Batched generation, greedy by default; the replies are written to predictions.jsonl
exactly like a server's, so the rest of the evaluation is the same code path.

Fine for small models and small test sets (the learning demo evaluates its 256 held-out prompts this way in
seconds); for a 7B model use a vLLM server (--server).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from vinci_rl.eval.conversation import Conversation
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


def _conversation(conv: Conversation) -> tuple[list[dict], list]:
    """A conversation (conversation.py) as transformers chat messages and its images, in order."""
    from PIL import Image

    messages = _messages(conv.prompt)
    for reply, feedback in zip(conv.replies, conv.feedback):
        messages.append({"role": "assistant", "content": reply})
        messages += _messages("<image>" + feedback)
    return messages, [Image.open(io.BytesIO(png)).convert("RGB") for png in conv.images]


def _generate_batch(model, processor, device: str, batch: list[Conversation], cfg: LocalModelConfig) -> list[str]:
    import torch

    chats = [_conversation(conv) for conv in batch]
    texts = [processor.apply_chat_template(m, add_generation_prompt=True, tokenize=False) for m, _ in chats]
    inputs = processor(text=texts, images=[images for _, images in chats], padding=True, return_tensors="pt").to(device)
    sampling = {"do_sample": True, "temperature": cfg.temperature} if cfg.temperature > 0 else {"do_sample": False}
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=cfg.max_tokens, **sampling)
    new = out[:, inputs["input_ids"].shape[1] :]
    return processor.batch_decode(new, skip_special_tokens=True)


def local_chat(cfg: LocalModelConfig, progress: bool = True):
    """The model loaded once; returns replies(conversations) -> one reply each (batches of cfg.batch_size)."""
    import torch

    model, processor, device = _load(cfg)
    torch.manual_seed(cfg.seed)

    def replies(convs: list[Conversation]) -> list[str]:
        out: list[str] = []
        batches = [convs[i : i + cfg.batch_size] for i in range(0, len(convs), max(1, cfg.batch_size))]
        for batch in tqdm(batches, desc="generate", unit="batch", disable=not progress):
            out += _generate_batch(model, processor, device, batch, cfg)
        return out

    return replies


def generate_local(
    cfg: LocalModelConfig, items: list[tuple[str, str, bytes]], out_jsonl: Path, progress: bool = True
) -> Path:
    """One response per (id, prompt text, image PNG), written as {"id", "response"} lines."""
    replies = local_chat(cfg, progress)([Conversation(prompt, [png]) for _, prompt, png in items])
    results = [{"id": sample_id, "response": reply} for (sample_id, _, _), reply in zip(items, replies)]
    out_jsonl.parent.mkdir(parents=True, exist_ok=True)
    out_jsonl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results))
    return out_jsonl
