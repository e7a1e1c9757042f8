"""What a session labels: texts from a CSV or JSON-lines file, some perhaps labeled already.

The file is read with :func:`al.datasets.tabular.read_table`. Each row is one
text of the pool (a ``split`` column, if any, is ignored: every row is to be
labeled). Labels a row already has come in either shape ``--dataset
csv/jsonl`` reads:

* one 0/1 column per label, named as the label; a row with every label
  column filled is labeled, a row with none filled is not;
* a ``labels`` column listing each text's labels (a JSON list, or a string
  joined by ``|`` in CSV); empty (null) means not labeled, ``[]`` means
  labeled with none of the labels.

An ``id`` column names the texts (else the row number, from 0); ids must be unique.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from al.datasets.tabular import read_table
from al.errors import ConfigError, DataError

#: Column names a label may not take: the export writes them beside the label columns.
RESERVED = frozenset({"id", "text", "split", "labels", "source"})


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


def _frame(path: Path) -> pd.DataFrame:
    if path.is_file() and not path.read_bytes().strip():
        raise DataError(f"{path} is empty; expected texts to label, one per line (.jsonl) or row (.csv)")
    try:
        return read_table(path)
    except DataError:
        raise
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty; expected texts to label, one per line (.jsonl) or row (.csv)") from None


def _texts(frame: pd.DataFrame, path: Path, text_column: str) -> list[str]:
    if text_column not in frame.columns:
        raise DataError(
            f"{path} has no text column {text_column!r}; columns: {', '.join(map(str, frame.columns))}; "
            f"name it with --text-column"
        )
    texts = frame[text_column].fillna("").astype(str).str.strip()
    empty = np.flatnonzero(texts.str.len().to_numpy() == 0)
    if len(empty):
        raise DataError(f"{path}: {len(empty)} empty text(s) in column {text_column!r} (first at row {empty[0]}); "
                        f"remove or fill them")
    if not len(texts):
        raise DataError(f"{path} holds no texts; expected texts to label")
    return texts.tolist()


def _given(frame: pd.DataFrame, path: Path, label_names: Sequence[str], label_sep: str) -> dict[int, np.ndarray]:
    index = {name: j for j, name in enumerate(label_names)}
    given: dict[int, np.ndarray] = {}
    columns = [name for name in label_names if name in frame.columns]
    if columns:
        values = frame[columns]
        filled = values.notna().to_numpy()
        partial = np.flatnonzero(filled.any(axis=1) & ~filled.all(axis=1))
        if len(columns) < len(label_names) and filled.any():
            missing = [n for n in label_names if n not in frame.columns]
            raise DataError(f"{path} has label columns for {', '.join(columns)} but not for {', '.join(missing)}; "
                            f"give every label a column, or use one 'labels' column")
        if len(partial):
            raise DataError(f"{path} row {partial[0]}: some label columns are filled and some empty; fill all of "
                            f"them (0 or 1) or none")
        for row in np.flatnonzero(filled.all(axis=1)):
            cells = values.iloc[row].to_numpy()
            if not all(v in (0, 1) for v in cells):
                raise DataError(f"{path} row {row}: label columns hold {cells.tolist()}; expected 0 or 1")
            given[int(row)] = np.asarray(cells, dtype=np.int8)
    if "labels" in frame.columns:
        for row, value in enumerate(frame["labels"]):
            listed = _label_list(value, label_sep, path, row)
            if listed is None:
                continue
            unknown = [name for name in listed if name not in index]
            if unknown:
                raise DataError(f"{path} row {row}: label(s) {', '.join(map(repr, unknown))} are not among the "
                                f"session's labels ({', '.join(label_names)}); fix the row or add the label")
            y = np.zeros(len(label_names), dtype=np.int8)
            y[[index[name] for name in listed]] = 1
            given[row] = y
    return given


def _label_list(value: Any, sep: str, path: Path, row: int) -> list[str] | None:
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value]
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    if text.startswith("["):
        try:
            return [str(v).strip() for v in json.loads(text)]
        except json.JSONDecodeError:
            raise DataError(f"{path} row {row}: cannot parse the label list {text!r}") from None
    return [part.strip() for part in text.split(sep) if part.strip()]


def read_session_texts(
    path: str | Path, label_names: Sequence[str], *, text_column: str = "text", label_sep: str = "|",
    what: str = "data file",
) -> SessionTexts:
    """Read the pool of a session (see the module docstring); ``what`` names the file in messages.

    Raises
    ------
    DataError
        The file is missing, empty, unreadable, lacks the text column, has
        empty texts or repeated ids, or gives labels that are not the session's.
    """
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{what} {path} is a directory; expected a .csv or .jsonl file of texts")
    if not path.is_file():
        raise DataError(f"{what} {path} does not exist; expected a .csv or .jsonl file of texts (check the path)")
    frame = _frame(path)
    texts = _texts(frame, path, text_column)
    if "id" in frame.columns:
        ids = ["" if pd.isna(v) else str(v).strip() for v in frame["id"]]
        seen: dict[str, int] = {}
        for row, text_id in enumerate(ids):
            if not text_id:
                raise DataError(f"{path}: row {row} has a blank id; give every text an id, or drop the id column "
                                f"(rows are then numbered)")
            if text_id in seen:
                raise DataError(f"{path}: id {text_id!r} appears in rows {seen[text_id]} and {row}; ids must be "
                                f"unique")
            seen[text_id] = row
    else:
        ids = [str(i) for i in range(len(texts))]
    return SessionTexts(texts, ids, _given(frame, path, label_names, label_sep), file_digest(path))


def read_dev(path: str | Path, label_names: Sequence[str], *, text_column: str = "text",
             label_sep: str = "|") -> tuple[list[str], np.ndarray]:
    """A labeled evaluation file: texts and their 0/1 labels (every row must be labeled).

    Returns
    -------
    texts : list of str
    Y : ndarray of shape (n_texts, n_labels), int8
    """
    data = read_session_texts(path, label_names, text_column=text_column, label_sep=label_sep, what="dev file")
    unlabeled = [i for i in range(len(data.texts)) if i not in data.given]
    if unlabeled:
        raise DataError(f"dev file {path}: row {unlabeled[0]} (and {len(unlabeled) - 1} more) has no labels; every "
                        f"text of a dev file needs its labels")
    Y = np.stack([data.given[i] for i in range(len(data.texts))])
    return data.texts, Y
