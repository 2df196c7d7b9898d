"""Every recipe key vinci-rl introduces carries a comment (like verl's own config-docs check): each key of the `vinci`
block and each key that verl's base config does not have, in recipes/*.yaml and recipes/common/*.yaml, has a
comment on the line above it or on its own line. Keys verl's base config has are documented there. Entries of a
mapping whose keys are data rather than settings (reward weights, a Dinov2Config, per-language timeouts) are covered
by the comment on the mapping."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from vinci_rl.train.recipe import _base_verl_config, _known_in_verl, base_config_name

RECIPES = Path(__file__).resolve().parents[2] / "recipes"
FILES = sorted([*RECIPES.glob("*.yaml"), *RECIPES.glob("common/*.yaml")])
DATA_MAPS = {"weights", "term_failure_values", "failure_rewards", "render_sizes", "config", "aliases", "timeout_s"}
HYDRA = ("hydra", "defaults")


def keys_of(path: Path) -> list[tuple[str, int, bool, str | None]]:
    """(dotted key, line, commented, parent key) of every key written in the file."""
    text = path.read_text()
    lines = text.splitlines()
    out: list[tuple[str, int, bool, str | None]] = []

    def walk(node, prefix: str, parent: str | None) -> None:
        if not isinstance(node, yaml.MappingNode):
            return
        for key_node, value in node.value:
            dotted = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
            line = key_node.start_mark.line
            above = lines[line - 1].strip() if line else ""
            rest = lines[line][key_node.end_mark.column :]
            out.append((dotted, line + 1, above.startswith("#") or " #" in rest, parent))
            walk(value, dotted, str(key_node.value))

    walk(yaml.compose(text), "", None)
    return out


@pytest.fixture(scope="module")
def bases():
    return {}


def introduced(path: Path, bases: dict) -> list[tuple[str, int, bool, str | None]]:
    try:
        name = base_config_name(path)
    except ValueError:
        name = "ppo_trainer"  # recipes/common/*: composed into ppo_trainer recipes
    if name not in bases:
        bases[name] = _base_verl_config(name)
    base = bases[name]
    return [
        k for k in keys_of(path)
        if k[3] not in DATA_MAPS
        and (k[0] == "vinci" or k[0].startswith("vinci.")
             or not (k[0].split(".")[0] in HYDRA or _known_in_verl(k[0], base)))
    ]  # fmt: skip


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(RECIPES)))
def test_every_key_we_introduce_carries_a_comment(path, bases):
    keys = introduced(path, bases)
    missing = [f"{path.name}:{line} {key}" for key, line, commented, _ in keys if not commented]
    assert not missing, "keys without a comment above or beside them:\n" + "\n".join(missing)


def test_the_check_sees_the_vinci_block_and_non_verl_keys(tmp_path, bases):
    (tmp_path / "r.yaml").write_text(
        "defaults:\n  - ppo_trainer\n  - _self_\n"
        "data:\n  train_batch_size: 4\n"  # verl's own key: documented by verl
        "# ours\nvinci:\n  reward:\n    # weights\n    weights:\n      ssim: 1.0\n    failure_reward: -1.0  # inline\n"
        "    size: reference\n"
    )
    keys = {k: c for k, _, c, _ in introduced(tmp_path / "r.yaml", bases)}
    assert keys == {"vinci": True, "vinci.reward": False, "vinci.reward.weights": True,
                    "vinci.reward.failure_reward": True, "vinci.reward.size": False}  # fmt: skip
