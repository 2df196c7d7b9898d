"""DINOv2 image encoder for the coarse/fine DINO terms.

Weights come from `DinoConfig.model` (a local directory or a hub id, via `Dinov2Model.from_pretrained`) or
from `DinoConfig.config` (a `Dinov2Config` as a dict: random weights, seeded so every process builds the
same model; used by tests and smoke runs). Preprocessing is ours and never reads an image processor: the
crops are already tile x tile (see terms/dino.py), we only rescale to [0, 1] and normalise with the
ImageNet mean/std. DINOv2's own processor would resize to 256 and centre-crop 224, which would undo the
tiling, so a processor shipped with the weights is deliberately ignored.

The encoder is lazy (the model loads on first use) and pickles as its config only: a Ray actor or a
forked worker rebuilds the model on its own side. Reference-side view features are kept in an LRU cache
keyed by sha1 of the pixels plus the tiling spec.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from typing import Any, Mapping, Sequence

import numpy as np

from vinci_rl.reward.config import DinoConfig
from vinci_rl.reward.image import image_key, resize
from vinci_rl.reward.terms.dino import dino_views


class DinoEncoder:
    """`encode(images) -> [N, D]` float32 features; `view_features(images, cache)` -> per image [1 + tiles, D]."""

    def __init__(self, config: DinoConfig | Mapping[str, Any] | None = None, model: Any = None):
        if config is None:
            config = DinoConfig()
        elif isinstance(config, Mapping):
            from vinci_rl.typed_config import build

            config = build(DinoConfig, config, "<dino config>", "reward.dino")
        if model is None and not (config.model or config.config):
            raise ValueError("DinoEncoder needs reward.dino.model (a path or hub id) or reward.dino.config")
        self.config: DinoConfig = config
        self._model = model
        self._torch_dtype = None
        self._device = None
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.forward_calls = 0  # model forward passes (batches)
        self.crops_encoded = 0  # crops through the model
        self.cache_hits = 0

    @classmethod
    def from_config(cls, config: DinoConfig | Mapping[str, Any]) -> "DinoEncoder":
        return cls(config)

    def __getstate__(self) -> dict[str, Any]:
        return {"config": dataclasses.asdict(self.config)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(DinoConfig(**state["config"]))

    # ---- model ---------------------------------------------------------------------------------------

    @property
    def device(self) -> str:
        self._ensure_model()
        return str(self._device)

    def _ensure_model(self) -> Any:
        if self._model is not None and self._device is not None:
            return self._model
        import torch

        cfg = self.config
        model = self._model if self._model is not None else load_dinov2(cfg)
        device = cfg.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = {"bfloat16": torch.bfloat16, "float32": torch.float32, "float16": torch.float16}[cfg.dtype]
        self._model = model.to(device=device, dtype=dtype).eval()
        self._device, self._torch_dtype = torch.device(device), dtype
        return self._model

    # ---- encoding ------------------------------------------------------------------------------------

    def encode(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Features of RGB uint8 images (each resized to tile x tile if it is not), shape [N, D] float32."""
        import torch

        model = self._ensure_model()
        cfg = self.config
        t = cfg.tile_size
        if not len(images):
            return np.zeros((0, model.config.hidden_size), np.float32)
        mean = torch.tensor(cfg.image_mean, dtype=torch.float32).view(1, 3, 1, 1)
        std = torch.tensor(cfg.image_std, dtype=torch.float32).view(1, 3, 1, 1)
        out = []
        with torch.inference_mode():
            for start in range(0, len(images), max(1, cfg.batch_size)):
                chunk = [resize(np.asarray(im), (t, t), "bicubic") for im in images[start : start + cfg.batch_size]]
                x = torch.from_numpy(np.stack(chunk)).permute(0, 3, 1, 2).float().div_(255.0)
                x = ((x - mean) / std).to(device=self._device, dtype=self._torch_dtype)
                feats = self._features(model, x)
                out.append(feats.float().cpu().numpy())
                self.forward_calls += 1
                self.crops_encoded += len(chunk)
        return np.concatenate(out, axis=0)

    def _features(self, model: Any, x: Any) -> Any:
        feature = self.config.feature
        if feature == "cls_prenorm":
            # hidden_states[-1] is the last layer's output before Dinov2Model's final LayerNorm.
            return model(pixel_values=x, output_hidden_states=True).hidden_states[-1][:, 0]
        last = model(pixel_values=x).last_hidden_state
        if feature == "cls":
            return last[:, 0]
        return last[:, 1:].mean(dim=1)  # "mean": patch tokens after the norm (StarVector DinoScore)

    def view_features(self, images: Sequence[np.ndarray], cache: bool | Sequence[bool] = False) -> list[np.ndarray]:
        """Per image, the features of its [thumbnail, tiles...] views, shape [1 + tiles, D].

        Images with cache=True are looked up in / stored to the LRU (use it for references); identical
        images within one call are encoded once. All crops that need encoding go through `encode` together.
        """
        cfg = self.config
        flags = [cache] * len(images) if isinstance(cache, bool) else list(cache)
        if len(flags) != len(images):
            raise ValueError("cache flags and images differ in length")
        spec = f"|tile={cfg.tile_size}|max={cfg.max_tiles}|feat={cfg.feature}|{cfg.dtype}"
        keys = [image_key(im) + spec for im in images]
        results: list[np.ndarray | None] = [None] * len(images)
        todo: dict[str, list[int]] = {}
        with self._lock:
            for i, (key, use_cache) in enumerate(zip(keys, flags)):
                if use_cache and key in self._cache:
                    self._cache.move_to_end(key)
                    results[i] = self._cache[key]
                    self.cache_hits += 1
                else:
                    todo.setdefault(key, []).append(i)
        if todo:
            views_per_key = {k: dino_views(images[idx[0]], cfg.tile_size, cfg.max_tiles) for k, idx in todo.items()}
            flat = [v for views in views_per_key.values() for v in views]
            feats = self.encode(flat)
            pos = 0
            with self._lock:
                for key, views in views_per_key.items():
                    f = feats[pos : pos + len(views)]
                    pos += len(views)
                    for i in todo[key]:
                        results[i] = f
                    if any(flags[i] for i in todo[key]) and cfg.cache_size > 0:
                        self._cache[key] = f
                        self._cache.move_to_end(key)
                        while len(self._cache) > cfg.cache_size:
                            self._cache.popitem(last=False)
        return results  # type: ignore[return-value]  # every slot is filled above


def load_dinov2(cfg: DinoConfig) -> Any:
    """A transformers Dinov2Model: from_pretrained(cfg.model), else random weights from cfg.config (seed 0)."""
    import torch
    from transformers import Dinov2Config, Dinov2Model

    if cfg.model:
        from vinci_rl.models.locate import locate_pretrained

        try:
            return Dinov2Model.from_pretrained(locate_pretrained(cfg.model, "reward.dino.model"))  # fails in seconds
        except Exception as e:  # OSError / ValueError / hub errors: name the source either way
            raise RuntimeError(f"cannot load DINOv2 weights from reward.dino.model={cfg.model!r}: {e}") from e
    conf = Dinov2Config(**dict(cfg.config or {}))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return Dinov2Model(conf)
