"""Strategy comparison across seeds: areas under learning curves and paired tests."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from al.analysis.curves import Run
from al.errors import ConfigError, DataError
from al.config import n_rounds


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


@dataclass(frozen=True)
class PairedTest:
    """Wilcoxon signed-rank test of a strategy against a baseline over shared seeds."""

    n: int
    mean_difference: float
    statistic: float | None
    p_value: float | None
    wins: int

    @property
    def text(self) -> str:
        if self.p_value is None:
            return f"n={self.n}: no test"
        return f"{self.mean_difference:+.4f} (W={self.statistic:g}, p={self.p_value:.3g}, wins {self.wins}/{self.n})"


def paired_test(values: Sequence[float], baseline: Sequence[float]) -> PairedTest:
    """Two-sided exact Wilcoxon signed-rank test on paired differences ``values - baseline``.

    Zero differences are dropped (``zero_method="wilcox"``); with fewer than
    one non-zero difference there is no test. With 3 seeds the smallest
    possible two-sided p is 0.25: report it, do not read it as significance.
    """
    from scipy.stats import wilcoxon

    diff = np.asarray(values, dtype=np.float64) - np.asarray(baseline, dtype=np.float64)
    wins = int((diff > 0).sum())
    nonzero = diff[diff != 0]
    if len(nonzero) == 0:
        return PairedTest(len(diff), float(diff.mean()) if len(diff) else 0.0, None, None, wins)
    result = wilcoxon(nonzero, zero_method="wilcox", alternative="two-sided", method="exact")
    return PairedTest(len(diff), float(diff.mean()), float(result.statistic), float(result.pvalue), wins)


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


@dataclass
class StrategySummary:
    """Per-seed numbers of one strategy in one setting."""

    final_macro: dict[int, float] = field(default_factory=dict)
    final_micro: dict[int, float] = field(default_factory=dict)
    area_macro: dict[int, float] = field(default_factory=dict)
    per_label: dict[int, dict[str, float]] = field(default_factory=dict)
    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


def summarize(runs: Sequence[Run]) -> tuple[dict[str, dict[str, StrategySummary]], list[tuple[Run, int, int]]]:
    """Complete runs -> {setting: {strategy: summary}}; plus (run, rounds, expected) for partial runs."""
    table: dict[str, dict[str, StrategySummary]] = defaultdict(lambda: defaultdict(StrategySummary))
    partial = []
    for run in runs:
        try:
            expected = expected_rounds(run.config)
        except DataError as exc:
            raise DataError(f"{run.path}: {exc}") from None
        if len(run.rounds) < expected:
            partial.append((run, len(run.rounds), expected))
            continue
        s = table[setting_of(run)][run.strategy]
        last = run.rounds[-1]
        s.final_macro[run.seed] = last["macro_f1"]
        s.final_micro[run.seed] = last["micro_f1"]
        s.area_macro[run.seed] = normalized_area([r["n_labeled"] for r in run.rounds], [r["macro_f1"] for r in run.rounds])
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
