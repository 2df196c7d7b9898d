"""Where pretrained weights and tokenizers come from: a local directory, or a hub id the hub can serve.

    locate_pretrained("/models/dinov2-base", "--dino")      -> "/models/dinov2-base"
    locate_pretrained("facebook/dinov2-large", "reward.dino.model")  -> the id (cached here, or the hub answers)
    load_tokenizer("Qwen/Qwen2.5-VL-7B-Instruct", "--tokenizer")

Everything that loads weights by path or hub id asks this module first, so that a path that is neither a local
directory nor reachable fails in seconds with a message naming it and the setting it came from (transformers
alone retries the hub for a minute or more, or fails with "Repo id must be in the form ..." for a missing path):
- an existing directory is used as is; a file, or a path-like string (/, ./, ../, ~, more than one /) that does
  not exist, is an error at once;
- a hub id (owner/name) is used when a copy is in the local hub cache, or when the hub answers a TCP connection
  within HUB_TIMEOUT_S; with HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE set and no cached copy it is an error at once.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from pathlib import Path
from urllib.parse import urlparse

HUB_TIMEOUT_S = 3.0  # how long the hub may take to accept a connection before a hub id counts as unreachable
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*")
_TRUE = ("1", "true", "yes", "on")


class ModelPathError(FileNotFoundError, ValueError):
    """Weights / a tokenizer that cannot be found: the message names the value and the setting it came from."""


def hub_offline() -> bool:
    return any(os.environ.get(v, "").strip().lower() in _TRUE for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "").strip() or "https://huggingface.co"


def in_hub_cache(repo_id: str) -> bool:
    """Whether the local hub cache holds a snapshot of this model repository."""
    from huggingface_hub import constants

    snapshots = Path(constants.HF_HUB_CACHE) / f"models--{repo_id.replace('/', '--')}" / "snapshots"
    return snapshots.is_dir() and any(snapshots.iterdir())


def hub_reachable(timeout_s: float = HUB_TIMEOUT_S) -> bool:
    """Whether the hub endpoint accepts a TCP connection within timeout_s (name resolution included)."""
    url = urlparse(hub_endpoint())
    host, port = url.hostname, url.port or (443 if url.scheme == "https" else 80)
    if not host:
        return False
    answer: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout_s).close()
            answer.append(True)
        except OSError:
            answer.append(False)

    thread = threading.Thread(target=probe, daemon=True)  # getaddrinfo ignores socket timeouts: bound it here
    thread.start()
    thread.join(timeout_s)
    return bool(answer and answer[0])


def _looks_like_path(spec: str) -> bool:
    return spec.startswith(("/", "./", "../", "~")) or spec in (".", "..") or spec.count("/") > 1 or "\\" in spec


def locate_pretrained(spec: str, what: str = "model", timeout_s: float = HUB_TIMEOUT_S) -> str:
    """The directory or hub id to load `spec` from; ModelPathError (naming `what` and spec) when there is none."""
    spec = str(spec).strip()
    path = Path(spec).expanduser()
    if path.is_dir():
        return str(path)
    if path.exists():
        raise ModelPathError(f"{what} {spec!r} is a file, not a model directory")
    if _looks_like_path(spec):
        raise ModelPathError(f"{what} {spec!r}: no such directory (the path does not exist)")
    if not _REPO_ID.fullmatch(spec):
        raise ModelPathError(f"{what} {spec!r} is neither a local directory nor a hub id (owner/name)")
    if in_hub_cache(spec):
        return spec
    if hub_offline():
        raise ModelPathError(
            f"{what} {spec!r} is not a local directory, and the hub is off (HF_HUB_OFFLINE) with no cached copy; "
            "give a local path"
        )
    if not hub_reachable(timeout_s):
        raise ModelPathError(
            f"{what} {spec!r} is not a local directory, and the hub ({hub_endpoint()}) did not answer within "
            f"{timeout_s:g} s; give a local path"
        )
    return spec


def load_tokenizer(spec: str, what: str = "tokenizer"):
    """AutoTokenizer.from_pretrained of a located spec; ModelPathError naming it when it cannot be loaded."""
    from transformers import AutoTokenizer

    src = locate_pretrained(spec, what)
    try:
        return AutoTokenizer.from_pretrained(src)
    except Exception as e:  # OSError / ValueError / hub errors: name the value and the setting either way
        raise ModelPathError(f"cannot load {what} {spec!r}: {e}") from e
