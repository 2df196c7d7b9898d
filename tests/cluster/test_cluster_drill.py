"""End to end on a real multi-node Ray cluster of this machine: `vinci-rl drill cluster` starts a head and two
reward nodes (`ray start`, own ports and temp dirs, token authentication), submits recipes/tiny_cpu.yaml twice
with launch/submit.sh (a real `ray job submit` with the committed runtime_env and the working dir uploaded):
job A is scaled mid-run with `vinci-rl workers scale` and stopped after a step that has no checkpoint; job B
resumes it and loses a reward node mid-run. One cluster, one drill for the whole module; each test reads one
part of its report. Run alone with `pytest tests/cluster -m e2e`."""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
E2E_LOCK = "/tmp/vinci-e2e.lock"  # real GRPO runs never overlap (see tests/train/test_grpo_cpu_e2e.py)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def drill(tmp_path_factory):
    root = tmp_path_factory.mktemp("drill")
    # A process that `ray stop` (which kills every Ray process of the machine by name) would kill: the drill
    # must leave it alone.
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)", "default_worker.py", "raylet"])
    try:
        with open(E2E_LOCK, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            t0 = time.time()
            proc = subprocess.run([sys.executable, "-m", "vinci_rl", "drill", "cluster", "--root", str(root), "--json"],
                                  cwd=REPO, capture_output=True, text=True, timeout=1700)  # fmt: skip
            wall = time.time() - t0
        (root / "drill.log").write_text(proc.stdout + proc.stderr)
        bystander_alive = bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()
    lines = proc.stdout.strip().splitlines()
    assert lines, f"no output from the drill (exit {proc.returncode}): {proc.stderr[-4000:]}"
    report = json.loads(lines[-1])
    print(f"\ncluster drill: {wall:.0f} s wall; {report['timings']}; node loss {report['node_loss']}")
    checks = {c["name"]: c for c in report["checks"]}
    return {"report": report, "checks": checks, "returncode": proc.returncode, "bystander_alive": bystander_alive,
            "root": root, "log": proc.stdout[-6000:] + proc.stderr[-3000:]}  # fmt: skip


def _passed(drill, *names):
    for name in names:
        check = drill["checks"].get(name)
        assert check is not None, f"check {name} missing from the report: {list(drill['checks'])}; {drill['log']}"
        assert check["ok"], f"{name}: {check['detail']}"


def test_drill_ran_and_both_jobs_ended_as_planned(drill):
    _passed(drill, "drill_ran_to_the_end", "job_a_stopped_mid_run", "job_b_succeeded")
    failed = [c for c in drill["checks"].values() if not c["ok"]]
    assert drill["returncode"] == (1 if failed else 0)


def test_every_reward_worker_ran_on_a_reward_node_and_no_trainer_actor_did(drill):
    _passed(drill, "reward_workers_only_on_reward_nodes", "trainer_actors_never_on_reward_nodes", "pool_router_on_the_head")


def test_workers_scale_mid_job_takes_effect(drill):
    _passed(drill, "scale_mid_job_took_effect")


def test_well_formed_programs_never_crash_the_renderers_on_reward_nodes(drill):
    _passed(drill, "well_formed_programs_render_on_reward_nodes")


def test_losing_a_reward_node_loses_no_sample_and_capacity_comes_back(drill):
    _passed(drill, "every_sample_of_every_step_rewarded", "no_sample_lost_to_the_system", "capacity_back_after_node_loss")
    node_loss = drill["report"]["node_loss"]
    assert node_loss["workers_on_node"] >= 1 and node_loss["kill_to_capacity_s"] > 0


def test_a_stopped_job_resumes_with_steps_schedule_samples_and_metrics_continued(drill):
    _passed(drill, "resumed_from_last_logged_checkpoint", "metrics_steps_once_each", "schedule_continues_across_the_resume",
            "every_sample_of_every_step_rewarded")


def test_outputs_reach_one_run_folder(drill):
    _passed(drill, "outputs_in_one_run_folder")


def test_exactly_the_drills_processes_were_stopped(drill):
    _passed(drill, "exactly_the_clusters_processes_stopped")
    assert drill["bystander_alive"], "the drill killed a process it did not start"
