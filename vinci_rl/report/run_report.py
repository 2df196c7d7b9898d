"""The report of a training run folder: reward-term curves (PNG) and a gallery of reference vs rollout
renders (HTML), built from the run's metrics.jsonl, samples.jsonl, config.yaml and its training parquet."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from vinci_rl.report.gallery import GalleryEntry, write_gallery


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
    keys = sorted({k for r in rows for k in r["data"] if k.startswith("reward/") and k.endswith("/mean")})
    for key in keys:
        if key != "reward/reward_time_s/mean":
            series[key.removeprefix("reward/").removesuffix("/mean")] = [r["data"].get(key, np.nan) for r in rows]
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
    import pandas as pd
    from PIL import Image

    files = [train_files] if isinstance(train_files, str) else list(train_files)
    out = {}
    for f in files:
        for row in pd.read_parquet(f).itertuples():
            img = np.asarray(Image.open(io.BytesIO(row.images[0]["bytes"])).convert("RGB"))
            out[int(row.extra_info["index"])] = (img, row.extra_info["language"], row.reward_model["ground_truth"])
    return out


def render_response(renderer, reward_cfg, lang: str, response: str, size: tuple[int, int]) -> np.ndarray | None:
    """The image of the code the reward scored in `response` (same extraction rules), or None."""
    from vinci_rl.reward.extract import extract_code

    ex = extract_code(response, lang, reward_cfg.language.aliases, reward_cfg.language.on_missing)
    return None if ex.code is None else renderer.render(lang, ex.code, size=size).image


def rollout_gallery(run_dir: Path, out_html: Path, per_end: int = 6) -> Path:
    """Best and worst rollouts of the run: reference | render of the scored code | terms."""
    from omegaconf import OmegaConf

    from vinci_rl.render import Renderer
    from vinci_rl.reward.config import RewardConfig

    cfg = OmegaConf.load(run_dir / "config.yaml")
    reward_cfg = RewardConfig.from_dict(OmegaConf.to_container(cfg.vinci.reward, resolve=True))
    refs = reference_images(cfg.data.train_files)
    samples = sorted(read_jsonl(run_dir / "samples.jsonl"), key=lambda s: -s["reward_extra_info"]["vinci/reward"])
    chosen = samples if len(samples) <= 2 * per_end else samples[:per_end] + samples[-per_end:]
    entries = []
    with Renderer(reward_cfg.render or None) as renderer:
        for s in chosen:
            info = s["reward_extra_info"]
            ref, lang, _ = refs.get(int(info["vinci/index"]), (None, "?", ""))
            size = None if ref is None else (ref.shape[1], ref.shape[0])
            render = None if ref is None else render_response(renderer, reward_cfg, lang, s["response"], size)
            scores = {"reward": info["vinci/reward"], **{t: info[t] for t in reward_cfg.weights if t in info}}
            title = f"step {s['step']} · {lang} · row {int(info['vinci/index'])}"
            entries.append(GalleryEntry(title, ref, render, scores, s.get("status") or "", s["response"]))
    intro = f"<p>{len(samples)} rollouts; best {per_end} and worst {per_end} by reward.</p>"
    return write_gallery(entries, out_html, f"Rollouts of {run_dir.name}", intro)


def write_run_report(run_dir: str | Path) -> dict[str, Path]:
    run_dir = Path(run_dir)
    return {
        "reward_curves": reward_curves(run_dir / "metrics.jsonl", run_dir / "reward_curves.png"),
        "gallery": rollout_gallery(run_dir, run_dir / "gallery.html"),
    }
