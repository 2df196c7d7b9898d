"""`vinci-rl workers start|status|scale|stop` against a running Ray cluster (this session's private one, with a
`reward_cpu` resource like a CPU node): a detached pool that a training job's client then finds by name."""

from __future__ import annotations

import json
import uuid

import pytest
import ray
import yaml

from pool_helpers import FAST_REWARD, fenced, reference, svg

from reward_workers import deployment
from reward_workers.client import PoolClient
from reward_workers.config import PoolConfig
from vinci_rl.cli import main

pytestmark = pytest.mark.timeout(300)


def _cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_operator_runs_a_standalone_pool_that_jobs_find(ray_cluster, tmp_path, capsys):
    name = f"cli-pool-{uuid.uuid4().hex[:6]}"
    recipe = tmp_path / "recipe.yaml"
    pool_block = {"name": name, "namespace": "vinci-rl-tests", "resource": "reward_cpu", "size": 3}
    recipe.write_text(yaml.safe_dump({"vinci": {"pool": pool_block, "reward": FAST_REWARD}}))
    common = ["--address", ray_cluster, "--config", str(recipe)]
    try:
        code, out, _ = _cli(capsys, "workers", "start", *common, "--size", "1")
        assert code == 0 and f"reward pool '{name}'" in out and "1/1 workers ready" in out

        code, out, _ = _cli(capsys, "workers", "status", *common, "--json")
        status = json.loads(out.strip().splitlines()[-1])
        assert code == 0 and status["ready"] == 1 and status["workers"][0]["resources"]["reward_cpu"] == 1.0

        code, out, _ = _cli(capsys, "workers", "scale", *common, "--size", "2", "--json")
        assert code == 0 and json.loads(out.strip().splitlines()[-1])["ready"] == 2

        # A training job (create: false) finds the operator's pool by name and scores with it.
        job_cfg = PoolConfig.from_dict({**pool_block, "create": False})
        client = PoolClient(job_cfg, FAST_REWARD)
        out = ray.get(client.handle.score.remote(client.request(fenced("svg", svg("red")), "svg", reference())))
        assert out["status"] == "ok"

        code, out, _ = _cli(capsys, "workers", "start", *common)  # idempotent: the running pool is kept
        assert code == 0 and "already runs" in out

        code, out, _ = _cli(capsys, "workers", "stop", *common)
        assert code == 0 and "stopped" in out
        assert deployment.find_pool(job_cfg) is None
        code, _, err = _cli(capsys, "workers", "status", *common)
        assert code == 2 and f"no reward pool '{name}'" in err
        with pytest.raises(deployment.PoolNotFound):
            PoolClient(job_cfg, FAST_REWARD)
    finally:
        deployment.stop_pool(PoolConfig.from_dict(pool_block))


def test_cli_errors_name_the_problem(ray_cluster, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"vinci": {"pool": {"sise": 2}}}))
    code, _, err = _cli(capsys, "workers", "start", "--address", ray_cluster, "--config", str(bad))
    assert code == 2 and "pool.sise" in err
    code, _, err = _cli(capsys, "workers", "scale", "--address", ray_cluster)
    assert code == 2 and "--size" in err
    no_node = tmp_path / "no_node.yaml"
    no_node.write_text(yaml.safe_dump({"vinci": {"pool": {"name": "x", "resource": "gpu_free_node"}}}))
    code, _, err = _cli(capsys, "workers", "start", "--address", ray_cluster, "--config", str(no_node))
    assert code == 2 and "gpu_free_node" in err
