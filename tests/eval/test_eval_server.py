"""`vinci-rl eval --server`: generation through an OpenAI-compatible endpoint (a fake vLLM on 127.0.0.1 here),
and the clear error when no server answers."""

from __future__ import annotations

import json
import socket

import pytest
from eval_helpers import RED_RECT, TEST_SET
from fake_openai import chat_server

from vinci_rl.cli import main
from vinci_rl.eval.predictions import (
    PredictionError,
    ServerConfig,
    chat_messages,
    server_models,
)


@pytest.fixture()
def fake_server():
    """A fake vLLM answering every prompt with the red-rectangle SVG."""
    with chat_server(lambda req: f"```svg\n{RED_RECT}\n```") as server:
        yield server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_server_is_a_clear_error(tmp_path, test_parquet, capsys):
    url = f"http://127.0.0.1:{free_port()}/v1"
    rc = main(["eval", str(test_parquet), "--server", url, "--out", str(tmp_path), "--quiet"])
    assert rc == 2
    err = capsys.readouterr().err
    assert f"cannot reach an OpenAI-compatible server at {url}/models" in err
    assert "vllm serve" in err and "--predictions" in err


def test_generates_through_the_server_and_scores(tmp_path, test_parquet, fake_server, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    rc = main(["eval", str(test_parquet), "--server", fake_server.url, "--out", str(tmp_path), "--no-reward", "--quiet",
               "--concurrency", "2", "--max-tokens", "64"])
    assert rc == 0
    preds = [json.loads(line) for line in (tmp_path / "predictions.jsonl").read_text().splitlines()]
    assert sorted(p["id"] for p in preds) == sorted(TEST_SET)
    assert len(fake_server.requests) == len(TEST_SET)
    req = fake_server.requests[0]
    assert req["model"] == "tiny-vlm" and req["max_tokens"] == 64  # the first served model by default
    parts = req["messages"][0]["content"]
    assert [p["type"] for p in parts] == ["image_url", "text"]
    assert parts[0]["image_url"]["url"].startswith("data:image/png;base64,")
    result = json.loads((tmp_path / "eval.json").read_text())
    ssim = {s["id"]: s["metrics"].get("ssim") for s in result["samples"]}
    assert ssim["a_red"] == pytest.approx(1.0)  # the fake model always answers the red rectangle
    assert ssim["b_blue"] < 1.0


def test_unknown_model_is_named(fake_server):
    from vinci_rl.eval.predictions import generate

    with pytest.raises(PredictionError, match="model 'other' is not served.*tiny-vlm"):
        generate(ServerConfig(fake_server.url, model="other"), [], None, progress=False)
    assert server_models(ServerConfig(fake_server.url)) == ["tiny-vlm"]


def test_chat_messages_put_the_image_where_the_prompt_says():
    msgs = chat_messages("Look: <image> Now write SVG.", b"\x89PNG")
    assert [p["type"] for p in msgs[0]["content"]] == ["text", "image_url", "text"]


@pytest.mark.parametrize("use_openai", [True, False])
def test_both_clients_talk_to_the_server(fake_server, use_openai):
    """The openai client when installed, else the standard-library fallback: same request, same answer."""
    from vinci_rl.eval.predictions import _client

    if use_openai:
        pytest.importorskip("openai")
    complete = _client(ServerConfig(fake_server.url, model="tiny-vlm", max_tokens=16), use_openai=use_openai)
    assert complete(chat_messages("<image>Draw.", b"\x89PNG")) == f"```svg\n{RED_RECT}\n```"
    assert fake_server.requests[-1]["max_tokens"] == 16
