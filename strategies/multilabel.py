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

from typing import Sequence

import numpy as np
import scipy.sparse as sp

from al import checks
from al.errors import ConfigError, QueryError, spelled
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

    Per label j, the model of scikit-learn's ``LogisticRegression(C, class_weight)``:
    objective C * sum_i s_i loss_i + ||w||^2 / 2, intercept unpenalised,
    s_i = n / (2 n_class) with ``class_weight="balanced"``, else 1. Fitted on
    the labeled texts by one L-BFGS run over all labels together (the objective
    is a sum over labels), then one Newton step per label. A label with one
    class in the labeled set is a constant (p = 0 or 1) and stays one in the
    look-ahead.

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
        with np.errstate(divide="ignore"):  # a class count of 0: inf, read only for constant labels, never used
            return np.asarray(n, dtype=np.float64)[..., None] / (2.0 * n_class)

    def fit(self, X: np.ndarray, Y: np.ndarray) -> "LookaheadHead":
        """Fit on X (n, d) and 0/1 labels Y (n, L); returns self.

        Runs BLAS on one thread: the matrices are small (d + 1 square), and
        several threads only contend (on a loaded 2-core machine a 385 x 385
        Cholesky took 0.11 s with two threads, 4 ms with one; MMC's label-count
        regression 0.26 s against 0.014 s).
        """
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            return self._fit(X, Y)

    def _fit(self, X: np.ndarray, Y: np.ndarray) -> "LookaheadHead":
        from scipy.linalg import cho_factor, cho_solve
        from scipy.optimize import minimize

        X = np.asarray(X, dtype=np.float64)
        Y = np.asarray(Y).astype(bool)
        n, d = X.shape
        n_labels = Y.shape[1]
        Xa = np.hstack([X, np.ones((n, 1))])
        self.n_ = n
        self.theta_ = np.zeros((n_labels, d + 1))
        self.class_counts_ = np.stack([n - Y.sum(axis=0), Y.sum(axis=0)], axis=1).astype(np.float64)  # (L, 2)
        self.constant_ = self.class_counts_.min(axis=1) == 0
        self.theta_[self.constant_, -1] = np.where(Y[:, self.constant_].all(axis=0), 50.0, -50.0)  # p = 1 or 0
        self.h_factors_: list = [None] * n_labels  # Cholesky factors of each label's Hessian
        self.h_inv_class_gradients_ = np.zeros((n_labels, 2, d + 1))  # H^{-1} sum_{i in class k} (p_i - y_i) x_i
        fitted = np.flatnonzero(~self.constant_)
        if not len(fitted):
            return self
        T = Y[:, fitted].astype(np.float64)  # targets (n, m)
        S = np.where(Y[:, fitted], self._weights(n, self.class_counts_[fitted])[:, 1],
                     self._weights(n, self.class_counts_[fitted])[:, 0])  # sample weights (n, m)
        penalty = np.ones(d + 1)
        penalty[d] = 0.0  # the intercept is not penalised

        def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
            theta = flat.reshape(len(fitted), d + 1)
            Z = Xa @ theta.T
            loss = self.C * np.sum(S * (np.logaddexp(0.0, Z) - T * Z)) + 0.5 * np.sum(penalty * theta**2)
            grad = self.C * (Xa.T @ (S * (_sigmoid(Z) - T))).T + penalty * theta
            return loss, grad.ravel()

        # every label at once (the objective is a sum over labels); then one Newton step per label
        result = minimize(objective, np.zeros(len(fitted) * (d + 1)), jac=True, method="L-BFGS-B",
                          options={"maxiter": 2000, "gtol": 1e-7})
        theta = result.x.reshape(len(fitted), d + 1)
        for m, j in enumerate(fitted):
            p = _sigmoid(Xa @ theta[m])
            hessian = self.C * (Xa * (S[:, m] * p * (1 - p))[:, None]).T @ Xa
            hessian[np.arange(d + 1), np.arange(d + 1)] += penalty + 1e-8 * (1 - penalty)
            factor = cho_factor(hessian)
            gradient = self.C * Xa.T @ (S[:, m] * (p - T[:, m])) + penalty * theta[m]
            self.theta_[j] = theta[m] - cho_solve(factor, gradient)  # polish: the gradient is then ~0
            self.h_factors_[j] = factor
            residual = _sigmoid(Xa @ self.theta_[j]) - T[:, m]
            y = Y[:, j]
            class_gradients = np.stack([Xa[~y].T @ residual[~y], Xa[y].T @ residual[y]])
            self.h_inv_class_gradients_[j] = cho_solve(factor, class_gradients.T).T
        return self

    def decisions(self, X: np.ndarray) -> np.ndarray:
        """f = 2 p - 1 of the fitted head, shape (n, L)."""
        return 2.0 * _sigmoid(np.asarray(X, dtype=np.float64) @ self.theta_[:, :-1].T + self.theta_[:, -1]) - 1.0

    def lookahead_thetas(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Parameters after adding one text ``x`` (d,) under labels ``y`` (L,), shape (L, d + 1)."""
        from scipy.linalg import cho_solve

        xa = np.append(np.asarray(x, dtype=np.float64), 1.0)
        y = np.asarray(y).astype(bool)
        n_labels = len(y)
        p = _sigmoid(self.theta_ @ xa)  # (L,)
        before = self._weights(self.n_, self.class_counts_)  # (L, 2)
        counts_after = self.class_counts_ + np.stack([~y, y], axis=1)
        after = self._weights(self.n_ + 1, counts_after)
        s_new = after[np.arange(n_labels), y.astype(int)]
        a = np.stack([np.zeros_like(xa) if f is None else cho_solve(f, xa) for f in self.h_factors_])  # H^{-1} xa
        # H^{-1} g': the labeled texts' terms reweighted, plus the added text's term. A constant label's
        # weights hold inf (a class count of 0), so its row is nan here: it is set to 0 below, unread.
        with np.errstate(invalid="ignore"):
            v = self.C * (np.einsum("lk,lkd->ld", after - before, self.h_inv_class_gradients_)
                          + (s_new * (p - y))[:, None] * a)
            curvature = self.C * s_new * p * (1 - p)
            step = v - (curvature * (v @ xa) / (1.0 + curvature * (a @ xa)))[:, None] * a  # Sherman-Morrison
        step[self.constant_] = 0.0
        return self.theta_ - step

    def lookahead_decisions(self, X: np.ndarray, thetas: np.ndarray) -> np.ndarray:
        """f on X (n, d) under each parameter set of ``thetas`` (k, L, d + 1): shape (k, n, L)."""
        z = np.transpose(self._logits(X, thetas), (1, 2, 0)).astype(np.float64)
        return np.tanh(0.5 * z)  # 2 sigmoid(z) - 1 = tanh(z / 2)

    def lookahead_errors(self, X: np.ndarray, thetas: np.ndarray, rows: np.ndarray | None = None,
                         block: int = 4096) -> np.ndarray:
        """:func:`approximate_error` of each parameter set of ``thetas`` (k, L, d + 1) on X (n, d), shape (k,).

        The same numbers as ``approximate_error(lookahead_decisions(X, thetas))``,
        computed on the logits: f = tanh(z / 2) is increasing with the sign of z,
        so max_{f_j >= 0} (1 - f_j) = 1 - tanh(min_{z_j >= 0} z_j / 2), and
        likewise for the negatives; tanh runs on n values per set instead of n L.
        ``rows`` (optional): measure on ``X[rows]``, in that order. Texts go
        through in blocks of ``block`` rows, so the logits stay in cache and a
        large pool's representations are never copied whole; each text's term
        is computed as without blocks and the terms are summed once, so the
        errors are the same bit for bit.
        """
        n = len(X) if rows is None else len(rows)
        terms = np.empty((len(thetas), n))
        for start in range(0, n, block):
            stop = min(start + block, n)
            z = self._logits(X[start:stop] if rows is None else X[rows[start:stop]], thetas)  # (L, k, b)
            pos = np.where(z >= 0, z, np.inf).min(axis=0)
            neg = np.where(z <= 0, -z, np.inf).min(axis=0)
            with np.errstate(invalid="ignore"):
                terms[:, start:stop] = (np.where(np.isfinite(pos), 1.0 - np.tanh(0.5 * pos.astype(np.float64)), 0.0)
                                        + np.where(np.isfinite(neg), 1.0 - np.tanh(0.5 * neg.astype(np.float64)),
                                                   0.0))
        return terms.sum(axis=1)

    def _logits(self, X: np.ndarray, thetas: np.ndarray) -> np.ndarray:
        """z = X w + b for each parameter set: shape (L, k, n), in X's float type (float32 for embeddings).

        Labels first, so that reductions over labels run along long rows. The
        products run in einsum's own loop, not BLAS: a BLAS matrix product gives
        a row other last bits by its place in the matrix on some CPUs (AMD EPYC
        with AVX-512), which would make the errors depend on ``block``. About
        20 ms for 30 parameter rows on 11,572 texts of 384 dims.
        """
        X = np.ascontiguousarray(X)  # rows in memory order: einsum sums each entry along its row
        if not np.issubdtype(X.dtype, np.floating):
            X = X.astype(np.float64)
        k, n_labels, _ = thetas.shape
        W = np.swapaxes(thetas[:, :, :-1], 0, 1).reshape(n_labels * k, -1).astype(X.dtype)  # rows (label, set)
        z = np.einsum("ij,nj->in", W, X, optimize=False).reshape(n_labels, k, len(X))
        z += np.swapaxes(thetas[:, :, -1], 0, 1).astype(X.dtype)[:, :, None]
        return z


def adaptive_candidates(
    uncertainty: np.ndarray,
    inconsistency: np.ndarray,
    betas: Sequence[float],
    indices: np.ndarray | None = None,
    ties: int = 1,
) -> list[np.ndarray]:
    """The texts maximising q = u^beta c^(1-beta), for each beta: at most ``ties`` positions each.

    Among texts tied at a beta's maximum, the larger u comes first, then the
    lower index (``indices``, the texts' pool indices; default their
    positions). With beta = 0 (q = c) every text of the most inconsistent label
    count ties; ``ties = 1`` lets the most uncertain of them stand for them all.

    Returns
    -------
    list of ndarray of int, one per beta, each of length 1 to ``ties``
    """
    indices = np.arange(len(uncertainty)) if indices is None else np.asarray(indices)
    out = []
    for beta in betas:
        q = adaptive_scores(uncertainty, inconsistency, beta)
        best = np.flatnonzero(q == q.max())
        if len(best) > 1:
            best = best[np.lexsort((indices[best], -uncertainty[best]))]
        out.append(best[:ties].astype(np.int64))
    return out


# ------------------------------------------------------------------------------------------- strategies


@register("binmin")
class BinMin(Strategy):
    """The text whose least certain label is nearest the decision boundary: argmin_x min_j |2 p_j(x) - 1|.

    Ranks texts as ``least_confidence`` does (its score 1/2 - min_j |p_j - 1/2|
    is an increasing function of this one), but for texts whose scores differ
    in the last bit only: in floats |2 (0.55) - 1| and |2 (0.45) - 1| are not
    equal, and such near ties may fall the other way. Kept under the paper's
    name and form.

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
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):  # small matrices: BLAS threads only contend (see LookaheadHead.fit)
            return self._query(state, n)

    def _query(self, state: PoolState, n: int) -> np.ndarray:
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
    ``betas`` (0, 0.1, ..., 1), the text maximising q_beta is a candidate; among
    tied texts the ``ties_per_beta`` with the largest u (then the lowest pool
    index). libact keeps every tied text, which at beta = 0 is every text of the
    most inconsistent label count: thousands in a large pool, each a retrain.
    Each candidate is added to the labeled set under
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
    ties_per_beta : int
        Candidates kept among texts tied at a beta's maximum (default 1, cheap).
        On 200 random rounds (``benchmarks/libact_crosscheck.py``: 120 texts,
        3 to 5 labels) libact and we pick the same text in 118 rounds with 1
        (libact's pick is among our candidates in 125) and in 180 with 20 (199);
        the rest differ by the one-Newton-step retrain against libact's exact
        refits, where candidates' errors lie close. At 100,000 texts 20 costs
        about 3.5 times as much (23 candidates instead of 4).
    C, class_weight : the look-ahead head's logistic regression (logreg's defaults)

    References
    ----------
    Li and Guo, "Active Learning with Multi-Label SVM Classification", IJCAI 2013.
    """

    requires = frozenset({"proba", "representations"})

    def __init__(
        self,
        betas: Sequence[float] = DEFAULT_BETAS,
        ties_per_beta: int = 1,
        C: float = 1.0,
        class_weight: str | None = "balanced",
    ) -> None:
        super().__init__()
        values = np.asarray(betas) if isinstance(betas, (list, tuple, np.ndarray)) else np.zeros((0, 0))
        if values.ndim != 1 or not values.size or values.dtype.kind not in "iuf" \
                or not ((values >= 0.0) & (values <= 1.0)).all():
            raise ConfigError(f"adaptive betas must be a non-empty list of numbers in [0, 1], got {spelled(betas)}")
        if class_weight not in ("balanced", None):
            raise ConfigError(f"adaptive class_weight must be 'balanced' or null, got {spelled(class_weight)}")
        self.betas = betas
        self.ties_per_beta = checks.integer("adaptive", "ties_per_beta", ties_per_beta)
        self.C = checks.number("adaptive", "C", C, 0.0, low_open=True)
        self.class_weight = class_weight

    def query(self, state: PoolState, n: int) -> np.ndarray:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):  # small matrices: BLAS threads only contend (see LookaheadHead.fit)
            return self._query(state, n)

    def _query(self, state: PoolState, n: int) -> np.ndarray:
        betas = [float(b) for b in self.betas]
        candidates = state.indices_unlabeled
        if n > len(candidates):
            raise QueryError(f"asked for {n} texts but only {len(candidates)} are unlabeled")
        proba = state.proba[candidates]
        Y_labeled = _dense(state.y_labeled)
        u = max_margin_uncertainty(proba)
        c = cardinality_inconsistency(proba, float(Y_labeled.sum(axis=1).mean()) if len(Y_labeled) else 0.0)
        per_beta = adaptive_candidates(u, c, betas, candidates, self.ties_per_beta)
        beta_of: dict[int, float] = {}  # each candidate under the first (smallest) beta that proposed it
        for beta, positions in zip(betas, per_beta):
            for i in positions.tolist():
                beta_of.setdefault(i, beta)
        distinct = list(beta_of)
        representations = state.representations
        if len(distinct) == 1:
            errors = np.zeros(1)
        else:
            head = LookaheadHead(self.C, self.class_weight).fit(representations[state.indices_labeled], Y_labeled)
            thetas = np.stack([head.lookahead_thetas(representations[candidates[i]], proba[i] >= 0.5)
                               for i in distinct])
            errors = head.lookahead_errors(representations, thetas, rows=candidates)
        best = distinct[int(np.argmin(errors))]  # first minimum: the smallest beta among equals
        beta = beta_of[best]
        self.last_scores = adaptive_scores(u, c, beta)
        self.last_info = {
            "beta": beta,
            "candidates": [{"beta": beta_of[i], "error": round(float(e), 4)} for i, e in zip(distinct, errors)],
        }
        rest = np.delete(np.arange(len(candidates)), best)
        tail = top_n(self.last_scores[rest], candidates[rest], n - 1) if n > 1 else np.empty(0, dtype=np.int64)
        return np.concatenate([[candidates[best]], tail]).astype(np.int64)
