"""The statuses a scored sample can end with, and the result dict that travels worker -> pool -> client.

A result is a plain dict (cheap to ship through Ray): overall, terms, status, message, timings, missing_resources
(what an HTML render could not load), weighted (overall is the terms' weighted sum); the pool adds attempts,
cached, latency_s.
"""

from __future__ import annotations

from typing import Any

from vinci_rl.render.result import STATUSES as RENDER_STATUSES

# Failure kinds beyond the render statuses.
WORKER_FAILURE = "worker_failure"  # the sample's worker died max_attempts times
REWARD_ERROR = "reward_error"  # scoring raised (a bug), or the sample could not be read
EXTRA_STATUSES = ("wrong_language", "no_code", "bad_sample", REWARD_ERROR, WORKER_FAILURE)
ALL_STATUSES = tuple(dict.fromkeys(RENDER_STATUSES + EXTRA_STATUSES))
TIMEOUT = "timeout"


def failure_result(status: str, overall: float, message: str) -> dict[str, Any]:
    return {"overall": float(overall), "terms": {}, "status": status, "message": message, "timings": {}}


def result_dict(result: Any, with_render: bool = False) -> dict[str, Any]:
    """A vinci_rl.reward.RewardResult as the wire dict; with_render adds the answer's render as PNG bytes
    (`render_png`, when there is one: render-and-refine shows it to the model)."""
    out = {
        "overall": float(result.overall),
        "terms": {k: float(v) for k, v in result.terms.items()},
        "status": str(result.status),
        "message": str(result.message)[:2000],
        "timings": {k: float(v) for k, v in result.timings.items()},
        "missing_resources": [str(u)[:300] for u in getattr(result, "missing_resources", [])[:20]],
        "weighted": bool(getattr(result, "weighted", False)),
    }
    render = getattr(result, "render", None)
    if with_render and render is not None:
        import io

        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(render).save(buf, format="PNG")
        out["render_png"] = buf.getvalue()
    return out
