"""Grid files: expansion, validation before anything runs, locking."""
from __future__ import annotations

import fcntl
from pathlib import Path

import pytest

from al.errors import ConfigError
from al.grid import LOCK_FILE, expand_grid, main, run_one

SPEC = {
    "out": "runs/x",
    "settings": {"classifier": "logreg", "budget": 200},
    "grid": {
        "data": [{"name": "disaster", "dataset": "disaster"},
                 {"name": "reuters", "dataset": "reuters", "data_path": "/no/such/reuters.tar.gz"}],
        "strategy": ["random", "cvirs", "not_implemented_yet"],
        "seed": [0, 1],
    },
}


def test_expansion_is_the_product(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root, runs = expand_grid(SPEC)
    assert root == tmp_path / "runs" / "x"
    assert len(runs) == 2 * 3 * 2
    names = {r.name for r in runs}
    assert "data-disaster__strategy-cvirs__seed-1" in names
    run = next(r for r in runs if r.name == "data-disaster__strategy-cvirs__seed-1")
    assert (run.config.strategy.name, run.config.seed, run.config.budget) == ("cvirs", 1, 200)
    assert Path(run.config.out) == root / run.name
    problems = {r.name: r.problem for r in runs if r.problem}
    # unknown strategies and missing data are reported before anything runs, not skipped silently
    assert "unknown strategy 'not_implemented_yet'" in problems["data-disaster__strategy-not_implemented_yet__seed-0"]
    assert "does not exist" in problems["data-reuters__strategy-random__seed-0"]
    assert len(problems) == 2 + 6  # disaster x not_implemented_yet x 2 seeds, and every reuters run


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"settings": {}}, "missing `out`"),
        ({"out": "x", "grid": {"strategy": []}}, "non-empty list"),
        ({"out": "x", "grid": {"strategee": ["random"]}}, "grid.strategee is not a setting"),
        ({"out": "x", "grid": {"data": [{"dataset": "disaster"}]}}, "needs a `name`"),
        ({"out": "x", "settings": {"budgett": 3}}, "unknown setting"),
        ({"out": "x", "extra": 1}, "unknown top-level key"),
    ],
)
def test_bad_grid_files(spec, message):
    with pytest.raises(ConfigError, match=message):
        expand_grid(spec)


def test_a_locked_run_is_busy_and_a_finished_one_complete(tmp_path):
    from al.records import RunRecords

    config = {"strategy": "random", "initial": 100, "step": 50, "budget": 150, "out": str(tmp_path / "r")}
    (tmp_path / "r").mkdir()
    with open(tmp_path / "r" / LOCK_FILE, "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another grid process is running it
        assert run_one(config)["status"] == "busy"
    records = RunRecords(tmp_path / "r")
    records.start(config, {})
    for i in range(2):
        records.append({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": 0.5, "picked": []})
    result = run_one(config)
    assert result["status"] == "complete" and result["rounds"] == 2


def test_dry_run_lists_and_reports(tmp_path, capsys):
    import yaml

    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump({**SPEC, "out": str(tmp_path / "runs")}, sort_keys=False))
    assert main([str(path), "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.split()) == 12
    assert "not run: data-disaster__strategy-not_implemented_yet__seed-0: unknown strategy" in captured.err
