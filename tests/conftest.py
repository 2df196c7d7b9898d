"""Shared fixtures: tiny models and the sample set are built once per test session (no hub access)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_vlm(tmp_path_factory):
    """A tiny random-weight Qwen2.5-VL directory."""
    from vinci_rl.models.tiny import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("models") / "tiny-qwen2.5-vl", "qwen2.5-vl")


@pytest.fixture(scope="session")
def sample_data(tmp_path_factory, tiny_vlm):
    """The bundled sample set, small: 8 train rows (two GRPO steps of 4 prompts), 4 validation rows."""
    from vinci_rl.data.sample_set import build_sample_set

    out = tmp_path_factory.mktemp("sample_data")
    summary = build_sample_set(out, n_train=8, n_val=4, tokenizer_path=str(tiny_vlm))
    assert not summary.failed, summary.failed
    return out
