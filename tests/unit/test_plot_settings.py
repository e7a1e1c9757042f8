"""One figure, one setting: al.plot refuses lines the report would put in different sections."""
from __future__ import annotations

import json

import pytest

from al.analysis.comparison import settings_of, summarize
from al.analysis.curves import curves, load_runs
from al.errors import DataError
from al.plot import main
from tests.unit.test_plot import fake_run

LOGREG = {"name": "logreg", "params": {}}
KNN = {"name": "knn", "params": {}}
PRETRAINED = {"space": {"name": "pretrained", "params": {}}}
CEA = {"space": {"name": "cea", "params": {}}, "space_scope": "head", "space_every": 1}
#: what al.report's fixes say, at the end of the message
WHOLE = ("plot each setting's runs on their own (pass only their run directories), or give a folder holding them to "
         "al.report, which draws one figure per setting")


def sections(root):
    """al.report's sections of the runs under ``root``: its setting names."""
    table, _, _ = summarize(load_runs([root]))
    return sorted(table)


def test_the_walkthrough_class_embedding_and_cea_on_another_classifier_are_refused(tmp_path, capsys):
    """The first run logreg, the second knn: drawn together they read as CEA lowering class_embedding's curve."""
    runs = tmp_path / "sp"
    fake_run(runs, "class_embedding", 0, [0.47, 0.51], name="pretrained", classifier=LOGREG, **PRETRAINED)
    fake_run(runs, "class_embedding", 0, [0.33, 0.32], name="cea_knn", classifier=KNN, **CEA)
    assert len(sections(runs)) == 2  # the report: two settings
    out = tmp_path / "x.png"
    assert main([str(runs / "pretrained"), str(runs / "cea_knn"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and not out.exists()
    assert err == (f"error: the lines differ in classifier (knn: {runs / 'cea_knn'}, logreg: {runs / 'pretrained'}), "
                   f"not only in strategy and space: al.report puts such runs in different settings, and one figure "
                   f"would compare them as alike; {WHOLE}\n")
    with pytest.raises(DataError, match="the lines differ in classifier"):  # curves() refuses it as well
        curves(load_runs([runs]))
    fake_run(runs, "class_embedding", 0, [0.33, 0.32], name="cea_logreg", classifier=LOGREG, **CEA)
    assert main([str(runs / "pretrained"), str(runs / "cea_logreg"), "-o", str(out)]) == 0  # one setting: drawn
    assert "class_embedding@cea" in capsys.readouterr().out


def test_other_labels_and_data_are_refused_naming_a_run_of_each_value(tmp_path, capsys):
    """5+5 labels against --frequent 3 --rare 3: another corpus, another setting."""
    runs = tmp_path / "runs"
    fake_run(runs, "random", 0, [0.2, 0.3], name="a")
    fake_run(runs, "class_embedding", 0, [0.4, 0.5], name="b", n_frequent=3, n_rare=3)
    assert main([str(runs / "a"), str(runs / "b"), "-o", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert (f"the lines differ in n_frequent (3: {runs / 'b'}, 5: {runs / 'a'}); n_rare (3: {runs / 'b'}, 5: "
            f"{runs / 'a'}), not only in strategy and space") in err


# each: (name, strategy, config) of two seeds; whether the report splits them
CASES = {
    "strategies of one setting": ([("random", {}), ("cvirs", {})], False),
    "another space": ([("class_embedding", PRETRAINED), ("class_embedding", CEA)], False),
    "another strategy param": ([("dal", {"strategy": {"name": "dal", "params": {"sub_batches": 5}}}),
                                ("dal", {"strategy": {"name": "dal", "params": {"sub_batches": 2}}})], False),
    "another classifier": ([("random", {"classifier": LOGREG}), ("cvirs", {"classifier": KNN})], True),
    "another classifier param": ([("random", {"classifier": {"name": "logreg", "params": {"C": 0.5}}}),
                                  ("cvirs", {"classifier": {"name": "logreg", "params": {"C": 2.0}}})], True),
    "another budget": ([("random", {}), ("cvirs", {"rounds": 3})], True),  # budget 150, 200
    "another initial set": ([("random", {}), ("cvirs", {"initial_strategy": "kmeans"})], True),
    "other labels": ([("random", {}), ("cvirs", {"n_frequent": 3, "n_rare": 3})], True),
    "another data set": ([("random", {}), ("cvirs", {"dataset": "reuters"})], True),
    "another model": ([("random", {}), ("cvirs", {"model": "other-model"})], True),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_plot_refuses_exactly_where_the_report_splits(tmp_path, capsys, case):
    lines, split = CASES[case]
    runs = tmp_path / "runs"
    for i, (strategy, config) in enumerate(lines):
        config = dict(config)
        strategy, rounds = config.pop("strategy", strategy), config.pop("rounds", 2)
        for seed in (0, 1):
            fake_run(runs, strategy, seed, [0.2 + 0.1 * i + 0.05 * r for r in range(rounds)], name=f"line{i}-{seed}",
                     **config)
    assert (len(sections(runs)) > 1) == split
    assert main([str(runs), "-o", str(tmp_path / "x.png")]) == (2 if split else 0)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    named = [str(runs / f"line{i}-0") in err for i in (0, 1)]  # a run directory for each value
    assert (WHOLE in err) == split and named == [split, split]


def test_runs_the_report_tells_apart_by_name_alone_are_refused_too(tmp_path, capsys):
    """A classifier param given (C=1.0, its default) for one run and not for the other: the report names them
    two settings though no condition differs, and the plot refuses where the report splits, naming each."""
    runs = tmp_path / "runs"
    classifier = {"name": "logreg", "params": {"C": 1.0, "class_weight": "balanced", "max_iter": 1000,
                                               "threshold": "fixed"}}
    for name, strategy, given in (("a", "random", {}), ("b", "cvirs", {"C": 1.0})):
        fake_run(runs, strategy, 0, [0.2, 0.3], name=name, classifier=classifier)
        path = runs / name / "config.json"
        stored = json.loads(path.read_text())
        path.write_text(json.dumps({**stored, "given": {"classifier": {"name": "logreg", "params": given}}}))
    names = settings_of(load_runs([runs]))
    assert main([str(runs), "-o", str(tmp_path / "x.png")]) == (2 if len(set(names.values())) > 1 else 0)
    if len(set(names.values())) > 1:
        err = capsys.readouterr().err
        assert err.startswith("error: the runs are of 2 settings, as al.report tells them apart (") and WHOLE in err
        assert f"{names[runs / 'a']}: {runs / 'a'}; {names[runs / 'b']}: {runs / 'b'}" in err


# -- --group-by: lines told apart by a setting ---------------------------------------------------------------------


def test_group_by_a_setting_draws_runs_that_differ_in_it_alone(tmp_path, capsys):
    runs = tmp_path / "runs"
    for seed in (0, 1):
        fake_run(runs, "random", seed, [0.2, 0.3], name=f"b150-{seed}")
        fake_run(runs, "random", seed, [0.2, 0.3, 0.4], name=f"b200-{seed}")
    assert len(sections(runs)) == 2  # another budget: another setting of the report
    assert main([str(runs), "-o", str(tmp_path / "x.png"), "--group-by", "budget"]) == 0  # what the lines tell apart
    captured = capsys.readouterr()
    assert "(4 runs)" in captured.err
    assert captured.out.splitlines()[1].split() == ["labeled", "budget=150", "budget=200"]  # not a bare 150, 200


def test_group_by_refuses_lines_that_differ_in_another_setting(tmp_path, capsys):
    runs = tmp_path / "runs"
    for seed in (0, 1):
        fake_run(runs, "random", seed, [0.2, 0.3], name=f"b150-{seed}", classifier=LOGREG)
        fake_run(runs, "random", seed, [0.2, 0.3, 0.4], name=f"b200-{seed}", classifier=KNN)
    assert main([str(runs), "-o", str(tmp_path / "x.png"), "--group-by", "budget"]) == 2
    err = capsys.readouterr().err
    assert (f"error: the lines differ in classifier (knn: {runs / 'b200-0'}, logreg: {runs / 'b150-0'}), not only in "
            f"budget: al.report puts such runs in different settings") in err


def test_group_by_refuses_lines_that_differ_in_strategy_too(tmp_path, capsys):
    """One line of random, the other of cvirs: the figure would credit the budget with what the strategy does."""
    runs = tmp_path / "runs"
    for seed in (0, 1):
        fake_run(runs, "random", seed, [0.2, 0.3], name=f"b150-{seed}")
        fake_run(runs, "cvirs", seed, [0.2, 0.3, 0.4], name=f"b200-{seed}")
    assert main([str(runs), "-o", str(tmp_path / "x.png"), "--group-by", "budget"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert (f"error: the lines differ in strategy (cvirs: {runs / 'b200-0'}, random: {runs / 'b150-0'}), not only in "
            f"budget: one figure would credit budget with what the strategy does; plot each strategy's runs on "
            f"their own") in err


def test_group_by_space_draws_the_space_and_what_comes_with_it(tmp_path, capsys):
    """The pretrained space has no scope or period (None), a fitted one has: they differ with the space."""
    runs = tmp_path / "runs"
    for seed in (0, 1):
        fake_run(runs, "class_embedding", seed, [0.4, 0.5], name=f"pretrained-{seed}", **PRETRAINED)
        fake_run(runs, "class_embedding", seed, [0.3, 0.4], name=f"cea-{seed}", **CEA)
    assert main([str(runs), "-o", str(tmp_path / "x.png"), "--group-by", "space"]) == 0
    table = capsys.readouterr().out
    assert "cea" in table and "pretrained" in table
    # what comes with a space is named on its line: snnl read by the strategy alone, at round 0 of another start,
    # was a line named 'snnl' beside 'cea', the difference credited to the space
    for seed in (0, 1):
        fake_run(runs, "class_embedding", seed, [0.5, 0.6], name=f"snnl-{seed}", space={"name": "snnl", "params": {}},
                 space_scope="encoder", space_every=2, space_for="strategy")
    assert main([str(runs), "-o", str(tmp_path / "y.png"), "--group-by", "space"]) == 0
    header = capsys.readouterr().out.splitlines()[1].split()
    assert header == ["labeled", "cea", "pretrained", "snnl-encoder/every2", "(strategy", "only)"], header
