"""Stopping criteria: reference numbers worked by hand, and the observer that records their signals."""
from __future__ import annotations

import numpy as np
import pytest

from al.errors import ConfigError
from al.records import RunRecords, read_rounds
from al.stopping import (
    StoppingSignals, advice, cohen_kappa, labeled_budget, max_uncertainty, prediction_agreement,
    stabilizing_predictions, stop_rounds, stop_set, stop_table, uncertainty, unpack_predictions,
)
from strategies.class_embedding import ClassEmbedding
from tests.unit.test_engine import simulate, strip_times


def test_cohen_kappa_by_hand():
    a = [1, 1, 0, 0, 1, 0, 0, 0, 1, 0]
    b = [1, 0, 0, 0, 1, 0, 0, 1, 1, 0]
    # agree on 8 of 10: p_o = 0.8; each has 4 ones: p_e = 0.4 * 0.4 + 0.6 * 0.6 = 0.52
    # kappa = (0.8 - 0.52) / (1 - 0.52) = 0.28 / 0.48 = 0.583333...
    assert cohen_kappa(a, b) == pytest.approx(0.28 / 0.48)
    # opposite everywhere, half ones each: p_o = 0, p_e = 0.5 -> (0 - 0.5) / 0.5 = -1
    assert cohen_kappa([1, 0, 1, 0], [0, 1, 0, 1]) == pytest.approx(-1.0)
    # identical constant vectors: p_e = 1, complete agreement -> 1 by definition
    assert cohen_kappa([0, 0, 0], [0, 0, 0]) == 1.0
    assert cohen_kappa([1, 0, 1], [1, 0, 1]) == 1.0
    with pytest.raises(ValueError, match="one length"):
        cohen_kappa([1, 0], [1])


def test_agreement_of_multi_label_predictions_counts_every_decision():
    previous = np.array([[1, 0], [0, 0], [1, 1]])
    current = np.array([[1, 0], [0, 1], [1, 1]])
    # six decisions, five agree: p_o = 5/6; ones: 3/6 and 4/6 -> p_e = 1/2 * 2/3 + 1/2 * 1/3 = 1/2
    # kappa = (5/6 - 1/2) / (1/2) = 2/3; a label never predicted in either round stays defined
    assert prediction_agreement(previous, current) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="one shape"):
        prediction_agreement(previous, current[:2])


def test_multi_label_agreement_pools_the_decisions_and_is_not_a_mean_of_per_label_kappas():
    """6 texts x 2 labels, the second label never predicted in one round: by hand, pooled, 12 decisions, 10 agree
    (p_o = 5/6); ones 4/12 and 2/12, p_e = 1/3 * 1/6 + 2/3 * 5/6 = 11/18; kappa = (5/6 - 11/18) / (7/18) = 4/7.
    Per label it would be 2/3 and 0 (mean 1/3): the pooled kappa is what the criterion reads."""
    previous = np.array([[1, 0], [1, 0], [1, 0], [0, 0], [0, 0], [0, 1]])
    current = np.array([[1, 0], [1, 0], [0, 0], [0, 0], [0, 0], [0, 0]])
    assert prediction_agreement(previous, current) == pytest.approx(4 / 7)
    assert [cohen_kappa(previous[:, j], current[:, j]) for j in range(2)] == pytest.approx([2 / 3, 0.0])
    # a label predicted by neither round adds six agreeing zeros: p_o = 16/18 = 72/81, ones 4/18 and 2/18,
    # p_e = 2/9 * 1/9 + 7/9 * 8/9 = 58/81, kappa = (72/81 - 58/81) / (23/81) = 14/23: defined, and higher
    silent = np.zeros((6, 1), dtype=int)
    assert prediction_agreement(np.hstack([previous, silent]), np.hstack([current, silent])) == pytest.approx(14 / 23)


def test_a_window_whose_mean_is_exactly_the_threshold_stops():
    """"at least 0.99": three kappas of 0.99 average 0.98999999999999999 in floating point and did not stop."""
    assert stabilizing_predictions([None, 0.99, 0.99, 0.99]) == 3
    assert stabilizing_predictions([None, 0.99, 0.99, 0.9899]) is None


def test_stabilizing_predictions_by_hand():
    kappas = [None, 0.90, 0.99, 0.995, 0.99, 1.0]
    # round 2: the window (None, 0.90, 0.99) holds a None; round 3: (0.90 + 0.99 + 0.995) / 3 = 0.9617 < 0.99;
    # round 4: (0.99 + 0.995 + 0.99) / 3 = 0.99167 >= 0.99 -> stop at round 4
    assert stabilizing_predictions(kappas) == 4
    assert stabilizing_predictions(kappas, threshold=0.999) is None  # (0.995 + 0.99 + 1.0) / 3 = 0.995 at best
    assert stabilizing_predictions(kappas, window=1) == 2  # 0.99 alone reaches the threshold
    assert stabilizing_predictions([None, 1.0, 1.0]) is None  # only two kappas: no window of three yet
    with pytest.raises(ConfigError, match="window must be a positive number"):
        stabilizing_predictions(kappas, window=0)


def test_uncertainty_and_max_uncertainty_by_hand():
    proba = np.array([[0.9, 0.2], [0.6, 0.05]])
    # u = 1 - |2p - 1|: 0.9 -> 0.2, 0.2 -> 0.4, 0.6 -> 0.8, 0.05 -> 0.1; per text the larger one
    assert uncertainty(proba) == pytest.approx([0.4, 0.8])
    assert max_uncertainty([0.8, 0.3, 0.09, 0.2], threshold=0.1) == 2  # first value below 0.1
    assert max_uncertainty([0.8, None, 0.3], threshold=0.1) is None


def test_labeled_budget_by_hand():
    assert labeled_budget([100, 150, 200], 150) == 1
    assert labeled_budget([100, 150, 200], 201) is None
    assert labeled_budget([100, 150, 200], None) is None


def test_stop_rounds_and_the_macro_f1_given_up_by_hand():
    rounds = [
        {"round": 0, "n_labeled": 100, "macro_f1": 0.40, "stopping": {"kappa": None, "max_uncertainty": 0.9}},
        {"round": 1, "n_labeled": 150, "macro_f1": 0.50, "stopping": {"kappa": 0.95, "max_uncertainty": 0.6}},
        {"round": 2, "n_labeled": 200, "macro_f1": 0.55, "stopping": {"kappa": 0.995, "max_uncertainty": 0.3}},
        {"round": 3, "n_labeled": 250, "macro_f1": 0.56, "stopping": {"kappa": 0.99, "max_uncertainty": 0.05}},
        {"round": 4, "n_labeled": 300, "macro_f1": 0.58, "stopping": {"kappa": 1.0, "max_uncertainty": 0.04}},
        {"round": 5, "n_labeled": 350, "macro_f1": 0.57, "stopping": {"kappa": 1.0, "max_uncertainty": 0.02}},
    ]
    found = stop_rounds(rounds, max_labeled=200)
    # kappa windows: r3 (0.95, 0.995, 0.99) -> 0.9783; r4 (0.995, 0.99, 1.0) -> 0.995 >= 0.99: stop at round 4,
    # 300 labeled, macro-F1 0.58; the run ended at 0.57, so stopping there gave up 0.57 - 0.58 = -0.01
    assert found["stabilizing_predictions"] == {
        "stop_round": 4, "n_labeled": 300, "macro_f1": 0.58, "final_macro_f1": 0.57,
        "macro_f1_given_up": pytest.approx(-0.01), "labels_saved": 50,
    }
    # max uncertainty first below 0.1 in round 3: 0.57 - 0.56 = 0.01 given up, 100 labels saved
    assert found["max_uncertainty"]["stop_round"] == 3
    assert found["max_uncertainty"]["macro_f1_given_up"] == pytest.approx(0.01)
    assert found["max_uncertainty"]["labels_saved"] == 100
    # 200 labeled in round 2: 0.57 - 0.55 = 0.02 given up, 150 labels saved
    assert found["labeled_budget"]["stop_round"] == 2
    assert found["labeled_budget"]["macro_f1_given_up"] == pytest.approx(0.02)
    assert found["labeled_budget"]["labels_saved"] == 150
    table = stop_table(found).splitlines()
    assert table[0].split() == ["criterion", "stop", "round", "labeled", "macro-F1", "given", "up", "labels", "saved"]
    # counted from 1, as the progress lines count rounds ("round 5/6" is record 4)
    assert table[1].split() == ["stabilizing_predictions", "5", "300", "0.5800", "-0.0100", "50"]
    assert table[3].split() == ["labeled_budget", "3", "200", "0.5500", "+0.0200", "150"]
    never = stop_rounds(rounds[:2])
    assert never["stabilizing_predictions"]["stop_round"] is None
    assert never["stabilizing_predictions"]["macro_f1_given_up"] == 0.0
    assert never["labeled_budget"]["stop_round"] is None  # no max_labeled given
    assert stop_table(never).splitlines()[1].split() == ["stabilizing_predictions", "-", "-", "-", "-", "-"]


def test_advice_says_what_each_criterion_reads():
    rounds = [{"round": 0, "n_labeled": 20, "macro_f1": 0.3, "stopping": {"kappa": None, "max_uncertainty": 0.5}},
              {"round": 1, "n_labeled": 30, "macro_f1": 0.4, "stopping": {"kappa": 0.8, "max_uncertainty": 0.05}}]
    said = {a["criterion"]: a for a in advice(rounds, budget=60)}
    assert said["max_uncertainty"]["stop"] is True
    assert "0.050" in said["max_uncertainty"]["detail"]
    assert said["stabilizing_predictions"]["stop"] is False
    assert "0.800" in said["stabilizing_predictions"]["detail"]
    assert said["labeled_budget"] == {"criterion": "labeled_budget", "stop": False,
                                      "detail": "30 of 60 labeled when round 2 ended"}


def test_a_round_with_no_macro_f1_is_read_as_unmeasured_not_as_an_error():
    """A session's round before any label was given records macro_f1 null: the page's advice raised TypeError."""
    rounds = [{"round": 0, "n_labeled": 20, "macro_f1": None, "stopping": {"kappa": None, "max_uncertainty": 0.05}},
              {"round": 1, "n_labeled": 30, "macro_f1": 0.4, "stopping": {"kappa": 0.8, "max_uncertainty": 0.5}}]
    found = stop_rounds(rounds)
    assert found["max_uncertainty"] == {"stop_round": 0, "n_labeled": 20, "macro_f1": None, "final_macro_f1": 0.4,
                                        "macro_f1_given_up": None, "labels_saved": 10}
    assert stop_rounds(rounds[:1])["max_uncertainty"]["final_macro_f1"] is None
    assert {a["criterion"] for a in advice(rounds[:1], budget=60)} == {"max_uncertainty", "stabilizing_predictions",
                                                                       "labeled_budget"}


def test_the_stop_set_is_fixed_by_its_seed():
    assert np.array_equal(stop_set(500, 100, 0), stop_set(500, 100, 0))
    assert not np.array_equal(stop_set(500, 100, 0), stop_set(500, 100, 1))
    assert len(stop_set(50, 100, 0)) == 50 and len(np.unique(stop_set(500, 100, 3))) == 100


def test_the_observer_records_kappa_between_successive_rounds(corpus):
    rounds = simulate(corpus, ClassEmbedding(), observers=[StoppingSignals(stop_set_size=100)]).run()
    signals = [r["stopping"] for r in rounds]
    assert signals[0]["kappa"] is None and all(s["kappa"] is not None for s in signals[1:])
    assert all(s["stop_set_size"] == 100 for s in signals)
    assert all(0.0 <= s["max_uncertainty"] <= 1.0 for s in signals)
    shape = (100, len(corpus.label_names))
    for before, now in zip(signals, signals[1:]):
        kappa = prediction_agreement(unpack_predictions(before["predictions"], shape),
                                     unpack_predictions(now["predictions"], shape))
        assert now["kappa"] == pytest.approx(kappa, abs=1e-6)


def test_a_resumed_run_compares_with_the_round_before_the_crash(corpus, tmp_path):
    def observed(records=None):
        return [StoppingSignals(stop_set_size=100, records=records)]

    expected = simulate(corpus, ClassEmbedding(), observers=observed()).run()

    class Crash(Exception):
        pass

    def crash(record):
        if record["round"] == 1:
            raise Crash

    records = RunRecords(tmp_path)
    records.start({"seed": 0}, {})
    with pytest.raises(Crash):
        simulate(corpus, ClassEmbedding(), records=records, on_round=crash, observers=observed(records)).run()
    again = RunRecords(tmp_path)
    again.start({"seed": 0}, {})
    simulate(corpus, ClassEmbedding(), records=again, observers=observed(again)).run()
    resumed = read_rounds(tmp_path)
    assert resumed[2]["stopping"]["kappa"] is not None  # round 2 compared with round 1, read from the records

    def without_seconds(rounds):
        return [{**{k: v for k, v in r.items() if k != "seconds_stopping"}, "stopping": r["stopping"]}
                for r in strip_times(rounds)]

    assert without_seconds(resumed) == without_seconds(expected)


def test_on_the_stop_set_the_classifier_reads_each_stop_text_once_per_round():
    """uncertainty_on="stop_set" (a fine-tuned classifier): one pass over the stop set gives both signals."""
    from types import SimpleNamespace

    from al.classifiers.base import Classifier

    class Fixed(Classifier):  # row i's probabilities are a function of the row alone
        input = "embeddings"

        def __init__(self):
            self.thresholds_ = np.array([0.5, 0.3], dtype=np.float32)
            self.rows_read = 0

        def fit(self, X, Y, X_dev=None, Y_dev=None):
            return self

        def predict_proba(self, X):
            self.rows_read += len(X)
            row = np.asarray(X, dtype=np.int64)[:, 0]
            sure = 0.05 + 0.4 * np.sin(row) ** 2  # odd (unlabeled) rows: never 0.5
            first = np.where(row % 2 == 0, 0.5, sure)  # labeled rows are the most uncertain of all
            return np.stack([first, np.cos(3 * row) ** 2], axis=1).astype(np.float32)

    class TwoPasses(Fixed):  # overrides predict, so the observer must call predict and predict_proba
        def predict(self, X):
            return (self.predict_proba(X) >= self.thresholds_).astype(np.int8)

    pool = np.arange(300)[:, None]
    unlabeled = np.arange(1, 300, 2)
    features = SimpleNamespace(pool_texts=pool, pool_rows=lambda idx: pool[idx])

    def signals(classifier):
        view = SimpleNamespace(round=0, features=features, classifier=classifier, indices_unlabeled=unlabeled)
        return StoppingSignals(stop_set_size=100, uncertainty_on="stop_set")(view)["stopping"]

    one, two = Fixed(), TwoPasses()
    got, expected = signals(one), signals(two)
    assert one.rows_read == 100  # the stop set, once
    assert two.rows_read == 100 + len(np.intersect1d(stop_set(300, 100, 0), unlabeled))
    assert got == expected  # same predictions and largest uncertainty as two separate passes
    stop = stop_set(300, 100, 0)
    by_hand = uncertainty(one.predict_proba(pool[np.intersect1d(stop, unlabeled)])).max()
    assert got["max_uncertainty"] == round(float(by_hand), 6)


@pytest.mark.parametrize("uncertainty_on", ["pool", "stop_set"])
def test_a_classifier_whose_probabilities_are_all_0_or_1_states_no_uncertainty(corpus, uncertainty_on):
    """A one-neighbour vote gives every text and label 0 or 1: u = 0 everywhere, and max_uncertainty said "stop"
    after the first round, whatever the classifier had learnt."""
    from al.classifiers.knn import KNNClassifier

    observer = StoppingSignals(stop_set_size=100, uncertainty_on=uncertainty_on)
    one = simulate(corpus, observers=[observer], make_classifier=lambda s: KNNClassifier(k=1)).run()
    assert all(r["stopping"]["max_uncertainty"] is None for r in one)
    assert stop_rounds(one, max_labeled=60)["max_uncertainty"]["stop_round"] is None
    said = {a["criterion"]: a["detail"] for a in advice(one, 60)}
    assert said["max_uncertainty"].startswith("the classifier states no uncertainty")  # not "no round trained yet"
    five = simulate(corpus, observers=[StoppingSignals(stop_set_size=100, uncertainty_on=uncertainty_on)],
                    make_classifier=lambda s: KNNClassifier(k=5)).run()
    assert all(0.0 < r["stopping"]["max_uncertainty"] <= 1.0 for r in five)
