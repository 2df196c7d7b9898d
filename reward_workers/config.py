"""PoolConfig: the recipe's `vinci.pool` block (typed; unknown keys raise ValueError naming the key).

Reward weights and failure values are not here: they stay in `vinci.reward` (RewardConfig), which the pool
hands to every worker.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping


from vinci_rl.typed_config import build


@dataclass
class PoolConfig:
    # false: score in the reward-manager process itself (no pool; one warm scorer per reward-loop worker).
    enabled: bool = True
    # The pool is a named Ray actor: a training job finds it by (name, namespace) or creates it.
    name: str = "vinci_reward_pool"
    namespace: str = "vinci-rl"
    # false: never create the pool from a training job; require one started with `vinci-rl workers start`.
    create: bool = True
    # Number of RewardWorker actors (changeable while running: `vinci-rl workers scale` / pool.scale(n)).
    size: int = 2
    # Generic Ray CPUs reserved per worker; null: 0 with a custom `resource`, 1 without. Reward nodes offer only
    # that resource (`ray start --num-cpus 0 --resources '{"reward_cpu": N}'`), so verl's trainer actors, which ask
    # for CPUs, never land there; its units are then the workers' CPU budget.
    num_cpus: float | None = None
    # Custom Ray resource each worker requires, so workers land only on nodes started with it (CPU reward nodes)
    # and never take the trainer's CPUs; null: no custom resource (single-machine runs).
    resource: str | None = "reward_cpu"
    resource_per_worker: float = 1.0
    # GPU fraction per worker for the DINOv2 encoder (0: CPU).
    num_gpus: float = 0.0
    # Most samples sent to a worker in one call (its encoder batches across them).
    max_batch_size: int = 8
    # Worker time each sample of a batch may take; a batch overrunning len(batch) x this is cut, the worker
    # restarted and the samples retried alone; a sample that overruns alone gets status `timeout`.
    sample_timeout_s: float = 60.0
    # Attempts per sample when its worker dies; after that it gets status `worker_failure`.
    max_attempts: int = 3
    # Client side: the longest one sample may wait for the pool (queueing included) before it is given
    # status `worker_failure`; bounds a step even if the pool itself is gone.
    request_timeout_s: float = 1800.0
    # How long a (re)started worker may take to become ready before its queue moves to other workers.
    start_timeout_s: float = 300.0
    # Identical programs (language + code + reference + ground truth) are scored once: LRU entries kept.
    result_cache_size: int = 4096
    # Renderers started when a worker starts (others start on first use), e.g. [svg, html, python].
    warm_languages: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, source: str = "vinci.pool") -> "PoolConfig":
        cfg = build(cls, data, source, "pool")
        cfg.validate(source)
        return cfg

    def validate(self, source: str = "vinci.pool") -> None:
        def positive(name: str, allow_zero: bool = False) -> None:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or (v == 0 and not allow_zero):
                raise ValueError(f"{source}: pool.{name} must be a {'non-negative' if allow_zero else 'positive'} number, got {v!r}")

        if not isinstance(self.size, int) or isinstance(self.size, bool) or self.size < 0:
            raise ValueError(f"{source}: pool.size must be an integer >= 0, got {self.size!r}")
        for name, low in (("max_batch_size", 1), ("max_attempts", 1), ("result_cache_size", 0)):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < low:
                raise ValueError(f"{source}: pool.{name} must be an integer >= {low}, got {v!r}")
        for name in ("sample_timeout_s", "request_timeout_s", "start_timeout_s"):
            positive(name)
        for name in ("num_gpus", "resource_per_worker"):
            positive(name, allow_zero=True)
        if self.num_cpus is not None:
            positive("num_cpus", allow_zero=True)
        for name in ("enabled", "create"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{source}: pool.{name} must be true or false, got {getattr(self, name)!r}")
        if self.resource is not None and (not isinstance(self.resource, str) or not self.resource):
            raise ValueError(f"{source}: pool.resource must be a resource name or null, got {self.resource!r}")
        if not self.name or not isinstance(self.name, str) or not isinstance(self.namespace, str):
            raise ValueError(f"{source}: pool.name and pool.namespace must be non-empty strings")
        if not isinstance(self.warm_languages, list):
            raise ValueError(f"{source}: pool.warm_languages must be a list, got {self.warm_languages!r}")

    def worker_options(self) -> dict[str, Any]:
        """Ray actor options of one RewardWorker."""
        uses_resource = bool(self.resource and self.resource_per_worker)
        num_cpus = self.num_cpus if self.num_cpus is not None else (0.0 if uses_resource else 1.0)
        opts: dict[str, Any] = {"num_cpus": num_cpus}
        if self.num_gpus:
            opts["num_gpus"] = self.num_gpus
        if uses_resource:
            opts["resources"] = {self.resource: self.resource_per_worker}
        return opts

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_blocks(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(vinci.pool, vinci.reward) mappings of a recipe YAML; a file without `vinci:` is read as a reward YAML
    that may carry a top-level `pool:` block."""
    from vinci_rl.train.vinci_block import read_vinci_block, read_yaml

    vinci = read_vinci_block(path)  # a recipe's block, composed as training composes it
    if vinci is not None:
        return dict(vinci.get("pool") or {}), dict(vinci.get("reward") or {})
    raw = dict(read_yaml(path) or {})
    pool = raw.pop("pool", None) or {}
    return dict(pool), raw
