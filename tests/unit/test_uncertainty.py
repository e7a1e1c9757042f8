"""Reference tests: multi-label uncertainty scores worked out by hand."""
from __future__ import annotations

import numpy as np
import pytest

from al.registry import get_strategy
from strategies.uncertainty import entropy_scores, least_confidence_scores, margin_scores

PROBA = np.array([
    [0.5, 0.99],   # one label at 0.5, one sure
    [0.3, 0.6],    # both fairly uncertain
    [0.9, 0.05],   # both sure
])


def test_least_confidence_by_hand():
    # 1 - max(p, 1-p): x0 [0.5, 0.01] -> 0.5; x1 [0.3, 0.4] -> 0.4; x2 [0.1, 0.05] -> 0.1
    np.testing.assert_allclose(least_confidence_scores(PROBA), [0.5, 0.4, 0.1])


def test_margin_by_hand():
    # |2p - 1|: x0 [0, 0.98] mean 0.49; x1 [0.4, 0.2] mean 0.3; x2 [0.8, 0.9] mean 0.85
    np.testing.assert_allclose(margin_scores(PROBA), [-0.49, -0.3, -0.85])


def test_entropy_by_hand():
    # H(0.5) = 1; H(0.99) = 0.080793; H(0.3) = 0.881291; H(0.6) = 0.970951
    # H(0.9) = 0.468996; H(0.05) = 0.286397
    np.testing.assert_allclose(entropy_scores(PROBA), [1.080793, 1.852242, 0.755393], atol=1e-6)
    np.testing.assert_allclose(entropy_scores(np.array([[0.0, 1.0]])), [0.0])


@pytest.mark.parametrize(
    "name, first",
    [("least_confidence", 0), ("margin", 1), ("max_entropy", 1)],  # the three disagree on this input
)
def test_strategies_rank_by_their_score(name, first):
    from al.strategy import PoolState

    state = PoolState(
        indices_labeled=np.array([3]), indices_unlabeled=np.array([0, 1, 2]), y_labeled=None,
        label_names=("a", "b"), rng=np.random.default_rng(0),
        views={"proba": lambda: np.vstack([PROBA, [[0.5, 0.5]]])},
    )
    assert get_strategy(name)().query(state, 1).tolist() == [first]
