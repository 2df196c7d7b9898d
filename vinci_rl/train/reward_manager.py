"""The `vinci` reward manager: verl's reward-loop extension point, scoring each finished rollout visually.

verl calls `run_single` for every sample as soon as it finishes generating (rule-style rewards stream while
the rest of the batch still generates). The manager reads the target language, the reference image (from the
prompt) and the ground truth from the batch row, scores the response, and returns `reward_score` plus every
term in `reward_extra_info`, which `vinci_rl.train.trainer` logs as `reward/<term>` each step.

Select it with `reward.reward_manager.name=vinci`; its settings are the recipe's `vinci.reward` block (terms,
weights, failure values) and `vinci.pool` block (where scoring runs):
- `vinci.pool.enabled: true` (default): each sample is sent to the named reward pool (`reward_workers`), found
  on the cluster or created by the first reward manager of the job; `run_single` awaits the pool's ObjectRef in
  verl's event loop, so samples score on the pool's CPU workers while the rest of the batch still generates.
- `vinci.pool.enabled: false`: scoring in this process, on one dedicated thread (`LocalScoringBackend`).
With a `vinci.weight_ramp` block, a training sample's overall reward is recomputed with the step's weight of the
ramped term (the trainer writes it into the batch; vinci_rl/schedule/weight_ramp.py).
A sample whose row is malformed or whose scoring raises gets the configured failure reward with status
`bad_sample` / `reward_error` (and a logged traceback); a pool fault gives `worker_failure` / `timeout`: every
sample gets a reward, none crashes the step.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from omegaconf import DictConfig
from verl import DataProto
from verl.experimental.reward_loop.reward_manager import register
from verl.experimental.reward_loop.reward_manager.base import RewardManagerBase

from reward_workers.results import ALL_STATUSES
from vinci_rl.refine.config import RefineConfig
from vinci_rl.refine.reward import final_span, refine_outcome, refine_record
from vinci_rl.reward.composite import reweighted
from vinci_rl.reward.metrics import TIME_KEY
from vinci_rl.schedule.weight_ramp import WEIGHT_KEY, WeightRamp
from vinci_rl.train.sample_fields import SampleFieldError, reward_inputs
from vinci_rl.train.sample_log import INDEX_KEY, REWARD_KEY, SCORED_KEY, STATUS_PREFIX
from vinci_rl.train.vinci_block import vinci_block

logger = logging.getLogger(__name__)


def vinci_section(config: DictConfig | dict) -> dict[str, Any]:
    """The recipe's `vinci` block as a plain dict ({} when absent): vinci_rl/train/vinci_block.py reads it."""
    return vinci_block(config)


def extra_info_row(
    reward: float, terms: dict[str, float], term_names: list[str], status: str, elapsed_s: float, index: int
) -> dict:
    """One sample's reward_extra_info: numbers only (verl averages them in validation), the same keys for every
    sample (verl stacks them per key)."""
    row = {name: float(terms.get(name, math.nan)) for name in term_names}
    for kind in ALL_STATUSES:
        row[f"{STATUS_PREFIX}{kind}"] = 1.0 if status == kind else 0.0
    row[TIME_KEY] = float(elapsed_s)
    row[SCORED_KEY] = 1.0
    row[INDEX_KEY] = float(index)
    row[REWARD_KEY] = float(reward)
    return row


class LocalScoringBackend:
    """Scores in this process, on one dedicated thread (renderers are single-threaded objects)."""

    def __init__(self, reward_cfg: dict):
        from vinci_rl.reward.config import RewardConfig

        self.config = RewardConfig.from_dict(reward_cfg, source="recipe vinci.reward")
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vinci-reward")
        self._scorer = None

    @property
    def term_names(self) -> list[str]:
        return list(self.config.weights)

    @property
    def failure_reward(self) -> float:
        return float(self.config.failure_reward)

    def _score_blocking(self, response: str, inputs) -> Any:
        if self._scorer is None:
            from vinci_rl.reward.scorer import VisualScorer

            self._scorer = VisualScorer(self.config)
        return self._scorer.score(
            response, inputs.language, inputs.reference, ground_truth=inputs.ground_truth,
            gt_length=inputs.gt_length(self.config.length.unit),
        )

    async def score(self, response: str, inputs, return_render: bool = False):  # results here always carry the render
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._score_blocking, response, inputs)


def ramp_of(vinci: dict) -> WeightRamp | None:
    """The recipe's `vinci.weight_ramp` with its end weight resolved against `vinci.reward` (None without one)."""
    if vinci.get("weight_ramp") is None:
        return None
    from vinci_rl.reward.config import RewardConfig

    reward_cfg = RewardConfig.from_dict(vinci.get("reward") or {}, source="vinci.reward")
    return WeightRamp.from_dict(vinci["weight_ramp"]).resolved(reward_cfg.weights)


def make_backend(vinci: dict):
    """The scoring backend the recipe's `vinci` block asks for: the reward pool, or in-process scoring."""
    from reward_workers.config import PoolConfig

    pool_cfg = PoolConfig.from_dict(vinci.get("pool"), source="recipe vinci.pool")
    reward_cfg = vinci.get("reward") or {}
    if not pool_cfg.enabled:
        return LocalScoringBackend(reward_cfg)
    from reward_workers.client import PoolScoringBackend

    return PoolScoringBackend(pool_cfg, reward_cfg)


_BACKENDS: dict = {}


def shared_backend(vinci: dict):
    """One backend (one pool client / one warm renderer) per process and `vinci` block, shared by the reward
    manager and the render-and-refine agent loop of that process."""
    key = json.dumps(vinci, sort_keys=True, default=str)
    if key not in _BACKENDS:
        _BACKENDS[key] = make_backend(vinci)
    return _BACKENDS[key]


def ramped_overall(result, ramp: WeightRamp | None, reward_cfg, step_weight) -> float:
    """A result's overall reward, with the ramped term at this step's weight when the batch carries one."""
    if ramp is None or step_weight is None:
        return float(result.overall)
    weights = {**reward_cfg.weights, ramp.term: float(step_weight)}
    return reweighted(result, weights, reward_cfg.normalize_weights)


@register("vinci")
class VinciRewardManager(RewardManagerBase):
    def __init__(self, config, tokenizer, compute_score=None, reward_router_address=None, reward_model_tokenizer=None):
        super().__init__(config, tokenizer, compute_score)
        vinci = vinci_section(config)
        self.backend = shared_backend(vinci)
        self.ramp = ramp_of(vinci)
        # render-and-refine: the final turn is scored, the trajectory's reward formed from its turns
        self.refine = RefineConfig.from_dict(vinci["refine"]) if vinci.get("refine") is not None else None

    def _overall(self, result, item) -> float:
        """The result's overall reward, with the ramped term at this step's weight when the batch carries one."""
        return ramped_overall(result, self.ramp, self.backend.config, item.non_tensor_batch.get(WEIGHT_KEY))

    def _decode(self, item) -> str:
        response_ids = item.batch["responses"]
        valid = int(item.batch["attention_mask"][-response_ids.shape[-1] :].sum())
        start, end = final_span(refine_record(item.non_tensor_batch), valid)  # a refine trajectory: its final turn
        return self.tokenizer.decode(response_ids[start:end], skip_special_tokens=True)

    def _failure(self, status: str, message: str, index: int = -1) -> dict:
        logger.error("vinci reward: %s: %s", status, message)
        reward = self.backend.failure_reward
        info = extra_info_row(reward, {}, self.backend.term_names, status, 0.0, index)
        return {"reward_score": reward, "reward_extra_info": info}

    async def run_single(self, data: DataProto) -> dict:
        item = data[-1]  # multi-sequence outputs: the last sequence is the answer
        out = await self._score_answer(item)
        record = refine_record(item.non_tensor_batch)
        if self.refine is None and record is None:
            return out
        return refine_outcome(self.refine or RefineConfig(), record, out, self.backend.term_names, REWARD_KEY)

    async def _score_answer(self, item) -> dict:
        try:
            response = await asyncio.get_running_loop().run_in_executor(None, self._decode, item)
            inputs = reward_inputs(item.non_tensor_batch)
        except (SampleFieldError, OSError, ValueError, KeyError) as e:
            return self._failure("bad_sample", f"{type(e).__name__}: {e}")
        try:
            result = await self.backend.score(response, inputs)
            reward = self._overall(result, item)
            elapsed = float(result.timings.get("total_s", 0.0))
            info = extra_info_row(reward, result.terms, self.backend.term_names, result.status, elapsed, inputs.index)
        except Exception as e:  # noqa: BLE001 - a defined failure value, logged with its traceback
            logger.exception("vinci reward: scoring sample %s failed", inputs.sample_id)
            return self._failure("reward_error", f"{type(e).__name__}: {e}", inputs.index)
        return {"reward_score": reward, "reward_extra_info": info}
