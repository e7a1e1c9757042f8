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
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from al.analysis.curves import Run
from al.errors import ConfigError, DataError
from al.config import NON_RESULT_SETTINGS, n_rounds

#: Paired differences are rounded to this many decimals before the signed-rank test, so that two
#: differences equal up to float noise (0.3 - 0.2 and 0.4 - 0.3) are one tie, and 0.3 - 0.3 is a zero.
DECIMALS = 12
#: Up to this many non-zero differences the p-value is exact; above, the normal approximation.
EXACT_MAX_N = 50
#: Bootstrap settings: resamples of seeds, the generator's seed, the interval's coverage, the fewest seeds.
RESAMPLES = 10_000
BOOTSTRAP_SEED = 0
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
    def text(self) -> str:
        if self.p_value is None:
            return f"n={self.n}: no test"
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
    ``2 / 2^n_test`` (0.25 with 3, 0.031 with 6, 0.002 with 10).

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
    if len(nonzero) == 0:
        return PairedTest(len(diff), mean, None, None, wins, 0, "none")
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
    (``np.quantile``, linear interpolation).

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
    means = d[rng.integers(0, len(d), size=(resamples, len(d)))].mean(axis=1)
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
    (:func:`holm`); a strategy with no non-zero difference has none and no
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
        """Median over the seeds that reached the target (None if none did)."""
        hits = [v for v in self.by_seed.values() if v is not None]
        return float(np.median(hits)) if hits else None

    @property
    def text(self) -> str:
        if self.median is None:
            return "not reached"
        return f"{self.median:g}"

    @property
    def seeds_text(self) -> str:
        return f"{self.reached} of {len(self.by_seed)} seeds"


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


def setting_of(run: Run) -> str:
    """What a comparison holds fixed: the data set and the classifier."""
    c = run.config
    labels = "labels=" + ",".join(c["labels"]) if c.get("labels") else f"{c.get('n_frequent', 5)}+{c.get('n_rare', 5)}"
    classifier = c.get("classifier")
    if isinstance(classifier, dict):  # {name, params}: a bert classifier names the encoder it fine-tunes
        encoder = (classifier.get("params") or {}).get("model") or c.get("model")
        return f"{c.get('dataset')} ({labels}), {run.setting('classifier')} on {encoder}"
    return f"{c.get('dataset')} ({labels}), {classifier} on {c.get('classifier_model') or c.get('model')}"


#: Stored settings that do not make two runs different conditions: the seed pairs them, the rest is where and how
#: a run was executed and what it recorded beside its results.
NOT_A_CONDITION = tuple(sorted(NON_RESULT_SETTINGS | {"seed", "data_path"}))


def run_labels(runs: Sequence[Run]) -> dict[Path, str]:
    """Each run's row label in its setting: :attr:`Run.strategy`, plus any setting that tells runs of it apart.

    Runs of one setting and strategy label that differ in a stored setting
    (a budget, an initial-set rule, a classifier threshold) are different
    conditions, not more seeds of one: their label gets the differing settings,
    ``random [budget=400]``. A setting some runs do not store at all (written
    by an older version) tells nothing apart.
    """
    groups: dict[tuple[str, str], list[Run]] = defaultdict(list)
    for run in runs:
        groups[(setting_of(run), run.strategy)].append(run)
    labels = {}
    for (_, name), members in groups.items():
        conditions = [{k: json.dumps(v, sort_keys=True) for k, v in run.config.items() if k not in NOT_A_CONDITION}
                      for run in members]
        shared = set.intersection(*(set(c) for c in conditions))
        varying = sorted(k for k in shared if len({c[k] for c in conditions}) > 1)
        for run in members:
            extra = ", ".join(f"{k}={run.setting(k)}" for k in varying)
            labels[run.path] = f"{name} [{extra}]" if extra else name
    return labels


@dataclass
class StrategySummary:
    """Per-seed numbers of one strategy in one setting."""

    final_macro: dict[int, float] = field(default_factory=dict)
    final_micro: dict[int, float] = field(default_factory=dict)
    area_macro: dict[int, float] = field(default_factory=dict)
    per_label: dict[int, dict[str, float]] = field(default_factory=dict)
    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    #: per seed: (labeled-set sizes, macro-F1 at each)
    macro_curve: dict[int, tuple[list[int], list[float]]] = field(default_factory=dict)
    #: per seed: the run directory
    paths: dict[int, Path] = field(default_factory=dict)


def summarize(runs: Sequence[Run]) -> tuple[dict[str, dict[str, StrategySummary]], list[tuple[Run, int, int]]]:
    """Complete runs -> {setting: {row label: summary}}; plus (run, rounds, expected) for partial runs.

    Row labels are :func:`run_labels` of the complete runs.

    Raises
    ------
    DataError
        If a stored config is unusable, or two complete runs share setting, label and seed
        (the same simulation twice: which one counts would be arbitrary).
    """
    table: dict[str, dict[str, StrategySummary]] = defaultdict(lambda: defaultdict(StrategySummary))
    partial, complete = [], []
    for run in runs:
        try:
            expected = expected_rounds(run.config)
        except DataError as exc:
            raise DataError(f"{run.path}: {exc}") from None
        if len(run.rounds) < expected:
            partial.append((run, len(run.rounds), expected))
        else:
            complete.append(run)
    labels = run_labels(complete)
    for run in complete:
        s = table[setting_of(run)][labels[run.path]]
        if run.seed in s.paths:
            raise DataError(
                f"{s.paths[run.seed]} and {run.path} are the same simulation ({labels[run.path]}, seed {run.seed}); "
                f"expected one run per seed: move one out of the directory you report on"
            )
        last = run.rounds[-1]
        sizes = [int(r["n_labeled"]) for r in run.rounds]
        macro = [float(r["macro_f1"]) for r in run.rounds]
        s.paths[run.seed] = run.path
        s.final_macro[run.seed] = last["macro_f1"]
        s.final_micro[run.seed] = last["micro_f1"]
        s.area_macro[run.seed] = normalized_area(sizes, macro)
        s.macro_curve[run.seed] = (sizes, macro)
        s.per_label[run.seed] = last["per_label_f1"]
        for key in ("seconds_train", "seconds_query", "seconds_evaluate"):
            s.seconds[key].extend(r[key] for r in run.rounds)
    return table, partial


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
