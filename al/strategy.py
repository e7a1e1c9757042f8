"""The query-strategy interface: one read-only state in, pool indices out.

A strategy sees the labeled part of the pool with its gold labels, the
unlabeled part without them, and lazily computed views it declares in
``requires``. It never trains the task model and never changes the state;
only the engine's loop moves texts from the unlabeled to the labeled set.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from al.errors import QueryError, ViewNotAvailableError

#: Views the engine can build for a strategy, and what each is.
VIEWS: Mapping[str, str] = {
    "texts": "list of the pool's texts, length n_pool",
    "embeddings": "ndarray (n_pool, dim): sentence embeddings, float32, L2-normalised",
    "proba": "ndarray (n_pool, n_labels): the current classifier's per-label probabilities",
    "representations": "ndarray (n_pool, hidden): what the classifier's output layer sees",
    "classifier": "the classifier fitted this round (read-only by convention)",
    "inputs": "what the classifier reads for the pool (Classifier.input): list of texts, or ndarray (n_pool, dim)",
}
#: What a strategy may declare in ``requires``: the views, and ``reveal``, the annotator.
REQUIREMENTS: Mapping[str, str] = {
    **VIEWS,
    "reveal": "state.reveal(indices): gold labels of texts the strategy picks this round, one at a time "
              "(only strategies that declare it get an annotator)",
}


@dataclass(frozen=True)
class PoolState:
    """What a strategy may see in one round.

    Parameters
    ----------
    indices_labeled : ndarray of int, shape (n_labeled,)
        Absolute pool indices of the labeled texts.
    indices_unlabeled : ndarray of int, shape (n_unlabeled,)
        Absolute pool indices of the unlabeled texts.
    y_labeled : csr_matrix of shape (n_labeled, n_labels)
        Gold labels of ``indices_labeled``, row for row.
    label_names : tuple of str
    rng : numpy.random.Generator
        This round's generator: the only source of randomness a strategy uses.
    round : int
        0 for the query after the initial training, 1 for the next...
    """

    indices_labeled: np.ndarray
    indices_unlabeled: np.ndarray
    y_labeled: sp.csr_matrix
    label_names: tuple[str, ...]
    rng: np.random.Generator
    round: int = 0
    views: Mapping[str, Callable[[], Any]] = field(default_factory=dict, repr=False)
    oracle: Callable[[np.ndarray], sp.csr_matrix] | None = field(default=None, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_labels(self) -> int:
        return len(self.label_names)

    @property
    def n_pool(self) -> int:
        return len(self.indices_labeled) + len(self.indices_unlabeled)

    def view(self, name: str) -> Any:
        """The view ``name`` (see :data:`VIEWS`), built on first use and kept for the round.

        Raises
        ------
        ViewNotAvailableError
            If this state offers no view ``name``.
        """
        if name not in self._cache:
            if name not in self.views:
                raise ViewNotAvailableError(
                    f"view {name!r} is not available in this simulation; available: "
                    f"{', '.join(sorted(self.views)) or 'none'} (declare it in the strategy's `requires`)"
                )
            self._cache[name] = self.views[name]()
        return self._cache[name]

    texts = property(lambda self: self.view("texts"), doc=VIEWS["texts"])
    embeddings = property(lambda self: self.view("embeddings"), doc=VIEWS["embeddings"])
    proba = property(lambda self: self.view("proba"), doc=VIEWS["proba"])
    representations = property(lambda self: self.view("representations"), doc=VIEWS["representations"])
    classifier = property(lambda self: self.view("classifier"), doc=VIEWS["classifier"])
    inputs = property(lambda self: self.view("inputs"), doc=VIEWS["inputs"])

    def reveal(self, indices: np.ndarray) -> sp.csr_matrix:
        """Gold labels of unlabeled texts the strategy *commits to picking* this round.

        For strategies that annotate one text at a time within a round
        (Algorithm 1 of the class-embedding paper). Every revealed index must be
        in the strategy's answer, or the engine rejects the query.

        Returns
        -------
        csr_matrix of shape (len(indices), n_labels)
        """
        if self.oracle is None:
            raise ViewNotAvailableError(
                "this state has no annotator to reveal labels; declare 'reveal' in the strategy's `requires`"
            )
        return self.oracle(np.asarray(indices, dtype=np.int64))


class Strategy(ABC):
    """Base class of query strategies.

    Subclasses set ``requires`` to the views they read (keys of :data:`VIEWS`)
    and ``"reveal"`` if they call :meth:`PoolState.reveal`,
    store their keyword parameters in ``__init__``, and implement :meth:`query`.
    Scores follow one convention: higher means "ask for this text first";
    ``last_scores`` keeps them after a query, aligned with
    ``state.indices_unlabeled`` (None for strategies that do not score), and
    ``last_info`` any JSON-serialisable facts about the query that the engine
    should store in the round's record.
    """

    name: ClassVar[str] = ""
    requires: ClassVar[frozenset[str]] = frozenset()
    #: Constructor parameters the run sets from its own settings (parameter -> setting name), e.g.
    #: ``{"device": "device"}``: never given as strategy params, never stored with them.
    run_params: ClassVar[dict[str, str]] = {}

    def __init__(self) -> None:
        self.last_scores: np.ndarray | None = None
        self.last_info: dict[str, Any] = {}

    @abstractmethod
    def query(self, state: PoolState, n: int) -> np.ndarray:
        """Absolute pool indices of ``n`` distinct unlabeled texts, most wanted first."""

    def prepare(self, texts: Sequence[str]) -> None:
        """Once-per-pool work that reads the pool's texts alone (no label, no classifier); default: none.

        A strategy whose first query pays for such work (ALPS: a masked LM's
        pass over the pool) does it here and caches it on disk, so that a grid
        can run it ahead, in its own process, beside other runs' embedding
        passes (:func:`al.grid.plan_preparation`). ``texts`` is the pool in
        the order ``state.texts`` gives it. What a later query computes must
        not depend on whether this ran: a run that finds nothing prepared
        computes the same itself.
        """

    def prepare_key(self) -> Hashable | None:
        """What :meth:`prepare`'s work depends on besides the texts; None (the default): every parameter.

        A grid prepares each pool once per strategy class and key, so two
        settings that differ only in what the queries read (ALPS's ``n_init``)
        share one task.
        """
        return None

    @classmethod
    def prepares_pool(cls) -> bool:
        """Whether the class overrides :meth:`prepare`."""
        return cls.prepare is not Strategy.prepare

    def select(self, state: PoolState, n: int) -> tuple[np.ndarray, dict[str, Any]]:
        """One query as the engine runs it: ``last_scores`` and ``last_info`` start empty.

        Returns
        -------
        answer : what :meth:`query` returned (the engine validates it)
        info : a copy of ``last_info`` after the query
        """
        self.last_scores = None
        self.last_info = {}
        answer = self.query(state, n)
        return answer, dict(self.last_info)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith(("_", "last_")))
        return f"{type(self).__name__}({params})"


def top_n(scores: np.ndarray, candidates: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` candidates with the highest scores, best first; ties by lower index.

    Parameters
    ----------
    scores : ndarray of shape (n_candidates,)
    candidates : ndarray of int, shape (n_candidates,)
    """
    if n > len(candidates):
        raise QueryError(f"asked for {n} texts but only {len(candidates)} are unlabeled")
    order = np.lexsort((candidates, -scores))
    return candidates[order[:n]]


def validate_answer(
    answer: Any, state: PoolState, n: int, strategy_name: str, revealed: np.ndarray | None = None
) -> np.ndarray:
    """Check a strategy's answer: ``n`` distinct unlabeled pool indices.

    Raises
    ------
    QueryError
        Naming the strategy and what was wrong.
    """
    try:
        picked = np.asarray(answer)
    except Exception:  # noqa: BLE001 - anything not array-like
        raise QueryError(f"strategy {strategy_name!r} returned {type(answer).__name__}; expected an array of indices") from None
    if picked.ndim != 1 or (picked.size and not np.issubdtype(picked.dtype, np.integer)):
        raise QueryError(
            f"strategy {strategy_name!r} returned an array of shape {picked.shape} and dtype {picked.dtype}; "
            f"expected a 1-d integer array"
        )
    picked = picked.astype(np.int64)
    if len(picked) != n:
        raise QueryError(f"strategy {strategy_name!r} returned {len(picked)} indices; expected {n}")
    if len(np.unique(picked)) != len(picked):
        raise QueryError(f"strategy {strategy_name!r} returned duplicate indices")
    not_unlabeled = np.setdiff1d(picked, state.indices_unlabeled)
    if len(not_unlabeled):
        raise QueryError(
            f"strategy {strategy_name!r} returned {len(not_unlabeled)} indices that are not unlabeled pool "
            f"texts (e.g. {not_unlabeled[:5].tolist()})"
        )
    if revealed is not None and len(revealed):
        peeked = np.setdiff1d(revealed, picked)
        if len(peeked):
            raise QueryError(
                f"strategy {strategy_name!r} revealed the labels of {len(peeked)} texts it did not pick; "
                f"reveal only texts you return"
            )
    return picked
