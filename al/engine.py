"""The active-learning loop.

Each round: train the classifier on the labeled set; evaluate it on the test
split; build the views the strategy asks for; query; validate the answer;
reveal the gold labels; record. Only this loop changes the pool.

A round's record (one line of ``rounds.jsonl``)::

    round, n_labeled, macro_f1, micro_f1, macro_precision, macro_recall,
    per_label_f1 {label: f1}, labeled_counts {label: texts}, picked [pool indices],
    seconds_train, seconds_query, seconds_evaluate, strategy_info {...},
    classifier_info {...}; round 0 also has ``initial`` (the random start)
    and ``seconds_embed``.

``picked`` is what the strategy chose *after* that round's evaluation; the
last round (labeled set = budget) picks nothing.

Randomness: each purpose draws from ``numpy.random.default_rng([seed,
round, purpose])``, so a run resumed at round r makes the same choices as
one never interrupted.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import scipy.sparse as sp

from al.classifiers.base import Classifier
from al.datasets.corpus import Corpus
from al.errors import ConfigError, DataError
from al.metrics import evaluate
from al.records import RunRecords
from al.strategy import PoolState, Strategy, validate_answer

INITIAL, STRATEGY, CLASSIFIER = 0, 1, 2

Embed = Callable[[Sequence[str]], np.ndarray]


def round_rng(seed: int, round_: int, purpose: int) -> np.random.Generator:
    return np.random.default_rng([seed, round_, purpose])


@dataclass
class Simulation:
    """One active-learning simulation on a corpus.

    Parameters
    ----------
    corpus : Corpus
        Its ``train`` split is the pool.
    strategy : Strategy
    make_classifier : callable seed -> Classifier
        Called once per round for a fresh model, seeded from (seed, round).
    reuse_classifier : bool
        Fit one classifier instance every round instead (warm start).
    diagnostics : bool
        Also record embedding-space diagnostics each round
        (:func:`al.analysis.diagnostics.diagnostics`: centroid proximity,
        distance margins, clustering quality of the labeled set).
    embed : callable texts -> ndarray (n, dim), optional
        Needed when the classifier reads embeddings or the strategy requires them.
    initial, step, budget, seed : int
        See :class:`al.config.SimulationConfig`.
    records : RunRecords, optional
        Where finished rounds go; resumes from its finished rounds.
    on_round : callable record -> None, optional
        Progress hook, called after each round.
    """

    corpus: Corpus
    strategy: Strategy
    make_classifier: Callable[[int], Classifier]
    embed: Embed | None = None
    initial: int = 100
    step: int = 50
    budget: int = 600
    seed: int = 0
    records: RunRecords | None = None
    on_round: Callable[[dict[str, Any]], None] | None = None
    reuse_classifier: bool = False
    diagnostics: bool = False

    def __post_init__(self) -> None:
        n_pool = len(self.corpus.splits["train"])
        if self.initial > n_pool:
            raise DataError(f"initial labeled set ({self.initial}) is larger than the pool ({n_pool} texts)")
        if self.budget > n_pool:
            raise DataError(
                f"budget ({self.budget}) is larger than the pool ({n_pool} texts); lower --budget"
            )
        if self.budget <= self.initial or self.step <= 0:
            raise ConfigError(
                f"need step > 0 and budget > initial, got step={self.step}, budget={self.budget}, "
                f"initial={self.initial}"
            )
        needs_embeddings = "embeddings" in self.strategy.requires or self.diagnostics
        self._classifier_probe = self.make_classifier(self.seed)
        if self.embed is None and (needs_embeddings or self._classifier_probe.input == "embeddings"):
            raise ConfigError("this strategy/classifier needs sentence embeddings, but no embedder was given")

    @property
    def n_rounds(self) -> int:
        return 1 + -(-(self.budget - self.initial) // self.step)

    def run(self, existing: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
        """Run (or finish) the simulation; returns every round's record."""
        corpus = self.corpus
        pool, dev, test = (corpus.splits[s] for s in ("train", "dev", "test"))
        Y_pool = corpus.Y[pool]
        pool_texts = corpus.texts[pool].tolist()
        rounds = list(existing)

        t0 = time.perf_counter()
        features = self._features(pool, dev, test)
        seconds_embed = time.perf_counter() - t0

        if rounds:
            initial = np.asarray(rounds[0]["initial"], dtype=np.int64)
        else:
            initial = np.sort(round_rng(self.seed, 0, INITIAL).choice(len(pool), self.initial, replace=False))
        labeled = np.concatenate([initial, *(np.asarray(r["picked"], dtype=np.int64) for r in rounds)])

        for r in range(len(rounds), self.n_rounds):
            labeled_mask = np.zeros(len(pool), dtype=bool)
            labeled_mask[labeled] = True
            unlabeled = np.flatnonzero(~labeled_mask)
            y_labeled = Y_pool[labeled]

            t = time.perf_counter()
            classifier = self._train(r, features, labeled, y_labeled, dev)
            seconds_train = time.perf_counter() - t

            t = time.perf_counter()
            metrics = evaluate(corpus.Y[test], classifier.predict(features["test"]), corpus.label_names)
            seconds_evaluate = time.perf_counter() - t

            n = min(self.step, self.budget - len(labeled))
            t = time.perf_counter()
            picked = np.empty(0, dtype=np.int64)
            self.strategy.last_info = {}
            if n > 0:
                picked = self._query(r, n, labeled, unlabeled, y_labeled, Y_pool, pool_texts, features, classifier)
            seconds_query = time.perf_counter() - t

            record: dict[str, Any] = {
                "round": r,
                "n_labeled": int(len(labeled)),
                **metrics,
                "labeled_counts": dict(zip(corpus.label_names, np.asarray(y_labeled.sum(axis=0)).ravel().tolist())),
                "picked": picked.tolist(),
                "seconds_train": round(seconds_train, 4),
                "seconds_query": round(seconds_query, 4),
                "seconds_evaluate": round(seconds_evaluate, 4),
                "strategy_info": dict(self.strategy.last_info),
                "classifier_info": _classifier_info(classifier),
            }
            if self.diagnostics:
                from al.analysis.diagnostics import diagnostics

                t = time.perf_counter()
                emb = features["pool_embeddings"]
                record["diagnostics"] = diagnostics(
                    emb[labeled], y_labeled, emb[unlabeled], Y_pool[unlabeled], corpus.label_names, seed=self.seed
                )
                record["seconds_diagnostics"] = round(time.perf_counter() - t, 4)
            if r == 0:
                record["initial"] = initial.tolist()
            if r == len(existing):
                record["seconds_embed"] = round(seconds_embed, 4)
                if existing:
                    record["resumed"] = True
            rounds.append(record)
            if self.records is not None:
                self.records.append(record)
            if self.on_round is not None:
                self.on_round(record)
            labeled = np.concatenate([labeled, picked])
        return rounds

    def _features(self, pool: np.ndarray, dev: np.ndarray, test: np.ndarray) -> dict[str, Any]:
        """What the classifier reads for pool / dev / test: texts or cached embeddings."""
        texts = self.corpus.texts
        features: dict[str, Any] = {}
        needs_dev = self._classifier_probe.uses_dev
        if self._classifier_probe.input == "texts":
            features = {"pool": texts[pool].tolist(), "dev": texts[dev].tolist(), "test": texts[test].tolist()}
            if "embeddings" in self.strategy.requires or self.diagnostics:
                features["pool_embeddings"] = self.embed(texts[pool].tolist())  # type: ignore[misc]
            return features
        parts = [pool, test] + ([dev] if needs_dev else [])
        matrix = self.embed(texts[np.concatenate(parts)].tolist())  # type: ignore[misc]
        features["pool"] = features["pool_embeddings"] = matrix[: len(pool)]
        features["test"] = matrix[len(pool) : len(pool) + len(test)]
        features["dev"] = matrix[len(pool) + len(test) :] if needs_dev else None
        return features

    def _train(
        self, r: int, features: dict[str, Any], labeled: np.ndarray, y_labeled: sp.csr_matrix, dev: np.ndarray
    ) -> Classifier:
        if self.reuse_classifier:  # warm start: one model carried across rounds
            classifier = self._classifier_probe
        else:
            classifier = self.make_classifier(int(round_rng(self.seed, r, CLASSIFIER).integers(2**31 - 1)))
        X = _take(features["pool"], labeled)
        if classifier.uses_dev and features["dev"] is not None:
            classifier.fit(X, y_labeled, features["dev"], self.corpus.Y[dev])
        else:
            classifier.fit(X, y_labeled)
        return classifier

    def _query(
        self,
        r: int,
        n: int,
        labeled: np.ndarray,
        unlabeled: np.ndarray,
        y_labeled: sp.csr_matrix,
        Y_pool: sp.csr_matrix,
        pool_texts: list[str],
        features: dict[str, Any],
        classifier: Classifier,
    ) -> np.ndarray:
        revealed: list[np.ndarray] = []

        def oracle(indices: np.ndarray) -> sp.csr_matrix:
            revealed.append(indices)
            return Y_pool[indices]

        views: dict[str, Callable[[], Any]] = {
            "texts": lambda: pool_texts,
            "proba": lambda: classifier.predict_proba(features["pool"]),
            "representations": lambda: classifier.transform(features["pool"]),
            "classifier": lambda: classifier,
        }
        if "pool_embeddings" in features:
            views["embeddings"] = lambda: features["pool_embeddings"]
        state = PoolState(
            indices_labeled=labeled.copy(),
            indices_unlabeled=unlabeled,
            y_labeled=y_labeled,
            label_names=self.corpus.label_names,
            rng=round_rng(self.seed, r, STRATEGY),
            round=r,
            views=views,
            oracle=oracle,
        )
        answer = self.strategy.query(state, n)
        return validate_answer(
            answer, state, n, self.strategy.name or type(self.strategy).__name__,
            np.concatenate(revealed) if revealed else None,
        )


def _take(X: Any, indices: np.ndarray) -> Any:
    if isinstance(X, np.ndarray):
        return X[indices]
    return [X[i] for i in indices]


def _classifier_info(classifier: Classifier) -> dict[str, Any]:
    info: dict[str, Any] = {}
    for name in ("n_epochs_", "best_epoch_"):
        if hasattr(classifier, name):
            info[name.rstrip("_")] = int(getattr(classifier, name))
    if getattr(classifier, "threshold", "fixed") == "dev":
        info["thresholds"] = [round(float(t), 3) for t in classifier.thresholds_]
    return info
