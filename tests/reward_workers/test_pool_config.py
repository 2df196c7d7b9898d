"""PoolConfig: the recipe's vinci.pool block is typed, validated, and turned into explicit Ray resources."""

from __future__ import annotations

import pytest

from reward_workers.config import PoolConfig, load_blocks
from vinci_rl.train.vinci_schema import vinci_problems


def test_defaults_reserve_the_custom_resource_and_no_generic_cpu():
    # reward nodes offer reward_cpu and no generic CPU, so the default worker asks for reward_cpu alone
    cfg = PoolConfig()
    assert cfg.worker_options() == {"num_cpus": 0.0, "resources": {"reward_cpu": 1.0}}
    # without a custom resource a worker reserves one CPU unless told otherwise
    assert PoolConfig.from_dict({"resource": None}).worker_options() == {"num_cpus": 1.0}
    assert PoolConfig.from_dict({"resource": None, "num_gpus": 0.25, "num_cpus": 2}).worker_options() == {
        "num_cpus": 2, "num_gpus": 0.25,
    }  # fmt: skip
    assert PoolConfig.from_dict({"resource": "cpu_pool", "resource_per_worker": 0.5}).worker_options()["resources"] == {"cpu_pool": 0.5}


@pytest.mark.parametrize(
    "block, fragment",
    [
        ({"sise": 2}, "pool.sise"),
        ({"size": -1}, "pool.size"),
        ({"size": "two"}, "pool.size"),
        ({"max_attempts": 0}, "pool.max_attempts"),
        ({"sample_timeout_s": 0}, "pool.sample_timeout_s"),
        ({"num_cpus": -1}, "pool.num_cpus"),
        ({"enabled": "yes"}, "pool.enabled"),
        ({"resource": ""}, "pool.resource"),
        ({"warm_languages": "svg"}, "pool.warm_languages"),
    ],
)
def test_bad_keys_and_values_are_errors_naming_the_key(block, fragment):
    with pytest.raises(ValueError, match=fragment.replace(".", r"\.")):
        PoolConfig.from_dict(block)


def test_recipe_schema_checks_the_pool_section():
    assert vinci_problems({"pool": {"size": 2, "resource": None}}) == []
    problems = vinci_problems({"pool": {"workers": 2}})
    assert len(problems) == 1 and "pool.workers" in problems[0]


def test_blocks_load_from_the_ci_recipe_and_from_a_reward_yaml(tmp_path):
    from pathlib import Path

    recipe = Path(__file__).resolve().parents[2] / "recipes" / "tiny_cpu.yaml"
    pool, reward = load_blocks(recipe)
    cfg = PoolConfig.from_dict(pool)
    assert cfg.enabled and cfg.resource is None and "pixel_l2" in reward["weights"]
    plain = tmp_path / "reward.yaml"
    plain.write_text("preset: rlrf\npool: {size: 3}\n")
    pool, reward = load_blocks(plain)
    assert pool == {"size": 3} and reward == {"preset": "rlrf"}
