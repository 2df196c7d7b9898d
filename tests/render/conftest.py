"""Shared fixtures for the renderer tests: one warm Renderer for the session (short budgets so attacks end fast),
a world-readable secret directory outside every job dir, a logging HTTP server on 127.0.0.1."""

from __future__ import annotations

import http.server
import os
import shutil
import tempfile
import threading

import numpy as np
import pytest
from PIL import Image

from render_helpers import TEST_TIMEOUTS

from vinci_rl.render import RenderConfig, Renderer, sandbox


@pytest.fixture(scope="session")
def config() -> RenderConfig:
    return RenderConfig(timeout_s=TEST_TIMEOUTS, memory_mb=1024)


@pytest.fixture(scope="session")
def renderer(config):
    with Renderer(config) as r:
        yield r


@pytest.fixture(scope="session")
def bwrap_required():
    """Namespace protections need bubblewrap: skip only when it is not installed; installed but broken fails."""
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed: namespace-based protections cannot be tested here")
    assert sandbox.bwrap_works(), "bwrap is installed but cannot create a network namespace here"


@pytest.fixture(scope="session")
def mermaid_bundle(config):
    """Mermaid needs its JS bundle installed (see vinci_rl/render/mermaid.py INSTALL_HINT)."""
    from vinci_rl.render.mermaid import INSTALL_HINT, default_bundle_path

    path = config.mermaid_js or default_bundle_path()
    if not os.path.exists(path):
        pytest.skip(f"mermaid bundle not installed at {path}; install with: {INSTALL_HINT}")
    return path


@pytest.fixture(scope="session")
def secret_dir():
    """A world-readable dir, like a dataset of reference images: a red-square ref.png, a text secret, a .tex file."""
    d = tempfile.mkdtemp(prefix="vinci-secret-", dir="/tmp")
    os.chmod(d, 0o777)
    red = np.zeros((64, 64, 3), np.uint8)
    red[..., 0] = 255
    Image.fromarray(red).save(os.path.join(d, "ref.png"))
    for name, text in (("secret.txt", "SECRET-TOKEN-42"), ("secret.tex", r"\rule{5cm}{5cm}")):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    for name in os.listdir(d):
        os.chmod(os.path.join(d, name), 0o644)
    yield d
    shutil.rmtree(d, ignore_errors=True)


class _LoggingHandler(http.server.BaseHTTPRequestHandler):
    def _log(self):
        self.server.hits.append(f"{self.command} {self.path}")
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    do_GET = do_POST = do_HEAD = do_OPTIONS = _log

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    """An HTTP server on 127.0.0.1 (random port) that records every request it gets in `.hits`."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _LoggingHandler)
    server.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
