"""What a strategy picked, and how its space looked while it picked: read from run records alone.

Two questions a comparison table cannot answer. Which labels do a strategy's
picks carry, against random's (does class_embedding over-sample the rarest
label)? And how near their texts were the class centroids in the space the
strategy read (centroid proximity, observed / chance, as in Wertz et al. 2022,
Table 2), at the first and the last round? The first comes from each round's
``labeled_counts``; the second from the ``diagnostics`` that runs made with
``--diagnostics`` record every round (:class:`al.observers.EmbeddingDiagnostics`,
computed on :attr:`Features.pool_embeddings`, i.e. the space the strategy reads).

References
----------
Wertz et al., "Evaluating Pre-Trained Sentence-BERT with Class Embeddings in
Active Learning for Multi-Label Text Classification", AACL-IJCNLP 2022,
sec. 5.1 and Table 2 (``../shared/seeds/001``).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from al.analysis.margins import mean_margin as margin_mean

#: The columns of :func:`diagnostics_rows`.
DIAGNOSTIC_COLUMNS = ["strategy", "seeds", "proximity_first", "ceiling_first", "proximity_last", "ceiling_last",
                      "rare_proximity_first", "rare_ceiling_first", "rare_proximity_last", "rare_ceiling_last",
                      "margin_first", "margin_last"]


def pick_rates(rounds: Sequence[Mapping[str, Any]]) -> dict[str, float] | None:
    """Per label, how many of every 100 texts a run picked carry it.

    ``100 * (labeled_counts[last] - labeled_counts[first]) / (n_labeled[last] - n_labeled[first])``:
    the labels the picks added, over the picks (a multi-label text counts for
    each of its labels, so a row can sum to more than 100). None when the run
    picked nothing or its records hold no label counts.
    """
    first, last = rounds[0], rounds[-1]
    if "labeled_counts" not in first or "labeled_counts" not in last:
        return None
    picked = int(last["n_labeled"]) - int(first["n_labeled"])
    if picked <= 0:
        return None
    return {label: 100.0 * (float(last["labeled_counts"][label]) - float(first["labeled_counts"][label])) / picked
            for label in last["labeled_counts"]}


def proximity_ratio(record: Mapping[str, Any], labels: Sequence[str] | None = None,
                    key: str = "ratio") -> float | None:
    """Mean over ``labels`` (default: all) of a round's centroid proximity observed / chance; None without diagnostics.

    Labels without a centroid (no labeled text yet) or with no unlabeled text
    carrying them have no ratio and are left out of the mean. ``key="ceiling"``:
    the mean of the same labels' ceilings, the most each ratio could be
    (min(k, the label's unlabeled texts) / chance); None where a record has none.
    """
    proximity = (record.get("diagnostics") or {}).get("proximity")
    if not proximity:
        return None
    names = list(proximity) if labels is None else [l for l in labels if l in proximity]
    names = [l for l in names if proximity[l].get("ratio") is not None]
    values = [proximity[l].get(key) for l in names]
    return float(np.mean(values)) if values and None not in values else None


def mean_margin(record: Mapping[str, Any]) -> float | None:
    """A round's mean cosine-distance margin (other - own; positive: texts nearer their own centroid) over the
    labels with at least :data:`~al.analysis.margins.MIN_MARGIN_TEXTS` labeled texts
    (:func:`al.analysis.margins.mean_margin`); None where none has, or without diagnostics."""
    return margin_mean((record.get("diagnostics") or {}).get("margins") or {})


def _mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def picks_rows(rounds_by_strategy: Mapping[str, Sequence[Sequence[Mapping[str, Any]]]],
               groups: Mapping[str, Sequence[str]] | None = None,
               pool_share: Mapping[str, float] | None = None) -> list[dict[str, Any]]:
    """Per strategy, :func:`pick_rates` averaged over its runs (one decimal).

    Parameters
    ----------
    rounds_by_strategy : {row label: [rounds of one run, ...]}
    groups : {"frequent": labels, "rare": labels}, optional
        Adds ``rare_sum``: rare-label occurrences per 100 picks.
    pool_share : {label: share of pool texts carrying it}, optional
        Adds a first row ``pool (chance)``: what a uniform draw picks, per 100.
    """
    rows = []
    if pool_share:
        rows.append(_rate_row("pool (chance)", "–", {k: 100.0 * v for k, v in pool_share.items()}, groups))
    for name, runs in rounds_by_strategy.items():
        rates = [r for r in (pick_rates(rounds) for rounds in runs) if r is not None]
        if not rates:
            continue
        mean = {label: float(np.mean([r[label] for r in rates])) for label in rates[0]}
        rows.append(_rate_row(name, len(rates), mean, groups))
    return rows


def _rate_row(name: str, seeds: Any, rates: Mapping[str, float], groups: Mapping[str, Sequence[str]] | None
              ) -> dict[str, Any]:
    row: dict[str, Any] = {"strategy": name, "seeds": seeds, **{k: round(v, 1) for k, v in rates.items()}}
    if groups and groups.get("rare"):
        row["rare_sum"] = round(sum(rates[l] for l in groups["rare"] if l in rates), 1)
    return row


def diagnostics_rows(rounds_by_strategy: Mapping[str, Sequence[Sequence[Mapping[str, Any]]]],
                     groups: Mapping[str, Sequence[str]] | None = None) -> list[dict[str, Any]]:
    """Per strategy whose runs carry diagnostics: proximity (all labels, rare labels) with its ceiling, and margin,
    first and last round.

    Each value is the mean over runs of the per-run value (:func:`proximity_ratio`,
    :func:`mean_margin`), three decimals; "–" where no run has it.
    """
    rare = list(groups["rare"]) if groups and groups.get("rare") else None
    rows = []
    for name, runs in rounds_by_strategy.items():
        runs = [rounds for rounds in runs if rounds and "diagnostics" in rounds[0] and "diagnostics" in rounds[-1]]
        if not runs:
            continue
        values = {}
        for when, at in (("first", 0), ("last", -1)):
            for prefix, labels in (("", None), ("rare_", rare)):
                for measure, key in (("proximity", "ratio"), ("ceiling", "ceiling")):
                    values[f"{prefix}{measure}_{when}"] = _mean(
                        [proximity_ratio(r[at], labels, key) for r in runs]) if labels or not prefix else None
        values.update(margin_first=_mean([mean_margin(r[0]) for r in runs]),
                      margin_last=_mean([mean_margin(r[-1]) for r in runs]))
        rows.append({"strategy": name, "seeds": len(runs),
                     **{k: "–" if v is None else round(v, 3) for k, v in values.items()}})
    return rows
