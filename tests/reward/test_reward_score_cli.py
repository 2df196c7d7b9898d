"""`vinci-rl score` through a subprocess: one JSON object on stdout, errors name the bad input, exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="64"><rect x="10" y="10" width="40" height="30" fill="#c81e1e"/><circle cx="70" cy="40" r="15" fill="#1e3cc8"/></svg>'
SVG_SMALL = SVG.replace('x="10"', 'x="13"')
REPO = Path(__file__).resolve().parents[2]


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vinci_rl", "score", *map(str, args)],
        capture_output=True, text=True, cwd=REPO, input=stdin, timeout=120,
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from PIL import Image

    from vinci_rl.render import render

    d = tmp_path_factory.mktemp("cli")
    res = render("svg", SVG, (96, 64))
    assert res.ok, res.message
    Image.fromarray(res.image).save(d / "ref.png")
    (d / "same.svg").write_text(SVG)
    (d / "small.svg").write_text(SVG_SMALL)
    (d / "broken.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'><rect")
    (d / "response.txt").write_text(f"Sure:\n```svg\n{SVG}\n```\n")
    (d / "not-image.png").write_bytes(b"nope")
    return d


def one_json(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stderr
    lines = [l for l in proc.stdout.splitlines() if l.strip()]
    assert len(lines) == 1, proc.stdout
    out = json.loads(lines[0])
    assert set(out) == {"overall", "terms", "status", "message", "timings"}
    return out


def test_identical_code_scores_one(files):
    out = one_json(cli("--lang", "svg", "--code", files / "same.svg", "--reference", files / "ref.png", "--json"))
    assert out["status"] == "ok" and out["overall"] == pytest.approx(1.0, abs=1e-6)
    # default preset: no DINO; length needs a ground truth
    assert set(out["terms"]) == {"pixel_l2", "canny_l2", "ssim_structure", "shape", "pixel_coarse", "colour", "format"}
    assert "length skipped" in out["message"]


def test_ground_truth_enables_length_and_ranks(files):
    same = one_json(cli("--lang", "svg", "--code", files / "same.svg", "--reference", files / "ref.png",
                        "--ground-truth", files / "same.svg", "--json"))
    small = one_json(cli("--lang", "svg", "--code", files / "small.svg", "--reference", files / "ref.png",
                         "--ground-truth", files / "same.svg", "--json"))
    assert same["terms"]["length"] == pytest.approx(0.75)
    assert same["overall"] > small["overall"]


def test_response_file_and_stdin(files):
    a = one_json(cli("--lang", "svg", "--code", files / "response.txt", "--reference", files / "ref.png", "--json"))
    b = one_json(cli("--lang", "svg", "--code", "-", "--reference", files / "ref.png", "--json", stdin=SVG))
    assert a["overall"] == pytest.approx(1.0, abs=1e-6) and b["overall"] == pytest.approx(1.0, abs=1e-6)


def test_as_response_without_fence_is_no_code(files):
    out = one_json(cli("--lang", "svg", "--code", files / "same.svg", "--reference", files / "ref.png", "--as-response", "--json"))
    assert out["status"] == "no_code" and out["overall"] == -1.0


def test_render_failure_is_a_value(files):
    out = one_json(cli("--lang", "svg", "--code", files / "broken.svg", "--reference", files / "ref.png", "--json"))
    assert out["status"] == "parse_error" and out["overall"] == -1.0
    assert out["terms"]["pixel_l2"] == -1.0


def test_presets_and_recipe_config(files, tmp_path):
    rlrf = one_json(cli("--lang", "svg", "--code", files / "small.svg", "--reference", files / "ref.png", "--preset", "rlrf", "--json"))
    assert set(rlrf["terms"]) == {"pixel_l2", "canny_l2"}  # length skipped: no ground truth
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({"vinci": {"reward": {"weights": {"ssim": 1.0}}}, "trainer": {"x": 1}}))
    out = one_json(cli("--lang", "svg", "--code", files / "small.svg", "--reference", files / "ref.png", "--config", recipe, "--json"))
    assert set(out["terms"]) == {"ssim"} and out["overall"] == pytest.approx(out["terms"]["ssim"])


def test_table_output(files):
    proc = cli("--lang", "svg", "--code", files / "small.svg", "--reference", files / "ref.png")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("overall") and "pixel_l2" in proc.stdout and "status   ok" in proc.stdout


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["--lang", "svg", "--code", "{d}/absent.svg", "--reference", "{d}/ref.png"], "absent.svg"),
        (["--lang", "svg", "--code", "{d}/same.svg", "--reference", "{d}/absent.png"], "absent.png"),
        (["--lang", "svg", "--code", "{d}/same.svg", "--reference", "{d}/not-image.png"], "not-image.png"),
        (["--lang", "klingon", "--code", "{d}/same.svg", "--reference", "{d}/ref.png"], "klingon"),
        (["--lang", "svg", "--code", "{d}/same.svg", "--reference", "{d}/ref.png", "--preset", "nope"], "nope"),
        (["--lang", "svg", "--code", "{d}/same.svg", "--reference", "{d}/ref.png", "--config", "{d}/bad.yaml"], "reward.wieghts"),
        (["--lang", "svg", "--code", "{d}/same.svg", "--reference", "{d}/ref.png", "--config", "{d}/absent.yaml"], "absent.yaml"),
    ],
)
def test_errors_name_the_bad_input(files, args, fragment):
    (files / "bad.yaml").write_text("wieghts: {pixel_l2: 1.0}\n")
    proc = cli(*[a.format(d=files) for a in args], "--json")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert fragment in proc.stderr and proc.stdout == ""
    if "bad.yaml" in " ".join(args):
        assert "bad.yaml" in proc.stderr


def test_dino_terms_from_a_config_dict(files, tmp_path):
    pytest.importorskip("transformers")
    cfg = tmp_path / "dino.yaml"
    tiny = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64}
    cfg.write_text(yaml.safe_dump({"preset": "coarse_fine", "dino": {"model": None, "config": tiny, "tile_size": 28, "max_tiles": 4, "dtype": "float32"}}))
    out = one_json(cli("--lang", "svg", "--code", files / "same.svg", "--reference", files / "ref.png", "--config", cfg, "--json"))
    assert out["terms"]["dino_coarse"] == pytest.approx(1.0, abs=1e-5) and out["overall"] == pytest.approx(1.0, abs=1e-5)
