"""How long a step's rewards keep the trainer waiting after generation ends: `reward_pool/exposed_s`.

Two per-sample times, both taken on the agent-loop worker's clock (no clock skew between machines):
- generated_at: when the rollout's last token came back from vLLM — the agent loop stamps it into the output's
  extra_fields (`mark_generated`, key `vinci/generated_at`, wall-clock seconds);
- ready_at = generated_at + compute_score: verl's agent-loop worker starts scoring right after the agent loop
  returns and times it until the reward is back (AgentLoopMetrics.compute_score, seconds; the pool's queueing and
  transfers included).

Per step, over the samples the step trains on:

    reward_pool/exposed_s = max(ready_at) - max(generated_at)     (>= 0)
        the time from the step's last rollout finishing generation to the step's rewards all being ready: the
        part of reward computation that no generation overlaps. Scoring that ran while other rollouts still
        generated is hidden; this is what is left.
    reward_pool/compute_s = sum of the samples' scoring seconds (the scorer's own `reward_time_s`)
        the total reward work of the step, hidden or not.

Samples without a stamp (an agent loop that does not call `mark_generated`) are left out of exposed_s; with none
stamped, exposed_s is not reported.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

GENERATED_AT_KEY = "vinci/generated_at"  # in an agent loop output's extra_fields: wall-clock end of generation
COMPUTE_SCORE_KEY = "compute_score"  # verl's AgentLoopMetrics field: seconds from generation end to reward ready
EXPOSED_METRIC = "reward_pool/exposed_s"
COMPUTE_METRIC = "reward_pool/compute_s"


def mark_generated(output, now: float | None = None):
    """Stamp an agent loop output (or each of a list of them) with the time its generation ended."""
    stamp = time.time() if now is None else now
    for out in output if isinstance(output, list) else [output]:
        out.extra_fields[GENERATED_AT_KEY] = stamp
    return output


@dataclass(frozen=True)
class SampleTiming:
    generated_at: float | None  # wall clock, seconds; None when the agent loop did not stamp it
    wait_s: float | None  # generation end -> reward ready (verl's compute_score timer)
    compute_s: float | None  # the scorer's own seconds for this sample

    @property
    def ready_at(self) -> float | None:
        if self.generated_at is None or self.wait_s is None:
            return None
        return self.generated_at + self.wait_s


def _number(value) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def sample_timing(extra_fields: Mapping | None, loop_metrics: Mapping | None, reward_info: Mapping | None,
                  time_key: str) -> SampleTiming:  # fmt: skip
    """One sample's times from what verl stores for it: the agent loop's extra_fields and metrics, and the
    reward manager's reward_extra_info (whose `time_key` holds the scorer's seconds)."""
    return SampleTiming(
        generated_at=_number((extra_fields or {}).get(GENERATED_AT_KEY)),
        wait_s=_number((loop_metrics or {}).get(COMPUTE_SCORE_KEY)),
        compute_s=_number((reward_info or {}).get(time_key)),
    )


def exposed_seconds(samples: Sequence[SampleTiming]) -> float | None:
    """max(ready_at) - max(generated_at) over the stamped samples (0 when rewards were ready before the last
    generation ended); None when no sample is stamped."""
    stamped = [s for s in samples if s.ready_at is not None]
    if not stamped:
        return None
    return max(0.0, max(s.ready_at for s in stamped) - max(s.generated_at for s in stamped))


def reward_timing_metrics(samples: Sequence[SampleTiming]) -> dict[str, float]:
    """The step's `reward_pool/exposed_s` (when known) and `reward_pool/compute_s`."""
    metrics = {COMPUTE_METRIC: float(sum(s.compute_s for s in samples if s.compute_s is not None))}
    exposed = exposed_seconds(samples)
    if exposed is not None:
        metrics[EXPOSED_METRIC] = exposed
    return metrics
