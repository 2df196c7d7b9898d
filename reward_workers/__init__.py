"""reward_workers: an independently scaled Ray pool of warm reward actors, streamed per sample into verl.

- `RewardWorker` (worker.py): a Ray actor with a warm VisualScorer (renderers + DINOv2); scores batches.
- `RewardPool` (pool.py): the named async actor owning the workers: result cache, retries, timeouts, `scale(n)`;
  its queue and routing rules in routing.py (reference affinity, least-busy, stealing), its workers' start, death
  and replacement in faults.py, its `reward_pool/...` metrics in pool_metrics.py.
- deployment.py: find / create / start / scale / stop the pool on a cluster (`vinci-rl workers ...`).
- client.py: `PoolClient` (requests, async scoring, metrics) and the `vinci` reward manager's pool backend.
- `PoolConfig` (config.py): the recipe's `vinci.pool` block.
"""

from reward_workers.client import PoolClient, PoolScoringBackend, pool_step_metrics
from reward_workers.config import PoolConfig
from reward_workers.deployment import PoolConfigMismatch, PoolNotFound, find_pool, get_or_create_pool, start_pool, stop_pool

__all__ = [
    "PoolClient",
    "PoolConfig",
    "PoolConfigMismatch",
    "PoolNotFound",
    "PoolScoringBackend",
    "find_pool",
    "get_or_create_pool",
    "pool_step_metrics",
    "start_pool",
    "stop_pool",
]
