"""Batch metrics from RewardResults, named for logging: reward/<term>, reward/fail_rate[/<kind>], reward/time/<step>."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Sequence

from vinci_rl.reward.scorer import RewardResult


def aggregate(results: Sequence[RewardResult], prefix: str = "reward") -> dict[str, float]:
    """Means over the batch. A term's mean is over the samples that report it; fail_rate/<kind> counts statuses."""
    if not results:
        return {}
    n = len(results)
    out = {f"{prefix}/overall": sum(r.overall for r in results) / n}
    sums: dict[str, list[float]] = defaultdict(list)
    times: dict[str, list[float]] = defaultdict(list)
    for r in results:
        for name, v in r.terms.items():
            sums[name].append(v)
        for name, v in r.timings.items():
            times[name].append(v)
    for name, vs in sums.items():
        out[f"{prefix}/{name}"] = sum(vs) / len(vs)
    failures = Counter(r.status for r in results if r.status != "ok")
    out[f"{prefix}/fail_rate"] = sum(failures.values()) / n
    for kind, count in failures.items():
        out[f"{prefix}/fail_rate/{kind}"] = count / n
    for name, vs in times.items():
        out[f"{prefix}/time/{name.removesuffix('_s')}_s"] = sum(vs) / len(vs)
    return out
