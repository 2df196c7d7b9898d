"""Recipes: Hydra YAMLs composed on verl's `ppo_trainer` config, plus our `vinci:` block.

`compose_recipe` gives the final config with overrides applied; `unknown_keys` lists every key of it that
neither verl's schema nor ours knows, so a typo in a recipe or an override is an error, not a silently
ignored setting.

A key is known when it is in verl's own composed `ppo_trainer`, or is a field of the dataclass that the
nearest enclosing node names with `_target_` (verl keeps some fields only there, e.g.
`actor_rollout_ref.rollout.enable_sleep_mode`), or lies under one of verl's free-form mappings, or is part
of our `vinci` schema.
"""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from vinci_rl.train.compose import RecipeError, compose_recipe  # noqa: F401  (recipe.compose_recipe is the entry point)

# verl mappings whose keys are free-form (passed on to transformers / Ray / vLLM as kwargs).
FREE_FORM = (
    "actor_rollout_ref.model.override_config",
    "model.override_config",
    "ray_kwargs.ray_init",
    "actor_rollout_ref.rollout.engine_kwargs",
    "actor_rollout_ref.rollout.custom",
    "reward.custom_reward_function.reward_kwargs",
    "data.custom_cls",
)


# Keys verl reads with `config.get(...)` that its YAML schema does not list, per base config.
READ_WITH_GET = {
    "sft_trainer_engine": ("data.image_key", "data.video_key"),
}


def base_config_name(recipe: str | Path) -> str:
    """The verl config a recipe composes on: the first entry of its `defaults` list (ppo_trainer, ...)."""
    import yaml

    defaults = (yaml.safe_load(Path(recipe).read_text()) or {}).get("defaults") or []
    for entry in defaults:
        if isinstance(entry, str) and entry != "_self_":
            return entry
    raise RecipeError(f"{recipe}: its defaults list names no verl config (e.g. ppo_trainer)")


def _base_verl_config(name: str) -> DictConfig:
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    try:
        with initialize_config_module(config_module="verl.trainer.config", version_base=None):
            return compose(config_name=name)
    finally:
        GlobalHydra.instance().clear()


def _leaf_keys(node, prefix: str = "") -> list[str]:
    if isinstance(node, DictConfig):
        keys = []
        for key in node.keys():
            child = node._get_node(key)
            full = f"{prefix}.{key}" if prefix else str(key)
            value = child._value() if hasattr(child, "_value") else child
            if isinstance(child, DictConfig) and value is not None and len(child) > 0:
                keys.extend(_leaf_keys(child, full))
            else:
                keys.append(full)
        return keys
    return [prefix]


def _dataclass_fields(target: str) -> set[str]:
    module, _, name = target.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return set()
    return {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()


def _known_in_verl(key: str, base: DictConfig) -> bool:
    if any(key == p or key.startswith(p + ".") for p in FREE_FORM):
        return True
    if OmegaConf.select(base, key, default="__missing__") != "__missing__":
        return True
    parts = key.split(".")
    for depth in range(len(parts) - 1, 0, -1):  # nearest ancestor that exists in verl's config
        parent = OmegaConf.select(base, ".".join(parts[:depth]), default=None)
        if isinstance(parent, DictConfig):
            target = parent.get("_target_")
            return bool(target) and parts[depth] in _dataclass_fields(target)
    return False


def unknown_keys(cfg: DictConfig, base_name: str = "ppo_trainer") -> list[str]:
    """Keys of a composed recipe that neither verl (its `base_name` config) nor vinci-rl knows; problems in the
    `vinci` block come with their reason."""
    from vinci_rl.train.vinci_schema import vinci_problems

    base = _base_verl_config(base_name)
    extra = READ_WITH_GET.get(base_name, ())
    unknown = [
        k
        for k in _leaf_keys(cfg)
        if not k.startswith("vinci.") and k != "vinci" and k not in extra and not _known_in_verl(k, base)
    ]
    vinci = cfg.get("vinci")
    if vinci is not None:
        unknown += vinci_problems(OmegaConf.to_container(vinci, resolve=False))
    return unknown


def check_recipe(cfg: DictConfig, source: str) -> None:
    bad = unknown_keys(cfg, base_config_name(source))
    if bad:
        raise RecipeError(f"{source}: unknown config key(s): {', '.join(bad)}")
    from vinci_rl.train.trainer_modes import TrainerModeError, check_mode_config

    try:
        check_mode_config(cfg)
    except TrainerModeError as e:
        raise RecipeError(f"{source}: {e}") from e
