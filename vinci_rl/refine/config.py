"""The recipe's `vinci.refine` block: how many turns a render-and-refine trajectory may take, when it stops, what
the feedback turn shows, and how the trajectory's reward is formed from its turns' rewards.

    vinci:
      refine:
        turns: 2              # model turns at most (1 = single-turn)
        stop_score: 0.9       # stop once a turn's overall reward reaches this (null: never early on score)
        show_scores: true     # the feedback turn lists the render status and the reward terms as text
        reward: final         # final | improvement | discounted
        improvement_weight: 1.0
        discount: 0.5
        budget: turn          # the step's max-length budget applies to each turn, or to all turns together
        trace_dir: null       # a folder: one JSON + the feedback images per trajectory (debugging, tests)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from vinci_rl.typed_config import build

REWARD_MODES = ("final", "improvement", "discounted")
BUDGET_MODES = ("turn", "trajectory")
DEFAULT_FEEDBACK = (
    "This is how your code renders. Compare it with the first image and answer with the complete corrected code."
)


@dataclass(frozen=True)
class RefineConfig:
    # model turns at most; turn 1 answers the task, every later turn answers the render of the previous one
    turns: int = 2
    # stop once a turn's overall reward is >= this (None: only max turns, repeated code or length stop)
    stop_score: float | None = None
    # the feedback turn lists the render status and the reward terms after the render
    show_scores: bool = False
    # final: the last turn's reward; improvement: final + improvement_weight * (final - first);
    # discounted: sum_t discount^(T-t) r_t / sum_t discount^(T-t) over the T turns taken
    reward: str = "final"
    improvement_weight: float = 1.0
    discount: float = 0.5
    # turn: every turn may use the step's budget (vinci.schedule); trajectory: all turns together share it
    budget: str = "turn"
    # the text of the feedback turn, after the render
    feedback: str = DEFAULT_FEEDBACK
    # a folder: each trajectory's turns, token masks and the images sent to the model are written there
    trace_dir: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, source: str = "vinci.refine") -> "RefineConfig":
        cfg = build(cls, data, source, "refine")
        cfg._check(source)
        return cfg

    def _check(self, source: str) -> None:
        if not isinstance(self.turns, int) or isinstance(self.turns, bool) or self.turns < 1:
            raise ValueError(f"{source}.turns: {self.turns!r} must be an integer >= 1")
        if self.reward not in REWARD_MODES:
            raise ValueError(f"{source}.reward: {self.reward!r} is not one of {REWARD_MODES}")
        if self.budget not in BUDGET_MODES:
            raise ValueError(f"{source}.budget: {self.budget!r} is not one of {BUDGET_MODES}")
        if not 0.0 <= float(self.discount) <= 1.0:
            raise ValueError(f"{source}.discount: {self.discount!r} must be in [0, 1]")
        if float(self.improvement_weight) < 0:
            raise ValueError(f"{source}.improvement_weight: {self.improvement_weight!r} must be >= 0")
        if self.stop_score is not None and not isinstance(self.stop_score, int | float):
            raise ValueError(f"{source}.stop_score: {self.stop_score!r} must be a number or null")
        if not isinstance(self.show_scores, bool):
            raise ValueError(f"{source}.show_scores: {self.show_scores!r} must be true or false")
