"""The query-strategy interface: one read-only state in, pool indices out.

A strategy sees the labeled part of the pool with its gold labels, the
unlabeled part without them, and lazily computed views it declares in
``requires``. It never trains the task model and never changes the state;
only the engine's loop moves texts from the unlabeled to the labeled set.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from al.errors import ConfigError, InterfaceError, QueryError, ViewNotAvailableError, did_you_mean
from al.progress import counted

#: Views the engine can build for a strategy, and what each is (arrays read-only, sequences tuples).
VIEWS: Mapping[str, str] = {
    "texts": "tuple of the pool's texts, length n_pool",
    "embeddings": "ndarray (n_pool, dim): sentence embeddings, float32, L2-normalised",
    "proba": "ndarray (n_pool, n_labels): the current classifier's per-label probabilities",
    "representations": "ndarray (n_pool, hidden): what the classifier's output layer sees",
    "classifier": "the classifier fitted this round (read-only by convention)",
    "inputs": "what the classifier reads for the pool (Classifier.input): tuple of texts, or ndarray (n_pool, dim)",
}
#: What a strategy may declare in ``requires``: the views, and ``reveal``, the annotator.
REQUIREMENTS: Mapping[str, str] = {
    **VIEWS,
    "reveal": "state.reveal(indices): gold labels of texts the strategy picks this round, one at a time "
              "(only strategies that declare it get an annotator)",
}


def _read_only_alias(array: np.ndarray) -> np.ndarray:
    """``array``'s memory as a new read-only array: its base exports the memory read-only and holds ``array``
    only in a closure, so no attribute of the result reaches ``array`` and its flag cannot be set back."""
    interface = {**array.__array_interface__}
    interface["data"] = (interface["data"][0], True)

    class ReadOnlyBuffer:
        __slots__ = ()
        __array_interface__ = property(lambda self: (array, interface)[1])  # keeps ``array`` alive

    return np.asarray(ReadOnlyBuffer())


def _read_only_getter(get: Callable[[], Any]) -> Callable[[], Any]:
    """``get`` whose value comes back through :func:`read_only`."""
    return lambda: read_only(get())


def read_only(value: Any) -> Any:
    """What a strategy may see of ``value`` without being able to change it.

    An ndarray becomes a read-only view (no copy) of memory exported as
    read-only, so that neither its ``WRITEABLE`` flag nor any attribute (its
    ``base``) leads back to the caller's writable array; a CSR or CSC matrix a
    copy with read-only arrays, a list a tuple; anything else (the classifier)
    is returned as it is.
    """
    if type(value) is np.ndarray:
        return _read_only_alias(value)
    if isinstance(value, np.ndarray):  # a subclass (a masked array keeps its mask): a read-only view of it
        view = value.view()
        view.flags.writeable = False
        return view
    if sp.issparse(value) and value.format in ("csr", "csc"):
        copy = value.copy()
        for part in (copy.data, copy.indices, copy.indptr):
            part.flags.writeable = False
        return copy
    if isinstance(value, list):
        return tuple(value)
    return value


def write_advice(exc: BaseException) -> str:
    """``; what to do`` where ``exc`` is numpy's or Python's refusal to write into what a strategy was shown
    (:func:`read_only`), for a one-line report of its error; "" for any other."""
    said = str(exc)
    if isinstance(exc, ValueError) and ("read-only" in said or "WRITEABLE flag" in said):
        return "; if it is one of the state's arrays, read-only: change a copy, e.g. emb = state.embeddings.copy()"
    if isinstance(exc, TypeError) and "'tuple' object does not support item assignment" in said:
        return "; if it is state.texts, a read-only tuple: change a copy, list(state.texts)"
    return ""


@dataclass(frozen=True)
class PoolState:
    """What a strategy may see in one round; its arrays are read-only (copy one to change it).

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

    def __post_init__(self) -> None:
        # the state's own copies: a strategy that unlocks and writes one changes nothing of the caller's
        for name in ("indices_labeled", "indices_unlabeled"):
            object.__setattr__(self, name, read_only(np.array(getattr(self, name))))
        object.__setattr__(self, "y_labeled", read_only(self.y_labeled))
        # each getter gives what state.view gives, also when a strategy calls it itself: nothing to change
        object.__setattr__(self, "views", {name: _read_only_getter(get) for name, get in self.views.items()})

    @property
    def n_labels(self) -> int:
        return len(self.label_names)

    @property
    def n_pool(self) -> int:
        return len(self.indices_labeled) + len(self.indices_unlabeled)

    def view(self, name: str) -> Any:
        """The view ``name`` (see :data:`VIEWS`), built on first use and kept for the round, read-only.

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

    def reveal(self, indices: np.ndarray | int) -> sp.csr_matrix:
        """Gold labels of unlabeled texts the strategy *commits to picking* this round.

        For strategies that annotate one text at a time within a round
        (Algorithm 1 of the class-embedding paper). Every revealed index must be
        in the strategy's answer, or the engine rejects the query.

        Parameters
        ----------
        indices : ndarray of int, shape (n_revealed,), or one int (read as ``[indices]``)

        Returns
        -------
        csr_matrix of shape (n_revealed, n_labels)

        Raises
        ------
        InterfaceError
            If ``indices`` is neither a 1-d integer array nor an integer, or names a text outside
            ``indices_unlabeled``.
        """
        if self.oracle is None:
            raise ViewNotAvailableError(
                "this state has no annotator to reveal labels; declare 'reveal' in the strategy's `requires`"
            )
        if isinstance(indices, (int, np.integer)) and not isinstance(indices, bool):
            indices = [indices]  # one text: state.reveal(i)
        asked = _index_array(indices)
        if asked is None:
            raise InterfaceError(
                f"state.reveal got {_describe(indices)}; expected a 1-d integer array of unlabeled pool indices "
                f"the strategy picks this round"
            )
        outside = asked[~np.isin(asked, self.indices_unlabeled)]
        if len(outside):  # as the run's annotator refuses them, in a check on a synthetic pool too
            raise InterfaceError(f"state.reveal got {len(outside)} of {len(asked)} indices that are not unlabeled pool "
                                 f"texts (e.g. {outside[:5].tolist()}); reveal only indices from "
                                 f"state.indices_unlabeled")
        return self.oracle(asked)


class Strategy(ABC):
    """Base class of query strategies.

    Subclasses set ``requires`` to the views they read (keys of :data:`VIEWS`)
    and ``"reveal"`` if they call :meth:`PoolState.reveal`,
    store their keyword parameters in ``__init__``, and implement :meth:`query`.
    Scores follow one convention: higher means "ask for this text first";
    ``last_scores`` keeps them after a query, aligned with
    ``state.indices_unlabeled`` (None for strategies that do not score), and
    ``last_info`` facts about the query that the engine stores in the round's
    record: JSON values, NumPy scalars and arrays (stored as numbers and lists;
    a NaN or infinite float as null).
    """

    name: ClassVar[str] = ""
    requires: ClassVar[frozenset[str]] = frozenset()
    #: Constructor parameters the run sets from its own settings (parameter -> setting name), e.g.
    #: ``{"device": "device"}``, passed when the constructor names them; never given as strategy params,
    #: never stored with them. Empty (the default): the run's ``seed`` and ``device``.
    run_params: ClassVar[dict[str, str]] = {}
    #: Methods :meth:`query` calls on ``state.classifier`` beyond the common ones (BALD: ``("predict_proba_dropout",)``);
    #: a run whose classifier lacks one is refused while its settings are validated, before any data loads.
    classifier_methods: ClassVar[tuple[str, ...]] = ()

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

    def check_query_sizes(self, sizes: Sequence[int], step: int) -> None:
        """Refuse, while the run's settings are validated (before any data loads), query sizes this strategy cannot
        serve: ``sizes`` are the ``n`` its queries will get (:func:`al.config.query_sizes`), ``step`` the run's
        (a size below it is a last step shrunk to fit the budget). Raise :class:`al.errors.ConfigError` naming the
        parameter to change; default: every size is served."""

    @classmethod
    def prepares_pool(cls) -> bool:
        """Whether the class overrides :meth:`prepare`."""
        return cls.prepare is not Strategy.prepare

    def select(self, state: PoolState, n: int) -> tuple[np.ndarray, dict[str, Any]]:
        """One query as the engine runs it: ``last_scores`` and ``last_info`` start empty.

        Returns
        -------
        answer : what :meth:`query` returned (the engine validates it)
        info : ``last_info`` after the query as JSON values (see :func:`json_info`)
        """
        self.last_scores = None
        self.last_info = {}
        answer = self.query(state, n)
        return answer, json_info(self.last_info, self.name or type(self).__name__)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith(("_", "last_")))
        return f"{type(self).__name__}({params})"


def _shape_of(values: np.ndarray) -> str:
    """``of shape (3, 2), dtype float64`` or ``5 (a number)``: what a malformed argument is, for an error line."""
    return f"{values.item()!r} (a number)" if values.ndim == 0 else f"of shape {values.shape}, dtype {values.dtype}"


def top_n(scores: np.ndarray, candidates: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` candidates with the highest scores, best first; ties by lower index.

    Parameters
    ----------
    scores : ndarray of shape (n_candidates,)
        One score per candidate, row for row: ``state.proba[candidates]``'s, not the whole pool's.
    candidates : ndarray of int, shape (n_candidates,)

    Raises
    ------
    InterfaceError
        If ``scores`` is not 1-d with one score per candidate, holds NaN (it would rank in index order), or
        ``n`` exceeds the candidates.
    """
    candidates = np.asarray(candidates)
    indices = candidates.ndim == 1 and (not candidates.size or candidates.dtype.kind in "iu")
    if not indices:
        raise InterfaceError(f"top_n(scores, candidates, n) got candidates {_shape_of(candidates)} and n {n!r}; "
                             f"expected candidates a 1-d array of pool indices (e.g. state.indices_unlabeled) and n "
                             f"a whole number")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise InterfaceError(f"top_n(scores, candidates, n) got n {n!r}; expected a whole number (the n a query is "
                             f"asked for; int(n) of a computed one)")
    scores = np.asarray(scores)
    if scores.ndim != 1:
        raise InterfaceError(
            f"top_n got scores of shape {scores.shape} for {len(candidates)} candidates; expected one score per "
            f"candidate, shape ({len(candidates)},): reduce the other axes first, e.g. scores.max(axis=1)"
        )
    if len(scores) != len(candidates):
        raise InterfaceError(
            f"top_n got {len(scores)} scores for {len(candidates)} candidates; score the candidates' rows, "
            f"e.g. state.proba[state.indices_unlabeled]"
        )
    if n > len(candidates):
        raise InterfaceError(f"top_n was asked for {n} of {len(candidates)} candidates; give it at least {n} "
                         f"(e.g. state.indices_unlabeled), or ask for at most {len(candidates)}")
    nan = np.isnan(scores) if scores.dtype.kind in "fc" else np.zeros(len(scores), dtype=bool)
    if nan.any():
        raise InterfaceError(
            f"top_n got {int(nan.sum())} NaN score(s) of {len(scores)} (the first is scores[{int(nan.argmax())}], "
            f"of pool text {int(candidates[nan.argmax()])}), which would rank in index order; expected numbers: a "
            f"mean over no texts (a label with none labeled) or 0/0 gives NaN, so handle that case, or rank them "
            f"last with np.nan_to_num(scores, nan=-np.inf)"
        )
    order = np.lexsort((candidates, -scores))
    return candidates[order[:n]]


def validate_answer(
    answer: Any, state: PoolState, n: int, strategy_name: str, revealed: np.ndarray | None = None,
    unlabeled: np.ndarray | None = None, pool_size: int | None = None,
) -> np.ndarray:
    """Check a strategy's answer: ``n`` distinct unlabeled pool indices.

    Parameters
    ----------
    unlabeled : ndarray of int, shape (n_unlabeled,), optional
        The unlabeled pool as the caller keeps it (the engine passes its own);
        default ``state.indices_unlabeled``.
    pool_size : int, optional
        Texts in the pool, skipped ones included (an annotation session's
        declined texts are neither labeled nor unlabeled); default
        ``len(unlabeled) + len(state.indices_labeled)``.

    Raises
    ------
    QueryError
        Naming the strategy, what was wrong and how to fix it.
    """
    how = f"return an int array of {n} distinct indices from state.indices_unlabeled"
    picked = _index_array(answer)
    if picked is None:
        scores = (isinstance(answer, np.ndarray) and answer.ndim == 1 and answer.dtype.kind == "f"
                  and len(answer) == len(state.indices_unlabeled if unlabeled is None else unlabeled) != n)
        hint = ("; scores, one per unlabeled text? rank them: top_n(scores, state.indices_unlabeled, n)"
                if scores else "")
        raise QueryError(f"strategy {strategy_name!r} returned {_describe(answer)}; {how}{hint}")
    if len(picked) != n:
        raise QueryError(f"strategy {strategy_name!r} returned {counted(len(picked), 'index', 'indices')}; expected "
                         f"{n}: {how}")
    values, counts = np.unique(picked, return_counts=True)
    repeated = values[counts > 1]
    if len(repeated):
        times = counts[counts > 1]
        said = (f"index {int(repeated[0])} {int(times[0])} times" if len(repeated) == 1 else
                f"{len(repeated)} indices more than once ({_some(repeated)})")
        raise QueryError(f"strategy {strategy_name!r} returned duplicate indices: {said}; {how}")
    unlabeled = state.indices_unlabeled if unlabeled is None else unlabeled
    not_unlabeled = np.setdiff1d(picked, unlabeled)
    if len(not_unlabeled):
        if picked.min() >= 0 and picked.max() < len(unlabeled):  # rng.permutation(len(state.indices_unlabeled))
            how += ("; if these are positions in state.indices_unlabeled, return state.indices_unlabeled[positions] "
                    "(the pool's indices)")
        n_pool = len(unlabeled) + len(state.indices_labeled) if pool_size is None else pool_size
        labeled = np.intersect1d(not_unlabeled, state.indices_labeled)
        outside = not_unlabeled[(not_unlabeled < 0) | (not_unlabeled >= n_pool)]
        other = np.setdiff1d(not_unlabeled, np.concatenate([labeled, outside]))
        said = []
        if len(labeled):
            said.append(f"{counted(len(labeled), 'index', 'indices')} of "
                        f"{'a text' if len(labeled) == 1 else 'texts'} labeled already ({_some(labeled)})")
        if len(outside):
            said.append(f"{counted(len(outside), 'index', 'indices')} outside the pool of {n_pool:,} texts "
                        f"(0..{n_pool - 1}: {_some(outside)})")
        if len(other):  # texts in the pool that are neither labeled nor offered (a person declined them)
            said.append(f"{counted(len(other), 'index', 'indices')} that "
                        f"{'is not an unlabeled pool text' if len(other) == 1 else 'are not unlabeled pool texts'} "
                        f"({_some(other)})")
        raise QueryError(f"strategy {strategy_name!r} returned {' and '.join(said)}; {how}")
    if revealed is not None and len(revealed):
        peeked = np.setdiff1d(revealed, picked)
        if len(peeked):
            raise QueryError(
                f"strategy {strategy_name!r} revealed the labels of {counted(len(peeked), 'text')} it did "
                f"not pick ({_some(peeked)}); reveal only texts you return"
            )
    return picked


def _index_array(value: Any) -> np.ndarray | None:
    """``value`` as a 1-d int64 array, or None when it is no 1-d integer array (an empty one passes)."""
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - anything not array-like
        return None
    if array.ndim != 1 or (array.size and not np.issubdtype(array.dtype, np.integer)):
        return None  # None, a set, a generator (0-d object arrays), floats, booleans, a column...
    return array.astype(np.int64)


def _describe(value: Any) -> str:
    """What came, for a message: ``NoneType``, ``set``, ``an array of shape (10, 1) and dtype int64``..."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - anything not array-like
        return type(value).__name__
    if array.ndim == 0:
        return type(value).__name__
    return f"a {type(value).__name__} read as shape {array.shape} and dtype {array.dtype}"


def _some(indices: np.ndarray, limit: int = 5) -> str:
    """``3, 7, 9`` or ``3, 7, 9, 11, 12, ... (8 in all)``."""
    shown = ", ".join(str(int(i)) for i in indices[:limit])
    return shown if len(indices) <= limit else f"{shown}, ... ({len(indices)} in all)"


def json_info(info: Mapping[str, Any], strategy_name: str) -> dict[str, Any]:
    """``last_info`` as JSON values: NumPy scalars and arrays as numbers and lists, NaN and infinities as None.

    Raises
    ------
    InterfaceError
        Naming the strategy and the key of a value that has no JSON form.
    """
    if not isinstance(info, Mapping):
        raise InterfaceError(f"strategy {strategy_name!r} set last_info to {type(info).__name__}; expected a dict")
    return _json_value(info, strategy_name, "")


def _json_value(value: Any, strategy_name: str, where: str) -> Any:
    if isinstance(value, (np.generic, np.ndarray)):
        value = value.tolist()  # Python numbers, strings and (nested) lists
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (list, tuple)):
        return [_json_value(v, strategy_name, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if isinstance(key, np.generic):
                key = key.item()
            if not (key is None or isinstance(key, (str, int, float))):
                raise InterfaceError(f"strategy {strategy_name!r} put a {type(key).__name__} key in last_info{where}; "
                                 f"expected str keys: convert it (str(key))")
            out[key] = _json_value(item, strategy_name, f"{where}[{key!r}]")
        return out
    raise InterfaceError(
        f"strategy {strategy_name!r} put {type(value).__name__} in last_info{where}; expected numbers, strings, "
        f"lists or dicts of them: convert it (float(x), x.tolist(), str(x))"
    )


def check_requires(cls: type[Strategy], where: str) -> None:
    """Check that ``cls.requires`` is a set of known requirement names (see :data:`REQUIREMENTS`).

    Raises
    ------
    ConfigError
        Naming the unknown ones, a close known name, and the known ones.
    """
    requires = cls.requires
    if isinstance(requires, (str, bytes)) or not isinstance(requires, (set, frozenset, list, tuple)):
        one = f"frozenset({{{requires!r}}})" if isinstance(requires, str) else "frozenset({'proba'})"
        raise ConfigError(
            f"{where}: requires is {requires!r}; expected a set of view names (a frozenset, set, list or tuple), "
            f"e.g. {one}{' for that one view' if isinstance(requires, str) else ''}"
        )
    unknown = sorted(str(r) for r in set(requires) - set(REQUIREMENTS))
    if unknown:
        raise ConfigError(
            f"{where} requires unknown view(s) {', '.join(map(repr, unknown))}{did_you_mean(unknown, REQUIREMENTS)}; "
            f"known: {', '.join(sorted(REQUIREMENTS))}"
        )
