"""benchmarks/pair_runs.py: twins matched by whole name parts, unfinished twins named, seeds in numeric order."""
from __future__ import annotations

import json

from benchmarks.pair_runs import main


def write_run(grid, name, macro, budget=200):
    run = grid / name
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"config": {"initial": 100, "step": 50, "budget": budget}}))
    lines = [json.dumps({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": v, "picked": [i]})
             for i, v in enumerate(macro)]
    (run / "rounds.jsonl").write_text("\n".join(lines) + "\n")


def table(out):
    return [line for line in out.splitlines() if line.startswith("| ") and not line.startswith("| setting")]


def test_a_value_is_matched_whole_not_as_a_substring(tmp_path, capsys):
    for step, final in ((5, 0.6), (10, 0.7), (50, 0.6), (100, 0.2)):
        write_run(tmp_path, f"step-{step}__seed-0", [0.4, 0.5, final])
    assert main([str(tmp_path), "--axis", "step", "--a", "5", "--b", "10"]) == 0
    assert table(capsys.readouterr().out) == ["| – | 0 | 1 | 2/2 | +0.0250 | +0.1000 |"]  # step-50 is no step-5


def test_seeds_are_in_numeric_order_and_named(tmp_path, capsys):
    for seed in (0, 1, 2, 10):
        write_run(tmp_path, f"embed_precision-fp32__strategy-random__seed-{seed}", [0.4, 0.5, 0.6])
        write_run(tmp_path, f"embed_precision-bf16__strategy-random__seed-{seed}", [0.4, 0.5, 0.6 + 0.01 * seed])
    assert main([str(tmp_path), "--axis", "embed_precision", "--a", "fp32", "--b", "bf16"]) == 0
    (row,) = table(capsys.readouterr().out)
    assert row == ("| strategy-random | 0, 1, 2, 10 | 1, 1, 1, 1 | 2/2, 2/2, 2/2, 2/2 | +0.0000, +0.0025, +0.0050, "
                   "+0.0250 | +0.0000, +0.0100, +0.0200, +0.1000 |")


def test_an_unfinished_or_missing_twin_is_named_and_left_out(tmp_path, capsys):
    write_run(tmp_path, "embed_precision-fp32__seed-2", [0.4, 0.5, 0.6])
    write_run(tmp_path, "embed_precision-bf16__seed-2", [0.4, 0.5, 0.7])
    write_run(tmp_path, "embed_precision-fp32__seed-3", [0.4, 0.5, 0.6])
    write_run(tmp_path, "embed_precision-bf16__seed-3", [0.4, 0.9])  # killed after round 1
    write_run(tmp_path, "embed_precision-fp32__seed-4", [0.4, 0.5, 0.6])  # its twin never ran
    assert main([str(tmp_path), "--axis", "embed_precision", "--a", "fp32", "--b", "bf16"]) == 0
    captured = capsys.readouterr()
    assert table(captured.out) == ["| – | 2 | 1 | 2/2 | +0.0250 | +0.1000 |"]
    assert ("skipped embed_precision-fp32__seed-3 against embed_precision-bf16__seed-3: "
            "embed_precision-bf16__seed-3 has 2 of 3 rounds") in captured.err
    assert "embed_precision-bf16__seed-4 is missing" in captured.err


def test_a_missing_directory_is_an_error_in_one_line(tmp_path, capsys):
    assert main([str(tmp_path / "nope"), "--axis", "x", "--a", "1", "--b", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope is no directory; give the grid's output directory" in err
    write_run(tmp_path / "grid", "x-3__seed-0", [0.4, 0.5, 0.6])
    assert main([str(tmp_path / "grid"), "--axis", "x", "--a", "1", "--b", "2"]) == 2
    assert "no finished pair of runs named x-1 and x-2" in capsys.readouterr().err
