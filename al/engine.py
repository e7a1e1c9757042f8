"""The active-learning loop.

Each round: train the classifier on the labeled set; evaluate it on the test
split; build the views the strategy asks for; query; validate the answer;
reveal the gold labels; let observers measure; record. Only this loop changes
the pool, and finished rounds come from the run's records alone.

Labels come from an :class:`Annotator` and from nowhere else: the gold labels
of the corpus in a simulation (:class:`GoldAnnotator`, the default), a person
in an annotation session (:mod:`al.annotate`). A text the annotator skips is
shown but never labeled: it leaves the pool, spends its place in the budget,
and is listed in the round's ``skipped``.

A round's record (one line of ``rounds.jsonl``)::

    round, n_labeled, macro_f1, micro_f1, macro_precision, macro_recall,
    per_label_f1 {label: f1}, labeled_counts {label: texts}, picked [pool indices],
    seconds_train (with its parts a classifier reports, e.g. seconds_train_dev),
    seconds_query, seconds_evaluate, strategy_info {...},
    classifier_info {...} (``Classifier.info()``), space {name, scope,
    fitted_round, ...} and seconds_space with a task-specific space, observers' fields (e.g.
    ``diagnostics``); round 0 also has ``initial`` (the random start), and the
    first round a process runs ``seconds_embed`` (and ``seconds_prepare``, a
    strategy's pool work run before the embedding because it embeds the pool
    too: ALPS's surprisal pass); ``skipped`` (texts of the
    labeled set or of ``picked`` the annotator declined) when there are any.

``picked`` is what the strategy chose *after* that round's evaluation; the
last round (labeled set = budget) picks nothing.

Randomness: each purpose draws from ``numpy.random.default_rng([seed,
round, purpose])``, so a run resumed at round r makes the same choices as
one never interrupted; a query also gets the process-wide generators
(NumPy's, Python's, torch's) seeded the same way (:func:`seeded_global_random`).
"""
from __future__ import annotations

import contextlib
import random
import sys
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator, Mapping, Protocol, Sequence

import numpy as np
import scipy.sparse as sp

from al.classifiers.base import Classifier, passes_described
from al.config import SPACE_READERS, check_space_readers, n_rounds
from al.datasets.corpus import Corpus
from al.embedders import matrix_digest
from al.errors import ALError, ConfigError, DataError, QueryError, exception_text, raised_at, spelled
from al.metrics import constant_prediction, evaluate
from al.progress import counted, heartbeat, is_quiet, progress
from al.records import RunRecords
from al.strategy import PoolState, Strategy, validate_answer, write_advice

INITIAL, STRATEGY, CLASSIFIER, SPACE = 0, 1, 2, 3
GLOBAL_GENERATORS = 4  # what a strategy draws from process-wide generators (np.random, random, torch)
#: (delay, interval) in seconds of the lines a query that shows no progress of its own prints while it runs.
QUERY_HEARTBEAT = (15.0, 30.0)

Embed = Callable[[Sequence[str]], np.ndarray]


def round_rng(seed: int, round_: int, purpose: int) -> np.random.Generator:
    return np.random.default_rng([seed, round_, purpose])


def _child(seed: np.random.SeedSequence, k: int) -> np.random.SeedSequence:
    """The ``k``-th child of ``seed``, as ``seed.spawn`` makes it, without counting a spawn on ``seed``."""
    return np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, k), pool_size=seed.pool_size)


def _word(seed: np.random.SeedSequence) -> int:
    """One 64-bit integer from ``seed``."""
    return int(seed.generate_state(1, np.uint64)[0])


def _seed_torch(torch: Any, seed: np.random.SeedSequence) -> Callable[[], None]:
    """Seed torch's CPU generator and its CUDA generators from ``seed``; return what restores them.

    CUDA generators are saved and restored when CUDA is initialised; when it
    is not, the seed waits for its start (``torch.cuda.manual_seed_all``)
    and no device is initialised here, unlike ``torch.random.fork_rng()``
    with its default devices, which starts every visible GPU.
    """
    cpu = torch.get_rng_state()
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    value = _word(seed)
    torch.default_generator.manual_seed(value)
    torch.cuda.manual_seed_all(value)

    def restore() -> None:
        torch.set_rng_state(cpu)
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)

    return restore


class _SeedOnImport:
    """A finder for ``sys.meta_path`` that seeds torch when it is imported, as its import completes.

    ``restore`` is then set: it puts torch's generators back as the import left them.
    """

    def __init__(self, seed: np.random.SeedSequence) -> None:
        self.seed = seed
        self.restore: Callable[[], None] | None = None

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != "torch":
            return None
        for finder in sys.meta_path:  # the finders that really find torch: no other query's hook
            if isinstance(finder, _SeedOnImport) or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _ThenSeed(spec.loader, self)
                return spec
        return None


class _ThenSeed:
    """Loads a module with ``loader`` (which the module keeps as its own), then seeds it."""

    def __init__(self, loader: Any, finder: _SeedOnImport) -> None:
        self.loader = loader
        self.finder = finder

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        module.__spec__.loader = module.__loader__ = self.loader
        self.loader.exec_module(module)
        self.finder.restore = _seed_torch(module, self.finder.seed)


@contextlib.contextmanager
def seeded_global_random(seed: np.random.SeedSequence, torch_too: bool = True) -> Iterator[None]:
    """Seed the process-wide generators from ``seed`` for the block, then restore their previous states.

    NumPy's global generator (``np.random``) is seeded from ``seed`` itself,
    Python's ``random`` and torch's generators (CPU, and CUDA's) from two
    children of it. A strategy that draws from them (its own code, or a
    library's: ``np.random.choice``, ``random.random()``, ``torch.randperm``,
    dropout in train mode) then picks the same texts for the same run seed and
    round, so a run resumed at round r in a new process picks what an
    uninterrupted one picks; code outside the block sees no change. Nothing
    is drawn from the round's ``state.rng``.

    torch is not imported here: when it is not imported yet, an import inside
    the block seeds it as the import completes (a strategy that imports torch
    in its first query draws from the round's seed, as it does in later
    rounds), and afterwards its generators are as that import left them. CUDA
    generators not yet initialised get the seed when CUDA starts (the one
    trace the block may leave: a seed waiting for a CUDA start).

    ``torch_too=False`` leaves torch alone (built-in strategies draw from
    their own seeded generators). With it, the block holds
    :data:`al.device.TORCH_RNG_LOCK`, as every seeded torch block does
    (:func:`al.device.seeded_torch`): a fit in another thread (``al.annotate``'s
    background cross-validation) neither sees its generator reseeded
    mid-fit nor reseeds the query's. NumPy's and Python's generators are
    process-wide too: two queries at once in threads of one process share
    them, and neither then repeats its picks.
    """
    from al.device import TORCH_RNG_LOCK

    with TORCH_RNG_LOCK if torch_too else contextlib.nullcontext():
        numpy_state, python_state = np.random.get_state(), random.getstate()
        np.random.seed(seed.generate_state(4))
        random.seed(_word(_child(seed, 0)))
        restore_torch: Callable[[], None] | None = None
        hook = None
        if torch_too and "torch" in sys.modules:
            restore_torch = _seed_torch(sys.modules["torch"], _child(seed, 1))
        elif torch_too:
            hook = _SeedOnImport(_child(seed, 1))
            sys.meta_path.insert(0, hook)
        try:
            yield
        finally:
            if hook is not None:
                if hook in sys.meta_path:
                    sys.meta_path.remove(hook)
                restore_torch = hook.restore
            if restore_torch is not None:
                restore_torch()
            random.setstate(python_state)
            np.random.set_state(numpy_state)


def initial_indices(seed: int, n_pool: int, initial: int) -> np.ndarray:
    """The random start: ``initial`` distinct pool positions, sorted; a function of the seed alone.

    Every strategy gets the same start for one seed, so comparisons are paired.
    """
    return np.sort(round_rng(seed, 0, INITIAL).choice(n_pool, initial, replace=False))


@dataclass(frozen=True)
class Features:
    """What the classifier reads for each split, and the pool's sentence embeddings.

    Attributes
    ----------
    pool, dev, test : list of str, or ndarray of shape (n_split, dim)
        The classifier's input (``Classifier.input``); ``dev`` is None when
        the classifier reads no dev data.
    pool_texts : list of str, length n_pool
    pool_embeddings : ndarray of shape (n_pool, dim), float32, or None
        Sentence embeddings of the pool, when a strategy, the classifier or an
        observer reads them.
    """

    pool: Any
    dev: Any
    test: Any
    pool_texts: list[str]
    pool_embeddings: np.ndarray | None = None

    def pool_rows(self, indices: np.ndarray) -> Any:
        """The classifier's input for the pool texts at ``indices``."""
        if isinstance(self.pool, np.ndarray):
            return self.pool[indices]
        return [self.pool[i] for i in indices]


@dataclass(frozen=True)
class RoundView:
    """What an observer sees after a round's evaluation: more than any strategy does.

    ``Y_pool_for_evaluation_only`` holds the gold labels of the whole pool,
    unlabeled texts included; observers measure with them (diagnostics),
    they never feed back into the loop.
    """

    round: int
    indices_labeled: np.ndarray
    indices_unlabeled: np.ndarray
    y_labeled: sp.csr_matrix
    Y_pool_for_evaluation_only: sp.csr_matrix
    label_names: tuple[str, ...]
    features: Features
    classifier: Classifier


class Annotator(Protocol):
    """Where the loop gets labels: the corpus's gold labels, or a person.

    ``labels`` blocks until the labels of every text asked for are known and
    returns them row for row; a text asked for again gets its current labels
    (a person may have corrected them). ``skipped`` tells which texts, among
    those already answered, were declined: their rows are all zero and the
    loop never counts them as labeled.
    """

    def labels(self, indices: np.ndarray) -> sp.csr_matrix:
        """Labels of the pool texts ``indices``, csr_matrix of shape (len(indices), n_labels), 0/1."""
        ...

    def skipped(self, indices: np.ndarray) -> np.ndarray:
        """Boolean mask of shape (len(indices),): which of these answered texts were skipped."""
        ...

    # Optional: ``at_round(r)``, a context manager inside which ``labels`` and ``skipped`` answer as they did
    # in round ``r`` (a person's corrections count from the round after them). A resumed run refitting a
    # warm-started classifier on its earlier rounds reads them so; an annotator without it never changes.


class GoldAnnotator:
    """The simulated annotator: the corpus's gold labels, never a skip.

    Parameters
    ----------
    Y_pool : csr_matrix of shape (n_pool, n_labels)
        Gold labels of the pool, row per pool position.
    """

    def __init__(self, Y_pool: sp.csr_matrix) -> None:
        self.Y_pool = Y_pool

    def labels(self, indices: np.ndarray) -> sp.csr_matrix:
        return self.Y_pool[indices]

    def skipped(self, indices: np.ndarray) -> np.ndarray:
        return np.zeros(len(indices), dtype=bool)


#: ``(classifier, features, labeled, y_labeled) -> metrics``: a round's evaluation without a test split.
Evaluator = Callable[[Classifier, Features, np.ndarray, sp.csr_matrix], Mapping[str, Any]]


class RoundObserver(Protocol):
    """Side work after each round's evaluation; returns fields to add to the round's record."""

    requires_embeddings: bool

    def __call__(self, view: RoundView) -> dict[str, Any]: ...


def round_record(
    round_: int,
    labeled: np.ndarray,
    y_labeled: sp.csr_matrix,
    label_names: Sequence[str],
    metrics: Mapping[str, Any],
    picked: np.ndarray,
    seconds: Mapping[str, float],
    strategy_info: Mapping[str, Any],
    classifier_info: Mapping[str, Any],
    extra: Mapping[str, Any] = {},
) -> dict[str, Any]:
    """One line of ``rounds.jsonl`` (see the module docstring); a pure function of its arguments."""
    counts = np.asarray(y_labeled.sum(axis=0)).ravel().tolist()
    return {
        "round": round_,
        "n_labeled": int(len(labeled)),
        **metrics,
        "labeled_counts": dict(zip(label_names, counts)),
        "picked": np.asarray(picked).tolist(),
        **{f"seconds_{k}": round(float(v), 4) for k, v in seconds.items()},
        "strategy_info": dict(strategy_info),
        "classifier_info": dict(classifier_info),
        **extra,
    }


def _same_kind(exc: QueryError, message: str) -> QueryError:
    """An error of ``exc``'s class saying ``message``; a :class:`QueryError` where that class takes other
    arguments (a user's own subclass)."""
    try:
        return type(exc)(message)
    except Exception:  # noqa: BLE001 - its constructor wants more than a message
        return QueryError(message)


#: Pool texts whose probabilities stand for a user strategy's classifier before and after its query.
PROBED_TEXTS = 4


def classifier_probe(classifier: Any, features: "Features") -> tuple[np.ndarray | None, np.ndarray]:
    """What a query must leave as it was: the classifier's decision thresholds (``thresholds_``, None without
    them) and its probabilities (PROBED_TEXTS, n_labels) for the first pool texts."""
    thresholds = getattr(classifier, "thresholds_", None)
    try:
        thresholds = None if thresholds is None else np.array(thresholds, dtype=float, copy=True)
    except (TypeError, ValueError):  # not numbers (a user's classifier): not compared
        thresholds = None
    rows = features.pool_rows(np.arange(min(PROBED_TEXTS, len(features.pool_texts))))
    return thresholds, np.array(classifier.predict_proba(rows), dtype=float)


def classifier_changed(before: tuple[np.ndarray | None, np.ndarray], after: tuple[np.ndarray | None, np.ndarray]
                       ) -> str | None:
    """How the classifier changed between two :func:`classifier_probe` s, or None. Probabilities are compared
    to 1e-4 (a GPU's mixed precision may vary below it; a classifier fitted again moves them further)."""
    (thresholds, proba), (thresholds_now, proba_now) = before, after
    if (thresholds is None) != (thresholds_now is None) or (
            thresholds is not None and not np.array_equal(thresholds, thresholds_now, equal_nan=True)):
        return "its decision thresholds (thresholds_) differ after the query"
    if proba.shape != proba_now.shape or not np.allclose(proba, proba_now, rtol=0, atol=1e-4, equal_nan=True):
        return "it predicts otherwise after the query"
    return None


def check_pool_sizes(initial: int, budget: int, n_pool: int, pool_size: int | None = None) -> None:
    """Refuse an initial labeled set or a budget larger than a pool of ``n_pool`` texts.

    ``pool_size``: the ``--pool-size`` the pool was cut to, if any; only then
    is raising it advised (without it the pool is every text of the data's
    pool split that carries a kept label).

    Raises
    ------
    DataError
        Naming the size, the pool's and the setting to lower.
    """
    more = (" or raise --pool-size (leave it out for the whole pool)" if pool_size is not None else
            " or give data whose pool holds more texts (the pool is the texts of the train split that carry a kept "
            "label)")
    if initial > n_pool:  # the budget, above the initial set, is then above the pool too
        raise DataError(f"initial labeled set ({initial}) is larger than the pool ({n_pool} texts); lower "
                        f"--initial to at most {n_pool - 1} and --budget to at most {n_pool},{more}")
    if budget > n_pool:
        raise DataError(f"budget ({budget}) is larger than the pool ({n_pool} texts); lower --budget to at most "
                        f"{n_pool},{more}")


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
        A classifier whose ``warm_start`` is True is made once and fitted
        every round instead (it carries its weights over); a resumed run
        refits it on the finished rounds first, so that it goes on from the
        model (or index) an uninterrupted run would have.
    embed : callable texts -> ndarray (n, dim), optional
        Needed when the classifier, the strategy or an observer reads embeddings.
    initial, step, budget, seed : int
        See :class:`al.config.SimulationConfig`.
    records : RunRecords, optional
        Where finished rounds go, and the only source of the rounds already
        finished: a run resumes after ``records.rounds``.
    on_round : callable record -> None, optional
        Progress hook, called after each round.
    observers : sequence of RoundObserver
        Side work after each evaluation (e.g. :class:`al.observers.EmbeddingDiagnostics`);
        their fields go into the round's record.
    space : al.spaces.Space, optional
        A task-specific embedding space fitted on the labeled texts alone
        (their pretrained embeddings or their texts, and their gold labels)
        at rounds 0, ``space_every``, 2 * ``space_every``, ...; every
        embedding the strategy and an embedding classifier read in a round
        comes from the space fitted last. The last round, which queries
        nothing, fits only when the classifier or an observer reads the
        space. A resumed run refits the space of its first round from the
        labeled set of that space's round, so it makes the choices of a run
        never interrupted.
    space_every : int
        Rounds between two fits of the space.
    space_for : {"all", "strategy", "classifier"}
        Who reads the fitted space: the strategy and an embedding classifier,
        the strategy alone (the classifier keeps the pretrained vectors), or
        the classifier alone (the strategy keeps them).
    annotator : Annotator, optional
        Where labels come from; default :class:`GoldAnnotator` on the pool's gold labels.
    evaluator : callable, optional
        Replaces the evaluation on the test split (a session with no test
        split); its mapping goes into the round's record as the metrics are.
    start : ndarray of int, shape (initial,), optional
        Pool positions labeled at the start instead of the random draw
        (:func:`initial_indices`); a session starts from the texts already labeled.
    start_reasons : sequence of str, length initial, optional
        Why each text of ``start`` was taken, in ``start``'s order (a
        ``label_names`` start: the label whose name took it); round 0's record
        holds them as ``initial_reasons``, aligned with its sorted ``initial``.
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
    observers: Sequence[RoundObserver] = ()
    space: Any = None
    space_every: int = 1
    space_for: str = "all"
    annotator: Annotator | None = None
    evaluator: Evaluator | None = None
    start: np.ndarray | None = None
    start_reasons: Sequence[str] | None = None

    def __post_init__(self) -> None:
        n_pool = len(self.corpus.splits["train"])
        if self.start is not None:
            start = np.unique(np.asarray(self.start, dtype=np.int64))
            if len(start) != len(self.start) or len(start) != self.initial or (len(start) and (
                    start[0] < 0 or start[-1] >= n_pool)):
                raise DataError(
                    f"start must hold initial={self.initial} distinct pool positions (0..{n_pool - 1}), got "
                    f"{len(self.start)} with {len(start)} distinct; pass as many start texts as --initial"
                )
        if self.start_reasons is not None and (self.start is None or len(self.start_reasons) != len(self.start)):
            raise ConfigError(f"start_reasons must give one reason per start text, got "
                              f"{len(self.start_reasons)} for {0 if self.start is None else len(self.start)}")
        check_pool_sizes(self.initial, self.budget, n_pool)
        if self.budget <= self.initial or self.step <= 0:
            raise ConfigError(
                f"need step > 0 and budget > initial, got step={self.step}, budget={self.budget}, "
                f"initial={self.initial}"
            )
        self._classifier_probe = self.make_classifier(self.seed)
        self._undeclared_said = False  # a user's strategy reading views it does not declare: warned once a run
        #: Kinds of constant prediction warned of this run (no label; the same labels): each once, so an early
        #: round's "no label" does not silence a later "all labels" (:meth:`_warn_if_constant`).
        self._constant_said: set[str] = set()
        if self.embed is None and (self._needs_pool_embeddings or self._classifier_probe.input == "embeddings"):
            raise ConfigError("this strategy/classifier needs sentence embeddings, but no embedder was given")
        if self.space is not None:
            if not isinstance(self.space_every, int) or self.space_every <= 0:
                raise ConfigError(f"space_every must be a positive integer, got {spelled(self.space_every)}")
            strategy_name = repr(self.strategy.name or type(self.strategy).__name__)
            if self.space_for not in SPACE_READERS:
                raise ConfigError(f"space_for must be one of {', '.join(SPACE_READERS)}, got {spelled(self.space_for)}")
            check_space_readers(self.space_for, strategy_name, self._strategy_reads_embeddings,
                                self._classifier_probe.input, "representations" in self.strategy.requires)

    @property
    def n_rounds(self) -> int:
        return n_rounds(self.initial, self.step, self.budget)

    @property
    def _needs_pool_embeddings(self) -> bool:
        return ("embeddings" in self.strategy.requires or any(o.requires_embeddings for o in self.observers)
                or (self.space is not None and self.space.input == "embeddings"))

    @property
    def _strategy_reads_embeddings(self) -> bool:
        return "embeddings" in self.strategy.requires

    @property
    def space_readers(self) -> list[str]:
        """Who reads the fitted space: ``["strategy", "classifier", "diagnostics"]``, some of them, or none (no
        space). Observers (``--diagnostics``) read the pool's embeddings the strategy is handed: the fitted space's,
        unless it serves the classifier alone."""
        if self.space is None:
            return []
        observed = any(o.requires_embeddings for o in self.observers) and self.space_for != "classifier"
        return ([name for name, reads in (("strategy", self._strategy_reads_embeddings),
                                          ("classifier", self._classifier_probe.input == "embeddings"))
                 if reads and self.space_for in ("all", name)] + (["diagnostics"] if observed else []))

    @property
    def _space_read_without_a_query(self) -> bool:
        """Whether anything but the strategy's query reads the fitted space: the classifier, or an observer."""
        classifier_reads = self._classifier_probe.input == "embeddings" and self.space_for != "strategy"
        return classifier_reads or any(o.requires_embeddings for o in self.observers)

    #: What :meth:`prepare` can compute ahead of a run.
    PREPARED_PARTS = ("embeddings", "strategy")

    def embedded_splits(self) -> tuple[str, ...]:
        """The splits whose texts :meth:`run` embeds before its first round, in the order :meth:`_features` embeds them.

        ``("train", "test")`` and ``"dev"`` if the classifier uses it, for a
        classifier of embeddings; ``("train",)`` or nothing for one of texts,
        as a strategy view, an observer or a space needs the pool's.
        """
        if self._classifier_probe.input == "texts":
            return ("train",) if self._needs_pool_embeddings else ()
        return ("train", "test") + (("dev",) if self._classifier_probe.uses_dev else ())

    def prepare(self, part: str, splits: Sequence[str] | None = None) -> None:
        """Compute ahead, into the caches, what this run reads before its first query; record nothing.

        ``"embeddings"``: the sentence embeddings of ``splits`` (default:
        :meth:`embedded_splits`, what :meth:`run` embeds first; a grid passes
        the union its runs on one corpus embed). ``"strategy"``: the
        strategy's once-per-pool work (:meth:`al.strategy.Strategy.prepare`)
        on the pool texts, giving the pool's sentence vectors too where its
        pass can (:meth:`offer_encoder_pass`). A grid runs the two in other
        processes, at once or as its workers come free (an embedding pass that
        starts after the strategy's work computes only the rest); the run then
        finds both cached and computes what it would have computed itself.
        """
        if part not in self.PREPARED_PARTS:
            raise ConfigError(f"part must be one of {', '.join(self.PREPARED_PARTS)}, got {spelled(part)}")
        if part == "strategy":
            self.offer_encoder_pass()
            self.strategy.prepare(self.corpus.texts[self.corpus.splits["train"]].tolist())
            return
        splits = self.embedded_splits() if splits is None else tuple(splits)
        if splits:
            rows = np.concatenate([self.corpus.splits[s] for s in splits])
            self.embed(self.corpus.texts[rows].tolist())  # type: ignore[misc]

    def run(self) -> list[dict[str, Any]]:
        """Run the simulation, or finish it after the rounds its records hold; returns every round's record."""
        corpus = self.corpus
        pool, dev, test = (corpus.splits[s] for s in ("train", "dev", "test"))
        Y_pool = corpus.Y[pool]
        annotator = self.annotator if self.annotator is not None else GoldAnnotator(Y_pool)
        rounds = list(self.records.rounds) if self.records is not None else []
        n_done = len(rounds)

        seconds_prepare = self._prepare_sharing_encoder(pool, n_done)
        t0 = time.perf_counter()
        base = self._features(pool, dev, test)
        seconds_embed = time.perf_counter() - t0
        self._check_embeddings(base)
        self._check_classifier_model()
        features, space_round, space_info = base, -1, {}

        if rounds:
            initial = np.asarray(rounds[0]["initial"], dtype=np.int64)
        elif self.start is not None:
            initial = np.sort(np.asarray(self.start, dtype=np.int64))
        else:
            initial = initial_indices(self.seed, len(pool), self.initial)
        labeled = np.concatenate([initial, *(np.asarray(r["picked"], dtype=np.int64) for r in rounds)])
        # sizes[k]: labeled-set size at round k (the labeled array only grows, in order)
        sizes = list(np.cumsum([len(initial), *(len(r["picked"]) for r in rounds)]))
        seconds_replay = None
        if n_done and n_done < self.n_rounds and self._carries_fits:
            seconds_replay, replayed_space = self._replay_fits(n_done, base, labeled, sizes, annotator, dev)
            if replayed_space is not None:  # round n_done reads it, if in its period: not fitted a second time
                features, space_round, space_info = replayed_space
        for r in range(n_done, self.n_rounds):
            labeled_mask = np.zeros(len(pool), dtype=bool)
            labeled_mask[labeled] = True  # skipped texts too: they never come back
            unlabeled = np.flatnonzero(~labeled_mask)
            shown, y_labeled = labeled, annotator.labels(labeled)
            declined = annotator.skipped(shown)
            if declined.any():
                labeled, y_labeled = shown[~declined], y_labeled[np.flatnonzero(~declined)]
            seconds: dict[str, float] = {}
            n = min(self.step, self.budget - len(shown))  # a skipped text spent its place in the budget

            if self.space is not None:
                fit_round = r - r % self.space_every
                # the last round queries nothing: fit only if the classifier or an observer reads the space
                if fit_round != space_round and (n > 0 or self._space_read_without_a_query):
                    if fit_round < r and not is_quiet():  # a resume in a period of --space-every: said, not a new fit
                        print(f"resuming: fitting round {fit_round + 1}'s space again (it serves rounds "
                              f"{fit_round + 1}-{fit_round + self.space_every}: --space-every {self.space_every})",
                              file=sys.stderr, flush=True)
                    t = time.perf_counter()
                    fitted_labeled = shown[: sizes[fit_round]]  # the labeled set of the fit's round
                    fitted_labeled = fitted_labeled[~annotator.skipped(fitted_labeled)]
                    features, facts = self._adapt(base, fit_round, fitted_labeled,
                                                  annotator.labels(fitted_labeled), dev)
                    seconds["space"] = time.perf_counter() - t
                    space_round = fit_round
                    space_info = self._space_info(fit_round, len(fitted_labeled), seconds["space"], facts)
                else:
                    seconds["space"] = 0.0

            classifier = view = None  # the previous round's model is freed before this round's one trains
            t = time.perf_counter()
            classifier = self._train(r, features, labeled, y_labeled, dev)
            seconds["train"] = time.perf_counter() - t
            # parts of the fit the classifier times itself, e.g. its per-epoch dev evaluation
            parts = getattr(classifier, "fit_seconds", dict)()
            seconds.update({f"train_{part}": value for part, value in parts.items()})

            t = time.perf_counter()
            if self.evaluator is not None:
                metrics = self.evaluator(classifier, features, labeled, y_labeled)
            else:
                with passes_described(classifier, f"the {len(test):,} test texts"):
                    predicted = classifier.predict(features.test)
                metrics = evaluate(corpus.Y[test], predicted, corpus.label_names)
                self._warn_if_constant(r, len(labeled), predicted, classifier, metrics)
            seconds["evaluate"] = time.perf_counter() - t

            t = time.perf_counter()
            picked, strategy_info = np.empty(0, dtype=np.int64), {}
            if n > 0:
                picked, strategy_info = self._query(r, n, labeled, unlabeled, y_labeled, Y_pool, features, classifier,
                                                    annotator)
            seconds["query"] = time.perf_counter() - t

            extra: dict[str, Any] = {}
            view = RoundView(r, labeled, unlabeled, y_labeled, Y_pool, corpus.label_names, features, classifier)
            for observer in self.observers:
                extra.update(observer(view))
            if self.space is not None:
                extra["space"] = dict(space_info)
            skipped = picked[annotator.skipped(picked)]
            if r == 0:
                extra["initial"] = initial.tolist()
                if self.start_reasons is not None and self.start is not None and not n_done:
                    reason = dict(zip(np.asarray(self.start, dtype=np.int64).tolist(), self.start_reasons))
                    extra["initial_reasons"] = [str(reason[i]) for i in initial.tolist()]
                skipped = np.concatenate([initial[annotator.skipped(initial)], skipped])
            if len(skipped):
                extra["skipped"] = skipped.tolist()
            if r == n_done:
                extra["seconds_embed"] = round(seconds_embed, 4)
                if seconds_prepare is not None:
                    extra["seconds_prepare"] = round(seconds_prepare, 4)
                if n_done:
                    extra["resumed"] = True
                if seconds_replay is not None:
                    extra["seconds_replay"] = round(seconds_replay, 4)
            record = round_record(r, labeled, y_labeled, corpus.label_names, metrics, picked, seconds,
                                  strategy_info, classifier.info(), extra)
            rounds.append(record)
            if self.records is not None:
                self.records.append(record)
            if self.on_round is not None:
                self.on_round(record)
            labeled = np.concatenate([shown, picked])
            sizes.append(len(labeled))
        return rounds

    def _warn_if_constant(self, r: int, n_labeled: int, predicted: Any, classifier: Classifier,
                          metrics: Mapping[str, Any]) -> None:
        """Warn where round ``r``'s classifier gave every test text the same labels (its scores then are a constant
        guess's: :func:`al.metrics.constant_prediction`), once a run for no label and once for the same labels."""
        said = constant_prediction(predicted, self.corpus.label_names, "test texts")
        kind = None if said is None else "none" if said.startswith("no label") else "same"
        if kind is None or kind in self._constant_said:
            return
        self._constant_said.add(kind)
        import warnings

        given = getattr(classifier, "thresholds_", None)
        thresholds = np.asarray([] if given is None else given, dtype=float).ravel()
        at = ""
        if len(thresholds) and np.all(np.isfinite(thresholds)):
            at = (f" at threshold {thresholds[0]:g}" if np.all(thresholds == thresholds[0])
                  else " at its per-label thresholds")
        if kind == "none":
            sooner = "a lower threshold" if getattr(classifier, "threshold", None) == "dev" else \
                "a lower threshold or threshold=dev"
            advice = ("no probability passed the threshold (too few labeled texts, or too short a fit): later "
                      f"rounds often do, and {sooner} may help sooner")
        else:
            advice = ("its probabilities do not tell the texts apart at this threshold: a higher one, threshold=dev "
                      "or, for a fine-tuned classifier, another learning_rate or pos_weight may separate them")
        warnings.warn(f"round {r + 1} ({counted(n_labeled, 'text')} labeled): the classifier predicted {said}{at}, "
                      f"so the round's scores are a constant guess's (macro-F1 {metrics['macro_f1']:.3f}), not a "
                      f"trained model's; {advice} (said once a run of each kind)", RuntimeWarning, stacklevel=2)

    def _adapt(self, base: Features, fit_round: int, fitted_labeled: np.ndarray, y_fitted: sp.csr_matrix,
               dev: np.ndarray) -> tuple[Features, dict[str, Any]]:
        """Fit the space on the labeled set of ``fit_round`` and map every embedding the round hands out.

        The space reads only the labeled texts' inputs and gold labels (and
        the dev split's, when it declares ``uses_dev``): never a label of an
        unlabeled pool text.
        """
        texts = self.corpus.texts
        seed = int(round_rng(self.seed, fit_round, SPACE).integers(2**31 - 1))
        by_texts = self.space.input == "texts"
        if by_texts:
            inputs = [base.pool_texts[i] for i in fitted_labeled]
        else:
            inputs = base.pool_embeddings[fitted_labeled]
        dev_inputs = Y_dev = None
        if getattr(self.space, "uses_dev", False):
            dev_inputs = texts[dev].tolist() if by_texts else self.embed(texts[dev].tolist())  # type: ignore[misc]
            Y_dev = self.corpus.Y[dev]
        named = f"the {getattr(self.space, 'objective', type(self.space).__name__)} space"
        with heartbeat(f"fitting {named} ({len(fitted_labeled):,} texts labeled)", *QUERY_HEARTBEAT):
            fitted = self.space.fit(inputs, y_fitted, seed, dev_inputs, Y_dev)  # a head's 4,000 epochs: silent

        def mapped(split_inputs: Any, split: np.ndarray | None) -> np.ndarray:
            if by_texts:
                return fitted.transform(base.pool_texts if split is None else texts[split].tolist())
            return fitted.transform(split_inputs)

        pool_embeddings = mapped(base.pool_embeddings, None)
        if self._classifier_probe.input != "embeddings" or self.space_for == "strategy":
            return replace(base, pool_embeddings=pool_embeddings), fitted.info()
        test_x = mapped(base.test, self.corpus.splits["test"])
        dev_x = None if base.dev is None else mapped(base.dev, dev)
        strategy_reads = base.pool_embeddings if self.space_for == "classifier" else pool_embeddings
        return replace(base, pool=pool_embeddings, dev=dev_x, test=test_x,
                       pool_embeddings=strategy_reads), fitted.info()

    def _prepare_sharing_encoder(self, pool: np.ndarray, n_done: int) -> float | None:
        """The strategy's once-per-pool work, before the pool is embedded, where it embeds the pool too; its seconds.

        A strategy whose own pass over the pool runs the sentence encoder
        (ALPS's surprisal pass, ``share_encoder_pass``) gives the pool's
        sentence vectors from it, the same bits, so the embedding that follows
        computes only the rest: one encoder pass over the pool instead of two
        (benchmarks/RESULTS.md, section 12.16). None where nothing ran ahead: no
        such strategy, the pool's vectors cached already, or no query left. In an
        annotation session the person answers the first texts meanwhile, and the
        strategy's passes heed the embedder's stop as its own would.
        """
        if n_done >= self.n_rounds - 1 or not self.offer_encoder_pass():
            return None
        t = time.perf_counter()
        self.strategy.prepare(self.corpus.texts[pool].tolist())
        return time.perf_counter() - t

    def offer_encoder_pass(self) -> bool:
        """Offer the run's sentence embedder to the strategy's pass over the pool; whether it took it.

        It takes it where that pass runs the same encoder and gives the pool's
        sentence vectors too, the same bits (ALPS's surprisal pass,
        ``share_encoder_pass``; benchmarks/RESULTS.md, section 12.16), the run
        embeds the pool through the cache, and some of the pool's vectors are
        not cached yet. The strategy's :meth:`~al.strategy.Strategy.prepare`
        then adds them to the embedder's cache.
        """
        from al.embedders import SentenceEmbedder, text_keys

        share = getattr(self.strategy, "share_encoder_pass", None)
        embedder = getattr(self.embed, "__self__", None)
        if (not callable(share) or not isinstance(embedder, SentenceEmbedder) or not embedder.cache
                or "train" not in self.embedded_splits()):
            return False
        found, _ = embedder.vector_cache().lookup(text_keys(self.corpus.texts[self.corpus.splits["train"]].tolist()))
        return not found.all() and bool(share(embedder))

    def _features(self, pool: np.ndarray, dev: np.ndarray, test: np.ndarray) -> Features:
        """What the classifier reads for pool / dev / test: texts or cached embeddings."""
        texts = self.corpus.texts
        pool_texts = texts[pool].tolist()
        needs_dev = self._classifier_probe.uses_dev
        embedded = self.embedded_splits()
        if self._classifier_probe.input == "texts":
            embeddings = self.embed(pool_texts) if embedded else None  # type: ignore[misc]
            return Features(pool_texts, texts[dev].tolist() if needs_dev else None, texts[test].tolist(),
                            pool_texts, embeddings)
        parts = {"train": pool, "test": test, "dev": dev}
        matrix = self.embed(texts[np.concatenate([parts[s] for s in embedded])].tolist())  # type: ignore[misc]
        pool_x = matrix[: len(pool)]
        return Features(pool_x, matrix[len(pool) + len(test) :] if needs_dev else None,
                        matrix[len(pool) : len(pool) + len(test)], pool_texts, pool_x)

    def _guard_fact(self, name: str, value: str, refusal: Callable[[str], str]) -> None:
        """Record ``name`` = ``value`` in ``config.json``; a resume whose run recorded another is refused.

        ``refusal(before)``: the one-line :class:`DataError` message naming the
        recorded value. A value the stored run did not record is not compared.
        """
        records = self.records
        if records is None:
            return
        before = records.meta.get(name)
        if records.rounds and before is not None and before != value:
            raise DataError(refusal(before))
        if before != value:
            records.note(**{name: value})

    def _check_embeddings(self, features: Features) -> None:
        """Record the pool embeddings' digest; refuse to resume on other embeddings than the run began with."""
        if self.records is None or features.pool_embeddings is None:
            return
        digest = matrix_digest(features.pool_embeddings)
        self._guard_fact("embeddings_digest", digest, lambda before: (
            f"the pool's embeddings (digest {digest}) differ from those this run began with ({before}): "
            f"the model, its cache, the device or the libraries changed (vectors are cached per device and its "
            f"kernels: resume on the kind of machine and library versions the run began with); "
            f"start a new run with another --out{self._cache_fix()}"))

    def _cache_fix(self) -> str:
        """``, or ... remove FOLDER``: where the pool's vectors came from an embedder's cache, its folder to remove
        if only the cache changed (its vectors are then computed again, bit for bit); ``""`` otherwise."""
        from al.embedders import SentenceEmbedder

        embedder = getattr(self.embed, "__self__", None)
        if not isinstance(embedder, SentenceEmbedder) or not embedder.cache:
            return ""
        from al.cache import cache_root

        return (f", or, where only the cached vectors changed (edited, or copied from another machine), remove "
                f"{cache_root() / 'embeddings' / embedder.cache_key} and resume: they are computed again, bit for "
                f"bit")

    def _check_classifier_model(self) -> None:
        """Record the identity of the weights the classifier fine-tunes; refuse to resume on others.

        A sentence model is checked through its embeddings' digest; a fine-tuned
        classifier's weights only through this identity, :func:`al.models.model_key`:
        for a local directory its path and its files' names, sizes and
        modification times (a model saved again there is another model); for a
        name, what it resolves to (:func:`~al.models.model_key`: another package
        version or hub snapshot of other files is another model). Guarded: the
        attribute a classifier declares as its pretrained weights
        (``pretrained_attribute``: bert's ``model``), and otherwise a ``model``
        attribute that is a local directory. A name whose key is only a
        directory's state on this machine (``@files-``) is not recorded: another
        machine's copy of the same weights would refuse a resume there.
        """
        import os
        from pathlib import Path

        probe = self._classifier_probe
        declared = getattr(type(probe), "pretrained_attribute", None)
        model = getattr(probe, declared or "model", None)
        if self.records is None or not isinstance(model, (str, os.PathLike)):
            return
        is_dir = Path(model).expanduser().is_dir()
        if not (is_dir or declared):
            return
        from al.models import model_key

        key = model_key(model)
        if is_dir:
            self._guard_fact("classifier_model_key", key, lambda before: (
                f"the classifier's model directory {os.fspath(model)} is not the one this run began with (identity "
                f"{key}, was {before}: its path, or its files' sizes or modification times, changed); resume with "
                f"the directory the run began with, or start a new run with another --out"))
        elif "@files-" not in key:
            self._guard_fact("classifier_model_key", key, lambda before: (
                f"the classifier's model {model} now loads other weights than this run began with (identity {key}, "
                f"was {before}: another package version, archive or hub snapshot of other files); install the "
                f"version the run began with (a hub model: download the revision it used, or share one HF_HUB_CACHE "
                f"across machines), or start a new run with another --out"))

    @property
    def _carries_fits(self) -> bool:
        """One classifier is fitted every round (``warm_start``): a fit continues from the ones before it."""
        return getattr(self._classifier_probe, "warm_start", False) is True

    def _replay_fits(self, n_done: int, base: Features, shown_all: np.ndarray, sizes: Sequence[int],
                     annotator: Annotator, dev: np.ndarray,
                     ) -> tuple[float, tuple[Features, int, dict[str, Any]] | None]:
        """Refit the carried classifier on rounds 0 .. ``n_done - 1``, as the run did before it stopped.

        Returns the seconds taken and, where the classifier reads a fitted
        space, the last space fitted: (features, its round, its record
        entry), which round ``n_done`` reuses when it falls in that space's
        period of ``space_every`` (it is the fit that round would repeat).

        Under ``warm_start`` round ``n_done``'s fit continues from the model of
        the rounds before it (bert's weights; the kNN index, which it extends and
        records so), which a new process does not have: each earlier
        round's fit is repeated on that round's labeled set, with the labels
        as that round read them and, when the classifier reads a fitted space,
        that round's space. Nothing is evaluated, queried or recorded; the
        resumed run then records what an uninterrupted one would.
        """
        t = time.perf_counter()
        features, space_round, space_info = base, -1, {}
        reads_space = (self.space is not None and self._classifier_probe.input == "embeddings"
                       and self.space_for != "strategy")
        at_round = getattr(annotator, "at_round", None)
        if not is_quiet():  # said first: the fits' own lines (bert's epochs) would read as a new round's
            print(f"resuming: refitting the warm-started classifier on the {counted(n_done, 'finished round')}, as "
                  f"the run did before it stopped (nothing is evaluated or recorded)", file=sys.stderr, flush=True)
        with progress(n_done, "resuming: refitting the warm-started classifier on the finished rounds",
                      unit="rounds") as bar:
            for r in range(n_done):
                with at_round(r) if at_round is not None else contextlib.nullcontext():
                    shown = shown_all[: sizes[r]]
                    labeled = shown[~annotator.skipped(shown)]
                    y_labeled = annotator.labels(labeled)
                    fit_round = r - r % self.space_every if reads_space else space_round
                    if fit_round != space_round:
                        fitted = shown_all[: sizes[fit_round]]
                        fitted = fitted[~annotator.skipped(fitted)]
                        t_fit = time.perf_counter()
                        features, facts = self._adapt(base, fit_round, fitted, annotator.labels(fitted), dev)
                        space_round = fit_round
                        space_info = self._space_info(fit_round, len(fitted), time.perf_counter() - t_fit, facts)
                self._train(r, features, labeled, y_labeled, dev)
                bar.update(1)
        return time.perf_counter() - t, (features, space_round, space_info) if space_round >= 0 else None

    def _space_info(self, fit_round: int, n_fitted: int, seconds_fit: float, facts: dict[str, Any]) -> dict[str, Any]:
        """A round's ``space`` record: which fit it reads, on how many labeled texts, in how many seconds."""
        return {"name": self.space.objective, "scope": self.space.scope, "fitted_round": fit_round,
                "fitted_on": int(n_fitted), "seconds_fit": round(seconds_fit, 4), **facts}

    def _train(
        self, r: int, features: Features, labeled: np.ndarray, y_labeled: sp.csr_matrix, dev: np.ndarray,
    ) -> Classifier:
        if self._carries_fits:  # one classifier fitted every round
            classifier = self._classifier_probe
        else:
            classifier = self.make_classifier(int(round_rng(self.seed, r, CLASSIFIER).integers(2**31 - 1)))
        X = features.pool_rows(labeled)
        if classifier.uses_dev and features.dev is not None:
            classifier.fit(X, y_labeled, features.dev, self.corpus.Y[dev])
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
        features: Features,
        classifier: Classifier,
        annotator: Annotator,
    ) -> tuple[np.ndarray, dict[str, Any]]:
        revealed: list[np.ndarray] = []
        def oracle(indices: np.ndarray) -> sp.csr_matrix:
            """Gold labels of unlabeled pool texts: ``indices`` as :meth:`PoolState.reveal` checked them (a 1-d
            int64 array of the state's unlabeled texts, which are the run's own)."""
            revealed.append(indices)
            return annotator.labels(indices)

        def pool_pass(method: Callable[[Any], np.ndarray], what: str = "") -> np.ndarray:
            with passes_described(classifier, f"{what}the {len(features.pool_texts):,} pool texts (for the strategy)"):
                return method(features.pool)

        built_in = type(self.strategy).__module__.split(".")[0] == "strategies"  # draws from its own generators
        # the round's records, its observers and the next query read the classifier after this one: a user
        # strategy that got it is probed as it gets it and after its query, and refused if it changed it (fitted
        # it again, set its thresholds), as al.testing refuses it
        probed: list[tuple[np.ndarray | None, np.ndarray]] = []

        def handed_classifier() -> Classifier:
            if not built_in:
                try:
                    probed.append(classifier_probe(classifier, features))
                except Exception:  # noqa: BLE001 - one that cannot predict now: the strategy's use of it will say
                    pass
            return classifier

        views: dict[str, Callable[[], Any]] = {
            "texts": lambda: features.pool_texts,
            "proba": lambda: pool_pass(classifier.predict_proba),
            "representations": lambda: pool_pass(classifier.transform, "representations of "),
            "classifier": handed_classifier,
            "inputs": lambda: features.pool,
        }
        if features.pool_embeddings is not None:
            views["embeddings"] = lambda: features.pool_embeddings
        state = PoolState(  # its own read-only copies of the indices, and read-only views
            indices_labeled=labeled,
            indices_unlabeled=unlabeled,
            y_labeled=y_labeled,
            label_names=self.corpus.label_names,
            rng=round_rng(self.seed, r, STRATEGY),
            round=r,
            views=views,
            # the annotator holds every pool text's gold labels: only a strategy that declares it gets one
            oracle=oracle if "reveal" in self.strategy.requires else None,
        )
        with seeded_global_random(np.random.SeedSequence([self.seed, r, GLOBAL_GENERATORS]), torch_too=not built_in):
            # state.round, the strategy's own number (from 0); the console counts rounds from 1: neither is
            # named as "round N" here, so the two cannot be confused
            where = f"in the query at {len(labeled)} texts labeled, state.round {r}"
            kept = ("no round was recorded: fix it and run the same command to go on" if not r else
                    "this round's training and evaluation are not kept, " + ("the round before is" if r == 1
                                                                              else f"the {r} rounds before are")
                    + ": fix it and run the same command to go on from " + ("it" if r == 1 else "them")
                    + " (picked by the code as it was; another --out runs the fixed code from the start)")
            name = self.strategy.name or type(self.strategy).__name__
            try:
                with heartbeat(f"query ({name}, {len(labeled):,} texts labeled)", *QUERY_HEARTBEAT):
                    answer, info = self.strategy.select(state, n)
            except QueryError as exc:  # al's helpers used wrongly (top_n, reveal, a view): say whose query it was
                if built_in:
                    raise
                said = (f"{exc} ({where})" if str(exc).startswith(f"strategy {name!r} ")
                        else f"strategy {name!r}, {where}: {exc}")
                raise _same_kind(exc, f"{said}; {kept}") from None
            except ALError:
                raise
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - a strategy's own error (sys.exit too): one
                raise QueryError(                    # line, naming where it was raised
                    f"strategy {name!r} raised {exception_text(exc)}{raised_at(exc)}, {where}{write_advice(exc)}; "
                    f"{kept}"
                ) from exc
        undeclared = sorted(set(state._cache) - set(self.strategy.requires))
        if undeclared and not built_in and not self._undeclared_said:
            self._undeclared_said = True
            import warnings

            declared = ", ".join(sorted(self.strategy.requires)) or "none"
            warnings.warn(f"strategy {name!r} read {', '.join(undeclared)} without declaring "
                          f"{'it' if len(undeclared) == 1 else 'them'} in its requires "
                          f"({declared}): a run offers the views it has, but "
                          f"decides from requires what to compute for the strategy (the pool's embedding, whether a "
                          f"fitted space serves it), and al.testing refuses such a strategy; add "
                          f"{', '.join(repr(v) for v in undeclared)} to requires", UserWarning, stacklevel=2)
        if probed:
            advice = (f"the round's records and the stopping criteria read it after the query; fit a copy, "
                      f"copy.deepcopy(state.classifier); {kept}")
            try:
                change = classifier_changed(probed[0], classifier_probe(classifier, features))
            except Exception as exc:  # noqa: BLE001 - left unable to predict (a part of it deleted): the query's doing
                change = f"it cannot predict after the query: {exception_text(exc)}"
            if change is not None:
                raise QueryError(f"strategy {name!r} changed the classifier it was given ({change}), {where}: "
                                 f"{advice}")
        try:
            picked = validate_answer(answer, state, n, name, np.concatenate(revealed) if revealed else None,
                                     unlabeled=unlabeled, pool_size=len(features.pool_texts))
        except QueryError as exc:
            raise _same_kind(exc, f"{exc} ({where}); {kept}") from None
        unasked = picked[~np.isin(picked, np.concatenate(revealed))] if revealed else picked
        if len(unasked):
            annotator.labels(unasked)  # a person answers these now, in the strategy's order
        return picked, info
