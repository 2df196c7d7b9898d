"""The reward's step metrics and their names, for the trainer and the reward pool alike.

    reward/<term>/mean        a term's mean over the step's samples that report it (finite values only);
                              reward_time_s likewise (seconds per sample)
    reward/status/<kind>      the share of the step's samples that ended with this status (they sum to 1)
    reward/scored_samples     samples the reward manager scored; reward/samples: samples in the step
    reward_pool/fail_rate     the pool's share of requests that did not end ok, and fail_rate/<kind> per status

`step_metrics` aggregates the per-sample rows the `vinci` reward manager attaches to each rollout
(vinci_rl/train/sample_log.py names their bookkeeping keys); `fail_rates` is the pool's per-status block
(reward_workers/pool_metrics.py). Readers of metrics.jsonl find the names with `term_names`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Iterable, Mapping

import numpy as np

from vinci_rl.train.sample_log import BOOKKEEPING_KEYS, SCORED_KEY, STATUS_PREFIX

PREFIX = "reward/"
MEAN_SUFFIX = "/mean"
TIME_KEY = "reward_time_s"  # per-sample scoring time in the rows: logged as reward/reward_time_s/mean


def term_key(term: str) -> str:
    return f"{PREFIX}{term}{MEAN_SUFFIX}"


def status_key(kind: str) -> str:
    return f"{PREFIX}{STATUS_PREFIX}{kind}"


def term_names(metric_keys: Iterable[str], with_time: bool = False) -> list[str]:
    """The terms whose step means a metrics row holds (sorted); the scoring time only when asked for."""
    names = {k[len(PREFIX) : -len(MEAN_SUFFIX)] for k in metric_keys if k.startswith(PREFIX) and k.endswith(MEAN_SUFFIX)}
    return sorted(n for n in names if with_time or n != TIME_KEY)


def step_metrics(rows: list[Mapping[str, float]]) -> dict[str, float]:
    """The step's reward metrics from its samples' reward_extra_info rows (names above)."""
    values: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        for key, value in row.items():
            if isinstance(value, int | float | np.floating | np.integer) and math.isfinite(float(value)):
                values[key].append(float(value))
    metrics = {}
    for key, vals in values.items():
        if key.startswith(STATUS_PREFIX):
            metrics[status_key(key[len(STATUS_PREFIX) :])] = float(np.mean(vals))
        elif key not in BOOKKEEPING_KEYS:
            metrics[term_key(key)] = float(np.mean(vals))
    metrics[f"{PREFIX}scored_samples"] = float(sum(values.get(SCORED_KEY, [])))
    metrics[f"{PREFIX}samples"] = float(len(rows))
    return metrics


def fail_rates(status_counts: Mapping[str, int], samples: int, kinds: Iterable[str]) -> dict[str, float]:
    """fail_rate (share not ok) and fail_rate/<kind> for every kind but ok; 0 without samples."""
    share = (lambda n: n / samples) if samples else (lambda n: 0.0)
    out = {"fail_rate": share(sum(n for s, n in status_counts.items() if s != "ok"))}
    for kind in kinds:
        if kind != "ok":
            out[f"fail_rate/{kind}"] = share(status_counts.get(kind, 0))
    return out
