"""Atomic writes: readers see the old file (or directory) or the new one, never a half-written one.

Every file ``al`` writes for others to read (run records, reports, figures,
unpacked model weights) goes through here:

* :func:`atomic_file` opens a temporary file beside the target, in text or
  binary mode; when the block ends it is flushed, fsynced, given the
  permissions of a normal new file and renamed over the target, and the
  directory is fsynced so that the rename itself survives a power loss. On an
  exception it is deleted and the target is left as it was.
* :func:`write_atomic` / :func:`write_bytes_atomic` are the one-call forms.
* :func:`atomic_directory` does the same for a directory that is filled
  once (e.g. unpacked model weights): its files are fsynced, then it is renamed.

And the other way, :func:`read_text` reads a file a user names (settings, label
lists, guidelines) as UTF-8 text, or says in one line why it cannot.

Temporary names start with a dot and end in ``.tmp``, so a crash that kills
the process before the cleanup runs leaves ``.NAME.XXXX.tmp`` beside the target,
never a truncated target; the next write of that target removes such leftovers
once they are a day old (:func:`remove_stale_temporaries`; a live writer's are
seconds old). A process that holds a directory's lock, so that no other writer
of its files can exist (an annotation session), removes their leftovers at
once (``older_than=None``).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_file", "write_atomic", "write_bytes_atomic", "atomic_directory", "fsync_directory", "read_text",
           "remove_stale_temporaries"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_file(path: str | Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file that replaces ``path`` when the block ends without an exception.

    Parameters
    ----------
    path : str or Path
        The target; its directory is created if needed.
    mode : {"w", "wb"}
        Text (UTF-8) or binary.

    Yields
    ------
    file object
        Write into it; do not close it.

    Examples
    --------
    >>> with atomic_file(out / "curve.png", "wb") as f:   # doctest: +SKIP
    ...     fig.savefig(f, format="png")
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent, f".{path.name}.")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give what open() would
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


#: Age (seconds) from which a temporary is a leftover of a killed writer, not a live one's.
STALE_SECONDS = 24 * 3600


def remove_stale_temporaries(directory: str | Path, prefix: str,
                             older_than: float | None = STALE_SECONDS) -> list[str]:
    """Remove the ``prefix*.tmp`` files and folders in ``directory`` untouched for ``older_than`` seconds.

    What a process killed mid-write leaves; never a live writer's (seconds
    old) nor anything else. ``older_than=None`` removes them whatever their
    age: only for a caller that holds a lock no other writer of those targets
    can hold. Returns the names removed; errors (another process removing the
    same) are ignored.
    """
    directory, removed = Path(directory), []
    limit = None if older_than is None else time.time() - older_than
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(".tmp")):
            continue
        try:
            if limit is not None and entry.stat(follow_symlinks=False).st_mtime >= limit:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(entry.name)
        except OSError:
            continue
    return removed


def fsync_directory(directory: str | Path) -> None:
    """Make the entries of ``directory`` (a rename into it) durable; a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a directory; the rename is still atomic
        pass
    finally:
        os.close(fd)


def write_atomic(path: str | Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically."""
    with atomic_file(path, "w") as f:
        f.write(text)


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically."""
    with atomic_file(path, "wb") as f:
        f.write(data)


@contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """A fresh temporary directory that becomes ``target`` when the block ends without an exception.

    Meant for directories filled once and then only read (unpacked weights).
    If another process created ``target`` in the meantime, its copy is kept
    and this one is discarded. On an exception the temporary directory is
    removed and ``target`` is left as it was.

    Parameters
    ----------
    target : str or Path
        Must not exist as a non-empty directory when the block ends (if it
        does, that copy wins).

    Yields
    ------
    Path
        The temporary directory, beside ``target``.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target.parent, f".{target.name}.")  # a killed unpack's half, hundreds of MB
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        yield tmp
        for file in (p for p in tmp.rglob("*") if p.is_file() and not p.is_symlink()):
            with open(file, "rb") as f:  # the files reach the disk before the rename that publishes them
                os.fsync(f.fileno())
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700
        try:
            os.replace(tmp, target)
        except OSError:  # another process won the race: its copy is complete, keep it
            if not target.is_dir():
                raise
        fsync_directory(target.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def file_digest(path: str | os.PathLike[str] | None) -> str | None:
    """blake2b of a file's bytes (about 10 ms for Reuters' 8 MB); None for no file or a directory."""
    import hashlib

    try:
        if path and os.path.isfile(path):
            with open(path, "rb") as f:
                return hashlib.file_digest(f, "blake2b").hexdigest()
    except OSError:
        pass
    return None


def read_text(path: str | Path, what: str, expected: str) -> str:
    """The UTF-8 text of a file a user names (a byte-order mark is dropped).

    Raises :class:`~al.errors.ConfigError`, one line naming ``what`` and the
    ``expected`` content, when the path is missing, a directory, unreadable
    or not UTF-8.
    """
    from al.errors import ConfigError

    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{what} {path} is a directory; expected {expected}")
    if not path.is_file():
        raise ConfigError(f"{what} {path} does not exist; expected {expected} (check the path)")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} {path} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset "
                          f"{exc.start}); expected {expected}, saved as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path} ({exc.strerror or exc}); expected {expected}") from None
