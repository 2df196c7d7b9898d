"""Training-time pictures: every N steps, a few (reference, best rollout, worst rollout) triples with their
rewards go to the run's verl loggers (tensorboard / wandb image panels, where configured) and to a local
HTML gallery (`<run_dir>/training_gallery.html`, newest step first).

Recipe block (all optional):
    vinci:
      pictures:
        every_n_steps: 10   # 0 turns pictures off
        prompts: 3          # triples per logged step
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from vinci_rl.report.gallery import GalleryEntry, write_gallery
from vinci_rl.train.sample_log import SampleRecord
from vinci_rl.typed_config import build


@dataclass
class PicturesConfig:
    # log pictures every this many steps (0: never)
    every_n_steps: int = 10
    # how many prompts (triples) per logged step
    prompts: int = 3

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, source: str = "vinci.pictures") -> "PicturesConfig":
        cfg = build(cls, data, source, "pictures")
        if cfg.every_n_steps < 0 or cfg.prompts < 1:
            raise ValueError(f"{source}: every_n_steps >= 0 and prompts >= 1 are required")
        return cfg


def _side_by_side(images: list[np.ndarray | None], height: int = 160) -> np.ndarray:
    from PIL import Image

    tiles = []
    for img in images:
        if img is None:
            tiles.append(np.full((height, height, 3), 235, np.uint8))
            continue
        w = max(1, round(img.shape[1] * height / img.shape[0]))
        tiles.append(np.asarray(Image.fromarray(img).resize((w, height))))
    gap = np.full((height, 6, 3), 255, np.uint8)
    out = tiles[0]
    for t in tiles[1:]:
        out = np.concatenate([out, gap, t], axis=1)
    return out


class TrainingPictures:
    """Owned by the trainer; renders the chosen rollouts itself (a Renderer started on first use)."""

    def __init__(self, cfg: PicturesConfig, reward_cfg, train_files, run_dir: Path | None):
        self.cfg, self.reward_cfg, self.train_files, self.run_dir = cfg, reward_cfg, train_files, run_dir
        self._refs = None
        self._renderer = None
        self.entries: list[GalleryEntry] = []

    def due(self, step: int) -> bool:
        return self.cfg.every_n_steps > 0 and step % self.cfg.every_n_steps == 0

    def _render(self, lang: str, response: str, size: tuple[int, int]) -> np.ndarray | None:
        from vinci_rl.render import Renderer
        from vinci_rl.report.run_report import render_response

        if self._renderer is None:
            self._renderer = Renderer(self.reward_cfg.render or None)
        return render_response(self._renderer, self.reward_cfg, lang, response, size)

    def triples(self, step: int, samples: list[SampleRecord]) -> list[tuple[np.ndarray, GalleryEntry]]:
        """(picture, gallery entry) for up to cfg.prompts prompts of this step: reference | best | worst."""
        from vinci_rl.report.run_report import reference_images

        if self._refs is None:
            self._refs = reference_images(self.train_files)
        groups: dict[int, list[SampleRecord]] = {}
        for s in samples:
            groups.setdefault(s.index, []).append(s)
        out = []
        for index, group in list(groups.items())[: self.cfg.prompts]:
            ref, lang, _ = self._refs.get(index, (None, "?", ""))
            if ref is None:
                continue
            group.sort(key=lambda s: -s.reward)
            best, worst = group[0], group[-1]
            size = (ref.shape[1], ref.shape[0])
            renders = [self._render(lang, s.response, size) for s in (best, worst)]
            rb, rw = best.reward, worst.reward
            entry = GalleryEntry(
                f"step {step} · {lang} · row {index}: best {rb:.3f} / worst {rw:.3f}",
                ref,
                renders[0],
                {"best": rb, "worst": rw},
                best.status or "",
                best.response,
            )
            out.append((_side_by_side([ref, *renders]), entry))
        return out

    def log(self, step: int, samples: list[SampleRecord], tracking) -> int:
        """Send this step's triples to the loggers and the local gallery; returns how many were logged."""
        pictures = self.triples(step, samples)
        if not pictures:
            return 0
        backends = getattr(tracking, "logger", {}) or {}
        if "tensorboard" in backends:
            for i, (img, _) in enumerate(pictures):
                backends["tensorboard"].writer.add_image(f"pictures/{i}", img, step, dataformats="HWC")
        if "wandb" in backends:
            import wandb

            wandb.log({"pictures": [wandb.Image(img, caption=e.title) for img, e in pictures]}, step=step)
        self.entries[:0] = [e for _, e in pictures]
        if self.run_dir is not None:
            write_gallery(self.entries, self.run_dir / "training_gallery.html", "Training pictures: reference | best")
        return len(pictures)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
