"""Sandbox building blocks: bubblewrap detection and command lines, rlimits, privilege drop, a scrubbed environment.

With bubblewrap ("bwrap" mode) a sandboxed process sees a private filesystem: read-only system trees (/usr, /lib*, a
few /etc entries, the Python prefix and this package), a private tmpfs /tmp with a size cap, no network (its own
empty network namespace) and its own PID namespace; it dies with its parent. Without bubblewrap ("rlimits-only")
only rlimits, the privilege drop (root -> nobody) and a scrubbed environment apply: files readable by "nobody" stay
readable and the network stays reachable.
"""

from __future__ import annotations

import functools
import os
import resource
import shutil
import subprocess
import sys

BWRAP = "bwrap"
RLIMITS_ONLY = "rlimits-only"

# System paths bound read-only into every sandbox when they exist.
SYSTEM_RO = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
ETC_RO = ("/etc/fonts", "/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives", "/var/cache/fontconfig")
# The renderers' fontconfig file (the system's + CJK preferences, see fonts.py): bound into every sandbox and named
# by FONTCONFIG_FILE in every renderer's environment.
FONTS_CONF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fonts.conf")


@functools.lru_cache(maxsize=1)
def bwrap_works() -> bool:
    """True when bubblewrap exists and can create a network namespace here (checked once per process)."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False
    try:
        r = subprocess.run([exe, "--ro-bind", "/", "/", "--unshare-net", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


def resolve_mode(requested: str) -> str:
    """Map the config's "auto" | "bwrap" | "none" to the mode in force: "bwrap" or "rlimits-only"."""
    if requested == "none":
        return RLIMITS_ONLY
    if bwrap_works():
        return BWRAP
    if requested == "bwrap":
        raise RuntimeError("render.sandbox='bwrap' but bubblewrap does not work on this machine")
    return RLIMITS_ONLY


def python_ro_paths() -> list[str]:
    """What a sandboxed Python needs to import our stack: the interpreter prefixes and this package's directory
    (for an editable install only the package itself, not the repository around it)."""
    import vinci_rl

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(vinci_rl.__file__)}
    return sorted(p for p in paths if os.path.exists(p) and not p.startswith(SYSTEM_RO))


# What the Python forkserver keeps (as root inside the sandbox) to set up jobs: become nobody, chown and clean the
# job dir, kill leftover job processes. Jobs lose all of it when they drop to nobody.
FORKSERVER_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER")


def bwrap_argv(
    ro: list[str] = (),
    rw: list[tuple[str, str]] = (),
    tmp_mb: int = 256,
    keep_caps: tuple[str, ...] = (),
) -> list[str]:
    """A bubblewrap prefix: system trees read-only, extra `ro` paths at the same place, `rw` (host, inside) binds,
    a private /tmp of tmp_mb MiB, fresh /proc and /dev, no network, own PID namespace, dies with its parent.
    When run as root every capability is dropped except `keep_caps` (root with CAP_SYS_ADMIN could undo the jail)."""
    argv = [shutil.which("bwrap") or "bwrap", "--die-with-parent", "--unshare-net", "--unshare-pid", "--unshare-ipc",
            "--unshare-uts"]
    if os.getuid() == 0:
        argv += ["--cap-drop", "ALL"] + [x for cap in keep_caps for x in ("--cap-add", cap)]
    # The private /tmp first: binds below may live under /tmp (a venv or checkout there) and must sit on top of it.
    argv += ["--proc", "/proc", "--dev", "/dev", "--size", str(tmp_mb << 20), "--tmpfs", "/tmp"]
    binds = [p for p in (*SYSTEM_RO, *ETC_RO, FONTS_CONF, *ro) if os.path.lexists(p)]
    for d in _parents(binds):  # bwrap would create them 0700: unreadable once a job drops to nobody
        argv += ["--perms", "0755", "--dir", d]
    for p in binds:
        argv += ["--symlink", os.readlink(p), p] if os.path.islink(p) else ["--ro-bind", p, p]
    argv += ["--tmpfs", "/dev/shm", "--chdir", "/tmp"]
    for host, inside in rw:
        argv += ["--bind", host, inside]
    return argv + ["--"]


def _parents(paths: list[str]) -> list[str]:
    """Every proper ancestor directory of the given absolute paths, shortest first (/ excluded)."""
    out = set()
    for p in paths:
        parent = os.path.dirname(p.rstrip("/"))
        while parent not in ("/", ""):
            out.add(parent)
            parent = os.path.dirname(parent)
    return sorted(out, key=lambda d: (d.count("/"), d))


def scrubbed_env(home: str = "/tmp", extra: dict | None = None) -> dict:
    """A minimal environment: no tokens, proxies or credentials leak from the parent."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
           "FONTCONFIG_FILE": FONTS_CONF}
    env.update(extra or {})
    return env


def python_worker_env(extra: dict | None = None) -> dict:
    """scrubbed_env for a sandboxed Python worker of ours, with PYTHONPATH naming the directory our `vinci_rl` was
    imported from (python_ro_paths binds the package alone there), so the worker imports that same copy: in a Ray
    job it is the uploaded working dir, which neither an install nor its .pth files know."""
    import vinci_rl

    root = os.path.dirname(os.path.dirname(os.path.abspath(vinci_rl.__file__)))
    return scrubbed_env(extra={"PYTHONPATH": root, **(extra or {})})


def set_rlimits(memory_mb: int | None = None, cpu_s: int | None = None, fsize_mb: int | None = None,
                nofile: int | None = None, nproc: int | None = None) -> None:
    """Apply hard+soft limits to the calling process (use in a child after fork / in preexec_fn)."""
    limits = [
        (resource.RLIMIT_AS, memory_mb and memory_mb << 20),
        (resource.RLIMIT_CPU, cpu_s),
        (resource.RLIMIT_FSIZE, fsize_mb and fsize_mb << 20),
        (resource.RLIMIT_NOFILE, nofile),
        (resource.RLIMIT_NPROC, nproc),
        (resource.RLIMIT_CORE, 0),
    ]
    for which, value in limits:
        if value is not None:
            resource.setrlimit(which, (value, value))


def drop_privileges(uid: int = 65534, gid: int = 65534) -> None:
    """When running as root, become uid/gid (nobody). RLIMIT_NPROC only binds non-root users."""
    if os.getuid() != 0:
        return
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
