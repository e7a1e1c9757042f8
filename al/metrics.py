"""Multi-label evaluation."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp


def evaluate(Y_true: sp.csr_matrix | np.ndarray, Y_pred: np.ndarray, label_names: Sequence[str]) -> dict[str, Any]:
    """Macro/micro F1, precision, recall and per-label F1 (zero_division = 0).

    Parameters
    ----------
    Y_true, Y_pred : (sparse) 0/1 matrices of shape (n_samples, n_labels)
    """
    from sklearn.metrics import f1_score, precision_score, recall_score

    Y_true = Y_true.toarray() if sp.issparse(Y_true) else np.asarray(Y_true)
    kwargs = {"zero_division": 0}
    per_label = f1_score(Y_true, Y_pred, average=None, **kwargs)
    return {
        "macro_f1": float(f1_score(Y_true, Y_pred, average="macro", **kwargs)),
        "micro_f1": float(f1_score(Y_true, Y_pred, average="micro", **kwargs)),
        "macro_precision": float(precision_score(Y_true, Y_pred, average="macro", **kwargs)),
        "macro_recall": float(recall_score(Y_true, Y_pred, average="macro", **kwargs)),
        "per_label_f1": {name: round(float(f), 6) for name, f in zip(label_names, per_label)},
    }
