"""The HTML report of an evaluation: the metrics table per language, the notes, and a gallery of
reference | prediction render | scores, best cases first, then worst cases first (one self-contained file).
Every card says why it scored what it scored (SampleResult.reasons: a failed render, a missing fence, the
reward's status and notes); rows without a prediction are counted in the notes and shown as cards."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from vinci_rl.eval.metrics import METRICS
from vinci_rl.eval.results import MISSING, EvalResult, SampleResult, rank_key
from vinci_rl.report.gallery import GalleryEntry, write_sections

LOWER_IS_BETTER = {m for m, (higher, _) in METRICS.items() if not higher}


def metrics_table_html(table: dict[str, dict]) -> str:
    metric_cols = [m for m in METRICS if any(m in row for row in table.values())]
    cols = ["n", "render_rate", "format_rate", *metric_cols]
    head = "".join(
        f"<th>{html.escape(c)}{' ↓' if c in LOWER_IS_BETTER else ''}</th>" for c in ["language", *cols]
    )
    body = []
    for name, row in table.items():
        cells = [f"<th>{html.escape(name)}</th>"]
        for c in cols:
            v = row.get(c)
            text = "–" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))
            sub = row.get(f"{c}_rendered")
            title = f' title="rendered only: {sub:.3f}"' if isinstance(sub, float) else ""
            cells.append(f"<td{title}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="metrics"><tr>{head}</tr>{"".join(body)}</table>'


def turns_table_html(turns: dict) -> str:
    """The per-turn table of a multi-turn evaluation (results.aggregate_turns) and its improvement line."""
    rows = turns["per_turn"]
    cols = ["answered", "render_rate", "format_rate", *[m for m in METRICS if any(m in r for r in rows)]]
    cols += sorted({k for r in rows for k in r if k.startswith("term/")})
    head = "".join(f"<th>{html.escape(c)}{' ↓' if c in LOWER_IS_BETTER else ''}</th>" for c in ["turn", *cols])
    body = []
    for row in rows:
        cells = [f"<th>{row['turn']}</th>"]
        for c in cols:
            v = row.get(c)
            cells.append(f"<td>{'–' if v is None else (f'{v:.3f}' if isinstance(v, float) else html.escape(str(v)))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    rate, mean = turns["improved_rate"], turns["mean_improvement"]
    line = (
        f"Final turn beats turn 1 (reward): {'–' if rate is None else f'{rate:.3f}'} of rows; mean final − first: "
        f"{'–' if mean is None else f'{mean:+.4f}'}; stops: {html.escape(', '.join(f'{k} {v}' for k, v in turns['stops'].items()))}. "
        "A row that stopped early keeps its last answer in later turns; the table above and the gallery are the final turn's."
    )
    return f'<h3>Per turn</h3><table class="metrics"><tr>{head}</tr>{"".join(body)}</table><p style="font-size:12px">{line}</p>'


def _entry(s: SampleResult, reference: np.ndarray | None, render: np.ndarray | None) -> GalleryEntry:
    scores = {k: s.metrics[k] for k in METRICS if s.metrics.get(k) is not None}  # the table's column order
    return GalleryEntry(f"{s.id} ({s.language})", reference, render, scores, s.status, s.code, "; ".join(s.reasons()))


def write_report(
    result: EvalResult,
    references: dict[str, np.ndarray],
    renders: dict[str, np.ndarray | None],
    out: str | Path,
    per_end: int = 8,
    title: str = "",
) -> Path:
    ranked = sorted(result.samples, key=rank_key, reverse=True)
    if len(ranked) <= 2 * per_end:
        sections = [("All cases, best first", ranked)]
    else:
        sections = [(f"Best {per_end}", ranked[:per_end]), (f"Worst {per_end}, worst first", ranked[::-1][:per_end])]
    shown = {id(s) for _, group in sections for s in group}
    unshown = [s for s in result.samples if s.status == MISSING and id(s) not in shown]
    if unshown:  # every row without a prediction gets a card: it is a failure the means count
        sections.append((f"No prediction: {len(unshown)} more rows", unshown))
    rank_by = next((m for m in ("reward", "dino_score", "ssim") if m in result.table.get("overall", {})), "ssim")
    intro = (
        metrics_table_html(result.table)
        + "<p style='font-size:12px'>Means over every test row; a prediction that is missing or does not render takes "
        "each metric's failure value (DINO 0, SSIM 0, MSE 1, LPIPS 1, Tanimoto 0). Hover a cell for the mean over "
        f"rendered samples only. ↓ lower is better. Gallery ranked by {html.escape(rank_by)}.</p>"
    )
    if result.turns:
        intro += turns_table_html(result.turns)
    if result.notes:
        intro += "<ul class='notes'>" + "".join(f"<li>{html.escape(n)}</li>" for n in result.notes) + "</ul>"
    cards = [(h, [_entry(s, references.get(s.id), renders.get(s.id)) for s in group]) for h, group in sections]
    return write_sections(cards, out, title or f"vinci-rl eval: {result.config.get('data')}", intro)
