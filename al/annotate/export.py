"""``python -m al.annotate export SESSION_DIR -o labeled.jsonl``: a session's labels in al's JSON-lines format.

One JSON object per labeled text, in the data file's order::

    {"id": "17", "text": "...", "food": 1, "water": 0, "shelter": 0, "source": "person"}

one 0/1 column per label, as ``--dataset jsonl`` reads them (see
:mod:`al.datasets.tabular`); ``source`` is ``given`` (labeled in the data
file) or ``person`` (answered in the session; the latest answer when it was
changed). Skipped texts and texts nobody answered are left out. Load it
with ``python -m al.simulate --dataset jsonl --data-path labeled.jsonl``
(split 80/10/10 by the loader, as any file without a ``split`` column).
An ``id`` is always a string: an integer id of the data file is written as
its decimal string (``17`` -> ``"17"``), a text without one as its row number.

Every answer in the session's database is written, even where the data
file changed since the session began (its answers are never held hostage
by a file edited since): an answer whose id the file still holds with the
same text is written as above, any other from the database alone, with
the text the database kept (``"text": null`` where it kept none), and the
command says so in one line (:func:`session_rows`). ``--data FILE`` names
the data file where it lies now, if it moved.

The data file is read as the session recorded (:mod:`al.annotate.data`); a
session started before sessions recorded their label columns, on a file
that gives labels both ways, is read as it began (the 0/1 columns, the
``labels`` list overriding them row by row), checked against what it
recorded (:func:`session_facts`), here as on its resume.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from al.annotate.data import (SessionFacts, SessionTexts, file_digest, old_session_reading, read_session_texts,
                              recorded_reading, resolve_reading)
from al.annotate.store import DB_FILE, connect_read_only, has_texts, read_meta
from al.errors import ALError, ConfigError, DataError, ForeignConfigError, closest
from al.io import write_atomic
from al.progress import counted
from al.records import CONFIG_FILE, ROUNDS_FILE, read_config, read_rounds


def stored_session(directory: str | Path) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The ``config.json`` of the session in ``directory`` and its database's ``meta`` (``{}`` without one);
    None where the directory holds no session (nothing, or a simulation's run).

    Raises
    ------
    ConfigError, DataError
        A damaged ``config.json``, or a database file that is not a session's.
    """
    stored = run_config(directory)
    if stored is None or not isinstance(stored["config"].get("session"), dict):
        return None
    return stored, read_meta(directory)


def run_config(directory: str | Path) -> dict[str, Any] | None:
    """:func:`al.records.read_config`, None for another program's ``config.json`` (JSON that is no run's settings,
    :class:`~al.errors.ForeignConfigError`)."""
    try:
        return read_config(Path(directory))
    except ForeignConfigError:
        return None


def no_session(directory: str | Path) -> ConfigError:
    """The one line for a ``directory`` that holds no annotation session: nothing, a session's files but not all,
    or a ``config.json`` that no session wrote (a simulation's run, another program's file)."""
    try:
        stored = read_config(Path(directory))
        foreign = stored is not None and not isinstance(stored["config"].get("session"), dict)
    except ForeignConfigError:
        foreign = True
    except ALError:  # a damaged file (said so where the session is read)
        foreign = False
    if foreign:
        return ConfigError(f"{directory} holds a {CONFIG_FILE} that no annotation session wrote (a simulation's "
                           f"run, or another program's file); pass the --out of python -m al.annotate")
    if not Path(directory).exists():  # a misspelt folder: the sessions beside it are the likely meant ones
        parent = Path(directory).parent
        try:
            beside = [entry.name for entry in parent.iterdir() if (entry / DB_FILE).is_file()] if parent.is_dir() else []
        except OSError:
            beside = []
        guess = closest(Path(directory).name, beside)
        return ConfigError(f"{directory} does not exist{f' (did you mean {parent / guess}?)' if guess else ''}; "
                           f"pass the --out of python -m al.annotate")
    return ConfigError(f"{directory} holds no annotation session ({CONFIG_FILE} and {DB_FILE}); pass the --out of "
                       f"python -m al.annotate")


def session_facts(directory: str | Path, session: Mapping[str, Any]) -> SessionFacts:
    """What the session in ``directory`` recorded of the labels its data file gave it (:class:`SessionFacts`).

    ``session``: the ``session`` block of its ``config.json`` (``n_given``).
    Round 0's record (``rounds.jsonl``) gives the texts it started from and
    its label counts, where it has them; the database, its answers (read
    only), and what round 0 read of them where it kept that for each (its
    ``versions`` table: answers from before it leave round 0 uncompared).

    Raises
    ------
    ConfigError, DataError
        A damaged ``rounds.jsonl``, or a database file that is not a session's.
    """
    directory = Path(directory)
    rounds = read_rounds(directory)
    first = rounds[0] if rounds and rounds[0].get("round") == 0 else {}
    initial = first.get("initial")
    counts = first.get("labeled_counts")
    if not (isinstance(initial, list) and all(isinstance(i, int) for i in initial)):
        initial = None
    if not (isinstance(counts, dict) and all(isinstance(n, int) for n in counts.values())):
        counts = None
    answered: frozenset[int] = frozenset()
    round0: dict[int, tuple[tuple[str, ...], bool]] | None = None  # None: not kept (nothing to compare round 0 with)
    db_path = directory / DB_FILE
    if db_path.is_file():
        db = connect_read_only(db_path)
        try:
            rounds_asked = db.execute("SELECT pool_index, round FROM answers").fetchall()
            answered = frozenset(int(i) for i, _ in rounds_asked)
            if db.execute("SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?", ("table", "versions")).fetchone():
                round0 = {int(i): (tuple(json.loads(labels)), bool(skipped)) for i, labels, skipped in db.execute(
                    "SELECT pool_index, labels, skipped FROM versions WHERE round = ?", (0,))}
                if set(round0) != {int(i) for i, r in rounds_asked if r == 0}:
                    round0 = None  # answers from before the table kept what each round read
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{db_path} is not a session database ({exc}); restore the session's "
                              f"database") from None
        finally:
            db.close()
    n_given = session.get("n_given")
    if initial is None or round0 is None:
        return SessionFacts(n_given if isinstance(n_given, int) else None, answered)
    return SessionFacts(n_given if isinstance(n_given, int) else None, answered, tuple(initial), counts, round0)


@dataclass(frozen=True)
class SessionExport:
    """The rows an export writes and what it tells about them (:func:`session_rows`).

    Attributes
    ----------
    rows : list of dict
        One per labeled text: ``id``, ``text``, one 0/1 column per label, ``source``.
    counts : dict
        ``given`` (labeled in the data file), ``person`` (answered), ``skipped`` (left out).
    data_path : Path
        The data file read.
    changed : bool
        The data file holds other bytes than when the session began.
    from_database : int
        Answers written from the session's database, not matched with the data
        file (only where it changed): the id, or its text, is not in the file as
        the session labeled it (see :func:`session_rows`).
    without_text : int
        Of those, rows whose text the database did not keep (``"text": null``).
    unreadable : str or None
        Why the changed data file could not be read as the session read it
        (every answer then comes from the database).
    """

    rows: list[dict[str, Any]]
    counts: dict[str, int]
    data_path: Path
    changed: bool = False
    from_database: int = 0
    without_text: int = 0
    unreadable: str | None = None
    given_left_out: tuple[int, int] | None = None  # (labeled in the file now, at the session's start)

    def warning(self) -> str | None:
        """One line for a data file that changed since the session began (None where it did not)."""
        if not self.changed:
            return None
        said = f"{self.data_path} changed since the session began (other bytes)"
        if self.unreadable is not None:
            said += f" and cannot be read as the session read it ({self.unreadable})"
        if not self.from_database:
            return (f"{said}; every answer still has its id and text there, so all are exported as usual (none "
                    f"needed the database's copy of its text){self._given_note()}")
        said += (f"; {counted(self.from_database, 'answer')} {'was' if self.from_database == 1 else 'were'} "
                 f"exported from the session's database (the file no longer holds "
                 f"{'its' if self.from_database == 1 else 'their'} id with the text the session showed)")
        if self.without_text:
            said += (f", {self.without_text} of them without {'its' if self.without_text == 1 else 'their'} text "
                     f"(\"text\": null: the database did not keep it); restore that file, or pass it with --data, "
                     f"to export them with their text")
        return said + self._given_note()

    def _given_note(self) -> str:
        if self.given_left_out is None:
            return ""
        now, then = self.given_left_out
        return (f"; the file labels {now} texts itself where the session began with {then}, so none of the file's "
                f"own labels was exported, only the session's answers (read the file itself for its labels)")


def matches_as_prefix(path: Path, digest: str) -> bool:
    """Whether the file at ``path`` begins with the bytes of SHA-256 ``digest``, up to a line end: the file a
    session began with, rows appended since (with or without the line end its last row lacked)."""
    state = hashlib.sha256()
    with open(path, "rb") as f:
        for line in f:
            if line.endswith(b"\n"):
                without = state.copy()
                without.update(line[:-1])
                if without.hexdigest() == digest:
                    return True
            state.update(line)
            if state.hexdigest() == digest:
                return True
    return False


def session_rows(directory: str | Path, given: Mapping[str, Any] | None = None,
                 data: str | Path | None = None) -> SessionExport:
    """The labeled texts of a session as export rows (:class:`SessionExport`), every answer of its database among them.

    ``given``: the options ``--text-column``, ``--label-sep``, ``--label-columns``
    given (keys of :data:`al.annotate.data.READING_FLAGS`). The session reads
    its data file as it recorded; one that recorded no label columns (started
    before sessions recorded them) as :func:`al.annotate.data.old_session_reading`
    says, where ``--label-columns`` given must read what it read.
    ``data``: the data file where it lies now (``--data``), instead of the path
    the session recorded.

    A data file with the bytes the session began with gives every row: those
    labeled in the file (``given``) and those answered (``person``), in the
    file's order. Where it changed since (a row appended, an editor re-saving
    it), each answer whose id the file still holds with the same text is
    written so too, the file's labeled rows as the file labels them now
    (a text a person answered keeps the person's answer); every other answer
    is written from the database after them (in the pool's order): its id,
    labels and the text the database kept (``"text": null`` where it kept none:
    answers stored before sessions kept their texts, unless the file still
    begins with the one the session labeled, or the session was resumed since).

    Raises
    ------
    ConfigError
        ``directory`` holds no session, its database belongs to another
        session, or an option given differs from the session's own.
        For a session that recorded no label columns, ``--label-columns``
        given that read other labels than it did (on its own data file).
    DataError
        The data file is not there, or cannot be read as the session read it
        (its own bytes).
    """
    directory = Path(directory)
    found = stored_session(directory)
    db_path = directory / DB_FILE
    if found is None or not db_path.is_file():
        raise no_session(directory)
    stored, meta = found
    config = stored["config"]
    session = config["session"]
    labels = list(config["labels"])
    data_path = Path(config["data_path"] if data is None else data)
    started_at = stored.get("data_file")  # the file as the session found it, whatever folder export runs in
    started_at = started_at if isinstance(started_at, str) else None
    if data is None and started_at is not None and started_at != str(data_path.resolve()):
        # the path as given, read from this folder, may be another file of that name: the session's own bytes
        # decide, and the file where the session found it comes first
        candidates = [Path(started_at), data_path]
        data_path = next((p for p in candidates if p.is_file() and file_digest(p) == session["data_sha256"]),
                         next((p for p in candidates if p.is_file()), data_path))
    expected = (stored.get("session") or {}).get("settings_digest")
    if expected is not None and meta.get("settings_digest") != expected:
        raise ConfigError(f"{db_path} holds the answers of another session (settings digest "
                          f"{meta.get('settings_digest')}, config.json says {expected}); export the directory it "
                          f"came from")
    if not data_path.is_file():
        state = "is a directory" if data_path.is_dir() else "is not there"
        if data is None:
            if started_at is not None:
                state = "is a directory" if Path(started_at).is_dir() else "is not there"
                raise DataError(f"the session's data file {started_at} {state} (nor is {config['data_path']} from "
                                f"here); pass --data FILE where it is now")
            raise DataError(f"the session's data file {data_path} {state} (paths are as given at start); run export "
                            f"from the directory the session was started in, or pass --data FILE where it is now")
        raise DataError(f"--data {data_path} {state}; expected the data file the session labeled (it began with "
                        f"{config['data_path']})")
    changed = file_digest(data_path) != session["data_sha256"]
    where = f"session {directory}"
    recorded = recorded_reading(session, meta, where)
    reading = resolve_reading(recorded, given or {}, where)
    texts: SessionTexts | None = None
    unreadable = None
    try:
        if "label_columns" not in recorded:  # a session from before they were recorded: read as it began
            reading = old_session_reading(data_path, labels, reading, session_facts(directory, session), where)
        texts = read_session_texts(data_path, labels, **reading.to_dict())
    except (ConfigError, DataError) as exc:
        if not changed:
            raise
        unreadable = str(exc)  # a file changed since: every answer comes from the database
    prefix = changed and matches_as_prefix(data_path, session["data_sha256"])
    db = connect_read_only(db_path)
    try:
        kept = "text" if has_texts(db) else "NULL"
        rows = db.execute(f"SELECT pool_index, text_id, labels, skipped, {kept} FROM answers "
                          f"ORDER BY pool_index").fetchall()
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{db_path} is not a session database ({exc})") from None
    finally:
        db.close()
    ids, pool = (texts.ids, texts.texts) if texts is not None else ([], [])
    index = {text_id: i for i, text_id in enumerate(ids)}
    at: dict[int, list[str]] = {}  # row of the file -> the person's labels
    apart: list[dict[str, Any]] = []  # answers written from the database
    counts = {"given": 0, "person": 0, "skipped": 0}
    without_text = 0
    for pool_index, text_id, chosen, skipped, text in rows:
        pool_index = int(pool_index)
        if skipped:
            counts["skipped"] += 1
            continue
        chosen = json.loads(chosen)
        counts["person"] += 1
        if not changed or (prefix and text is None):  # the file's row pool_index is the one the session labeled
            row = pool_index if pool_index < len(ids) and ids[pool_index] == text_id else None
        else:
            row = index.get(text_id)
            if row is not None and pool[row] != text:  # another text under that id now (or the text unknown)
                row = None
        if row is not None:
            at[row] = chosen
            continue
        without_text += text is None
        apart.append({"id": text_id, "text": text, **{name: int(name in chosen) for name in labels},
                      "source": "person"})
    answered_ids = {r["id"] for r in apart}
    n_given = session.get("n_given")
    given_left_out = None  # a changed file labeling other texts than the session began with: its labels are its own
    if changed and texts is not None and isinstance(n_given, int) and len(texts.given) != n_given:
        given_left_out = (len(texts.given), n_given)
    out: list[dict[str, Any]] = []
    for i, (text_id, text) in enumerate(zip(ids, pool)):
        if i in at:
            values, source = [int(name in at[i]) for name in labels], "person"
        elif i in texts.given and text_id not in answered_ids and given_left_out is None:
            values, source = texts.given[i].tolist(), "given"
            counts["given"] += 1
        else:
            continue
        out.append({"id": text_id, "text": text, **dict(zip(labels, values)), "source": source})
    return SessionExport(out + apart, counts, data_path, changed, len(apart), without_text, unreadable,
                         given_left_out)


#: Files of al's runs and sessions: export writes no file so named, wherever it lies (``answers.sqlite*`` too).
RECORD_FILES = (CONFIG_FILE, ROUNDS_FILE, DB_FILE)


def run_file(folder: str | Path) -> str | None:
    """The file that makes ``folder`` a run or session of al: its ``rounds.jsonl``, ``answers.sqlite``, or a
    ``config.json`` holding a run's settings (an object with its ``config``); None for any other folder."""
    folder = Path(folder)
    for name in (ROUNDS_FILE, DB_FILE):
        if (folder / name).exists():
            return name
    try:
        return CONFIG_FILE if read_config(folder) is not None else None
    except ALError:  # not a run's settings, or damaged
        return None


def check_output(directory: str | Path, output: str | Path, what: str = "output",
                 data: str | Path | None = None) -> None:
    """Refuse an ``output`` that is (links followed) a file of the session directory, its data or dev file
    (``data``: the data file given with ``--data``, besides the one the session recorded), a file named as al's
    records (:data:`RECORD_FILES`), or a file in the folder of another run or session (:func:`run_file`).

    Raises
    ------
    ConfigError
        One line naming the file ``output`` would have replaced; for an ``output``
        inside ``directory``, first that ``directory`` holds no session, where it does not.
    """
    target = Path(os.path.realpath(output))
    home = Path(os.path.realpath(directory))
    if target == home or home in target.parents:
        if stored_session(directory) is None or not (Path(directory) / DB_FILE).is_file():
            raise no_session(directory)
        # an example beside it, never in it: the working directory may be the session's own
        beside = home.parent / "labeled.jsonl"
        relative = os.path.relpath(beside)  # below the working directory, or just above it (from the session's own)
        outside = relative if not relative.startswith("..") or relative == os.path.join("..", beside.name) \
            else str(beside)
        raise ConfigError(f"{what} {output} is inside the session directory {directory} (its answers, records and "
                          f"config live there); write the export elsewhere, e.g. {what} {outside}")
    config = (run_config(directory) or {}).get("config", {})
    session = config.get("session") if isinstance(config.get("session"), dict) else {}
    for name, path in (("data file", config.get("data_path")), ("data file", None if data is None else str(data)),
                       ("dev file", session.get("dev"))):
        if isinstance(path, str) and path and Path(os.path.realpath(path)) == target:
            raise ConfigError(f"{what} {output} is the session's {name} {path}, which export would replace; "
                              f"write the export to another file, e.g. {what} labeled.jsonl")
    for path in dict.fromkeys((Path(output), target)):  # as given, and the file a link names
        named = next((n for n in RECORD_FILES if path.name == n or n == DB_FILE and path.name.startswith(n)), None)
        if named is not None:
            raise ConfigError(f"{what} {output} is named as al's {named} of a run or session, which export must not "
                              f"write; name the export otherwise, e.g. {what} labeled.jsonl")
        held = run_file(path.parent)
        if held is not None:
            raise ConfigError(f"{what} {output} is in {path.parent}, which holds a run or session of al (its "
                              f"{held}); write the export elsewhere, e.g. {what} labeled.jsonl")


def check_output_folder(output: str | Path, what: str = "output") -> None:
    """Refuse an ``output`` whose folder does not exist (export makes no folder), in one line."""
    parent = Path(output).parent
    if not parent.is_dir():
        state = "is a file" if parent.exists() else "does not exist"
        fix = f"create it first (mkdir -p {parent})" if not parent.exists() else "give a path in a folder"
        raise ConfigError(f"the folder of {what} {output} ({parent}) {state}; {fix}, or write the export elsewhere")


def export_session(directory: str | Path, output: str | Path, what: str = "output",
                   given: Mapping[str, Any] | None = None, data: str | Path | None = None) -> SessionExport:
    """Write :func:`session_rows` to ``output`` (atomically); returns them (counts, and a warning where the data
    file changed since the session began: :meth:`SessionExport.warning`).

    ``what`` names ``output`` in messages (``-o`` on the command line);
    ``given``: the reading options given, ``data``: the data file where it is now (:func:`session_rows`).

    Raises
    ------
    ConfigError
        See :func:`session_rows`; also ``output`` is a file of the session
        (:func:`check_output`), lies in a folder that does not exist, or cannot be written.
    """
    check_output_folder(output, what)
    exported = session_rows(directory, given, data)
    check_output(directory, output, what, data)
    try:
        write_atomic(Path(output), "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in exported.rows))
    except OSError as exc:
        raise ConfigError(f"cannot write {what} {output} ({exc.strerror or exc}); give a path in a folder you can "
                          f"write to") from None
    return exported
