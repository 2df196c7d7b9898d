"""The learnable miniature task: seeded, a held-out split fixed and never trained on, and scenes whose image
determines their program (no overlaps, reading order), rendered by the product's own SVG renderer."""

from __future__ import annotations

import random
import re

import pandas as pd
import pytest

from vinci_rl.data.shapes_task import (
    BACKGROUNDS,
    GRID,
    HELDOUT_SIZE,
    IMAGE_PX,
    build_shapes_set,
    heldout_programs,
    random_program,
    train_programs,
)

SHAPE = re.compile(r'<(rect|circle) (?:x="(\d)" y="(\d)" width="(\d)" height="(\d)"|cx="(\d)" cy="(\d)" r="(\d)") fill')


def _boxes(program: str) -> list[tuple[int, int, int, int]]:
    boxes = []
    for m in SHAPE.finditer(program):
        if m.group(1) == "rect":
            x, y, w, h = (int(v) for v in m.group(2, 3, 4, 5))
            boxes.append((x, y, x + w, y + h))
        else:
            cx, cy, r = (int(v) for v in m.group(6, 7, 8))
            boxes.append((cx - r, cy - r, cx + r, cy + r))
    return boxes


def test_the_same_seed_gives_the_same_scenes_and_heldout_is_fixed():
    assert heldout_programs() == heldout_programs()
    assert len(set(heldout_programs())) == HELDOUT_SIZE
    a, _ = train_programs(200, seed=3, exclude=set())
    b, _ = train_programs(200, seed=3, exclude=set())
    c, _ = train_programs(200, seed=4, exclude=set())
    assert a == b and a != c


def test_training_scenes_never_include_a_heldout_scene():
    heldout = set(heldout_programs())
    # a small exclusion set drawn from the same generator: some draws must be skipped, none may pass
    rng = random.Random(0)
    exclude = {random_program(rng) for _ in range(3000)}
    train, skipped = train_programs(2000, seed=0, exclude=exclude | heldout)
    assert skipped > 0
    assert not (set(train) & (exclude | heldout))
    assert len(set(train)) == len(train) == 2000


@pytest.mark.parametrize("seed", range(5))
def test_scenes_fit_the_grid_do_not_overlap_and_are_in_reading_order(seed):
    rng = random.Random(seed)
    for _ in range(200):
        program = random_program(rng)
        assert any(f'fill="{bg}"' in program for bg in BACKGROUNDS)
        boxes = _boxes(program)
        assert 1 <= len(boxes) <= 3
        for left, top, right, bottom in boxes:
            assert 0 <= left < right <= GRID and 0 <= top < bottom <= GRID
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), program
        assert [(b[1], b[0]) for b in boxes] == sorted((b[1], b[0]) for b in boxes)


def test_build_writes_train_and_heldout_rows_with_rendered_images(tmp_path):
    import io

    import numpy as np
    from PIL import Image

    summary = build_shapes_set(tmp_path, n_train=40, seed=1)
    assert summary["rows"] == {"train": 40, "heldout": HELDOUT_SIZE}
    train, heldout = pd.read_parquet(tmp_path / "train.parquet"), pd.read_parquet(tmp_path / "heldout.parquet")
    assert list(heldout.reward_model.map(lambda r: r["ground_truth"])) == heldout_programs()
    assert not set(train.reward_model.map(lambda r: r["ground_truth"])) & set(heldout_programs())
    for row in heldout.head(8).itertuples():
        image = np.asarray(Image.open(io.BytesIO(row.images[0]["bytes"])).convert("RGB"))
        assert image.shape == (IMAGE_PX, IMAGE_PX, 3)
        assert image.std() > 5, "a scene renders its shapes, not a flat canvas"
        assert row.messages[-1]["content"].startswith("```svg\n<svg")


def test_scene_scores_grade_correctness_independently_of_the_reward():
    from vinci_rl.data.shapes_task import scene_scores

    gt = heldout_programs()[3]  # three rectangles on a cream background
    assert scene_scores(gt, gt) == {
        "cell_accuracy": 1.0, "shape_f1": 1.0, "layout_f1": 1.0, "count_ok": 1.0, "background_ok": 1.0, "scene_exact": 1.0,
    }  # fmt: skip
    white = scene_scores(gt.replace("#fdf6e3", "#ffffff"), gt)
    assert white["background_ok"] == 0.0 and white["shape_f1"] == 1.0 and white["cell_accuracy"] < 0.8
    recoloured = scene_scores(gt.replace("#ff7f0e", "#1f77b4"), gt)
    assert recoloured["layout_f1"] == 1.0 and recoloured["shape_f1"] == pytest.approx(2 / 3)
    dropped = scene_scores("\n".join(line for line in gt.splitlines() if "#2ca02c" not in line), gt)
    assert dropped["count_ok"] == 0.0 and dropped["shape_f1"] == pytest.approx(0.8)
    assert scene_scores(None, gt)["cell_accuracy"] == 0.0
