"""Run directories: the resolved config and one JSON line per finished round.

Layout of a run directory::

    config.json    resolved settings, package version, corpus summary
    rounds.jsonl   one object per finished round (see ``al.engine``)

Both files are replaced atomically (:func:`al.io.write_atomic`: a temporary
file, fsync, rename), so a run killed at any moment leaves the last finished
round on disk, and a new start with the same directory continues from there,
if its settings and its data are the same. One process at a time writes a
run directory (:func:`run_lock`). A run has :func:`n_rounds` rounds.

A grid's out directory also holds ``preparations.jsonl``: one line per
once-per-pool task the grid ran apart from its runs (:func:`append_preparation`),
whose seconds are in no run's records.
"""
from __future__ import annotations

import fcntl
import json
import os
import tempfile
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import AbstractSet as Set, Any, Callable, Iterable, Iterator

from al.config import canonical, changed_settings, n_rounds  # noqa: F401 - n_rounds re-exported
from al.errors import ConfigError, DataError, ForeignConfigError, RunBusyError, and_more, spelled
from al.io import file_digest, remove_stale_temporaries, write_atomic  # noqa: F401 - write_atomic re-exported
from al.progress import counted

CONFIG_FILE = "config.json"
ROUNDS_FILE = "rounds.jsonl"
LOCK_FILE = ".lock"
#: In a grid's out directory: one JSON object per once-per-pool task that ended (al.grid writes, al.report reads).
PREPARATIONS_FILE = "preparations.jsonl"
#: Facts a run records in ``config.json`` while it runs, kept when it resumes.
RECORDED_FACTS = frozenset({"embeddings_digest", "classifier_model_key"})
#: Facts of how the first rounds were made, kept when a run resumes (each resume is listed in ``resumes``).
FIRST_FACTS = ("version", "packages", "device_type", "resumes")
#: The distributions whose versions a run records (``packages``): what its numbers were computed with.
RECORDED_PACKAGES = ("numpy", "scipy", "scikit-learn", "torch", "transformers", "sentence-transformers",
                     "faiss-cpu", "small-text", "modal-python")


def package_versions() -> dict[str, str]:
    """Python's and each of :data:`RECORDED_PACKAGES`' installed version (those installed), from their metadata:
    nothing is imported."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found

#: (run directory, thread) pairs whose lock is held here (:func:`run_lock` is re-entrant within a thread).
_HELD: set[tuple[str, int]] = set()


@contextmanager
def run_lock(directory: str | Path) -> Iterator[None]:
    """Hold ``DIRECTORY/.lock`` (``flock``, exclusive) while this process writes the run directory.

    A second process, or a second thread of this one, asking for it gets
    :class:`RunBusyError` at once: two writers of one directory would each
    rewrite ``rounds.jsonl`` from their own list. Re-entrant within a thread
    (a grid worker holds it around the run it starts). The file holds the
    holder's host and pid; it stays when released. Taking it removes the
    temporaries a killed write of ``config.json`` or ``rounds.jsonl`` left.
    """
    directory = Path(directory)
    key = (os.path.realpath(directory), threading.get_ident())
    if key in _HELD:
        yield
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        lock = open(directory / LOCK_FILE, "a+")
    except OSError as exc:
        raise ConfigError(f"run directory {directory} cannot be written ({exc.strerror or type(exc).__name__}); "
                          f"give an --out in a folder you can write") from None
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            raise RunBusyError(f"{directory} is being written by another process or thread (host and pid: {holder}); "
                               f"wait for it to finish, or pass another --out") from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.uname().nodename} {os.getpid()}\n")
        lock.flush()
        _HELD.add(key)
        for name in (CONFIG_FILE, ROUNDS_FILE):  # what a killed write left: no other writer can hold the lock
            remove_stale_temporaries(directory, f".{name}.", older_than=None)
        try:
            yield
        finally:
            _HELD.discard(key)


def being_written(directory: str | Path) -> bool:
    """Whether a process holds ``DIRECTORY/.lock`` (:func:`run_lock`): the run is going on rather than stopped.

    Read only: a lock taken to test it, even a shared one for an instant,
    turns away a writer starting at that moment (``run_lock`` does not wait).
    Linux lists the locks held in ``/proc/locks``; elsewhere the holder the
    file names (``host pid``) is asked whether it lives. A lock held on
    another machine (a shared disk) is not seen: read as not written.
    """
    directory = Path(directory)
    if any(held == os.path.realpath(directory) for held, _ in _HELD):
        return True
    lock = directory / LOCK_FILE
    try:
        stat = os.stat(lock)
        with open("/proc/locks") as table:
            held = table.read()
    except FileNotFoundError:
        if not lock.is_file():
            return False
        held = None
    except OSError:
        return False
    if held is not None:  # "1: FLOCK  ADVISORY  WRITE 32666 fe:00:2187385 0 EOF"; "1: -> FLOCK ..." waits for it
        key = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
        return any(len(fields) > 5 and fields[1] == "FLOCK" and fields[5] == key
                   for fields in map(str.split, held.splitlines()))
    holder = lock.read_text(errors="replace").split()
    if len(holder) != 2 or holder[0] != os.uname().nodename or not holder[1].isdigit():
        return False
    return process_alive(int(holder[1]))


def process_alive(pid: int) -> bool:
    """Whether a process ``pid`` of this machine lives (one of another user's too), asked without a signal."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # alive, another user's
        return True
    return True


def read_rounds(directory: Path) -> list[dict[str, Any]]:
    """The finished rounds of a run directory, in order ([] if none); :class:`DataError` for a damaged file."""
    path = Path(directory) / ROUNDS_FILE
    if not path.is_file():
        return []
    rounds = []
    lines = [(number, line) for number, line in enumerate(_read_text(path).splitlines(), 1) if line.strip()]
    for number, line in lines:
        try:
            record = _json(path, line, f"line {number}")
            if not isinstance(record, dict):
                raise DataError(f"{path} line {number} is not a round's record (a JSON object); {_remedy(path)}")
        except DataError as exc:
            if number != lines[-1][0] or _other_entries(path.parent):  # a session's: its answers decide, not this
                raise
            raise DataError(f"{exc}; or, since it is the last line (cut short, perhaps), delete that line alone: the "
                            f"run then resumes after its {counted(len(rounds), 'finished round')}") from None
        rounds.append(record)
    return rounds


def resume_with_settings(directory: Path) -> str:
    """How a refusal of other settings says to resume the run in ``directory`` (a lone run's way; a grid says its
    own, :func:`al.grid.its_directory`), ending where the other ways follow."""
    return (f"give the settings it was made with again (before each ->) and --out {directory} to resume it (--out "
            f"too: a default folder is named after the settings given), or ")


def _remedy(path: Path) -> str:
    """What to do about a records file that does not parse: runs write theirs whole, so another hand changed it.

    Removing the directory is offered only when it holds nothing but the
    records: a session's answers, for one, must never be advised away.
    """
    others = _other_entries(path.parent)
    if others:
        return (f"runs write their records whole, so it was edited or copied in part: restore it from a copy, or "
                f"move it aside; keep the rest of {path.parent} ({', '.join(sorted(others)[:3])})")
    return "runs write their records whole, so it was edited or copied in part: restore it, or remove the run " \
           "directory to run again"


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{path} is not UTF-8 text; {_remedy(path)}") from None


def _json(path: Path, text: str, where: str = "") -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        place = f"{path} {where}".rstrip()
        raise DataError(f"{place} is not JSON ({exc.msg}: column {exc.colno}); {_remedy(path)}") from None


def _other_entries(directory: Path) -> list[str]:
    """Names in a run directory besides its records and hidden files (a session's answers, a user's notes)."""
    return [p.name for p in Path(directory).iterdir() if p.name not in (CONFIG_FILE, ROUNDS_FILE)
            and not p.name.startswith(".")]


#: How deep below a new run's directory :func:`runs_below` looks (a grid's out holds runs one level down).
RUNS_BELOW_DEPTH = 2


def runs_below(directory: Path, depth: int = RUNS_BELOW_DEPTH) -> list[Path]:
    """Directories up to ``depth`` levels below ``directory`` that hold a run's records (a ``rounds.jsonl``, or a
    ``config.json`` of al's: a model folder's is another program's), sorted; hidden folders and those this user
    cannot read are left out. Bounded, so a large folder given as --out is not walked whole."""
    def holds_run(folder: Path) -> bool:
        if os.path.isfile(folder / ROUNDS_FILE):  # os.path: False, not an error, where it cannot look
            return True
        if not os.path.isfile(folder / CONFIG_FILE):
            return False
        try:
            return read_config(folder) is not None
        except (DataError, OSError):  # another program's JSON, or none at all
            return False

    found: set[Path] = set()
    level = [Path(directory)]
    for _ in range(depth):
        below = []
        for folder in level:
            try:
                below += [p for p in folder.iterdir() if not p.name.startswith(".") and os.path.isdir(p)]
            except OSError:  # unreadable: nothing known below it
                continue
        found.update(p for p in below if holds_run(p))
        level = below
    return sorted(found)


def read_config(directory: Path) -> dict[str, Any] | None:
    """A run directory's ``config.json`` (None if absent); :class:`DataError` for a damaged file."""
    path = Path(directory) / CONFIG_FILE
    if not path.is_file():
        return None
    stored = _json(path, _read_text(path))
    if not isinstance(stored, dict) or not isinstance(stored.get("config"), dict):  # JSON, but not a run's
        raise ForeignConfigError(f"{path} does not hold a run's settings (an object with its config): another "
                                 f"program's file, or one edited by hand; pass another --out (or directory), or "
                                 f"restore it from a copy")
    return stored


class RunRecords:
    """Writes and resumes one run directory: the only owner of its finished rounds.

    ``rounds`` holds the finished rounds, read from ``rounds.jsonl`` by
    :meth:`start` and extended by :meth:`append`; the engine resumes from it
    and from nothing else. ``meta`` is what ``config.json`` holds beside the
    settings.
    """

    #: What the directory holds, as a refusal names it.
    what = "run"
    #: A run with other settings that finished no round (nothing else in its directory) is started afresh, not
    #: refused: a value refused once the run began (a classifier's, in its first fit) left only its config.json.
    replaces_unfinished = True
    #: Settings a resume may raise: a run asked for a larger budget continues the stored one
    #: (:func:`al.config.rounds_continued` says from which round).
    raisable = frozenset({"budget"})

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.rounds: list[dict[str, Any]] = []
        self.settings: dict[str, Any] = {}
        self.meta: dict[str, Any] = {}
        self._config_pending = False  # a resume's config.json waits for its first new round
        self.dropped_rounds: list[dict[str, Any]] = []  # the stored rounds start() left to be computed again (a
        # raised budget), as stored: rounds.jsonl keeps them until the first new round
        self.raised: dict[str, list[Any]] = {}  # raisable settings raised since the stored rounds: key -> [old, new]
        self.raised_on_stored: dict[str, list[Any]] = {}  # ... since the stored config.json: key -> [stored, new]
        self._replaced: str | None = None  # what compare() found replaceable (a run that finished no round)

    @property
    def dropped(self) -> int:
        """How many stored rounds start() left to be computed again (a raised budget)."""
        return len(self.dropped_rounds)

    @property
    def dropped_labeled(self) -> list[int]:
        """The labeled-set sizes of :attr:`dropped_rounds`."""
        return [int(r.get("n_labeled", -1)) for r in self.dropped_rounds]

    def start(
        self,
        settings: dict[str, Any],
        meta: dict[str, Any],
        stored_settings: Callable[[dict[str, Any]], dict[str, Any]] = lambda stored: stored.get("config", {}),
        continued: Callable[[list[dict[str, Any]]], int] | None = None,
    ) -> list[dict[str, Any]]:
        """Begin, or resume if the directory holds a run of the same settings.

        A new run writes ``config.json`` now. A resume leaves the directory
        as it is until its first new round (:meth:`append`): a finished run
        run again, or a resume refused later (other embeddings), changes
        nothing. It then keeps the ``version`` of the first rounds and adds
        an entry to ``resumes``: after which round, under which version, and
        the settings that changed (those that do not change results, such as
        ``threads``), and, where the data file was re-saved with other bytes
        but the same corpus, its ``data_digest`` before and after (the new
        one is recorded), and where a user's strategy's file changed
        (``strategy_source``), its digest before and after.

        Parameters
        ----------
        settings : the run's resolved settings (``config`` in ``config.json``)
        meta : written beside them; facts recorded earlier (``note``) are kept;
            ``data_digest`` and ``corpus_digest`` are compared with the stored ones
        stored_settings : a stored ``config.json`` -> its resolved settings
            (maps the layouts of earlier versions)
        continued : the stored rounds -> how many of them this run continues
            from (a raised budget recomputes the rounds that picked for the
            old one); default all, and required where a budget was raised.
            Those after it are dropped from ``rounds.jsonl`` with the first
            new round, not before; ``dropped`` counts them, ``raised`` holds
            the raised settings as ``[old, new]``, and the ``resumes`` entries
            of rounds computed again are composed into this resume's.

        Returns
        -------
        The rounds already finished.

        Raises
        ------
        ConfigError
            If the directory holds a run whose settings differ in one that
            changes results (anything but ``NON_RESULT_SETTINGS``), or that
            read other data.
        """
        self._replaced = None
        previous = self.check(settings, stored_settings, data_digest=meta.get("data_digest"),
                              corpus_digest=meta.get("corpus_digest"))
        if self._replaced is not None:  # said here, holding the lock, not where it was only compared
            warnings.warn(self._replaced, UserWarning, stacklevel=2)
        stored = read_rounds(self.directory) if previous is not None else []
        old = stored_settings(previous) if previous is not None else {}
        self.raised = {k: [old[k], settings[k]] for k in self.raisable
                       if k in old and k in settings and _raised(old[k], settings[k])}
        self.raised_on_stored = dict(self.raised)  # a budget raised twice: [35, 38], where raised may say [30, 38]
        if self.raised and continued is None:  # the stored last round picked for the old budget: never kept as is
            raise ValueError(f"{', '.join(self.raised)} raised since the stored rounds: pass continued= to say which "
                             f"of them this run keeps (al.config.rounds_continued)")
        self.rounds = stored[: continued(stored)] if continued is not None else stored
        self.dropped_rounds = stored[len(self.rounds):]
        if not self.rounds:
            self.settings, self.meta = settings, dict(meta)
            if stored:  # every stored round is computed again: the stored run stays whole until the first new one
                self._config_pending = True
                # a run extended from its first round on: said as a resume after none (with any earlier entry, of
                # rounds computed again now, or of an extension killed before its first round)
                entries = [e for e in previous.get("resumes") or [] if isinstance(e, dict)]
                if entries or self.raised:
                    resume = _composed([*entries, {"after_round": 0, "version": meta.get("version"),
                                                   "changed": dict(self.raised)}])
                    self.meta["resumes"] = [resume]
                    self.raised.update(_raised_in(resume, self.raisable))
            else:
                self._write_config()
            return []
        kept = {k: v for k, v in previous.items() if k in RECORDED_FACTS or k in FIRST_FACTS}
        resume = {"after_round": len(self.rounds), "version": meta.get("version"),
                  "changed": {k: [old.get(k), v] for k, v in settings.items()
                              if k in old and canonical(k, old.get(k)) != canonical(k, v)}}
        if None not in (previous.get("data_digest"), meta.get("data_digest")) and \
                previous["data_digest"] != meta["data_digest"]:  # the same corpus from a re-saved file
            resume["data_digest"] = [previous["data_digest"], meta["data_digest"]]
        for fact in ("packages", "device_type"):  # what the resumed rounds were computed with, where it changed
            if fact not in meta:
                continue
            if fact not in previous:  # first rounds from before it was recorded: unknown, not today's
                kept[fact] = None
            first, now = previous.get(fact), meta[fact]
            if isinstance(now, dict):
                moved = {name: [(first or {}).get(name), v] for name, v in now.items() if (first or {}).get(name) != v}
            else:
                moved = [first, now] if first != now else None
            if moved:
                resume[fact] = moved
        before, now = previous.get("strategy_source") or {}, meta.get("strategy_source") or {}
        if before.get("digest") and now.get("digest") and before["digest"] != now["digest"]:  # a user edited it
            resume["strategy_source"] = [before["digest"], now["digest"]]
        # entries after the rounds kept describe rounds computed again (a raised budget), or none (a resume stopped
        # between config.json and its round's rounds.jsonl): composed into this one, so no change is lost
        earlier: list[dict[str, Any]] = []
        later: list[dict[str, Any]] = []
        for entry in kept.get("resumes") or []:
            if isinstance(entry, dict):
                after = entry.get("after_round")
                (earlier if isinstance(after, int) and after < len(self.rounds) else later).append(entry)
        if later:
            resume = _composed([*later, resume])
        kept["resumes"] = [*earlier, resume]
        self.raised.update(_raised_in(resume, self.raisable))  # raised by a resume that left no round, too
        self.settings = settings
        self.meta = {**meta, **kept}
        self._config_pending = True
        return list(self.rounds)

    def check(
        self,
        settings: dict[str, Any],
        stored_settings: Callable[[dict[str, Any]], dict[str, Any]] = lambda stored: stored.get("config", {}),
        data_digest: str | None = None,
        corpus_digest: str | None = None,
    ) -> dict[str, Any] | None:
        """Refuse, before anything is loaded or written, a directory that cannot hold this run.

        Returns the stored ``config.json`` (None for a new run).

        Raises
        ------
        ConfigError
            The directory holds a run with other result settings, is not a
            directory, or cannot be written.
        """
        previous = self.compare(settings, stored_settings, data_digest, corpus_digest)
        self.check_writable()
        return previous

    def compare(
        self,
        settings: dict[str, Any],
        stored_settings: Callable[[dict[str, Any]], dict[str, Any]] = lambda stored: stored.get("config", {}),
        data_digest: str | None = None,
        corpus_digest: str | None = None,
    ) -> dict[str, Any] | None:
        """Refuse a directory that holds a run with other result settings or other data; reads, never writes.

        ``data_digest``: the content digest of the data file ``settings`` name. A
        stored run that recorded the same digest read the same data, wherever the
        file lies now (runs and data moved together); one that recorded another
        read other bytes, at whatever path. ``corpus_digest``
        (:meth:`al.datasets.Corpus.digest`, known once the data is loaded): the
        texts, labels and splits the run reads, packaged data and directories
        included. A digest the stored run did not record is not compared. Where
        the stored run recorded its corpus digest, other ``data_options`` and
        other bytes of the data file are no change as long as they read the
        same corpus (:func:`left_to_corpus`; before the data is loaded, they
        are left to that comparison): a file converted to other line endings,
        or re-saved by an editor, is the same run.

        Returns the stored ``config.json`` (None for a new run).

        Raises
        ------
        ConfigError
            The directory holds a run with other result settings, or is a file.
        """
        if self.directory.exists() and not self.directory.is_dir():
            raise ConfigError(f"run directory {self.directory} is a file; pass a directory as --out")
        previous = read_config(self.directory)
        if previous is None and read_rounds(self.directory):
            raise ConfigError(f"{self.directory} holds finished rounds ({ROUNDS_FILE}) but no {CONFIG_FILE}, so "
                              f"their settings are unknown; restore its {CONFIG_FILE}, or pass another --out")
        if previous is None and self.directory.is_dir() and (nested := runs_below(self.directory)):
            # a grid's out, or a folder of runs: records written beside them would hide them from al.report
            shown = ", ".join(str(p.relative_to(self.directory)) for p in nested[:3]) + and_more(len(nested), 3)
            raise ConfigError(f"{self.directory} holds runs in its folders ({shown}): a grid's out or a folder of "
                              f"runs, not one {self.what}'s directory; give this {self.what} a folder of its own, "
                              f"e.g. --out {self.directory / 'NAME'}")
        if previous is not None:
            old = stored_settings(previous)
            changed = [k for k in changed_settings(old, settings)
                       if not (k in self.raisable and _raised(old.get(k), settings.get(k)))]
            if data_digest is not None and previous.get("data_digest") == data_digest:
                changed = [k for k in changed if k != "data_path"]  # the same bytes at another path
            described = file_digest(settings.get("label_descriptions"))  # by content too, as the data file is
            if described is not None and previous.get("label_descriptions_digest") == described:
                changed = [k for k in changed if k != "label_descriptions"]
            # what matters through what is read, when the corpus read is the same (or not loaded yet)
            excused = left_to_corpus(previous, settings, stored_settings, data_digest) \
                if corpus_digest in (None, previous.get("corpus_digest")) else []
            changed = [k for k in changed if k not in excused]
            details = [_difference(k, old.get(k, _NOT_SET), settings.get(k, _NOT_SET)) for k in changed[:5]]
            data = [f"{what} changed: {key} {str(previous[key])[:16]} -> {digest[:16]}"
                    for key, digest, what in (("data_digest", data_digest, "the data file's bytes"),
                                              ("corpus_digest", corpus_digest, "the texts, labels or splits it reads"),
                                              ("label_descriptions_digest", described,
                                               "the label descriptions file's bytes"))
                    if digest is not None and previous.get(key) not in (None, digest) and key not in excused]
            if details or data:
                kind = " and ".join(k for k, v in (("settings", details), ("data", data)) if v)
                details = "; ".join(details + data) + (f";{and_more(len(changed), 5)}" if len(changed) > 5 else "")
                empty = self.nothing_to_lose()
                if empty and self.replaces_unfinished:  # a setting refused after config.json was written, fixed
                    self._replaced = (f"{self.directory} held a {self.what} with other {kind} ({details}), and "
                                      f"{empty}: started afresh")  # warned by start(), under the lock
                    return None
                advice = (f"{empty}, so removing that directory loses nothing; or pass another --out" if empty
                          else "pass another --out" if _other_entries(self.directory)  # a session's answers, for one
                          else "pass another --out or remove that directory")
                if "budget" in changed and "budget" in self.raisable:  # lowered: a larger one would have continued it
                    advice = f"a budget can be raised to continue a run, not lowered: {advice}"
                elif details and not data and not empty:  # what it was made with is before each ->
                    advice = f"{resume_with_settings(self.directory)}{advice}"
                raise ConfigError(f"{self.directory} holds a {self.what} with other {kind} ({details}); {advice}")
        return previous

    def nothing_to_lose(self) -> str | None:
        """Why removing the directory would lose nothing (``"it finished no round"``, and nothing else is there), or
        None; a refusal of other settings then says so."""
        if read_rounds(self.directory) or _other_entries(self.directory):
            return None
        return "it finished no round"

    def check_writable(self) -> None:
        """Create a file in the directory and remove it again, leaving no folder it had to create."""
        missing = [p for p in (self.directory, *self.directory.parents) if not p.exists()]
        probe = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=self.directory, prefix=".write-check.")
            os.close(fd)
        except OSError as exc:
            raise ConfigError(
                f"cannot write the run directory {self.directory} ({exc.strerror or exc}); "
                f"pass an --out you can write to"
            ) from None
        finally:
            if probe is not None:
                Path(probe).unlink(missing_ok=True)
            for folder in missing:  # deepest first
                try:
                    folder.rmdir()
                except OSError:
                    break

    def note(self, **facts: Any) -> None:
        """Record facts learned while running (e.g. ``embeddings_digest``) in ``config.json``."""
        self.meta.update(facts)
        if not self._config_pending:
            self._write_config()

    def append(self, record: dict[str, Any]) -> None:
        """Add one finished round (rewrites ``rounds.jsonl`` atomically; a resume's ``config.json`` first)."""
        if self._config_pending:
            self._write_config()
            self._config_pending = False
        self._write(ROUNDS_FILE, _jsonl([*self.rounds, record]))
        self.rounds.append(record)

    def _write_config(self) -> None:
        self._write(CONFIG_FILE, json.dumps({"config": self.settings, **self.meta}, indent=2) + "\n")

    def _write(self, name: str, text: str) -> None:
        try:
            write_atomic(self.directory / name, text)
        except OSError as exc:
            raise ConfigError(
                f"cannot write {self.directory / name} ({exc.strerror or exc}); the finished rounds on disk are "
                f"intact: free space or fix permissions and run the same command again to resume"
            ) from None


def left_to_corpus(
    stored: dict[str, Any],
    settings: dict[str, Any],
    stored_settings: Callable[[dict[str, Any]], dict[str, Any]] = lambda stored: stored.get("config", {}),
    data_digest: str | None = None,
) -> list[str]:
    """What a stored run differs in that only its corpus digest can decide, once the data is loaded.

    ``data_options`` (how a file is read: naming the label columns an
    earlier version picked is the same run) and ``data_digest`` (the file's
    bytes: other line endings, a file re-saved by a spreadsheet) matter
    through what is read: the texts, labels and splits, whose digest the
    stored run recorded as ``corpus_digest``. A run stored without it: []
    (they are compared themselves).

    Parameters
    ----------
    stored : a run directory's ``config.json``
    settings : the resolved settings of the run to compare
    stored_settings : a stored ``config.json`` -> its resolved settings
    data_digest : the content digest of the data file ``settings`` name

    Returns
    -------
    The differing keys among ``data_options`` and ``data_digest``.
    """
    if stored.get("corpus_digest") is None:
        return []
    left = ["data_options"] if "data_options" in changed_settings(stored_settings(stored), settings) else []
    if data_digest is not None and stored.get("data_digest") not in (None, data_digest):
        left.append("data_digest")
    return left


def _composed(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """One ``resumes`` entry for consecutive ones (oldest first): the last's round and version, and each change
    from its value before the first to its value after the last (one that came back is none)."""
    def pair(first: Any, last: Any) -> Any:
        old = first[0] if isinstance(first, list) and len(first) == 2 else None
        return [old, last[1]] if isinstance(last, list) and len(last) == 2 else last

    out: dict[str, Any] = {}
    for entry in entries:
        for key, value in entry.items():
            if key in ("after_round", "version"):
                out[key] = value
            elif isinstance(value, dict):  # changed settings, package versions: name -> [before, after]
                merged = dict(out.get(key) or {})
                merged.update({name: pair(merged.get(name, now), now) for name, now in value.items()})
                out[key] = merged
            else:  # data_digest, device_type, strategy_source: [before, after]
                out[key] = pair(out.get(key, value), value)

    def same(value: Any) -> bool:
        return isinstance(value, list) and len(value) == 2 and value[0] == value[1]

    for key, value in list(out.items()):
        if isinstance(value, dict):
            out[key] = {k: v for k, v in value.items() if not same(v)}
            if not out[key] and key != "changed":
                del out[key]
        elif same(value):
            del out[key]
    out.setdefault("changed", {})
    return out


def _raised_in(resume: dict[str, Any], raisable: Set[str]) -> dict[str, list[Any]]:
    """The settings of ``raisable`` that a ``resumes`` entry raised, as ``[old, new]``."""
    return {k: pair for k, pair in (resume.get("changed") or {}).items()
            if k in raisable and isinstance(pair, list) and len(pair) == 2 and _raised(*pair)}


def _raised(old: Any, new: Any) -> bool:
    """Whether ``new`` is an integer larger than the integer ``old``."""
    integers = all(isinstance(v, int) and not isinstance(v, bool) for v in (old, new))
    return integers and new > old


_NOT_SET = object()  # a key one mapping has and the other has not


def _difference(key: str, old: Any, new: Any) -> str:
    """``strategy.params.k: 3 -> 5``: how a setting changed; another component is named alone (its params are
    another component's, not changed ones), and a key one side lacks is ``not set`` there."""
    if isinstance(old, dict) and isinstance(new, dict):
        if "name" in old and "name" in new and old["name"] != new["name"]:
            return f"{key}: {old['name']!r} -> {new['name']!r}"
        inner = sorted(k for k in set(old) | set(new) if old.get(k, _NOT_SET) != new.get(k, _NOT_SET))
        inner = [k for k in inner if not (k.endswith("_sha256") and k.removesuffix("_sha256") in inner)]  # its file's
        if inner and len(inner) <= 3:
            return "; ".join(_difference(f"{key}.{k}", old.get(k, _NOT_SET), new.get(k, _NOT_SET)) for k in inner)
    shown = ["not set" if value is _NOT_SET else spelled(value) for value in (old, new)]  # null, true: as given
    return f"{key}: {shown[0]} -> {shown[1]}"


def _jsonl(records: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)


def append_preparation(directory: Path, entry: dict[str, Any]) -> None:
    """Add ``entry`` as one line of ``directory / PREPARATIONS_FILE``.

    Written to a file opened for appending, then fsync: on a local file
    system two grid commands on one directory interleave whole lines, and a
    crash leaves at most a torn last line, which :func:`read_preparations`
    skips (the next entry starts on a line of its own). A log, not records:
    no result reads it.
    """
    line = (json.dumps(entry, sort_keys=True) + "\n").encode()
    fd = os.open(directory / PREPARATIONS_FILE, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":  # a torn line: never glue an entry to it
            line = b"\n" + line
        view = memoryview(line)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def read_preparations(directory: Path) -> list[dict[str, Any]]:
    """The entries of ``directory / PREPARATIONS_FILE`` in order; [] without the file. A line that is not a JSON
    object (a write a crash cut short, an edit) is skipped: the log serves the report, no result reads it."""
    path = directory / PREPARATIONS_FILE
    if not path.is_file():
        return []
    entries = []
    for line in path.read_bytes().decode("utf-8", "replace").splitlines():  # a garbled line is skipped too
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries
