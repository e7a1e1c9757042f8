"""Embedding-space diagnostics of one labeled / unlabeled split, for analyses and per-round records.

Imports no plotting library, so the simulation loop can call
:func:`diagnostics` every round.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp

from al.analysis.margins import centroid_margins
from al.analysis.proximity import centroid_proximity
from al.analysis.quality import TEMPERATURES, check_pool, embedding_quality, whole_number
from al.centroids import class_centroids
from al.errors import ConfigError


def diagnostics(
    embeddings_labeled: np.ndarray,
    Y_labeled: sp.spmatrix | np.ndarray,
    embeddings_unlabeled: np.ndarray,
    Y_unlabeled_for_evaluation_only: sp.spmatrix | np.ndarray,
    label_names: Sequence[str],
    k: int = 100,
    temperatures: Sequence[float] = TEMPERATURES,
    seed: int = 0,
) -> dict[str, Any]:
    """Centroid proximity, distance margins and embedding-space quality of one split.

    The gold labels of the unlabeled texts are read here only to measure how
    many texts near each centroid carry its label (and the chance rate), as
    an analysis after the fact. No strategy ever sees them.

    Parameters
    ----------
    embeddings_labeled : ndarray of shape (n_labeled, dim)
    Y_labeled : (sparse) matrix of shape (n_labeled, n_labels), 0/1
    embeddings_unlabeled : ndarray of shape (n_unlabeled, dim)
    Y_unlabeled_for_evaluation_only : (sparse) matrix of shape (n_unlabeled, n_labels), 0/1
    label_names : sequence of str, length n_labels
    k : int
        Unlabeled texts searched around each centroid (clipped to n_unlabeled, with a warning: every ratio is
        then 1).
    temperatures : sequence of float
        Temperatures of the soft nearest neighbour loss.
    seed : int
        Seed of k-means.

    Returns
    -------
    dict, JSON-serialisable (missing values are None)::

        n_labeled, n_unlabeled, k
        labeled_counts  {label: labeled texts}
        proximity       {label: {observed, expected, ratio, possible, ceiling}}   see al.analysis.proximity
        margins         {label: {n_texts, own, other, margin}}  see al.analysis.margins
        quality         snnl {T: loss}, snnl_uniform, snnl_anchors, silhouette,
                        davies_bouldin, calinski_harabasz, kmeans {k, nmi, ari, accuracy}
                        see al.analysis.quality for the multi-label rules
        summary         mean_ratio (over labels with a centroid), mean_margin (over the same
                        labels: a lone text's 0 own distance included; readers use
                        al.analysis.margins.mean_margin, 2 labeled texts or more),
                        labels_without_centroid

    References
    ----------
    Wertz et al., AACL-IJCNLP 2022, sec. 5 (seed 001); Agarap and Azcarraga (seed 002).
    """
    embeddings_labeled, embeddings_unlabeled = np.asarray(embeddings_labeled), np.asarray(embeddings_unlabeled)
    Yl = check_pool(embeddings_labeled, Y_labeled, label_names, caller="diagnostics (the labeled set)")
    check_pool(embeddings_unlabeled, Y_unlabeled_for_evaluation_only, label_names,
               caller="diagnostics (the unlabeled set)")
    label_names = list(label_names)
    if embeddings_labeled.shape[1] != embeddings_unlabeled.shape[1]:
        raise ConfigError(f"diagnostics got labeled vectors of {embeddings_labeled.shape[1]} dimensions and unlabeled "
                          f"ones of {embeddings_unlabeled.shape[1]}; expected both from one encoder")
    k = whole_number(k, "k", "the unlabeled texts searched around each centroid, k=100 say", caller="diagnostics")
    if k < 1:
        raise ConfigError(f"diagnostics' k must be a positive integer, got {k}")
    if 0 < len(embeddings_unlabeled) <= k:  # clipped: the k nearest are every unlabeled text, each ratio 1
        import warnings

        warnings.warn(f"diagnostics' k ({k}) is at least the {len(embeddings_unlabeled)} unlabeled texts: each "
                      f"centroid's k nearest are all of them, so every proximity ratio is 1 by construction and says "
                      f"nothing; give k below {len(embeddings_unlabeled)}", UserWarning, stacklevel=2)
    centroids, counts = class_centroids(embeddings_labeled, Yl)
    proximity = centroid_proximity(centroids, embeddings_unlabeled, Y_unlabeled_for_evaluation_only, k)
    margins = centroid_margins(embeddings_labeled, Yl, centroids)
    return {
        "n_labeled": int(len(embeddings_labeled)),
        "n_unlabeled": int(len(embeddings_unlabeled)),
        "k": proximity.k,
        "labeled_counts": dict(zip(label_names, counts.tolist())),
        "proximity": proximity.as_dict(label_names),
        "margins": margins.as_dict(label_names),
        "quality": embedding_quality(embeddings_labeled, Yl, temperatures, seed),
        "summary": {
            "mean_ratio": _mean(proximity.ratio),
            "mean_margin": _mean(margins.margin),
            "labels_without_centroid": [n for n, c in zip(label_names, counts) if c == 0],
        },
    }


def _mean(values: np.ndarray) -> float | None:
    values = values[np.isfinite(values)]
    return round(float(values.mean()), 6) if len(values) else None
