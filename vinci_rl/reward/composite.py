"""The overall reward as a weighted sum of its terms: one function for the scorer and for a reward recomputed
with other weights (a per-step weight ramp)."""

from __future__ import annotations

from typing import Any, Mapping


def composite(terms: Mapping[str, float], weights: Mapping[str, float], normalize: bool) -> float:
    """sum(w * term) over the weighted terms present, divided by sum(w) when normalize is on (0 when it is 0)."""
    present = [(float(weights[n]), float(v)) for n, v in terms.items() if n in weights]
    total = sum(w * v for w, v in present)
    if normalize:
        denom = sum(w for w, _ in present)
        return total / denom if denom else 0.0
    return total


def reweighted(result: Any, weights: Mapping[str, float], normalize: bool) -> float:
    """A RewardResult's overall under other weights. A failure value (the sample's code was missing or its
    render failed with render_failure: overall, or the pool gave up on it) is not a weighted sum and stays."""
    if not getattr(result, "weighted", False):
        return float(result.overall)
    return composite(result.terms, weights, normalize)
