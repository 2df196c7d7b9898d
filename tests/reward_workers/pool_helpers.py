"""Shared constants and helpers of the reward pool tests."""

from __future__ import annotations

import numpy as np

REWARD_CPU = 4  # the test cluster's amount of the custom resource

# Every stage runs: render, pixel terms, the DINOv2 encoder (random tiny config), format. Python renders get a
# long budget of their own so that the pool's timeout (shorter) is what ends a hung render in the timeout test.
TINY_REWARD = {
    "weights": {"pixel_l2": 1.0, "dino_coarse": 0.5, "dino_fine": 0.5, "format": 0.1},
    "dino": {
        "config": {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64,
                   "patch_size": 14, "image_size": 56},
        "tile_size": 56, "max_tiles": 4, "dtype": "float32",
    },
    "size": [96, 96],
    "render": {"timeout_s": {"python": 60.0}},
}  # fmt: skip

COLORS = ["red", "blue", "green", "black", "orange", "purple", "gray", "navy", "teal", "olive", "maroon", "lime"]


def svg(color: str, x: int = 2) -> str:
    return f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect x="{x}" y="2" width="5" height="5" fill="{color}"/></svg>'


def fenced(lang: str, code: str) -> str:
    return f"Here it is:\n```{lang}\n{code}\n```"


def reference(color: str = "red") -> np.ndarray:
    """The reference image of svg(color): drawn directly (no renderer needed) at the scoring size."""
    img = np.full((96, 96, 3), 255, np.uint8)
    rgb = {"red": (255, 0, 0), "blue": (0, 0, 255), "green": (0, 128, 0), "black": (0, 0, 0)}[color]
    img[19:67, 19:67] = rgb
    return img


def python_chart(i: int, sleep_s: float = 0.0) -> str:
    """A bar chart; sleep_s makes its render last at least that long (fault drills need a batch in flight)."""
    pause = f"import time\ntime.sleep({sleep_s})\n" if sleep_s else ""
    return f"{pause}import matplotlib.pyplot as plt\nplt.bar(['a', 'b'], [{i + 1}, 3])\nplt.show()"


HANG_PYTHON = "while True:\n    pass\n"

# Fault drills restart workers several times: without the encoder a worker starts in ~2 s instead of ~8 s.
FAST_REWARD = {**TINY_REWARD, "weights": {"pixel_l2": 1.0, "format": 0.1}}
