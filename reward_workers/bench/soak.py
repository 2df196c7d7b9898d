"""`vinci-rl bench soak`: a long run of the reward pool under a steady stream of mixed samples. A benchmark, not a test.

    vinci-rl bench soak                            # 10,000 samples, 2 workers (~15 min on 2 cores)
    vinci-rl bench soak --soak-samples 2000 --json # shorter; last stdout line: the report as one JSON object

The stream: GRPO-like groups (4 rollouts per reference image) over SVG, HTML, Python charts, LaTeX and SMILES, with
the benchmark corpus's failures (ground truth, truncated code, no fence, other programs) and HOSTILE_EVERY-th
sample hostile (a `<use>` bomb, a JS or Python infinite loop, a TeX loop, a 6000-atom SMILES: each ends in a
timeout or a resource guard). Every sample is a distinct program (a numbered comment is added where the language
has comments) and the pool's result cache is off, so every sample is really rendered and scored. WINDOW samples are
kept in flight, as a training step streams its rollouts.

Reported: throughput (samples/s) per window of REPORT_EVERY samples; resident memory of the pool actor and of each
worker (the worker process alone, and with its render processes) sampled every SAMPLE_S seconds; growth after
warm-up = RSS at the end / RSS once WARMUP_FRACTION of the samples are done - 1 (the soak's criterion: < 10%);
lost samples = sent - answered (must be 0), and the status of every answer.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections import Counter

from reward_workers.bench.corpus import HOSTILE, _fence
from vinci_rl.data.sample_programs import GENERATORS

LANGUAGE_MIX = {"svg": 0.35, "html": 0.15, "python": 0.15, "latex": 0.10, "smiles": 0.25}
HOSTILE_EVERY = 100
GROUP = 4
WINDOW = 64
REPORT_EVERY = 1000
SAMPLE_S = 5.0
WARMUP_FRACTION = 0.2
SIZE = (128, 128)
RENDER_TIMEOUT_S = 2.0
COMMENT = {"svg": "<!-- {} -->", "html": "<!-- {} -->", "python": "# {}", "latex": "% {}"}


def soak_reward_config() -> dict:
    return {"preset": "default", "size": list(SIZE),
            "render": {"timeout_s": {lang: RENDER_TIMEOUT_S for lang in LANGUAGE_MIX}}}  # fmt: skip


class Stream:
    """The endless mixed stream: references rendered once per group, responses drawn like the benchmark corpus."""

    def __init__(self, seed: int = 0):
        from vinci_rl.render import Renderer

        self.rng = random.Random(seed)
        self.renderer = Renderer()
        self.n = 0
        self.group: list[dict] = []

    def _new_group(self) -> None:
        lang = self.rng.choices(list(LANGUAGE_MIX), weights=list(LANGUAGE_MIX.values()))[0]
        while True:
            truth = GENERATORS[lang](self.rng)
            ref = self.renderer.render(lang, truth, SIZE)
            if ref.ok:
                break
        self.group = [{"lang": lang, "truth": truth, "reference": ref.image} for _ in range(GROUP)]

    def next(self) -> tuple[dict, str]:
        """(request arguments for PoolClient.request, kind)."""
        if not self.group:
            self._new_group()
        g = self.group.pop()
        self.n += 1
        lang, truth = g["lang"], g["truth"]
        if self.n % HOSTILE_EVERY == 0:
            code, kind = HOSTILE[lang], "hostile"
        else:
            r = self.rng.random()
            if r < 0.15:
                code, kind = truth, "exact"
            elif r < 0.27:
                code, kind = (truth + "((" if lang == "smiles" else truth[: max(1, len(truth) // 2)]), "truncated"
            elif r < 0.37:
                return ({"response": f"Here is the picture:\n{GENERATORS[lang](self.rng)}", "lang": lang,
                         "reference": g["reference"], "ground_truth": truth}, "no_fence")  # fmt: skip
            else:
                code, kind = GENERATORS[lang](self.rng), "valid"
        if lang in COMMENT:  # a distinct program every time: nothing is served from a cache
            code = f"{code}\n{COMMENT[lang].format(self.n)}"
        return {"response": _fence(lang, code), "lang": lang, "reference": g["reference"], "ground_truth": truth}, kind

    def close(self) -> None:
        self.renderer.close()


def _memory(handle) -> dict:
    import ray

    status = ray.get(handle.status.remote(), timeout=60)
    stats = ray.get(handle.worker_stats.remote(), timeout=60)
    return {"pool": status["pool_rss_bytes"],
            "workers": {str(s["worker_id"]): {"self": s.get("rss_bytes", 0), "with_renderers": s.get("rss_with_children_bytes", 0),
                                              "pid": s.get("pid")} for s in stats if "rss_bytes" in s}}  # fmt: skip


def _growth(series: list[dict], key_fn, warm_t: float) -> dict:
    """RSS after warm-up (first sample at or after warm_t), at the end, max, and end/warm - 1."""
    points = [(p["t"], key_fn(p)) for p in series if key_fn(p)]
    warm = next((v for t, v in points if t >= warm_t), None)
    if not points or warm is None:
        return {}
    end = points[-1][1]
    return {"warm_mb": warm / 2**20, "end_mb": end / 2**20, "max_mb": max(v for _, v in points) / 2**20,
            "growth": end / warm - 1}  # fmt: skip


def run_soak(total: int = 10_000, workers: int = 2, seed: int = 0, quiet: bool = False) -> dict:
    import ray

    from reward_workers.bench.run import _local_ray
    from reward_workers.client import PoolClient
    from reward_workers.config import PoolConfig
    from reward_workers.deployment import get_or_create_pool, stop_pool

    reward = soak_reward_config()
    cfg = PoolConfig(name=f"soak-pool-{os.getpid()}", namespace="vinci-rl-bench", size=workers, resource="reward_cpu",
                     result_cache_size=0, warm_languages=list(LANGUAGE_MIX), sample_timeout_s=30)  # fmt: skip
    stream = Stream(seed)
    with _local_ray():
        handle = get_or_create_pool(cfg, reward)
        try:
            if ray.get(handle.wait_ready.remote(None, 600)) != workers:
                raise RuntimeError(f"soak pool not ready: {ray.get(handle.status.remote())}")
            client = PoolClient(cfg, reward, handle=handle)
            return _drive(client, handle, stream, total, quiet)
        finally:
            stop_pool(cfg)
            stream.close()


def _drive(client, handle, stream: Stream, total: int, quiet: bool) -> dict:
    import ray

    t0 = time.monotonic()
    pending: dict = {}  # ObjectRef -> kind
    statuses: Counter = Counter()
    by_kind: dict[str, Counter] = {}
    windows, memory = [], []
    sent = answered = 0
    last_window_t, last_window_n, next_mem = t0, 0, t0
    while answered < total:
        while sent < total and len(pending) < WINDOW:
            args, kind = stream.next()
            pending[client.handle.score.remote(client.request(**args))] = kind
            sent += 1
        done, _ = ray.wait(list(pending), num_returns=1, timeout=60)
        for ref in done:
            kind = pending.pop(ref)
            status = ray.get(ref)["status"]
            statuses[status] += 1
            by_kind.setdefault(kind, Counter())[status] += 1
            answered += 1
            if answered % REPORT_EVERY == 0 or answered == total:
                now = time.monotonic()
                windows.append({"samples": answered, "t_s": now - t0, "samples_per_s": (answered - last_window_n) / (now - last_window_t)})
                last_window_t, last_window_n = now, answered
                if not quiet:
                    print(f"[soak] {answered}/{total} samples, {windows[-1]['samples_per_s']:.1f}/s", file=sys.stderr, flush=True)
        if time.monotonic() >= next_mem:
            memory.append({"t": time.monotonic() - t0, "samples": answered, **_memory(handle)})
            next_mem = time.monotonic() + SAMPLE_S
    memory.append({"t": time.monotonic() - t0, "samples": answered, **_memory(handle)})
    wall = time.monotonic() - t0
    warm_t = next((m["t"] for m in memory if m["samples"] >= WARMUP_FRACTION * total), wall)
    workers = sorted({w for m in memory for w in m["workers"]})
    growth = {"pool": _growth(memory, lambda p: p["pool"], warm_t)}
    for w in workers:
        growth[f"worker_{w}"] = _growth(memory, lambda p, w=w: p["workers"].get(w, {}).get("self"), warm_t)
        growth[f"worker_{w}_with_renderers"] = _growth(memory, lambda p, w=w: p["workers"].get(w, {}).get("with_renderers"), warm_t)
    restarts = ray.get(handle.status.remote())["workers"]
    return {
        "samples": total, "sent": sent, "answered": answered, "lost": sent - answered, "wall_s": wall,
        "samples_per_s": answered / wall, "windows": windows, "statuses": dict(statuses),
        "by_kind": {k: dict(v) for k, v in by_kind.items()}, "memory_growth_after_warmup": growth,
        "worker_restarts": {str(w["worker_id"]): w["restarts"] for w in restarts}, "memory_samples": memory,
        "mix": LANGUAGE_MIX, "hostile_every": HOSTILE_EVERY,
    }  # fmt: skip


def format_report(r: dict) -> str:
    lines = [f"soak: {r['answered']}/{r['sent']} samples answered ({r['lost']} lost) in {r['wall_s']:.0f} s, "
             f"{r['samples_per_s']:.1f} samples/s; worker restarts {r['worker_restarts']}",
             "throughput per window: " + ", ".join(f"{w['samples']}: {w['samples_per_s']:.1f}/s" for w in r["windows"]),
             f"statuses: {r['statuses']}",
             f"{'process':<28} {'after warm-up MB':>16} {'end MB':>8} {'max MB':>8} {'growth':>8}"]  # fmt: skip
    for name, g in r["memory_growth_after_warmup"].items():
        if g:
            lines.append(f"{name:<28} {g['warm_mb']:>16.0f} {g['end_mb']:>8.0f} {g['max_mb']:>8.0f} {g['growth']:>+8.1%}")
    return "\n".join(lines)
