"""The pure rules of a render-and-refine trajectory: when it stops, what the feedback turn says, the trajectory's
reward from its turns' rewards, and the per-turn numbers logged for it (`reward_extra_info`).

A trajectory is turns 1..T (T <= refine.turns). After each turn but the last the loop scores the turn's code
(rendering it) and either stops or shows the render to the model. The final turn is scored by the `vinci` reward
manager, which forms the trajectory's reward with `trajectory_reward`.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

import numpy as np

from vinci_rl.refine.config import RefineConfig

REPEAT, MAX_TURNS, LENGTH, SCORE, ERROR = "repeat", "max_turns", "length", "score", "error"
# error: the turn could not be scored for feedback (the row has no reference image or language, scoring raised)
STOP_REASONS = (REPEAT, MAX_TURNS, LENGTH, SCORE, ERROR)


def normalized_code(code: str | None) -> str | None:
    """The code with runs of whitespace collapsed: two answers that differ only in spacing repeat each other."""
    return None if code is None else re.sub(r"\s+", " ", code).strip()


def stop_before_scoring(turn: int, cfg: RefineConfig, code: str | None, earlier: Sequence[str | None], room: int) -> str | None:
    """Why the trajectory ends after `turn` without scoring it in the loop, or None.

    repeat: the turn's code (normalised) equals an earlier turn's; max_turns: the last allowed turn;
    length: no response tokens are left for a feedback turn and another answer."""
    norm = normalized_code(code)
    if norm is not None and norm in {normalized_code(c) for c in earlier}:
        return REPEAT
    if turn >= cfg.turns:
        return MAX_TURNS
    if room <= 0:
        return LENGTH
    return None


def stop_after_scoring(score: float, cfg: RefineConfig) -> str | None:
    """`score` once the turn's reward reaches refine.stop_score, else None."""
    if cfg.stop_score is not None and score >= float(cfg.stop_score):
        return SCORE
    return None


def trajectory_reward(cfg: RefineConfig, turn_rewards: Sequence[float]) -> float:
    """The trajectory's reward from its turns' overall rewards (first .. final).

    final: r_T. improvement: r_T + w (r_T - r_1). discounted: sum_t g^(T-t) r_t / sum_t g^(T-t) (g = discount:
    the final turn counts fully, each earlier one g times less; g = 0 is `final`, g = 1 the mean over turns)."""
    if not turn_rewards:
        raise ValueError("trajectory_reward: a trajectory has at least one turn")
    rewards = [float(r) for r in turn_rewards]
    final, first = rewards[-1], rewards[0]
    if cfg.reward == "final":
        return final
    if cfg.reward == "improvement":
        return final + float(cfg.improvement_weight) * (final - first)
    g, last = float(cfg.discount), len(rewards) - 1
    weights = [g ** (last - t) for t in range(len(rewards))]  # 0 ** 0 == 1: the final turn always counts
    return sum(w * r for w, r in zip(weights, rewards, strict=True)) / sum(weights)


def feedback_text(cfg: RefineConfig, status: str, overall: float, terms: dict[str, float], message: str = "") -> str:
    """The text after the render in the feedback turn: refine.feedback, plus the status and the terms when
    show_scores is on; a failed render always says so (its image is then a white canvas)."""
    lines = [cfg.feedback]
    if status != "ok":
        lines.append(f"Your code did not render cleanly ({status}{': ' + message[:160] if message else ''}).")
    if cfg.show_scores:
        parts = ", ".join(f"{name} {value:.2f}" for name, value in sorted(terms.items()))
        lines.append(f"Score {overall:.2f}" + (f" ({parts})" if parts else "") + ".")
    return "\n".join(lines)


def feedback_image(render: np.ndarray | None, reference: np.ndarray) -> np.ndarray:
    """The image of the feedback turn: the render as the reward compared it (aligned to the reference), or a white
    canvas of the reference's size when nothing rendered (feedback_text then says why)."""
    return render if render is not None else np.full_like(reference, 255)


def turn_info(prefix: str, overall: float, terms: dict[str, float], term_names: Sequence[str]) -> dict[str, float]:
    """`<prefix>/overall` and `<prefix>/<term>` for every term name (NaN when the turn has no value for it)."""
    row = {f"{prefix}/overall": float(overall)}
    for name in term_names:
        row[f"{prefix}/{name}"] = float(terms.get(name, float("nan")))
    return row


def refine_info(
    first: dict[str, Any], final: dict[str, Any], turns: int, stop: str, term_names: Sequence[str]
) -> dict[str, float]:
    """The per-trajectory numbers logged with the reward: turn 1's and the final turn's overall and terms, the turns
    taken, whether the final turn beat the first, and why the trajectory stopped. `first` / `final` are dicts with
    `overall` and `terms`; a one-turn trajectory has first == final. Same keys for every trajectory."""
    row = turn_info("turn1", first["overall"], first["terms"], term_names)
    row.update(turn_info("final", final["overall"], final["terms"], term_names))
    row["refine/turns"] = float(turns)
    row["refine/improvement"] = float(final["overall"]) - float(first["overall"])
    row["refine/improved"] = 1.0 if float(final["overall"]) > float(first["overall"]) else 0.0
    for reason in STOP_REASONS:
        row[f"refine/stop/{reason}"] = 1.0 if stop == reason else 0.0
    return row
