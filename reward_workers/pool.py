"""RewardPool: the named async Ray actor that owns the RewardWorkers and routes samples to them.

    score(request) -> result dict          one sample; awaited by the reward manager as it streams in
    scale(n) / status() / metrics(reset, job) / worker_stats() / describe() / shutdown()

Routing. Samples wait in one queue, grouped by reference image (`ref_key`, a hash the client computes). A free
worker takes, in order: a sample to retry alone; samples of references it already holds (affinity: their
features are in its encoder cache); samples of references no live worker holds (which it then holds); and only
when idle, a group too large for its holder's next batch (work stealing). So a group of n rollouts of one prompt
goes to one worker and its encoder runs on n + 1 images, and the least-busy worker always takes new prompts.
Identical programs (language + extracted code + reference + ground truth) are scored once: in-flight duplicates
share one future, finished ones come from an LRU cache.

Faults. One batch is in flight per worker. A worker that dies is replaced and its batch re-queued; a sample whose
worker died `max_attempts` times gets status `worker_failure`. A batch that overruns `sample_timeout_s x len`
is cut: the worker's processes are killed, it is replaced, and the samples are retried alone; a sample that
overruns alone gets status `timeout`. Every request gets a result.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reward_workers.config import PoolConfig
from reward_workers.results import ALL_STATUSES, REWARD_ERROR, TIMEOUT, WORKER_FAILURE, failure_result

logger = logging.getLogger(__name__)

PREFIX = "reward_pool/"
LATENCY_WINDOW = 20_000  # latencies kept per metrics bucket between resets
AFFINITY_KEEP = 4096  # reference groups remembered per worker


def reward_fingerprint(reward_config: dict) -> str:
    """Stable hash of a reward config (after defaults/presets are applied), to detect a pool scoring differently."""
    from vinci_rl.reward.config import RewardConfig

    full = RewardConfig.from_dict(reward_config).to_dict()
    return hashlib.sha1(json.dumps(full, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class _Job:
    payload: dict  # what the worker needs: response, lang, reference ([ObjectRef] or array), ground truth
    key: str
    ref_key: str
    future: asyncio.Future
    attempts: int = 0  # failed attempts (worker died / scoring raised)
    sent: int = 0  # times sent to a worker
    solo: bool = False


@dataclass
class _Slot:
    wid: int
    handle: Any = None
    ready: bool = False
    state: str = "starting"  # starting | ready | failed | draining
    busy: list[_Job] | None = None
    info: dict = field(default_factory=dict)
    refs: OrderedDict = field(default_factory=OrderedDict)  # reference groups this worker holds (affinity)
    restarts: int = 0
    error: str = ""
    generation: int = 0  # bumps on restart: stale completions of an old handle are ignored


class _Stats:
    def __init__(self) -> None:
        self.samples = 0
        self.status: Counter = Counter()
        self.latencies: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self.cache_hits = 0
        self.retries = 0
        self.timeouts = 0
        self.restarts = 0
        self.queue_max = 0

    def record(self, result: dict, latency: float, cached: bool) -> None:
        self.samples += 1
        self.status[result["status"]] += 1
        self.latencies.append(latency)
        self.cache_hits += int(cached)


class RewardPool:
    def __init__(self, pool_config: dict, reward_config: dict):
        from vinci_rl.reward.config import RewardConfig

        self.cfg = PoolConfig.from_dict(pool_config, source="pool config")
        self.reward_dict = dict(reward_config or {})
        self.reward_cfg = RewardConfig.from_dict(self.reward_dict, source="pool reward config")
        self.fingerprint = reward_fingerprint(self.reward_dict)
        self._slots: dict[int, _Slot] = {}
        self._next_wid = 0
        self._groups: OrderedDict[str, deque[_Job]] = OrderedDict()  # ref_key -> waiting jobs, oldest group first
        self._solo: deque[_Job] = deque()
        self._pending: dict[str, asyncio.Future] = {}
        self._cache: OrderedDict[str, dict] = OrderedDict()
        self._stats: dict[str, _Stats] = {"": _Stats()}
        self._watchers: set[asyncio.Task] = set()
        self._unstarted: list[_Slot] = []
        self._worker_cls = None
        self.created_at = time.time()
        for _ in range(self.cfg.size):
            self._add_slot()

    # ---- public API ----------------------------------------------------------------------------------

    async def score(self, request: dict) -> dict:
        """Score one sample. request: response, lang, reference ([ObjectRef] or array), ref_key, ground_truth,
        gt_length, job (metrics bucket). Never raises for a bad sample: failures are statuses."""
        self._start_watchers()
        t0 = time.monotonic()
        bucket = self._bucket(str(request.get("job") or ""))  # exists from now on: pool events count in it
        key = self._request_key(request)
        cached = True
        if key in self._cache:
            self._cache.move_to_end(key)
            result = self._cache[key]
        elif key in self._pending:
            result = await asyncio.shield(self._pending[key])
        else:
            cached = False
            fut = asyncio.get_running_loop().create_future()
            self._pending[key] = fut
            payload = {k: request.get(k) for k in ("response", "lang", "reference", "ground_truth", "gt_length")}
            self._enqueue(_Job(payload, key, str(request.get("ref_key") or key), fut))
            try:
                result = await fut
            finally:
                self._pending.pop(key, None)
            if result["status"] not in (WORKER_FAILURE, TIMEOUT, REWARD_ERROR) and self.cfg.result_cache_size:
                self._cache[key] = result
                while len(self._cache) > self.cfg.result_cache_size:
                    self._cache.popitem(last=False)
        latency = time.monotonic() - t0
        for st in {id(b): b for b in (self._stats[""], bucket)}.values():
            st.record(result, latency, cached)
        return {**result, "cached": cached, "latency_s": latency}

    async def score_many(self, requests: list[dict]) -> list[dict]:
        return list(await asyncio.gather(*(self.score(r) for r in requests)))

    async def scale(self, size: int) -> int:
        """Set the number of workers. Growing starts workers now; shrinking retires idle workers first, busy
        ones when their batch is done (nothing in flight is lost)."""
        if not isinstance(size, int) or size < 0:
            raise ValueError(f"pool size must be an integer >= 0, got {size!r}")
        self._start_watchers()
        live = [s for s in self._slots.values() if s.state != "draining"]
        for _ in range(size - len(live)):
            self._add_slot()
        if size < len(live):
            # retire: failed first, then starting, then idle, then busy ones (those drain)
            order = {"failed": 0, "starting": 1, "ready": 2}
            victims = sorted(live, key=lambda s: (order.get(s.state, 3), s.busy is not None, -s.wid))[: len(live) - size]
            for slot in victims:
                if slot.busy is None:
                    await self._retire(slot)
                else:
                    slot.state = "draining"
        self.cfg.size = size
        self._start_watchers()
        self._dispatch()
        return size

    async def wait_ready(self, n: int | None = None, timeout_s: float = 300.0) -> int:
        """Wait until n workers (default: all) are ready or failed; returns the number ready."""
        self._start_watchers()
        deadline = time.monotonic() + timeout_s
        while True:
            slots = [s for s in self._slots.values() if s.state != "draining"]
            ready = sum(s.state == "ready" for s in slots)
            want = len(slots) if n is None else n
            if ready >= want or all(s.state in ("ready", "failed") for s in slots) or time.monotonic() > deadline:
                return ready
            await asyncio.sleep(0.05)

    async def describe(self) -> dict:
        return {
            "term_names": list(self.reward_cfg.weights),
            "failure_reward": float(self.reward_cfg.failure_reward),
            "reward_fingerprint": self.fingerprint,
            "pool_config": self.cfg.to_dict(),
        }

    async def reward_config(self) -> dict:
        return dict(self.reward_dict)

    async def status(self) -> dict:
        workers = []
        for s in sorted(self._slots.values(), key=lambda s: s.wid):
            workers.append({
                "worker_id": s.wid, "state": s.state, "busy": len(s.busy or ()), "restarts": s.restarts,
                "node_ip": s.info.get("node_ip"), "pid": s.info.get("pid"), "resources": s.info.get("resources", {}),
                "error": s.error,
            })  # fmt: skip
        return {
            "name": self.cfg.name,
            "namespace": self.cfg.namespace,
            "size": self.cfg.size,
            "ready": sum(s.state == "ready" for s in self._slots.values()),
            "queued": self._queued(),
            "in_flight": sum(len(s.busy or ()) for s in self._slots.values()),
            "uptime_s": time.time() - self.created_at,
            "samples": self._stats[""].samples,
            "worker_options": self.cfg.worker_options(),
            "workers": workers,
        }

    async def metrics(self, reset: bool = False, job: str | None = None) -> dict[str, float]:
        """Step metrics under `reward_pool/`: failure rate per status, latency p50/p95, queue depth, cache hit rate,
        retries, timeouts, worker restarts. job: one training job's bucket (None: the whole pool)."""
        key = str(job or "")
        st = self._bucket(key)
        out: dict[str, float] = {
            "samples": float(st.samples),
            "queue_depth": float(self._queued() + sum(len(s.busy or ()) for s in self._slots.values())),
            "queue_depth_max": float(self._stats[""].queue_max),
            "workers": float(sum(s.state == "ready" for s in self._slots.values())),
            "workers_pending": float(sum(s.state == "starting" for s in self._slots.values())),
            "cache_hit_rate": st.cache_hits / st.samples if st.samples else 0.0,
            "retries": float(st.retries),
            "timeouts": float(st.timeouts),
            "worker_restarts": float(st.restarts),
        }
        lat = np.asarray(st.latencies, dtype=float)
        out["latency_p50_s"] = float(np.percentile(lat, 50)) if lat.size else 0.0
        out["latency_p95_s"] = float(np.percentile(lat, 95)) if lat.size else 0.0
        failed = sum(n for s, n in st.status.items() if s != "ok")
        out["fail_rate"] = failed / st.samples if st.samples else 0.0
        for status in ALL_STATUSES:
            if status != "ok":
                out[f"fail_rate/{status}"] = st.status.get(status, 0) / st.samples if st.samples else 0.0
        if reset:
            self._stats[key] = _Stats()
            if key:  # pool-wide counters of the step are reset with the job's (one job per pool is the common case)
                self._stats[""].queue_max = 0
        return {PREFIX + k: v for k, v in out.items()}

    async def worker_stats(self) -> list[dict]:
        """Each ready worker's counters (scored samples, batches, encoder forward calls / crops / cache hits)."""
        slots = [s for s in self._slots.values() if s.state in ("ready", "draining")]
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
        return {s.wid: s.handle for s in self._slots.values()}

    async def shutdown(self) -> None:
        """Close every worker (renderers stopped) and kill it; queued samples get worker_failure."""
        for slot in list(self._slots.values()):
            await self._retire(slot)
        for job in self._drain_queue():
            self._finish(job, failure_result(WORKER_FAILURE, self._fail_value(WORKER_FAILURE), "pool shut down"))

    # ---- workers -------------------------------------------------------------------------------------

    def _add_slot(self) -> _Slot:
        slot = _Slot(self._next_wid)
        self._next_wid += 1
        self._slots[slot.wid] = slot
        self._spawn(slot)
        return slot

    def _spawn(self, slot: _Slot) -> None:
        import ray

        from reward_workers.worker import RewardWorker

        if self._worker_cls is None:
            self._worker_cls = ray.remote(RewardWorker)
        slot.generation += 1
        slot.state, slot.ready, slot.busy, slot.info = "starting", False, None, {}
        slot.refs.clear()
        slot.handle = self._worker_cls.options(max_concurrency=2, **self.cfg.worker_options()).remote(
            self.reward_dict, list(self.cfg.warm_languages), slot.wid
        )
        self._unstarted.append(slot)

    def _start_watchers(self) -> None:
        """Start the readiness watch of new workers (needs the running loop, so not done in __init__)."""
        while self._unstarted:
            slot = self._unstarted.pop()
            task = asyncio.get_running_loop().create_task(self._watch_ready(slot, slot.generation))
            self._watchers.add(task)
            task.add_done_callback(self._watchers.discard)

    async def _watch_ready(self, slot: _Slot, generation: int) -> None:
        ref = slot.handle.ready.remote()
        try:
            try:
                info = await asyncio.wait_for(asyncio.shield(_aw(ref)), self.cfg.start_timeout_s)
            except asyncio.TimeoutError:
                slot.error = f"not ready after {self.cfg.start_timeout_s:.0f} s: waiting for resources {self.cfg.worker_options()}"
                logger.warning("reward pool: worker %d %s", slot.wid, slot.error)
                self._release_refs(slot)
                info = await _aw(ref)
        except Exception as e:  # the worker's constructor raised (bad weights path, ...): do not restart in a loop
            if slot.generation == generation and slot.wid in self._slots:
                slot.state, slot.error = "failed", f"{type(e).__name__}: {e}"[-2000:]
                logger.error("reward pool: worker %d failed to start: %s", slot.wid, slot.error)
                self._fail_if_no_workers()
            return
        if slot.generation != generation or slot.wid not in self._slots:
            return
        slot.info, slot.error = info, ""
        if slot.state == "starting":
            slot.state, slot.ready = "ready", True
        self._dispatch()

    async def _retire(self, slot: _Slot) -> None:
        import ray

        self._slots.pop(slot.wid, None)
        if slot.state == "ready" or slot.state == "draining":
            try:
                await asyncio.wait_for(_aw(slot.handle.close.remote()), 30)
            except Exception as e:  # a worker that cannot close cleanly is killed below anyway
                logger.warning("reward pool: worker %d did not close cleanly: %s", slot.wid, e)
        ray.kill(slot.handle, no_restart=True)
        slot.generation += 1

    async def _replace(self, slot: _Slot, reason: str, kill_children: bool) -> None:
        """A worker died or hung: kill what is left of it and start a fresh one in its slot."""
        import ray

        old = slot.handle
        slot.restarts += 1
        self._count("restarts")
        logger.warning("reward pool: replacing worker %d (%s)", slot.wid, reason)
        if kill_children:
            try:
                await asyncio.wait_for(_aw(old.kill_children.remote()), 5)
            except Exception:  # the worker may be gone already: nothing left to kill
                pass
        ray.kill(old, no_restart=True)
        if slot.state == "draining" or slot.wid not in self._slots:
            self._slots.pop(slot.wid, None)
            return
        self._spawn(slot)
        self._start_watchers()

    def _release_refs(self, slot: _Slot) -> None:
        slot.refs.clear()
        self._dispatch()

    def _fail_if_no_workers(self) -> None:
        if self._slots and all(s.state == "failed" for s in self._slots.values()):
            errors = "; ".join(f"worker {s.wid}: {s.error}" for s in self._slots.values())
            for job in self._drain_queue():
                self._finish(job, failure_result(WORKER_FAILURE, self._fail_value(WORKER_FAILURE), f"no worker could start: {errors}"))

    # ---- queue and dispatch --------------------------------------------------------------------------

    def _request_key(self, request: dict) -> str:
        from vinci_rl.reward.extract import extract_code

        lang = str(request.get("lang"))
        lcfg = self.reward_cfg.language
        ex = extract_code(str(request.get("response", "")), lang, lcfg.aliases, lcfg.on_missing)
        gt = request.get("ground_truth")
        parts = [lang, ex.code, ex.fence_ok, ex.status, request.get("ref_key"), request.get("gt_length"),
                 hashlib.sha1(gt.encode()).hexdigest() if isinstance(gt, str) else None]  # fmt: skip
        if not request.get("ref_key"):  # no reference hash: never share results
            parts.append(id(request))
        return hashlib.sha1(json.dumps(parts, default=str).encode()).hexdigest()

    def _enqueue(self, job: _Job, front: bool = False) -> None:
        if job.solo:
            (self._solo.appendleft if front else self._solo.append)(job)
        else:
            group = self._groups.get(job.ref_key)
            if group is None:
                group = self._groups[job.ref_key] = deque()
                if front:
                    self._groups.move_to_end(job.ref_key, last=False)
            (group.appendleft if front else group.append)(job)
        st = self._stats[""]
        st.queue_max = max(st.queue_max, self._queued() + sum(len(s.busy or ()) for s in self._slots.values()))
        self._fail_if_no_workers()
        self._dispatch()

    def _queued(self) -> int:
        return len(self._solo) + sum(len(g) for g in self._groups.values())

    def _drain_queue(self) -> list[_Job]:
        jobs = list(self._solo) + [j for g in self._groups.values() for j in g]
        self._solo.clear()
        self._groups.clear()
        return jobs

    def _holder(self, ref_key: str) -> _Slot | None:
        for s in self._slots.values():
            if s.state == "ready" and ref_key in s.refs:
                return s
        return None

    def _take(self, slot: _Slot) -> list[_Job]:
        if self._solo:
            return [self._solo.popleft()]
        limit = self.cfg.max_batch_size
        batch: list[_Job] = []
        # Another idle worker: take at most one new prompt, so new prompts spread over the idle workers.
        others_idle = any(s is not slot and s.state == "ready" and s.busy is None for s in self._slots.values())
        # 1. groups this worker holds, 2. groups nobody live holds (oldest first)
        for own in (True, False):
            for ref_key in list(self._groups):
                if len(batch) >= limit or (not own and others_idle and batch):
                    break
                holder = self._holder(ref_key)
                if (holder is slot) if own else (holder is None):
                    self._take_group(slot, ref_key, batch, limit)
        if not batch:  # 3. idle: steal a group its holder cannot take in its next batch anyway
            for ref_key, group in list(self._groups.items()):
                if len(group) >= limit:
                    holder = self._holder(ref_key)
                    if holder is not None:
                        holder.refs.pop(ref_key, None)
                    self._take_group(slot, ref_key, batch, limit)
                    break
        return batch

    def _take_group(self, slot: _Slot, ref_key: str, batch: list[_Job], limit: int) -> None:
        group = self._groups[ref_key]
        while group and len(batch) < limit:
            batch.append(group.popleft())
        if not group:
            del self._groups[ref_key]
        slot.refs[ref_key] = True
        slot.refs.move_to_end(ref_key)
        while len(slot.refs) > AFFINITY_KEEP:
            slot.refs.popitem(last=False)

    def _dispatch(self) -> None:
        # least busy first: idle ready workers, lowest id first (deterministic)
        for slot in sorted(self._slots.values(), key=lambda s: s.wid):
            if not (self._solo or self._groups):
                return
            if slot.state != "ready" or slot.busy is not None:
                continue
            batch = self._take(slot)
            if batch:
                slot.busy = batch
                for job in batch:
                    job.sent += 1
                asyncio.get_running_loop().create_task(self._run_batch(slot, batch))

    async def _run_batch(self, slot: _Slot, batch: list[_Job]) -> None:
        from ray.exceptions import RayActorError, RayTaskError

        generation = slot.generation
        deadline = self.cfg.sample_timeout_s * len(batch)
        try:
            results = await asyncio.wait_for(_aw(slot.handle.score_batch.remote([j.payload for j in batch])), deadline)
        except asyncio.TimeoutError:
            self._count("timeouts")
            await self._replace(slot, f"batch of {len(batch)} ran past {deadline:.0f} s", kill_children=True)
            for job in batch:
                if len(batch) == 1:
                    msg = f"no result within pool.sample_timeout_s={self.cfg.sample_timeout_s} s; worker restarted"
                    self._finish(job, failure_result(TIMEOUT, self._fail_value(TIMEOUT), msg))
                else:
                    job.solo = True
                    self._retry(job, front=True)
        except RayTaskError as e:  # score_batch itself raised (the worker is alive): retry, then reward_error
            self._failed_attempt(batch, REWARD_ERROR, f"worker {slot.wid}: {e}"[-2000:])
        except (RayActorError, Exception) as e:  # the worker died (killed, OOM, node lost)
            if slot.generation == generation:
                await self._replace(slot, f"{type(e).__name__}", kill_children=False)
            self._failed_attempt(batch, WORKER_FAILURE, f"worker {slot.wid} died: {type(e).__name__}: {e}"[-2000:])
        else:
            for job, result in zip(batch, results, strict=True):
                self._finish(job, result)
            if slot.generation == generation:
                slot.busy = None
                if slot.state == "draining":
                    await self._retire(slot)
        finally:
            if slot.generation == generation:
                slot.busy = None
            self._dispatch()

    def _failed_attempt(self, batch: list[_Job], status: str, message: str) -> None:
        for job in batch:
            job.attempts += 1
            if job.attempts >= self.cfg.max_attempts:
                msg = f"{message} (after {job.attempts} attempts)"
                self._finish(job, failure_result(status, self._fail_value(status), msg))
            else:
                job.solo = job.solo or status == REWARD_ERROR
                self._retry(job, front=True)

    def _retry(self, job: _Job, front: bool) -> None:
        self._count("retries")
        self._enqueue(job, front=front)

    def _finish(self, job: _Job, result: dict) -> None:
        if not job.future.done():
            result = dict(result)
            result["attempts"] = job.sent
            job.future.set_result(result)

    def _fail_value(self, status: str) -> float:
        return self.reward_cfg.failure_value(status)

    def _count(self, counter: str) -> None:
        """Pool-wide events (retries, timeouts, restarts) are counted in every metrics bucket."""
        for st in self._stats.values():
            setattr(st, counter, getattr(st, counter) + 1)

    def _bucket(self, key: str) -> _Stats:
        if key not in self._stats:
            self._stats[key] = _Stats()
        return self._stats[key]


async def _aw(ref: Any) -> Any:
    """Await a Ray ObjectRef without blocking the event loop."""
    return await ref
