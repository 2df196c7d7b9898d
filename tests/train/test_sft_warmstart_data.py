"""The stage-1 SFT recipe reads the same parquet as RL: verl's own SFT dataset turns a prepared row into
image patches plus tokens whose loss mask covers exactly the assistant's fenced ground truth."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import verl  # noqa: F401  (plugins)
from transformers import AutoProcessor, AutoTokenizer
from verl.utils.dataset.multiturn_sft_dataset import MultiTurnSFTDataset

from vinci_rl.train.recipe import compose_recipe

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "sft_warmstart.yaml"


def test_sft_dataset_trains_on_the_fenced_ground_truth(tiny_vlm, sample_data):
    cfg = compose_recipe(RECIPE, ["data.max_length=1024"])
    tokenizer = AutoTokenizer.from_pretrained(tiny_vlm)
    dataset = MultiTurnSFTDataset(
        str(sample_data / "train.parquet"), tokenizer, cfg.data, processor=AutoProcessor.from_pretrained(tiny_vlm)
    )
    rows = pd.read_parquet(sample_data / "train.parquet")
    for i in (0, 1):
        item = dataset[i]
        assert item["multi_modal_inputs"]["pixel_values"].numel() > 0
        trained = tokenizer.decode(item["input_ids"][item["loss_mask"].bool()])
        gt, lang = rows.reward_model[i]["ground_truth"], rows.extra_info[i]["language"]
        assert trained.startswith(f"```{lang}\n{gt}\n```")
        assert "<image>" not in trained and "Write" not in trained  # the prompt is not trained on
