"""CVIRS: category vector inconsistency and ranking of scores.

References
----------
Reyes, Morell, Ventura, "Effective active learning strategy for multi-label
learning", Neurocomputing 273 (2018), doi:10.1016/j.neucom.2017.08.001.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata

from al import checks
from al.errors import QueryError
from al.registry import register
from al.strategy import PoolState, Strategy, top_n


def uncertainty_rank_scores(proba: np.ndarray) -> np.ndarray:
    """s_rank: how uncertain a text is across labels, by rank aggregation.

    For each label j the margin m_j(x) = |P(y_j=1|x) - P(y_j=0|x)| = |2 p_j(x) - 1|
    ranks the texts ascending (rank 1 = most uncertain; ties share their average
    rank); s_rank(x) = sum_j (|U| - rank_j(x)) / (q (|U| - 1)).

    Parameters
    ----------
    proba : ndarray of shape (n_unlabeled, n_labels)

    Returns
    -------
    ndarray of shape (n_unlabeled,), in [0, 1]; 1 = most uncertain on every label.
    """
    n_unlabeled, n_labels = proba.shape
    if n_unlabeled == 1:
        return np.ones(1)
    margins = np.abs(2.0 * np.asarray(proba, dtype=np.float64) - 1.0)
    ranks = rankdata(margins, method="average", axis=0)
    return (n_unlabeled - ranks).sum(axis=1) / (n_labels * (n_unlabeled - 1))


def _h(x: np.ndarray) -> np.ndarray:
    """h(x) = -x log2 x, with h(0) = 0."""
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    pos = x > 0
    out[pos] = -x[pos] * np.log2(x[pos])
    return out


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)


def category_vector_distance(Y_pred: np.ndarray, Y_true: np.ndarray) -> np.ndarray:
    """Distance between binary category vectors (Reyes et al. 2018, eq. for d(yhat, y)).

    With a = both 1, b = pred 1 / true 0, c = pred 0 / true 1, d = both 0 over q labels:
    the distance is 1 if the Hamming distance (b+c)/q is 1, else the normalised
    entropy distance (2 H(yhat, y) - H(yhat) - H(y)) / H(yhat, y), where
    H(v) = h(#1/q) + h(#0/q) and
    H(yhat, y) = h((b+c)/q) + h((a+d)/q) + (b+c)/q [h(b/(b+c)) + h(c/(b+c))]
                 + (a+d)/q [h(a/(a+d)) + h(d/(a+d))]
    (terms with a zero denominator are 0). Identical constant vectors
    (H(yhat, y) = 0) are at distance 0.

    Parameters
    ----------
    Y_pred : ndarray of shape (n_pred, q), 0/1
    Y_true : ndarray of shape (n_true, q), 0/1

    Returns
    -------
    ndarray of shape (n_pred, n_true)
    """
    P = np.asarray(Y_pred, dtype=np.float64)
    T = np.asarray(Y_true, dtype=np.float64)
    q = P.shape[1]
    a = P @ T.T
    b = P.sum(axis=1)[:, None] - a
    c = T.sum(axis=1)[None, :] - a
    d = q - a - b - c
    entropy_pred = (_h(P.sum(axis=1) / q) + _h(1 - P.sum(axis=1) / q))[:, None]
    entropy_true = (_h(T.sum(axis=1) / q) + _h(1 - T.sum(axis=1) / q))[None, :]
    differ, agree = b + c, a + d
    joint = (
        _h(differ / q) + _h(agree / q)
        + differ / q * (_h(_ratio(b, differ)) + _h(_ratio(c, differ)))
        + agree / q * (_h(_ratio(a, agree)) + _h(_ratio(d, agree)))
    )
    distance = _ratio(2 * joint - entropy_pred - entropy_true, joint)
    distance[differ == q] = 1.0
    return distance


def inconsistency_scores(Y_pred: np.ndarray, Y_labeled: np.ndarray | sp.spmatrix) -> np.ndarray:
    """s_inc(x): mean category-vector distance of yhat(x) to the labeled vectors.

    Computed over distinct vectors only (at most 2^q predicted, at most |L|
    labeled), so the cost is independent of the pool size beyond one pass.

    Parameters
    ----------
    Y_pred : ndarray of shape (n_unlabeled, q), 0/1
    Y_labeled : (sparse) matrix of shape (n_labeled, q), 0/1

    Returns
    -------
    ndarray of shape (n_unlabeled,)
    """
    Y_labeled = Y_labeled.toarray() if sp.issparse(Y_labeled) else np.asarray(Y_labeled)
    if len(Y_labeled) == 0:
        raise QueryError("cvirs needs at least one labeled text: s_inc is a mean distance to the labeled "
                         "category vectors; label a text first, or use a strategy that needs no labels (random)")
    pred_patterns, pred_inverse = np.unique(np.asarray(Y_pred, dtype=np.int8), axis=0, return_inverse=True)
    true_patterns, true_counts = np.unique(Y_labeled.astype(np.int8), axis=0, return_counts=True)
    mean_distance = category_vector_distance(pred_patterns, true_patterns) @ true_counts / len(Y_labeled)
    return mean_distance[pred_inverse.ravel()]


def cvirs_scores(proba: np.ndarray, Y_labeled: np.ndarray | sp.spmatrix, threshold: float = 0.5) -> np.ndarray:
    """CVIRS score s_rank(x) * s_inc(x) of each unlabeled text (higher = ask first).

    Parameters
    ----------
    proba : ndarray of shape (n_unlabeled, n_labels)
    Y_labeled : (sparse) matrix of shape (n_labeled, n_labels)
    threshold : yhat(x) = 1[p(x) > threshold]
    """
    return uncertainty_rank_scores(proba) * inconsistency_scores(proba > threshold, Y_labeled)


@register("cvirs")
class CVIRS(Strategy):
    """Category Vector Inconsistency and Ranking of Scores (Reyes et al. 2018).

    Takes the ``n`` unlabeled texts with the highest s_rank * s_inc; no
    diversity step. Parameters: ``threshold`` (default 0.5) for the predicted
    category vector.
    """

    requires = frozenset({"proba"})

    def __init__(self, threshold: float = 0.5) -> None:
        super().__init__()
        self.threshold = checks.number("cvirs", "threshold", threshold, 0.0, 1.0, low_open=True, high_open=True)

    def query(self, state: PoolState, n: int) -> np.ndarray:
        proba = state.proba[state.indices_unlabeled]
        self.last_scores = cvirs_scores(proba, state.y_labeled, self.threshold)
        return top_n(self.last_scores, state.indices_unlabeled, n)
