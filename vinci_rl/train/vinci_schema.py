"""The recipe's `vinci:` block: one section per vinci-rl component, each validated by that component's own
typed config (unknown keys are errors that name the key)."""

from __future__ import annotations

from typing import Any, Callable


def _check_reward(section: Any) -> None:
    from vinci_rl.reward.config import RewardConfig

    RewardConfig.from_dict(section or {}, source="vinci.reward")


def _check_schedule(section: Any) -> None:
    from vinci_rl.schedule.max_length import MaxLengthSchedule

    MaxLengthSchedule.from_dict(section or {}, source="vinci.schedule")


def _check_pool(section: Any) -> None:
    from reward_workers.config import PoolConfig

    PoolConfig.from_dict(section or {}, source="vinci.pool")


def _check_pictures(section: Any) -> None:
    from vinci_rl.report.training_pictures import PicturesConfig

    PicturesConfig.from_dict(section or {}, source="vinci.pictures")


def _check_weight_ramp(section: Any) -> None:
    from vinci_rl.schedule.weight_ramp import WeightRamp

    WeightRamp.from_dict(section or {}, source="vinci.weight_ramp")


def _check_refine(section: Any) -> None:
    from vinci_rl.refine.config import RefineConfig

    RefineConfig.from_dict(section or {}, source="vinci.refine")


SECTIONS: dict[str, Callable[[Any], None]] = {
    "pictures": _check_pictures,
    "reward": _check_reward,
    "pool": _check_pool,
    "refine": _check_refine,
    "schedule": _check_schedule,
    "weight_ramp": _check_weight_ramp,
}


def vinci_problems(block: dict | None) -> list[str]:
    """Problems in a `vinci:` block, each naming the key: unknown sections, and each section's own errors."""
    problems = []
    for name, section in (block or {}).items():
        check = SECTIONS.get(name)
        if check is None:
            problems.append(f"vinci.{name} (unknown section; known: {', '.join(SECTIONS)})")
            continue
        try:
            check(section)
        except (ValueError, TypeError) as e:
            problems.append(f"vinci.{name}: {e}")
    return problems
