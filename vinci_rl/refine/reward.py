"""The `vinci` reward manager's side of render-and-refine: which tokens are the final turn's answer, and the
trajectory's reward and per-turn numbers from the final turn's score and the turns the agent loop scored.

The agent loop (vinci_rl/refine/agent_loop.py) leaves a `vinci_refine` record in the trajectory's extra fields:
  final_span   [start, end): the final turn's tokens in the response (the reward decodes only these)
  turns        the turns taken; stop: why it stopped (rules.STOP_REASONS)
  scored       [{overall, terms, status}] for the turns the loop scored (turn 1 .. the last before the final)
verl hands the extra fields to the reward manager as `tool_extra_fields` (rewards streamed from the agent loop) or
as batch columns (rewards computed after the rollout); both are read here.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from vinci_rl.refine.config import RefineConfig
from vinci_rl.refine.rules import MAX_TURNS, refine_info, trajectory_reward

FIELD = "vinci_refine"


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype == object:
        return value.item()
    return value


def refine_record(non_tensor: dict) -> dict | None:
    """The agent loop's `vinci_refine` record of one batch row, or None (a row from another agent loop)."""
    tool_fields = _plain(non_tensor.get("tool_extra_fields"))
    if isinstance(tool_fields, dict) and isinstance(tool_fields.get(FIELD), dict):
        return tool_fields[FIELD]
    record = _plain(non_tensor.get(FIELD))
    return record if isinstance(record, dict) else None


def final_span(record: dict | None, valid: int) -> tuple[int, int]:
    """[start, end) of the answer to score among the `valid` response tokens: the final turn's tokens with a
    record, the whole response without one."""
    if record is None or "final_span" not in record:
        return 0, valid
    start, end = (int(x) for x in record["final_span"])
    end = min(end, valid)
    return min(start, end), end


def refine_outcome(cfg: RefineConfig, record: dict | None, out: dict, term_names: Sequence[str], reward_key: str) -> dict:
    """The reward manager's result for the final turn (`out`: reward_score + reward_extra_info) turned into the
    trajectory's: reward per refine.reward, plus turn1/..., final/... and refine/... numbers (same keys for every
    row; a row without a record counts as a one-turn trajectory)."""
    info = dict(out["reward_extra_info"])
    final = {"overall": float(out["reward_score"]), "terms": {n: info.get(n, float("nan")) for n in term_names}}
    scored = list((record or {}).get("scored") or [])
    turns = int((record or {}).get("turns", 1))
    first = scored[0] if scored and turns > 1 else final
    stop = str((record or {}).get("stop", MAX_TURNS))
    rewards = [float(s["overall"]) for s in scored[: max(0, turns - 1)]] + [final["overall"]]
    reward = trajectory_reward(cfg, rewards)
    info.update(refine_info(first, final, turns, stop, term_names))
    info[reward_key] = reward
    return {"reward_score": reward, "reward_extra_info": info}
