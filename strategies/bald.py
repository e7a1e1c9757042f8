"""BALD: Bayesian active learning by disagreement, with Monte Carlo dropout.

References
----------
Houlsby, Huszar, Ghahramani, Lengyel, "Bayesian Active Learning for
Classification and Preference Learning", arXiv:1112.5745 (2011).
Gal, Islam, Ghahramani, "Deep Bayesian Active Learning with Image Data", ICML 2017.
"""
from __future__ import annotations

import numpy as np

from al import checks
from al.errors import ConfigError, QueryError
from al.registry import register
from al.strategy import PoolState, Strategy, top_n

#: Classifiers of ``al.classifiers`` that offer ``predict_proba_dropout``.
DROPOUT_CLASSIFIERS = ("bert",)


def bernoulli_entropy(p: np.ndarray) -> np.ndarray:
    """H(p) = -p ln p - (1 - p) ln(1 - p) in nats, elementwise, with 0 ln 0 = 0."""
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -(np.where(p > 0, p * np.log(p), 0.0) + np.where(p < 1, (1 - p) * np.log1p(-p), 0.0))


def bald_scores(samples: np.ndarray) -> np.ndarray:
    """sum_j [H(mean_t p_tj) - mean_t H(p_tj)] in nats, per text.

    Each term is the mutual information between label j and the model
    parameters, estimated from T dropout samples. The sum over labels treats the
    labels as independent: it bounds the mutual information of the whole label
    vector from above (the labels share the parameters), which is fine for ranking.

    Parameters
    ----------
    samples : ndarray of shape (n_samples_T, n_texts, n_labels)
        Per-label probabilities of T stochastic forward passes.

    Returns
    -------
    ndarray of shape (n_texts,), >= 0; higher = more disagreement.
    """
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 3:
        raise QueryError(f"dropout samples must have shape (T, n_texts, n_labels), got {samples.shape}")
    mean_entropy = bernoulli_entropy(samples).mean(axis=0)
    entropy_of_mean = bernoulli_entropy(samples.mean(axis=0))
    return np.maximum(entropy_of_mean - mean_entropy, 0.0).sum(axis=1)


@register("bald")
class BALD(Strategy):
    """The ``n`` texts with the largest BALD score from ``n_samples`` dropout passes of the classifier.

    Needs a classifier with ``predict_proba_dropout(X, n_samples, seed)``
    returning (n_samples, n, n_labels) probabilities with dropout on (``bert``);
    with any other classifier the query raises :class:`~al.errors.ConfigError`.
    Reads the ``classifier`` view and the pool's classifier input (``inputs``);
    the dropout seed is drawn from ``state.rng``.

    Parameters
    ----------
    n_samples : int
        T, the number of stochastic forward passes (default 10).

    References
    ----------
    Houlsby et al. (2011); Gal, Islam, Ghahramani (2017).
    """

    requires = frozenset({"classifier", "inputs"})
    classifier_methods = ("predict_proba_dropout",)

    def __init__(self, n_samples: int = 10) -> None:
        super().__init__()
        self.n_samples = checks.integer("bald", "n_samples", n_samples, at_least=2)

    def query(self, state: PoolState, n: int) -> np.ndarray:
        classifier = state.classifier
        if not callable(getattr(classifier, "predict_proba_dropout", None)):
            raise ConfigError(
                f"strategy 'bald' needs a classifier with dropout ({', '.join(DROPOUT_CLASSIFIERS)}); "
                f"{type(classifier).__name__} has no predict_proba_dropout: use --classifier bert or another strategy"
            )
        candidates = state.indices_unlabeled
        inputs = state.inputs
        if isinstance(inputs, np.ndarray):
            X = inputs[candidates]
        else:
            X = [inputs[i] for i in candidates.tolist()]
        seed = int(state.rng.integers(2**31 - 1))
        samples = classifier.predict_proba_dropout(X, n_samples=int(self.n_samples), seed=seed)
        self.last_scores = bald_scores(samples)
        return top_n(self.last_scores, candidates, n)
