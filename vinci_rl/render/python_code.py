"""Python plotting code (matplotlib, seaborn, plotly, RDKit drawing, ...) -> image, through a warm sandboxed forkserver.

The forkserver (python_job.py) runs inside bubblewrap when available: no network, own PID namespace, read-only
/usr, /lib* and the Python prefix + this package, a private size-capped /tmp; NOT /work, /root or data dirs. Each job
is a forked child with rlimits, uid 65534 (when root) and a scrubbed env. A picture is captured when the code saves
or shows it, at its own size (python_capture.py: a matplotlib figure at its figsize and dpi, `bbox_inches='tight'`
honoured), and then scaled to the requested size (the reward requests the reference's size); extra["natural_size"]
is the picture's own size. PIL images / PNG bytes are fitted onto white; plotly figures come back as JSON and are
drawn by the HTML renderer at their own size when they have one (plotly.js inlined, no CDN, no kaleido).
"""

from __future__ import annotations

import json
import os
import sys
import time

from vinci_rl.render import sandbox
from vinci_rl.render.config import RenderConfig
from vinci_rl.render.result import OK, RENDERER_CRASH, TIMEOUT, RenderResult
from vinci_rl.render.raster import finish, resize_exact, result_from_reply
from vinci_rl.render.worker import WorkerError, WorkerProcess

SLACK_S = 5.0  # the forkserver enforces the job budget; the parent only kills a forkserver that stops answering


class PythonBackend:
    """Owns one warm forkserver; plotly figures go to the html backend. Single-threaded."""

    def __init__(self, config: RenderConfig, mode: str, backends=None):
        self.config, self.mode, self.backends = config, mode, backends
        argv = [sys.executable, "-m", "vinci_rl.render.worker", "vinci_rl.render.python_job"]
        env = sandbox.python_worker_env(extra={"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"})
        if mode == sandbox.BWRAP:
            argv = sandbox.bwrap_argv(ro=sandbox.python_ro_paths(), tmp_mb=config.max_output_mb * 4,
                                      keep_caps=sandbox.FORKSERVER_CAPS) + argv
            env["MPLCONFIGDIR"] = "/tmp/mpl"
        else:
            import tempfile

            self._tmp = tempfile.TemporaryDirectory(prefix="vinci-python-")
            os.chmod(self._tmp.name, 0o711)  # jobs (nobody) may reach their own job dir, not list the others
            env.update(TMPDIR=self._tmp.name, HOME=self._tmp.name, MPLCONFIGDIR=self._tmp.name + "/mpl")
        self.worker = WorkerProcess(argv, env)

    def _header(self, w: int, h: int, budget: float) -> dict:
        return {
            "width": w, "height": h, "timeout_s": budget, "memory_mb": self.config.memory_mb,
            "fsize_mb": self.config.max_output_mb, "nproc": self.config.python_max_procs,
            "uid": self.config.sandbox_uid, "pidns": self.mode == sandbox.BWRAP,
            "max_pixels": self.config.max_pixels, "show": self.config.python_show,
        }

    def run_json(self, code: str) -> RenderResult:
        """Run `code` in the same sandbox for a structured result instead of a picture: status ok with
        extra["result"] = the JSON value the program left in its global `__vinci_result__` (no image); a failure is a
        status, as for render()."""
        t0 = time.monotonic()
        budget = self.config.timeout_for("python")
        header = {**self._header(1, 1, budget), "reply": "json"}
        try:
            reply, data = self.worker.request(header, code.encode(), budget + SLACK_S, max_payload=20 << 20)
        except WorkerError as e:
            return RenderResult(TIMEOUT if e.timed_out else RENDERER_CRASH, None, str(e), time.monotonic() - t0)
        elapsed = time.monotonic() - t0
        if reply.get("status") != "ok":
            return result_from_reply(reply, b"", (1, 1), elapsed)
        try:
            if reply.get("kind") != "json":
                raise ValueError(f"reply kind {reply.get('kind')!r}")
            value = json.loads(data.decode("utf-8"))
        except ValueError as e:
            return RenderResult(RENDERER_CRASH, None, f"python job returned no JSON result: {e}"[:500], elapsed)
        return RenderResult(OK, None, "", elapsed, {"result": value})

    def render(self, code: str, size: tuple[int, int]) -> RenderResult:
        t0 = time.monotonic()
        w, h = size
        budget = self.config.timeout_for("python")
        header = self._header(w, h, budget)
        try:
            reply, data = self.worker.request(header, code.encode(), budget + SLACK_S, max_payload=max(w * h * 3, 20 << 20))
        except WorkerError as e:
            return RenderResult(TIMEOUT if e.timed_out else RENDERER_CRASH, None, str(e), time.monotonic() - t0)
        if reply.get("status") == "ok" and reply.get("kind") == "plotly":
            return self._plotly(data.decode("utf-8", "replace"), size, reply.get("natural"))
        if reply.get("status") == "ok" and (reply.get("width"), reply.get("height")) != (w, h):
            return RenderResult(RENDERER_CRASH, None, "python job returned an image of the wrong size")
        result = result_from_reply(reply, data, size, time.monotonic() - t0)
        result.extra.update(_reply_notes(reply))
        return result

    def _plotly(self, fig_json: str, size: tuple[int, int], natural) -> RenderResult:
        """A plotly figure drawn by the HTML renderer: at its own size when it has one, then scaled to `size`."""
        own = _checked_size(natural, self.config.max_pixels)
        result = self.backends("html").render_plotly(fig_json, own or size)
        if own and result.image is not None and own != size:
            result = finish(resize_exact(result.image, size), result.elapsed_s, **result.extra)
        result.extra["via"] = "plotly"
        if own:
            result.extra["natural_size"] = list(own)
        return result

    def close(self) -> None:
        self.worker.kill()
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            tmp.cleanup()


def _checked_size(size, max_pixels: int) -> tuple[int, int] | None:
    """A (width, height) the sandboxed job claims, validated; None when absent or out of bounds."""
    if not isinstance(size, (list, tuple)) or len(size) != 2 or not all(isinstance(v, int) for v in size):
        return None
    w, h = size
    return (w, h) if 0 < w and 0 < h and w * h <= max_pixels else None


def _reply_notes(reply: dict) -> dict:
    """What the job tells beside the picture, validated: its own size, a dpi lowered to the pixel cap, the module
    that was missing."""
    notes = {}
    natural = _checked_size(reply.get("natural"), 1 << 31)
    if natural:
        notes["natural_size"] = list(natural)
    if isinstance(reply.get("dpi_capped"), (int, float)):
        notes["dpi_capped"] = float(reply["dpi_capped"])
    if reply.get("status") == "missing_module" and isinstance(reply.get("module"), str):
        notes["missing_module"] = reply["module"][:200]
    return notes
