"""Report: areas and paired tests by hand; rendering with missing and partial runs."""
from __future__ import annotations

import json

import pytest

from al.analysis.comparison import normalized_area, paired_test
from al.records import RunRecords
from al.report import main

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


def fake_run(root, strategy, seed, macro, rounds=None):
    records = RunRecords(root / f"{strategy}-{seed}")
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
    assert "partial: dal-0 (2 of 3 rounds)" in err and "missing: alps-0" in err
    summary = json.loads((out / "summary.json").read_text())
    (setting,) = summary["settings"]
    rows = {r["strategy"]: r for r in summary["settings"][setting]["strategies"]}
    assert set(rows) == {"random", "cvirs"}
    # cvirs areas: seed 0: (0.2/2 + 0.4 + 0.6/2) * 50 / 100 ... = (0.3 + 0.5) / 2 = 0.4; random 0.3
    assert rows["cvirs"]["area_by_seed"] == {"0": 0.4, "1": 0.5, "2": 0.6}
    assert rows["random"]["area_by_seed"] == {"0": 0.3, "1": 0.4, "2": 0.5}
    assert rows["cvirs"]["vs_baseline_final"].startswith("+0.2000 (W=0, p=0.25, wins 3/3)")
    labels = {r["strategy"]: r for r in summary["settings"][setting]["per_label_f1"]}
    # final macro of cvirs: 0.6, 0.7, 0.8 -> mean 0.7; label a = final + 0.2, b = final - 0.2
    assert labels["cvirs"]["frequent_mean"] == pytest.approx(0.9, abs=1e-3)
    assert labels["cvirs"]["rare_mean"] == pytest.approx(0.5, abs=1e-3)
    compute = {r["strategy"]: r for r in summary["settings"][setting]["compute"]}
    assert compute["cvirs"]["query"] == pytest.approx(0.5)  # (0 + 0.5 + 1.0) / 3
    md = (out / "report.md").read_text()
    html = (out / "report.html").read_text()
    for text in (md, html):
        assert "dal-0" in text and "alps-0" in text and "cvirs" in text
    for png in out.glob("*.png"):
        assert png.read_bytes()[:4] == b"\x89PNG"
    assert len(list(out.glob("*.png"))) == 3
    assert "<img src=" in html and "![macro-F1]" in md


def test_report_bad_input(tmp_path, capsys):
    assert main([str(tmp_path / "nope")]) == 2
    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "empty"), "-o", str(tmp_path / "r")]) == 2
    assert "holds no rounds.jsonl" in capsys.readouterr().err
