"""RewardPool: the named async Ray actor that owns the RewardWorkers and routes samples to them.

    score(request) -> result dict          one sample; awaited by the reward manager as it streams in
    scale(n) / status() / metrics(reset, job) / worker_stats() / describe() / shutdown()

Routing (routing.py): one queue grouped by reference image, reference affinity, least-busy assignment of new
prompts, work stealing. Identical programs (language + extracted code + reference + ground truth) are scored
once: in-flight duplicates share one future, finished ones come from an LRU cache.

Faults (faults.py and `_run_batch` here). One batch is in flight per worker. A worker that dies is replaced and
its batch re-queued; a sample whose worker died `max_attempts` times gets status `worker_failure`. A batch that
overruns `sample_timeout_s x len` is cut: the worker's processes are killed, it is replaced, and the samples are
retried alone; a sample that overruns alone gets status `timeout`. Every request gets a result.

Metrics (pool_metrics.py): `reward_pool/...` per training job and for the whole pool.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
from collections import OrderedDict
from typing import Any

from reward_workers.config import PoolConfig
from reward_workers.faults import Slot, WorkerSet, _aw
from reward_workers.pool_metrics import PoolStats
from reward_workers.results import REWARD_ERROR, TIMEOUT, WORKER_FAILURE, failure_result
from reward_workers.routing import Job, Router, request_key
from reward_workers.worker import rss_bytes

logger = logging.getLogger(__name__)


def _canonical(value: Any) -> Any:
    """Numbers as floats, sequences as lists: 1 and 1.0, (1, 2) and [1, 2] mean the same setting."""
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def reward_fingerprint(reward_config: dict) -> str:
    """Stable hash of a reward config (after defaults/presets are applied), to detect a pool scoring differently."""
    from vinci_rl.reward.config import RewardConfig

    full = _canonical(RewardConfig.from_dict(reward_config).to_dict())
    return hashlib.sha1(json.dumps(full, sort_keys=True, default=str).encode()).hexdigest()[:16]


class RewardPool:
    def __init__(self, pool_config: dict, reward_config: dict):
        from vinci_rl.reward.config import RewardConfig

        self.cfg = PoolConfig.from_dict(pool_config, source="pool config")
        self.reward_dict = dict(reward_config or {})
        self.reward_cfg = RewardConfig.from_dict(self.reward_dict, source="pool reward config")
        self.fingerprint = reward_fingerprint(self.reward_dict)
        self.router = Router(self.cfg.max_batch_size)
        self.workers = WorkerSet(self.cfg, self.reward_dict, on_change=self._on_workers_changed,
                                 on_restart=lambda: self.stats.count("restarts"))  # fmt: skip
        self.stats = PoolStats()
        self._pending: dict[str, asyncio.Future] = {}
        self._cache: OrderedDict[str, dict] = OrderedDict()
        self.created_at = time.time()
        for _ in range(self.cfg.size):
            self.workers.add()

    # ---- public API ----------------------------------------------------------------------------------

    async def score(self, request: dict) -> dict:
        """Score one sample. request: response, lang, reference ([ObjectRef] or array), ref_key, ground_truth,
        gt_length, job (metrics bucket). Never raises for a bad sample: failures are statuses."""
        self.workers.start_watchers()
        t0 = time.monotonic()
        job_id = str(request.get("job") or "")
        self.stats.bucket(job_id)  # exists from now on: pool events count in it
        key = request_key(request, self.reward_cfg)
        cached = True
        if key in self._cache:
            self._cache.move_to_end(key)
            result = self._cache[key]
        elif key in self._pending:
            result = await asyncio.shield(self._pending[key])
        else:
            cached = False
            result = await self._score_new(key, request)
        latency = time.monotonic() - t0
        self.stats.record(job_id, result, latency, cached)
        return {**result, "cached": cached, "latency_s": latency}

    async def _score_new(self, key: str, request: dict) -> dict:
        fut = asyncio.get_running_loop().create_future()
        self._pending[key] = fut
        payload = {k: request.get(k) for k in ("response", "lang", "reference", "ground_truth", "gt_length", "return_render")}
        self._enqueue(Job(payload, key, str(request.get("ref_key") or key), fut))
        try:
            result = await fut
        finally:
            self._pending.pop(key, None)
        if result["status"] not in (WORKER_FAILURE, TIMEOUT, REWARD_ERROR) and self.cfg.result_cache_size:
            self._cache[key] = result
            while len(self._cache) > self.cfg.result_cache_size:
                self._cache.popitem(last=False)
        return result

    async def scale(self, size: int) -> int:
        """Set the number of workers. Growing starts workers now; shrinking retires idle workers first, busy
        ones when their batch is done (nothing in flight is lost)."""
        if not isinstance(size, int) or size < 0:
            raise ValueError(f"pool size must be an integer >= 0, got {size!r}")
        await self.workers.resize(size)
        self.cfg.size = size
        self._dispatch()
        return size

    async def wait_ready(self, n: int | None = None, timeout_s: float = 300.0) -> int:
        """Wait until n workers (default: all) are ready or failed; returns the number ready."""
        self.workers.start_watchers()
        deadline = time.monotonic() + timeout_s
        while True:
            slots = self.workers.live()
            ready = sum(s.state == "ready" for s in slots)
            want = len(slots) if n is None else n
            if ready >= want or all(s.state in ("ready", "failed") for s in slots) or time.monotonic() > deadline:
                return ready
            await asyncio.sleep(0.05)

    async def describe(self) -> dict:
        self.workers.start_watchers()
        return {
            "term_names": list(self.reward_cfg.weights),
            "failure_reward": float(self.reward_cfg.failure_reward),
            "reward_fingerprint": self.fingerprint,
            "pool_config": self.cfg.to_dict(),
        }

    async def reward_config(self) -> dict:
        return dict(self.reward_dict)

    async def status(self) -> dict:
        self.workers.start_watchers()
        workers = []
        for s in sorted(self.workers.slots.values(), key=lambda s: s.wid):
            workers.append({
                "worker_id": s.wid, "state": s.state, "busy": len(s.busy or ()), "restarts": s.restarts,
                "node_ip": s.info.get("node_ip"), "node_id": s.info.get("node_id"), "pid": s.info.get("pid"),
                "resources": s.info.get("resources", {}), "error": s.error,
            })  # fmt: skip
        return {
            "name": self.cfg.name,
            "namespace": self.cfg.namespace,
            "size": self.cfg.size,
            "ready": self.workers.count("ready"),
            "queued": self.router.queued(),
            "in_flight": self.workers.in_flight(),
            "uptime_s": time.time() - self.created_at,
            "samples": self.stats.pool.samples,
            "reward_fingerprint": self.fingerprint,
            "pool_pid": os.getpid(),
            "pool_rss_bytes": rss_bytes(os.getpid(), children=False),
            "worker_options": self.cfg.worker_options(),
            "workers": workers,
        }

    async def history(self) -> list[dict]:
        """One entry per worker actor ever started: worker_id, generation, node_id, pid, started_at, ready_at,
        ended_at, end (why it ended)."""
        return [dict(r) for r in self.workers.history]

    async def metrics(self, reset: bool = False, job: str | None = None) -> dict[str, float]:
        """Step metrics under `reward_pool/`: failure rate per status, latency p50/p95, queue depth, cache hit rate,
        retries, timeouts, worker restarts. job: one training job's bucket (None: the whole pool)."""
        self.workers.start_watchers()
        return self.stats.step_metrics(
            str(job or ""), self._depth(), self.workers.count("ready"), self.workers.count("starting"), reset
        )

    async def worker_stats(self) -> list[dict]:
        """Each ready worker's counters (scored samples, batches, encoder forward calls / crops / cache hits, RSS)."""
        slots = [s for s in self.workers.slots.values() if s.state in ("ready", "draining")]
        refs = [s.handle.stats.remote() for s in slots]
        out = []
        for slot, ref in zip(slots, refs):
            try:
                out.append(await ref)
            except Exception as e:  # a worker that just died: report it, do not fail the call
                out.append({"worker_id": slot.wid, "error": f"{type(e).__name__}: {e}"})
        return out

    async def worker_handles(self) -> dict[int, Any]:
        """worker id -> actor handle of every worker (fault drills: `ray.kill` one and watch the pool recover)."""
        return {s.wid: s.handle for s in self.workers.slots.values()}

    async def shutdown(self) -> None:
        """Close every worker (renderers stopped) and kill it; queued samples get worker_failure."""
        for slot in list(self.workers.slots.values()):
            await self.workers.retire(slot)
        self._fail_queue("pool shut down")

    # ---- queue and dispatch --------------------------------------------------------------------------

    def _depth(self) -> int:
        return self.router.queued() + self.workers.in_flight()

    def _enqueue(self, job: Job, front: bool = False) -> None:
        self.router.enqueue(job, front)
        self.stats.note_depth(self._depth())
        if self.workers.all_failed():
            self._fail_queue("no worker could start: " + "; ".join(f"worker {s.wid}: {s.error}" for s in self.workers.slots.values()))
        self._dispatch()

    def _on_workers_changed(self) -> None:
        if self.workers.all_failed():
            self._fail_queue("no worker could start: " + "; ".join(f"worker {s.wid}: {s.error}" for s in self.workers.slots.values()))
        self._dispatch()

    def _fail_queue(self, message: str) -> None:
        for job in self.router.drain():
            self._finish(job, failure_result(WORKER_FAILURE, self._fail_value(WORKER_FAILURE), message))

    def _dispatch(self) -> None:
        # least busy first: idle ready workers, lowest id first (deterministic)
        slots = sorted(self.workers.slots.values(), key=lambda s: s.wid)
        for slot in slots:
            if not self.router.has_work():
                return
            if slot.state != "ready" or slot.busy is not None:
                continue
            batch = self.router.take(slot, slots)
            if batch:
                slot.busy = batch
                for job in batch:
                    job.sent += 1
                asyncio.get_running_loop().create_task(self._run_batch(slot, batch))

    async def _run_batch(self, slot: Slot, batch: list[Job]) -> None:
        from ray.exceptions import RayActorError, RayTaskError

        generation = slot.generation
        deadline = self.cfg.sample_timeout_s * len(batch)
        try:
            results = await asyncio.wait_for(_aw(slot.handle.score_batch.remote([j.payload for j in batch])), deadline)
        except asyncio.TimeoutError:
            self.stats.count("timeouts")
            await self.workers.replace(slot, f"batch of {len(batch)} ran past {deadline:.0f} s", kill_children=True)
            self._timed_out(batch)
        except RayTaskError as e:  # score_batch itself raised (the worker is alive): retry, then reward_error
            self._failed_attempt(batch, REWARD_ERROR, f"worker {slot.wid}: {e}"[-2000:])
        except (RayActorError, Exception) as e:  # the worker died (killed, OOM, node lost)
            if slot.generation == generation:
                await self.workers.replace(slot, f"died: {type(e).__name__}", kill_children=False)
            self._failed_attempt(batch, WORKER_FAILURE, f"worker {slot.wid} died: {type(e).__name__}: {e}"[-2000:])
        else:
            for job, result in zip(batch, results, strict=True):
                self._finish(job, result)
            if slot.generation == generation:
                slot.busy = None
                if slot.state == "draining":
                    await self.workers.retire(slot)
        finally:
            if slot.generation == generation:
                slot.busy = None
            self._dispatch()

    def _timed_out(self, batch: list[Job]) -> None:
        for job in batch:
            if len(batch) == 1:
                msg = f"no result within pool.sample_timeout_s={self.cfg.sample_timeout_s} s; worker restarted"
                self._finish(job, failure_result(TIMEOUT, self._fail_value(TIMEOUT), msg))
            else:
                job.solo = True
                self._retry(job)

    def _failed_attempt(self, batch: list[Job], status: str, message: str) -> None:
        for job in batch:
            job.attempts += 1
            if job.attempts >= self.cfg.max_attempts:
                msg = f"{message} (after {job.attempts} attempts)"
                self._finish(job, failure_result(status, self._fail_value(status), msg))
            else:
                job.solo = job.solo or status == REWARD_ERROR
                self._retry(job)

    def _retry(self, job: Job) -> None:
        self.stats.count("retries")
        self._enqueue(job, front=True)

    def _finish(self, job: Job, result: dict) -> None:
        if not job.future.done():
            result = dict(result)
            result["attempts"] = job.sent
            job.future.set_result(result)

    def _fail_value(self, status: str) -> float:
        return self.reward_cfg.failure_value(status)

