"""A learnable image -> SVG task in miniature: scenes of 1-3 coloured primitives on an 8 x 8 grid.

    vinci-rl make-sample-data runs/shapes --task shapes --tokenizer runs/learner-model

Small enough for a tiny VLM to learn on 2 CPU cores in minutes, with visual precision left to gain (the right
colour in the wrong cell, a rectangle one unit too wide...). Every scene is drawn on a background colour, so
"draw nothing" is a real, tempting output that the reward has to price correctly.

The held-out split is fixed by HELDOUT_SEED and never trained on: training scenes come from their own seed
and any training program equal to a held-out one is skipped (counted in `skipped_heldout`).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

GRID = 8  # viewBox units per side
CELL_PX = 16  # pixels per unit: 128 px images, one grid unit per patch of the tiny models' vision tower
IMAGE_PX = GRID * CELL_PX
HELDOUT_SEED = 9_000_001
HELDOUT_SIZE = 256  # a paired 95% interval over 256 prompts is half as wide as over 64
COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#17becf")
BACKGROUNDS = ("#ffffff", "#fdf6e3", "#e8eef7")
SHAPES = ("rect", "circle")


@dataclass(frozen=True)
class Shape:
    kind: str  # rect | circle
    x: int  # rect: left; circle: centre
    y: int
    w: int  # rect: width; circle: radius
    h: int  # rect: height; circle: radius
    colour: str

    def box(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) in grid units."""
        if self.kind == "circle":
            return self.x - self.w, self.y - self.w, self.x + self.w, self.y + self.w
        return self.x, self.y, self.x + self.w, self.y + self.h

    def overlaps(self, other: "Shape") -> bool:
        a, b = self.box(), other.box()
        return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]

    def svg(self) -> str:
        if self.kind == "circle":
            return f'<circle cx="{self.x}" cy="{self.y}" r="{self.w}" fill="{self.colour}"/>'
        return f'<rect x="{self.x}" y="{self.y}" width="{self.w}" height="{self.h}" fill="{self.colour}"/>'


def random_shape(rng: random.Random) -> Shape:
    colour = rng.choice(COLOURS)
    if rng.choice(SHAPES) == "circle":
        r = rng.randint(1, 2)
        return Shape("circle", rng.randint(r, GRID - r), rng.randint(r, GRID - r), r, r, colour)
    w, h = rng.randint(1, 4), rng.randint(1, 4)
    return Shape("rect", rng.randint(0, GRID - w), rng.randint(0, GRID - h), w, h, colour)


def scene_program(background: str, shapes: list[Shape]) -> str:
    lines = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {GRID} {GRID}">']
    lines.append(f'<rect width="{GRID}" height="{GRID}" fill="{background}"/>')
    lines += [s.svg() for s in shapes]
    lines.append("</svg>")
    return "\n".join(lines)


def random_program(rng: random.Random) -> str:
    """1-3 shapes that do not overlap, listed in reading order (top to bottom, then left to right), so that the
    image determines the program: nothing hidden, no arbitrary order to guess."""
    shapes: list[Shape] = []
    for _ in range(rng.randint(1, 3)):
        for _attempt in range(20):
            shape = random_shape(rng)
            if not any(shape.overlaps(s) for s in shapes):
                shapes.append(shape)
                break
    shapes.sort(key=lambda s: (s.box()[1], s.box()[0]))
    return scene_program(rng.choice(BACKGROUNDS), shapes)


def heldout_programs(n: int = HELDOUT_SIZE) -> list[str]:
    """The held-out scenes: the same everywhere, whatever the training seed."""
    rng = random.Random(HELDOUT_SEED)
    seen: list[str] = []
    while len(seen) < n:
        code = random_program(rng)
        if code not in seen:
            seen.append(code)
    return seen


def train_programs(n: int, seed: int, exclude: set[str]) -> tuple[list[str], int]:
    """n distinct training scenes from `seed`, none in `exclude`; returns (programs, skipped held-out draws)."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out, skipped = [], 0
    while len(out) < n:
        code = random_program(rng)
        if code in exclude:
            skipped += 1
            continue
        if code not in seen:
            seen.add(code)
            out.append(code)
    return out, skipped


def tokenizer_corpus(n: int = 2000, seed: int = 12345) -> list[str]:
    """Texts a tiny model's tokenizer is trained on for this task: fenced scenes and the task's prompt."""
    from vinci_rl.data.rows import answer_text, prompt_text

    rng = random.Random(seed)
    return [answer_text("svg", random_program(rng)) for _ in range(n)] + [prompt_text("svg")] * 50


def build_shapes_set(out_dir, n_train: int = 4000, seed: int = 0, tokenizer_path: str | None = None) -> dict:
    """train.parquet (n_train scenes of `seed`) and heldout.parquet (the fixed held-out scenes), rendered by the
    product's SVG renderer at IMAGE_PX; returns a summary (rows per split, skipped held-out draws)."""
    from pathlib import Path

    from vinci_rl.data.prepare import count_tokens
    from vinci_rl.data.rows import make_row, write_rows
    from vinci_rl.render import Renderer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = None
    if tokenizer_path:
        from vinci_rl.models.locate import load_tokenizer

        tokenizer = load_tokenizer(tokenizer_path, "--tokenizer")
    heldout = heldout_programs()
    train, skipped = train_programs(n_train, seed, set(heldout))
    summary = {"task": "shapes", "seed": seed, "heldout_seed": HELDOUT_SEED, "skipped_heldout": skipped, "rows": {}}
    with Renderer() as renderer:
        for split, programs in (("train", train), ("heldout", heldout)):
            rows = []
            for i, code in enumerate(programs):
                res = renderer.render("svg", code, size=(IMAGE_PX, IMAGE_PX))
                if not res.ok:  # generated scenes always render; a failure is a renderer fault
                    raise RuntimeError(f"shapes {split} scene {i} did not render ({res.status}): {res.message}")
                gt_tokens = count_tokens(tokenizer, code) if tokenizer is not None else None
                rows.append(make_row(f"shapes-{split}-{i:05d}", i, "svg", code, res.image, gt_tokens))
            write_rows(out / f"{split}.parquet", rows)
            summary["rows"][split] = len(rows)
    return summary


_SHAPE_RE = re.compile(
    r'<rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)" fill="(#[0-9a-f]{6})"/>'
    r'|<circle cx="(\d+)" cy="(\d+)" r="(\d+)" fill="(#[0-9a-f]{6})"/>'
)
_BACKGROUND_RE = re.compile(rf'<rect width="{GRID}" height="{GRID}" fill="(#[0-9a-f]{{6}})"/>')


def parse_scene(code: str) -> tuple[str | None, list[Shape]]:
    """(background colour or None, the shapes) read back from a program in this task's form; anything else in
    the code is ignored (it is what the renderer and the reward judge)."""
    bg = _BACKGROUND_RE.search(code or "")
    shapes = []
    for m in _SHAPE_RE.finditer(code or ""):
        if m.group(1) is not None:
            x, y, w, h = (int(v) for v in m.group(1, 2, 3, 4))
            shapes.append(Shape("rect", x, y, w, h, m.group(5)))
        else:
            cx, cy, r = (int(v) for v in m.group(6, 7, 8))
            shapes.append(Shape("circle", cx, cy, r, r, m.group(9)))
    return (bg.group(1) if bg else None), shapes


def cell_colours(background: str | None, shapes: list[Shape]) -> list[str | None]:
    """The colour at the centre of each of the GRID x GRID cells (later shapes on top), row by row."""
    cells = []
    for row in range(GRID):
        for col in range(GRID):
            px, py, colour = col + 0.5, row + 0.5, background
            for s in shapes:
                if s.kind == "circle":
                    inside = (px - s.x) ** 2 + (py - s.y) ** 2 <= s.w**2
                else:
                    inside = s.x <= px < s.x + s.w and s.y <= py < s.y + s.h
                colour = s.colour if inside else colour
            cells.append(colour)
    return cells


def scene_scores(pred_code: str | None, gt_code: str) -> dict[str, float]:
    """How correct a predicted scene is, independent of the reward: the share of grid cells with the right colour,
    F1 of exactly matching shapes (kind, place, size and colour), the same F1 ignoring colour, the right number of
    shapes, the right background, everything exact."""
    gt_bg, gt = parse_scene(gt_code)
    bg, pred = parse_scene(pred_code or "")

    def f1(key) -> float:
        want = [key(s) for s in gt]
        got = [key(s) for s in pred]
        hits = sum(min(want.count(k), got.count(k)) for k in set(want))
        return 2 * hits / (len(want) + len(got)) if want or got else 1.0

    exact = f1(lambda s: s)
    want, got = cell_colours(gt_bg, gt), cell_colours(bg, pred)
    return {
        "cell_accuracy": sum(a == b for a, b in zip(want, got)) / len(want),
        "shape_f1": exact,
        "layout_f1": f1(lambda s: (s.kind, s.box())),
        "count_ok": float(len(pred) == len(gt)),
        "background_ok": float(bg == gt_bg),
        "scene_exact": float(exact == 1.0 and bg == gt_bg),
    }


def build_refine_rows(data_dir, n: int, seed: int = 0) -> dict:
    """DATA/refine.parquet: n render-and-refine SFT rows (vinci_rl/data/refine_examples.py) from DATA/train.parquet,
    with the task's own prompt; returns the build's counts (built, per perturbation kind, rejected candidates)."""
    from pathlib import Path

    import pyarrow.parquet as pq

    from vinci_rl.data.refine_examples import refine_rows
    from vinci_rl.data.rows import PROMPT_TEMPLATE, write_rows
    from vinci_rl.render import Renderer

    data = Path(data_dir)
    rows = pq.read_table(data / "train.parquet").to_pylist()
    with Renderer() as renderer:
        examples, stats = refine_rows(rows, n, seed, renderer, lambda _language: PROMPT_TEMPLATE)
    write_rows(data / "refine.parquet", examples)
    return stats.to_dict()
