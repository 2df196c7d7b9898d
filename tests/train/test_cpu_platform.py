"""The CPU platform and the vLLM plugin load through our entry points, and only in CPU runs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

CPU_ENV = {"VINCI_RL_CPU": "1", "VERL_PLATFORM": "cpu"}


def _run(code: str, extra_env: dict[str, str]) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("VINCI_RL_CPU", "VERL_PLATFORM")}
    env.update(extra_env, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(29500 + os.getpid() % 1000))
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip().splitlines()[-1]


def test_cpu_run_gets_cpu_platform_and_working_gloo_collectives():
    out = _run(
        """
        import torch, verl
        from verl.utils.device import get_device_name, get_nccl_backend, get_torch_device
        from verl.utils.distributed import initialize_global_process_group_ray
        initialize_global_process_group_ray()
        t = torch.ones(3)
        torch.distributed.all_reduce(t)
        get_torch_device().empty_cache()
        print(get_device_name(), get_nccl_backend(), torch.distributed.get_backend(), t.tolist())
        """,
        dict(CPU_ENV, RANK="0", WORLD_SIZE="1"),
    )
    assert out == "cpu gloo gloo [1.0, 1.0, 1.0]"


def test_without_the_cpu_flag_nothing_of_the_cpu_stack_is_active():
    out = _run(
        """
        import verl, verl.utils.distributed as d
        import vllm._custom_ops as ops
        from vinci_rl.cpu.vllm_plugin import register
        before = ops._supports_onednn
        register()
        print(getattr(d.initialize_global_process_group_ray, "__vinci_rl_gloo__", False), ops._supports_onednn == before)
        """,
        {},
    )
    assert out == "False True"


def test_vllm_plugin_disables_onednn_repacking_in_cpu_runs():
    out = _run(
        """
        from importlib.metadata import entry_points
        eps = {e.name: e for e in entry_points(group="vllm.general_plugins")}
        eps["vinci_rl_cpu"].load()()
        import vllm._custom_ops as ops
        print(ops._supports_onednn)
        """,
        CPU_ENV,
    )
    assert out == "False"


def test_vllm_is_installed_under_its_own_name_with_the_cpu_suffix():
    from importlib.metadata import version

    assert version("vllm") == "0.27.1+cpu"
