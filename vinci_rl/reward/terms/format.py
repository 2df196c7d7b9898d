"""VinciCoder's format term: 1 when the response has a fenced block of the target language, else wrong_value."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FormatReward:
    right_value: float = 1.0
    wrong_value: float = 0.0

    def __call__(self, fence_ok: bool) -> float:
        return float(self.right_value if fence_ok else self.wrong_value)


format_reward = FormatReward()
