"""Multi-label evaluation: macro and micro F1, precision, recall, per-label F1."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` elementwise, 0 where the denominator is 0 (zero_division = 0)."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


def _indicators(Y_true: Any, Y_pred: Any, n_labels: int) -> tuple[np.ndarray, np.ndarray]:
    truth = (Y_true.toarray() if sp.issparse(Y_true) else np.asarray(Y_true)).astype(bool)
    pred = (Y_pred.toarray() if sp.issparse(Y_pred) else np.asarray(Y_pred)).astype(bool)
    if truth.ndim != 2 or truth.shape != pred.shape or truth.shape[1] != n_labels:
        raise ValueError(
            f"scoring needs Y_true and Y_pred of one shape (n_samples, {n_labels}), "
            f"got {truth.shape} and {pred.shape}"
        )
    return truth, pred


def _counts(truth: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-label true positives, false positives and false negatives, each (n_labels,)."""
    return (truth & pred).sum(axis=0), (~truth & pred).sum(axis=0), (truth & ~pred).sum(axis=0)


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """F1 = 2 TP / (2 TP + FP + FN) of each label, 0 where the denominator is 0."""
    return _ratio(2 * tp, 2 * tp + fp + fn)


def _mean(values: np.ndarray) -> float:
    """The unweighted mean over labels; 0.0 with no label."""
    return float(values.mean()) if len(values) else 0.0


def macro_f1(Y_true: sp.csr_matrix | np.ndarray, Y_pred: np.ndarray) -> float:
    """:func:`evaluate`'s ``macro_f1`` alone: the mean over labels (columns) of each label's F1, zero_division 0.

    For model selection (a fine-tuned classifier's best epoch), so that it
    scores what a run reports, one label included.
    """
    truth, pred = _indicators(Y_true, Y_pred, np.shape(Y_true)[1])
    return _mean(_f1(*_counts(truth, pred)))


def evaluate(Y_true: sp.csr_matrix | np.ndarray, Y_pred: np.ndarray, label_names: Sequence[str]) -> dict[str, Any]:
    """Macro/micro F1, macro precision and recall, and per-label F1.

    Every label is scored on its own column as a binary problem (positive =
    1), with ``zero_division = 0``: a precision, recall or F1 whose
    denominator is 0 counts as 0, so a label with no positive and no
    predicted text scores F1 = 0 and still counts in the macro mean. Macro
    values are unweighted means over labels (not weighted by support);
    micro F1 pools true positives, false positives and false negatives over
    all labels. This matches scikit-learn's ``average="macro"`` /
    ``"micro"`` with ``zero_division=0`` on multi-label indicator matrices,
    and stays right with a single label, where scikit-learn would read an
    (n, 1) matrix as a binary target and average over both classes.

    Parameters
    ----------
    Y_true : csr_matrix or ndarray of shape (n_samples, n_labels), 0/1
    Y_pred : ndarray of shape (n_samples, n_labels), 0/1
    label_names : sequence of str, length n_labels

    Returns
    -------
    dict with ``macro_f1``, ``micro_f1``, ``macro_precision``, ``macro_recall``
    (floats) and ``per_label_f1`` ({label name: F1 rounded to 6 decimals}).
    """
    truth, pred = _indicators(Y_true, Y_pred, len(label_names))
    tp, fp, fn = _counts(truth, pred)
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = _f1(tp, fp, fn)
    return {
        "macro_f1": _mean(f1),
        "micro_f1": float(_f1(tp.sum(), fp.sum(), fn.sum())),
        "macro_precision": _mean(precision),
        "macro_recall": _mean(recall),
        "per_label_f1": {name: round(float(f), 6) for name, f in zip(label_names, f1)},
    }


def constant_prediction(Y_pred: Any, label_names: Sequence[str], noun: str = "texts") -> str | None:
    """What a prediction gives every text alike, where every row of ``Y_pred`` is the same, else None.

    ``"all 10 labels for every one of the 2,000 texts"``, ``"no label for any of
    the 2,000 texts"`` or ``"the same 2 labels (food, water) for every one of the
    2,000 texts"`` (``"the same label (food) ..."``). Such a prediction's scores are a constant guess's: on every
    label, recall is 1 or 0 and F1 follows from the label's frequency alone.
    None for fewer than two texts, where any prediction is constant.

    Parameters
    ----------
    Y_pred : ndarray or csr_matrix of shape (n_samples, n_labels), 0/1
    label_names : sequence of str, length n_labels
    noun : str
        What the rows are, ``"test texts"``.
    """
    pred = (Y_pred.toarray() if sp.issparse(Y_pred) else np.asarray(Y_pred)).astype(bool)
    if pred.ndim != 2 or len(pred) < 2 or not (pred == pred[0]).all():
        return None
    n_texts = f"{len(pred):,} {noun}"
    given = [name for name, on in zip(label_names, pred[0]) if on]
    if not given:
        return f"no label for any of the {n_texts}"
    if len(given) == pred.shape[1]:
        return f"{'the one label' if len(given) == 1 else f'all {len(given)} labels'} for every one of the {n_texts}"
    shown = ", ".join(given[:5]) + (f" and {len(given) - 5:,} more" if len(given) > 5 else "")
    same = "the same label" if len(given) == 1 else f"the same {len(given):,} labels"
    return f"{same} ({shown}) for every one of the {n_texts}"
