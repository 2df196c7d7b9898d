"""Run one benchmark: load its items, get responses, extract the code, score, aggregate, write, print.

    from vinci_rl.benchmarks.runner import RunConfig, run_benchmark
    result = run_benchmark(RunConfig("unisvg", Path("data/unisvg"), Path("runs/unisvg"), predictions=Path("p.jsonl")))
    print(result.table_text())

Responses come from a predictions JSONL ({"id", "response" | "code"} per line; several lines with one id are several
samples of that item) or are generated through vinci_rl.eval's generation code (a vLLM server or a local model),
`samples` per item. Each response's code is extracted by the benchmark's own rule when it defines `extract(response)`,
else by the project's fence reader (the last block of the item's language, else the last block, else the whole
text). An item with no response is scored as an empty prediction (the benchmark's failure value).

With several samples per item, an item's metric is the mean over its samples, and pass@k (the unbiased estimator
1 - C(n-c, k) / C(n, k), Chen et al. 2021) is reported for benchmarks that define `passed(row)`.

Outputs in out_dir: results.json (the table, per group, pass@k, notes), items.jsonl (one line per item with every
sample's scores), predictions.jsonl (when generated).
"""

from __future__ import annotations

import io
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vinci_rl.benchmarks.base import UNAVAILABLE, BenchmarkDataError, BenchmarkItem, MetricContext, get_benchmark, mean
from vinci_rl.eval.predictions import PredictionError, jsonl_records


@dataclass
class RunConfig:
    benchmark: str
    data_dir: Path
    out_dir: Path
    predictions: Path | None = None
    server: Any = None  # vinci_rl.eval.predictions.ServerConfig
    local_model: Any = None  # vinci_rl.eval.local_model.LocalModelConfig
    samples: int = 1  # responses generated per item (pass@k)
    pass_k: tuple[int, ...] = (1, 5, 10)
    limit: int | None = None
    progress: bool = True
    context: MetricContext = field(default_factory=MetricContext)


@dataclass
class BenchmarkResult:
    benchmark: str
    columns: tuple[str, ...]
    table: dict[str, dict[str, float]]  # group ("all", subsets...) -> column -> value
    pass_at_k: dict[str, float]
    n_items: int
    n_samples: int
    notes: list[str]
    unavailable: dict[str, str]
    outputs: dict[str, str]

    def table_text(self) -> str:
        return format_table(self.benchmark, self.columns, self.table, self.pass_at_k, self.notes, self.unavailable)

    def to_dict(self) -> dict[str, Any]:
        clean = {g: {c: _json_float(v) for c, v in row.items()} for g, row in self.table.items()}
        return {
            "benchmark": self.benchmark,
            "columns": list(self.columns),
            "table": clean,
            "pass_at_k": {k: _json_float(v) for k, v in self.pass_at_k.items()},
            "n_items": self.n_items,
            "n_samples": self.n_samples,
            "unavailable": self.unavailable,
            "notes": self.notes,
            "outputs": self.outputs,
        }


def run_benchmark(cfg: RunConfig) -> BenchmarkResult:
    bench = get_benchmark(cfg.benchmark)
    items = load_items(bench, cfg.data_dir, cfg.limit)
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    source = cfg.predictions or _generate(cfg, items, notes)
    responses = read_responses(source)
    _note_unmatched(responses, items, notes)
    try:
        per_item = score_items(bench, items, responses, cfg.context, cfg.progress, notes)
    finally:
        cfg.context.close()
    return _finish(bench, cfg, items, per_item, notes, source)


def load_items(bench: Any, data_dir: Path, limit: int | None) -> list[BenchmarkItem]:
    if not data_dir.is_dir():
        raise BenchmarkDataError(f"{bench.name}: data directory not found: {data_dir}")
    items = bench.load(data_dir)
    if not items:
        raise BenchmarkDataError(f"{bench.name}: no items in {data_dir}")
    ids = [it.id for it in items]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise BenchmarkDataError(f"{bench.name}: item id {dup!r} appears twice in {data_dir}")
    return items[:limit] if limit else items


# ---- responses -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    text: str
    is_response: bool  # a model response (extract the code) or bare code
    line: int = 0


def read_responses(path: Path) -> dict[str, list[Response]]:
    """id -> its responses in file order, from a JSONL of {"id", "response" | "code"}; PredictionError names the line."""
    out: dict[str, list[Response]] = {}
    for n, rec in jsonl_records(path):
        if not isinstance(rec, dict) or rec.get("id") is None:
            raise PredictionError(f"{path}:{n}: expected an object with an 'id' field")
        key = "response" if "response" in rec else "code" if "code" in rec else None
        if key is None:
            raise PredictionError(f"{path}:{n}: needs a 'response' or 'code' field (keys: {sorted(rec)})")
        if not isinstance(rec[key], str):
            raise PredictionError(f"{path}:{n}: {key!r} must be a string, got {type(rec[key]).__name__}")
        out.setdefault(str(rec["id"]), []).append(Response(rec[key], key == "response", n))
    if not out:
        raise PredictionError(f"{path}: no predictions")
    return out


def _note_unmatched(responses: dict[str, list[Response]], items: list[BenchmarkItem], notes: list[str]) -> None:
    known = {it.id for it in items}
    stray = [k for k in responses if k not in known]
    missing = [it.id for it in items if it.id not in responses]
    if stray:
        notes.append(f"{len(stray)} prediction id(s) match no item and were not scored (first: {stray[0]!r})")
    if missing:
        notes.append(f"{len(missing)} item(s) had no prediction and score the failure value (first: {missing[0]!r})")


def _image_png(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return data
    from PIL import Image

    buf = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").save(buf, format="PNG")
    return buf.getvalue()


def _generate(cfg: RunConfig, items: list[BenchmarkItem], notes: list[str]) -> Path:
    """Responses from a vLLM server or a local model through vinci_rl.eval's generation code."""
    out = cfg.out_dir / "predictions.jsonl"
    requests = [(it.id, it.prompt, _image_png(it.image)) for it in items for _ in range(max(1, cfg.samples))]
    if cfg.server is not None:
        from vinci_rl.eval.predictions import generate

        generate(cfg.server, requests, out, cfg.progress)
        notes.append(f"responses generated by {cfg.server.model} at {cfg.server.url}, {cfg.samples} per item")
        temperature = cfg.server.temperature
    elif cfg.local_model is not None:
        from vinci_rl.eval.local_model import generate_local

        generate_local(cfg.local_model, requests, out, cfg.progress)
        notes.append(f"responses generated by {cfg.local_model.path} (transformers), {cfg.samples} per item")
        temperature = cfg.local_model.temperature
    else:
        raise PredictionError("give predictions (a JSONL file), a vLLM server URL or a local model")
    if cfg.samples > 1 and temperature <= 0:
        notes.append("several samples per item at temperature 0: they are (nearly) identical; pass@k needs sampling")
    return out


# ---- scoring -------------------------------------------------------------------------------------------------


def extract(bench: Any, item: BenchmarkItem, response: Response) -> str:
    """The code a response holds: bare code as is; the benchmark's own rule; else the project's fence reader."""
    if not response.is_response:
        return response.text
    own = getattr(bench, "extract", None)
    if own is not None:
        return own(response.text) or ""
    from vinci_rl.reward.extract import extract_code

    return extract_code(response.text, item.language, on_missing="raw").code or ""


def score_items(bench, items, responses, ctx: MetricContext, progress: bool, notes: list[str]) -> list[dict]:
    """One record per item: {"id", "group", "samples": [row, ...]} (an item with no response gets one empty one)."""
    records = []
    t0 = last = time.monotonic()
    for n, item in enumerate(items, 1):
        rows = [bench.score(item, extract(bench, item, r), ctx) for r in responses.get(item.id, [Response("", False)])]
        records.append({"id": item.id, "group": _group(bench, item), "samples": rows})
        if progress and (time.monotonic() - last > 5 or n == len(items)):
            last = time.monotonic()
            print(f"[{bench.name}] scored {n}/{len(items)} items ({last - t0:.0f} s)", file=sys.stderr, flush=True)
    return records


def _group(bench: Any, item: BenchmarkItem) -> str | None:
    fn = getattr(bench, "group", None)
    return fn(item) if fn is not None else None


def item_row(samples: list[dict[str, float]]) -> dict[str, float]:
    """An item's metrics: the mean over its samples (a sample's expected value), key by key."""
    keys = dict.fromkeys(k for s in samples for k in s)
    return {k: mean([float(s[k]) for s in samples if k in s]) for k in keys}


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples of which c pass: 1 - C(n - c, k) / C(n, k)."""
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def _pass_table(bench: Any, records: list[dict], ks: tuple[int, ...]) -> dict[str, float]:
    passed = getattr(bench, "passed", None)
    if passed is None:
        return {}
    n_min = min(len(r["samples"]) for r in records)
    out = {}
    for k in ks:
        if k <= n_min:
            vals = [pass_at_k(len(r["samples"]), sum(bool(passed(s)) for s in r["samples"]), k) for r in records]
            out[f"pass@{k}"] = sum(vals) / len(vals)
    return out


def _finish(bench, cfg: RunConfig, items, records, notes, source) -> BenchmarkResult:
    rows = [item_row(r["samples"]) for r in records]
    table = {"all": bench.aggregate(rows)}
    groups = sorted({r["group"] for r in records if r["group"] is not None})
    if len(groups) > 1:
        for g in groups:
            table[g] = bench.aggregate([row for row, r in zip(rows, records) if r["group"] == g])
    for row in table.values():
        if tuple(row) != tuple(bench.columns):
            raise RuntimeError(f"{bench.name}.aggregate returned {tuple(row)}, expected the columns {bench.columns}")
    extra = getattr(bench, "notes", None)
    if extra is not None:
        notes.extend(extra(rows))
    n_samples = sum(len(r["samples"]) for r in records)
    outputs = {"results": str(cfg.out_dir / "results.json"), "items": str(cfg.out_dir / "items.jsonl"),
               "predictions": str(source)}
    result = BenchmarkResult(bench.name, tuple(bench.columns), table, _pass_table(bench, records, cfg.pass_k),
                             len(items), n_samples, notes, dict(cfg.context.unavailable), outputs)
    _write(cfg.out_dir, result, records, rows)
    return result


def _write(out_dir: Path, result: BenchmarkResult, records: list[dict], rows: list[dict]) -> None:
    (out_dir / "results.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    with open(out_dir / "items.jsonl", "w") as f:
        for rec, row in zip(records, rows):
            line = {"id": rec["id"], "group": rec["group"], "scores": _clean(row),
                    "samples": [_clean(s) for s in rec["samples"]]}
            f.write(json.dumps(line) + "\n")


def _clean(row: dict[str, float]) -> dict[str, float | None]:
    return {k: _json_float(v) for k, v in row.items()}


def _json_float(v: float) -> float | None:
    return None if isinstance(v, float) and math.isnan(v) else v


# ---- the printed table ---------------------------------------------------------------------------------------


def _cell(v: float) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.1f}"


def format_table(name, columns, table, pass_at, notes, unavailable) -> str:
    """The paper layout: one row per group (the whole set first), one column per metric, values x 100."""
    head = ["", *columns, *pass_at]
    body = [[group, *(_cell(row[c]) for c in columns), *([_cell(v) for v in pass_at.values()] if group == "all" else
             ["" for _ in pass_at])] for group, row in table.items()]
    widths = [max(len(str(r[i])) for r in [head, *body]) for i in range(len(head))]

    def line(cells: list) -> str:  # the group name left-aligned, numbers right-aligned
        return "| " + " | ".join(str(c).rjust(w) if i else str(c).ljust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths))) + " |"

    lines = [f"{name} (values x 100)", line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += [line(r) for r in body]
    lines += [f"n/a {col}: {why}" for col, why in unavailable.items()]
    lines += [f"note: {n}" for n in notes]
    return "\n".join(lines)


__all__ = ["BenchmarkResult", "RunConfig", "UNAVAILABLE", "pass_at_k", "read_responses", "run_benchmark"]
