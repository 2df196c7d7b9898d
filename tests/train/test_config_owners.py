"""Config facts with one owner each: the typed-config builder (vinci_rl/typed_config.py) behind every config class,
the reader of the recipe's `vinci` block (vinci_rl/train/vinci_block.py), and the default reward preset
(vinci_rl/reward/presets/default.yaml, which RewardConfig's defaults are read from).

The drift this shows: `RewardConfig.from_yaml` read a recipe's `vinci.reward` as written in the file, while the
pool (`workers start --config`, training) composed the recipe first, so an eval with `--reward recipe.yaml` scored
with another config than training did whenever part of the block came from the configs the recipe composes on."""

from __future__ import annotations

import pytest
import yaml

from reward_workers.config import PoolConfig, load_blocks
from vinci_rl.render.config import RenderConfig
from vinci_rl.report.training_pictures import PicturesConfig
from vinci_rl.reward.config import PRESETS_DIR, RewardConfig
from vinci_rl.schedule.max_length import MaxLengthSchedule
from vinci_rl.train.vinci_block import read_vinci_block, vinci_block


@pytest.fixture
def composed_recipe(tmp_path):
    base = {"vinci": {"reward": {"failure_reward": -0.5, "weights": {"ssim": 1.0}}, "pool": {"size": 3}}}
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base))
    recipe = {"defaults": ["base", "_self_"], "vinci": {"reward": {"weights": {"pixel_l2": 1.0}}}}
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    return tmp_path / "recipe.yaml"


def test_a_composed_recipe_reads_the_same_for_the_reward_and_the_pool(composed_recipe):
    from vinci_rl.train.recipe import compose_recipe

    block = read_vinci_block(composed_recipe)
    assert block == vinci_block(compose_recipe(composed_recipe))
    assert block["reward"]["failure_reward"] == -0.5 and block["pool"] == {"size": 3}
    cfg = RewardConfig.from_yaml(composed_recipe)  # before: -1.0, the base's value missed
    assert cfg.failure_reward == -0.5 and cfg.weights == {"ssim": 1.0, "pixel_l2": 1.0}  # Hydra merges the blocks
    pool, reward = load_blocks(composed_recipe)
    assert RewardConfig.from_dict(reward) == cfg and PoolConfig.from_dict(pool).size == 3


def test_plain_files_and_configs(tmp_path):
    from omegaconf import OmegaConf

    plain = tmp_path / "reward.yaml"
    plain.write_text("weights: {ssim: 1.0}\npool: {size: 2}\n")
    assert read_vinci_block(plain) is None and load_blocks(plain) == ({"size": 2}, {"weights": {"ssim": 1.0}})
    flat = tmp_path / "flat.yaml"
    flat.write_text("vinci:\n  reward: {weights: {ssim: 1.0}}\n")
    assert read_vinci_block(flat) == {"reward": {"weights": {"ssim": 1.0}}}
    assert vinci_block(OmegaConf.create({"a": 1, "vinci": {"x": "${a}"}})) == {"x": 1}  # resolved
    assert vinci_block({}) == {} and vinci_block(OmegaConf.create({})) == {} and vinci_block(None) == {}
    bad = tmp_path / "bad.yaml"
    bad.write_text("vinci: [1, 2]\n")
    with pytest.raises(ValueError, match=r"bad\.yaml: 'vinci' must be a mapping"):
        RewardConfig.from_yaml(bad)


@pytest.mark.parametrize(
    "build, data, fragment",
    [
        (lambda d: RewardConfig.from_dict(d, source="r.yaml"), {"dino": {"modle": "x"}}, "r.yaml: unknown key(s) ['modle'] (reward.dino.modle)"),
        (lambda d: PoolConfig.from_dict(d), {"sise": 2}, "vinci.pool: unknown key(s) ['sise'] (pool.sise)"),
        (lambda d: MaxLengthSchedule.from_dict(d), {"polciy": "x"}, "vinci.schedule: unknown key(s) ['polciy'] (schedule.polciy)"),
        (lambda d: PicturesConfig.from_dict(d), {"every": 1}, "vinci.pictures: unknown key(s) ['every'] (pictures.every)"),
        (lambda d: RenderConfig.from_dict(d), {"timeout": 3}, "render config: unknown key(s) ['timeout'] (render.timeout)"),
        (lambda d: RenderConfig.from_dict(d), {"timeout_s": 3}, "'render.timeout_s' must be a mapping"),
    ],
)
def test_one_builder_names_the_key_the_same_way_for_every_config(build, data, fragment):
    with pytest.raises(ValueError) as e:
        build(data)
    assert fragment in str(e.value)


def test_the_pool_bound_message_states_the_bound_it_checks():
    assert PoolConfig.from_dict({"result_cache_size": 0}).result_cache_size == 0  # 0 turns the cache off
    with pytest.raises(ValueError, match=r"pool\.result_cache_size must be an integer >= 0, got -1"):
        PoolConfig.from_dict({"result_cache_size": -1})
    with pytest.raises(ValueError, match=r"pool\.max_attempts must be an integer >= 1, got 0"):
        PoolConfig.from_dict({"max_attempts": 0})


def _leaves(d: dict, prefix: str = ""):
    for k, v in d.items():
        if isinstance(v, dict) and k != "weights":
            yield from _leaves(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v


def test_the_default_preset_is_written_once():
    """Every value default.yaml sets is RewardConfig()'s, and the code holds none of them itself."""
    import inspect

    import vinci_rl.reward.config as config_module

    preset = yaml.safe_load((PRESETS_DIR / "default.yaml").read_text())
    cfg = RewardConfig()
    for dotted, value in _leaves(preset):
        obj = cfg
        for part in dotted.split("."):
            obj = getattr(obj, part)
        assert obj == value, dotted
    assert cfg.weights["colour"] == 0.5
    source = inspect.getsource(config_module)
    assert '"colour": 0.5' not in source and "1024 * 1024" not in source
