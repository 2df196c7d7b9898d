"""Renderers whose sandboxed process is a Python (SVG's cairosvg worker, the Python forkserver) must import the
same vinci_rl as the process that starts them. In a Ray job that is the uploaded working dir (a copy under the
node's temp dir, first on PYTHONPATH), which the installed package's .pth knows nothing of: before the sandbox
passed the package's directory on, every SVG and Python render of a cluster job ended `renderer_crash`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, vinci_rl
from vinci_rl.render import RenderConfig, Renderer
r = Renderer(RenderConfig.from_dict({}))
svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4"><rect width="2" height="2" fill="red"/></svg>'
py = "import vinci_rl, matplotlib.pyplot as plt\nplt.title(vinci_rl.__file__)\nplt.plot([0, 1])\nplt.show()"
out = {"package": vinci_rl.__file__, "svg": r.render("svg", svg, (32, 32)).status, "python": r.render("python", py, (32, 32)).status}
r.close()
print(json.dumps(out))
"""


def test_sandboxed_renderers_import_the_working_dir_copy(tmp_path):
    working_dir = tmp_path / "working_dir_files" / "_ray_pkg_0123"  # what a Ray node unpacks a job's working dir to
    shutil.copytree(REPO / "vinci_rl", working_dir / "vinci_rl", ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("VINCI_RL")}
    env["PYTHONPATH"] = str(working_dir)  # as Ray sets it for a job's workers
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=working_dir, env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["package"].startswith(str(working_dir)), result
    assert result["svg"] == "ok" and result["python"] == "ok", result
