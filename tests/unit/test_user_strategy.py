"""The path of a user writing a strategy: what the state lets it touch, what its answer, ``last_info``,
randomness, constructor, module and name may be, and what each mistake is told."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp

from al.classifiers.linear import LogisticRegressionClassifier
from al.config import SimulationConfig
from al.engine import Simulation
from al.errors import ConfigError, QueryError
from al.records import RunRecords, read_rounds
from al.registry import get_strategy
from al.strategy import VIEWS, PoolState, Strategy, json_info, top_n, validate_answer
from al.testing import ConformanceError, check_strategy, make_state
from strategies.uncertainty import Margin
from tests.conftest import REPO, hash_embed


def simulate(corpus, strategy, seed=0, records=None, budget=40):
    return Simulation(corpus, strategy, lambda s: LogisticRegressionClassifier(seed=s), hash_embed,
                      initial=20, step=10, budget=budget, seed=seed, records=records).run()


class FirstN(Strategy):
    def query(self, state, n):
        return state.indices_unlabeled[:n]


# ------------------------------------------------------------ 1, 2: the state is read-only


class Looks(Strategy):
    """Keeps what it was shown, to look at after the run."""

    requires = frozenset({"texts", "embeddings", "proba", "representations", "inputs", "classifier"})

    def query(self, state, n):
        self.seen = {name: state.view(name) for name in self.requires}
        self.seen.update(indices_labeled=state.indices_labeled, indices_unlabeled=state.indices_unlabeled,
                         y_labeled=state.y_labeled)
        return state.indices_unlabeled[:n]


def test_every_array_and_sequence_a_strategy_sees_is_read_only(corpus):
    strategy = Looks()
    simulate(corpus, strategy, budget=30)
    seen = strategy.seen
    assert set(VIEWS) <= set(seen)
    for name, value in seen.items():
        if isinstance(value, np.ndarray):
            assert not value.flags.writeable, name
    assert isinstance(seen["texts"], tuple)
    assert not any(part.flags.writeable for part in (seen["y_labeled"].data, seen["y_labeled"].indices,
                                                     seen["y_labeled"].indptr))


class Center(Strategy):
    """Centres the embeddings in place: a realistic mistake."""

    requires = frozenset({"embeddings"})

    def query(self, state, n):
        emb = state.embeddings
        emb -= emb.mean(axis=0)
        return state.indices_unlabeled[:n]


class FailsInItsSecondQuery(FirstN):
    """A bug of its own (not an al error) in the query after round 0."""

    def query(self, state, n):
        if state.round == 1:
            {}["missing"]
        return super().query(state, n)


def test_a_strategy_s_own_exception_is_one_line_naming_its_line_and_the_rounds_kept(corpus, tmp_path):
    records = RunRecords(tmp_path / "run")
    line = FailsInItsSecondQuery.query.__code__.co_firstlineno + 2
    with pytest.raises(QueryError, match=rf"'FailsInItsSecondQuery' raised KeyError: 'missing' \(at .*"
                                         rf"test_user_strategy.py:{line}\), in the query at 30 texts labeled, state\.round 1; "
                                         r"this round's training and evaluation are not kept, the round before is: "
                                         r"fix it and run the same command to go on from it \(picked by the code as "
                                         r"it was; another --out runs the fixed code from the start\)$"):
        simulate(corpus, FailsInItsSecondQuery(), records=records)
    assert [r["round"] for r in read_rounds(tmp_path / "run")] == [0]


class CentersACopy(Center):
    def query(self, state, n):
        emb = state.embeddings.copy()
        emb -= emb.mean(axis=0)
        return state.indices_unlabeled[:n]


def test_writing_into_a_view_fails_at_the_strategy_s_line_and_a_copy_runs(corpus):
    line = Center.query.__code__.co_firstlineno + 2  # emb -= ...
    with pytest.raises(QueryError, match=rf"'Center' raised ValueError: .*read-only \(at .*test_user_strategy.py:{line}\), "
                                         r"in the query at 20 texts labeled, state\.round 0; if it is one of the "
                                         r"state's arrays, read-only: change a copy, e\.g\. emb = "
                                         r"state\.embeddings\.copy\(\); no round was recorded"):
        simulate(corpus, Center())
    strip = lambda rounds: [{k: v for k, v in r.items() if not k.startswith("seconds")} for r in rounds]  # noqa: E731
    assert strip(simulate(corpus, CentersACopy())) == strip(simulate(corpus, FirstN()))


class Alias(Strategy):
    """Replaces a candidate in ``state.indices_unlabeled`` itself; ``unlock`` first makes it writeable."""

    def __init__(self, unlock: bool = False):
        super().__init__()
        self.unlock = unlock

    def query(self, state, n):
        candidates = state.indices_unlabeled
        if self.unlock:
            candidates.flags.writeable = True
        candidates[0] = state.indices_labeled[0]
        return candidates[:n]


class RenamesATextsItem(Strategy):
    requires = frozenset({"texts"})

    def query(self, state, n):
        texts = state.texts
        texts[0] = texts[0].lower()
        return state.indices_unlabeled[:n]


def test_writing_into_the_texts_says_they_are_a_tuple_and_how_to_copy(corpus):
    with pytest.raises(QueryError, match=r"raised TypeError: 'tuple' object does not support item assignment \(at .*"
                                         r"\), in the query at 20 texts labeled, state\.round 0; if it is state\.texts, "
                                         r"a read-only tuple: change a copy, list\(state\.texts\); no round"):
        simulate(corpus, RenamesATextsItem())


def test_an_answer_is_checked_against_the_engine_s_unlabeled_set_not_the_strategy_s(corpus):
    with pytest.raises(QueryError, match="raised ValueError: .*read-only"):
        simulate(corpus, Alias())
    # its copy cannot be unlocked (a read-only buffer: no flag or base leads back to writable memory)
    with pytest.raises(QueryError, match=r"raised ValueError: cannot set WRITEABLE flag to True of this array"):
        simulate(corpus, Alias(unlock=True))


class Unlocks(Strategy):
    """Unlocks a view and writes into it (``raw``: through its memory, which no flag can stop)."""

    def __init__(self, view: str, raw: bool = False):
        super().__init__()
        self.view, self.raw = view, raw
        self.requires = frozenset({view})

    def query(self, state, n):
        array = state.view(self.view)
        if self.raw:
            import ctypes

            ctypes.memset(array.ctypes.data, 0, array.nbytes)
        else:
            array.flags.writeable = True
            array[:] = 0
        return state.indices_unlabeled[:n]


@pytest.mark.parametrize("view", ["embeddings", "proba"])
def test_conformance_catches_a_view_changed_by_a_query(view):
    with pytest.raises(ValueError, match="cannot set WRITEABLE flag to True of this array"):
        check_strategy(lambda: Unlocks(view))
    with pytest.raises(ConformanceError, match=rf"changed the state it was given \({view}"):
        check_strategy(lambda: Unlocks(view, raw=True))


class Exits(Strategy):
    def query(self, state, n):
        import sys

        sys.exit(0)


class FewCandidates(Strategy):
    def query(self, state, n):
        from al.strategy import top_n

        return top_n(np.zeros(3), state.indices_unlabeled[:3], n)


class MyError(QueryError):
    def __init__(self, code, detail):
        super().__init__(f"{code}: {detail}")


class RaisesItsOwn(Strategy):
    def query(self, state, n):
        raise MyError(7, "no luck")


class Interrupted(Strategy):
    def query(self, state, n):
        raise KeyboardInterrupt


def test_a_query_s_own_query_error_subclass_and_an_interrupt(corpus):
    """A QueryError subclass taking other arguments crashed the wrapping with a TypeError; an interrupt must pass."""
    with pytest.raises(QueryError, match=r"^strategy 'RaisesItsOwn', in the query at 20 texts labeled, state\.round "
                                         r"0: 7: no luck; no round was recorded"):
        simulate(corpus, RaisesItsOwn())
    with pytest.raises(KeyboardInterrupt):
        simulate(corpus, Interrupted())


def test_a_query_that_exits_the_process_or_misuses_al_s_helpers_is_one_line_naming_the_query(corpus):
    """sys.exit(0) in a query ended the run with exit 0 and nothing said (a grid's worker with it); an error of
    al's helpers (top_n, state.reveal) came without the strategy's name, the query, or what is kept."""
    with pytest.raises(QueryError, match=r"^strategy 'Exits' raised SystemExit: 0 \(at .*\), in the query at 20 "
                                         r"texts labeled, state\.round 0; no round was recorded: fix it"):
        simulate(corpus, Exits())
    with pytest.raises(QueryError, match=r"^strategy 'FewCandidates', in the query at 20 texts labeled, state\.round "
                                         r"0: top_n was asked for 10 of 3 candidates; give it at least 10 .*; no "
                                         r"round was recorded: fix it and run the same command to go on$"):
        simulate(corpus, FewCandidates())


class ThroughItsBase(Strategy):
    """Writes the run's own vectors through the view's ``base``, or a view taken from ``state.views`` itself."""

    requires = frozenset({"embeddings"})

    def __init__(self, how: str = "base"):
        super().__init__()
        self.how = how

    def query(self, state, n):
        if self.how == "base":
            np.asarray(state.embeddings.base)[:] = 0
        elif self.how == "views":
            state.views["embeddings"]()[:] = 0
        else:  # every attribute reachable from the view and its bases, and each one's own
            seen, reach, wrote = set(), [state.embeddings, state.views["embeddings"]()], False
            while reach:
                value = reach.pop()
                if id(value) in seen:
                    continue
                seen.add(id(value))
                if isinstance(value, np.ndarray) and value.flags.writeable:
                    value[:] = 0  # the run's own array, writable
                    wrote = True
                for attr in ("base", "obj"):
                    if getattr(value, attr, None) is not None:
                        reach.append(getattr(value, attr))
            if not wrote:
                raise ValueError("no attribute leads to writable memory (read-only)")
        return state.indices_unlabeled[:n]


@pytest.mark.parametrize("how, error", [("base", "read-only"), ("views", "read-only"), ("attributes", "read-only")])
def test_a_strategy_cannot_reach_the_run_s_vectors_through_a_view_s_base_or_the_views_themselves(corpus, how,
                                                                                                   error):
    """``state.embeddings.base[:] = 0`` wrote the run's own vectors (macro-F1 0.47 -> 0.28 with no word said), and
    ``state.views["embeddings"]()`` gave the run's array itself."""
    with pytest.raises(QueryError, match=rf"strategy 'ThroughItsBase' raised (ValueError|TypeError): .*{error}"):
        simulate(corpus, ThroughItsBase(how))


class Refits(Strategy):
    """Trains the round's classifier on its own: the views built from it change under the loop."""

    requires = frozenset({"classifier", "proba"})

    def query(self, state, n):
        scores = state.proba[state.indices_unlabeled, 0]
        X = np.eye(4, 8, dtype=np.float32)  # 4 texts of make_state's 8-d embeddings, one per label
        state.classifier.fit(X, sp.csr_matrix(np.eye(4, dtype=np.int8)))
        return state.indices_unlabeled[np.argsort(-scores, kind="stable")[:n]]


def test_conformance_catches_a_classifier_trained_by_a_query():
    with pytest.raises(ConformanceError, match=r"changed the classifier it was given .*and so does proba\); "
                                               r"the classifier view is read-only by convention: fit a copy"):
        check_strategy(Refits)


class SetsThresholds(Strategy):
    """Moves the round's classifier's decision thresholds: its proba stays, what it predicts does not."""

    requires = frozenset({"classifier"})

    def query(self, state, n):
        state.classifier.thresholds_ = np.full(state.n_labels, 0.99)
        return state.indices_unlabeled[:n]


class RefitsOnLabeled(Strategy):
    """Fits the round's classifier again on part of the labeled texts."""

    requires = frozenset({"classifier", "inputs"})

    def query(self, state, n):
        state.classifier.fit(state.inputs[state.indices_labeled[:10]], state.y_labeled[:10])
        return state.indices_unlabeled[:n]


class BreaksTheClassifier(Strategy):
    requires = frozenset({"classifier"})

    def query(self, state, n):
        del state.classifier.model_
        return state.indices_unlabeled[:n]


class ScoresWithACopy(Strategy):
    requires = frozenset({"classifier", "inputs"})

    def query(self, state, n):
        import copy

        mine = copy.deepcopy(state.classifier)
        mine.thresholds_ = np.full(state.n_labels, 0.99)
        mine.fit(state.inputs[state.indices_labeled[:10]], state.y_labeled[:10])
        return top_n(mine.predict_proba(state.inputs[state.indices_unlabeled]).max(1), state.indices_unlabeled, n)


@pytest.mark.parametrize("strategy, change", [(SetsThresholds, r"its decision thresholds \(thresholds_\) differ"),
                                              (RefitsOnLabeled, "it predicts otherwise"),
                                              (BreaksTheClassifier, "it cannot predict after the query: AttributeError")])
def test_a_run_refuses_a_query_that_changed_the_round_s_classifier(corpus, strategy, change):
    """The round's records, its stopping criteria and its classifier_info read the classifier after the query:
    thresholds moved there gave other kappas, without a word."""
    with pytest.raises(QueryError, match=rf"^strategy '{strategy.__name__}' changed the classifier it was given "
                                         rf"\({change}.*\), in the query at 20 texts labeled, state\.round 0: .*fit "
                                         r"a copy, copy\.deepcopy\(state\.classifier\); no round was recorded"):
        simulate(corpus, strategy())
    assert len(simulate(corpus, ScoresWithACopy())) == 3


class NoisyClassifier(LogisticRegressionClassifier):
    """Probabilities with noise of their own: another at each call."""

    def predict_proba(self, X):
        proba = super().predict_proba(X)
        return np.clip(proba + np.random.default_rng().normal(0, 0.01, proba.shape), 0, 1)


def test_only_a_user_strategy_that_got_the_classifier_is_probed(corpus, monkeypatch):
    """A strategy that reads proba alone cannot change the classifier, and a built-in one is not probed at all."""
    import al.engine

    def run(strategy):
        return Simulation(corpus, strategy, lambda s: NoisyClassifier(seed=s), hash_embed, initial=20, step=10,
                          budget=40, seed=0).run()

    class ProbaOnly(Strategy):
        requires = frozenset({"proba"})

        def query(self, state, n):
            return top_n(state.proba[state.indices_unlabeled].max(1), state.indices_unlabeled, n)

    assert len(run(ProbaOnly())) == 3  # the noisy classifier, never probed
    with pytest.raises(QueryError, match="changed the classifier it was given \\(it predicts otherwise"):
        run(ScoresWithACopy())  # it got the classifier: probed, and probabilities that vary call to call read as
    probes = []                 # a change (no classifier of al's does that)
    monkeypatch.setattr(al.engine, "classifier_probe", lambda *args: probes.append(args))
    pytest.importorskip("modAL")
    assert "classifier" in get_strategy("modal:max_score").requires  # a built-in that reads the classifier
    assert len(run(get_strategy("modal:max_score")())) == 3 and not probes  # never probed


def test_conformance_catches_thresholds_moved_by_a_query():
    with pytest.raises(ConformanceError, match=r"^strategy 'SetsThresholds' changed the classifier it was given"):
        check_strategy(SetsThresholds)
    check_strategy(ScoresWithACopy)


def test_a_state_keeps_its_own_copies_of_the_indices():
    labeled, unlabeled = np.arange(3), np.arange(3, 10)
    state = PoolState(labeled, unlabeled, sp.csr_matrix(np.eye(3, dtype=np.int8)), ("a", "b", "c"),
                      np.random.default_rng(0))
    with pytest.raises(ValueError, match="cannot set WRITEABLE flag"):
        state.indices_unlabeled.flags.writeable = True
    assert not np.shares_memory(state.indices_unlabeled, unlabeled)
    assert unlabeled[0] == 3 and labeled.flags.writeable and unlabeled.flags.writeable


# ------------------------------------------------------------ 3: last_info


class NumpyInfo(Strategy):
    requires = frozenset({"proba"})

    def query(self, state, n):
        p = state.proba[state.indices_unlabeled]
        self.last_info = {"n_uncertain": np.sum(np.abs(p - 0.5) < 0.1), "mean_p": p.mean(),
                          "per_label": p.mean(axis=0), "nested": {np.int64(1): [np.float32(0.5), float("nan")]},
                          "inf": np.inf, "flag": np.bool_(True), "ok": ("a", 1)}
        return state.indices_unlabeled[:n]


def test_numpy_values_in_last_info_are_stored_as_json(corpus, tmp_path):
    simulate(corpus, NumpyInfo(), records=RunRecords(tmp_path))
    info = read_rounds(tmp_path)[0]["strategy_info"]
    assert isinstance(info["n_uncertain"], int) and isinstance(info["mean_p"], float)
    assert isinstance(info["per_label"], list) and len(info["per_label"]) == len(corpus.label_names)
    assert info["nested"] == {"1": [0.5, None]} and info["inf"] is None and info["flag"] is True
    assert info["ok"] == ["a", 1]
    assert "NaN" not in (tmp_path / "rounds.jsonl").read_text()  # strict JSON


@pytest.mark.parametrize("info, where", [
    ({"model": object()}, r"put object in last_info\['model'\]"),
    ({"a": [1, {"b": {1, 2}}]}, r"put set in last_info\['a'\]\[1\]\['b'\]"),
    ({"a": {(1, 2): 3}}, r"put a tuple key in last_info\['a'\]"),
])
def test_a_last_info_value_without_a_json_form_is_a_query_error_naming_the_key(info, where):
    with pytest.raises(QueryError, match=rf"^strategy 'mine' {where}; expected .*convert it"):
        json_info(info, "mine")


# ------------------------------------------------------------ 4: process-wide generators (NumPy's, Python's, torch's)


class GlobalRandom(Strategy):
    def query(self, state, n):
        return np.random.choice(state.indices_unlabeled, n, replace=False)


class PythonRandom(Strategy):
    def query(self, state, n):
        return np.array(random.sample(list(state.indices_unlabeled), n))


class TorchRandom(Strategy):
    def query(self, state, n):
        import torch

        return state.indices_unlabeled[torch.randperm(len(state.indices_unlabeled))[:n].numpy()]


def global_states():
    """What code outside a query sees of the process-wide generators."""
    import torch

    return np.random.get_state()[1].tolist(), random.getstate(), torch.get_rng_state().tolist()


def scramble(seed):
    import torch

    np.random.seed(seed)
    random.seed(seed)
    torch.manual_seed(seed)


@pytest.mark.parametrize("draws", [GlobalRandom, PythonRandom, TorchRandom])
def test_a_strategy_drawing_from_a_process_wide_generator_repeats_its_picks(corpus, draws):
    pytest.importorskip("torch")
    picks = lambda seed: [r.get("picked") for r in simulate(corpus, draws(), seed=seed)]  # noqa: E731
    scramble(123)
    first = picks(0)
    scramble(456)  # whatever the global states, the same run seed picks the same texts
    assert picks(0) == first
    assert picks(1) != first
    scramble(123)
    outside = global_states()
    simulate(corpus, draws())
    assert global_states() == outside  # code outside a query sees no change


RESUMES = """
import random
import sys

import numpy as np

from al.classifiers.linear import LogisticRegressionClassifier
from al.engine import Simulation
from al.records import RunRecords
from al.strategy import Strategy
from tests.conftest import hash_embed, synthetic_corpus


class Draws(Strategy):
    def query(self, state, n):
        import torch  # here, not above: the first query of a process imports torch

        order = torch.randperm(len(state.indices_unlabeled)).numpy()
        return state.indices_unlabeled[np.roll(order, random.randrange(len(order)))[:n]]


def crash_after_round_2(record):
    if record["round"] == 2:
        raise SystemExit(0)


def run(out, on_round=None):
    records = RunRecords(out)
    records.start({"seed": 0}, {})
    Simulation(synthetic_corpus(), Draws(), lambda s: LogisticRegressionClassifier(seed=s), hash_embed,
               initial=20, step=10, budget=60, seed=0, records=records, on_round=on_round).run()


if sys.argv[1] == "whole":
    run(sys.argv[2])
    random.random()
    run(sys.argv[3], crash_after_round_2)
else:
    run(sys.argv[2])
"""


def test_a_run_resumed_in_a_new_process_picks_what_an_uninterrupted_one_picks(tmp_path):
    """A strategy drawing from Python's ``random`` and from torch (imported in its first query) picks the same
    texts whether its run went on or stopped after round 2 and resumed in a new process."""
    pytest.importorskip("torch")
    (tmp_path / "resumes.py").write_text(RESUMES)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for args in (["whole", "whole", "stopped"], ["resume", "stopped"]):
        result = subprocess.run([sys.executable, str(tmp_path / "resumes.py"), *[str(tmp_path / a) for a in args]],
                                cwd=tmp_path, capture_output=True, text=True, env=env)
        assert result.returncode == 0, result.stderr
    picked = {name: [r.get("picked") for r in read_rounds(tmp_path / name)] for name in ("whole", "stopped")}
    assert len(picked["whole"]) == 5 and picked["whole"][3]  # rounds 3 and 4 ran in the resuming process
    assert picked["stopped"] == picked["whole"]


NESTED_HOOKS = """
import sys
import numpy as np
from al.engine import seeded_global_random
assert "torch" not in sys.modules
with seeded_global_random(np.random.SeedSequence([0, 1, 4])):
    with seeded_global_random(np.random.SeedSequence([0, 2, 4])):  # two queries' hooks at once
        import torch
        inner = torch.rand(3).tolist()
with seeded_global_random(np.random.SeedSequence([0, 2, 4])):
    assert torch.rand(3).tolist() == inner  # the innermost query's seed, as when torch was imported already
print("ok")
"""


def test_two_queries_hooks_at_once_seed_torch_once_without_recursion(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "nested.py").write_text(NESTED_HOOKS)
    result = subprocess.run([sys.executable, str(tmp_path / "nested.py")], cwd=tmp_path, capture_output=True,
                            text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


def test_a_query_never_reseeds_torch_under_a_seeded_fit_in_another_thread():
    """al.annotate fits in a background thread while the next query runs: the fit draws what it draws alone."""
    import threading
    import time

    torch = pytest.importorskip("torch")
    from al.device import seeded_torch
    from al.engine import seeded_global_random

    def fit(out: list, started: threading.Event) -> None:
        with seeded_torch(123):
            started.set()
            for _ in range(20):
                out.append(float(torch.rand(1)))
                time.sleep(0.002)

    alone: list = []
    fit(alone, threading.Event())
    beside: list = []
    started = threading.Event()
    thread = threading.Thread(target=fit, args=(beside, started))
    thread.start()
    started.wait(10)
    for r in range(5):  # queries of a user strategy meanwhile, each seeding torch
        with seeded_global_random(np.random.SeedSequence([0, r, 4])):
            torch.rand(2)
    thread.join(10)
    assert beside == alone


def test_built_in_strategies_leave_torch_alone_and_users_get_it_seeded(monkeypatch):
    import al.engine
    from strategies.random_sampling import RandomSampling
    from tests.conftest import synthetic_corpus

    asked = []
    real = al.engine.seeded_global_random

    def recording(seed, torch_too=True):
        asked.append(torch_too)
        return real(seed, torch_too)

    monkeypatch.setattr(al.engine, "seeded_global_random", recording)

    class Mine(RandomSampling):  # a user's subclass of a built-in: the user's code may draw from torch
        pass

    for strategy in (RandomSampling(), Mine()):
        Simulation(corpus=synthetic_corpus(200), strategy=strategy, embed=hash_embed, initial=20, step=10,
                   budget=30, make_classifier=lambda s: LogisticRegressionClassifier(seed=s)).run()
    assert asked == [False, True]


# ------------------------------------------------------------ user modules


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """``usermod_strategy.py`` on sys.path with the classes below; ``write(source)`` replaces it."""
    name = "usermod_strategy"

    def write(source: str) -> str:
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        sys.modules.pop(name, None)
        return name

    monkeypatch.syspath_prepend(str(tmp_path))
    yield write
    sys.modules.pop(name, None)


USER_CLASSES = """
    import numpy as np
    from al.strategy import Strategy
    from strategies.uncertainty import Margin

    class Seeded(Strategy):
        def __init__(self, seed: int = 0, device: str = "cpu", n_init: int = 3):
            super().__init__()
            self.seed, self.device, self.n_init = seed, device, n_init

        def query(self, state, n):
            return state.indices_unlabeled[:n]

    class Kw(Strategy):
        def __init__(self, **kwargs):
            super().__init__()
            self.opts = kwargs

        def query(self, state, n):
            return state.indices_unlabeled[:n]

    class Abstract(Strategy):
        def qeury(self, state, n):
            return state.indices_unlabeled[:n]

    class NoN(Strategy):
        def query(self, state):
            return state.indices_unlabeled[:50]

    class StaticQuery(Strategy):
        @staticmethod
        def query(state, n):
            return state.indices_unlabeled[:n]

    class InitBug(Strategy):
        def __init__(self, k: int = 3):
            super().__init__()
            self.k = len(k)

        def query(self, state, n):
            return state.indices_unlabeled[:n]

    class InitValue(Strategy):
        def __init__(self, k: int = 3):
            super().__init__()
            if k < 0:
                raise ValueError("k must be >= 0")
            self.k = k

        def query(self, state, n):
            return state.indices_unlabeled[:n]

    class MyMargin(Margin):
        def query(self, state, n):
            picked = super().query(state, n)
            return np.concatenate([picked[:-1], picked[:1]])

    class Typo(Strategy):
        requires = frozenset({"embedings"})

        def query(self, state, n):
            return state.indices_unlabeled[:n]

    class Spelt(Strategy):
        requires = "proba"

        def query(self, state, n):
            return state.indices_unlabeled[:n]
"""


# ------------------------------------------------------------ 6: seed and device


def test_a_constructor_naming_seed_or_device_gets_the_run_s(user_module):
    module = user_module(USER_CLASSES)
    strategy = SimulationConfig(strategy=f"{module}:Seeded", seed=7, device="cpu")._validated().make_strategy()
    assert (strategy.seed, strategy.device, strategy.n_init) == (7, "cpu", 3)
    with pytest.raises(ConfigError, match=r"seed is set by the run's seed \(--seed\)"):
        SimulationConfig(strategy={"name": f"{module}:Seeded", "params": {"seed": 3}})._validated()
    # a **kwargs constructor gets only what it is given
    assert SimulationConfig(strategy=f"{module}:Kw", seed=7).make_strategy().opts == {}


def test_alps_keeps_its_own_run_settings_and_its_fixed_seed():
    kwargs = SimulationConfig(strategy="alps", seed=5, device="cpu").strategy_kwargs()
    assert kwargs == {"device": "cpu", "precision": "fp32"}


def test_a_kwargs_subclass_still_gets_the_run_settings_its_class_declares(user_module):
    """A subclass of ALPS taking **kwargs runs on the run's precision and device, as ALPS itself does."""
    module = user_module("""
from strategies.alps import ALPS

class KwALPS(ALPS):
    def __init__(self, extra=0, **kwargs):
        super().__init__(**kwargs)
""")
    kwargs = SimulationConfig(strategy=f"{module}:KwALPS", seed=5, device="cpu", embed_precision="bf16"
                              ).strategy_kwargs()
    assert kwargs == {"device": "cpu", "precision": "bf16"}


# ------------------------------------------------------------ 13: constructor errors


@pytest.mark.parametrize("cls, params, message", [
    ("Abstract", {}, r"\(usermod_strategy\.Abstract\) does not implement query; define it in the class \(it "
                     r"defines qeury: misspelt\?\)$"),
    ("NoN", {}, r"defines query\(self, state\); expected query\(self, state, n\): the loop calls "
                r"strategy\.query\(state, n\)"),  # said on load, not after the data and the first fit
    ("InitBug", {}, r"could not be constructed with \{\}: TypeError: object of type 'int' has no len\(\) "
                    r"\(at .*usermod_strategy\.py:\d+\)$"),
    ("InitValue", {"k": -1}, r"could not be constructed with \{'k': -1\}: ValueError: k must be >= 0"),
    ("InitValue", {"j": 1}, r"has no parameter 'j'; accepted: k$"),
])
def test_constructor_errors_are_one_config_error_line(user_module, cls, params, message):
    module = user_module(USER_CLASSES)
    with pytest.raises(ConfigError, match=rf"^strategy '{module}:{cls}'.* {message}") as info:
        SimulationConfig(strategy={"name": f"{module}:{cls}", "params": params}).validate()
    assert "\n" not in str(info.value) and "rejects its parameters" not in str(info.value)


def test_a_static_query_taking_state_and_n_is_accepted(user_module):
    module = user_module(USER_CLASSES)
    from al.testing import make_state

    strategy = SimulationConfig(strategy=f"{module}:StaticQuery").validate().make_strategy()
    state, _ = make_state()
    assert strategy.query(state, 3).tolist() == state.indices_unlabeled[:3].tolist()


def test_a_constructor_error_on_the_command_line_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "valuemod.py").write_text(textwrap.dedent("""
        from al.strategy import Strategy

        class InitValue(Strategy):
            def __init__(self, k: int = 3):
                super().__init__()
                if k < 0:
                    raise ValueError("k must be >= 0")

            def query(self, state, n):
                return state.indices_unlabeled[:n]
    """))
    result = subprocess.run(
        [sys.executable, "-m", "al.simulate", "--strategy", "valuemod:InitValue", "--strategy-param", "k=-1",
         "--out", str(tmp_path / "run"), "--quiet"],
        cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "valuemod:InitValue" in result.stderr and "ValueError: k must be >= 0" in result.stderr


# ------------------------------------------------------------ 8, 9, 10, 11: loading a module:Class


@pytest.mark.parametrize("source, error", [
    ("X = undefined_name\n", "NameError: name 'undefined_name' is not defined"),
    ("def f(:\n", "SyntaxError: "),
    ("raise RuntimeError('no GPU here')\n", "RuntimeError: no GPU here"),
])
def test_a_module_that_raises_at_import_is_one_config_error(user_module, source, error):
    module = user_module(source)
    with pytest.raises(ConfigError, match=rf"^strategy '{module}:X' could not be loaded: module {module} failed to "
                                          rf"import: {error}"):
        get_strategy(f"{module}:X")


def test_a_subclass_of_a_builtin_answers_to_its_own_name(user_module, corpus):
    module = user_module(USER_CLASSES)
    cls = get_strategy(f"{module}:MyMargin")
    assert cls.name == f"{module}:MyMargin" and Margin.name == "margin" and get_strategy("margin") is Margin
    with pytest.raises(QueryError, match=rf"^strategy '{module}:MyMargin' returned duplicate indices"):
        simulate(corpus, cls())


def test_a_module_in_the_working_directory_is_found_without_it_on_sys_path(tmp_path, monkeypatch):
    (tmp_path / "cwd_only_strategy.py").write_text(textwrap.dedent("""
        from al.strategy import Strategy

        class Mine(Strategy):
            def query(self, state, n):
                return state.indices_unlabeled[:n]
    """))
    monkeypatch.chdir(tmp_path)
    here = {str(tmp_path), ""}
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in here])  # as under an installed console script
    monkeypatch.delitem(sys.modules, "cwd_only_strategy", raising=False)
    assert get_strategy("cwd_only_strategy:Mine").__name__ == "Mine"
    assert sys.path[-1] == str(tmp_path)  # appended: it never hides an installed package
    before = list(sys.path)
    with pytest.raises(ConfigError, match="cannot import module 'nowhere_strategy'"):
        get_strategy("nowhere_strategy:Mine")
    assert sys.path == before
    sys.modules.pop("cwd_only_strategy", None)


@pytest.mark.parametrize("cls, message", [
    ("Typo", r"requires unknown view\(s\) 'embedings' \(did you mean embeddings\?\); known: classifier, embeddings"),
    ("Spelt", r"requires is 'proba'; expected a set of view names \(a frozenset, set, list or tuple\), e.g. "
              r"frozenset\(\{'proba'\}\) for that one view"),
])
def test_requires_is_checked_when_the_class_is_loaded(user_module, cls, message):
    module = user_module(USER_CLASSES)
    with pytest.raises(ConfigError, match=rf"^strategy '{module}:{cls}'(:)? {message}"):
        get_strategy(f"{module}:{cls}")


# ------------------------------------------------------------ 5, 7: entry points


def test_a_plugin_declaring_a_builtin_s_name_is_refused_naming_both(tmp_path, monkeypatch):
    (tmp_path / "clash_plugin.py").write_text("from strategies.random_sampling import RandomSampling as Mine\n")
    dist = tmp_path / "clash_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: clash-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[al.strategies]\nrandom = clash_plugin:Mine\n"
                                           "[al.strategy_families]\nsmalltext = clash_plugin:Mine\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("random", "smalltext:BreakingTies"):
        with pytest.raises(ConfigError) as info:
            get_strategy(name)
        message = str(info.value)
        assert message.startswith(f"entry point '{name.split(':')[0]}' of al.strategies") or "strategy_families" in message
        assert "clash-plugin (clash_plugin:Mine)" in message and "al (strategies." in message
        assert "uninstall one, or rename the plugin's entry point" in message
    assert get_strategy("margin") is Margin  # every other name still works
    sys.modules.pop("clash_plugin", None)


def test_a_user_file_named_strategies_is_named_when_a_builtin_fails(tmp_path):
    (tmp_path / "strategies.py").write_text("X = 1\n")
    code = ("from al.errors import ConfigError\nfrom al.registry import get_strategy\n"
            "try:\n    get_strategy('margin')\nexcept ConfigError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)}).stdout
    assert "'strategies' is not a package" in out
    assert out.rstrip().endswith(f"{tmp_path / 'strategies.py'} hides the package 'strategies' that module "
                                 f"belongs to: rename your file")


HIDDEN = """
import sys
from importlib.machinery import PathFinder

REPO, how = sys.argv[1], sys.argv[2]


class Editable:
    \"\"\"As setuptools' editable finder: al's packages mapped to the checkout, after sys.path.\"\"\"

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        top, _, _ = name.partition(".")
        if top in ("al", "strategies"):
            return PathFinder.find_spec(name, [REPO] if top == name else [f"{REPO}/{name.rpartition('.')[0]}"])
        return None


sys.meta_path[:] = [f for f in sys.meta_path if "Editable" not in getattr(f, "__name__", type(f).__name__)]
if how == "installed":
    sys.path.append(REPO)  # al's packages after the working directory, as in site-packages
else:
    sys.meta_path.append(Editable)

from al.errors import ConfigError
from al.registry import get_strategy

try:
    print(get_strategy("margin").__module__)
except ConfigError as exc:
    print(exc)
"""


@pytest.mark.parametrize("how, init, module, said", [
    ("installed", True, False, "failed to import: ModuleNotFoundError: No module named 'strategies.uncertainty'"),
    ("editable", False, True, "is {folder}/uncertainty.py"),  # a namespace folder, read before the checkout's
    ("editable", True, True, "is {folder}/uncertainty.py"),
    ("installed", False, True, None),  # a namespace folder: a package later on sys.path comes first
    ("editable", False, False, None),  # nothing of it is read: the checkout's strategies.uncertainty is
])
def test_a_user_folder_named_strategies_is_named_when_it_hides_the_builtins(tmp_path, how, init, module, said):
    folder = tmp_path / "strategies"
    folder.mkdir()
    if init:
        (folder / "__init__.py").write_text("")
    if module:
        (folder / "uncertainty.py").write_text("X = 1\n")
    (tmp_path / "hidden.py").write_text(HIDDEN)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "hidden.py", str(REPO), how], cwd=tmp_path, capture_output=True,
                            text=True, env=env)
    assert result.returncode == 0, result.stderr
    if said is None:
        assert result.stdout == "strategies.uncertainty\n"
        return
    assert result.stdout.count("\n") == 1  # one line
    assert result.stdout.startswith("strategy 'margin' could not be loaded: module strategies.uncertainty ")
    assert said.format(folder=folder) in result.stdout
    assert result.stdout.rstrip().endswith(f"; {folder} hides the package 'strategies' that module belongs to: "
                                           f"rename your folder")


def test_a_copy_of_the_project_run_from_its_root_is_not_a_hiding_folder(tmp_path):
    """A second checkout or a worktree (benchmarks compare old code with new) runs its own built-ins."""
    import shutil

    copy = tmp_path / "copy"
    for name in ("al", "strategies"):
        shutil.copytree(REPO / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "probe.py").write_text("import al\nfrom al.registry import get_strategy\nprint(al.__file__)\n"
                                   "print(get_strategy('margin').__module__)\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "probe.py"], cwd=copy, capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    where, module = result.stdout.splitlines()
    assert where == str(copy / "al" / "__init__.py") and module == "strategies.uncertainty"


def test_a_package_failing_for_another_reason_is_not_called_shadowed(monkeypatch):
    monkeypatch.delitem(sys.modules, "strategies.dal", raising=False)
    monkeypatch.setitem(sys.modules, "strategies.dal", None)
    with pytest.raises(ConfigError) as info:
        get_strategy("dal")
    assert "hides the package" not in str(info.value)


# ------------------------------------------------------------ 12, 14: answers and reveal


@pytest.mark.parametrize("answer, message", [
    (lambda s, n: None, r"returned NoneType; return an int array of 5 distinct indices from "
                        r"state\.indices_unlabeled$"),
    (lambda s, n: set(s.indices_unlabeled[:n].tolist()), r"returned set; return an int array"),
    (lambda s, n: (int(i) for i in s.indices_unlabeled[:n]), r"returned generator; return an int array"),
    (lambda s, n: [str(i) for i in s.indices_unlabeled[:n]], r"returned a list read as shape \(5,\) and dtype <U2; "),
    (lambda s, n: s.indices_unlabeled[:n, None], r"returned an array of shape \(5, 1\) and dtype int64; "),
    (lambda s, n: s.indices_unlabeled[:1], r"returned 1 index; expected 5: return an int array"),
    (lambda s, n: np.r_[s.indices_unlabeled[:3], s.indices_unlabeled[:2]],
     r"returned duplicate indices: 2 indices more than once \(12, 13\); return an int array of 5 distinct"),
    (lambda s, n: np.r_[s.indices_unlabeled[: n - 1], s.indices_labeled[:1]],
     r"returned 1 index of a text labeled already \(0\); return"),
    (lambda s, n: np.r_[s.indices_unlabeled[: n - 2], s.indices_labeled[:1], -3],
     r"returned 1 index of a text labeled already \(0\) and 1 index outside the pool of 60 texts \(0\.\.59: -3\); "
     r"return"),
])
def test_refusals_say_what_came_and_how_to_fix_it(answer, message):
    state, _ = make_state()
    with pytest.raises(QueryError, match=rf"^strategy 'mine' {message}"):
        validate_answer(answer(state, 5), state, 5, "mine")


def test_lists_and_unsigned_integers_are_answers_too():
    state, _ = make_state()
    expected = state.indices_unlabeled[:5]
    assert validate_answer(expected.tolist(), state, 5, "mine").tolist() == expected.tolist()
    assert validate_answer(expected.astype(np.uint32), state, 5, "mine").dtype == np.int64


class RevealFloat(Strategy):
    requires = frozenset({"reveal"})

    def query(self, state, n):
        state.reveal(state.indices_unlabeled[:2].astype(float) + 0.7)
        return state.indices_unlabeled[:n]


def test_reveal_refuses_float_indices(corpus):
    with pytest.raises(QueryError, match=r"^strategy 'RevealFloat', in the query at 20 texts labeled, state\.round 0: "
                                         r"state\.reveal got an array of shape \(2,\) and dtype float64; expected "
                                         r"a 1-d integer array .*; no round was recorded: fix it and run the same "
                                         r"command to go on$"):
        simulate(corpus, RevealFloat())


def test_json_info_leaves_plain_values_as_they_are():
    info = {"targets": ["a", "b"], "beta": 0.25, "counts": {1: 2}, "n": 3, "none": None}
    assert json_info(info, "x") == info
    assert json.dumps(json_info(info, "x")) == json.dumps(info)


def test_what_a_mistake_in_naming_or_configuring_a_strategy_is_told(user_module):
    module = user_module(USER_CLASSES + """
    class _Base(Strategy):
        pass


    class OldSignature(Strategy):
        def query(self, state):
            return state.indices_unlabeled[:1]


    class TextRequires(Strategy):
        requires = "proba"

        def query(self, state, n):
            return state.indices_unlabeled[:n]
    """)
    with pytest.raises(ConfigError, match=rf"^unknown strategy '{module}\.Seeded'; a class in a module is written "
                                          rf"with a colon: {module}:Seeded$"):
        SimulationConfig(strategy=f"{module}.Seeded").validate()
    # those it lists as strategies can be named; a class that would be refused (query(self, state), requires a
    # string) is said apart
    with pytest.raises(ConfigError, match=r"its strategies: (?!.*_Base)(?!.*Abstract)[^;]*Seeded[^;]*; and "
                                          r"NoN, OldSignature, Spelt, TextRequires, Typo, refused if named \(name "
                                          r"one to see why\)$"):  # USER_CLASSES' refused ones too
        SimulationConfig(strategy=f"{module}:Seedd").validate()
    assert "name" not in vars(sys.modules[module].Seeded)  # listing it named nothing
    with pytest.raises(ConfigError, match=r"has no attribute 'OldSignatur' \(did you mean OldSignature\?\)"):
        SimulationConfig(strategy=f"{module}:OldSignatur").validate()
    only_refused = user_module("""
    from al.strategy import Strategy


    class OldSignature(Strategy):
        name = ""  # empty: a lookup's checks name it, and give the name back

        def query(self, state):
            return state.indices_unlabeled[:1]
    """)
    with pytest.raises(ConfigError, match=r"has no attribute 'Old' ?; its Strategy subclasses OldSignature, refused "
                                          r"if named \(name one to see why\)$"):  # not "it defines no subclass"
        SimulationConfig(strategy=f"{only_refused}:Old").validate()
    assert sys.modules[only_refused].OldSignature.name == ""
    with pytest.raises(ConfigError, match=r"defines query\(self, state\)"):
        SimulationConfig(strategy=f"{module}:OldSignature").validate()
    with pytest.raises(ConfigError, match=rf"^unknown strategy '{module}'; a module of that name can be imported: "
                                          rf"name its strategy class with a colon, {module}:ClassName \("):
        SimulationConfig(strategy=module).validate()  # the module alone: it listed the built-in strategies
    with pytest.raises(ConfigError, match=r"^unknown strategy 'json'; known: "):  # a standard module is no hint
        SimulationConfig(strategy="json").validate()
    from pathlib import Path

    folder = Path(sys.modules[module].__file__).parent / "data_folder"  # a bare folder on the path: no module hint
    folder.mkdir()
    with pytest.raises(ConfigError, match=r"^unknown strategy 'data_folder'; known: "):
        SimulationConfig(strategy="data_folder").validate()
    with pytest.raises(ConfigError, match=r"unknown key\(s\) 'parms' \(did you mean params\?\)$"):
        SimulationConfig(strategy={"name": f"{module}:Seeded", "parms": {"n_init": 3}}).validate()


def test_a_missing_required_parameter_says_how_to_give_it(user_module):
    module = user_module("""
    from al.strategy import Strategy

    class NeedsK(Strategy):
        def __init__(self, k: int):
            super().__init__()
            self.k = k

        def query(self, state, n):
            return state.indices_unlabeled[:n]
    """)
    with pytest.raises(ConfigError, match=r"missing a required argument: 'k'; accepted: k; give it with "
                                          r"--strategy-param k=VALUE \(in YAML: strategy: \{name: \.\.\., params: "
                                          r"\{k: VALUE\}\}\)$"):
        SimulationConfig(strategy=f"{module}:NeedsK")._validated()


def test_scores_returned_for_indices_are_named_as_such():
    from al.errors import QueryError
    from al.strategy import validate_answer
    from al.testing import make_state

    state, _ = make_state()
    scores = state.proba[state.indices_unlabeled].max(axis=1)
    with pytest.raises(QueryError, match=r"returned an array of shape \(48,\) and dtype float\d+; .*; scores, one per "
                                         r"unlabeled text\? rank them: top_n\(scores, state\.indices_unlabeled, n\)$"):
        validate_answer(scores, state, 5, "x")


def test_a_strategy_class_given_to_the_python_api_goes_by_the_name_the_command_line_knows(tmp_path, monkeypatch):
    """``SimulationConfig(strategy=MyClass)`` was refused ('must be a name or a mapping'): a class is its name."""
    from strategies.cvirs import CVIRS

    assert SimulationConfig(strategy=CVIRS).strategy.name == "cvirs"  # its entry point's name, as --strategy cvirs
    assert SimulationConfig(strategy=Margin).strategy.name == "margin"
    config = SimulationConfig(strategy=FirstN)
    assert config.strategy.name == "tests.unit.test_user_strategy:FirstN"
    config.validate()
    assert config.strategy_class() is FirstN
    with pytest.raises(ConfigError, match="classifier must be a name or a mapping"):  # the strategy's alone
        SimulationConfig(classifier=FirstN)
    given = SimulationConfig(strategy={"name": FirstN, "params": {}}).strategy  # a mapping naming the class
    assert given.name == "tests.unit.test_user_strategy:FirstN"
    from al.registry import register
    from al.strategy import Strategy

    @register("first_n_in_this_process")  # known by that name only where the module is imported
    class Registered(Strategy):
        def query(self, state, n):
            return state.indices_unlabeled[:n]

    assert SimulationConfig(strategy=Registered).strategy.name.endswith("test_user_strategy:" + Registered.__qualname__)


def test_a_scripts_own_strategy_named_where_that_script_does_not_run_says_to_move_it_into_a_module(monkeypatch):
    """A run made from a script records ``__main__:Inline``; its config.json given to al.simulate said "module
    '__main__' has no attribute 'Inline'; it defines no Strategy subclass", __main__ being al.simulate itself."""
    import types

    script = types.ModuleType("__main__")
    script.__spec__ = types.SimpleNamespace(name="al.simulate")
    monkeypatch.setitem(sys.modules, "__main__", script)
    with pytest.raises(ConfigError, match=r"^strategy '__main__:Inline' is a class of the script that ran it, and "
                                          r"al\.simulate runs here as __main__, not that script; move the class into a "
                                          r"module of its own \(mystrategies\.py\) and give mystrategies:Inline, or "
                                          r"run it from that script \(al\.simulate\.run\)$"):
        get_strategy("__main__:Inline")


def test_an_error_raised_with_no_text_is_its_type_alone(corpus):
    """``MemoryError()`` read 'raised MemoryError: (at ...)'."""
    from al.errors import exception_text

    assert exception_text(MemoryError()) == "MemoryError"
    assert exception_text(ValueError("k must\n be >= 0")) == "ValueError: k must be >= 0"

    class OutOfMemory(Strategy):
        def query(self, state, n):
            raise MemoryError

    with pytest.raises(QueryError, match=r"strategy 'OutOfMemory' raised MemoryError "
                                         r"\(at .*test_user_strategy\.py:\d+\), "):
        simulate(corpus, OutOfMemory())


@pytest.mark.parametrize("which", ["labeled", "past"])
def test_a_run_refuses_a_reveal_outside_the_unlabeled_texts(corpus, which):
    """The run's annotator would give a labeled text's labels again, or fail on an index past the pool (the strategy
    the checker's test refuses, run)."""
    from tests.unit.test_testing_checks import RevealsOutside

    with pytest.raises(QueryError, match=r"^strategy 'RevealsOutside', in the query at 20 texts labeled, state\.round "
                                         r"0: state\.reveal got 1 of 1 indices that are not unlabeled pool texts "
                                         r"\(e\.g\. \[\d+\]\); reveal only indices from state\.indices_unlabeled; no "
                                         r"round was recorded"):
        simulate(corpus, RevealsOutside(which))


def test_a_misspelt_classifier_method_is_named_with_the_one_meant(user_module, capsys):
    """'needs a classifier with predict_probaa, ...; use --classifier of your own that has it': --classifier takes
    al's classifiers alone, and the method was misspelt."""
    module = user_module("""
    from al.strategy import Strategy


    class Misspelt(Strategy):
        classifier_methods = ("predict_probaa",)

        def query(self, state, n):
            return state.indices_unlabeled[:n]

    class Mixed(Strategy):
        classifier_methods = ("predict_proba_dropout", "predict_probaa")

        def query(self, state, n):
            return state.indices_unlabeled[:n]
    """)
    with pytest.raises(ConfigError, match=r"^strategy '[\w:]+Misspelt' needs a classifier with predict_probaa, which "
                                          r"classifier 'logreg' lacks; no classifier of al's has predict_probaa \(did "
                                          r"you mean predict_probaa -> predict_proba\?\): fix the strategy's "
                                          r"classifier_methods, or use another strategy$"):
        SimulationConfig(strategy=f"{module}:Misspelt")._validated()
    # one spelt right (bert has it), one misspelt: the guess is for the misspelt one alone
    with pytest.raises(ConfigError, match=r"with predict_proba_dropout, predict_probaa, which classifier 'logreg' "
                                          r"lacks; no classifier of al's has predict_probaa \(did you mean "
                                          r"predict_probaa -> predict_proba\?\): fix"):
        SimulationConfig(strategy=f"{module}:Mixed")._validated()
    from al.testing.__main__ import main

    assert main([f"{module}:Misspelt"]) == 2
    assert capsys.readouterr().err.startswith(  # not al.simulate's "or use another strategy"
        f"error: {module}:Misspelt could not be checked: strategy '{module}:Misspelt' needs a classifier with "
        f"predict_probaa, which classifier 'logreg' lacks; no classifier of al's has predict_probaa (did you mean "
        f"predict_probaa -> predict_proba?) (these checks fit")
