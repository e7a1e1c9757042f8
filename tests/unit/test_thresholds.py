"""The decision threshold every classifier takes: "fixed" (0.5), a number in (0, 1], or "dev" (tuned)."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from al.classifiers.base import fixed_threshold
from al.classifiers.linear import LogisticRegressionClassifier
from al.errors import ConfigError


@pytest.mark.parametrize("given, taken", [("fixed", 0.5), ("dev", 0.5), (0.3, 0.3), (1, 1.0), (np.float32(0.25), 0.25)])
def test_a_threshold_sets_one_number_for_every_label(given, taken):
    assert fixed_threshold(given) == pytest.approx(taken)


@pytest.mark.parametrize("given", [0, 1.5, -0.1, float("nan"), True, "tuned", None, "0.3"])
def test_anything_else_is_refused_saying_what_is_taken(given):
    with pytest.raises(ConfigError, match=r"^threshold must be a number in \(0, 1\], 'fixed' \(0\.5\) or 'dev'"):
        fixed_threshold(given)


def test_logreg_predicts_at_a_number_threshold_as_knn_does():
    """logreg and bert took only fixed or dev; knn also a number. All three take one now."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4))
    Y = sp.csr_matrix(np.stack([X[:, 0] > 0, X[:, 1] > 0.5], axis=1).astype(np.int8))
    model = LogisticRegressionClassifier(threshold=0.3).fit(X, Y)
    np.testing.assert_array_equal(model.thresholds_, np.float32([0.3, 0.3]))
    proba = model.predict_proba(X)
    np.testing.assert_array_equal(model.predict(X), (proba >= np.float32(0.3)).astype(np.int8))
    assert (model.predict(X) != LogisticRegressionClassifier().fit(X, Y).predict(X)).any()  # 0.5 answers otherwise
    with pytest.raises(ConfigError, match="threshold must be a number"):
        LogisticRegressionClassifier(threshold=2).fit(X, Y)
