"""A fake OpenAI-compatible (vLLM) server on 127.0.0.1 for the tests of generation through `--server`: it lists
one model and answers every chat completion with `answer(request)`; the requests it got are kept in order."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class ChatServer:
    url: str  # base URL, ending in /v1
    requests: list[dict] = field(default_factory=list)


def _handler(answer: Callable[[dict], str], model: str, requests: list[dict]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
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
            if self.path.rstrip("/") != "/v1/models":
                self.send_error(404)
                return
            self._send({"object": "list", "data": [{"id": model, "object": "model", "created": 0, "owned_by": "me"}]})

        def do_POST(self):
            req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            requests.append(req)
            message = {"role": "assistant", "content": answer(req)}
            self._send({"id": "c", "object": "chat.completion", "created": 0, "model": req["model"],
                        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})  # fmt: skip

    return Handler


@contextmanager
def chat_server(answer: Callable[[dict], str], model: str = "tiny-vlm") -> Iterator[ChatServer]:
    requests: list[dict] = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(answer, model, requests))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield ChatServer(f"http://127.0.0.1:{httpd.server_address[1]}/v1", requests)
    finally:
        httpd.shutdown()
        httpd.server_close()
