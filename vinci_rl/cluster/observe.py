"""What the cluster drill watches, from outside the job: Ray jobs (through the `ray job` CLI, as a user would),
the job's reward pool (through a Ray connection of the drill's own), every actor's node (Ray's state API), and
the run folder's logs.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")


class Jobs:
    """Ray jobs of the cluster, through Ray's job SDK (its dashboard, with the token of this process's env)."""

    def __init__(self, dashboard_url: str):
        from ray.job_submission import JobSubmissionClient

        self.client = JobSubmissionClient(dashboard_url)

    def status(self, job_id: str) -> str:
        try:
            return str(self.client.get_job_status(job_id).value)
        except Exception:  # not known (yet): the dashboard answers 404
            return "UNKNOWN"

    def stop(self, job_id: str) -> None:
        self.client.stop_job(job_id)

    def logs(self, job_id: str) -> str:
        return self.client.get_job_logs(job_id)

    def wait(self, job_id: str, states: tuple[str, ...] = TERMINAL, timeout_s: float = 900, poll_s: float = 2.0) -> str:
        deadline = time.monotonic() + timeout_s
        state = "UNKNOWN"
        while time.monotonic() < deadline:
            state = self.status(job_id)
            if state in states:
                return state
            time.sleep(poll_s)
        raise TimeoutError(f"job {job_id} not in {states} after {timeout_s:.0f} s (last: {state})")


def logged_steps(metrics: Path) -> list[int]:
    """Steps of the lines of a metrics.jsonl (partial last line ignored)."""
    steps = []
    if metrics.exists():
        for line in metrics.read_text().splitlines():
            try:
                steps.append(int(json.loads(line)["step"]))
            except (ValueError, KeyError, TypeError):
                continue
    return steps


def wait_for(predicate, timeout_s: float, poll_s: float = 0.5, what: str = "condition") -> float:
    """Seconds until predicate() is true; TimeoutError naming `what` otherwise."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        if predicate():
            return time.monotonic() - t0
        time.sleep(poll_s)
    raise TimeoutError(f"{what}: not reached within {timeout_s:.0f} s")


class PoolWatch:
    """The job's reward pool, looked up by name from the drill's own Ray connection."""

    def __init__(self, name: str = "vinci_reward_pool", namespace: str = "vinci-rl"):
        self.name, self.namespace = name, namespace

    def handle(self) -> Any | None:
        import ray

        try:
            return ray.get_actor(self.name, namespace=self.namespace)
        except ValueError:
            return None

    def call(self, method: str, *args, timeout: float = 30) -> Any | None:
        """pool.method(*args), or None when there is no pool (yet / any more)."""
        import ray
        from ray.exceptions import RayError

        handle = self.handle()
        if handle is None:
            return None
        try:
            return ray.get(getattr(handle, method).remote(*args), timeout=timeout)
        except (RayError, TimeoutError):
            return None

    def status(self) -> dict | None:
        return self.call("status")

    def ready(self) -> int:
        status = self.status()
        return status["ready"] if status else 0


def actor_nodes() -> list[dict]:
    """Every actor the cluster has known (alive or dead): class, state, node id, job id, name."""
    from ray.util.state import list_actors

    actors = list_actors(limit=10_000, detail=True, raise_on_missing_output=False)
    return [{"class_name": a.class_name, "state": a.state, "node_id": a.node_id, "job_id": a.job_id,
             "name": a.name, "actor_id": a.actor_id} for a in actors]  # fmt: skip


def ground_truth_requests(parquet: Path) -> list[dict]:
    """The sample set's ground-truth programs as well-formed answers (fenced in their language), with their
    reference images: what a perfect policy would write."""
    import numpy as np
    import pandas as pd
    from PIL import Image

    rows = []
    for _, row in pd.read_parquet(parquet).iterrows():
        lang = row.extra_info["language"]
        code = row.reward_model["ground_truth"]
        image = np.asarray(Image.open(io.BytesIO(row.images[0]["bytes"])).convert("RGB"))
        rows.append({"response": f"```{lang}\n{code}\n```", "lang": lang, "reference": image, "ground_truth": code,
                     "id": row.extra_info["id"]})  # fmt: skip
    return rows


def score_through_pool(watch: PoolWatch, requests: list[dict], reward_config: dict) -> list[dict]:
    """Score requests with the running job's pool (from this process), as the job's reward manager would."""
    from reward_workers.client import PoolClient
    from reward_workers.config import PoolConfig

    cfg = PoolConfig(name=watch.name, namespace=watch.namespace, create=False)
    client = PoolClient(cfg, reward_config)
    out = client.score_many([{k: r[k] for k in ("response", "lang", "reference", "ground_truth")} for r in requests])
    return [{"id": r["id"], "lang": r["lang"], "status": o["status"], "message": o["message"][:300]} for r, o in zip(requests, out)]
