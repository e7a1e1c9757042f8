"""Label reduction as in the class-embedding paper: k frequent + k rare labels.

References
----------
Wertz et al., "Evaluating Pre-Trained Sentence-BERT with Class Embeddings in
Active Learning for Multi-Label Text Classification", AACL-IJCNLP 2022, sec. 4.1.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from al.datasets.corpus import SPLITS, Corpus, make_corpus
from al.errors import DataError

#: A label is *eligible* only if it has at least this many texts in the pool...
MIN_POOL_TEXTS = 20
#: ...and at least this many in the dev and in the test split...
MIN_EVAL_TEXTS = 10
#: ...and sit on at most this share of the pool: a label on more than half of
#: all texts is an umbrella ("related" in Disaster Response is on 97% of the
#: texts that carry any category), which label reduction would make constant.
MAX_POOL_SHARE = 0.5


def eligible_labels(
    corpus: Corpus, min_pool: int = MIN_POOL_TEXTS, min_eval: int = MIN_EVAL_TEXTS
) -> np.ndarray:
    """Indices of labels frequent enough to be learned and measured.

    Returns
    -------
    ndarray of int, label indices with ``>= min_pool`` texts in ``train``,
    ``>= min_eval`` texts in each of ``dev`` and ``test``, and on at most
    ``MAX_POOL_SHARE`` of the ``train`` texts.
    """
    pool_counts = corpus.label_counts("train")
    ok = (pool_counts >= min_pool) & (pool_counts <= MAX_POOL_SHARE * len(corpus.splits["train"]))
    for split in ("dev", "test"):
        ok &= corpus.label_counts(split) >= min_eval
    return np.flatnonzero(ok)


def pick_frequent_rare(
    corpus: Corpus,
    n_frequent: int = 5,
    n_rare: int = 5,
    min_pool: int = MIN_POOL_TEXTS,
    min_eval: int = MIN_EVAL_TEXTS,
) -> list[str]:
    """Names of the ``n_frequent`` most and ``n_rare`` least frequent eligible labels.

    Frequency is the count of texts in the pool (``train`` split). *Rare* means
    least frequent among the eligible labels (:func:`eligible_labels`), so every
    kept label has at least ``min_pool`` texts in the pool and ``min_eval`` in dev
    and test: rare enough to be hard, frequent enough to be measured. Ties are
    broken by label name. Returned frequent first (descending), then rare
    (ascending).
    """
    eligible = eligible_labels(corpus, min_pool, min_eval)
    needed = n_frequent + n_rare
    if len(eligible) < needed:
        raise DataError(
            f"corpus {corpus.name!r} has {len(eligible)} labels with >= {min_pool} pool texts and "
            f">= {min_eval} dev/test texts, but {n_frequent} frequent + {n_rare} rare = {needed} were "
            f"asked for; lower --frequent/--rare or name the labels with --labels"
        )
    counts = corpus.label_counts("train")
    names = np.asarray(corpus.label_names, dtype=object)
    # sort by count descending, then name ascending
    order = sorted(eligible, key=lambda j: (-counts[j], names[j]))
    frequent = order[:n_frequent]
    rare = sorted(order[len(order) - n_rare :] if n_rare else [], key=lambda j: (counts[j], names[j]))
    return [names[j] for j in [*frequent, *rare]]


def _label_columns(corpus: Corpus, labels: Sequence[str]) -> list[int]:
    """Column of each name in ``labels``; DataError for an unknown or repeated name."""
    index = {name: j for j, name in enumerate(corpus.label_names)}
    missing = [name for name in labels if name not in index]
    if missing:
        raise DataError(
            f"label(s) {', '.join(map(repr, missing))} not in corpus {corpus.name!r}; "
            f"known labels: {', '.join(corpus.label_names)}"
        )
    if len(set(labels)) != len(labels):
        raise DataError(f"--labels lists a label twice: {list(labels)}")
    return [index[name] for name in labels]


def check_eligible(
    corpus: Corpus, labels: Sequence[str], min_pool: int = MIN_POOL_TEXTS, min_eval: int = MIN_EVAL_TEXTS
) -> None:
    """Refuse an explicit label pick that the automatic pick would not make.

    Every label in ``labels`` must be eligible (:func:`eligible_labels`): at
    least ``min_pool`` texts in the pool (``train``), at least ``min_eval``
    in each of ``dev`` (threshold tuning, early stopping) and ``test`` (its
    F1), and on at most ``MAX_POOL_SHARE`` of the pool. A label missing from
    dev or test would enter macro-F1 as a meaningless 0; a label on most of
    the pool is close to a constant. Counts are taken on ``corpus`` before
    reduction, as the automatic pick does.

    Raises
    ------
    DataError
        One line naming each offending label with its pool / dev / test
        counts, what is required, and eligible labels to pick instead.
    """
    columns = _label_columns(corpus, labels)
    eligible = set(eligible_labels(corpus, min_pool, min_eval).tolist())
    bad = [j for j in columns if j not in eligible]
    if not bad:
        return
    n_pool = len(corpus.splits["train"])
    counts = {split: corpus.label_counts(split) for split in SPLITS}
    described = ", ".join(
        f"{corpus.label_names[j]!r} (pool {counts['train'][j]} = {counts['train'][j] / max(n_pool, 1):.0%}, "
        f"dev {counts['dev'][j]}, test {counts['test'][j]})"
        for j in bad
    )
    others = sorted(eligible - set(columns), key=lambda j: (-counts["train"][j], corpus.label_names[j]))
    if others:
        shown = ", ".join(f"{corpus.label_names[j]} ({counts['train'][j]})" for j in others[:12])
        more = f" and {len(others) - 12} more" if len(others) > 12 else ""
        instead = f"eligible labels not picked: {shown}{more}"
    else:
        instead = "no other label of this corpus is eligible"
    raise DataError(
        f"--labels: {len(bad)} label(s) of corpus {corpus.name!r} cannot be learned and measured: {described}; "
        f"every kept label needs >= {min_pool} pool texts, >= {min_eval} dev and >= {min_eval} test texts and at "
        f"most {MAX_POOL_SHARE:.0%} of the pool ({n_pool} texts); pick other labels ({instead}) "
        f"or use --frequent/--rare"
    )


def select_labels(corpus: Corpus, labels: Sequence[str], drop_unlabeled: bool = True) -> Corpus:
    """Keep only ``labels`` (in that order) and, by default, texts carrying at least one.

    With two labels or more, a text with none of them is dropped (as in the
    paper: the task is to tell the kept labels apart). With one label every
    text stays whatever ``drop_unlabeled`` says: the texts without it are the
    negatives of its binary task (dropped, every text left would be positive).
    No eligibility check (see :func:`check_eligible`, which :func:`reduce_labels`
    applies to explicit picks).

    Raises
    ------
    DataError
        If a requested label is not in the corpus, or a split is left with no
        text carrying one (with ``drop_unlabeled``) or with no text at all.
    """
    columns = _label_columns(corpus, labels)
    Y = corpus.Y[:, columns].tocsr()
    labeled = np.asarray(Y.sum(axis=1)).ravel() > 0
    keep = labeled if drop_unlabeled and len(columns) > 1 else np.ones(Y.shape[0], bool)
    new_index = np.full(len(keep), -1, dtype=np.int64)
    new_index[keep] = np.arange(keep.sum())
    splits = {s: new_index[idx[keep[idx]]] for s, idx in corpus.splits.items()}
    for split in SPLITS:
        if len(splits[split]) == 0 or (drop_unlabeled and not labeled[corpus.splits[split]].any()):
            raise DataError(f"no {split} text of corpus {corpus.name!r} carries any of the labels {list(labels)}")
    return make_corpus(corpus.name, corpus.texts[keep], Y[keep], list(labels), splits)


def reduce_labels(
    corpus: Corpus,
    labels: Sequence[str] | None = None,
    n_frequent: int = 5,
    n_rare: int = 5,
) -> Corpus:
    """The corpus reduced to ``labels``, or to :func:`pick_frequent_rare` labels if None.

    An explicit pick must pass the same eligibility rule as the automatic one
    (:func:`check_eligible`), so every kept label can be learned and measured.

    Raises
    ------
    DataError
        An unknown, repeated or ineligible label; too few eligible labels.
    """
    if labels:
        chosen = list(labels)
        check_eligible(corpus, chosen)
    else:
        chosen = pick_frequent_rare(corpus, n_frequent, n_rare)
    return select_labels(corpus, chosen)


def subsample_pool(corpus: Corpus, size: int, seed: int = 0) -> Corpus:
    """The corpus with its pool (``train`` split) cut to ``size`` random texts."""
    pool = corpus.splits["train"]
    if size >= len(pool):
        return corpus
    keep_pool = np.sort(np.random.default_rng(seed).choice(pool, size, replace=False))
    keep = np.sort(np.concatenate([keep_pool, corpus.splits["dev"], corpus.splits["test"]]))
    new_index = np.full(len(corpus.texts), -1, dtype=np.int64)
    new_index[keep] = np.arange(len(keep))
    splits = {"train": new_index[keep_pool], "dev": new_index[corpus.splits["dev"]], "test": new_index[corpus.splits["test"]]}
    return make_corpus(corpus.name, corpus.texts[keep], corpus.Y[keep], corpus.label_names, splits)
