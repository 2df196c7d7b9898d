"""Composing a recipe: a Hydra YAML on verl's configs plus overrides -> the final OmegaConf config. Kept apart from
the recipe checks (recipe.py) so that reading a recipe's `vinci` block (vinci_block.py) needs nothing else."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig


class RecipeError(ValueError):
    """A recipe that cannot be composed or has unknown keys (the message names the file and keys)."""


def compose_recipe(recipe: str | Path, overrides: list[str] | None = None) -> DictConfig:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    path = Path(recipe).expanduser().resolve()
    if not path.is_file():
        raise RecipeError(f"recipe {recipe} does not exist")
    if path.suffix not in (".yaml", ".yml"):
        raise RecipeError(f"recipe {recipe} is not a .yaml file")
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(path.parent), version_base=None):
            cfg = compose(config_name=path.stem, overrides=list(overrides or []))
    except (HydraException, OmegaConfBaseException) as e:
        raise RecipeError(f"{recipe}: {e}") from e
    finally:
        GlobalHydra.instance().clear()
    return cfg
