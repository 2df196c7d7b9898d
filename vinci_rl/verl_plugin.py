"""vinci-rl's verl plugin: verl imports this module in every process (driver and Ray workers) through the
`verl.plugins` entry point of our distribution (see pyproject.toml), right when `import verl` runs.

It registers what vinci-rl adds to verl, through verl's own extension points:
- fixes for the pinned verl release (`vinci_rl.verl_fixes`),
- the CPU platform, gloo process groups and unpinned CPU offload, only in processes of a CPU run (VINCI_RL_CPU=1),
- the `vinci` reward manager (`vinci_rl.train.reward_manager`),
- the `vinci_sync`, `vinci_colocate_async` and `vinci_separate_async` trainer modes (`vinci_rl.train.trainer`:
  max-length schedule, reward metrics, exposed reward time, sample log, pictures),
- the `vinci_budget_agent` agent loop (`vinci_rl.schedule.agent_loop`: the step's budget as vLLM max_tokens),
- the `vinci_refine_agent` agent loop (`vinci_rl.refine.agent_loop`: render and refine, multi-turn).

verl logs a failing plugin only at debug level, so errors are logged here loudly before being re-raised.
"""

from __future__ import annotations

import logging
import warnings

logger = logging.getLogger("vinci_rl")
# verl warns about every optional training engine it cannot import (megatron, torchtitan, ...), in every process.
warnings.filterwarnings("ignore", message=r".* engine is not available", category=UserWarning)


def _register() -> None:
    from vinci_rl.cpu import cpu_mode_enabled
    from vinci_rl.verl_fixes import apply_all

    apply_all()
    if cpu_mode_enabled():
        from vinci_rl.cpu import verl_platform

        verl_platform.use_gloo_process_groups()
        verl_platform.unpinned_cpu_offload()
    import vinci_rl.train.reward_manager  # noqa: F401  (registers the "vinci" reward manager)
    import vinci_rl.schedule.agent_loop  # noqa: F401  (registers the "vinci_budget_agent" agent loop)
    import vinci_rl.refine.agent_loop  # noqa: F401  (registers the "vinci_refine_agent" agent loop)
    import vinci_rl.train.trainer  # noqa: F401  (registers the "vinci_sync" / "vinci_*_async" trainer modes)


try:
    _register()
except Exception:
    logger.exception("vinci-rl: loading the verl plugin failed")
    raise
