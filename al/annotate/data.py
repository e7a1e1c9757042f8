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

An ``id`` column names the texts (else the row number, from 0); ids must be
unique, and a session refuses ids longer than :data:`MAX_ID_LENGTH` characters
at start (the page sends a text's id with its answer, in a body of bounded size).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from al.datasets.tabular import (LIST_COLUMN, Table, label_list, label_source, read_rows, read_texts,
                                 zero_one_rows)
from al.errors import ConfigError, DataError, did_you_mean

#: Column names a label may not take: the export writes them beside the label columns.
RESERVED = frozenset({"id", "text", "split", "labels", "source"})
#: Longest id a session starts with: an answer carries its text's id, and even escaped to six bytes a character
#: it leaves the rest of a request body (at most 64 KiB) for the labels.
MAX_ID_LENGTH = 4096


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
