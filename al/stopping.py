"""When to stop asking for labels: three criteria, read from a run's (or a session's) round records.

Each criterion is a pure function from per-round numbers to the first round
at which it says "stop" (None: it never did). The numbers come from
:class:`StoppingSignals`, a round observer that adds a ``stopping`` field to
every record, so the same functions serve a simulation's records (where would
each criterion have stopped, and what macro-F1 did that give up:
:func:`stop_rounds`) and a live annotation session (shown as advice).

``stabilizing_predictions``
    Bloodgood & Vijay-Shanker (2009): the classifiers of successive rounds
    predict a fixed *stop set* of texts (no labels needed); Cohen's kappa
    measures the agreement of each round's predictions with the previous
    round's. Stop at the first round where the mean kappa of the last
    ``window`` = 3 rounds is at least ``threshold`` = 0.99.
``max_uncertainty``
    Stop at the first round where the most uncertain decision left on the
    unlabeled pool is below ``threshold``: per text and label,
    ``u = 1 - |2p - 1|`` (1 at p = 0.5, 0 at p = 0 or 1); the pool's value is
    the largest ``u`` over unlabeled texts and labels.
``labeled_budget``
    Stop at the first round with at least ``max_labeled`` labeled texts.

References
----------
Bloodgood, Vijay-Shanker, "A Method for Stopping Active Learning Based on
Stabilizing Predictions and the Need for User-Adjustable Stopping", CoNLL 2009
(arXiv:1409.5165).
Zhu, Wang, Hovy, "Multi-Criteria-Based Strategy to Stop Active Learning for
Data Annotation", COLING 2008 (the max-uncertainty criterion).
"""
from __future__ import annotations

import base64
import time
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from al.classifiers.base import Classifier, passes_described
from al.errors import ConfigError, spelled

if TYPE_CHECKING:
    from al.engine import RoundView
    from al.records import RunRecords

#: The defaults of each criterion; :func:`stop_rounds` takes any of them as a keyword.
KAPPA_THRESHOLD = 0.99
KAPPA_WINDOW = 3
UNCERTAINTY_THRESHOLD = 0.1
STOP_SET_SIZE = 2000
CRITERIA = ("stabilizing_predictions", "max_uncertainty", "labeled_budget")


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two 0/1 decision vectors: ``(p_o - p_e) / (1 - p_e)``.

    ``p_o`` is the share of positions where they agree, ``p_e = p_a p_b +
    (1 - p_a)(1 - p_b)`` the agreement expected by chance from each vector's
    share of ones. When ``p_e = 1`` (both constant and equal) the vectors
    agree completely and kappa is 1.

    Parameters
    ----------
    a, b : ndarray of shape (n,), 0/1 (any shape: flattened)

    Returns
    -------
    float in [-1, 1]
    """
    a = np.asarray(a, dtype=bool).ravel()
    b = np.asarray(b, dtype=bool).ravel()
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"cohen_kappa needs two non-empty vectors of one length, got {a.size} and {b.size}")
    p_o = float(np.mean(a == b))
    p_a, p_b = float(a.mean()), float(b.mean())
    p_e = p_a * p_b + (1 - p_a) * (1 - p_b)
    if p_e >= 1.0:
        return 1.0
    return (p_o - p_e) / (1 - p_e)


def prediction_agreement(previous: np.ndarray, current: np.ndarray) -> float:
    """Kappa between two rounds' multi-label predictions on the stop set.

    Each (text, label) decision counts as one item of one kappa (Bloodgood &
    Vijay-Shanker's kappa is binary). Pooled so, the frequent labels weigh
    most: the window can pass 0.99 while a rare label's few positive
    predictions still change. A per-label kappa would be as fragile the
    other way: a rare label predicted once in one round and never in the
    other reads 0, though all but one of its decisions agree.

    Parameters
    ----------
    previous, current : ndarray of shape (n_stop, n_labels), 0/1
    """
    previous, current = np.asarray(previous), np.asarray(current)
    if previous.shape != current.shape:
        raise ValueError(f"predictions of shape {previous.shape} and {current.shape}; expected one shape")
    return cohen_kappa(previous, current)


def uncertainty(proba: np.ndarray) -> np.ndarray:
    """Per text, the most uncertain label decision: ``max_j 1 - |2 p_j - 1|``.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_labels)

    Returns
    -------
    ndarray of shape (n_samples,), in [0, 1]
    """
    proba = np.asarray(proba, dtype=np.float64)
    if proba.size == 0:
        return np.zeros(len(proba))
    return (1.0 - np.abs(2.0 * proba - 1.0)).max(axis=1)


# ---------------------------------------------------------------- the criteria, round by round


def stabilizing_predictions(
    kappas: Sequence[float | None], threshold: float = KAPPA_THRESHOLD, window: int = KAPPA_WINDOW
) -> int | None:
    """First round whose last ``window`` kappas (this round's included) average at least ``threshold``.

    Parameters
    ----------
    kappas : sequence of float or None, one per round
        Agreement of round r's stop-set predictions with round r - 1's
        (None where there was no previous round: round 0, or a round whose
        predecessor left no predictions). A window holding a None does not count.
    threshold : float
    window : int, positive

    Returns
    -------
    int or None : the round's position in ``kappas``
    """
    if window <= 0:
        raise ConfigError(f"window must be a positive number of rounds, got {window}")
    for r in range(window - 1, len(kappas)):
        last = kappas[r - window + 1 : r + 1]
        # "at least": a mean of three 0.99s is 0.98999999999999999 in floating point
        if all(k is not None for k in last) and float(np.mean(last)) >= threshold - 1e-12:
            return r
    return None


def max_uncertainty(values: Sequence[float | None], threshold: float = UNCERTAINTY_THRESHOLD) -> int | None:
    """First round whose largest uncertainty on the unlabeled pool is below ``threshold``."""
    for r, value in enumerate(values):
        if value is not None and value < threshold:
            return r
    return None


def labeled_budget(n_labeled: Sequence[int], max_labeled: int | None) -> int | None:
    """First round with at least ``max_labeled`` labeled texts (None when ``max_labeled`` is None)."""
    if max_labeled is None:
        return None
    for r, n in enumerate(n_labeled):
        if n >= max_labeled:
            return r
    return None


def has_signals(rounds: Sequence[Mapping[str, Any]]) -> bool:
    """Whether every round records its ``stopping`` signals: the criteria read windows of rounds, so a run
    resumed across ``--no-stopping`` (some rounds without them) is not read."""
    return bool(rounds) and all("stopping" in record for record in rounds)


def stop_rounds(
    rounds: Sequence[Mapping[str, Any]],
    *,
    kappa_threshold: float = KAPPA_THRESHOLD,
    window: int = KAPPA_WINDOW,
    uncertainty_threshold: float = UNCERTAINTY_THRESHOLD,
    max_labeled: int | None = None,
) -> dict[str, dict[str, Any]]:
    """Where each criterion would have stopped a run, and the macro-F1 that gave up.

    Parameters
    ----------
    rounds : the run's round records, in order; the stabilizing and
        uncertainty criteria read each record's ``stopping`` field (written by
        :class:`StoppingSignals`); records without it count as "no signal".
    kappa_threshold, window, uncertainty_threshold, max_labeled :
        The criteria's settings (see the module docstring).

    Returns
    -------
    ``{criterion: {"stop_round", "n_labeled", "macro_f1", "final_macro_f1",
    "macro_f1_given_up", "labels_saved"}}`` for each of :data:`CRITERIA`.
    ``macro_f1_given_up`` is the final round's macro-F1 minus the stop
    round's (negative when the run ended worse than where it would have
    stopped); ``labels_saved`` the labeled texts the stop would have spared.
    A criterion that never fired has ``stop_round`` None and gives up nothing.
    """
    if not rounds:
        return {name: _outcome(None, rounds) for name in CRITERIA}
    signals = [r.get("stopping") or {} for r in rounds]
    found = {
        "stabilizing_predictions": stabilizing_predictions([s.get("kappa") for s in signals], kappa_threshold, window),
        "max_uncertainty": max_uncertainty([s.get("max_uncertainty") for s in signals], uncertainty_threshold),
        "labeled_budget": labeled_budget([int(r["n_labeled"]) for r in rounds], max_labeled),
    }
    return {name: _outcome(stop, rounds) for name, stop in found.items()}


def stop_table(found: Mapping[str, Mapping[str, Any]]) -> str:
    """:func:`stop_rounds`'s result as a plain-text table, one line per criterion.

    Rounds are counted from 1, as a run's progress lines count them (``round 5/11``);
    ``stop_round`` counts records from 0.

    Examples
    --------
    >>> print(stop_table(stop_rounds(rounds, max_labeled=300)))  # doctest: +SKIP
    criterion                stop round  labeled  macro-F1  given up  labels saved
    stabilizing_predictions           5      300    0.5800   -0.0100            50
    max_uncertainty                   -        -         -         -             -
    labeled_budget                    5      300    0.5800   -0.0100            50
    """
    lines = [f"{'criterion':<24} {'stop round':>10} {'labeled':>8} {'macro-F1':>9} {'given up':>9} "
             f"{'labels saved':>13}"]
    for name, outcome in found.items():
        if outcome["stop_round"] is None:
            lines.append(f"{name:<24} {'-':>10} {'-':>8} {'-':>9} {'-':>9} {'-':>13}")
            continue
        f1 = "-" if outcome["macro_f1"] is None else f"{outcome['macro_f1']:.4f}"
        given_up = "-" if outcome["macro_f1_given_up"] is None else f"{outcome['macro_f1_given_up']:+.4f}"
        lines.append(f"{name:<24} {outcome['stop_round'] + 1:>10} {outcome['n_labeled']:>8} {f1:>9} {given_up:>9} "
                     f"{outcome['labels_saved']:>13}")
    return "\n".join(lines)


def _f1_of(record: Mapping[str, Any] | None) -> float | None:
    """A round's macro-F1, None where it has none (a session's round before any label was given is null)."""
    value = None if record is None else record.get("macro_f1")
    return None if value is None else float(value)


def _outcome(stop: int | None, rounds: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    final = rounds[-1] if rounds else None
    final_f1 = _f1_of(final)
    if stop is None:
        return {"stop_round": None, "n_labeled": None, "macro_f1": None, "final_macro_f1": final_f1,
                "macro_f1_given_up": 0.0, "labels_saved": 0}
    at = rounds[stop]
    f1 = _f1_of(at)
    return {
        "stop_round": int(at.get("round", stop)),
        "n_labeled": int(at["n_labeled"]),
        "macro_f1": f1,
        "final_macro_f1": final_f1,
        "macro_f1_given_up": round(final_f1 - f1, 6) if final_f1 is not None and f1 is not None else None,
        "labels_saved": int(final["n_labeled"]) - int(at["n_labeled"]),
    }


def advice(rounds: Sequence[Mapping[str, Any]], budget: int, **settings: Any) -> list[dict[str, Any]]:
    """What each criterion says after the rounds so far, for a person deciding whether to go on.

    Returns
    -------
    One ``{"criterion", "stop", "detail"}`` per criterion: ``stop`` True once
    it has fired, ``detail`` a short sentence with the numbers behind it.
    """
    kappa_threshold = settings.get("kappa_threshold", KAPPA_THRESHOLD)
    window = settings.get("window", KAPPA_WINDOW)
    threshold = settings.get("uncertainty_threshold", UNCERTAINTY_THRESHOLD)
    max_labeled = settings.get("max_labeled") or budget
    found = stop_rounds(rounds, kappa_threshold=kappa_threshold, window=window, uncertainty_threshold=threshold,
                        max_labeled=max_labeled)
    signals = [r.get("stopping") or {} for r in rounds]
    kappas = [s.get("kappa") for s in signals if s.get("kappa") is not None][-window:]
    last_u = next((s["max_uncertainty"] for s in reversed(signals) if s.get("max_uncertainty") is not None), None)
    n_labeled = int(rounds[-1]["n_labeled"]) if rounds else 0
    kappa_text = (f"kappa of the last rounds {', '.join(f'{k:.3f}' for k in kappas)} "
                  f"(stop when {window} average at least {kappa_threshold})" if kappas
                  else f"needs {window} rounds after the first to compare predictions")
    u_text = (f"largest uncertainty left {last_u:.3f} (stop below {threshold})" if last_u is not None
              else "the classifier states no uncertainty (every probability 0 or 1, as a one-neighbour vote): "
                   "this criterion cannot fire" if any(s.get("stop_set_size") for s in signals)
              else "no round trained yet")
    return [
        {"criterion": "stabilizing_predictions", "stop": found["stabilizing_predictions"]["stop_round"] is not None,
         "detail": kappa_text},
        {"criterion": "max_uncertainty", "stop": found["max_uncertainty"]["stop_round"] is not None, "detail": u_text},
        {"criterion": "labeled_budget", "stop": found["labeled_budget"]["stop_round"] is not None,
         "detail": f"{n_labeled} of {max_labeled} labeled when round {len(rounds)} ended"},
    ]


# ---------------------------------------------------------------- the observer that records the signals


def pack_predictions(Y: np.ndarray) -> str:
    """0/1 matrix -> base64 of its packed bits (row-major); :func:`unpack_predictions` reverses it."""
    return base64.b64encode(np.packbits(np.asarray(Y, dtype=bool).ravel()).tobytes()).decode("ascii")


def unpack_predictions(text: str, shape: tuple[int, int]) -> np.ndarray:
    bits = np.unpackbits(np.frombuffer(base64.b64decode(text), dtype=np.uint8))
    return bits[: shape[0] * shape[1]].reshape(shape).astype(np.int8)


def stop_set(n_pool: int, size: int, seed: int) -> np.ndarray:
    """The fixed stop set: ``min(size, n_pool)`` pool positions, sorted; a function of (n_pool, size, seed)."""
    size = min(size, n_pool)
    return np.sort(np.random.default_rng([seed, n_pool, 7]).choice(n_pool, size, replace=False))


class StoppingSignals:
    """A round observer that records what the stopping criteria read: a ``stopping`` field per round.

    ``stopping`` holds ``kappa`` (agreement of this round's stop-set
    predictions with the previous round's; None in the first round),
    ``max_uncertainty`` (largest :func:`uncertainty` over the unlabeled
    pool; None where every probability is 0 or 1, as a one-neighbour vote's:
    such a classifier states no uncertainty, so the criterion cannot read
    one), ``stop_set_size`` and ``predictions`` (this round's stop-set
    predictions, packed, so that a resumed run compares with the round
    before it); the time it took goes beside it, as the record's ``seconds_stopping``.

    Parameters
    ----------
    stop_set_size : int
        Texts of the pool in the stop set (all of them if the pool is smaller).
        The stop set is drawn once from the whole pool and never changes.
    seed : int
    records : RunRecords, optional
        The run's records: a resumed run reads the previous round's
        predictions from its last finished round.
    uncertainty_on : {"pool", "stop_set"}
        Where the largest uncertainty is sought: every unlabeled text (one
        pass of the classifier over the pool), or the unlabeled texts of the
        stop set (cheaper with a fine-tuned classifier).
    """

    requires_embeddings = False

    def __init__(self, stop_set_size: int = STOP_SET_SIZE, seed: int = 0, records: "RunRecords | None" = None,
                 uncertainty_on: str = "pool") -> None:
        if uncertainty_on not in ("pool", "stop_set"):
            raise ConfigError(f"uncertainty_on must be 'pool' or 'stop_set', got {spelled(uncertainty_on)}")
        self.stop_set_size = stop_set_size
        self.seed = seed
        self.records = records
        self.uncertainty_on = uncertainty_on
        self._previous: tuple[int, np.ndarray] | None = None

    def __call__(self, view: "RoundView") -> dict[str, Any]:
        t = time.perf_counter()
        stop = stop_set(len(view.features.pool_texts), self.stop_set_size, self.seed)
        classifier = view.classifier
        one_pass = self.uncertainty_on == "stop_set" and type(classifier).predict is Classifier.predict
        with passes_described(classifier, f"the stop set's {len(stop):,} texts (stopping criteria)"):
            if one_pass:  # predictions and uncertainty from one pass of the classifier over the stop set
                stop_proba = classifier.predict_proba(view.features.pool_rows(stop))
                predictions = (stop_proba >= classifier.thresholds_).astype(np.int8)
            else:
                predictions = np.asarray(classifier.predict(view.features.pool_rows(stop)), dtype=np.int8)
        previous = self._previous_predictions(view.round, predictions.shape)
        kappa = prediction_agreement(previous, predictions) if previous is not None else None
        if self.uncertainty_on == "pool":
            candidates = view.indices_unlabeled
        else:
            candidates = np.intersect1d(stop, view.indices_unlabeled)
        if not len(candidates):
            top = None
        else:
            if one_pass:
                proba = stop_proba[np.isin(stop, candidates)]
            else:
                with passes_described(classifier, f"the {len(candidates):,} unlabeled pool texts (stopping criteria)"):
                    proba = classifier.predict_proba(view.features.pool_rows(candidates))
            # every probability 0 or 1 (a one-neighbour vote): no uncertainty to read, not certainty
            top = None if np.all((proba == 0) | (proba == 1)) else float(uncertainty(proba).max())
        self._previous = (view.round, predictions)
        return {"stopping": {
            "kappa": None if kappa is None else round(kappa, 6),
            "max_uncertainty": None if top is None else round(top, 6),
            "stop_set_size": int(len(stop)),
            "predictions": pack_predictions(predictions),
        }, "seconds_stopping": round(time.perf_counter() - t, 4)}

    def _previous_predictions(self, round_: int, shape: tuple[int, int]) -> np.ndarray | None:
        if self._previous is not None and self._previous[0] == round_ - 1:
            return self._previous[1]
        if self.records is not None and self.records.rounds and round_ > 0:
            last = self.records.rounds[-1]
            packed = (last.get("stopping") or {}).get("predictions")
            if last.get("round") == round_ - 1 and packed:
                return unpack_predictions(packed, shape)
        return None

