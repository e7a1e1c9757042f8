"""Cosine-distance margins: are labeled texts nearer their own class centroid than the others?

References
----------
Wertz et al., "Evaluating Pre-Trained Sentence-BERT with Class Embeddings in
Active Learning for Multi-Label Text Classification", AACL-IJCNLP 2022,
sec. 5.2 and Figures 3-4 (``../shared/seeds/001``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from al.analysis.quality import dense_labels, json_float, unit_rows
from al.centroids import class_centroids
from al.errors import DataError

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def centroid_distances(embeddings: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Cosine distance ``1 - cos`` of every text to every centroid.

    Parameters
    ----------
    embeddings : ndarray of shape (n_samples, dim)
    centroids : ndarray of shape (n_labels, dim); NaN rows stay NaN.

    Returns
    -------
    ndarray of shape (n_samples, n_labels)
    """
    return 1.0 - unit_rows(embeddings) @ unit_rows(centroids).T


@dataclass(frozen=True)
class Margins:
    """Per label, mean cosine distance of its labeled texts to its own and to the other centroids.

    Attributes
    ----------
    n_texts : ndarray of int, shape (n_labels,), labeled texts per label.
    own : ndarray of shape (n_labels,)
    other : ndarray of shape (n_labels,)
    margin : ndarray of shape (n_labels,), ``other - own``: positive when
        texts sit nearer their own centroid. NaN where undefined.
    """

    n_texts: np.ndarray
    own: np.ndarray
    other: np.ndarray
    margin: np.ndarray

    def as_dict(self, label_names: Sequence[str]) -> dict[str, dict[str, Any]]:
        """{label: {n_texts, own, other, margin}}; missing values are None."""
        return {
            name: {"n_texts": int(n), "own": json_float(o), "other": json_float(t), "margin": json_float(m)}
            for name, n, o, t, m in zip(label_names, self.n_texts, self.own, self.other, self.margin)
        }


#: Labeled texts a label needs for its margin to count in :func:`mean_margin`: a label's only labeled text is its
#: centroid, at distance 0 from it, so its margin is just its distance to the other centroids.
MIN_MARGIN_TEXTS = 2


def mean_margin(margins: Mapping[str, Mapping[str, Any]]) -> float | None:
    """Mean margin of the labels with at least :data:`MIN_MARGIN_TEXTS` labeled texts, from
    :meth:`Margins.as_dict`'s ``{label: {n_texts, margin, ...}}``; None where no label has."""
    values = [m["margin"] for m in margins.values()
              if m.get("margin") is not None and (m.get("n_texts") or 0) >= MIN_MARGIN_TEXTS]
    return float(np.mean(values)) if values else None


def centroid_margins(embeddings: np.ndarray, Y: sp.spmatrix | np.ndarray, centroids: np.ndarray) -> Margins:
    """Own-centroid vs other-centroid cosine distances of the labeled texts, per label.

    For label j with labeled texts ``L_j``:
    ``own_j = mean_{i in L_j} d(x_i, c_j)`` and
    ``other_j = mean_{i in L_j} mean_{j' != j} d(x_i, c_j')`` over the other
    labels that have a centroid. As in the paper, "other" includes a
    multi-label text's other labels, so label overlap narrows the margin.

    Parameters
    ----------
    embeddings : ndarray of shape (n_labeled, dim)
    Y : (sparse) matrix of shape (n_labeled, n_labels), 0/1
    centroids : ndarray of shape (n_labels, dim), NaN rows for labels without texts
        (as :func:`al.centroids.class_centroids` returns them).

    Returns
    -------
    Margins; labels without texts, or without another centroid to compare
    with, get NaN.

    References
    ----------
    Wertz et al. 2022, Figures 3 and 4.
    """
    Yd = dense_labels(Y)
    if Yd.shape != (len(embeddings), len(centroids)):
        raise DataError(f"label matrix has shape {Yd.shape}, expected ({len(embeddings)}, {len(centroids)})")
    D = centroid_distances(embeddings, centroids)
    present = ~np.isnan(centroids).any(axis=1)
    n_texts = Yd.sum(axis=0)
    n_labels = len(centroids)
    own, other = np.full(n_labels, np.nan), np.full(n_labels, np.nan)
    for j in np.flatnonzero(present & (n_texts > 0)):
        rows = D[Yd[:, j]]
        own[j] = rows[:, j].mean()
        rest = present.copy()
        rest[j] = False
        if rest.any():
            other[j] = rows[:, rest].mean()
    return Margins(n_texts.astype(np.int64), own, other, other - own)


#: Shuffles of the labeled texts' label sets behind :func:`shuffled_margins`.
SHUFFLES = 20


def shuffled_margins(embeddings: np.ndarray, Y: sp.spmatrix | np.ndarray, label_names: Sequence[str], seed: int = 0,
                     n_shuffles: int = SHUFFLES) -> dict[str, Any]:
    """The margins with the labels shuffled among the same labeled texts: a chance reference for
    :func:`centroid_margins`.

    Each shuffle gives every labeled text another one's label set (a seeded permutation of the rows of ``Y``), so
    every label keeps its count and every label set its co-occurrence, and the space its texts; what the texts'
    classes add to a margin is gone. What is left is how a margin is measured: a centroid is the mean of the very
    texts measured against it, and sits nearer them the fewer they are (two texts: each half of it), so a margin
    is positive even then.

    Parameters
    ----------
    embeddings : ndarray of shape (n_labeled, dim)
    Y : (sparse) matrix of shape (n_labeled, n_labels), 0/1
    label_names : sequence of str, length n_labels
    seed : int
        Seeds the permutations (``numpy.random.default_rng([seed, n_labeled])``).
    n_shuffles : int

    Returns
    -------
    dict, JSON-ready: ``n_shuffles``; ``mean_margin``, the mean over shuffles of :func:`mean_margin` (labels with
    :data:`MIN_MARGIN_TEXTS` labeled texts or more; None where none has), and ``std`` its sample standard
    deviation over them; ``margin``, ``{label: the mean over shuffles of its margin}`` (None where undefined).
    """
    Yd = dense_labels(Y)
    rng = np.random.default_rng([seed, len(Yd)])
    per_label, means = [], []
    for _ in range(n_shuffles):
        shuffled = Yd[rng.permutation(len(Yd))]
        margins = centroid_margins(embeddings, shuffled, class_centroids(embeddings, shuffled)[0])
        per_label.append(margins.margin)
        means.append(mean_margin(margins.as_dict(label_names)))
    means = [m for m in means if m is not None]
    label_means = np.full(Yd.shape[1], np.nan)
    if per_label:
        stacked = np.array(per_label)
        defined = np.isfinite(stacked).all(axis=0)  # every shuffle keeps each label's count: defined in all or none
        label_means[defined] = stacked[:, defined].mean(axis=0)
    return {
        "n_shuffles": int(n_shuffles),
        "mean_margin": json_float(np.mean(means)) if means else None,
        "std": json_float(np.std(means, ddof=1)) if len(means) > 1 else None,
        "margin": {name: json_float(m) for name, m in zip(label_names, label_means)},
    }


def plot_margins(margins: Margins, label_names: Sequence[str], title: str | None = None) -> "Figure":
    """Grouped bars per label: distance to the own centroid vs to the others (mean).

    Parameters
    ----------
    margins : Margins
    label_names : sequence of str, length n_labels
    title : str or None
    """
    from matplotlib.figure import Figure

    n_labels = len(label_names)
    fig = Figure(figsize=(max(7.0, 0.7 * n_labels + 2), 4.5), dpi=120)
    ax = fig.subplots()
    x = np.arange(n_labels)
    ax.bar(x - 0.2, np.nan_to_num(margins.own), 0.4, label="own class centroid")
    ax.bar(x + 0.2, np.nan_to_num(margins.other), 0.4, label="other class centroids (mean)")
    ax.set_xticks(x, [f"{name}\n(n={n})" for name, n in zip(label_names, margins.n_texts)],
                  rotation=30, ha="right", fontsize="small")
    ax.set_xlabel("label")
    ax.set_ylabel("mean cosine distance")
    ax.set_title(title or "Cosine distance of labeled texts to class centroids")
    ax.grid(axis="y", alpha=0.3)
    drawn = np.concatenate([margins.own, margins.other])
    drawn = drawn[np.isfinite(drawn)]
    if len(drawn) and drawn.max() > 0:  # room above the bars: the legend covers none
        ax.set_ylim(0, 1.3 * float(drawn.max()))
    ax.legend(fontsize="small", loc="upper center", ncol=2)
    fig.tight_layout()
    return fig

