"""The loop: records, budget accounting, determinism, resume, answer validation."""
from __future__ import annotations

import json

import numpy as np
import pytest

from al.classifiers.linear import LogisticRegressionClassifier
from al.engine import Simulation
from al.errors import ConfigError, DataError, QueryError, ViewNotAvailableError
from al.records import RunRecords, read_config, read_rounds
from al.strategy import Strategy
from strategies.class_embedding import ClassEmbedding
from strategies.random_sampling import RandomSampling
from tests.conftest import hash_embed


def simulate(corpus, strategy=None, records=None, seed=0, initial=20, step=10, budget=60, make_classifier=None,
             **kwargs):
    return Simulation(
        corpus=corpus,
        strategy=strategy or RandomSampling(),
        make_classifier=make_classifier or (lambda s: LogisticRegressionClassifier(seed=s)),
        embed=hash_embed,
        initial=initial,
        step=step,
        budget=budget,
        seed=seed,
        records=records,
        **kwargs,
    )


def strip_times(rounds):
    return [{k: v for k, v in r.items() if not k.startswith("seconds") and k != "resumed"} for r in rounds]


def test_rounds_cover_the_budget(corpus):
    rounds = simulate(corpus, budget=65).run()
    assert [r["n_labeled"] for r in rounds] == [20, 30, 40, 50, 60, 65]  # last step shrinks to fit
    assert [len(r["picked"]) for r in rounds] == [10, 10, 10, 10, 5, 0]
    picked = np.concatenate([rounds[0]["initial"]] + [r["picked"] for r in rounds])
    assert len(np.unique(picked)) == 65
    assert picked.max() < len(corpus.splits["train"])
    for r in rounds:
        assert 0.0 <= r["macro_f1"] <= 1.0 and 0.0 <= r["micro_f1"] <= 1.0
        assert set(r["per_label_f1"]) == set(corpus.label_names)
        assert sum(r["labeled_counts"].values()) >= r["n_labeled"]  # every text has >= 1 label
        assert r["seconds_train"] >= 0 and r["seconds_query"] >= 0 and r["seconds_evaluate"] >= 0


def test_labeled_counts_are_the_gold_labels_of_the_labeled_set(corpus):
    rounds = simulate(corpus).run()
    Y_pool = corpus.Y[corpus.splits["train"]].toarray()
    labeled = list(rounds[0]["initial"])
    for r in rounds:
        assert list(r["labeled_counts"].values()) == Y_pool[labeled].sum(axis=0).tolist()
        labeled += r["picked"]


def test_learning_helps_on_separable_synthetic_data(corpus):
    rounds = simulate(corpus, initial=20, step=40, budget=260).run()
    assert rounds[-1]["macro_f1"] > 0.8  # label words make the task easy for logreg
    assert rounds[-1]["macro_f1"] > rounds[0]["macro_f1"]


@pytest.mark.parametrize("strategy", [RandomSampling, ClassEmbedding])
def test_same_seed_same_run(corpus, strategy):
    a = strip_times(simulate(corpus, strategy(), seed=3).run())
    b = strip_times(simulate(corpus, strategy(), seed=3).run())
    assert a == b


def test_other_seed_other_picks(corpus):
    a = simulate(corpus, seed=1).run()
    b = simulate(corpus, seed=2).run()
    assert a[0]["initial"] != b[0]["initial"]


class Crash(Exception):
    """A process dying after a round's record was written."""


def crash_after_round_2(record):
    if record["round"] == 2:
        raise Crash


def test_records_written_and_resumed_after_a_crash(corpus, tmp_path):
    config = {"strategy": "class_embedding", "seed": 0}
    full = simulate(corpus, ClassEmbedding(), records=RunRecords(tmp_path / "full"))
    records = RunRecords(tmp_path / "full")
    records.start(config, {})
    full.records = records
    expected = full.run()
    assert strip_times(read_rounds(tmp_path / "full")) == strip_times(expected)

    crashed = RunRecords(tmp_path / "crashed")
    crashed.start(config, {})
    with pytest.raises(Crash):
        simulate(corpus, ClassEmbedding(), records=crashed, on_round=crash_after_round_2).run()
    assert len(read_rounds(tmp_path / "crashed")) == 3  # rounds 0, 1, 2 were written before the crash

    resumed = RunRecords(tmp_path / "crashed")
    existing = resumed.start(config, {})
    assert len(existing) == 3
    rounds = simulate(corpus, ClassEmbedding(), records=resumed).run()  # the records are the only source
    assert rounds[3]["resumed"] is True
    assert [r["round"] for r in read_rounds(tmp_path / "crashed")] == [0, 1, 2, 3, 4]
    assert strip_times(read_rounds(tmp_path / "crashed")) == strip_times(expected)


class Carried(LogisticRegressionClassifier):
    """Warm-started: each fit continues from the ones before it (here: how many rows all fits have seen)."""

    warm_start = True

    def fit(self, X, Y, *args, **kwargs):
        self.rows_seen_ = getattr(self, "rows_seen_", 0) + len(Y.indptr) - 1
        self.fits_ = getattr(self, "fits_", 0) + 1
        return super().fit(X, Y, *args, **kwargs)

    def info(self):
        return {**super().info(), "rows_seen": self.rows_seen_}


def _knn(seed):
    from al.classifiers.knn import KNNClassifier

    return KNNClassifier(k=3, seed=seed)  # warm_start by default: extends its index, and records so


@pytest.mark.parametrize("make", [lambda s: Carried(seed=s), _knn], ids=["carried weights", "knn index"])
def test_a_resumed_warm_started_run_refits_the_finished_rounds_first(corpus, tmp_path, make, capsys):
    """Under warm_start a fit continues from the rounds before it: after a crash the new process refits them
    (nothing recorded), so the resumed run records what an uninterrupted one does, classifier facts included. The
    refit is said before it starts: bert's epoch lines had read as a new round's."""
    config = {"seed": 0}
    made = []

    def make_classifier(seed):
        made.append(make(seed))
        return made[-1]

    full = RunRecords(tmp_path / "full")
    full.start(config, {})
    expected = simulate(corpus, ClassEmbedding(), records=full, make_classifier=make_classifier).run()

    crashed = RunRecords(tmp_path / "crashed")
    crashed.start(config, {})
    with pytest.raises(Crash):
        simulate(corpus, ClassEmbedding(), records=crashed, on_round=crash_after_round_2,
                 make_classifier=make_classifier).run()
    resumed = RunRecords(tmp_path / "crashed")
    resumed.start(config, {})
    made.clear()
    capsys.readouterr()
    rounds = simulate(corpus, ClassEmbedding(), records=resumed, make_classifier=make_classifier).run()
    assert capsys.readouterr().err.splitlines()[0] == (
        "resuming: refitting the warm-started classifier on the 3 finished rounds, as the run did before it stopped "
        "(nothing is evaluated or recorded)")
    assert strip_times(rounds) == strip_times(expected)
    assert strip_times(read_rounds(tmp_path / "crashed")) == strip_times(expected)
    assert rounds[3]["seconds_replay"] >= 0 and "seconds_replay" not in rounds[4]
    if isinstance(made[0], Carried):
        assert made[0].fits_ == 5  # rounds 0-2 again, then 3 and 4
        assert [r["classifier_info"]["rows_seen"] for r in expected] == [20, 50, 90, 140, 200]
    else:
        assert [r["classifier_info"]["index"] for r in rounds[3:]] == ["added 10", "added 10"]


def test_a_run_given_records_continues_after_their_rounds_only(corpus, tmp_path):
    records = RunRecords(tmp_path)
    records.start({"seed": 0}, {})
    simulate(corpus, records=records, budget=40).run()
    assert [r["round"] for r in read_rounds(tmp_path)] == [0, 1, 2]
    again = RunRecords(tmp_path)
    again.start({"seed": 0}, {})
    rounds = simulate(corpus, records=again, budget=40).run()  # nothing left to do
    assert [r["round"] for r in rounds] == [0, 1, 2]
    assert [r["round"] for r in read_rounds(tmp_path)] == [0, 1, 2]  # never 0, 1, 2, 0, 1, 2


def test_resume_refuses_other_settings(tmp_path):
    records = RunRecords(tmp_path)
    records.start({"strategy": "random", "seed": 0, "out": "a"}, {})
    records.append({"round": 0, "picked": []})  # a round finished: a run to keep
    RunRecords(tmp_path).start({"strategy": "random", "seed": 0, "out": "b"}, {})  # out may differ
    with pytest.raises(ConfigError, match="seed: 0 -> 1"):
        RunRecords(tmp_path).start({"strategy": "random", "seed": 1, "out": "a"}, {})


def test_records_are_json_lines(corpus, tmp_path):
    records = RunRecords(tmp_path)
    records.start({}, {})
    simulate(corpus, records=records).run()
    lines = (tmp_path / "rounds.jsonl").read_text().splitlines()
    assert [json.loads(line)["round"] for line in lines] == list(range(5))
    assert not list(tmp_path.glob("*.tmp"))  # no temporary file left behind


class Returns(Strategy):
    """A strategy that returns whatever it is told to (for validation tests)."""

    def __init__(self, make):
        super().__init__()
        self.make = make

    def query(self, state, n):
        return self.make(state, n)


class Peeks(Strategy):
    requires = frozenset({"reveal"})

    def query(self, state, n):
        state.reveal(state.indices_unlabeled[:1])
        return state.indices_unlabeled[-n:]


@pytest.mark.parametrize(
    "strategy, message",
    [
        (Returns(lambda s, n: s.indices_unlabeled[: n - 1]), "returned 9 indices; expected 10"),
        (Returns(lambda s, n: np.repeat(s.indices_unlabeled[:1], n)), "duplicate"),
        (Returns(lambda s, n: s.indices_labeled[:n]), "returned 10 indices of texts labeled already"),
        (Returns(lambda s, n: np.arange(n) + 10**6), r"returned 10 indices outside the pool of [\d,]+ texts \(0\.\.\d+: 1000000, "),
        (Returns(lambda s, n: s.indices_unlabeled[:n].astype(float)), "dtype float64; return an int array"),
        (Returns(lambda s, n: None), "returned NoneType; return an int array of 10 distinct indices"),
        (Peeks(), "revealed the labels of 1 text it did not pick"),
    ],
)
def test_invalid_answers_are_rejected(corpus, strategy, message):
    with pytest.raises(QueryError, match=message):
        simulate(corpus, strategy).run()


def test_an_answer_refused_after_the_first_round_says_what_is_kept_and_how_to_go_on(corpus):
    """A bad answer in a later round said nothing of the rounds kept, where an exception in the query did."""
    class LateDuplicates(Strategy):
        def query(self, state, n):
            return state.indices_unlabeled[np.r_[0, np.arange(n - 1)] if state.round == 2 else np.arange(n)]

    with pytest.raises(QueryError, match=r"^strategy 'LateDuplicates' returned duplicate indices: index \d+ 2 "
                                         r"times; return an "
                                         r"int array of 10 distinct indices from state\.indices_unlabeled \(in the "
                                         r"query at \d+ texts labeled, state\.round 2\); this round's training "
                                         r"and evaluation are not kept, the 2 rounds before are: fix it and run the "
                                         r"same command to go on from them \(picked by the code as it was; another "
                                         r"--out runs the fixed code from the start\)$"):
        simulate(corpus, LateDuplicates()).run()


def test_strategy_asking_for_a_missing_view_gets_a_clear_error(corpus):
    class WantsTexts(Strategy):
        def query(self, state, n):
            return state.view("no_such_view")

    with pytest.raises(ViewNotAvailableError, match="view 'no_such_view' is not available"):
        simulate(corpus, WantsTexts()).run()


def test_budget_larger_than_pool_is_rejected(corpus):
    n_pool = len(corpus.splits["train"])
    with pytest.raises(DataError, match=f"larger than the pool \\({n_pool} texts\\)"):
        simulate(corpus, initial=n_pool + 1, budget=n_pool + 10)
    with pytest.raises(DataError, match="budget"):
        simulate(corpus, initial=10, budget=n_pool + 1)


def test_diagnostics_recorded_every_round(corpus):
    from al.observers import EmbeddingDiagnostics

    rounds = simulate(corpus, observers=[EmbeddingDiagnostics()]).run()
    for r in rounds:
        d = r["diagnostics"]
        json.dumps(d)  # serialisable
        assert set(d) >= {"proximity", "margins", "quality"}
        assert r["seconds_diagnostics"] >= 0


def test_resume_accepts_a_setting_added_later(tmp_path):
    first = RunRecords(tmp_path)
    first.start({"strategy": "random"}, {})
    first.append({"round": 0, "n_labeled": 20})
    # the stored run lacks `diagnostics`: it ran with the default, so it resumes
    second = RunRecords(tmp_path)
    existing = second.start({"strategy": "random", "diagnostics": False}, {})
    assert existing == [{"round": 0, "n_labeled": 20}]
    second.append({"round": 1, "n_labeled": 40})  # a resume writes its config.json with its first new round
    assert read_config(tmp_path)["config"] == {"strategy": "random", "diagnostics": False}


def test_a_round_record_is_a_pure_function_of_its_arguments():
    import scipy.sparse as sp

    from al.engine import round_record

    y = sp.csr_matrix(np.array([[1, 0], [1, 1], [0, 1]]))
    args = dict(round_=2, labeled=np.array([4, 0, 7]), y_labeled=y, label_names=("a", "b"),
                metrics={"macro_f1": 0.5}, picked=np.array([9, 3]), seconds={"train": 0.123456, "query": 2},
                strategy_info={"targets": ["b"]}, classifier_info={"n_epochs": 3}, extra={"initial": [4, 0, 7]})
    record = round_record(**args)
    assert record == {
        "round": 2, "n_labeled": 3, "macro_f1": 0.5, "labeled_counts": {"a": 2, "b": 2}, "picked": [9, 3],
        "seconds_train": 0.1235, "seconds_query": 2.0, "strategy_info": {"targets": ["b"]},
        "classifier_info": {"n_epochs": 3}, "initial": [4, 0, 7],
    }
    assert round_record(**args) == record  # same arguments, same record
    json.dumps(record)


def test_the_engine_never_writes_into_the_strategy(corpus):
    class Records(Strategy):
        requires = frozenset()

        def query(self, state, n):
            self.last_info = {"round": state.round}
            return state.indices_unlabeled[:n]

    strategy = Records()
    rounds = simulate(corpus, strategy, budget=40).run()
    assert [r["strategy_info"] for r in rounds] == [{"round": 0}, {"round": 1}, {}]  # the last round queries nothing
    assert strategy.last_info == {"round": 1}  # what the strategy itself left there


def test_the_pool_embeddings_digest_is_recorded_and_guards_resuming(corpus, tmp_path):
    from al.embedders import matrix_digest

    records = RunRecords(tmp_path)
    records.start({"seed": 0}, {})
    simulate(corpus, records=records, budget=40).run()
    stored = json.loads((tmp_path / "config.json").read_text())
    pool = corpus.texts[corpus.splits["train"]].tolist()
    assert stored["embeddings_digest"] == matrix_digest(hash_embed(pool))

    # the run lost its last round; the embeddings changed meanwhile (another model build, a corrupted cache)
    lines = (tmp_path / "rounds.jsonl").read_text().splitlines()
    (tmp_path / "rounds.jsonl").write_text("\n".join(lines[:2]) + "\n")
    again = RunRecords(tmp_path)
    again.start({"seed": 0}, {})
    assert again.meta["embeddings_digest"] == stored["embeddings_digest"]  # kept across the restart
    other = Simulation(corpus=corpus, strategy=RandomSampling(),
                       make_classifier=lambda s: LogisticRegressionClassifier(seed=s),
                       embed=lambda texts: hash_embed(texts, dim=32), initial=20, step=10, budget=40, records=again)
    with pytest.raises(DataError, match="differ from those this run began with .*; start a new run with another "
                                        "--out$"):  # no embedder's cache: no folder to name
        other.run()
    from types import SimpleNamespace

    from al.cache import cache_root
    from al.embedders import SentenceEmbedder

    embedder = SentenceEmbedder(cache=True)  # the folder its vectors are in, to remove: named, not created
    fix = Simulation._cache_fix(SimpleNamespace(embed=embedder.encode))
    folder = cache_root() / "embeddings" / embedder.cache_key
    assert fix == (f", or, where only the cached vectors changed (edited, or copied from another machine), remove "
                   f"{folder} and resume: they are computed again, bit for bit")
    assert Simulation._cache_fix(SimpleNamespace(embed=SentenceEmbedder(cache=False).encode)) == ""
    assert len(read_rounds(tmp_path)) == 2  # nothing written


def test_a_classifier_s_local_model_directory_is_recorded_and_guards_resuming(corpus, tmp_path):
    """A fine-tuned classifier's weights saved again at the same path: the run refuses to go on with them."""
    import os

    from al.models import model_key

    weights = tmp_path / "model"
    weights.mkdir()
    (weights / "config.json").write_text("{}")
    (weights / "model.safetensors").write_bytes(b"first")

    class FromDirectory(LogisticRegressionClassifier):  # stands for a classifier fine-tuning the weights in `model`
        model = str(weights)

    def run_with(records):
        return Simulation(corpus=corpus, strategy=RandomSampling(), make_classifier=lambda s: FromDirectory(seed=s),
                          embed=hash_embed, initial=20, step=10, budget=40, records=records)

    out = tmp_path / "run"
    records = RunRecords(out)
    records.start({"seed": 0}, {})
    run_with(records).run()
    stored = json.loads((out / "config.json").read_text())
    assert stored["classifier_model_key"] == model_key(weights)
    lines = (out / "rounds.jsonl").read_text().splitlines()
    (out / "rounds.jsonl").write_text("\n".join(lines[:2]) + "\n")  # the run lost its last round

    again = RunRecords(out)
    again.start({"seed": 0}, {})
    assert len(run_with(again).run()) == 3  # the same directory: it goes on

    (out / "rounds.jsonl").write_text("\n".join(lines[:2]) + "\n")
    (weights / "model.safetensors").write_bytes(b"second, fine-tuned once more")
    os.utime(weights / "model.safetensors", ns=(1, 1))
    third = RunRecords(out)
    third.start({"seed": 0}, {})
    with pytest.raises(DataError, match="model directory .* is not the one this run began with"):
        run_with(third).run()
    assert len(read_rounds(out)) == 2  # nothing written


def test_a_classifier_s_named_model_is_recorded_by_the_weights_it_names(corpus, tmp_path, monkeypatch):
    """A named model resolving to another hub revision or package version: the run refuses to go on with it;
    a name keyed only by a directory's state on this machine is not recorded (another machine would differ)."""
    import al.models

    keys = ["their-model@0123456789ab"]
    monkeypatch.setattr(al.models, "model_key", lambda model: keys[0])

    class FromName(LogisticRegressionClassifier):  # stands for a classifier fine-tuning the named weights
        model = "someone/their-model"
        pretrained_attribute = "model"

    def run_with(out):
        records = RunRecords(out)
        records.start({"seed": 0}, {})
        return Simulation(corpus=corpus, strategy=RandomSampling(), make_classifier=lambda s: FromName(seed=s),
                          embed=hash_embed, initial=20, step=10, budget=40, records=records)

    out = tmp_path / "run"
    run_with(out).run()
    assert json.loads((out / "config.json").read_text())["classifier_model_key"] == "their-model@0123456789ab"
    lines = (out / "rounds.jsonl").read_text().splitlines()
    (out / "rounds.jsonl").write_text("\n".join(lines[:2]) + "\n")
    keys[0] = "their-model@fedcba987654"  # another revision pulled
    with pytest.raises(DataError, match="model someone/their-model now loads other weights .* was their-model@0123"):
        run_with(out).run()
    keys[0] = "their-model@files-0123456789ab"
    run_with(tmp_path / "unpacked").run()
    assert "classifier_model_key" not in json.loads((tmp_path / "unpacked" / "config.json").read_text())

    class NotWeights(LogisticRegressionClassifier):  # a plugin whose `model` means something else
        model = "svm"

    keys[0] = "never asked"
    monkeypatch.setattr(al.models, "model_key", lambda model: pytest.fail(f"model_key({model!r}) was asked"))
    records = RunRecords(tmp_path / "plugin")
    records.start({"seed": 0}, {})
    Simulation(corpus=corpus, strategy=RandomSampling(), make_classifier=lambda s: NotWeights(seed=s),
               embed=hash_embed, initial=20, step=10, budget=40, records=records).run()


def test_a_round_classifier_is_freed_before_the_next_one_trains(corpus):
    """Two fitted models never share the memory: the previous round's is gone when the next fit starts."""
    import gc
    import weakref

    fitted: list[weakref.ref] = []
    alive_at_fit: list[int] = []

    class Tracked(LogisticRegressionClassifier):
        def fit(self, X, Y, *args, **kwargs):
            gc.collect()
            alive_at_fit.append(sum(ref() is not None for ref in fitted))
            fitted.append(weakref.ref(self))
            return super().fit(X, Y, *args, **kwargs)

    from al.stopping import StoppingSignals

    rounds = simulate(corpus, make_classifier=lambda s: Tracked(seed=s), observers=[StoppingSignals()]).run()
    assert len(rounds) == 5 and alive_at_fit == [0] * 5


class PoolWork(RandomSampling):
    """Random picks; records the texts its pool work was given and those its queries read."""

    requires = frozenset({"texts"})

    def __init__(self) -> None:
        super().__init__()
        self.prepared: list[list[str]] = []
        self.seen_texts: list[list[str]] = []

    def prepare(self, texts):
        self.prepared.append(list(texts))

    def query(self, state, n):
        self.seen_texts.append(list(state.texts))
        return super().query(state, n)


@pytest.mark.parametrize("threshold, splits", [("fixed", ("train", "test")), ("dev", ("train", "test", "dev"))])
def test_prepare_computes_what_the_run_reads_first_and_records_nothing(corpus, tmp_path, threshold, splits):
    embedded: list[list[str]] = []

    def embed(texts):
        embedded.append(list(texts))
        return hash_embed(texts)

    records = RunRecords(tmp_path / "run")
    strategy = PoolWork()
    simulation = Simulation(
        corpus=corpus, strategy=strategy, make_classifier=lambda s: LogisticRegressionClassifier(seed=s, threshold=threshold),
        embed=embed, initial=20, step=10, budget=40, seed=0, records=records)
    assert simulation.embedded_splits() == splits
    simulation.prepare("embeddings")
    assert embedded == [corpus.texts[np.concatenate([corpus.splits[s] for s in splits])].tolist()]
    assert strategy.prepared == []
    simulation.prepare("strategy")
    simulation.prepare("embeddings", ["dev"])  # a grid's union of what its runs embed
    assert embedded[1] == corpus.texts[corpus.splits["dev"]].tolist()
    assert not (tmp_path / "run").exists() or not list((tmp_path / "run").iterdir())
    simulation.run()
    assert sorted(embedded[2]) == sorted(embedded[0])  # what the run embedded before its first round
    seen = strategy.seen_texts[0]
    assert strategy.prepared == [seen] == [corpus.texts[corpus.splits["train"]].tolist()]  # state.texts, in order
    with pytest.raises(ConfigError, match="part must be one of embeddings, strategy, got 'labels'"):
        simulation.prepare("labels")


def test_only_strategies_with_pool_work_say_they_prepare_it():
    from strategies.alps import ALPS

    assert PoolWork.prepares_pool() and ALPS.prepares_pool()
    assert not RandomSampling.prepares_pool() and not ClassEmbedding.prepares_pool()


def test_the_parts_of_a_fit_a_classifier_reports_are_recorded_beside_seconds_train(corpus):
    class TimedFit(LogisticRegressionClassifier):
        def fit_seconds(self):
            return {"dev": 0.25}

    timed = simulate(corpus, make_classifier=lambda s: TimedFit(seed=s)).run()
    assert [r["seconds_train_dev"] for r in timed] == [0.25] * len(timed)
    plain = simulate(corpus).run()  # the base class reports no parts
    assert not any(k.startswith("seconds_train_") for r in plain for k in r)
    assert strip_times(timed) == strip_times(plain)


def test_the_stopping_signals_change_no_pick_and_no_score(corpus):
    """What --no-stopping leaves out is recorded beside the results, never read by them."""
    from al.stopping import StoppingSignals

    with_signals = simulate(corpus, observers=[StoppingSignals(stop_set_size=50)]).run()
    without = simulate(corpus).run()
    assert all("stopping" in r for r in with_signals) and not any("stopping" in r for r in without)
    assert [{k: v for k, v in r.items() if k != "stopping"} for r in strip_times(with_signals)] == strip_times(without)


def test_the_engine_names_what_each_prediction_pass_is_for(corpus):
    """A classifier that shows its passes' progress (bert) is told which texts each pass reads and why."""
    from contextlib import contextmanager

    from al.stopping import StoppingSignals
    from strategies.uncertainty import Margin

    calls: list[tuple[str | None, str]] = []

    class Described(LogisticRegressionClassifier):
        purpose: str | None = None

        @contextmanager
        def describe_passes(self, purpose):
            before, self.purpose = self.purpose, purpose
            try:
                yield
            finally:
                self.purpose = before

        def predict_proba(self, X):
            calls.append((self.purpose, "predict_proba"))
            return super().predict_proba(X)

    simulate(corpus, Margin(), budget=30, make_classifier=lambda s: Described(seed=s),
             observers=[StoppingSignals(stop_set_size=50)]).run()
    n_test, n_pool = len(corpus.splits["test"]), len(corpus.splits["train"])
    assert (f"the {n_test:,} test texts", "predict_proba") in calls
    assert (f"the {n_pool:,} pool texts (for the strategy)", "predict_proba") in calls
    assert ("the stop set's 50 texts (stopping criteria)", "predict_proba") in calls
    assert all(purpose is not None for purpose, _ in calls)  # no pass left unnamed


def test_a_slow_query_that_shows_no_progress_of_its_own_prints_that_it_is_still_running(corpus, monkeypatch, capsys):
    """A user's query of 40 s was 40 s of silence between the starting line and the round's line."""
    import time

    import al.engine
    import al.progress
    from al.progress import progress, set_quiet

    monkeypatch.setattr(al.engine, "QUERY_HEARTBEAT", (0.05, 0.1))
    monkeypatch.setattr(al.progress, "_quiet", False)  # as a command without --quiet leaves it

    def slow(state, n):
        time.sleep(0.32)
        return state.indices_unlabeled[:n]

    def reporting(state, n):  # a query with a progress display of its own gets no heartbeat over it
        with progress(3, "scoring", unit="passes", delay=10.0):
            time.sleep(0.32)
        return state.indices_unlabeled[:n]

    simulate(corpus, Returns(slow), budget=30).run()
    lines = capsys.readouterr().err.splitlines()
    beats = [line for line in lines if line.startswith("query (")]
    assert len(beats) >= 2 and beats[0] == "query (Returns, 20 texts labeled): 0 s so far", lines
    simulate(corpus, Returns(reporting), budget=30).run()
    assert "so far" not in capsys.readouterr().err

    def hidden(state, n):  # a display turned off (bert's show_progress=False) is no progress of its own
        with progress(3, "scoring", unit="passes", enabled=False):
            time.sleep(0.32)
        return state.indices_unlabeled[:n]

    simulate(corpus, Returns(hidden), budget=30).run()
    assert "so far" in capsys.readouterr().err
    set_quiet(True)
    simulate(corpus, Returns(slow), budget=30).run()
    assert "so far" not in capsys.readouterr().err


def test_a_heartbeat_neither_prints_nor_counts_the_time_a_step_waits_on_a_person(monkeypatch, capsys):
    """A labeling session's strategy that asks as it picks (class_embedding) waited for the person's answers under
    its query's heartbeat: "query (class_embedding, 29 texts labeled): 45 s so far" while the CPU was idle."""
    import time

    import al.progress
    from al.progress import heartbeat, waiting_on_a_person

    monkeypatch.setattr(al.progress, "_quiet", False)
    with heartbeat("query", delay=0.2, interval=0.2):
        time.sleep(0.05)
        with waiting_on_a_person():
            time.sleep(0.8)  # four intervals of a person's time
        time.sleep(0.05)  # the step's own time, 0.1 s in all: below the delay
    assert capsys.readouterr().err == ""

    with heartbeat("query", delay=0.2, interval=10.0):
        with waiting_on_a_person():
            time.sleep(0.5)
        time.sleep(0.45)  # 0.45 s of its own: one line, after 0.2 of them, and the closing one
    assert capsys.readouterr().err == "query: 0 s so far\nquery: done in 0 s\n"  # not a last line that seemed to hang

    with pytest.raises(KeyError), heartbeat("query", delay=0.1, interval=10.0):
        time.sleep(0.3)
        raise KeyError("x")
    assert capsys.readouterr().err == "query: 0 s so far\n"  # a step that raised is not said done


def test_a_run_records_its_packages_and_a_resume_under_others_says_which(tmp_path):
    """config.json held al's version alone: not numpy's, torch's or scikit-learn's, which the numbers depend on."""
    from al.records import package_versions

    found = package_versions()
    assert {"python", "numpy", "scikit-learn", "torch"} <= set(found)
    settings = {"strategy": "random", "seed": 0}
    records = RunRecords(tmp_path)
    records.start(settings, {"version": "0.1.0", "packages": {"numpy": "2.0", "torch": "2.13.0"}})
    records.append({"round": 0, "picked": []})
    again = RunRecords(tmp_path)
    again.start(settings, {"version": "0.2.0", "packages": {"numpy": "2.1", "torch": "2.13.0"}})
    again.append({"round": 1, "picked": []})
    stored = read_config(tmp_path)
    assert stored["packages"] == {"numpy": "2.0", "torch": "2.13.0"}  # those of the first rounds, as version
    assert stored["resumes"][-1]["packages"] == {"numpy": ["2.0", "2.1"]}


def test_a_resume_of_a_run_from_before_packages_were_recorded_does_not_claim_today_s_for_it(tmp_path):
    settings = {"strategy": "random", "seed": 0, "classifier": {"name": "knn", "params": {"threshold": 0.5}}}
    records = RunRecords(tmp_path)
    records.start(settings, {"version": "0.0.9"})
    records.append({"round": 0, "picked": []})
    again = RunRecords(tmp_path)
    fixed = {**settings, "classifier": {"name": "knn", "params": {"threshold": "fixed"}}}
    again.start(fixed, {"version": "0.1.0", "packages": {"numpy": "2.1"}, "device_type": "cpu"})
    again.append({"round": 1, "picked": []})
    stored = read_config(tmp_path)
    assert stored["packages"] is None and stored["device_type"] is None  # unknown for the first rounds
    resume = stored["resumes"][-1]
    assert resume["packages"] == {"numpy": [None, "2.1"]} and resume["device_type"] == [None, "cpu"]
    assert resume["changed"] == {}  # threshold 'fixed' is 0.5: no change to report


def test_rounds_continued_keeps_the_rounds_that_picked_what_the_larger_budget_picks():
    """By hand, initial 100, step 50: a budget of 200 ran rounds at 100, 150, 200 (picks 50, 50, 0); one of 220
    ran 100, 150, 200, 220 (picks 50, 50, 20, 0)."""
    from al.config import rounds_continued

    def picks(*counts):
        return [{"picked": [0] * n} for n in counts]

    assert rounds_continued(100, 50, 300, picks(50, 50, 0)) == 2  # the last round picked none: computed again
    assert rounds_continued(100, 50, 300, picks(50, 50, 20, 0)) == 2  # a shrunk step: 50 are due at 200
    assert rounds_continued(100, 50, 250, picks(50, 50, 50, 0)) == 4  # the same budget: all kept, complete
    assert rounds_continued(100, 50, 250, picks(50, 50)) == 2  # a run stopped early keeps what it has
    assert rounds_continued(100, 50, 120, picks(20, 0)) == 2
    assert rounds_continued(100, 50, 300, picks(20, 0)) == 0  # nothing to keep: a fresh run
    assert rounds_continued(100, 50, 300, []) == 0


@pytest.mark.parametrize("first_budget", [40, 45])
def test_a_run_extended_to_a_larger_budget_records_what_a_fresh_one_of_that_budget_does(corpus, tmp_path,
                                                                                        first_budget):
    """A finished run of budget 40 (its last step full) or 45 (its last step shrunk to 5), run again with budget
    60: the rounds that picked for the old budget are computed again, and the records equal a fresh run's."""
    from al.config import rounds_continued

    def run(directory, budget, settings_budget=None):
        records = RunRecords(directory)
        records.start({"seed": 0, "budget": settings_budget or budget}, {},
                      continued=lambda rounds: rounds_continued(20, 10, budget, rounds))
        return simulate(corpus, ClassEmbedding(), records=records, budget=budget).run()

    fresh = run(tmp_path / "fresh", 60)
    first = run(tmp_path / "run", first_budget)
    assert [len(r["picked"]) for r in first] == ([10, 10, 0] if first_budget == 40 else [10, 10, 5, 0])
    extended = run(tmp_path / "run", 60)
    assert strip_times(extended) == strip_times(fresh) == strip_times(read_rounds(tmp_path / "run"))
    assert [r["n_labeled"] for r in extended] == [20, 30, 40, 50, 60]
    assert read_config(tmp_path / "run")["resumes"] == [
        {"after_round": 2, "version": None, "changed": {"budget": [first_budget, 60]}}]
    assert extended[2].get("resumed") is True


def test_an_extension_killed_between_its_config_and_its_first_round_continues_the_same(corpus, tmp_path):
    """config.json says budget 60 while rounds.jsonl still holds the budget-40 run's rounds (its last one picked
    none): the next start drops that round again rather than continuing after it."""
    from al.config import rounds_continued

    def start(budget):
        records = RunRecords(tmp_path / "run")
        records.start({"seed": 0, "budget": budget}, {},
                      continued=lambda rounds: rounds_continued(20, 10, budget, rounds))
        return records

    simulate(corpus, records=start(40), budget=40).run()
    stored = json.loads((tmp_path / "run" / "config.json").read_text())
    stored["config"]["budget"] = 60  # what the extension wrote before it was killed
    (tmp_path / "run" / "config.json").write_text(json.dumps(stored))
    assert len(read_rounds(tmp_path / "run")) == 3
    records = start(60)
    assert len(records.rounds) == 2
    rounds = simulate(corpus, records=records, budget=60).run()
    fresh = RunRecords(tmp_path / "fresh")
    fresh.start({"seed": 0, "budget": 60}, {})
    assert strip_times(rounds) == strip_times(simulate(corpus, records=fresh, budget=60).run())


class ReadsUndeclared(Strategy):
    """Declares proba and reads the embeddings too: a run offers every view, al.testing refuses it."""

    requires = frozenset({"proba"})

    def query(self, state, n):
        state.embeddings, state.proba
        return state.indices_unlabeled[:n]


class ReadsDeclared(ReadsUndeclared):
    requires = frozenset({"proba", "embeddings"})


def test_a_user_s_strategy_reading_a_view_it_does_not_declare_is_warned_of_once_a_run(corpus):
    with pytest.warns(UserWarning) as caught:
        simulate(corpus, ReadsUndeclared()).run()  # 4 queries
    said = [str(w.message) for w in caught if "without declaring" in str(w.message)]
    assert said == ["strategy 'ReadsUndeclared' read embeddings without declaring it in its requires (proba): a run "
                    "offers the views it has, but decides from requires what to compute for the strategy (the pool's "
                    "embedding, whether a fitted space serves it), and al.testing refuses such a strategy; add "
                    "'embeddings' to requires"]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # declared: no word
        simulate(corpus, ReadsDeclared()).run()


class Blind(LogisticRegressionClassifier):
    """Fits as logreg does, then gives every text the probability ``p`` on every label."""

    def __init__(self, p: float, **params):
        super().__init__(**params)
        self.p = p

    def predict_proba(self, X):
        return np.full((len(X), len(self.thresholds_)), self.p, dtype=np.float32)


@pytest.mark.parametrize("p, said", [
    (0.9, "predicted all 4 labels for every one of the {n} test texts at threshold 0.5, so the round's scores are a "
          "constant guess's (macro-F1 {f1}), not a trained model's; its probabilities do not tell the texts apart"),
    (0.1, "predicted no label for any of the {n} test texts at threshold 0.5, so the round's scores are a constant "
          "guess's (macro-F1 0.000), not a trained model's; no probability passed the threshold"),
])
def test_a_classifier_predicting_the_same_labels_for_every_test_text_is_warned_of_once_a_run(corpus, p, said):
    with pytest.warns(RuntimeWarning) as caught:
        rounds = simulate(corpus, make_classifier=lambda s: Blind(p, seed=s), budget=40).run()
    constant = [str(w.message) for w in caught if "constant guess" in str(w.message)]
    assert len(constant) == 1 and len(rounds) == 3  # one warning for three constant rounds
    n_test = len(corpus.splits["test"])
    # all-positive: each label's F1 is 2q / (1 + q), q its frequency in the test split
    freq = corpus.Y[corpus.splits["test"]].toarray().mean(axis=0)
    f1 = np.mean(2 * freq / (1 + freq))
    assert rounds[0]["macro_f1"] == pytest.approx(f1 if p > 0.5 else 0.0)
    assert constant[0].startswith("round 1 (20 texts labeled): the classifier ")
    assert said.format(n=f"{n_test:,}", f1=f"{f1:.3f}") in constant[0]


class NoneThenAll(Blind):
    """No label for any text in its first fit, every label after: the second is no less a constant guess."""

    fits = 0

    def fit(self, *args, **kwargs):
        NoneThenAll.fits += 1
        self.p = 0.1 if NoneThenAll.fits == 1 else 0.9
        return super().fit(*args, **kwargs)


def test_an_early_round_s_no_label_does_not_silence_a_later_all_labels(corpus):
    """Warned once a run in all: a small start's harmless "no label" in round 1 kept the "all labels" of round 3
    (bert with pos_weight=auto, the case the warning was written for) from being said."""
    NoneThenAll.fits = 0
    with pytest.warns(RuntimeWarning) as caught:
        simulate(corpus, make_classifier=lambda s: NoneThenAll(0.1, seed=s), budget=50).run()
    said = [str(w.message) for w in caught if "constant guess" in str(w.message)]
    assert [m.split(": the classifier predicted ")[1].split(" ")[0] for m in said] == ["no", "all"], said
    assert said[0].startswith("round 1 (20 texts labeled)") and said[1].startswith("round 2 (30 texts labeled)")
    assert "a lower threshold or threshold=dev may help sooner" in said[0]

    class TunedBlind(Blind):  # thresholds tuned on dev already: that is not suggested again
        def fit(self, *args, **kwargs):
            super().fit(*args, **kwargs)
            self.threshold = "dev"
            return self

    with pytest.warns(RuntimeWarning, match="and a lower threshold may help sooner"):
        simulate(corpus, make_classifier=lambda s: TunedBlind(0.1, seed=s), budget=30).run()


def test_a_classifier_that_tells_test_texts_apart_is_not_warned_of(corpus):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        simulate(corpus, budget=40).run()


def test_constant_prediction_names_what_every_text_got():
    from al.metrics import constant_prediction

    names = ["food", "water", "shelter"]
    assert constant_prediction(np.ones((3, 3)), names) == "all 3 labels for every one of the 3 texts"
    assert constant_prediction(np.zeros((2, 3)), names, "test texts") == "no label for any of the 2 test texts"
    assert constant_prediction(np.tile([1, 0, 1], (4, 1)), names) == (
        "the same 2 labels (food, shelter) for every one of the 4 texts")
    assert constant_prediction(np.ones((3, 1)), ["food"]) == "the one label for every one of the 3 texts"
    assert constant_prediction(np.tile([0, 1, 0], (3, 1)), names) == (
        "the same label (water) for every one of the 3 texts")
    assert constant_prediction(np.array([[1, 0, 1], [1, 0, 0]]), names) is None  # one text differs on one label
    assert constant_prediction(np.ones((1, 3)), names) is None  # a single text: any prediction is constant
