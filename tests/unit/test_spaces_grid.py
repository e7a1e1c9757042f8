"""simulations/spaces.yaml: the task-specific-space study expands to its 180 cells, each able to run."""
from __future__ import annotations

from collections import Counter

import pytest
import yaml

from al.analysis.curves import Run
from al.grid import expand_grid
from tests.conftest import REPO, REUTERS_TARBALL

SPACES = ("cea", "snnl", "aan", "am", "clld")
REUTERS_LABELS = ["money-fx", "grain", "crude", "trade", "interest", "wheat", "corn", "dlr", "veg-oil", "oilseed"]


@pytest.fixture(scope="module")
def expanded():
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO)  # data paths in grid files are relative to the repository root
        return expand_grid(yaml.safe_load((REPO / "simulations" / "spaces.yaml").read_text()), "spaces.yaml")


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
