"""The bundled sample set: a few dozen image -> code pairs across languages, generated and rendered here.

    vinci-rl make-sample-data runs/sample_data [--tokenizer runs/tiny-qwen2.5-vl]     # rendered parquet files
    vinci-rl make-sample-data data/sample_set --programs                              # the committed program files

Programs come from `sample_programs` (seeded, so the set is the same everywhere); each is rendered with the
product's own renderers to make its reference image. Rows are ordered so that every 4 consecutive rows hold
one HTML sample (HTML renders any text, which gives a random tiny model a reward signal in every batch).
A program that fails to render is reported and left out of the set, never silently.
`write_programs` writes the same plan as code files (`<split>/<id>.<ext>`), the committed `data/sample_set/`
that `vinci-rl prepare` turns into parquet (the code-only input shape: prepare renders each program).
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from vinci_rl.data.rows import make_row, write_rows
from vinci_rl.data.sample_programs import GENERATORS
from vinci_rl.data.sources import LANGUAGE_EXTENSIONS

OTHER_LANGUAGES = ("svg", "latex", "python", "smiles")
# The committed program files add Mermaid (its renderer needs the mermaid.js bundle, which build_sample_set, used by
# the demo and the e2e tests, does not require).
PROGRAM_LANGUAGES = OTHER_LANGUAGES + ("mermaid",)


@dataclass
class SampleSetSummary:
    rows: dict[str, int] = field(default_factory=dict)  # split -> rows written
    per_language: dict[str, int] = field(default_factory=dict)
    failed: list[dict] = field(default_factory=list)  # {"id", "language", "status", "message"}


def _plan(n_rows: int, rng: random.Random, languages: tuple[str, ...] = OTHER_LANGUAGES) -> list[tuple[str, str]]:
    """(language, code) pairs, one HTML row in every group of four, programs unique."""
    others = itertools.cycle(languages)
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


def sample_plan(
    n_train: int, n_val: int, seed: int = 0, languages: tuple[str, ...] = OTHER_LANGUAGES
) -> dict[str, list[tuple[str, str, str]]]:
    """split -> [(id, language, code)], the same for given arguments everywhere; `languages` fill the non-HTML rows."""
    rng = random.Random(seed)
    plans = {"train": _plan(n_train, rng, languages), "val": _plan(n_val, rng, languages)}
    return {
        split: [(f"{split}-{i:03d}-{lang}", lang, code) for i, (lang, code) in enumerate(plan)]
        for split, plan in plans.items()
    }


def write_programs(out_dir: str | Path, n_train: int = 32, n_val: int = 8, seed: int = 0) -> dict[str, int]:
    """The sample plan as code files, out_dir/<split>/<id>.<ext>; returns split -> files written."""
    out = Path(out_dir)
    written = {}
    for split, plan in sample_plan(n_train, n_val, seed, PROGRAM_LANGUAGES).items():
        (out / split).mkdir(parents=True, exist_ok=True)
        for sample_id, lang, code in plan:
            (out / split / f"{sample_id}{LANGUAGE_EXTENSIONS[lang]}").write_text(code + "\n")
        written[split] = len(plan)
    return written


def build_sample_set(
    out_dir: str | Path,
    n_train: int = 32,
    n_val: int = 8,
    size: tuple[int, int] = (128, 128),
    tokenizer_path: str | None = None,
    seed: int = 0,
) -> SampleSetSummary:
    from vinci_rl.data.prepare import count_tokens
    from vinci_rl.render import Renderer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = None
    if tokenizer_path:
        from vinci_rl.models.locate import load_tokenizer

        tokenizer = load_tokenizer(tokenizer_path, "--tokenizer")
    summary = SampleSetSummary()
    with Renderer() as renderer:
        for split, plan in sample_plan(n_train, n_val, seed).items():
            rows = []
            for sample_id, lang, code in tqdm(plan, desc=f"rendering {split}", unit="sample"):
                res = renderer.render(lang, code, size=size)
                if not res.ok:
                    failure = {"id": sample_id, "language": lang, "status": res.status, "message": res.message}
                    summary.failed.append(failure)
                    continue
                gt_tokens = count_tokens(tokenizer, code) if tokenizer is not None else None
                rows.append(make_row(sample_id, len(rows), lang, code, res.image, gt_tokens))
                summary.per_language[lang] = summary.per_language.get(lang, 0) + 1
            write_rows(out / f"{split}.parquet", rows)
            summary.rows[split] = len(rows)
    (out / "summary.json").write_text(json.dumps(summary.__dict__, indent=2))
    return summary
