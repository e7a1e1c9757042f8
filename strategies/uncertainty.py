"""Uncertainty sampling for multi-label classifiers with per-label sigmoids.

With independent per-label probabilities p_j(x) there is no single "top
class", so each score aggregates per-label uncertainties:

* ``least_confidence`` (BinMin): the text whose *least confident* label is
  closest to 0.5, score = max_j (1 - max(p_j, 1 - p_j)).
* ``margin``: the smallest *mean* margin, score = -mean_j |p_j - (1 - p_j)|.
* ``max_entropy``: the largest summed binary entropy, score = sum_j H(p_j),
  H(p) = -p log2 p - (1 - p) log2 (1 - p).

References
----------
Brinker, "On active learning in multi-label classification", in From Data and
Information Analysis to Knowledge Engineering (2006) (BinMin).
Esuli and Sebastiani, "Active learning strategies for multi-label text
classification", ECIR 2009 (per-label scores aggregated by max / average).
Settles, "Active Learning Literature Survey" (2009), sec. 3.1.
"""
from __future__ import annotations

import numpy as np

from al.registry import register
from al.strategy import PoolState, Strategy, top_n


def least_confidence_scores(proba: np.ndarray) -> np.ndarray:
    """max_j (1 - max(p_j, 1 - p_j)), shape (n,); in [0, 0.5], higher = less confident."""
    proba = np.asarray(proba, dtype=np.float64)
    return (1.0 - np.maximum(proba, 1.0 - proba)).max(axis=1)


def margin_scores(proba: np.ndarray) -> np.ndarray:
    """-mean_j |2 p_j - 1|, shape (n,); in [-1, 0], higher = smaller margins."""
    return -np.abs(2.0 * np.asarray(proba, dtype=np.float64) - 1.0).mean(axis=1)


def entropy_scores(proba: np.ndarray) -> np.ndarray:
    """sum_j H(p_j) in bits, shape (n,); in [0, n_labels]."""
    p = np.clip(np.asarray(proba, dtype=np.float64), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = -(np.where(p > 0, p * np.log2(p), 0.0) + np.where(p < 1, (1 - p) * np.log2(1 - p), 0.0))
    return terms.sum(axis=1)


class _ProbaScoring(Strategy):
    requires = frozenset({"proba"})
    score = staticmethod(least_confidence_scores)

    def query(self, state: PoolState, n: int) -> np.ndarray:
        self.last_scores = type(self).score(state.proba[state.indices_unlabeled])
        return top_n(self.last_scores, state.indices_unlabeled, n)


@register("least_confidence")
class LeastConfidence(_ProbaScoring):
    """Pick texts whose least confident label is nearest 0.5 (BinMin, Brinker 2006)."""

    score = staticmethod(least_confidence_scores)


@register("margin")
class Margin(_ProbaScoring):
    """Pick texts with the smallest mean per-label margin |p_j - (1 - p_j)|."""

    score = staticmethod(margin_scores)


@register("max_entropy")
class MaxEntropy(_ProbaScoring):
    """Pick texts with the largest sum of per-label binary entropies."""

    score = staticmethod(entropy_scores)
