"""The cluster drill's verdicts: each check is a named yes/no with the evidence, computed from what the drill
recorded (vinci_rl/cluster/drill.py) and from the run folder the two jobs wrote."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from vinci_rl.cluster.drill import PROMPTS, N, DrillConfig, DrillRecord
from vinci_rl.train.sample_log import read_samples

# verl's and TransferQueue's trainer-side actors that must run on trainer nodes (they once landed on reward nodes)
TRAINER_ACTORS = ("TaskRunnerV1", "TransferQueueController", "SimpleStorageUnit", "GlobalRequestLoadBalancer")
# statuses that mean a sample lost its real reward to the system, not to its own content
SYSTEM_FAILURES = ("worker_failure", "reward_error", "renderer_crash", "bad_sample")


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _job(rec: DrillRecord, job: str) -> dict:
    return rec.jobs.get(job, {})


def check_jobs(rec: DrillRecord, cfg: DrillConfig) -> list[Check]:
    a, b = _job(rec, "drill-job-a"), _job(rec, "drill-job-b")
    steps_a = a.get("steps_logged", [])
    return [
        Check("job_a_stopped_mid_run", a.get("state") == "STOPPED" and max(steps_a, default=0) >= cfg.stop_after,
              f"job A {a.get('state')} with steps {steps_a} logged"),
        Check("job_b_succeeded", b.get("state") == "SUCCEEDED", f"job B {b.get('state')}; log {b.get('log')}"),
    ]  # fmt: skip


def check_resume(rec: DrillRecord, cfg: DrillConfig, run_dir: Path) -> list[Check]:
    """Job B resumed from the last checkpoint whose steps job A had all logged; the lines job A wrote for steps up
    to it are kept as they were, its later ones replaced by job B's, every step exactly once."""
    a, b = _job(rec, "drill-job-a"), _job(rec, "drill-job-b")
    log_b = Path(b["log"]).read_text() if b.get("log") else ""
    m = re.search(r"resuming from (\S*global_step_(\d+)) \(step (\d+)\)", log_b)
    resumed = int(m.group(2)) if m else -1
    logged_a = a.get("steps_logged", [])
    complete_a = 0
    while complete_a + 1 in logged_a:
        complete_a += 1
    expected = (complete_a // cfg.save_freq) * cfg.save_freq
    kept_ok = {}
    root = run_dir.parent
    for name in ("metrics.jsonl", "samples.jsonl"):
        before = [line for line in (root / f"job-a-{name}").read_text().splitlines()] if (root / f"job-a-{name}").exists() else []
        after = (run_dir / name).read_text().splitlines()
        kept = [line for line in before if json.loads(line)["step"] <= resumed]
        kept_ok[name] = bool(kept) and after[: len(kept)] == kept and all(json.loads(x)["step"] > resumed for x in after[len(kept):])
    steps = [r["step"] for r in _read_jsonl(run_dir / "metrics.jsonl")]
    redone = [step for step in logged_a if step > expected]
    return [
        Check("resumed_from_last_logged_checkpoint", resumed == expected > 0,
              f"job A logged {logged_a}; job B: {m.group(0) if m else 'no resume line in its log'} (expected "
              f"checkpoint {expected}; steps redone: {redone or 'none'})"),
        Check("resumed_logs_keep_job_a_lines_then_continue", all(kept_ok.values()),
              f"job A's lines of steps <= {resumed} kept unchanged, then only later steps: {kept_ok}"),
        Check("metrics_steps_once_each", steps == list(range(1, cfg.steps + 1)),
              f"metrics.jsonl steps {steps}"),
    ]  # fmt: skip


def check_samples(run_dir: Path, cfg: DrillConfig) -> list[Check]:
    samples = read_samples(run_dir)
    per_step = Counter(s.step for s in samples)
    want = {step: PROMPTS * N for step in range(1, cfg.steps + 1)}
    statuses = Counter(s.status for s in samples)
    unscored = [s for s in samples if not s.scored or not math.isfinite(s.reward) or s.status is None]
    system = {k: statuses.get(k, 0) for k in SYSTEM_FAILURES}
    metrics = _read_jsonl(run_dir / "metrics.jsonl")
    scored = [m["data"].get("reward/scored_samples") for m in metrics]
    return [
        Check("every_sample_of_every_step_rewarded", dict(per_step) == want and not unscored
              and scored == [float(PROMPTS * N)] * len(metrics),
              f"samples per step {dict(sorted(per_step.items()))} (want {PROMPTS * N} each), {len(unscored)} unscored, "
              f"scored per step {scored}"),
        Check("no_sample_lost_to_the_system", not any(system.values()),
              f"statuses over all {len(samples)} samples: {dict(statuses)}; system failures {system}"),
    ]  # fmt: skip


def check_schedule(run_dir: Path, data_dir: Path, cfg: DrillConfig) -> list[Check]:
    import pandas as pd
    from omegaconf import OmegaConf

    from vinci_rl.schedule.max_length import MaxLengthSchedule

    conf = OmegaConf.load(run_dir / "config.yaml")
    schedule = MaxLengthSchedule.from_dict(OmegaConf.to_container(conf.vinci.schedule))
    gt = [int(e["gt_tokens"]) for e in pd.read_parquet(data_dir / "train.parquet").extra_info]
    per_epoch = len(gt) // PROMPTS
    samples = read_samples(run_dir)
    wrong = []
    for m in _read_jsonl(run_dir / "metrics.jsonl"):
        step = m["step"]
        i = (step - 1) % per_epoch
        expected = schedule.budget(step, gt[i * PROMPTS : (i + 1) * PROMPTS], cap=int(conf.data.max_response_length))
        logged = {s.max_tokens for s in samples if s.step == step}
        if m["data"].get("schedule/max_tokens") != expected or logged != {expected}:
            wrong.append((step, m["data"].get("schedule/max_tokens"), sorted(logged), expected))
    return [Check("schedule_continues_across_the_resume", not wrong,
                  f"steps whose budget differs from the batch's (step, metric, sample log, expected): {wrong}")]


def check_scale(rec: DrillRecord, cfg: DrillConfig, run_dir: Path) -> list[Check]:
    st = rec.scale.get("status", {})
    scored = {int(k): v for k, v in (rec.scale.get("worker_scored") or {}).items() if k is not None}
    new_workers = {w: n for w, n in scored.items() if w >= cfg.pool_size}
    step = rec.scale.get("step_at_scale", 0)
    logged_a = _job(rec, "drill-job-a").get("steps_logged", [])
    metrics = {m["step"]: m["data"] for m in _read_jsonl(run_dir / "metrics.jsonl")}
    after = [metrics[s].get("reward_pool/workers") for s in logged_a if s > step + 1 and s in metrics]
    return [Check(
        "scale_mid_job_took_effect",
        rec.scale.get("returncode") == 0 and st.get("size") == cfg.scale_to and st.get("ready") == cfg.scale_to
        and sum(new_workers.values()) > 0,
        f"`vinci-rl workers scale` exit {rec.scale.get('returncode')} at step {step}: {st.get('ready')}/{st.get('size')} "
        f"ready in {rec.scale.get('seconds')} s; samples scored per worker {scored}; reward_pool/workers in later steps "
        f"{after}; {rec.scale.get('stderr', '')[-300:]}",
    )]  # fmt: skip


def check_well_formed(rec: DrillRecord) -> list[Check]:
    by_lang: dict[str, Counter] = {}
    for r in rec.probe:
        by_lang.setdefault(r["lang"], Counter())[r["status"]] += 1
    bad = [r for r in rec.probe if r["status"] != "ok"]
    return [Check("well_formed_programs_render_on_reward_nodes", bool(rec.probe) and not bad,
                  f"{len(rec.probe)} ground-truth programs: { {k: dict(v) for k, v in by_lang.items()} }; "
                  f"not ok: {bad[:5]}")]  # fmt: skip


def check_placement(rec: DrillRecord) -> list[Check]:
    reward_nodes = {nid for name, ids in rec.nodes.items() if name.startswith("reward") for nid in ids}
    head = set(rec.nodes.get("head", []))
    workers = [a for a in rec.actors if a["class_name"] == "RewardWorker"]
    misplaced = [a for a in workers if a["node_id"] and a["node_id"] not in reward_nodes]
    never_placed = [a for a in workers if not a["node_id"]]  # e.g. a replacement pending when its job ended
    others = [a for a in rec.actors if a["class_name"] != "RewardWorker" and a["node_id"]]
    intruders = [a for a in others if a["node_id"] in reward_nodes]
    trainer = {c: sorted({(a["node_id"] or "")[:8] for a in others if a["class_name"] == c}) for c in TRAINER_ACTORS}
    pools = [a for a in rec.actors if a["class_name"] == "RewardPool"]
    history_nodes = {h.get("node_id") for h in rec.pool_history if h.get("node_id")}
    return [
        Check("reward_workers_only_on_reward_nodes", len(workers) >= 2 and not misplaced and history_nodes <= reward_nodes,
              f"{len(workers)} RewardWorker actors ({len(never_placed)} never placed), misplaced: "
              f"{[(a['actor_id'][:8], a['node_id']) for a in misplaced]}; worker nodes in the pools' history "
              f"{sorted(n[:8] for n in history_nodes)}"),
        Check("trainer_actors_never_on_reward_nodes", not intruders and all(trainer[c] for c in TRAINER_ACTORS),
              f"actors on reward nodes besides RewardWorker: {[(a['class_name'], a['node_id'][:8]) for a in intruders]}; "
              f"trainer-side actors' nodes {trainer} (head {sorted(n[:8] for n in head)})"),
        Check("pool_router_on_the_head", bool(pools) and all(a["node_id"] in head for a in pools),
              f"RewardPool actors' nodes {[(a['node_id'] or '')[:8] for a in pools]}"),
    ]  # fmt: skip


def check_node_loss(rec: DrillRecord, cfg: DrillConfig) -> list[Check]:
    nl = rec.node_loss
    after = nl.get("pool_after") or {}
    on_new = [h for h in rec.pool_history if h.get("job") == "drill-job-b" and h.get("node_id") == nl.get("new_node_id")]
    return [Check(
        "capacity_back_after_node_loss",
        bool(nl) and nl.get("workers_on_node", 0) >= 1 and after.get("ready") == cfg.scale_to and bool(on_new),
        f"killed {nl.get('node')} ({nl.get('workers_on_node')} pool workers, {nl.get('killed_pids')} processes) at step "
        f"{nl.get('step_at_kill')}: pool noticed in {nl.get('pool_noticed_s')} s, head marked it dead at "
        f"{nl.get('head_marked_dead_s')} s, rejoin took {nl.get('rejoin_s')} s, {after.get('ready')}/{cfg.scale_to} "
        f"workers {nl.get('capacity_back_after_rejoin_s')} s after the rejoin ({nl.get('kill_to_capacity_s')} s after "
        f"the kill); {len(on_new)} workers started on the rejoined node",
    )]  # fmt: skip


def check_outputs(run_dir: Path) -> list[Check]:
    wanted = ["metrics.jsonl", "samples.jsonl", "config.yaml", "training_gallery.html"]
    missing = [w for w in wanted if not (run_dir / w).exists()]
    ckpts = sorted(p.name for p in (run_dir / "checkpoints").glob("global_step_*"))
    return [Check("outputs_in_one_run_folder", not missing and bool(ckpts),
                  f"{run_dir}: missing {missing}; checkpoints {ckpts}")]


def check_processes(rec: DrillRecord) -> list[Check]:
    return [Check("exactly_the_clusters_processes_stopped", bool(rec.signalled_pids) and not rec.leftover_pids,
                  f"{len(rec.signalled_pids)} processes of the cluster signalled (all found by the cluster's tag); "
                  f"left alive: {rec.leftover_pids}")]


def run_checks(rec: DrillRecord, cfg: DrillConfig, run_dir: Path, data_dir: Path) -> list[Check]:
    checks = [Check("drill_ran_to_the_end", not rec.errors, "; ".join(rec.errors) or "no errors")]
    for part in (lambda: check_jobs(rec, cfg), lambda: check_resume(rec, cfg, run_dir), lambda: check_samples(run_dir, cfg),
                 lambda: check_schedule(run_dir, data_dir, cfg), lambda: check_scale(rec, cfg, run_dir),
                 lambda: check_well_formed(rec), lambda: check_placement(rec), lambda: check_node_loss(rec, cfg),
                 lambda: check_outputs(run_dir), lambda: check_processes(rec)):  # fmt: skip
        try:
            checks += part()
        except Exception as e:  # a check that cannot even be computed fails, with the reason
            checks.append(Check(f"check_error_{len(checks)}", False, f"{type(e).__name__}: {e}"))
    return checks


def report(rec: DrillRecord, checks: list[Check]) -> dict:
    return {"ok": all(c.ok for c in checks), "checks": [asdict(c) for c in checks], "timings": rec.timings,
            "node_loss": {k: v for k, v in rec.node_loss.items() if k != "pool_after"}, "scale": rec.scale,
            "jobs": {k: {kk: vv for kk, vv in v.items() if kk != "command"} for k, v in rec.jobs.items()},
            "nodes": rec.nodes, "signalled_pids": rec.signalled_pids, "errors": rec.errors}  # fmt: skip
