"""The format term (VinciCoder): did the answer put its code in the fence the task asked for?

right_value when the scored code came from a closed ``` block tagged with the target language (or a configured
alias); lenient_value when it was read from a fence written another way (a built-in alias such as ```xml for
SVG, an untagged or ~~~ fence, a fence cut off at the end of the answer); wrong_value when no block was found.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FormatReward:
    right_value: float = 1.0
    wrong_value: float = 0.0
    lenient_value: float = 0.0

    def __call__(self, fence_ok: bool, lenient: bool = False) -> float:
        if fence_ok:
            return float(self.right_value)
        return float(self.lenient_value if lenient else self.wrong_value)


format_reward = FormatReward()
