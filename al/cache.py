"""Where ``al`` keeps what it computes once: joined model files, embeddings."""
from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """``$AL_CACHE_DIR`` (default ``~/.cache/al``) joined with ``parts``, created."""
    root = Path(os.environ.get("AL_CACHE_DIR") or Path.home() / ".cache" / "al")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
