"""What a learning run shows: learning.json, the stage table, the reward curves with the SFT baseline, and one
gallery of the same held-out references across stages (reference | base | SFT | RL)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from vinci_rl.report.gallery import STYLE, data_uri
from vinci_rl.report.run_report import read_jsonl
from vinci_rl.reward.metrics import term_key, term_names

STAGE_TITLES = {"base": "base", "sft": "SFT", "rl": "RL", "sft_longer": "SFT, trained longer"}


def stage_summary(result, ground_truth: dict[str, str]) -> dict:
    """One stage's held-out results: render rate, mean reward, the mean of every reward term, the task's own
    correctness scores (independent of the reward: does the answer get the scene right?), per-sample values. A
    multi-turn evaluation's are the final turn's, with the same summary of every turn under "turns"."""
    summary = samples_summary(result.samples, ground_truth)
    if result.turn_samples:
        summary["turns"] = [samples_summary(samples, ground_truth) for samples in result.turn_samples]
    return summary


def samples_summary(samples, ground_truth: dict[str, str]) -> dict:
    """stage_summary of a list of SampleResult (every held-out row once)."""
    from vinci_rl.data.shapes_task import scene_scores
    from vinci_rl.eval.results import aggregate

    terms = sorted({t for s in samples for t in s.reward_terms})
    task = {s.id: scene_scores(s.code if s.rendered else None, ground_truth[s.id]) for s in samples}
    row = aggregate(samples)["overall"]
    return {
        "n": row["n"],
        "render_rate": row["render_rate"],
        "format_rate": row["format_rate"],
        "reward": row.get("reward"),
        "terms": {t: float(np.mean([s.reward_terms.get(t, np.nan) for s in samples])) for t in terms},
        "task": {k: float(np.mean([v[k] for v in task.values()])) for k in next(iter(task.values()))},
        "samples": [
            {"id": s.id, "status": s.status, "reward": s.metrics.get("reward"), "terms": s.reward_terms,
             "task": task[s.id], "code": s.code}
            for s in samples
        ],
    }  # fmt: skip


def stage_table(stages: dict[str, dict]) -> str:
    """The table printed at the end: one row per stage."""
    terms = sorted({t for st in stages.values() for t in st["terms"]})
    task = ("cell_accuracy", "count_ok", "background_ok", "shape_f1")
    head = ["stage", "render", "reward", *terms, *task]
    width = max(len(h) for h in head) + 1
    lines = ["".join(f"{h:>{width}}" for h in head)]
    for name, st in stages.items():
        cells = [STAGE_TITLES.get(name, name), f"{st['render_rate']:.2f}", f"{st['reward']:+.3f}"]
        cells += [f"{st['terms'][t]:+.3f}" for t in terms] + [f"{st['task'][k]:.3f}" for k in task]
        lines.append("".join(f"{c:>{width}}" for c in cells))
    lines.append(f"{'':>{width}}(reward terms, then the task's own correctness: share of grid cells right, right shape count,")
    lines.append(f"{'':>{width}} right background, F1 of exactly right shapes)")
    return "\n".join(lines)


def write_learning_json(path: Path, config: dict, stages: dict[str, dict], timings: dict[str, float]) -> Path:
    path.write_text(json.dumps({"config": config, "stages": stages, "timings_s": timings}, indent=2, default=str))
    return path


def reward_curves(grpo_metrics: Path, sft_metrics: Path | None, baselines: dict[str, float], out_png: Path) -> Path:
    """GRPO's training reward per step (and the main terms), with the held-out SFT and RL means as lines; the
    SFT loss per step in a second panel when given."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_jsonl(grpo_metrics)
    fig, axes = plt.subplots(1, 2 if sft_metrics else 1, figsize=(12 if sft_metrics else 7, 4.2), squeeze=False)
    ax = axes[0][0]
    steps = [r["step"] for r in rows]
    ax.plot(steps, [r["data"].get("critic/score/mean", np.nan) for r in rows], marker="o", lw=2.5, label="GRPO batch reward")
    for name in term_names({k for r in rows for k in r["data"]}):
        ax.plot(steps, [r["data"].get(term_key(name), np.nan) for r in rows], lw=1, alpha=0.7, label=name)
    styles = {"sft": ("k", "--"), "rl": ("tab:green", ":"), "base": ("tab:red", "-.")}
    for name, value in baselines.items():
        colour, dash = styles.get(name, ("grey", "--"))
        ax.axhline(value, color=colour, ls=dash, lw=1.5, label=f"held-out {STAGE_TITLES.get(name, name)}: {value:+.3f}")
    ax.set_xlabel("GRPO step")
    ax.set_ylabel("reward")
    ax.set_title("GRPO from the SFT checkpoint")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    if sft_metrics:
        srows = [r for r in read_jsonl(sft_metrics) if "train/loss" in r["data"]]
        axes[0][1].plot([r["step"] for r in srows], [r["data"]["train/loss"] for r in srows], lw=1.5)
        axes[0][1].set_yscale("log")
        axes[0][1].set_xlabel("SFT step")
        axes[0][1].set_ylabel("train loss")
        axes[0][1].set_title("Stage 1: SFT")
        axes[0][1].grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return out_png


def stage_gallery(data: Path, eval_dirs: dict[str, Path], out_html: Path, n: int = 16) -> Path:
    """The first n held-out references, one row each: reference | the render of each stage's answer + reward."""
    from vinci_rl.eval.evaluate import load_test_rows
    from vinci_rl.render import Renderer

    rows = load_test_rows(data, n)
    per_stage = {name: {s["id"]: s for s in json.loads((d / "eval.json").read_text())["samples"]} for name, d in eval_dirs.items()}
    head = "".join(f"<th>{html.escape(STAGE_TITLES.get(s, s))}</th>" for s in ["reference", *eval_dirs])
    body = []
    with Renderer() as renderer:
        for row in rows:
            ref = row.decode()
            cells = [f"<td><img src='{data_uri(ref)}'></td>"]
            for name in eval_dirs:
                s = per_stage[name].get(row.id, {})
                res = renderer.render(row.language, s.get("code") or "", size=(ref.shape[1], ref.shape[0])) if s.get("code") else None
                img = f"<img src='{data_uri(res.image)}'>" if res is not None and res.image is not None else "<div class='missing'>no render</div>"
                reward = s.get("metrics", {}).get("reward")
                label = f"{reward:+.3f}" if isinstance(reward, (int, float)) else "-"
                cells.append(f"<td>{img}<br><small>{html.escape(s.get('status', '?'))} · reward {label}</small></td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>held-out gallery</title><style>{STYLE}"
        "td{text-align:center;vertical-align:top;padding:4px}</style></head><body>"
        "<h1>The same held-out references, stage by stage</h1>"
        f"<table><tr>{head}</tr>{''.join(body)}</table></body></html>"
    )
    out_html.write_text(page)
    return out_html
