"""RewardWorker: one Ray actor holding a warm VisualScorer (renderers + DINOv2 encoder), scoring batches.

The pool creates it with explicit resources (`PoolConfig.worker_options()`: num_cpus, the custom resource,
optional num_gpus). It is a threaded actor with two threads so that control calls (stats, kill_children)
are answered while a batch is being scored; scoring itself always runs on ONE dedicated thread, because the
renderers (Playwright's sync API, worker pipes) belong to the thread that created them.

    score_batch([{"response", "lang", "reference": [ObjectRef] | ndarray, "ground_truth", "gt_length"}, ...])
      -> [{"overall", "terms", "status", "message", "timings"}, ...]   (same order, always the same length)

The whole batch goes through `VisualScorer.score_many`, so the encoder sees every render of the batch (and each
distinct reference, cached across batches) in one pass. Renders are pipelined: a render thread (the only thread
that touches the Renderer) works through the batch's programs ahead of the scorer, so sample i+1 renders in its
sandboxed process while sample i's terms are computed. A sample that makes scoring raise is isolated and gets
status `reward_error`; the rest of the batch is still scored.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from reward_workers.results import REWARD_ERROR, failure_result, result_dict
from vinci_rl.languages import LANGUAGES

logger = logging.getLogger(__name__)

# Tiny programs that start each renderer's backend (browser, forkserver, TeX) when a worker starts.
WARMUP_PROGRAMS = {name: lang.warmup for name, lang in LANGUAGES.items()}  # the language table's


def rss_bytes(pid: int, children: bool = True) -> int:
    """Resident memory of a process (with its children: renderer processes, browser) in bytes; 0 when gone."""
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)] if children else [proc]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:  # exited meanwhile
            continue
    return total


class PrefetchRenderer:
    """A Renderer driven from one dedicated thread, with renders requested ahead of use.

    `prefetch(lang, code, size)` queues a render; `render(lang, code, size)` (what the scorer calls) returns the
    queued render of the same job when there is one, else renders now. Renders run in request order.
    """

    def __init__(self, render_config: dict):
        self._render_config = render_config
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reward-render")
        self._renderer = None  # created on the render thread, used only there
        self._queued: dict[tuple, deque[Future]] = {}
        self.hits = 0  # renders the scorer found prefetched
        self.misses = 0  # renders the scorer asked for that were not prefetched (rendered on demand)

    def _render(self, lang: str, code: str, size) -> Any:
        if self._renderer is None:
            from vinci_rl.render import RenderConfig, Renderer

            self._renderer = Renderer(RenderConfig.from_dict(self._render_config))
        return self._renderer.render(lang, code, size)

    def prefetch(self, lang: str, code: str, size) -> None:
        key = (lang, code, tuple(size))
        self._queued.setdefault(key, deque()).append(self._thread.submit(self._render, lang, code, tuple(size)))

    def render(self, lang: str, code: str, size=None) -> Any:
        queued = self._queued.get((lang, code, tuple(size) if size else None))
        if queued:
            self.hits += 1
            fut = queued.popleft()
            if not queued:
                del self._queued[(lang, code, tuple(size))]
        else:
            self.misses += 1
            fut = self._thread.submit(self._render, lang, code, size)
        return fut.result()

    def warm(self, lang: str, code: str) -> Any:
        """Render a warm-up program now (starts the language's backend); not counted as a hit or a miss."""
        return self._thread.submit(self._render, lang, code, (32, 32)).result()

    def drain(self) -> None:
        """Wait for renders that were queued but not used (keeps the next batch in step)."""
        queued, self._queued = self._queued, {}
        for futures in queued.values():
            for fut in futures:
                fut.exception()

    def close(self) -> None:
        self.drain()

        def _close():
            if self._renderer is not None:
                self._renderer.close()
                self._renderer = None

        self._thread.submit(_close).result(timeout=60)
        self._thread.shutdown(wait=False)


class RewardWorker:
    def __init__(self, reward_config: dict, warm_languages: list[str] | tuple = (), worker_id: int = 0):
        from vinci_rl.reward.config import DINO_TERMS, RewardConfig
        from vinci_rl.reward.scorer import VisualScorer

        self.worker_id = worker_id
        self.config = RewardConfig.from_dict(reward_config, source="reward worker config")
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reward-worker")
        self.renderer = PrefetchRenderer(self.config.render)
        self.scorer = VisualScorer(self.config, renderer=self.renderer)
        self.scored = 0
        self.batches = 0
        self.busy_s = 0.0
        t0 = time.perf_counter()
        # Warm everything on the scoring thread: the encoder's weights, then the listed renderers.
        self._thread.submit(self._warm, bool(DINO_TERMS & set(self.config.weights)), list(warm_languages)).result()
        self.start_s = time.perf_counter() - t0

    def _warm(self, encoder: bool, languages: list[str]) -> None:
        if encoder:
            _ = self.scorer.encoder.device  # loads the weights once
        for lang in languages:
            code = WARMUP_PROGRAMS.get(lang)
            if code is None:
                raise ValueError(f"pool.warm_languages: no warm-up program for {lang!r}; known: {sorted(WARMUP_PROGRAMS)}")
            self.renderer.warm(lang, code)

    # ---- control (answered on the second actor thread, even mid-batch) -------------------------------

    def ready(self) -> dict[str, Any]:
        import ray

        ctx = ray.get_runtime_context()
        return {
            "worker_id": self.worker_id,
            "pid": os.getpid(),
            "node_id": ctx.get_node_id(),
            "node_ip": ray.util.get_node_ip_address(),
            "resources": {k: float(v) for k, v in ctx.get_assigned_resources().items()},
            "start_s": self.start_s,
        }

    def stats(self) -> dict[str, Any]:
        enc = self.scorer._encoder  # only when it was created: stats never load a model
        return {
            "worker_id": self.worker_id,
            "pid": os.getpid(),
            "scored": self.scored,
            "batches": self.batches,
            "busy_s": self.busy_s,
            "encoder_forward_calls": getattr(enc, "forward_calls", 0),
            "encoder_crops": getattr(enc, "crops_encoded", 0),
            "encoder_cache_hits": getattr(enc, "cache_hits", 0),
            "prefetch_hits": self.renderer.hits,
            "prefetch_misses": self.renderer.misses,
            "rss_bytes": rss_bytes(os.getpid(), children=False),
            "rss_with_children_bytes": rss_bytes(os.getpid(), children=True),
        }

    def kill_children(self) -> int:
        """SIGKILL every process this worker started (renderer workers, browser, jobs): used before the pool kills
        a hung worker, so nothing it started outlives it."""
        import psutil

        killed = 0
        for child in psutil.Process().children(recursive=True):
            try:
                child.kill()
                killed += 1
            except psutil.Error:
                pass  # already gone
        return killed

    def close(self) -> None:
        self.renderer.close()
        self._thread.shutdown(wait=False)

    # ---- scoring -------------------------------------------------------------------------------------

    def score_batch(self, requests: list[dict]) -> list[dict]:
        return self._thread.submit(self._score_batch, requests).result()

    def _score_batch(self, requests: list[dict]) -> list[dict]:
        t0 = time.perf_counter()
        samples: list[Any] = []
        results: list[dict | None] = [None] * len(requests)
        live: list[int] = []
        references = self._references(requests)
        for i, req in enumerate(requests):
            try:
                if isinstance(references[i], Exception):
                    raise references[i]
                samples.append(self._sample(req, references[i]))
                live.append(i)
            except Exception as e:  # an unreadable reference: this sample fails, the batch goes on
                results[i] = self._error(e)
        if samples:
            self._prefetch(samples)
            try:
                scored = self._score_isolating(samples, [bool(requests[i].get("return_render")) for i in live])
            finally:
                self.renderer.drain()
            for i, res in zip(live, scored, strict=True):
                results[i] = res
        self.scored += len(requests)
        self.batches += 1
        self.busy_s += time.perf_counter() - t0
        return results  # type: ignore[return-value]  # every slot is filled above

    @staticmethod
    def _references(requests: list[dict]) -> list[Any]:
        """Each request's reference image; [ObjectRef]s (shipped by reference) are fetched in one ray.get."""
        import ray

        out: list[Any] = [r.get("reference") for r in requests]
        wanted = {i: ref[0] for i, ref in enumerate(out) if isinstance(ref, list) and ref}
        if wanted:
            try:
                for i, value in zip(wanted, ray.get(list(wanted.values())), strict=True):
                    out[i] = value
            except Exception:  # one lost object: fetch one by one so only its sample fails
                for i, obj in wanted.items():
                    try:
                        out[i] = ray.get(obj)
                    except Exception as e:  # noqa: BLE001 - becomes this sample's reward_error
                        out[i] = e
        return out

    @staticmethod
    def _sample(req: dict, reference: Any) -> Any:
        from vinci_rl.reward.scorer import Sample

        return Sample(req["response"], req["lang"], reference, req.get("ground_truth"), req.get("gt_length"))

    def _prefetch(self, samples: list[Any]) -> None:
        """Queue every render the scorer is about to ask for: the jobs of its render plan (vinci_rl/reward/plan.py),
        so the answer at its render size and a ground-truth reference are rendered ahead as well."""
        for job in self.scorer.planned_renders(samples):
            self.renderer.prefetch(job.lang, job.code, job.size)

    def _score_isolating(self, samples: list[Any], renders: list[bool]) -> list[dict]:
        """Wire dicts of the samples' results (with the render where `renders` asks for it)."""
        try:
            return [result_dict(r, w) for r, w in zip(self.scorer.score_many(samples), renders, strict=True)]
        except Exception:  # find the culprit: score one by one, the failing one gets reward_error
            logger.exception("reward worker %s: batch scoring raised; scoring its samples one by one", self.worker_id)
        out = []
        for s, w in zip(samples, renders, strict=True):
            try:
                out.append(result_dict(self.scorer.score_many([s])[0], w))
            except Exception as e:  # noqa: BLE001 - a defined failure value, with its traceback in the message
                out.append(self._error(e))
        return out

    def _error(self, e: Exception) -> dict:
        logger.error("reward worker %s: %s", self.worker_id, traceback.format_exc())
        return failure_result(REWARD_ERROR, self.config.failure_value(REWARD_ERROR), f"{type(e).__name__}: {e}")
