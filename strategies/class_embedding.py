"""Class embeddings: pick unlabeled texts nearest the centroid of the rarest label.

The centroid math (eq. 1) lives in core, :func:`al.centroids.class_centroids`,
shared with the analysis; it is re-exported here.

References
----------
Wertz, Bogdanova, Fellbaum, Kurz, "Evaluating Pre-Trained Sentence-BERT with
Class Embeddings in Active Learning for Multi-Label Text Classification",
AACL-IJCNLP 2022, Algorithm 1 (``../shared/seeds/001``).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from al.centroids import class_centroids, cosine_similarity_to
from al.errors import QueryError
from al.registry import register
from al.strategy import PoolState, Strategy

__all__ = ["ClassEmbedding", "class_embedding_query", "class_centroids", "cosine_similarity_to"]


def class_embedding_query(
    embeddings: np.ndarray,
    indices_labeled: np.ndarray,
    indices_unlabeled: np.ndarray,
    y_labeled: sp.csr_matrix,
    n: int,
    reveal,
    rng: np.random.Generator,
) -> tuple[np.ndarray, list[int], list[int]]:
    """Algorithm 1 for one round.

    Centroids come from the labeled set at the start of the round and stay
    fixed. Each of the ``n`` picks takes the label with the fewest labeled
    texts (counting texts picked earlier in the round, whose gold labels
    ``reveal`` returns as they are picked; ties broken by ``rng``), then the
    unlabeled text nearest (cosine) to that label's centroid. Labels with no
    labeled text have no centroid and are skipped. While no labeled text
    carries any label (a person answered "none" to every text so far), no
    label has a centroid: the ``n`` picks are drawn at random by ``rng``
    (ours; the paper's initial set always carries labels), ``targets`` empty.

    Parameters
    ----------
    embeddings : ndarray of shape (n_pool, dim)
    indices_labeled, indices_unlabeled : ndarray of int
        Absolute pool indices.
    y_labeled : csr_matrix of shape (n_labeled, n_labels)
    n : int
    reveal : callable, absolute indices -> csr_matrix (k, n_labels)
    rng : numpy.random.Generator

    Returns
    -------
    picked : ndarray of int, shape (n,)
    targets : list of int, the label each pick was made for
    skipped : list of int, labels without a centroid this round
    """
    centroids, counts = class_centroids(embeddings[indices_labeled], y_labeled)
    has_centroid = counts > 0
    if n > len(indices_unlabeled):
        raise QueryError(f"asked for {n} texts but only {len(indices_unlabeled)} are unlabeled")
    if not has_centroid.any():  # nothing to be near yet: a uniform draw, until a label has a labeled text
        drawn = rng.choice(len(indices_unlabeled), size=n, replace=False)
        return np.asarray(indices_unlabeled, dtype=np.int64)[drawn], [], list(range(len(counts)))
    counts = counts.astype(np.float64)
    counts[~has_centroid] = np.inf  # never the "least frequent" label
    row_norms = np.linalg.norm(embeddings, axis=1)  # once per round; no copy of the pool
    rankings: dict[int, np.ndarray] = {}  # label -> unlabeled positions, nearest first
    cursor: dict[int, int] = {}
    taken = np.zeros(len(indices_unlabeled), dtype=bool)
    picked: list[int] = []
    targets: list[int] = []
    for _ in range(n):
        rarest = np.flatnonzero(counts == counts.min())
        label = int(rarest[0] if len(rarest) == 1 else rng.choice(rarest))
        if label not in rankings:
            c = centroids[label]
            norms = row_norms[indices_unlabeled] * np.linalg.norm(c)
            sim = (embeddings @ c.astype(embeddings.dtype))[indices_unlabeled] / np.where(norms > 0, norms, 1.0)
            rankings[label] = np.lexsort((np.arange(len(sim)), -sim))  # ties: lower position
            cursor[label] = 0
        order, k = rankings[label], cursor[label]
        while taken[order[k]]:
            k += 1
        cursor[label] = k + 1
        taken[order[k]] = True
        index = int(indices_unlabeled[order[k]])
        picked.append(index)
        targets.append(label)
        gold = np.asarray(reveal(np.array([index])).toarray()).ravel()
        counts[has_centroid] += gold[has_centroid]
    return np.array(picked, dtype=np.int64), targets, np.flatnonzero(~has_centroid).tolist()


@register("class_embedding")
class ClassEmbedding(Strategy):
    """Nearest-to-centroid sampling for the rarest label (seed 001, Algorithm 1).

    After a query, ``last_info["targets"]`` holds the label each pick was made
    for and ``last_info["skipped_labels"]`` the labels that had no labeled text,
    hence no centroid; the engine writes both into the round's record. A round
    whose picks were drawn at random, no label having a centroid, adds
    ``last_info["fallback"]``.
    """

    requires = frozenset({"embeddings", "reveal"})

    def query(self, state: PoolState, n: int) -> np.ndarray:
        picked, targets, skipped = class_embedding_query(
            state.embeddings, state.indices_labeled, state.indices_unlabeled, state.y_labeled, n, state.reveal, state.rng
        )
        self.last_info = {
            "targets": [state.label_names[j] for j in targets],
            "skipped_labels": [state.label_names[j] for j in skipped],
        }
        if n and not targets:
            self.last_info["fallback"] = RANDOM_FALLBACK
        return picked


#: ``strategy_info.fallback`` of a round whose picks were drawn at random (:func:`class_embedding_query`).
RANDOM_FALLBACK = "random: no labeled text carries any label yet, so no label has a centroid"
