"""Token authentication and the placement rules against a real Ray head started with `ray start` (token on,
own ports and temp dir): commands without the token are refused with an error that says what to set, with it
they connect; a CPU node that offers the reward resource is refused as a reward node."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vinci_rl.cluster.auth import enable_token_mode_if_token_given
from vinci_rl.cluster.local_cluster import LocalCluster

REPO = Path(__file__).resolve().parents[2]
VINCI_RL = str(Path(sys.executable).with_name("vinci-rl"))

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def head(tmp_path_factory):
    cluster = LocalCluster(tmp_path_factory.mktemp("head"))
    try:
        # a head offering reward_cpu AND generic CPUs, no GPU: what placement must refuse as a reward node
        cluster.start_head(num_cpus=2, resources={"reward_cpu": 2}, object_store_mb=128)
        yield cluster
    finally:
        cluster.shutdown(grace_s=5)
        assert not cluster.pids()
        cluster.remove_node_dirs()


def _no_auth_env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH") and k != "RAY_ADDRESS"}


def test_workers_command_without_the_token_is_refused_with_the_fix_named(head):
    out = subprocess.run([VINCI_RL, "workers", "status", "--address", head.gcs_address], env=_no_auth_env(),
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 2
    assert "token authentication" in out.stderr and "RAY_AUTH_TOKEN_PATH" in out.stderr, out.stderr[-2000:]


def test_workers_command_with_the_token_path_connects(head):
    env = dict(_no_auth_env(), RAY_AUTH_TOKEN_PATH=str(head.token_path))  # no RAY_AUTH_MODE: a given token implies it
    out = subprocess.run([VINCI_RL, "workers", "status", "--address", head.gcs_address], env=env,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    # connected: the answer is about the pool, not about the connection
    assert out.returncode == 2 and "no reward pool 'vinci_reward_pool'" in out.stderr, out.stderr[-2000:]


def test_a_cpu_node_offering_the_reward_resource_is_refused_and_the_pool_router_goes_to_the_head(head):
    script = textwrap.dedent("""
        import ray
        from vinci_rl.cluster import placement
        ray.init(address=ADDRESS)
        try:
            placement.check_reward_nodes("reward_cpu")
        except placement.PlacementError as e:
            print("REFUSED", e)
        placement.check_reward_nodes(None)  # no custom resource: nothing to check
        strategy = placement.head_scheduling()
        print("HEAD", strategy.node_id == ray.get_runtime_context().get_node_id(), strategy.soft)
    """).replace("ADDRESS", repr(head.gcs_address))  # fmt: skip
    out = subprocess.run([sys.executable, "-c", script], env=head.client_env(), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "REFUSED" in out.stdout and "--num-cpus 0 --resources" in out.stdout and "2 CPU" in out.stdout
    assert "HEAD True False" in out.stdout


def test_a_given_token_means_token_mode_unless_the_mode_is_set():
    env = {"RAY_AUTH_TOKEN_PATH": "/x/token"}
    assert enable_token_mode_if_token_given(env) and env["RAY_AUTH_MODE"] == "token"
    env = {"RAY_AUTH_TOKEN": "abc", "RAY_AUTH_MODE": "disabled"}
    assert not enable_token_mode_if_token_given(env) and env["RAY_AUTH_MODE"] == "disabled"
    env = {}
    assert not enable_token_mode_if_token_given(env) and "RAY_AUTH_MODE" not in env
