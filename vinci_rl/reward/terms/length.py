"""RLRF's length term with a floor against length collapse.

reward = clip(1 - (max(0, L_pred - L_gt / 2) / L_gt)^2, -1, 1): up to half the ground-truth length scores
1, equal length 0.75, 1.5x scores 0, 2x and beyond clip at -1 (>= about 2.41x). Very short code was a
reward hack in RLRF: below floor_ratio * L_gt the term is floor_penalty instead. Lengths are in whatever
unit the caller measures (characters by default, tokens when a tokenizer is configured).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LengthReward:
    floor_ratio: float = 0.1
    floor_penalty: float = -1.0

    def __call__(self, pred_length: int, gt_length: int) -> float:
        if gt_length <= 0:
            raise ValueError(f"ground-truth length must be positive, got {gt_length}")
        if pred_length < self.floor_ratio * gt_length:
            return float(self.floor_penalty)
        excess = max(0.0, pred_length - gt_length / 2.0) / gt_length
        return float(min(1.0, max(-1.0, 1.0 - excess * excess)))


length_reward = LengthReward()
