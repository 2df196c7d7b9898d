"""The pool's counters and the `reward_pool/...` step metrics built from them.

One `Stats` bucket for the whole pool ("") and one per training job (its Ray job id), so several jobs sharing a
pool each read their own step metrics; pool-wide events (retries, timeouts, worker restarts) count in every bucket.
"""

from __future__ import annotations

from collections import Counter, deque

import numpy as np

from reward_workers.results import ALL_STATUSES
from vinci_rl.reward.metrics import fail_rates

PREFIX = "reward_pool/"
LATENCY_WINDOW = 20_000  # latencies kept per metrics bucket between resets
EVENTS = ("retries", "timeouts", "restarts")


class Stats:
    def __init__(self) -> None:
        self.samples = 0
        self.status: Counter = Counter()
        self.latencies: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self.cache_hits = 0
        self.missing_resources = 0  # samples whose render could not load something (CDN resource not mirrored)
        self.retries = 0
        self.timeouts = 0
        self.restarts = 0
        self.queue_max = 0

    def record(self, result: dict, latency: float, cached: bool) -> None:
        self.samples += 1
        self.status[result["status"]] += 1
        self.latencies.append(latency)
        self.cache_hits += int(cached)
        self.missing_resources += int(bool(result.get("missing_resources")))


class PoolStats:
    """Every metrics bucket of one pool."""

    def __init__(self) -> None:
        self.buckets: dict[str, Stats] = {"": Stats()}

    @property
    def pool(self) -> Stats:
        return self.buckets[""]

    def bucket(self, job: str) -> Stats:
        if job not in self.buckets:
            self.buckets[job] = Stats()
        return self.buckets[job]

    def record(self, job: str, result: dict, latency: float, cached: bool) -> None:
        for st in {id(b): b for b in (self.pool, self.bucket(job))}.values():
            st.record(result, latency, cached)

    def count(self, event: str) -> None:
        if event not in EVENTS:
            raise ValueError(f"unknown pool event {event!r}")
        for st in self.buckets.values():
            setattr(st, event, getattr(st, event) + 1)

    def note_depth(self, depth: int) -> None:
        self.pool.queue_max = max(self.pool.queue_max, depth)

    def step_metrics(self, job: str, depth: int, ready: int, starting: int, reset: bool) -> dict[str, float]:
        """`reward_pool/...` metrics of a job's bucket ("" = the whole pool); reset starts a new bucket."""
        st = self.bucket(job)
        out: dict[str, float] = {
            "samples": float(st.samples),
            "queue_depth": float(depth),
            "queue_depth_max": float(self.pool.queue_max),
            "workers": float(ready),
            "workers_pending": float(starting),
            "cache_hit_rate": st.cache_hits / st.samples if st.samples else 0.0,
            "missing_resources_rate": st.missing_resources / st.samples if st.samples else 0.0,
            "retries": float(st.retries),
            "timeouts": float(st.timeouts),
            "worker_restarts": float(st.restarts),
        }
        lat = np.asarray(st.latencies, dtype=float)
        out["latency_p50_s"] = float(np.percentile(lat, 50)) if lat.size else 0.0
        out["latency_p95_s"] = float(np.percentile(lat, 95)) if lat.size else 0.0
        out.update(fail_rates(st.status, st.samples, ALL_STATUSES))
        if reset:
            self.buckets[job] = Stats()
            if job:  # pool-wide counters of the step are reset with the job's (one job per pool is the common case)
                self.pool.queue_max = 0
        return {PREFIX + k: v for k, v in out.items()}
