"""MMC, Adaptive and BinMin against values worked out by hand from the papers (f_j = 2 p_j - 1)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from al.errors import ConfigError
from al.strategy import PoolState
from strategies.multilabel import (
    MMC, Adaptive, BinMin, LookaheadHead, adaptive_candidates, adaptive_scores, approximate_error, binmin_scores,
    cardinality_inconsistency, label_count_features, max_margin_uncertainty, mmc_scores, predict_label_counts,
)
from strategies.uncertainty import least_confidence_scores


def state_of(proba: np.ndarray, Y_labeled: np.ndarray, labeled: list[int],
             representations: np.ndarray | None = None) -> PoolState:
    n = len(proba)
    views = {"proba": lambda: proba}
    if representations is not None:
        views["representations"] = lambda: representations
    return PoolState(
        indices_labeled=np.asarray(labeled, dtype=np.int64),
        indices_unlabeled=np.setdiff1d(np.arange(n), labeled),
        y_labeled=sp.csr_matrix(np.asarray(Y_labeled, dtype=np.int8)),
        label_names=tuple(f"l{j}" for j in range(proba.shape[1])), rng=np.random.default_rng(0), views=views,
    )


# ------------------------------------------------------------------------------------------------ BinMin

def test_binmin_by_hand():
    # min_j |2 p_j - 1|:  (0.9, 0.45, 0.2) -> |-0.1| = 0.1;  (0.6, 0.8, 0.0) -> 0.2;  (0.5, 1, 0) -> 0
    proba = np.array([[0.9, 0.45, 0.2], [0.6, 0.8, 0.0], [0.5, 1.0, 0.0]])
    assert np.allclose(binmin_scores(proba), [-0.1, -0.2, 0.0])
    picked = BinMin().query(state_of(np.vstack([[[0.5, 0.5, 0.5]], proba]), [[1, 0, 0]], [0]), 3)
    assert picked.tolist() == [3, 1, 2]


def test_binmin_ranks_as_least_confidence():
    proba = np.random.default_rng(0).random((500, 6))
    assert (np.argsort(-binmin_scores(proba), kind="stable")
            == np.argsort(-least_confidence_scores(proba), kind="stable")).all()


# --------------------------------------------------------------------------------------------------- MMC

def test_label_count_features_by_hand():
    # (0.2, 0.6, 0.2) sorted: (0.6, 0.2, 0.2), sum 1;  (0.1, 0.4, 0.3) sorted (0.4, 0.3, 0.1) / 0.8
    proba = np.array([[0.2, 0.6, 0.2], [0.1, 0.4, 0.3], [0.0, 0.0, 0.0]])
    assert np.allclose(label_count_features(proba), [[0.6, 0.2, 0.2], [0.5, 0.375, 0.125], [0, 0, 0]])


# f = 2p - 1; y = +1 for the m most probable labels (ties: lower label first); score = sum_j (1 - y_j f_j) / 2
#   x1 (0.9, 0.6, 0.2), m 1: y (+,-,-), f (0.8, 0.2, -0.6): 0.1 + 0.6 + 0.2 = 0.9
#   x2 (0.9, 0.6, 0.2), m 2: y (+,+,-):                     0.1 + 0.4 + 0.2 = 0.7
#   x3 (0.5, 0.5, 0.1), m 1: y (+,-,-), f (0, 0, -0.8):     0.5 + 0.5 + 0.1 = 1.1
#   x4 (0.1, 0.3, 0.95), m 0: y (-,-,-), f (-0.8, -0.4, 0.9): 0.1 + 0.3 + 0.95 = 1.35
MMC_PROBA = np.array([[0.9, 0.6, 0.2], [0.9, 0.6, 0.2], [0.5, 0.5, 0.1], [0.1, 0.3, 0.95]])


def test_mmc_scores_by_hand():
    assert np.allclose(mmc_scores(MMC_PROBA, np.array([1, 2, 1, 0])), [0.9, 0.7, 1.1, 1.35])


def test_mmc_with_one_label_count_in_the_labeled_set_predicts_that_count():
    # every labeled text has 1 label -> m = 1 everywhere: x1 0.9, x2 0.9 (now as x1), x3 1.1,
    # x4 y (-,-,+), f (-0.8, -0.4, 0.9): (1-0.8)/2 + (1-0.4)/2 + (1-0.9)/2 = 0.1 + 0.3 + 0.05 = 0.45
    assert predict_label_counts(MMC_PROBA[:2], np.array([1, 1]), MMC_PROBA).tolist() == [1, 1, 1, 1]
    proba = np.vstack([[[0.9, 0.1, 0.1], [0.2, 0.8, 0.1]], MMC_PROBA])
    strategy = MMC()
    picked = strategy.query(state_of(proba, [[1, 0, 0], [0, 1, 0]], [0, 1]), 4)
    assert np.allclose(strategy.last_scores, [0.9, 0.9, 1.1, 0.45])
    assert picked.tolist() == [4, 2, 3, 5]
    assert strategy.last_info == {"predicted_label_counts": {1: 4}}


def test_mmc_learns_label_counts_from_sorted_probabilities():
    # labeled texts with one label have one high probability, texts with two labels two
    one = np.array([[0.9, 0.1, 0.1], [0.1, 0.95, 0.05], [0.05, 0.1, 0.9], [0.85, 0.1, 0.05]])
    two = np.array([[0.9, 0.85, 0.1], [0.1, 0.9, 0.95], [0.9, 0.05, 0.8], [0.95, 0.9, 0.05]])
    pool = np.array([[0.1, 0.05, 0.92], [0.88, 0.1, 0.9]])
    counts = predict_label_counts(np.vstack([one, two]), np.array([1] * 4 + [2] * 4), pool)
    assert counts.tolist() == [1, 2]


def test_mmc_labeled_rows_come_from_the_proba_view_of_the_labeled_indices():
    gen = np.random.default_rng(0)
    proba = gen.random((60, 3))
    Y = (gen.random((10, 3)) < 0.5).astype(np.int8)
    Y[0] = [1, 1, 1]
    Y[1] = [1, 0, 0]
    labeled = list(range(50, 60))
    strategy = MMC()
    strategy.query(state_of(proba, Y, labeled), 5)
    counts = predict_label_counts(proba[labeled], Y.sum(axis=1), proba[:50])
    assert np.allclose(strategy.last_scores, mmc_scores(proba[:50], counts))


# ---------------------------------------------------------------------------------------------- Adaptive

# f = 2p - 1; u = 1 / (min f over f >= 0 - max f over f < 0), 0 if a side is empty; labeled mean count 1.5
#   x1 (0.9, 0.6, 0.2): f (0.8, 0.2, -0.6): margin 0.2 + 0.6 = 0.8, u 1.25; 2 predicted, c 0.5
#   x2 (0.55, 0.3, 0.1): f (0.1, -0.4, -0.8): margin 0.5, u 2;              1 predicted, c 0.5
#   x3 (0.2, 0.1, 0.3): nothing predicted, u 0;                              c 1.5
#   x4 (0.9, 0.8, 0.7): everything predicted, u 0;                           c 1.5
# beta 0: q = c, x3 and x4 tie at 1.5 with u 0 -> the lower, x3.
# beta > 0: q(x3) = q(x4) = 0; beta 0.1: x1 1.25^0.1 0.5^0.9 = 0.548, x2 2^0.1 0.5^0.9 = 0.574 -> x2;
# beta 1: q = u -> x2. Candidates: x3 (beta 0), x2 (every other beta).
ADAPTIVE_PROBA = np.array([[0.9, 0.6, 0.2], [0.55, 0.3, 0.1], [0.2, 0.1, 0.3], [0.9, 0.8, 0.7]])


def test_adaptive_measures_by_hand():
    u = max_margin_uncertainty(ADAPTIVE_PROBA)
    c = cardinality_inconsistency(ADAPTIVE_PROBA, 1.5)
    assert np.allclose(u, [1.25, 2.0, 0.0, 0.0])
    assert np.allclose(c, [0.5, 0.5, 1.5, 1.5])
    assert np.allclose(adaptive_scores(u, c, 0.1), [1.25**0.1 * 0.5**0.9, 2**0.1 * 0.5**0.9, 0, 0])
    assert np.allclose(adaptive_scores(u, c, 0.0), c)  # 0^0 = 1
    assert np.allclose(adaptive_scores(u, c, 1.0), u)
    betas = [round(0.1 * i, 1) for i in range(11)]
    assert [a.tolist() for a in adaptive_candidates(u, c, betas)] == [[2]] + [[1]] * 10
    # every tied text, the more uncertain first (x3 and x4 both have u 0: the lower index first)
    assert [a.tolist() for a in adaptive_candidates(u, c, [0.0, 1.0], ties=5)] == [[2, 3], [1]]
    assert [a.tolist() for a in adaptive_candidates(u, c, [0.0], np.array([9, 4, 7, 5]), ties=5)] == [[3, 2]]


def test_approximate_error_by_hand():
    # (0.8, 0.2, -0.6): max(1 - 0.8, 1 - 0.2) + max(1 - 0.6) = 0.8 + 0.4 = 1.2
    # (-0.5, -0.9, -0.1): no f >= 0 -> 0; max(1 - 0.5, 1 - 0.9, 1 - 0.1) = 0.9
    f = np.array([[0.8, 0.2, -0.6], [-0.5, -0.9, -0.1]])
    assert np.isclose(approximate_error(f), 2.1)
    assert np.allclose(approximate_error(np.stack([f, -f])), [2.1, 2.1])


def test_adaptive_boundaries_by_hand():
    # p = 0.5 is a predicted positive (f = 0 >= 0): (0.5, 0.2) has positives {0}, margin 0 - (-0.6) = 0.6,
    # u = 1 / 0.6; one predicted label against a mean of 1.5: c = 0.5 (with p > 0.5: u = 0 and c = 1.5)
    proba = np.array([[0.5, 0.2]])
    assert max_margin_uncertainty(proba) == pytest.approx([1 / 0.6])
    assert cardinality_inconsistency(proba, 1.5) == pytest.approx([0.5])
    # f = 0 counts on both sides: (0, -0.5) -> max(1 - 0) + max(1 + 0, 1 - 0.5) = 1 + 1 = 2
    # (with f > 0 for the positives it would be 0 + 1, with f < 0 for the negatives 1 + 0.5)
    assert approximate_error(np.array([[0.0, -0.5]])) == pytest.approx(2.0)


def test_adaptive_equal_errors_go_to_the_smaller_beta(monkeypatch):
    # pool: two labeled texts (mean count 1.5), then ADAPTIVE_PROBA's rows at 2..5; with betas (0, 1) the
    # candidates are row 2 of ADAPTIVE_PROBA (pool 4, q = c at beta 0) and row 1 (pool 3, q = u at beta 1).
    # Exact ties of the look-ahead error do not arise from real fits, so the errors are set equal here.
    proba = np.vstack([[[0.9, 0.1, 0.1], [0.2, 0.8, 0.9]], ADAPTIVE_PROBA])
    monkeypatch.setattr(LookaheadHead, "lookahead_errors", lambda self, X, thetas, rows=None: np.full(len(thetas), 0.7))
    strategy = Adaptive(betas=[0.0, 1.0])
    picked = strategy.query(state_of(proba, [[1, 0, 0], [0, 1, 1]], [0, 1], np.eye(6)), 1)
    assert [c["beta"] for c in strategy.last_info["candidates"]] == [0.0, 1.0]
    assert strategy.last_info["beta"] == 0.0 and picked.tolist() == [4]


def test_adaptive_with_a_single_candidate_takes_it_first_then_the_top_of_q():
    # all candidates the same text: x2 (index 3) must lead for every beta
    proba = np.vstack([[[0.9, 0.1, 0.1], [0.2, 0.8, 0.9]], ADAPTIVE_PROBA[:2], [[0.55, 0.52, 0.1]]])
    # labeled mean count 1.5; x at 2: u 1.25 c 0.5; x at 3: u 2, c 0.5; x at 4 (0.55, 0.52, 0.1): f (0.1, 0.04, -0.8),
    # margin 0.84, u 1.19, c 0.5 -> x at 3 wins every beta
    strategy = Adaptive(betas=[0.0, 0.5, 1.0])
    picked = strategy.query(state_of(proba, [[1, 0, 0], [0, 1, 1]], [0, 1], np.eye(5)), 3)
    assert picked.tolist() == [3, 2, 4]
    assert strategy.last_info["beta"] == 0.0 and len(strategy.last_info["candidates"]) == 1


def exact_refit_errors(X_labeled, Y_labeled, X_unlabeled, proba, candidates):
    """Li and Guo's look-ahead done literally: refit scikit-learn per label with the candidate added."""
    from sklearn.linear_model import LogisticRegression

    errors = []
    for i in candidates:
        X = np.vstack([X_labeled, X_unlabeled[i]])
        Y = np.vstack([Y_labeled, (proba[i] >= 0.5).astype(int)])
        f = np.empty((len(X_unlabeled), Y.shape[1]))
        for j in range(Y.shape[1]):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(X, Y[:, j])
            f[:, j] = 2 * model.predict_proba(X_unlabeled)[:, 1] - 1
        errors.append(approximate_error(f))
    return np.array(errors)


@pytest.mark.parametrize("seed", range(3))
def test_one_newton_step_tracks_an_exact_refit(seed):
    gen = np.random.default_rng(seed)
    n_labels, dim = 3, 8
    centres = gen.normal(size=(n_labels, dim))
    Y = (gen.random((160, n_labels)) < 0.4).astype(int)
    Y[np.arange(160), gen.integers(0, n_labels, 160)] = 1
    X = Y @ centres + gen.normal(size=(160, dim))
    labeled, unlabeled = np.arange(40), np.arange(40, 160)
    head = LookaheadHead().fit(X[labeled], Y[labeled])
    proba = (head.decisions(X[unlabeled]) + 1) / 2
    candidates = list(range(0, 120, 12))
    thetas = np.stack([head.lookahead_thetas(X[unlabeled][i], proba[i] >= 0.5) for i in candidates])
    newton = approximate_error(head.lookahead_decisions(X[unlabeled], thetas))
    assert np.allclose(head.lookahead_errors(X[unlabeled], thetas), newton)  # the fast path, on logits
    assert np.allclose(head.lookahead_errors(X[unlabeled].astype(np.float32), thetas), newton, rtol=1e-4)
    exact = exact_refit_errors(X[labeled], Y[labeled], X[unlabeled], proba, candidates)
    assert np.allclose(newton, exact, rtol=0.01), (newton, exact)
    assert np.argmin(newton) == np.argmin(exact)


def test_lookahead_errors_in_blocks_and_on_chosen_rows_are_the_same_bit_for_bit():
    gen = np.random.default_rng(7)
    X = gen.normal(size=(300, 16)).astype(np.float32)
    Y = (gen.random((300, 4)) < 0.4).astype(int)
    head = LookaheadHead().fit(X[:60], Y[:60])
    thetas = np.stack([head.lookahead_thetas(X[i], Y[i]) for i in (70, 80, 90)])
    rows = np.sort(gen.choice(np.arange(60, 300), 200, replace=False))
    one_block = head.lookahead_errors(np.ascontiguousarray(X[rows]), thetas, block=10_000)
    # the terms summed once, in row order: blocks of 7 rows (the last one short) change nothing
    assert np.array_equal(head.lookahead_errors(X, thetas, rows=rows, block=7), one_block)
    assert np.array_equal(head.lookahead_errors(X[rows], thetas, block=7), one_block)
    assert np.allclose(one_block, approximate_error(head.lookahead_decisions(X[rows], thetas)), rtol=1e-4)


def test_adaptive_chooses_the_candidate_whose_lookahead_error_is_lowest():
    from al.testing import make_state

    state, _ = make_state(n_pool=120, n_labeled=30, n_labels=4, dim=8)
    strategy = Adaptive()
    picked = strategy.query(state, 5)
    info = strategy.last_info
    assert len(info["candidates"]) >= 2  # the look-ahead decided something
    best = min(info["candidates"], key=lambda c: c["error"])
    assert info["beta"] == best["beta"]
    # the first pick is the chosen beta's top text; the rest follow q at that beta
    proba = state.proba[state.indices_unlabeled]
    u = max_margin_uncertainty(proba)
    c = cardinality_inconsistency(proba, state.y_labeled.toarray().sum(axis=1).mean())
    q = adaptive_scores(u, c, info["beta"])
    assert np.allclose(strategy.last_scores, q)
    first = adaptive_candidates(u, c, [info["beta"]], state.indices_unlabeled)[0][0]
    assert picked[0] == state.indices_unlabeled[first]
    rest = [i for i in np.lexsort((state.indices_unlabeled, -q)) if i != first][:4]
    assert picked[1:].tolist() == state.indices_unlabeled[rest].tolist()


def test_bad_betas_are_a_config_error():
    with pytest.raises(ConfigError, match=r"betas must be a non-empty list of numbers in \[0, 1\], got \[0.5, 2\]"):
        Adaptive(betas=[0.5, 2])


def test_the_lookahead_head_is_scikit_learn_s_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    gen = np.random.default_rng(0)
    X = gen.normal(size=(80, 6))
    Y = (X[:, :3] + 0.5 * gen.normal(size=(80, 3)) > 0.3).astype(int)
    Y[:, 2] = 0  # a constant label
    head = LookaheadHead().fit(X, Y)
    for j in range(2):
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000, tol=1e-10).fit(X, Y[:, j])
        assert np.allclose(head.theta_[j, :-1], model.coef_[0], atol=1e-5)
        assert np.isclose(head.theta_[j, -1], model.intercept_[0], atol=1e-5)
    assert np.allclose(head.decisions(X)[:, 2], -1.0)


def test_a_label_with_one_class_among_the_labeled_texts_is_quiet_and_stays_constant():
    """A class count of 0 (no positive yet, as for a rare label early on): no numpy warning, its head unchanged."""
    gen = np.random.default_rng(3)
    X = gen.normal(size=(80, 6))
    Y = (gen.random((80, 3)) < 0.4).astype(int)
    Y[:40, 2] = 0  # label 2: no positive among the labeled texts
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning from numpy fails the test
        head = LookaheadHead().fit(X[:40], Y[:40])
        thetas = np.stack([head.lookahead_thetas(X[i], np.array([1, 0, 1])) for i in (50, 60)])
        errors = head.lookahead_errors(X[40:], thetas)
        proba = gen.random((80, 3)).astype(np.float32)
        picks = Adaptive().query(state_of(proba, Y[:40], list(range(40)), representations=X.astype(np.float32)), 5)
    assert head.constant_.tolist() == [False, False, True]
    assert np.array_equal(thetas[:, 2], np.broadcast_to(head.theta_[2], thetas[:, 2].shape))  # p stays 0
    assert np.isfinite(thetas).all() and np.isfinite(errors).all() and len(picks) == 5
