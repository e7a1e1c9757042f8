"""Where ``al`` keeps what it computes once: joined model files, embeddings, ALPS heads, parsed corpora.

``python -m al.cache`` lists what the cache holds, how large, when last used,
and whether this machine reads it; ``python -m al.cache prune ...`` removes
what is no longer read (see :func:`main`). Every cached entry is keyed by what
it was computed from, so nothing is ever overwritten: vectors of another model
revision, other kernels (:func:`al.embedders.precision_key`) or an older key
format stay beside the current ones until pruned.

Layout under ``$AL_CACHE_DIR`` (default ``~/.cache/al``)::

    embeddings/KEY/          sentence vectors: shard-*.npz, .lock-* (one per computation), .used
    alps/surprisal/KEY/      ALPS surprisal vectors, the same way
    alps/heads/MODEL/KEY.pt  fitted ALPS masked-LM heads (.KEY.lock beside each)
    corpora/NAME/FILE        parsed corpora (Reuters' ModApte documents)
    models/NAME/             model files joined from the package's parts
"""
from __future__ import annotations

import os
import re
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from al.io import STALE_SECONDS
from al.progress import counted


def cache_root() -> Path:
    """``$AL_CACHE_DIR``, default ``~/.cache/al`` (not created); a ``~`` in it is the home directory, as a shell
    would have made it (a ``.env`` file, a container's ``ENV`` or a service's settings leave it as written)."""
    return Path(os.environ.get("AL_CACHE_DIR") or Path.home() / ".cache" / "al").expanduser()


def check_cache_root() -> None:
    """Refuse, in one line (:class:`~al.errors.ConfigError`), a cache root that is a file, or that does not exist
    and could not be made (its nearest existing parent is no directory, or not writable); commands call it before
    they write anything. Makes nothing. An existing directory is taken even when read-only: an archived cache is
    read all the same."""
    from al.errors import ConfigError

    root = cache_root()
    try:
        if root.exists() and not root.is_dir():
            raise ConfigError(f"the cache {root} is a file; expected a directory: set AL_CACHE_DIR to a directory")
        parent = root
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if parent != root and not (parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)):
            why = "Not a directory" if not parent.is_dir() else "Permission denied"
            raise ConfigError(f"cannot make the cache directory {root} ({why}: {parent}); set AL_CACHE_DIR to "
                              f"a directory you can write")
    except OSError as exc:  # a parent that cannot be searched
        raise ConfigError(f"cannot reach the cache directory {root} ({exc.strerror or exc}); set AL_CACHE_DIR to "
                          f"a directory you can write") from None


def cache_dir(*parts: str) -> Path:
    """``$AL_CACHE_DIR`` (default ``~/.cache/al``) joined with ``parts``, created (a
    :class:`~al.errors.ConfigError` in one line where it cannot be)."""
    from al.errors import ConfigError

    path = cache_root().joinpath(*parts)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        root = cache_root()
        what = f"the cache {root} is a file" if root.is_file() else f"cannot make {path} ({exc.strerror or exc})"
        raise ConfigError(f"{what}; set AL_CACHE_DIR to a directory you can write") from None
    return path


#: The file whose modification time says when a cache directory was last read or written.
USED_MARK = ".used"
#: Seconds after which a process that still reads a cache entry marks its use again.
MARK_EVERY = 3600.0
_marked: dict[str, float] = {}


def mark_used(path: Path) -> None:
    """Record that this process reads ``path`` (a cache directory or file): once, and again each ``MARK_EVERY``.

    A directory gets its ``.used`` file touched, a file its own times; ``python
    -m al.cache prune --unused-for DAYS`` reads them. A long-lived grid worker
    serving an entry from memory marks it again as it goes on reading it. A
    cache this process cannot write (a read-only archive) is read all the same.
    """
    key, now = os.path.realpath(path), time.monotonic()
    if now - _marked.get(key, -MARK_EVERY) < MARK_EVERY:
        return
    _marked[key] = now
    try:
        if path.is_dir():
            (path / USED_MARK).touch()
        else:
            os.utime(path)
    except OSError:
        pass


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

    lock = FileLock(str(path))  # takes the file anew on each try: one removed meanwhile (a prune) is not held
    try:
        lock.acquire(timeout=0 if _DEFER_BUSY.get() else -1)
    except Timeout:
        raise CacheBusy(path) from None
    try:
        yield
    finally:
        lock.release()


# ---------------------------------------------------------------- what the cache holds

#: Kernel-keyed entries end in ``-{precision}-{device}[-emulated]-{tag}-{hash}`` (al.embedders.precision_key).
_ARITHMETIC = re.compile(r"-(fp32|bf16)-([a-z]+)(-emulated)?-([a-z0-9]+-[0-9a-f]{8})$")
#: Seconds a lock file may sit unheld before a prune removes it (a newer one may be about to be taken).
LOCK_GRACE = 3600.0


@dataclass(frozen=True)
class CacheEntry:
    """One thing the cache holds: a directory of vectors, a head, a parsed corpus, a model's files.

    ``status`` is ``"read here"``, ``"other kernels"`` (computed by another
    CPU or GPU, or with other torch / transformers / sentence-transformers
    versions: read only there), ``"old format"`` (a key no current version
    makes: one without the kernels, or with a model's bare name where keys now
    name its weights), or ``""`` where the key does not name kernels (corpora,
    models).
    """

    kind: str
    path: Path
    size: int
    last_used: float
    status: str

    @property
    def name(self) -> str:
        return self.path.name


#: What a cache file that could not be read is renamed to end in (:func:`set_aside_damaged`).
DAMAGED_SUFFIX = ".damaged"


def _size_and_time(path: Path) -> tuple[int, float]:
    """Bytes under ``path`` and the latest modification time of a file in it (its ``.used`` mark included; the
    folder's own time where it holds none). Files set aside as damaged are entries of their own, not counted here;
    lock files and the folder's own time are not a use (a prune that takes or removes a stale lock touches them)."""
    if path.is_file():
        stat = path.stat()
        return stat.st_size, stat.st_mtime
    size, latest = 0, None
    for item in path.rglob("*"):
        try:
            stat = item.lstat()
        except OSError:  # removed meanwhile
            continue
        if item.is_file() and not item.name.endswith(DAMAGED_SUFFIX):
            size += stat.st_size
            if not _is_lock(item):
                latest = stat.st_mtime if latest is None else max(latest, stat.st_mtime)
    return size, path.stat().st_mtime if latest is None else latest


def _is_lock(path: Path) -> bool:
    """Whether ``path`` is a cache lock file (``.lock-*`` in an entry, ``.*.lock`` beside a head)."""
    return path.name.startswith(".lock-") or (path.name.startswith(".") and path.name.endswith(".lock"))


def _status(key: str, model: str, local: Sequence[str]) -> str:
    """Whether a kernel-keyed entry's ``key`` names this machine's kernels (``local``: its arithmetic keys).

    ``model``: the key's model part (:func:`al.models.model_key`), which names
    the weights (``NAME@...``) or a local directory (``path-...``); a bare name
    is an older format.
    """
    found = _ARITHMETIC.search(key)
    if found is None or not ("@" in model or model.startswith("path-")):
        return "old format"
    return "read here" if found.group(4) in local else "other kernels"


def local_arithmetic_keys(kinds: Sequence[str] = ("cpu",)) -> list[str]:
    """:func:`al.device.arithmetic_key` of this machine's CPU, and of each GPU when ``"cuda"`` is asked and present."""
    from al.device import arithmetic_key

    keys = [arithmetic_key("cpu")]
    if "cuda" in kinds:
        try:
            import torch

            keys += [arithmetic_key("cuda", i) for i in range(torch.cuda.device_count())]
        except ImportError:
            pass
    return keys


def _hidden(path: Path) -> bool:
    """A name starting with a dot: a temporary being written (:func:`al.io.atomic_file`), a lock, a mark."""
    return path.name.startswith(".")


def cache_entries(root: Path | None = None) -> list[CacheEntry]:
    """Everything under the cache ``root`` (default :func:`cache_root`), largest first."""
    root = cache_root() if root is None else root
    found: list[tuple[str, Path, bool]] = []  # kind, path, keyed by kernels
    for kind, folder, keyed in (("embeddings", root / "embeddings", True),
                                ("ALPS surprisal", root / "alps" / "surprisal", True),
                                ("models", root / "models", False)):
        if folder.is_dir():
            found += [(kind, p, keyed) for p in sorted(folder.iterdir()) if p.is_dir() and not _hidden(p)]
    heads = root / "alps" / "heads"
    if heads.is_dir():
        found += [("ALPS head", p, True) for p in sorted(heads.glob("*/*.pt")) if not _hidden(p)]
    corpora = root / "corpora"
    if corpora.is_dir():
        found += [("corpus", p, False) for p in sorted(corpora.glob("*/*"))
                  if p.is_file() and not _hidden(p) and not p.name.endswith(DAMAGED_SUFFIX)]
    found += [("damaged file", p, False) for p in sorted(root.rglob(f"*{DAMAGED_SUFFIX}")) if p.is_file()]
    kinds = {_ARITHMETIC.search(p.stem if p.is_file() else p.name) for _, p, keyed in found if keyed}
    local = local_arithmetic_keys([m.group(2) for m in kinds if m is not None])
    entries = []
    for kind, path, keyed in found:
        try:
            size, used = _size_and_time(path)
        except OSError:  # removed meanwhile
            continue
        model = path.parent.name if kind == "ALPS head" else path.name
        status = _status(path.stem if path.is_file() else path.name, model, local) if keyed else (
            "set aside" if kind == "damaged file" else "")
        entries.append(CacheEntry(kind, path, size, used, status))
    return sorted(entries, key=lambda e: -e.size)


def stale_locks(root: Path, now: float | None = None, remove: bool = False) -> list[Path]:
    """Lock files under ``root`` that no process holds and that are older than ``LOCK_GRACE``.

    Each computation that fills a cache (a pool's vectors, a head) takes a
    lock file of its own and leaves it behind; nothing reads them afterwards.
    With ``remove``, each is removed while this process holds it; a process
    that was waiting for it then finds it gone and takes a new one
    (:func:`cache_lock`).
    """
    from filelock import FileLock, Timeout

    now = time.time() if now is None else now
    out = []
    for path in [*root.glob("embeddings/*/.lock-*"), *root.glob("alps/surprisal/*/.lock-*"),
                 *root.glob("alps/heads/*/.*.lock")]:
        try:
            if now - path.stat().st_mtime < LOCK_GRACE:
                continue
            lock = FileLock(str(path))
            lock.acquire(timeout=0)
        except (OSError, Timeout):
            continue
        try:
            if remove:
                path.unlink(missing_ok=True)
        finally:
            lock.release()
        out.append(path)
    return out


def temporaries(root: Path, now: float | None = None, older_than: float | None = None,
                remove: bool = False) -> list[tuple[Path, int, float]]:
    """The temporaries under ``root`` (``.NAME.XXXX.tmp``: a write in progress, or one a killed writer left,
    :func:`al.io.atomic_file`) untouched for ``older_than`` seconds (None: any age), with their bytes and when
    last touched; with ``remove``, removed. A run removes those a day old beside what it writes
    (:data:`al.io.STALE_SECONDS`)."""
    now = time.time() if now is None else now
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):  # never into a temporary folder: what it holds is its own
        found += [Path(folder, name) for name in files if name.startswith(".") and name.endswith(".tmp")]
        found += [Path(folder, name) for name in dirs if name.startswith(".") and name.endswith(".tmp")]
        dirs[:] = [name for name in dirs if not (name.startswith(".") and name.endswith(".tmp"))]
    out = []
    for path in sorted(found):
        try:
            folder = path.is_dir() and not path.is_symlink()
            # a folder's age is its newest file's: one written into deep down is a live write
            size, touched = _size_and_time(path) if folder else (path.lstat().st_size, path.lstat().st_mtime)
            if older_than is not None and now - touched < older_than:
                continue
            if remove and folder:
                shutil.rmtree(path)
            elif remove:
                path.unlink()
        except OSError:  # removed meanwhile (its writer finished, another prune)
            continue
        out.append((path, size, touched))
    return out


def _said_each_or_counted(verb: str, paths: Sequence[Path], root: Path, what: str, plural: str) -> list[str]:
    """A line per path (``removed embeddings/X/.lock-1 (a lock file nothing holds)``) up to three; more are one
    line, counted, with the folders they are in (a day's runs leave a lock file each)."""
    if len(paths) <= 3:
        return [f"{verb} {p.relative_to(root)} ({what})" for p in paths]
    folders = sorted({str(p.parent.relative_to(root)) for p in paths})
    return [f"{verb} {len(paths)} {plural} in {counted(len(folders), 'folder')} ({', '.join(folders[:2])}"
            f"{' and more' if len(folders) > 2 else ''})"]


def _megabytes(size: int) -> str:
    """``size`` bytes in binary units: ``22.1 MiB``, ``4.9 KiB`` below one MiB, ``5 B`` below 100 bytes (not a
    ``0.0 KiB`` that reads as empty)."""
    if size < 100:
        return f"{size} B"
    return f"{size / 2**20:,.1f} MiB" if size >= 2**20 else f"{size / 2**10:,.1f} KiB"


def _day(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))


def environment_line(local: Sequence[str]) -> str:
    """What "read here" is judged by: this environment's kernel keys, and the kernel variables set in it."""
    from al.device import KERNEL_VARIABLES

    set_here = [f"{name}={os.environ[name]}" for name in KERNEL_VARIABLES if os.environ.get(name)]
    return (f"read here: computed with this environment's kernels and library versions ({', '.join(local)}"
            f"{'; ' + ', '.join(set_here) if set_here else ''}); run this where the simulations run; '-': an "
            f"entry that depends on no kernel (a parsed corpus), read anywhere")


def format_entries(entries: Sequence[CacheEntry], root: Path, local: Sequence[str] = ()) -> str:
    """The listing ``python -m al.cache`` prints: what "read here" means, one line per entry, then the total."""
    lines = [environment_line(local)] if local else []
    lines.append(f"{'kind':<15} {'size':>10}  {'last used':<16}  {'status':<13}  entry")
    for e in entries:
        lines.append(f"{e.kind:<15} {_megabytes(e.size):>10}  {_day(e.last_used):<16}  {e.status or '-':<13}  "
                     f"{e.path.relative_to(root)}")
    total = sum(e.size for e in entries)
    lines.append(f"{counted(len(entries), 'entry', 'entries')}, {_megabytes(total)} in {root}")
    left = temporaries(root)
    if left:  # named nowhere else (those inside an entry's folder count in its size too)
        now = time.time()
        old = sum(now - touched >= STALE_SECONDS for _, _, touched in left)
        size = _megabytes(sum(n for _, n, _ in left))
        lines.append(f"temporaries: {len(left)} ({size}), writes in progress or left by killed ones; {old} a day "
                     f"old, which prune removes")
    return "\n".join(lines)


def _remove(path: Path) -> None:
    """Remove one entry (a symbolic link to one elsewhere: the link), a head's lock with it."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
        lock = path.with_name(f".{path.stem}.lock")  # a head's lock goes with it
        if lock.exists():
            lock.unlink()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m al.cache [list]`` and ``python -m al.cache prune ...``; see ``--help``."""
    from al.cli import ArgumentParser

    parser = ArgumentParser(
        prog="python -m al.cache",
        description="List what al's cache ($AL_CACHE_DIR, default ~/.cache/al) holds, or remove what is no longer "
        "read. Removing an entry loses nothing but time: a run that needs it computes it again, bit for bit.",
        epilog="exit status: 0; 2 for a refused option; 130 on Ctrl-C",
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("list", help="each entry: kind, size, last use, whether this machine reads it (the default)")
    prune = sub.add_parser(
        "prune",
        help="remove entries by the criteria given (at least one), lock files nothing holds, and what killed "
        "writes left",
        description="Remove every entry that meets any criterion given, lock files that no process holds "
        "(older than an hour), and temporaries a killed write left (a day old). Run it while no simulation uses "
        "the cache.")
    prune.add_argument("--unused-for", type=float, metavar="DAYS", default=None,
                       help="entries neither read nor written for DAYS days")
    prune.add_argument("--not-read-here", action="store_true",
                       help="entries no run in this environment reads: an old key format, or other kernels (another "
                       "CPU or GPU, other torch / transformers / sentence-transformers versions, or other kernel "
                       "variables such as ATEN_CPU_CAPABILITY): run it where the simulations run. On a cache shared "
                       "by several machines (a Ray cluster), this removes the others' entries too. Vectors of a "
                       "model version no longer used are read here if asked: --unused-for removes them")
    prune.add_argument("--damaged", action="store_true",
                       help="files set aside as NAME.damaged: cache files that could not be read (a disk's fault, a "
                       "copy cut short), kept for a look; what they held was computed again")
    prune.add_argument("--dry-run", action="store_true", help="say what would be removed, remove nothing")
    args = parser.parse_args(argv)
    if args.command == "prune":
        if args.unused_for is None and not args.not_read_here and not args.damaged:
            prune.error("prune needs a criterion: --unused-for DAYS, --not-read-here, --damaged, or more of them")
        if args.unused_for is not None and not args.unused_for >= 0:
            prune.error(f"--unused-for must be a number of days >= 0; got {args.unused_for:g}")
    root = cache_root()
    if root.exists() and not root.is_dir():
        print(f"error: the cache {root} is a file; expected a directory: set AL_CACHE_DIR to a directory",
              file=sys.stderr)
        return 2
    if not root.is_dir():
        print(f"{root} does not exist: nothing cached yet", file=sys.stderr)
        return 0
    try:
        entries = cache_entries(root)
        if args.command != "prune":
            print(format_entries(entries, root, local_arithmetic_keys(_kinds(entries))))
            return 0
        now = time.time()
        doomed = [e for e in entries
                  if (args.not_read_here and e.status in ("old format", "other kernels"))
                  or (args.damaged and e.kind == "damaged file")
                  or (args.unused_for is not None and now - e.last_used > args.unused_for * 86400)]
        # an entry's damaged files go with it
        doomed += [e for e in entries if e.kind == "damaged file" and e not in doomed
                   and any(e.path.is_relative_to(d.path) if d.path.is_dir() else
                           e.path == d.path.with_name(d.path.name + DAMAGED_SUFFIX) for d in doomed)]
        verb = "would remove" if args.dry_run else "removed"
        for e in doomed:
            if not args.dry_run:
                try:
                    _remove(e.path)
                except FileNotFoundError:  # a damaged file inside an entry removed before it
                    pass
                except OSError as exc:
                    print(f"error: cannot remove {e.path}: {exc.strerror or exc}; check its permissions (nothing "
                          f"after it was removed)", file=sys.stderr)
                    return 2
            print(f"{verb} {e.path.relative_to(root)} ({e.kind}, {_megabytes(e.size)}, last used "
                  f"{_day(e.last_used)}{', ' + e.status if e.status else ''})")
        locks = stale_locks(root, now, remove=not args.dry_run)
        for line in _said_each_or_counted(verb, locks, root, "a lock file nothing holds", "lock files nothing holds"):
            print(line)
        left = temporaries(root, now, older_than=STALE_SECONDS, remove=not args.dry_run)
        for line in _said_each_or_counted(verb, [p for p, _, _ in left], root, "a temporary a killed write left",
                                          "temporaries killed writes left"):
            print(line)
        kept = len(entries) - len(doomed)
        leftovers = (f", {counted(len(left), 'temporary', 'temporaries')} ({_megabytes(sum(n for _, n, _ in left))})"
                     if left else "")
        removed = f"{counted(len(doomed), 'entry', 'entries')} ({_megabytes(sum(e.size for e in doomed))})"
        print(f"{verb} {removed}{leftovers} and {counted(len(locks), 'lock file', 'lock files')}; "
              f"{counted(kept, 'entry', 'entries')} kept", file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted; entries are removed one at a time, run the same command again for the rest",
              file=sys.stderr)
        return 130
    except BrokenPipeError:  # the listing piped into head: what was read is enough
        sys.stdout = open(os.devnull, "w")
        return 0
    except OSError as exc:
        print(f"error: cannot read {exc.filename or root}: {exc.strerror or exc}; check its permissions",
              file=sys.stderr)
        return 2
    return 0


def _kinds(entries: Sequence[CacheEntry]) -> list[str]:
    """The device types the kernel-keyed entries name (``cpu``, ``cuda``)."""
    found = (_ARITHMETIC.search(e.path.stem if e.path.is_file() else e.path.name) for e in entries if e.status)
    return sorted({m.group(2) for m in found if m is not None})


def set_aside_damaged(path: Path, exc: BaseException, then: str) -> None:
    """Rename a cache file that cannot be read to ``<name>.damaged`` (no later read trips on it; kept for a
    look) and warn in one line naming it, what was wrong and what happens ``then``."""
    import warnings

    target = path.with_name(path.name + ".damaged")
    try:
        os.replace(path, target)
        os.utime(target)  # its age is since it was set aside: python -m al.cache prune --unused-for keeps it a while
        aside = f"set aside as {target.name}"
    except FileNotFoundError:  # another process set it aside first
        return
    except OSError as rename:
        aside = f"left where it is (it cannot be renamed either: {rename.strerror or rename})"
    warnings.warn(f"cache file {path} cannot be read ({type(exc).__name__}: {' '.join(str(exc).split())[:160]}); "
                  f"{aside}, {then}", UserWarning, stacklevel=3)


if __name__ == "__main__":
    sys.exit(main())
