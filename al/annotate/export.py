"""``python -m al.annotate export SESSION_DIR -o labeled.jsonl``: a session's labels in al's JSON-lines format.

One JSON object per labeled text, in the data file's order::

    {"id": "17", "text": "...", "food": 1, "water": 0, "shelter": 0, "source": "person"}

one 0/1 column per label, as ``--dataset jsonl`` reads them (see
:mod:`al.datasets.tabular`); ``source`` is ``given`` (labeled in the data
file) or ``person`` (answered in the session; the latest answer when it was
changed). Skipped texts and texts nobody answered are left out. Load it
with ``python -m al.simulate --dataset jsonl --data-path labeled.jsonl``
(split 80/10/10 by the loader, as any file without a ``split`` column).
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from al.annotate.data import file_digest, read_session_texts
from al.annotate.store import DB_FILE
from al.errors import ConfigError, DataError
from al.io import write_atomic
from al.records import read_config


def session_rows(directory: str | Path) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The labeled texts of a session as export rows, and counts (``given``, ``person``, ``skipped``).

    Raises
    ------
    ConfigError
        ``directory`` holds no session, its database belongs to another
        session, or the data file changed since the session began.
    """
    directory = Path(directory)
    stored = read_config(directory)
    db_path = directory / DB_FILE
    if stored is None or "session" not in stored.get("config", {}) or not db_path.is_file():
        raise ConfigError(f"{directory} holds no annotation session (config.json and {DB_FILE}); pass the --out "
                          f"of python -m al.annotate")
    config = stored["config"]
    session = config["session"]
    labels = list(config["labels"])
    data_path = Path(config["data_path"])
    if not data_path.is_file():
        raise DataError(f"the session's data file {data_path} is not there (paths are as given at start); run export "
                        f"from the directory the session was started in")
    if file_digest(data_path) != session["data_sha256"]:
        raise DataError(f"{data_path} changed since the session began (its SHA-256 differs); export needs the file "
                        f"the session labeled")
    texts = read_session_texts(data_path, labels, text_column=session.get("text_column", "text"),
                               label_sep=session.get("label_sep", "|"), label_columns=session.get("label_columns"))
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        rows = db.execute("SELECT pool_index, labels, skipped FROM answers ORDER BY pool_index").fetchall()
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{db_path} is not a session database ({exc})") from None
    finally:
        db.close()
    expected = (stored.get("session") or {}).get("settings_digest")
    if expected is not None and meta.get("settings_digest") != expected:
        raise ConfigError(f"{db_path} holds the answers of another session (settings digest "
                          f"{meta.get('settings_digest')}, config.json says {expected}); export the directory it "
                          f"came from")
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


def export_session(directory: str | Path, output: str | Path) -> dict[str, int]:
    """Write :func:`session_rows` to ``output`` (atomically); returns the counts."""
    rows, counts = session_rows(directory)
    write_atomic(Path(output), "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return counts
