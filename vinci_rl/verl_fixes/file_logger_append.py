"""verl 0.9.1's file logger erases the metrics of a resumed run.

`verl.utils.tracking.FileLogger` opens `VERL_FILE_LOGGER_PATH` with mode "wb": every start truncates it. A run
that resumes from its checkpoint at step c (trainer.resume_mode) therefore loses the lines of steps 1..c, and its
metrics file starts at c + 1.

Fix: open the file for appending. vinci-rl's resume (`vinci_rl.cluster.resume`) cuts the file back to the
checkpoint's step before training starts (and empties it for a run that starts at step 1), so appending gives
one metrics file with every step exactly once.
"""

from __future__ import annotations

import os


def _init(self, project_name: str, experiment_name: str) -> None:
    self.project_name = project_name
    self.experiment_name = experiment_name
    self.filepath = os.getenv("VERL_FILE_LOGGER_PATH", None)
    if self.filepath is None:  # verl's default location, unchanged
        root_path = os.path.expanduser(os.getenv("VERL_FILE_LOGGER_ROOT", "."))
        directory = os.path.join(root_path, self.project_name)
        os.makedirs(directory, exist_ok=True)
        self.filepath = os.path.join(directory, f"{self.experiment_name}.jsonl")
    print(f"Creating file logger at {os.path.abspath(self.filepath)} (appending)")
    self.fp = open(self.filepath, "ab", buffering=0)


_verl_init = None  # verl's own __init__, kept for the test that shows the bug


def apply() -> None:
    global _verl_init
    from verl.utils.tracking import FileLogger

    if FileLogger.__init__ is not _init:
        _verl_init = FileLogger.__init__
    FileLogger.__init__ = _init


__all__ = ["apply"]
