"""The reward worker prefetches exactly the renders its scorer asks for: both follow the one render plan
(vinci_rl/reward/plan.py). The worker used to prefetch every answer at the scoring size with a rule of its own,
so an HTML / Python answer (rendered at the reference's own size), an SVG under VinciCoder's 336^2 box, and the
ground-truth reference of the rlrf preset were rendered twice: once ahead, for nothing, once on demand.

The worker runs in this process (no Ray: its references are arrays), with the real renderers."""

from __future__ import annotations

import numpy as np
import pytest

from reward_workers.worker import RewardWorker
from vinci_rl.reward.config import RewardConfig
from vinci_rl.reward.image import scoring_size
from vinci_rl.reward.plan import plan_render

SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect x="2" y="2" width="5" height="4" fill="red"/></svg>'
HTML = "<html><body style='margin:0'><div style='width:40px;height:30px;background:#c00'></div></body></html>"
PYTHON = "import matplotlib.pyplot as plt\nplt.bar(['a', 'b'], [1, 3])\nplt.show()"
REFERENCE = np.full((120, 160, 3), 255, np.uint8)
REFERENCE[20:60, 30:90] = (200, 0, 0)

CASES = {
    # a small max_pixels makes the scoring size (smaller) differ from the reference's own size
    "native_size": ({"weights": {"pixel_l2": 1.0}, "max_pixels": 64 * 48}, [("html", HTML), ("python", PYTHON)], None),
    "vincicoder_svg_box": ({"weights": {"pixel_l2": 1.0}, "render_sizes": {"svg": [336, 336]}}, [("svg", SVG)], None),
    "rlrf_ground_truth": ({"preset": "rlrf"}, [("svg", SVG), ("svg", SVG.replace("red", "blue"))], SVG),
}


def _requests(answers, ground_truth):
    return [{"response": f"```{lang}\n{code}\n```", "lang": lang, "reference": REFERENCE, "ground_truth": ground_truth}
            for lang, code in answers]  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_every_render_the_scorer_asks_for_was_prefetched(case):
    reward, answers, ground_truth = CASES[case]
    cfg = RewardConfig.from_dict(reward)
    old_rule = scoring_size((160, 120), cfg.size, cfg.max_pixels)  # where the worker used to prefetch
    plans = [plan_render(f"```{lang}\n{code}\n```", lang, (160, 120), cfg, ground_truth) for lang, code in answers]
    assert all(p.render_size != old_rule for p in plans) or ground_truth  # the cases the old rule missed
    worker = RewardWorker(reward)
    try:
        results = worker.score_batch(_requests(answers, ground_truth))
        assert [r["status"] for r in results] == ["ok"] * len(answers), results
        stats = worker.stats()
        expected = sum(len(p.jobs()) for p in plans) - (len(plans) - 1 if ground_truth else 0)  # one shared GT
        assert (stats["prefetch_hits"], stats["prefetch_misses"]) == (expected, 0)
        # a second batch with the same ground truth: its reference render is cached, so it is not prefetched
        worker.score_batch(_requests(answers[:1], ground_truth))
        assert worker.stats()["prefetch_misses"] == 0
    finally:
        worker.close()
