"""verl platform "cpu": lets verl 0.9.1's FSDP actor, rollout and collectives run on CPU tensors.

verl ships nvidia / huawei / amd platforms and falls back to "nvidia" when none is found. This platform is
registered (and verl's process-group backend fixed) by `vinci_rl.verl_plugin` when VINCI_RL_CPU=1.
Ray placement still uses the "GPU" resource name: the CPU run starts Ray with a logical `num_gpus=1` so that
verl's resource pools can be placed without any change to verl.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import torch
from verl.plugin.platform import PlatformBase, PlatformRegistry


class CpuDeviceModule:
    """What verl calls through `get_torch_device()`: torch.cpu plus no-op stand-ins for torch.cuda's
    memory, stream and RNG calls."""

    def __getattr__(self, name: str):
        return getattr(torch.cpu, name)

    @staticmethod
    def _noop(*args, **kwargs):
        return None

    @staticmethod
    def _zero(*args, **kwargs):
        return 0

    empty_cache = ipc_collect = synchronize = set_device = reset_peak_memory_stats = _noop
    set_per_process_memory_fraction = _noop
    memory_allocated = memory_reserved = max_memory_allocated = max_memory_reserved = _zero

    def is_available(self) -> bool:
        return True

    def current_device(self) -> str:
        return "cpu"

    def device_count(self) -> int:
        return 1

    def get_device_name(self, *args, **kwargs) -> str:
        return "cpu"

    def mem_get_info(self, *args, **kwargs) -> tuple[int, int]:
        import psutil

        vm = psutil.virtual_memory()
        return vm.available, vm.total

    def get_rng_state(self, *args, **kwargs):
        return torch.get_rng_state()

    def set_rng_state(self, state, *args, **kwargs) -> None:
        torch.set_rng_state(state)

    def manual_seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    manual_seed_all = manual_seed


CPU_DEVICE_MODULE = CpuDeviceModule()


@PlatformRegistry.register(platform="cpu")
class CpuPlatform(PlatformBase):
    @property
    def device_name(self) -> str:
        return "cpu"

    @property
    def vendor_name(self) -> str:
        return "cpu"

    @property
    def device_module(self):
        return CPU_DEVICE_MODULE

    def is_available(self) -> bool:
        return True

    def is_platform_available(self, use_smi_check: bool = False) -> bool:
        # Never auto-detected: a CPU run selects it explicitly with VERL_PLATFORM=cpu.
        return False

    def current_device(self):
        # verl does `tensor.to(get_device_id())`; an int would mean cuda:<int>.
        return "cpu"

    def device_count(self) -> int:
        return 1

    def set_device(self, device_index) -> None:
        return None

    def synchronize(self, device_index=None) -> None:
        return None

    def manual_seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def manual_seed_all(self, seed: int) -> None:
        torch.manual_seed(seed)

    def set_allocator_settings(self, settings: str) -> None:
        return None

    def empty_cache(self) -> None:
        return None

    def get_device_capability(self, device_index: int = 0):
        return None, None

    def communication_backend_name(self) -> str:
        return "gloo"

    def visible_devices_envvar(self) -> str:
        return "CUDA_VISIBLE_DEVICES"

    @contextmanager
    def nvtx_range(self, msg: str):
        yield

    def profiler_start(self) -> None:
        return None

    def profiler_stop(self) -> None:
        return None

    def ray_resource_name(self) -> str:
        return "GPU"

    def ray_resource_options(self, num_gpus: float) -> dict[str, Any]:
        return {"num_gpus": num_gpus}

    def ray_noset_envvars(self) -> list[str]:
        return ["RAY_EXPERIMENTAL_NOSET_CUDA_VISIBLE_DEVICES"]

    def is_ipc_supported(self) -> bool:
        return False

    def cudart(self) -> Any:
        return None


def use_gloo_process_groups() -> None:
    """verl builds the backend string f"cpu:gloo,{device}:{backend}", i.e. "cpu:gloo,cpu:gloo" here, which torch
    rejects ("Duplicate device type cpu"). Default the backend to plain "gloo". Must run before
    verl.workers.engine_workers binds the function by name, i.e. at plugin load time."""
    import verl.utils.distributed as dist

    original = dist.initialize_global_process_group_ray
    if getattr(original, "__vinci_rl_gloo__", False):
        return

    def initialize_global_process_group_ray(timeout_second=None, backend=None):
        return original(timeout_second=timeout_second, backend=backend or "gloo")

    initialize_global_process_group_ray.__vinci_rl_gloo__ = True
    dist.initialize_global_process_group_ray = initialize_global_process_group_ray


def unpinned_cpu_offload() -> None:
    """verl's FSDP engine builds forward-only models (the reference policy, when KL is used) with
    CPUOffloadPolicy(pin_memory=True); pinning host memory needs CUDA. On a CPU run the parameters already live in
    host memory: offload without pinning."""
    import verl.workers.engine.fsdp.transformer_impl as impl

    original = impl.CPUOffloadPolicy
    if getattr(original, "__vinci_rl_unpinned__", False):
        return

    def cpu_offload_policy(*args, **kwargs):
        kwargs["pin_memory"] = False
        return original(*args, **kwargs)

    cpu_offload_policy.__vinci_rl_unpinned__ = True
    impl.CPUOffloadPolicy = cpu_offload_policy
