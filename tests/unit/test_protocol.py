"""The evaluation protocol of the loop: what is scored, what is tuned on, where runs start.

A spy classifier records every array the engine hands it, so these tests see
which split is fitted, tuned on and scored, whatever the loop looks like
inside. Only the stable constructor arguments of ``Simulation`` are used.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest
import scipy.sparse as sp

from al.classifiers.base import Classifier
from al.engine import Simulation
from al.metrics import evaluate
from al.registry import get_strategy
from al.strategy import PoolState, Strategy
from tests.conftest import hash_embed, synthetic_corpus


def spy_proba(X: np.ndarray, n_labels: int) -> np.ndarray:
    """A fixed, data-dependent 'model': sigmoid of 8 x the first ``n_labels`` features."""
    return (1.0 / (1.0 + np.exp(-8.0 * np.asarray(X, dtype=np.float64)[:, :n_labels]))).astype(np.float32)


class SpyClassifier(Classifier):
    """Fits nothing; records what ``fit``, ``predict`` and ``predict_proba`` receive."""

    input: ClassVar[str] = "embeddings"

    def __init__(self, *, log: dict[str, list[Any]], seed: int = 0) -> None:
        self.log = log
        self.seed = seed

    @property
    def uses_dev(self) -> bool:
        return True

    def fit(self, X, Y, X_dev=None, Y_dev=None) -> "SpyClassifier":
        dense = lambda M: None if M is None else (M.toarray() if sp.issparse(M) else np.asarray(M))  # noqa: E731
        self.log["fit"].append({"X": np.array(X), "Y": dense(Y), "X_dev": None if X_dev is None else np.array(X_dev),
                                "Y_dev": dense(Y_dev)})
        self.n_labels_ = Y.shape[1]
        self.thresholds_ = np.full(self.n_labels_, 0.5, dtype=np.float32)
        return self

    def predict_proba(self, X) -> np.ndarray:
        self._check_fitted()
        self.log["scored"].append(np.array(X))
        return spy_proba(X, self.n_labels_)

    def predict(self, X) -> np.ndarray:
        self._check_fitted()
        self.log["scored"].append(np.array(X))
        return (spy_proba(X, self.n_labels_) >= self.thresholds_).astype(np.int8)

    def transform(self, X) -> np.ndarray:
        return np.asarray(X, dtype=np.float32)


def new_log() -> dict[str, list[Any]]:
    return {"fit": [], "scored": []}


def simulate(corpus, strategy: Strategy, log: dict[str, list[Any]], seed: int = 0) -> list[dict[str, Any]]:
    return Simulation(
        corpus=corpus,
        strategy=strategy,
        make_classifier=lambda s: SpyClassifier(log=log, seed=s),
        embed=hash_embed,
        initial=20,
        step=10,
        budget=40,
        seed=seed,
    ).run()


def rows(X: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in np.asarray(X, dtype=np.float32)}


@pytest.fixture(scope="module")
def split_features():
    corpus = synthetic_corpus()
    features = {s: hash_embed(corpus.texts[corpus.splits[s]].tolist()) for s in ("train", "dev", "test")}
    # every text has its own "docN" word, so no two rows coincide and a row names its text
    all_rows = np.vstack(list(features.values()))
    assert len(rows(all_rows)) == len(all_rows)
    return corpus, features


def test_the_engine_scores_the_test_split_and_tunes_on_dev(split_features):
    corpus, features = split_features
    log = new_log()
    rounds = simulate(corpus, get_strategy("random")(), log)
    assert len(rounds) == 3  # 20, 30, 40 labeled

    # what is scored: the test split's features, every time, each round at least once
    assert len(log["scored"]) >= len(rounds)
    for X in log["scored"]:
        np.testing.assert_array_equal(X, features["test"])
    # and the recorded metrics are those of these predictions against the test labels
    expected = evaluate(corpus.Y[corpus.splits["test"]], (spy_proba(features["test"], 4) >= 0.5).astype(np.int8),
                        corpus.label_names)
    for r in rounds:
        assert r["macro_f1"] == pytest.approx(expected["macro_f1"])
        assert r["micro_f1"] == pytest.approx(expected["micro_f1"])
        assert r["per_label_f1"] == pytest.approx(expected["per_label_f1"])
    on_dev = evaluate(corpus.Y[corpus.splits["dev"]], (spy_proba(features["dev"], 4) >= 0.5).astype(np.int8),
                      corpus.label_names)
    assert on_dev["macro_f1"] != pytest.approx(expected["macro_f1"])  # the check above can tell them apart

    # what is fitted: labeled pool texts, with dev (features and labels) as the held-out data
    pool_row = {row.tobytes(): i for i, row in enumerate(features["train"])}
    Y_pool = corpus.Y[corpus.splits["train"]].toarray()
    test_rows = rows(features["test"])
    assert len(log["fit"]) >= len(rounds)
    for call in log["fit"]:
        indices = [pool_row[row.tobytes()] for row in call["X"]]  # KeyError: a row not from the pool
        np.testing.assert_array_equal(call["Y"], Y_pool[indices])
        np.testing.assert_array_equal(call["X_dev"], features["dev"])
        np.testing.assert_array_equal(call["Y_dev"], corpus.Y[corpus.splits["dev"]].toarray())
        assert not rows(call["X"]) & test_rows and not rows(call["X_dev"]) & test_rows
    assert [len(call["X"]) for call in log["fit"]][: len(rounds)] == [20, 30, 40]


class FirstUnlabeled(Strategy):
    """A user's strategy: the first n unlabeled texts."""

    name: ClassVar[str] = "my_first_unlabeled"
    requires: ClassVar[frozenset[str]] = frozenset()

    def query(self, state: PoolState, n: int) -> np.ndarray:
        return state.indices_unlabeled[:n]


NO_MODEL_STRATEGIES = ["random", "class_embedding", "cvirs", "margin", "least_confidence", "max_entropy"]


@pytest.mark.parametrize("seed", [0, 7])
def test_every_strategy_starts_from_the_same_labeled_set(split_features, seed):
    corpus, _ = split_features
    first_fit = {}
    for name in [*NO_MODEL_STRATEGIES, "custom"]:
        strategy = FirstUnlabeled() if name == "custom" else get_strategy(name)()
        log = new_log()
        rounds = simulate(corpus, strategy, log, seed=seed)
        first_fit[name] = (log["fit"][0]["X"], log["fit"][0]["Y"], rounds[0].get("initial"))
    X0, Y0, initial0 = first_fit["random"]
    assert len(X0) == 20
    for name, (X, Y, initial) in first_fit.items():
        np.testing.assert_array_equal(X, X0, err_msg=f"{name} trained its first model on another set than random")
        np.testing.assert_array_equal(Y, Y0)
        assert initial == initial0, name
    # and the seed does choose the start: another seed, another set
    other = new_log()
    simulate(corpus, get_strategy("random")(), other, seed=seed + 1)
    assert rows(other["fit"][0]["X"]) != rows(X0)
