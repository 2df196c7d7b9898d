"""The `vinci_sync` trainer: verl's synchronous V1 trainer plus the max-length schedule, per-term reward
metrics and a sample log.

Registered with verl's trainer registry (`trainer.v1.trainer_mode=vinci_sync`). It overrides two named steps
and nothing of the loop:
- `_next_train_batch`: writes the step's generation budget (`vinci.schedule`) into the batch, which the
  `vinci_budget_agent` loop hands to vLLM as max_tokens; logged as `schedule/max_tokens`,
  `schedule/truncation_rate`, `schedule/response_length_{mean,max}`;
  with a `vinci.weight_ramp` block, also the ramped term's weight at this step (the reward manager recomputes
  each sample's reward with it), logged as `reward/weight/<term>`;
- `_compute_metrics`: the reward's step metrics (vinci_rl/reward/metrics.py: `reward/<term>/mean` for every
  reward term, `reward/status/<kind>`, the rate of each status) from the `reward_extra_info` the `vinci` reward
  manager attached to each sample, the pool's `reward_pool/...` metrics, and one line per sample in
  $VINCI_RL_RUN_DIR/samples.jsonl (vinci_rl/train/sample_log.py: step, key, response, response_tokens,
  max_tokens, status, reward_extra_info), which the run report and the training pictures are built from.
"""

from __future__ import annotations

import os
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
from vinci_rl.reward.metrics import step_metrics
from vinci_rl.schedule.max_length import BUDGET_KEY, MaxLengthSchedule, truncation_rate
from vinci_rl.schedule.weight_ramp import WEIGHT_KEY
from vinci_rl.train.reward_manager import ramp_of, vinci_section
from vinci_rl.train.sample_log import SampleRecord, append_samples, sample_record

RUN_DIR_ENV = "VINCI_RL_RUN_DIR"


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
        metrics.update(step_metrics(infos))
        metrics.update(pool_step_metrics(self.config))  # reward_pool/...: latency, queue depth, failures, cache hits
        metrics.update(self._schedule_metrics(global_steps, [len(r) for r in responses]))
        if self.ramp is not None:
            metrics[f"reward/weight/{self.ramp.term}"] = self.ramp.weight(global_steps)
        records = self._sample_records(global_steps, keys, infos, responses)
        run_dir = os.environ.get(RUN_DIR_ENV)
        if run_dir:
            append_samples(run_dir, records)
        if self.pictures is not None and self.pictures.due(global_steps):
            metrics["pictures/logged"] = float(self.pictures.log(global_steps, records, self.logger))

    def _sample_records(self, step: int, keys: list, infos: list[dict], responses: list[list[int]]) -> list[SampleRecord]:
        budget = self.budgets.get(step)
        return [sample_record(step, key, self.tokenizer.decode(ids, skip_special_tokens=True), len(ids), budget, info)
                for key, info, ids in zip(keys, infos, responses, strict=True)]  # fmt: skip
