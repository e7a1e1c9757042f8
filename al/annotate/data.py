"""What a session labels: texts from a CSV or JSON-lines file, some perhaps labeled already.

The file is read with :func:`al.datasets.tabular.read_rows` (header names
stripped, each row named in errors by its line in the file). Each row is one
text of the pool (a ``split`` column, if any, is ignored: every row is to be
labeled). Labels a row already has come in either shape ``--dataset
csv/jsonl`` reads, picked by the same rule
(:func:`al.datasets.tabular.label_source`; a file with both is refused
until ``--label-columns`` names the ones to read):

* one 0/1 column per label, named as the label; a row with every label
  column filled is labeled, a row with none filled is not;
* a ``labels`` column listing each text's labels (a JSON list, or a string
  joined by ``--label-sep``, default ``|``); empty (null) means not labeled,
  ``[]`` means labeled with none of the labels; a null or blank item names no label.

How a session reads its files (``--text-column``, ``--label-sep``,
``--label-columns``: a :class:`Reading`) is recorded when it starts, in its
database (:data:`al.annotate.store.READING_KEY`); a resume and the export
read the files the same way, and refuse an option given that says otherwise
(:func:`resolve_reading`). A session started before it was recorded there
has its text column and separator in ``config.json``, and its label columns
only when they were named: on a file it could read either way it needs
``--label-columns``, checked against the labeled texts the session counted
(:func:`check_named_label_columns`), and its first resume records them.

An ``id`` column names the texts (else the row number, from 0); ids must be
unique, and a session refuses ids longer than :data:`MAX_ID_LENGTH` characters
at start (the page sends a text's id with its answer, in a body of bounded size).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from al.annotate.store import READING_KEY
from al.datasets.tabular import (LIST_COLUMN, Table, label_list, label_source, read_rows, read_texts,
                                 zero_one_rows)
from al.errors import ConfigError, DataError, did_you_mean

#: Column names a label may not take: the export writes them beside the label columns.
RESERVED = frozenset({"id", "text", "split", "labels", "source"})
#: Longest id a session starts with: an answer carries its text's id, and even escaped to six bytes a character
#: it leaves the rest of a request body (at most 64 KiB) for the labels.
MAX_ID_LENGTH = 4096


#: The options saying how a session reads its files, and their flags (the start command's and the export's).
READING_FLAGS = {"text_column": "--text-column", "label_sep": "--label-sep", "label_columns": "--label-columns"}


@dataclass(frozen=True)
class Reading:
    """How a session reads its data and dev files.

    Attributes
    ----------
    text_column : str
    label_sep : str
        What joins the labels of a label-list cell that is not a JSON list.
    label_columns : tuple of str, or None
        The columns holding the labels given already; None: those
        :func:`~al.datasets.tabular.label_source` finds (the columns named as the
        labels, or else the ``labels`` column).
    """

    text_column: str = "text"
    label_sep: str = "|"
    label_columns: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"text_column": self.text_column, "label_sep": self.label_sep,
                "label_columns": None if self.label_columns is None else list(self.label_columns)}


def _shown(key: str, value: Any) -> str:
    """An option as its flag gives it (no --label-columns: the rule's own columns)."""
    if key == "label_columns":
        return ("no --label-columns (the columns named as the labels, or else the 'labels' column)" if value is None
                else f"--label-columns {' '.join(value)}")
    return f"{READING_FLAGS[key]} {value!r}"


def recorded_reading(session: Mapping[str, Any], meta: Mapping[str, str], where: str) -> dict[str, Any]:
    """The options a stored session reads its files with, as far as it recorded them.

    Parameters
    ----------
    session : the ``session`` block of its ``config.json``
    meta : its database's ``meta`` table (:func:`al.annotate.store.read_meta`)
    where : names the session in messages

    Returns
    -------
    The keys of :data:`READING_FLAGS` recorded: all of them from the
    database; from ``config.json`` (sessions from before the database
    recorded them) the text column, the separator (``|`` where none is
    recorded: only another one was), and the label columns where they were named.

    Raises
    ------
    ConfigError
        The database's record is damaged.
    """
    if READING_KEY in meta:
        try:
            value = json.loads(meta[READING_KEY])
            columns = value["label_columns"]
            recorded = {"text_column": value["text_column"], "label_sep": value["label_sep"],
                        "label_columns": None if columns is None else list(columns)}
            if not (isinstance(recorded["text_column"], str) and isinstance(recorded["label_sep"], str)
                    and (columns is None or all(isinstance(c, str) for c in columns))):
                raise TypeError
        except (ValueError, TypeError, KeyError):
            raise ConfigError(f"{where} records how it reads its files as {meta[READING_KEY][:200]!r}; expected a "
                              f"JSON object of text_column, label_sep and label_columns; restore the session's "
                              f"database") from None
        return recorded
    recorded = {"label_sep": session.get("label_sep", "|")}
    for key in ("text_column", "label_columns"):
        if key in session:
            recorded[key] = session[key]
    return recorded


def resolve_reading(recorded: Mapping[str, Any], given: Mapping[str, Any], where: str = "",
                    advice: str = "") -> Reading:
    """The options to read a session's files with: the ones it recorded, else those given, else the defaults.

    Parameters
    ----------
    recorded : :func:`recorded_reading` (``{}`` for a new session)
    given : the options the command line gives (keys of :data:`READING_FLAGS`)
    where : names the session in messages
    advice : what else fixes a conflict (``, or pass another --out``)

    Raises
    ------
    ConfigError
        An option given differs from the recorded one.
    """
    values = Reading().to_dict()
    for key, flag in READING_FLAGS.items():
        if key in recorded:
            if key in given and _comparable(given[key]) != _comparable(recorded[key]):
                raise ConfigError(f"{_shown(key, given[key])} differs from how {where} reads its files "
                                  f"({_shown(key, recorded[key])}); leave {flag} out to read them as it does{advice}")
            values[key] = recorded[key]
        elif key in given:
            values[key] = given[key]
    columns = values["label_columns"]
    return Reading(values["text_column"], values["label_sep"], None if columns is None else tuple(columns))


def _comparable(value: Any) -> Any:
    return tuple(value) if isinstance(value, (list, tuple)) else value


def check_named_label_columns(path: str | Path, label_names: Sequence[str], reading: Reading, texts: "SessionTexts",
                              n_given: int | None, where: str) -> None:
    """Refuse label columns named now for a session that recorded none, where they read other labels than it did.

    Where the file gives labels one way only, the session read them by the
    rule (:func:`~al.datasets.tabular.label_source`), and the named columns
    must read exactly those. A file giving them both ways (a ``labels``
    column and columns named as the labels) was read before the rule
    refused such a file; the named columns must then find as many labeled
    texts as the session did (``n_given``, from its ``config.json``).

    Raises
    ------
    ConfigError
        Naming what the session read, what the named columns read, and the
        ``--label-columns`` that reads as many, if one does.
    """
    if reading.label_columns is None:
        return
    table = _table(Path(path))
    shown = _shown("label_columns", reading.label_columns)
    try:
        by_rule = _given(table, label_names, reading.label_sep)
    except DataError:
        by_rule = None  # the rule cannot read it (both ways): the columns named say which
    if by_rule is not None and not _same_rows(by_rule, texts.given):
        raise ConfigError(f"{shown} reads other labels of {path} than {where} read (by the columns named as the "
                          f"labels, or else the 'labels' column); leave --label-columns out")
    if n_given is None or len(texts.given) == n_given:
        return
    fits = []
    candidates = ([[LIST_COLUMN]] if LIST_COLUMN in table.frame.columns else []) + \
        [[name for name in label_names if name in table.frame.columns]]
    for columns in candidates:
        if columns and tuple(columns) != reading.label_columns:
            try:
                if len(_given(table, label_names, reading.label_sep, columns)) == n_given:
                    fits.append(_shown("label_columns", columns))
            except DataError:
                continue
    fix = f"pass {' or '.join(fits)}" if fits else "name the columns it read its labels from"
    raise ConfigError(f"{shown} finds {len(texts.given)} texts of {path} labeled, but {where} found {n_given}; "
                      f"{fix}")


def _same_rows(a: Mapping[int, np.ndarray], b: Mapping[int, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[i], b[i]) for i in a)


@dataclass(frozen=True)
class SessionTexts:
    """The pool of a session.

    Attributes
    ----------
    texts : list of str, length n_pool
    ids : list of str, length n_pool
        Unique; the row's ``id`` column or its row number.
    given : dict of int to ndarray of shape (n_labels,)
        Pool position -> the 0/1 labels the file gives it.
    digest : str
        SHA-256 of the file's bytes (a session refuses a changed file).
    """

    texts: list[str]
    ids: list[str]
    given: dict[int, np.ndarray]
    digest: str

    def index_of(self) -> dict[str, int]:
        return {text_id: i for i, text_id in enumerate(self.ids)}


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_label_names(names: Sequence[str], source: str = "--labels") -> tuple[str, ...]:
    """Label names as given, checked: non-empty, unique, printable, not a reserved column name.

    Raises
    ------
    ConfigError
        Naming the first bad name and what a name must be.
    """
    names = [str(n).strip() for n in names]
    if not names:
        raise ConfigError(f"{source} names no label; give at least one, e.g. --labels food water shelter")
    for name in names:
        if not name or name.lower() in RESERVED or not re.fullmatch(r"[^\x00-\x1f\x7f]{1,64}", name):
            raise ConfigError(
                f"{source}: label {name!r} is not allowed; a label is 1 to 64 printable characters and not one of "
                f"{', '.join(sorted(RESERVED))}"
            )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"{source} lists {', '.join(map(repr, repeated))} more than once; name each label once")
    return tuple(names)


def read_label_file(path: str | Path) -> tuple[str, ...]:
    """One label per line; blank lines and lines starting with ``#`` are ignored."""
    from al.io import read_text

    path = Path(path)
    lines = read_text(path, "label file", "one label per line").splitlines()
    return check_label_names([ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")],
                             f"label file {path}")


def _table(path: Path) -> Table:
    if path.is_file() and not path.read_bytes().strip():
        raise DataError(f"{path} is empty; expected texts to label, one per line (.jsonl) or row (.csv)")
    return read_rows(path)


def _texts(table: Table, text_column: str) -> list[str]:
    texts = read_texts(table, text_column)
    if not texts:
        raise DataError(f"{table.path} holds no texts; expected texts to label")
    return texts


def _given(table: Table, label_names: Sequence[str], label_sep: str,
           label_columns: Sequence[str] | None = None) -> dict[int, np.ndarray]:
    """Row -> the 0/1 labels the file gives it, from the columns :func:`~al.datasets.tabular.label_source` picks."""
    frame, path = table.frame, table.path
    source = label_source(table, label_columns, names=label_names)
    if source.is_list:
        return _listed(table, source.columns[0], label_names, label_sep)
    given: dict[int, np.ndarray] = {}
    columns = list(source.columns)
    if not columns:
        return given
    others = [c for c in columns if c not in label_names]
    if others:
        raise DataError(f"--label-columns names {', '.join(map(repr, others))}, not among the session's labels "
                        f"({', '.join(label_names)}); name one list column, or 0/1 columns named as the labels")
    filled = frame[columns].notna().to_numpy()
    missing = [n for n in label_names if n not in columns]
    if missing and filled.any():
        raise DataError(f"{path} has label columns for {', '.join(columns)} but not for {', '.join(missing)}; "
                        f"give every label a column, or use one '{LIST_COLUMN}' column")
    partial = np.flatnonzero(filled.any(axis=1) & ~filled.all(axis=1))
    if len(partial):
        raise DataError(f"{table.where(int(partial[0]))}: some label columns are filled and some empty; fill all "
                        f"of them (0 or 1) or none")
    rows = np.flatnonzero(filled.all(axis=1))
    for row, y in zip(rows, zero_one_rows(table, columns, rows)):
        given[int(row)] = y
    return given


def _listed(table: Table, column: str, label_names: Sequence[str], label_sep: str) -> dict[int, np.ndarray]:
    index = {name: j for j, name in enumerate(label_names)}
    given: dict[int, np.ndarray] = {}
    for row, value in enumerate(table.frame[column]):
        listed = label_list(value, label_sep, table.where(row))
        if listed is None:
            continue
        unknown = [name for name in listed if name not in index]
        if unknown:
            raise DataError(f"{table.where(row)}: label(s) {', '.join(map(repr, unknown))} are not among the "
                            f"session's labels ({', '.join(label_names)}){did_you_mean(unknown, label_names)}; "
                            f"fix the row or add the label")
        y = np.zeros(len(label_names), dtype=np.int8)
        y[[index[name] for name in listed]] = 1
        given[row] = y
    return given


def read_session_texts(
    path: str | Path, label_names: Sequence[str], *, text_column: str = "text", label_sep: str = "|",
    label_columns: Sequence[str] | None = None, what: str = "data file", max_id_length: int | None = None,
) -> SessionTexts:
    """Read the pool of a session (see the module docstring); ``what`` names the file in messages.

    ``max_id_length``: refuse a longer id (a starting session passes
    :data:`MAX_ID_LENGTH`; export reads what a session labeled, without it).

    Raises
    ------
    DataError
        The file is missing, empty, unreadable, lacks the text column, has
        empty texts, repeated or too long ids, or gives labels that are not the session's.
    """
    table, texts = _read(path, label_names, text_column, label_sep, label_columns, what)
    if max_id_length is not None:
        for row, text_id in enumerate(texts.ids):
            if len(text_id) > max_id_length:
                raise DataError(f"{table.where(row)}: id is {len(text_id)} characters long; an id may have at most "
                                f"{max_id_length} (each answer sends it); shorten the ids, or drop the id column "
                                f"(rows are then numbered)")
    return texts


def _read(path: str | Path, label_names: Sequence[str], text_column: str, label_sep: str,
          label_columns: Sequence[str] | None, what: str) -> tuple[Table, SessionTexts]:
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{what} {path} is a directory; expected a .csv or .jsonl file of texts")
    if not path.is_file():
        raise DataError(f"{what} {path} does not exist; expected a .csv or .jsonl file of texts (check the path)")
    table = _table(path)
    texts = _texts(table, text_column)
    if "id" in table.frame.columns:
        ids = ["" if pd.isna(v) else str(v).strip() for v in table.frame["id"]]
        seen: dict[str, int] = {}
        for row, text_id in enumerate(ids):
            if not text_id:
                raise DataError(f"{table.where(row)}: blank id; give every text an id, or drop the id column "
                                f"(rows are then numbered)")
            if text_id in seen:
                raise DataError(f"{table.where(row)}: id {text_id!r} is on {table.row_name(seen[text_id])} already; "
                                f"ids must be unique")
            seen[text_id] = row
    else:
        ids = [str(i) for i in range(len(texts))]
    given = _given(table, label_names, label_sep, label_columns)
    return table, SessionTexts(texts, ids, given, file_digest(path))


def read_dev(path: str | Path, label_names: Sequence[str], *, text_column: str = "text",
             label_sep: str = "|", label_columns: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
    """A labeled evaluation file: texts and their 0/1 labels (every row must be labeled).

    Returns
    -------
    texts : list of str
    Y : ndarray of shape (n_texts, n_labels), int8
    """
    table, data = _read(path, label_names, text_column, label_sep, label_columns, "dev file")
    unlabeled = [i for i in range(len(data.texts)) if i not in data.given]
    if unlabeled:
        raise DataError(f"dev file {table.where(unlabeled[0])} has no labels (and {len(unlabeled) - 1} more rows); "
                        f"every text of a dev file needs its labels")
    Y = np.stack([data.given[i] for i in range(len(data.texts))])
    return data.texts, Y
