"""Conformance checks any strategy, built-in or a user's, can run.

    from al.testing import check_strategy
    check_strategy(MyStrategy)          # raises ConformanceError on the first failure

or, in a pytest suite, ``test_my_strategy = strategy_conformance_test(MyStrategy)``.

The checks build small synthetic pools (random embeddings, probabilities and a
fitted logistic-regression classifier; no model download) and verify that the
strategy returns ``n`` distinct unlabeled indices, is reproducible with the same
generator, leaves the state and its views unchanged, reveals labels only of
texts it picks, declares the views it reads, and keeps ``last_info`` JSON-ready.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import scipy.sparse as sp

from al.errors import ALError, ViewNotAvailableError
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
) -> tuple[PoolState, list[np.ndarray]]:
    """A synthetic :class:`PoolState` and the list its oracle appends revealed indices to.

    Every label has at least one labeled text. ``views`` limits the views
    offered, and the annotator to ``"reveal"`` in it (default: all of
    :data:`al.strategy.REQUIREMENTS`). ``classifier`` makes the unfitted
    classifier behind the ``classifier``, ``proba`` and ``representations``
    views; it is fitted on the labeled texts' embeddings (its ``inputs``) and
    must take ``input = "embeddings"`` (default: logistic regression).
    """
    from al.classifiers.linear import LogisticRegressionClassifier

    gen = np.random.default_rng(seed)
    Y = (gen.random((n_pool, n_labels)) < 0.3).astype(np.int8)
    Y[np.arange(n_pool), gen.integers(0, n_labels, n_pool)] = 1
    Y[np.arange(n_labels), np.arange(n_labels)] = 1
    centers = gen.normal(size=(n_labels, dim))
    emb = Y @ centers + 0.5 * gen.normal(size=(n_pool, dim))
    emb = (emb / np.linalg.norm(emb, axis=1, keepdims=True)).astype(np.float32)
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
        views=available,
        oracle=oracle if views is None or "reveal" in views else None,
    )
    return state, revealed


def _contents(state: PoolState) -> dict[str, Any]:
    """What ``state`` holds, copied: its indices, labels, and each array or sequence view built afresh (so
    that a change to what a view reads shows)."""
    out: dict[str, Any] = {"indices_labeled": np.array(state.indices_labeled),
                           "indices_unlabeled": np.array(state.indices_unlabeled),
                           "y_labeled": state.y_labeled.toarray()}
    for key, build in state.views.items():
        value = build()
        if isinstance(value, np.ndarray):
            out[key] = value.copy()
        elif isinstance(value, (list, tuple)):
            out[key] = list(value)
    return out


def _same(a: np.ndarray | list, b: Any) -> bool:
    """Equal contents: an array to an array of one shape, a list to a list or tuple."""
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and bool(np.array_equal(a, b))
    return isinstance(b, (list, tuple)) and a == list(b)


def _fail(name: str, message: str) -> None:
    raise ConformanceError(f"strategy {name}: {message}")


def check_strategy(
    factory: Callable[[], Strategy] | type[Strategy], n: int = 5, classifier: Callable[[], Any] | None = None
) -> None:
    """Run every conformance check on a strategy; raise :class:`ConformanceError` on a failure.

    Parameters
    ----------
    factory : a Strategy subclass or a zero-argument callable returning a fresh instance
    n : query size used by the checks
    classifier : zero-argument callable returning the unfitted classifier of the synthetic
        pools (see :func:`make_state`), for strategies that need a particular kind
        (e.g. one with dropout); default logistic regression

    Raises
    ------
    ConformanceError
        On the first broken rule; reading a view not declared in ``requires``
        is recognised by its type, :class:`~al.errors.ViewNotAvailableError`.
    Exception
        Whatever the strategy raises for reasons of its own, unchanged.
    """
    make = factory
    probe = make()
    name = type(probe).__name__
    if not isinstance(probe, Strategy):
        _fail(name, f"is {type(probe)!r}, not a subclass of al.strategy.Strategy")
    unknown = set(probe.requires) - set(REQUIREMENTS)
    if unknown:
        _fail(name, f"requires unknown view(s) {sorted(unknown)}; known: {sorted(REQUIREMENTS)}")

    # 1. a valid answer, the state and its views are left as they were, last_info has a JSON form
    views = set(probe.requires) if probe.requires else set()
    state, revealed = make_state(views=views, classifier=classifier)
    before = _contents(state)
    try:
        answer, _ = make().select(state, n)
    except ViewNotAvailableError as exc:
        _fail(name, f"reads a view it does not declare in `requires`: {exc}")
    try:
        picked = validate_answer(answer, state, n, name, np.concatenate(revealed) if revealed else None)
    except ALError as exc:
        _fail(name, str(exc))
    after = _contents(state)
    changed = [key for key in before if not _same(before[key], after[key])]
    changed += [key for key, value in state._cache.items()  # the views as the strategy holds them
                if key in before and key not in changed and not _same(before[key], value)]
    if changed:
        _fail(name, f"changed the state it was given ({', '.join(changed)}); copy what you change, "
                    f"e.g. np.array(state.{changed[0]})")

    # 2. reproducible: same state and generator seed -> same answer
    again_state, _ = make_state(views=views, classifier=classifier)
    again = np.asarray(make().query(again_state, n))
    if not np.array_equal(picked, again):
        _fail(name, f"is not reproducible: {picked.tolist()} then {again.tolist()} with the same seed")

    # 3. n equal to the whole unlabeled pool
    small, revealed = make_state(n_pool=20, n_labeled=12, views=views, classifier=classifier)
    everything = len(small.indices_unlabeled)
    try:
        validate_answer(make().query(small, everything), small, everything, name,
                        np.concatenate(revealed) if revealed else None)
    except ALError as exc:
        _fail(name, f"fails when n equals the unlabeled pool ({everything}): {exc}")


def strategy_conformance_test(factory: Callable[[], Strategy] | type[Strategy]) -> Callable[[], None]:
    """A pytest test function running :func:`check_strategy` on ``factory``."""

    def test_conformance() -> None:
        check_strategy(factory)

    return test_conformance
