"""Resuming a run folder: the checkpoint chosen, the logs cut back to it, verl pointed at it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from vinci_rl.cluster.resume import checkpoint_steps, logged_through, plan, resume, truncate


def _run(tmp_path: Path, logged: list[int], ckpts: list[int], latest: int | None = None, samples_per_step: int = 2,
         broken_tail: bool = False) -> Path:  # fmt: skip
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    metrics = "".join(json.dumps({"step": s, "data": {"x": s}}) + "\n" for s in logged)
    samples = "".join(json.dumps({"step": s, "i": i}) + "\n" for s in logged for i in range(samples_per_step))
    if broken_tail:  # a kill in the middle of a write
        metrics += '{"step": 9, "da'
        samples += '{"step"'
    (run / "metrics.jsonl").write_text(metrics)
    (run / "samples.jsonl").write_text(samples)
    for c in ckpts:
        d = run / "checkpoints" / f"global_step_{c}"
        d.mkdir()
        (d / "data.pt").write_bytes(b"x")
    if ckpts or latest is not None:
        (run / "checkpoints" / "latest_checkpointed_iteration.txt").write_text(str(latest if latest is not None else max(ckpts)))
    return run


@pytest.mark.parametrize(
    "logged, ckpts, latest, expected",
    [
        ([1, 2, 3], [2], None, 2),  # killed after step 3: step 3 is redone
        ([1, 2, 3, 4, 5], [2, 4], None, 4),
        ([1, 2, 3], [2, 4], None, 2),  # checkpoint 4 saved, step 4 never logged (killed in between): not used
        ([1, 2, 3, 4], [2, 4], 2, 2),  # global_step_4 exists but the tracker says 2: the save did not finish
        ([1, 2], [], None, 0),  # no checkpoint: start over
        ([1, 3, 4], [4], None, 0),  # a gap in the log: nothing after step 1 can be trusted
        ([], [], None, 0),
    ],
)
def test_resume_step_is_the_last_checkpoint_whose_steps_are_all_logged(tmp_path, logged, ckpts, latest, expected):
    run = _run(tmp_path, logged, ckpts, latest)
    p = plan(run, run / "checkpoints")
    assert p.step == expected
    assert p.checkpoint == (run / "checkpoints" / f"global_step_{expected}" if expected else None)


def test_resume_cuts_both_logs_back_and_points_verl_at_the_checkpoint(tmp_path):
    run = _run(tmp_path, [1, 2, 3], [2], broken_tail=True)
    cfg = OmegaConf.create({"trainer": {"default_local_dir": str(run / "checkpoints"), "resume_mode": "auto", "resume_from_path": None}})
    p = resume(cfg, run)
    assert p.step == 2 and p.dropped == {"metrics.jsonl": 2, "samples.jsonl": 3}
    assert [json.loads(x)["step"] for x in (run / "metrics.jsonl").read_text().splitlines()] == [1, 2]
    assert [json.loads(x)["step"] for x in (run / "samples.jsonl").read_text().splitlines()] == [1, 1, 2, 2]
    assert cfg.trainer.resume_mode == "resume_path" and cfg.trainer.resume_from_path.endswith("global_step_2")
    assert "resuming from" in p.describe() and "(step 2)" in p.describe()


def test_a_run_folder_without_a_usable_checkpoint_starts_clean(tmp_path):
    run = _run(tmp_path, [1, 2], [])
    cfg = OmegaConf.create({"trainer": {"default_local_dir": str(run / "checkpoints"), "resume_mode": "auto"}})
    p = resume(cfg, run)
    assert p.step == 0 and (run / "metrics.jsonl").read_text() == "" and (run / "samples.jsonl").read_text() == ""
    # verl's own "auto" would pick up any checkpoint folder it finds: it is switched off
    assert cfg.trainer.resume_mode == "disable" and p.describe().startswith("starting at step 1")


def test_explicit_resume_modes_are_kept(tmp_path):
    run = _run(tmp_path, [1, 2, 3, 4], [2, 4])
    assert plan(run, run / "checkpoints", "disable").step == 0
    p = plan(run, run / "checkpoints", "resume_path", str(run / "checkpoints" / "global_step_2"))
    assert p.step == 2 and p.dropped["metrics.jsonl"] == 2
    with pytest.raises(ValueError, match="global_step_N"):
        plan(run, run / "checkpoints", "resume_path", str(run / "checkpoints"))


def test_truncate_is_a_no_op_on_clean_logs_and_helpers_agree(tmp_path):
    run = _run(tmp_path, [1, 2, 3], [2, 3])
    before = (run / "metrics.jsonl").read_text()
    assert truncate(run / "metrics.jsonl", 3) == 0 and (run / "metrics.jsonl").read_text() == before
    assert logged_through(run / "metrics.jsonl") == 3 and checkpoint_steps(run / "checkpoints") == [2, 3]
    assert truncate(tmp_path / "missing.jsonl", 1) == 0


def test_verls_file_logger_appends_with_our_fix(tmp_path, monkeypatch):
    """verl 0.9.1's FileLogger opens its file with "wb": a resumed run would lose its first steps' metrics."""
    from verl.utils import tracking

    from vinci_rl.verl_fixes import file_logger_append

    path = tmp_path / "metrics.jsonl"
    monkeypatch.setenv("VERL_FILE_LOGGER_PATH", str(path))
    path.write_text('{"step": 1, "data": {}}\n')
    original = tracking.FileLogger.__init__
    try:
        tracking.FileLogger.__init__ = file_logger_append._verl_init
        logger = tracking.FileLogger("p", "e")
        logger.finish()
        assert path.read_text() == "", "verl's own logger should truncate (else the fix is not needed)"
        path.write_text('{"step": 1, "data": {}}\n')
        file_logger_append.apply()
        logger = tracking.FileLogger("p", "e")
        logger.log({"x": 1.0}, step=2)
        logger.finish()
        assert [json.loads(x)["step"] for x in path.read_text().splitlines()] == [1, 2]
    finally:
        tracking.FileLogger.__init__ = original
