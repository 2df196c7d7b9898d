"""The `vinci_sync` trainer: verl's synchronous V1 trainer plus per-term reward metrics and a sample log.

Registered with verl's trainer registry (`trainer.v1.trainer_mode=vinci_sync`). It overrides one named step,
`_compute_metrics`, and nothing of the loop:
- `reward/<term>/mean` for every reward term and `reward/status/<kind>` (rate of each render status),
  from the `reward_extra_info` the `vinci` reward manager attached to each sample;
- one JSON line per sample in $VINCI_RL_RUN_DIR/samples.jsonl (step, id, language, response, reward, terms,
  status), which the run report and the gallery are built from.
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from pathlib import Path

import numpy as np
import transfer_queue as tq
from verl.trainer.ppo.v1.trainer_base import register_trainer
from verl.trainer.ppo.v1.trainer_sync import PPOTrainerSync

from vinci_rl.train.reward_manager import BOOKKEEPING_KEYS, SCORED_KEY

RUN_DIR_ENV = "VINCI_RL_RUN_DIR"


def reward_metrics(infos: list[dict]) -> dict[str, float]:
    """Aggregate per-sample reward_extra_info dicts into step metrics."""
    values: dict[str, list[float]] = defaultdict(list)
    for info in infos:
        for key, value in info.items():
            if isinstance(value, int | float | np.floating | np.integer) and math.isfinite(float(value)):
                values[key].append(float(value))
    metrics = {}
    for key, vals in values.items():
        if key.startswith("status/"):
            metrics[f"reward/{key}"] = float(np.mean(vals))
        elif key not in BOOKKEEPING_KEYS:
            metrics[f"reward/{key}/mean"] = float(np.mean(vals))
    metrics["reward/scored_samples"] = float(sum(values.get(SCORED_KEY, [])))
    metrics["reward/samples"] = float(len(infos))
    return metrics


def _to_list(value) -> list:
    if value is None:
        return []
    if hasattr(value, "tolist"):
        return value.tolist()
    return list(value)


@register_trainer("vinci_sync")
class VinciSyncTrainer(PPOTrainerSync):
    def _compute_metrics(self, batch, metrics, timing_raw, global_steps, epoch):
        super()._compute_metrics(batch, metrics, timing_raw, global_steps, epoch)
        real = [i for i, tag in enumerate(batch.tags) if not tag.get("is_padding", False)]
        keys = [batch.keys[i] for i in real]
        if not keys:
            return
        data = tq.kv_batch_get(keys=keys, partition_id=batch.partition_id, select_fields=["extra_fields", "responses"])
        extra_fields = _to_list(data["extra_fields"])
        infos = [(ef or {}).get("reward_extra_info", {}) if isinstance(ef, dict) else {} for ef in extra_fields]
        metrics.update(reward_metrics(infos))
        self._append_samples(global_steps, keys, infos, data["responses"])

    def _append_samples(self, step: int, keys: list, infos: list[dict], responses) -> None:
        run_dir = os.environ.get(RUN_DIR_ENV)
        if not run_dir:
            return
        texts = [self.tokenizer.decode(r.tolist(), skip_special_tokens=True) for r in responses.unbind()]
        path = Path(run_dir) / "samples.jsonl"
        with path.open("a") as f:
            for key, info, text in zip(keys, infos, texts, strict=True):
                status = next((k.split("/", 1)[1] for k, v in info.items() if k.startswith("status/") and v), None)
                record = {"step": step, "key": str(key), "response": text, "status": status, "reward_extra_info": info}
                f.write(json.dumps(record, default=float) + "\n")
