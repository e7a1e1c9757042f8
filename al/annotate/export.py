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
that gives labels both ways, needs ``--label-columns`` here as on its resume.
"""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any, Mapping

from al.annotate.data import (check_named_label_columns, file_digest, read_session_texts, recorded_reading,
                              resolve_reading)
from al.annotate.store import DB_FILE, connect_read_only, read_meta
from al.errors import ConfigError, DataError
from al.io import write_atomic
from al.records import read_config


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


def session_rows(directory: str | Path, given: Mapping[str, Any] | None = None
                 ) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The labeled texts of a session as export rows, and counts (``given``, ``person``, ``skipped``).

    ``given``: the options ``--text-column``, ``--label-sep``, ``--label-columns``
    given (keys of :data:`al.annotate.data.READING_FLAGS`). The session reads
    its data file as it recorded; an option it did not record (the label
    columns of a session started before sessions recorded them) comes from ``given``.

    Raises
    ------
    ConfigError
        ``directory`` holds no session, its database belongs to another
        session, the data file changed since the session began, or an
        option given differs from the session's own.
    DataError
        The data file cannot be read as the session read it; for one that
        gives labels both ways, naming the ``--label-columns`` to pass.
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
    texts = read_session_texts(data_path, labels, text_column=reading.text_column, label_sep=reading.label_sep,
                               label_columns=reading.label_columns)
    if "label_columns" not in recorded:
        check_named_label_columns(data_path, labels, reading, texts, session.get("n_given"), where)
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
