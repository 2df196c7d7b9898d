"""Optional learned perceptual terms (RLRF): LPIPS and DreamSim, with their weights given by path.

Neither package nor weights ship on PyPI in a form usable here (both download backbones from a hub or
torchvision), so these load only when the package is installed and the weights are on disk; otherwise
they raise a clear error naming the missing package or path. Rewards follow RLRF:
LPIPS (AlexNet, 256^2): clip(1 - 2 d, -1, 1); DreamSim: clip(1 - 2 d, -1, 1).
"""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from vinci_rl.reward.config import DreamSimConfig, LpipsConfig
from vinci_rl.reward.image import align, resize


def _require(package: str, what: str) -> None:
    if importlib.util.find_spec(package) is None:
        raise RuntimeError(f"term {what} needs the '{package}' package: pip install {package}")


def _require_path(path: str | None, key: str) -> Path:
    if not path:
        raise RuntimeError(f"{key} is not set: give the path to the weights")
    p = Path(path)
    if not p.exists():
        raise RuntimeError(f"{key}={path!r} does not exist")
    return p


def _device(name: str) -> str:
    import torch

    return ("cuda" if torch.cuda.is_available() else "cpu") if name == "auto" else name


def _to_tensor(image: np.ndarray, size: int | None) -> Any:
    import torch

    if size:
        image = resize(image, (size, size), "bicubic")
    x = torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1).float().div(255.0)  # a writable copy
    return x.unsqueeze(0)


def load_lpips(path: str | Path, net: str = "alex", device: str = "cpu") -> Any:
    """lpips.LPIPS(net) in eval mode with its whole state_dict (backbone and linear layers) read from `path`: no
    download (the reward term, `eval --lpips` and UniSVG's LPIPS all load it here)."""
    import lpips
    import torch

    model = lpips.LPIPS(net=net, pretrained=False, pnet_rand=True, verbose=False)
    model.load_state_dict(torch.load(path, map_location="cpu"))
    return model.to(device).eval()


class LpipsTerm:
    """clip(1 - 2 * LPIPS(pred, ref), -1, 1). Weights: a state_dict of lpips.LPIPS(net=cfg.net) at cfg.path."""

    def __init__(self, config: LpipsConfig):
        self.config = config
        self._model = None

    def __getstate__(self) -> dict[str, Any]:
        return {"config": dataclasses.asdict(self.config)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(LpipsConfig(**state["config"]))

    def _load(self) -> Any:
        if self._model is None:
            path = _require_path(self.config.path, "reward.lpips.path")
            _require("lpips", "lpips")
            self._model = load_lpips(path, self.config.net, _device(self.config.device))
        return self._model

    def __call__(self, pred: np.ndarray, ref: np.ndarray) -> float:
        import torch

        model = self._load()
        dev = next(model.parameters()).device
        a = _to_tensor(align(pred, ref), self.config.size).to(dev) * 2 - 1
        b = _to_tensor(ref, self.config.size).to(dev) * 2 - 1
        with torch.inference_mode():
            d = float(model(a, b).flatten()[0])
        return float(np.clip(1.0 - 2.0 * d, -1.0, 1.0))


class DreamSimTerm:
    """clip(1 - 2 * DreamSim(pred, ref), -1, 1). Weights: dreamsim's cache directory at cfg.path."""

    def __init__(self, config: DreamSimConfig):
        self.config = config
        self._model = None
        self._preprocess = None

    def __getstate__(self) -> dict[str, Any]:
        return {"config": dataclasses.asdict(self.config)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(DreamSimConfig(**state["config"]))

    def _load(self) -> Any:
        if self._model is None:
            path = _require_path(self.config.path, "reward.dreamsim.path")
            _require("dreamsim", "dreamsim")
            from dreamsim import dreamsim

            self._model, self._preprocess = dreamsim(
                pretrained=True, cache_dir=str(path), dreamsim_type=self.config.type, device=_device(self.config.device)
            )
        return self._model

    def __call__(self, pred: np.ndarray, ref: np.ndarray) -> float:
        import torch
        from PIL import Image

        model = self._load()
        dev = next(model.parameters()).device
        a = self._preprocess(Image.fromarray(align(pred, ref))).to(dev)
        b = self._preprocess(Image.fromarray(ref)).to(dev)
        with torch.inference_mode():
            d = float(model(a, b).flatten()[0])
        return float(np.clip(1.0 - 2.0 * d, -1.0, 1.0))
