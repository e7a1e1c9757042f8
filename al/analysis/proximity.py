"""Centroid proximity: do the texts nearest a class centroid carry that class?

References
----------
Wertz et al., "Evaluating Pre-Trained Sentence-BERT with Class Embeddings in
Active Learning for Multi-Label Text Classification", AACL-IJCNLP 2022,
sec. 5.1 and Table 2 (``../shared/seeds/001``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import scipy.sparse as sp

from al.analysis.quality import dense_labels, json_float, unit_rows
from al.errors import ConfigError, DataError

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def nearest_neighbours(queries: np.ndarray, base: np.ndarray, k: int) -> np.ndarray:
    """Exact cosine nearest neighbours with FAISS (``IndexFlatIP`` over unit vectors).

    Parameters
    ----------
    queries : ndarray of shape (n_queries, dim)
    base : ndarray of shape (n_base, dim)
    k : int, 1 <= k <= n_base

    Returns
    -------
    ndarray of int, shape (n_queries, k): row indices into ``base``, most
    similar first.
    """
    import faiss

    if not 1 <= k <= len(base):
        raise ConfigError(f"k must be between 1 and the number of texts searched ({len(base)}), got {k}")
    index = faiss.IndexFlatIP(base.shape[1])
    index.add(np.ascontiguousarray(unit_rows(base), dtype=np.float32))
    _, found = index.search(np.ascontiguousarray(unit_rows(queries), dtype=np.float32), k)
    return found.astype(np.int64)


@dataclass(frozen=True)
class Proximity:
    """Per label, the labeled texts of the k unlabeled texts nearest its centroid.

    Attributes
    ----------
    k : int, neighbours per centroid.
    observed : ndarray of shape (n_labels,), float; NaN for labels without a centroid.
    expected : ndarray of shape (n_labels,): ``k`` x share of unlabeled texts carrying the label.
    ratio : ndarray of shape (n_labels,): observed / expected (NaN where undefined).
    possible : ndarray of shape (n_labels,), int: the most ``observed`` can be, ``min(k, unlabeled texts with
        the label)``.
    ceiling : ndarray of shape (n_labels,): the most ``ratio`` can be, possible / expected: near 1 for a label
        on most unlabeled texts, so that a ratio near 1 there says little (NaN where undefined).
    """

    k: int
    observed: np.ndarray
    expected: np.ndarray
    ratio: np.ndarray
    possible: np.ndarray
    ceiling: np.ndarray

    def as_dict(self, label_names: Sequence[str]) -> dict[str, dict[str, Any]]:
        """{label: {observed, expected, ratio, possible, ceiling}}; missing values are None."""
        return {
            name: {
                "observed": None if np.isnan(o) else int(o),
                "expected": json_float(e),
                "ratio": json_float(r),
                "possible": int(p),
                "ceiling": json_float(c),
            }
            for name, o, e, r, p, c in zip(label_names, self.observed, self.expected, self.ratio, self.possible,
                                           self.ceiling)
        }


def centroid_proximity(
    centroids: np.ndarray, embeddings_unlabeled: np.ndarray, Y_unlabeled: sp.spmatrix | np.ndarray, k: int = 100
) -> Proximity:
    """How many of the ``k`` unlabeled texts nearest each centroid carry its label.

    Nearness is cosine similarity to the (normalised) centroid, searched
    exactly. The count expected by chance is ``k`` times the share of
    unlabeled texts carrying the label; a ratio near 1 means the centroid
    finds its class no better than a random draw.

    Parameters
    ----------
    centroids : ndarray of shape (n_labels, dim)
        Class centroids; NaN rows (labels without a labeled text, as
        :func:`al.centroids.class_centroids` returns them) give NaN.
    embeddings_unlabeled : ndarray of shape (n_unlabeled, dim)
    Y_unlabeled : (sparse) matrix of shape (n_unlabeled, n_labels), 0/1
        Gold labels, read only to count.
    k : int, clipped to the number of unlabeled texts.

    Returns
    -------
    Proximity, with each label's ceiling: the k nearest hold at most
    ``min(k, P)`` of its ``P`` unlabeled texts, so the ratio is at most
    ``min(k, P) / expected``.

    References
    ----------
    Wertz et al. 2022, Table 2.
    """
    Yu = dense_labels(Y_unlabeled)
    if Yu.shape != (len(embeddings_unlabeled), len(centroids)):
        raise DataError(
            f"unlabeled label matrix has shape {Yu.shape}, expected ({len(embeddings_unlabeled)}, {len(centroids)})"
        )
    if k < 1:
        raise ConfigError(f"k must be a positive integer, got {k}")
    k = min(k, len(embeddings_unlabeled))
    expected = k * Yu.mean(axis=0) if len(Yu) else np.zeros(len(centroids))
    observed = np.full(len(centroids), np.nan)
    present = np.flatnonzero(~np.isnan(centroids).any(axis=1))
    if len(present) and k:
        found = nearest_neighbours(centroids[present], embeddings_unlabeled, k)
        observed[present] = Yu[found, present[:, None]].sum(axis=1)
    possible = np.minimum(k, Yu.sum(axis=0)).astype(np.int64) if len(Yu) else np.zeros(len(centroids), np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(expected > 0, observed / np.where(expected > 0, expected, 1.0), np.nan)
        ceiling = np.where(expected > 0, possible / np.where(expected > 0, expected, 1.0), np.nan)
    ceiling[np.isnan(observed)] = np.nan
    return Proximity(k, observed, expected, ratio, possible, ceiling)


def plot_proximity(
    sizes: Sequence[int],
    observed: np.ndarray,
    expected: np.ndarray,
    label_names: Sequence[str],
    k: int,
    title: str | None = None,
    possible: np.ndarray | None = None,
) -> "Figure":
    """Grouped bars: per label, one bar per labeled-set size; chance as black ticks, the most possible as grey.

    Parameters
    ----------
    sizes : sequence of int, length n_sizes
    observed, expected : ndarray of shape (n_sizes, n_labels); a NaN observed (no centroid) is a cross at 0, its
        chance and most possible left out.
    label_names : sequence of str, length n_labels
    k : int, neighbours per centroid (for the labels)
    title : str or None
    possible : ndarray of shape (n_sizes, n_labels), optional
        The most texts with the label the k nearest can hold, min(k, its unlabeled texts).
    """
    from matplotlib.figure import Figure

    observed, expected = np.asarray(observed, float), np.asarray(expected, float)
    n_sizes, n_labels = observed.shape
    fig = Figure(figsize=(max(7.0, 0.9 * n_labels + 2) + 1.6, 4.8), dpi=120)  # + the legend beside the bars
    ax = fig.subplots()
    width = 0.8 / n_sizes
    x = np.arange(n_labels)
    missing = np.isnan(observed)  # no centroid (no labeled text of the label): no bar, no ticks, a cross at 0
    for s, size in enumerate(sizes):
        pos = x - 0.4 + width * (s + 0.5)
        ax.bar(pos, np.nan_to_num(observed[s]), width, label=f"|L| = {size}")
        ax.scatter(pos, np.where(missing[s], np.nan, expected[s]), marker="_", s=120, color="black", zorder=3,
                   label="expected by chance" if s == 0 else None)
        if possible is not None:
            ax.scatter(pos, np.where(missing[s], np.nan, np.asarray(possible, float)[s]), marker="_", s=120,
                       color="grey", zorder=3, label="the most possible" if s == 0 else None)
        if missing[s].any():
            ax.scatter(pos[missing[s]], np.zeros(int(missing[s].sum())), marker="x", s=30, color="dimgrey", zorder=3,
                       label="no centroid (no labeled text)" if not missing[:s].any() else None)
    ax.set_xticks(x, list(label_names), rotation=30, ha="right")
    ax.set_xlabel("label")
    ax.set_ylabel(f"texts with the label among the {k} nearest")
    ax.set_title(title or f"Unlabeled texts nearest each class centroid that carry its label (k = {k})")
    ax.grid(axis="y", alpha=0.3)
    # beside the bars: inside, it covered the marks near the top (the most possible is often k)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    return fig

