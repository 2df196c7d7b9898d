"""The reward pool on a private local Ray cluster with real renderers: creation and scaling, custom-resource
placement, affinity and the encoder's n + 1 images, a worker killed mid-batch, and a render that hangs."""

from __future__ import annotations

import time

import pytest
import ray

from pool_helpers import COLORS, FAST_REWARD, HANG_PYTHON, REWARD_CPU, fenced, python_chart, reference, svg

from reward_workers import deployment
from reward_workers.client import PoolClient
from reward_workers.config import PoolConfig

pytestmark = pytest.mark.timeout(300)


def _requests(client: PoolClient, codes: list[tuple[str, str]], ref=None) -> list[dict]:
    ref = reference() if ref is None else ref
    return [client.request(fenced(lang, code), lang, ref) for lang, code in codes]


def _score_all(client: PoolClient, requests: list[dict]) -> list:
    return [client.handle.score.remote(r) for r in requests]


def _kill_when_busy(handle, timeout_s: float = 120.0, not_pid: int | None = None) -> int:
    """ray.kill the first worker (other than not_pid) seen with a batch in flight; returns its pid."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = ray.get(handle.status.remote())
        busy = [w for w in status["workers"] if w["busy"] and w["state"] == "ready" and w["pid"] != not_pid]
        if busy:
            time.sleep(0.2)  # well inside the batch (a python chart takes longer)
            ray.kill(ray.get(handle.worker_handles.remote())[busy[0]["worker_id"]], no_restart=True)
            return busy[0]["pid"]
        time.sleep(0.02)
    raise AssertionError("no worker became busy")


def test_group_of_n_rollouts_encodes_n_plus_1_images_and_scales(make_pool, reward_config):
    from vinci_rl.reward.terms.dino import dino_views

    cfg, handle = make_pool(size=2, resource="reward_cpu")
    client = PoolClient(cfg, reward_config, handle=handle)
    status = ray.get(handle.status.remote())
    assert status["ready"] == 2
    for w in status["workers"]:
        assert w["resources"]["reward_cpu"] == 1.0 and w["resources"].get("CPU", 0.0) == 0.0

    # One prompt, n = 6 rollouts: 5 distinct programs and one duplicate of the first.
    codes = [svg(c) for c in COLORS[:5]] + [svg(COLORS[0])]
    results = ray.get(_score_all(client, _requests(client, [("svg", c) for c in codes])))
    assert len(results) == 6 and [r["status"] for r in results] == ["ok"] * 6
    assert results[0]["overall"] == pytest.approx(results[5]["overall"])
    assert sum(r["cached"] for r in results) == 1  # the duplicate program was not scored again

    stats = ray.get(handle.worker_stats.remote())
    views = len(dino_views(reference(), reward_config["dino"]["tile_size"], reward_config["dino"]["max_tiles"]))
    assert sum(s["scored"] for s in stats) == 5
    assert sorted(s["scored"] for s in stats) == [0, 5], "the group should stay on one worker (reference affinity)"
    # 5 distinct renders + the reference once = n + 1 images (not 2n)
    assert sum(s["encoder_crops"] for s in stats) == (5 + 1) * views

    # A second prompt goes to the least busy worker; both groups score in parallel.
    codes2 = [("svg", svg(c, x=1)) for c in COLORS[:4]]
    results = ray.get(_score_all(client, _requests(client, codes2, reference("blue"))))
    assert [r["status"] for r in results] == ["ok"] * 4

    metrics = client.metrics(reset=True)
    assert metrics["reward_pool/samples"] == 10 and metrics["reward_pool/cache_hit_rate"] == pytest.approx(0.1)
    assert metrics["reward_pool/fail_rate"] == 0.0 and metrics["reward_pool/latency_p95_s"] > 0
    assert client.metrics()["reward_pool/samples"] == 0  # reset

    # scale while running: down to 1, back up to 2
    assert ray.get(handle.scale.remote(1)) == 1
    assert ray.get(handle.status.remote())["ready"] == 1
    ray.get(handle.scale.remote(2))
    assert ray.get(handle.wait_ready.remote(None, 240)) == 2
    results = ray.get(_score_all(client, _requests(client, [("svg", svg(c)) for c in COLORS[5:9]], reference("green"))))
    assert [r["status"] for r in results] == ["ok"] * 4


def test_workers_land_only_where_the_custom_resource_is(make_pool):
    # The cluster offers REWARD_CPU units; each worker asks for 3, so only one of two can start.
    cfg, handle = make_pool(reward=FAST_REWARD, size=2, resource="reward_cpu", resource_per_worker=3, wait=False)
    assert ray.get(handle.wait_ready.remote(1, 240)) == 1
    time.sleep(2)
    status = ray.get(handle.status.remote())
    states = sorted(w["state"] for w in status["workers"])
    assert states == ["ready", "starting"], status
    ready = next(w for w in status["workers"] if w["state"] == "ready")
    assert ready["resources"]["reward_cpu"] == 3.0
    assert ray.available_resources().get("reward_cpu", 0) == pytest.approx(REWARD_CPU - 3)

    # A resource no node offers is refused before anything starts, naming the resource and the fix.
    with pytest.raises(ValueError, match="gpu_free_node.*ray start --num-cpus 0 --resources"):
        deployment.get_or_create_pool(PoolConfig(name="never", resource="gpu_free_node"), {})
    assert deployment.find_pool(PoolConfig(name="never")) is None


def test_killed_worker_mid_batch_loses_no_sample(make_pool):
    cfg, handle = make_pool(reward=FAST_REWARD, size=1, resource="reward_cpu", max_attempts=2, sample_timeout_s=60)
    client = PoolClient(cfg, FAST_REWARD, handle=handle)
    before_pid = ray.get(handle.status.remote())["workers"][0]["pid"]

    # 1. killed once mid-batch: the batch is re-sent to the replacement and every sample scores.
    refs = _score_all(client, _requests(client, [("python", python_chart(i, sleep_s=0.5)) for i in range(6)]))
    killed = _kill_when_busy(handle)
    results = ray.get(refs, timeout=240)
    assert killed == before_pid
    assert len(results) == 6 and [r["status"] for r in results] == ["ok"] * 6
    assert max(r["attempts"] for r in results) == 2
    status = ray.get(handle.status.remote())
    assert status["workers"][0]["restarts"] == 1 and status["workers"][0]["pid"] != before_pid
    metrics = client.metrics(reset=True)
    assert metrics["reward_pool/worker_restarts"] == 1 and metrics["reward_pool/retries"] >= 1

    # The restarted worker serves again.
    again = ray.get(client.handle.score.remote(client.request(fenced("svg", svg("red")), "svg", reference())))
    assert again["status"] == "ok" and again["overall"] > 0.9

    # 2. killed on every attempt (max_attempts = 2): those samples get worker_failure and the failure reward,
    # and still every sample gets a result.
    refs = _score_all(client, _requests(client, [("python", python_chart(10 + i, sleep_s=1.0)) for i in range(3)], reference("blue")))
    first = _kill_when_busy(handle)
    _kill_when_busy(handle, not_pid=first)  # the replacement, while it scores the re-sent batch
    results = ray.get(refs, timeout=240)
    assert len(results) == 3
    failed = [r for r in results if r["status"] == "worker_failure"]
    assert failed, results
    for r in failed:
        assert r["overall"] == -1.0 and r["attempts"] == 2 and "died" in r["message"]
    assert client.metrics()["reward_pool/fail_rate/worker_failure"] == len(failed) / 4  # 3 + the sample above


def test_hung_render_gets_timeout_status_not_a_hung_step(make_pool):
    # The python renderer's own budget is 60 s here (TINY_REWARD): the pool's 5 s sample timeout ends it.
    cfg, handle = make_pool(reward=FAST_REWARD, size=1, resource="reward_cpu", sample_timeout_s=5)
    client = PoolClient(cfg, FAST_REWARD, handle=handle)
    t0 = time.monotonic()
    hang = client.handle.score.remote(client.request(fenced("python", HANG_PYTHON), "python", reference()))
    # an async actor runs calls in no guaranteed order: send the others once the hang is in flight alone
    while ray.get(handle.status.remote())["in_flight"] != 1:
        time.sleep(0.02)
    ok = _score_all(client, _requests(client, [("svg", svg(c)) for c in COLORS[:3]]))
    hung = ray.get(hang, timeout=200)
    assert hung["status"] == "timeout" and hung["overall"] == -1.0 and "sample_timeout_s" in hung["message"]
    assert time.monotonic() - t0 < 150
    assert [r["status"] for r in ray.get(ok, timeout=200)] == ["ok"] * 3  # served by the restarted worker
    metrics = client.metrics()
    assert metrics["reward_pool/timeouts"] == 1 and metrics["reward_pool/fail_rate/timeout"] == pytest.approx(0.25)
    assert ray.get(handle.status.remote())["workers"][0]["restarts"] == 1


def test_a_worker_that_dies_while_starting_is_restarted_not_given_up(make_pool):
    """What a reward node lost while a replacement was being placed on it looks like to the pool: the worker dies
    before it is ready. It must be started again (and wait for capacity), never marked failed for good."""
    # 3 reward_cpu per worker on a cluster of 4: the second worker stays pending, like a replacement with no node left
    cfg, handle = make_pool(reward=FAST_REWARD, size=2, resource="reward_cpu", resource_per_worker=3, wait=False)
    assert ray.get(handle.wait_ready.remote(1, 240)) == 1
    pending = next(w for w in ray.get(handle.status.remote())["workers"] if w["state"] == "starting")["worker_id"]
    ray.kill(ray.get(handle.worker_handles.remote())[pending], no_restart=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        worker = ray.get(handle.status.remote())["workers"][pending]
        if worker["restarts"] >= 1:
            break
        time.sleep(0.2)
    assert worker["state"] == "starting" and worker["restarts"] >= 1 and "died while starting" in worker["error"], worker
    history = [h for h in ray.get(handle.history.remote()) if h["worker_id"] == pending]
    assert history[0]["end"] == "start_failed" and history[-1]["end"] is None and len(history) >= 2
    # (capacity coming back when a node rejoins is the cluster drill's: tests/cluster/test_cluster_drill.py)


def test_a_worker_whose_constructor_raises_is_failed_and_samples_still_get_a_result(make_pool):
    bad = {"weights": {"dino_coarse": 1.0}, "dino": {"model": "/nonexistent/dinov2"}}
    cfg, handle = make_pool(reward=bad, size=1, resource="reward_cpu")
    status = ray.get(handle.status.remote())
    assert status["workers"][0]["state"] == "failed" and status["workers"][0]["restarts"] == 0
    assert "nonexistent" in status["workers"][0]["error"]
    client = PoolClient(cfg, bad, handle=handle)
    out = ray.get(client.handle.score.remote(client.request(fenced("svg", svg("red")), "svg", reference())), timeout=60)
    assert out["status"] == "worker_failure" and "no worker could start" in out["message"]


def test_a_job_with_another_reward_config_is_refused_naming_both(make_pool):
    from reward_workers.deployment import PoolConfigMismatch

    cfg, handle = make_pool(reward=FAST_REWARD, size=1, resource="reward_cpu")
    PoolClient(cfg, dict(FAST_REWARD), handle=handle)  # the same config (a copy) is accepted
    other = {**FAST_REWARD, "weights": {"pixel_l2": 1.0, "format": 0.5}}
    with pytest.raises(PoolConfigMismatch, match=r"weights: pool has .*'format': 0\.1.*this job has .*'format': 0\.5.*vinci\.pool\.name"):
        PoolClient(cfg, other, handle=handle)
