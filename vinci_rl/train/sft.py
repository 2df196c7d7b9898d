"""Stage 1, supervised fine-tuning: verl's own Ray SFT trainer (`verl.trainer.sft_trainer_ray`) on a recipe
composed on verl's `sft_trainer_engine` config, with the same device logic, plugins and run folder as
`vinci-rl train` (the cpu platform on a machine without a GPU; an embedded local Ray cluster unless --address).

The run folder gets `metrics.jsonl` (train/loss per step, val/loss at the end), `config.yaml`, the verl
checkpoints under `checkpoints/`, and `model/`: the last checkpoint as a complete Hugging Face directory
(weights, tokenizer, image processor, chat template) that an RL recipe loads by `actor_rollout_ref.model.path`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from omegaconf import DictConfig, OmegaConf, open_dict

from vinci_rl.train.recipe import RecipeError

SFT_PATH_KEYS = ("data.train_files", "data.val_files", "model.path", "model.tokenizer_path")
# Files a VLM directory needs besides the weights, copied from the base model when verl's export lacks them.
PROCESSOR_FILES = (
    "preprocessor_config.json",
    "video_preprocessor_config.json",
    "processor_config.json",
    "chat_template.jinja",
    "chat_template.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "generation_config.json",
)


def check_sft_config(cfg: DictConfig) -> None:
    """Errors verl would only hit late (or never report): no hf_model export, steps beyond the epochs."""
    contents = list(cfg.checkpoint.save_contents)
    if "hf_model" not in contents:
        raise RecipeError(f"checkpoint.save_contents={contents}: add hf_model, or no loadable model is written")
    steps, epochs = cfg.trainer.total_training_steps, cfg.trainer.total_epochs
    if steps is not None and int(steps) < 1:
        raise RecipeError(f"trainer.total_training_steps must be >= 1, got {steps}")
    if int(epochs) < 1:
        raise RecipeError(f"trainer.total_epochs must be >= 1, got {epochs}")


def _step_of(path: Path) -> int:
    step_dir = next(p for p in path.parents if p.name.startswith("global_step_"))
    return int(step_dir.name.rsplit("_", 1)[1])


def latest_hf_checkpoint(checkpoints: Path, pattern: str = "global_step_*/huggingface") -> Path:
    """The newest Hugging Face export under a verl checkpoint folder (SFT: global_step_N/huggingface; GRPO:
    global_step_N/actor/huggingface)."""
    steps = sorted(checkpoints.glob(pattern), key=_step_of)
    if not steps:
        raise RecipeError(f"no Hugging Face checkpoint under {checkpoints} (did training reach a save step?)")
    return steps[-1]


def export_model(checkpoints: Path, base_model: str, out: Path, pattern: str = "global_step_*/huggingface") -> Path:
    """The last checkpoint as a complete model directory at `out` (processor files from the base model)."""
    src = latest_hf_checkpoint(checkpoints, pattern)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(src, out)
    base = Path(base_model)
    for name in PROCESSOR_FILES:
        if not (out / name).exists() and (base / name).is_file():
            shutil.copy2(base / name, out / name)
    return out


def run_sft(cfg: DictConfig, run_dir: Path) -> Path:
    """verl's Ray SFT trainer on an already prepared config; returns the exported model directory."""
    import ray
    from verl.trainer.sft_trainer_ray import SFTTrainer
    from verl.utils.device import auto_set_device

    auto_set_device(cfg)
    init = OmegaConf.to_container(cfg.ray_kwargs.ray_init, resolve=True) if cfg.get("ray_kwargs") else {}
    try:
        ray.init(**{k: v for k, v in init.items() if v is not None})
        trainer = SFTTrainer(config=cfg)
        if cfg.trainer.total_training_steps and trainer.total_training_steps > trainer.steps_per_epoch * cfg.trainer.total_epochs:
            raise RecipeError(
                f"trainer.total_training_steps={trainer.total_training_steps} exceeds total_epochs x steps per epoch "
                f"({cfg.trainer.total_epochs} x {trainer.steps_per_epoch}): training would stop without a checkpoint"
            )
        trainer.fit()
    finally:
        if ray.is_initialized():
            ray.shutdown()
    return export_model(Path(cfg.trainer.default_local_dir), str(cfg.model.path), run_dir / "model")


def prepare_sft(cfg: DictConfig, run_dir: Path, device: str, address: str | None) -> None:
    from vinci_rl.train import run as training

    check_sft_config(cfg)
    with open_dict(cfg):  # message-level loss masks (refinement examples) are honoured unless the recipe says otherwise
        if not cfg.data.get("custom_cls", {}).get("path"):
            cfg.data.custom_cls = {"path": "pkg://vinci_rl.data.sft_dataset", "name": "MessageMaskSFTDataset"}
    training.prepare(cfg, run_dir, device, address, SFT_PATH_KEYS)
    with open_dict(cfg):
        cfg.trainer.device = "cpu" if device == "cpu" else cfg.trainer.device
