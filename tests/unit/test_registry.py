"""Strategy registry: names, module:Class paths, entry points; the conformance suite."""
from __future__ import annotations

import sys
import textwrap

import pytest

from al.errors import ConfigError
from al.registry import available, get_strategy
from al.strategy import Strategy
from al.testing import ConformanceError, check_strategy
from strategies.class_embedding import ClassEmbedding
from strategies.random_sampling import RandomSampling


def test_builtins_are_registered():
    assert {"random", "class_embedding"} <= set(available())
    assert get_strategy("random") is RandomSampling
    assert get_strategy("class_embedding") is ClassEmbedding


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown strategy 'cvris'; known: .*class_embedding.*random"):
        get_strategy("cvris")


@pytest.fixture
def user_package(tmp_path, monkeypatch):
    """A user's package on sys.path with a strategy, and a distribution exposing it as an entry point."""
    (tmp_path / "mystrategies.py").write_text(textwrap.dedent("""
        from al.strategy import Strategy

        class FirstUnlabeled(Strategy):
            def query(self, state, n):
                return state.indices_unlabeled[:n]

        class NotAStrategy:
            pass
    """))
    dist = tmp_path / "mystrategies-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mystrategies\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[al.strategies]\nfirst = mystrategies:FirstUnlabeled\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("mystrategies", None)


def test_module_class_path(user_package):
    cls = get_strategy("mystrategies:FirstUnlabeled")
    assert issubclass(cls, Strategy) and cls.__name__ == "FirstUnlabeled"
    check_strategy(cls)


def test_entry_point(user_package):
    assert "first" in available()
    assert get_strategy("first").__name__ == "FirstUnlabeled"


@pytest.mark.parametrize(
    "spec, message",
    [
        ("mystrategies:Missing", "has no attribute 'Missing'"),
        ("mystrategies:NotAStrategy", "not a subclass of al.strategy.Strategy"),
        ("no_such_module:X", "cannot import module 'no_such_module'"),
        ("mystrategies:", "must look like package.module:ClassName"),
    ],
)
def test_bad_paths(user_package, spec, message):
    with pytest.raises(ConfigError, match=message):
        get_strategy(spec)


@pytest.mark.parametrize("name", ["random", "class_embedding"])
def test_builtins_pass_conformance(name):
    check_strategy(get_strategy(name))


class Duplicates(Strategy):
    def query(self, state, n):
        return [state.indices_unlabeled[0]] * n


class Unseeded(Strategy):
    def query(self, state, n):
        import numpy as np

        return np.random.default_rng().choice(state.indices_unlabeled, n, replace=False)


class Undeclared(Strategy):
    def query(self, state, n):
        return state.indices_unlabeled[state.proba[state.indices_unlabeled, 0].argsort()[:n]]


class Mutates(Strategy):
    def query(self, state, n):
        state.indices_labeled[0] = state.indices_unlabeled[0]
        return state.indices_unlabeled[1 : n + 1]


@pytest.mark.parametrize(
    "cls, message",
    [
        (Duplicates, "duplicate"),
        (Unseeded, "not reproducible"),
        (Undeclared, "does not declare"),
        (Mutates, "changed the state"),
    ],
)
def test_conformance_catches_broken_strategies(cls, message):
    with pytest.raises(ConformanceError, match=message):
        check_strategy(cls)


def test_random_is_uniform_and_seeded():
    from al.testing import make_state

    state, _ = make_state(n_pool=1000, n_labeled=10)
    picks = RandomSampling().query(state, 500)
    assert len(set(picks.tolist())) == 500 and set(picks) <= set(state.indices_unlabeled)
    # a uniform draw of half the pool hits each half of it about equally
    assert 200 < (picks < 505).sum() < 300
