"""`vinci-rl prepare`: any input shape -> verl's multimodal parquet (rows.make_row), with filters and a bad-row report.

    from vinci_rl.data.prepare import PrepareConfig, prepare
    summary = prepare(PrepareConfig(source="pairs/", out_dir="runs/data", tokenizer="Qwen/...", val=0.1))

Steps per record (the first failed check is the record's one reason, see filters.REASONS):
read -> language / code present, the code not another language's (its signature) -> ground-truth token length
in bounds -> duplicate code -> render the ground truth (always for code-only records; for pairs unless
render_check=False) -> near-white -> colour entropy -> duplicate image -> kept. Kept rows are split train / val
(seeded) and written as `<split_name>.parquet` and `val.parquet`; rejected records go to `rejected.jsonl`
({"id", "reason", "detail", "source", "language"}); kept rows whose image was rendered from their code, or whose
language the data named by another name ('tikz' -> latex), go to `changes.jsonl` ({"id", "change", "detail"});
the summary (`summary.json`, also printed) counts every reason (zeros included) and every change.

The output directory is written whole: files an earlier `prepare` wrote there and this run does not (a
`val.parquet` of a run with --val) are removed, and a parquet file prepare did not write is refused, so a
stale split can never sit beside the new one. A split that cannot be honoured (--val 50 of 12 rows) is an error.
"""

from __future__ import annotations

import json
import random
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
from tqdm import tqdm

from vinci_rl.data import filters
from vinci_rl.data.rows import PROMPT_TEMPLATE, PROMPT_TEMPLATES, RowError, check_template, make_row, read_rows, write_rows
from vinci_rl.data.sources import Columns, InputError, Record, read_records, write_jsonl
from vinci_rl.languages import LANGUAGES, NAMES, looks_like, normalize, reads_as

# Reference images larger than this are rendered at a scaled-down size for the render check only.
CHECK_MAX_PIXELS = 512 * 512
REJECTED, CHANGES, SUMMARY = "rejected.jsonl", "changes.jsonl", "summary.json"  # besides the split files
REFINE_SPLIT = "refine"  # refine.parquet: the refinement examples (--refine-examples)
IMAGE_RENDERED = "image_rendered"  # a kept row whose image was rendered from its code (no image was given)
LANGUAGE_RELABELLED = "language_relabelled"  # a kept row whose language the data gave by another name


@dataclass
class PrepareConfig:
    source: str | Path
    out_dir: str | Path
    columns: Columns = field(default_factory=Columns)
    # Language of every record (else: the code file's extension, or the language column).
    lang: str | None = None
    # DatasetDict split of a Hugging Face datasets folder.
    hf_split: str | None = None
    # language (or "default") -> prompt template with <image> exactly once; placeholders {name} {fence} {language}.
    # Unset languages use rows.PROMPT_TEMPLATES.
    templates: dict[str, str] = field(default_factory=dict)
    # Tokenizer (a model directory or hub id) counting ground-truth tokens -> extra_info.gt_tokens (-1 without one).
    tokenizer: str | None = None
    min_tokens: int | None = None
    max_tokens: int | None = None
    # Colour entropy floor in bits (filters.colour_entropy); 0 disables the filter.
    min_entropy: float = 0.05
    # Drop records whose code or image repeats an earlier kept record.
    dedupe: bool = True
    # Render the ground truth of records that come with an image too (the "fails to render" filter).
    render_check: bool = True
    # (width, height) at which code-only records are rendered to make their image.
    size: tuple[int, int] = (512, 512)
    # Validation split: a fraction (< 1) or a row count (>= 1) of the kept rows; 0 = no split.
    val: float = 0.0
    seed: int = 0
    # Name of the main split's file: <split_name>.parquet.
    split_name: str = "train"
    # vinci_rl.render.RenderConfig keys (sandbox, timeouts, ...).
    render: dict[str, Any] = field(default_factory=dict)
    progress: bool = True
    # Refinement examples (refine_examples.py) built from the main split's rows, written as refine.parquet; 0 = none.
    refine_examples: int = 0

    def template_for(self, language: str) -> str:
        return self.templates.get(language) or self.templates.get("default") or PROMPT_TEMPLATES.get(language, PROMPT_TEMPLATE)

    def validate(self) -> None:
        if self.lang is not None:
            self.lang = normalize(self.lang)
            if self.lang not in LANGUAGES:
                raise ValueError(f"unknown language {self.lang!r}; known: {', '.join(NAMES)}")
        for lang, template in self.templates.items():
            check_template(template, f"prompt template for {lang!r}")
        if (self.min_tokens is not None or self.max_tokens is not None) and not self.tokenizer:
            raise ValueError("token bounds (min_tokens / max_tokens) need a tokenizer to count ground-truth tokens")
        if self.min_tokens is not None and self.max_tokens is not None and self.min_tokens > self.max_tokens:
            raise ValueError(f"min_tokens {self.min_tokens} > max_tokens {self.max_tokens}")
        if self.val < 0 or (self.val >= 1 and self.val != int(self.val)):
            raise ValueError(f"val must be a fraction in [0, 1) or a whole row count, got {self.val}")
        if self.split_name == "val" and self.val:
            raise ValueError("split_name 'val' clashes with the validation split")
        if self.size[0] <= 0 or self.size[1] <= 0:
            raise ValueError(f"size must be positive, got {self.size}")
        if not isinstance(self.refine_examples, int) or isinstance(self.refine_examples, bool) or self.refine_examples < 0:
            raise ValueError(f"refine_examples must be a whole number >= 0, got {self.refine_examples!r}")
        if self.refine_examples and self.split_name == REFINE_SPLIT:
            raise ValueError(f"split_name {REFINE_SPLIT!r} clashes with the refinement examples' file")

    def split_files(self) -> list[str]:
        """The parquet files this configuration writes."""
        refine = [f"{REFINE_SPLIT}.parquet"] if self.refine_examples else []
        return [f"{self.split_name}.parquet"] + (["val.parquet"] if self.val else []) + refine


@dataclass
class PrepareSummary:
    source: str
    records: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # split -> rows written
    outputs: dict[str, str] = field(default_factory=dict)  # split -> parquet path, plus rejected / summary
    per_language: dict[str, int] = field(default_factory=dict)  # kept rows per language
    rejected: dict[str, int] = field(default_factory=lambda: {r: 0 for r in filters.REASONS})
    rejected_rows: list[dict] = field(default_factory=list)  # {"id", "reason", "detail", "source", "language"}
    synthesised: int = 0  # kept rows whose image was rendered from their code
    relabelled: int = 0  # kept rows whose language the data gave by another name
    changed_rows: list[dict] = field(default_factory=list)  # {"id", "change", "detail"}
    removed: list[str] = field(default_factory=list)  # an earlier run's outputs that this run does not write
    gt_tokens: dict[str, float] = field(default_factory=dict)  # min / mean / max over kept rows (tokenizer given)
    refine: dict[str, Any] = field(default_factory=dict)  # refinement examples: refine_examples.RefineStats
    elapsed_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def text(self, max_bad_rows: int = 20) -> str:
        kept = sum(n for split, n in self.rows.items() if split != REFINE_SPLIT)
        lines = [f"prepared {kept} of {self.records} records from {self.source} in {self.elapsed_s:.1f} s"]
        for split, n in self.rows.items():
            lines.append(f"  {split:<6} {n:>6} rows  {self.outputs.get(split, '')}")
        lines.append("  per language: " + (", ".join(f"{k} {v}" for k, v in sorted(self.per_language.items())) or "-"))
        if self.gt_tokens:
            t = self.gt_tokens
            lines.append(f"  ground-truth tokens: min {t['min']:.0f}, mean {t['mean']:.1f}, max {t['max']:.0f}")
        lines.append(f"  images rendered from code {self.synthesised}, languages relabelled {self.relabelled}: "
                     f"{self.outputs.get('changes', '')}")
        if self.refine:
            r = self.refine
            lines.append(f"  refinement examples {r['built']} of {r['requested']} ("
                         + ", ".join(f"{k} {v}" for k, v in sorted(r["kinds"].items())) + "); candidates rejected: "
                         + ", ".join(f"{k} {v}" for k, v in r["rejected"].items())
                         + f"; tries without an example {len(r['no_example'])}")  # fmt: skip
        if self.removed:
            lines.append(f"  removed an earlier run's {', '.join(self.removed)}")
        counts = ", ".join(f"{k} {v}" for k, v in self.rejected.items())
        lines.append(f"  rejected {sum(self.rejected.values())}: {counts}")
        for bad in self.rejected_rows[:max_bad_rows]:
            lines.append(f"    {bad['id']}: {bad['reason']}: {bad['detail'][:160]}")
        if len(self.rejected_rows) > max_bad_rows:
            lines.append(f"    ... {len(self.rejected_rows) - max_bad_rows} more")
        lines.append(f"  bad rows: {self.outputs.get('rejected', '')}; summary: {self.outputs.get('summary', '')}")
        return "\n".join(lines)


class _Rejected(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def _token_counter(tokenizer_path: str | None):
    if not tokenizer_path:
        return None
    from vinci_rl.models.locate import load_tokenizer

    tok = load_tokenizer(tokenizer_path, "--tokenizer")  # a ValueError naming the path, in seconds
    return lambda code: count_tokens(tok, code)


def count_tokens(tokenizer: Any, code: str) -> int:
    """Ground-truth token length: the code alone, no special tokens (what the model has to generate)."""
    return len(tokenizer(code, add_special_tokens=False)["input_ids"])


def _check_size(image: np.ndarray) -> tuple[int, int]:
    h, w = image.shape[:2]
    if w * h <= CHECK_MAX_PIXELS:
        return w, h
    s = (CHECK_MAX_PIXELS / float(w * h)) ** 0.5
    return max(1, int(w * s)), max(1, int(h * s))


class _Checker:
    """Runs the checks of one record; keeps the duplicate state and the renderer across records."""

    def __init__(self, cfg: PrepareConfig, renderer: Any, count_tokens_fn):
        self.cfg, self.renderer, self.count = cfg, renderer, count_tokens_fn
        self.seen = filters.Seen()
        self.ids: set[str] = set()

    def check(self, rec: Record) -> tuple[np.ndarray, int | None]:
        """(image, gt_tokens) of a record to keep; raises _Rejected otherwise."""
        cfg = self.cfg
        if rec.error:
            raise _Rejected(filters.BAD_INPUT, rec.error)
        if rec.id in self.ids:
            raise _Rejected(filters.BAD_INPUT, f"id {rec.id!r} appears twice in the input")
        self.ids.add(rec.id)
        if not rec.language:
            raise _Rejected(filters.BAD_INPUT, "no language (unknown file extension or empty language cell); give --lang")
        if rec.language not in LANGUAGES:
            raise _Rejected(filters.BAD_INPUT, f"unknown language {rec.language!r}; known: {', '.join(NAMES)}")
        if not rec.code or not rec.code.strip():
            raise _Rejected(filters.BAD_INPUT, "empty ground-truth code")
        other = reads_as(rec.code)
        if other not in (None, rec.language) and not looks_like(rec.language, rec.code):
            named = f"{rec.label!r} ({rec.language})" if rec.label else repr(rec.language)
            raise _Rejected(filters.BAD_INPUT, f"labelled {named} but the code starts like {other}")
        gt_tokens = self.count(rec.code) if self.count else None
        if gt_tokens is not None and not filters.tokens_in_bounds(gt_tokens, cfg.min_tokens, cfg.max_tokens):
            bounds = f"[{cfg.min_tokens}, {cfg.max_tokens}]"
            raise _Rejected(filters.TOKENS_OUT_OF_BOUNDS, f"{gt_tokens} tokens, outside {bounds}")
        if cfg.dedupe and (first := self.seen.code_duplicate_of(rec.code)) is not None:
            raise _Rejected(filters.DUPLICATE_CODE, f"same code as {first}")
        image = rec.image
        if image is None or cfg.render_check:
            size = cfg.size if image is None else _check_size(image)
            res = self.renderer.render(rec.language, rec.code, size=size)
            if res.status == "blank":
                raise _Rejected(filters.NEAR_WHITE, "the ground truth renders near-white")
            if not res.ok:
                raise _Rejected(filters.RENDER_FAILED, f"{res.status}: {res.message}"[:500])
            if image is None:
                image = res.image
        if filters.near_white(image):
            raise _Rejected(filters.NEAR_WHITE, f"near-white image (mean {float(image.mean()):.1f})")
        if cfg.min_entropy > 0 and (ent := filters.colour_entropy(image)) < cfg.min_entropy:
            raise _Rejected(filters.LOW_ENTROPY, f"colour entropy {ent:.3f} bits < {cfg.min_entropy}")
        if cfg.dedupe and (first := self.seen.image_duplicate_of(image)) is not None:
            raise _Rejected(filters.DUPLICATE_IMAGE, f"same image as {first}")
        self.seen.keep(rec.id, rec.code, image)
        return image, gt_tokens


def _split(n: int, val: float, seed: int, split_name: str = "train") -> set[int]:
    """Indices (of n kept rows) that go to the validation split; ValueError when the split cannot be honoured."""
    if not val or n == 0:
        return set()
    if n < 2:
        raise ValueError(f"val {val:g}: cannot split {n} kept row into {split_name} and val; nothing written")
    if val >= 1 and int(val) >= n:
        raise ValueError(
            f"val {val:g} asks for {int(val)} validation rows, but only {n} rows were kept (at least one must stay "
            f"in {split_name}); nothing written"
        )
    k = int(val) if val >= 1 else min(max(int(round(val * n)), 1), n - 1)
    return set(random.Random(seed).sample(range(n), k))


def _earlier_outputs(out: Path) -> set[str]:
    """Names of the files an earlier `prepare` into `out` wrote (read from its summary.json)."""
    try:
        outputs = json.loads((out / SUMMARY).read_text()).get("outputs", {})
    except (OSError, ValueError, AttributeError):
        return set()
    return {Path(p).name for p in outputs.values()} if isinstance(outputs, dict) else set()


def _check_out_dir(out: Path, cfg: PrepareConfig) -> None:
    """Refuse an output directory holding a parquet file no `prepare` wrote (it could be taken for a split)."""
    if not out.is_dir():
        return
    known = set(cfg.split_files()) | _earlier_outputs(out)
    foreign = sorted(p.name for p in out.glob("*.parquet") if p.name not in known)
    if foreign:
        raise ValueError(
            f"output directory {out} holds parquet files prepare did not write: {', '.join(foreign)}; "
            "remove them or choose another --out"
        )


def _remove_stale(out: Path, cfg: PrepareConfig) -> list[str]:
    """Remove what an earlier `prepare` wrote into `out` that this run does not write; returns the names."""
    ours = set(cfg.split_files()) | {REJECTED, CHANGES, SUMMARY}
    stale = sorted(name for name in _earlier_outputs(out) - ours if (out / name).is_file())
    for name in stale:
        (out / name).unlink()
    return stale


def prepare(cfg: PrepareConfig, records: Iterable[Record] | None = None, renderer: Any = None) -> PrepareSummary:
    """Read, check, split and write; returns the summary (also written to summary.json).

    records: instead of reading cfg.source; renderer: a warm vinci_rl.render.Renderer to use (not closed here).
    """
    t0 = time.monotonic()
    cfg.validate()
    out = Path(cfg.out_dir)
    _check_out_dir(out, cfg)
    if records is None:
        records = prepared_records(cfg.source) or read_records(cfg.source, cfg.columns, cfg.lang, cfg.hf_split)
    summary = PrepareSummary(source=str(cfg.source))
    with _renderer(cfg, renderer) as r:
        kept = _check_records(cfg, records, r, _token_counter(cfg.tokenizer), summary)
        splits = _assign_splits(cfg, kept, summary)
        if cfg.refine_examples:
            splits[REFINE_SPLIT] = _refine_split(cfg, splits[cfg.split_name], r, summary)
    _write(out, cfg, splits, summary)
    summary.elapsed_s = time.monotonic() - t0
    (out / SUMMARY).write_text(json.dumps(summary.to_dict(), indent=2))
    return summary


def _renderer(cfg: PrepareConfig, renderer: Any) -> Any:
    """A context for the renderer given (not closed here), or for one made from cfg.render (closed on exit)."""
    from vinci_rl.render import RenderConfig, Renderer

    return nullcontext(renderer) if renderer is not None else Renderer(RenderConfig.from_dict(cfg.render))


def prepared_records(source: str | Path) -> Iterator[Record] | None:
    """The records of a parquet that `prepare` wrote (a prepared set as input: its ground truth and reference image
    per row), or None when `source` is not one."""
    import pyarrow.parquet as pq

    path = Path(source)
    if path.suffix.lower() != ".parquet" or not path.is_file():
        return None
    try:
        names = set(pq.read_schema(path).names)
    except (OSError, ValueError):
        return None
    if not {"reward_model", "extra_info", "images"} <= names:
        return None
    try:
        rows = read_rows(path)
    except RowError as e:
        raise InputError(str(e)) from e
    return (Record(r.id, r.language, r.ground_truth, r.decode(), r.source) for r in rows)


def _refine_split(cfg: PrepareConfig, rows: list[dict], renderer: Any, summary: PrepareSummary) -> list[dict]:
    """The refinement examples built from the main split's rows (never from val: it stays held out)."""
    from vinci_rl.data.refine_examples import refine_rows

    examples, stats = refine_rows(rows, cfg.refine_examples, cfg.seed, renderer, cfg.template_for, progress=cfg.progress)
    summary.refine = stats.to_dict()
    return examples


def _check_records(cfg: PrepareConfig, records: Iterable[Record], renderer: Any, count_fn, summary: PrepareSummary) -> list[dict]:
    """The rows of the records that pass every check; rejections and changes are noted in the summary."""
    kept: list[dict] = []  # finished rows (PNG bytes, not pixel arrays: memory stays ~size of the output)
    checker = _Checker(cfg, renderer, count_fn)
    for rec in tqdm(records, desc="prepare", unit="record", disable=not cfg.progress):
        summary.records += 1
        try:
            image, gt_tokens = checker.check(rec)
        except _Rejected as r:
            summary.rejected[r.reason] += 1
            bad = {"id": rec.id, "reason": r.reason, "detail": r.detail, "source": rec.source, "language": rec.language}
            summary.rejected_rows.append(bad)
            continue
        _note_changes(rec, summary)
        kept.append(make_row(rec.id, -1, rec.language, rec.code, image, gt_tokens, cfg.template_for(rec.language)))
    return kept


def _note_changes(rec: Record, summary: PrepareSummary) -> None:
    """Count and list what prepare made up or renamed for a kept record."""
    if rec.image is None:
        summary.synthesised += 1
        summary.changed_rows.append({"id": rec.id, "change": IMAGE_RENDERED, "detail": "no image given: rendered from the code"})
    if rec.label:
        summary.relabelled += 1
        detail = f"language {rec.label!r} read as {rec.language}"
        summary.changed_rows.append({"id": rec.id, "change": LANGUAGE_RELABELLED, "detail": detail})


def _assign_splits(cfg: PrepareConfig, kept: list[dict], summary: PrepareSummary) -> dict[str, list[dict]]:
    """split name -> its rows, each row's extra_info.index set to its position in its own split file."""
    val_idx = _split(len(kept), cfg.val, cfg.seed, cfg.split_name)
    splits: dict[str, list[dict]] = {cfg.split_name: []}
    if cfg.val:
        splits["val"] = []
    for i, row in enumerate(kept):
        rows = splits["val" if i in val_idx else cfg.split_name]
        row["extra_info"]["index"] = len(rows)
        rows.append(row)
        lang = row["extra_info"]["language"]
        summary.per_language[lang] = summary.per_language.get(lang, 0) + 1
    tokens = [r["extra_info"]["gt_tokens"] for r in kept if r["extra_info"]["gt_tokens"] >= 0]
    if tokens:
        summary.gt_tokens = {"min": float(min(tokens)), "mean": float(np.mean(tokens)), "max": float(max(tokens))}
    return splits


def _write(out: Path, cfg: PrepareConfig, splits: dict[str, list[dict]], summary: PrepareSummary) -> None:
    """The split files, rejected.jsonl and changes.jsonl; an earlier run's other outputs are removed."""
    out.mkdir(parents=True, exist_ok=True)
    summary.removed = _remove_stale(out, cfg)
    for split, rows in splits.items():
        summary.outputs[split] = str(write_rows(out / f"{split}.parquet", rows))
        summary.rows[split] = len(rows)
    for key, name, rows in (("rejected", REJECTED, summary.rejected_rows), ("changes", CHANGES, summary.changed_rows)):
        write_jsonl(out / name, rows)
        summary.outputs[key] = str(out / name)
    summary.outputs["summary"] = str(out / SUMMARY)
