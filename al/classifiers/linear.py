"""A fast classifier on frozen sentence embeddings."""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
# at import, not in the first fit: a run's round-0 training time is then its fit's alone (scikit-learn takes
# 1-2 s to import, which a report's compute table would charge to whichever strategy ran first)
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from al.classifiers.base import Classifier, fixed_threshold, tune_thresholds
from al.errors import ConfigError, spelled


class LogisticRegressionClassifier(Classifier):
    """One-vs-rest logistic regression on cached, L2-normalised embeddings.

    A label with a single class in the labeled set gets scikit-learn's constant
    predictor (probability 0 or 1) instead of failing.

    Parameters
    ----------
    C : float
        Inverse L2 regularisation strength.
    class_weight : {"balanced", None} or dict
        ``"balanced"`` reweights each label's positives by n_neg / n_pos, so
        rare labels are not drowned by negatives; ``{0: w0, 1: w1}`` weighs the
        negatives and positives of every label so (scikit-learn's meaning).
    threshold : float, "fixed" or "dev"
        0.5 for every label (``"fixed"``), another number in (0, 1] for every label,
        or per-label thresholds that maximise dev F1 (``"dev"``).
    max_iter : int
    seed : int
        ``random_state`` of the solver (lbfgs itself is deterministic).
    """

    input = "embeddings"

    def __init__(
        self, *, C: float = 1.0, class_weight: str | dict | None = "balanced", threshold: str | float = "fixed",
        max_iter: int = 1000, seed: int = 0,
    ) -> None:
        self.seed = seed
        self.C = C
        self.class_weight = class_weight
        self.threshold = threshold
        self.max_iter = max_iter

    @property
    def uses_dev(self) -> bool:
        return self.threshold == "dev"

    def _class_weight(self) -> str | dict[int, float] | None:
        """``class_weight`` for scikit-learn: a per-class dict's keys as the classes 0 and 1 (JSON gives "0", "1")."""
        if isinstance(self.class_weight, dict):
            return {int(k): float(w) for k, w in self.class_weight.items()}
        return self.class_weight

    def _check_params(self) -> None:
        """Refuse bad values before any data loads (a run's validation calls this), not at the first fit."""
        if isinstance(self.C, bool) or not isinstance(self.C, (int, float)) or not 0 < self.C < math.inf:
            raise ConfigError(f"logreg C must be a positive number, got {spelled(self.C)}; e.g. C=0.5 "
                              f"(--classifier-param C=0.5)")
        weights = self.class_weight
        per_class = isinstance(weights, dict) and set(map(str, weights)) <= {"0", "1"} and all(
            isinstance(w, (int, float)) and not isinstance(w, bool) and 0 < w < math.inf for w in weights.values())
        if weights not in ("balanced", None) and not per_class:
            raise ConfigError(f"class_weight must be balanced, null (none) or per class such as {{0: 1, 1: 5}} "
                              f"(positive weights), got {spelled(weights)}")
        fixed_threshold(self.threshold)
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, int) or self.max_iter < 1:
            raise ConfigError(f"max_iter must be a positive integer, got {spelled(self.max_iter)}")

    def fit(
        self,
        X: np.ndarray,
        Y: sp.csr_matrix,
        X_dev: np.ndarray | None = None,
        Y_dev: sp.csr_matrix | None = None,
    ) -> "LogisticRegressionClassifier":
        Y_dense = Y.toarray() if sp.issparse(Y) else np.asarray(Y)
        estimator = LogisticRegression(
            C=self.C, class_weight=self._class_weight(), max_iter=self.max_iter, random_state=self.seed
        )
        # one label: scikit-learn's one-vs-rest would read a binary target and answer with two columns
        self.model_ = _OneLabel(estimator) if Y_dense.shape[1] == 1 else OneVsRestClassifier(estimator)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Label .* is present in all training examples")
            warnings.filterwarnings("ignore", message="Label not .* is present in all training examples")
            self.model_.fit(X, Y_dense)
        self.thresholds_ = np.full(Y_dense.shape[1], fixed_threshold(self.threshold), dtype=np.float32)
        if self.threshold == "dev" and X_dev is not None and Y_dev is not None:
            self.thresholds_ = tune_thresholds(self.predict_proba(X_dev), Y_dev)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        self._check_fitted()
        return np.asarray(self.model_.predict_proba(X), dtype=np.float32)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """The embeddings themselves: what the linear layer sees."""
        return np.asarray(X, dtype=np.float32)


class _OneLabel:
    """A single label's binary model with the one-vs-rest interface: ``predict_proba`` of shape (n, 1).

    A label on every or on no training text gets that constant probability,
    as :class:`~sklearn.multiclass.OneVsRestClassifier` gives such a label.
    """

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator
        self.constant_: float | None = None

    def fit(self, X: np.ndarray, y: np.ndarray) -> "_OneLabel":
        y = np.asarray(y).ravel().astype(int)  # (n, 1) or (n,)
        if len(np.unique(y)) < 2:
            self.constant_ = float(y[0]) if len(y) else 0.0
        else:
            self.estimator.fit(X, y)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if self.constant_ is not None:
            return np.full((len(X), 1), self.constant_)
        return self.estimator.predict_proba(X)[:, list(self.estimator.classes_).index(1)][:, None]

