"""Input shapes of `vinci-rl prepare`, each read into the same `Record` stream.

1. a folder of pairs: `<stem>.<code ext>` + `<stem>.<image ext>` (the language comes from the code extension,
   or from --lang for every file);
2. a table (parquet, JSONL/JSON, or a Hugging Face `datasets` folder from `save_to_disk`) with image / code /
   language / id columns, their names mappable; an image cell is bytes, a path (relative to the table's
   folder), a {"bytes", "path"} dict, a PIL image (HF Image feature), or a list of these (the first is used);
3. code alone: a folder of code files without images, or a table without an image column (or a null image
   cell): the ground truth is rendered to make the image (the SVG-corpus case).

A record that cannot be read is still yielded, with `error` set, so prepare reports it as a bad row; a
problem with the input as a whole (missing file, missing column) raises InputError naming it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from vinci_rl.languages import LANGUAGES, from_extension, is_relabel
from vinci_rl.languages import normalize as normalize_language

# code file extension -> language; language -> the extension written (the language table owns both)
CODE_EXTENSIONS = {ext: lang.name for lang in LANGUAGES.values() for ext in lang.extensions}
LANGUAGE_EXTENSIONS = {lang.name: lang.extensions[0] for lang in LANGUAGES.values()}
HF_MARKERS = ("dataset_info.json", "dataset_dict.json", "state.json")  # files save_to_disk writes
NOT_CODE = (".json", ".jsonl", ".md", ".yaml", ".yml")  # never code, even with --lang
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")
TABLE_EXTENSIONS = (".parquet", ".jsonl", ".json")


class InputError(ValueError):
    """The input as a whole is unusable (missing file, column, unknown shape); the message names it."""


@dataclass
class Columns:
    """Column names of a table input (--image-col, --code-col, --lang-col, --id-col)."""

    image: str = "image"
    code: str = "code"
    language: str = "language"
    id: str = "id"


@dataclass
class Record:
    """One candidate pair. image: RGB uint8 when given, None when it must be rendered from the code."""

    id: str
    language: str | None
    code: str | None
    image: np.ndarray | None = None
    source: str = ""  # file or table row it came from, for the bad-row report
    error: str | None = None  # set when the record could not be read (reported as reason bad_input)
    label: str | None = None  # the language as the data named it, when that is another name of it ('tikz', 'py')


def decode_image(value: Any, base_dir: Path | None = None) -> np.ndarray | None:
    """An image cell (bytes, path, {bytes, path}, PIL image, list of those, None) -> RGB uint8, or None.

    Raises ValueError naming what could not be read.
    """
    from PIL import Image

    from vinci_rl.reward.image import to_rgb

    if _missing(value):
        return None
    if isinstance(value, (list, tuple, np.ndarray)) and not (isinstance(value, np.ndarray) and value.ndim >= 2):
        return decode_image(value[0], base_dir) if len(value) else None
    if isinstance(value, dict):
        if value.get("bytes") is not None:
            return decode_image(value["bytes"], base_dir)
        if value.get("path"):
            return decode_image(str(value["path"]), base_dir)
        return None
    if isinstance(value, str):
        if not value.strip():
            return None
        path = Path(value)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        return to_rgb(path)
    if isinstance(value, (bytes, bytearray, memoryview, Image.Image, np.ndarray)):
        return to_rgb(bytes(value) if isinstance(value, memoryview) else value)
    raise ValueError(f"unsupported image value of type {type(value).__name__}")


def _missing(value: Any) -> bool:
    """None, or the NaN pandas puts in an empty cell."""
    return value is None or (isinstance(value, float) and value != value)


def read_records(
    source: str | Path, columns: Columns | None = None, lang: str | None = None, hf_split: str | None = None
) -> Iterator[Record]:
    """Records of any input shape; the shape is told by what `source` is (see the module docstring)."""
    path = Path(source)
    if not path.exists():
        raise InputError(f"input not found: {path}")
    if path.is_dir():
        if any((path / name).is_file() for name in HF_MARKERS):
            return read_hf_dataset(path, columns or Columns(), lang, hf_split)
        return read_folder(path, lang)
    if path.suffix.lower() in TABLE_EXTENSIONS:
        return read_table(path, columns or Columns(), lang)
    raise InputError(f"{path}: unknown input; give a folder, a {'/'.join(TABLE_EXTENSIONS)} table or a datasets folder")


# ---- 1 and 3: folders ---------------------------------------------------------------------------------------


def read_folder(folder: Path, lang: str | None = None) -> Iterator[Record]:
    """Pairs by stem: one code file (+ optionally one image) per stem, sorted by relative path."""
    groups: dict[str, dict[str, list[Path]]] = {}
    for f in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        ext = f.suffix.lower()
        if ext in IMAGE_EXTENSIONS:
            kind = "image"
        elif ext in CODE_EXTENSIONS or (lang and ext not in NOT_CODE):
            kind = "code"
        else:
            continue
        stem = str(f.relative_to(folder).with_suffix(""))
        groups.setdefault(stem, {"image": [], "code": []})[kind].append(f)
    if not groups:
        raise InputError(f"{folder}: no code files ({' '.join(sorted(CODE_EXTENSIONS))}) or images found")
    return _folder_records(folder, groups, lang)


def _folder_records(folder: Path, groups: dict[str, dict[str, list[Path]]], lang: str | None) -> Iterator[Record]:
    for stem, files in groups.items():
        codes, images = files["code"], files["image"]
        src = ", ".join(str(p.relative_to(folder)) for p in codes + images)
        if len(codes) != 1 or len(images) > 1:
            what = "no code file" if not codes else f"{len(codes)} code files" if len(codes) > 1 else f"{len(images)} images"
            yield Record(stem, lang, None, None, src, f"{what} for stem {stem!r} (need one code file, <= 1 image)")
            continue
        code_path = codes[0]
        language = normalize_language(lang) or from_extension(code_path.suffix)
        try:
            code = code_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            yield Record(stem, language, None, None, src, f"cannot read {code_path.name}: {e}")
            continue
        image = None
        if images:
            try:
                image = decode_image(str(images[0]))
            except ValueError as e:
                yield Record(stem, language, code, None, src, str(e))
                continue
        yield Record(stem, language, code, image, src)


# ---- 2 and 3: tables ----------------------------------------------------------------------------------------


def _check_columns(present: list[str], columns: Columns, lang: str | None, where: str) -> tuple[bool, bool]:
    """(has image column, has id column); raises InputError when code / language columns are missing."""
    if columns.code not in present:
        raise InputError(f"{where}: no code column {columns.code!r} (columns: {present}); map it with --code-col")
    if lang is None and columns.language not in present:
        raise InputError(
            f"{where}: no language column {columns.language!r} (columns: {present}); map it with --lang-col or give --lang"
        )
    return columns.image in present, columns.id in present


def read_table(path: Path, columns: Columns, lang: str | None = None) -> Iterator[Record]:
    import pandas as pd

    try:
        if path.suffix.lower() == ".parquet":
            df = pd.read_parquet(path)
        else:
            df = pd.read_json(path, lines=path.suffix.lower() == ".jsonl", dtype=False)
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read table {path}: {e}") from e
    has_image, has_id = _check_columns(list(df.columns), columns, lang, str(path))
    rows = df.to_dict("records")
    return _table_records(rows, columns, lang, has_image, has_id, path.parent, str(path))


def read_hf_dataset(path: Path, columns: Columns, lang: str | None, split: str | None) -> Iterator[Record]:
    """A Hugging Face `datasets` folder written by save_to_disk (a Dataset, or a DatasetDict with --hf-split)."""
    try:
        import datasets
    except ImportError as e:
        raise InputError(f"{path} is a Hugging Face datasets folder, but 'datasets' is not installed: pip install datasets") from e
    ds = datasets.load_from_disk(str(path))
    if isinstance(ds, datasets.DatasetDict):
        if split is None and len(ds) == 1:
            split = next(iter(ds))
        if split not in ds:
            raise InputError(f"{path}: a DatasetDict with splits {list(ds)}; choose one with --hf-split")
        ds = ds[split]
    has_image, has_id = _check_columns(list(ds.column_names), columns, lang, str(path))
    return _table_records(ds, columns, lang, has_image, has_id, path, str(path))


def _table_records(
    rows, columns: Columns, lang, has_image: bool, has_id: bool, base_dir: Path, where: str
) -> Iterator[Record]:
    for i, row in enumerate(rows):
        rid = str(row[columns.id]) if has_id and not _missing(row.get(columns.id)) else f"row-{i}"
        src = f"{where} row {i}"
        named = lang or row.get(columns.language)
        language = normalize_language(named)
        label = str(named).strip() if is_relabel(named) else None
        code = row.get(columns.code)
        if _missing(code):
            yield Record(rid, language, None, None, src, f"column {columns.code!r}: empty cell")
            continue
        if not isinstance(code, str):
            why = f"column {columns.code!r}: expected a string, got {type(code).__name__}"
            yield Record(rid, language, None, None, src, why)
            continue
        image = None
        if has_image:
            try:
                image = decode_image(row.get(columns.image), base_dir)
            except (ValueError, TypeError) as e:
                yield Record(rid, language, code, None, src, f"column {columns.image!r}: {e}")
                continue
        yield Record(rid, language, code, image, src, label=label)


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))

