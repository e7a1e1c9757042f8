"""Strategy comparison across seeds: areas under learning curves, paired tests, and how they are read.

Everything here pairs runs by seed: one seed is one initial labeled set, the
same for every strategy of a setting, so a strategy's run and the baseline's
run of one seed form a pair; seeds only one of them has are left out.

References
----------
.. [1] F. Wilcoxon, "Individual comparisons by ranking methods", Biometrics
   Bulletin 1(6), 1945.
.. [2] S. Holm, "A simple sequentially rejective multiple test procedure",
   Scandinavian Journal of Statistics 6(2), 1979.
.. [3] B. Efron and R. J. Tibshirani, *An Introduction to the Bootstrap*,
   Chapman & Hall, 1993 (chapter 13: the percentile interval).
"""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from al.analysis.curves import Run, counted, plain_numbers, points, queried, value_text
from al.errors import ConfigError, DataError, and_more, did_you_mean
from al.config import COMPONENTS, NON_RESULT_SETTINGS, PRETRAINED, given_data_options, n_rounds

#: Paired differences are rounded to this many decimals before the signed-rank test, so that two
#: differences equal up to float noise (0.3 - 0.2 and 0.4 - 0.3) are one tie, and 0.3 - 0.3 is a zero.
DECIMALS = 12
#: Up to this many non-zero differences the p-value is exact; above, the normal approximation.
EXACT_MAX_N = 50
#: Bootstrap settings: resamples of seeds, the generator's seed, the interval's coverage, the fewest seeds.
RESAMPLES = 10_000
BOOTSTRAP_SEED = 0
#: The fewest resamples an interval takes: a 95 % percentile interval reads its 2.5th and 97.5th percentiles,
#: and below 1,000 resamples each tail holds fewer than 25 of them (at 1, the interval was one point).
MIN_RESAMPLES = 1_000
#: The most resamples an interval takes (its means alone are 8 bytes each), and the seeds a generator takes.
MAX_RESAMPLES = 1_000_000
SEED_LIMIT = 2**32
#: Indices drawn at once: the resamples are drawn in blocks of rows, the same stream as one draw.
_DRAW_BLOCK = 1 << 20
LEVEL = 0.95
MIN_SEEDS_CI = 3
#: "labeled texts to reach this fraction of the baseline's final macro-F1".
REACH_FRACTION = 0.95
#: A macro-F1 this close below the target counts as reaching it (float noise, not a shortfall).
REACH_TOLERANCE = 1e-12


def normalized_area(sizes: Sequence[float], values: Sequence[float]) -> float:
    """Area under a learning curve (trapezoid rule) divided by the size range.

    The result is the curve's mean height over ``[sizes[0], sizes[-1]]``: a
    curve at 0.5 everywhere has area 0.5, whatever the budget.
    """
    sizes = np.asarray(sizes, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if len(sizes) == 1:
        return float(values[0])
    return float(np.trapezoid(values, sizes) / (sizes[-1] - sizes[0]))


# -- the paired Wilcoxon signed-rank test ---------------------------------------------------------------------

#: How each p-value was computed, as the report states it.
METHODS = {
    "exact": "exact null distribution (scipy.stats.wilcoxon, method='exact')",
    "exact-ties": "exact conditional null distribution of the mid-rank sum over all 2^n sign assignments "
                  "(tied |differences|)",
    "normal": "normal approximation with tie correction, no continuity correction "
              "(scipy.stats.wilcoxon, method='asymptotic'; more than 50 non-zero differences)",
    "none": "no test (no non-zero difference)",
    "single": "no test (a single non-zero difference: its smallest possible p is 1)",
}


@dataclass(frozen=True)
class PairedTest:
    """Two-sided Wilcoxon signed-rank test of a strategy against a baseline over shared seeds [1]_.

    Attributes
    ----------
    n : int
        Seeds paired (present for both).
    mean_difference : float
        Mean of the ``n`` differences ``strategy - baseline``, zeros included.
    statistic : float or None
        ``min(T+, T-)``, the smaller signed-rank sum (mid-ranks where tied).
    p_value : float or None
        Two-sided p; None when no difference is non-zero.
    wins : int
        Seeds where the strategy is above the baseline.
    n_test : int
        Non-zero differences, the ones the test rests on (zeros are dropped,
        ``zero_method="wilcox"``).
    method : str
        A key of :data:`METHODS`.
    """

    n: int
    mean_difference: float
    statistic: float | None
    p_value: float | None
    wins: int
    n_test: int = 0
    method: str = "none"

    @property
    def untested(self) -> str:
        """Why there is no p, for a table's cell: ``no test: no non-zero difference``; "" where there is one."""
        if self.p_value is not None:
            return ""
        return "no test: " + {"single": "one non-zero difference"}.get(self.method, "no non-zero difference")

    @property
    def text(self) -> str:
        if self.n == 0:
            return "n=0: no test"
        if self.p_value is None:  # the mean difference still says what the seeds gave, wins how they split
            return f"{self.mean_difference:+.4f} ({self.untested}, wins {self.wins}/{self.n})"
        return f"{self.mean_difference:+.4f} (W={self.statistic:g}, p={self.p_value:.3g}, wins {self.wins}/{self.n})"


def signed_rank_exact(differences: Sequence[float]) -> tuple[float, float]:
    """Exact two-sided signed-rank test of non-zero differences, ties allowed.

    Under the null hypothesis every difference is as likely positive as
    negative, so the sum of the (mid-)ranks of the positive ones takes each of
    the ``2^n`` sign assignments with probability ``2^-n``. Its distribution is
    counted by dynamic programming over the doubled mid-ranks (integers), which
    is what enumerating all assignments gives, in ``O(n^3)``.

    Parameters
    ----------
    differences : array-like of shape (n,)
        Non-zero paired differences.

    Returns
    -------
    (statistic, p) : ``min(T+, T-)`` and ``min(1, 2 min(P(T+ <= t), P(T+ >= t)))``.

    References
    ----------
    .. [1] F. Wilcoxon, 1945 (see the module references).
    """
    from scipy.stats import rankdata

    d = np.asarray(differences, dtype=np.float64)
    if len(d) == 0 or (d == 0).any():
        raise ValueError(f"expected non-zero differences, got {d.tolist()}")
    doubled = np.rint(2 * rankdata(np.abs(d))).astype(np.int64)  # mid-ranks are multiples of 1/2
    probability = np.zeros(int(doubled.sum()) + 1)
    probability[0] = 1.0
    for q in doubled:  # each rank joins the positive sum with probability 1/2
        shifted = np.zeros_like(probability)
        shifted[q:] = probability[: len(probability) - q]
        probability = 0.5 * (probability + shifted)
    t_plus = int(doubled[d > 0].sum())
    low, high = probability[: t_plus + 1].sum(), probability[t_plus:].sum()
    statistic = min(t_plus, int(doubled.sum()) - t_plus) / 2
    return float(statistic), float(min(1.0, 2 * min(low, high)))


def paired_test(values: Sequence[float], baseline: Sequence[float]) -> PairedTest:
    """Two-sided Wilcoxon signed-rank test on paired differences ``values - baseline`` [1]_.

    Differences are rounded to :data:`DECIMALS` decimals; zero differences are
    dropped (``zero_method="wilcox"``), and the test rests on the ``n_test``
    others. Its p-value is exact from ``scipy.stats.wilcoxon(method="exact")``
    when no two ``|differences|`` tie and ``n_test <= 50``; exact over all sign
    assignments of the mid-ranks (:func:`signed_rank_exact`) with ties and
    ``n_test <= 50``; the normal approximation (tie-corrected, no continuity
    correction) above 50. With ``n_test`` seeds the smallest possible p is
    ``2 / 2^n_test`` (0.25 with 3, 0.031 with 6, 0.002 with 10); with one it
    is 1, so a single non-zero difference gets no test (and no place in a
    Holm family).

    Parameters
    ----------
    values, baseline : array-like of shape (n,)
        A strategy's and the baseline's per-seed values, in the same seed order.

    References
    ----------
    .. [1] F. Wilcoxon, 1945 (see the module references).
    """
    from scipy.stats import wilcoxon

    diff = np.round(np.asarray(values, dtype=np.float64) - np.asarray(baseline, dtype=np.float64), DECIMALS)
    wins = int((diff > 0).sum())
    mean = float(diff.mean()) if len(diff) else 0.0
    nonzero = diff[diff != 0]
    if len(nonzero) <= 1:  # one sign of one rank: p = 1 whatever it is, a test that cannot tell anything
        return PairedTest(len(diff), mean, None, None, wins, len(nonzero), "single" if len(nonzero) else "none")
    tied = len(np.unique(np.abs(nonzero))) < len(nonzero)
    if len(nonzero) > EXACT_MAX_N:
        result = wilcoxon(nonzero, zero_method="wilcox", alternative="two-sided", method="asymptotic",
                          correction=False)
        statistic, p, method = float(result.statistic), float(result.pvalue), "normal"
    elif tied:
        (statistic, p), method = signed_rank_exact(nonzero), "exact-ties"
    else:
        result = wilcoxon(nonzero, zero_method="wilcox", alternative="two-sided", method="exact")
        statistic, p, method = float(result.statistic), float(result.pvalue), "exact"
    return PairedTest(len(diff), mean, statistic, p, wins, len(nonzero), method)


# -- how sure, how much: Holm over a table, a bootstrap interval per comparison ----------------------------------


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values [2]_, in the order given.

    With the ``m`` p-values sorted, ``p_(1) <= ... <= p_(m)``, the adjusted
    ``p_(i)`` is ``min(1, max_{j <= i} (m - j + 1) p_(j))``: the running
    maximum keeps the adjustment monotone. Rejecting where the adjusted p is
    below alpha controls the family-wise error rate at alpha.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03])
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=np.float64)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return [float(v) for v in out]


def bootstrap_ci(differences: Sequence[float], resamples: int = RESAMPLES, seed: int = BOOTSTRAP_SEED,
                 level: float = LEVEL) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean paired difference [3]_.

    Draws ``resamples`` samples of the ``n`` seeds with replacement from
    ``np.random.default_rng(seed)`` (each comparison from a fresh generator of
    the same seed, so an interval does not depend on which other strategies are
    in the report), takes each sample's mean difference, and returns the
    ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of those means
    (``np.quantile``, linear interpolation). The samples are drawn in blocks of
    rows (the generator's stream, so the interval, is that of one draw): memory
    stays near 8 bytes per resample.

    Parameters
    ----------
    differences : array-like of shape (n,)
        Per-seed paired differences ``strategy - baseline``.

    Returns
    -------
    (low, high), or None with fewer than :data:`MIN_SEEDS_CI` seeds (too few
    for the resampling to mean anything).
    """
    d = np.asarray(differences, dtype=np.float64)
    if len(d) < MIN_SEEDS_CI:
        return None
    rng = np.random.default_rng(seed)
    rows = max(1, _DRAW_BLOCK // len(d))  # memory stays bounded; the means are those of one whole draw
    means = np.concatenate([d[rng.integers(0, len(d), size=(min(rows, resamples - start), len(d)))].mean(axis=1)
                            for start in range(0, resamples, rows)])
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


@dataclass(frozen=True)
class Comparison:
    """One strategy against the baseline on one metric: the pairs, the test, the interval, Holm's p."""

    strategy: str
    seeds: tuple[int, ...]
    differences: tuple[float, ...]
    test: PairedTest
    ci: tuple[float, float] | None
    p_holm: float | None


def compare(summaries: Mapping[str, "StrategySummary"], metric: str, baseline: str = "random",
            resamples: int = RESAMPLES, seed: int = BOOTSTRAP_SEED) -> list[Comparison]:
    """Every strategy's per-seed ``metric`` against ``baseline``'s, paired by seed, Holm-adjusted together.

    The Holm family is the comparisons of this call that have a test
    (:func:`holm`); a strategy with fewer than two non-zero differences has none and no
    adjusted p. Empty when the baseline has no run.
    """
    if baseline not in summaries:
        return []
    base = getattr(summaries[baseline], metric)
    out = []
    for name in sorted(n for n in summaries if n != baseline):
        values = getattr(summaries[name], metric)
        seeds = tuple(sorted(set(values) & set(base)))
        diff = [values[k] - base[k] for k in seeds]
        test = paired_test([values[k] for k in seeds], [base[k] for k in seeds])
        out.append(Comparison(name, seeds, tuple(diff), test, bootstrap_ci(diff, resamples, seed) if seeds else None,
                              None))
    tested = [c for c in out if c.test.p_value is not None]
    adjusted = dict(zip((c.strategy for c in tested), holm([c.test.p_value for c in tested])))
    return [Comparison(c.strategy, c.seeds, c.differences, c.test, c.ci, adjusted.get(c.strategy)) for c in out]


# -- labeled texts to reach a target ----------------------------------------------------------------------------


def labeled_to_reach(sizes: Sequence[int], values: Sequence[float], target: float) -> int | None:
    """The smallest labeled-set size whose value is at least ``target``; None if none is.

    No interpolation between rounds: the answer is a size the run measured.
    A value within :data:`REACH_TOLERANCE` below the target counts as reaching it.
    """
    for size, value in zip(sizes, values):
        if value >= target - REACH_TOLERANCE:
            return int(size)
    return None


@dataclass(frozen=True)
class Reach:
    """Per seed, the labeled texts one strategy needed to reach a target (None: not reached)."""

    strategy: str
    by_seed: dict[int, int | None]

    @property
    def reached(self) -> int:
        return sum(v is not None for v in self.by_seed.values())

    @property
    def median(self) -> float | None:
        """Median over all seeds, a seed that never reached the target counting as +infinity; None where that
        median is not reached (no more than half the seeds reached the target).

        Over an even number of seeds it is the mean of the middle two, which may lie between measured sizes.
        The median of the seeds that reached it alone would flatter a strategy that often never does.
        """
        if not self.by_seed:
            return None
        ranked = sorted(np.inf if v is None else float(v) for v in self.by_seed.values())
        middle = float(np.mean(ranked[(len(ranked) - 1) // 2 : len(ranked) // 2 + 1]))
        return middle if np.isfinite(middle) else None

    @property
    def text(self) -> str:
        if self.median is None:
            return "not reached"
        return f"{self.median:g}"

    @property
    def seeds_text(self) -> str:
        return f"{self.reached} of {counted(len(self.by_seed), 'seed')}"


def reach_target(summaries: Mapping[str, "StrategySummary"], baseline: str = "random",
                 fraction: float = REACH_FRACTION) -> float | None:
    """``fraction`` times the mean over seeds of the baseline's final macro-F1; None without a baseline."""
    if baseline not in summaries or not summaries[baseline].final_macro:
        return None
    return fraction * float(np.mean(list(summaries[baseline].final_macro.values())))


def reach(summaries: Mapping[str, "StrategySummary"], target: float) -> list[Reach]:
    """Per strategy (the baseline too), per seed: labeled texts to reach ``target`` macro-F1."""
    return [Reach(name, {seed: labeled_to_reach(*summaries[name].macro_curve[seed], target)
                         for seed in sorted(summaries[name].macro_curve)})
            for name in sorted(summaries)]


# -- which runs are complete, and which belong together ----------------------------------------------------------

#: Settings that fix how many rounds a run has.
ROUND_SETTINGS = ("initial", "step", "budget")


def expected_rounds(config: dict[str, Any]) -> int:
    """Rounds a complete run of the stored ``config`` has (:func:`al.records.n_rounds`).

    A setting the stored config lacks takes :class:`~al.config.SimulationConfig`'s
    default, as the run itself did (the rule :class:`~al.records.RunRecords`
    applies when it resumes a run).

    Raises
    ------
    DataError
        If a stored ``initial``, ``step`` or ``budget`` is not an integer, or
        they describe no run (``step <= 0`` or ``budget <= initial``).
    """
    from al.config import SimulationConfig

    defaults = SimulationConfig()
    values = {key: config.get(key, getattr(defaults, key)) for key in ROUND_SETTINGS}
    bad = {k: v for k, v in values.items() if not isinstance(v, int) or isinstance(v, bool)}
    if bad:
        raise DataError(
            f"stored config has non-integer round settings {bad}; expected integers for "
            f"{', '.join(ROUND_SETTINGS)} (is config.json from al.simulate?)"
        )
    try:
        return n_rounds(values["initial"], values["step"], values["budget"])
    except ConfigError as exc:
        raise DataError(f"stored config describes no run: {exc}") from None


def complete_runs(runs: Sequence[Run]) -> tuple[list[Run], list[tuple[Run, int, int]]]:
    """The runs that finished every round of their stored config, and (run, rounds, expected) for the others.

    A labeling session (``session`` in its ``config.json``) is complete as it
    stands: it ends where its person stops, often on the stopping advice.

    Raises
    ------
    DataError
        If a stored config is unusable (:func:`expected_rounds`), naming the run.
    """
    complete, partial = [], []
    for run in runs:
        try:
            expected = expected_rounds(run.config)
        except DataError as exc:
            raise DataError(f"{run.path}: {exc}") from None
        if len(run.rounds) < expected and "session" not in run.meta:
            partial.append((run, len(run.rounds), expected))
        else:
            complete.append(run)
    return complete, partial


def partial_state(run: Run) -> str:
    """Whether a partial run is ``being written`` (a process holds its lock: it goes on) or ``stopped``."""
    from al.records import being_written

    return "being written" if being_written(run.path) else "stopped"


def label_pick(config: Mapping[str, Any]) -> str:
    """How a setting names a run's labels: ``labels=a,b`` for labels named, ``5+5`` for the frequent + rare pick."""
    if config.get("labels"):
        return "labels=" + ",".join(config["labels"])
    return f"{config.get('n_frequent', 5)}+{config.get('n_rare', 5)}"


def setting_of(run: Run) -> str:
    """The data set and the classifier: the start of a setting's name (:func:`settings_of`)."""
    c = run.config
    labels = label_pick(c)
    classifier = c.get("classifier")
    if isinstance(classifier, dict):  # {name, params}: a bert classifier names the encoder it fine-tunes
        encoder = (classifier.get("params") or {}).get("model") or c.get("model")
        # its params given at their defaults left out (logreg(C=1.0) is logreg: al.analysis.curves.beyond_defaults)
        return f"{c.get('dataset')} ({labels}), {run.setting('classifier')} on {encoder}"
    return f"{c.get('dataset')} ({labels}), {classifier} on {c.get('classifier_model') or c.get('model')}"


#: Stored settings that do not make two runs different conditions: the seed pairs them, the rest is where and how
#: a run was executed and what it recorded beside its results (the data counts by what was read, not its path).
NOT_A_CONDITION = tuple(sorted(NON_RESULT_SETTINGS | {"seed", "data_path", "label_descriptions"}))
#: What the corpus a run reads depends on besides its data file and ``data_options``
#: (:func:`al.simulate.load_config_corpus`): runs that agree in these read other data where their corpus digests differ.
CORPUS_SETTINGS = ("dataset", "labels", "n_frequent", "n_rare", "pool_size")
#: Settings that belong to a row's strategy label (:attr:`Run.strategy` names the space it read too), not to the
#: setting the row is compared in.
STRATEGY_SETTINGS = ("strategy", "space", "space_scope", "space_every", "space_for")


def conditions(run: Run, as_text: bool = True) -> dict[str, Any]:
    """What a run's results depend on besides its seed, flat, as text: ``{"budget": "200", "classifier.C": "1.0"}``
    (``as_text`` False: as JSON values, ``{"budget": 200, "classifier.C": 1}``, for ``summary.json``).

    The stored config as this version resolves it (:func:`al.simulate.stored_settings`: earlier layouts mapped,
    component params completed by their constructors' defaults); a setting it lacks at
    :class:`~al.config.SimulationConfig`'s default, which that run used (as :func:`expected_rounds` assumes); a
    component as its name (``strategy``) and one entry per param (``strategy.sub_batches``); the data file as the
    first 12 hex digits of its digest (``data``; None where none was recorded), not its path; ``n_frequent`` and
    ``n_rare`` only where no ``labels`` were named (they are not read then), and ``data_options``
    with those at their defaults left out, as a resume compares them; the label descriptions file
    (``label_descriptions.file``) by its digest too (its path where no digest was recorded). The keys of
    :data:`NOT_A_CONDITION` are left out. Among other runs, ``data`` and ``data_options`` are what
    :func:`same_data` makes of them.
    """
    from al.config import SimulationConfig
    from al.simulate import stored_settings

    config = {**SimulationConfig().to_dict(), **stored_settings({"config": run.config})}
    space = config.get("space")
    if not isinstance(space, Mapping) or space.get("name", PRETRAINED) == PRETRAINED:
        config.update(space_scope=None, space_every=None, space_for=None)  # they mean nothing without a fit
    config = given_data_options(config)  # an option at its default is no option given
    if config.get("labels"):  # labels named: the frequent / rare pick is not read
        config.pop("n_frequent", None)
        config.pop("n_rare", None)
    digest = run.meta.get("data_digest")
    config["data"] = digest[:12] if isinstance(digest, str) else None
    described = config.get("label_descriptions")
    if described:  # its content, however the path was spelt; the path where a run did not record it
        digest = run.meta.get("label_descriptions_digest")
        config["label_descriptions.file"] = digest[:12] if isinstance(digest, str) else str(described)
    shown = value_text if as_text else plain_numbers
    out: dict[str, Any] = {}
    for key, value in config.items():
        if key in NOT_A_CONDITION:
            continue
        if key in COMPONENTS and isinstance(value, Mapping):
            out[key] = str(value.get("name"))
            out.update({f"{key}.{k}": shown(v) for k, v in (value.get("params") or {}).items()})
        else:
            out[key] = shown(value)
    return out


def _conditions_by_path(runs: Sequence[Run]) -> dict[Path, dict[str, str]]:
    """:func:`conditions` of each run, worked out once per stored config (the seeds of a grid cell share one), with
    ``data`` and ``data_options`` as :func:`same_data` tells them among ``runs``."""
    memo: dict[str, dict[str, str]] = {}
    out = {}
    for run in runs:
        key = json.dumps([{k: v for k, v in run.config.items() if k != "seed"}, run.meta.get("data_digest"),
                          run.meta.get("label_descriptions_digest")], sort_keys=True, default=str)
        if key not in memo:
            memo[key] = conditions(run)
        out[run.path] = memo[key]
    data = same_data(runs, out)
    return {path: {**flat, **data[path]} for path, flat in out.items()}


def same_data(runs: Sequence[Run], flat: Mapping[Path, Mapping[str, str]]) -> dict[Path, dict[str, str]]:
    """Each run's ``data`` and ``data_options`` conditions, equal for runs that read the same data, as a resume decides.

    A run's source is its data file's bytes (``data_digest``) read with its
    ``data_options`` (both from ``flat``, :func:`conditions`) under its
    :data:`CORPUS_SETTINGS` (labels, pool size...). Sources that
    read one corpus (runs of each recorded the same ``corpus_digest``: a file
    re-saved with other line endings, an option naming the columns a default
    picked) are one: every run of them gets the first 12 hex digits of the
    smallest data digest among them as ``data``, and that source's options.
    A run that recorded no corpus digest (written before it was) counts by
    its source alone, and so joins the runs that recorded one for the same
    source; ``data`` is None (unknown, :func:`_varying`) where no data digest
    was recorded (packaged data, a directory). Runs that agree in
    :data:`CORPUS_SETTINGS` and in these conditions but recorded other corpus
    digests read other data all the same: their ``data`` is their corpus
    digest's first 12 hex digits.

    Parameters
    ----------
    runs : the runs compared
    flat : each run's :func:`conditions` by its path

    Returns
    -------
    ``{"data": ..., "data_options": ...}`` by each run's path.
    """
    # a source is a data file's bytes read with options, under the settings the corpus depends on: two files read
    # as one corpus under one choice of labels may differ under another
    source = {run.path: (run.meta.get("data_digest"), flat[run.path].get("data_options", "None"),
                         json.dumps([flat[run.path].get(k) for k in CORPUS_SETTINGS])) for run in runs}
    parent: dict[tuple, tuple] = {}  # a source -> one it reads the same corpus as; the root least

    def root(s: tuple) -> tuple:
        while s in parent:
            s = parent[s]
        return s

    read: dict[str, tuple] = {}  # a corpus digest -> the first source seen to read it
    for run in runs:
        corpus, s = run.meta.get("corpus_digest"), source[run.path]
        if isinstance(corpus, str) and isinstance(s[0], str):
            a, b = root(s), root(read.setdefault(corpus, s))
            if a != b:
                parent[max(a, b)] = min(a, b)
    out = {}
    for run in runs:
        digest, options, _ = root(source[run.path]) if isinstance(source[run.path][0], str) else source[run.path]
        out[run.path] = {"data": digest[:12] if isinstance(digest, str) else "None", "data_options": options}
    cell = {run.path: json.dumps([[flat[run.path].get(k) for k in CORPUS_SETTINGS], out[run.path]]) for run in runs}
    corpora: dict[str, set[str]] = defaultdict(set)
    for run in runs:
        if isinstance(run.meta.get("corpus_digest"), str):
            corpora[cell[run.path]].add(run.meta["corpus_digest"])
    for run in runs:
        if len(corpora[cell[run.path]]) > 1 and isinstance(run.meta.get("corpus_digest"), str):
            out[run.path]["data"] = run.meta["corpus_digest"][:12]
    return out


def _varying(flat: Sequence[Mapping[str, str]]) -> list[str]:
    """The keys whose values are not the same in all of ``flat`` (:func:`conditions`); a missing one is ``?``.

    Data some runs did not record a digest of (written before it was,
    packaged data) is unknown, not another value: only two recorded digests
    that differ tell runs apart (:func:`same_data`).
    """
    keys = sorted({k for c in flat for k in c})
    return [k for k in keys if len({c.get(k, "?") for c in flat} - ({"None"} if k == "data" else set())) > 1]


def _of_strategy(key: str) -> bool:
    return key.split(".")[0] in STRATEGY_SETTINGS


def setting_conditions(runs: Sequence[Run]) -> dict[str, str]:
    """What the runs of one setting hold fixed (:func:`conditions`, the strategy's own and the seed left out), for
    a report to state what was compared: ``{"budget": "300", "classifier": "logreg", "classifier.C": "1.0"...}``."""
    flat = _conditions_by_path(runs)
    first = flat[runs[0].path]
    return {key: value for key, value in first.items()
            if not _of_strategy(key) and all(flat[run.path].get(key) == value for run in runs)}


def held_values(runs: Sequence[Run], held: Mapping[str, str]) -> dict[str, Any]:
    """``held`` (:func:`setting_conditions` of ``runs``) as JSON values, for ``summary.json``: numbers as numbers,
    ``null`` for none, lists and mappings as such; ``data`` and ``data_options`` as :func:`same_data` made them."""
    typed = conditions(runs[0], as_text=False)
    out: dict[str, Any] = {}
    for key, text in held.items():
        if key in ("data", "data_options"):
            out[key] = None if text == "None" else json.loads(text) if key == "data_options" else text
        else:
            out[key] = typed.get(key, text)
    return out


def run_versions(runs: Sequence[Run]) -> list[str]:
    """The versions of al that made ``runs``, as text ("an unrecorded version" for a run that stored none)."""
    return sorted({str(run.meta["version"]) if run.meta.get("version") else "an unrecorded version"
                   for run in runs})


def provenance_note(runs: Sequence[Run]) -> str | None:
    """What a reader must know when the runs of one setting come from other versions of al, read other pool
    vectors (another machine's kernels, libraries or cache; ``embeddings_digest``), or ran a user's strategy file
    as edited in between (:func:`strategy_edits`), or None when they agree."""
    versions = run_versions(runs)
    digests: dict[str, int] = Counter(run.meta["embeddings_digest"] for run in runs
                                      if isinstance(run.meta.get("embeddings_digest"), str))
    said = []
    if len(versions) > 1:
        said.append(f"were run by al {', '.join(versions)}")
    if len(digests) > 1:
        each = ", ".join(f"{digest[:12]} in {counted(n, 'run')}" for digest, n in digests.most_common())
        said.append(f"read {len(digests)} different sets of pool vectors (embeddings_digest {each})")
    parts = [f"its runs {' and '.join(said)}: their differences may come from that as well as from the strategies; "
             f"rerun them with one version on one kind of machine for a clean comparison"] if said else []
    if edited := strategy_edits(runs):
        parts.append(f"{'; '.join(edited)}: the runs do not all come from the same code; rerun them (another --out, "
                     f"or the run folders removed) for a clean comparison")
    return "; ".join(parts) or None


def source_digests(run: Run) -> list[str]:
    """The digests of a user's strategy file that ``run``'s rounds came from, in order: the first start's and each
    resume's after an edit (``config.json``: ``strategy_source``, ``resumes[].strategy_source``); [] for a built-in
    strategy."""
    digests: list[str] = []
    for resume in run.meta.get("resumes") or []:
        change = resume.get("strategy_source") if isinstance(resume, dict) else None
        if isinstance(change, list) and len(change) == 2:
            digests += [d for d in change if isinstance(d, str) and (not digests or digests[-1] != d)]
    source = run.meta.get("strategy_source")
    last = source.get("digest") if isinstance(source, dict) else None
    if isinstance(last, str) and (not digests or digests[-1] != last):
        digests.append(last)
    return digests


def strategy_edits(runs: Sequence[Run]) -> list[str]:
    """Per strategy of ``runs`` whose file was edited between its runs or within one: what the reader must know
    (which seeds ran which digest, which runs were resumed on other code); [] when each ran one version."""
    by_strategy: dict[str, list[Run]] = defaultdict(list)
    for run in runs:
        by_strategy[run.strategy].append(run)
    notes = []
    for name, group in sorted(by_strategy.items()):
        used = {run.path: source_digests(run) for run in group}
        versions = {d for digests in used.values() for d in digests}
        if len(versions) < 2:
            continue
        resumed = sorted(run.seed for run in group if len(set(used[run.path])) > 1)
        seeds: dict[str, list[int]] = defaultdict(list)
        for run in group:
            if used[run.path]:
                seeds[used[run.path][-1]].append(run.seed)
        each = ", ".join(f"{d[:12]} in seed{'s' if len(v) > 1 else ''} {', '.join(map(str, sorted(v)))}"
                         for d, v in sorted(seeds.items(), key=lambda item: min(item[1])))
        between = len(seeds) > 1  # the runs ended on different code; else each edit came within a run
        note = (f"the strategy file of {name} was edited {'between its runs' if between else 'within a run'} "
                f"({len(versions)} versions; last: {each})")
        if resumed:
            several = len(resumed) > 1
            note += (f", and seed{'s' if several else ''} {', '.join(map(str, resumed))} "
                     f"{'were' if several else 'was'} resumed on other code than {'their' if several else 'its'} "
                     f"first rounds")
        notes.append(note)
    return notes


def settings_of(runs: Sequence[Run]) -> dict[Path, str]:
    """Each run's setting: what its tables hold fixed, so that its runs pair by seed.

    A setting is every condition (:func:`conditions`) but the strategy's own
    (:data:`STRATEGY_SETTINGS`, told apart by :func:`run_labels`) and the seed.
    It is named :func:`setting_of` (data set, labels, classifier, model); where
    runs of one such name differ in other conditions (a budget, an initial-set
    rule, a pool size, a classifier param, the data read: :func:`same_data`), each setting
    adds the keys that differ with its values, as a grid names its runs:
    ``disaster (5+5), logreg on all-MiniLM-L6-v2 [initial_strategy=kmeans]``.
    Such runs are in different tables, each with its own baseline, and never
    paired. Runs that differ only in strategy and seed keep the plain name.
    """
    flat = _conditions_by_path(runs)
    groups: dict[str, list[Run]] = defaultdict(list)
    for run in runs:
        groups[setting_of(run)].append(run)
    out = {}
    for name, members in groups.items():
        paths = [run.path for run in members]
        keys = [k for k in _varying([flat[p] for p in paths]) if not _of_strategy(k)]
        files = _file_names(members, flat)
        names = {Path(run.config["data_path"]).name for run in members} if files else set()
        if len(names) == 1 and "data" not in keys:  # one user's file: named, not its kind
            name = name.replace(str(members[0].config.get("dataset")), names.pop(), 1)
        for path in paths:
            shown = {**flat[path], **({"data": files[flat[path].get("data")]} if files else {})}
            extra = ", ".join(f"{k}={as_written(shown.get(k, '?'))}" for k in keys)
            out[path] = f"{name} [{extra}]" if extra else name
    return out


def as_written(text: str) -> str:
    """A condition's text as a settings file writes it: ``pool_size=null``, ``warm_start=true`` (Python's ``None``
    and ``True`` are no words of YAML, JSON or the command line)."""
    return {"None": "null", "True": "true", "False": "false"}.get(text, text)


def _file_names(runs: Sequence[Run], flat: Mapping[Path, Mapping[str, str]]) -> dict[str, str]:
    """The name a user knows each data (:func:`same_data`) of a setting's runs by: its file's name (``mydata.csv``,
    the first in order where one corpus came from several), with the data's digest where two data share a name;
    empty unless every run read a file of its own (``csv``, ``jsonl``)."""
    names: dict[str, set[str]] = defaultdict(set)
    for run in runs:
        path = run.config.get("data_path")
        if run.config.get("dataset") not in ("csv", "jsonl") or not isinstance(path, str) or not path:
            return {}
        names[flat[run.path].get("data", "None")].add(Path(path).name)
    first = {data: sorted(found)[0] for data, found in names.items()}
    taken = Counter(first.values())
    return {data: name if taken[name] == 1 else f"{name}@{data}" for data, name in first.items()}


def run_labels(runs: Sequence[Run]) -> dict[Path, str]:
    """Each run's row label in its setting (:func:`settings_of`): :attr:`Run.strategy`, and what tells its runs apart.

    Runs of one setting and strategy label whose strategy or space differs as
    resolved (a param given to one and left at its default in another, a
    default that changed between versions) are different conditions, not more
    seeds of one: their label gets the differing params with their resolved
    values, ``dal [strategy.sub_batches=5]``. Settings a stored config lacks
    count at their defaults (:func:`conditions`).
    """
    setting = settings_of(runs)
    flat = _conditions_by_path(runs)
    groups: dict[tuple[str, str], list[Path]] = defaultdict(list)
    for run in runs:
        groups[(setting[run.path], run.strategy)].append(run.path)
    labels = {}
    for (_, name), paths in groups.items():
        keys = _varying([flat[p] for p in paths])
        for path in paths:
            extra = ", ".join(f"{k}={as_written(flat[path].get(k, '?'))}" for k in keys)
            labels[path] = f"{name} [{extra}]" if extra else name
    return labels


#: Pairs of duplicate runs a refusal names; the rest are counted.
SHOWN_PAIRS = 3


def one_run_per_seed(runs: Sequence[Run], labels: Mapping[Path, str], fix: str) -> None:
    """Refuse the same simulation twice: two runs of one setting (:func:`settings_of`), label and seed.

    Such runs would count as two seeds of one condition (a plot's mean and
    std), or which of them counts would be arbitrary (a report's pairs). A run
    written by ``al.simulate``'s default ``--out`` and the same simulation
    again under another ``--out`` is the usual way to get there.

    Parameters
    ----------
    runs : the runs that will count (complete, with a value of the metric)
    labels : each run's row or line by its path (:func:`run_labels`, :func:`line_labels`)
    fix : how to keep one of the two, for the message's end

    Raises
    ------
    DataError
        Naming both directories (the first in path order first), the label
        and the seed, ending in ``fix``.
    """
    settings = settings_of(runs)
    seen: dict[tuple[str, str, int], Run] = {}
    pairs: list[str] = []  # every pair, so that one report names all there is to fix
    for run in sorted(runs, key=lambda r: r.path):
        key = (settings[run.path], labels[run.path], run.seed)
        if key in seen:
            first = seen[key]
            files = [r.config.get("data_path") or "?" for r in (first, run)]
            corpus = first.meta.get("corpus_digest")
            why = "" if first.meta.get("data_digest") == run.meta.get("data_digest") else (
                f"; they read one corpus, the same texts, labels and splits, from {files[0]} and {files[1]}"
                if corpus is not None and corpus == run.meta.get("corpus_digest") else
                f"; {files[0]} and {files[1]} count as one data, as a run that recorded no digest of what it read "
                f"is not told apart")
            pairs.append(f"{first.path} and {run.path} are the same simulation ({labels[run.path]}, seed "
                         f"{run.seed}{why})")
            continue
        seen[key] = run
    if pairs:
        raise DataError(f"{'; '.join(pairs[:SHOWN_PAIRS])}{and_more(len(pairs), SHOWN_PAIRS)}; expected one run per "
                        f"seed: {fix}")


def _without_params_of(keys: Sequence[str]) -> list[str]:
    """``keys`` less the params (``classifier.k``) of a component that is among them (``classifier``): another
    component has other params, and its name says so."""
    return [k for k in keys if "." not in k or k.split(".")[0] not in keys]


def _values_with_a_run(key: str, paths: Sequence[Path], flat: Mapping[Path, Mapping[str, str]],
                       runs: Sequence[Run] = ()) -> str:
    """``key (value: a run directory, ...)``: each value of the condition ``key`` among ``paths`` with the first
    run (in path order) that has it, so that a message names a run to look at for each; a param one component has
    and another has not is ``not set``. The data are named by their files (``mydata.csv``, :func:`_file_names` of
    ``runs``) where each run read one, not by their digests."""
    first: dict[str, Path] = {}
    for path in sorted(paths):
        first.setdefault(flat[path].get(key, "not set"), path)
    files = _file_names([run for run in runs if run.path in first.values()], flat) if key == "data" else {}
    return f"{key} ({', '.join(f'{files.get(value, value)}: {path}' for value, path in sorted(first.items()))})"


#: Conditions that come with a ``--group-by`` setting besides its own (and its params): the space's scope, period
#: and readers are None for the pretrained space (:func:`conditions`); another data set or file is other data.
_COMES_WITH = {"space": ("space_scope", "space_every", "space_for"), "dataset": ("data", "data_options"),
               "data_path": ("data", "data_options")}


def _tells_lines_apart(key: str, group_by: str) -> bool:
    """Whether lines grouped by ``group_by`` (:func:`line_labels`) may differ in the condition ``key``.

    Lines by strategy are row labels (:func:`run_labels`): they differ in the
    strategy and the space it read (:data:`STRATEGY_SETTINGS`), with their params.
    Lines by another setting differ in it, and in what comes with it (:data:`_COMES_WITH`).
    """
    head = key.split(".")[0]
    if group_by == "strategy":
        return _of_strategy(key)
    return head == group_by or head in _COMES_WITH.get(group_by, ())


def lines_of_one_setting(runs: Sequence[Run], group_by: str = "strategy",
                         flat: Mapping[Path, Mapping[str, str]] | None = None) -> None:
    """Refuse lines of one figure that differ in more than what tells them apart.

    The lines of one figure are compared as alike but for their label: by
    strategy (and space), or by ``group_by``. Runs that :func:`settings_of`
    (the report's sections) puts in different settings may share a figure only
    where they differ in ``group_by`` alone; lines by another setting than the
    strategy must not differ in the strategy either (one line of random,
    another of cvirs, would credit that setting with what the strategy does).

    Parameters
    ----------
    runs : the runs of the figure
    group_by : what tells its lines apart (:func:`line_labels`)
    flat : each run's conditions by its path (:func:`_conditions_by_path` of ``runs``); None: worked out here

    Raises
    ------
    DataError
        Naming each condition the lines differ in, its values with a run
        directory for each, and how to plot them apart.
    """
    flat = _conditions_by_path(runs) if flat is None else flat
    sections = settings_of(runs)
    split = len(set(sections.values())) > 1
    varying = _varying([flat[run.path] for run in runs])
    # a condition that is no strategy's splits the report exactly where it varies: counted only where it does
    keys = _without_params_of([k for k in varying
                               if not _tells_lines_apart(k, group_by) and (split or _of_strategy(k))])
    paths = [run.path for run in runs]
    apart = "strategy and space" if group_by == "strategy" else group_by
    whole = ("plot each setting's runs on their own (pass only their run directories), or give a folder holding "
             "them to al.report, which draws one figure per setting")
    if split and not keys and not any(not _of_strategy(k) for k in varying):  # told apart by their names alone
        first: dict[str, Path] = {}
        for path in sorted(paths):
            first.setdefault(sections[path], path)
        shown = "; ".join(f"{name}: {path}" for name, path in sorted(first.items()))
        raise DataError(f"the runs are of {len(first)} settings, as al.report tells them apart ({shown}); a figure "
                        f"compares the lines of one setting: {whole}")
    if not keys:
        return
    shown = "; ".join(_values_with_a_run(k, paths, flat, runs) for k in keys[:3])
    more = and_more(len(keys))
    if any(not _of_strategy(k) for k in keys):
        raise DataError(f"the lines differ in {shown}{more}, not only in {apart}: al.report puts such runs in "
                        f"different settings, and one figure would compare them as alike; {whole}")
    raise DataError(f"the lines differ in {shown}{more}, not only in {apart}: one figure would credit {apart} with "
                    f"what the strategy does; plot each strategy's runs on their own (pass only their run "
                    f"directories)")


def _setting_glob(path: Path, paths: Sequence[Path]) -> str | None:
    """A shell pattern for ``path``'s setting among grid runs named ``axis-value__...__seed-N`` in one folder: the
    parts of its name that differ among ``paths`` (the seed aside) kept, the others ``*``
    (``runs/mixed/data-dis300__*``); None where the runs are not so named."""
    if "__" not in path.name or any(p.parent != path.parent for p in paths):
        return None
    named = [p.name.split("__") for p in paths]
    if any(len(parts) != len(named[0]) for parts in named):
        return None
    kept = [part if not part.startswith("seed-") and any(other[i] != part for other in named) else "*"
            for i, part in enumerate(path.name.split("__"))]
    if all(part == "*" for part in kept):
        return None
    collapsed = [part for i, part in enumerate(kept) if part != "*" or i == 0 or kept[i - 1] != "*"]
    return str(path.parent / "__".join(collapsed))


#: Settings a run stores that tell no lines apart, and why.
NO_LINES = {"out": "it is each run's own folder, so every run would be a line of its own",
            "threads": "it changes no result, only how long a run took"}


def line_labels(runs: Sequence[Run], group_by: str = "strategy") -> dict[Path, str]:
    """Each run's line in a plot: its row label (:func:`run_labels`), or its ``group_by`` setting.

    A line averages seeds of one condition, so the runs on it must agree in
    every condition (:func:`conditions`) but ``group_by``'s own; and the lines
    of one figure must be of one setting, as :func:`settings_of` (the report's
    sections) tells settings apart, unless they differ in ``group_by`` alone
    (:func:`lines_of_one_setting`).

    Raises
    ------
    DataError
        If ``group_by`` is no setting of the runs, runs that would share a
        line differ in a condition (data sets, budgets...), or lines differ in
        more than what tells them apart: the message names the conditions, a
        run directory for each value, and how to plot the runs apart; or two
        runs on a line are the same simulation (:func:`one_run_per_seed`).
    """
    if group_by in NO_LINES:
        raise DataError(f"--group-by {group_by} draws no lines: {NO_LINES[group_by]}; group by a setting the runs "
                        f"differ in, such as strategy (the default), classifier or space")
    if group_by != "strategy" and not any(group_by in run.config for run in runs):
        known = sorted({key for run in runs for key in run.config} - set(NO_LINES))
        raise DataError(f"--group-by {group_by!r} is no setting of these runs{did_you_mean([group_by], known)}; "
                        f"known: {', '.join(known)}")
    flat = _conditions_by_path(runs)
    if group_by == "strategy":
        labels = run_labels(runs)
    elif group_by == "space":  # with its scope, period and readers, which may differ between the lines
        labels = {run.path: run.space_label() for run in runs}
    else:  # a setting a run does not store is its default; a component is named with its params as given
        labels = {run.path: run.setting(group_by) if group_by in COMPONENTS or group_by not in flat[run.path]
                  else flat[run.path][group_by] for run in runs}
        if all(re.fullmatch(r"-?[\d.e+-]+|True|False|None|null|true|false", label) for label in labels.values()):
            labels = {path: f"{group_by}={label}" for path, label in labels.items()}  # a bare 0 or 50 says nothing
    lines: dict[str, list[Path]] = defaultdict(list)
    for run in runs:
        lines[labels[run.path]].append(run.path)
    for label, paths in sorted(lines.items()):
        keys = _without_params_of([k for k in _varying([flat[p] for p in paths]) if k.split(".")[0] != group_by])
        if keys:
            shown = "; ".join(_values_with_a_run(k, paths, flat, runs) for k in keys[:3])
            more = and_more(len(keys))
            one_line_each = group_by == "strategy" and len(lines) == 1 and len(keys) == 1 and keys[0] != "data" \
                and "." not in keys[0]  # --group-by that setting then draws one line per value
            setting_apart = any(not _of_strategy(k) for k in keys)
            fix = (f"split the lines with --group-by {keys[0]}" if one_line_each else
                   f"plot each setting's runs on their own (pass only their run directories, such as "
                   f"{_setting_glob(paths[0], paths) or paths[0]})"
                   + (", or give the folder to al.report, which draws one figure per setting" if setting_apart
                      else ""))
            raise DataError(f"runs on the line {label!r} differ in {shown}{more}; a line averages the seeds of one "
                            f"setting: {fix}")
    lines_of_one_setting(runs, group_by, flat)
    one_run_per_seed(runs, labels, "plot one of them: give its run directory, or a folder that holds one of them "
                     "only")
    return labels


@dataclass
class StrategySummary:
    """Per-seed numbers of one strategy in one setting."""

    final_macro: dict[int, float] = field(default_factory=dict)
    final_micro: dict[int, float] = field(default_factory=dict)
    area_macro: dict[int, float] = field(default_factory=dict)
    per_label: dict[int, dict[str, float]] = field(default_factory=dict)
    #: per ``seconds_*`` key of :data:`SECONDS`: its values over all rounds of all seeds (``seconds_query``: over
    #: the rounds that queried, :func:`queried`)
    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    #: per seed: (labeled-set sizes, macro-F1 at each)
    macro_curve: dict[int, tuple[list[int], list[float]]] = field(default_factory=dict)
    #: per seed: the run directory
    paths: dict[int, Path] = field(default_factory=dict)


def seed_ranges(seeds: Sequence[int]) -> str:
    """Seeds as short text: ``[0, 1, 2, 3, 4, 7]`` -> ``"0-4, 7"``."""
    spans: list[list[int]] = []
    for seed in sorted(set(seeds)):
        if spans and seed == spans[-1][1] + 1:
            spans[-1][1] = seed
        else:
            spans.append([seed, seed])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans)


def unequal_seeds(seeds_by_line: Mapping[str, Sequence[int]], baseline: str | None = None) -> str | None:
    """What a reader must know when the lines of one setting ran different seeds, or None when all ran the same.

    A line's mean, band and reach are over its own seeds, so a line with seeds the others lack differs from
    them by those seeds' initial sets too (every strategy of one seed starts from the same one); the paired
    columns count only the seeds shared with ``baseline``.
    """
    sets = {line: frozenset(seeds) for line, seeds in seeds_by_line.items()}
    if len(set(sets.values())) <= 1:
        return None
    each = "; ".join(f"{line}: seed{'s' if len(sets[line]) > 1 else ''} {seed_ranges(sorted(sets[line]))}"
                     for line in sorted(sets))  # "mmc: seed 2", never "mmc 2", which reads as two seeds
    paired = f", the paired comparisons over the seeds each shares with {baseline}" if baseline in sets else ""
    return (f"the lines ran different seeds ({each}): each line's mean and band are over its own seeds{paired}; "
            f"run the missing seeds for like-for-like lines")


#: The timings a round records, as the compute table shows them; ``seconds_space`` only with a task-specific space.
SECONDS = ("seconds_train", "seconds_query", "seconds_evaluate", "seconds_space", "seconds_stopping",
           "seconds_diagnostics")
#: Parts of :data:`SECONDS` that only some runs record (a fitted space, the stopping signals, --diagnostics).
OPTIONAL_SECONDS = ("seconds_space", "seconds_stopping", "seconds_diagnostics")


def summarize(runs: Sequence[Run]) -> tuple[dict[str, dict[str, StrategySummary]], list[tuple[Run, int, int]],
                                            list[Run]]:
    """Complete runs -> {setting: {row label: summary}}; plus (run, rounds, expected) for partial runs, and the
    complete runs with no macro-F1 at all.

    Settings are :func:`settings_of` and row labels :func:`run_labels` of the complete runs. Rounds whose macro-F1
    is null (an annotation session's first rounds) are left out of a run's curve; its final values are its last
    evaluated round's.

    Raises
    ------
    DataError
        If a stored config or record is unusable, or two complete runs share setting, label and seed
        (the same simulation twice: which one counts would be arbitrary; :func:`one_run_per_seed`).
    """
    table: dict[str, dict[str, StrategySummary]] = defaultdict(lambda: defaultdict(StrategySummary))
    complete, partial = complete_runs(runs)
    settings, labels = settings_of(complete), run_labels(complete)
    macro_points = {run.path: points(run, "macro_f1") for run in complete}
    unevaluated = [run for run in complete if not macro_points[run.path][0]]
    evaluated = [run for run in complete if macro_points[run.path][0]]
    one_run_per_seed(evaluated, labels, "move one out of the directory you report on")
    for run in evaluated:
        sizes, macro = macro_points[run.path]
        s = table[settings[run.path]][labels[run.path]]
        points(run, "micro_f1")  # a number or null in every round
        last = [r for r in run.rounds if r["macro_f1"] is not None][-1]
        s.paths[run.seed] = run.path
        s.final_macro[run.seed] = last["macro_f1"]
        if last["micro_f1"] is not None:
            s.final_micro[run.seed] = last["micro_f1"]
        s.area_macro[run.seed] = normalized_area(sizes, macro)
        s.macro_curve[run.seed] = (sizes, macro)
        if isinstance(last.get("per_label_f1"), dict):
            s.per_label[run.seed] = last["per_label_f1"]
        for key in SECONDS:
            values = [round_seconds(r, key) for r in (queried(run) if key == "seconds_query" else run.rounds)
                      if r.get(key) is not None]
            if values:
                s.seconds[key].extend(values)
    return table, partial, unevaluated


def round_seconds(record: dict[str, Any], key: str) -> float:
    """A round's ``key`` seconds as the compute table counts them: its query's include the strategy's once-per-pool
    work that ran ahead of the embedding (``seconds_prepare``, ALPS's head fit and surprisal pass in a cold lone
    run), which its first query pays otherwise. Work a grid's preparation task did (on another worker), or a
    cache held already, is in no run's seconds."""
    seconds = float(record[key])
    if key == "seconds_query" and isinstance(record.get("seconds_prepare"), (int, float)):
        seconds += float(record["seconds_prepare"])
    return seconds


def compare_to_baseline(summaries: dict[str, StrategySummary], metric: str, baseline: str = "random") -> dict[str, PairedTest]:
    """Paired tests of every strategy's per-seed ``metric`` against ``baseline`` on shared seeds."""
    base = getattr(summaries[baseline], metric) if baseline in summaries else {}
    out = {}
    for name, s in summaries.items():
        if name == baseline or not base:
            continue
        values = getattr(s, metric)
        seeds = sorted(set(values) & set(base))
        out[name] = paired_test([values[k] for k in seeds], [base[k] for k in seeds])
    return out
