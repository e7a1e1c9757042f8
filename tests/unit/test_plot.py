"""Curves: aggregation by hand, and the figure itself."""
from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from al.analysis.curves import curves, load_runs, plot_curves, render_curves
from al.errors import DataError
from al.plot import main
from al.records import RunRecords


def fake_run(root, strategy, seed, values, name=None, **config):
    """A complete run: its budget is the last of the ``values``' sizes 100, 150, ..."""
    records = RunRecords(root / (name or f"{strategy}-{seed}"))
    records.start({"strategy": strategy, "seed": seed, "initial": 100, "step": 50,
                   "budget": 100 + 50 * (len(values) - 1), **config}, {})
    for i, v in enumerate(values):
        records.append({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": v, "micro_f1": None if v is None else v / 2,
                        "picked": [i], "per_label_f1": {"a": v},
                        **({"evaluation": "none (only 1 labeled text)"} if v is None else {})})  # as sessions say


def test_mean_and_std_over_seeds_by_hand(tmp_path):
    fake_run(tmp_path, "random", 0, [0.2, 0.4])
    fake_run(tmp_path, "random", 1, [0.4, 0.8])
    fake_run(tmp_path, "class_embedding", 0, [0.3, 0.1])
    by_name = {c.strategy: c for c in curves(load_runs([tmp_path]))}
    np.testing.assert_array_equal(by_name["random"].sizes, [100, 150])
    np.testing.assert_allclose(by_name["random"].mean, [0.3, 0.6])  # (0.2+0.4)/2, (0.4+0.8)/2
    # sample std (ddof = 1) of two values a, b is |a - b| / sqrt(2): 0.2 / sqrt(2), 0.4 / sqrt(2)
    np.testing.assert_allclose(by_name["random"].std, [0.2 / np.sqrt(2), 0.4 / np.sqrt(2)])
    assert np.isnan(by_name["class_embedding"].std).all()  # one seed: undefined
    np.testing.assert_array_equal(by_name["class_embedding"].n_runs, [1, 1])
    np.testing.assert_array_equal(by_name["random"].n_runs, [2, 2])


def test_a_round_that_queried_nothing_has_no_query_time_point(tmp_path):
    """The last round of a run that reached its budget picks nothing: its seconds_query 0 is no query's time."""
    fake_run(tmp_path, "random", 0, [0.2, 0.4, 0.5])
    path = next(tmp_path.glob("*/rounds.jsonl"))
    lines = path.read_text().splitlines()
    lines = [line.replace('"round"', f'"seconds_query":{s},"round"') for line, s in zip(lines, (1.5, 2.5, 0.0))]
    assert '"picked":[2]' in lines[2]
    path.write_text("\n".join(lines[:2] + [lines[2].replace('"picked":[2]', '"picked":[]')]) + "\n")
    [curve] = curves(load_runs([tmp_path]), metric="seconds_query")
    np.testing.assert_array_equal(curve.sizes, [100, 150])
    np.testing.assert_allclose(curve.mean, [1.5, 2.5])
    [curve] = curves(load_runs([tmp_path]), metric="macro_f1")  # every round has its score
    np.testing.assert_array_equal(curve.sizes, [100, 150, 200])


def test_what_a_strategy_records_of_its_queries_is_drawn_for_the_rounds_that_queried(tmp_path):
    """The last round asks nothing and records ``strategy_info: {}``: al.plot --metric strategy_info.NAME refused
    every run, 'round 2 has no ..., which other rounds record'."""
    fake_run(tmp_path, "random", 0, [0.2, 0.4, 0.5])
    path = next(tmp_path.glob("*/rounds.jsonl"))
    lines = path.read_text().splitlines()
    lines = [line.replace('"round"', f'"strategy_info":{info},"round"')
             for line, info in zip(lines, ('{"cardinality":1.5}', '{"cardinality":2.0}', "{}"))]
    path.write_text("\n".join(lines[:2] + [lines[2].replace('"picked":[2]', '"picked":[]')]) + "\n")
    [curve] = curves(load_runs([tmp_path]), metric="strategy_info.cardinality")
    np.testing.assert_array_equal(curve.sizes, [100, 150])
    np.testing.assert_allclose(curve.mean, [1.5, 2.0])


def test_plot_cli_writes_a_png(tmp_path, capsys):
    fake_run(tmp_path / "runs", "random", 0, [0.2, 0.4, 0.5])
    fake_run(tmp_path / "runs", "random", 1, [0.3, 0.5, 0.5])
    out = tmp_path / "curves.png"
    assert main([str(tmp_path / "runs"), "-o", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    table = capsys.readouterr().out
    # (0.2, 0.3) and (0.4, 0.5): means 0.25 and 0.45, sample std 0.1 / sqrt(2) = 0.0707
    assert "0.250 ± 0.071" in table and "0.450 ± 0.071" in table and "0.500 ± 0.000" in table


def test_plot_cli_bad_input(tmp_path, capsys):
    assert main([str(tmp_path / "missing")]) == 2
    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "empty")]) == 2
    assert "empty holds no run (config.json and rounds.jsonl); give a directory" in capsys.readouterr().err
    RunRecords(tmp_path / "started" / "r").start({"strategy": "random", "seed": 0}, {})  # no round finished yet
    assert main([str(tmp_path / "started")]) == 2
    assert "no run under" in capsys.readouterr().err
    fake_run(tmp_path / "runs", "random", 0, [0.2, 0.4])
    out = str(tmp_path / "c.png")
    assert main([str(tmp_path / "runs"), "--metric", "f1", "-o", out]) == 2
    # the metric's name is wrong, not one run's records: no run's path opens the line
    assert ("error: the run given records no metric 'f1'; metrics every round records: macro_f1, micro_f1; or a "
            "number inside a mapping, per_label_f1.NAME (e.g. per_label_f1.a)\n") in capsys.readouterr().err
    assert main([str(tmp_path / "runs"), "--metric", "macro_F1", "-o", out]) == 2
    assert "error: the run given records no metric 'macro_F1' (did you mean macro_f1?); " in capsys.readouterr().err
    fake_run(tmp_path / "timed", "random", 0, [0.2, 0.4], name=None)
    for path in (tmp_path / "timed").glob("*/rounds.jsonl"):  # as runs record them: the timings are plotted too
        path.write_text(path.read_text().replace('"round"', '"seconds_query":1.5,"round"'))
    assert main([str(tmp_path / "timed"), "--metric", "seconds_qeury", "-o", out]) == 2
    assert ("(did you mean seconds_query?); metrics every round records: macro_f1, micro_f1, seconds_query; "
            in capsys.readouterr().err)
    for path in (tmp_path / "timed").glob("*/rounds.jsonl"):  # a resume's first round: seconds_embed there alone
        first, second = path.read_text().splitlines()
        path.write_text(first + "\n" + second.replace('"round"', '"seconds_embed":3.0,"round"') + "\n")
    assert main([str(tmp_path / "timed"), "--metric", "seconds_embed", "-o", out]) == 2
    assert ("round 0 has no 'seconds_embed', which other rounds record (recorded on a process's first round alone); "
            "plot a metric every round records: macro_f1, micro_f1, seconds_query\n") in capsys.readouterr().err
    empty = tmp_path / "empty-rounds" / "r"
    RunRecords(empty).start({"strategy": "random", "seed": 0}, {})
    (empty / "rounds.jsonl").write_text("")
    assert main([str(empty), "-o", out]) == 2
    assert (f"no finished round in {empty}: its rounds.jsonl is empty; wait for a run still in its first round, "
            f"resume a stopped one with the command that started it") in capsys.readouterr().err
    assert main([str(tmp_path / "runs"), "--group-by", "strategi", "-o", out]) == 2
    err = capsys.readouterr().err
    assert ("--group-by 'strategi' is no setting of these runs (did you mean strategy?); known: budget, "
            "embed_precision, initial, seed, step, strategy") in err
    assert main([str(tmp_path / "runs"), "--group-by", "seed", "-o", out]) == 0
    capsys.readouterr()
    for setting, why in (("out", "it is each run's own folder, so every run would be a line of its own"),
                         ("threads", "it changes no result, only how long a run took")):
        assert main([str(tmp_path / "runs"), "--group-by", setting, "-o", out]) == 2
        assert capsys.readouterr().err == (f"error: --group-by {setting} draws no lines: {why}; group by a setting "
                                           f"the runs differ in, such as strategy (the default), classifier or space\n")
    (tmp_path / "figs").mkdir()
    for directory, message in ((str(tmp_path / "figs"), "figs is a directory; give a file path"),
                               (str(tmp_path / "new") + "/", "new ends in no extension; expected one of .png")):
        assert main([str(tmp_path / "runs"), "-o", directory]) == 2  # a folder meant: never a .png beside it
        assert message in capsys.readouterr().err
    assert not (tmp_path / "figs.png").exists() and not (tmp_path / "new.png").exists()
    assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "curves")]) == 0  # no extension: png
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_one_labels_f1_and_a_diagnostics_figure_are_plotted_by_their_dotted_path(tmp_path, capsys):
    """Only top-level numbers could be drawn: a rare label's curve, or a --diagnostics figure per round, could not."""
    for seed, values in ((0, [0.2, 0.4, 0.6]), (1, [0.4, 0.6, 0.8])):
        fake_run(tmp_path / "runs", "random", seed, values)
        path = tmp_path / "runs" / f"random-{seed}" / "rounds.jsonl"
        lines = path.read_text().splitlines()
        path.write_text("".join(line.replace('"round"', f'"diagnostics":{{"summary":{{"mean_ratio":{seed + i}}}}},'
                                             f'"round"') + "\n" for i, line in enumerate(lines)))
    out = str(tmp_path / "c.png")
    assert main([str(tmp_path / "runs"), "--metric", "per_label_f1.a", "-o", out]) == 0
    printed = capsys.readouterr().out
    assert "0.300 ± 0.141" in printed and "0.700 ± 0.141" in printed  # (0.2, 0.4) at 100, (0.6, 0.8) at 200
    assert main([str(tmp_path / "runs"), "--metric", "diagnostics.summary.mean_ratio", "-o", out]) == 0
    assert "2.500 ± 0.707" in capsys.readouterr().out  # (2, 3) at 200
    assert main([str(tmp_path / "runs"), "--metric", "per_label_f1.b", "-o", out]) == 2
    assert "error: the runs given record no 'per_label_f1.b': per_label_f1 holds a; give one of them\n" in \
        capsys.readouterr().err  # a label the runs lack: their labels named ("did you mean per_label_f1.a?" alone)
    fake_run(tmp_path / "runs", "random", 2, [0.2, 0.4, 0.6])  # a run made without --diagnostics: left out, said
    assert main([str(tmp_path / "runs"), "--metric", "diagnostics.summary.mean_ratio", "-o", out]) == 0
    printed = capsys.readouterr()
    assert "2.500 ± 0.707" in printed.out and "(2 runs)" in printed.err
    left_out = f"no diagnostics.summary.mean_ratio: {tmp_path / 'runs' / 'random-2'} (not recorded) — left out"
    assert left_out in printed.err
    assert main([str(tmp_path / "runs"), "--metric", "per_label_f1.A", "-o", out]) == 2
    assert "record no 'per_label_f1.A': per_label_f1 holds a (did you mean a?); give one of them\n" in \
        capsys.readouterr().err
    assert main([str(tmp_path / "runs"), "--metric", "diagnostics.summary.mean", "-o", out]) == 2
    assert "record no 'diagnostics.summary.mean': diagnostics.summary holds mean_ratio" in capsys.readouterr().err


def test_a_label_whose_name_holds_dots_is_matched_whole():
    from al.analysis.curves import Run, lookup, nested_metrics

    record = {"per_label_f1": {"U.S.": 0.5, "U": {"S": 0.1}, "a": None}, "macro_f1": 0.4}
    assert lookup(record, "per_label_f1.U.S.") == (True, 0.5)
    assert lookup(record, "per_label_f1.U.S") == (True, 0.1)  # the path through the mappings that hold it
    assert lookup(record, "per_label_f1.b") == (False, None) and lookup(record, "macro_f1") == (True, 0.4)
    assert nested_metrics(Run(Path("r"), {}, [record])) == {
        "per_label_f1": ["per_label_f1.U.S.", "per_label_f1.a"], "per_label_f1.U": ["per_label_f1.U.S"]}


# -- what shares a line, what is left out --------------------------------------------------------------------------


def test_unfinished_runs_are_named_and_left_out(tmp_path, capsys):
    fake_run(tmp_path / "runs", "random", 0, [0.2, 0.4, 0.6])
    fake_run(tmp_path / "runs", "random", 1, [0.4, 0.6, 0.8])
    fake_run(tmp_path / "runs", "random", 2, [0.9, 0.9, 0.9], name="random-2-killed")
    killed = tmp_path / "runs" / "random-2-killed" / "rounds.jsonl"
    killed.write_text(killed.read_text().splitlines()[0] + "\n")  # 1 of its 3 rounds
    assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "c.png")]) == 0
    captured = capsys.readouterr()
    assert "partial: " in captured.err and "random-2-killed (1 of 3 rounds, stopped) — left out (--partial draws " \
        "it)" in captured.err
    assert "0.300 ± 0.141" in captured.out  # (0.2, 0.4) at 100: the killed run's 0.9 is not averaged in
    assert "(2 runs)" in captured.err
    # --partial: drawn as far as it goes (0.2, 0.4, 0.9 at 100: mean 0.5, sample std 0.361), said so; a run whose
    # lock a process holds is being written, not stopped
    from al.records import run_lock

    with run_lock(tmp_path / "runs" / "random-2-killed"):
        assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "c.png"), "--partial"]) == 0
    captured = capsys.readouterr()
    assert "random-2-killed (1 of 3 rounds, being written) — drawn as far as it goes" in captured.err
    assert "0.500 ± 0.361" in captured.out and "0.500 ± 0.141" in captured.out  # 150: the complete runs alone
    assert "(3 runs)" in captured.err
    # a run killed in its first round (settings, no round): named as al.report names it
    RunRecords(tmp_path / "runs" / "random-3").start({"strategy": "random", "seed": 3, "initial": 100, "step": 50,
                                                       "budget": 200}, {})
    assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "c.png")]) == 0
    err = capsys.readouterr().err
    assert f"missing: {tmp_path / 'runs' / 'random-3'} (no finished round) — left out" in err, err
    # a run whose records cannot be read: named and left out, as al.report does
    damaged = tmp_path / "runs" / "random-1" / "rounds.jsonl"
    damaged.write_text(damaged.read_text()[:-20] + "\n")
    assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "c.png")]) == 0
    captured = capsys.readouterr()
    assert f"damaged: {tmp_path / 'runs' / 'random-1'} ({damaged} line 3 is not JSON" in captured.err, captured.err
    assert "0.200 ± " not in captured.out and "(1 run)" in captured.err


def test_an_image_format_that_needs_latex_is_offered_only_with_it(tmp_path, capsys, monkeypatch):
    import shutil

    fake_run(tmp_path / "runs", "random", 0, [0.2, 0.4])
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "c.pgf")]) == 2
    err = capsys.readouterr().err
    offered = err.split("expected one of ", 1)[1]
    assert err.startswith("error: ") and ".pdf" in offered and ".pgf" not in offered and len(err.splitlines()) == 1


def test_runs_of_other_settings_never_share_a_line(tmp_path, capsys):
    for seed in (0, 1):
        fake_run(tmp_path / "runs", "random", seed, [0.2, 0.3, 0.4], name=f"disaster-{seed}")
        fake_run(tmp_path / "runs", "random", seed, [0.6, 0.7, 0.8], name=f"reuters-{seed}", dataset="reuters")
    out = tmp_path / "c.png"
    assert main([str(tmp_path / "runs"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    runs = tmp_path / "runs"  # a run directory named for each value, to look at
    assert (f"runs on the line 'random' differ in dataset (disaster: {runs / 'disaster-0'}, reuters: "
            f"{runs / 'reuters-0'}); a line averages the seeds of one setting: split the lines with --group-by "
            f"dataset") in err
    assert not out.exists()
    assert main([str(tmp_path / "runs"), "-o", str(out), "--group-by", "dataset"]) == 0
    table = capsys.readouterr().out
    assert "disaster" in table and "reuters" in table and "0.200 ± 0.000" in table and "0.600 ± 0.000" in table
    for seed in (0, 1):  # two strategies: --group-by dataset would mix them, so it is not offered
        fake_run(tmp_path / "runs", "cvirs", seed, [0.2, 0.3, 0.4], name=f"disaster-cvirs-{seed}")
    assert main([str(tmp_path / "runs"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "plot each setting's runs on their own (pass only their run directories, such as " in err
    assert "runs/disaster-*" not in err  # an example of these runs, not of the default names
    assert err.endswith(", or give the folder to al.report, which draws one figure per setting\n")
    # a grid's runs (axis-value__...__seed-N): the pattern that takes one setting's runs, whatever the axes' order
    grid = tmp_path / "grid"
    for seed in (0, 1):
        for strategy in ("random", "cvirs"):
            fake_run(grid, strategy, seed, [0.2, 0.3, 0.4], name=f"strategy-{strategy}__data-dis__seed-{seed}")
            fake_run(grid, strategy, seed, [0.6, 0.7, 0.8], name=f"strategy-{strategy}__data-reu__seed-{seed}",
                     dataset="reuters")
    assert main([str(grid), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"(pass only their run directories, such as {grid / '*__data-dis__*'}), or give the folder" in err, err
    assert main([*map(str, sorted(grid.glob("*__data-dis__*"))), "-o", str(out)]) == 0  # the pattern works
    assert "(4 runs)" in capsys.readouterr().err


def test_a_setting_a_run_does_not_store_is_its_default(tmp_path):
    """A run of an older version stores no initial_strategy: it started at random, as the other did explicitly."""
    fake_run(tmp_path / "runs", "random", 0, [0.2, 0.4])
    fake_run(tmp_path / "runs", "random", 1, [0.4, 0.6], initial_strategy="random")
    (curve,) = curves(load_runs([tmp_path / "runs"]))
    np.testing.assert_array_equal(curve.n_runs, [2, 2])
    fake_run(tmp_path / "runs", "random", 2, [0.4, 0.6], initial_strategy="kmeans")
    with pytest.raises(DataError, match=r"differ in initial_strategy \(kmeans: \S+random-2, random: \S+random-0\)"):
        curves(load_runs([tmp_path / "runs"]))


def test_the_legend_counts_runs(tmp_path, monkeypatch):
    import matplotlib.axes

    fake_run(tmp_path, "random", 0, [0.2, 0.4])
    fake_run(tmp_path, "random", 1, [0.4, 0.8])
    fake_run(tmp_path, "cvirs", 0, [0.3, 0.1])
    labels = []
    plot = matplotlib.axes.Axes.plot
    monkeypatch.setattr(matplotlib.axes.Axes, "plot", lambda self, *a, **kw: labels.append(kw.get("label")) or
                        plot(self, *a, **kw))
    render_curves(curves(load_runs([tmp_path])))
    assert labels == ["random (2\xa0runs)", "cvirs (1\xa0run)"]  # the baseline first, as reports put it
    assert [c.strategy for c in curves(load_runs([tmp_path]), first="cvirs")] == ["cvirs", "random"]  # --baseline


def test_a_strategy_whose_name_starts_with_an_underscore_has_its_legend_entry(tmp_path, monkeypatch):
    """A script's own strategy runs as ``__main__:Inline``: matplotlib leaves out a label starting with ``_``."""
    import matplotlib.axes

    fake_run(tmp_path, "mine:Other", 0, [0.2, 0.4])  # two strategies of one's own: their settings read alike
    fake_run(tmp_path, "__main__:Inline", 0, [0.3, 0.5])
    legends = []
    legend = matplotlib.axes.Axes.legend
    monkeypatch.setattr(matplotlib.axes.Axes, "legend", lambda self, *a, **kw: legends.append(legend(self, *a, **kw))
                        or legends[-1])
    render_curves(curves(load_runs([tmp_path])))
    shown = [t.get_text() for t in legends[0].get_texts()]
    assert sorted(text.lstrip("\u200b") for text in shown) == ["__main__:Inline (1\xa0run)", "mine:Other (1\xa0run)"]


@pytest.mark.parametrize("metric, kind", [("per_label_f1", "dict"), ("picked", "list")])
def test_a_metric_that_is_no_number_is_refused_in_one_line(tmp_path, capsys, metric, kind):
    fake_run(tmp_path / "runs", "random", 0, [0.2, 0.4])
    assert main([str(tmp_path / "runs"), "--metric", metric, "-o", str(tmp_path / "c.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{metric} is no number (round 0 holds a {kind}); give a numeric metric: macro_f1, micro_f1" in err


@pytest.mark.parametrize("metric, what", [("n_labeled", "the x axis, labeled texts"), ("round", "the round's number")])
def test_the_x_axis_and_the_round_number_are_no_metric(tmp_path, capsys, metric, what):
    """Both are numbers every round records: they were drawn, each a line of its own x axis (100.000 ± 0.000)."""
    fake_run(tmp_path / "runs", "random", 0, [0.2, 0.4])
    assert main([str(tmp_path / "runs"), "--metric", metric, "-o", str(tmp_path / "c.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --metric {metric} is no metric ({what}); give one every round records: macro_f1, "
                          f"micro_f1") and err.count("\n") == 1, err
    assert not (tmp_path / "c.png").exists()


def test_a_diagnostics_metric_of_runs_made_without_the_flag_says_so(tmp_path, capsys):
    fake_run(tmp_path / "runs", "random", 0, [0.2, 0.4])
    assert main([str(tmp_path / "runs"), "--metric", "diagnostics.summary.mean_ratio"]) == 2
    assert capsys.readouterr().err.startswith("error: the run given records no metric 'diagnostics.summary.mean_ratio' "
                                              "(a run records it when made with --diagnostics); metrics every round")
    assert main([str(tmp_path / "runs"), "--metric", "macro_f2"]) == 2  # a name of no flag: no such words
    assert "(a run records it when made with" not in capsys.readouterr().err


def test_a_file_given_for_the_runs_is_named_a_file(tmp_path, capsys):
    (tmp_path / "grid.yaml").write_text("out: runs\n")
    assert main([str(tmp_path / "grid.yaml")]) == 2
    assert capsys.readouterr().err == (f"error: {tmp_path / 'grid.yaml'} is a file; give the directory holding the "
                                       f"runs (a grid's out, e.g. runs/quick), or a run's own (its --out)\n")


def test_rounds_without_a_value_have_no_point_and_a_run_without_any_is_named(tmp_path, capsys):
    """An annotation session writes macro_f1: null while at most one text is labeled."""
    fake_run(tmp_path / "runs", "random", 0, [None, 0.4, 0.6])
    fake_run(tmp_path / "runs", "random", 1, [None, 0.6, 0.8])
    fake_run(tmp_path / "runs", "random", 2, [None, None])
    assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "c.png")]) == 0
    captured = capsys.readouterr()
    assert "no macro_f1: " in captured.err and "random-2 (null in every round) — left out" in captured.err
    lines = captured.out.splitlines()
    assert [line.split()[0] for line in lines[2:]] == ["150", "200"] and "0.500 ± 0.141" in captured.out


def test_a_null_score_with_no_reason_is_a_warning_not_a_silent_gap(tmp_path, capsys):
    fake_run(tmp_path / "runs", "random", 0, [0.2, 0.4, 0.6])
    path = tmp_path / "runs" / "random-0" / "rounds.jsonl"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none
        assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "c.png")]) == 0
    path.write_text(path.read_text().replace('"macro_f1":0.4,', '"macro_f1":null,'))
    with pytest.warns(UserWarning, match=re.escape(f"{path.parent}: round 1 records macro_f1 null and no reason for "
                                                   f"it (an edited or damaged record?); that round has no point")):
        assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "c.png")]) == 0


def test_the_table_header_says_one_run_a_column_where_there_is_no_spread(tmp_path):
    """--group-by seed: each column one run, and the header said 'mean ± sample std over seeds'."""
    from al.analysis.curves import format_curves

    fake_run(tmp_path, "random", 0, [0.2, 0.4])
    fake_run(tmp_path, "random", 1, [0.4, 0.8])
    runs = load_runs([tmp_path])
    assert format_curves(curves(runs)).splitlines()[0] == \
        "macro_f1: mean ± sample std over seeds (ddof = 1; one seed: the mean alone)"
    assert format_curves(curves(runs, group_by="seed")).splitlines()[0] == "macro_f1: one run each, no spread"


def test_a_kappa_null_in_the_first_round_is_no_damaged_record(tmp_path):
    """Kappa compares a round's predictions with the round before: the first round has none to compare with, and
    --metric stopping.kappa had warned of an edited or damaged record in every run."""
    from al.analysis.curves import points

    fake_run(tmp_path / "runs", "random", 0, [0.2, 0.4, 0.6])
    path = tmp_path / "runs" / "random-0" / "rounds.jsonl"
    rounds = [json.loads(line) for line in path.read_text().splitlines()]
    for r, kappa in zip(rounds, [None, 0.5, 0.7]):
        r["stopping"] = {"kappa": kappa, "max_uncertainty": 0.4}
    path.write_text("".join(json.dumps(r) + "\n" for r in rounds))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none
        (run,) = load_runs([tmp_path / "runs"])
        assert points(run, "stopping.kappa") == ([150, 200], [0.5, 0.7])
    rounds[1]["stopping"]["kappa"] = None  # a later round's: still said
    path.write_text("".join(json.dumps(r) + "\n" for r in rounds))
    (run,) = load_runs([tmp_path / "runs"])
    with pytest.warns(UserWarning, match="round 1 records stopping.kappa null and no reason for it"):
        points(run, "stopping.kappa")
    # a --diagnostics ratio is null where undefined (a label with no centroid yet): no damaged record either
    for r, ratio in zip(rounds, [None, 1.5, 2.0]):
        r["diagnostics"] = {"proximity": {"aid_centers": {"ratio": ratio}}}
    path.write_text("".join(json.dumps(r) + "\n" for r in rounds))
    (run,) = load_runs([tmp_path / "runs"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert points(run, "diagnostics.proximity.aid_centers.ratio") == ([150, 200], [1.5, 2.0])


def test_runs_reached_through_links_are_read_once(tmp_path, capsys):
    fake_run(tmp_path / "runs", "random", 0, [0.2, 0.4])
    fake_run(tmp_path / "store", "random", 1, [0.4, 0.6])
    fake_run(tmp_path / "store", "random", 2, [0.6, 0.8])
    (tmp_path / "runs" / "linked").symlink_to(tmp_path / "store")      # a folder of runs
    (tmp_path / "runs" / "random-1").symlink_to(tmp_path / "store" / "random-1")  # the same run once more
    (tmp_path / "store" / "loop").symlink_to(tmp_path / "runs")          # a cycle
    runs = load_runs([tmp_path / "runs"])
    assert sorted(run.seed for run in runs) == [0, 1, 2]
    assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "c.png")]) == 0
    assert "(3 runs)" in capsys.readouterr().err


@pytest.mark.parametrize("failing", ["drawing", "renaming"])
def test_a_figure_is_replaced_whole_or_not_at_all(tmp_path, monkeypatch, failing):
    import os

    import matplotlib.figure

    fake_run(tmp_path / "runs", "random", 0, [0.2, 0.4])
    out = tmp_path / "c.png"
    out.write_bytes(b"the figure before")

    def broken_savefig(self, target, **kwargs):  # the disk fills after the first bytes
        (open(target, "wb") if isinstance(target, (str, Path)) else target).write(b"\x89PNG half")
        raise OSError("No space left on device")

    def broken_replace(*args):
        raise OSError("killed before the rename")

    if failing == "drawing":
        monkeypatch.setattr(matplotlib.figure.Figure, "savefig", broken_savefig)
    else:
        monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        plot_curves(curves(load_runs([tmp_path / "runs"])), out)
    assert out.read_bytes() == b"the figure before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.png", "runs"]  # no temporary file left


def test_a_data_digest_some_runs_did_not_record_is_unknown_not_another_setting(tmp_path):
    """Runs written before data_digest was recorded share a line with newer runs on the same file; two recorded
    digests that differ never do."""
    import json
    import shutil

    for seed, digest in ((0, "abc123456789ff"), (1, None), (2, "abc123456789ff")):
        fake_run(tmp_path / "runs", "random", seed, [0.2, 0.4], dataset="jsonl", data_path="d.jsonl")
        path = tmp_path / "runs" / f"random-{seed}" / "config.json"
        stored = json.loads(path.read_text())
        path.write_text(json.dumps({**stored, "data_digest": digest} if digest else stored))
    (line,) = curves(load_runs([tmp_path / "runs"]))
    np.testing.assert_array_equal(line.n_runs, [3, 3])
    fake_run(tmp_path / "runs", "random", 3, [0.2, 0.4], dataset="jsonl", data_path="d.jsonl")
    path = tmp_path / "runs" / "random-3" / "config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "data_digest": "def000000000ff"}))
    with pytest.raises(DataError, match=r"differ in data \(d\.jsonl@None: \S+random-1, d\.jsonl@abc123456789: "
                                        r"\S+random-0, d\.jsonl@def000000000: \S+random-3\)"):  # one name, other bytes
        curves(load_runs([tmp_path / "runs"]))
    shutil.rmtree(tmp_path / "runs" / "random-3")
    fake_run(tmp_path / "runs", "random", 3, [0.2, 0.4], dataset="jsonl", data_path="other.jsonl")
    path.write_text(json.dumps({**json.loads(path.read_text()), "data_digest": "def000000000ff"}))
    with pytest.raises(DataError, match=r"differ in data \(d\.jsonl@None: \S+random-1, d\.jsonl@abc123456789: "
                                        r"\S+random-0, other\.jsonl: \S+random-3\)"):  # named by its file, not digest
        curves(load_runs([tmp_path / "runs"]))


def test_a_labeling_session_stopped_before_its_budget_is_plotted(tmp_path, capsys):
    """A session ends where its person stops (often on the stopping advice): it is no unfinished run."""
    import json

    fake_run(tmp_path / "runs", "random", 0, [0.2, 0.4, 0.6, 0.8])
    session = tmp_path / "runs" / "random-0"
    lines = (session / "rounds.jsonl").read_text().splitlines()
    (session / "rounds.jsonl").write_text("\n".join(lines[:2]) + "\n")  # stopped after 2 of 4 rounds
    stored = json.loads((session / "config.json").read_text())
    (session / "config.json").write_text(json.dumps({**stored, "session": {"settings_digest": "x"}}))
    assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "c.png")]) == 0
    captured = capsys.readouterr()
    assert "partial" not in captured.err and "(1 run)" in captured.err and "0.400" in captured.out


# -- one run per seed -----------------------------------------------------------------------------------------------


def readme_runs(root, random=True):
    """As the README once led to: the curves loop's runs, and the first command's run (its default --out) beside
    them, the same simulation as class_embedding-0."""
    for seed in range(3):
        if random:
            fake_run(root / "curves", "random", seed, [0.2, 0.3])
        fake_run(root / "curves", "class_embedding", seed, [0.2, 0.4 + 0.1 * seed])
    fake_run(root, "class_embedding", 0, [0.2, 0.4], name="disaster-class_embedding-logreg-seed0")


@pytest.mark.parametrize("group_by, label", [("strategy", "class_embedding"), ("budget", "budget=150")])
def test_the_same_simulation_under_two_names_is_refused_naming_both_and_the_fix(tmp_path, capsys, group_by, label):
    runs = tmp_path / "runs"
    readme_runs(runs, random=group_by == "strategy")  # --group-by budget: one strategy, one line
    out = tmp_path / "c.png"
    assert main([str(runs), "-o", str(out), "--group-by", group_by]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert (f"error: {runs / 'curves' / 'class_embedding-0'} and {runs / 'disaster-class_embedding-logreg-seed0'} "
            f"are the same simulation ({label}, seed 0); expected one run per seed: plot one of them: give its run "
            f"directory, or a folder that holds one of them only") in err
    assert not out.exists()
    with pytest.raises(DataError, match="are the same simulation"):  # curves() refuses it as well
        curves(load_runs([runs]), group_by=group_by)
    assert main([str(runs / "curves"), "-o", str(out), "--group-by", group_by]) == 0  # the README's folder now
    assert f"({3 if group_by != 'strategy' else 6} runs)" in capsys.readouterr().err
    (line,) = curves(load_runs([runs / "curves" / "class_embedding-1", runs / "curves" / "class_embedding-2",
                                runs / "disaster-class_embedding-logreg-seed0"]))  # one of them, by directory
    np.testing.assert_array_equal(line.n_runs, [3, 3])


def test_plot_and_report_refuse_the_same_simulation_alike(tmp_path, capsys):
    from al.report import main as report

    readme_runs(tmp_path / "runs")
    assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "c.png")]) == 2
    plot_err = capsys.readouterr().err
    assert report([str(tmp_path / "runs"), "-o", str(tmp_path / "report")]) == 2
    report_err = capsys.readouterr().err
    same = plot_err.split("expected one run per seed: ")[0]
    assert same.endswith("are the same simulation (class_embedding, seed 0); ") and report_err.startswith(same)


def test_runs_of_two_strategies_on_one_line_are_named_by_strategy_not_by_each_param(tmp_path):
    """--group-by seed puts dal and random on one line: they differ in strategy (dal's params come with it)."""
    for seed in (0, 1):
        fake_run(tmp_path / "runs", "random", seed, [0.2, 0.4])
        fake_run(tmp_path / "runs", {"name": "dal", "params": {"sub_batches": 5}}, seed, [0.3, 0.5], name=f"dal-{seed}")
    with pytest.raises(DataError) as caught:
        curves(load_runs([tmp_path / "runs"]), group_by="seed")
    runs = tmp_path / "runs"
    assert (f"runs on the line 'seed=0' differ in strategy (dal: {runs / 'dal-0'}, random: {runs / 'random-0'}); a line "
            f"averages") in str(caught.value)


def test_the_default_title_names_what_the_lines_share(tmp_path):
    """The default title named the metric alone; a figure taken out of its folder did not say what data it shows."""
    from al.plot import default_title

    fake_run(tmp_path / "a", "random", 0, [0.2, 0.4], dataset="disaster", classifier="logreg",
             model="all-MiniLM-L6-v2", labels=["food", "water"])
    fake_run(tmp_path / "a", "cvirs", 0, [0.2, 0.4], dataset="disaster", classifier="logreg",
             model="all-MiniLM-L6-v2", labels=["food", "water"])
    runs = load_runs([tmp_path / "a"])
    assert default_title(runs, "macro_f1") == \
        "macro-F1 by labeled-set size\ndisaster (labels=food,water), logreg on all-MiniLM-L6-v2"  # as al.report
    fake_run(tmp_path / "b", "random", 0, [0.2, 0.4], dataset="disaster", classifier="knn", model="all-MiniLM-L6-v2",
             labels=["food", "water"])
    both = load_runs([tmp_path / "a", tmp_path / "b"])  # --group-by classifier: the classifier is no shared part
    assert default_title(both, "per_label_f1.food") == "F1 of food by labeled-set size\ndisaster (labels=food,water)"
    # a dotted path as typed: its keys and label names are not renamed (mean-ratio, missing-people)
    assert default_title(both, "diagnostics.proximity.missing_people.ratio").startswith(
        "diagnostics.proximity.missing_people.ratio by labeled-set size")
    assert default_title(both, "micro_f1").startswith("micro-F1 by")
    fake_run(tmp_path / "c", "random", 0, [0.2, 0.4], dataset="disaster", model="all-MiniLM-L6-v2",
             classifier={"name": "bert", "params": {"model": "bert-base-uncased"}})
    assert default_title(load_runs([tmp_path / "c"]), "macro_f1").endswith("\ndisaster (5+5), bert on bert-base-uncased")
    fake_run(tmp_path / "d", "random", 0, [0.2, 0.4], dataset="disaster", classifier="logreg",
             model="all-MiniLM-L6-v2", labels=["food", "water"], pool_size=2000)  # a subsample: not the whole pool
    assert default_title(load_runs([tmp_path / "d"]), "macro_f1") == ("macro-F1 by labeled-set size\ndisaster "
                                                                     "(labels=food,water), a pool of 2,000 texts "
                                                                     "(pool_size), logreg on all-MiniLM-L6-v2")


def test_a_score_s_band_stays_within_0_and_1_and_a_time_s_above_0(monkeypatch):
    """per_label_f1.hospitals: 0.02 ± 0.07 drew a band down to -0.05."""
    import matplotlib.axes

    from al.analysis.curves import Curve

    drawn = []
    monkeypatch.setattr(matplotlib.axes.Axes, "fill_between",
                        lambda self, x, low, high, **kw: drawn.append((np.asarray(low), np.asarray(high))))
    curve = Curve("random", np.array([100, 150]), np.array([0.02, 0.97]), np.array([0.07, 0.05]), np.array([3, 3]))
    for metric, low, high in (("per_label_f1.hospitals", [0.0, 0.92], [0.09, 1.0]),
                              ("macro_recall", [0.0, 0.92], [0.09, 1.0]),
                              ("seconds_query", [0.0, 0.92], [0.09, 1.02])):
        drawn.clear()
        render_curves([curve], metric)
        np.testing.assert_allclose(drawn[0][0], low)
        np.testing.assert_allclose(drawn[0][1], high)
    legends = []  # and the legend says the band is cut (it said "± sample std" alone)
    real = matplotlib.axes.Axes.legend
    monkeypatch.setattr(matplotlib.axes.Axes, "legend",
                        lambda self, *a, **kw: legends.append(kw.get("title")) or real(self, *a, **kw))
    for metric in ("per_label_f1.hospitals", "seconds_query", "stopping.kappa"):
        render_curves([curve], metric)
    assert legends == ["line: mean\nband: ± sample std (ddof = 1)\n(cut at 0 and 1)",
                       "line: mean\nband: ± sample std (ddof = 1)\n(cut at 0 s)",
                       "line: mean\nband: ± sample std (ddof = 1)"]


def test_a_long_title_is_wrapped_between_words_keeping_its_own_lines(monkeypatch):
    """A report's setting title was cut off at both edges; fill() then joined al.plot's two lines and broke
    all-MiniLM-L6-v2 at a hyphen."""
    import matplotlib.axes

    from al.analysis.curves import Curve, wrapped
    from al.analysis.strategy_report import compute_figure

    title = "macro-F1 by labeled-set size\ndisaster, 10 labels: logreg on all-MiniLM-L6-v2 [budget=200, step=50, seed=0]"
    assert wrapped(title) == ("macro-F1 by labeled-set size\ndisaster, 10 labels: logreg on all-MiniLM-L6-v2 "
                              "[budget=200, step=50,\nseed=0]")  # at most 70 characters a line
    titles = []
    real = matplotlib.axes.Axes.set_title
    monkeypatch.setattr(matplotlib.axes.Axes, "set_title", lambda self, text, *a, **kw: titles.append(text) or
                        real(self, text, *a, **kw))
    curve = Curve("random", np.array([100, 150]), np.array([0.2, 0.3]), np.array([0.1, 0.1]), np.array([2, 2]))
    render_curves([curve], "macro_f1", title=title)
    compute_figure([{"strategy": "random", "train": 1.0}], ["train"], "disaster, 10 labels: logreg on "
                   "all-MiniLM-L6-v2 [budget=200, step=50, initial=100]")
    assert titles == [wrapped(title), "compute per round: disaster, 10 labels: logreg on all-MiniLM-L6-v2\n"
                                      "[budget=200, step=50, initial=100]"]


def test_a_curve_drawn_over_another_of_the_same_values_says_so_in_the_legend(monkeypatch):
    """Two strategies that picked the same texts: the second line hid the first whole, and nothing said so."""
    import matplotlib.axes

    from al.analysis.curves import Curve

    labels = []
    real = matplotlib.axes.Axes.plot
    monkeypatch.setattr(matplotlib.axes.Axes, "plot",
                        lambda self, *a, **kw: labels.append(kw.get("label")) or real(self, *a, **kw))
    sizes, n = np.array([100, 150]), np.array([3, 3])
    first = Curve("MaxEntropy", sizes, np.array([0.2, 0.3]), np.array([0.1, 0.1]), n)
    same = Curve("MaxEntropy(eps=0.1)", sizes, np.array([0.2, 0.3]), np.array([0.05, 0.1]), n)
    other = Curve("random", sizes, np.array([0.2, 0.31]), np.array([0.1, 0.1]), n)
    render_curves([first, same, other])
    assert labels == ["MaxEntropy (3\xa0runs)",  # a no-break space: "3 runs" is never cut in two lines
                      "MaxEntropy(eps=0.1) (3\xa0runs; the same\ncurve as MaxEntropy, drawn over it)",
                      "random (3\xa0runs)"]


def test_a_long_legend_entry_takes_lines_and_never_narrows_the_axes(monkeypatch):
    """A report's legend of long setting names (class_embedding@cea(positive=exact) (strategy only) (10 runs)) sat
    beside axes that tight_layout had shrunk to 40 % of the figure's width."""
    import matplotlib.figure

    from al.analysis.curves import Curve

    seen = []
    real = matplotlib.figure.Figure.savefig

    def recording(self, *args, **kwargs):
        ax = self.axes[0]
        seen.append((self.get_size_inches().tolist(), ax.get_position().bounds,
                     [t.get_text() for t in ax.get_legend().get_texts()]))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", recording)
    sizes, n = np.array([100, 150]), np.array([2, 2])
    short = Curve("random", sizes, np.array([0.2, 0.3]), np.array([0.1, 0.1]), n)
    long = Curve("class_embedding@cea(positive=exact) (strategy only)", sizes, np.array([0.2, 0.4]),
                 np.array([0.1, 0.1]), n)
    narrow, wide = render_curves([short]), render_curves([short, long])
    (size_1, axes_1, _), (size_2, axes_2, texts) = seen
    assert size_1 == size_2 and axes_1 == axes_2  # the axes keep their place and size
    assert texts[1] == "class_embedding@cea(positive=exact)\n(strategy only) (2\xa0runs)"
    assert all(len(line) <= 40 for text in texts for line in text.splitlines())
    # the saved image grows to hold the legend (bbox_inches="tight"): wider, as tall
    import io

    from PIL import Image

    (w1, h1), (w2, h2) = (Image.open(io.BytesIO(image)).size for image in (narrow, wide))
    assert w2 > w1 and h2 == h1


def test_no_run_with_a_value_of_the_metric_says_why_each_was_left_out(tmp_path, capsys):
    """The refusal said "(null in every round)" of runs that record no such metric at all."""
    fake_run(tmp_path / "runs", "random", 0, [0.2, 0.4])
    fake_run(tmp_path / "runs", "random", 1, [0.3, 0.5])
    path = tmp_path / "runs" / "random-0" / "rounds.jsonl"
    rounds = [json.loads(line) for line in path.read_text().splitlines()]
    for r in rounds:  # seed 0 records the metric, null in every round; seed 1 records none
        r["stopping"] = {"max_uncertainty": None}
    path.write_text("".join(json.dumps(r) + "\n" for r in rounds))
    assert main([str(tmp_path / "runs"), "--metric", "stopping.max_uncertainty", "-o", str(tmp_path / "c.png")]) == 2
    assert ("error: no complete run has a value of stopping.max_uncertainty (1 record none, 1 null in every round); "
            "give another --metric") in capsys.readouterr().err
