"""`vinci-rl sft`: bad recipes fail before any work with a message naming the key; the model a run leaves is
the last checkpoint, complete enough to load by path."""

from __future__ import annotations

from pathlib import Path

import pytest

from vinci_rl.train.recipe import RecipeError, check_recipe, compose_recipe
from vinci_rl.train.sft import check_sft_config, export_model, latest_hf_checkpoint

RECIPES = Path(__file__).resolve().parents[2] / "recipes"


@pytest.mark.parametrize("recipe", ["sft_tiny_cpu", "sft_warmstart"])
def test_sft_recipes_compose_and_export_a_loadable_model(recipe):
    cfg = compose_recipe(RECIPES / f"{recipe}.yaml")
    check_recipe(cfg, str(RECIPES / f"{recipe}.yaml"))
    check_sft_config(cfg)


@pytest.mark.parametrize(
    "override, message",
    [
        ("checkpoint.save_contents=[model,optimizer]", "add hf_model"),
        ("trainer.total_training_steps=0", "total_training_steps must be >= 1"),
        ("trainer.total_epochs=0", "total_epochs must be >= 1"),
    ],
)
def test_bad_sft_settings_are_named(override, message):
    cfg = compose_recipe(RECIPES / "sft_tiny_cpu.yaml", [override])
    with pytest.raises(RecipeError, match=message):
        check_sft_config(cfg)


def test_sft_command_names_a_missing_data_file(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "vinci_rl", "sft", str(RECIPES / "sft_tiny_cpu.yaml"),
         f"data.train_files={tmp_path / 'nope.parquet'}", "--run-dir", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2
    assert f"data.train_files: {tmp_path / 'nope.parquet'} does not exist" in proc.stderr


def _checkpoint(root: Path, step: int, sub: str = "huggingface") -> Path:
    d = root / f"global_step_{step}" / sub
    d.mkdir(parents=True)
    (d / "config.json").write_text(f'{{"step": {step}}}')
    return d


def test_export_takes_the_newest_step_and_completes_the_processor_files(tmp_path):
    ckpt = tmp_path / "checkpoints"
    for step in (2, 10, 9):
        _checkpoint(ckpt, step)
    base = tmp_path / "base"
    base.mkdir()
    (base / "preprocessor_config.json").write_text("{}")
    (base / "config.json").write_text('{"step": "base"}')
    out = export_model(ckpt, str(base), tmp_path / "model")
    assert (out / "config.json").read_text() == '{"step": 10}'  # numeric order, not text order
    assert (out / "preprocessor_config.json").exists()
    rl = tmp_path / "rl"
    _checkpoint(rl, 4, "actor/huggingface")
    assert latest_hf_checkpoint(rl, "global_step_*/actor/huggingface").parent.parent.name == "global_step_4"


def test_no_checkpoint_is_an_error_naming_the_folder(tmp_path):
    with pytest.raises(RecipeError, match=f"no Hugging Face checkpoint under {tmp_path}"):
        latest_hf_checkpoint(tmp_path)
