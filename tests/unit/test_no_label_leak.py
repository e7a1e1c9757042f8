"""A strategy cannot reach the gold labels of unlabeled texts, through any door the loop opens.

Every text of the corpus carries its own label row (a distinct binary code over
ten labels), so the gold labels of the unlabeled pool texts are a set of rows
that nothing but those labels can hold: texts are noise words, unrelated to the
codes, so no classifier output reproduces them. A spy strategy reads every view
and walks everything reachable from the state it is given (its fields, the
closures of its view and annotator callables, the classifier's attributes), and
reports every array or sparse matrix that holds all those rows (as rows, as
columns or flattened). The loop is :class:`al.engine.Simulation`, as built by
the CLI.
"""
from __future__ import annotations

import functools
import types
from collections.abc import Mapping
from typing import Any, Callable

import numpy as np
import pytest
import scipy.sparse as sp

from al.classifiers.linear import LogisticRegressionClassifier
from al.datasets.corpus import Corpus, make_corpus
from al.engine import Simulation
from al.errors import ViewNotAvailableError
from al.strategy import VIEWS, PoolState, Strategy
from tests.conftest import hash_embed

N_LABELS = 10


def coded_corpus(n_texts: int = 240, seed: int = 0) -> Corpus:
    """Each text's label row is a distinct non-zero 10-bit code; texts are noise words."""
    rng = np.random.default_rng(seed)
    codes = rng.permutation(np.arange(1, 2**N_LABELS))[:n_texts]
    Y = ((codes[:, None] >> np.arange(N_LABELS)) & 1).astype(np.int8)
    texts = [f"doc{i} " + " ".join(f"w{rng.integers(40)}" for _ in range(8)) for i in range(n_texts)]
    perm = rng.permutation(n_texts)
    splits = {"test": perm[:40], "dev": perm[40:60], "train": perm[60:]}
    return make_corpus("coded", texts, Y, [f"bit{j}" for j in range(N_LABELS)], splits)


# -- finding a label matrix anywhere -------------------------------------------------------------------------


def holds_rows(value: np.ndarray, target: np.ndarray) -> bool:
    """Whether ``value`` holds every row of ``target`` (n, n_labels): as rows, as columns, or flattened."""
    if value.dtype == object or value.size < target.size:
        return False
    width = target.shape[1]
    if value.ndim == 1:
        if value.size % width:
            return False
        candidates = [value.reshape(-1, width)]
    elif value.ndim == 2:
        candidates = [m for m in (value, value.T) if m.shape[1] == width]
    else:
        return False
    wanted = {row.tobytes() for row in np.ascontiguousarray(target, dtype=np.float64)}
    for matrix in candidates:
        try:
            rows = np.ascontiguousarray(matrix, dtype=np.float64)
        except (TypeError, ValueError):
            continue
        if wanted <= {row.tobytes() for row in rows}:
            return True
    return False


ATOMS = (str, bytes, int, float, complex, bool, type(None), np.generic, np.random.Generator, np.dtype, range)


def leaks(root: Any, target: np.ndarray, path: str, follow_functions: bool, seen: dict[int, Any] | None = None,
          depth: int = 0) -> list[str]:
    """Paths below ``root`` to arrays or sparse matrices holding every row of ``target``.

    Walks mappings, sequences, object attributes (``__dict__`` and slots) and,
    when ``follow_functions``, the closure cells, defaults, bound ``self`` and
    ``functools.partial`` arguments of callables.
    """
    seen = {} if seen is None else seen  # id -> object: holding it keeps the id from being reused
    if depth > 12 or id(root) in seen or isinstance(root, ATOMS):
        return []
    seen[id(root)] = root
    if sp.issparse(root):
        return [path] if holds_rows(root.toarray(), target) else []
    if isinstance(root, np.ndarray):
        return [path] if holds_rows(root, target) else []
    if isinstance(root, (types.ModuleType, type)):
        return []
    found: list[str] = []

    def walk(child: Any, where: str) -> None:
        found.extend(leaks(child, target, where, follow_functions, seen, depth + 1))

    if isinstance(root, (types.FunctionType, types.MethodType, functools.partial)) or (
        callable(root) and hasattr(root, "__closure__")
    ):
        if follow_functions:
            function = root
            if isinstance(root, types.MethodType):
                walk(root.__self__, f"{path}.__self__")
                function = root.__func__
            if isinstance(root, functools.partial):
                walk(root.func, f"{path}.func")
                walk(root.args, f"{path}.args")
                walk(root.keywords, f"{path}.keywords")
                return found
            names = function.__code__.co_freevars
            for name, cell in zip(names, function.__closure__ or ()):
                try:
                    walk(cell.cell_contents, f"{path}<closure {name}>")
                except ValueError:  # empty cell
                    pass
            walk(function.__defaults__, f"{path}.__defaults__")
            walk(function.__kwdefaults__, f"{path}.__kwdefaults__")
        return found
    if isinstance(root, Mapping):
        for key, value in list(root.items()):
            walk(value, f"{path}[{key!r}]")
        return found
    if isinstance(root, (list, tuple, set, frozenset)):
        items = list(root)
        if items and all(isinstance(x, (list, tuple)) for x in items):  # a nested list may be a matrix
            try:
                walk(np.asarray(items, dtype=np.float64), f"{path}(as array)")
            except (TypeError, ValueError):
                pass
        for i, value in enumerate(items):
            walk(value, f"{path}[{i}]")
        return found
    attributes = dict(vars(root)) if hasattr(root, "__dict__") else {}
    for slot in getattr(type(root), "__slots__", ()):
        if hasattr(root, slot):
            attributes[slot] = getattr(root, slot)
    for name, value in attributes.items():
        walk(value, f"{path}.{name}")
    return found


# -- what the spy looks at, channel by channel -----------------------------------------------------------------

CHANNELS: dict[str, Callable[[PoolState, np.ndarray], list[str]]] = {
    **{
        f"view {name}": (lambda name: lambda state, target: leaks(state.view(name), target, f"state.{name}", False))(name)
        for name in VIEWS  # texts, embeddings, proba, representations, classifier (with its attributes), inputs
    },
    "state attributes": lambda state, target: leaks(vars(state), target, "vars(state)", False),
    "closures of the views": lambda state, target: leaks(dict(state.views), target, "state.views", True),
    "closure of the annotator": lambda state, target: leaks(state.oracle, target, "state.oracle", True),
}


class Spy(Strategy):
    """Reads every view, walks every channel, then picks the first unlabeled texts."""

    requires = frozenset(VIEWS)

    def __init__(self, Y_pool: np.ndarray) -> None:
        super().__init__()
        self._Y_pool = Y_pool  # the test's copy, to recognise the labels; the loop never sees it
        self.found: dict[str, list[str]] = {channel: [] for channel in CHANNELS}
        self.rounds = 0

    def query(self, state: PoolState, n: int) -> np.ndarray:
        target = self._Y_pool[state.indices_unlabeled]
        self.offered = sorted(state.views)
        for name in self.offered:
            state.view(name)  # every view the loop offers is built before anything is walked
        for channel, look in CHANNELS.items():
            if channel.startswith("view ") and channel[5:] not in state.views:
                continue  # see test_the_loop_offers_every_view
            self.found[channel] += [f"round {state.round}: {p}" for p in look(state, target)]
        self.rounds += 1
        return state.indices_unlabeled[:n]


@pytest.fixture(scope="module")
def spy() -> Spy:
    corpus = coded_corpus()
    Y_pool = corpus.Y[corpus.splits["train"]].toarray()
    assert len({row.tobytes() for row in Y_pool}) == len(Y_pool)  # the codes are distinct
    strategy = Spy(Y_pool)
    Simulation(
        corpus=corpus,
        strategy=strategy,
        make_classifier=lambda seed: LogisticRegressionClassifier(seed=seed),
        embed=hash_embed,
        initial=40,
        step=20,
        budget=100,
        seed=0,
    ).run()
    assert strategy.rounds == 3
    return strategy


@pytest.mark.parametrize("channel", list(CHANNELS))
def test_no_gold_label_of_an_unlabeled_text_is_reachable(spy, channel):
    assert spy.found[channel] == []


def test_the_loop_offers_every_view(spy):
    assert spy.offered == sorted(VIEWS)


def test_only_a_strategy_that_declares_reveal_gets_the_annotator():
    """The annotator must hold the gold labels; it goes only to strategies that declare ``reveal``
    (class_embedding's Algorithm 1), and those may reveal only texts they pick (the engine checks)."""
    seen = {}

    class Asks(Strategy):
        requires = frozenset({"reveal"})

        def query(self, state, n):
            seen["asks"] = state.oracle is not None
            state.reveal(state.indices_unlabeled[:n])
            return state.indices_unlabeled[:n]

    class DoesNotAsk(Strategy):
        def query(self, state, n):
            seen["does_not_ask"] = state.oracle
            with pytest.raises(ViewNotAvailableError, match="declare 'reveal'"):
                state.reveal(state.indices_unlabeled[:1])
            return state.indices_unlabeled[:n]

    for strategy in (Asks(), DoesNotAsk()):
        Simulation(corpus=coded_corpus(), strategy=strategy,
                   make_classifier=lambda seed: LogisticRegressionClassifier(seed=seed), embed=hash_embed,
                   initial=40, step=20, budget=60, seed=0).run()
    assert seen == {"asks": True, "does_not_ask": None}


# -- the detector finds what it looks for --------------------------------------------------------------------------


def test_the_walker_finds_labels_held_in_containers_objects_and_closures():
    Y = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0]], dtype=np.int8)
    target = Y[[0, 2]]

    class Holder:
        def __init__(self):
            self.inner = {"rows": [sp.csr_matrix(Y)]}

    def make_oracle(matrix):
        return lambda indices: matrix[indices]

    assert leaks(Holder(), target, "h", False) == ["h.inner['rows'][0]"]
    assert leaks({"t": Y.T.copy()}, target, "d", False) == ["d['t']"]
    assert leaks([Y.ravel()], target, "l", False) == ["l[0]"]
    assert leaks([Y.tolist()], target, "n", False) == ["n[0](as array)"]
    assert leaks(make_oracle(Y), target, "f", True) == ["f<closure matrix>"]
    assert leaks(make_oracle(Y), target, "f", False) == []  # closures only where asked
    assert leaks(functools.partial(make_oracle, Y), target, "p", True) == ["p.args[0]"]
    # rows of other texts, a part of the rows, or probabilities are no leak
    assert leaks([Y[[1]], Y[[0]], np.full((3, 3), 0.5)], target, "x", False) == []
