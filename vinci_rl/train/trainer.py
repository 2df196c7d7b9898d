"""vinci-rl's trainers: verl's V1 trainer of each mode plus the max-length schedule, per-term reward metrics, the
exposed reward time, a sample log and training pictures.

One mixin, `VinciTrainerAdditions`, holds all of it; it is applied to verl's class of each mode and registered in
verl's trainer registry under `trainer.v1.trainer_mode` (vinci_rl/train/trainer_modes.py names the modes):
`vinci_sync` (verl's PPOTrainerSync), `vinci_colocate_async` (PPOTrainerColocateAsync), `vinci_separate_async`
(PPOTrainerSeparateAsync). It overrides two named steps and nothing of the loop:
- `_next_train_batch`: writes the batch's generation budget (`vinci.schedule`, for the step at which the batch
  is queued) into the batch, which the `vinci_budget_agent` loop hands to vLLM as max_tokens; with a
  `vinci.weight_ramp` block, also the ramped term's weight at that step (the reward manager recomputes each
  sample's reward with it);
- `_compute_metrics`: over the samples the step trains on, the reward's step metrics (vinci_rl/reward/metrics.py:
  `reward/<term>/mean` for every reward term, `reward/status/<kind>`) from the `reward_extra_info` the `vinci`
  reward manager attached to each sample; the pool's `reward_pool/...` metrics; `reward_pool/exposed_s` and
  `reward_pool/compute_s` (vinci_rl/train/reward_timing.py); `schedule/max_tokens`, `schedule/truncation_rate`,
  `schedule/response_length_{mean,max}` from each sample's own budget (in the async modes a step may train on
  samples queued at an earlier step); `reward/weight/<term>`; and one line per sample in
  $VINCI_RL_RUN_DIR/samples.jsonl (vinci_rl/train/sample_log.py: step, key, response, response_tokens,
  max_tokens, status, reward_extra_info), which the run report and the training pictures are built from.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

import numpy as np
import transfer_queue as tq
import verl.utils.tensordict_utils as tu
from omegaconf import open_dict
from verl.trainer.ppo.v1.trainer_base import register_trainer
from verl.trainer.ppo.v1.trainer_colocate_async import PPOTrainerColocateAsync
from verl.trainer.ppo.v1.trainer_separate_async import PPOTrainerSeparateAsync
from verl.trainer.ppo.v1.trainer_sync import PPOTrainerSync

from reward_workers.client import pool_step_metrics
from vinci_rl.report.training_pictures import PicturesConfig, TrainingPictures
from vinci_rl.reward.config import RewardConfig
from vinci_rl.reward.metrics import TIME_KEY, step_metrics
from vinci_rl.schedule.max_length import BUDGET_KEY, MaxLengthSchedule
from vinci_rl.schedule.weight_ramp import WEIGHT_KEY
from vinci_rl.train.reward_manager import ramp_of, vinci_section
from vinci_rl.train.reward_timing import reward_timing_metrics, sample_timing
from vinci_rl.train.sample_log import SampleRecord, append_samples, sample_record
from vinci_rl.train.trainer_modes import check_mode_config

RUN_DIR_ENV = "VINCI_RL_RUN_DIR"


def _to_list(value) -> list:
    """A non-tensor column (numpy array, NonTensorStack, list) as a plain list."""
    if value is None:
        return []
    if hasattr(value, "tolist"):
        return value.tolist()
    return [getattr(v, "data", v) for v in value]


def _dicts(values: list) -> list[dict]:
    return [v if isinstance(v, dict) else {} for v in values]


def schedule_metrics(lengths: list[int], budgets: list[int | None]) -> dict[str, float]:
    """The step's schedule metrics from each sample's response length and own budget ({} without budgets)."""
    pairs = [(n, b) for n, b in zip(lengths, budgets, strict=True) if b is not None]
    if not pairs:
        return {}
    return {
        "schedule/max_tokens": float(max(b for _, b in pairs)),
        "schedule/truncation_rate": sum(1 for n, b in pairs if n >= b) / len(pairs),
        "schedule/response_length_mean": float(np.mean(lengths)),
        "schedule/response_length_max": float(max(lengths)),
    }


class VinciTrainerAdditions:
    """vinci-rl's additions to a verl V1 trainer class; list it before verl's class of the mode."""

    verl_mode: ClassVar[str]  # the verl mode extended: verl's own code branches on it

    def __init__(self, config):
        check_mode_config(config)
        # verl branches on trainer_mode (replay buffer, prompt persistence, refills, the mode's settings under
        # trainer.v1.<mode>): once verl has picked this class by name, it must see the mode it extends.
        with open_dict(config):
            config.trainer.v1.trainer_mode = self.verl_mode
        super().__init__(config)
        vinci = vinci_section(config)
        schedule = vinci.get("schedule")
        self.schedule = MaxLengthSchedule.from_dict(schedule) if schedule is not None else None
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
        if self.ramp is not None:
            tu.assign_non_tensor_data(batch, WEIGHT_KEY, self.ramp.weight(self.global_steps))
        return batch

    def _step_samples(self, batch) -> dict | None:
        """The step's real (not padding) samples from TransferQueue: keys, responses, reward rows, budgets,
        reward timings; None when the step has none."""
        real = [i for i, tag in enumerate(batch.tags) if not tag.get("is_padding", False)]
        keys = [batch.keys[i] for i in real]
        if not keys:
            return None
        fields = ["extra_fields", "responses", "metrics"] + ([BUDGET_KEY] if self.schedule is not None else [])
        data = tq.kv_batch_get(keys=keys, partition_id=batch.partition_id, select_fields=fields)
        extra_fields = _dicts(_to_list(data["extra_fields"]))
        infos = [ef.get("reward_extra_info") or {} for ef in extra_fields]
        budgets = _to_list(data[BUDGET_KEY]) if self.schedule is not None else [None] * len(keys)
        timings = [sample_timing(ef, lm, info, TIME_KEY)
                   for ef, lm, info in zip(extra_fields, _dicts(_to_list(data["metrics"])), infos, strict=True)]  # fmt: skip
        responses = [r.tolist() for r in data["responses"].unbind()]
        budgets = [None if b is None else int(b) for b in budgets]
        return {"keys": keys, "infos": infos, "responses": responses, "budgets": budgets, "timings": timings}

    def _compute_metrics(self, batch, metrics, timing_raw, global_steps, epoch):
        super()._compute_metrics(batch, metrics, timing_raw, global_steps, epoch)
        samples = self._step_samples(batch)
        if samples is None:
            return
        metrics.update(step_metrics(samples["infos"]))
        metrics.update(pool_step_metrics(self.config))  # reward_pool/...: latency, queue depth, failures, cache hits
        metrics.update(reward_timing_metrics(samples["timings"]))  # reward_pool/exposed_s, reward_pool/compute_s
        metrics.update(schedule_metrics([len(r) for r in samples["responses"]], samples["budgets"]))
        if self.ramp is not None:
            metrics[f"reward/weight/{self.ramp.term}"] = self.ramp.weight(global_steps)
        records = self._sample_records(global_steps, samples)
        run_dir = os.environ.get(RUN_DIR_ENV)
        if run_dir:
            append_samples(run_dir, records)
        if self.pictures is not None and self.pictures.due(global_steps):
            metrics["pictures/logged"] = float(self.pictures.log(global_steps, records, self.logger))

    def _sample_records(self, step: int, samples: dict) -> list[SampleRecord]:
        rows = zip(samples["keys"], samples["infos"], samples["responses"], samples["budgets"], strict=True)
        return [sample_record(step, key, self.tokenizer.decode(ids, skip_special_tokens=True), len(ids), budget, info)
                for key, info, ids, budget in rows]  # fmt: skip


@register_trainer("vinci_sync")
class VinciSyncTrainer(VinciTrainerAdditions, PPOTrainerSync):
    verl_mode = "sync"


@register_trainer("vinci_colocate_async")
class VinciColocateAsyncTrainer(VinciTrainerAdditions, PPOTrainerColocateAsync):
    verl_mode = "colocate_async"


@register_trainer("vinci_separate_async")
class VinciSeparateAsyncTrainer(VinciTrainerAdditions, PPOTrainerSeparateAsync):
    verl_mode = "separate_async"
