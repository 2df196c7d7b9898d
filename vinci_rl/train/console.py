"""A console a person can read: one compact line per training step, everything else in the run's log file.

verl prints its whole metric dict every step, its config, and Ray forwards every worker's output and warnings
to the driver. `quiet_console(log_path)` sends all of that (this process's stdout/stderr at the file-descriptor
level, so C-level and Ray-forwarded output too) to `log_path`, and `StepPrinter` tails the run's
`metrics.jsonl` (verl's file logger) from a thread, printing one line per step to the real terminal:

    [grpo] step  3/20  reward -0.412  pixel_l2 -0.31  canny_l2 -0.52  ok 88%  step 4.1s  ETA 1m09s
    [sft]  step 40/250  loss 0.6211  lr 1.9e-03  step 1.5s  ETA 5m15s
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import IO, Iterator

from vinci_rl.reward.metrics import status_key, term_key, term_names

REWARD_KEYS = ("critic/score/mean",)  # verl: the mean sequence reward of the step


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def _first(data: dict, keys: tuple[str, ...]) -> float | None:
    return next((float(data[k]) for k in keys if k in data), None)


def step_line(tag: str, step: int, total: int | None, data: dict, step_s: float | None, eta_s: float | None) -> str:
    """One line for a step's metrics: GRPO (reward, main terms, render-ok rate) or SFT (loss, lr)."""
    width = len(str(total)) if total else 1
    parts = [f"[{tag}]", f"step {step:>{width}}/{total}" if total else f"step {step}"]
    reward = _first(data, REWARD_KEYS)
    if reward is not None:
        parts.append(f"reward {reward:+.3f}")
        parts += [f"{t} {float(data[term_key(t)]):+.2f}" for t in term_names(data) if "/" not in t]
        if status_key("ok") in data:
            parts.append(f"ok {100 * float(data[status_key('ok')]):.0f}%")
        parts += [f"{k.rsplit('/', 1)[1]} weight {float(v):.3f}" for k, v in data.items() if k.startswith("reward/weight/")]
    if "train/loss" in data:
        parts.append(f"loss {float(data['train/loss']):.4f}")
    if "train/lr" in data:
        parts.append(f"lr {float(data['train/lr']):.1e}")
    if "val/loss" in data and "train/loss" not in data:
        parts.append(f"val/loss {float(data['val/loss']):.4f}")
    if step_s is not None:
        parts.append(f"step {step_s:.1f}s")
    if eta_s is not None:
        parts.append(f"ETA {_duration(eta_s)}")
    return "  ".join(parts)


class StepPrinter:
    """Tails a verl metrics.jsonl from a thread and prints one step_line per new record."""

    def __init__(self, metrics: Path, total: int | None, tag: str, out: IO[str], poll_s: float = 0.5):
        self.metrics, self.total, self.tag, self.out, self.poll_s = metrics, total, tag, out, poll_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vinci-step-printer", daemon=True)
        # A resumed run's file already holds earlier steps: print only what this run adds.
        self._offset = metrics.stat().st_size if metrics.exists() else 0
        self._times: list[float] = []
        self.steps_seen = 0

    def __enter__(self) -> "StepPrinter":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._read_new()  # the last step written before the run ended

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            self._read_new()

    def _read_new(self) -> None:
        try:
            if self.metrics.stat().st_size < self._offset:  # the logger started the file anew
                self._offset = 0
            with self.metrics.open("rb") as f:
                f.seek(self._offset)
                chunk = f.read()
        except OSError:
            return
        end = chunk.rfind(b"\n")
        if end < 0:
            return
        self._offset += end + 1
        for line in chunk[: end + 1].splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            self._print(int(record.get("step", 0)), record.get("data") or {})

    def _print(self, step: int, data: dict) -> None:
        now = time.monotonic()
        step_s = data.get("timing_s/step")
        if step_s is None and self._times:  # the mean gap over the last steps (files are polled, not watched)
            recent = [*self._times[-20:], now]
            step_s = (recent[-1] - recent[0]) / (len(recent) - 1)
        if "train/loss" in data or any(k in data for k in REWARD_KEYS):
            self._times.append(now)
            self.steps_seen += 1
        eta = None
        if self.total and step_s is not None:
            eta = max(0, self.total - step) * float(step_s)
        self.out.write(step_line(self.tag, step, self.total, data, None if step_s is None else float(step_s), eta) + "\n")
        self.out.flush()


@contextlib.contextmanager
def quiet_console(log_path: Path, verbose: bool = False) -> Iterator[IO[str]]:
    """Redirects this process's stdout and stderr (file descriptors 1 and 2) to log_path; yields a text stream on
    the original terminal for the lines a person should see. verbose: no redirection (everything on screen)."""
    if verbose:
        yield sys.stdout
        return
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved_out), "w", buffering=1)
    with open(log_path, "ab", buffering=0) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            terminal.close()


def _tail(path: Path, lines: int = 25) -> str:
    try:
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - 64_000))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


def run_quietly(fn, run_dir: Path, total: int | None, tag: str, verbose: bool):
    """fn() with its output in RUN_DIR/train.log and one line per step on the terminal (everything on the
    terminal when verbose). Returns fn's result; on failure names the log before re-raising."""
    log = run_dir / "train.log"
    with quiet_console(log, verbose) as term:
        if not verbose:
            term.write(f"[{tag}] full output (verl's per-step metrics, config, warnings): {log}\n")
        try:
            if verbose:
                return fn()
            with StepPrinter(run_dir / "metrics.jsonl", total, tag, term):
                return fn()
        except BaseException:
            if not verbose:
                term.write(f"[{tag}] failed; the last lines of {log}:\n{_tail(log)}\n")
            raise
