"""Running a composed recipe with verl's trainer: the run folder, the CPU-run environment, Ray, then verl's own
entry (`run_ppo` with the V1 task runner), exactly as `python -m verl.trainer.main_ppo` does.

Two ways to get Ray:
- no address: an embedded local cluster sized by the recipe's `ray_kwargs.ray_init` (num_cpus, num_gpus), with
  the run's environment in its runtime env;
- an address (`--address HOST:PORT`, or `auto` inside a Ray job): an existing cluster. Then `train` only
  connects — no resources, no runtime env of its own (a Ray job already has one, and Ray refuses to merge a
  second that sets the same variables). The run's environment (run folder, CPU mode, verl's defaults) travels
  on verl's TaskRunner actor instead, and Ray hands it down to every actor the TaskRunner creates. Before
  training, the cluster is checked: reward nodes offer no generic CPU (so trainer actors cannot land there) and
  every trainer node sees the run folder.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf, open_dict

from vinci_rl.cluster.placement import TRAINER_NODE_RESOURCE
from vinci_rl.cpu import activate_cpu_env, decide_device  # noqa: F401  (decide_device: part of this module's API)
from vinci_rl.train.recipe import RecipeError
from vinci_rl.train.trainer import RUN_DIR_ENV

# Config values that are paths: made absolute against the current directory, since verl reads them inside
# Ray workers whose working directory is not the caller's.
PATH_KEYS = ("data.train_files", "data.val_files", "actor_rollout_ref.model.path", "actor_rollout_ref.model.tokenizer_path")
LOCAL = "local"
# verl's TransferQueue storage units are pinned round-robin to every alive node unless a node resource is
# required: on a cluster they must stay on trainer (GPU) nodes, never on reward nodes.
TQ_NODE_RESOURCE_KEY = "transfer_queue.backend.SimpleStorage.required_node_resource"


def _absolutize(value, key: str):
    """Existing local paths become absolute; a missing data file is an error; a model that is not a local
    path is a hub id and stays as it is (unless it plainly is a path: then it is an error too)."""
    if OmegaConf.is_list(value) or isinstance(value, list | tuple):
        return [_absolutize(v, key) for v in value]
    p = Path(str(value)).expanduser()
    if p.exists():
        return str(p.resolve())
    if key.startswith("data.") or str(value).startswith((".", "/", "~", "runs/")):
        raise RecipeError(f"{key}: {value} does not exist (relative to {Path.cwd()})")
    return value


def resolve_paths(cfg: DictConfig, keys: tuple[str, ...] = PATH_KEYS) -> None:
    with open_dict(cfg):
        for key in keys:
            value = OmegaConf.select(cfg, key)
            if value is not None:
                OmegaConf.update(cfg, key, _absolutize(value, key))


def prepare(cfg: DictConfig, run_dir: Path, device: str, address: str | None, path_keys: tuple[str, ...] = PATH_KEYS) -> dict[str, str]:
    """Mutates cfg for the run; returns the environment every Ray worker of the run needs."""
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
        if address is None:
            # "local" always starts a new embedded cluster: never attach to someone else's (RAY_ADDRESS is ignored).
            init.address = LOCAL
            init.runtime_env = OmegaConf.merge(init.get("runtime_env") or {}, {"env_vars": env})
        else:
            init.address = address
            if OmegaConf.select(cfg, TQ_NODE_RESOURCE_KEY) is None:  # verl's V1 trainer always starts TransferQueue
                OmegaConf.update(cfg, TQ_NODE_RESOURCE_KEY, TRAINER_NODE_RESOURCE, force_add=True)
    OmegaConf.save(cfg, run_dir / "config.yaml")
    return env


def default_run_dir(cfg: DictConfig) -> Path:
    """runs/<experiment>-<time>; inside a Ray job under $VINCI_RL_RUNS (default ~/vinci-rl-runs), since a job's
    working directory is a temporary copy that the user never sees."""
    from vinci_rl.cluster.run_folder import runs_root

    name = cfg.trainer.get("experiment_name") or "run"
    return runs_root() / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def _validate(cfg: DictConfig) -> None:
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import validate_config
    from verl.utils.device import auto_set_device

    auto_set_device(cfg)
    validate_config(config=cfg, use_reference_policy=need_reference_policy(cfg), use_critic=need_critic(cfg))
    if not cfg.trainer.get("use_v1", True):
        raise RecipeError("trainer.use_v1=false: vinci-rl runs verl's V1 trainer only")


def train(cfg: DictConfig, env: dict[str, str] | None = None) -> None:
    """verl's main_ppo entry, minus Hydra's own CLI: device fix-up, config validation, the V1 task runner.
    env: what prepare() returned (needed on an existing cluster; read from this process otherwise)."""
    import ray
    from verl.trainer.main_ppo import TaskRunnerV1, run_ppo

    _validate(cfg)
    address = str(cfg.ray_kwargs.ray_init.get("address") or LOCAL)
    task_runner = TaskRunnerV1
    try:
        if address != LOCAL:
            from vinci_rl.cluster.job_env import attach

            task_runner = attach(cfg, address, env if env is not None else _run_env_from_process())
        run_ppo(cfg, task_runner_class=task_runner)
    finally:
        if ray.is_initialized():
            ray.shutdown()


def _run_env_from_process() -> dict[str, str]:
    from vinci_rl.cpu import CPU_ENV

    keys = (RUN_DIR_ENV, "VERL_FILE_LOGGER_PATH", *CPU_ENV)
    return {k: os.environ[k] for k in keys if k in os.environ}
