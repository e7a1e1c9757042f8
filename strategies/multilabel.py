"""Multi-label native strategies: MMC, Adaptive and BinMin.

All three read the classifier's per-label probabilities p_j(x) and use the
real-valued outputs f_j(x) = 2 p_j(x) - 1 in [-1, 1] that the papers take from
SVMs (with logistic regression |logit| and |2p - 1| rank texts the same way);
label j is predicted when p_j >= 0.5, i.e. f_j >= 0.

References
----------
Yang, Sun, Wang, Chen, "Effective Multi-Label Active Learning for Text
Classification", KDD 2009 (MMC).
Li and Guo, "Active Learning with Multi-Label SVM Classification", IJCAI 2013 (Adaptive).
Brinker, "On Active Learning in Multi-label Classification", in From Data and
Information Analysis to Knowledge Engineering, Springer 2006 (BinMin).
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from al.errors import ConfigError, QueryError
from al.registry import register
from al.strategy import PoolState, Strategy, top_n

#: Adaptive's trade-off values, as in Li and Guo (2013): 0, 0.1, ..., 1.
DEFAULT_BETAS = tuple(round(0.1 * i, 1) for i in range(11))


def decision_values(proba: np.ndarray) -> np.ndarray:
    """f = 2 p - 1, float64, same shape as ``proba``."""
    return 2.0 * np.asarray(proba, dtype=np.float64) - 1.0


def _dense(Y: np.ndarray | sp.spmatrix) -> np.ndarray:
    return Y.toarray() if sp.issparse(Y) else np.asarray(Y)


# ----------------------------------------------------------------------------------------------- BinMin


def binmin_scores(proba: np.ndarray) -> np.ndarray:
    """-min_j |f_j(x)|, shape (n,): BinMin asks for argmin_x min_j |f_j(x)|, so higher = ask first.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_labels)
    """
    return -np.abs(decision_values(proba)).min(axis=1)


# -------------------------------------------------------------------------------------------------- MMC


def label_count_features(proba: np.ndarray) -> np.ndarray:
    """Each row's probabilities sorted in decreasing order and scaled to sum 1 (Yang et al. 2009, sec. 4.2).

    A row of zeros stays zeros.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_labels)

    Returns
    -------
    ndarray of shape (n_samples, n_labels), float64
    """
    ordered = -np.sort(-np.asarray(proba, dtype=np.float64), axis=1)
    sums = ordered.sum(axis=1, keepdims=True)
    return np.divide(ordered, sums, out=np.zeros_like(ordered), where=sums > 0)


def predict_label_counts(proba_labeled: np.ndarray, counts_labeled: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """How many labels each text has, by a logistic regression on :func:`label_count_features`.

    Multinomial logistic regression (scikit-learn, lbfgs, C = 1), classes = the
    label counts seen in the labeled set, trained in-sample on the labeled
    texts' features and their true counts. If every labeled text has the same
    count, that count is predicted for every text (there is nothing to learn).

    Parameters
    ----------
    proba_labeled : ndarray of shape (n_labeled, n_labels)
    counts_labeled : ndarray of int, shape (n_labeled,)
    proba : ndarray of shape (n_samples, n_labels)

    Returns
    -------
    ndarray of int, shape (n_samples,)
    """
    counts_labeled = np.asarray(counts_labeled, dtype=np.int64)
    if len(counts_labeled) == 0:
        raise QueryError("mmc needs at least one labeled text to learn label counts from")
    distinct = np.unique(counts_labeled)
    if len(distinct) == 1:
        return np.full(len(proba), distinct[0], dtype=np.int64)
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit(label_count_features(proba_labeled), counts_labeled)
    return model.predict(label_count_features(proba)).astype(np.int64)


def mmc_scores(proba: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Expected loss reduction sum_j (1 - y_j f_j) / 2 with y_j = +1 for the ``counts`` most probable labels.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_labels)
    counts : ndarray of int, shape (n_samples,)
        Predicted label count m(x); the m(x) labels with the highest p_j get
        y_j = +1 (ties: the lower label index first), the others -1.

    Returns
    -------
    ndarray of shape (n_samples,), in [0, n_labels]; higher = ask first.
    """
    f = decision_values(proba)
    order = np.argsort(-f, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(f.shape[1])[None, :].repeat(len(f), axis=0), axis=1)
    y = np.where(rank < np.asarray(counts)[:, None], 1.0, -1.0)
    return ((1.0 - y * f) / 2.0).sum(axis=1)


# --------------------------------------------------------------------------------------------- Adaptive


def max_margin_uncertainty(proba: np.ndarray) -> np.ndarray:
    """u(x) = 1 / (min f over predicted positives - max f over predicted negatives); 0 if either side is empty.

    Predicted positive: f_j >= 0 (p_j >= 0.5). The margin is then > 0.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_labels)

    Returns
    -------
    ndarray of shape (n_samples,), >= 0
    """
    f = decision_values(proba)
    positive = f >= 0
    margin = np.where(positive, f, np.inf).min(axis=1) - np.where(positive, -np.inf, f).max(axis=1)
    with np.errstate(divide="ignore"):
        return np.where(np.isfinite(margin), 1.0 / margin, 0.0)


def cardinality_inconsistency(proba: np.ndarray, mean_count: float) -> np.ndarray:
    """c(x) = |number of predicted positives (p_j >= 0.5) - mean label count of the labeled set|, shape (n,)."""
    return np.abs((np.asarray(proba) >= 0.5).sum(axis=1) - mean_count)


def adaptive_scores(uncertainty: np.ndarray, inconsistency: np.ndarray, beta: float) -> np.ndarray:
    """q = u^beta * c^(1 - beta) (with 0^0 = 1), shape (n,)."""
    return np.power(uncertainty, beta) * np.power(inconsistency, 1.0 - beta)


def approximate_error(f: np.ndarray) -> np.ndarray:
    """Li and Guo's approximate generalisation error of a classifier's outputs on a pool, one value per column set.

    err = sum_x ( max_{j: f_j >= 0} (1 - f_j) [0 if none] + max_{j: f_j <= 0} (1 + f_j) [0 if none] ).

    Parameters
    ----------
    f : ndarray of shape (..., n_samples, n_labels)

    Returns
    -------
    ndarray of shape (...,)
    """
    pos = np.where(f >= 0, 1.0 - f, 0.0).max(axis=-1)
    neg = np.where(f <= 0, 1.0 + f, 0.0).max(axis=-1)
    return (pos + neg).sum(axis=-1)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


class LookaheadHead:
    """One-vs-rest L2 logistic regression on representations, and its one-text look-ahead.

    Per label j: scikit-learn's ``LogisticRegression(C, class_weight)``
    (objective C * sum_i s_i loss_i + ||w||^2 / 2, intercept unpenalised),
    fitted on the labeled texts. A label with one class in the labeled set is a
    constant (p = 0 or 1) and stays one in the look-ahead.

    :meth:`lookahead_thetas` is the classifier retrained with one more text
    under given labels, taken as one Newton step from the fit:
    theta' = theta - H'^{-1} g', where g' is the gradient of the new objective
    at theta (the added text's term, plus the change of the balanced class
    weights n / (2 n_class) on the labeled texts' terms, whose sum is zero at
    the optimum) and H' the Hessian with the added text's term (Sherman-Morrison;
    the weights' change is left out of H', a second-order effect).

    Parameters
    ----------
    C : float
    class_weight : {"balanced", None}
    """

    def __init__(self, C: float = 1.0, class_weight: str | None = "balanced") -> None:
        self.C = C
        self.class_weight = class_weight

    def _weights(self, n: int | np.ndarray, n_class: np.ndarray) -> np.ndarray:
        if self.class_weight != "balanced":
            return np.ones(np.shape(n_class))
        return np.asarray(n, dtype=np.float64)[..., None] / (2.0 * n_class)

    def fit(self, X: np.ndarray, Y: np.ndarray) -> "LookaheadHead":
        """Fit on X (n, d) and 0/1 labels Y (n, L); returns self."""
        from sklearn.linear_model import LogisticRegression

        X = np.asarray(X, dtype=np.float64)
        Y = np.asarray(Y).astype(bool)
        n, d = X.shape
        n_labels = Y.shape[1]
        Xa = np.hstack([X, np.ones((n, 1))])
        self.n_ = n
        self.theta_ = np.zeros((n_labels, d + 1))
        self.constant_ = np.zeros(n_labels, dtype=bool)
        self.class_counts_ = np.stack([n - Y.sum(axis=0), Y.sum(axis=0)], axis=1).astype(np.float64)  # (L, 2)
        self.h_inv_ = np.zeros((n_labels, d + 1, d + 1))
        self.h_inv_class_gradients_ = np.zeros((n_labels, 2, d + 1))  # H^{-1} sum_{i in class k} (p_i - y_i) x_i
        for j in range(n_labels):
            y = Y[:, j]
            if self.class_counts_[j].min() == 0:
                self.constant_[j] = True
                self.theta_[j, -1] = 50.0 if y.all() else -50.0  # p = 1 or 0 in float64
                continue
            model = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=1000)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # ConvergenceWarning on a tiny, separable set
                model.fit(X, y)
            self.theta_[j, :d] = model.coef_[0]
            self.theta_[j, d] = model.intercept_[0]
            p = _sigmoid(Xa @ self.theta_[j])
            s = self._weights(n, self.class_counts_[j])[y.astype(int)]
            hessian = self.C * (Xa * (s * p * (1 - p))[:, None]).T @ Xa
            hessian[np.arange(d), np.arange(d)] += 1.0
            hessian[d, d] += 1e-8
            self.h_inv_[j] = np.linalg.inv(hessian)
            residual = p - y
            class_gradients = np.stack([Xa[~y].T @ residual[~y], Xa[y].T @ residual[y]])
            self.h_inv_class_gradients_[j] = class_gradients @ self.h_inv_[j]  # H symmetric
        return self

    def decisions(self, X: np.ndarray) -> np.ndarray:
        """f = 2 p - 1 of the fitted head, shape (n, L)."""
        return 2.0 * _sigmoid(np.asarray(X, dtype=np.float64) @ self.theta_[:, :-1].T + self.theta_[:, -1]) - 1.0

    def lookahead_thetas(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Parameters after adding one text ``x`` (d,) under labels ``y`` (L,), shape (L, d + 1)."""
        xa = np.append(np.asarray(x, dtype=np.float64), 1.0)
        y = np.asarray(y).astype(bool)
        n_labels = len(y)
        p = _sigmoid(self.theta_ @ xa)  # (L,)
        before = self._weights(self.n_, self.class_counts_)  # (L, 2)
        counts_after = self.class_counts_ + np.stack([~y, y], axis=1)
        after = self._weights(self.n_ + 1, counts_after)
        s_new = after[np.arange(n_labels), y.astype(int)]
        a = self.h_inv_ @ xa  # (L, d + 1): H^{-1} xa
        # H^{-1} g': the labeled texts' terms reweighted, plus the added text's term
        v = self.C * (np.einsum("lk,lkd->ld", after - before, self.h_inv_class_gradients_)
                      + (s_new * (p - y))[:, None] * a)
        curvature = self.C * s_new * p * (1 - p)
        step = v - (curvature * (v @ xa) / (1.0 + curvature * (a @ xa)))[:, None] * a  # Sherman-Morrison
        step[self.constant_] = 0.0
        return self.theta_ - step

    def lookahead_decisions(self, X: np.ndarray, thetas: np.ndarray) -> np.ndarray:
        """f on X (n, d) under each parameter set of ``thetas`` (k, L, d + 1): shape (k, n, L)."""
        X = np.asarray(X)
        W = thetas[:, :, :-1].reshape(-1, thetas.shape[2] - 1).T.astype(X.dtype)  # (d, k L)
        z = (X @ W).astype(np.float64).reshape(len(X), len(thetas), -1) + thetas[:, :, -1][None]
        return np.moveaxis(2.0 * _sigmoid(z) - 1.0, 1, 0)


def adaptive_candidates(uncertainty: np.ndarray, inconsistency: np.ndarray, betas: Sequence[float]) -> np.ndarray:
    """The argmax of q = u^beta c^(1-beta) for each beta: positions, one per beta (may repeat).

    Ties of q go to the larger u, then to the lower position: with beta = 0
    (q = c) every text of the most inconsistent label count ties, and the
    most uncertain of them stands for them all.

    Returns
    -------
    ndarray of int, shape (len(betas),)
    """
    positions = np.arange(len(uncertainty))
    out = []
    for beta in betas:
        q = adaptive_scores(uncertainty, inconsistency, beta)
        out.append(np.lexsort((positions, -uncertainty, -q))[0])
    return np.asarray(out, dtype=np.int64)


# ------------------------------------------------------------------------------------------- strategies


@register("binmin")
class BinMin(Strategy):
    """The text whose least certain label is nearest the decision boundary: argmin_x min_j |2 p_j(x) - 1|.

    Ranks texts exactly as ``least_confidence`` (its score 1/2 - min_j |p_j - 1/2|
    is an increasing function of this one); kept under the paper's name and form.

    References
    ----------
    Brinker, "On Active Learning in Multi-label Classification" (2006).
    """

    requires = frozenset({"proba"})

    def query(self, state: PoolState, n: int) -> np.ndarray:
        self.last_scores = binmin_scores(state.proba[state.indices_unlabeled])
        return top_n(self.last_scores, state.indices_unlabeled, n)


@register("mmc")
class MMC(Strategy):
    """Maximum loss reduction with maximal confidence (Yang et al. 2009).

    1. m(x), the number of labels of each unlabeled text, is predicted by a
       multinomial logistic regression trained on the labeled texts: features
       their probability vectors (the ``proba`` view's rows of the labeled
       indices) sorted in decreasing order and scaled to sum 1, target their
       true label count (paper, sec. 4.2). If every labeled text has the same
       count, m(x) is that count for every text.
    2. y_j = +1 for the m(x) most probable labels, -1 for the others; with
       f_j = 2 p_j - 1 the expected loss reduction is sum_j (1 - y_j f_j) / 2.
    3. The ``n`` texts with the largest reduction are picked (ties: lower index).

    ``last_info`` gives the distribution of predicted label counts.

    References
    ----------
    Yang et al., "Effective Multi-Label Active Learning for Text Classification", KDD 2009.
    """

    requires = frozenset({"proba"})

    def query(self, state: PoolState, n: int) -> np.ndarray:
        proba = state.proba
        counts_labeled = np.asarray(_dense(state.y_labeled).sum(axis=1)).ravel()
        candidates = state.indices_unlabeled
        counts = predict_label_counts(proba[state.indices_labeled], counts_labeled, proba[candidates])
        values, freq = np.unique(counts, return_counts=True)
        self.last_info = {"predicted_label_counts": {int(v): int(c) for v, c in zip(values, freq)}}
        self.last_scores = mmc_scores(proba[candidates], counts)
        return top_n(self.last_scores, candidates, n)


@register("adaptive")
class Adaptive(Strategy):
    """Adaptive active learning (Li and Guo 2013): max-margin uncertainty and label-cardinality inconsistency.

    u(x) = 1 / (min_{j predicted} f_j - max_{j not predicted} f_j) (0 when all
    or no label is predicted), c(x) = |#predicted labels - mean label count of
    the labeled set|, q_beta(x) = u^beta c^(1 - beta).

    How beta is chosen, each round (the paper selects it by the resulting
    classifier's quality; this is libact's reading of that): for each beta in
    ``betas`` (0, 0.1, ..., 1), the text maximising q_beta is a candidate (ties:
    larger u, then lower pool index, so at most one candidate per beta; libact
    keeps every tied text, which at beta = 0 is every text of the most
    inconsistent label count). Each candidate is added to the labeled set under
    its predicted labels, the classifier is retrained, and its approximate error
    on the unlabeled pool is measured (:func:`approximate_error`); the candidate
    with the lowest error (ties: the smaller beta) fixes beta. Deterministic, and
    cheap: the retrained classifier is a one-vs-rest logistic regression head on
    the ``representations`` view (for ``logreg`` the same model as the task's,
    on the same embeddings; for ``bert`` a linear head on the frozen [CLS]
    vector instead of fine-tuning bert once per candidate), and each retrain is
    one Newton step from the head fitted on the labeled set (:class:`LookaheadHead`).

    The paper queries one text a round; a batch of ``n`` is the chosen candidate
    followed by the top of q at the chosen beta (ties: lower pool index).
    ``last_info`` records ``beta``, the candidates' betas and errors.

    Parameters
    ----------
    betas : sequence of float in [0, 1]
    C, class_weight : the look-ahead head's logistic regression (logreg's defaults)

    References
    ----------
    Li and Guo, "Active Learning with Multi-Label SVM Classification", IJCAI 2013.
    """

    requires = frozenset({"proba", "representations"})

    def __init__(
        self, betas: Sequence[float] = DEFAULT_BETAS, C: float = 1.0, class_weight: str | None = "balanced"
    ) -> None:
        super().__init__()
        self.betas = betas
        self.C = C
        self.class_weight = class_weight

    def _check(self) -> list[float]:
        betas = [float(b) for b in self.betas]
        if not betas or any(not 0.0 <= b <= 1.0 for b in betas):
            raise ConfigError(f"adaptive betas must be a non-empty list of values in [0, 1], got {self.betas!r}")
        if self.class_weight not in ("balanced", None):
            raise ConfigError(f"adaptive class_weight must be 'balanced' or null, got {self.class_weight!r}")
        return betas

    def query(self, state: PoolState, n: int) -> np.ndarray:
        betas = self._check()
        candidates = state.indices_unlabeled
        if n > len(candidates):
            raise QueryError(f"asked for {n} texts but only {len(candidates)} are unlabeled")
        proba = state.proba[candidates]
        Y_labeled = _dense(state.y_labeled)
        u = max_margin_uncertainty(proba)
        c = cardinality_inconsistency(proba, float(Y_labeled.sum(axis=1).mean()) if len(Y_labeled) else 0.0)
        per_beta = adaptive_candidates(u, c, betas)
        distinct = list(dict.fromkeys(per_beta.tolist()))  # first beta's order kept
        representations = state.representations
        X_unlabeled = representations[candidates]
        if len(distinct) == 1:
            errors = np.zeros(1)
        else:
            head = LookaheadHead(self.C, self.class_weight).fit(representations[state.indices_labeled], Y_labeled)
            thetas = np.stack([head.lookahead_thetas(X_unlabeled[i], proba[i] >= 0.5) for i in distinct])
            errors = approximate_error(head.lookahead_decisions(X_unlabeled, thetas))
        best = distinct[int(np.argmin(errors))]  # first minimum: the smallest beta among equals
        beta = betas[int(np.flatnonzero(per_beta == best)[0])]
        self.last_scores = adaptive_scores(u, c, beta)
        self.last_info = {
            "beta": beta,
            "candidates": [{"beta": betas[int(np.flatnonzero(per_beta == i)[0])], "error": round(float(e), 4)}
                           for i, e in zip(distinct, errors)],
        }
        rest = np.delete(np.arange(len(candidates)), best)
        tail = top_n(self.last_scores[rest], candidates[rest], n - 1) if n > 1 else np.empty(0, dtype=np.int64)
        return np.concatenate([[candidates[best]], tail]).astype(np.int64)
