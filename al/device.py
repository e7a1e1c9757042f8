"""Device selection shared by the embedder and the BERT classifier, autocast, and a fixed torch thread count."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from al.errors import ConfigError


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` -> ``"cuda"`` when a GPU is visible, else ``"cpu"``; others checked."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} asked for, but no CUDA GPU is visible; use --device cpu or auto")
    if device != "cpu" and not device.startswith("cuda"):
        raise ConfigError(f"device {device!r} not understood; expected auto, cpu, cuda or cuda:N")
    return device


#: Device nodes of the GPU drivers torch's ``cuda`` runs on (NVIDIA, ROCm, WSL): with none present, no GPU is visible.
GPU_DEVICE_NODES = ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dxg")


def device_type(device: str = "auto") -> str:
    """``"cpu"`` or ``"cuda"``: the type of ``resolve_device(device)``.

    Without torch loaded and without a GPU driver's device node, ``"auto"`` is
    the CPU without importing torch (about 1.5 s), so a run that finds all its
    vectors in the cache never loads it.
    """
    import os
    import sys

    if device == "cpu":
        return "cpu"
    if device == "auto" and "torch" not in sys.modules and not any(map(os.path.exists, GPU_DEVICE_NODES)):
        return "cpu"
    return resolve_device(device).split(":")[0]


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 matrix products natively (AVX512-BF16 or AMX tiles)."""
    import torch

    checks = (getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))
    return any(check() for check in checks if check is not None)


def warn_if_bf16_emulated(setting: str, instead: str) -> None:
    """Warn that ``setting`` asks for bf16 on a CPU that only emulates it (slower than fp32); ``instead``: the fix."""
    if not cpu_has_native_bf16():
        import warnings

        warnings.warn(f"{setting} on a CPU without native bf16 (AVX512-BF16 or AMX) is emulated and slower than "
                      f"fp32; use {instead}", RuntimeWarning, stacklevel=3)


def autocast(device: Any, dtype: Any) -> Any:
    """``torch.autocast`` to ``dtype`` on ``device``'s type (a str or torch.device); nothing for None (fp32)."""
    from contextlib import nullcontext

    import torch

    return nullcontext() if dtype is None else torch.autocast(torch.device(device).type, dtype=dtype)


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block on ``n`` torch CPU threads, then restore the previous count, also on error.

    For training whose result must not depend on the machine's thread count:
    the gradient sums over a batch come out in other last bits on 1 and 2
    threads.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
