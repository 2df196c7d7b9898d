"""Shared by the tests of the benchmarks this package owns: the fixture folders and a tiny random CLIP config."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"

# A tiny random-weight CLIPConfig (no hub): identical images still give cosine 1.
TINY_CLIP = {
    "text_config": {"hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4, "num_hidden_layers": 1,
                    "projection_dim": 16, "vocab_size": 99, "bos_token_id": 0, "eos_token_id": 1, "pad_token_id": 1},
    "vision_config": {"hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4, "num_hidden_layers": 1,
                      "image_size": 336, "patch_size": 48, "projection_dim": 16},
    "projection_dim": 16,
}
