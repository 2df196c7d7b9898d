"""The caller's side of the pool: build requests, stream them in asynchronously, read metrics.

    client = PoolClient(PoolConfig(size=2, resource=None), reward_config_dict)   # finds or creates the pool
    result = await client.score(response, "svg", reference_array, ground_truth=gt)  # a RewardResult
    client.metrics(reset=True)  # {"reward_pool/latency_p50_s": ..., ...}

The reference image is put in Ray's object store once per distinct image (hash -> ObjectRef, LRU) and shipped by
reference: n rollouts of one prompt share one copy, and the pool routes by the hash (affinity). A sample whose
pool call fails or runs past `request_timeout_s` gets status `worker_failure` and the failure reward: callers
always get a result.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

import numpy as np

from reward_workers.config import PoolConfig
from reward_workers.deployment import check_reward_config, find_pool, get_or_create_pool
from reward_workers.results import WORKER_FAILURE, failure_result

logger = logging.getLogger(__name__)

REFERENCE_REFS_KEPT = 256


def current_job_id() -> str:
    import ray

    try:
        return ray.get_runtime_context().get_job_id() or ""
    except Exception:  # not connected to Ray: no job bucket
        return ""


class PoolClient:
    def __init__(self, pool_cfg: PoolConfig, reward_config: dict | None = None, handle: Any = None):
        import ray

        self.cfg = pool_cfg
        self._reward_config = dict(reward_config or {})
        self.handle = handle if handle is not None else get_or_create_pool(pool_cfg, self._reward_config)
        if reward_config is not None:  # a pool scoring with another reward config is refused, naming both
            check_reward_config(self.handle, pool_cfg, self._reward_config)
        desc = ray.get(self.handle.describe.remote(), timeout=120)
        self.term_names: list[str] = list(desc["term_names"])
        self.failure_reward = float(desc["failure_reward"])
        self.job = current_job_id()
        self._refs: OrderedDict[str, Any] = OrderedDict()

    def request(self, response: str, lang: str, reference: Any, ground_truth: str | None = None, gt_length: int | None = None,
                return_render: bool = False) -> dict:  # fmt: skip
        import ray

        from vinci_rl.reward.image import image_key, to_rgb

        ref = to_rgb(reference)
        key = image_key(ref)
        obj = self._refs.get(key)
        if obj is None:
            obj = self._refs[key] = ray.put(np.ascontiguousarray(ref))
            while len(self._refs) > REFERENCE_REFS_KEPT:
                self._refs.popitem(last=False)
        self._refs.move_to_end(key)
        return {
            "response": response, "lang": lang, "reference": [obj], "ref_key": key,
            "ground_truth": ground_truth, "gt_length": gt_length, "job": self.job,
            **({"return_render": True} if return_render else {}),
        }  # fmt: skip

    async def score_request(self, request: dict) -> dict:
        """Await the pool's result for one request without blocking the event loop; never raises for pool faults."""
        from ray.exceptions import RayActorError

        for attempt in range(2):
            try:
                return await asyncio.wait_for(_aw(self.handle.score.remote(request)), self.cfg.request_timeout_s)
            except asyncio.TimeoutError:
                msg = f"no result from reward pool '{self.cfg.name}' within pool.request_timeout_s={self.cfg.request_timeout_s} s"
                break
            except RayActorError as e:  # the pool itself is gone (its owner job ended, or it was stopped)
                msg = f"reward pool '{self.cfg.name}' died: {e}"
                if attempt == 0:
                    logger.warning("%s; looking it up again", msg)
                    self.handle = get_or_create_pool(self.cfg, self._reward_config)
                    continue
        logger.error(msg)
        return failure_result(WORKER_FAILURE, self.failure_reward, msg)

    async def score(self, response: str, lang: str, reference: Any, ground_truth: str | None = None, gt_length: int | None = None,
                    return_render: bool = False) -> Any:  # fmt: skip
        """One sample -> vinci_rl.reward.RewardResult (timings carry the pool's latency_s; with return_render, its
        `render` is the answer's render when there was one)."""
        out = await self.score_request(self.request(response, lang, reference, ground_truth, gt_length, return_render))
        return to_reward_result(out)

    def score_many(self, samples: list[dict]) -> list[dict]:
        """Blocking batch helper (benchmarks, scripts): samples are dicts of request() arguments."""
        import ray

        refs = [self.handle.score.remote(self.request(**s)) for s in samples]
        return ray.get(refs)

    def metrics(self, reset: bool = False, whole_pool: bool = False) -> dict[str, float]:
        import ray

        return ray.get(self.handle.metrics.remote(reset=reset, job=None if whole_pool else self.job), timeout=60)


def to_reward_result(out: dict) -> Any:
    from vinci_rl.reward.scorer import RewardResult

    timings = dict(out.get("timings") or {})
    if "latency_s" in out:
        timings["pool_latency_s"] = float(out["latency_s"])
    result = RewardResult(float(out["overall"]), dict(out.get("terms") or {}), str(out["status"]), str(out.get("message", "")), timings,
                        list(out.get("missing_resources") or []), bool(out.get("weighted", False)))
    if out.get("render_png"):
        from vinci_rl.reward.image import to_rgb

        result.render = to_rgb(out["render_png"])
    return result


class PoolScoringBackend:
    """The `vinci` reward manager's backend when vinci.pool.enabled: each sample goes to the pool."""

    def __init__(self, pool_cfg: PoolConfig, reward_config: dict):
        from vinci_rl.reward.config import RewardConfig

        self.client = PoolClient(pool_cfg, reward_config)
        self.config = RewardConfig.from_dict(reward_config, source="recipe vinci.reward")
        self.length_unit = self.config.length.unit

    @property
    def term_names(self) -> list[str]:
        return self.client.term_names

    @property
    def failure_reward(self) -> float:
        return self.client.failure_reward

    async def score(self, response: str, inputs: Any, return_render: bool = False) -> Any:
        gt_length = inputs.gt_length(self.length_unit)
        return await self.client.score(response, inputs.language, inputs.reference, inputs.ground_truth, gt_length,
                                       return_render)  # fmt: skip


_metrics_handles: dict[tuple[str, str], Any] = {}


def pool_step_metrics(config: Any) -> dict[str, float]:
    """The trainer's per-step `reward_pool/...` metrics (reset after reading) for this job; {} without a pool."""
    import ray
    from ray.exceptions import RayError

    from reward_workers.config import PoolConfig
    from vinci_rl.train.vinci_block import vinci_block

    cfg = PoolConfig.from_dict(vinci_block(config).get("pool") or {})
    if not cfg.enabled:
        return {}
    key = (cfg.name, cfg.namespace)
    handle = _metrics_handles.get(key) or find_pool(cfg)
    if handle is None:
        return {}
    _metrics_handles[key] = handle
    try:
        return ray.get(handle.metrics.remote(reset=True, job=current_job_id()), timeout=60)
    except RayError as e:  # metrics are not worth failing a step for: log it, report none
        _metrics_handles.pop(key, None)
        logger.warning("reading reward pool metrics failed: %s", e)
        return {}


async def _aw(ref: Any) -> Any:
    return await ref
