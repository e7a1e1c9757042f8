"""Classifiers the engine can train each round.

=======  ================================================================
name     what
=======  ================================================================
logreg   one-vs-rest logistic regression on cached sentence embeddings
bert     a transformers encoder + one linear layer, fine-tuned (the paper)
knn      k nearest labeled texts vote, exact FAISS index, k chosen on dev (CEA)
=======  ================================================================
"""
from __future__ import annotations

import importlib
from typing import Any

from al.classifiers.base import Classifier, tune_thresholds
from al.errors import ConfigError, did_you_mean

__all__ = ["CLASSIFIERS", "Classifier", "make_classifier", "tune_thresholds"]

CLASSIFIERS: dict[str, str] = {
    "logreg": "al.classifiers.linear:LogisticRegressionClassifier",
    "bert": "al.classifiers.bert:BertClassifier",
    "knn": "al.classifiers.knn:KNNClassifier",
}


def classifier_class(name: str) -> type[Classifier]:
    if name not in CLASSIFIERS:
        raise ConfigError(f"unknown classifier {name!r}{did_you_mean([name], CLASSIFIERS)}; known: "
                          f"{', '.join(sorted(CLASSIFIERS))}")
    module, _, attr = CLASSIFIERS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def make_classifier(name: str, **params: Any) -> Classifier:
    """A new, unfitted classifier ``name`` with keyword ``params``; a true/false parameter given anything else
    (``warm_start="no"``), or an integer or number one given another kind, is refused in one line
    (:func:`al.config.check_param_types`), as from a settings file."""
    from al.config import construct

    return construct(classifier_class(name), params, f"classifier {name!r}")  # values: checked at fit, or by a run
