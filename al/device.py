"""Device selection shared by the embedder and the BERT classifier."""
from __future__ import annotations

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
