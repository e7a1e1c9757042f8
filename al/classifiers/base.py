"""The classifier interface the engine trains every round."""
from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager, nullcontext
from typing import Any, ClassVar, Literal, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from al.errors import ConfigError, NotFittedError, did_you_mean, spelled

ClassifierInput = Literal["texts", "embeddings"]


class Classifier(ABC):
    """A multi-label classifier: per-label sigmoid probabilities, a threshold each.

    Subclasses store keyword parameters in ``__init__`` and set fitted state
    (attributes ending in ``_``) in :meth:`fit`.

    Attributes
    ----------
    input : {"texts", "embeddings"}
        What ``X`` is: a list of raw texts, or an ndarray of shape
        (n_samples, dim) of cached sentence embeddings.
    thresholds_ : ndarray of shape (n_labels,)
        Decision thresholds set by :meth:`fit` (0.5, or tuned on dev).
    """

    input: ClassVar[ClassifierInput]
    #: True: a second :meth:`fit` continues from the first one's weights (scikit-learn's
    #: meaning); the engine then fits one instance every round instead of a fresh one.
    warm_start: bool = False
    #: The attribute naming the pretrained weights :meth:`fit` fine-tunes (a model name or a local
    #: directory), or None. A run records their identity (:func:`al.models.model_key`) and refuses to
    #: resume on other weights; without it only a ``model`` attribute that is a local directory is.
    pretrained_attribute: ClassVar[str | None] = None

    @property
    def uses_dev(self) -> bool:
        """Whether :meth:`fit` reads dev data (early stopping, threshold tuning)."""
        return True

    @staticmethod
    def check_labels(params: Mapping[str, Any], label_names: Sequence[str]) -> None:
        """Refuse ``params`` (the classifier's, as a run gives them) that do not fit the run's labels, once they
        are known and before any work (bert's ``aux_confusable`` pairs of label indices); none here.

        Raises
        ------
        ConfigError
            One line naming the parameter and the run's labels.
        """

    @abstractmethod
    def fit(
        self,
        X: Sequence[str] | np.ndarray,
        Y: sp.csr_matrix,
        X_dev: Sequence[str] | np.ndarray | None = None,
        Y_dev: sp.csr_matrix | None = None,
    ) -> "Classifier":
        """Fit on ``Y`` of shape (n_samples, n_labels); dev data for early stopping / thresholds."""

    @abstractmethod
    def predict_proba(self, X: Sequence[str] | np.ndarray) -> np.ndarray:
        """Per-label probabilities, ndarray of shape (n_samples, n_labels), float32."""

    def fit_seconds(self) -> dict[str, float]:
        """Parts of the last :meth:`fit`'s time by what they went on, e.g. ``{"dev": 3.2}``; none by default.

        The engine records each part as ``seconds_train_<part>``, a part of the
        round's ``seconds_train`` (timings stay out of ``info``, which is compared
        across runs).
        """
        return {}

    def describe_passes(self, purpose: str) -> AbstractContextManager[None]:
        """Inside the block, a classifier that shows its prediction passes' progress names them by ``purpose``
        (``"the 1,623 test texts"``); the engine says what each pass is for. Nothing by default."""
        return nullcontext()

    def info(self) -> dict[str, Any]:
        """JSON-ready facts about the last fit for the round's record (``classifier_info``).

        The base reports per-label thresholds when they were tuned on dev
        (``threshold == "dev"``); subclasses add their own (epochs run, ...).
        """
        self._check_fitted()
        if getattr(self, "threshold", "fixed") == "dev":
            return {"thresholds": [round(float(t), 3) for t in self.thresholds_]}
        return {}

    def transform(self, X: Sequence[str] | np.ndarray) -> np.ndarray:
        """The representation the output layer sees, shape (n_samples, dim) (used by DAL)."""
        raise NotImplementedError(f"{type(self).__name__} exposes no representation")

    def predict(self, X: Sequence[str] | np.ndarray) -> np.ndarray:
        """0/1 predictions, ndarray of shape (n_samples, n_labels), int8."""
        self._check_fitted()
        return (self.predict_proba(X) >= self.thresholds_).astype(np.int8)

    def _check_fitted(self) -> None:
        if not hasattr(self, "thresholds_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit first")


def passes_described(classifier: Any, purpose: str) -> AbstractContextManager[None]:
    """``classifier.describe_passes(purpose)``, or nothing for a classifier without it (not a :class:`Classifier`)."""
    describe = getattr(classifier, "describe_passes", None)
    return describe(purpose) if callable(describe) else nullcontext()


def fixed_threshold(threshold: Any) -> float:
    """The one decision threshold ``threshold`` sets for every label: 0.5 for ``"fixed"`` (and for ``"dev"``
    before tuning), or the number itself in (0, 1].

    Raises
    ------
    ConfigError
        Anything else, in one line saying what is taken.
    """
    if isinstance(threshold, str) and threshold in ("fixed", "dev"):
        return 0.5
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer, np.floating)) \
            or not 0.0 < float(threshold) <= 1.0:
        close = did_you_mean([threshold], ["fixed", "dev"], cutoff=0.6) if isinstance(threshold, str) else ""
        raise ConfigError(f"threshold must be a number in (0, 1], 'fixed' (0.5) or 'dev' (per label, tuned on the "
                          f"dev split), got {spelled(threshold)}{close}")
    return float(threshold)


def tune_thresholds(
    proba: np.ndarray, Y: sp.csr_matrix | np.ndarray, grid: np.ndarray | None = None, default: float = 0.5
) -> np.ndarray:
    """Per-label thresholds that maximise F1 on held-out data.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_labels)
    Y : (sparse) matrix of shape (n_samples, n_labels), 0/1
    grid : ndarray of candidate thresholds; default 0.05, 0.10, ..., 0.95
    default : threshold kept for a label with no positive in ``Y`` (F1 undefined)

    Returns
    -------
    ndarray of shape (n_labels,), float32. Ties go to the threshold closest to ``default``.
    """
    Y_dense = Y.toarray() if sp.issparse(Y) else np.asarray(Y)
    Y_dense = Y_dense.astype(bool)
    grid = np.round(np.arange(0.05, 0.96, 0.05), 2) if grid is None else np.asarray(grid)
    # (n_grid, n_samples, n_labels) would be big; loop over the grid instead.
    f1 = np.empty((len(grid), proba.shape[1]))
    for g, t in enumerate(grid):
        pred = proba >= t
        tp = (pred & Y_dense).sum(axis=0)
        fp = (pred & ~Y_dense).sum(axis=0)
        fn = (~pred & Y_dense).sum(axis=0)
        denom = 2 * tp + fp + fn
        f1[g] = np.divide(2 * tp, denom, out=np.zeros(proba.shape[1]), where=denom > 0)
    closeness = -np.abs(grid - default)[:, None]
    # lexicographic: best F1, then closest to default
    best = np.lexsort((np.broadcast_to(closeness, f1.shape), f1), axis=0)[-1]
    thresholds = grid[best].astype(np.float32)
    no_positive = ~Y_dense.any(axis=0)
    thresholds[no_positive] = default
    return thresholds
