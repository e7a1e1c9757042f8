"""The engine's annotator seam: labels come from the annotator alone; skips; a given start; an evaluator."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from al.classifiers.linear import LogisticRegressionClassifier
from al.datasets.corpus import make_corpus
from al.engine import GoldAnnotator, Simulation
from al.errors import DataError
from al.records import RunRecords, read_rounds
from strategies.class_embedding import ClassEmbedding
from strategies.random_sampling import RandomSampling
from strategies.uncertainty import Margin
from tests.conftest import hash_embed
from tests.unit.test_engine import simulate, strip_times


class Scripted:
    """An annotator with its own labels (not the corpus's) that logs every call and skips some texts."""

    def __init__(self, Y: np.ndarray, skip: set[int] = frozenset()) -> None:
        self.Y = Y
        self.skip = set(skip)
        self.calls: list[list[int]] = []
        self.answered: set[int] = set()

    def labels(self, indices: np.ndarray) -> sp.csr_matrix:
        indices = [int(i) for i in indices]
        self.calls.append(indices)
        self.answered.update(indices)
        rows = self.Y[indices].copy()
        rows[[k for k, i in enumerate(indices) if i in self.skip]] = 0
        return sp.csr_matrix(rows, dtype=np.int8)

    def skipped(self, indices: np.ndarray) -> np.ndarray:
        assert all(int(i) in self.answered for i in indices), "skipped() asked before labels()"
        return np.array([int(i) in self.skip for i in indices], dtype=bool)


def pool_gold(corpus) -> np.ndarray:
    return corpus.Y[corpus.splits["train"]].toarray()


@pytest.mark.parametrize("strategy", [RandomSampling, ClassEmbedding, Margin])
def test_the_gold_annotator_given_explicitly_changes_nothing(corpus, strategy):
    default = strip_times(simulate(corpus, strategy(), seed=2).run())
    explicit = strip_times(simulate(corpus, strategy(), seed=2, annotator=GoldAnnotator(pool_gold_csr(corpus))).run())
    assert explicit == default
    assert all("skipped" not in r for r in default)  # a simulation's records keep their shape


def pool_gold_csr(corpus) -> sp.csr_matrix:
    return corpus.Y[corpus.splits["train"]]


def test_the_loop_reads_labels_from_the_annotator_not_from_the_corpus(corpus):
    # the annotator's labels are the gold labels with the columns reversed; the corpus keeps its own
    theirs = pool_gold(corpus)[:, ::-1].copy()
    annotator = Scripted(theirs)
    rounds = simulate(corpus, ClassEmbedding(), annotator=annotator).run()
    labeled = list(rounds[0]["initial"])
    for r in rounds:
        assert list(r["labeled_counts"].values()) == theirs[labeled].sum(axis=0).tolist()
        labeled += r["picked"]


def test_reveal_asks_one_text_at_a_time_and_other_picks_are_asked_after_the_query_in_order(corpus):
    reveal = Scripted(pool_gold(corpus))
    rounds = simulate(corpus, ClassEmbedding(), annotator=reveal, budget=40).run()
    # round start: the labeled set; then each of class_embedding's 10 picks alone, as it makes them
    assert reveal.calls[0] == rounds[0]["initial"]
    assert reveal.calls[1:11] == [[i] for i in rounds[0]["picked"]]
    assert reveal.calls[11] == rounds[0]["initial"] + rounds[0]["picked"]

    batch = Scripted(pool_gold(corpus))
    rounds = simulate(corpus, RandomSampling(), annotator=batch, budget=40).run()
    assert batch.calls[:3] == [rounds[0]["initial"], rounds[0]["picked"], rounds[0]["initial"] + rounds[0]["picked"]]


def test_skipped_texts_are_never_labeled_never_asked_again_and_spend_the_budget(corpus):
    gold = pool_gold(corpus)
    first = simulate(corpus, RandomSampling(), budget=50).run()
    skip = {first[0]["initial"][3], first[0]["picked"][0], first[0]["picked"][5]}  # one initial text, two picks
    annotator = Scripted(gold, skip)
    rounds = simulate(corpus, RandomSampling(), annotator=annotator, budget=50).run()
    assert rounds[0]["skipped"] == [first[0]["initial"][3], first[0]["picked"][0], first[0]["picked"][5]]
    assert all("skipped" not in r for r in rounds[1:])
    # 20 shown at the start, 19 labeled; 30 shown after round 0, 27 labeled; the budget counts texts shown
    assert [r["n_labeled"] for r in rounds] == [19, 27, 37, 47]
    shown = rounds[0]["initial"] + [i for r in rounds for i in r["picked"]]
    assert len(shown) == 50 and len(set(shown)) == 50  # a skipped text never comes back
    labeled = [i for i in shown if i not in skip]
    assert list(rounds[-1]["labeled_counts"].values()) == gold[labeled].sum(axis=0).tolist()


def test_a_session_with_skips_resumes_to_the_same_records(corpus, tmp_path):
    skip = {5, 17, 40}
    for i in range(len(corpus.splits["train"])):
        if len(skip) < 12 and i % 23 == 0:
            skip.add(i)
    full = simulate(corpus, ClassEmbedding(), annotator=Scripted(pool_gold(corpus), skip)).run()
    assert any("skipped" in r for r in full[1:]), "the test needs a skip after round 0"

    class Crash(Exception):
        pass

    def crash(record):
        if record["round"] == 1:
            raise Crash

    records = RunRecords(tmp_path)
    records.start({"seed": 0}, {})
    with pytest.raises(Crash):
        simulate(corpus, ClassEmbedding(), records=records, on_round=crash,
                 annotator=Scripted(pool_gold(corpus), skip)).run()
    again = RunRecords(tmp_path)
    again.start({"seed": 0}, {})
    simulate(corpus, ClassEmbedding(), records=again, annotator=Scripted(pool_gold(corpus), skip)).run()
    assert strip_times(read_rounds(tmp_path)) == strip_times(full)


def test_a_given_start_replaces_the_random_draw(corpus):
    start = np.arange(30, 50)[::-1]
    rounds = simulate(corpus, start=start).run()
    assert rounds[0]["initial"] == list(range(30, 50))
    with pytest.raises(DataError, match="start must hold initial=20 distinct pool positions"):
        simulate(corpus, start=np.arange(19))
    with pytest.raises(DataError, match="start must hold"):
        simulate(corpus, start=np.r_[np.arange(19), 0])
    with pytest.raises(DataError, match="start must hold"):
        simulate(corpus, start=np.arange(20) + 10**6)


def test_an_evaluator_replaces_the_test_split():
    rng = np.random.default_rng(0)
    Y = (rng.random((120, 3)) < 0.4).astype(np.int8)
    Y[~Y.any(axis=1), 0] = 1
    texts = [f"t{i} " + " ".join(f"lab{j}" for j in np.flatnonzero(Y[i])) for i in range(120)]
    no_test = make_corpus("session", texts, Y, ["a", "b", "c"],
                          {"train": np.arange(120), "dev": np.arange(0), "test": np.arange(0)})
    seen = []

    def evaluator(classifier, features, labeled, y_labeled):
        seen.append((len(labeled), y_labeled.shape))
        assert features.test.shape[0] == 0
        return {"macro_f1": 0.25, "micro_f1": 0.5, "evaluation": "scripted"}

    rounds = Simulation(no_test, RandomSampling(), lambda s: LogisticRegressionClassifier(seed=s), hash_embed,
                        initial=20, step=10, budget=40, evaluator=evaluator).run()
    assert seen == [(20, (20, 3)), (30, (30, 3)), (40, (40, 3))]
    assert [(r["macro_f1"], r["evaluation"]) for r in rounds] == [(0.25, "scripted")] * 3


class SharingSpy(RandomSampling):
    """A strategy that offers to share its encoder pass (as ALPS does) and logs the offers; it declines them."""

    def __init__(self) -> None:
        super().__init__()
        self.offers: list[object] = []

    def share_encoder_pass(self, embedder) -> bool:
        self.offers.append(embedder)
        return False


@pytest.mark.parametrize("who", ["default", "gold", "person"])
def test_the_strategy_s_pass_is_offered_whoever_annotates(corpus, who):
    # a person answers the first texts meanwhile (al.annotate), and the pass heeds the embedder's stop
    from al.embedders import SentenceEmbedder

    embedder = SentenceEmbedder(show_progress=False)
    strategy = SharingSpy()
    annotator = {"default": None, "gold": GoldAnnotator(pool_gold_csr(corpus)), "person": Scripted(pool_gold(corpus))}
    simulation = simulate(corpus, strategy, annotator=annotator[who])
    simulation.embed = embedder.encode  # the engine shares only with a cached SentenceEmbedder
    assert simulation._prepare_sharing_encoder(corpus.splits["train"], n_done=0) is None  # the spy declines
    assert strategy.offers == [embedder]
    assert simulation._prepare_sharing_encoder(corpus.splits["train"], n_done=simulation.n_rounds - 1) is None
    assert strategy.offers == [embedder]  # offered once: no query is left in the last round
