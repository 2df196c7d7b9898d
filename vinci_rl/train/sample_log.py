"""The sample log: one JSON line per scored rollout in `<run_dir>/samples.jsonl`. The `vinci_sync` trainer writes it
each step; the run report, the training pictures, the schedule bench and the cluster drill's checks read it. Its
file name and keys are defined here only.

    records = [sample_record(step, key, text, n_tokens, budget, info) for ...]
    append_samples(run_dir, records)
    for r in read_samples(run_dir):  r.step, r.index, r.reward, r.status, r.terms(["ssim"]), r.response

A line: step, key (the rollout's key in verl's batch), response (decoded), response_tokens, max_tokens (the step's
generation budget, null without a schedule), status (the reward's status), reward_extra_info (the reward manager's
row: every term, `status/<kind>` 0/1 flags, `reward_time_s`, and the bookkeeping keys below).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SAMPLES_FILE = "samples.jsonl"
# Bookkeeping keys of a sample's reward_extra_info (the reward manager writes them, the sample log carries them).
SCORED_KEY = "vinci/scored"  # 1.0 on every sample the reward manager scored: lets tests count them
INDEX_KEY = "vinci/index"  # the dataset row (extra_info.index), so sample logs can find the reference image
REWARD_KEY = "vinci/reward"  # the overall reward, repeated for the sample log
BOOKKEEPING_KEYS = (SCORED_KEY, INDEX_KEY, REWARD_KEY)
STATUS_PREFIX = "status/"  # status/<kind>: 1.0 for the sample's status, 0.0 for every other


@dataclass
class SampleRecord:
    step: int
    key: str
    response: str
    response_tokens: int
    max_tokens: int | None
    status: str | None
    reward_extra_info: dict[str, Any] = field(default_factory=dict)

    @property
    def index(self) -> int:
        """The dataset row of the prompt (-1 when unknown)."""
        return int(self.reward_extra_info.get(INDEX_KEY, -1))

    @property
    def reward(self) -> float:
        return float(self.reward_extra_info.get(REWARD_KEY, math.nan))

    @property
    def scored(self) -> bool:
        return self.reward_extra_info.get(SCORED_KEY) == 1.0

    def terms(self, names) -> dict[str, float]:
        """The named reward terms this sample reports."""
        return {n: float(self.reward_extra_info[n]) for n in names if n in self.reward_extra_info}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "sample log") -> "SampleRecord":
        try:
            return cls(int(d["step"]), str(d["key"]), str(d["response"]), int(d["response_tokens"]),
                       d.get("max_tokens"), d.get("status"), dict(d.get("reward_extra_info") or {}))  # fmt: skip
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{where}: not a sample record ({type(e).__name__}: {e})") from e


def status_of(info: dict[str, Any]) -> str | None:
    """The status a reward_extra_info row flags (None when it flags none)."""
    return next((k[len(STATUS_PREFIX) :] for k, v in info.items() if k.startswith(STATUS_PREFIX) and v), None)


def sample_record(step: int, key: Any, response: str, response_tokens: int, max_tokens: int | None,
                  info: dict[str, Any]) -> SampleRecord:  # fmt: skip
    return SampleRecord(int(step), str(key), response, int(response_tokens), max_tokens, status_of(info), info)


def samples_path(run_dir: str | Path) -> Path:
    return Path(run_dir) / SAMPLES_FILE


def append_samples(run_dir: str | Path, records: list[SampleRecord]) -> Path:
    path = samples_path(run_dir)
    with path.open("a") as f:
        f.writelines(json.dumps(r.to_dict(), default=float) + "\n" for r in records)
    return path


def read_samples(run_dir_or_file: str | Path) -> list[SampleRecord]:
    """The records of a sample log (a run folder or the file itself); [] when there is none yet."""
    path = Path(run_dir_or_file)
    path = samples_path(path) if path.is_dir() else path
    if not path.exists():
        return []
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                out.append(SampleRecord.from_dict(json.loads(line), f"{path}:{n}"))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: not JSON: {e}") from e
    return out
