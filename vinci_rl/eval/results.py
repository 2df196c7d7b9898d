"""What an evaluation produces: per-sample results, the per-language table, the ranking of the gallery, and why a
sample scored what it scored. evaluate.py builds them, report.py shows them; neither imports the other's internals.
"""

from __future__ import annotations

import io
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vinci_rl.eval.metrics import METRICS

MISSING = "missing"  # no prediction for this test row


@dataclass
class SampleResult:
    id: str
    index: int
    language: str
    status: str  # "ok", a render status, or "missing"
    fence_ok: bool
    metrics: dict[str, float | None]
    message: str = ""
    code: str = ""
    reward_terms: dict[str, float] = field(default_factory=dict)
    read_as: str = ""  # how the code was read: fence, lenient, raw ("" when nothing was, or bare code was given)
    reward_status: str = ""  # the reward's status ("ok", wrong_language, a render status, ...); "" without a reward
    reward_message: str = ""  # the reward's notes (why it failed, a term it skipped)
    turn_rewards: list[float] = field(default_factory=list)  # --turns: the reward of each turn's answer, first to final
    stop: str = ""  # --turns: why the row's turns ended (vinci_rl/refine/rules.py STOP_REASONS)

    @property
    def rendered(self) -> bool:
        return self.status == "ok"

    def reasons(self) -> list[str]:
        """Why the sample scored what it scored, one phrase per cause (the report card's note)."""
        if self.status == MISSING:
            return ["no prediction for this test row: every metric takes its failure value"]
        out = []
        if not self.rendered:
            out.append(f"render {self.status}" + (f": {self.message}" if self.message else ""))
        if self.read_as == "raw":
            out.append(f"no ```{self.language} block: the metrics score the raw text (format rate counts it)")
        elif self.read_as == "lenient":
            out.append(f"code read from a fence other than ```{self.language}")
        if self.reward_status and self.reward_status != "ok":
            out.append(f"reward {self.reward_status}" + (f": {self.reward_message}" if self.reward_message else ""))
        elif self.reward_message:
            out.append(f"reward: {self.reward_message}")
        if self.turn_rewards:
            out.append(f"reward per turn {' -> '.join(f'{r:.3f}' for r in self.turn_rewards)} (stop: {self.stop})")
        return out


@dataclass
class EvalResult:
    config: dict[str, Any]
    table: dict[str, dict[str, Any]]  # "overall" and each language -> metric -> value
    samples: list[SampleResult]
    notes: list[str]
    outputs: dict[str, str] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)  # prediction keys not in the test set
    elapsed_s: float = 0.0
    turns: dict[str, Any] | None = None  # --turns: aggregate_turns(...); the table and samples are the final turn's
    # --turns: every row's result after each turn (turn_samples[-1] is `samples`); not written to eval.json
    turn_samples: list[list[SampleResult]] = field(default_factory=list, repr=False)

    @property
    def nothing_rendered(self) -> bool:
        """Some rows had a prediction, and none of them rendered: the image metrics measured nothing."""
        answered = [s for s in self.samples if s.status != MISSING]
        return bool(answered) and not any(s.rendered for s in answered)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("turn_samples")
        d["samples"] = [asdict(s) for s in self.samples]
        return d

    def text(self) -> str:
        cols = ["n", "render_rate", "format_rate", *[m for m in METRICS if any(m in r for r in self.table.values())]]
        lines = ["  ".join(f"{c:>12}" for c in ["language", *cols])]
        for name, row in self.table.items():
            cells = [f"{name:>12}"]
            for c in cols:
                v = row.get(c)
                cells.append(f"{'-' if v is None else (f'{v:.4f}' if isinstance(v, float) else v):>12}")
            lines.append("  ".join(cells))
        if self.turns:
            lines += ["", turns_text(self.turns)]
        lines += [f"note: {n}" for n in self.notes]
        lines += [f"{k}: {v}" for k, v in self.outputs.items()]
        return "\n".join(lines)


def _mean(values: list[float]) -> float | None:
    vals = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return float(np.mean(vals)) if vals else None


def aggregate(samples: list[SampleResult]) -> dict[str, dict[str, Any]]:
    """'overall' and each language -> n, render_rate, format_rate, metric means (failures included) and
    '<metric>_rendered' means over rendered samples only."""
    groups: dict[str, list[SampleResult]] = {"overall": samples}
    for s in samples:
        groups.setdefault(s.language, []).append(s)
    table = {}
    for name, group in groups.items():
        row: dict[str, Any] = {
            "n": len(group),
            "render_rate": float(np.mean([s.rendered for s in group])),
            "format_rate": float(np.mean([s.fence_ok for s in group])),
        }
        for m in METRICS:
            vals = [s.metrics[m] for s in group if m in s.metrics]
            if vals:
                row[m] = _mean(vals)
                if m not in ("tanimoto", "reward"):
                    row[f"{m}_rendered"] = _mean([s.metrics[m] for s in group if m in s.metrics and s.rendered])
        table[name] = row
    return table


def aggregate_turns(per_turn: list[list[SampleResult]], answered: list[int]) -> dict[str, Any]:
    """The per-turn numbers of a multi-turn evaluation. per_turn[t]: every row's result after turn t+1 (a row
    that stopped earlier keeps its last answer); answered[t]: how many rows answered at that turn.

    per_turn rows: turn, answered, n, render_rate, format_rate, the metric means (reward included) and
    `term/<name>` (the reward terms' means); then improved_rate (rows whose final reward beats turn 1's),
    mean_improvement (final - first reward), mean_turns and stops (reason -> rows)."""
    rows = []
    for t, (samples, n_answered) in enumerate(zip(per_turn, answered, strict=True), 1):
        row = {"turn": t, "answered": n_answered, **aggregate(samples)["overall"]}
        for name in sorted({k for s in samples for k in s.reward_terms}):
            row[f"term/{name}"] = _mean([s.reward_terms.get(name) for s in samples])
        rows.append(row)
    final = per_turn[-1]
    deltas = [s.turn_rewards[-1] - s.turn_rewards[0] for s in final if s.turn_rewards]
    stops: dict[str, int] = {}
    for s in final:
        stops[s.stop] = stops.get(s.stop, 0) + 1
    return {
        "turns": len(per_turn),
        "per_turn": rows,
        "improved_rate": float(np.mean([d > 0 for d in deltas])) if deltas else None,
        "mean_improvement": _mean(deltas),
        "mean_turns": _mean([float(len(s.turn_rewards)) for s in final if s.turn_rewards]),
        "stops": dict(sorted(stops.items())),
    }


def turns_text(turns: dict[str, Any]) -> str:
    """The per-turn table and the improvement line, as printed."""
    cols = ["answered", "render_rate", "format_rate", "reward", *[m for m in METRICS if m != "reward"]]
    cols = [c for c in cols if any(c in r for r in turns["per_turn"])]
    cols += sorted({k for r in turns["per_turn"] for k in r if k.startswith("term/")})
    lines = ["  ".join(f"{c:>12}" for c in ["turn", *cols])]
    for row in turns["per_turn"]:
        cells = [f"{row['turn']:>12}"]
        for c in cols:
            v = row.get(c)
            cells.append(f"{'-' if v is None else (f'{v:.4f}' if isinstance(v, float) else v):>12}")
        lines.append("  ".join(cells))
    rate, mean = turns["improved_rate"], turns["mean_improvement"]
    lines.append(
        f"final turn beats turn 1: {'-' if rate is None else f'{rate:.3f}'} of rows; mean final - first reward: "
        f"{'-' if mean is None else f'{mean:+.4f}'}; mean turns {turns['mean_turns'] or 0:.2f}; stops: "
        + ", ".join(f"{k} {v}" for k, v in turns["stops"].items())
    )
    return "\n".join(lines)


def rank_key(s: SampleResult) -> float:
    """Higher is better: the reward when there is one, else the DINO score, else SSIM; failures lowest."""
    for m in ("reward", "dino_score", "ssim", "tanimoto"):
        v = s.metrics.get(m)
        if v is not None and not math.isnan(v):
            return float(v) + (0.0 if s.rendered else -10.0)
    return -10.0


def json_default(o: Any) -> Any:
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    if isinstance(o, (bytes, io.BytesIO)):
        return None
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
