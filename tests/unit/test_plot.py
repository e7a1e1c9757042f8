"""Curves: aggregation by hand, and the figure itself."""
from __future__ import annotations


import numpy as np

from al.analysis.curves import curves, load_runs
from al.plot import main
from al.records import RunRecords


def fake_run(root, strategy, seed, values):
    records = RunRecords(root / f"{strategy}-{seed}")
    records.start({"strategy": strategy, "seed": seed}, {})
    for i, v in enumerate(values):
        records.append({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": v, "micro_f1": v / 2})


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
    assert "has no metric 'f1'; its metrics: macro_f1, micro_f1" in capsys.readouterr().err
    assert main([str(tmp_path / "runs"), "--group-by", "strategi", "-o", out]) == 2
    err = capsys.readouterr().err
    assert "--group-by 'strategi' is no setting of these runs (did you mean strategy?); known: embed_precision, seed, strategy" in err
    assert main([str(tmp_path / "runs"), "--group-by", "seed", "-o", out]) == 0
    (tmp_path / "figs").mkdir()
    for directory, message in ((str(tmp_path / "figs"), "figs is a directory; give a file path"),
                               (str(tmp_path / "new") + "/", "new ends in no extension; expected one of .png")):
        assert main([str(tmp_path / "runs"), "-o", directory]) == 2  # a folder meant: never a .png beside it
        assert message in capsys.readouterr().err
    assert not (tmp_path / "figs.png").exists() and not (tmp_path / "new.png").exists()
    assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "curves")]) == 0  # no extension: png
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"
