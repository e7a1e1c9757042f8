"""Evaluation numbers worked out by hand: ``al.metrics.evaluate`` and ``tune_thresholds``."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from al.classifiers.base import tune_thresholds
from al.metrics import evaluate

# 5 texts x 3 labels. Label c has no positive and no prediction.
#                  a  b  c
Y_TRUE = np.array([[1, 0, 0],
                   [1, 1, 0],
                   [0, 1, 0],
                   [1, 0, 0],
                   [0, 0, 0]])
Y_PRED = np.array([[1, 0, 0],
                   [0, 1, 0],
                   [1, 1, 0],
                   [1, 0, 0],
                   [0, 1, 0]])
# a: true {0, 1, 3}, predicted {0, 2, 3}: tp 2 (texts 0, 3), fp 1 (text 2), fn 1 (text 1)
#    P = 2/3, R = 2/3, F1 = 2 tp / (2 tp + fp + fn) = 4/6 = 2/3
# b: true {1, 2}, predicted {1, 2, 4}: tp 2, fp 1 (text 4), fn 0
#    P = 2/3, R = 1, F1 = 4/5 = 0.8
# c: tp = fp = fn = 0: P, R and F1 are 0/0 -> 0 (zero_division = 0)
# macro F1 = (2/3 + 4/5 + 0) / 3 = 22/45 = 0.48889
#   (zero_division = 1 would give (2/3 + 4/5 + 1) / 3 = 37/45 = 0.82222;
#    support-weighted F1 (3 * 2/3 + 2 * 4/5) / 5 = 18/25 = 0.72)
# macro P = (2/3 + 2/3 + 0) / 3 = 4/9;  macro R = (2/3 + 1 + 0) / 3 = 5/9
#   (weighted P = (3 * 2/3 + 2 * 2/3) / 5 = 2/3; weighted R = (3 * 2/3 + 2 * 1) / 5 = 4/5)
# micro: tp = 4, fp = 2, fn = 1 -> F1 = 8 / (8 + 2 + 1) = 8/11 = 0.72727
NAMES = ["a", "b", "c"]


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_evaluate_by_hand(sparse):
    y_true = sp.csr_matrix(Y_TRUE) if sparse else Y_TRUE
    m = evaluate(y_true, Y_PRED, NAMES)
    assert m["macro_f1"] == pytest.approx(22 / 45)
    assert m["micro_f1"] == pytest.approx(8 / 11)
    assert m["macro_precision"] == pytest.approx(4 / 9)
    assert m["macro_recall"] == pytest.approx(5 / 9)
    assert list(m["per_label_f1"]) == NAMES
    assert m["per_label_f1"]["a"] == pytest.approx(2 / 3, abs=1e-6)
    assert m["per_label_f1"]["b"] == pytest.approx(0.8)
    assert m["per_label_f1"]["c"] == 0.0


def test_a_label_without_positives_and_predictions_scores_zero_and_counts_in_the_macro_mean():
    # only label c differs from the example above in what it contributes: 0, not 1, and it is
    # still one of the three labels averaged (dropping it would give (2/3 + 4/5) / 2 = 11/15)
    m = evaluate(Y_TRUE[:, 2:], Y_PRED[:, 2:], ["c"])
    assert m == {"macro_f1": 0.0, "micro_f1": 0.0, "macro_precision": 0.0, "macro_recall": 0.0,
                 "per_label_f1": {"c": 0.0}}
    assert evaluate(Y_TRUE, Y_PRED, NAMES)["macro_f1"] != pytest.approx(11 / 15)


def test_a_perfect_prediction_scores_one():
    m = evaluate(Y_TRUE[:, :2], Y_TRUE[:, :2], NAMES[:2])
    assert m["macro_f1"] == m["micro_f1"] == m["macro_precision"] == m["macro_recall"] == 1.0



def test_a_single_label_is_scored_on_its_positives():
    # one label, 4 texts: true {0}, predicted {0, 1}: tp 1, fp 1, fn 0 -> P 1/2, R 1, F1 2/3.
    # (An (n, 1) matrix handed to scikit-learn reads as a binary target: macro would average in
    # the F1 of the negative class, 2 * 2 / (2 * 2 + 0 + 1) = 0.8, giving (2/3 + 0.8) / 2.)
    m = evaluate(np.array([[1], [0], [0], [0]]), np.array([[1], [1], [0], [0]]), ["x"])
    assert m["per_label_f1"] == {"x": pytest.approx(2 / 3, abs=1e-6)}
    assert m["macro_f1"] == pytest.approx(2 / 3) and m["micro_f1"] == pytest.approx(2 / 3)
    assert m["macro_precision"] == pytest.approx(0.5) and m["macro_recall"] == 1.0


def test_agrees_with_scikit_learn_on_multi_label_matrices():
    from sklearn.metrics import f1_score, precision_score, recall_score

    rng = np.random.default_rng(0)
    y_true = (rng.random((60, 5)) < 0.3).astype(int)
    y_pred = (rng.random((60, 5)) < 0.3).astype(int)
    y_true[:, 4] = 0  # one label with no positive
    m = evaluate(y_true, y_pred, list("abcde"))
    kw = {"zero_division": 0}
    assert m["macro_f1"] == pytest.approx(f1_score(y_true, y_pred, average="macro", **kw))
    assert m["micro_f1"] == pytest.approx(f1_score(y_true, y_pred, average="micro", **kw))
    assert m["macro_precision"] == pytest.approx(precision_score(y_true, y_pred, average="macro", **kw))
    assert m["macro_recall"] == pytest.approx(recall_score(y_true, y_pred, average="macro", **kw))
    np.testing.assert_allclose(list(m["per_label_f1"].values()), f1_score(y_true, y_pred, average=None, **kw),
                               atol=1e-6)


def test_shapes_must_match():
    with pytest.raises(ValueError, match=r"one shape \(n_samples, 3\), got \(5, 3\) and \(4, 3\)"):
        evaluate(Y_TRUE, Y_PRED[:4], NAMES)

# tune_thresholds, 4 texts x 3 labels, default grid 0.05, 0.10, ..., 0.95, default 0.5.
#                     a     b     c
PROBA = np.array([[0.80, 0.90, 0.70],
                  [0.27, 0.10, 0.40],
                  [0.22, 0.72, 0.20],
                  [0.60, 0.33, 0.55]], dtype=np.float32)
Y_DEV = np.array([[1, 1, 0],
                  [1, 0, 0],
                  [0, 1, 0],
                  [0, 0, 0]])
# a: positives at 0.80, 0.27; negatives at 0.22, 0.60. Predicted positive where proba >= t:
#    t <= 0.22      all four:          tp 2, fp 2, fn 0 -> F1 4/6 = 0.667
#    0.22 < t <= 0.27  {.80, .27, .60}: tp 2, fp 1, fn 0 -> F1 4/5 = 0.8   <- best; grid: 0.25 only
#    0.27 < t <= 0.60  {.80, .60}:      tp 1, fp 1, fn 1 -> F1 2/4 = 0.5
#    0.60 < t <= 0.80  {.80}:           tp 1, fp 0, fn 1 -> F1 2/3
#    t > 0.80       none:              F1 0
# b: positives at 0.90, 0.72; negatives at 0.10, 0.33: every t in (0.33, 0.72] gives F1 = 1,
#    grid 0.35, 0.40, ..., 0.70 tie; the one closest to the default is 0.5 (lowest would be 0.35,
#    highest and farthest 0.70)
# c: no positive: F1 undefined, keeps the default 0.5


def test_tune_thresholds_by_hand():
    thresholds = tune_thresholds(PROBA, sp.csr_matrix(Y_DEV))
    assert thresholds.dtype == np.float32
    np.testing.assert_allclose(thresholds, [0.25, 0.5, 0.5])


def test_tie_goes_to_the_threshold_closest_to_the_default():
    # one label, positives at 0.90 and 0.85, negatives at 0.10 and 0.62: every t in (0.62, 0.85]
    # gives F1 = 1; grid 0.65, 0.70, 0.75, 0.80, 0.85 tie -> 0.65 is closest to 0.5 (farthest: 0.85)
    proba = np.array([[0.90], [0.85], [0.10], [0.62]])
    y = np.array([[1], [1], [0], [0]])
    np.testing.assert_allclose(tune_thresholds(proba, y), [0.65])
    # the tie-break follows `default`: with default 0.8 the same tie goes to 0.8
    np.testing.assert_allclose(tune_thresholds(proba, y, default=0.8), [0.8])


def test_a_label_without_positives_keeps_the_default_even_off_the_grid():
    # grid 0.2, 0.4, 0.6, 0.8 does not hold 0.5: label a (no positive) must still get exactly 0.5;
    # label b: positive 0.7, negative 0.3 -> t in (0.3, 0.7] gives F1 = 1: 0.4 and 0.6 tie at
    # distance 0.1 from 0.5; F1 at 0.2 is 2/3 (tp 1, fp 1), at 0.8 is 0 (nothing predicted)
    proba = np.array([[0.9, 0.7], [0.1, 0.3]])
    y = np.array([[0, 1], [0, 0]])
    thresholds = tune_thresholds(proba, y, grid=np.array([0.2, 0.4, 0.6, 0.8]))
    assert thresholds[0] == np.float32(0.5)
    assert thresholds[1] in (np.float32(0.4), np.float32(0.6))


def test_model_selection_scores_macro_f1_as_a_run_reports_it_one_label_included():
    """A fine-tuned classifier picks its best epoch by dev macro-F1: the run's own (per label, then the mean),
    not scikit-learn's, which reads one label as a binary target and averages over both classes."""
    from al.classifiers.bert import BertClassifier
    from al.metrics import macro_f1

    gold, pred = np.array([[1], [0], [0], [0]]), np.array([[1], [1], [0], [0]])
    # one label: tp 1, fp 1, fn 0 -> F1 = 2 / (2 + 1) (scikit-learn would say (2/3 + 4/5) / 2 = 0.733)
    assert macro_f1(gold, pred) == pytest.approx(2 / 3)
    proba = np.array([[0.9], [0.8], [0.1], [0.2]])
    assert BertClassifier(threshold="fixed")._dev_macro_f1(proba, gold) == pytest.approx(2 / 3)
    two = np.array([[1, 0], [0, 1], [0, 0]]), np.array([[1, 1], [0, 0], [0, 0]])
    # label 0: F1 1; label 1: tp 0, fp 1, fn 1 -> 0; mean 0.5
    assert macro_f1(*two) == 0.5 == evaluate(*two, ["a", "b"])["macro_f1"]
