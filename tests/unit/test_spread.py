"""The spread over seeds is the sample standard deviation (ddof = 1), and one seed shows no spread."""
from __future__ import annotations

import json

import numpy as np
import pytest

from al.analysis.curves import curves, format_curves, format_mean_std, load_runs, mean_std
from al.plot import main as plot_main
from al.records import RunRecords
from al.report import main as report_main

CONFIG = {"dataset": "disaster", "classifier": "logreg", "model": "all-MiniLM-L6-v2", "labels": None,
          "n_frequent": 1, "n_rare": 1, "initial": 100, "step": 50, "budget": 150}

# Three seeds ending at 0.2, 0.4, 0.6: mean 0.4; squared deviations 0.04, 0, 0.04 sum to 0.08;
# sample variance 0.08 / (3 - 1) = 0.04 -> sample std 0.2 (population std would be
# sqrt(0.08 / 3) = 0.1633).


def test_mean_std_by_hand():
    mean, std = mean_std([0.2, 0.4, 0.6])
    assert mean == pytest.approx(0.4) and std == pytest.approx(0.2)
    assert mean_std([0.5]) == (0.5, None)  # undefined, neither 0 nor NaN
    assert format_mean_std([0.2, 0.4, 0.6]) == "0.4000 ± 0.2000"
    assert format_mean_std([0.5]) == "0.5000"
    assert format_mean_std([]) == "–"


def fake_run(root, strategy, seed, values):
    records = RunRecords(root / f"{strategy}-{seed}")
    records.start({**CONFIG, "strategy": strategy, "seed": seed}, {})
    for i, v in enumerate(values):
        records.append({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": v, "micro_f1": v,
                        "per_label_f1": {"a": v, "b": v}, "seconds_train": 1.0, "seconds_query": 1.0,
                        "seconds_evaluate": 1.0})


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "runs"
    for seed, end in enumerate([0.2, 0.4, 0.6]):
        fake_run(root, "random", seed, [0.1, end])
    fake_run(root, "cvirs", 0, [0.1, 0.3])  # a single seed
    return root


def test_curves_use_the_sample_std_and_leave_one_seed_without_spread(runs):
    by_name = {c.strategy: c for c in curves(load_runs([runs]))}
    np.testing.assert_allclose(by_name["random"].mean, [0.1, 0.4])
    np.testing.assert_allclose(by_name["random"].std, [0.0, 0.2], atol=1e-12)
    assert np.isnan(by_name["cvirs"].std).all()
    table = format_curves(list(by_name.values()))
    assert "sample std" in table and "ddof = 1" in table.splitlines()[0]
    assert "0.400 ± 0.200" in table
    row_150 = next(line for line in table.splitlines() if line.lstrip().startswith("150"))
    assert "0.300" in row_150 and row_150.count("±") == 1  # cvirs: the mean alone
    assert "nan" not in table.lower()


def test_plot_cli_with_single_seed_runs_prints_no_nan(tmp_path, runs, capsys):
    out = tmp_path / "one.png"
    assert plot_main([str(runs / "cvirs-0"), "-o", str(out)]) == 0
    table = capsys.readouterr().out
    assert "0.300" in table and "±" not in table.splitlines()[-1] and "nan" not in table.lower()
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_report_states_the_sample_std_and_prints_no_nan(tmp_path, runs):
    out = tmp_path / "report"
    assert report_main([str(runs), "-o", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert "sample std" in summary["spread"] and "ddof = 1" in summary["spread"]
    (setting,) = summary["settings"]
    rows = {r["strategy"]: r for r in summary["settings"][setting]["strategies"]}
    assert rows["random"]["final_macro_f1"] == "0.4000 ± 0.2000"
    # area of random, seed s: (0.1 + end) / 2 -> 0.15, 0.25, 0.35: mean 0.25, sample std 0.1
    assert rows["random"]["area_macro_f1"] == "0.2500 ± 0.1000"
    assert rows["cvirs"]["final_macro_f1"] == "0.3000" and rows["cvirs"]["area_macro_f1"] == "0.2000"
    for name in ("report.md", "report.html", "summary.json"):
        text = (out / name).read_text()
        assert "nan" not in text.lower(), name
        if name != "summary.json":
            assert "sample std" in text or "sample standard deviation" in text
            assert "ddof = 1" in text
