"""`vinci_budget_agent`: verl's single-turn agent loop, with the step's generation budget as `max_tokens`.

Registered in verl's agent-loop registry (imported in every process by our `verl.plugins` entry point);
select it with `actor_rollout_ref.rollout.agent.default_agent_loop=vinci_budget_agent`. Every batch column
reaches `run(**kwargs)`; the `vinci_max_tokens` column written by the `vinci_sync` trainer each step
becomes the request's `max_tokens`, which verl's vLLM server honours (capped by data.max_response_length).
Rows without the column (validation) keep the full length.
"""

from __future__ import annotations

from typing import Any

from verl.experimental.agent_loop.agent_loop import register
from verl.experimental.agent_loop.single_turn_agent_loop import SingleTurnAgentLoop

from vinci_rl.schedule.max_length import BUDGET_KEY
from vinci_rl.train.reward_timing import mark_generated


@register("vinci_budget_agent")
class BudgetedSingleTurnAgentLoop(SingleTurnAgentLoop):
    async def run(self, sampling_params: dict[str, Any], priority: int = 0, **kwargs):
        budget = kwargs.pop(BUDGET_KEY, None)
        if budget is not None:
            sampling_params = {**sampling_params, "max_tokens": int(budget)}
        # the end of generation, for the step's exposed reward time (reward_pool/exposed_s)
        return mark_generated(await super().run(sampling_params, priority, **kwargs))
