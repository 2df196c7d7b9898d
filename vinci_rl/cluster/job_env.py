"""Attaching `vinci-rl train` to an existing Ray cluster (a Ray job, or `--address`).

Inside a Ray job the job already has a runtime env (launch/runtime_env.yaml + the uploaded working dir), and
Ray refuses a `ray.init(runtime_env=...)` that sets a variable the job sets too; resources (num_cpus,
num_gpus) cannot be given when connecting at all. So here `ray.init` gets the address and nothing else, and
the run's own environment (run folder, metrics path, CPU mode, verl's defaults) is put on verl's TaskRunner
actor: Ray hands an actor's runtime env down to every actor and task it creates (merging env vars key by key),
which is every process of the run (trainer workers, vLLM servers, TransferQueue, reward-loop workers, the
reward pool).
"""

from __future__ import annotations

import logging

from omegaconf import DictConfig, OmegaConf

from vinci_rl.train.recipe import RecipeError
from vinci_rl.train.trainer import RUN_DIR_ENV

logger = logging.getLogger(__name__)

NEW_CLUSTER_KEYS = ("num_cpus", "num_gpus", "resources", "object_store_memory", "include_dashboard",
                    "dashboard_host", "dashboard_port", "_temp_dir", "_system_config", "labels")  # fmt: skip


def connect_kwargs(cfg: DictConfig) -> tuple[dict, list[str]]:
    """(kwargs for ray.init when attaching, keys of ray_kwargs.ray_init left out because they size a new cluster)."""
    init = OmegaConf.to_container(cfg.ray_kwargs.ray_init, resolve=True) if cfg.get("ray_kwargs") else {}
    kwargs = {k: v for k, v in init.items() if v is not None and k not in (*NEW_CLUSTER_KEYS, "address", "runtime_env")}
    ignored = sorted(k for k, v in init.items() if v is not None and k in NEW_CLUSTER_KEYS)
    return kwargs, ignored


def recipe_env_vars(cfg: DictConfig) -> dict[str, str]:
    """env_vars of the recipe's ray_kwargs.ray_init.runtime_env; any other runtime-env field is refused (it
    belongs in the job's runtime env, which Ray sets up before this process starts)."""
    runtime_env = OmegaConf.select(cfg, "ray_kwargs.ray_init.runtime_env")
    runtime_env = OmegaConf.to_container(runtime_env, resolve=True) if runtime_env is not None else {}
    other = sorted(k for k, v in runtime_env.items() if k != "env_vars" and v)
    if other:
        raise RecipeError(
            f"ray_kwargs.ray_init.runtime_env.{other[0]}: on an existing cluster a runtime env cannot be declared "
            "by the trainer; put it in the job's runtime env (launch/runtime_env.yaml, `ray job submit --runtime-env`)"
        )
    return {str(k): str(v) for k, v in (runtime_env.get("env_vars") or {}).items()}


def task_runner_env(cfg: DictConfig, run_env: dict[str, str]) -> dict[str, str]:
    """Everything the run's processes need: verl's own defaults (what run_ppo would put in ray.init, minus
    variables the job already sets), the recipe's env_vars, then the run's (run folder, CPU mode)."""
    from verl.trainer.constants_ppo import get_ppo_ray_runtime_env

    env = dict(get_ppo_ray_runtime_env(cfg).get("env_vars") or {})
    if OmegaConf.select(cfg, "transfer_queue.enable"):
        env["TRANSFER_QUEUE_ENABLE"] = "1"
    env.update(recipe_env_vars(cfg))
    env.update(run_env)
    return env


def attach(cfg: DictConfig, address: str, run_env: dict[str, str]):
    """Connect to the cluster, check it can run this recipe, and return the TaskRunner class to hand to run_ppo."""
    import ray
    from verl.trainer.main_ppo import TaskRunnerV1

    from vinci_rl.cluster import auth, placement, run_folder

    kwargs, ignored = connect_kwargs(cfg)
    if ignored:
        print(f"vinci-rl train: attaching to an existing cluster: ray_kwargs.ray_init.{{{','.join(ignored)}}} "
              "(sizes of a new local cluster) not used", flush=True)  # fmt: skip
    env = task_runner_env(cfg, run_env)
    auth.connect(address, **kwargs)
    placement.check_reward_nodes(placement.pool_resource(cfg))
    _check_running_pool(cfg)
    run_folder.check_visible_on_trainer_nodes(run_env[RUN_DIR_ENV])
    # A fresh actor class (not .options()): run_ppo may call .options() on it again.
    return ray.remote(runtime_env={"env_vars": env})(TaskRunnerV1.__ray_actor_class__)


def _check_running_pool(cfg: DictConfig) -> None:
    """A pool of this name already running with another reward config is refused before anything starts."""
    from reward_workers.config import PoolConfig
    from reward_workers.deployment import check_reward_config, find_pool

    from vinci_rl.train.vinci_block import vinci_block

    vinci = vinci_block(cfg)
    pool = PoolConfig.from_dict(vinci.get("pool") or {})
    handle = find_pool(pool) if pool.enabled else None
    if handle is not None:
        check_reward_config(handle, pool, vinci.get("reward") or {})
