"""Where ``al`` keeps what it computes once: joined model files, embeddings, ALPS heads."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """``$AL_CACHE_DIR`` (default ``~/.cache/al``) joined with ``parts``, created."""
    root = Path(os.environ.get("AL_CACHE_DIR") or Path.home() / ".cache" / "al")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


class CacheBusy(Exception):
    """Another process holds a cache lock, and the caller asked not to wait (:func:`deferring_busy_locks`)."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"another process is filling the cache guarded by {path}")
        self.path = path


_DEFER_BUSY: ContextVar[bool] = ContextVar("al_defer_busy_locks", default=False)


@contextmanager
def deferring_busy_locks() -> Iterator[None]:
    """Inside the block, :func:`cache_lock` raises :class:`CacheBusy` instead of waiting for a held lock.

    For a grid worker that has other simulations to run: rather than idle while
    another worker fills the same cache (embeds a pool, fits an ALPS head), it
    gives the simulation back and runs another one meanwhile.
    """
    token = _DEFER_BUSY.set(True)
    try:
        yield
    finally:
        _DEFER_BUSY.reset(token)


@contextmanager
def cache_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` across processes, waiting until it is free.

    Guards once-per-input work (encoding a pool, fitting an ALPS head) so that
    grid workers sharing a cache do it once: the second process waits, then
    finds the result in the cache. Holders must look in the cache again after
    acquiring it. Inside :func:`deferring_busy_locks` a lock held elsewhere
    raises :class:`CacheBusy` at once instead.
    """
    from filelock import FileLock, Timeout

    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0 if _DEFER_BUSY.get() else -1)
    except Timeout:
        raise CacheBusy(path) from None
    try:
        yield
    finally:
        lock.release()
