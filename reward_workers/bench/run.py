"""`vinci-rl bench reward`: samples/s per language of four scoring paths on one generated corpus, side by side.

    vinci-rl bench reward                    # quick: 16 samples per language (a minute or two on 2 cores)
    vinci-rl bench reward --samples 64 --json

Modes (see modes.py): reference_style (a fresh process pool per batch, a new browser per HTML render, a new Python
process per chart, no caching), naive (verl's compute_score called sequentially, one warm scorer), pool_1 and
pool_2 (the reward pool with 1 and 2 workers on a private local Ray cluster, every sample streamed in at once).
Pool start-up is not timed (a pool is long-lived); each pool is fresh, so no result is cached across modes.

Ratios: speedup_vs_reference = pool_2 / reference_style (both run 2 processes: the reference's process pool has 2,
as many as this machine's cores; pool_1_vs_reference is also reported); speedup_vs_naive = pool_1 / naive (one
scorer each); scaling_2_vs_1 = pool_2 / pool_1.
svg_overhead_vs_raw: pool_1 seconds per SVG sample / bare in-process cairosvg seconds per sample, on a separate
set of distinct, non-hostile SVG programs (so neither side gains from duplicates or loses to a timeout; median of
OVERHEAD_ROUNDS interleaved rounds). The pool
side also computes the reward terms; svg_overhead_vs_raw_scored divides by bare cairosvg + the same terms in one
process instead (the cost of the framework itself: sandboxed render process, Ray, routing).
Every mode uses the same reward config: the default preset, renders capped at RENDER_TIMEOUT_S.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from typing import Any

from reward_workers.bench.corpus import LANGUAGES, build_corpus
from reward_workers.bench import modes

RENDER_TIMEOUT_S = 2.0
SIZE = (256, 256)
MODES = ("reference_style", "naive", "pool_1", "pool_2")
OVERHEAD_ROUNDS = 3


def bench_reward_config() -> dict:
    return {"preset": "default", "render": {"timeout_s": {lang: RENDER_TIMEOUT_S for lang in LANGUAGES}}}


def _bar(total: int, desc: str, quiet: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, file=sys.stderr, disable=quiet, leave=False, dynamic_ncols=True)


def run_reward_bench(n: int = 16, languages: tuple[str, ...] = LANGUAGES, quiet: bool = False, seed: int = 0) -> dict:
    """Runs every mode; returns {"languages": {lang: {mode: sps, ratios...}}, "svg_overhead_vs_raw": x, ...}."""
    reward = bench_reward_config()
    t_all = time.perf_counter()
    corpus = {}
    with _bar(len(languages), "corpus (rendering references)", quiet) as bar:
        for lang in languages:
            corpus.update(build_corpus([lang], n, SIZE, seed=seed))
            bar.update(1)
    seconds: dict[str, dict[str, float]] = {lang: {} for lang in languages}
    statuses: dict[str, dict[str, int]] = {}

    # (a) and (b) first, before Ray starts in this process (the reference's process pools fork it).
    for lang in languages:
        with _bar(n, f"reference_style {lang}", quiet) as bar:
            seconds[lang]["reference_style"] = modes.run_reference_style(corpus[lang], reward, bar)
    for lang in languages:
        with _bar(n, f"naive {lang}", quiet) as bar:
            seconds[lang]["naive"] = modes.run_naive(corpus[lang], reward, bar)
    modes.close_naive()

    # SVG overhead: ROUNDS interleaved (raw, raw + terms, pool_1) passes over fresh program sets, medians kept,
    # so that load from elsewhere on the machine hits both sides alike.
    overhead_sets = [_overhead_set(n, seed + 1000 + r) for r in range(OVERHEAD_ROUNDS)] if "svg" in languages else []
    raw_runs: list[tuple[float, float, float]] = []  # per round: seconds per sample of raw, raw + terms, pool_1

    with _local_ray():
        for size in (1, 2):
            with _pool(size, reward, languages) as client:
                for lang in languages:
                    with _bar(n, f"pool_{size} {lang}", quiet) as bar:
                        secs, results = modes.run_pool(client, corpus[lang], bar)
                    seconds[lang][f"pool_{size}"] = secs
                    if size == 1:
                        statuses[lang] = _count(r["status"] for r in results)
                if size == 1:
                    for codes, samples in overhead_sets:
                        raw = modes.run_raw_cairosvg(codes, SIZE) / len(codes)
                        raw_scored = modes.run_raw_scored(samples, reward) / len(samples)
                        raw_runs.append((raw, raw_scored, modes.run_pool(client, samples)[0] / len(samples)))

    report: dict[str, Any] = {"languages": {}, "samples_per_language": n}
    for lang in languages:
        sps = {m: n / seconds[lang][m] for m in MODES}
        report["languages"][lang] = {
            **{m: round(v, 3) for m, v in sps.items()},
            "speedup_vs_reference": round(sps["pool_2"] / sps["reference_style"], 2),
            "pool_1_vs_reference": round(sps["pool_1"] / sps["reference_style"], 2),
            "speedup_vs_naive": round(sps["pool_1"] / sps["naive"], 2),
            "scaling_2_vs_1": round(sps["pool_2"] / sps["pool_1"], 2),
        }
    if raw_runs:
        raw, raw_scored, pool_1 = (statistics.median(col) for col in zip(*raw_runs))
        report["svg_overhead_vs_raw"] = round(pool_1 / raw, 3)
        report["svg_overhead_vs_raw_scored"] = round(pool_1 / raw_scored, 3)
        report["svg_raw_ms_per_sample"] = round(1000 * raw, 2)
        report["svg_raw_scored_ms_per_sample"] = round(1000 * raw_scored, 2)
        report["svg_pool_1_ms_per_sample"] = round(1000 * pool_1, 2)
    else:
        report["svg_overhead_vs_raw"] = None
    report["statuses"] = statuses
    report["wall_s"] = round(time.perf_counter() - t_all, 1)
    report["cpus"] = os.cpu_count()
    return report


def _overhead_set(n: int, seed: int):
    """Distinct, valid SVG programs with their references (a seed of their own: nothing cached from the corpus)."""
    corpus = build_corpus(["svg"], max(n, 48), SIZE, group=1, seed=seed + 1000)["svg"]
    seen, samples = set(), []
    for s in corpus:
        if s.kind in ("valid", "exact", "truncated") and s.response not in seen:
            seen.add(s.response)
            samples.append(s)
    codes = [s.response.split("\n", 1)[1].rsplit("\n```", 1)[0] for s in samples]
    return codes, samples


def _count(items) -> dict[str, int]:
    out: dict[str, int] = {}
    for k in items:
        out[k] = out.get(k, 0) + 1
    return out


class _local_ray:
    """A private local Ray cluster for the pools (never someone else's); reused when this process has one."""

    def __enter__(self):
        import ray

        self.started = not ray.is_initialized()
        if self.started:
            ray.init(address="local", num_cpus=4, resources={"reward_cpu": 2}, include_dashboard=False,
                     logging_level="ERROR", log_to_driver=False)  # fmt: skip
        return self

    def __exit__(self, *exc):
        import ray

        if self.started:
            ray.shutdown()


class _pool:
    def __init__(self, size: int, reward: dict, languages):
        from reward_workers.config import PoolConfig

        self.cfg = PoolConfig(name=f"bench-pool-{size}-{os.getpid()}", namespace="vinci-rl-bench", size=size,
                              resource="reward_cpu", warm_languages=list(languages))  # fmt: skip
        self.reward = reward

    def __enter__(self):
        import ray

        from reward_workers.client import PoolClient
        from reward_workers.deployment import get_or_create_pool

        handle = get_or_create_pool(self.cfg, self.reward)
        ready = ray.get(handle.wait_ready.remote(None, 600))
        if ready != self.cfg.size:
            raise RuntimeError(f"benchmark pool: {ready}/{self.cfg.size} workers ready: {ray.get(handle.status.remote())}")
        return PoolClient(self.cfg, self.reward, handle=handle)

    def __exit__(self, *exc):
        from reward_workers.deployment import stop_pool

        stop_pool(self.cfg)


def format_table(report: dict) -> str:
    head = f"{'language':<9}" + "".join(f"{m:>16}" for m in MODES) + f"{'pool2/ref':>10}{'pool1/ref':>10}{'pool1/naive':>12}{'2w/1w':>7}"
    lines = [f"reward scoring, samples/s ({report['samples_per_language']} samples per language, {report['cpus']} CPUs)", head]
    for lang, row in report["languages"].items():
        lines.append(
            f"{lang:<9}" + "".join(f"{row[m]:>16.2f}" for m in MODES)
            + f"{row['speedup_vs_reference']:>9.2f}x{row['pool_1_vs_reference']:>9.2f}x{row['speedup_vs_naive']:>11.2f}x"
            + f"{row['scaling_2_vs_1']:>6.2f}x"
        )  # fmt: skip
    if report.get("svg_overhead_vs_raw") is not None:
        lines.append(
            f"svg: pool_1 {report['svg_pool_1_ms_per_sample']} ms/sample vs bare cairosvg {report['svg_raw_ms_per_sample']} "
            f"ms/sample -> {report['svg_overhead_vs_raw']}x; vs bare cairosvg + the same terms in-process "
            f"{report['svg_raw_scored_ms_per_sample']} ms/sample -> {report['svg_overhead_vs_raw_scored']}x"
        )
    lines.append(f"pool_1 statuses: {json.dumps(report['statuses'])}")
    lines.append(f"wall {report['wall_s']} s")
    return "\n".join(lines)
