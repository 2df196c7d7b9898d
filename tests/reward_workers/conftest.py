"""Fixtures of the reward pool tests: one private local Ray cluster for the session (never someone else's), with
a custom `reward_cpu` resource like a CPU node of a real cluster, and a tiny reward config that runs every
stage (render, pixel terms, DINOv2 from a random tiny config, format)."""

from __future__ import annotations

import uuid

import pytest

from pool_helpers import REWARD_CPU, TINY_REWARD

from reward_workers.config import PoolConfig


@pytest.fixture(scope="session")
def ray_cluster():
    import ray

    ray.init(
        address="local",  # a new private cluster: never attach to another one on this machine
        num_cpus=6,
        resources={"reward_cpu": REWARD_CPU},
        include_dashboard=False,
        namespace="vinci-rl-tests",
        logging_level="WARNING",
    )
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture
def reward_config() -> dict:
    return dict(TINY_REWARD)


@pytest.fixture
def make_pool(ray_cluster, reward_config):
    """make_pool(**pool_keys) -> (PoolConfig, handle); every pool made here is stopped after the test."""
    from reward_workers import deployment

    made = []

    def make(reward=None, wait=True, **keys):
        keys.setdefault("name", f"test-pool-{uuid.uuid4().hex[:8]}")
        keys.setdefault("namespace", "vinci-rl-tests")
        cfg = PoolConfig.from_dict(keys)
        handle = deployment.get_or_create_pool(cfg, reward if reward is not None else reward_config)
        made.append((cfg, handle))  # a job-owned pool lives as long as a handle to it does
        if wait:
            import ray

            ray.get(handle.wait_ready.remote(None, 240))
        return cfg, handle

    yield make
    for cfg, _handle in made:
        deployment.stop_pool(cfg)
