"""Where predictions come from: a JSONL file of generated programs, or a model served by vLLM.

JSONL: one object per line, keyed by "id" (extra_info.id of the test row) or "index" (extra_info.index), with the
model's full text in "response" (the code is extracted from its fenced block) or the bare program in "code"; or,
for a multi-turn evaluation (eval --turns), every turn's text in "responses" (the last is the answer scored
without --turns) and optionally why the turns stopped in "stop".

vLLM: any OpenAI-compatible server (`vllm serve MODEL`), URL like http://host:8000/v1. Each test row's prompt
is sent as one user message (its <image> replaced by the image as a data: URI) to /chat/completions; replies
are written to predictions.jsonl so the run can be scored again without the server. Uses the `openai` client
when installed, else plain HTTP from the standard library (urllib).
"""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from tqdm import tqdm


class PredictionError(ValueError):
    """Bad predictions input or an unreachable server; the message names the file/line/URL."""


@dataclass
class Prediction:
    text: str
    is_response: bool  # True: a model response (extract the fenced block); False: bare code
    line: int = 0
    turns: list[str] | None = None  # every turn's response ("responses"), first to last; text is the last
    stop: str | None = None  # why the turns stopped ("stop"), when the line says


def jsonl_records(path: str | Path) -> Iterator[tuple[int, object]]:
    """(line number, parsed value) for every non-blank line of a predictions file; PredictionError names the
    missing file or the line that is not JSON."""
    path = Path(path)
    if not path.is_file():
        raise PredictionError(f"predictions file not found: {path}")
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield n, json.loads(line)
        except json.JSONDecodeError as e:
            raise PredictionError(f"{path}:{n}: not JSON: {e}") from e


def load_predictions(path: str | Path) -> tuple[dict[str, Prediction], dict[int, Prediction]]:
    """(by id, by index) from a JSONL file; raises PredictionError naming the line of a bad record."""
    path = Path(path)
    by_id: dict[str, Prediction] = {}
    by_index: dict[int, Prediction] = {}
    for n, rec in jsonl_records(path):
        if not isinstance(rec, dict):
            raise PredictionError(f"{path}:{n}: expected an object, got {type(rec).__name__}")
        if "responses" in rec:
            turns = rec["responses"]
            if not isinstance(turns, list) or not turns or not all(isinstance(t, str) for t in turns):
                raise PredictionError(f"{path}:{n}: 'responses' must be a non-empty list of strings (one per turn)")
            pred = Prediction(turns[-1], True, n, turns, None if rec.get("stop") is None else str(rec["stop"]))
        elif "response" in rec:
            pred = Prediction(rec["response"], True, n)
        elif "code" in rec:
            pred = Prediction(rec["code"], False, n)
        else:
            raise PredictionError(f"{path}:{n}: needs a 'response' or 'code' field, or 'responses' (keys: {sorted(rec)})")
        if not isinstance(pred.text, str):
            raise PredictionError(f"{path}:{n}: 'response'/'code' must be a string, got {type(pred.text).__name__}")
        if rec.get("id") is not None:
            key, table = str(rec["id"]), by_id
        elif rec.get("index") is not None:
            try:
                key, table = int(rec["index"]), by_index
            except (TypeError, ValueError):
                raise PredictionError(f"{path}:{n}: 'index' must be an integer, got {rec['index']!r}") from None
        else:
            raise PredictionError(f"{path}:{n}: needs an 'id' or 'index' field")
        if key in table:
            raise PredictionError(f"{path}:{n}: a second prediction for {key!r} (first on line {table[key].line})")
        table[key] = pred
    if not by_id and not by_index:
        raise PredictionError(f"{path}: no predictions")
    return by_id, by_index


# ---- a vLLM (OpenAI-compatible) server ----------------------------------------------------------------------


@dataclass
class ServerConfig:
    url: str  # base URL ending in /v1
    model: str | None = None  # served model name; None -> the first one the server lists
    max_tokens: int = 2048
    temperature: float = 0.0
    api_key: str = "EMPTY"
    concurrency: int = 8
    timeout_s: float = 600.0


def _base(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


def _http_json(url: str, api_key: str, timeout: float, payload: dict | None = None) -> Any:
    """GET (payload None) or POST JSON with the standard library; returns the decoded JSON reply."""
    import urllib.request

    data = None if payload is None else json.dumps(payload).encode()
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    req = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(req, timeout=timeout) as reply:
        return json.loads(reply.read())


def server_models(cfg: ServerConfig) -> list[str]:
    """The served model names (GET /models); raises PredictionError with what to do when it is unreachable."""
    url = _base(cfg.url) + "/models"
    try:
        return [m["id"] for m in _http_json(url, cfg.api_key, 10.0).get("data", [])]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:  # URLError/HTTPError are OSErrors
        raise PredictionError(
            f"cannot reach an OpenAI-compatible server at {url} ({type(e).__name__}: {e}). Start one with "
            "`vllm serve MODEL --port 8000` and pass --server http://HOST:8000/v1, or score a file with --predictions"
        ) from e


def chat_messages(prompt_text: str, image_png: bytes) -> list[dict[str, Any]]:
    """One user message: the prompt's text around <image>, with the image as a data: URI in its place."""
    before, _, after = prompt_text.partition("<image>")
    uri = "data:image/png;base64," + base64.b64encode(image_png).decode()
    parts: list[dict[str, Any]] = []
    if before.strip():
        parts.append({"type": "text", "text": before})
    parts.append({"type": "image_url", "image_url": {"url": uri}})
    if after.strip():
        parts.append({"type": "text", "text": after})
    return [{"role": "user", "content": parts}]


def _client(cfg: ServerConfig, use_openai: bool = True) -> Callable[[list[dict[str, Any]]], str]:
    try:
        import openai
    except ImportError:
        openai = None
    if openai is not None and use_openai:
        client = openai.OpenAI(base_url=_base(cfg.url), api_key=cfg.api_key, timeout=cfg.timeout_s)

        def complete(messages: list[dict[str, Any]]) -> str:
            r = client.chat.completions.create(
                model=cfg.model, messages=messages, max_tokens=cfg.max_tokens, temperature=cfg.temperature
            )
            return r.choices[0].message.content or ""

        return complete

    def complete(messages: list[dict[str, Any]]) -> str:
        body = {"model": cfg.model, "messages": messages, "max_tokens": cfg.max_tokens, "temperature": cfg.temperature}
        reply = _http_json(_base(cfg.url) + "/chat/completions", cfg.api_key, cfg.timeout_s, body)
        return reply["choices"][0]["message"]["content"] or ""

    return complete


def resolve_model(cfg: ServerConfig) -> None:
    """Set cfg.model to the first served model when unset; PredictionError when the server does not serve it."""
    models = server_models(cfg)
    if cfg.model is None:
        if not models:
            raise PredictionError(f"the server at {cfg.url} lists no models; pass --model")
        cfg.model = models[0]
    elif models and cfg.model not in models:
        raise PredictionError(f"model {cfg.model!r} is not served at {cfg.url}; served: {models}")


def generate(cfg: ServerConfig, items: list[tuple[str, str, bytes]], out_jsonl: Path, progress: bool = True) -> Path:
    """Ask the server for one response per (id, prompt text, image PNG); writes {"id", "response"} lines."""
    resolve_model(cfg)
    complete = _client(cfg)

    def one(item: tuple[str, str, bytes]) -> dict[str, str]:
        sample_id, prompt, png = item
        try:
            return {"id": sample_id, "response": complete(chat_messages(prompt, png))}
        except Exception as e:  # one failed request is a failed prediction (empty response), reported, not fatal
            return {"id": sample_id, "response": "", "error": f"{type(e).__name__}: {e}"[:500]}

    with ThreadPoolExecutor(max(1, cfg.concurrency)) as pool:
        replies = tqdm(pool.map(one, items), total=len(items), desc="generate", unit="sample", disable=not progress)
        results = list(replies)
    errors = [r for r in results if "error" in r]
    if errors and len(errors) == len(results):
        raise PredictionError(f"every request to {cfg.url} failed; first: {errors[0]['error']}")
    out_jsonl.parent.mkdir(parents=True, exist_ok=True)
    out_jsonl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results))
    return out_jsonl
