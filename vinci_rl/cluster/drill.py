"""The cluster drill: the README's multi-node flow, run for real on one machine, with the failures a cluster has.

    vinci-rl drill cluster [--root DIR] [--steps N] [--json]

1. A head (the trainer node: CPUs and one logical GPU) and two reward nodes (`--num-cpus 0`, `reward_cpu`),
   each started with `ray start` on its own ports and --temp-dir, token authentication on with a private token.
2. Job A: recipes/tiny_cpu.yaml submitted with launch/submit.sh (a real `ray job submit`, the committed
   runtime_env, the working dir uploaded), on the reward nodes' pool (2 workers). Mid-job `vinci-rl workers
   scale --size 3`; the sample set's ground-truth programs are scored through the job's pool (well-formed
   answers: none may end `renderer_crash`); then the job is stopped after a step that has no checkpoint.
3. Job B: the same submission again, same run folder: it resumes from the last checkpoint whose steps are all
   logged. Mid-job the reward node holding most pool workers is killed (every process of it, SIGKILL), then it
   rejoins; the job must complete with every sample of every step rewarded, and the pool must get its
   workers back.
4. Checks (vinci_rl/cluster/drill_checks.py) on the job logs, the run folder, the pool's history and Ray's record
   of every actor's node; then exactly the cluster's own processes are stopped.

The report (JSON) holds every check with its detail and the measured times.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from vinci_rl.cluster.local_cluster import LocalCluster
from vinci_rl.cluster.observe import Jobs, PoolWatch, ground_truth_requests, logged_steps, score_through_pool, wait_for

REPO = Path(__file__).resolve().parents[2]
RECIPE = "recipes/tiny_cpu.yaml"
PROMPTS, N = 4, 2  # tiny_cpu: train_batch_size x rollout.n samples per step
HEAD_CPUS, REWARD_CPU_PER_NODE = 8, 2


@dataclass
class DrillConfig:
    root: Path
    steps: int = 12  # total training steps (job A is stopped after step stop_after, job B finishes)
    save_freq: int = 3
    stop_after: int = 4  # past a checkpoint, with another step before the next: the resumed job redoes logged steps
    # even when the stop lands a step late (a job's stop is not instantaneous)
    pool_size: int = 2
    scale_to: int = 3
    n_train: int = 16  # sample-set rows: 4 steps per epoch
    job_timeout_s: float = 900.0


@dataclass
class DrillRecord:
    """Everything observed, for the checks and the report."""

    timings: dict = field(default_factory=dict)
    jobs: dict = field(default_factory=dict)
    nodes: dict = field(default_factory=dict)  # node name -> every Ray node id it had
    scale: dict = field(default_factory=dict)
    probe: list = field(default_factory=list)
    node_loss: dict = field(default_factory=dict)
    pool_history: list = field(default_factory=list)
    actors: list = field(default_factory=list)
    signalled_pids: list = field(default_factory=list)
    leftover_pids: list = field(default_factory=list)
    errors: list = field(default_factory=list)


class Drill:
    def __init__(self, cfg: DrillConfig, log=print):
        self.cfg = cfg
        self.root = Path(cfg.root).resolve()
        self.run_dir = self.root / "run"
        self.log = log
        self.rec = DrillRecord()
        self.cluster = LocalCluster(self.root / "cluster")
        self.watch = PoolWatch()
        self.t0 = time.monotonic()

    def _t(self) -> float:
        return round(time.monotonic() - self.t0, 1)

    def say(self, msg: str) -> None:
        self.log(f"[drill {self._t():7.1f} s] {msg}")

    # ---- phases --------------------------------------------------------------------------------------

    def run(self) -> DrillRecord:
        try:
            self.prepare_data()
            self.start_cluster()
            self.job_a()
            self.job_b()
        except Exception as e:  # the report says what failed; the cluster is stopped either way
            self.rec.errors.append(f"{type(e).__name__}: {e}")
            self.say(f"FAILED: {type(e).__name__}: {e}")
        finally:
            self.collect()
            self.stop_cluster()
        self.rec.timings["drill_wall_s"] = self._t()
        return self.rec

    def prepare_data(self) -> None:
        from vinci_rl.data.sample_set import build_sample_set
        from vinci_rl.models.tiny import make_tiny_model

        self.model = self.root / "tiny-qwen2.5-vl"
        self.data = self.root / "sample_data"
        if not (self.model / "config.json").exists():
            make_tiny_model(self.model, "qwen2.5-vl")
        if not (self.data / "train.parquet").exists():
            summary = build_sample_set(self.data, n_train=self.cfg.n_train, n_val=4, tokenizer_path=str(self.model))
            if summary.failed:
                raise RuntimeError(f"sample set: {summary.failed}")
        self.say(f"tiny model and sample data in {self.root}")

    def start_cluster(self) -> None:
        t = time.monotonic()
        self.cluster.start_head(num_cpus=HEAD_CPUS, num_gpus=1)
        for name in ("reward-1", "reward-2"):
            self.cluster.add_node(name, num_cpus=0, resources={"reward_cpu": REWARD_CPU_PER_NODE})
        self.rec.timings["cluster_start_s"] = round(time.monotonic() - t, 1)
        # this process observes the cluster as a client with the cluster's token
        os.environ.update({k: v for k, v in self.cluster.client_env().items() if k.startswith("RAY_AUTH")})
        import ray

        ray.init(address=self.cluster.gcs_address, log_to_driver=False, logging_level="ERROR")
        self.jobs = Jobs(self.cluster.dashboard_url)
        self.say(f"cluster up: head {self.cluster.gcs_address}, dashboard {self.cluster.dashboard_url}, "
                 f"2 reward nodes ({self.rec.timings['cluster_start_s']} s)")  # fmt: skip

    def submit(self, job_id: str, pool_size: int) -> None:
        env = self.cluster.client_env()
        env.update(RAY_ADDRESS=self.cluster.dashboard_url, DEVICE="cpu")
        cmd = ["bash", str(REPO / "launch" / "submit.sh"), RECIPE, "--no-wait", "--submission-id", job_id,
               "--run-dir", str(self.run_dir),
               f"data.train_files={self.data / 'train.parquet'}", f"data.val_files={self.data / 'val.parquet'}",
               f"actor_rollout_ref.model.path={self.model}", f"trainer.total_training_steps={self.cfg.steps}",
               f"trainer.save_freq={self.cfg.save_freq}", "vinci.pool.resource=reward_cpu", "vinci.pool.num_cpus=0",
               f"vinci.pool.size={pool_size}", "vinci.pool.max_attempts=4"]  # fmt: skip
        out = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            raise RuntimeError(f"launch/submit.sh failed ({out.returncode}): {out.stderr[-3000:]}")
        self.rec.jobs[job_id] = {"submitted_at_s": self._t(), "command": cmd}
        self.say(f"submitted {job_id} with launch/submit.sh")

    def _wait_step(self, job_id: str, step: int) -> float:
        """Seconds until metrics.jsonl has `step` (the job failing first is an error)."""

        def reached():
            if max(logged_steps(self.run_dir / "metrics.jsonl"), default=0) >= step:
                return True
            if self.jobs.status(job_id) in ("FAILED", "STOPPED", "SUCCEEDED"):
                raise RuntimeError(f"job {job_id} ended before step {step}: {self.jobs.logs(job_id)[-4000:]}")
            return False

        return wait_for(reached, self.cfg.job_timeout_s, poll_s=1.0, what=f"{job_id} step {step}")

    def job_a(self) -> None:
        self.submit("drill-job-a", self.cfg.pool_size)
        first = self._wait_step("drill-job-a", 1)
        self.rec.timings["job_a_first_step_s"] = round(first, 1)
        self.say(f"job A logged step 1 after {first:.0f} s; scaling the pool to {self.cfg.scale_to}")
        self.scale_mid_job()
        self.probe_well_formed()
        self._wait_step("drill-job-a", self.cfg.stop_after)
        t_stop = time.monotonic()
        self.jobs.stop("drill-job-a")
        state = self.jobs.wait("drill-job-a", timeout_s=180)
        self.rec.timings["job_a_stop_s"] = round(time.monotonic() - t_stop, 1)
        steps = logged_steps(self.run_dir / "metrics.jsonl")
        self.rec.jobs["drill-job-a"].update(state=state, steps_logged=steps, log=self._save_log("drill-job-a"))
        for name in ("metrics.jsonl", "samples.jsonl"):  # what job A left, to compare with the resumed files
            (self.root / f"job-a-{name}").write_bytes((self.run_dir / name).read_bytes())
        self.say(f"job A stopped ({state}) with steps {steps} logged")
        wait_for(lambda: self.watch.handle() is None, 120, what="job A's pool gone")

    def scale_mid_job(self) -> None:
        t = time.monotonic()
        out = subprocess.run([str(Path(sys.executable).with_name("vinci-rl")), "workers", "scale", "--address",
                              self.cluster.gcs_address, "--size", str(self.cfg.scale_to), "--wait", "240", "--json"],
                             env=self.cluster.client_env(), capture_output=True, text=True, timeout=300)  # fmt: skip
        took = time.monotonic() - t
        status = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else {}
        self.rec.scale = {"returncode": out.returncode, "stderr": out.stderr[-2000:], "status": status,
                          "seconds": round(took, 1), "step_at_scale": max(logged_steps(self.run_dir / "metrics.jsonl"), default=0)}  # fmt: skip
        self.say(f"`vinci-rl workers scale --size {self.cfg.scale_to}`: exit {out.returncode}, "
                 f"{status.get('ready')}/{status.get('size')} ready after {took:.1f} s")  # fmt: skip

    def probe_well_formed(self) -> None:
        from reward_workers.config import load_blocks

        _, reward = load_blocks(REPO / RECIPE)
        requests = ground_truth_requests(self.data / "train.parquet") + ground_truth_requests(self.data / "val.parquet")
        self.rec.probe = score_through_pool(self.watch, requests, reward)
        stats = self.watch.call("worker_stats") or []
        self.rec.scale["worker_scored"] = {s.get("worker_id"): s.get("scored", 0) for s in stats}
        self.rec.pool_history += [dict(h, job="drill-job-a") for h in self.watch.call("history") or []]
        by_status: dict[str, int] = {}
        for r in self.rec.probe:
            by_status[r["status"]] = by_status.get(r["status"], 0) + 1
        self.say(f"ground-truth programs through the job's pool: {by_status}")

    def job_b(self) -> None:
        self.submit("drill-job-b", self.cfg.scale_to)
        # `vinci-rl train` says where it resumes before it starts training
        found: list[re.Match] = []
        wait_for(lambda: found.append(re.search(r"run_dir=\S+; (resuming from \S+ \(step (\d+)\)|starting at step 1)",
                                                self.jobs.logs("drill-job-b"))) or found[-1],
                 self.cfg.job_timeout_s, poll_s=2.0, what="job B's start line")  # fmt: skip
        resumed = int(found[-1].group(2) or 0)
        self.rec.jobs["drill-job-b"]["resumed_at_step"] = resumed
        self._wait_step("drill-job-b", resumed + 1)
        b = self.rec.jobs["drill-job-b"]
        b["first_step_logged_s"] = self._t()
        self.rec.timings["job_b_resume_to_first_step_s"] = round(b["first_step_logged_s"] - b["submitted_at_s"], 1)
        self.node_loss()
        state = self.jobs.wait("drill-job-b", timeout_s=self.cfg.job_timeout_s)
        self.rec.jobs["drill-job-b"].update(state=state, log=self._save_log("drill-job-b"))
        self.say(f"job B ended {state}")

    def node_loss(self) -> None:
        status = self.watch.status() or {"workers": []}
        per_node: dict[str, int] = {}
        for w in status["workers"]:
            name = self.cluster.node_of(w.get("node_id") or "")
            if name:
                per_node[name] = per_node.get(name, 0) + 1
        if not per_node or sum(per_node.values()) < self.cfg.scale_to:  # the pool's last workers are starting
            wait_for(lambda: self.watch.ready() >= self.cfg.scale_to, 120, what="job B's pool ready")
            return self.node_loss()
        victim = max(per_node, key=per_node.get)
        old_id = self.cluster.nodes[victim].node_ids[-1]
        t_kill = time.monotonic()
        pids = self.cluster.kill_node(victim)
        self.say(f"killed reward node {victim} ({per_node.get(victim, 0)} pool workers, {len(pids)} processes)")
        low = wait_for(lambda: self.watch.ready() < self.cfg.scale_to, 120, poll_s=0.2, what="pool notices the loss")
        dead = self.cluster.wait_node_dead(old_id, timeout_s=180)
        t_rejoin = time.monotonic()
        new_id = self.cluster.restart_node(victim)
        rejoined = time.monotonic() - t_rejoin
        back = wait_for(lambda: self.watch.ready() >= self.cfg.scale_to, 300, poll_s=0.5, what="pool capacity back")
        total = time.monotonic() - t_kill
        self.rec.node_loss = {
            "node": victim, "workers_on_node": per_node.get(victim, 0), "killed_pids": len(pids),
            "old_node_id": old_id, "new_node_id": new_id,
            "pool_noticed_s": round(low, 1), "head_marked_dead_s": round(dead + low, 1),
            "rejoin_s": round(rejoined, 1), "capacity_back_after_rejoin_s": round(back, 1),
            "kill_to_capacity_s": round(total, 1),
            "step_at_kill": max(logged_steps(self.run_dir / "metrics.jsonl"), default=0),
            "pool_after": self.watch.status(),
        }  # fmt: skip
        self.rec.pool_history += [dict(h, job="drill-job-b") for h in self.watch.call("history") or []]
        self.say(f"pool noticed after {low:.1f} s, head marked the node dead after {dead + low:.1f} s, node rejoined in "
                 f"{rejoined:.1f} s, pool back to {self.cfg.scale_to} workers {back:.1f} s later ({total:.1f} s after the kill)")  # fmt: skip

    def collect(self) -> None:
        """Every actor's node (Ray keeps dead actors' records) and every node id each node had."""
        import ray

        from vinci_rl.cluster.observe import actor_nodes

        self.rec.nodes = {name: list(node.node_ids) for name, node in self.cluster.nodes.items()}
        for job_id, job in self.rec.jobs.items():
            if "log" not in job:  # a job the drill did not see to its end: keep its log for the report
                try:
                    job["log"] = self._save_log(job_id)
                except Exception as e:  # noqa: BLE001 - the report names it
                    self.rec.errors.append(f"logs of {job_id}: {e}")
        if ray.is_initialized():
            try:
                self.rec.actors = actor_nodes()
            except Exception as e:  # noqa: BLE001 - the report names it
                self.rec.errors.append(f"listing actors: {e}")

    def _save_log(self, job_id: str) -> str:
        path = self.root / f"{job_id}.log"
        path.write_text(self.jobs.logs(job_id))
        return str(path)

    def stop_cluster(self) -> None:
        import ray

        if ray.is_initialized():
            ray.shutdown()
        t = time.monotonic()
        try:
            self.rec.signalled_pids = self.cluster.shutdown()
        except Exception as e:  # reported, never hidden
            self.rec.errors.append(f"shutdown: {e}")
        self.rec.leftover_pids = sorted(self.cluster.pids())
        self.rec.timings["cluster_stop_s"] = round(time.monotonic() - t, 1)
        if not self.rec.errors and not self.rec.leftover_pids:  # Ray's session logs are kept when something failed
            self.cluster.remove_node_dirs()
        self.say(f"stopped the cluster's {len(self.rec.signalled_pids)} processes; left: {self.rec.leftover_pids}")
