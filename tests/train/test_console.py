"""The console a person reads: one line per step from metrics.jsonl, everything else in the run's log."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import time

from vinci_rl.train.console import StepPrinter, step_line


def test_grpo_and_sft_lines_carry_the_essentials():
    grpo = step_line(
        "grpo", 3, 20,
        {"critic/score/mean": -0.25, "reward/pixel_l2/mean": 0.1, "reward/reward_time_s/mean": 0.3,
         "reward/status/ok": 0.875, "timing_s/step": 4.0, "actor/lr": 1e-4},
        4.0, 68.0,
    )  # fmt: skip
    assert grpo == "[grpo]  step  3/20  reward -0.250  pixel_l2 +0.10  ok 88%  step 4.0s  ETA 1m08s"
    ramped = step_line("grpo", 1, 2, {"critic/score/mean": 0.5, "reward/weight/length": 0.05}, None, None)
    assert ramped == "[grpo]  step 1/2  reward +0.500  length weight 0.050"
    sft = step_line("sft", 40, 250, {"train/loss": 0.62, "train/lr": 2e-3}, 1.5, 315.0)
    assert sft == "[sft]  step  40/250  loss 0.6200  lr 2.0e-03  step 1.5s  ETA 5m15s"


def _record(step: int, **data) -> str:
    return json.dumps({"step": step, "data": data}) + "\n"


def test_step_printer_prints_each_new_step_once_and_survives_a_restarted_file(tmp_path):
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text(_record(1, **{"train/loss": 9.0}))  # an earlier run's step: not printed again
    out = io.StringIO()
    with StepPrinter(metrics, 4, "sft", out, poll_s=0.05):
        with metrics.open("a") as f:
            f.write(_record(2, **{"train/loss": 2.0}))
            f.write('{"step": 3, "data": {"train/lo')  # half a line: waits for the rest
        time.sleep(0.3)
        with metrics.open("a") as f:
            f.write('ss": 1.0}}\n')
        time.sleep(0.3)
        metrics.write_text(_record(4, **{"train/loss": 0.5}))  # the logger started the file anew
        time.sleep(0.3)
    lines = out.getvalue().splitlines()
    assert [line.split("loss ")[1].split()[0] for line in lines] == ["2.0000", "1.0000", "0.5000"]
    assert "step 4/4" in lines[-1] and "ETA 0s" in lines[-1]


def test_quiet_console_sends_everything_else_to_the_log(tmp_path):
    """Output written straight to the file descriptors (as C code and Ray's log forwarding do) lands in the log;
    the terminal stream gets only what the command writes to it."""
    script = textwrap.dedent(
        f"""
        import os, sys, warnings
        from pathlib import Path
        from vinci_rl.train.console import quiet_console
        with quiet_console(Path({str(tmp_path / 'train.log')!r})) as term:
            print("verl's metric dump")
            os.write(2, b"a worker's stderr\\n")
            warnings.warn("a library warning")
            term.write("[grpo] step 1/1\\n")
        print("after")
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["[grpo] step 1/1", "after"]
    assert proc.stderr == ""
    log = (tmp_path / "train.log").read_text()
    assert "verl's metric dump" in log and "a worker's stderr" in log and "a library warning" in log
