"""`vinci_refine_agent`: a render-and-refine rollout. The model answers the task (turn 1); its code is rendered and
scored by the same backend as the `vinci` reward manager (the reward pool, or in-process scoring with
vinci.pool.enabled=false); the render goes back as a new user turn (the image, the feedback text, the scores when
vinci.refine.show_scores); the model answers again, up to vinci.refine.turns turns. It stops early when a turn's
code repeats an earlier one, when a turn's reward reaches vinci.refine.stop_score, or when no response room is left.

Select it with `actor_rollout_ref.rollout.agent.default_agent_loop=vinci_refine_agent`. The response holds every
turn: the model's tokens (response_mask 1, trained) and the feedback turns (response_mask 0, not trained); every
image (the task's and each render shown) reaches vLLM with each request and the actor through multi_modal_data.
The `vinci_refine` extra field tells the reward manager which tokens are the final turn and what the earlier turns
scored (vinci_rl/refine/reward.py). The step's budget (vinci.schedule) is each turn's max_tokens, or what is left of
it over the whole trajectory with vinci.refine.budget: trajectory.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from uuid import uuid4

import numpy as np
from PIL import Image
from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopOutput, register
from verl.utils.profiler import simple_timer

from vinci_rl.refine.config import RefineConfig
from vinci_rl.refine.reward import FIELD
from vinci_rl.refine.rules import ERROR, LENGTH, feedback_image, feedback_text, stop_after_scoring, stop_before_scoring
from vinci_rl.refine.trace import write_trace
from vinci_rl.reward.plan import read_answer
from vinci_rl.schedule.max_length import BUDGET_KEY
from vinci_rl.schedule.weight_ramp import WEIGHT_KEY
from vinci_rl.train.reward_manager import ramp_of, ramped_overall, shared_backend, vinci_section
from vinci_rl.train.reward_timing import mark_generated
from vinci_rl.train.sample_fields import SampleFieldError, reward_inputs

logger = logging.getLogger(__name__)


class _Rollout:
    """One trajectory's token state: the running token ids, the response mask and log-probs, the images sent."""

    def __init__(self, prompt_ids: list[int], images: list[Any]):
        self.ids = list(prompt_ids)
        self.mask: list[int] = []
        self.logprobs: list[float] = []
        self.images = images
        self.model_tokens = 0


@register("vinci_refine_agent")
class RefineAgentLoop(AgentLoopBase):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.vinci = vinci_section(self.config)
        self.refine = RefineConfig.from_dict(self.vinci.get("refine"), source="vinci.refine")
        self.ramp = ramp_of(self.vinci)
        self.response_length = int(self.rollout_config.response_length)

    async def run(self, sampling_params: dict[str, Any], priority: int = 0, **kwargs) -> AgentLoopOutput:
        budget = kwargs.pop(BUDGET_KEY, None)
        messages = list(kwargs["raw_prompt"])
        images = list((await self.process_multi_modal_info(messages)).get("images") or [])
        self._assert_mm_supported(bool(images))
        mm_kwargs = self._get_mm_processor_kwargs(None)
        roll = _Rollout(await self.ct_build_initial_tokens(messages, images=images or None), images)
        backend = await asyncio.get_running_loop().run_in_executor(None, shared_backend, self.vinci)
        try:
            inputs = reward_inputs(kwargs)
        except (SampleFieldError, OSError, ValueError) as e:  # the reward manager gives this row its failure value
            logger.warning("vinci_refine_agent: no feedback for this row (%s): one turn only", e)
            inputs = None
        metrics: dict[str, Any] = {}
        request_id, extra = uuid4().hex, {}
        turn_texts, codes, scored, span, stop = [], [], [], (0, 0), ERROR
        for turn in range(1, self.refine.turns + 1):
            start = len(roll.mask)
            text, server_extra = await self._generate(roll, sampling_params, budget, request_id, mm_kwargs, metrics)
            extra = extra or dict(server_extra)
            span = (start, len(roll.mask))
            turn_texts.append(text)
            messages.append({"role": "assistant", "content": text})
            if inputs is None:
                break
            code = read_answer(text, inputs.language, backend.config).code
            stop = stop_before_scoring(turn, self.refine, code, codes, self._room(roll, budget))
            codes.append(code)
            if stop is not None:
                break
            result, overall, stop = await self._score(backend, text, inputs, kwargs.get(WEIGHT_KEY))
            scored.append({"overall": overall, "terms": dict(result.terms) if result else {}, "status": _status(result)})
            stop = stop or stop_after_scoring(overall, self.refine)
            if stop is not None or not await self._show_render(roll, messages, result, overall, inputs.reference):
                stop = stop or LENGTH
                break
        record = {"final_span": list(span), "turns": len(turn_texts), "stop": stop, "scored": scored}
        extra.update({FIELD: record, "turn_scores": [s["overall"] for s in scored], "tool_rewards": []})
        if self.refine.trace_dir:
            write_trace(self.refine.trace_dir, kwargs, roll, record, turn_texts)
        # the trajectory's end of generation, for the step's exposed reward time (reward_pool/exposed_s): the
        # feedback scorings between turns belong to the rollout; the final turn's scoring follows this
        return mark_generated(self._output(roll, mm_kwargs, metrics, extra))

    def _room(self, roll: _Rollout, budget) -> int:
        """Response tokens left for another feedback turn and answer (within the trajectory's budget too)."""
        room = self.response_length - len(roll.mask)
        if budget is not None and self.refine.budget == "trajectory":
            room = min(room, int(budget) - roll.model_tokens)
        return room

    async def _generate(self, roll, sampling_params, budget, request_id, mm_kwargs, metrics) -> tuple[str, dict]:
        """One model turn: generate within this turn's max_tokens, append its tokens (mask 1) to the rollout."""
        turn_budget = self.response_length if budget is None else int(budget)
        if self.refine.budget == "trajectory":
            turn_budget -= roll.model_tokens
        params = {**sampling_params, "max_tokens": max(1, min(turn_budget, self.response_length - len(roll.mask)))}
        with simple_timer("generate_sequences", metrics):
            out = await self.server_manager.generate(
                request_id=request_id, prompt_ids=roll.ids, sampling_params=params,
                image_data=roll.images or None, mm_processor_kwargs=mm_kwargs,
            )  # fmt: skip
        logprobs = out.log_probs or None
        merge, roll.mask, aligned = await self.ct_merge_assistant_token(
            roll.ids, out.token_ids, roll.mask, roll.logprobs if logprobs else None, assistant_logprobs=logprobs
        )
        roll.ids, roll.logprobs = merge.token_ids, aligned or []
        roll.model_tokens += len(out.token_ids)
        return self.tokenizer.decode(out.token_ids, skip_special_tokens=True), dict(out.extra_fields or {})

    async def _score(self, backend, text: str, inputs, step_weight) -> tuple[Any, float, str | None]:
        """(result with its render, overall at this step's ramp weight, None) or (None, failure value, error)."""
        try:
            result = await backend.score(text, inputs, return_render=True)
        except Exception:  # noqa: BLE001 - the trajectory stops here; the reward manager scores the final turn
            logger.exception("vinci_refine_agent: scoring a turn for feedback failed")
            return None, float(backend.failure_reward), ERROR
        return result, ramped_overall(result, self.ramp, backend.config, step_weight), None

    async def _show_render(self, roll, messages, result, overall: float, reference: np.ndarray) -> bool:
        """Append the feedback turn (the render, the text) with mask 0; False when it does not fit the response."""
        raw = {"role": "user", "content": [{"type": "image", "image": Image.fromarray(feedback_image(result.render, reference))}]}
        shown = (await self.process_multi_modal_info([raw]))["images"][0]  # resized as the task's image was
        text = feedback_text(self.refine, result.status, overall, result.terms, result.message)
        self._close_turn(roll)
        previous = list(messages)
        messages.append({"role": "user", "content": [{"type": "image", "image": shown}, {"type": "text", "text": text}]})
        merge, mask, logprobs = await self.ct_merge_context_msg(
            previous, messages, roll.ids, roll.mask, roll.logprobs if roll.logprobs else None
        )
        if len(mask) >= self.response_length:
            messages.pop()
            return False
        roll.ids, roll.mask, roll.logprobs = merge.token_ids, mask, (logprobs or []) if roll.logprobs else []
        roll.images.append(shown)
        return True

    def _close_turn(self, roll: _Rollout) -> None:
        """A turn cut off by max_tokens gets its end-of-turn token (mask 0), as the chat template closes a turn."""
        end = self.tokenizer.convert_tokens_to_ids("<|im_end|>")
        if not isinstance(end, int) or end == self.tokenizer.unk_token_id:
            end = self.tokenizer.eos_token_id
        if end is None or (roll.ids and roll.ids[-1] == end):
            return
        roll.ids.append(end)
        roll.mask.append(0)
        if roll.logprobs:
            roll.logprobs.append(0.0)

    def _output(self, roll: _Rollout, mm_kwargs: dict, metrics: dict, extra: dict) -> AgentLoopOutput:
        n = len(roll.mask)
        return AgentLoopOutput(
            prompt_ids=roll.ids[: len(roll.ids) - n],
            response_ids=roll.ids[len(roll.ids) - n :][: self.response_length],
            response_mask=roll.mask[: self.response_length],
            response_logprobs=roll.logprobs[: self.response_length] if roll.logprobs else None,
            multi_modal_data={"images": roll.images} if roll.images else {},
            mm_processor_kwargs=mm_kwargs,
            num_turns=2 * extra[FIELD]["turns"],
            metrics=metrics,
            extra_fields=extra,
        )


def _status(result) -> str:
    return ERROR if result is None else str(result.status)
