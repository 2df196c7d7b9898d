"""Running a composed recipe with verl's trainer: the run folder, the CPU-run environment, Ray, then
verl's own entry (`run_ppo` with the V1 task runner), exactly as `python -m verl.trainer.main_ppo` does."""

from __future__ import annotations

import os
import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf, open_dict

from vinci_rl.cpu import activate_cpu_env, machine_has_gpu
from vinci_rl.train.recipe import RecipeError
from vinci_rl.train.trainer import RUN_DIR_ENV

# Config values that are paths: made absolute against the current directory, since verl reads them inside
# Ray workers whose working directory is not the caller's.
PATH_KEYS = ("data.train_files", "data.val_files", "actor_rollout_ref.model.path", "actor_rollout_ref.model.tokenizer_path")


def _absolutize(value, key: str):
    """Existing local paths become absolute; a missing data file is an error; a model that is not a local
    path is a hub id and stays as it is (unless it plainly is a path: then it is an error too)."""
    if OmegaConf.is_list(value) or isinstance(value, list | tuple):
        return [_absolutize(v, key) for v in value]
    p = Path(str(value)).expanduser()
    if p.exists():
        return str(p.resolve())
    if ".train_files" in key or ".val_files" in key or str(value).startswith((".", "/", "~", "runs/")):
        raise RecipeError(f"{key}: {value} does not exist (relative to {Path.cwd()})")
    return value


def resolve_paths(cfg: DictConfig, path_keys: tuple[str, ...] = PATH_KEYS) -> None:
    with open_dict(cfg):
        for key in path_keys:
            value = OmegaConf.select(cfg, key)
            if value is not None:
                OmegaConf.update(cfg, key, _absolutize(value, key))


def decide_device(device: str, address: str | None) -> str:
    """'cpu' or 'gpu'. auto: cpu when training on an embedded local cluster of a machine without a GPU."""
    if device != "auto":
        return device
    if address is None and not machine_has_gpu():
        return "cpu"
    return "gpu"


def prepare(
    cfg: DictConfig, run_dir: Path, device: str, address: str | None, path_keys: tuple[str, ...] = PATH_KEYS
) -> dict[str, str]:
    """Mutates cfg for the run; returns the environment handed to every Ray worker. path_keys: the config
    values that are paths (PATH_KEYS for RL recipes; SFT recipes name theirs)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    resolve_paths(cfg, path_keys)
    env = {RUN_DIR_ENV: str(run_dir), "VERL_FILE_LOGGER_PATH": str(run_dir / "metrics.jsonl")}
    if device == "cpu":
        env.update(activate_cpu_env())
    os.environ.update(env)
    with open_dict(cfg):
        if not Path(str(cfg.trainer.default_local_dir)).is_absolute():  # checkpoints go into the run folder
            cfg.trainer.default_local_dir = str(run_dir / "checkpoints")
        init = cfg.ray_kwargs.ray_init
        # "local" always starts a new embedded cluster: never attach to someone else's (RAY_ADDRESS is ignored).
        init.address = address or "local"
        runtime_env = init.get("runtime_env") or {}
        runtime_env = OmegaConf.merge(runtime_env, {"env_vars": env})
        init.runtime_env = runtime_env
    OmegaConf.save(cfg, run_dir / "config.yaml")
    return env


def default_run_dir(cfg: DictConfig) -> Path:
    name = cfg.trainer.get("experiment_name") or "run"
    return Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def train(cfg: DictConfig) -> None:
    """verl's main_ppo entry, minus Hydra's own CLI: device fix-up, config validation, the V1 task runner."""
    import ray
    from verl.trainer.main_ppo import TaskRunnerV1, run_ppo
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import validate_config
    from verl.utils.device import auto_set_device

    auto_set_device(cfg)
    validate_config(config=cfg, use_reference_policy=need_reference_policy(cfg), use_critic=need_critic(cfg))
    if not cfg.trainer.get("use_v1", True):
        raise RecipeError("trainer.use_v1=false: vinci-rl runs verl's V1 trainer only")
    try:
        run_ppo(cfg, task_runner_class=TaskRunnerV1)
    finally:
        if ray.is_initialized():
            ray.shutdown()
