"""The recipe's `vinci` block, read one way everywhere: the reward manager and the trainer (verl's config), the pool's
step metrics, the cluster submit checks, the run report (a run's config.yaml), and every command given a YAML file
(`--reward recipe.yaml`, `workers start --config recipe.yaml`).

    vinci_block(cfg)                  # a composed config / mapping -> its `vinci` block as a plain dict ({} if none)
    read_vinci_block("recipe.yaml")   # a YAML file -> its `vinci` block, composed like training composes it
                                      # (None: the file has no `vinci` block; it is a reward or pool YAML itself)

A recipe with `defaults:` is composed first (Hydra, as `vinci-rl train` does), so a block that comes partly from
the configs it composes on reads the same here as in training.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import yaml


def vinci_block(config: Any) -> dict[str, Any]:
    """The `vinci` block of a config (OmegaConf DictConfig or mapping) as a plain, resolved dict; {} when absent."""
    from omegaconf import DictConfig, OmegaConf

    section = config.get("vinci") if config is not None and hasattr(config, "get") else None
    if section is None:
        return {}
    if isinstance(section, DictConfig):
        return OmegaConf.to_container(section, resolve=True)
    if not isinstance(section, Mapping):
        raise ValueError(f"'vinci' must be a mapping, got {type(section).__name__}")
    return dict(section)


def read_yaml(path: str | Path, what: str = "config") -> Any:
    """A YAML file's content; ValueError naming the file when it cannot be read or parsed."""
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text())
    except OSError as e:
        raise ValueError(f"cannot read {what} {path}: {e}") from e
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: invalid YAML: {e}") from e


def read_vinci_block(path: str | Path, what: str = "config") -> dict[str, Any] | None:
    """The `vinci` block of a YAML file, a recipe composed first; None when the file has none."""
    raw = read_yaml(path, what)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
    if "defaults" in raw:  # a recipe: its block may come (partly) from the configs it composes on
        from vinci_rl.train.compose import compose_recipe

        cfg = compose_recipe(path)
        return vinci_block(cfg) if cfg.get("vinci") is not None else None
    if "vinci" not in raw:
        return None
    try:
        return vinci_block(raw)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from e
