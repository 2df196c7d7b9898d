"""Evaluation: score predictions (a JSONL file or a vLLM-served model) against a prepared test parquet.

    from vinci_rl.eval import EvalConfig, evaluate
    result = evaluate(EvalConfig(data="test.parquet", out_dir="runs/eval", predictions="preds.jsonl"))
    result.table["overall"]["dino_score"]; result.outputs["html"]

Metrics (metrics.py): render rate, format rate, StarVector DINO score, SSIM, MSE, LPIPS (with weights),
RDKit Tanimoto (chemistry), mean reward under a reward preset / recipe.
"""

from vinci_rl.eval.evaluate import EvalConfig, evaluate
from vinci_rl.eval.results import EvalResult, SampleResult, aggregate
from vinci_rl.eval.predictions import PredictionError, ServerConfig, load_predictions

__all__ = [
    "EvalConfig",
    "EvalResult",
    "PredictionError",
    "SampleResult",
    "ServerConfig",
    "aggregate",
    "evaluate",
    "load_predictions",
]
