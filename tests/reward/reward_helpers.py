"""Shared helpers for the reward tests: synthetic images and a fake renderer (no real renderer needed)."""

from __future__ import annotations

import cv2
import numpy as np

from vinci_rl.render.result import OK, RenderResult


def canvas(w: int = 128, h: int = 96) -> np.ndarray:
    return np.full((h, w, 3), 255, np.uint8)


def shapes(w: int = 128, h: int = 96, dx: int = 0, color=(200, 30, 30)) -> np.ndarray:
    """A red rectangle and a blue circle on white; dx shifts the rectangle, color recolours it."""
    img = canvas(w, h)
    cv2.rectangle(img, (20 + dx, 20), (60 + dx, 60), color, -1)
    cv2.circle(img, (95, 55), 18, (30, 60, 200), -1)
    return img


def other_shapes(w: int = 128, h: int = 96) -> np.ndarray:
    """A very different drawing: a green triangle and a black bar elsewhere."""
    img = canvas(w, h)
    pts = np.array([[70, 10], [120, 80], [30, 85]], np.int32)
    cv2.fillPoly(img, [pts], (20, 160, 40))
    cv2.rectangle(img, (5, 5), (25, 90), (0, 0, 0), -1)
    return img


def noise(w: int = 128, h: int = 96, seed: int = 0) -> np.ndarray:
    return np.random.RandomState(seed).randint(0, 256, (h, w, 3), dtype=np.uint8)


class FakeRenderer:
    """render(lang, code, size) -> the RenderResult registered for that code, resized to size.

    outcomes: code -> an RGB image (status ok) or a RenderResult (any status) or an Exception to raise.
    """

    def __init__(self, outcomes: dict):
        self.outcomes = outcomes
        self.calls: list[tuple[str, str, tuple[int, int]]] = []
        self.closed = False

    def render(self, lang: str, code: str, size: tuple[int, int]) -> RenderResult:
        self.calls.append((lang, code, tuple(size)))
        out = self.outcomes[code]
        if isinstance(out, Exception):
            raise out
        if isinstance(out, RenderResult):
            return out
        img = cv2.resize(out, tuple(size), interpolation=cv2.INTER_CUBIC) if out.shape[:2] != (size[1], size[0]) else out
        return RenderResult(OK, img)

    def close(self) -> None:
        self.closed = True


def fenced(lang: str, code: str) -> str:
    return f"Here is the code:\n```{lang}\n{code}\n```\n"


class CachingRenderer:
    """A real vinci_rl.render.Renderer whose results are memoised by (language, code, size): the ladder tests
    score the same programs under several presets. render_config: RenderConfig keys (svg_dpi, ...)."""

    def __init__(self, render_config: dict | None = None):
        from vinci_rl.render import Renderer

        self.inner = Renderer(dict(render_config or {}))
        self.cache: dict = {}

    def render(self, lang: str, code: str, size=None):
        key = (lang, code, tuple(size) if size else None)
        if key not in self.cache:
            self.cache[key] = self.inner.render(lang, code, size)
        return self.cache[key]

    def close(self) -> None:
        self.inner.close()


TINY_DINO = {"model": None, "tile_size": 56, "max_tiles": 4, "dtype": "float32", "device": "cpu",
             "config": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
                        "patch_size": 14, "image_size": 56}}  # fmt: skip


def preset_config(name: str):
    """A bundled preset; DINO presets get a tiny random DINOv2 (no weights here)."""
    from vinci_rl.reward import RewardConfig

    cfg = RewardConfig.from_preset(name)
    if {"dino_coarse", "dino_fine", "dino_crops"} & set(cfg.weights):
        cfg = RewardConfig.from_dict({"preset": name, "dino": TINY_DINO})
    return cfg
