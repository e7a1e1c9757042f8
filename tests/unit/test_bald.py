"""BALD's score on hand-made dropout samples; the strategy with and without a dropout classifier."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from al.classifiers.linear import LogisticRegressionClassifier
from al.engine import Simulation
from al.errors import ConfigError
from al.strategy import PoolState
from al.testing import DropoutLogreg, make_state
from strategies.bald import BALD, bald_scores, bernoulli_entropy
from tests.conftest import hash_embed, synthetic_corpus

LN2 = np.log(2.0)
H02 = -(0.2 * np.log(0.2) + 0.8 * np.log(0.8))  # 0.5004 nats


def test_bernoulli_entropy_in_nats():
    assert np.allclose(bernoulli_entropy(np.array([0.0, 0.5, 1.0, 0.2, 0.8])), [0, LN2, 0, H02, H02])


def test_bald_score_by_hand():
    # T = 2 passes, 2 texts, 2 labels.
    # text 0: label 0 p = 0.2, 0.8 -> H(mean 0.5) - mean(H(0.2), H(0.8)) = ln 2 - 0.5004 = 0.1927
    #         label 1 p = 0.5, 0.5 -> ln 2 - ln 2 = 0
    # text 1: label 0 p = 0.2, 0.2 -> 0 (the passes agree)
    #         label 1 p = 0.0, 1.0 -> H(0.5) - mean(0, 0) = ln 2 = 0.6931
    samples = np.array([
        [[0.2, 0.5], [0.2, 0.0]],
        [[0.8, 0.5], [0.2, 1.0]],
    ])
    assert np.allclose(bald_scores(samples), [LN2 - H02, LN2])


def test_confident_agreement_scores_zero_and_disagreement_scores_more():
    agree = np.full((10, 1, 3), 0.9)
    disagree = np.concatenate([np.full((5, 1, 3), 0.1), np.full((5, 1, 3), 0.9)])
    assert np.allclose(bald_scores(agree), 0)
    assert bald_scores(disagree)[0] > 0


def dropout_state(rng_seed: int = 1) -> PoolState:
    state, _ = make_state(n_pool=60, n_labeled=12, rng_seed=rng_seed, classifier=DropoutLogreg)
    return state


def test_bald_picks_the_top_scores_of_the_classifier_s_dropout_samples():
    state = dropout_state()
    strategy = BALD(n_samples=7)
    picked = strategy.query(state, 5)
    seed = int(np.random.default_rng(1).integers(2**31 - 1))  # what the strategy drew from state.rng
    samples = state.classifier.predict_proba_dropout(state.inputs[state.indices_unlabeled], 7, seed)
    assert np.allclose(strategy.last_scores, bald_scores(samples))
    expected = state.indices_unlabeled[np.lexsort((state.indices_unlabeled, -bald_scores(samples)))[:5]]
    assert picked.tolist() == expected.tolist()


def test_bald_without_dropout_is_a_one_line_config_error():
    state, _ = make_state(n_pool=30, n_labeled=10)
    with pytest.raises(ConfigError) as info:
        BALD().query(state, 3)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("strategy 'bald' needs a classifier with dropout (bert); LogisticRegressionClassifier")
    assert "use --classifier bert" in message


def test_bald_with_logreg_stops_a_simulation_before_the_first_pick():
    simulation = Simulation(synthetic_corpus(n_texts=200), BALD(), lambda seed: LogisticRegressionClassifier(seed=seed),
                            hash_embed, initial=20, step=10, budget=40)
    with pytest.raises(ConfigError, match="needs a classifier with dropout"):
        simulation.run()


def test_bald_n_samples_must_be_at_least_two():
    with pytest.raises(ConfigError, match="n_samples must be an integer of at least 2, got 1"):
        BALD(n_samples=1)


def test_text_inputs_are_passed_as_a_list():
    seen = {}

    class TextDropout:
        def predict_proba_dropout(self, X, n_samples, seed):
            seen["X"] = X
            return np.full((n_samples, len(X), 2), 0.5)

    texts = [f"t{i}" for i in range(6)]
    state = PoolState(np.array([0, 1]), np.array([5, 2, 3]), sp.csr_matrix(np.eye(2, dtype=np.int8)), ("a", "b"),
                      np.random.default_rng(0), views={"classifier": lambda: TextDropout(), "inputs": lambda: texts})
    assert BALD().query(state, 3).tolist() == [2, 3, 5]  # all scores 0: ties by index
    assert seen["X"] == ["t5", "t2", "t3"]
