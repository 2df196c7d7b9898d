"""The scoring paths the benchmark compares, each timed over one language's corpus (samples per second).

- reference_style: what the reference systems did. A fresh process pool per batch (2 processes, no caching);
  in each task a cold render: a new Chromium launched per HTML render, a new Python process per chart, a new
  TeX run (as always), cairosvg / RDKit in-process; then a fresh scorer.
- naive: verl's naive path: a custom `compute_score(sample)` called sequentially in one process, with one warm
  VisualScorer kept in a module global (warm renderers, but one sample at a time, no batching, no pipelining).
- pool: the reward pool (`reward_workers`), all samples streamed in at once as verl's reward loop does.
- raw_cairosvg: bare in-process `cairosvg.svg2png` of the SVG programs (the floor for the SVG overhead ratio).
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from reward_workers.bench.corpus import BenchSample

REFERENCE_BATCH = 8  # samples per fresh process pool
REFERENCE_PROCESSES = 2


class ColdRenderer:
    """Renders the way the reference systems did: nothing is kept warm between renders."""

    def __init__(self, render_config: dict):
        self.render_config = render_config

    def render(self, lang: str, code: str, size=None):
        from vinci_rl.render import RenderConfig, render
        from vinci_rl.render.result import PARSE_ERROR, RenderResult

        if lang == "svg":  # VinciCoder: cairosvg in-process, no sandbox, no timeout
            import io

            import cairosvg
            import numpy as np
            from PIL import Image

            try:
                png = cairosvg.svg2png(bytestring=code.encode(), output_width=size[0], output_height=size[1], background_color="white")
            except Exception as e:  # malformed SVG: the reference scored 0 for any exception
                return RenderResult(PARSE_ERROR, None, f"{type(e).__name__}: {e}"[:200])
            img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB").resize(size))
            return RenderResult("ok", np.ascontiguousarray(img))
        # a one-shot Renderer: a cold browser / a new Python process / a new TeX job dir, stopped after the render
        return render(lang, code, size, RenderConfig.from_dict(self.render_config))

    def close(self) -> None:
        pass


def _reference_task(reward_config: dict, sample: BenchSample) -> float:
    from vinci_rl.reward.config import RewardConfig
    from vinci_rl.reward.scorer import VisualScorer

    cfg = RewardConfig.from_dict(reward_config)
    scorer = VisualScorer(cfg, renderer=ColdRenderer(cfg.render))
    return scorer.score(sample.response, sample.lang, sample.reference, ground_truth=sample.ground_truth).overall


def run_reference_style(samples: list[BenchSample], reward_config: dict, progress=None) -> float:
    """Seconds for the corpus: a fresh process pool per batch of REFERENCE_BATCH samples."""
    import cairosvg  # noqa: F401  (imported before the pools fork, as a reward module would be: not timed)

    import vinci_rl.reward.scorer  # noqa: F401

    t0 = time.perf_counter()
    for start in range(0, len(samples), REFERENCE_BATCH):
        batch = samples[start : start + REFERENCE_BATCH]
        with ProcessPoolExecutor(max_workers=REFERENCE_PROCESSES) as ex:
            for _ in ex.map(_reference_task, [reward_config] * len(batch), batch):
                if progress is not None:
                    progress.update(1)
    return time.perf_counter() - t0


_NAIVE_SCORER: Any = None


def compute_score(sample: BenchSample, reward_config: dict) -> float:
    """verl's custom reward function shape: one sample in, one score out; the scorer is a warm module global."""
    global _NAIVE_SCORER
    if _NAIVE_SCORER is None:
        from vinci_rl.reward.scorer import VisualScorer

        _NAIVE_SCORER = VisualScorer(reward_config)
    return _NAIVE_SCORER.score(sample.response, sample.lang, sample.reference, ground_truth=sample.ground_truth).overall


def close_naive() -> None:
    global _NAIVE_SCORER
    if _NAIVE_SCORER is not None:
        _NAIVE_SCORER.close()
        _NAIVE_SCORER = None


def run_naive(samples: list[BenchSample], reward_config: dict, progress=None) -> float:
    t0 = time.perf_counter()
    for s in samples:
        compute_score(s, reward_config)
        if progress is not None:
            progress.update(1)
    return time.perf_counter() - t0


def run_pool(client: Any, samples: list[BenchSample], progress=None) -> tuple[float, list[dict]]:
    """Seconds for the corpus through the pool: every sample streamed in at once, results awaited as they come."""
    import ray

    t0 = time.perf_counter()
    refs = [
        client.handle.score.remote(client.request(s.response, s.lang, s.reference, ground_truth=s.ground_truth))
        for s in samples
    ]
    pending = list(refs)
    while pending:  # results as they come (for the progress bar), read in chunks to keep the driver cheap
        done, pending = ray.wait(pending, num_returns=len(pending), timeout=0.05)
        if progress is not None:
            progress.update(len(done))
    results = ray.get(refs)
    return time.perf_counter() - t0, results


def run_raw_cairosvg(codes: list[str], size: tuple[int, int]) -> float:
    """Seconds to render the SVG programs with bare in-process cairosvg (PNG decoded to an array, like a render)."""
    import io

    import cairosvg
    import numpy as np
    from PIL import Image

    cairosvg.svg2png(bytestring=codes[0].encode(), output_width=size[0], output_height=size[1])  # first-call setup
    t0 = time.perf_counter()
    for code in codes:
        try:
            png = cairosvg.svg2png(bytestring=code.encode(), output_width=size[0], output_height=size[1], background_color="white")
            np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
        except Exception:  # noqa: BLE001 - a malformed program costs what it costs; the timing is what we measure
            pass
    return time.perf_counter() - t0


def run_raw_scored(samples: list[BenchSample], reward_config: dict) -> float:
    """Seconds to score SVG samples in this process with bare cairosvg as the renderer and the same terms, one by
    one: the floor of a single process without sandbox, IPC or Ray (the framework-overhead baseline)."""
    from vinci_rl.reward.config import RewardConfig
    from vinci_rl.reward.scorer import VisualScorer

    cfg = RewardConfig.from_dict(reward_config)
    scorer = VisualScorer(cfg, renderer=ColdRenderer(cfg.render))
    scorer.score(samples[0].response, "svg", samples[0].reference)  # imports
    t0 = time.perf_counter()
    for s in samples:
        scorer.score(s.response, s.lang, s.reference, ground_truth=s.ground_truth)
    return time.perf_counter() - t0
