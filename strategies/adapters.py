"""Run small-text's and modAL's query strategies inside this loop.

``--strategy smalltext:BreakingTies`` or ``--strategy modal:margin_sampling``
wraps the library's own code, so a comparison runs on the same data,
classifier, seeds and budget as our strategies. The libraries are optional
extras (``pip install small-text``, ``pip install modal-python``): they are
imported when an adapter is built, never by ``import al`` or ``import
strategies``.

What the wrapped code sees
--------------------------
small-text's ``query(clf, dataset, indices_unlabeled, indices_labeled, y, n)``
gets a dataset over the whole pool (so its indices are our absolute pool
indices), a classifier whose ``predict_proba`` and ``embed`` answer from the
state's ``proba`` and ``embeddings`` views, and ``y`` = the gold labels of the
labeled texts only (small-text's ``y`` is aligned with ``indices_labeled``).
modAL's query functions get a fitted-looking estimator whose ``predict_proba``
is this round's ``proba`` of the unlabeled texts, and ``predict`` the
classifier's own thresholded predictions; their positions are mapped back to
pool indices. Answers are the library's picks in the library's order (not
necessarily most wanted first); small-text's confidence scores become
``last_scores``.

Two things that fail on today's versions are never used: modAL's
``ActiveLearner.teach`` (on scikit-learn versions that renamed
``force_all_finite``: ``check_X_y() got an unexpected keyword argument
'force_all_finite'``), and small-text's transformer integration (it calls
``tokenizer.encode_plus``, which transformers 5 removed). small-text's package
``__init__`` still imports its integration modules whenever torch and
transformers are installed, so the first small-text adapter takes seconds to
build; nothing in them is called.

The probabilities are our per-label sigmoids, passed as they are: strategies
written for one distribution over classes (small-text's BreakingTies,
LeastConfidence, PredictionEntropy, ContrastiveActiveLearning; modAL's
uncertainty, margin, entropy and uncertainty batch sampling:
:data:`ONE_DISTRIBUTION`) read a row of label probabilities as such a
distribution, exactly as they do when handed any multi-label classifier. With
one label (a binary task) such a row is one number, which they would score
alike for every text (margin, entropy) or read backwards (1 - p: the most
confident negatives first); they get the binary task's distribution
``[1 - p, p]`` instead (:func:`class_distribution`).

Randomness
----------
Both libraries draw from NumPy's global generator (``np.random.choice``,
``np.random.permutation``, scikit-learn's ``KMeans(random_state=None)``). Right
before delegating, an adapter seeds it with a number drawn from ``state.rng``
and restores the previous global state afterwards, so runs are reproducible
from the simulation seed and code outside the query sees no change. The
global generator is process-wide: do not run two queries at once in threads.

Supported and refused
---------------------
See :data:`SMALLTEXT_STRATEGIES`, :data:`SMALLTEXT_REFUSED`,
:data:`MODAL_FUNCTIONS` and :data:`MODAL_REFUSED`.

References
----------
Schröder et al., "Small-Text: Active Learning for Text Classification in
Python", EACL 2023, System Demonstrations.
Danka, Horvath, "modAL: A modular active learning framework for Python",
arXiv:1805.00979 (2018).
"""
from __future__ import annotations

import importlib
import inspect
import json
import math
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import Any, Callable, ClassVar, Iterator, Mapping, Sequence

import numpy as np

from al import checks
from al.config import check_param_types
from al.errors import ConfigError, QueryError, did_you_mean
from al.registry import register_prefix
from al.strategy import PoolState, Strategy

PROBA = frozenset({"proba"})
EMBEDDINGS = frozenset({"embeddings"})
CLASSIFIER = frozenset({"classifier"})


def _discriminator_defaults() -> dict[str, Any]:
    """A logistic-regression discriminator (labeled vs unlabeled) on the embeddings, one iteration."""
    from sklearn.linear_model import LogisticRegression
    from small_text.classifiers.factories import SklearnClassifierFactory

    return {"classifier_factory": SklearnClassifierFactory(LogisticRegression(max_iter=1000), 2), "num_iterations": 1}


@dataclass(frozen=True)
class SmallTextSpec:
    """How to run one small-text strategy.

    Attributes
    ----------
    requires : views the adapter reads for it
    defaults : constructor keywords set unless the user passes them
    trains_on_dataset : the strategy fits its own small-text classifiers on the
        dataset, so it gets a ``SklearnDataset`` of the pool embeddings whose
        labels are all ``LABEL_UNLABELED`` (never gold labels)
    integers : unannotated parameters its docstring types ``int``: checked as
        integers (``k=2.5`` is refused now, not by a ``TypeError`` at the first query)
    bounds : parameter -> (low, high, low_open, high_open): the interval its value must lie in, checked
        before any data loads (``prediction_threshold=7`` ran, ``k=0`` failed at the first query)
    """

    requires: frozenset[str]
    defaults: Callable[[], dict[str, Any]] = dict
    trains_on_dataset: bool = False
    integers: frozenset[str] = frozenset()
    bounds: Mapping[str, tuple[float, float, bool, bool]] = field(default_factory=dict)

    def parameters(self, library: type) -> list[inspect.Parameter]:
        """``library``'s constructor parameters, those of :attr:`integers` annotated ``int``."""
        return [param.replace(annotation=int) if param.name in self.integers and param.annotation is param.empty
                else param for param in inspect.signature(library).parameters.values()]


#: The wrapped strategies that read a row of probabilities as one distribution over classes.
ONE_DISTRIBUTION = frozenset({"LeastConfidence", "PredictionEntropy", "BreakingTies", "ContrastiveActiveLearning",
                              "uncertainty_sampling", "margin_sampling", "entropy_sampling",
                              "uncertainty_batch_sampling"})


def class_distribution(proba: np.ndarray) -> np.ndarray:
    """``proba`` (n, n_labels) as a strategy of :data:`ONE_DISTRIBUTION` reads it: as it is, but for one label
    (a binary task), whose probability p becomes the distribution ``[1 - p, p]`` (n, 2)."""
    return np.hstack([1.0 - proba, proba]) if proba.shape[1] == 1 else proba


#: A count's interval (:attr:`SmallTextSpec.bounds`): 1 or more.
AT_LEAST_ONE = (1.0, math.inf, False, False)

#: small-text 1.4 query strategies that run on probabilities and/or embeddings. Wrapped as they are:
#: small-text's CVIRS scores category vectors by Hamming distance only (its entropy distance is computed,
#: then dropped), unlike our ``cvirs``; DiscriminativeActiveLearning trains a logistic-regression
#: discriminator on the embeddings, ``num_iterations=1`` unless set (at most the query size).
SMALLTEXT_STRATEGIES: dict[str, SmallTextSpec] = {
    "RandomSampling": SmallTextSpec(frozenset()),
    "LeastConfidence": SmallTextSpec(PROBA),
    "PredictionEntropy": SmallTextSpec(PROBA),
    "BreakingTies": SmallTextSpec(PROBA),
    "CategoryVectorInconsistencyAndRanking": SmallTextSpec(PROBA, integers=frozenset({"batch_size"}), bounds={
        "batch_size": AT_LEAST_ONE, "prediction_threshold": (0.0, 1.0, True, True),
        "epsilon": (0.0, math.inf, True, False)}),
    "EmbeddingKMeans": SmallTextSpec(EMBEDDINGS),
    "GreedyCoreset": SmallTextSpec(EMBEDDINGS, integers=frozenset({"batch_size"}), bounds={"batch_size": AT_LEAST_ONE}),
    "LightweightCoreset": SmallTextSpec(EMBEDDINGS),
    "ContrastiveActiveLearning": SmallTextSpec(EMBEDDINGS | PROBA, integers=frozenset({"k", "batch_size"}),
                                               bounds={"k": AT_LEAST_ONE, "batch_size": AT_LEAST_ONE}),
    # num_iterations: SmallTextStrategy.check_query_sizes, which knows the query sizes
    "DiscriminativeActiveLearning": SmallTextSpec(EMBEDDINGS, _discriminator_defaults, trains_on_dataset=True,
                                                  integers=frozenset({"unlabeled_factor"}),
                                                  bounds={"unlabeled_factor": AT_LEAST_ONE}),
}

#: small-text strategies that cannot run here, and why.
SMALLTEXT_REFUSED: dict[str, str] = {
    "BALD": "it calls predict_proba(dropout_sampling=k), which needs a small-text PyTorch classifier with "
            "dropout; our classifiers give one probability per label",
    "SEALS": "it wraps another small-text strategy object (not expressible as a name) and needs hnswlib",
    "AnchorSubsampling": "it wraps another small-text strategy object, needs hnswlib and builds single-label "
                         "class histograms",
    "SubsamplingQueryStrategy": "it wraps another small-text strategy object, which a name cannot express",
    "QueryStrategy": "it is an abstract base class",
    "ConfidenceBasedQueryStrategy": "it is an abstract base class",
    "EmbeddingBasedQueryStrategy": "it is an abstract base class",
}

#: modAL 0.4 query functions that work with a probability-only classifier: name -> (module, requires).
MODAL_FUNCTIONS: dict[str, tuple[str, frozenset[str]]] = {
    "uncertainty_sampling": ("modAL.uncertainty", PROBA),
    "margin_sampling": ("modAL.uncertainty", PROBA),
    "entropy_sampling": ("modAL.uncertainty", PROBA),
    "min_confidence": ("modAL.multilabel", PROBA),
    "avg_confidence": ("modAL.multilabel", PROBA),
    "max_score": ("modAL.multilabel", PROBA | CLASSIFIER),
    "avg_score": ("modAL.multilabel", PROBA | CLASSIFIER),
    "max_loss": ("modAL.multilabel", PROBA | CLASSIFIER),
    "mean_max_loss": ("modAL.multilabel", PROBA | CLASSIFIER),
    "uncertainty_batch_sampling": ("modAL.batch", PROBA | EMBEDDINGS),
}

#: modAL functions that cannot run here, and why.
MODAL_REFUSED: dict[str, str] = {
    "SVM_binary_minimum": "it reads the decision_function of each SVM inside a one-vs-rest estimator and "
                          "returns a single pick",
    "vote_entropy_sampling": "it needs a committee of learners",
    "consensus_entropy_sampling": "it needs a committee of learners",
    "max_disagreement_sampling": "it needs a committee of learners",
    "max_std_sampling": "it needs a regressor with predict(return_std=True)",
    "expected_error_reduction": "it retrains the classifier for every candidate, which a strategy must not do",
    "max_PI": "it is a Bayesian-optimisation acquisition for regressors",
    "max_EI": "it is a Bayesian-optimisation acquisition for regressors",
    "max_UCB": "it is a Bayesian-optimisation acquisition for regressors",
    "mc_dropout_bald": "it needs a PyTorch (skorch) classifier with dropout layers",
    "mc_dropout_mean_st": "it needs a PyTorch (skorch) classifier with dropout layers",
    "mc_dropout_max_entropy": "it needs a PyTorch (skorch) classifier with dropout layers",
    "mc_dropout_max_variationRatios": "it needs a PyTorch (skorch) classifier with dropout layers",
    "information_density": "it returns densities for all of X, not a query",
}


def _import_optional(module: str, pip_name: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(f"{module} is not installed ({exc}); run `pip install {pip_name}`") from None


@contextmanager
def seeded_global_numpy(rng: np.random.Generator) -> Iterator[None]:
    """Seed NumPy's global generator from ``rng`` for the block, then restore its previous state."""
    saved = np.random.get_state()
    np.random.seed(int(rng.integers(2**32)))
    try:
        yield
    finally:
        np.random.set_state(saved)


def _plain_parameters(signature: inspect.Signature, skip: set[str], defaults: dict[str, Any]
                      ) -> dict[str, inspect.Parameter]:
    """The keyword parameters of a peer's strategy that a run can set: those without a default, and those whose
    default (``defaults``, else the signature's) is None, true/false, a number or a text, at that default; ``skip``
    left out, and ``*args``/``**kwargs``. A default of another kind (a factory) has no command-line or grid form."""
    out = {}
    for name, param in signature.parameters.items():
        if name in skip or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        default = defaults.get(name, param.default)
        if default is param.empty or default is None or isinstance(default, (bool, int, float, str)):
            out[name] = param.replace(default=default, kind=param.KEYWORD_ONLY)
    return out


def _check_name(library: str, name: str, supported: dict[str, Any], refused: dict[str, str]) -> None:
    known = ", ".join(sorted(supported))
    if name in refused:
        raise ConfigError(f"{library} strategy {name!r} cannot run in this loop: {refused[name]}; supported: {known}")
    if name not in supported:
        starting = sorted(n for n in supported if name and n.lower().startswith(name.lower()))  # margin: margin_...
        guess = did_you_mean([name], supported) or (f" (did you mean {' or '.join(starting)}?)" if starting else "")
        raise ConfigError(f"unknown {library} strategy {name!r}{guess}; supported: {known}")


# --- small-text --------------------------------------------------------------------------------------------------


class _PoolRows:
    """A dataset of pool rows as small-text's strategies index it: ``len()`` and ``[index_array]``."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: Any) -> _PoolRows:
        return _PoolRows(self.rows[index])


class _SmallTextClassifier:
    """Answers the classifier calls of small-text's strategies from the state's views.

    Parameters
    ----------
    state : PoolState
    embed_proba : bool
        Whether ``embed(..., return_proba=True)`` returns probabilities too
        (otherwise None, which small-text's embedding strategies accept).
    """

    def __init__(self, state: PoolState, embed_proba: bool, one_distribution: bool = False) -> None:
        self._state = state
        self._embed_proba = embed_proba
        self._one_distribution = one_distribution

    def predict_proba(self, dataset: _PoolRows) -> np.ndarray:
        """ndarray of shape (len(dataset), n_labels); (len(dataset), 2) for one label read as one distribution."""
        proba = self._state.proba[dataset.rows]
        return class_distribution(proba) if self._one_distribution else proba

    def embed(
        self, dataset: _PoolRows, return_proba: bool = False, **kwargs: Any
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray | None]:
        """Embeddings of shape (len(dataset), dim), and the probabilities if ``return_proba``."""
        embeddings = self._state.embeddings[dataset.rows]
        if not return_proba:
            return embeddings
        return embeddings, self.predict_proba(dataset) if self._embed_proba else None


class SmallTextStrategy(Strategy):
    """A small-text query strategy run on this loop's state.

    Subclasses are made per name by :func:`smalltext_strategy`; keyword
    parameters go to the small-text strategy's constructor (``pbar`` defaults
    to None, so no progress bars).
    """

    wrapped: ClassVar[str] = ""

    @classmethod
    def wrapped_parameters(cls) -> dict[str, inspect.Parameter]:
        """The small-text strategy's parameters a run can set, at the defaults this adapter gives
        (:func:`_plain_parameters`; ``pbar`` is this adapter's: None)."""
        library = getattr(_import_optional("small_text.query_strategies", "small-text"), cls.wrapped)
        spec = SMALLTEXT_STRATEGIES[cls.wrapped]
        return _plain_parameters(inspect.Signature(spec.parameters(library)), {"pbar"}, spec.defaults())

    def __init__(self, **params: Any) -> None:
        super().__init__()
        self.params = params
        spec = SMALLTEXT_STRATEGIES[self.wrapped]
        cls = getattr(_import_optional("small_text.query_strategies", "small-text"), self.wrapped)
        defaults = spec.defaults()
        if "pbar" in inspect.signature(cls).parameters:
            defaults["pbar"] = None
        check_param_types(spec.parameters(cls), params, f"strategy {self.name!r}")
        for name, (low, high, low_open, high_open) in spec.bounds.items():
            if name in params:
                checks.number(f"strategy {self.name!r}", name, params[name], low, high, low_open=low_open,
                              high_open=high_open)
        try:
            with warnings.catch_warnings():  # its notice of its own default's change (1.2): the metric used is known
                warnings.filterwarnings("ignore", message="Default distance metric has changed", category=UserWarning)
                self._strategy = cls(**{**defaults, **params})
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{self.name} rejects the parameters {params}: {exc}") from None

    def check_query_sizes(self, sizes: Sequence[int], step: int) -> None:
        """small-text's DiscriminativeActiveLearning splits a query into ``num_iterations`` parts of at least one
        text each: fewer than one part, or more parts than the smallest query's texts, is refused now, not at the
        first query after the pool is embedded."""
        if self.wrapped != "DiscriminativeActiveLearning":
            return
        parts = getattr(self._strategy, "num_iterations", None)
        if not isinstance(parts, int) or isinstance(parts, bool) or parts < 1:  # 2.0 and null passed as numbers
            raise ConfigError(f"strategy {self.name!r} splits each query into num_iterations parts, got "
                              f"num_iterations={json.dumps(parts)}; give --strategy-param num_iterations a positive "
                              f"integer (small-text's default: 1)")
        if not sizes or parts <= min(sizes):
            return
        smallest = min(sizes)
        if smallest == step:
            which, other = "each query asks for", "or raise --step"
        elif len(sizes) > 1:
            which, other = "the last query asks for", "or make --budget minus --initial a multiple of --step"
        else:  # one query, shrunk to fit the budget
            which, other = "its one query asks for", "or raise --budget minus --initial"
        raise ConfigError(f"strategy {self.name!r} splits each query into num_iterations={parts} parts of at least one "
                          f"text, and {which} {smallest}; lower --strategy-param num_iterations to at most {smallest}, "
                          f"{other}")

    def query(self, state: PoolState, n: int) -> np.ndarray:
        dataset = self._dataset(state)
        clf = _SmallTextClassifier(state, embed_proba="proba" in self.requires,
                                   one_distribution=self.wrapped in ONE_DISTRIBUTION)
        with seeded_global_numpy(state.rng):
            picked = self._strategy.query(
                clf, dataset, state.indices_unlabeled.copy(), state.indices_labeled.copy(),
                state.y_labeled.copy(), n=n,
            )
        self.last_scores = self._scores(state)
        return np.asarray(picked, dtype=np.int64)

    def _dataset(self, state: PoolState) -> Any:
        if not SMALLTEXT_STRATEGIES[self.wrapped].trains_on_dataset:
            return _PoolRows(np.arange(state.n_pool))
        from small_text.base import LABEL_UNLABELED
        from small_text.data.datasets import SklearnDataset

        unlabeled = np.full(state.n_pool, LABEL_UNLABELED)
        return SklearnDataset(state.embeddings, unlabeled, target_labels=np.arange(2))

    def _scores(self, state: PoolState) -> np.ndarray | None:
        """small-text's ``scores_`` over the pool, as ours: aligned with the unlabeled texts, higher first."""
        scores = getattr(self._strategy, "scores_", None)
        if scores is None or len(scores) != state.n_pool:
            return None
        scores = np.asarray(scores, dtype=np.float64)[state.indices_unlabeled]
        return -scores if getattr(self._strategy, "lower_is_better", False) else scores


@register_prefix("smalltext")
@cache
def smalltext_strategy(name: str) -> type[Strategy]:
    """The strategy class serving ``smalltext:NAME``, e.g. ``smalltext:BreakingTies``.

    Raises
    ------
    ConfigError
        For a name small-text does not have or that cannot run here, listing the supported ones.
    """
    _check_name("small-text", name, SMALLTEXT_STRATEGIES, SMALLTEXT_REFUSED)
    return type(f"SmallText{name}", (SmallTextStrategy,), {
        "__module__": __name__,
        "__doc__": f"small-text's ``{name}`` run on this loop's state (see :class:`SmallTextStrategy`).",
        "name": f"smalltext:{name}",
        "wrapped": name,
        "requires": SMALLTEXT_STRATEGIES[name].requires,
    })


smalltext_strategy.names = tuple(SMALLTEXT_STRATEGIES)  # type: ignore[attr-defined]  # --list-strategies shows them


# --- modAL -------------------------------------------------------------------------------------------------------


class ProbaEstimator:
    """A fitted classifier, as modAL's query functions use one, for one ``X_pool``: a round's unlabeled texts.

    modAL 0.4 reads ``predict_proba``, ``predict`` and ``classes_``, and treats a
    ``NotFittedError`` from ``predict_proba`` as "score everything alike"; this
    estimator is always fitted. It also carries what modAL's batch sampling reads
    from a learner (``X_training``, ``on_transformed``). It is not a scikit-learn
    ``BaseEstimator`` (that would import scikit-learn with ``strategies``).

    Parameters
    ----------
    proba : ndarray of shape (n_unlabeled, n_labels)
        Rows in ``X_pool`` order.
    thresholds : float or ndarray of shape (n_labels,)
        ``predict`` is ``proba >= thresholds``: the classifier's own decisions.
    X_training : ndarray of shape (n_labeled, dim), optional
        Embeddings of the labeled texts.
    """

    on_transformed = False

    def __init__(self, proba: np.ndarray, thresholds: float | np.ndarray = 0.5,
                 X_training: np.ndarray | None = None) -> None:
        self.proba = proba
        self.thresholds = thresholds
        self.X_training = X_training

    @property
    def classes_(self) -> np.ndarray:
        """The label indices 0 .. n_labels - 1."""
        return np.arange(self.proba.shape[1])

    def predict_proba(self, X: Any) -> np.ndarray:
        """ndarray of shape (n_unlabeled, n_labels); ``X`` must be the ``X_pool`` it was made for."""
        if np.shape(X)[0] != len(self.proba):
            raise QueryError(
                f"asked for probabilities of {np.shape(X)[0]} rows; this estimator answers for the "
                f"{len(self.proba)} unlabeled texts of X_pool only"
            )
        return self.proba

    def predict(self, X: Any) -> np.ndarray:
        """0/1 ndarray of shape (n_unlabeled, n_labels)."""
        return (self.predict_proba(X) >= self.thresholds).astype(np.int8)


class ModalStrategy(Strategy):
    """A modAL query function run on this loop's state.

    Subclasses are made per name by :func:`modal_strategy`; keyword
    parameters go to the function (e.g. ``random_tie_break``, ``metric``).
    ``X_pool`` is the unlabeled embeddings where the function measures
    distances, else a column of their pool indices.
    """

    wrapped: ClassVar[str] = ""
    #: The function's parameters this adapter sets itself.
    reserved: ClassVar[frozenset[str]] = frozenset({"classifier", "X", "X_pool", "n_instances"})

    @classmethod
    def wrapped_parameters(cls) -> dict[str, inspect.Parameter]:
        """The modAL function's parameters a run can set, at their defaults (:func:`_plain_parameters`)."""
        module, _ = MODAL_FUNCTIONS[cls.wrapped]
        function = getattr(_import_optional(module, "modal-python"), cls.wrapped)
        return _plain_parameters(inspect.signature(function), set(cls.reserved), {})

    def __init__(self, **params: Any) -> None:
        super().__init__()
        self.params = params
        module, _ = MODAL_FUNCTIONS[self.wrapped]
        self._function = getattr(_import_optional(module, "modal-python"), self.wrapped)
        reserved = set(self.reserved)
        if reserved & set(params):
            raise ConfigError(f"{self.name} sets {sorted(reserved & set(params))} itself; remove them")
        # keywords a function forwards to predict_proba (**kwargs) have nowhere to go here
        signature = inspect.signature(self._function).parameters.values()
        named = {p.name for p in signature if p.kind is not p.VAR_KEYWORD} - reserved
        unknown = set(params) - named
        if unknown:
            raise ConfigError(
                f"{self.name} rejects the parameters {sorted(unknown)}; it takes: {', '.join(sorted(named))}"
            )
        check_param_types(signature, params, f"strategy {self.name!r}")
        if isinstance(params.get("metric"), str):  # a distance's name reaches scikit-learn at the first query
            self._check_metric(params["metric"])

    def _check_metric(self, metric: str) -> None:
        """Refuse a ``metric`` scikit-learn's pairwise distances do not know, now rather than after the pool is
        embedded (scikit-learn's own check, on a one-row problem)."""
        from sklearn.metrics import pairwise_distances_argmin_min

        try:
            pairwise_distances_argmin_min(np.zeros((1, 2)), np.ones((1, 2)), metric=metric)
        except (TypeError, ValueError) as exc:  # InvalidParameterError is a ValueError
            from sklearn.metrics.pairwise import distance_metrics

            known = sorted(distance_metrics())
            raise ConfigError(f"strategy {self.name!r}: metric {metric!r} is no distance scikit-learn knows"
                              f"{did_you_mean([metric], known)} ({type(exc).__name__}); give one of "
                              f"{', '.join(known)}, or a SciPy distance such as 'correlation' or "
                              f"'chebyshev'") from None

    def query(self, state: PoolState, n: int) -> np.ndarray:
        unlabeled = state.indices_unlabeled
        with_embeddings = "embeddings" in self.requires
        proba = state.proba[unlabeled]
        estimator = ProbaEstimator(
            class_distribution(proba) if self.wrapped in ONE_DISTRIBUTION else proba,
            state.classifier.thresholds_ if "classifier" in self.requires else 0.5,
            state.embeddings[state.indices_labeled] if with_embeddings else None,
        )
        X_pool = state.embeddings[unlabeled] if with_embeddings else unlabeled[:, None]
        with seeded_global_numpy(state.rng):
            result = self._function(estimator, X_pool, n_instances=n, **self.params)
        positions = result[0] if isinstance(result, tuple) else result  # modAL 0.4 returns (indices, scores)
        return unlabeled[np.asarray(positions, dtype=np.int64).ravel()]


@register_prefix("modal")
@cache
def modal_strategy(name: str) -> type[Strategy]:
    """The strategy class serving ``modal:NAME``, e.g. ``modal:margin_sampling``.

    Raises
    ------
    ConfigError
        For a function modAL does not have or that cannot run here, listing the supported ones.
    """
    _check_name("modAL", name, MODAL_FUNCTIONS, MODAL_REFUSED)
    return type(f"Modal_{name}", (ModalStrategy,), {
        "__module__": __name__,
        "__doc__": f"modAL's ``{name}`` run on this loop's state (see :class:`ModalStrategy`).",
        "name": f"modal:{name}",
        "wrapped": name,
        "requires": MODAL_FUNCTIONS[name][1],
    })


modal_strategy.names = tuple(MODAL_FUNCTIONS)  # type: ignore[attr-defined]  # --list-strategies shows them
