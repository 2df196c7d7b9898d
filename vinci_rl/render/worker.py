"""Warm worker subprocesses and the framed protocol they speak.

A frame is `>IQ` (header length, payload length), a JSON header, then raw payload bytes (RGB pixels, UTF-8 code).
Nothing is ever unpickled: a sandboxed worker may be hostile, so the parent parses JSON, checks every length against
a cap and reads raw pixels whose size must match the header. The parent enforces a wall-clock deadline with select();
a worker that overruns is killed (with its whole sandbox) and restarted lazily on the next request.

Worker side: `python -m vinci_rl.render.worker MODULE` imports MODULE, calls `MODULE.worker_setup()` once (preloads),
then answers each request frame with `MODULE.handle(header, payload) -> (header, payload)`.
"""

from __future__ import annotations

import fcntl
import importlib
import json
import os
import select
import signal
import struct
import subprocess
import sys
import time

_PREFIX = struct.Struct(">IQ")
MAX_HEADER = 1 << 20
PIPE_SIZE = 1 << 20
F_SETPIPE_SZ = 1031


class WorkerError(Exception):
    """The worker misbehaved: died, overran its deadline (`timed_out`), or sent a malformed frame."""

    def __init__(self, message: str, timed_out: bool = False):
        super().__init__(message)
        self.timed_out = timed_out


def encode_frame(header: dict, payload: bytes = b"") -> bytes:
    head = json.dumps(header).encode()
    return _PREFIX.pack(len(head), len(payload)) + head + payload


def decode_header(raw: bytes, payload_len: int, max_payload: int) -> dict:
    if payload_len > max_payload:
        raise WorkerError(f"worker payload of {payload_len} bytes exceeds the cap of {max_payload}")
    header = json.loads(raw.decode())
    if not isinstance(header, dict):
        raise WorkerError("worker header is not a JSON object")
    return header


def read_exact_blocking(fd: int, n: int) -> bytes:
    """Worker side: read exactly n bytes from fd; EOFError when the stream ends first."""
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, PIPE_SIZE))
        if not chunk:
            raise EOFError("stream closed")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_frame_blocking(fd: int, max_payload: int) -> tuple[dict, bytes]:
    hlen, plen = _PREFIX.unpack(read_exact_blocking(fd, _PREFIX.size))
    if hlen > MAX_HEADER:
        raise WorkerError(f"header of {hlen} bytes exceeds the cap")
    header = decode_header(read_exact_blocking(fd, hlen), plen, max_payload)
    return header, read_exact_blocking(fd, plen)


def write_all(fd: int, data) -> None:
    view = memoryview(data).cast("B")
    while view:
        view = view[os.write(fd, view) :]


def write_frame(fd: int, header: dict, payload=b"") -> None:
    """Write one frame; `payload` may be any buffer (a numpy array is sent without a copy)."""
    head = json.dumps(header).encode()
    size = memoryview(payload).nbytes
    write_all(fd, _PREFIX.pack(len(head), size) + head)
    if size:
        write_all(fd, payload)


def read_exact_deadline(fd: int, n: int, deadline: float) -> bytearray:
    """Parent side: read exactly n bytes before `deadline` (time.monotonic()), else WorkerError(timed_out=True).
    Reads straight into one preallocated buffer (a 512x512 image is 768 KiB: no chunk list, no extra copy)."""
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise WorkerError("worker overran its deadline", timed_out=True)
        k = os.readv(fd, [view[got:]])
        if k == 0:
            raise WorkerError("worker closed its pipe (it died)")
        got += k
    return buf


def read_frame_deadline(fd: int, deadline: float, max_payload: int) -> tuple[dict, bytes]:
    hlen, plen = _PREFIX.unpack(read_exact_deadline(fd, _PREFIX.size, deadline))
    if hlen > MAX_HEADER:
        raise WorkerError(f"header of {hlen} bytes exceeds the cap")
    header = decode_header(read_exact_deadline(fd, hlen, deadline), plen, max_payload)
    return header, read_exact_deadline(fd, plen, deadline)


def _grow_pipe(fd: int) -> None:
    try:
        fcntl.fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE)
    except OSError:
        pass


class WorkerProcess:
    """One persistent worker subprocess (started lazily, restarted after a failure). Not thread-safe: one owner."""

    def __init__(self, argv: list[str], env: dict, preexec_fn=None, startup_timeout_s: float = 60.0):
        self.argv, self.env, self.preexec_fn = argv, env, preexec_fn
        self.startup_timeout_s = startup_timeout_s
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the worker and wait until its preloads are done (a ping), so that job budgets exclude start-up."""
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=self.env, preexec_fn=self.preexec_fn, start_new_session=True, close_fds=True,
        )
        _grow_pipe(self.proc.stdin.fileno())
        _grow_pipe(self.proc.stdout.fileno())
        try:
            self._exchange({"op": "ping"}, b"", self.startup_timeout_s, 0)
        except WorkerError as e:
            raise WorkerError(f"worker failed to start: {e}") from e

    def request(self, header: dict, payload: bytes, timeout_s: float, max_payload: int) -> tuple[dict, bytes]:
        """Send one job, wait for its answer until timeout_s; on any failure the worker is killed."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        return self._exchange(header, payload, timeout_s, max_payload)

    def _exchange(self, header: dict, payload: bytes, timeout_s: float, max_payload: int) -> tuple[dict, bytes]:
        deadline = time.monotonic() + timeout_s
        try:
            write_all(self.proc.stdin.fileno(), encode_frame(header, payload))
            return read_frame_deadline(self.proc.stdout.fileno(), deadline, max_payload)
        except (WorkerError, OSError, ValueError) as e:
            self.kill()
            if isinstance(e, WorkerError):
                raise
            raise WorkerError(f"worker protocol error: {e}") from e

    def kill(self) -> None:
        """SIGKILL the worker's whole session (the sandbox and everything in it) and reap it."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        for f in (proc.stdin, proc.stdout):
            try:
                f.close()
            except OSError:
                pass


def serve(module_name: str) -> None:
    """Worker main loop. fd 1 is moved aside so stray prints from libraries cannot corrupt the protocol."""
    out_fd = os.dup(1)
    os.dup2(2, 1)
    module = importlib.import_module(module_name)
    module.worker_setup()
    while True:
        try:
            header, payload = read_frame_blocking(0, max_payload=1 << 30)
        except EOFError:
            return
        if header.get("op") == "ping":
            write_frame(out_fd, {"status": "ok"})
            continue
        try:
            reply, data = module.handle(header, payload)
        except Exception as e:  # a bug in our handler must not take the worker down; the parent gets a verdict
            reply, data = {"status": "renderer_crash", "message": f"{type(e).__name__}: {e}"}, b""
        write_frame(out_fd, reply, data)


if __name__ == "__main__":
    serve(sys.argv[1])
