"""Resuming a run in its run folder: from the last checkpoint whose steps are all logged, with the logs cut
back to it, so the step count, the schedule, samples.jsonl and metrics.jsonl continue without a duplicate or a gap.

A run killed after step k has checkpoints up to some step c <= k and logs up to k (or part of k: verl saves the
checkpoint of a step before it logs it, and a kill can land in between, or in the middle of a line). Resuming
from c redoes steps c+1..k, so their lines are removed first; a checkpoint whose step is not fully logged is
not used (the previous one is). verl then loads the checkpoint (weights, optimizer, dataloader position) and
continues at step c+1; the `vinci_sync` trainer appends to samples.jsonl and verl's file logger appends to
metrics.jsonl (vinci_rl.verl_fixes.file_logger_append).

Called by `vinci-rl train` before training, in the process that owns the run folder.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig, open_dict

from vinci_rl.train.sample_log import SAMPLES_FILE

METRICS = "metrics.jsonl"
SAMPLES = SAMPLES_FILE
STEP_DIR = re.compile(r"^global_step_(\d+)$")


@dataclass
class ResumePlan:
    step: int  # steps kept: training continues at step + 1 (0: from scratch)
    checkpoint: Path | None
    dropped: dict[str, int]  # file name -> lines removed (steps redone, broken lines)

    def describe(self) -> str:
        cut = ", ".join(f"{n} lines of {f}" for f, n in self.dropped.items() if n)
        where = f"resuming from {self.checkpoint} (step {self.step})" if self.checkpoint else "starting at step 1"
        return where + (f"; removed {cut}" if cut else "")


def _records(path: Path) -> list[tuple[int | None, str]]:
    """(step or None for a broken line, raw line) of a JSON-lines log."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            step = json.loads(line)["step"]
            out.append((int(step), line))
        except (ValueError, KeyError, TypeError):
            out.append((None, line))
    return out


def logged_through(metrics: Path) -> int:
    """The last step s such that metrics.jsonl has a line for every step 1..s."""
    steps = {s for s, _ in _records(metrics) if s is not None}
    s = 0
    while s + 1 in steps:
        s += 1
    return s


def checkpoint_steps(checkpoints: Path) -> list[int]:
    """Steps with a complete checkpoint: verl writes data.pt after the model, and the tracker file last."""
    if not checkpoints.is_dir():
        return []
    tracker = checkpoints / "latest_checkpointed_iteration.txt"
    latest = int(tracker.read_text().strip()) if tracker.exists() else -1
    steps = []
    for d in checkpoints.iterdir():
        m = STEP_DIR.match(d.name)
        if m and (d / "data.pt").exists() and int(m.group(1)) <= latest:
            steps.append(int(m.group(1)))
    return sorted(steps)


def plan(run_dir: Path, checkpoints: Path, resume_mode: str = "auto", resume_from: str | None = None) -> ResumePlan:
    if resume_mode == "disable":
        step, ckpt = 0, None
    elif resume_mode == "resume_path":
        m = STEP_DIR.match(Path(str(resume_from)).name)
        if not m:
            raise ValueError(f"trainer.resume_from_path={resume_from}: expected a .../global_step_N folder")
        step, ckpt = int(m.group(1)), Path(str(resume_from))
    else:
        usable = [c for c in checkpoint_steps(checkpoints) if c <= logged_through(run_dir / METRICS)]
        step = max(usable, default=0)
        ckpt = checkpoints / f"global_step_{step}" if step else None
    dropped = {name: sum(1 for s, _ in _records(run_dir / name) if s is None or s > step) for name in (METRICS, SAMPLES)}
    return ResumePlan(step, ckpt, dropped)


def truncate(path: Path, step: int) -> int:
    """Keep the well-formed lines of steps <= step (atomically); returns how many lines were removed."""
    records = _records(path)
    kept = [line for s, line in records if s is not None and s <= step]
    if len(kept) == len(records):
        return 0
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("".join(line + "\n" for line in kept))
    tmp.replace(path)
    return len(records) - len(kept)


def resume(cfg: DictConfig, run_dir: Path) -> ResumePlan:
    """Plan the resume of the run in run_dir, cut its logs back, and point verl at the checkpoint."""
    trainer = cfg.trainer
    p = plan(run_dir, Path(str(trainer.default_local_dir)), str(trainer.get("resume_mode", "auto")),
             trainer.get("resume_from_path"))  # fmt: skip
    for name in (METRICS, SAMPLES):
        truncate(run_dir / name, p.step)
    with open_dict(cfg):
        # verl's own "auto" would take the newest checkpoint even when its step was never logged
        trainer.resume_mode = "resume_path" if p.checkpoint else "disable"
        trainer.resume_from_path = str(p.checkpoint) if p.checkpoint else None
    return p
