"""Fixtures for the data tests: one warm real Renderer, a locally trained tokenizer, small SVG/SMILES inputs."""

from __future__ import annotations

import pytest

from vinci_rl.render import RenderConfig, Renderer


@pytest.fixture(scope="session")
def data_renderer():
    with Renderer(RenderConfig(timeout_s={"svg": 10.0, "smiles": 10.0})) as r:
        yield r


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory):
    """A byte-level BPE tokenizer trained here (no hub), saved like a model directory's tokenizer."""
    from vinci_rl.models.tiny_tokenizer import train_tokenizer

    out = tmp_path_factory.mktemp("tokenizer")
    train_tokenizer().save_pretrained(out)
    return str(out)
