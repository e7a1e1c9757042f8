"""Report: areas and paired tests by hand; rendering with missing and partial runs."""
from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from al.analysis.comparison import expected_rounds, normalized_area, paired_test
from al.analysis.strategy_report import report_figures
from al.errors import ConfigError
from al.records import RunRecords, n_rounds
from al.report import main
from strategies.random_sampling import RandomSampling

CONFIG = {"dataset": "disaster", "classifier": "logreg", "model": "all-MiniLM-L6-v2", "labels": None,
          "n_frequent": 1, "n_rare": 1, "initial": 100, "step": 50, "budget": 200}
GROUPS = {"corpus": {"label_groups": {"frequent": ["a"], "rare": ["b"]}}}


def test_normalized_area_by_hand():
    # trapezoids: 50 * (0.2 + 0.4) / 2 + 50 * (0.4 + 0.6) / 2 = 15 + 25 = 40; range 100 -> 0.4
    assert normalized_area([100, 150, 200], [0.2, 0.4, 0.6]) == pytest.approx(0.4)
    assert normalized_area([100, 200, 600], [0.5, 0.5, 0.5]) == pytest.approx(0.5)


def test_wilcoxon_by_hand():
    # differences +0.1, +0.2, +0.3: all positive, ranks 1, 2, 3 -> W- = 0 = statistic;
    # exact two-sided p = 2 * P(W- = 0) = 2 * 1/2^3 = 0.25 (the smallest p with 3 seeds)
    t = paired_test([0.6, 0.7, 0.8], [0.5, 0.5, 0.5])
    assert (t.n, t.wins, t.statistic) == (3, 3, 0.0)
    assert t.p_value == pytest.approx(0.25)
    assert t.mean_difference == pytest.approx(0.2)
    # differences -0.1, +0.2, +0.3, +0.4, +0.5: W- = rank of 0.1 = 1; exact p = 2 * P(W <= 1) = 2 * 2/32
    t = paired_test([0.4, 0.7, 0.8, 0.9, 1.0], [0.5] * 5)
    assert t.statistic == 1.0 and t.p_value == pytest.approx(0.125)
    # no non-zero difference: no test
    assert paired_test([0.5, 0.5], [0.5, 0.5]).p_value is None


def fake_run(root, strategy, seed, macro, rounds=None, name=None):
    records = RunRecords(root / (name or f"{strategy}-{seed}"))
    records.start({**CONFIG, "strategy": strategy, "seed": seed}, GROUPS)
    for i, value in enumerate(macro[: rounds or len(macro)]):
        records.append({
            "round": i, "n_labeled": 100 + 50 * i, "macro_f1": value, "micro_f1": value + 0.1,
            "per_label_f1": {"a": value + 0.2, "b": value - 0.2}, "seconds_train": 1.0, "seconds_query": 0.5 * i,
            "seconds_evaluate": 0.1,
        })


def test_report_with_missing_and_partial_runs(tmp_path, capsys):
    runs = tmp_path / "runs"
    for seed, shift in enumerate([0.0, 0.1, 0.2]):
        fake_run(runs, "random", seed, [0.2 + shift, 0.3 + shift, 0.4 + shift])
        fake_run(runs, "cvirs", seed, [0.2 + shift, 0.4 + shift, 0.6 + shift])
    fake_run(runs, "dal", 0, [0.2, 0.3, 0.4], rounds=2)  # killed after 2 of 3 rounds
    (runs / "alps-0").mkdir()
    (runs / "alps-0" / ".lock").write_text("")  # started, no round finished
    out = tmp_path / "report"
    assert main([str(runs), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "partial: dal-0 (2 of 3 rounds, stopped) — left out of the tables" in err and "missing: alps-0" in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["partial"] == [{"run": "dal-0", "rounds": 2, "expected": 3, "being_written": False}]
    from al.records import run_lock

    with run_lock(runs / "dal-0"):  # a process holds its lock: it goes on
        assert main([str(runs), "-o", str(tmp_path / "while")]) == 0
    assert "partial: dal-0 (2 of 3 rounds, being written) — left out of the tables" in capsys.readouterr().err
    (setting,) = summary["settings"]
    rows = {r["strategy"]: r for r in summary["settings"][setting]["strategies"]}
    assert set(rows) == {"random", "cvirs"}
    # cvirs areas: seed 0: (0.2/2 + 0.4 + 0.6/2) * 50 / 100 ... = (0.3 + 0.5) / 2 = 0.4; random 0.3
    assert rows["cvirs"]["area_by_seed"] == {"0": 0.4, "1": 0.5, "2": 0.6}
    assert rows["random"]["area_by_seed"] == {"0": 0.3, "1": 0.4, "2": 0.5}
    assert rows["cvirs"]["vs_baseline_final"].startswith("+0.2000 (W=0, p Holm=0.25, wins 3/3)")  # m = 1: p
    labels = {r["strategy"]: r for r in summary["settings"][setting]["per_label_f1"]}
    # final macro of cvirs: 0.6, 0.7, 0.8 -> mean 0.7; label a = final + 0.2, b = final - 0.2
    assert labels["cvirs"]["frequent_mean"] == pytest.approx(0.9, abs=1e-3)
    assert labels["cvirs"]["rare_mean"] == pytest.approx(0.5, abs=1e-3)
    compute = {r["strategy"]: r for r in summary["settings"][setting]["compute"]}
    assert compute["cvirs"]["query"] == pytest.approx(0.25)  # (0 + 0.5) / 2: the last round queries nothing
    md = (out / "report.md").read_text()
    html = (out / "report.html").read_text()
    for text in (md, html):
        assert "dal-0" in text and "alps-0" in text and "cvirs" in text
    for png in out.glob("*.png"):
        assert png.read_bytes()[:4] == b"\x89PNG"
    assert len(list(out.glob("*.png"))) == 3
    assert "<img src=" in html and "![macro-F1]" in md
    # the main table is headed in words, naming the baseline (its keys were the headers: final_macro_f1 ...)
    assert ("| strategy | seeds | final macro-F1 | area (macro-F1) | final micro-F1 | vs random, final | vs random, "
            "area |") in md
    assert "<th>vs random, area</th>" in html and "final_macro_f1" not in md


def test_report_bad_input(tmp_path, capsys):
    assert main([str(tmp_path / "nope")]) == 2
    assert "nope does not exist; give the directory holding the runs" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "empty"), "-o", str(tmp_path / "r")]) == 2
    assert "empty holds no run (config.json and rounds.jsonl)" in capsys.readouterr().err


# -- one formula for the number of rounds ---------------------------------------------------------------------


@pytest.mark.parametrize("initial, step, budget, rounds", [
    (100, 50, 600, 11),  # 100, 150, ..., 600
    (100, 50, 620, 12),  # ..., 600, 620: the last step shrinks to fit
    (20, 10, 65, 6),
    (1, 1000, 2, 2),
])
def test_n_rounds_by_hand(initial, step, budget, rounds):
    assert n_rounds(initial, step, budget) == rounds


@pytest.mark.parametrize("initial, step, budget", [(100, 0, 600), (100, 50, 100), (100, 50, 50)])
def test_n_rounds_refuses_settings_that_describe_no_run(initial, step, budget):
    with pytest.raises(ConfigError, match=f"got initial={initial}, step={step}, budget={budget}"):
        n_rounds(initial, step, budget)


@pytest.mark.parametrize("initial, step, budget", [(100, 50, 250), (100, 50, 270), (20, 10, 65), (3, 7, 11)])
def test_the_config_the_loop_and_the_report_count_rounds_alike(corpus, initial, step, budget):
    from al.classifiers.linear import LogisticRegressionClassifier
    from al.config import SimulationConfig
    from al.engine import Simulation
    from tests.conftest import hash_embed

    config = {"initial": initial, "step": step, "budget": budget}
    loop = Simulation(corpus=corpus, strategy=RandomSampling(), make_classifier=lambda s: LogisticRegressionClassifier(),
                      embed=hash_embed, **config)
    assert SimulationConfig(**config).n_rounds == loop.n_rounds == expected_rounds(config) == n_rounds(**config)


def test_a_complete_run_is_counted_from_its_own_stored_settings(tmp_path, capsys):
    runs = tmp_path / "runs"
    for seed in (0, 1):
        records = RunRecords(runs / f"random-{seed}")
        records.start({**CONFIG, "strategy": "random", "seed": seed, "initial": 10, "step": 7, "budget": 40}, GROUPS)
        sizes = [10, 17, 24, 31, 38, 40][: 6 if seed == 0 else 5]
        for i, size in enumerate(sizes):
            records.append({"round": i, "n_labeled": size, "macro_f1": 0.5, "micro_f1": 0.6,
                            "per_label_f1": {"a": 0.5, "b": 0.5}, "seconds_train": 1.0, "seconds_query": 1.0,
                            "seconds_evaluate": 1.0})
    assert main([str(runs), "-o", str(tmp_path / "report")]) == 0
    assert "partial: random-1 (5 of 6 rounds, stopped)" in capsys.readouterr().err
    (setting,) = json.loads((tmp_path / "report" / "summary.json").read_text())["settings"].values()
    assert [row["seeds"] for row in setting["strategies"]] == [[0]]


def test_the_per_label_table_shows_every_f1_to_three_places(tmp_path):
    """A label whose F1 was 0.0 or 0.5 in every run read '0.0' and '0.5' beside another label's 0.879."""
    runs = tmp_path / "runs"
    records = RunRecords(runs / "random-0")
    records.start({**CONFIG, "strategy": "random", "seed": 0, "initial": 10, "step": 10, "budget": 20}, GROUPS)
    for i, size in enumerate([10, 20]):
        records.append({"round": i, "n_labeled": size, "macro_f1": 0.5, "micro_f1": 0.6,
                        "per_label_f1": {"a": 0.5, "b": 0.879}, "seconds_train": 1.0, "seconds_query": 1.0,
                        "seconds_evaluate": 1.0})
    assert main([str(runs), "-o", str(tmp_path / "report")]) == 0
    report = (tmp_path / "report" / "report.md").read_text()
    assert "| random | 0.500 | 0.879 |" in report, report
    assert "<td>random</td><td>0.500</td><td>0.879</td>" in (tmp_path / "report" / "report.html").read_text()


def test_round_settings_a_stored_config_lacks_come_from_the_config_defaults(monkeypatch):
    import al.config

    @dataclasses.dataclass(frozen=True)
    class SmallerBudget(al.config.SimulationConfig):
        budget: int = 300

    monkeypatch.setattr(al.config, "SimulationConfig", SmallerBudget)
    assert expected_rounds({"initial": 100, "step": 50}) == 5  # 100 .. 300, not a hard-coded 600
    assert expected_rounds({"initial": 100, "step": 50, "budget": 200}) == 3


def test_a_run_with_unusable_round_settings_is_named(tmp_path, capsys):
    fake_run(tmp_path / "runs", "random", 0, [0.2, 0.3, 0.4])
    path = tmp_path / "runs" / "random-0" / "config.json"
    stored = json.loads(path.read_text())
    stored["config"]["budget"] = "200"
    path.write_text(json.dumps(stored))
    assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "report")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path.parent}: stored config has non-integer round settings {{'budget': '200'}}")
    assert "Traceback" not in err


def test_a_report_of_only_partial_runs_is_refused_in_one_line(tmp_path, capsys):
    """Every run stopped short: no table could be written, so no empty report is (it used to exit 0)."""
    runs = tmp_path / "runs"
    fake_run(runs, "random", 0, [0.2, 0.3, 0.4], rounds=2)
    out = tmp_path / "report"
    assert main([str(runs), "-o", str(out), "--baseline", "random"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no run under" in err and "is complete (1 partial, e.g. random-0: 2 of 3 rounds)" in err
    assert not out.exists()


# -- figures, compute, odd records ------------------------------------------------------------------------------


def test_figure_stems_are_unique_and_stay_as_they_were_where_they_were():
    from al.analysis.strategy_report import STEM_LENGTH, figure_stems

    labels = "labels=money-fx,grain,crude,trade,interest,wheat,corn,dlr,veg-oil,oilseed"
    small, large = f"reuters ({labels}), logreg on all-MiniLM-L6-v2", f"reuters ({labels}), logreg on all-MiniLM-L12-v2"
    assert figure_stems(["disaster (5+5), logreg on all-MiniLM-L6-v2"]) == {
        "disaster (5+5), logreg on all-MiniLM-L6-v2": "disaster-5-5-logreg-on-all-minilm-l6-v2"}
    assert figure_stems([small]) == {small: "reuters-" + labels.lower().replace("=", "-").replace(",", "-")[:72]}
    stems = figure_stems([small, large])  # they differ only past the cut
    assert len(set(stems.values())) == 2 and all(len(s) <= STEM_LENGTH for s in stems.values())
    assert all(s.startswith("reuters-labels-money-fx-grain") and len(s.rsplit("-", 1)[1]) == 10 for s in stems.values())
    assert len(set(figure_stems(["a (b)", "a b"]).values())) == 2  # punctuation alike
    # letters outside ASCII stay, as the run folders keep them (donn-es-csv was all that was left of données.csv)
    assert figure_stems(["csv-données (5+5), logreg"]) == {"csv-données (5+5), logreg": "csv-données-5-5-logreg"}
    assert figure_stems(["配送 (5+5)"]) == {"配送 (5+5)": "配送-5-5"}
    assert figure_stems(["हिन्दी डेटा"]) == {"हिन्दी डेटा": "हिन्दी-डेटा"}  # its marks are letters' parts


def test_two_long_settings_get_figures_of_their_own(tmp_path):
    labels = ["money-fx", "grain", "crude", "trade", "interest", "wheat", "corn", "dlr", "veg-oil", "oilseed"]
    for seed in range(2):
        for model, value in (("all-MiniLM-L6-v2", 0.3), ("all-MiniLM-L12-v2", 0.7)):
            records = RunRecords(tmp_path / "runs" / f"{model}-{seed}")
            records.start({**CONFIG, "strategy": "random", "seed": seed, "labels": labels, "model": model}, GROUPS)
            for i in range(3):
                records.append({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": value, "micro_f1": value,
                                "per_label_f1": {"a": value, "b": value}, "seconds_train": 1.0,
                                "seconds_query": 1.0, "seconds_evaluate": 1.0})
    out = tmp_path / "report"
    assert main([str(tmp_path / "runs"), "-o", str(out)]) == 0
    assert len(list(out.glob("*.png"))) == 6
    md = (out / "report.md").read_text()
    figures = [line[len("![macro-F1]("):-1] for line in md.splitlines() if line.startswith("![macro-F1](")]
    assert len(figures) == 2 and figures[0] != figures[1] and all((out / f).is_file() for f in figures)


def test_a_strategy_keeps_its_colour_in_every_setting_s_figure(tmp_path, monkeypatch):
    """Colours followed each figure's own sorted lines: margin was blue in one setting's figure, orange in the
    other's. Now every figure colours by the report's whole set of row labels."""
    import matplotlib

    import al.analysis.strategy_report as strategy_report
    from al.analysis.curves import line_colors, render_curves

    tab10 = matplotlib.colormaps["tab10"].colors
    assert line_colors(["random", "cvirs", "margin", "cvirs"]) == {"cvirs": tab10[0], "margin": tab10[1],
                                                                    "random": "black"}
    assert line_colors(["random", "adaptive"])["random"] == "black"  # in every figure, whatever else it shows
    assert len(set(line_colors(f"s{i}" for i in range(12)).values())) == 12  # tab20 past ten lines
    drawn = []

    def recording(curve_list, metric, title=None, fmt="png", colors=None):
        drawn.append({c.strategy: colors[c.strategy] for c in curve_list})
        return render_curves(curve_list, metric, title, fmt, colors)

    monkeypatch.setattr(strategy_report, "render_curves", recording)
    for model, strategies in (("all-MiniLM-L6-v2", ("margin", "random")), ("all-MiniLM-L12-v2", ("cvirs", "margin"))):
        for strategy in strategies:
            records = RunRecords(tmp_path / "runs" / f"{model}-{strategy}")
            records.start({**CONFIG, "strategy": strategy, "seed": 0, "model": model}, GROUPS)
            for i in range(3):
                records.append({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": 0.5, "micro_f1": 0.5,
                                "per_label_f1": {"a": 0.5, "b": 0.5}, "seconds_train": 1.0,
                                "seconds_query": 1.0, "seconds_evaluate": 1.0})
    assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "report")]) == 0
    assert len(drawn) == 4 and {"margin", "random"} in [set(d) for d in drawn] and {"cvirs", "margin"} in [
        set(d) for d in drawn]
    assert {d["margin"] for d in drawn} == {tab10[1]}  # second of cvirs, margin in both settings


def test_the_compute_table_shows_the_seconds_spent_fitting_a_space(tmp_path):
    space = {"space": {"name": "cea", "params": {}}, "space_scope": "head", "space_every": 1, "space_for": "all"}
    for seed in range(2):
        fake_run(tmp_path / "runs", "random", seed, [0.2, 0.3, 0.4])
        records = RunRecords(tmp_path / "runs" / f"ce-{seed}")
        records.start({**CONFIG, "strategy": "class_embedding", "seed": seed, **space}, GROUPS)
        for i, value in enumerate([0.2, 0.4, 0.5]):
            records.append({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": value, "micro_f1": value,
                            "per_label_f1": {"a": value, "b": value}, "seconds_train": 1.0, "seconds_query": 2.0,
                            "seconds_evaluate": 0.5, "seconds_space": 10.0 * i})
    out = tmp_path / "report"
    assert main([str(tmp_path / "runs"), "-o", str(out)]) == 0
    (setting,) = json.loads((out / "summary.json").read_text())["settings"].values()
    compute = {row["strategy"]: row for row in setting["compute"]}
    assert compute["class_embedding@cea"]["space"] == pytest.approx(10.0)  # (0 + 10 + 20) / 3
    assert compute["random"]["space"] == "–"
    assert "| strategy | train | query | evaluate | space |" in (out / "report.md").read_text()


def test_the_compute_figure_draws_the_means_unrounded(tmp_path, monkeypatch):
    """Its bars were the table's values, rounded to 3 decimals: a part under half a millisecond drew as nothing."""
    import al.analysis.strategy_report as strategy_report

    for seed in range(2):
        records = RunRecords(tmp_path / "runs" / f"r-{seed}")
        records.start({**CONFIG, "strategy": "random", "seed": seed}, GROUPS)
        for i, value in enumerate([0.2, 0.3, 0.4]):
            records.append({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": value, "micro_f1": value,
                            "per_label_f1": {"a": value, "b": value}, "seconds_train": 0.0004,
                            "seconds_query": 0.0002, "seconds_evaluate": 0.5})
    drawn = []
    real = strategy_report.compute_figure
    monkeypatch.setattr(strategy_report, "compute_figure", lambda rows, *rest: drawn.append(rows) or real(rows, *rest))
    assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "report")]) == 0
    (setting,) = json.loads((tmp_path / "report" / "summary.json").read_text())["settings"].values()
    assert setting["compute"][0]["train"] == 0.0  # the table: three decimals
    assert drawn[0][0]["train"] == pytest.approx(0.0004) and drawn[0][0]["query"] == pytest.approx(0.0002)
    for seed in range(2):  # its bars in the table's order, the baseline first (they were alphabetical)
        fake_run(tmp_path / "runs", "cvirs", seed, [0.2, 0.3, 0.4])
    drawn.clear()
    assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "report")]) == 0
    (setting,) = json.loads((tmp_path / "report" / "summary.json").read_text())["settings"].values()
    assert [row["strategy"] for row in drawn[0]] == [row["strategy"] for row in setting["compute"]] == ["random",
                                                                                                        "cvirs"]


def test_settings_that_differ_in_a_number_are_in_its_order(tmp_path):
    """pool_size=1000 came before pool_size=500: the settings were sorted as text."""
    from al.analysis.curves import natural_key

    assert sorted(["pool_size=1000", "pool_size=500", "seed 10", "seed 2"], key=natural_key) == \
        ["pool_size=500", "pool_size=1000", "seed 2", "seed 10"]
    for pool_size in (1000, 500):
        for seed in range(2):
            records = RunRecords(tmp_path / "runs" / f"p{pool_size}-{seed}")
            records.start({**CONFIG, "strategy": "random", "seed": seed, "pool_size": pool_size}, GROUPS)
            for i, value in enumerate([0.2, 0.3, 0.4]):
                records.append({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": value, "micro_f1": value,
                                "per_label_f1": {"a": value, "b": value}})
    assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "report")]) == 0
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert [setting.split("pool_size=")[1].rstrip("]") for setting in summary["settings"]] == ["500", "1000"]
    text = (tmp_path / "report" / "report.md").read_text()
    assert text.index("pool_size=500") < text.index("pool_size=1000")
    from al.analysis.curves import curves, load_runs

    lines = curves(load_runs([tmp_path / "runs"]), group_by="pool_size")  # al.plot --group-by pool_size
    assert [line.strategy for line in lines] == ["pool_size=500", "pool_size=1000"]


def session_rounds(root, name, seed, macro, per_label=True):
    """An annotation session's records: macro- and micro-F1 null, and no per-label F1, while at most one text is
    labeled."""
    records = RunRecords(root / f"{name}-{seed}")
    records.start({**CONFIG, "strategy": name, "seed": seed}, GROUPS)
    for i, value in enumerate(macro):
        record = {"round": i, "n_labeled": 100 + 50 * i, "macro_f1": value, "micro_f1": value,
                  "seconds_train": 1.0, "seconds_query": 1.0, "seconds_evaluate": 1.0}
        if value is not None and per_label:
            record["per_label_f1"] = {"a": value, "b": value}
        if value is None:
            record["evaluation"] = "none (only 1 labeled text)"  # as a session says why
        records.append(record)


def test_rounds_without_a_macro_f1_are_left_out_of_the_curves(tmp_path, capsys):
    for seed in range(2):
        session_rounds(tmp_path / "runs", "random", seed, [None, 0.4, 0.6])
        session_rounds(tmp_path / "runs", "cvirs", seed, [None, 0.5, 0.8], per_label=False)
    session_rounds(tmp_path / "runs", "cvirs", 2, [None, None, None])
    out = tmp_path / "report"
    assert main([str(tmp_path / "runs"), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "no macro-F1: cvirs-2 (null in every round) — left out" in err and "Traceback" not in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["unevaluated"] == ["cvirs-2"]
    (setting,) = summary["settings"].values()
    rows = {row["strategy"]: row for row in setting["strategies"]}
    assert rows["random"]["area_by_seed"] == {"0": 0.5, "1": 0.5}  # over 150 and 200 only: (0.4 + 0.6) / 2
    assert rows["cvirs"]["seeds"] == [0, 1]
    labels = {row["strategy"]: row for row in setting["per_label_f1"]}
    assert labels["cvirs"] == {"strategy": "cvirs"} and labels["random"]["a"] == pytest.approx(0.6)
    assert "cvirs-2" in (out / "report.md").read_text()


def test_runs_of_one_setting_that_report_other_labels_are_refused_in_one_line(tmp_path, capsys):
    for seed in range(2):
        fake_run(tmp_path / "runs", "random", seed, [0.2, 0.3, 0.4])
    rounds = tmp_path / "runs" / "random-1" / "rounds.jsonl"
    rounds.write_text(rounds.read_text().replace('"a":', '"x":'))
    assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "report")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "runs of one setting report F1 for different labels: " in err and "random-1 for b, x" in err


def test_figures_are_written_only_once_every_table_is_built(tmp_path, capsys):
    for seed in range(2):
        fake_run(tmp_path / "runs", "random", seed, [0.2, 0.3, 0.4])  # disaster: fine
        records = RunRecords(tmp_path / "runs" / f"reuters-{seed}")
        records.start({**CONFIG, "dataset": "reuters", "strategy": "random", "seed": seed}, GROUPS)
        for i in range(3):
            records.append({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": 0.5, "micro_f1": 0.5,
                            "per_label_f1": {"a": 0.5, "c": 0.5}, "seconds_train": 1.0, "seconds_query": 1.0,
                            "seconds_evaluate": 1.0})  # no F1 for the rare label b its data set names
    out = tmp_path / "report"
    assert main([str(tmp_path / "runs"), "-o", str(out)]) == 2
    assert "frequent / rare labels include b" in capsys.readouterr().err
    assert not out.exists()  # no figure of the disaster setting, no empty directory


def test_runs_reached_through_links_are_reported_once(tmp_path):
    for seed in range(3):
        fake_run(tmp_path / "runs", "random", seed, [0.2, 0.3, 0.4])
        fake_run(tmp_path / "store", "cvirs", seed, [0.2, 0.4, 0.6])
    (tmp_path / "runs" / "cvirs-runs").symlink_to(tmp_path / "store")
    (tmp_path / "runs" / "cvirs-0").symlink_to(tmp_path / "store" / "cvirs-0")
    (tmp_path / "store" / "back").symlink_to(tmp_path / "runs")
    out = tmp_path / "report"
    assert main([str(tmp_path / "runs"), "-o", str(out)]) == 0
    (setting,) = json.loads((out / "summary.json").read_text())["settings"].values()
    assert {row["strategy"]: row["seeds"] for row in setting["strategies"]} == {"random": [0, 1, 2],
                                                                               "cvirs": [0, 1, 2]}


# -- one run per seed; counts in words --------------------------------------------------------------------------


def test_the_same_simulation_under_two_names_is_refused_naming_both_and_the_fix(tmp_path, capsys):
    """As the README once led to: the first command's default --out, and the curves loop's --out beside it."""
    runs = tmp_path / "runs"
    for seed in range(3):
        fake_run(runs / "curves", "random", seed, [0.2, 0.3, 0.4])
        fake_run(runs / "curves", "class_embedding", seed, [0.2, 0.4, 0.5 + 0.1 * seed])
    fake_run(runs, "class_embedding", 0, [0.2, 0.4, 0.5], name="disaster-class_embedding-logreg-seed0")
    out = tmp_path / "report"
    assert main([str(runs), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert (f"error: {runs / 'curves' / 'class_embedding-0'} and {runs / 'disaster-class_embedding-logreg-seed0'} "
            f"are the same simulation (class_embedding, seed 0); expected one run per seed: move one out of the "
            f"directory you report on") in err
    assert not out.exists()
    assert main([str(runs / "curves"), "-o", str(out)]) == 0  # the folder the README reports on now


def test_every_pair_of_the_same_simulation_is_named_in_one_refusal(tmp_path, capsys):
    """A grid run twice into two folders: the report named the first pair only, so each fix met the next."""
    runs = tmp_path / "runs"
    for copy in ("a", "b"):
        for seed in range(2):
            fake_run(runs / copy, "random", seed, [0.2, 0.3, 0.4])
    assert main([str(runs), "-o", str(tmp_path / "report")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.count("are the same simulation") == 2, err
    assert (f"{runs / 'a' / 'random-0'} and {runs / 'b' / 'random-0'} are the same simulation (random, seed 0); "
            f"{runs / 'a' / 'random-1'} and {runs / 'b' / 'random-1'} are the same simulation (random, seed 1); "
            f"expected one run per seed: ") in err
    for seed in range(2, 4):  # more than three pairs: the first three named, the rest counted
        for copy in ("a", "b"):
            fake_run(runs / copy, "random", seed, [0.2, 0.3, 0.4])
    assert main([str(runs), "-o", str(tmp_path / "report")]) == 2
    err = capsys.readouterr().err
    assert err.count("are the same simulation") == 3 and "(random, seed 2) and 1 more; expected one run per seed" in err


def test_counts_of_one_are_singular(tmp_path, capsys):
    fake_run(tmp_path / "runs", "random", 0, [0.2, 0.3, 0.4])
    fake_run(tmp_path / "runs", "cvirs", 0, [0.2, 0.4, 0.6])
    out = tmp_path / "report"
    assert main([str(tmp_path / "runs"), "-o", str(out)]) == 0
    assert capsys.readouterr().err.endswith("report.html, summary.json and 3 figures (1 setting)\n")
    (setting,) = json.loads((out / "summary.json").read_text())["settings"].values()
    assert {r["strategy"]: r["seeds_reached"] for r in setting["reach"]["rows"]} == {"cvirs": "1 of 1 seed",
                                                                                       "random": "1 of 1 seed"}
    for table in ("strategies", "per_label_f1", "compute"):  # one order in every table: the baseline first
        assert [row["strategy"] for row in setting[table]] == ["random", "cvirs"], table


def test_a_strategy_s_work_run_ahead_of_the_embedding_counts_as_its_first_query_s(tmp_path):
    # a cold lone ALPS run records its head fit and surprisal pass as round 0's seconds_prepare, not in its query
    for seed in range(2):
        fake_run(tmp_path / "runs", "random", seed, [0.2, 0.3, 0.4])
        records = RunRecords(tmp_path / "runs" / f"alps-{seed}")
        records.start({**CONFIG, "strategy": "alps", "seed": seed}, GROUPS)
        for i, value in enumerate([0.2, 0.4, 0.5]):
            extra = {"seconds_prepare": 30.0} if i == 0 else {}
            records.append({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": value, "micro_f1": value,
                            "per_label_f1": {"a": value, "b": value}, "seconds_train": 1.0, "seconds_query": 2.0,
                            "seconds_evaluate": 0.5, "picked": [i] if i < 2 else [], "seconds_stopping": 0.1 * i,
                            "seconds_diagnostics": 0.6 * seed, **extra})
    out = tmp_path / "report"
    assert main([str(tmp_path / "runs"), "-o", str(out)]) == 0
    (setting,) = json.loads((out / "summary.json").read_text())["settings"].values()
    compute = {row["strategy"]: row for row in setting["compute"]}
    assert compute["alps"]["query"] == pytest.approx(17.0)  # (2 + 30 + 2) / 2: the two rounds that queried
    assert compute["alps"]["train"] == pytest.approx(1.0)
    # every round of both seeds: stopping (0 + 0.1 + 0.2) / 3 = 0.1, diagnostics (0 x 3 + 0.6 x 3) / 6 = 0.3
    assert (compute["alps"]["stopping"], compute["alps"]["diagnostics"]) == (pytest.approx(0.1), pytest.approx(0.3))
    assert (compute["random"]["stopping"], compute["random"]["diagnostics"]) == ("–", "–")  # recorded neither
    assert list(compute["alps"]) == ["strategy", "train", "query", "evaluate", "stopping", "diagnostics"]


@pytest.mark.parametrize("name", ["class_embedding@cea_knn_{i}",
                                  "dal [strategy.sub_batches=5, strategy.warm_start=true] {i}"])
def test_the_compute_figure_s_strategy_names_never_overlap_and_everything_stays_inside(name):
    from al.analysis.strategy_report import compute_figure

    rows = [{"strategy": name.format(i=i), "train": 1.0 + i, "query": 2.0, "evaluate": "–"} for i in range(12)]
    fig = compute_figure(rows, ["train", "query", "evaluate"], "disaster (5+5), logreg on all-MiniLM-L6-v2")
    fig.canvas.draw()
    (ax,) = fig.axes
    boxes = [label.get_window_extent() for label in ax.get_yticklabels()]
    assert [label.get_text() for label in ax.get_yticklabels()] == [row["strategy"] for row in rows]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    width = fig.bbox.width
    assert all(box.x0 >= 0 for box in boxes)  # inside the figure
    legend, title = ax.get_legend().get_window_extent(), ax.title.get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1 and legend.x1 <= width  # beside the bars, not on them
    assert 0 <= title.x0 and title.x1 <= width
    assert ax.get_window_extent().width >= 0.3 * width  # room left for the bars
    bars = [patch.get_width() for patch in ax.patches]
    assert bars[:12] == [1.0 + i for i in range(12)] and bars[12:24] == [2.0] * 12 and bars[24:] == [0.0] * 12
    # a colour per part, none of them a curve's (the curves' tab10 and tab20 name strategies), at the curves' dpi
    import matplotlib

    part_colours = [tuple(ax.patches[12 * i].get_facecolor()[:3]) for i in range(3)]
    curve_colours = {tuple(c) for m in ("tab10", "tab20") for c in matplotlib.colormaps[m].colors}
    assert len(set(part_colours)) == 3 and not set(part_colours) & curve_colours and fig.dpi == 150
    assert ax.get_xlabel() == "mean seconds per round (query: over the rounds that queried)"  # as the table's means


def test_a_classifier_param_given_at_its_default_is_the_same_setting(tmp_path):
    # logreg's C defaults to 1.0: "C=1.0" written out is the same condition, so its seeds pair with the others
    from al.classifiers.linear import LogisticRegressionClassifier
    import inspect

    assert inspect.signature(LogisticRegressionClassifier).parameters["C"].default == 1.0
    # C=1 and C=2 written as integers are the same numbers as 1.0 and 2.0: the same conditions again
    for seed, params in enumerate([{}, {"C": 1.0}, {"C": 2.0}, {"C": 1}, {"C": 2}]):
        for strategy in ("random", "margin"):
            classifier = {"name": "logreg", "params": params}
            records = RunRecords(tmp_path / "runs" / f"{strategy}-{seed}")
            records.start({**CONFIG, "classifier": classifier, "strategy": strategy, "seed": seed},
                          {**GROUPS, "given": {"classifier": classifier}})
            for i, value in enumerate([0.2, 0.3, 0.4]):
                records.append({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": value, "micro_f1": value,
                                "per_label_f1": {"a": value, "b": value}, "seconds_train": 1.0,
                                "seconds_query": 1.0, "seconds_evaluate": 1.0})
    out = tmp_path / "report"
    assert main([str(tmp_path / "runs"), "-o", str(out)]) == 0
    settings = json.loads((out / "summary.json").read_text())["settings"]
    assert sorted(settings) == ["disaster (1+1), logreg on all-MiniLM-L6-v2",
                                "disaster (1+1), logreg(C=2) on all-MiniLM-L6-v2"]


def test_a_strategy_param_given_at_its_default_is_the_same_row_and_its_seeds_pair(tmp_path, capsys):
    """cvirs run once as is and once with --strategy-param threshold=0.5 (its default) made two rows of one seed
    each, so no seed paired with random: al.simulate takes the two for one run."""
    from strategies.cvirs import CVIRS
    import inspect

    from al.analysis.curves import Run

    assert inspect.signature(CVIRS).parameters["threshold"].default == 0.5
    for seed, params in enumerate([{}, {"threshold": 0.5}, {"threshold": 0.5}, {"threshold": 0.3}]):
        for strategy in ({"name": "random", "params": {}}, {"name": "cvirs", "params": params}):
            records = RunRecords(tmp_path / "runs" / f"{strategy['name']}-{seed}")
            records.start({**CONFIG, "strategy": strategy, "seed": seed}, {**GROUPS, "given": {"strategy": strategy}})
            for i, value in enumerate([0.2, 0.3 + 0.01 * seed * (strategy["name"] == "cvirs"), 0.4]):
                records.append({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": value, "micro_f1": value,
                                "per_label_f1": {"a": value, "b": value}, "seconds_train": 1.0,
                                "seconds_query": 1.0, "seconds_evaluate": 1.0})
    out = tmp_path / "report"
    assert main([str(tmp_path / "runs"), "-o", str(out)]) == 0
    assert len(list(out.glob("*.png"))) == 3 and capsys.readouterr().err.endswith(
        f"wrote {out / 'report.md'}, report.html, summary.json and 3 figures (1 setting)\n")  # every file it wrote
    (setting,) = json.loads((out / "summary.json").read_text())["settings"].values()
    rows = {row["strategy"]: row for row in setting["strategies"]}
    assert sorted(rows) == ["cvirs", "cvirs(threshold=0.3)", "random"]
    assert rows["cvirs"]["seeds"] == [0, 1, 2] and rows["cvirs(threshold=0.3)"]["seeds"] == [3]
    run = Run(tmp_path, {"strategy": {"name": "nosuch", "params": {"k": 1}}}, [],
              {"given": {"strategy": {"name": "nosuch", "params": {"k": 1}}}})
    assert run.strategy == "nosuch(k=1)"  # a strategy that cannot be loaded keeps its params as given


def test_the_once_per_pool_work_a_grid_logged_is_listed_outside_the_runs(tmp_path):
    """A grid's preparations.jsonl (append_preparation): every task in the report and summary.json, in order; a
    line a crash cut short is skipped; without the file there is no such section."""
    from al.records import PREPARATIONS_FILE, append_preparation

    runs = tmp_path / "runs"
    for seed in range(2):
        fake_run(runs, "random", seed, [0.2, 0.3, 0.4])
        fake_run(runs, "alps", seed, [0.2, 0.35, 0.45])
    out = tmp_path / "report"
    assert main([str(runs), "-o", str(out)]) == 0
    assert "preparations" not in json.loads((out / "summary.json").read_text())
    assert "## Once-per-pool work outside the runs" not in (out / "report.md").read_text()

    append_preparation(runs, {"task": "disaster: alps's pool work", "part": "strategy", "status": "prepared",
                              "seconds": 177.25, "ended": "2026-12-04T21:13:21Z", "runs": ["alps-0", "alps-1"]})
    append_preparation(runs, {"task": "disaster: embeddings (all-MiniLM-L6-v2, fp32)", "part": "embeddings",
                              "status": "failed", "seconds": 0.5, "ended": "2026-12-04T21:13:40Z",
                              "runs": ["alps-0", "alps-1", "random-0", "random-1"], "message": "disk full"})
    with open(runs / PREPARATIONS_FILE, "a") as f:
        f.write('{"task": "reuters: alps')  # a write a kill cut short
    append_preparation(runs, {"task": "reuters: alps's pool work", "status": "prepared", "seconds": 5.0,
                              "runs": ["alps-0"]})  # the next grid command: a line of its own
    assert main([str(runs), "-o", str(out)]) == 0
    listed = json.loads((out / "summary.json").read_text())["preparations"]
    assert [(p["task"], p["status"], p["seconds"], p["runs"]) for p in listed] == [
        ("disaster: alps's pool work", "prepared", 177.25, 2),
        ("disaster: embeddings (all-MiniLM-L6-v2, fp32)", "failed", 0.5, 4),
        ("reuters: alps's pool work", "prepared", 5.0, 1)]
    assert listed[0]["run_names"] == ["alps-0", "alps-1"] and listed[0]["grid"] == "."
    assert (listed[0]["part"], listed[1]["message"]) == ("strategy", "disk full")
    lines = (out / "report.md").read_text().splitlines()
    assert "## Once-per-pool work outside the runs" in lines
    assert "| task | status | seconds | ended | runs | message |" in lines  # one grid: no grid column
    assert "| disaster: alps's pool work | prepared | 177.25 | 2026-12-04T21:13:21Z | 2 |  |" in lines
    assert ("| disaster: embeddings (all-MiniLM-L6-v2, fp32) | failed | 0.50 | 2026-12-04T21:13:40Z | 4 | disk full |"
            in lines)
    assert "<h2>Once-per-pool work outside the runs</h2>" in (out / "report.html").read_text()


def test_the_once_per_pool_tasks_of_several_grids_name_their_grid_and_an_unreadable_log_is_a_row(tmp_path,
                                                                                                  monkeypatch):
    from al.records import append_preparation

    for grid, seeds in (("g1", (0, 1)), ("g2", (2, 3))):  # one simulation per seed across the two
        for seed in seeds:
            fake_run(tmp_path / "all" / grid, "random", seed, [0.2, 0.3, 0.4], name=f"{grid}-random-{seed}")
        append_preparation(tmp_path / "all" / grid, {"task": "t", "status": "prepared", "seconds": 1.0,
                                                     "ended": "E", "runs": [f"{grid}-random-0"]})
    out = tmp_path / "report"
    assert main([str(tmp_path / "all"), "-o", str(out)]) == 0
    lines = (out / "report.md").read_text().splitlines()
    assert "| grid | task | status | seconds | ended | runs |" in lines  # no message column: none failed
    assert "| g1 | t | prepared | 1.0 | E | 1 |" in lines and "| g2 | t | prepared | 1.0 | E | 1 |" in lines

    def unreadable(directory):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("al.analysis.strategy_report.read_preparations", unreadable)
    assert main([str(tmp_path / "all"), "-o", str(out)]) == 0  # the report is made: the log is not run data
    listed = json.loads((out / "summary.json").read_text())["preparations"]
    assert [(p["grid"], p["status"]) for p in listed] == [("g1", "unreadable"), ("g2", "unreadable")]
    assert listed[0]["message"] == "Permission denied; make it readable and report again"


# -- the report directory ------------------------------------------------------------------------------------


def test_a_folder_holding_files_no_report_wrote_is_refused_before_any_work(tmp_path, capsys):
    runs = tmp_path / "runs"
    for seed in range(2):
        fake_run(runs, "random", seed, [0.2, 0.3, 0.4])
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.md").write_text("# my notes\n")
    assert main([str(runs), "-o", str(mine)]) == 2
    assert capsys.readouterr().err == (
        f"error: -o {mine} holds files no report wrote (report.md), which the report would mix with or replace; "
        f"give a new or empty directory, or one an earlier al.report wrote (its report is then replaced)\n")
    assert [p.name for p in mine.iterdir()] == ["report.md"] and (mine / "report.md").read_text() == "# my notes\n"
    run = runs / "random-0"  # a run directory is such a folder too
    before = sorted(p.name for p in run.iterdir())
    assert main([str(runs), "-o", str(run)]) == 2
    assert "holds files no report wrote (config.json, rounds.jsonl)" in capsys.readouterr().err
    assert sorted(p.name for p in run.iterdir()) == before
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main([str(runs), "-o", str(empty)]) == 0


def test_a_report_again_in_its_folder_replaces_it_and_removes_the_figures_of_settings_gone(tmp_path, capsys):
    runs = tmp_path / "runs"
    for seed in range(2):
        fake_run(runs, "random", seed, [0.2, 0.3, 0.4])
        fake_run(runs, "random", seed, [0.3, 0.4, 0.5], name=f"big-{seed}")
    for seed in range(2):  # the second setting: another encoder
        path = runs / f"big-{seed}" / "config.json"
        stored = json.loads(path.read_text())
        stored["config"]["model"] = "all-MiniLM-L12-v2"
        path.write_text(json.dumps(stored))
    out = tmp_path / "report"
    assert main([str(runs), "-o", str(out)]) == 0
    first = {p.name for p in out.glob("*.png")}
    assert len(first) == 6
    (out / "notes.txt").write_text("kept")  # a file of the user's beside a report is left alone
    for seed in range(2):
        shutil.rmtree(runs / f"big-{seed}")
    capsys.readouterr()
    assert main([str(runs), "-o", str(out)]) == 0
    now = {p.name for p in out.glob("*.png")}
    summary = json.loads((out / "summary.json").read_text())
    assert len(now) == 3 and now < first and now == report_figures(summary)
    gone = sorted(first - now)
    assert f"removed 3 figures of the earlier report in {out} ({', '.join(gone)})" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "kept"


def test_summary_json_holds_each_seed_s_numbers_unrounded(tmp_path):
    runs = tmp_path / "runs"
    for seed, value in enumerate([0.123456789, 0.2]):
        fake_run(runs, "random", seed, [0.1, 0.15, value])
    assert main([str(runs), "-o", str(tmp_path / "r")]) == 0
    (setting,) = json.loads((tmp_path / "r" / "summary.json").read_text())["settings"].values()
    (row,) = setting["strategies"]
    assert row["by_seed"]["final_macro_f1"] == {"0": 0.123456789, "1": 0.2}
    assert row["by_seed"]["final_micro_f1"] == {"0": 0.123456789 + 0.1, "1": 0.2 + 0.1}
    # area: (0.1 / 2 + 0.15 + last / 2) * 50 / 100 (the trapezoids over 100 -> 200 labeled, normalised)
    assert row["by_seed"]["area_macro_f1"] == pytest.approx({"0": (0.05 + 0.15 + 0.123456789 / 2) / 2,
                                                             "1": (0.05 + 0.15 + 0.1) / 2}, abs=1e-12)
    # the table's "mean ± std" texts as numbers: mean 0.1617283945, sample std |0.2 - 0.123456789| / sqrt(2)
    assert row["final_macro_f1"] == "0.1617 ± 0.0541"
    assert row["mean_std"]["final_macro_f1"] == pytest.approx({"mean": 0.1617283945, "std": 0.0541242236},
                                                              abs=1e-10)
    assert row["mean_std"]["area_macro_f1"]["mean"] == pytest.approx(
        ((0.05 + 0.15 + 0.123456789 / 2) / 2 + (0.05 + 0.15 + 0.1) / 2) / 2, abs=1e-12)
    runs_one = tmp_path / "one"
    fake_run(runs_one, "random", 0, [0.1, 0.15, 0.2])
    assert main([str(runs_one), "-o", str(tmp_path / "r1")]) == 0
    (setting,) = json.loads((tmp_path / "r1" / "summary.json").read_text())["settings"].values()
    assert setting["strategies"][0]["mean_std"]["final_macro_f1"] == {"mean": 0.2, "std": None}  # undefined


def test_a_folder_of_an_older_report_a_hidden_file_or_figures_alone_is_taken(tmp_path, capsys):
    runs = tmp_path / "runs"
    for seed in range(2):
        fake_run(runs, "random", seed, [0.2, 0.3, 0.4])
    older = tmp_path / "older"  # a summary.json from before it recorded its statistics
    older.mkdir()
    (older / "summary.json").write_text(json.dumps({"spread": "population std", "settings": {}}))
    (older / "report.md").write_text("# Active-learning comparison\n")
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / ".DS_Store").write_bytes(b"\0")
    cut = tmp_path / "cut"  # a report interrupted after its figures, before its summary and pages
    cut.mkdir()
    (cut / "disaster-5-5-logreg-on-x-macro_f1.png").write_bytes(b"\x89PNG")
    for out in (older, hidden, cut):
        assert main([str(runs), "-o", str(out)]) == 0, capsys.readouterr().err
        assert (out / "summary.json").is_file()
    assert (hidden / ".DS_Store").is_file()
    (cut / "notes.md").write_text("mine")
    (cut / "summary.json").unlink()
    assert main([str(runs), "-o", str(cut)]) == 2
    assert "holds files no report wrote (notes.md, report.html, report.md)" in capsys.readouterr().err


def test_a_table_pads_each_columns_floats_to_the_places_its_longest_shows():
    """Rounded to 3 places for the JSON, 0.22 and 0.2 were shown bare beside 0.846: a ragged column that reads
    as less precise than it is."""
    from al.analysis.strategy_report import _table_html, _table_md

    rows = [{"strategy": "random", "fire": 0.22, "rare_mean": 0.2, "seeds": 4, "labels": "–"},
            {"strategy": "cvirs", "fire": 0.846, "rare_mean": 0.25, "seeds": 4, "labels": "–"}]
    columns = ["strategy", "fire", "rare_mean", "seeds", "labels"]
    assert _table_md(rows, columns).splitlines()[2:] == ["| random | 0.220 | 0.20 | 4 | – |",
                                                         "| cvirs | 0.846 | 0.25 | 4 | – |"]
    assert "<td>0.220</td><td>0.20</td><td>4</td>" in _table_html(rows, columns)
    assert rows[0]["fire"] == 0.22  # the rows (the JSON's) keep their numbers


def test_the_report_functions_take_a_directory_named_by_a_str(tmp_path):
    from al.analysis.curves import load_runs
    from al.analysis.strategy_report import build_report

    for seed in range(2):
        fake_run(tmp_path / "runs", "random", seed, [0.3, 0.4, 0.5])
    assert [r.path.name for r in load_runs(str(tmp_path / "runs"))] == ["random-0", "random-1"]
    summary = build_report(str(tmp_path / "runs"), str(tmp_path / "report"))
    assert (tmp_path / "report" / "summary.json").exists() and summary["settings"]


def test_a_run_and_a_corpus_print_in_a_line_not_every_record(tmp_path):
    from al.analysis.curves import load_runs
    from tests.conftest import synthetic_corpus

    fake_run(tmp_path, "random", 3, [0.3, 0.4, 0.5])
    (run,) = load_runs([tmp_path])
    assert repr(run) == f"Run({str(tmp_path / 'random-3')!r}, random, seed 3, 3 rounds, macro-F1 0.5000)"
    corpus = synthetic_corpus(n_texts=300)
    sizes = [len(corpus.splits[s]) for s in ("train", "dev", "test")]
    assert repr(corpus) == (f"Corpus('{corpus.name}', 300 texts, {len(corpus.label_names)} labels, "
                            f"train {sizes[0]} / dev {sizes[1]} / test {sizes[2]})")


def test_a_reach_target_every_run_met_before_any_query_is_said_to_tell_nothing(tmp_path):
    """Every median was the initial set's 100 texts (0.95 x random's final below every first round), with no word."""
    for seed in range(2):
        fake_run(tmp_path / "flat", "random", seed, [0.50, 0.52, 0.50])  # target 0.95 * 0.50 = 0.475
        fake_run(tmp_path / "flat", "cvirs", seed, [0.48, 0.55, 0.60])
        fake_run(tmp_path / "rising", "random", seed, [0.30, 0.45, 0.50])  # 0.30 < 0.475: reached at 200
        fake_run(tmp_path / "rising", "cvirs", seed, [0.48, 0.55, 0.60])
    said = "Every run reached it in its first round, before any query"
    for runs, before in (("flat", True), ("rising", False)):
        assert main([str(tmp_path / runs), "-o", str(tmp_path / f"r-{runs}")]) == 0
        (setting,) = json.loads((tmp_path / f"r-{runs}" / "summary.json").read_text())["settings"].values()
        assert setting["reach"]["reached_before_any_query"] is before
        assert (said in (tmp_path / f"r-{runs}" / "report.md").read_text()) is before
        assert (said in (tmp_path / f"r-{runs}" / "report.html").read_text()) is before
    assert {r["strategy"]: r["median_labeled"] for r in setting["reach"]["rows"]} == {"random": 200.0, "cvirs": 100.0}


def test_the_main_table_and_the_comparison_table_give_one_p_alike(tmp_path):
    """The main table gave p Holm=0.0312 (3 digits), the comparison table 0.03125 (4)."""
    for seed in range(6):  # six positive differences, none tied: exact p = 2 / 2^6 = 0.03125; m = 1, so Holm's too
        fake_run(tmp_path / "runs", "random", seed, [0.2, 0.3, 0.4])
        fake_run(tmp_path / "runs", "cvirs", seed, [0.2, 0.3, 0.41 + 0.01 * seed])
    assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "r")]) == 0
    (setting,) = json.loads((tmp_path / "r" / "summary.json").read_text())["settings"].values()
    row = next(r for r in setting["strategies"] if r["strategy"] == "cvirs")
    assert "p Holm=0.03125," in row["vs_baseline_final"]
    assert "| 0.03125 | 0.03125 |" in (tmp_path / "r" / "report.md").read_text()  # p, p (Holm)
