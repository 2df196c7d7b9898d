"""The framed worker protocol: JSON header + raw bytes, every length capped, no unpickling, deadlines kill."""

from __future__ import annotations

import os
import struct
import sys
import time

import pytest

from vinci_rl.render.worker import (
    WorkerError,
    WorkerProcess,
    encode_frame,
    read_frame_blocking,
    read_frame_deadline,
)


def pipe_with(data: bytes) -> int:
    r, w = os.pipe()
    os.write(w, data)
    os.close(w)
    return r


def test_frame_round_trip():
    fd = pipe_with(encode_frame({"status": "ok", "width": 2}, b"\x00\x01\x02"))
    assert read_frame_deadline(fd, time.monotonic() + 1, max_payload=10) == ({"status": "ok", "width": 2}, b"\x00\x01\x02")
    fd = pipe_with(encode_frame({"a": [1]}))
    assert read_frame_blocking(fd, max_payload=0) == ({"a": [1]}, b"")


@pytest.mark.parametrize("frame,match", [
    (encode_frame({"x": 1}, b"y" * 100), "exceeds the cap"),  # payload larger than the caller allows
    (struct.pack(">IQ", 1 << 30, 0), "header"),  # absurd header length
    (struct.pack(">IQ", 2, 0) + b"[]", "not a JSON object"),
    (encode_frame({"x": 1}, b"")[:-3], "closed"),  # truncated
])
def test_hostile_frames_are_refused(frame, match):
    with pytest.raises((WorkerError, ValueError), match=match):
        read_frame_deadline(pipe_with(frame), time.monotonic() + 1, max_payload=10)


def test_pickle_payloads_are_just_bytes():
    import pickle

    evil = pickle.dumps(os.system)
    header, payload = read_frame_deadline(pipe_with(encode_frame({"k": "v"}, evil)), time.monotonic() + 1, 1000)
    assert payload == evil  # returned as raw bytes, never loaded


def test_worker_overrunning_its_deadline_is_killed_and_restarted(tmp_path):
    (tmp_path / "sleepy_worker.py").write_text(
        "import time\ndef worker_setup():\n    pass\ndef handle(header, payload):\n    time.sleep(60)\n")
    w = WorkerProcess([sys.executable, "-m", "vinci_rl.render.worker", "sleepy_worker"], {"PYTHONPATH": str(tmp_path)})
    t0 = time.monotonic()
    with pytest.raises(WorkerError) as e:
        w.request({"a": 1}, b"", timeout_s=0.5, max_payload=0)
    assert e.value.timed_out and time.monotonic() - t0 < 5
    assert w.proc is None  # killed; the next request starts a fresh one


def test_real_worker_answers_and_survives_handler_errors():
    w = WorkerProcess([sys.executable, "-m", "vinci_rl.render.worker", "vinci_rl.render.svg"], {"PATH": "/usr/bin"})
    try:
        reply, data = w.request({"width": 4, "height": 2}, b'<svg xmlns="http://www.w3.org/2000/svg"/>', 10, 100)
        assert reply["status"] == "ok" and data == b"\xff" * 24
        reply, _ = w.request({"no_width": 1}, b"", 10, 100)  # handler raises KeyError: a verdict, not a dead worker
        assert reply["status"] == "renderer_crash"
        assert w.request({"width": 1, "height": 1}, b"<svg/>", 10, 100)[0]["status"] in ("ok", "parse_error")
    finally:
        w.kill()
