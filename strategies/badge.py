"""BADGE: batch active learning by diverse gradient embeddings.

Multi-label form (ours; the paper is single-label): with per-label sigmoid
probabilities p_j(x), predicted labels yhat_j(x) = [p_j(x) >= 0.5] and the
classifier's representation h(x) (what its output layer sees), the gradient of
the binary cross-entropy of label j with respect to that label's output
weights, at the predicted label, is (p_j - yhat_j) h(x). The gradient
embedding concatenates these over labels::

    g(x) = [(p_1 - yhat_1) h(x), ..., (p_L - yhat_L) h(x)]      shape (L * d,)

and BADGE seeds k-means++ on the g(x) of the unlabeled texts: the first centre
is the text with the largest ||g|| (as in the authors' code), each next one is
drawn with probability proportional to D^2, its squared distance to the
nearest centre so far, from the run's generator; a text is never drawn twice.

g never has to exist: <g_a, g_b> = <r_a, r_b> <h_a, h_b> with r = p - yhat,
so ||g_a - g_b||^2 = ||r_a||^2 ||h_a||^2 + ||r_b||^2 ||h_b||^2 - 2 <r_a, r_b> <h_a, h_b>.
Updating D^2 after a pick costs one pass over r (n x L) and h (n x d), so a
query is O(n k (L + d)). Below ``max_gradient_bytes`` the matrix of g is
built instead (the direct reading of the paper); both give the same picks.

References
----------
Ash, Zhang, Krishnamurthy, Langford, Agarwal, "Deep Batch Active Learning by
Diverse, Uncertain Gradient Lower Bounds", ICLR 2020.
Arthur and Vassilvitskii, "k-means++: the advantages of careful seeding", SODA 2007.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from al import checks
from al.errors import QueryError
from al.registry import register
from al.strategy import PoolState, Strategy

#: Default of ``max_gradient_bytes``: gradient matrices up to this size (float64) are built.
DEFAULT_MAX_GRADIENT_BYTES = 256 * 2**20


def gradient_residuals(proba: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """r = p - yhat, yhat = [p >= threshold]: the per-label factor of the gradient embedding.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_labels)

    Returns
    -------
    ndarray of shape (n_samples, n_labels), float64: p_j - 1 (in [threshold - 1, 0]) where label j
    is predicted, p_j (in [0, threshold)) where it is not.
    """
    p = np.asarray(proba, dtype=np.float64)
    return p - (p >= threshold)


def gradient_embeddings(proba: np.ndarray, representations: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """g(x) = concat_j (p_j - yhat_j) h(x), materialised.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_labels)
    representations : ndarray of shape (n_samples, dim)

    Returns
    -------
    ndarray of shape (n_samples, n_labels * dim), float64; label j's block is
    columns ``j * dim : (j + 1) * dim``.
    """
    r = gradient_residuals(proba, threshold)
    h = np.asarray(representations, dtype=np.float64)
    return (r[:, :, None] * h[:, None, :]).reshape(len(r), -1)


def kmeans_pp_seeding(
    sq_norms: np.ndarray, sq_distance_to: Callable[[int], np.ndarray], n: int, rng: np.random.Generator
) -> np.ndarray:
    """k-means++ seeding as BADGE runs it, on any distance given row by row.

    The first centre is the row with the largest squared norm (ties: lowest
    position); each next centre is drawn with probability proportional to
    D^2, the squared distance to the nearest centre so far, by one
    ``rng.random()`` each. A row is never drawn twice; when every remaining
    row has D^2 = 0 (duplicates of centres), the next one is drawn uniformly
    among the rows not yet taken.

    Parameters
    ----------
    sq_norms : ndarray of shape (m,)
        Squared norms of the rows.
    sq_distance_to : callable
        ``sq_distance_to(i)`` -> ndarray of shape (m,): squared distances of every row to row ``i``.
    n : int
        Number of centres, at most m.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of int, shape (n,): row positions in the order drawn.
    """
    m = len(sq_norms)
    if n > m:
        raise QueryError(f"asked for {n} texts but only {m} are unlabeled")
    if n == 0:
        return np.empty(0, dtype=np.int64)
    picked = np.empty(n, dtype=np.int64)
    taken = np.zeros(m, dtype=bool)
    picked[0] = int(np.argmax(sq_norms))
    taken[picked[0]] = True
    d2 = np.maximum(sq_distance_to(picked[0]), 0.0)
    for k in range(1, n):
        weights = np.where(taken, 0.0, d2)
        cumulative = np.cumsum(weights)
        total = cumulative[-1]
        if total > 0:
            i = int(np.searchsorted(cumulative, rng.random() * total, side="right"))
            if i >= m or taken[i]:  # rounding at the top end: the last row with weight
                i = int(np.flatnonzero(weights > 0)[-1])
        else:
            i = int(rng.choice(np.flatnonzero(~taken)))
        picked[k] = i
        taken[i] = True
        d2 = np.minimum(d2, np.maximum(sq_distance_to(i), 0.0))
    return picked


def badge_select(
    proba: np.ndarray,
    representations: np.ndarray,
    n: int,
    rng: np.random.Generator,
    *,
    threshold: float = 0.5,
    materialise: bool = False,
) -> np.ndarray:
    """BADGE's picks among the given rows, with or without building the gradient embeddings.

    Parameters
    ----------
    proba : ndarray of shape (m, n_labels)
    representations : ndarray of shape (m, dim)
    n : number of picks
    rng : numpy.random.Generator
    threshold : yhat = [p >= threshold]
    materialise : build g (m x n_labels * dim, float64) and take distances on it; else use the
        factorised inner products. Same picks either way (up to float rounding).

    Returns
    -------
    ndarray of int, shape (n,): row positions, in the order drawn.
    """
    r = gradient_residuals(proba, threshold)
    if materialise:
        g = gradient_embeddings(proba, representations, threshold)
        sq = np.einsum("ij,ij->i", g, g)
        return kmeans_pp_seeding(sq, lambda i: sq + sq[i] - 2.0 * (g @ g[i]), n, rng)
    h = np.asarray(representations)
    if not np.issubdtype(h.dtype, np.floating):
        h = h.astype(np.float64)
    r_sq = np.einsum("ij,ij->i", r, r)
    h_sq = np.einsum("ij,ij->i", h, h, dtype=np.float64)
    sq = r_sq * h_sq

    def sq_distance_to(i: int) -> np.ndarray:
        return sq + sq[i] - 2.0 * (r @ r[i]) * (h @ h[i]).astype(np.float64)

    return kmeans_pp_seeding(sq, sq_distance_to, n, rng)


@register("badge")
class BADGE(Strategy):
    """k-means++ seeding on per-label BCE gradient embeddings (Ash et al. 2020; multi-label form).

    g(x) = concat_j (p_j(x) - [p_j(x) >= 0.5]) h(x), h the classifier's
    representation (the ``representations`` view: the sentence embedding for
    logreg, the [CLS] vector for bert). First centre: the largest ||g||; then
    D^2 sampling from ``state.rng``. See the module docstring.

    Parameters
    ----------
    threshold : float
        Predicted label yhat_j = [p_j >= threshold].
    max_gradient_bytes : int
        Build the gradient matrix (n_unlabeled x n_labels x dim float64) when it
        fits in this many bytes; otherwise compute the same distances from
        factors without building it.

    References
    ----------
    Ash et al., "Deep Batch Active Learning by Diverse, Uncertain Gradient
    Lower Bounds", ICLR 2020.
    """

    requires = frozenset({"proba", "representations"})

    def __init__(self, threshold: float = 0.5, max_gradient_bytes: int = DEFAULT_MAX_GRADIENT_BYTES) -> None:
        super().__init__()
        self.threshold = checks.number("badge", "threshold", threshold, 0.0, 1.0, low_open=True, high_open=True)
        self.max_gradient_bytes = checks.integer("badge", "max_gradient_bytes", max_gradient_bytes, at_least=0)

    def query(self, state: PoolState, n: int) -> np.ndarray:
        candidates = state.indices_unlabeled
        proba = state.proba[candidates]
        representations = state.representations[candidates]
        size = 8 * proba.shape[0] * proba.shape[1] * representations.shape[1]
        materialise = size <= self.max_gradient_bytes
        self.last_info = {"gradients": "materialised" if materialise else "factorised"}
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):  # one matrix-vector product per pick: memory-bound, threads only contend
            picked = badge_select(proba, representations, n, state.rng, threshold=self.threshold,
                                  materialise=materialise)
        return candidates[picked]
