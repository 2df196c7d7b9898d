"""Rewards: render the response's code and score the render against the reference image.

    from vinci_rl.reward import RewardConfig, VisualScorer
    with VisualScorer(RewardConfig.from_preset("rlrf")) as scorer:
        result = scorer.score(response, "svg", reference_png_path, ground_truth=gt_code)
        result.overall, result.terms, result.status

Terms (vinci_rl.reward.terms) are pure functions / picklable callable classes; the DINOv2 encoder lives in
vinci_rl.reward.dino; presets in vinci_rl/reward/presets/: `default` and `coarse_fine` (ours), `rlrf` and
`vincicoder` (the reference systems' released rewards, conformance-tested).
"""

from vinci_rl.reward.config import TERMS, DinoConfig, LengthConfig, RewardConfig, presets
from vinci_rl.reward.extract import Extraction, extract_code
from vinci_rl.reward.scorer import RewardResult, Sample, VisualScorer

__all__ = [
    "TERMS",
    "DinoConfig",
    "Extraction",
    "LengthConfig",
    "RewardConfig",
    "RewardResult",
    "Sample",
    "VisualScorer",
    "extract_code",
    "presets",
]
