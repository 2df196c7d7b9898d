"""Per-step generation budgets (RLRF's dynamic max length).

Policies (recipe block `vinci.schedule`):
- `batch_max_gt`: max ground-truth token length in the step's batch x factor + margin, clamped to
  [min_tokens, data.max_response_length]. Early steps stop runaway outputs; the budget follows the data.
- `linear`: start_tokens at step 1 ramping linearly to end_tokens at ramp_steps, clamped the same way.
- `fixed`: fixed_tokens (default: data.max_response_length) every step.
`data.max_response_length` stays verl's padding cap; the budget is the `max_tokens` each request gets.
Ground-truth lengths come from the `extra_info.gt_tokens` column written at prepare time (-1 = unknown);
a batch with none known falls back to the cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from vinci_rl.typed_config import build

POLICIES = ("batch_max_gt", "linear", "fixed")
BUDGET_KEY = "vinci_max_tokens"  # the per-step column the agent loop copies into max_tokens


@dataclass
class MaxLengthSchedule:
    # batch_max_gt | linear | fixed
    policy: str = "batch_max_gt"
    # batch_max_gt: budget = max(gt_tokens) * factor + margin
    factor: float = 1.0
    margin: int = 16
    # lower clamp for every policy (the upper clamp is data.max_response_length)
    min_tokens: int = 8
    # linear: start_tokens at step 1 -> end_tokens at step ramp_steps (end_tokens default: the cap)
    start_tokens: int = 64
    end_tokens: int | None = None
    ramp_steps: int = 100
    # fixed: the budget every step (default: the cap)
    fixed_tokens: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, source: str = "vinci.schedule") -> "MaxLengthSchedule":
        sched = build(cls, data, source, "schedule")
        if sched.policy not in POLICIES:
            raise ValueError(f"{source}.policy: {sched.policy!r} is not one of {POLICIES}")
        if sched.min_tokens < 1 or sched.factor <= 0 or sched.ramp_steps < 1:
            raise ValueError(f"{source}: min_tokens >= 1, factor > 0 and ramp_steps >= 1 are required")
        return sched

    def budget(self, step: int, gt_tokens: list[int], cap: int) -> int:
        """The max_tokens for `step` (1-based) of a batch with these ground-truth lengths."""
        if self.policy == "batch_max_gt":
            known = [g for g in gt_tokens if g is not None and g >= 0]
            raw = max(known) * self.factor + self.margin if known else cap
        elif self.policy == "linear":
            end = cap if self.end_tokens is None else self.end_tokens
            frac = min(1.0, max(0, step - 1) / max(1, self.ramp_steps - 1))
            raw = self.start_tokens + (end - self.start_tokens) * frac
        else:
            raw = cap if self.fixed_tokens is None else self.fixed_tokens
        return int(max(self.min_tokens, min(cap, round(raw))))


def truncation_rate(response_lengths: list[int], budget: int) -> float:
    """Share of responses that used the whole budget (cut off rather than finished)."""
    if not response_lengths:
        return 0.0
    return sum(1 for n in response_lengths if n >= budget) / len(response_lengths)
