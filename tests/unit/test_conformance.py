"""Every registered strategy passes the interface's conformance checks (``al.testing.check_strategy``).

Parametrised over :func:`al.registry.available`, so a strategy added to the
``al.strategies`` entry points is checked without editing this file. Each is
built by its class with default parameters, except where a model would be
loaded (:data:`FACTORIES`), and on the logistic-regression pools of
:func:`al.testing.make_state` except where a strategy needs another kind of
classifier (:data:`CLASSIFIERS`; with logreg those refuse with a ConfigError,
checked too). Families (``prefix:*``) have no finite list of
members; a couple of concrete ones are checked explicitly.
"""
from __future__ import annotations

from typing import Callable

import pytest

from al.errors import ConfigError
from al.registry import available, get_strategy
from al.strategy import Strategy
from al.testing import DropoutLogreg, check_strategy
from tests.conftest import hash_embed


def fake_surprisal(texts):
    """Stands in for ALPS's masked language model: a hashed bag of words (no model)."""
    return hash_embed(texts, dim=16)


#: Strategies that would load a model with default parameters, and how to build them without one.
FACTORIES: dict[str, Callable[[], Strategy]] = {
    "alps": lambda: get_strategy("alps")(surprisal=fake_surprisal),
}

#: Strategies that need a particular classifier: the one their checks run with.
CLASSIFIERS: dict[str, Callable[[], object]] = {
    "bald": DropoutLogreg,  # needs predict_proba_dropout, as bert offers
}

NAMES = [name for name in available() if not name.endswith(":*")]
FAMILY_MEMBERS = {  # spec -> the library it wraps
    "smalltext:BreakingTies": "small_text",
    "modal:margin_sampling": "modAL",
}


def test_every_builtin_is_checked():
    assert {"random", "class_embedding", "cvirs", "alps", "dal", "least_confidence", "margin",
            "max_entropy", "badge", "bald", "coreset", "mmc", "adaptive", "binmin"} <= set(NAMES)
    assert {"smalltext:*", "modal:*"} <= set(available())


@pytest.mark.parametrize("name", NAMES)
def test_registered_strategy_conforms(name):
    check_strategy(FACTORIES.get(name, get_strategy(name)), classifier=CLASSIFIERS.get(name))
    assert get_strategy(name).name == name


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_a_strategy_needing_another_classifier_refuses_logreg_with_a_config_error(name):
    from al.classifiers.linear import LogisticRegressionClassifier

    with pytest.raises(ConfigError, match="needs a classifier"):
        check_strategy(get_strategy(name), classifier=LogisticRegressionClassifier)
    check_strategy(get_strategy(name))  # given none, the checks fit the one it needs (al.testing.DropoutLogreg)


@pytest.mark.filterwarnings("ignore:Default distance metric has changed:UserWarning")
@pytest.mark.parametrize("spec", sorted(FAMILY_MEMBERS))
def test_family_member_conforms(spec):
    pytest.importorskip(FAMILY_MEMBERS[spec])
    check_strategy(get_strategy(spec))
    assert get_strategy(spec).name == spec
