"""The pool's workers and what happens when they fail: start, readiness, replacement, retirement.

- A worker whose constructor raises (bad weights path, bad reward config) is marked `failed` and not restarted
  in a loop; when every worker has failed, the queue gets `worker_failure` at once (nothing waits forever).
- A worker that dies for any other reason — killed, out of memory, its node lost, even while still starting
  (a replacement placed on a node that is dying but not yet marked dead) — is started again in its slot, with
  a growing pause (BACKOFF_S) while it keeps dying before it is ready. With too few resources left it waits,
  `starting`, until a node offering them (re)joins: capacity comes back on its own.
- A worker that hangs is killed together with every process it started, then replaced.

Workers are spread over the nodes that offer their resources (Ray's SPREAD), so losing a node loses as few as
possible. `history` keeps one entry per worker actor ever started (slot, node, pid, start/ready/end, why it
ended): the cluster drill checks every worker's node from it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

from reward_workers.config import PoolConfig

logger = logging.getLogger(__name__)

BACKOFF_S = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)  # pause before restart n of a worker that died before it was ready
HISTORY_KEEP = 10_000


@dataclass
class Slot:
    wid: int
    handle: Any = None
    ready: bool = False
    state: str = "starting"  # starting | ready | failed | draining
    busy: list | None = None
    info: dict = field(default_factory=dict)
    refs: OrderedDict = field(default_factory=OrderedDict)  # reference groups this worker holds (affinity)
    restarts: int = 0
    start_failures: int = 0  # deaths before ready since the last ready (drives the backoff)
    error: str = ""
    generation: int = 0  # bumps on restart: stale completions of an old handle are ignored
    record: dict | None = None  # this actor's history entry


def is_permanent_start_failure(exc: BaseException) -> bool:
    """True when a worker cannot start because of what it was given (its constructor raised, or its runtime env
    cannot be set up), as opposed to dying for a reason outside it (killed, node lost)."""
    from ray.exceptions import RayActorError, RuntimeEnvSetupError

    if isinstance(exc, RuntimeEnvSetupError):
        return True
    return isinstance(exc, RayActorError) and exc.actor_init_failed


class WorkerSet:
    def __init__(self, cfg: PoolConfig, reward_dict: dict, on_change: Callable[[], None],
                 on_restart: Callable[[], None]):  # fmt: skip
        self.cfg = cfg
        self.reward_dict = reward_dict
        self.slots: dict[int, Slot] = {}
        self.history: list[dict] = []
        self._next_wid = 0
        self._unstarted: list[Slot] = []
        self._tasks: set[asyncio.Task] = set()
        self._worker_cls = None
        self._on_change = on_change  # a worker became ready or failed: dispatch / fail the queue
        self._on_restart = on_restart  # counted in the pool's metrics

    # ---- views ---------------------------------------------------------------------------------------

    def live(self) -> list[Slot]:
        return [s for s in self.slots.values() if s.state != "draining"]

    def count(self, state: str) -> int:
        return sum(s.state == state for s in self.slots.values())

    def in_flight(self) -> int:
        return sum(len(s.busy or ()) for s in self.slots.values())

    def all_failed(self) -> bool:
        return bool(self.slots) and all(s.state == "failed" for s in self.slots.values())

    # ---- start ---------------------------------------------------------------------------------------

    def add(self) -> Slot:
        slot = Slot(self._next_wid)
        self._next_wid += 1
        self.slots[slot.wid] = slot
        self.spawn(slot)
        return slot

    def spawn(self, slot: Slot) -> None:
        import ray

        from reward_workers.worker import RewardWorker

        if self._worker_cls is None:
            self._worker_cls = ray.remote(RewardWorker)
        slot.generation += 1
        slot.state, slot.ready, slot.busy, slot.info = "starting", False, None, {}
        slot.refs.clear()
        slot.handle = self._worker_cls.options(
            max_concurrency=2, scheduling_strategy="SPREAD", **self.cfg.worker_options()
        ).remote(self.reward_dict, list(self.cfg.warm_languages), slot.wid)
        slot.record = {"worker_id": slot.wid, "generation": slot.generation, "node_id": None, "pid": None,
                       "started_at": time.time(), "ready_at": None, "ended_at": None, "end": None}  # fmt: skip
        self.history.append(slot.record)
        del self.history[:-HISTORY_KEEP]
        self._unstarted.append(slot)

    def start_watchers(self) -> None:
        """Start the readiness watch of new workers (needs the running loop, so not done in __init__)."""
        while self._unstarted:
            slot = self._unstarted.pop()
            self._spawn_task(self._watch_ready(slot, slot.generation))

    def _spawn_task(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _watch_ready(self, slot: Slot, generation: int) -> None:
        ref = slot.handle.ready.remote()
        try:
            try:
                info = await asyncio.wait_for(asyncio.shield(_aw(ref)), self.cfg.start_timeout_s)
            except asyncio.TimeoutError:
                slot.error = f"not ready after {self.cfg.start_timeout_s:.0f} s: waiting for resources {self.cfg.worker_options()}"
                logger.warning("reward pool: worker %d %s", slot.wid, slot.error)
                slot.refs.clear()
                self._on_change()
                info = await _aw(ref)
        except Exception as e:
            if slot.generation == generation and slot.wid in self.slots:
                await self._start_failed(slot, e)
            return
        if slot.generation != generation or slot.wid not in self.slots:
            return
        slot.info, slot.error, slot.start_failures = info, "", 0
        slot.record.update(node_id=info.get("node_id"), pid=info.get("pid"), ready_at=time.time())
        if slot.state == "starting":
            slot.state, slot.ready = "ready", True
        self._on_change()

    async def _start_failed(self, slot: Slot, exc: BaseException) -> None:
        error = f"{type(exc).__name__}: {exc}"[-2000:]
        self._end(slot, "start_failed")
        if is_permanent_start_failure(exc):
            slot.state, slot.error = "failed", error
            logger.error("reward pool: worker %d failed to start: %s", slot.wid, error)
            self._on_change()
            return
        pause = BACKOFF_S[min(slot.start_failures, len(BACKOFF_S) - 1)]
        slot.start_failures += 1
        slot.error = f"died while starting ({error.splitlines()[0]}); restarting in {pause:g} s"
        logger.warning("reward pool: worker %d %s", slot.wid, slot.error)
        await asyncio.sleep(pause)
        if slot.wid in self.slots and slot.state == "starting":
            await self.replace(slot, "died while starting", kill_children=False)

    # ---- end -----------------------------------------------------------------------------------------

    def _end(self, slot: Slot, reason: str) -> None:
        if slot.record is not None and slot.record["ended_at"] is None:
            slot.record.update(ended_at=time.time(), end=reason)

    async def retire(self, slot: Slot) -> None:
        import ray

        self.slots.pop(slot.wid, None)
        self._end(slot, "retired")
        if slot.state in ("ready", "draining"):
            try:
                await asyncio.wait_for(_aw(slot.handle.close.remote()), 30)
            except Exception as e:  # a worker that cannot close cleanly is killed below anyway
                logger.warning("reward pool: worker %d did not close cleanly: %s", slot.wid, e)
        ray.kill(slot.handle, no_restart=True)
        slot.generation += 1

    async def replace(self, slot: Slot, reason: str, kill_children: bool) -> None:
        """A worker died or hung: kill what is left of it and start a fresh one in its slot."""
        import ray

        old = slot.handle
        slot.restarts += 1
        self._on_restart()
        self._end(slot, reason)
        logger.warning("reward pool: replacing worker %d (%s)", slot.wid, reason)
        if kill_children:
            try:
                await asyncio.wait_for(_aw(old.kill_children.remote()), 5)
            except Exception:  # the worker may be gone already: nothing left to kill
                pass
        ray.kill(old, no_restart=True)
        if slot.state == "draining" or slot.wid not in self.slots:
            self.slots.pop(slot.wid, None)
            return
        self.spawn(slot)
        self.start_watchers()

    # ---- size ----------------------------------------------------------------------------------------

    async def resize(self, size: int) -> None:
        """Grow now; shrink by retiring failed, then starting, then idle workers; busy ones drain first."""
        live = self.live()
        for _ in range(size - len(live)):
            self.add()
        if size < len(live):
            order = {"failed": 0, "starting": 1, "ready": 2}
            victims = sorted(live, key=lambda s: (order.get(s.state, 3), s.busy is not None, -s.wid))[: len(live) - size]
            for slot in victims:
                if slot.busy is None:
                    await self.retire(slot)
                else:
                    slot.state = "draining"
        self.start_watchers()


async def _aw(ref: Any) -> Any:
    """Await a Ray ObjectRef without blocking the event loop."""
    return await ref
