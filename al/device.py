"""Device selection shared by the embedder and the BERT classifier, the kernels a device runs, autocast, thread counts."""
from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
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
    if device.startswith("cuda") and not re.fullmatch(r"cuda(:\d+)?", device):
        raise ConfigError(f"device {device!r} not understood; expected auto, cpu, cuda or cuda:N (N a GPU's number)")
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


#: Substrings of the CPU feature flags that choose the kernels of torch, oneDNN and MKL (x86 and Arm).
SIMD_FLAG_PARTS = ("sse", "avx", "fma", "f16c", "amx", "vnni", "bf16", "fp16", "asimd", "sve", "dotprod", "i8mm")
#: Fields of ``/proc/cpuinfo``'s first processor that name the CPU (vendor, model, cache, Arm part).
CPU_FIELDS = ("vendor_id", "cpu family", "model", "model name", "cache size",
              "CPU implementer", "CPU architecture", "CPU variant", "CPU part")
#: Environment variables that change which kernels run, or their arithmetic.
KERNEL_VARIABLES = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS",
                    "MKL_CBWR", "ONEDNN_DEFAULT_FPMATH_MODE", "DNNL_DEFAULT_FPMATH_MODE")
#: Libraries whose versions pick the kernels and the model code of an encoder pass.
KERNEL_LIBRARIES = ("torch", "transformers", "sentence-transformers")


def cpu_description() -> dict[str, str]:
    """What picks a CPU's kernels: its name fields, its SIMD flags, the kernel variables; no torch import.

    Read from ``/proc/cpuinfo`` (Linux), else from :mod:`platform`. Two
    machines with the same description run the same kernels on the same
    library versions; ATen's capability (AVX2, AVX512) and oneDNN's ISA
    follow from the flags and the variables.
    """
    import os
    import platform

    found: dict[str, str] = {"machine": platform.machine()}
    try:
        block = Path("/proc/cpuinfo").read_text(errors="replace").split("\n\n")[0]
    except OSError:
        block = ""
        found["processor"] = platform.processor()
        found.update(_sysctl_cpu())
    for line in block.splitlines():
        name, _, value = (part.strip() for part in line.partition(":"))
        if name in CPU_FIELDS:
            found[name] = value
        elif name in ("flags", "Features"):
            found["simd"] = " ".join(sorted(f for f in value.split() if any(p in f for p in SIMD_FLAG_PARTS)))
    found.update({v: os.environ[v] for v in KERNEL_VARIABLES if v in os.environ})
    return found


def _sysctl_cpu() -> dict[str, str]:
    """macOS's CPU name and feature flags (``sysctl machdep.cpu``, ``hw.optional``); empty elsewhere."""
    import subprocess

    try:
        listed = subprocess.run(["sysctl", "machdep.cpu", "hw.optional"], capture_output=True, text=True,
                                timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    wanted = ("machdep.cpu.brand_string", "machdep.cpu.features", "machdep.cpu.leaf7_features", "hw.optional.")
    return {name.strip(): value.strip() for name, _, value in (line.partition(":") for line in listed.splitlines())
            if name.strip().startswith(wanted)}


def cpu_tag(description: dict[str, str]) -> str:
    """A short readable name of a CPU's widest vector unit: ``avx512``, ``avx2``, ``neon``, else the machine."""
    simd = description.get("simd", "").split()
    capability = description.get("ATEN_CPU_CAPABILITY", "").lower()
    if capability in ("default", "avx2"):  # ATen told to stop below the CPU's widest unit
        return capability
    for tag, flag in (("avx512", "avx512f"), ("avx2", "avx2"), ("sve", "sve"), ("neon", "asimd")):
        if flag in simd:
            return tag
    return re.sub(r"[^a-z0-9]+", "", description.get("machine", "").lower()) or "cpu"


def library_versions() -> dict[str, str]:
    """Installed versions of :data:`KERNEL_LIBRARIES` (``none`` for a missing one), read without importing them."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in KERNEL_LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "none"
    return out


def arithmetic_key(kind: str, index: int | None = None) -> str:
    """Names the kernels a device of type ``kind`` runs: ``avx2-3f09c1d2`` (CPU), ``nvidiah200-…`` (GPU).

    A readable tag and 8 hex digits of a hash over what picks the kernels: the
    CPU's description (:func:`cpu_description`) or the GPU's name, compute
    capability and CUDA / cuDNN versions, and the library versions
    (:func:`library_versions`). Other kernels give other last bits (on one
    AVX2 CPU, ATen's default kernels against its AVX2 ones, or oneDNN held to
    SSE4.1, changed every one of 400 sentence vectors, by up to 1.5e-7), so
    cached vectors and heads carry this in their keys: a run reads only what
    the same kernels computed, and a cache shared by unlike machines (a Ray
    cluster's, a copied one) never changes a run's records. The CPU's key
    imports no torch. Worked out once per process and setting of the kernel
    variables (:data:`KERNEL_VARIABLES`).
    """
    import os

    return _arithmetic_key(kind, index, tuple((v, os.environ.get(v)) for v in KERNEL_VARIABLES))


@lru_cache(maxsize=None)
def _arithmetic_key(kind: str, index: int | None, variables: tuple[tuple[str, str | None], ...]) -> str:
    """:func:`arithmetic_key`, cached per kernel-variable setting (``variables``, read again by the description)."""
    if kind == "cpu":
        described = cpu_description()
        tag = cpu_tag(described)
    else:
        import torch

        index = torch.cuda.current_device() if index is None else index
        name = torch.cuda.get_device_name(index)
        described = {"name": name, "capability": ".".join(map(str, torch.cuda.get_device_capability(index))),
                     "cuda": str(torch.version.cuda), "cudnn": str(torch.backends.cudnn.version())}
        tag = re.sub(r"[^a-z0-9]+", "", name.lower())[:24] or kind
    described = {**described, **library_versions()}
    text = "\n".join(f"{key}={described[key]}" for key in sorted(described))
    return f"{tag}-{hashlib.blake2b(text.encode(), digest_size=4).hexdigest()}"


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


#: Guards :func:`cudnn_attention_off`'s count of the blocks in it and the flag it restores.
_CUDNN_ATTENTION_LOCK = threading.Lock()
_cudnn_attention_holders = 0
_cudnn_attention_was_on = True


@contextmanager
def cudnn_attention_off(device: Any) -> Iterator[None]:
    """On a CUDA ``device``, PyTorch's attention (SDPA) without cuDNN's kernel for the block; elsewhere nothing.

    cuDNN's attention builds a plan for every input shape it meets first: on an H200 a
    fine-tuning step at a new padded shape cost about 0.13 s more than at a shape seen
    before, where the memory-efficient kernel that SDPA takes instead cost nothing more
    and the same time per step at seen shapes (benchmarks/RESULTS.md, section 12.18). A
    fit pads each batch to its longest text, so it meets many shapes. Numbers change
    within float rounding on a GPU only. Process-wide flag, so the blocks of several
    threads share one count: the first turns cuDNN's attention off, the last restores
    what it found; another thread's half-precision attention outside any block runs
    without cuDNN's kernel meanwhile too.
    """
    import torch

    global _cudnn_attention_holders, _cudnn_attention_was_on
    backends = torch.backends.cuda
    if torch.device(device).type != "cuda" or not hasattr(backends, "enable_cudnn_sdp"):  # torch < 2.3: no such kernel
        yield
        return
    with _CUDNN_ATTENTION_LOCK:
        if _cudnn_attention_holders == 0:
            _cudnn_attention_was_on = backends.cudnn_sdp_enabled()
            backends.enable_cudnn_sdp(False)
        _cudnn_attention_holders += 1
    try:
        yield
    finally:
        with _CUDNN_ATTENTION_LOCK:
            _cudnn_attention_holders -= 1
            if _cudnn_attention_holders == 0:
                backends.enable_cudnn_sdp(_cudnn_attention_was_on)


#: Held by every block that seeds torch's process-wide generators and draws from them (model initialisation,
#: dropout, a user strategy's query): another thread's seeding in the middle would change its draws.
TORCH_RNG_LOCK = threading.RLock()


@contextmanager
def seeded_torch(seed: int, devices: Sequence[Any] = ()) -> Iterator[None]:
    """torch's generators seeded with ``seed`` for the block and restored after, one thread at a time.

    ``torch.random.fork_rng(devices)`` then ``torch.manual_seed(seed)``, under
    :data:`TORCH_RNG_LOCK`: two fits in two threads (``al.annotate``'s
    background cross-validation beside its next round) each draw what they
    would draw alone, in turn.
    """
    import torch

    with TORCH_RNG_LOCK, torch.random.fork_rng(devices=list(devices)):
        torch.manual_seed(seed)
        yield


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
