"""launch/: the Ray job submit script, the committed runtime_env, and the KubeRay RayJob manifest. (The script
submitting for real, to a real multi-node cluster with token authentication, is tests/cluster/test_cluster_drill.py.)"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
LAUNCH = REPO / "launch"
VENV_RAY = str(REPO / ".venv" / "bin" / "ray")


def _submit(*args: str, script: Path = LAUNCH / "submit.sh", base_env: dict | None = None, **env: str) -> subprocess.CompletedProcess:
    base = dict(os.environ if base_env is None else base_env)
    for var in ("RAY", "RUN_DIR", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_ADDRESS"):
        base.pop(var, None)
    return subprocess.run(["bash", str(script), *args], env=dict(base, **env), capture_output=True, text=True,
                          cwd=REPO, timeout=60)  # fmt: skip


def _entry(argv: list[str]) -> list[str]:
    return argv[argv.index("--") + 1 :]


def test_dry_run_prints_the_exact_ray_job_submit_command_with_the_venvs_ray():
    out = _submit("--dry-run", "recipes/svg_rlrf.yaml", "trainer.total_epochs=2")
    assert out.returncode == 0, out.stderr
    argv = shlex.split(out.stdout)
    # the repository's own ray, found without activating the venv
    assert argv[0] == VENV_RAY and argv[1:3] == ["job", "submit"]
    assert argv[argv.index("--address") + 1] == "http://127.0.0.1:8265"
    assert argv[argv.index("--runtime-env") + 1] == str(LAUNCH / "runtime_env.yaml")
    assert argv[argv.index("--working-dir") + 1] == str(REPO)
    assert _entry(argv) == ["vinci-rl", "train", "recipes/svg_rlrf.yaml", "--address", "auto", "--device", "gpu", "trainer.total_epochs=2"]


@pytest.mark.parametrize(
    "args",
    [
        ["recipes/svg_rlrf.yaml", "--dry-run", "--no-wait", "trainer.total_epochs=2", "--run-dir", "/shared/r1"],
        ["--no-wait", "recipes/svg_rlrf.yaml", "trainer.total_epochs=2", "--run-dir=/shared/r1", "--dry-run"],
        ["--run-dir", "/shared/r1", "--dry-run", "recipes/svg_rlrf.yaml", "--no-wait", "--", "trainer.total_epochs=2"],
    ],
)
def test_flags_work_in_any_position(args):
    out = _submit(*args)
    assert out.returncode == 0, out.stderr  # --dry-run last or first: nothing is submitted either way
    argv = shlex.split(out.stdout)
    assert "--no-wait" in argv[: argv.index("--")]
    assert _entry(argv) == ["vinci-rl", "train", "recipes/svg_rlrf.yaml", "--address", "auto", "--device", "gpu",
                            "--run-dir", "/shared/r1", "trainer.total_epochs=2"]  # fmt: skip


def test_bad_flags_and_relative_run_dirs_are_refused():
    out = _submit("--dry-run", "recipes/svg_rlrf.yaml", "--no-such-flag")
    assert out.returncode == 2 and "unknown flag --no-such-flag" in out.stderr
    out = _submit("--dry-run", "recipes/svg_rlrf.yaml", "--run-dir", "runs/x")
    assert out.returncode == 2 and "must be an absolute path on the cluster" in out.stderr


def test_every_path_is_overridable_by_env(tmp_path):
    env_file = tmp_path / "env.yaml"
    env_file.write_text("env_vars: {}\n")
    out = _submit(
        "--dry-run",
        "recipes/html.yaml",
        RAY_ADDRESS="http://head:8265",
        RAY="/opt/ray/bin/ray",
        RUNTIME_ENV=str(env_file),
        WORKING_DIR=str(REPO),
        VINCI_RL="python -m vinci_rl",
        DEVICE="cpu",
        RUN_DIR="/shared/runs/html-1",
        SUBMIT_ARGS="--entrypoint-num-cpus 1",
    )
    assert out.returncode == 0, out.stderr
    argv = shlex.split(out.stdout)
    assert argv[0] == "/opt/ray/bin/ray"
    assert argv[argv.index("--address") + 1] == "http://head:8265"
    assert argv[argv.index("--runtime-env") + 1] == str(env_file)
    assert "--entrypoint-num-cpus" in argv[: argv.index("--")]
    entry = _entry(argv)
    assert entry[:3] == ["python", "-m", "vinci_rl"] and entry[entry.index("--device") + 1] == "cpu"
    assert entry[entry.index("--run-dir") + 1] == "/shared/runs/html-1"


def test_without_a_venv_the_ray_on_path_is_used_or_the_missing_ray_is_named(tmp_path):
    copy = tmp_path / "launch"
    copy.mkdir()
    shutil.copy(LAUNCH / "submit.sh", copy / "submit.sh")
    shutil.copy(LAUNCH / "runtime_env.yaml", copy / "runtime_env.yaml")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("{}\n")
    bare = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    out = _submit("--dry-run", str(recipe), script=copy / "submit.sh", base_env=bare)
    assert out.returncode == 2 and "no ray executable" in out.stderr
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "ray").write_text("#!/bin/sh\n")
    (fake_bin / "ray").chmod(0o755)
    out = _submit("--dry-run", str(recipe), script=copy / "submit.sh", base_env=dict(bare, PATH=f"{fake_bin}:/usr/bin:/bin"))
    assert out.returncode == 0, out.stderr
    assert shlex.split(out.stdout)[0] == str(fake_bin / "ray")


def test_a_given_token_switches_token_authentication_on(tmp_path):
    token = tmp_path / "auth_token"
    token.write_text("0" * 64)
    out = _submit("--dry-run", "recipes/svg_rlrf.yaml", RAY_AUTH_TOKEN_PATH=str(token))
    assert out.returncode == 0 and "RAY_AUTH_MODE=token" in out.stderr
    out = _submit("--dry-run", "recipes/svg_rlrf.yaml", RAY_AUTH_TOKEN_PATH=str(token), RAY_AUTH_MODE="disabled")
    assert out.returncode == 0 and "RAY_AUTH_MODE=token" not in out.stderr  # an explicit mode is respected


def test_missing_recipe_is_named_and_nothing_runs():
    out = _submit("--dry-run", "recipes/nope.yaml")
    assert out.returncode == 2 and "recipes/nope.yaml does not exist" in out.stderr


def test_runtime_env_loads_our_plugin_everywhere_comments_each_variable_and_names_no_machine_path():
    text = (LAUNCH / "runtime_env.yaml").read_text()
    env = yaml.safe_load(text)["env_vars"]
    assert env["VERL_USE_EXTERNAL_MODULES"] == "vinci_rl.verl_plugin"
    assert not [k for k, v in env.items() if "/" in str(v)], "a path of one machine in the committed runtime env"
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
    head = cluster["headGroupSpec"]["template"]["spec"]
    groups = {g["groupName"]: g for g in cluster["workerGroupSpecs"]}

    def container(spec):
        return spec["containers"][0]

    def limits(group):
        return container(group["template"]["spec"])["resources"]["limits"]

    gpu = [g for g in groups.values() if "nvidia.com/gpu" in limits(g)]
    assert gpu and all(int(g["rayStartParams"]["num-gpus"]) == int(limits(g)["nvidia.com/gpu"]) for g in gpu)
    # the run folder is one volume mounted on the head and every trainer pod
    run_dir = entry[entry.index("--run-dir") + 1]
    for spec in [head] + [g["template"]["spec"] for g in gpu]:
        mounts = [m["mountPath"] for m in container(spec).get("volumeMounts", [])]
        assert any(run_dir.startswith(m + "/") for m in mounts), (run_dir, mounts)
    reward = [g for g in groups.values() if "resources" in g["rayStartParams"]]
    assert len(reward) == 1 and "nvidia.com/gpu" not in limits(reward[0])
    # reward pods offer no generic CPU (so no trainer actor lands there), one reward_cpu per CPU of the pod
    assert reward[0]["rayStartParams"]["num-cpus"] == "0"
    offered = json.loads(json.loads(reward[0]["rayStartParams"]["resources"]))
    resource_names = _reward_resource_of_recipes() - {None}
    assert resource_names and resource_names <= set(offered), (resource_names, offered)
    assert all(offered[name] == float(limits(reward[0])["cpu"]) for name in resource_names)
