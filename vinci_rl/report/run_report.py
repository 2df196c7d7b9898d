"""The report of a training run folder: reward-term curves (PNG) and a gallery of reference vs rollout
renders (HTML), built from the run's metrics.jsonl, samples.jsonl (vinci_rl/train/sample_log.py), config.yaml and
its training parquet (read with vinci_rl/data/rows.py); rollouts are rendered by the reward's render plan."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from vinci_rl.report.gallery import GalleryEntry, write_gallery
from vinci_rl.reward.metrics import term_key, term_names
from vinci_rl.train.sample_log import read_samples
from vinci_rl.train.vinci_block import vinci_block


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def reward_curves(metrics_path: Path, out_png: Path) -> Path:
    """Mean overall reward and every reward/<term>/mean against the step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    rows = read_jsonl(metrics_path)
    steps = [r["step"] for r in rows]
    series = {"reward (overall)": [r["data"].get("critic/score/mean", np.nan) for r in rows]}
    for term in term_names({k for r in rows for k in r["data"]}):
        series[term] = [r["data"].get(term_key(term), np.nan) for r in rows]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, values in series.items():
        ax.plot(steps, values, marker="o", linewidth=2.5 if name.startswith("reward") else 1.2, label=name)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("GRPO step")
    ax.set_ylabel("mean over the batch")
    ax.set_title("Reward and reward terms per step")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return out_png


def reference_images(train_files) -> dict[int, tuple[np.ndarray, str, str]]:
    """extra_info.index -> (image, language, ground truth), from the training parquet(s): one path, or a list
    (a ListConfig from the run's config is fine)."""
    from vinci_rl.data.rows import read_rows

    files = [train_files] if isinstance(train_files, str) else list(train_files)
    return {row.index: (row.decode(), row.language, row.ground_truth) for f in files for row in read_rows(str(f))}


def render_response(renderer, reward_cfg, lang: str, response: str, ref_size: tuple[int, int]) -> np.ndarray | None:
    """The render the reward scored for `response` against a reference of ref_size (width, height): the code its
    render plan reads, rasterised where the plan renders it; None when no code is read or nothing renders."""
    from vinci_rl.reward.plan import plan_render

    job = plan_render(response, lang, ref_size, reward_cfg).answer_job
    return None if job is None else renderer.render(job.lang, job.code, size=job.size).image


def rollout_gallery(run_dir: Path, out_html: Path, per_end: int = 6) -> Path:
    """Best and worst rollouts of the run: reference | render of the scored code | terms."""
    from omegaconf import OmegaConf

    from vinci_rl.render import Renderer
    from vinci_rl.reward.config import RewardConfig

    cfg = OmegaConf.load(run_dir / "config.yaml")
    reward_cfg = RewardConfig.from_dict(vinci_block(cfg).get("reward") or {}, source=f"{run_dir / 'config.yaml'} vinci.reward")
    refs = reference_images(cfg.data.train_files)
    samples = sorted(read_samples(run_dir), key=lambda s: -s.reward)
    chosen = samples if len(samples) <= 2 * per_end else samples[:per_end] + samples[-per_end:]
    entries = []
    with Renderer(reward_cfg.render or None) as renderer:
        for s in chosen:
            ref, lang, _ = refs.get(s.index, (None, "?", ""))
            size = None if ref is None else (ref.shape[1], ref.shape[0])
            render = None if ref is None else render_response(renderer, reward_cfg, lang, s.response, size)
            scores = {"reward": s.reward, **s.terms(reward_cfg.weights)}
            title = f"step {s.step} · {lang} · row {s.index}"
            entries.append(GalleryEntry(title, ref, render, scores, s.status or "", s.response))
    intro = f"<p>{len(samples)} rollouts; best {per_end} and worst {per_end} by reward.</p>"
    return write_gallery(entries, out_html, f"Rollouts of {run_dir.name}", intro)


def write_run_report(run_dir: str | Path) -> dict[str, Path]:
    run_dir = Path(run_dir)
    return {
        "reward_curves": reward_curves(run_dir / "metrics.jsonl", run_dir / "reward_curves.png"),
        "gallery": rollout_gallery(run_dir, run_dir / "gallery.html"),
    }
