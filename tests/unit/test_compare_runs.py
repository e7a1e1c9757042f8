"""benchmarks/compare_runs.py: two grids' records are called identical only when they are."""
from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks.compare_runs import main


def write_run(grid, name, macro, seed=0):
    run = grid / name
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"config": {"strategy": "random", "seed": seed}}))
    lines = [json.dumps({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": v, "picked": [i], "seconds_train": i})
             for i, v in enumerate(macro)]
    (run / "rounds.jsonl").write_text("\n".join(lines) + "\n")


def test_equal_grids_are_identical(tmp_path, capsys):
    for grid in ("A", "B"):
        write_run(tmp_path / grid, "strategy-random__seed-0", [0.4, 0.5, 0.6])
        write_run(tmp_path / grid, "strategy-random__seed-1", [0.4, 0.5, 0.7], seed=1)
    assert main([str(tmp_path / "A"), str(tmp_path / "B")]) == 0
    out = capsys.readouterr().out
    assert "strategy-random__seed-0: same" in out and out.splitlines()[-1] == "2 of 2 runs identical"


def test_a_shorter_record_and_a_missing_run_are_differences(tmp_path, capsys):
    write_run(tmp_path / "A", "strategy-random__seed-0", [0.4, 0.5, 0.6])
    write_run(tmp_path / "B", "strategy-random__seed-0", [0.4])  # killed after round 0
    write_run(tmp_path / "A", "strategy-random__seed-1", [0.4, 0.5, 0.6], seed=1)  # not in B
    write_run(tmp_path / "B", "strategy-random__seed-2", [0.4, 0.5, 0.6], seed=2)  # not in A
    write_run(tmp_path / "A", "strategy-random__seed-3", [0.4, 0.5, 0.6], seed=3)
    write_run(tmp_path / "B", "strategy-random__seed-3", [0.4, 0.9], seed=3)
    assert main([str(tmp_path / "A"), str(tmp_path / "B")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[:4] == ["strategy-random__seed-0: differs: 3 vs 1 rounds",
                         f"strategy-random__seed-1: only in {tmp_path / 'A'}",
                         f"strategy-random__seed-2: only in {tmp_path / 'B'}",
                         "strategy-random__seed-3: differs from round 1 on (macro_f1) (3 vs 2 rounds)"]
    assert "identical" not in lines[-1]
    assert lines[-1] == (f"records differ: 0 of 4 runs the same, 2 differ, 1 only in {tmp_path / 'A'}, 1 only in "
                         f"{tmp_path / 'B'}")


@pytest.mark.parametrize("missing", ["A", "B"])
def test_a_missing_grid_is_an_error_in_one_line(tmp_path, capsys, missing):
    write_run(tmp_path / ("B" if missing == "A" else "A"), "strategy-random__seed-0", [0.4])
    assert main([str(tmp_path / "A"), str(tmp_path / "B")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{tmp_path / missing} is no directory" in err


def test_two_run_directories_are_compared_as_two_grids_of_one_run(tmp_path, capsys):
    write_run(tmp_path / "A", "r", [0.4, 0.5])
    write_run(tmp_path / "B", "r", [0.4, 0.5])
    write_run(tmp_path / "C", "r", [0.4, 0.6])
    a, b, c = (tmp_path / grid / "r" for grid in "ABC")
    assert main([str(a), str(b)]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{a} and {b}: same", "1 of 1 runs identical"]
    assert main([str(a), str(c)]) == 1
    assert capsys.readouterr().out.splitlines()[0] == f"{a} and {c}: differs from round 1 on (macro_f1)"


@pytest.mark.parametrize("run_first", [True, False])
def test_a_run_directory_against_a_grid_is_refused_in_one_line(tmp_path, capsys, run_first):
    """It compared them, each run of the grid 'only in' one side: '0 of 3 runs the same', exit 1."""
    for name in ("r", "s"):
        write_run(tmp_path / "A", name, [0.4, 0.5])
    write_run(tmp_path / "B", "r", [0.4, 0.5])
    run, grid = tmp_path / "B" / "r", tmp_path / "A"
    assert main([str(run), str(grid)] if run_first else [str(grid), str(run)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == (
        f"error: {run} is a run directory and {grid} a grid's output holding 2 runs; expected two of one kind: give "
        f"two grids' output directories, or two run directories (one of its runs: {grid / 'r'})\n")


def test_a_run_with_a_smaller_budget_is_said_to_be_the_other_s_rounds_cut_short(tmp_path, capsys):
    """Budget 150 against 200 at one seed said 'differs from round 1 on': its last round picks nothing, where the
    other's round 1 picks its next batch, and nothing else of round 1 differs."""
    write_run(tmp_path / "A", "r", [0.4, 0.5, 0.6])
    write_run(tmp_path / "B", "r", [0.4, 0.5])
    last = tmp_path / "B" / "r" / "rounds.jsonl"
    rounds = [json.loads(line) for line in last.read_text().splitlines()]
    rounds[-1]["picked"] = []
    last.write_text("".join(json.dumps(r) + "\n" for r in rounds))
    assert main([str(tmp_path / "A"), str(tmp_path / "B")]) == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        "r: the same 2 rounds but for the last one's picks, then 3 vs 2 rounds (the shorter run's last round "
        "picks nothing)")
    rounds[-1]["macro_f1"] = 0.9  # more than the picks differ: the round and its fields
    last.write_text("".join(json.dumps(r) + "\n" for r in rounds))
    assert main([str(tmp_path / "A"), str(tmp_path / "B")]) == 1
    assert capsys.readouterr().out.splitlines()[0] == "r: differs from round 1 on (picked, macro_f1) (3 vs 2 rounds)"


def test_two_folders_without_runs_are_an_error_that_names_both_kinds(tmp_path, capsys):
    (tmp_path / "A").mkdir()
    (tmp_path / "B").mkdir()
    assert main([str(tmp_path / "A"), str(tmp_path / "B")]) == 2
    assert "give two grids' output directories, or two run directories" in capsys.readouterr().err


def test_a_grid_folder_holding_no_run_beside_one_that_does_is_an_error(tmp_path, capsys):
    write_run(tmp_path / "A", "strategy-random__seed-0", [0.4])
    (tmp_path / "B").mkdir()
    assert main([str(tmp_path / "A"), str(tmp_path / "B")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"error: {tmp_path / 'B'} is not and holds no run directory" in err


def _cache(root, vectors):
    shard = root / "embeddings" / "model-x"
    shard.mkdir(parents=True)
    np.savez(shard / "shard-0.npz", keys=np.array(list(vectors), dtype="S16"),
             vectors=np.array(list(vectors.values()), dtype=np.float32))
    return root


def test_caches_decide_the_exit_status_and_a_wrong_cache_path_is_refused(tmp_path, capsys):
    write_run(tmp_path / "A", "r", [0.4, 0.5])
    write_run(tmp_path / "B", "r", [0.4, 0.5])
    grids = [str(tmp_path / "A"), str(tmp_path / "B")]
    same = _cache(tmp_path / "c1", {b"t1": [1.0, 0.0], b"t2": [0.0, 1.0]})
    also = _cache(tmp_path / "c2", {b"t1": [1.0, 0.0], b"t2": [0.0, 1.0], b"t3": [1.0, 1.0]})  # one more: listed
    other = _cache(tmp_path / "c3", {b"t1": [1.0, 0.0], b"t2": [0.0, 0.5]})
    assert main([*grids, "--caches", str(same), str(also)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2:] == ["embeddings model-x: 2 texts in both, 0.0 % differ, max |diff| 0; 0 only in A, 1 only in B",
                        "caches: 2 entries in both, 0 differ"]
    assert main([*grids, "--caches", str(same), str(other)]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "caches: 2 entries in both, 1 differ"
    assert main([grids[0], "--caches", str(same), str(also), grids[1]]) == 0  # the options between the directories
    assert capsys.readouterr().out.splitlines()[-1] == "caches: 2 entries in both, 0 differ"
    apart = _cache(tmp_path / "c4", {b"t9": [1.0, 0.0]})  # an al cache, but no text in both: nothing shown equal
    assert main([*grids, "--caches", str(same), str(apart)]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "caches: nothing in both to compare"
    (tmp_path / "typo").mkdir()
    for wrong in (tmp_path / "nowhere", tmp_path / "typo"):
        assert main([*grids, "--caches", str(same), str(wrong)]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err == (
            f"error: --caches {wrong} is no cache of al's (expected a folder holding embeddings/ or alps/, as "
            f"$AL_CACHE_DIR does); give the two caches the grids read\n")


def test_caches_alone_are_compared_without_run_directories(tmp_path, capsys):
    """RESULTS.md 12.14 compared two caches alone (two empty folders then); that had become an error."""
    same = _cache(tmp_path / "c1", {b"t1": [1.0, 0.0]})
    also = _cache(tmp_path / "c2", {b"t1": [1.0, 0.0]})
    other = _cache(tmp_path / "c3", {b"t1": [0.5, 0.0]})
    assert main(["--caches", str(same), str(also)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "caches: 1 entries in both, 0 differ"
    assert main(["--caches", str(same), str(other)]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "caches: 1 entries in both, 1 differ"
    (tmp_path / "e1").mkdir()
    (tmp_path / "e2").mkdir()
    assert main([str(tmp_path / "e1"), str(tmp_path / "e2"), "--caches", str(same), str(also)]) == 0  # as 12.14 did
    assert capsys.readouterr().out.splitlines()[-1] == "caches: 1 entries in both, 0 differ"
    with pytest.raises(SystemExit) as exited:
        main([str(tmp_path / "c1")])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "expected two directories to compare (A B), or --caches" in err


def test_runs_stored_with_other_settings_say_which(tmp_path, capsys):
    """A run extended to another budget in one grid differed "from round 3 on" with no word of why."""
    write_run(tmp_path / "A", "strategy-random__seed-0", [0.4, 0.5, 0.6])
    write_run(tmp_path / "B", "strategy-random__seed-0", [0.4, 0.5, 0.6, 0.7])
    stored = json.loads((tmp_path / "B" / "strategy-random__seed-0" / "config.json").read_text())
    stored["config"].update(budget=250, step=50, threads=2)  # threads changes no result: not named
    (tmp_path / "B" / "strategy-random__seed-0" / "config.json").write_text(json.dumps(stored))
    assert main([str(tmp_path / "A"), str(tmp_path / "B")]) == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        "strategy-random__seed-0: differs: 3 vs 4 rounds, settings differ: budget: 600 -> 250")
    # a component's param by its path; the same data file's bytes at another path is no difference
    for grid, C, path in (("A", 1.0, "/data/a.csv"), ("B", 0.5, "/elsewhere/a.csv")):
        config = {"config": {"strategy": "random", "seed": 0, "dataset": "csv", "data_path": path,
                             "classifier": {"name": "logreg", "params": {"C": C}}}, "data_digest": "d" * 16}
        (tmp_path / grid / "strategy-random__seed-0" / "config.json").write_text(json.dumps(config))
    assert main([str(tmp_path / "A"), str(tmp_path / "B")]) == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        "strategy-random__seed-0: differs: 3 vs 4 rounds, settings differ: classifier.params.C: 1.0 -> 0.5")
