"""Device selection shared by the embedder and the BERT classifier, autocast, and a fixed torch thread count."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from al.errors import ConfigError


#: Where a GPU driver shows itself (NVIDIA's and AMD's kernel modules, their device nodes, WSL's):
#: with none of them present, torch sees no GPU.
GPU_DRIVER_PATHS = ("/proc/driver/nvidia", "/sys/module/nvidia", "/dev/nvidiactl", "/dev/nvidia0",
                    "/sys/module/amdgpu", "/dev/kfd", "/dev/dxg")
#: Whether :func:`device_type` has taken ``"auto"`` for the CPU without asking torch.
_auto_taken_for_cpu = False


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` -> ``"cuda"`` when a GPU is visible, else ``"cpu"``; others checked."""
    import torch

    if device == "auto":
        found = "cuda" if torch.cuda.is_available() else "cpu"
        if _auto_taken_for_cpu and found != "cpu":  # a cache key already named the CPU: refuse to compute elsewhere
            raise ConfigError("device auto was taken for the CPU before torch loaded (no GPU driver found at "
                              f"{', '.join(GPU_DRIVER_PATHS)}), but torch sees a GPU; pass --device cuda or cpu")
        return found
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} asked for, but no CUDA GPU is visible; use --device cpu or auto")
    if device != "cpu" and not device.startswith("cuda"):
        raise ConfigError(f"device {device!r} not understood; expected auto, cpu, cuda or cuda:N")
    return device


def device_type(device: str = "auto") -> str:
    """``"cpu"`` or ``"cuda"``: the type of ``resolve_device(device)``.

    Without torch loaded and without a GPU driver (:data:`GPU_DRIVER_PATHS`),
    ``"auto"`` is the CPU without importing torch (about 1.5 s), so a run that
    finds all its vectors in the cache never loads it; should torch later see
    a GPU after all, :func:`resolve_device` refuses ``"auto"`` rather than
    compute on it what a key names the CPU's.
    """
    import os
    import sys

    global _auto_taken_for_cpu
    if device == "cpu":
        return "cpu"
    if device == "auto" and "torch" not in sys.modules and not any(map(os.path.exists, GPU_DRIVER_PATHS)):
        _auto_taken_for_cpu = True
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


def limit_threads(threads: int) -> None:
    """At most ``threads`` threads for this process's torch, BLAS and OpenMP pools (a grid worker's share).

    For the rest of the process: nothing is restored. Libraries loaded later
    read ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and ``MKL_NUM_THREADS``
    when they load (torch too); pools loaded already are lowered, never raised
    (threadpoolctl); a variable the user set lower is kept. A torch already
    loaded gets the calling thread's count set, which threads started later
    take at their first parallel operation (benchmarks/RESULTS.md, 12.15). Without it
    every grid worker's BLAS starts a thread per core: two workers on two cores
    ran their logistic regressions about 3x slower (benchmarks/RESULTS.md,
    section 12.10).
    """
    import os
    import sys

    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        given = os.environ.get(variable, "")
        if not (given.isdigit() and 0 < int(given) < threads):
            os.environ[variable] = str(threads)
    from threadpoolctl import ThreadpoolController

    for pool in ThreadpoolController().lib_controllers:
        if pool.num_threads > threads:
            pool.set_num_threads(threads)
    torch = sys.modules.get("torch")  # not imported for this: a later import reads OMP_NUM_THREADS
    if torch is not None:
        torch.set_num_threads(min(threads, torch.get_num_threads()))


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
