"""simulations/spaces.yaml: the task-specific-space study expands to its 180 cells, each able to run."""
from __future__ import annotations

from collections import Counter

import pytest
from al.config import parse_yaml

from al.analysis.curves import Run
from al.grid import expand_grid
from tests.conftest import REPO, REUTERS_TARBALL

SPACES = ("cea", "snnl", "aan", "am", "clld")
REUTERS_LABELS = ["money-fx", "grain", "crude", "trade", "interest", "wheat", "corn", "dlr", "veg-oil", "oilseed"]


@pytest.fixture(scope="module")
def expanded():
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO)  # data paths in grid files are relative to the repository root
        return expand_grid(parse_yaml((REPO / "simulations" / "spaces.yaml").read_text()), "spaces.yaml")


def test_spaces_grid_expands_to_every_arm_seed_and_data_set(expanded):
    root, runs = expanded
    assert root == REPO / "runs" / "spaces"
    assert len(runs) == 2 * 9 * 10 == 180
    problems = {r.name: r.problem for r in runs if r.problem}
    if REUTERS_TARBALL.is_file():
        assert problems == {}
    else:  # a checkout without ../shared: only the Reuters cells miss their data
        assert set(problems) == {r.name for r in runs if r.config.dataset == "reuters"}
    cells = Counter((r.config.dataset, r.config.strategy.name, r.config.space.name) for r in runs)
    arms = {("random", "pretrained"), ("margin", "pretrained"), ("cvirs", "pretrained"),
            ("class_embedding", "pretrained"), *(("class_embedding", s) for s in SPACES)}
    assert cells == {(d, *arm): 10 for d in ("disaster", "reuters") for arm in arms}
    for r in runs:
        c = r.config
        assert (c.classifier.name, c.initial, c.step, c.budget, c.space_scope, c.space_every, c.space_for) == \
            ("logreg", 100, 50, 600, "head", 1, "strategy")  # the classifier keeps the pretrained vectors
        assert c.seed in range(10)
        if c.dataset == "reuters":
            assert list(c.labels) == REUTERS_LABELS and c.data_path == str(REUTERS_TARBALL.resolve())
        else:
            assert c.labels is None and (c.n_frequent, c.n_rare) == (5, 5)


def test_spaces_grid_rows_are_told_apart_by_their_space(expanded):
    _, runs = expanded
    given = lambda c: {"strategy": c.strategy.to_dict(), "classifier": c.classifier.to_dict(),  # noqa: E731
                       "space": c.space.to_dict()}  # what al.simulate records
    labels = {Run(r.name, r.config.resolved(), [], {"given": given(r.config)}).strategy for r in runs}
    assert labels == {"random", "margin", "cvirs", "class_embedding", *(f"class_embedding@{s} (strategy only)" for s in SPACES)}


def expand(name):
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO)
        return expand_grid(parse_yaml((REPO / "simulations" / name).read_text()), name)[1]


def test_classifier_grid_runs_the_pretrained_and_cea_spaces_under_two_more_classifiers():
    runs = expand("spaces-classifiers.yaml")
    assert len(runs) == 2 * 2 * 3 * 10 == 120
    cells = Counter((r.config.dataset, r.config.classifier.label(), r.config.strategy.name, r.config.space.name)
                    for r in runs)
    classifiers = ("logreg(class_weight=None)", "knn")
    arms = (("random", "pretrained"), ("class_embedding", "pretrained"), ("class_embedding", "cea"))
    assert cells == {(d, c, *a): 10 for d in ("disaster", "reuters") for c in classifiers for a in arms}
    assert all(r.config.space_for == "strategy" and (r.config.initial, r.config.budget) == (100, 600) for r in runs)
    if REUTERS_TARBALL.is_file():
        assert not [r.problem for r in runs if r.problem]


def test_encoder_grid_compares_the_scopes_of_one_space_on_reuters():
    runs = expand("spaces-encoder.yaml")
    assert len(runs) == 5 * 3
    scopes = Counter((r.config.strategy.name, r.config.space.name,
                      None if r.config.space.name == "pretrained" else (r.config.space_scope, r.config.space_every))
                     for r in runs)
    assert scopes == {("random", "pretrained", None): 3, ("class_embedding", "pretrained", None): 3,
                      ("class_embedding", "cea", ("head", 1)): 3, ("class_embedding", "cea", ("head", 2)): 3,
                      ("class_embedding", "cea", ("encoder", 2)): 3}
    assert all(r.config.dataset == "reuters" and r.config.budget == 400 and r.config.space_for == "strategy"
               for r in runs)


def test_a_strategy_axis_crossed_with_a_space_axis_is_told_how_to_pair_them():
    """random x cea under space_for: strategy is refused, as it must be; the refusal did not say how a grid gives
    each strategy only the spaces it reads (one axis of mappings)."""
    spec = {"out": "runs/x", "settings": {"space_for": "strategy", "budget": 200},
            "grid": {"strategy": ["random", "class_embedding"], "space": ["pretrained", "cea"]}}
    problems = {run.name: run.problems for run in expand_grid(spec)[1]}
    (refusal,) = problems["strategy-random__space-cea"]
    assert refusal.startswith("space_for: strategy, but strategy 'random' reads no embeddings view; ")
    assert refusal.endswith("(axes strategy and space cross every strategy with every space: pair them in one axis "
                            "of mappings, e.g. arm: [{name: random, strategy: random}, {name: ce-cea, strategy: "
                            "class_embedding, space: cea}], as simulations/spaces.yaml does)")
    assert not any(problems[name] for name in problems if name != "strategy-random__space-cea")
    paired = {"out": "runs/x", "settings": {"space_for": "strategy", "budget": 200},  # one axis: the user's pairing
              "grid": {"arm": [{"name": "r", "strategy": "random", "space": "cea"}]}}
    (run,) = expand_grid(paired)[1]
    assert run.problems and "pair them" not in run.problems[0]
    texts = {**spec, "settings": {"space_for": "classifier", "budget": 200, "classifier": "bert"}}
    problems = {run.name: run.problems for run in expand_grid(texts)[1]}  # the classifier reads no space: pairing
    (refusal,) = problems["strategy-class_embedding__space-cea"]
    assert refusal.startswith("space_for: classifier, but the classifier reads texts") and "pair them" not in refusal
