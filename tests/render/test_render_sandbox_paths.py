"""The sandbox must work wherever the checkout and its venv live, including under /tmp (CI clones can), which
the sandbox replaces with a private tmpfs: paths bound into the jail must sit on top of that tmpfs."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from vinci_rl.render.sandbox import bwrap_argv, bwrap_works


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
def test_read_only_paths_under_tmp_stay_visible_and_their_neighbours_do_not():
    assert bwrap_works()
    with tempfile.TemporaryDirectory(dir="/tmp") as root:
        pkg, secret = Path(root, "checkout", "pkg"), Path(root, "checkout", "reference.png")
        pkg.mkdir(parents=True)
        (pkg / "module.py").write_text("visible")
        secret.write_text("secret")
        argv = bwrap_argv(ro=[str(pkg)])
        seen = subprocess.run([*argv, "cat", str(pkg / "module.py")], capture_output=True, text=True, timeout=30)
        assert seen.returncode == 0 and seen.stdout == "visible", seen.stderr
        hidden = subprocess.run([*argv, "cat", str(secret)], capture_output=True, text=True, timeout=30)
        assert hidden.returncode != 0 and "secret" not in hidden.stdout
