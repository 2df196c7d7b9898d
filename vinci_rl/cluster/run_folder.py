"""The run folder on a cluster: one path, the same files on every trainer node.

verl's TaskRunner writes metrics.jsonl, the sample log and the training pictures; its trainer workers write the
checkpoints; the driver writes config.yaml. Ray places them on whichever trainer nodes it likes, so the run
folder must be storage that every trainer node mounts at the same path (NFS, a cloud filesystem, or simply the
one disk of a single machine). `check_visible_on_trainer_nodes` proves it before training starts: the driver
writes a marker file and a task pinned to each trainer node reads it back; a node that cannot is named in the
error. Reward nodes write nothing there and are not asked.

Inside a Ray job the working directory is a temporary copy of the uploaded one, so run folders default to
$VINCI_RL_RUNS (default ~/vinci-rl-runs) there, not to ./runs.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

RUNS_ENV = "VINCI_RL_RUNS"
JOB_RUNS_DEFAULT = "~/vinci-rl-runs"


class RunFolderError(RuntimeError):
    """The run folder is not the same on every trainer node; the message names the nodes and the fix."""


def in_ray_job() -> bool:
    """True in the driver of a `ray job submit` job (Ray passes the job's config in this variable)."""
    from ray._private.runtime_env.constants import RAY_JOB_CONFIG_JSON_ENV_VAR

    return RAY_JOB_CONFIG_JSON_ENV_VAR in os.environ


def runs_root() -> Path:
    """Where run folders go by default: $VINCI_RL_RUNS, else ./runs (~/vinci-rl-runs inside a Ray job)."""
    root = os.environ.get(RUNS_ENV) or (JOB_RUNS_DEFAULT if in_ray_job() else "runs")
    return Path(root).expanduser()


def _read_marker(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None


def check_visible_on_trainer_nodes(run_dir: str | Path, timeout_s: float = 120.0) -> list[str]:
    """Every trainer node reads the marker this process writes into run_dir; returns the nodes checked."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from vinci_rl.cluster.placement import alive_nodes, trainer_node_ids

    nodes = trainer_node_ids()
    token = secrets.token_hex(8)
    marker = Path(run_dir) / f".node-check-{token}"
    marker.write_text(token)
    try:
        probe = ray.remote(num_cpus=0)(_read_marker)
        refs = {nid: probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(nid, soft=False)).remote(str(marker))
                for nid in nodes}  # fmt: skip
        seen = dict(zip(refs, ray.get(list(refs.values()), timeout=timeout_s)))
    finally:
        marker.unlink(missing_ok=True)
    blind = [nid for nid, value in seen.items() if value != token]
    if blind:
        ips = {n["NodeID"]: n["NodeManagerAddress"] for n in alive_nodes()}
        names = ", ".join(f"{ips.get(nid, '?')} (node {nid[:12]})" for nid in blind)
        raise RunFolderError(
            f"run folder {run_dir} is not visible on trainer node(s) {names}: metrics, samples and checkpoints "
            f"would be scattered over the nodes' disks. Give --run-dir (or {RUNS_ENV}) a path on storage that every "
            "trainer node mounts at the same place"
        )
    return nodes
