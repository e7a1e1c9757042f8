"""Reference tests: CVIRS (Reyes, Morell, Ventura 2018) against numbers worked out by hand."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from al.testing import make_state
from strategies.cvirs import (
    CVIRS, category_vector_distance, cvirs_scores, inconsistency_scores, uncertainty_rank_scores,
)

# Three unlabeled texts, q = 2 labels.
PROBA = np.array([[0.55, 0.45], [0.90, 0.30], [0.70, 0.95]])
# Labeled vectors: y0 = [1, 0], y1 = [0, 1].
Y_L = np.array([[1, 0], [0, 1]])


def test_rank_scores_by_hand():
    # margins |2p - 1|:   x0 [0.1, 0.1]   x1 [0.8, 0.4]   x2 [0.4, 0.9]
    # label 0 ascending: x0 (rank 1), x2 (2), x1 (3);  label 1: x0 (1), x1 (2), x2 (3)
    # s_rank = sum_j (|U| - rank_j) / (q (|U| - 1)) = sum_j (3 - rank_j) / 4
    #   x0: (2 + 2) / 4 = 1.0    x1: (0 + 1) / 4 = 0.25    x2: (1 + 0) / 4 = 0.25
    np.testing.assert_allclose(uncertainty_rank_scores(PROBA), [1.0, 0.25, 0.25])


def test_rank_ties_share_the_average_rank():
    # a constant label (e.g. never seen positive) ties every text: all get rank 2 of 3
    proba = np.array([[0.5, 0.0], [0.9, 0.0], [0.7, 0.0]])
    # label 0 ranks 1, 3, 2; label 1 ranks 2, 2, 2 -> ((3-1)+(3-2))/4, ((3-3)+1)/4, ((3-2)+1)/4
    np.testing.assert_allclose(uncertainty_rank_scores(proba), [0.75, 0.25, 0.5])


@pytest.mark.parametrize(
    "pred, true, expected",
    [
        # identical, a=1 d=1: H(yhat)=H(y)=h(.5)+h(.5)=1, joint=(a+d)/q [h(.5)+h(.5)]=1 -> (2-1-1)/1 = 0
        ([1, 0], [1, 0], 0.0),
        # every label differs: Hamming (b+c)/q = 1 -> 1
        ([1, 0], [0, 1], 1.0),
        # a=1 b=1: H(yhat)=h(1)+h(0)=0, H(y)=1, joint=h(.5)+h(.5)+.5[h(1)+h(0)]+.5[h(1)+h(0)]=1 -> (2-0-1)/1
        ([1, 1], [1, 0], 1.0),
        # q=4, a=1 b=0 c=1 d=2: H(yhat)=h(1/4)+h(3/4)=0.5+0.311278=0.811278, H(y)=1,
        # joint = h(1/4)+h(3/4) + 1/4[h(0)+h(1)] + 3/4[h(1/3)+h(2/3)]
        #       = 0.811278 + 0 + 0.75 (0.528321 + 0.389975) = 1.5
        # distance = (2 * 1.5 - 0.811278 - 1) / 1.5 = 0.792481
        ([1, 0, 0, 0], [1, 1, 0, 0], 0.792481),
        # identical, not constant: a=3 d=1 -> joint = 1 [h(3/4)+h(1/4)] = H(yhat) = H(y) -> 0
        ([1, 1, 1, 0], [1, 1, 1, 0], 0.0),
        # identical all-zero vectors: H(yhat, y) = 0 -> distance 0 by convention
        ([0, 0, 0, 0], [0, 0, 0, 0], 0.0),
        ([0, 0, 0, 0], [1, 1, 1, 1], 1.0),
    ],
)
def test_category_vector_distance_by_hand(pred, true, expected):
    got = category_vector_distance(np.array([pred]), np.array([true]))
    np.testing.assert_allclose(got, [[expected]], atol=1e-6)
    # symmetric in its arguments
    np.testing.assert_allclose(category_vector_distance(np.array([true]), np.array([pred])), got, atol=1e-12)


def test_inconsistency_and_final_scores_by_hand():
    # yhat = 1[p > 0.5]: x0 [1,0], x1 [1,0], x2 [1,1]
    # s_inc = mean distance to y0=[1,0], y1=[0,1]:
    #   x0, x1: (0 + 1) / 2 = 0.5      x2: (1 + 1) / 2 = 1.0   (rows 1 and 3 of the table above)
    np.testing.assert_allclose(inconsistency_scores(PROBA > 0.5, Y_L), [0.5, 0.5, 1.0])
    # score = s_rank * s_inc: x0 1.0*0.5 = 0.5, x1 0.25*0.5 = 0.125, x2 0.25*1.0 = 0.25
    np.testing.assert_allclose(cvirs_scores(PROBA, sp.csr_matrix(Y_L)), [0.5, 0.125, 0.25])


def test_strategy_picks_the_top_scores():
    state, _ = make_state(n_pool=40, n_labeled=10)
    strategy = CVIRS()
    picked = strategy.query(state, 4)
    expected = cvirs_scores(state.proba[state.indices_unlabeled], state.y_labeled)
    np.testing.assert_allclose(strategy.last_scores, expected)
    assert set(picked) == set(state.indices_unlabeled[np.argsort(-expected, kind="stable")[:4]])


def test_distinct_pattern_shortcut_equals_the_direct_mean():
    rng = np.random.default_rng(0)
    pred = (rng.random((300, 5)) < 0.4).astype(int)
    labeled = (rng.random((40, 5)) < 0.3).astype(int)
    direct = category_vector_distance(pred, labeled).mean(axis=1)
    np.testing.assert_allclose(inconsistency_scores(pred, labeled), direct, atol=1e-12)


def test_small_text_differs_from_the_definition():
    """small-text 1.4.1's CategoryVectorInconsistencyAndRanking on the same input.

    Where and why its numbers differ from the definition (see ALGORITHMS.md):
      * margin |p_j - sum_k p_k| instead of |2 p_j - 1|, and argsort output used as ranks:
        label 0 margins [0.45, 0.30, 0.95] -> argsort [1, 0, 2] read as ranks x0=1, x1=0, x2=2;
        label 1 margins [0.55, 0.90, 0.70] -> argsort [0, 2, 1] read as ranks x0=0, x1=2, x2=1;
        "s_rank" = sum_j (3 - rank) / 4 = [1.25, 1.0, 0.75] (outside [0, 1]; ours [1.0, 0.25, 0.25]);
      * the entropy distance is computed and then discarded: only the Hamming distance
        remains (x2 vs y0: 0.5 instead of 1.0);
      * the distance sum is divided by the number of unlabeled texts in the batch (3),
        not by |L| (2): s_inc = [1/3, 1/3, 1/3] instead of [0.5, 0.5, 1.0].
    Scores: small-text [0.41667, 0.33333, 0.25] vs ours [0.5, 0.125, 0.25]; its top pick
    agrees (x0) but its second does not (x1 instead of x2).
    """
    CategoryVectorInconsistencyAndRanking = pytest.importorskip(
        "small_text.query_strategies").CategoryVectorInconsistencyAndRanking

    class FixedProba:
        def predict_proba(self, rows):
            return PROBA[rows]

    theirs = CategoryVectorInconsistencyAndRanking(pbar=None)
    unlabeled = np.arange(3)
    their_scores = theirs._compute_scores(unlabeled, sp.csr_matrix(Y_L), PROBA)
    np.testing.assert_allclose(their_scores, [1.25 / 3, 1.0 / 3, 0.75 / 3], atol=1e-6)
    np.testing.assert_allclose(theirs._compute_ranking(unlabeled, PROBA), [1.25, 1.0, 0.75])
    np.testing.assert_allclose(theirs._compute_vector_inconsistency(sp.csr_matrix(Y_L), (PROBA > 0.5).astype(int), 2),
                               [1 / 3, 1 / 3, 1 / 3], atol=1e-6)
    ours = cvirs_scores(PROBA, Y_L)
    np.testing.assert_allclose(ours, [0.5, 0.125, 0.25])
    their_top2 = theirs.query(FixedProba(), np.arange(3), unlabeled, np.array([]), sp.csr_matrix(Y_L), n=2)
    assert set(their_top2) == {0, 1}
    assert set(np.argsort(-ours)[:2]) == {0, 2}


def test_a_probability_of_exactly_the_threshold_is_predicted_negative():
    # x0 = [0.5, 0.9], x1 = [0.9, 0.1].  yhat = 1[p > 0.5]: x0 -> [0, 1], equal to y1 (distance 0) and the
    # complement of y0 (distance 1): s_inc = 0.5 (with p >= 0.5 it would be [1, 1], at distance 1 from both: 1.0).
    # margins |2p - 1|: x0 [0.0, 0.8], x1 [0.8, 0.8]; ranks: label 0 x0 1, x1 2; label 1 tied, 1.5 each;
    # s_rank(x0) = ((2 - 1) + (2 - 1.5)) / (2 * (2 - 1)) = 0.75, so the score is 0.75 * 0.5 = 0.375.
    proba = np.array([[0.5, 0.9], [0.9, 0.1]])
    assert cvirs_scores(proba, Y_L)[0] == pytest.approx(0.375)


def test_an_empty_labeled_set_is_refused_in_one_line():
    from al.errors import QueryError

    with pytest.raises(QueryError, match="at least one labeled text"):
        cvirs_scores(PROBA, sp.csr_matrix((0, 2)))
