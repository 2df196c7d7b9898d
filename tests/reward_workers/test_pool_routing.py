"""The pool's routing rules, without Ray: reference affinity, least-busy assignment of new prompts, retries alone,
and work stealing only for groups too large for their holder's next batch."""

from __future__ import annotations

import asyncio

from reward_workers.faults import Slot
from reward_workers.routing import Job, Router


class _Pool:
    """A router and two idle ready workers."""

    def __init__(self, max_batch_size: int):
        self.router = Router(max_batch_size)
        self._slots = [Slot(0, state="ready", ready=True), Slot(1, state="ready", ready=True)]

    def _take(self, slot: Slot) -> list[Job]:
        return self.router.take(slot, self._slots)

    def _queued(self) -> int:
        return self.router.queued()


def _pool(max_batch_size: int = 4) -> _Pool:
    return _Pool(max_batch_size)


def _jobs(pool: _Pool, loop, ref: str, n: int, solo: bool = False) -> list[Job]:
    jobs = [Job({}, f"{ref}-{i}-{solo}", ref, loop.create_future(), solo=solo) for i in range(n)]
    for job in jobs:
        pool.router.enqueue(job)
    return jobs


def test_affinity_new_prompts_retries_and_stealing():
    loop = asyncio.new_event_loop()
    try:
        pool = _pool(max_batch_size=4)
        w0, w1 = pool._slots[0], pool._slots[1]
        a = _jobs(pool, loop, "A", 3)
        b = _jobs(pool, loop, "B", 2)
        # w0 takes the oldest new prompt (A) only, since w1 is idle too ...
        assert pool._take(w0) == a and set(w0.refs) == {"A"}
        w0.busy = a
        # ... and with no other idle worker, w1 fills its batch across new prompts (B and the first of D)
        d = _jobs(pool, loop, "D", 3)
        assert pool._take(w1) == b + d[:2] and set(w1.refs) == {"B", "D"}
        w1.busy = b
        w0.busy = None
        assert pool._take(w0) == [] and pool._queued() == 1  # D's rest waits for its holder (affinity)
        w0.busy, w1.busy = a, None
        assert pool._take(w1) == d[2:]
        # more rollouts of A arrive while w0 is busy: w1 leaves them to A's holder (its encoder cache has A)
        a2 = _jobs(pool, loop, "A", 2)
        assert pool._take(w1) == [] and pool._queued() == 2
        # a new prompt C goes to the idle worker
        c = _jobs(pool, loop, "C", 2)
        assert pool._take(w1) == c
        # a group too big for its busy holder's next batch is stolen by an idle worker (it takes over A)
        big = _jobs(pool, loop, "A", 4)
        assert pool._take(w1) == a2 + big[:2]
        assert "A" in w1.refs and "A" not in w0.refs
        assert pool._queued() == 2  # big[2:] (now held by w1)
        # a retry after a timeout goes alone, before anything else
        retry = _jobs(pool, loop, "Z", 1, solo=True)
        assert pool._take(w0) == retry
    finally:
        loop.close()
