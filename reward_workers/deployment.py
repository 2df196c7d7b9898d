"""Finding, creating and operating the named pool on a Ray cluster.

In a training job (the default) the first reward manager calls `get_or_create_pool`: it finds a pool that an
operator started (`vinci-rl workers start`, a detached actor on the cluster) or creates one owned by the job.
Operators use `start_pool` / `scale_pool` / `pool_status` / `stop_pool` (the `vinci-rl workers` commands).
"""

from __future__ import annotations

import logging
from typing import Any

from reward_workers.config import PoolConfig

logger = logging.getLogger(__name__)

POOL_MAX_CONCURRENCY = 100_000  # concurrent score() calls the pool actor accepts (one per streamed sample)


class PoolNotFound(LookupError):
    """No pool with this name/namespace runs on the cluster."""


def connect(address: str | None, namespace: str) -> None:
    """Attach this process to the Ray cluster at `address` (a no-op when Ray is already initialised here). A token
    given by RAY_AUTH_TOKEN(_PATH) is used; a refused token raises ConnectionError saying what to set."""
    from vinci_rl.cluster.auth import connect as auth_connect

    if not address:
        raise ValueError("no Ray cluster address: pass --address HOST:PORT (or set RAY_ADDRESS)")
    auth_connect(address, namespace=namespace, log_to_driver=False, logging_level=logging.WARNING)


def find_pool(cfg: PoolConfig) -> Any | None:
    import ray

    try:
        return ray.get_actor(cfg.name, namespace=cfg.namespace)
    except ValueError:
        return None


def check_resources(cfg: PoolConfig) -> None:
    """Fail early, naming the fix, when no node of the cluster offers what one worker needs."""
    import ray

    opts = cfg.worker_options()
    need = {"CPU": opts["num_cpus"], "GPU": opts.get("num_gpus", 0.0), **opts.get("resources", {})}
    nodes = [n["Resources"] for n in ray.nodes() if n.get("Alive")]
    if any(all(res.get(k, 0.0) >= v for k, v in need.items() if v) for res in nodes):
        return
    total = ray.cluster_resources()
    if cfg.resource and cfg.resource_per_worker and total.get(cfg.resource, 0.0) < cfg.resource_per_worker:
        raise ValueError(
            f"vinci.pool.resource: no node of this Ray cluster offers {cfg.resource_per_worker:g} of resource "
            f"'{cfg.resource}' (cluster has {total.get(cfg.resource, 0.0):g}); start reward nodes with "
            f"`ray start --num-cpus 0 --resources '{{\"{cfg.resource}\": N}}'`, or set vinci.pool.resource: null to "
            "place workers on any CPU"
        )
    if cfg.num_gpus and total.get("GPU", 0.0) < cfg.num_gpus:
        raise ValueError(f"vinci.pool.num_gpus={cfg.num_gpus:g} but the cluster has {total.get('GPU', 0.0):g} GPUs")
    raise ValueError(
        f"vinci.pool: no node of this Ray cluster offers all of {need} for one worker (reward nodes offer no "
        "generic CPUs: keep vinci.pool.num_cpus at 0 with a custom resource)"
    )


class PoolConfigMismatch(ValueError):
    """A pool with this name runs with another reward config than the job's."""


def check_reward_config(handle: Any, cfg: PoolConfig, reward_config: dict) -> None:
    """Refuse to use a pool that scores with another reward config than `reward_config`, naming both."""
    import ray

    from reward_workers.pool import _canonical, reward_fingerprint
    from vinci_rl.reward.config import RewardConfig

    desc = ray.get(handle.describe.remote(), timeout=120)
    if desc["reward_fingerprint"] == reward_fingerprint(reward_config):
        return
    theirs = _canonical(RewardConfig.from_dict(ray.get(handle.reward_config.remote(), timeout=60)).to_dict())
    ours = _canonical(RewardConfig.from_dict(reward_config).to_dict())
    diff = [f"{k}: pool has {theirs.get(k)!r}, this job has {ours.get(k)!r}"
            for k in sorted(set(theirs) | set(ours)) if theirs.get(k) != ours.get(k)]  # fmt: skip
    raise PoolConfigMismatch(
        f"reward pool '{cfg.name}' (namespace '{cfg.namespace}') scores with another reward config than this job "
        f"(pool {desc['reward_fingerprint']}, job {reward_fingerprint(reward_config)}): " + "; ".join(diff)
        + f". Use the pool's config, or give this job its own pool: vinci.pool.name=<another name> (and, for a "
        f"standalone pool, `vinci-rl workers start --config <this recipe> --name <that name>`)"
    )


def get_or_create_pool(cfg: PoolConfig, reward_config: dict, detached: bool = False) -> Any:
    """The pool named cfg.name in cfg.namespace: found, or created (unless cfg.create is false). Race-safe: two
    reward managers creating it at once get the same actor."""
    import ray

    from reward_workers.pool import RewardPool

    handle = find_pool(cfg)
    if handle is not None:
        return handle
    if not cfg.create:
        raise PoolNotFound(
            f"no reward pool '{cfg.name}' in namespace '{cfg.namespace}' and vinci.pool.create is false: "
            "start one with `vinci-rl workers start --address ...`"
        )
    from vinci_rl.cluster.placement import head_scheduling

    check_resources(cfg)
    return (
        ray.remote(RewardPool)
        .options(
            name=cfg.name,
            namespace=cfg.namespace,
            get_if_exists=True,
            lifetime="detached" if detached else None,
            num_cpus=0,  # the pool only routes: it must never hold a CPU the workers or the trainer need
            # ... and holding nothing it could be placed on any node: on the head it outlives any worker node
            scheduling_strategy=head_scheduling(),
            max_concurrency=POOL_MAX_CONCURRENCY,
        )
        .remote(cfg.to_dict(), reward_config)
    )


def start_pool(cfg: PoolConfig, reward_config: dict, wait_s: float = 300.0) -> tuple[Any, bool]:
    """Start a detached pool (it outlives this process); (handle, created). An existing pool is left as it is."""
    import ray

    existing = find_pool(cfg)
    if existing is not None:
        check_reward_config(existing, cfg, reward_config)
        return existing, False
    handle = get_or_create_pool(cfg, reward_config, detached=True)
    if wait_s > 0:
        ray.get(handle.wait_ready.remote(None, wait_s), timeout=wait_s + 30)
    return handle, True


def require_pool(cfg: PoolConfig) -> Any:
    handle = find_pool(cfg)
    if handle is None:
        raise PoolNotFound(f"no reward pool '{cfg.name}' in namespace '{cfg.namespace}' on this cluster")
    return handle


def pool_status(cfg: PoolConfig) -> dict:
    import ray

    return ray.get(require_pool(cfg).status.remote(), timeout=60)


def scale_pool(cfg: PoolConfig, size: int, wait_s: float = 300.0) -> dict:
    import ray

    handle = require_pool(cfg)
    ray.get(handle.scale.remote(size), timeout=120)
    if wait_s > 0:
        ray.get(handle.wait_ready.remote(None, wait_s), timeout=wait_s + 30)
    return ray.get(handle.status.remote(), timeout=60)


def stop_pool(cfg: PoolConfig) -> bool:
    """Close every worker (renderers stopped), then kill the pool actor. False when there was none."""
    import ray

    handle = find_pool(cfg)
    if handle is None:
        return False
    try:
        ray.get(handle.shutdown.remote(), timeout=120)
    finally:
        ray.kill(handle, no_restart=True)
    return True
