"""A reward term's weight ramped over training steps (RLRF grows the length weight from 0.1 during training).

Recipe block `vinci.weight_ramp`: the weight of `term` is `start` at step 1, grows linearly to `end` at step
`steps` and stays there (`end` default: the term's weight in `vinci.reward`). The trainer writes each step's
weight into the batch (WEIGHT_KEY) and logs it as `reward/weight/<term>`; the `vinci` reward manager recomputes
each training sample's overall reward with it. Validation keeps the weights of `vinci.reward`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from vinci_rl.typed_config import build

WEIGHT_KEY = "vinci_ramped_weight"  # the per-step column: the ramped term's weight at this step


@dataclass(frozen=True)
class WeightRamp:
    # The reward term whose weight is ramped (it must be one of vinci.reward's weights).
    term: str = "length"
    # Its weight at step 1.
    start: float = 0.1
    # Its weight from step `steps` on (default: its weight in vinci.reward).
    end: float | None = None
    # The step at which the ramp reaches `end`.
    steps: int = 100

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, source: str = "vinci.weight_ramp") -> "WeightRamp":
        ramp = build(cls, data, source, "weight_ramp")
        if ramp.steps < 1:
            raise ValueError(f"{source}.steps: {ramp.steps} (must be >= 1)")
        if ramp.start < 0 or (ramp.end is not None and ramp.end < 0):
            raise ValueError(f"{source}: start and end are weights (>= 0), got start={ramp.start} end={ramp.end}")
        return ramp

    def resolved(self, weights: Mapping[str, float], source: str = "vinci.weight_ramp") -> "WeightRamp":
        """This ramp with `end` filled in from the reward's weights; the term must be one of them."""
        if self.term not in weights:
            raise ValueError(f"{source}.term: {self.term!r} is not a term of vinci.reward (its terms: {sorted(weights)})")
        return self if self.end is not None else dataclasses.replace(self, end=float(weights[self.term]))

    def weight(self, step: int) -> float:
        """The term's weight at `step` (1-based)."""
        end = self.start if self.end is None else self.end
        frac = min(1.0, max(0, step - 1) / max(1, self.steps - 1))
        return float(self.start + (end - self.start) * frac)
