"""Conformance checks any strategy, built-in or a user's, can run.

    from al.testing import check_strategy
    check_strategy(MyStrategy)          # raises ConformanceError on the first failure

or, in a pytest suite, ``test_my_strategy = strategy_conformance_test(MyStrategy)``.

The checks build small synthetic pools (random embeddings, probabilities and a
fitted logistic-regression classifier; no model download) and verify that the
strategy returns ``n`` distinct unlabeled indices (also in a later round where
a label has no labeled text), is reproducible with the same generator, answers
a state as a new instance would after answering another one, leaves the state
and its views unchanged, reveals labels only of texts it picks,
declares the views it reads, calls ``state.reveal`` and ``top_n`` as they
expect, keeps ``last_info`` JSON-ready, and, for a strategy a new process can
import by name, answers the same under other hash seeds. A strategy that calls
``predict_proba_dropout`` is checked on :class:`~al.testing.dropout.DropoutLogreg`.
"""
from __future__ import annotations

import numbers
from typing import Any, Callable, NoReturn

import numpy as np
import scipy.sparse as sp

from al.errors import InterfaceError, QueryError, ViewNotAvailableError, spelled
from al.strategy import REQUIREMENTS, PoolState, Strategy, validate_answer


class ConformanceError(AssertionError):
    """A strategy broke a rule of the interface."""


def make_state(
    n_pool: int = 60,
    n_labeled: int = 12,
    n_labels: int = 4,
    dim: int = 8,
    seed: int = 0,
    rng_seed: int = 1,
    views: set[str] | None = None,
    classifier: Callable[[], Any] | None = None,
    round: int = 0,
    bare_label: bool = False,
) -> tuple[PoolState, list[np.ndarray]]:
    """A synthetic :class:`PoolState` and the list its oracle appends revealed indices to.

    Every label has at least one labeled text, unless ``bare_label``: then the last label has none (as in a
    real first round, where a rare label's texts are all in the pool). ``round`` is ``state.round``.
    ``views`` limits the views
    offered, and the annotator to ``"reveal"`` in it (default: all of
    :data:`al.strategy.REQUIREMENTS`). ``classifier`` makes the unfitted
    classifier behind the ``classifier``, ``proba`` and ``representations``
    views; it is fitted on the labeled texts' embeddings (its ``inputs``) and
    must take ``input = "embeddings"`` (default: logistic regression).
    """
    state, revealed, _ = _synthetic(n_pool, n_labeled, n_labels, dim, seed, rng_seed, views, classifier, round,
                                    bare_label)
    return state, revealed


def _synthetic(
    n_pool: int = 60,
    n_labeled: int = 12,
    n_labels: int = 4,
    dim: int = 8,
    seed: int = 0,
    rng_seed: int = 1,
    views: set[str] | None = None,
    classifier: Callable[[], Any] | None = None,
    round: int = 0,
    bare_label: bool = False,
) -> tuple[PoolState, list[np.ndarray], np.ndarray]:
    """:func:`make_state`'s state and list, and a private copy of the classifier's inputs (to probe it with)."""
    from al.classifiers.linear import LogisticRegressionClassifier

    gen = np.random.default_rng(seed)
    Y = (gen.random((n_pool, n_labels)) < 0.3).astype(np.int8)
    Y[np.arange(n_pool), gen.integers(0, n_labels, n_pool)] = 1
    Y[np.arange(n_labels), np.arange(n_labels)] = 1
    centers = gen.normal(size=(n_labels, dim))
    emb = Y @ centers + 0.5 * gen.normal(size=(n_pool, dim))
    emb = (emb / np.linalg.norm(emb, axis=1, keepdims=True)).astype(np.float32)
    if bare_label:  # the labeled texts first, none of them of the last label
        order = np.argsort(Y[:, -1], kind="stable")
        Y, emb = Y[order], emb[order]
        if Y[:n_labeled, -1].any():
            raise ValueError(f"bare_label: only {int((Y[:, -1] == 0).sum())} texts lack the last label; ask for "
                             f"at most that many labeled, not {n_labeled}")
    labeled = np.arange(n_labeled)
    Y_pool = sp.csr_matrix(Y)
    fitted = (classifier or LogisticRegressionClassifier)().fit(emb[labeled], Y_pool[labeled])
    revealed: list[np.ndarray] = []

    def oracle(indices: np.ndarray) -> sp.csr_matrix:
        revealed.append(np.asarray(indices))
        return Y_pool[indices]

    available: dict[str, Callable[[], Any]] = {
        "texts": lambda: [f"text {i} " + " ".join(f"w{j}" for j in np.flatnonzero(Y[i])) for i in range(n_pool)],
        "embeddings": lambda: emb,
        "proba": lambda: fitted.predict_proba(emb),
        "representations": lambda: fitted.transform(emb),
        "classifier": lambda: fitted,
        "inputs": lambda: emb,
    }
    if views is not None:
        available = {k: v for k, v in available.items() if k in views}
    state = PoolState(
        indices_labeled=labeled,
        indices_unlabeled=np.arange(n_labeled, n_pool),
        y_labeled=Y_pool[labeled],
        label_names=tuple(f"label{j}" for j in range(n_labels)),
        rng=np.random.default_rng(rng_seed),
        round=round,
        views=available,
        oracle=oracle if views is None or "reveal" in views else None,
    )
    return state, revealed, emb.copy()


#: Views a :func:`make_state` state builds from its classifier: they change when the classifier does.
FROM_CLASSIFIER = ("proba", "representations")


def _contents(state: PoolState, inputs: np.ndarray) -> dict[str, Any]:
    """What ``state`` holds, copied: its indices, labels, and each array or sequence view built afresh (so
    that a change to what a view reads shows); the classifier as its probabilities and predictions for
    ``inputs`` (a change to its decision thresholds shows in the second)."""
    out: dict[str, Any] = {"indices_labeled": np.array(state.indices_labeled),
                           "indices_unlabeled": np.array(state.indices_unlabeled),
                           "y_labeled": state.y_labeled.toarray()}
    for key, build in state.views.items():
        value = build()
        if key == "classifier":  # its probabilities, and what it predicts from them (its thresholds_ too)
            predicted = value.predict(inputs) if callable(getattr(value, "predict", None)) else np.empty(0)
            predicted = predicted.toarray() if sp.issparse(predicted) else np.asarray(predicted)
            thresholds = getattr(value, "thresholds_", None)
            out[key] = np.concatenate([np.array(value.predict_proba(inputs), dtype=float).ravel(),
                                       predicted.astype(float).ravel(),
                                       np.ravel(thresholds if thresholds is not None else []).astype(float)])
        elif isinstance(value, np.ndarray):
            out[key] = value.copy()
        elif isinstance(value, (list, tuple)):
            out[key] = list(value)
    return out


def _same(a: np.ndarray | list, b: Any) -> bool:
    """Equal contents: an array to an array of one shape, a list to a list or tuple."""
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and bool(
            np.array_equal(a, b, equal_nan=a.dtype.kind == "f" and b.dtype.kind == "f"))
    return isinstance(b, (list, tuple)) and a == list(b)


def _fail(name: str, message: str) -> NoReturn:
    raise ConformanceError(f"strategy {name!r} {message}")


def _query(strategy: Strategy, state: PoolState, n: int, name: str) -> Any:
    """``strategy``'s answer as the engine gets it (:meth:`~al.strategy.Strategy.select`), with a rule of the
    interface it breaks on the way as a :class:`ConformanceError`; its own errors pass unchanged."""
    try:
        answer, _ = strategy.select(state, n)
    except ViewNotAvailableError as exc:
        _fail(name, f"reads a view it does not declare in `requires`: {exc}")
    except InterfaceError as exc:  # state.reveal or top_n refused what it gave them, or last_info has no JSON form
        message = str(exc)
        raise ConformanceError(message if message.startswith("strategy ") else f"strategy {name!r}: {message}") \
            from exc
    return answer


def _valid(answer: Any, state: PoolState, n: int, name: str, revealed: list[np.ndarray], when: str = "") -> np.ndarray:
    """:func:`~al.strategy.validate_answer`, with a refusal as a :class:`ConformanceError` (``when`` appended)."""
    try:
        return validate_answer(answer, state, n, name, np.concatenate(revealed) if revealed else None)
    except QueryError as exc:
        raise ConformanceError(f"{exc}{when}") from exc


def check_strategy(
    factory: Callable[[], Strategy] | type[Strategy] | str,
    n: int = 5,
    classifier: Callable[[], Any] | None = None,
    name: str | None = None,
    other_processes: bool = True,
) -> None:
    """Run every conformance check on a strategy; raise :class:`ConformanceError` on a failure.

    Parameters
    ----------
    factory : a Strategy subclass, a zero-argument callable returning a fresh instance, or a strategy's name
        (``"cvirs"``, ``"mystrategies:LeastConfident"``, as ``python -m al.testing`` takes it)
    n : query size used by the checks, 1 to 48
    classifier : zero-argument callable returning the unfitted classifier of the synthetic
        pools (see :func:`make_state`), for strategies that need a particular kind; default
        logistic regression, or :class:`~al.testing.dropout.DropoutLogreg` for a strategy
        calling ``predict_proba_dropout`` (:func:`checks_classifier`); one given leaves out the
        comparison across hash seeds (its processes fit the default)
    name : how the messages name the strategy (``python -m al.testing``: the name typed);
        default its class name
    other_processes : also compare the first answer in new processes of other hash seeds
        (:func:`hash_seed_answers`, a few seconds), for a strategy a process can import by name: one of yours given
        by its name, or a class of an importable module (not ``__main__``, not defined in a function) built with
        the default classifier; a built-in's is pinned by al's tests

    Raises
    ------
    ConformanceError
        On the first broken rule; reading a view not declared in ``requires``
        is recognised by its type, :class:`~al.errors.ViewNotAvailableError`,
        and so is what ``state.reveal`` or ``top_n`` refuse,
        :class:`~al.errors.InterfaceError`.
    Exception
        Whatever the strategy raises for reasons of its own, unchanged.
    """
    importable = _importable_name(factory) if other_processes and classifier is None else None  # as first_answer
    if isinstance(factory, str):  # a name, as python -m al.testing takes it
        from al.registry import get_strategy

        name, factory = name or factory, get_strategy(factory)
    elif isinstance(factory, Strategy):
        raise TypeError(f"check_strategy takes a Strategy class or a zero-argument callable that makes one, got the "
                        f"instance {factory!r:.60}: the checks need fresh instances; pass {type(factory).__name__} "
                        f"or lambda: {type(factory).__name__}(...) with its params")
    if not callable(factory):
        raise TypeError(f"check_strategy takes a Strategy class, a strategy's name or a zero-argument callable, got "
                        f"{type(factory).__name__} {factory!r:.60}")
    unlabeled = 60 - 12  # make_state's pool of the checks that ask for n
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or not 1 <= n <= unlabeled:
        raise ValueError(f"check_strategy's n must be a whole number from 1 to {unlabeled} (the unlabeled texts of "
                         f"its synthetic pools), got {spelled(n)}")
    n = int(n)
    make = factory
    probe = make()
    name = name or type(probe).__name__
    if not isinstance(probe, Strategy):
        _fail(name, f"is {type(probe)!r}, not a subclass of al.strategy.Strategy")
    classifier = classifier or checks_classifier(probe)
    unknown = set(probe.requires) - set(REQUIREMENTS)
    if unknown:
        _fail(name, f"requires unknown view(s) {sorted(unknown)}; known: {sorted(REQUIREMENTS)}")

    # 1. a valid answer, the state and its views are left as they were, last_info has a JSON form
    views = set(probe.requires) if probe.requires else set()
    state, revealed, inputs = _synthetic(views=views, classifier=classifier)
    before = _contents(state, inputs)
    picked = _valid(_query(make(), state, n, name), state, n, name, revealed)
    after = _contents(state, inputs)
    changed = [key for key in before if not _same(before[key], after[key])]
    held = {key: value for key, value in state._cache.items() if key != "classifier"}  # the views as the strategy
    changed += [key for key, value in held.items()  # holds them (the classifier's predictions are in after)
                if key in before and key not in changed and not _same(before[key], value)]
    if "classifier" in changed:  # fitted again: what it predicts changed, and the views built from it
        with_it = [key for key in FROM_CLASSIFIER if key in changed]
        _fail(name, f"changed the classifier it was given (it predicts otherwise after the query"
                    f"{', and so does ' + ', '.join(with_it) if with_it else ''}); the classifier view is read-only "
                    f"by convention: fit a copy, copy.deepcopy(state.classifier)")
    if changed:
        _fail(name, f"changed the state it was given ({', '.join(changed)}); copy what you change, "
                    f"e.g. np.array(state.{changed[0]})")

    # 2. reproducible: same state and generator seed -> same answer
    again_state, _ = make_state(views=views, classifier=classifier)
    again = np.asarray(_query(make(), again_state, n, name))
    if not np.array_equal(picked, again):
        _fail(name, f"is not reproducible: {picked.tolist()} then {again.tolist()} with the same seed; draw random "
                    f"numbers from state.rng, not from np.random or random")

    # 3. no state kept between queries: the engine asks one instance round after round, a resumed run a new one
    used = make()
    earlier, _ = make_state(n_labeled=8, views=views, classifier=classifier)  # another labeled set, another proba
    _query(used, earlier, n, name)
    later, _ = make_state(views=views, classifier=classifier)  # the state of 1., its generator afresh
    answer_later = np.asarray(_query(used, later, n, name))
    if not np.array_equal(picked, answer_later):
        _fail(name, f"answers {answer_later.tolist()} after an earlier query, where a new instance answers "
                    f"{picked.tolist()}: its answer depends on its earlier queries; keep no state between queries "
                    f"that is not derived from the pool's texts alone; a resumed run builds a new instance")

    # 4. n equal to the whole unlabeled pool
    small, revealed = make_state(n_pool=20, n_labeled=12, views=views, classifier=classifier)
    everything = len(small.indices_unlabeled)
    _valid(_query(make(), small, everything, name), small, everything, name, revealed,
           f" (n was the whole unlabeled pool, {everything})")

    # 5. a later round, a label with no labeled text (a real run's first rounds on rare labels: means over no
    # texts give NaN), more texts labeled
    bare, revealed = make_state(n_pool=80, n_labeled=30, views=views, classifier=classifier, round=3,
                                bare_label=True)
    where = f" (in round 3, where label {bare.label_names[-1]!r} has no labeled text)"
    try:
        answer = _query(make(), bare, n, name)
    except ConformanceError as exc:
        raise ConformanceError(f"{exc}{where}") from exc
    _valid(answer, bare, n, name, revealed, where)

    # 6. the same first answer in processes of other hash seeds (a set of strings iterates otherwise in each)
    if importable is not None and not type(probe).__module__.startswith("strategies."):
        if (said := hash_seed_failure(name, hash_seed_answers(importable, n=n))) is not None:
            _fail(name, said)


def checks_classifier(strategy: Strategy) -> Callable[[], Any] | None:
    """The classifier the checks fit for ``strategy`` unless told another: the default logistic regression (None),
    or :class:`~al.testing.dropout.DropoutLogreg` for one calling ``predict_proba_dropout`` (``bald``); None where
    neither has what its ``classifier_methods`` name (the checks then report what it called)."""
    from al.classifiers.linear import LogisticRegressionClassifier
    from al.testing.dropout import DropoutLogreg

    needs = getattr(strategy, "classifier_methods", ())
    for candidate in (LogisticRegressionClassifier, DropoutLogreg):
        if all(callable(getattr(candidate, method, None)) for method in needs):
            return None if candidate is LogisticRegressionClassifier else candidate
    return None


def __getattr__(name: str) -> Any:
    """``al.testing.DropoutLogreg``, imported when asked for (it imports scikit-learn)."""
    if name == "DropoutLogreg":
        from al.testing.dropout import DropoutLogreg

        return DropoutLogreg
    raise AttributeError(f"module 'al.testing' has no attribute {name!r}")


def _importable_name(factory: Any) -> str | None:
    """The name ``--strategy`` takes for ``factory`` that a new process can import (a strategy's name as given; a
    class ``module:Class`` of a module other than ``__main__``, defined at its top level), else None."""
    if isinstance(factory, str):
        return factory
    if isinstance(factory, type) and issubclass(factory, Strategy) and factory.__module__ != "__main__" \
            and "." not in factory.__qualname__ and "<" not in factory.__qualname__:
        return f"{factory.__module__}:{factory.__qualname__}"
    return None


def hash_seed_failure(name: str, answers: dict[str, list[int]] | None) -> str | None:
    """What a strategy whose answers (:func:`hash_seed_answers`) differ by hash seed does wrong; None if they agree
    (or a process failed)."""
    if answers is None or len({tuple(a) for a in answers.values()}) <= 1:
        return None
    shown = " and ".join(f"{a} under PYTHONHASHSEED={seed}" for seed, a in answers.items())
    return (f"picks {shown}: its answer depends on Python's hash seed, which changes from process to process, so "
            f"the same command picks otherwise in each run; it iterates a set of strings, or a dict or list built "
            f"from one: sort it first (sorted(...))")


def first_answer(name: str, params: dict[str, Any] | None = None, n: int = 5) -> list[int]:
    """The answer of the strategy ``name`` (as ``--strategy`` takes it, with ``params``) to the first check's
    synthetic state: what :func:`hash_seed_answers` compares across processes."""
    from al.config import SimulationConfig

    strategy = SimulationConfig(strategy={"name": name, "params": params or {}}).make_strategy()
    state, _, _ = _synthetic(views=set(strategy.requires), classifier=checks_classifier(strategy))
    return [int(i) for i in np.asarray(strategy.select(state, n)[0])]


#: The hash seeds of the processes :func:`hash_seed_answers` compares: three, as two orders of a small set can agree
#: (the four synthetic labels' set puts label0 third under seeds 1 and 2, second under 3, first under 4).
HASH_SEEDS = ("1", "3", "4")


def hash_seed_answers(name: str, params: dict[str, Any] | None = None, n: int = 5) -> dict[str, list[int]] | None:
    """``{seed: answer}`` of :func:`first_answer` in a new process under each of :data:`HASH_SEEDS` for
    ``PYTHONHASHSEED``: a strategy that iterates a set of strings (or a dict built from one) picks in an order that
    changes from process to process, so a run is not repeated by the same command. None where a process failed (its
    failure is for the in-process checks to report)."""
    import json
    import os
    import subprocess
    import sys

    code = ("import json, sys\nfrom al.testing import first_answer\n"
            "print(json.dumps(first_answer(sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]))))")
    path = os.pathsep.join(dict.fromkeys(p for p in [os.getcwd(), *sys.path] if p))  # the user's module, as here
    running = {seed: subprocess.Popen([sys.executable, "-c", code, name, json.dumps(params or {}), str(n)],
                                      env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": path},
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
               for seed in HASH_SEEDS}  # at once: each is mostly its imports
    answers = {}
    for seed, process in running.items():
        out, _ = process.communicate()
        lines = out.strip().splitlines()
        if process.returncode != 0 or not lines:
            answers = None
        elif answers is not None:
            answers[seed] = json.loads(lines[-1])
    return answers


def strategy_conformance_test(factory: Callable[[], Strategy] | type[Strategy]) -> Callable[[], None]:
    """A pytest test function running :func:`check_strategy` on ``factory``."""

    def test_conformance() -> None:
        check_strategy(factory)

    return test_conformance
