"""The `vinci_sync` trainer: verl's synchronous V1 trainer plus the max-length schedule, per-term reward
metrics and a sample log.

Registered with verl's trainer registry (`trainer.v1.trainer_mode=vinci_sync`). It overrides two named steps
and nothing of the loop:
- `_next_train_batch`: writes the step's generation budget (`vinci.schedule`) into the batch, which the
  `vinci_budget_agent` loop hands to vLLM as max_tokens; logged as `schedule/max_tokens`,
  `schedule/truncation_rate`, `schedule/response_length_{mean,max}`;
  with a `vinci.weight_ramp` block, also the ramped term's weight at this step (the reward manager recomputes
  each sample's reward with it), logged as `reward/weight/<term>`;
- `_compute_metrics`:
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
import verl.utils.tensordict_utils as tu
from omegaconf import open_dict
from verl.trainer.ppo.v1.trainer_base import register_trainer
from verl.trainer.ppo.v1.trainer_sync import PPOTrainerSync

from reward_workers.client import pool_step_metrics
from vinci_rl.report.training_pictures import PicturesConfig, TrainingPictures
from vinci_rl.reward.config import RewardConfig
from vinci_rl.schedule.max_length import BUDGET_KEY, MaxLengthSchedule, truncation_rate
from vinci_rl.schedule.weight_ramp import WEIGHT_KEY
from vinci_rl.train.reward_manager import BOOKKEEPING_KEYS, SCORED_KEY, ramp_of, vinci_section

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
    """A non-tensor column (numpy array, NonTensorStack, list) as a plain list."""
    if value is None:
        return []
    if hasattr(value, "tolist"):
        return value.tolist()
    return [getattr(v, "data", v) for v in value]


@register_trainer("vinci_sync")
class VinciSyncTrainer(PPOTrainerSync):
    def __init__(self, config):
        # verl branches on trainer_mode == "sync" (replay buffer, prompt persistence, refills): once verl has
        # picked this class by name, it must see the mode it extends.
        with open_dict(config):
            config.trainer.v1.trainer_mode = "sync"
        super().__init__(config)
        vinci = vinci_section(config)
        schedule = vinci.get("schedule")
        self.schedule = MaxLengthSchedule.from_dict(schedule) if schedule is not None else None
        self.budgets: dict[int, int] = {}
        self.ramp = ramp_of(vinci)  # checked here, at start-up, against vinci.reward's terms
        self.pictures = self._build_pictures(vinci)

    def _build_pictures(self, vinci: dict) -> TrainingPictures | None:
        cfg = PicturesConfig.from_dict(vinci.get("pictures"))
        if cfg.every_n_steps == 0:
            return None
        run_dir = os.environ.get(RUN_DIR_ENV)
        reward_cfg = RewardConfig.from_dict(vinci.get("reward") or {}, source="vinci.reward")
        return TrainingPictures(cfg, reward_cfg, self.config.data.train_files, Path(run_dir) if run_dir else None)

    def _next_train_batch(self, num_prompts=None):
        batch = super()._next_train_batch(num_prompts)
        if self.schedule is not None:
            gt = [int((info or {}).get("gt_tokens", -1)) for info in _to_list(batch.get("extra_info", None))]
            budget = self.schedule.budget(self.global_steps, gt, cap=int(self.config.data.max_response_length))
            tu.assign_non_tensor_data(batch, BUDGET_KEY, budget)
            self.budgets[self.global_steps] = budget
        if self.ramp is not None:
            tu.assign_non_tensor_data(batch, WEIGHT_KEY, self.ramp.weight(self.global_steps))
        return batch

    def _schedule_metrics(self, step: int, lengths: list[int]) -> dict[str, float]:
        budget = self.budgets.get(step)
        if budget is None:
            return {}
        return {
            "schedule/max_tokens": float(budget),
            "schedule/truncation_rate": truncation_rate(lengths, budget),
            "schedule/response_length_mean": float(np.mean(lengths)) if lengths else 0.0,
            "schedule/response_length_max": float(max(lengths, default=0)),
        }

    def _compute_metrics(self, batch, metrics, timing_raw, global_steps, epoch):
        super()._compute_metrics(batch, metrics, timing_raw, global_steps, epoch)
        real = [i for i, tag in enumerate(batch.tags) if not tag.get("is_padding", False)]
        keys = [batch.keys[i] for i in real]
        if not keys:
            return
        data = tq.kv_batch_get(keys=keys, partition_id=batch.partition_id, select_fields=["extra_fields", "responses"])
        extra_fields = _to_list(data["extra_fields"])
        infos = [(ef or {}).get("reward_extra_info", {}) if isinstance(ef, dict) else {} for ef in extra_fields]
        responses = [r.tolist() for r in data["responses"].unbind()]
        metrics.update(reward_metrics(infos))
        metrics.update(pool_step_metrics(self.config))  # reward_pool/...: latency, queue depth, failures, cache hits
        metrics.update(self._schedule_metrics(global_steps, [len(r) for r in responses]))
        if self.ramp is not None:
            metrics[f"reward/weight/{self.ramp.term}"] = self.ramp.weight(global_steps)
        records = self._sample_records(global_steps, keys, infos, responses)
        run_dir = os.environ.get(RUN_DIR_ENV)
        if run_dir:
            with (Path(run_dir) / "samples.jsonl").open("a") as f:
                f.writelines(json.dumps(r, default=float) + "\n" for r in records)
        if self.pictures is not None and self.pictures.due(global_steps):
            metrics["pictures/logged"] = float(self.pictures.log(global_steps, records, self.logger))

    def _sample_records(self, step: int, keys: list, infos: list[dict], responses: list[list[int]]) -> list[dict]:
        budget = self.budgets.get(step)
        records = []
        for key, info, ids in zip(keys, infos, responses, strict=True):
            status = next((k.split("/", 1)[1] for k, v in info.items() if k.startswith("status/") and v), None)
            records.append(
                {
                    "step": step,
                    "key": str(key),
                    "response": self.tokenizer.decode(ids, skip_special_tokens=True),
                    "response_tokens": len(ids),
                    "max_tokens": budget,
                    "status": status,
                    "reward_extra_info": info,
                }
            )
        return records
