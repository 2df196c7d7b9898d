"""launch/: the Ray job submit script, the committed runtime_env, and the KubeRay RayJob manifest."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
LAUNCH = REPO / "launch"


def _submit(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(LAUNCH / "submit.sh"), *args],
        env=dict(os.environ, **env),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )


def test_dry_run_prints_the_exact_ray_job_submit_command():
    out = _submit("--dry-run", "recipes/svg_rlrf.yaml", "trainer.total_epochs=2")
    assert out.returncode == 0, out.stderr
    argv = shlex.split(out.stdout)
    assert argv[:3] == ["ray", "job", "submit"]
    assert argv[argv.index("--address") + 1] == "http://127.0.0.1:8265"
    assert argv[argv.index("--runtime-env") + 1] == str(LAUNCH / "runtime_env.yaml")
    assert argv[argv.index("--working-dir") + 1] == str(REPO)
    entry = argv[argv.index("--") + 1 :]
    assert entry == ["vinci-rl", "train", "recipes/svg_rlrf.yaml", "--address", "auto", "--device", "gpu", "trainer.total_epochs=2"]


def test_every_path_is_overridable_by_env(tmp_path):
    env_file = tmp_path / "env.yaml"
    env_file.write_text("env_vars: {}\n")
    out = _submit(
        "--dry-run",
        "recipes/html.yaml",
        RAY_ADDRESS="http://head:8265",
        RUNTIME_ENV=str(env_file),
        WORKING_DIR=str(REPO),
        VINCI_RL="python -m vinci_rl",
        DEVICE="cpu",
        SUBMIT_ARGS="--no-wait",
    )
    assert out.returncode == 0, out.stderr
    argv = shlex.split(out.stdout)
    assert argv[argv.index("--address") + 1] == "http://head:8265"
    assert argv[argv.index("--runtime-env") + 1] == str(env_file)
    assert "--no-wait" in argv[: argv.index("--")]
    assert "python -m vinci_rl" in argv and argv[argv.index("--device") + 1] == "cpu"


def test_missing_recipe_is_named_and_nothing_runs():
    out = _submit("--dry-run", "recipes/nope.yaml")
    assert out.returncode == 2 and "recipes/nope.yaml does not exist" in out.stderr


def test_runtime_env_loads_our_plugin_everywhere_and_comments_each_variable():
    text = (LAUNCH / "runtime_env.yaml").read_text()
    env = yaml.safe_load(text)["env_vars"]
    assert env["VERL_USE_EXTERNAL_MODULES"] == "vinci_rl.verl_plugin"
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("  ") and not line.strip().startswith("#") and ":" in line:
            assert lines[i - 1].strip().startswith("#"), f"no comment above {line.strip()}"


def _reward_resource_of_recipes() -> set[str]:
    from reward_workers.config import PoolConfig

    names = set()
    for recipe in (REPO / "recipes").glob("*.yaml"):
        pool = ((yaml.safe_load(recipe.read_text()) or {}).get("vinci") or {}).get("pool") or {}
        names.add(pool.get("resource", PoolConfig().resource))
    return names


def test_kuberay_rayjob_has_head_gpu_and_reward_groups_consistent_with_the_recipes():
    job = yaml.safe_load((LAUNCH / "kuberay" / "rayjob.yaml").read_text())
    assert job["apiVersion"] == "ray.io/v1" and job["kind"] == "RayJob"
    entry = shlex.split(job["spec"]["entrypoint"])
    assert entry[:2] == ["vinci-rl", "train"] and (REPO / entry[2]).is_file()
    assert "--address" in entry and entry[entry.index("--address") + 1] == "auto"
    assert "vinci_rl.verl_plugin" in job["spec"]["runtimeEnvYAML"]
    cluster = job["spec"]["rayClusterSpec"]
    assert cluster["headGroupSpec"]["template"]["spec"]["containers"]
    groups = {g["groupName"]: g for g in cluster["workerGroupSpecs"]}

    def limits(group):
        return group["template"]["spec"]["containers"][0]["resources"]["limits"]

    gpu = [g for g in groups.values() if "nvidia.com/gpu" in limits(g)]
    assert gpu and all(int(g["rayStartParams"]["num-gpus"]) == int(limits(g)["nvidia.com/gpu"]) for g in gpu)
    reward = [g for g in groups.values() if "resources" in g["rayStartParams"]]
    assert len(reward) == 1 and "nvidia.com/gpu" not in limits(reward[0])
    offered = json.loads(json.loads(reward[0]["rayStartParams"]["resources"]))
    resource_names = _reward_resource_of_recipes() - {None}
    assert resource_names and resource_names <= set(offered), (resource_names, offered)
    # the reward group offers one unit of the resource per CPU it gives Ray
    assert all(offered[name] == float(reward[0]["rayStartParams"]["num-cpus"]) for name in resource_names)
