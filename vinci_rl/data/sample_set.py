"""The bundled sample set: a few dozen image -> code pairs across languages, generated and rendered here.

    vinci-rl make-sample-data runs/sample_data [--tokenizer runs/tiny-qwen2.5-vl]

Programs come from `sample_programs` (seeded, so the set is the same everywhere); each is rendered with the
product's own renderers to make its reference image. Rows are ordered so that every 4 consecutive rows hold
one HTML sample (HTML renders any text, which gives a random tiny model a reward signal in every batch).
A program that fails to render is reported and left out of the set, never silently.
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from vinci_rl.data.rows import make_row
from vinci_rl.data.sample_programs import GENERATORS

OTHER_LANGUAGES = ("svg", "latex", "python", "smiles")


@dataclass
class SampleSetSummary:
    rows: dict[str, int] = field(default_factory=dict)  # split -> rows written
    per_language: dict[str, int] = field(default_factory=dict)
    failed: list[dict] = field(default_factory=list)  # {"id", "language", "status", "message"}


def _plan(n_rows: int, rng: random.Random) -> list[tuple[str, str]]:
    """(language, code) pairs, one HTML row in every group of four, programs unique."""
    others = itertools.cycle(OTHER_LANGUAGES)
    seen: set[str] = set()
    plan = []
    for i in range(n_rows):
        lang = "html" if i % 4 == 0 else next(others)
        for _ in range(100):
            code = GENERATORS[lang](rng)
            if code not in seen:
                break
        seen.add(code)
        plan.append((lang, code))
    return plan


def build_sample_set(
    out_dir: str | Path,
    n_train: int = 32,
    n_val: int = 8,
    size: tuple[int, int] = (128, 128),
    tokenizer_path: str | None = None,
    seed: int = 0,
) -> SampleSetSummary:
    import pandas as pd

    from vinci_rl.render import Renderer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = None
    if tokenizer_path:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(tokenizer_path)
    rng = random.Random(seed)
    summary = SampleSetSummary()
    splits = {"train": _plan(n_train, rng), "val": _plan(n_val, rng)}
    with Renderer() as renderer:
        for split, plan in splits.items():
            rows = []
            for i, (lang, code) in enumerate(tqdm(plan, desc=f"rendering {split}", unit="sample")):
                sample_id = f"{split}-{i:03d}-{lang}"
                res = renderer.render(lang, code, size=size)
                if not res.ok:
                    summary.failed.append({"id": sample_id, "language": lang, "status": res.status, "message": res.message})
                    continue
                gt_tokens = len(tokenizer(code)["input_ids"]) if tokenizer is not None else None
                rows.append(make_row(sample_id, len(rows), lang, code, res.image, gt_tokens))
                summary.per_language[lang] = summary.per_language.get(lang, 0) + 1
            pd.DataFrame(rows).to_parquet(out / f"{split}.parquet")
            summary.rows[split] = len(rows)
    (out / "summary.json").write_text(json.dumps(summary.__dict__, indent=2))
    return summary
