"""Where ``al`` keeps what it computes once: joined model files, embeddings, ALPS heads."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """``$AL_CACHE_DIR`` (default ``~/.cache/al``) joined with ``parts``, created."""
    root = Path(os.environ.get("AL_CACHE_DIR") or Path.home() / ".cache" / "al")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def cache_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` across processes, waiting until it is free.

    Guards once-per-input work (encoding a pool, fitting an ALPS head) so that
    grid workers sharing a cache do it once: the second process waits, then
    finds the result in the cache. Holders must look in the cache again after
    acquiring it.
    """
    from filelock import FileLock

    with FileLock(str(path)):
        yield
