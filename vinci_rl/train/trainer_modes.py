"""vinci-rl's trainer modes: one per verl V1 trainer mode, chosen by `trainer.v1.trainer_mode` alone.

    vinci_sync            verl's `sync`: generate, score, train, sync weights, in turn
    vinci_colocate_async  verl's `colocate_async`: same devices; at each step boundary unfinished generations are
                          aborted and resumed under the new weights (partial rollout); the next batch generates
                          while the current one trains
    vinci_separate_async  verl's `separate_async`: a standalone rollout pool keeps generating while the trainer
                          trains; weights reach it every `parameter_sync_step` mini-batches through a GPU weight
                          transport (checkpoint_engine.backend nccl / nixl / mooncake / hccl / kimi_ckpt_engine)

Each vinci mode is verl's class for that mode with vinci's additions mixed in (vinci_rl/train/trainer.py); the
mode's own settings stay under verl's keys (`trainer.v1.colocate_async.*`, `trainer.v1.separate_async.*`,
`trainer.v1.sampler.*`). `check_mode_config` turns the conditions verl asserts inside its trainer (on a Ray
worker, after start-up) into errors naming the key and the value, before anything starts.
"""

from __future__ import annotations

from typing import Any

from omegaconf import OmegaConf

VINCI_PREFIX = "vinci_"
# vinci mode -> the verl mode it extends (verl's own code branches on the latter)
MODES = {"vinci_sync": "sync", "vinci_colocate_async": "colocate_async", "vinci_separate_async": "separate_async"}
# checkpoint engines that move weights to a standalone rollout pool; all of them use a GPU (or NPU) transport
TRANSPORT_BACKENDS = ("nccl", "nixl", "mooncake", "hccl", "kimi_ckpt_engine")
MODE_KEY = "trainer.v1.trainer_mode"
BACKEND_KEY = "actor_rollout_ref.rollout.checkpoint_engine.backend"


class TrainerModeError(ValueError):
    """A recipe's trainer mode cannot run as configured (the message names the key, the value and the fix)."""


def base_mode(vinci_mode: str) -> str:
    if vinci_mode not in MODES:
        raise TrainerModeError(f"{MODE_KEY}={vinci_mode!r}: vinci-rl's modes are {', '.join(MODES)}")
    return MODES[vinci_mode]


def _get(cfg: Any, key: str, default=None):
    value = OmegaConf.select(cfg, key, default=default) if OmegaConf.is_config(cfg) else _select(cfg, key, default)
    return default if value is None else value


def _select(cfg: dict, key: str, default):
    node: Any = cfg
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def check_mode_config(cfg: Any) -> str:
    """The recipe's vinci trainer mode, checked against what verl's class for it needs; returns verl's mode name.
    A mode that is not a vinci mode (verl's own `sync` etc.) passes unchecked: vinci's additions are then off."""
    mode = str(_get(cfg, MODE_KEY, "sync"))
    if not mode.startswith(VINCI_PREFIX):
        return mode
    verl_mode = base_mode(mode)
    if verl_mode == "separate_async":
        _check_separate_async(cfg, mode)
    return verl_mode


def _check_separate_async(cfg: Any, mode: str) -> None:
    from vinci_rl.cpu import cpu_mode_enabled

    device = str(_get(cfg, "trainer.device", "cuda"))
    backend = str(_get(cfg, BACKEND_KEY, "naive"))
    if device == "cpu" or cpu_mode_enabled():
        raise TrainerModeError(
            f"{MODE_KEY}={mode} needs a GPU: its standalone rollout pool receives weights through a checkpoint "
            f"engine with a GPU transport ({BACKEND_KEY}: one of {', '.join(TRANSPORT_BACKENDS)}), and none of "
            f"them runs on CPU, and this is a CPU run. On CPU use {MODE_KEY}=vinci_colocate_async or "
            f"vinci_sync; on GPUs see recipes/unified_vincicoder.yaml."
        )
    if backend == "naive":
        raise TrainerModeError(
            f"{MODE_KEY}={mode}: {BACKEND_KEY}=naive only syncs weights to rollout servers on the trainer's own "
            f"devices; the standalone rollout pool needs one of {', '.join(TRANSPORT_BACKENDS)} (nccl on NVIDIA GPUs)"
        )
    for key in ("actor_rollout_ref.rollout.nnodes", "actor_rollout_ref.rollout.n_gpus_per_node"):
        if int(_get(cfg, key, 0)) <= 0:
            raise TrainerModeError(
                f"{MODE_KEY}={mode}: {key}={_get(cfg, key, 0)}: the standalone rollout pool needs its own GPUs "
                f"(set actor_rollout_ref.rollout.nnodes and n_gpus_per_node > 0)"
            )
    batch = int(_get(cfg, "data.train_batch_size", 0))
    mini = int(_get(cfg, "actor_rollout_ref.actor.ppo_mini_batch_size", 0))
    sync_step = int(_get(cfg, "trainer.v1.separate_async.parameter_sync_step", 1))
    if batch != sync_step * mini:
        raise TrainerModeError(
            f"{MODE_KEY}={mode}: data.train_batch_size ({batch}) must equal "
            f"trainer.v1.separate_async.parameter_sync_step ({sync_step}) x "
            f"actor_rollout_ref.actor.ppo_mini_batch_size ({mini}): one weight sync every parameter_sync_step "
            f"mini-batches, one step per train batch"
        )
