"""What `vinci-rl train` does when attaching to an existing cluster (a Ray job): no runtime env and no resources
in ray.init, the run's environment on the TaskRunner instead, recipe runtime-env fields other than env vars
refused; and the run folder default inside a job."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from vinci_rl.cluster import run_folder
from vinci_rl.cluster.job_env import connect_kwargs, recipe_env_vars, task_runner_env
from vinci_rl.train.recipe import RecipeError, compose_recipe
from vinci_rl.train.run import TQ_NODE_RESOURCE_KEY, prepare

REPO = Path(__file__).resolve().parents[2]


def _cfg(ray_init: dict):
    return OmegaConf.create({"ray_kwargs": {"ray_init": ray_init}, "transfer_queue": {"enable": True}})


def test_attaching_passes_no_resources_and_no_runtime_env_to_ray_init():
    kwargs, ignored = connect_kwargs(_cfg({"num_cpus": 8, "num_gpus": 1, "namespace": "n", "address": "auto",
                                           "runtime_env": {"env_vars": {"A": "1"}}, "include_dashboard": None}))  # fmt: skip
    assert kwargs == {"namespace": "n"} and ignored == ["num_cpus", "num_gpus"]


def test_run_env_goes_on_the_task_runner_above_verls_defaults_and_the_recipes(monkeypatch):
    monkeypatch.delenv("TOKENIZERS_PARALLELISM", raising=False)
    cfg = _cfg({"runtime_env": {"env_vars": {"RECIPE_VAR": "r", "VINCI_RL_RUN_DIR": "/from/recipe"}}})
    env = task_runner_env(cfg, {"VINCI_RL_RUN_DIR": "/shared/run", "VINCI_RL_CPU": "1"})
    assert env["VINCI_RL_RUN_DIR"] == "/shared/run" and env["VINCI_RL_CPU"] == "1" and env["RECIPE_VAR"] == "r"
    assert env["TRANSFER_QUEUE_ENABLE"] == "1" and env["TOKENIZERS_PARALLELISM"] == "true"  # verl's own default
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")  # set by the job's runtime env: verl leaves it alone
    assert "TOKENIZERS_PARALLELISM" not in task_runner_env(cfg, {})


def test_runtime_env_fields_other_than_env_vars_are_refused_on_a_cluster():
    with pytest.raises(RecipeError, match=r"runtime_env\.pip.*job's runtime env"):
        recipe_env_vars(_cfg({"runtime_env": {"pip": ["x"], "env_vars": {}}}))


def test_prepare_on_a_cluster_keeps_the_env_out_of_ray_init_and_pins_storage_to_trainer_nodes(tmp_path, tiny_vlm, sample_data):
    overrides = [f"data.train_files={sample_data / 'train.parquet'}", f"data.val_files={sample_data / 'val.parquet'}",
                 f"actor_rollout_ref.model.path={tiny_vlm}"]  # fmt: skip
    cluster = compose_recipe(REPO / "recipes" / "tiny_cpu.yaml", overrides)
    env = prepare(cluster, tmp_path / "run", "cpu", "auto")
    assert env["VINCI_RL_RUN_DIR"] == str(tmp_path / "run") and env["VINCI_RL_CPU"] == "1"
    assert cluster.ray_kwargs.ray_init.address == "auto"
    assert not (cluster.ray_kwargs.ray_init.runtime_env or {}).get("env_vars")  # verl's default has py_executable: null
    assert OmegaConf.select(cluster, TQ_NODE_RESOURCE_KEY) == "GPU"
    local = compose_recipe(REPO / "recipes" / "tiny_cpu.yaml", overrides)
    prepare(local, tmp_path / "run2", "cpu", None)
    assert local.ray_kwargs.ray_init.address == "local"
    assert local.ray_kwargs.ray_init.runtime_env.env_vars.VINCI_RL_RUN_DIR == str(tmp_path / "run2")


def test_run_folders_default_outside_the_jobs_temporary_working_dir(monkeypatch):
    from ray._private.runtime_env.constants import RAY_JOB_CONFIG_JSON_ENV_VAR

    monkeypatch.delenv(run_folder.RUNS_ENV, raising=False)
    monkeypatch.delenv(RAY_JOB_CONFIG_JSON_ENV_VAR, raising=False)
    assert run_folder.runs_root() == Path("runs")
    monkeypatch.setenv(RAY_JOB_CONFIG_JSON_ENV_VAR, "{}")
    assert run_folder.runs_root() == Path("~/vinci-rl-runs").expanduser()
    monkeypatch.setenv(run_folder.RUNS_ENV, "/shared/runs")
    assert run_folder.runs_root() == Path("/shared/runs")
