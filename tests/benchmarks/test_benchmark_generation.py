"""`vinci-rl eval --benchmark ... --server URL --samples N`: answers generated through vinci_rl.eval's server client
(a fake OpenAI-compatible server on 127.0.0.1), N per item, saved and scored with pass@k."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from benchmark_test_helpers import FIXTURES

from vinci_rl.cli import main


class FakeServer(BaseHTTPRequestHandler):
    """Lists one model; answers every chat request with the SMILES of ethanol."""

    requests: list[dict] = []

    def log_message(self, *args):
        pass

    def _send(self, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._send({"object": "list", "data": [{"id": "m", "object": "model", "created": 0, "owned_by": "me"}]})

    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeServer.requests.append(req)
        message = {"role": "assistant", "content": "```smiles\nCCO\n```"}
        self._send({"id": "c", "object": "chat.completion", "created": 0, "model": req["model"],
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})


@pytest.fixture()
def server_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    FakeServer.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_generated_samples_are_saved_and_scored(server_url, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["eval", "--benchmark", "chemdraw", str(FIXTURES / "chemdraw"), "--server", server_url, "--samples", "2",
               "--temperature", "0.7", "--out", str(out), "--quiet"])
    assert rc == 0, capsys.readouterr().err
    assert len(FakeServer.requests) == 6  # 3 items x 2 samples
    parts = FakeServer.requests[0]["messages"][0]["content"]
    assert parts[0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert parts[1]["text"].startswith("Write Python code with RDKit")  # the item's prompt after its <image>
    saved = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in saved) == ["aspirin", "aspirin", "ethanol", "ethanol", "phenol", "phenol"]
    data = json.loads((out / "results.json").read_text())
    # only ethanol (a SMILES item) is answered right; for the RDKit items "CCO" is not a program that runs
    assert data["table"]["all"]["Tanimoto@1.0"] == pytest.approx(1 / 3)
    assert data["table"]["all"]["Exec Rate"] == pytest.approx(1 / 3)
    assert data["pass_at_k"] == {"pass@1": pytest.approx(1 / 3)} and data["n_samples"] == 6
    assert any("2 per item" in n for n in data["notes"])
