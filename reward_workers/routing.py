"""The pool's queue and its routing rules (no Ray here).

Samples wait in one queue, grouped by reference image (`ref_key`, a hash the client computes). A free worker
takes, in order: a sample to retry alone; samples of references it already holds (affinity: their features are
in its encoder cache); samples of references no live worker holds (which it then holds); and only when idle, a
group too large for its holder's next batch (work stealing). So a group of n rollouts of one prompt goes to one
worker and its encoder runs on n + 1 images, and the least-busy worker always takes new prompts.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any, Iterable

AFFINITY_KEEP = 4096  # reference groups remembered per worker


@dataclass
class Job:
    payload: dict  # what the worker needs: response, lang, reference ([ObjectRef] or array), ground truth
    key: str
    ref_key: str
    future: asyncio.Future
    attempts: int = 0  # failed attempts (worker died / scoring raised)
    sent: int = 0  # times sent to a worker
    solo: bool = False


def request_key(request: dict, reward_cfg: Any) -> str:
    """Identity of a scoring request: language + the answer as the render plan reads it (code and how it was read)
    + reference + ground truth. Requests with the same key are scored once (in-flight duplicates share a future,
    finished ones come from the result cache). The sizes need no part of their own: the reference and the config
    fix them."""
    from vinci_rl.reward.plan import read_answer

    lang = str(request.get("lang"))
    ex = read_answer(str(request.get("response", "")), lang, reward_cfg)
    gt = request.get("ground_truth")
    parts = [lang, ex.code, ex.fence_ok, ex.status, ex.how, request.get("ref_key"), request.get("gt_length"),
             hashlib.sha1(gt.encode()).hexdigest() if isinstance(gt, str) else None]  # fmt: skip
    if request.get("return_render"):  # a result carrying the render is not the plain result
        parts.append("render")
    if not request.get("ref_key"):  # no reference hash: never share results
        parts.append(id(request))
    return hashlib.sha1(json.dumps(parts, default=str).encode()).hexdigest()


class Router:
    """Waiting jobs and the rules that hand them to workers. A worker ("slot") is anything with `state`, `busy`
    (its batch or None) and `refs` (an OrderedDict of the reference groups it holds)."""

    def __init__(self, max_batch_size: int):
        self.max_batch_size = max_batch_size
        self.groups: OrderedDict[str, deque[Job]] = OrderedDict()  # ref_key -> waiting jobs, oldest group first
        self.solo: deque[Job] = deque()

    def enqueue(self, job: Job, front: bool = False) -> None:
        if job.solo:
            (self.solo.appendleft if front else self.solo.append)(job)
            return
        group = self.groups.get(job.ref_key)
        if group is None:
            group = self.groups[job.ref_key] = deque()
            if front:
                self.groups.move_to_end(job.ref_key, last=False)
        (group.appendleft if front else group.append)(job)

    def queued(self) -> int:
        return len(self.solo) + sum(len(g) for g in self.groups.values())

    def has_work(self) -> bool:
        return bool(self.solo or self.groups)

    def drain(self) -> list[Job]:
        jobs = list(self.solo) + [j for g in self.groups.values() for j in g]
        self.solo.clear()
        self.groups.clear()
        return jobs

    @staticmethod
    def holder(ref_key: str, slots: Iterable) -> Any | None:
        return next((s for s in slots if s.state == "ready" and ref_key in s.refs), None)

    def take(self, slot: Any, slots: list) -> list[Job]:
        """The next batch for `slot` (an idle ready worker) given every worker `slots`."""
        if self.solo:
            return [self.solo.popleft()]
        limit = self.max_batch_size
        batch: list[Job] = []
        # Another idle worker: take at most one new prompt, so new prompts spread over the idle workers.
        others_idle = any(s is not slot and s.state == "ready" and s.busy is None for s in slots)
        # 1. groups this worker holds, 2. groups nobody live holds (oldest first)
        for own in (True, False):
            for ref_key in list(self.groups):
                if len(batch) >= limit or (not own and others_idle and batch):
                    break
                holder = self.holder(ref_key, slots)
                if (holder is slot) if own else (holder is None):
                    self._take_group(slot, ref_key, batch)
        if not batch:  # 3. idle: steal a group its holder cannot take in its next batch anyway
            for ref_key, group in list(self.groups.items()):
                if len(group) >= limit:
                    holder = self.holder(ref_key, slots)
                    if holder is not None:
                        holder.refs.pop(ref_key, None)
                    self._take_group(slot, ref_key, batch)
                    break
        return batch

    def _take_group(self, slot: Any, ref_key: str, batch: list[Job]) -> None:
        group = self.groups[ref_key]
        while group and len(batch) < self.max_batch_size:
            batch.append(group.popleft())
        if not group:
            del self.groups[ref_key]
        slot.refs[ref_key] = True
        slot.refs.move_to_end(ref_key)
        while len(slot.refs) > AFFINITY_KEEP:
            slot.refs.popitem(last=False)
