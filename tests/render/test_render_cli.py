"""`vinci-rl render` through a real subprocess: success writes a PNG at the size asked, user errors name the bad
file/value and exit 2, a failed render prints its status and exits 1 without a PNG."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from render_helpers import RED_SAMPLES, red_fraction

VINCI = [sys.executable, "-m", "vinci_rl"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*VINCI, "render", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def svg_file(tmp_path):
    path = tmp_path / "in.svg"
    path.write_text(RED_SAMPLES["svg"])
    return str(path)


def test_render_writes_png_at_requested_size(svg_file, tmp_path):
    out = tmp_path / "out.png"
    r = run_cli("--lang", "svg", "--input", svg_file, "--out", str(out), "--width", "300", "--height", "200")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ok ")
    img = np.asarray(Image.open(out))
    assert img.shape == (200, 300, 3) and red_fraction(img) > 0.1


def test_failed_render_exits_1_without_png(tmp_path):
    src, out = tmp_path / "bad.svg", tmp_path / "out.png"
    src.write_text("<svg><rect")
    r = run_cli("--lang", "svg", "--input", str(src), "--out", str(out))
    assert r.returncode == 1
    assert r.stdout.startswith("parse_error")
    assert not out.exists()


def test_blank_render_writes_the_blank_png_and_exits_0(tmp_path):
    src, out = tmp_path / "white.svg", tmp_path / "out.png"
    src.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1" fill="#fff"/></svg>')
    r = run_cli("--lang", "svg", "--input", str(src), "--out", str(out), "--width", "64", "--height", "32")
    assert r.returncode == 0 and r.stdout.startswith("blank")
    assert np.asarray(Image.open(out)).shape == (32, 64, 3)


@pytest.mark.parametrize("args,needle", [
    (["--lang", "cobol"], "svg, html, latex, python, smiles"),
    (["--input", "/nonexistent/in.svg"], "/nonexistent/in.svg"),
    (["--out", "/nonexistent-dir/out.png"], "/nonexistent-dir/out.png"),
    (["--width", "0"], "--width/--height 0x512"),
])
def test_user_errors_name_the_bad_value(svg_file, tmp_path, args, needle):
    base = {"--lang": "svg", "--input": svg_file, "--out": str(tmp_path / "o.png")}
    base.update(dict(zip(args[::2], args[1::2])))
    r = run_cli(*[x for kv in base.items() for x in kv])
    assert r.returncode == 2
    assert needle in r.stderr
    assert not os.path.exists(tmp_path / "o.png")


def test_help_documents_exit_status():
    r = run_cli("--help")
    assert r.returncode == 0 and "blank render" in r.stdout
