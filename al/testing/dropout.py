"""A stand-in for MC dropout on the checks' synthetic pools: no model, seconds.

:func:`al.testing.check_strategy` builds the synthetic pools' classifier
with it for a strategy that calls ``predict_proba_dropout`` (``bald``, or a
user's strategy that samples dropout as ``bald`` does), which the default
logistic regression lacks and ``bert`` offers only on texts.
"""
from __future__ import annotations

import numpy as np

from al.classifiers.linear import LogisticRegressionClassifier


class DropoutLogreg(LogisticRegressionClassifier):
    """Logistic regression whose ``predict_proba_dropout`` adds seeded standard Gaussian noise to the logits.

    Not Gal & Ghahramani's MC dropout (there are no units to drop), but the
    same shape and contract as the bert classifier's: ``n_samples`` seeded
    draws of every text's probabilities, which differ between draws.
    """

    def predict_proba_dropout(self, X: np.ndarray, n_samples: int, seed: int) -> np.ndarray:
        """Probabilities of ``n_samples`` noisy forward passes: shape (n_samples, n_texts, n_labels), float32."""
        p = np.clip(self.predict_proba(X).astype(np.float64), 1e-6, 1 - 1e-6)
        logits = np.log(p) - np.log1p(-p)
        noise = np.random.default_rng(seed).normal(size=(n_samples, *p.shape))
        return (1.0 / (1.0 + np.exp(-(logits + noise)))).astype(np.float32)
