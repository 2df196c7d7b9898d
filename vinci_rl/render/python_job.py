"""Sandbox side of the Python renderer: a forkserver (run by `vinci_rl.render.worker`) that preloads matplotlib (Agg)
and the libraries chart code imports (PRELOAD) once, then forks one child per job.

The child: new session, fresh job dir, stdio to /dev/null, every inherited fd closed but its result pipe, rlimits
(AS, CPU, FSIZE, NOFILE, NPROC), drop to uid/gid 65534 when root, scrubbed env; then it exec()s the code with the
save / show calls of matplotlib, plotly and PIL patched to snapshot what the code produced at that moment, at the
picture's own size (python_capture.py), and sends one frame back: raw RGB scaled to the requested size (with the
picture's own size in the header), or a plotly figure as JSON (drawn by the HTML renderer in the parent). A module
the code imports that is not installed ends the job with status missing_module naming it. The forkserver enforces
the wall-clock budget and afterwards kills everything the job left behind.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import time
import traceback

from vinci_rl.render import sandbox
from vinci_rl.render.worker import WorkerError, read_frame_deadline, write_frame

PR_SET_CHILD_SUBREAPER = 36
MAX_PLOTLY_JSON = 20 << 20
RESULT_NAME = "__vinci_result__"  # the global a program run with header reply="json" leaves its result in
_jobs = 0
# Imported before any fork: faster jobs, and importable even where the interpreter's files are unreadable to nobody.
STDLIB_PRELOAD = ("math", "random", "json", "csv", "io", "collections", "itertools", "datetime", "re", "string",
                  "textwrap", "colorsys", "functools", "statistics", "decimal", "fractions", "socket", "urllib.request",
                  "encodings.idna")
# What chart code imports (ChartMimic's 723 published programs: matplotlib, numpy, scipy, networkx, squarify,
# pandas, matplotlib_venn; VisCoder's PandasPlotBench: matplotlib, seaborn, plotly) and molecule drawing: installed
# as dependencies of vinci-rl (pyproject.toml) and imported here once, so a job pays nothing for them.
PRELOAD = ("pandas", "seaborn", "scipy.stats", "scipy.interpolate", "scipy.signal", "scipy.ndimage",
           "scipy.cluster.hierarchy", "scipy.spatial", "networkx", "squarify", "matplotlib_venn",
           "mpl_toolkits.mplot3d", "mpl_toolkits.axes_grid1", "matplotlib.gridspec", "matplotlib.patheffects",
           "plotly.graph_objects", "plotly.express", "rdkit.Chem.Draw", "rdkit.Chem.AllChem")


def worker_setup() -> None:
    """Preload the plotting stack (the import is most of a cold start), font aliases and fallbacks, and adopt
    orphans of jobs to reap them. A library of PRELOAD that is not installed is left out (its import in a job
    then ends in missing_module)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401
    import PIL.Image  # noqa: F401

    for optional in (*STDLIB_PRELOAD, *PRELOAD):
        try:
            __import__(optional)
        except ImportError:
            pass
    from vinci_rl.render.fonts import install_matplotlib_fonts

    install_matplotlib_fonts()
    _warm_up_drawing()
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _warm_up_drawing() -> None:
    """Save one throwaway chart (bars, a line, a title with Latin and CJK text, a bold label, a legend), so that
    fonts (the CJK fallback included) and their lookups, the text layout caches, the Agg backend, the PNG codec and
    our raster helpers are loaded before any fork: each job would otherwise redo them."""
    import io

    import matplotlib.pyplot as plt

    import vinci_rl.render.python_capture  # noqa: F401
    import vinci_rl.render.raster  # noqa: F401

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.bar(["a", "b"], [1, 2], label="warm-up")
    ax.plot([0, 1], [1, 2], marker="o")
    ax.set_title("warm-up \u56fe\u8868")
    ax.set_xlabel("warm-up", fontweight="bold")
    ax.legend()
    fig.savefig(io.BytesIO(), format="png", dpi=64)
    plt.close(fig)


def handle(header: dict, payload: bytes) -> tuple[dict, bytes]:
    """Run one job in a forked child and return its (header, payload) verdict."""
    global _jobs
    _jobs += 1
    job_dir = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"job-{_jobs}")
    os.makedirs(job_dir, mode=0o700)
    uid = int(header["uid"])
    if os.getuid() == 0:
        os.chown(job_dir, uid, uid)
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        _child(payload.decode("utf-8", "replace"), header, job_dir, wfd)  # never returns
    os.close(wfd)
    try:
        return _collect(rfd, pid, header)
    finally:
        os.close(rfd)
        _kill_job(pid, uid, bool(header.get("pidns")))
        shutil.rmtree(job_dir, ignore_errors=True)


def _collect(rfd: int, pid: int, header: dict) -> tuple[dict, bytes]:
    w, h = int(header["width"]), int(header["height"])
    deadline = time.monotonic() + float(header["timeout_s"])
    try:
        return read_frame_deadline(rfd, deadline, max_payload=max(w * h * 3, MAX_PLOTLY_JSON))
    except WorkerError as e:
        if e.timed_out:
            return {"status": "timeout", "message": f"python code ran past {header['timeout_s']} s"}, b""
        return _exit_verdict(pid, deadline), b""
    except (ValueError, UnicodeDecodeError) as e:
        return {"status": "renderer_crash", "message": f"malformed result from the job: {e}"}, b""


def _exit_verdict(pid: int, deadline: float) -> dict:
    """The child closed its pipe without a result: say why from its exit status."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            return {"status": "timeout", "message": "python code closed its result pipe and kept running"}
        time.sleep(0.005)
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
    if sig == signal.SIGXCPU:
        return {"status": "timeout", "message": "python code ran out of CPU time"}
    if sig == signal.SIGXFSZ:
        return {"status": "resource_limit", "message": "python code wrote a file past the size limit"}
    if sig:
        return {"status": "renderer_crash", "message": f"python job killed by signal {sig}"}
    code = os.WEXITSTATUS(status)
    return {"status": "parse_error", "message": f"python code exited without a result (status {code})"}


def _kill_job(pid: int, uid: int, pidns: bool) -> None:
    """SIGKILL the job and everything it spawned, fork bombs and setsid() escapees included. In our own PID
    namespace a helper running as the sandbox uid kills every process of that uid at once; in any case every
    descendant of the forkserver (we are a subreaper, so orphans stay our descendants) is killed and reaped.
    The helper is a fork of this whole process, so it is left out when the job left nothing behind: with no live
    descendant there is no process of that uid that could still spawn one."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    _wait_killed(pid)
    if pidns and os.getuid() == 0 and _descendants(os.getpid()):
        killer = os.fork()
        if killer == 0:
            _kill_all_as(uid)
        os.waitpid(killer, 0)
    for _ in range(200):
        left = _descendants(os.getpid())
        if not left:
            break
        for p in left:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _reap()
        time.sleep(0.01)
    _reap()


def _wait_killed(pid: int, limit_s: float = 1.0) -> None:
    """Reap the job process itself once SIGKILL has ended it (at once, unless the kernel holds it: then give up)."""
    end = time.monotonic() + limit_s
    while True:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] or time.monotonic() > end:
                return
        except ChildProcessError:  # reaped already (the exit verdict waits for it)
            return
        time.sleep(0.0005)


def _kill_all_as(uid: int) -> None:
    try:
        sandbox.drop_privileges(uid, uid)
        for _ in range(1000):
            os.kill(-1, signal.SIGKILL)  # every process this uid may signal in this PID namespace, except itself
    except ProcessLookupError:
        pass
    finally:
        os._exit(0)


def _reap() -> None:
    """Collect every child that has exited (jobs and the orphans we adopted as subreaper); never blocks."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _descendants(root: int) -> list[int]:
    """PIDs of every live descendant of `root`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()
        if fields[0] != b"Z":  # zombies are dead already; _reap collects them
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


# ---------------------------------------------------------------- the child


def _child(code: str, header: dict, job_dir: str, wfd: int) -> None:
    try:
        _confine(header, job_dir, wfd)
        reply, data = run_and_capture(code, header, job_dir)
        write_frame(wfd, reply, data)
    except BaseException as e:  # noqa: BLE001  -- the child must never return into the forkserver loop
        try:
            write_frame(wfd, {"status": "renderer_crash", "message": f"job setup: {e}"[:500]})
        except BaseException:
            pass
    finally:
        os._exit(0)


def _confine(header: dict, job_dir: str, wfd: int) -> None:
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.closerange(3, wfd)
    os.closerange(wfd + 1, 65536)
    os.chdir(job_dir)
    sandbox.set_rlimits(
        memory_mb=int(header["memory_mb"]), cpu_s=int(float(header["timeout_s"])) + 1,
        fsize_mb=int(header["fsize_mb"]), nofile=256, nproc=int(header["nproc"]),
    )
    uid = int(header["uid"])
    sandbox.drop_privileges(uid, uid)
    os.environ.clear()
    os.environ.update(sandbox.scrubbed_env(home=job_dir, extra={"MPLBACKEND": "Agg", "MPLCONFIGDIR": job_dir}))


def run_and_capture(code: str, header: dict, job_dir: str) -> tuple[dict, bytes]:
    """exec() the code, then turn what it produced into a reply frame."""
    from vinci_rl.render.python_capture import Capture

    me = os.getpid()
    wants_json = header.get("reply") == "json"  # run for a structured result, not a picture (no capture patches)
    capture = Capture(int(header.get("max_pixels", 2048 * 2048)), str(header.get("show", "figure")))
    if not wants_json:
        capture.install()
    try:
        compiled = compile(code, "<generated>", "exec")
    except (SyntaxError, ValueError) as e:
        return {"status": "parse_error", "message": f"{type(e).__name__}: {e}"[:500]}, b""
    scope = {"__name__": "__main__", "__builtins__": __builtins__}
    error = None
    try:
        exec(compiled, scope)
    except SystemExit:
        pass
    except BaseException as e:  # noqa: BLE001  -- any exception of the generated code is a verdict
        error = e
    if os.getpid() != me:  # a process the code forked finished the code: it has no say
        os._exit(0)
    if error is not None:
        return _error_reply(error), b""
    if wants_json:
        return _json_reply(scope)
    return _image_reply(capture, scope, int(header["width"]), int(header["height"]), job_dir)


def _error_reply(e: BaseException) -> dict:
    if isinstance(e, MemoryError):
        return {"status": "resource_limit", "message": "python code ran out of memory"}
    if isinstance(e, ModuleNotFoundError) and e.name:
        return {"status": "missing_module", "message": f"missing_module: {e.name}", "module": e.name}
    where = traceback.extract_tb(e.__traceback__)[-1:]
    line = f" (line {where[0].lineno})" if where and where[0].filename == "<generated>" else ""
    status = "sandbox_violation" if isinstance(e, PermissionError) else "parse_error"
    return {"status": status, "message": f"{type(e).__name__}: {e}{line}"[:500]}


def _json_reply(scope: dict) -> tuple[dict, bytes]:
    """The JSON of the value the program left in its global RESULT_NAME (None when it left none)."""
    import json

    try:
        data = json.dumps(scope.get(RESULT_NAME), allow_nan=False).encode()
    except (TypeError, ValueError) as e:
        return {"status": "parse_error", "message": f"{RESULT_NAME} is not JSON: {e}"[:500]}, b""
    if len(data) > MAX_PLOTLY_JSON:
        return {"status": "resource_limit", "message": f"{RESULT_NAME} JSON too large"}, b""
    return {"status": "ok", "kind": "json"}, data


def _image_reply(capture, scope: dict, w: int, h: int, job_dir: str) -> tuple[dict, object]:
    """The captured picture as a reply: raw RGB at w x h (matplotlib figures stretched from their own size, like a
    saved file resized to the reference; PIL images fitted on white), or plotly JSON with its own size."""
    found = capture.output(scope, job_dir)
    if found is None:
        return {"status": "empty", "message": "the code produced no figure or image"}, b""
    notes = dict(capture.notes)
    if found[0] == "plotly":
        data = found[1].encode()
        if len(data) > MAX_PLOTLY_JSON:
            return {"status": "resource_limit", "message": "plotly figure JSON too large"}, b""
        return {"status": "ok", "kind": "plotly", "natural": found[2], **notes}, data
    import numpy as np

    from vinci_rl.render.raster import fit_on_white, resize_exact

    rgb = found[1]
    natural = [int(rgb.shape[1]), int(rgb.shape[0])]
    rgb = resize_exact(rgb, (w, h)) if found[0] == "figure" else fit_on_white(rgb, (w, h))
    return {"status": "ok", "kind": "rgb", "width": w, "height": h, "natural": natural, **notes}, np.ascontiguousarray(rgb)
