"""Any CSV or JSON-lines file with a text column and label column(s).

Labels come in one of two shapes:

* one 0/1 column per label (``--label-columns a,b,c``, or every 0/1 column
  besides the text, split and id columns when none are named), or
* one column listing each text's labels: a JSON list in JSON lines, or a
  string joined by ``label_sep`` (default ``|``) in CSV (``--label-columns labels``).

An optional ``split`` column with values ``train`` / ``dev`` (or
``validation``) / ``test`` fixes the splits; without it the texts are split
80 / 10 / 10 with a seeded permutation.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from al.datasets.corpus import Corpus, make_corpus
from al.errors import DataError

SPLIT_ALIASES = {"train": "train", "dev": "dev", "validation": "dev", "valid": "dev", "val": "dev", "test": "test"}


def _blank(path: Path) -> bool:
    """Whether the file holds nothing but whitespace (read a line at a time, never whole)."""
    with open(path, "rb") as f:
        return not any(line.strip() for line in f)


def read_table(path: Path) -> pd.DataFrame:
    """A CSV (``.csv``, ``.tsv``) or JSON-lines (``.jsonl``, ``.ndjson``) file as a frame."""
    if path.is_dir():
        raise DataError(f"data path {path} is a directory; expected a .csv or .jsonl file")
    if not path.is_file():
        raise DataError(f"data path {path} does not exist; expected a .csv or .jsonl file")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv") and _blank(path):
        raise DataError(f"data path {path} is empty; expected a header row and one row per labeled text")
    try:
        if suffix in (".jsonl", ".ndjson", ".json"):
            return _read_json_lines(path)
        if suffix in (".csv", ".tsv"):
            # ids as written (their zeros kept), and only an empty cell is missing ("NA" is a text, or a label)
            return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", encoding="utf-8-sig",
                               dtype={"id": str}, keep_default_na=False, na_values=[""])
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot parse {path} as {suffix[1:]}: {exc}") from None
    except OSError as exc:
        raise DataError(f"cannot read {path} ({exc.strerror or exc}); check its permissions") from None
    raise DataError(f"data path {path} has suffix {suffix!r}; expected .csv, .tsv or .jsonl")


def _read_json_lines(path: Path) -> pd.DataFrame:
    """One JSON object per line (blank lines skipped); a bad line is named by its number."""
    rows = []
    with open(path, encoding="utf-8-sig") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(
                    f"{path} line {number} is not JSON ({exc.msg} at column {exc.colno}): {line.strip()[:60]!r}; "
                    f"expected one JSON object per line"
                ) from None
            if not isinstance(row, dict):
                raise DataError(f"{path} line {number} holds a {type(row).__name__}; expected a JSON object")
            rows.append(row)
    if not rows:
        raise DataError(f"{path} holds no JSON lines; expected one JSON object per line")
    return pd.DataFrame(rows)


def load_table(
    path: str | Path,
    *,
    text_column: str = "text",
    label_columns: Sequence[str] | None = None,
    label_sep: str = "|",
    split_column: str = "split",
    seed: int = 0,
) -> Corpus:
    """Load a labeled table into a :class:`Corpus` (see the module docstring)."""
    path = Path(path)
    frame = read_table(path)
    if text_column not in frame.columns:
        raise DataError(
            f"{path} has no text column {text_column!r}; columns: {', '.join(map(str, frame.columns))}; "
            f"name it with --text-column"
        )
    texts = frame[text_column].fillna("").astype(str).str.strip()
    empty = np.flatnonzero(texts.str.len().to_numpy() == 0)
    if len(empty):
        raise DataError(
            f"{path}: {len(empty)} empty text(s) in column {text_column!r} (blank or missing; first at row {empty[0]}); "
            f"remove or fill them"
        )
    reserved = {text_column, split_column, "id"}
    if label_columns is None:
        label_columns = [
            c for c in frame.columns
            if c not in reserved and frame[c].dropna().isin([0, 1]).all() and len(frame[c].dropna())
        ]
        if not label_columns and "labels" in frame.columns:
            label_columns = ["labels"]
    if not label_columns:
        raise DataError(
            f"{path} has no 0/1 label columns and no 'labels' column; name them with --label-columns"
        )
    absent = [c for c in label_columns if c not in frame.columns]
    if absent:
        raise DataError(f"{path} has no column(s) {absent}; columns: {', '.join(map(str, frame.columns))}")

    if len(label_columns) == 1 and not frame[label_columns[0]].dropna().isin([0, 1]).all():
        Y, names = _from_label_lists(frame[label_columns[0]], label_sep, path)
    else:
        values = frame[list(label_columns)]
        bad = ~values.isin([0, 1])
        if bad.to_numpy().any():
            row, col = np.argwhere(bad.to_numpy())[0]
            raise DataError(
                f"{path}: label column {label_columns[col]!r} row {row} holds {values.iat[row, col]!r}; "
                f"expected 0 or 1"
            )
        Y, names = values.to_numpy(dtype=np.int8), list(map(str, label_columns))
    never = [name for name, count in zip(names, Y.sum(axis=0)) if count == 0]
    if never:
        raise DataError(
            f"{path}: label column(s) {', '.join(map(repr, never))} hold only zeros; expected at least one "
            f"positive text per label: drop the column or name the label columns with --label-columns"
        )

    splits = _splits(frame, split_column, seed, path)
    return make_corpus(path.stem, texts.to_numpy(), Y, names, splits)


def _from_label_lists(column: pd.Series, sep: str, path: Path) -> tuple[np.ndarray, list[str]]:
    def parse(value: object) -> list[str]:
        if isinstance(value, (list, tuple)):  # a null or empty item names no label
            return [str(v).strip() for v in value if v is not None and str(v).strip()]
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return []
        text = str(value).strip()
        if text.startswith("["):
            try:
                return [str(v).strip() for v in json.loads(text) if v is not None and str(v).strip()]
            except json.JSONDecodeError:
                raise DataError(f"{path}: cannot parse label list {text!r}") from None
        return [part.strip() for part in text.split(sep) if part.strip()]

    lists = [parse(v) for v in column]
    names = sorted({label for labels in lists for label in labels})
    index = {name: j for j, name in enumerate(names)}
    Y = np.zeros((len(lists), len(names)), dtype=np.int8)
    for i, labels in enumerate(lists):
        Y[i, [index[label] for label in labels]] = 1
    return Y, names


def _splits(frame: pd.DataFrame, split_column: str, seed: int, path: Path) -> dict[str, np.ndarray]:
    if split_column in frame.columns:
        raw = frame[split_column].astype(str).str.strip().str.lower()
        unknown = sorted(set(raw) - set(SPLIT_ALIASES))
        if unknown:
            raise DataError(
                f"{path}: column {split_column!r} holds {unknown}; expected train, dev (or validation), test"
            )
        mapped = raw.map(SPLIT_ALIASES).to_numpy()
        return {s: np.flatnonzero(mapped == s) for s in ("train", "dev", "test")}
    perm = np.random.default_rng(seed).permutation(len(frame))
    n_test = n_dev = len(frame) // 10
    return {
        "test": np.sort(perm[:n_test]),
        "dev": np.sort(perm[n_test : n_test + n_dev]),
        "train": np.sort(perm[n_test + n_dev :]),
    }
