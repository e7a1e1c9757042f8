"""The bert classifier warns when its training loss diverges: a learning rate too high for the encoder."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from al.classifiers.bert import BertClassifier
from tests.unit.test_bert_aux import TINY, X8, Y8, tiny  # noqa: F401  (tiny: the fixture)


def fit(model: str, learning_rate: float, dev: bool = False) -> tuple[BertClassifier, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = BertClassifier(model=model, max_epochs=4, batch_size=3, seed=3, learning_rate=learning_rate,
                             patience=4, **TINY).fit(X8, Y8, *((X8, Y8) if dev else ()))
    return clf, [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


def test_a_loss_that_rises_to_twice_its_lowest_is_warned_of_with_the_learning_rate(tiny):
    clf, said = fit(tiny, 10.0)
    losses = clf.train_loss_
    assert losses[-1] >= 2 * min(losses)  # the tiny model's fit at this rate: 25.6, 980, 400, 753
    lowest = int(np.argmin(losses)) + 1
    assert said == [f"bert's training loss rose from {min(losses):.4g} in epoch {lowest} to {losses[-1]:.4g} in "
                    f"epoch 4: training diverged; learning_rate=10 is likely too high: lower it (1e-4 suits a small "
                    f"encoder such as MiniLM, 2e-5 to 5e-5 bert-base)"]


def test_a_loss_that_is_not_a_number_is_warned_of_with_its_epoch(tiny):
    clf, said = fit(tiny, 1e4)
    first_nan = next(e for e, loss in enumerate(clf.train_loss_, 1) if not np.isfinite(loss))
    assert first_nan == 2
    assert len(said) == 1 and said[0].startswith(
        "bert's training loss became nan in epoch 2 of 4: its weights are no longer numbers, so it predicts no label; "
        "learning_rate=10000 is likely too high")
    assert not np.asarray(clf.predict(X8)).any()  # what the warning says


@pytest.mark.parametrize("learning_rate", [1e-3, 0.1])
def test_a_loss_that_falls_or_wavers_is_not_warned_of(tiny, learning_rate):
    clf, said = fit(tiny, learning_rate)
    assert max(clf.train_loss_) < 2 * min(clf.train_loss_)  # 0.1: 1.01, 1.06, 1.21, 1.12, a waver
    assert said == []


def test_with_dev_data_the_warning_names_the_epoch_whose_weights_are_kept(tiny):
    """With dev data (every simulation's) the best epoch's weights come back: the warning had said no label is
    predicted, where the kept weights predicted labels."""
    clf, said = fit(tiny, 1e4, dev=True)
    assert clf.best_epoch_ == 1 and not np.isfinite(clf.train_loss_[1])
    assert said == ["bert's training loss became nan in epoch 2 of 4: the weights of epoch 1, the best on dev, are "
                    "kept; learning_rate=10000 is likely too high: lower it (1e-4 suits a small encoder such as "
                    "MiniLM, 2e-5 to 5e-5 bert-base)"]
    assert np.isfinite(clf.predict_proba(X8)).all()


@pytest.mark.parametrize("losses, warned", [
    ([-10.0, -30.0, -50.0], False),  # an aux objective of negative weight: a falling sum below 0 is no rise
    ([0.5, 0.0021, 0.0043], False),  # twice its lowest, near 0, far below where it began: still learning
    ([0.5, 0.3, 0.61], True),  # above where it began and twice its lowest
    ([0.5, 0.3, 0.59], False),
])
def test_a_rise_is_a_loss_above_where_it_began_and_twice_its_lowest(losses, warned):
    clf = BertClassifier()
    clf.train_loss_, clf.best_epoch_ = losses, len(losses)
    assert (clf._divergence() is not None) is warned
