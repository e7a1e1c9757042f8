"""The answers of an annotation session in SQLite: each one on disk before its request returns.

One file, ``answers.sqlite`` in the session directory, in WAL mode with
``synchronous=FULL``: a committed answer survives the process being killed
at any moment (and the machine losing power). All SQL is parameterised.

Tables::

    meta     key TEXT PRIMARY KEY, value TEXT     -- the session's settings digest, label names, how
             it reads its files (``reading``: JSON of text_column, label_sep, label_columns), and the
             ``budget`` its latest answers were given under
    answers  pool_index INTEGER PRIMARY KEY,      -- position of the text in the session's pool
             seq INTEGER UNIQUE (1, 2, ...: the order of answering), text_id TEXT,
             labels TEXT (JSON list of label names), skipped INTEGER (0/1),
             seconds REAL (time the person spent on the text), round INTEGER (the round that asked),
             answered_at TEXT, edited_at TEXT (ISO 8601, UTC),     -- the latest answer: what export writes
             text TEXT (the text answered, so that an export never depends on the data file alone; NULL in
             answers stored before it was kept, filled in when such a session resumes: :meth:`AnswerStore.keep_texts`)
    versions pool_index, round, labels, skipped           -- what the loop reads from that round on

An answer takes effect in the round that asked for it; a change takes effect
from the next round on (:meth:`AnswerStore.as_of`). So a round, replayed
after a restart, reads exactly what it read before, and the strategy asks
for the same texts again.

A database made for other settings (another data file, other labels,
strategy, classifier, ...) is refused when it is opened.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

from al.errors import ConfigError, NotPendingError

DB_FILE = "answers.sqlite"
#: The meta key recording how the session reads its data and dev files (see :class:`al.annotate.data.Reading`).
READING_KEY = "reading"
#: The meta key recording the ``--budget`` the latest answers were given under.
BUDGET_KEY = "budget"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS answers ("
    " pool_index INTEGER PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, text_id TEXT NOT NULL, labels TEXT NOT NULL,"
    " skipped INTEGER NOT NULL CHECK (skipped IN (0, 1)), seconds REAL, round INTEGER NOT NULL,"
    " answered_at TEXT NOT NULL, edited_at TEXT, text TEXT)",
    "CREATE TABLE IF NOT EXISTS versions (pool_index INTEGER NOT NULL, round INTEGER NOT NULL, labels TEXT NOT NULL,"
    " skipped INTEGER NOT NULL CHECK (skipped IN (0, 1)), PRIMARY KEY (pool_index, round))",
)


@dataclass(frozen=True)
class Answer:
    """One stored answer: the labels a person gave a text, or a skip."""

    pool_index: int
    seq: int
    text_id: str
    labels: tuple[str, ...]
    skipped: bool
    seconds: float | None
    round: int
    answered_at: str
    edited_at: str | None = None

    def to_dict(self) -> dict:
        return {"index": self.pool_index, "seq": self.seq, "id": self.text_id, "labels": list(self.labels),
                "skipped": self.skipped, "seconds": self.seconds, "round": self.round, "answered_at": self.answered_at,
                "edited_at": self.edited_at}


class _ReadOnly(sqlite3.Connection):
    """A read-only connection that, closed, leaves a session folder as it found it.

    A read-only connection to a WAL database makes its ``-wal`` and ``-shm``
    files and cannot remove them (only a connection that may write does, as
    the last one to close): an export left two empty files in a session
    folder that had none. Where neither was there before, a connection that
    may write opens and closes after this one: the last to close, it removes
    them, as SQLite removes them for a server that stops; while another
    connection is open (a server started meanwhile), it is not the last and
    removes nothing.
    """

    sidecars_before = True

    def close(self) -> None:
        super().close()
        path = getattr(self, "path", None)
        if self.sidecars_before or path is None or not _sidecars(path):
            return
        try:
            db = sqlite3.connect(path)
            try:
                db.execute("SELECT COUNT(*) FROM sqlite_master").fetchall()  # opened for real: its close is the last
            finally:
                db.close()
        except sqlite3.Error:  # a folder it may not write: the files stay, as before
            pass


def _sidecars(path: Path) -> list[Path]:
    """The ``-wal`` and ``-shm`` files beside a database that are there."""
    return [p for p in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")) if p.exists()]


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to a session database (one line on failure); closed, it removes the ``-wal`` and
    ``-shm`` files it made where a database had none (:class:`_ReadOnly`)."""
    path = Path(path).resolve()
    before = bool(_sidecars(path))
    try:  # a URI from the path (percent-encoded: '#', '?' and '%' are a file name's, not the URI's)
        db = sqlite3.connect(path.as_uri() + "?mode=ro", uri=True, factory=_ReadOnly)
    except sqlite3.Error as exc:
        raise ConfigError(f"cannot open {path} ({exc}); check that it is readable") from None
    db.path, db.sidecars_before = path, before
    return db


def read_meta(directory: str | Path) -> dict[str, str]:
    """The ``meta`` table of the session database in ``directory``, read only; ``{}`` where there is none.

    Raises
    ------
    ConfigError
        The file is there but is not a session database.
    """
    path = Path(directory) / DB_FILE
    if not path.is_file():
        return {}
    db = connect_read_only(path)
    try:
        return dict(db.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"{path} is not a session database ({exc}); restore the session's database, or pass "
                          f"another directory") from None
    finally:
        db.close()


def count_answers(directory: str | Path) -> int | None:
    """Answers in the session database in ``directory``, read only: 0 where there is none; None where the file is
    not a session database (opening the session says so)."""
    path = Path(directory) / DB_FILE
    if not path.is_file():
        return 0
    try:
        db = connect_read_only(path)
    except ConfigError:
        return None
    try:
        return int(db.execute("SELECT COUNT(*) FROM answers").fetchone()[0])
    except sqlite3.DatabaseError:
        return None
    finally:
        db.close()


def has_texts(db: sqlite3.Connection) -> bool:
    """Whether a session database's ``answers`` table keeps each answer's text (databases made before it did not)."""
    return any(row[1] == "text" for row in db.execute("PRAGMA table_info(answers)").fetchall())


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class AnswerStore:
    """The session's answers: one SQLite connection, used by one thread at a time (a lock).

    Parameters
    ----------
    directory : Path
        The session directory; the database is ``directory / answers.sqlite``.
    settings_digest : str
        Identifies the session's result settings; a database holding another is refused.
    label_names : sequence of str
    reading : mapping, optional
        How the session reads its files (:meth:`al.annotate.data.Reading.to_dict`): recorded under
        :data:`READING_KEY` when the database has no record of it (a new session, or one from before
        sessions recorded it); a database recording another is refused.
    """

    def __init__(self, directory: str | Path, settings_digest: str, label_names: Sequence[str],
                 reading: Mapping[str, Any] | None = None) -> None:
        self.path = Path(directory) / DB_FILE
        self.settings_digest = settings_digest
        self.label_names = tuple(label_names)
        self.reading = None if reading is None else json.dumps(dict(reading), sort_keys=True)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._cache: dict[int, Answer] = {}
        self._versions: dict[int, list[tuple[int, tuple[str, ...], bool]]] = {}

    # ------------------------------------------------------------ opening

    def open(self) -> "AnswerStore":
        """Open (or create) the database and check it belongs to this session.

        Raises
        ------
        ConfigError
            The file is not an SQLite database, or holds the answers of a
            session with other settings.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            db.execute("PRAGMA synchronous=FULL")
            for statement in _SCHEMA:
                db.execute(statement)
            stored = dict(db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{self.path} is not a session database ({exc}); pass another --out") from None
        if mode.lower() != "wal":
            raise ConfigError(f"{self.path}: SQLite refused WAL mode (got {mode}); put the session on a local disk")
        if stored.get("settings_digest") not in (None, self.settings_digest):
            labels = json.loads(stored.get("label_names", "[]"))
            answered = int(db.execute("SELECT COUNT(*) FROM answers").fetchone()[0])
            db.close()
            other = (f"other settings (labels {', '.join(labels)}; settings digest "
                     f"{stored.get('settings_digest')}, this session's {self.settings_digest})")
            raise ConfigError(
                f"{self.path} holds the answers of a session with {other}; pass another --out, or start that "
                f"session's own command" if answered else
                f"{self.path} is the database of a session with {other} that holds no answers, so removing "
                f"{self.path.name} loses nothing; or pass another --out"
            )
        recorded = stored.get(READING_KEY)
        if self.reading is not None and recorded is not None and recorded != self.reading:
            db.close()
            raise ConfigError(f"{self.path} records that its session reads its files with {recorded}, not "
                              f"{self.reading}; leave --text-column, --label-sep and --label-columns out to read "
                              f"them as it did, or pass another --out")
        rows = [] if stored else [("settings_digest", self.settings_digest),
                                  ("label_names", json.dumps(self.label_names)), ("created_at", _now())]
        if self.reading is not None and recorded is None:
            rows.append((READING_KEY, self.reading))
        if rows or not has_texts(db):
            with db:
                db.execute("BEGIN IMMEDIATE")
                db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", rows)
                if not has_texts(db):  # a database from before answers kept their text
                    db.execute("ALTER TABLE answers ADD COLUMN text TEXT")
        self._db = db
        self._meta = {**stored, **dict(rows)}
        self._cache = {a.pool_index: a for a in self._read_all()}
        for i, r, labels, skipped in db.execute(
                "SELECT pool_index, round, labels, skipped FROM versions ORDER BY pool_index, round").fetchall():
            self._versions.setdefault(int(i), []).append((int(r), tuple(json.loads(labels)), bool(skipped)))
        return self

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def answering_budget(self) -> int | None:
        """The ``--budget`` the latest answers were given under (:meth:`note_budget`); None where none was noted
        (a new session, or one from before sessions noted it)."""
        value = getattr(self, "_meta", {}).get(BUDGET_KEY)
        return int(value) if value is not None and value.isdigit() else None

    def note_budget(self, budget: int) -> None:
        """Note, durably, that answers from now on are given under ``budget``: a session extended to a larger budget
        and stopped in its new batch holds answers its ``config.json`` (written with a round) knows nothing of."""
        if self.answering_budget() == budget:
            return
        with self._lock:
            db = self._connection()
            with db:
                db.execute("BEGIN IMMEDIATE")
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (BUDGET_KEY, str(int(budget))))
            self._meta[BUDGET_KEY] = str(int(budget))

    # ------------------------------------------------------------ reading

    def _read_all(self) -> list[Answer]:
        assert self._db is not None
        rows = self._db.execute(
            "SELECT pool_index, seq, text_id, labels, skipped, seconds, round, answered_at, edited_at FROM answers "
            "ORDER BY seq"
        ).fetchall()
        return [Answer(int(i), int(q), t, tuple(json.loads(l)), bool(s), sec, int(r), at, ed)
                for i, q, t, l, s, sec, r, at, ed in rows]

    def get(self, pool_index: int) -> Answer | None:
        return self._cache.get(int(pool_index))

    def __contains__(self, pool_index: int) -> bool:
        return int(pool_index) in self._cache

    def all(self) -> list[Answer]:
        """Every answer, oldest first."""
        return sorted(self._cache.values(), key=lambda a: a.seq)

    def as_of(self, pool_index: int, round_: int) -> tuple[tuple[str, ...], bool] | None:
        """``(labels, skipped)`` of a text as the loop reads it in round ``round_`` (None: no answer yet)."""
        found = None
        for r, labels, skipped in self._versions.get(int(pool_index), ()):
            if r <= round_:
                found = (labels, skipped)
        return found

    def in_round(self, round_: int) -> list[Answer]:
        """The answers to texts a round asked for, oldest first."""
        return [a for a in self.all() if a.round == round_]

    # ------------------------------------------------------------ writing

    def add(self, pool_index: int, text_id: str, labels: Sequence[str], skipped: bool, seconds: float | None,
            round_: int, text: str | None = None) -> Answer:
        """Commit a new answer (durably, before returning); ``text``: the text answered, kept with it.

        Raises
        ------
        NotPendingError
            The text has an answer already.
        """
        with self._lock:
            seq = max((a.seq for a in self._cache.values()), default=0) + 1
            answer = Answer(int(pool_index), seq, str(text_id), tuple(labels), bool(skipped),
                            None if seconds is None else float(seconds), int(round_), _now())
            db = self._connection()
            try:
                with db:
                    db.execute("BEGIN IMMEDIATE")
                    db.execute(
                        "INSERT INTO answers (pool_index, seq, text_id, labels, skipped, seconds, round, answered_at, "
                        "text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (answer.pool_index, answer.seq, answer.text_id, json.dumps(list(answer.labels)),
                         int(answer.skipped), answer.seconds, answer.round, answer.answered_at, text),
                    )
                    db.execute("INSERT INTO versions (pool_index, round, labels, skipped) VALUES (?, ?, ?, ?)",
                               (answer.pool_index, answer.round, json.dumps(list(answer.labels)), int(answer.skipped)))
            except sqlite3.IntegrityError:
                raise NotPendingError(
                    f"text {text_id!r} has an answer already; change it from the list of answers"
                ) from None
            self._cache[answer.pool_index] = answer
            self._versions[answer.pool_index] = [(answer.round, answer.labels, answer.skipped)]
        return answer

    def edit(self, pool_index: int, labels: Sequence[str], skipped: bool, effective_round: int) -> Answer:
        """Change a stored answer (durably, before returning); the time spent stays the first answer's.

        The loop reads the change from round ``effective_round`` on (the
        round after the one running: see the module docstring).

        Raises
        ------
        NotPendingError
            The text has no answer to change.
        """
        with self._lock:
            old = self._cache.get(int(pool_index))
            if old is None:
                raise NotPendingError(f"text at pool position {pool_index} has no answer to change")
            new = Answer(old.pool_index, old.seq, old.text_id, tuple(labels), bool(skipped), old.seconds, old.round,
                         old.answered_at, _now())
            db = self._connection()
            with db:
                db.execute("BEGIN IMMEDIATE")
                db.execute("UPDATE answers SET labels = ?, skipped = ?, edited_at = ? WHERE pool_index = ?",
                           (json.dumps(list(new.labels)), int(new.skipped), new.edited_at, new.pool_index))
                db.execute("INSERT OR REPLACE INTO versions (pool_index, round, labels, skipped) VALUES (?, ?, ?, ?)",
                           (new.pool_index, int(effective_round), json.dumps(list(new.labels)), int(new.skipped)))
            self._cache[new.pool_index] = new
            kept = [v for v in self._versions.get(new.pool_index, []) if v[0] != int(effective_round)]
            self._versions[new.pool_index] = sorted([*kept, (int(effective_round), new.labels, new.skipped)])
        return new

    def keep_texts(self, texts: Sequence[str]) -> int:
        """Store the text of each answer that has none (answered before answers kept their text); returns how many.

        ``texts``: the session's pool, as the data file the session began with
        gives it (a session opens only on that file), so pool position ``i`` is ``texts[i]``.
        """
        with self._lock:
            db = self._connection()
            missing = [int(i) for (i,) in db.execute("SELECT pool_index FROM answers WHERE text IS NULL").fetchall()
                       if 0 <= int(i) < len(texts)]
            if missing:
                with db:
                    db.execute("BEGIN IMMEDIATE")
                    db.executemany("UPDATE answers SET text = ? WHERE pool_index = ? AND text IS NULL",
                                   [(texts[i], i) for i in missing])
        return len(missing)

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise ConfigError(f"{self.path} is closed; the session has ended")
        return self._db
