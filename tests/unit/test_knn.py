"""The kNN classifier (CEA, seed 000): hand-computed votes, index++, k chosen on dev, ties, errors."""
from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp

from al.classifiers import CLASSIFIERS, make_classifier
from al.classifiers.knn import KNNClassifier, knn_votes
from al.engine import Simulation
from al.errors import ConfigError, NotFittedError
from al.metrics import evaluate
from strategies.random_sampling import RandomSampling
from tests.conftest import hash_embed

# Five labeled unit vectors in 2-D, labels A, B, C:
#   p0 = ( 1,    0  )  A
#   p1 = ( 0.8,  0.6)  A B
#   p2 = ( 0,    1  )    B
#   p3 = (-0.6,  0.8)      C
#   p4 = (-1,    0  )      C
POINTS = np.array([[1, 0], [0.8, 0.6], [0, 1], [-0.6, 0.8], [-1, 0]], dtype=np.float32)
LABELS = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]], dtype=np.int8)
# Queries (q1 is not unit length: the classifier normalises it to (-1, 0)):
#   q0 = (0.6, 0.8): cosines to p0..p4 = 0.6, 0.96, 0.8, 0.28, -0.6 -> order p1, p2, p0, p3, p4
#   q1 = (-2, 0):    cosines            = -1, -0.8, 0, 0.6, 1        -> order p4, p3, p2, p1, p0
#   q2 = (0, -1):    cosines            = 0, -0.6, -1, -0.8, 0       -> p0 and p4 tie at 0: the earlier row,
#                                                                       p0, first -> order p0, p4, p1, p3, p2
QUERIES = np.array([[0.6, 0.8], [-2, 0], [0, -1]], dtype=np.float32)
HAND = {
    # k = 1: the nearest neighbour's labels.
    (1, "uniform"): [[1, 1, 0], [0, 0, 1], [1, 0, 0]],
    # k = 3, uniform: q0 {p1, p2, p0}: A 2/3, B 2/3; q1 {p4, p3, p2}: B 1/3, C 2/3;
    # q2 {p0, p4, p1}: A 2/3, B 1/3, C 1/3.
    (3, "uniform"): [[2 / 3, 2 / 3, 0], [0, 1 / 3, 2 / 3], [2 / 3, 1 / 3, 1 / 3]],
    # k = 3, similarity weights: q0 w = 0.96, 0.8, 0.6 (sum 2.36): A (0.96 + 0.6) / 2.36, B (0.96 + 0.8) / 2.36;
    # q1 w = 1, 0.6, 0 (sum 1.6): C 1.6 / 1.6, B 0 / 1.6; q2 all cosines <= 0 -> uniform weights.
    (3, "similarity"): [[1.56 / 2.36, 1.76 / 2.36, 0], [0, 0, 1], [2 / 3, 1 / 3, 1 / 3]],
    # k = 5, similarity: q0 w = 0.96, 0.8, 0.6, 0.28, 0 (clipped; sum 2.64): A 1.56/2.64, B 1.76/2.64, C 0.28/2.64.
    (5, "similarity"): [[1.56 / 2.64, 1.76 / 2.64, 0.28 / 2.64], [0, 0, 1], [2 / 5, 2 / 5, 2 / 5]],
}


@pytest.mark.parametrize("k, weights", sorted(HAND))
def test_votes_match_the_hand_computed_example(k, weights):
    classifier = KNNClassifier(k=k, weights=weights).fit(POINTS, sp.csr_matrix(LABELS))
    proba = classifier.predict_proba(QUERIES)
    assert proba.dtype == np.float32 and proba.shape == (3, 3)
    np.testing.assert_allclose(proba, HAND[(k, weights)], atol=1e-6)
    assert classifier.info() == {"k": k, "index": "rebuilt"}
    # threshold 0.5 on the vote share
    np.testing.assert_array_equal(classifier.predict(QUERIES), np.asarray(HAND[(k, weights)]) >= 0.5)


def test_transform_gives_the_unit_vectors_the_vote_reads():
    classifier = KNNClassifier(k=1).fit(POINTS, LABELS)
    np.testing.assert_allclose(classifier.transform(QUERIES), [[0.6, 0.8], [-1, 0], [0, -1]], atol=1e-7)
    assert classifier.transform(np.zeros((1, 2), dtype=np.float32)).tolist() == [[0.0, 0.0]]  # no NaN


def random_problem(n, n_queries=0, dim=16, n_labels=4, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_labels, dim))
    Y = (rng.random((n + n_queries, n_labels)) < 0.3).astype(np.int8)
    X = (rng.standard_normal((n + n_queries, dim)) + Y @ centres).astype(np.float32)
    return X[:n], sp.csr_matrix(Y[:n]), X[n:], sp.csr_matrix(Y[n:])


@pytest.mark.parametrize("weights", ["uniform", "similarity"])
@pytest.mark.parametrize("k", [7, "dev"])
def test_adding_rows_to_the_index_equals_rebuilding_it(weights, k):
    X, Y, X_dev, Y_dev = random_problem(50, 40, seed=1)
    queries = np.random.default_rng(2).standard_normal((200, 16)).astype(np.float32)
    grown = KNNClassifier(k=k, weights=weights).fit(X[:30], Y[:30], X_dev, Y_dev)
    assert grown.info()["index"] == "rebuilt"
    index = grown.index_
    grown.fit(X, Y, X_dev, Y_dev)
    assert grown.index_ is index and grown.index_.ntotal == 50
    assert grown.info()["index"] == "added 20"
    fresh = KNNClassifier(k=k, weights=weights).fit(X, Y, X_dev, Y_dev)
    assert grown.k_ == fresh.k_
    np.testing.assert_array_equal(grown.predict_proba(queries), fresh.predict_proba(queries))
    # the same rows again: nothing to add
    assert grown.fit(X, Y, X_dev, Y_dev).info()["index"] == "added 0"


def test_a_changed_prefix_rebuilds_the_index():
    X, Y, _, _ = random_problem(50)
    classifier = KNNClassifier(k=3).fit(X[:30], Y[:30])
    moved = X.copy()
    moved[4] += 0.5  # the space changed: one old vector differs
    classifier.fit(moved, Y)
    assert classifier.info()["index"] == "rebuilt" and classifier.index_.ntotal == 50
    np.testing.assert_array_equal(classifier.predict_proba(X), KNNClassifier(k=3).fit(moved, Y).predict_proba(X))
    # fewer rows than indexed, other order, or warm_start off: rebuilt as well
    assert classifier.fit(X[:40], Y[:40]).info()["index"] == "rebuilt"
    assert classifier.fit(X[::-1], Y[::-1]).info()["index"] == "rebuilt"
    cold = KNNClassifier(k=3, warm_start=False).fit(X[:30], Y[:30])
    assert cold.fit(X, Y).info()["index"] == "rebuilt"


@pytest.mark.parametrize("weights", ["uniform", "similarity"])
def test_k_chosen_on_dev_equals_a_brute_force_search_over_fresh_classifiers(weights):
    X, Y, X_dev, Y_dev = random_problem(60, 80, seed=3)
    names = [f"l{j}" for j in range(Y.shape[1])]
    scores = [evaluate(Y_dev, KNNClassifier(k=k, weights=weights).fit(X, Y).predict(X_dev), names)["macro_f1"]
              for k in range(1, 61)]
    assert len(set(scores)) > 5  # different k give different F1: the choice is not trivial
    chosen = KNNClassifier(k="dev", weights=weights).fit(X, Y, X_dev, Y_dev)
    assert chosen.k_ == int(np.argmax(scores)) + 1  # first maximum: ties go to the smaller k
    np.testing.assert_array_equal(chosen.dev_macro_f1_, scores)
    assert chosen.info() == {"k": chosen.k_, "index": "rebuilt"}


def test_with_thresholds_on_dev_k_is_chosen_at_one_half_then_thresholds_are_tuned():
    from al.classifiers import tune_thresholds

    X, Y, X_dev, Y_dev = random_problem(60, 80, seed=3)
    at_half = KNNClassifier(k="dev").fit(X, Y, X_dev, Y_dev)
    both = KNNClassifier(k="dev", threshold="dev").fit(X, Y, X_dev, Y_dev)
    assert both.k_ == at_half.k_
    expected = tune_thresholds(KNNClassifier(k=both.k_).fit(X, Y).predict_proba(X_dev), Y_dev)
    np.testing.assert_array_equal(both.thresholds_, expected)
    assert both.info() == {"k": both.k_, "index": "rebuilt", "thresholds": [round(float(t), 3) for t in expected]}
    assert both.uses_dev and at_half.uses_dev and KNNClassifier(k=3, threshold="dev").uses_dev
    assert not KNNClassifier(k=3).uses_dev


def test_k_on_dev_is_chosen_at_the_fixed_threshold_given():
    X, Y, X_dev, Y_dev = random_problem(60, 80, seed=3)
    names = [f"l{j}" for j in range(Y.shape[1])]
    scores = [evaluate(Y_dev, KNNClassifier(k=k, threshold=0.3).fit(X, Y).predict(X_dev), names)["macro_f1"]
              for k in range(1, 61)]
    chosen = KNNClassifier(k="dev", threshold=0.3).fit(X, Y, X_dev, Y_dev)
    np.testing.assert_array_equal(chosen.dev_macro_f1_, scores)
    assert chosen.k_ == int(np.argmax(scores)) + 1


@pytest.mark.parametrize("n, k_max", [(1, 1), (7, 7), (150, 100)])
def test_the_k_searched_is_capped_at_min_100_and_the_labeled_set(n, k_max):
    X, Y, X_dev, Y_dev = random_problem(n, 30, seed=4)
    chosen = KNNClassifier(k="dev").fit(X, Y, X_dev, Y_dev)
    assert chosen.dev_macro_f1_.shape == (k_max,)
    assert 1 <= chosen.k_ <= k_max
    with pytest.warns(UserWarning, match="knn k=500 is more than the labeled texts"):
        assert KNNClassifier(k=500).fit(X, Y).k_ == n  # an int k is capped at the labeled set


@pytest.mark.parametrize("params, fit_dev, message", [
    ({"k": "dev"}, False, "k='dev' chooses k on dev data, but none was given; pass an int k"),
    ({"k": 3, "threshold": "dev"}, False, "threshold='dev' tunes thresholds on dev data, but none was given"),
    ({"k": "dev"}, "empty", "k='dev' chooses k on dev data, but none was given"),
    ({"k": 3, "weights": "cosine"}, False, "weights must be one of uniform, similarity, got 'cosine'"),
    ({"k": 0}, False, "k must be a positive integer or 'dev', got 0; give k=10, say, or k=dev (the default: chosen "
                        "each round on dev macro-F1)"),
    ({"k": "all"}, False, "k must be a positive integer or 'dev', got 'all'"),
    ({"k": True}, False, "k must be a positive integer or 'dev', got true"),
    ({"k": 3, "threshold": 1.5}, False, "threshold must be a number in (0, 1], 'fixed' (0.5) or 'dev' (per label, tuned on the dev split), got 1.5"),
])
def test_bad_settings_raise_one_line_config_errors(params, fit_dev, message):
    X, Y, X_dev, Y_dev = random_problem(20, 10)
    if fit_dev == "empty":
        X_dev, Y_dev = X_dev[:0], Y_dev[:0]
    classifier = make_classifier("knn", **params)  # the constructor only stores
    with pytest.raises(ConfigError) as caught:
        classifier.fit(X, Y, *((X_dev, Y_dev) if fit_dev else ()))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_threshold_fixed_means_one_half():
    X, Y, _, _ = random_problem(20)
    assert KNNClassifier(k=3, threshold="fixed").fit(X, Y).thresholds_.tolist() == [0.5] * 4


def test_ties_go_to_the_earlier_row_whatever_k_and_batch():
    """Duplicate vectors with different labels: the earlier labeled row is the nearer one, also at the k-th place."""
    rng = np.random.default_rng(5)
    distinct = rng.standard_normal((6, 8)).astype(np.float32)
    which = rng.integers(0, 6, 90)
    X = distinct[which]  # 90 rows, 6 distinct vectors: many exact ties
    Y = sp.csr_matrix((rng.random((90, 3)) < 0.5).astype(np.int8))
    queries = np.concatenate([distinct, rng.standard_normal((40, 8)).astype(np.float32)])
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    q_unit = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    for k in (1, 4, 13, 40, 89, 90):
        classifier = KNNClassifier(k=k).fit(X, Y)
        sims, found = classifier._search(classifier.transform(queries), k)
        # reference: rank by the rounded cosine, then by row (exact ties are exact duplicates here)
        cos = np.round(q_unit @ unit.T, 5)
        expected = np.array([np.lexsort((np.arange(90), -row))[:k] for row in cos])
        np.testing.assert_array_equal(found, expected)
        one_by_one = np.concatenate([classifier._search(classifier.transform(q[None]), k)[1] for q in queries[:8]])
        np.testing.assert_array_equal(one_by_one, expected[:8])
    # the vote of the k nearest equals the k-prefix of the vote of the 90 nearest
    every = knn_votes(*_votes_input(KNNClassifier(k=90).fit(X, Y), queries, 90))
    for k in (1, 4, 13, 40):
        np.testing.assert_array_equal(every[:, k - 1], KNNClassifier(k=k).fit(X, Y).predict_proba(queries))


@pytest.mark.parametrize("weights", ["uniform", "similarity"])
def test_a_querys_answer_does_not_depend_on_the_queries_searched_with_it(weights):
    """FAISS's direct kernel (small batches) and BLAS (large ones) differ in the last bits; one kernel is used."""
    X, Y, queries, _ = random_problem(300, 500, dim=384, seed=8)  # 500 x 300 pairs: FAISS would take BLAS
    classifier = KNNClassifier(k=25, weights=weights).fit(X, Y)
    batch = classifier.predict_proba(queries)
    in_tens = np.concatenate([classifier.predict_proba(queries[i : i + 10]) for i in range(0, 500, 10)])
    np.testing.assert_array_equal(batch, in_tens)
    sims_batch, _ = classifier._search(classifier.transform(queries), 25)
    sims_tens = np.concatenate([classifier._search(classifier.transform(queries[i : i + 10]), 25)[0]
                                for i in range(0, 500, 10)])
    np.testing.assert_array_equal(sims_batch, sims_tens)
    alone = np.concatenate([classifier.predict_proba(q[None]) for q in queries[:20]])
    np.testing.assert_array_equal(batch[:20], alone)


def test_ties_in_dev_f1_go_to_the_smaller_k():
    """Three tight, well-separated clusters of 10: every k up to 10 is perfect on dev; the smallest wins."""
    rng = np.random.default_rng(9)
    centres = np.eye(3, 8, dtype=np.float32) * 10
    which = np.repeat(np.arange(3), 10)
    X = centres[which] + rng.normal(0, 0.01, (30, 8)).astype(np.float32)
    Y = np.eye(3, dtype=np.int8)[which]
    dev_which = np.tile(np.arange(3), 5)
    X_dev = centres[dev_which] + rng.normal(0, 0.01, (15, 8)).astype(np.float32)
    chosen = KNNClassifier(k="dev").fit(X, Y, X_dev, np.eye(3, dtype=np.int8)[dev_which])
    assert (chosen.dev_macro_f1_[:10] == 1.0).all() and chosen.k_ == 1


def _votes_input(classifier, queries, k):
    sims, found = classifier._search(classifier.transform(queries), k)
    return sims, classifier.Y_[found]


def test_conforms_to_the_classifier_interface():
    X, Y, X_dev, Y_dev = random_problem(40, 30, seed=6)
    assert CLASSIFIERS["knn"] == "al.classifiers.knn:KNNClassifier"
    classifier = make_classifier("knn", seed=7)
    assert classifier.input == "embeddings" and classifier.warm_start is True and classifier.uses_dev
    for method in (lambda: classifier.predict_proba(X), classifier.info, lambda: classifier.transform(X)):
        with pytest.raises(NotFittedError):
            method()
    assert classifier.fit(X, Y, X_dev, Y_dev) is classifier
    predicted = classifier.predict(X_dev)
    assert predicted.dtype == np.int8 and predicted.shape == (30, 4) and set(np.unique(predicted)) <= {0, 1}
    proba = classifier.predict_proba(X_dev)
    assert proba.dtype == np.float32 and proba.shape == (30, 4) and ((proba >= 0) & (proba <= 1)).all()
    assert json.loads(json.dumps(classifier.info())) == classifier.info()
    assert classifier.transform(X_dev).shape == (30, 16)
    assert classifier.predict_proba(X_dev[:0]).shape == (0, 4)
    with pytest.raises(ConfigError, match="X has 5 columns, the index holds vectors of dim 16"):
        classifier.predict_proba(np.ones((2, 5), dtype=np.float32))


def test_the_loop_adds_each_rounds_texts_to_the_index(corpus):
    """In the engine, one warm instance: round 0 builds the index, later rounds add the step's texts."""
    def run():
        return Simulation(corpus=corpus, strategy=RandomSampling(), make_classifier=lambda s: KNNClassifier(seed=s),
                          embed=hash_embed, initial=20, step=10, budget=50, seed=2).run()

    rounds = run()
    assert [r["classifier_info"]["index"] for r in rounds] == ["rebuilt", "added 10", "added 10", "added 10"]
    assert all(1 <= r["classifier_info"]["k"] <= r["n_labeled"] for r in rounds)
    again = run()
    assert [(r["picked"], r["macro_f1"], r["classifier_info"]) for r in again] == \
        [(r["picked"], r["macro_f1"], r["classifier_info"]) for r in rounds]


def test_bad_knn_values_fail_in_validate_before_any_data_loads():
    from al.config import SimulationConfig

    with pytest.raises(ConfigError, match="weights must be one of"):
        SimulationConfig(classifier={"name": "knn", "params": {"weights": "cosine"}}).validate()
    with pytest.raises(ConfigError, match="k must be a positive integer"):
        SimulationConfig(classifier={"name": "knn", "params": {"k": 0}}).validate()
    SimulationConfig(classifier={"name": "knn", "params": {"k": 5}}).validate()
