"""``python -m al.annotate export SESSION_DIR -o labeled.jsonl``: a session's labels in al's JSON-lines format.

One JSON object per labeled text, in the data file's order::

    {"id": "17", "text": "...", "food": 1, "water": 0, "shelter": 0, "source": "person"}

one 0/1 column per label, as ``--dataset jsonl`` reads them (see
:mod:`al.datasets.tabular`); ``source`` is ``given`` (labeled in the data
file) or ``person`` (answered in the session; the latest answer when it was
changed). Skipped texts and texts nobody answered are left out. Load it
with ``python -m al.simulate --dataset jsonl --data-path labeled.jsonl``
(split 80/10/10 by the loader, as any file without a ``split`` column).

The data file is read as the session recorded (:mod:`al.annotate.data`); a
session started before sessions recorded their label columns, on a file
that gives labels both ways, is read as it began (the 0/1 columns, the
``labels`` list overriding them row by row), checked against what it
recorded (:func:`session_facts`), here as on its resume.
"""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any, Mapping

from al.annotate.data import (SessionFacts, file_digest, old_session_reading, read_session_texts, recorded_reading,
                              resolve_reading)
from al.annotate.store import DB_FILE, connect_read_only, read_meta
from al.errors import ConfigError, DataError
from al.io import write_atomic
from al.records import read_config, read_rounds


def stored_session(directory: str | Path) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The ``config.json`` of the session in ``directory`` and its database's ``meta`` (``{}`` without one);
    None where the directory holds no session (nothing, or a simulation's run).

    Raises
    ------
    ConfigError, DataError
        A damaged ``config.json``, or a database file that is not a session's.
    """
    stored = read_config(Path(directory))
    if stored is None or not isinstance(stored["config"].get("session"), dict):
        return None
    return stored, read_meta(directory)


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


def session_rows(directory: str | Path, given: Mapping[str, Any] | None = None
                 ) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The labeled texts of a session as export rows, and counts (``given``, ``person``, ``skipped``).

    ``given``: the options ``--text-column``, ``--label-sep``, ``--label-columns``
    given (keys of :data:`al.annotate.data.READING_FLAGS`). The session reads
    its data file as it recorded; one that recorded no label columns (started
    before sessions recorded them) as :func:`al.annotate.data.old_session_reading`
    says, where ``--label-columns`` given must read what it read.

    Raises
    ------
    ConfigError
        ``directory`` holds no session, its database belongs to another
        session, the data file changed since the session began, or an
        option given differs from the session's own.
        For a session that recorded no label columns, ``--label-columns``
        given that read other labels than it did.
    DataError
        The data file cannot be read as the session read it.
    """
    directory = Path(directory)
    found = stored_session(directory)
    db_path = directory / DB_FILE
    if found is None or not db_path.is_file():
        raise ConfigError(f"{directory} holds no annotation session (config.json and {DB_FILE}); pass the --out "
                          f"of python -m al.annotate")
    stored, meta = found
    config = stored["config"]
    session = config["session"]
    labels = list(config["labels"])
    data_path = Path(config["data_path"])
    expected = (stored.get("session") or {}).get("settings_digest")
    if expected is not None and meta.get("settings_digest") != expected:
        raise ConfigError(f"{db_path} holds the answers of another session (settings digest "
                          f"{meta.get('settings_digest')}, config.json says {expected}); export the directory it "
                          f"came from")
    if not data_path.is_file():
        raise DataError(f"the session's data file {data_path} is not there (paths are as given at start); run export "
                        f"from the directory the session was started in")
    if file_digest(data_path) != session["data_sha256"]:
        raise DataError(f"{data_path} changed since the session began (its SHA-256 differs); export needs the file "
                        f"the session labeled")
    where = f"session {directory}"
    recorded = recorded_reading(session, meta, where)
    reading = resolve_reading(recorded, given or {}, where)
    if "label_columns" not in recorded:  # a session from before they were recorded: read as it began
        reading = old_session_reading(data_path, labels, reading, session_facts(directory, session), where)
    texts = read_session_texts(data_path, labels, **reading.to_dict())
    db = connect_read_only(db_path)
    try:
        rows = db.execute("SELECT pool_index, labels, skipped FROM answers ORDER BY pool_index").fetchall()
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{db_path} is not a session database ({exc})") from None
    finally:
        db.close()
    answered = {int(i): (json.loads(l), bool(s)) for i, l, s in rows}
    out: list[dict[str, Any]] = []
    counts = {"given": 0, "person": 0, "skipped": 0}
    for i, (text_id, text) in enumerate(zip(texts.ids, texts.texts)):
        if i in texts.given:
            values, source = texts.given[i].tolist(), "given"
        elif i in answered:
            chosen, skipped = answered[i]
            if skipped:
                counts["skipped"] += 1
                continue
            values, source = [int(name in chosen) for name in labels], "person"
        else:
            continue
        counts[source] += 1
        out.append({"id": text_id, "text": text, **dict(zip(labels, values)), "source": source})
    return out, counts


def check_output(directory: str | Path, output: str | Path, what: str = "output") -> None:
    """Refuse an ``output`` that is (links followed) a file of the session directory, or its data or dev file.

    Raises
    ------
    ConfigError
        One line naming the file ``output`` would have replaced.
    """
    target = Path(os.path.realpath(output))
    home = Path(os.path.realpath(directory))
    if target == home or home in target.parents:
        raise ConfigError(f"{what} {output} is inside the session directory {directory} (its answers, records and "
                          f"config live there); write the export elsewhere, e.g. {what} labeled.jsonl")
    config = (read_config(Path(directory)) or {}).get("config", {})
    session = config.get("session") if isinstance(config.get("session"), dict) else {}
    for name, path in (("data file", config.get("data_path")), ("dev file", session.get("dev"))):
        if isinstance(path, str) and path and Path(os.path.realpath(path)) == target:
            raise ConfigError(f"{what} {output} is the session's {name} {path}, which export would replace; "
                              f"write the export to another file, e.g. {what} labeled.jsonl")


def export_session(directory: str | Path, output: str | Path, what: str = "output",
                   given: Mapping[str, Any] | None = None) -> dict[str, int]:
    """Write :func:`session_rows` to ``output`` (atomically); returns the counts.

    ``what`` names ``output`` in messages (``-o`` on the command line);
    ``given``: the reading options given (:func:`session_rows`).

    Raises
    ------
    ConfigError
        See :func:`session_rows`; also ``output`` is a file of the session
        (:func:`check_output`) or cannot be written.
    """
    rows, counts = session_rows(directory, given)
    check_output(directory, output, what)
    try:
        write_atomic(Path(output), "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    except OSError as exc:
        raise ConfigError(f"cannot write {what} {output} ({exc.strerror or exc}); give a path in a folder you can "
                          f"write to") from None
    return counts
