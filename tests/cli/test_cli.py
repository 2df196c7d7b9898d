"""The command line as a new user meets it: a top-level help that reads whole, --version, help text on every flag,
languages typed in any case or by another name (as `prepare --lang-col` reads them), and `--out` honouring its
extension."""

from __future__ import annotations

import argparse
import importlib

import pytest
from PIL import Image

import vinci_rl
from vinci_rl.cli import COMMANDS, CliError, cli_language, main

SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4" fill="red"/></svg>'


def test_top_level_help_reads_whole_and_lists_every_command(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "reinforcement learning for image-to-code vision-language models, rewarded by looking at the render." in out
    assert "Each subcommand lives in its own module" not in out  # the module docstring's first line, cut mid-sentence
    assert all(name in out for name in COMMANDS) and "--version" in out


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"vinci-rl {vinci_rl.__version__}"


def _actions(parser: argparse.ArgumentParser, where: str):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _actions(sub, f"{where} {name}")
        elif not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            yield where, action


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_flag_has_help_text(command):
    parser = argparse.ArgumentParser(prog=f"vinci-rl {command}")
    importlib.import_module(COMMANDS[command][0]).add_arguments(parser)
    missing = [f"{where}: {a.option_strings or a.dest}" for where, a in _actions(parser, command) if not a.help]
    assert not missing


@pytest.mark.parametrize("typed, key", [("SVG", "svg"), ("Python", "python"), ("tikz", "latex"), (" smi ", "smiles")])
def test_languages_are_read_like_a_prepare_language_column(typed, key):
    from vinci_rl.languages import normalize

    assert cli_language(typed) == key == normalize(typed)


def test_an_unknown_language_is_named():
    with pytest.raises(CliError, match="--lang: unknown language 'klingon'; known: svg, html, latex"):
        cli_language("klingon")


@pytest.fixture
def svg_file(tmp_path):
    path = tmp_path / "c.svg"
    path.write_text(SVG)
    return str(path)


@pytest.mark.parametrize("name, image_format", [("c.png", "PNG"), ("c.jpg", "JPEG"), ("c.JPEG", "JPEG"), ("c", "PNG")])
def test_render_writes_the_format_its_out_extension_names(tmp_path, svg_file, name, image_format):
    """`--out x.jpg` used to write PNG bytes into a .jpg file; `--lang SVG` used to be refused."""
    out = tmp_path / name
    assert main(["render", "--lang", "SVG", "--input", svg_file, "--out", str(out), "--width", "32", "--height", "32"]) == 0
    with Image.open(out) as im:
        assert im.format == image_format and im.size == (32, 32)


def test_render_refuses_an_extension_that_is_no_image_format(tmp_path, svg_file, capsys):
    out = tmp_path / "c.svgz"
    assert main(["render", "--lang", "svg", "--input", svg_file, "--out", str(out)]) == 2
    assert "--out" in capsys.readouterr().err and not out.exists()


def test_score_takes_the_language_in_any_case(tmp_path, svg_file, capsys):
    import json

    png = tmp_path / "ref.png"
    assert main(["render", "--lang", "svg", "--input", svg_file, "--out", str(png), "--width", "64", "--height", "64"]) == 0
    capsys.readouterr()
    assert main(["score", "--lang", "Svg", "--code", svg_file, "--reference", str(png), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "ok" and result["overall"] == pytest.approx(1.0, abs=1e-6)
