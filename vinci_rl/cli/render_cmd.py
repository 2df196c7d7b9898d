"""`vinci-rl render`: render one code file of a language to a PNG, through the same sandboxed renderers as training.

    vinci-rl render --lang svg --input logo.svg --out logo.png --width 512 --height 512
"""

from __future__ import annotations

import argparse
import os

from vinci_rl.cli import CliError

EPILOG = """exit status: 0 when the render is ok or blank (a blank render's near-white image IS written);
1 when the render failed (status and message printed, no image written); 2 for usage errors (bad file or value)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from vinci_rl.languages import NAMES

    parser.epilog = EPILOG
    parser.add_argument("--lang", required=True, help=f"language of the code, any case: {', '.join(NAMES)} (or tex, py, ...)")
    parser.add_argument("--input", required=True, help="file holding the code to render")
    parser.add_argument("--out", required=True, help="image file to write; its extension picks the format (.png, .jpg, ...)")
    parser.add_argument("--width", type=int, default=512, help="output width in pixels (default 512)")
    parser.add_argument("--height", type=int, default=512, help="output height in pixels (default 512)")
    parser.add_argument("--sandbox", choices=("auto", "bwrap", "none"), default="auto",
                        help="auto: bubblewrap when it works here, else rlimits only (default auto)")


def run(args: argparse.Namespace) -> int:
    from PIL import Image

    from vinci_rl.cli import cli_language
    from vinci_rl.render import RenderConfig, Renderer

    lang = cli_language(args.lang)
    code = _read_input(args.input)
    image_format = _check_out(args.out)
    config = RenderConfig(sandbox=args.sandbox)
    if args.width <= 0 or args.height <= 0 or args.width * args.height > config.max_pixels:
        raise CliError(f"--width/--height {args.width}x{args.height} must be positive, at most {config.max_pixels} pixels")
    with Renderer(config) as renderer:
        result = renderer.render(lang, code, (args.width, args.height))
    print(f"{result.status} {result.elapsed_s:.3f}s sandbox={result.extra.get('sandbox')} {result.message}".rstrip())
    if result.image is None:
        return 1
    try:
        Image.fromarray(result.image).save(args.out, format=image_format)
    except OSError as e:
        raise CliError(f"--out {args.out}: cannot write ({e})") from e
    return 0


def _read_input(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError as e:
        raise CliError(f"--input {path}: cannot read ({e.strerror or e})") from e


def _check_out(path: str) -> str:
    """The image format the --out file's extension names (PNG without one); CliError when it names none."""
    from PIL import Image

    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK) or os.path.isdir(path):
        raise CliError(f"--out {path}: cannot write there (directory {parent} missing or not writable)")
    ext = os.path.splitext(path)[1].lower()
    if not ext:
        return "PNG"
    image_format = Image.registered_extensions().get(ext)
    if image_format is None or image_format not in Image.SAVE:
        raise CliError(f"--out {path}: {ext} is not an image format this command writes; use .png, .jpg, .webp, .bmp")
    return image_format
