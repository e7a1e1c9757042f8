"""Grid files: expansion, validation before anything runs, locking."""
from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import re
import sys
import time
from pathlib import Path

import pytest
import yaml

from al.config import SimulationConfig
from al.errors import ConfigError
from al.grid import LOCK_FILE, expand_grid, main, run_one
from strategies.random_sampling import RandomSampling

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


@pytest.mark.parametrize("name, fix", [("my/data", "my_data"), ("a\\b", "a_b"), (" ", "data")])
def test_a_mapping_named_with_a_slash_or_nothing_is_refused_not_made_folders_below_the_cell(tmp_path, name, fix):
    """name: my/data ran into runs/x/data-my/data/: a folder below the cell's, which al.report reads as a run."""
    spec = {"out": str(tmp_path / "o"), "grid": {"data": [{"name": name, "dataset": "disaster"}]}}
    with pytest.raises(ConfigError) as caught:
        expand_grid(spec, "g.yaml")
    assert str(caught.value) == (f"g.yaml: grid.data name {name!r} is no folder name for the cell's run directory "
                                 f"(a '/' makes folders below it, an empty one names nothing); give one, e.g. name: "
                                 f"{fix}")
    assert not (tmp_path / "o").exists()


def test_a_setting_every_value_of_an_axis_replaces_is_refused_as_read_by_nothing(tmp_path):
    """settings: {seed: 5} beside grid: {seed: [0]} passed the dry run without a word (the README: what would be
    read by nothing is refused, as out in settings is)."""
    out = str(tmp_path / "o")
    with pytest.raises(ConfigError, match=r"^g\.yaml: settings\.seed is read by nothing: every value of grid\.seed "
                                          r"sets seed; remove it from settings$"):
        expand_grid({"out": out, "settings": {"seed": 5}, "grid": {"seed": [0, 1]}}, "g.yaml")
    with pytest.raises(ConfigError, match=r"settings\.budget is read by nothing: every value of grid\.arm sets "
                                          r"budget; remove it from settings, or from the values of grid\.arm"):
        expand_grid({"out": out, "settings": {"budget": 300}, "grid": {"arm": [
            {"name": "a", "budget": 200}, {"name": "b", "budget": 250}]}}, "g.yaml")
    # read where one value leaves it, or where a component merges its params: no refusal
    _, runs = expand_grid({"out": out, "settings": {"budget": 300}, "grid": {"arm": [
        {"name": "a", "budget": 200}, {"name": "b", "seed": 1}]}}, "g.yaml")
    assert [r.config.budget for r in runs] == [200, 300]
    _, runs = expand_grid({"out": out, "settings": {"classifier": {"name": "logreg", "params": {"C": 2}}},
                           "grid": {"classifier": ["logreg", "knn"]}}, "g.yaml")
    assert runs[0].config.classifier.params == {"C": 2}


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
        ({"out": "x", "grid": {"strategy": "random"}}, r"grid.strategy must be a non-empty list, got 'random'; e.g. "
                                                       r"strategy: \[random\] \(a value every simulation shares goes in "
                                                       r"settings\)$"),
        ({"out": "x", "grid": {"strategee": ["random"]}}, "grid.strategee is not a setting"),
        ({"out": "x", "grid": {"data": [{"dataset": "disaster"}]}}, "needs a `name`"),
        ({"out": "x", "settings": {"budgett": 3}}, "unknown setting"),
        ({"out": "x", "extra": 1}, "unknown top-level key"),
        ({"out": "x", "setings": {}}, "unknown top-level key\\(s\\) \\['setings'\\] \\(did you mean settings\\?\\)"),
        ({"out": "x", "settings": {"threads": 1}}, "threads is set by --workers in a grid"),
        ({"out": "x", "settings": {"out": "runs/zzz"}}, r"^grid: out in settings is read by nothing: each run of a "
                                                         r"grid goes to its cell's folder below the file's top-level "
                                                         r"out"),
        ({"out": "x", "budget": 600, "strategyy": 1}, r"\['budget', 'strategyy'\] \(budget is a setting: put it under "
                                                      r"`settings:`, or list values under `grid:`\)"),
        ({"strategy": "cvirs", "budget": 600, "seed": 0}, r"grid holds one simulation's settings \(budget, seed, "
                                                          r"strategy\), not a grid; run it with python -m al.simulate "
                                                          r"--config grid, or put them under `settings:`"),
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
        records.append({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": 0.5,
                        "picked": [0] * (50 if 100 + 50 * i < config["budget"] else 0)})
    result = run_one(config)
    assert result["status"] == "complete" and result["rounds"] == 2


def stored_run(config: dict, n_rounds: int) -> None:
    """``config``'s run directory holding its first ``n_rounds`` rounds (initial 100, step 50; each round picks a
    batch of 50 but the budget's last), as al.simulate stores them."""
    from al.records import RunRecords

    records = RunRecords(Path(config["out"]))
    records.start(SimulationConfig(**config).resolved(), {})
    for i in range(n_rounds):
        records.append({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": 0.5,
                        "picked": [0] * (50 if 100 + 50 * i < config["budget"] else 0)})


def test_a_finished_run_with_other_settings_fails_and_is_not_counted_complete(tmp_path):
    """An edited grid file (here a smaller budget, so the old run holds enough rounds) must not reuse old runs."""
    config = {"strategy": "random", "initial": 100, "step": 50, "budget": 200, "out": str(tmp_path / "r")}
    stored_run(config, 3)
    result = run_one({**config, "budget": 150, "strategy": "cvirs"})
    assert result["status"] == "failed"
    assert "other settings" in result["message"] and "budget: 200 -> 150" in result["message"]
    assert "strategy" in result["message"]
    edited = run_one({**config, "classifier": {"name": "logreg", "params": {"C": 0.5}}})
    assert edited["status"] == "failed" and "classifier.params.C: 1.0 -> 0.5" in edited["message"]
    assert run_one(config)["status"] == "complete"  # the unchanged grid still finds it finished
    assert run_one({**config, "device": "cpu"})["status"] == "complete"  # a setting that changes no result


def test_a_run_whose_code_raises_fails_alone_in_one_line_naming_where(tmp_path, monkeypatch):
    """A bug in one run's code (a plugin's, not an al error) is that run's failure: the grid goes on with the rest."""
    import al.simulate

    def broken(config, quiet=False):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(al.simulate, "run_as_command", broken)
    result = run_one({"strategy": "random", "initial": 100, "step": 50, "budget": 150, "out": str(tmp_path / "r")})
    line = broken.__code__.co_firstlineno + 1
    assert result["status"] == "failed"
    assert result["message"] == f"RuntimeError: boom second line (at {__file__}:{line})"


def test_a_preparation_whose_code_raises_fails_in_one_line(monkeypatch):
    import al.simulate
    from al.grid import prepare_one

    def broken(config):
        raise KeyError("no such pool")

    monkeypatch.setattr(al.simulate, "build_simulation", broken)
    result = prepare_one({"strategy": "alps"}, "strategy")
    assert result["status"] == "failed"
    assert result["message"] == f"KeyError: 'no such pool' (at {__file__}:{broken.__code__.co_firstlineno + 1})"


def test_a_finished_run_whose_data_moved_with_it_is_still_complete(tmp_path):
    """Runs and their data copied to another machine: the stored path is gone, the data file's digest is the same."""
    from al.records import RunRecords
    from al.simulate import data_file_digest

    data = tmp_path / "a" / "texts.csv"
    data.parent.mkdir()
    data.write_text("text,a,b\nx,1,0\n")
    config = {"strategy": "random", "dataset": "csv", "data_path": str(data), "initial": 100, "step": 50,
              "budget": 150, "out": str(tmp_path / "r")}
    records = RunRecords(tmp_path / "r")
    records.start(SimulationConfig(**config).resolved(), {"data_digest": data_file_digest(str(data))})
    for i in range(2):
        records.append({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": 0.5,
                        "picked": [0] * (50 if 100 + 50 * i < config["budget"] else 0)})
    moved = tmp_path / "b" / "texts.csv"
    moved.parent.mkdir()
    data.rename(moved)
    assert run_one({**config, "data_path": str(moved)})["status"] == "complete"
    moved.write_text("text,a,b\ny,0,1\n")  # other data under the new name
    result = run_one({**config, "data_path": str(moved)})
    assert result["status"] == "failed" and "data_path" in result["message"]


def test_a_finished_run_on_a_re_saved_data_file_is_complete_and_on_other_texts_failed(tmp_path, monkeypatch):
    """A data file converted to CRLF: other bytes, the same corpus; the run is complete and stays as it is."""
    from al.records import RunRecords
    from al.simulate import data_file_digest, load_config_corpus

    monkeypatch.setattr("al.simulate._LOADED_CORPORA", {})
    data = _csv(tmp_path / "texts.csv")
    config = {"strategy": "random", "dataset": "csv", "data_path": str(data), "labels": ["a", "b"], "initial": 100,
              "step": 50, "budget": 150, "out": str(tmp_path / "r")}
    records = RunRecords(tmp_path / "r")
    corpus_digest = load_config_corpus(SimulationConfig(**config)).digest()
    records.start(SimulationConfig(**config).resolved(),
                  {"data_digest": data_file_digest(str(data)), "corpus_digest": corpus_digest})
    for i in range(2):
        records.append({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": 0.5,
                        "picked": [0] * (50 if 100 + 50 * i < config["budget"] else 0)})
    before = {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()}
    data.write_bytes(data.read_bytes().replace(b"\n", b"\r\n"))
    assert run_one(config)["status"] == "complete"
    assert {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()} == before
    data.write_text(data.read_text().replace("pool 7,", "pool seven,"))  # another text
    result = run_one(config)
    assert result["status"] == "failed" and "\n" not in result["message"]
    assert "the texts, labels or splits it reads changed: corpus_digest" in result["message"]


def test_a_finished_run_is_compared_without_writing_to_it(tmp_path, monkeypatch):
    """Finished runs may sit in a read-only archive: telling them complete writes nothing, probes nothing."""
    from al.records import RunRecords

    config = {"strategy": "random", "initial": 100, "step": 50, "budget": 150, "out": str(tmp_path / "r")}
    records = RunRecords(tmp_path / "r")
    records.start(SimulationConfig(**config).resolved(), {})
    for i in range(2):
        records.append({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": 0.5,
                        "picked": [0] * (50 if 100 + 50 * i < config["budget"] else 0)})
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "r").iterdir()}

    def no_probe(self):
        raise AssertionError("a finished run was probed for writing")

    monkeypatch.setattr(RunRecords, "check_writable", no_probe)
    assert run_one(config)["status"] == "complete"
    from al.simulate import run

    assert [r["round"] for r in run(SimulationConfig(**config), quiet=True)] == [0, 1]  # al.simulate: the same
    (tmp_path / "afile").write_text("")
    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "afile"))  # no cache to read from: a finished run needs none
    assert [r["round"] for r in run(SimulationConfig(**config), quiet=True)] == [0, 1]
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "r").iterdir()} == before


def test_two_cells_that_are_one_simulation_once_defaults_are_filled_in_are_refused(tmp_path, capsys):
    """cvirs and cvirs given threshold 0.5, its default: the grid ran both, and al.report and al.plot then refused
    the grid's folder as holding one simulation twice."""
    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{budget: 150}}\ngrid:\n  strategy: [random, cvirs, "
                    f"{{name: cvirs, params: {{threshold: 0.5}}}}, {{name: cvirs, params: {{threshold: 0.3}}}}]\n"
                    f"  seed: [0, 1]\n")
    for dry in (["--dry-run"], []):
        assert main([str(path), *dry]) == 2
        assert capsys.readouterr().err == (
            f"error: {path}: cells strategy-cvirs__seed-0 and strategy-cvirs_threshold=0.5__seed-0 are the same "
            f"simulation (their settings are equal once every component's defaults are filled in); cells "
            f"strategy-cvirs__seed-1 and strategy-cvirs_threshold=0.5__seed-1 are the same simulation (their settings "
            f"are equal once every component's defaults are filled in); each would be run twice, and al.report and "
            f"al.plot refuse a folder holding both: list it once\n")
        assert not (tmp_path / "o").exists()
    path.write_text(path.read_text().replace("threshold: 0.5", "threshold: 0.4"))
    assert main([str(path), "--dry-run"]) == 0
    capsys.readouterr()
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{budget: 150}}\ngrid:\n  classifier: [logreg, {{name: logreg, "
                    f"params: {{threshold: 0.5}}}}]\n")  # logreg's default written "fixed": 0.5 is the same run
    assert main([str(path), "--dry-run"]) == 2
    assert "cells classifier-logreg and classifier-logreg_threshold=0.5 are the same simulation" in \
        capsys.readouterr().err


def test_the_dry_run_names_an_encoder_space_max_length_its_model_cannot_read(tmp_path, capsys):
    """Each run refuses it at once; the dry run said ready."""
    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{budget: 150, space: {{name: cea, params: {{max_length: "
                    f"9999}}}}, space_scope: encoder}}\ngrid: {{seed: [0, 1]}}\n")
    assert main([str(path), "--dry-run"]) == 2
    assert ("will fail: seed-0, seed-1: space 'cea' (encoder scope) max_length 9999 is more tokens than "
            "all-MiniLM-L6-v2 reads (512: its position embeddings)") in capsys.readouterr().err


def test_a_grid_run_in_this_process_leaves_the_progress_display_as_it_was(tmp_path, monkeypatch):
    """A one-worker grid runs its simulations in this process, quiet: the quiet stayed on after it (a later run from
    the same Python session, or test, showed no progress)."""
    import al.progress
    from al import grid

    monkeypatch.setattr(al.progress, "_quiet", False)
    with grid._in_worker(False):  # how a task runs
        assert al.progress.is_quiet()
    assert not al.progress.is_quiet()


def test_the_dry_run_names_a_gpu_this_machine_lacks(tmp_path, capsys, monkeypatch):
    """device: cuda on a machine without one was 'ready' in the dry run; each run then failed on it."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{budget: 150, device: cuda}}\ngrid: {{seed: [0, 1]}}\n")
    assert main([str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "will fail: seed-0, seed-1: device 'cuda' asked for, but no CUDA GPU is visible" in err, err
    assert "ready" not in err


def test_the_dry_run_says_which_runs_are_new_which_resume_and_which_are_complete(tmp_path, capsys, monkeypatch):
    """A grid run again after it finished runs nothing, and its dry run listed the names alone: nothing said so."""
    from al.records import RunRecords

    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{strategy: random, initial: 100, step: 50, budget: 150}}\n"
                    f"grid: {{seed: [0, 1, 2]}}\n")
    for seed, rounds in ((0, 2), (1, 1)):  # seed-0 finished, seed-1 stopped after round 0, seed-2 never began
        config = {"strategy": "random", "initial": 100, "step": 50, "budget": 150, "seed": seed,
                  "out": str(tmp_path / "o" / f"seed-{seed}")}
        records = RunRecords(tmp_path / "o" / f"seed-{seed}")
        records.start(SimulationConfig(**config).resolved(), {})
        for i in range(rounds):
            records.append({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": 0.5, "picked": [0] * 50 * (1 - i)})
    assert main([str(path), "--dry-run"]) == 0
    assert capsys.readouterr().err.splitlines()[1:] == ["  ready: 1 new, 1 to resume (after 1 of 2 rounds), 1 complete"]
    path.write_text(path.read_text().replace("[0, 1, 2]", "[0]"))
    assert main([str(path), "--dry-run"]) == 0
    assert capsys.readouterr().err.splitlines()[1:] == ["  ready: 1 complete (nothing to run)"]
    from al import grid

    configs = [SimulationConfig(strategy="random", initial=100, step=50, budget=150, seed=seed,
                                out=str(tmp_path / "o" / f"seed-{seed}")) for seed in (0, 1)]
    monkeypatch.setattr(grid, "kept_rounds", lambda config: None if config.seed == 1 else 2)
    assert grid.readiness(configs) == "ready: 1 complete, 1 whose records cannot be read here"  # not "new"


def test_damaged_records_fail_their_run_alone_and_the_dry_run_names_them(tmp_path, capsys):
    """A rounds.jsonl cut short in one run stopped the whole grid with a traceback (exit 1), and --dry-run passed
    it, as it passed an empty config.json."""
    from al.records import RunRecords

    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{strategy: random, initial: 100, step: 50, budget: 150}}\n"
                    f"grid: {{seed: [0, 1, 2]}}\n")
    for seed in (0, 1, 2):
        config = {"strategy": "random", "initial": 100, "step": 50, "budget": 150, "seed": seed,
                  "out": str(tmp_path / "o" / f"seed-{seed}")}
        records = RunRecords(tmp_path / "o" / f"seed-{seed}")
        records.start(SimulationConfig(**config).resolved(), {})
        for i in range(2):
            records.append({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": 0.5,
                        "picked": [0] * (50 if 100 + 50 * i < config["budget"] else 0)})
    rounds = tmp_path / "o" / "seed-1" / "rounds.jsonl"
    rounds.write_bytes(rounds.read_bytes()[:-20])
    (tmp_path / "o" / "seed-2" / "config.json").write_text("")
    assert main([str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.count("will fail: ") == 2 and f"will fail: seed-1: {rounds} line 2 is not JSON" in err, err
    assert "delete that line alone: the run then resumes after its 1 finished round" in err
    assert "will fail: seed-2: " in err and "config.json" in err
    assert main([str(path), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "complete seed-0" in err.replace("  ", " "), err
    assert f"  failed: seed-1: {rounds} line 2 is not JSON" in err and "  failed: seed-2: " in err, err
    assert "1 complete, 2 failed" in err


def test_dry_run_reads_each_corpus_once_and_names_the_runs_its_labels_fail(tmp_path, capsys, monkeypatch):
    """A grid whose data cannot give the labels it asks for (10 of a 2-label file) failed every run at once while
    --dry-run said rc 0; now the dry run reads each corpus (once) and names them."""
    import al.simulate

    read = []
    real = al.simulate.load_config_corpus
    monkeypatch.setattr(al.simulate, "load_config_corpus", lambda config: read.append(config.seed) or real(config))
    data = _csv(tmp_path / "d.csv")
    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{dataset: csv, data_path: {data}, initial: 10, step: 5, "
                    f"budget: 20, n_frequent: 5, n_rare: 5}}\ngrid: {{seed: [0, 1]}}\n")  # asked for: not kept
    assert main([str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.count("will fail: ") == 1 and "will fail: seed-0, seed-1: corpus 'd' has 2 labels" in err, err
    assert "but 5 frequent + 5 rare = 10 were asked for" in err and len(read) == 1
    assert main([str(path), "--workers", "1"]) == 2  # run, they fail at once and leave no folder behind
    assert err.count("seed-") and not (tmp_path / "o").exists()
    capsys.readouterr()
    path.write_text(path.read_text().replace("n_frequent: 5, n_rare: 5}", "labels: [a, b]}"))
    assert main([str(path), "--dry-run"]) == 0
    assert "will fail" not in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_the_dry_run_names_what_the_data_refuses_of_a_cell_other_settings_refuse_too(tmp_path, capsys):
    """A budget beyond the pool beside a misspelt strategy param: the dry run named the param alone, and the budget
    only once the param was mended (README: a dry run shows all there is to fix)."""
    data = _csv(tmp_path / "d.csv")
    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{dataset: csv, data_path: {data}, labels: [a, b], initial: 10, "
                    f"step: 5, budget: 5000}}\ngrid: {{strategy: [{{name: cvirs, params: {{treshold: 0.3}}}}]}}\n")
    assert main([str(path), "--dry-run"]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if "not run:" in line]
    assert len(lines) == 2 and "has no parameter 'treshold'" in lines[0], lines
    assert lines[1].startswith("  not run: strategy-cvirs_treshold=0.3: budget (5000) is larger than the pool (")
    assert "lower budget to at most" in lines[1]  # in the file's words
    path.write_text(path.read_text().replace("budget: 5000", "budget: -5"))  # a size refused itself: said once
    assert main([str(path), "--dry-run"]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if "not run:" in line]
    assert len(lines) == 2 and "budget must be a positive integer" in lines[0] + lines[1], lines


def test_a_grid_on_a_file_with_fewer_labels_than_the_default_pick_keeps_them_all_as_a_lone_run_does(tmp_path, capsys,
                                                                                                       monkeypatch):
    """A grid file naming no labels nor counts on a 2-label file failed every run (but 5 frequent + 5 rare = 10
    were asked for), where al.simulate with the same settings keeps both labels with a note."""
    import al.simulate

    read = []
    real = al.simulate.load_config_corpus
    monkeypatch.setattr(al.simulate, "load_config_corpus",
                        lambda config, **kwargs: read.append(config.seed) or real(config, **kwargs))
    monkeypatch.chdir(tmp_path)
    data = _csv(tmp_path / "d.csv")
    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{dataset: csv, data_path: {data}, initial: 10, step: 5, "
                    f"budget: 20}}\ngrid: {{strategy: [random], seed: [0, 1]}}\n")
    note = ("note: d.csv has 2 eligible labels, fewer than the default 5 frequent + 5 rare: keeping all 2 (1 frequent "
            "+ 1 rare, as n_frequent: 1 n_rare: 1); labels or n_frequent/n_rare pick others")
    assert main([str(path), "--dry-run"]) == 0
    err = capsys.readouterr().err
    assert err.splitlines()[0] == note and "will fail" not in err and "ready: 2 new" in err, err
    assert len(read) == 2  # the file read once for the two cells' pick, once by the dry run's look at the data
    assert main([str(path), "--quiet"]) == 0
    assert capsys.readouterr().err.splitlines()[0] == note  # --quiet too: what the runs read
    stored = json.loads((tmp_path / "o" / "strategy-random__seed-0" / "config.json").read_text())["config"]
    assert (stored["n_frequent"], stored["n_rare"]) == (1, 1)
    # a lone run of the same settings is the same run: it finds it complete
    assert al.simulate.main(["--dataset", "csv", "--data-path", str(data), "--initial", "10", "--step", "5",
                             "--budget", "20", "--strategy", "random", "--seed", "1",
                             "--out", str(tmp_path / "o" / "strategy-random__seed-1")]) == 0
    assert "complete" in capsys.readouterr().err
    assert main([str(path), "--quiet"]) == 0  # and the grid resumes its finished runs


def test_a_setting_changed_under_finished_runs_is_one_line_with_the_grid_s_way_to_resume(tmp_path, capsys):
    """C: 1.0 -> 0.5 in the grid file over four finished runs gave four lines of 300 characters, each naming its
    run's folder in a lone run's advice (give the settings again with --out DIR)."""
    data = _csv(tmp_path / "d.csv")
    path = tmp_path / "g.yaml"
    spec = (f"out: {tmp_path / 'o'}\nsettings: {{dataset: csv, data_path: {data}, initial: 10, step: 5, budget: 15, "
            f"labels: [a, b], classifier: {{name: logreg, params: {{C: 1.0}}}}}}\n"
            f"grid: {{strategy: [random, cvirs], seed: [0, 1]}}\n")
    path.write_text(spec)
    assert main([str(path), "--quiet"]) == 0
    capsys.readouterr()
    path.write_text(spec.replace("C: 1.0", "C: 0.5"))
    expected = ("strategy-random__seed-0, strategy-random__seed-1, strategy-cvirs__seed-0 and 1 more: its directory "
                "holds a run with other settings (classifier.params.C: 1.0 -> 0.5); give the grid file the settings "
                "it was made with again (before each ->) to resume it, or pass another --out or remove that directory")
    assert main([str(path), "--dry-run"]) == 2
    assert [line for line in capsys.readouterr().err.splitlines() if "will fail" in line] == [
        f"  will fail: {expected}"]
    assert main([str(path)]) == 2
    assert [line for line in capsys.readouterr().err.splitlines() if "failed:" in line] == [f"  failed: {expected}"]


def test_more_workers_than_cores_is_warned_of(tmp_path, capsys, monkeypatch):
    """--workers 64 on 2 cores was taken without a word: 64 processes, each its own model, taking turns."""
    import al.grid

    data = _csv(tmp_path / "d.csv")
    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{dataset: csv, data_path: {data}, initial: 10, step: 5, "
                    f"budget: 15, labels: [a, b]}}\ngrid: {{seed: [0, 1]}}\n")
    monkeypatch.setattr(al.grid, "available_cores", lambda: 2)
    assert main([str(path), "--workers", "2", "--dry-run"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert main([str(path), "--workers", "64", "--dry-run"]) == 0
    assert capsys.readouterr().err.splitlines()[0] == (
        "warning: --workers 64 runs up to 64 simulations at once on 2 cores: they take turns on them, one thread "
        "each, and each holds its own model and data in memory; --workers 2 keeps every core busy")


def test_a_budget_or_initial_set_beyond_the_pool_is_named_by_the_dry_run_in_the_files_words(tmp_path, capsys,
                                                                                              monkeypatch):
    """A budget larger than the pool passed --dry-run (rc 0), then failed its run saying "lower --budget" (a flag
    the grid file has not) and left an empty run folder; a cell without labels said "give --labels"."""
    import al.simulate

    read = []
    real = al.simulate.load_config_corpus
    monkeypatch.setattr(al.simulate, "load_config_corpus", lambda config: read.append(config.budget) or real(config))
    data = _csv(tmp_path / "d.csv")  # 40 labeled pool texts
    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{dataset: csv, data_path: {data}, initial: 10, step: 5, "
                    f"labels: [a, b]}}\ngrid: {{budget: [20, 50]}}\n")
    assert main([str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert ("will fail: budget-50: budget (50) is larger than the pool (40 texts); lower budget to at most 40, "
            "or give data whose pool holds more texts (the pool is the texts of the train split that carry a kept "
            "label)\n") in err, err
    assert err.count("will fail") == 1 and len(read) == 1  # read once for both cells
    assert main([str(path), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert ("failed   budget-50  budget (50) is larger than the pool (40 texts); lower budget to at most 40, or "
            "give data whose pool holds more texts (the pool is the texts of the train split that carry a kept "
            "label)  (") in err, err
    assert sorted(p.name for p in (tmp_path / "o").iterdir() if p.is_dir()) == ["budget-20"]  # no empty folder
    path.write_text(f"out: {tmp_path / 'o2'}\nsettings: {{dataset: csv, data_path: {data}, initial: 10, step: 5, "
                    f"budget: 20, n_frequent: 0, n_rare: 0}}\ngrid: {{seed: [0]}}\n")
    assert main([str(path), "--dry-run"]) == 2
    assert "not run: seed-0: no labels asked for: give labels, or n_frequent/n_rare above 0" in capsys.readouterr().err


def test_messages_met_by_a_files_run_name_its_settings_as_the_file_does():
    from al.simulate import in_file_terms

    assert in_file_terms("lower --initial, or keep more pool texts (--pool-size)") == (
        "lower initial, or keep more pool texts (pool_size)")
    assert in_file_terms("lower --frequent/--rare (--frequent 3 --rare 3 keeps all 6) or name them with --labels") == (
        "lower n_frequent/n_rare (n_frequent: 3 n_rare: 3 keeps all 6) or name them with labels")
    assert in_file_terms("add --space NAME (cea, snnl); use --classifier bert, or --space and --space-for") == (
        "add space: NAME (cea, snnl); use classifier: bert, or space and space_for")
    assert in_file_terms("give --strategy-param k=1 and --label-sep ';' with --threshold 0.3") == (
        "give strategy params k=1 and data_options label_sep ';' with classifier params threshold 0.3")
    assert in_file_terms("got --step -1; give --data-path x.csv") == "got step: -1; give data_path: x.csv"
    assert in_file_terms("leave --label-sep (data_options label_sep) out; pool_size (--pool-size) must") == (
        "leave data_options label_sep out; pool_size must")  # a flag beside its file key: said once
    assert in_file_terms("--workers 2, --out x, --seeds, ---budget, a--budget") == (
        "--workers 2, --out x, --seeds, ---budget, a--budget")  # the grid's own flags, and no flag of simulate's


def test_dry_run_lists_and_reports(tmp_path, capsys):
    import yaml

    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump({**SPEC, "out": str(tmp_path / "runs")}, sort_keys=False))
    assert main([str(path), "--dry-run"]) == 2  # as the grid would end: a cell cannot run
    captured = capsys.readouterr()
    assert len(captured.out.split()) == 12
    not_run = [line for line in captured.err.splitlines() if line.startswith("  not run: ")]
    assert len(not_run) == 2, captured.err  # one line per reason, naming the runs it stops (the rest counted)
    # every problem of a cell: reuters' cells of the unknown strategy are named for it too, not for their path alone
    assert not_run[0].startswith("  not run: data-disaster__strategy-not_implemented_yet__seed-0, "
                                 "data-disaster__strategy-not_implemented_yet__seed-1, "
                                 "data-reuters__strategy-not_implemented_yet__seed-0 and 1 more: unknown "
                                 "strategy"), not_run
    assert not_run[1] == ("  not run: data-reuters__strategy-random__seed-0, data-reuters__strategy-random__seed-1, "
                          "data-reuters__strategy-cvirs__seed-0 and 3 more: data path /no/such/reuters.tar.gz does not "
                          "exist; fix data_path")


def test_a_dry_run_whose_reader_went_away_still_exits_with_what_it_found(tmp_path):
    """``al.grid g.yaml --dry-run 2>&1 | head -1`` exited 0 where it found cells that cannot run: the closed pipe
    ended the command as one whose work was done. Its checks go on, unsaid, and it exits 2 (0 for a clean grid)."""
    import subprocess

    import yaml

    def dry_run(spec: dict) -> int:
        path = tmp_path / "g.yaml"
        path.write_text(yaml.safe_dump({**spec, "out": str(tmp_path / "runs")}, sort_keys=False))
        env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
        child = subprocess.Popen([sys.executable, "-m", "al.grid", str(path), "--dry-run"], cwd=tmp_path,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)  # 2>&1
        child.stdout.close()  # the reader goes away before the first line
        return child.wait()

    assert dry_run(SPEC) == 2  # a traceback would exit 1, a command taken for done 0
    clean = {"settings": {"budget": 200}, "grid": {"strategy": ["random"], "seed": [0]}}
    assert dry_run(clean) == 0


def _csv(path: Path, n: int = 60, flip: int = 30) -> Path:
    lines = ["text,a,b,split"] + [f"pool {i},{int(i < flip)},{int(i % 3 == 0)},train" for i in range(n)]
    lines += [f"dev {i},{int(i < 10)},{int(i % 2)},dev" for i in range(20)]
    lines += [f"test {i},{int(i < 10)},{int(i % 2)},test" for i in range(20)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_worker_parses_a_corpus_once_and_again_when_its_file_changes(tmp_path, monkeypatch):
    """Simulations in one process share the parsed corpus (read-only); an edited file is parsed anew."""
    import al.datasets
    from al.config import SimulationConfig
    from al.simulate import load_config_corpus

    monkeypatch.setattr("al.simulate._LOADED_CORPORA", {})
    parsed = []
    real = al.datasets.load_corpus
    monkeypatch.setattr(al.datasets, "load_corpus", lambda *a, **k: parsed.append(a) or real(*a, **k))
    path = _csv(tmp_path / "data.csv")
    config = SimulationConfig(dataset="csv", data_path=str(path), labels=("a", "b"), seed=0)
    first = load_config_corpus(config)
    assert load_config_corpus(SimulationConfig(dataset="csv", data_path=str(path), labels=("a", "b"), seed=3)) is first
    assert len(parsed) == 1
    with pytest.raises(ValueError, match="read-only"):
        first.texts[0] = "changed"
    with pytest.raises(ValueError, match="read-only"):
        first.splits["train"][0] = 1
    assert load_config_corpus(SimulationConfig(dataset="csv", data_path=str(path), labels=("a",))) is not first
    _csv(path, flip=20)  # same size, other labels
    again = load_config_corpus(config)
    assert len(parsed) == 3 and again is not first
    assert again.label_counts("train").tolist() != first.label_counts("train").tolist()


def test_one_embedding_cache_per_directory_per_process(tmp_path):
    """A worker reads each shard once; shards another process adds are still found."""
    import numpy as np

    from al.embedders import EmbeddingCache

    shared = EmbeddingCache.open(tmp_path / "emb")
    assert EmbeddingCache.open(tmp_path / "emb") is shared
    assert EmbeddingCache.open(tmp_path / "other") is not shared
    keys = np.array([b"k1", b"k2"], dtype="S16")
    EmbeddingCache(tmp_path / "emb").add(keys, np.eye(2, dtype=np.float32))  # as another process would
    found, vectors = shared.lookup(keys)
    assert found.all() and np.array_equal(vectors, np.eye(2, dtype=np.float32))


class FakeWorkers:
    """Simulated time for :func:`al.grid.dispatch`: runs named ``fill:X`` fill cache X, ``need:X`` read it.

    (``need:X#1``: a second reader of X). A run that needs X while X's filler is in flight comes back ``deferred`` at once
    when started with ``defer``, else waits for the filler to end; each run takes
    ``seconds[name]``.
    """

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds, self.now, self.ends, self.filled = seconds, 0.0, {}, set()
        self.started: list[tuple[str, bool, float]] = []

    def start(self, run, defer):
        cache = run.name.split(":")[1].split("#")[0] if ":" in run.name else None
        filler = next((h for h, (r, _, _) in self.ends.items() if r.name == f"fill:{cache}"), None)
        handle = object()
        self.started.append((run.name, defer, self.now))
        if run.name.startswith("need:") and cache not in self.filled and filler is not None:
            if defer:
                self.ends[handle] = (run, self.now, "deferred")
                return handle
            self.ends[handle] = (run, self.ends[filler][1] + self.seconds[run.name], "done")
            return handle
        self.ends[handle] = (run, self.now + self.seconds[run.name], "done")
        return handle

    def wait_any(self, handles):
        first = min(self.ends[h][1] for h in handles)
        self.now = first
        done = [h for h in handles if self.ends[h][1] == first]
        out = []
        for h in done:
            run, _, status = self.ends.pop(h)
            if status == "done" and run.name.startswith("fill:"):
                self.filled.add(run.name.split(":")[1])
            out.append((h, {"status": status, "seconds": 0.0}))
        return out


def fake_runs(names):
    from al.config import SimulationConfig
    from al.grid import GridRun

    return [GridRun(name, SimulationConfig()) for name in names]


def test_dispatch_runs_other_work_while_a_cache_is_filled_and_yields_each_run_once():
    from al.grid import dispatch

    names = ["fill:d", "need:d#1", "need:d#2", "other-1", "other-2"]
    workers = FakeWorkers({"fill:d": 10, "need:d#1": 1, "need:d#2": 1, "other-1": 5, "other-2": 5})
    finished = [(r.name, res["status"], workers.now) for r, res in
                dispatch(fake_runs(names), 2, workers.start, workers.wait_any)]
    assert sorted(n for n, _, _ in finished) == sorted(names)  # each once, never as "deferred"
    assert {s for _, s, _ in finished} == {"done"}
    # the second worker deferred both readers at once and ran the others while the filler ran
    assert [(n, d) for n, d, t in workers.started if t == 0] == [
        ("fill:d", True), ("need:d#1", True), ("need:d#2", True), ("other-1", True)]
    assert ("other-2", False, 5.0) in workers.started
    # the readers came back after the filler ended, not after other-1 did, and ran on a warm cache
    assert [(n, t) for n, _, t in workers.started if n.startswith("need")][2:] == [("need:d#1", 10.0), ("need:d#2", 10.0)]
    assert workers.now == 11.0  # with the second worker waiting on the lock instead: 16


def test_dispatch_starts_a_deferred_run_to_wait_when_nothing_else_is_left():
    from al.grid import dispatch

    workers = FakeWorkers({"fill:d": 10, "need:d": 1, "other": 1})
    finished = list(dispatch(fake_runs(["fill:d", "need:d", "other"]), 2, workers.start, workers.wait_any))
    assert sorted(r.name for r, _ in finished) == ["fill:d", "need:d", "other"]
    # deferred while "other" was left to start; once nothing was, started again to wait for the lock
    assert [(n, d) for n, d, _ in workers.started if n == "need:d"] == [("need:d", True), ("need:d", False)]
    assert workers.now == 11.0


def test_dispatch_starts_a_task_after_those_it_waits_for_and_runs_others_meanwhile():
    """``waits_for``: each run after the preparations it reads; a failed one releases its waiters too (they compute
    what it did not)."""
    from al.grid import dispatch

    runs = fake_runs(["alps-a", "alps-b", "emb-a", "emb-b", "run-a", "run-b", "free"])
    by = {r.name: r for r in runs}
    needs = {"run-a": ["alps-a", "emb-a"], "run-b": ["alps-b", "emb-b"]}
    workers = FakeWorkers({"alps-a": 10, "alps-b": 4, "emb-a": 2, "emb-b": 2, "run-a": 1, "run-b": 1, "free": 1})
    names: dict[object, str] = {}

    def start(run, defer):
        handle = workers.start(run, defer)
        names[handle] = run.name
        return handle

    def wait_any(handles):  # alps-b fails: its waiters start all the same
        return [(h, {**res, "status": "failed"} if names[h] == "alps-b" else res)
                for h, res in workers.wait_any(handles)]

    finished = [(r.name, res["status"]) for r, res in dispatch(
        runs, 2, start, wait_any, waits_for=lambda task: [by[n] for n in needs.get(task.name, [])])]
    assert sorted(finished) == sorted([("alps-b", "failed")] + [(n, "done") for n in by if n != "alps-b"])
    began = {name: t for name, _, t in workers.started}
    # run-b waited for alps-b and emb-b, "free" went ahead of run-a, which waited for alps-a
    assert began == {"alps-a": 0, "alps-b": 0, "emb-a": 4, "emb-b": 6, "run-b": 8, "free": 9, "run-a": 10}
    assert [defer for name, defer, _ in workers.started if name == "run-a"] == [False]  # nothing else to start


def test_a_cycle_of_waits_cannot_hang_dispatch():
    from al.grid import dispatch

    runs = fake_runs(["a", "b"])
    workers = FakeWorkers({"a": 1, "b": 1})
    cyclic = {"a": runs[1], "b": runs[0]}
    calls = []

    def start(run, defer):
        calls.append(run.name)
        assert len(calls) < 10, "dispatch keeps starting"
        return workers.start(run, defer)

    finished = dispatch(runs, 1, start, workers.wait_any, waits_for=lambda t: [cyclic[t.name]])
    assert sorted(r.name for r, _ in itertools.islice(finished, 10)) == ["a", "b"]


def test_dispatch_tells_equal_tasks_apart():
    """Two equal tasks, one waiting: each starts once, the waiting one after what it waits for."""
    from al.grid import dispatch

    first, second, prepared = fake_runs(["same", "same", "prepared"])
    workers = FakeWorkers({"same": 1, "prepared": 3})
    started = []

    def start(run, defer):
        started.append(id(run))
        return workers.start(run, defer)

    list(dispatch([first, second, prepared], 2, start, workers.wait_any,
                  waits_for=lambda t: [prepared] if t is first else []))
    assert started == [id(second), id(prepared), id(first)]


def test_a_preparation_set_aside_at_a_busy_cache_keeps_its_readers_waiting():
    """A deferred task has not ended: what reads it starts after it ran again and ended."""
    from al.grid import dispatch

    runs = fake_runs(["fill:d", "need:d", "reader", "other"])
    by = {r.name: r for r in runs}
    workers = FakeWorkers({"fill:d": 10, "need:d": 1, "reader": 1, "other": 5})
    finished = [r.name for r, res in dispatch(runs, 2, workers.start, workers.wait_any,
                                              waits_for=lambda t: [by["need:d"]] if t.name == "reader" else [])]
    assert sorted(finished) == sorted(by)
    assert [(n, d) for n, d, _ in workers.started if n == "need:d"] == [("need:d", True), ("need:d", False)]
    began = {n: t for n, _, t in workers.started}
    assert began["reader"] == 11.0  # need:d ran again once fill:d ended (10), and ended at 11


def test_a_lone_worker_never_defers(monkeypatch):
    from al import grid

    seen = []
    monkeypatch.setattr(grid, "run_one", lambda config, defer_busy_caches=False: seen.append(defer_busy_caches)
                        or {"status": "done", "seconds": 0.0})
    monkeypatch.setattr(grid, "_init_worker", lambda threads: None)
    assert len(list(grid.run_local(fake_runs(["a", "b"]), 1))) == 2 and seen == [False, False]


def _thread_pools() -> list[tuple[str, int]]:
    """Every BLAS and OpenMP pool of this process after loading what a simulation loads."""
    import numpy  # noqa: F401
    import scipy.linalg  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    from threadpoolctl import threadpool_info

    return sorted((info["user_api"], info["num_threads"]) for info in threadpool_info())


def _thread_pools_loaded_first(threads: int) -> list[tuple[str, int]]:
    """The same, with the libraries loaded before the worker's set-up runs (as in a reused process)."""
    from al.grid import _init_worker

    _thread_pools()
    _init_worker(threads)
    return _thread_pools()


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: one thread is every pool's default already")
@pytest.mark.parametrize("loaded_first", [False, True])
def test_a_grid_worker_gives_blas_and_openmp_its_share_of_the_cores(loaded_first):
    """Two workers on two cores each ran BLAS on two threads before: 3x slower logistic regressions."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from al.grid import _init_worker

    context = multiprocessing.get_context("spawn")
    if loaded_first:
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            pools = pool.submit(_thread_pools_loaded_first, 1).result()
    else:
        with ProcessPoolExecutor(1, mp_context=context, initializer=_init_worker, initargs=(1,)) as pool:
            pools = pool.submit(_thread_pools).result()
    assert "blas" in {api for api, _ in pools}
    assert all(n == 1 for _, n in pools), pools  # each pool's default is a thread per core


def test_a_one_worker_grid_leaves_this_process_s_thread_settings_alone(tmp_path, monkeypatch):
    """--workers 1 runs in the caller's process (a notebook, pytest): its BLAS variables are not rewritten."""
    from al.grid import run_local

    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "7")
    assert list(run_local([], workers=1)) == []
    assert os.environ["OPENBLAS_NUM_THREADS"] == "7"


def _worker_variables(given: dict[str, str], threads: int) -> tuple[str, ...]:
    from al.grid import _init_worker

    os.environ.update(given)
    _init_worker(threads)
    return tuple(os.environ.get(v, "") for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"))


def test_a_variable_the_user_set_lower_is_kept():
    """OMP_NUM_THREADS=1 stays 1 in a worker whose share is 2; a higher value is lowered to the share."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        values = pool.submit(_worker_variables, {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "9"}, 2).result()
    assert values[:2] == ("1", "2") and values[2] == "2"


def test_the_plan_runs_each_shared_pool_work_once_strategies_first_larger_pools_first(tmp_path, monkeypatch):
    import al.records
    from al.grid import plan_preparation
    from al.simulate import load_config_corpus

    small, large = _csv(tmp_path / "small.csv", n=60), _csv(tmp_path / "large.csv", n=90)
    spec = {
        "out": str(tmp_path / "runs"),
        "settings": {"dataset": "csv", "labels": ["a", "b"], "initial": 10, "step": 5, "budget": 20},
        "grid": {
            "data": [{"name": "small", "data_path": str(small)}, {"name": "large", "data_path": str(large)},
                     {"name": "missing", "data_path": str(tmp_path / "missing.csv")}],
            "strategy": ["random", "alps", {"name": "alps", "params": {"fit_steps": 5}},
                         {"name": "alps", "params": {"n_init": 3}}, {"name": "alps", "params": {"fit_steps": 250}}],
            "seed": [0, 1],
        },
    }
    _, runs = expand_grid(spec)
    plan = plan_preparation(runs)  # n_init and a default given explicitly: the same vectors, one task
    assert [(p.part, Path(p.config.data_path).stem, p.config.strategy.label(), p.splits) for p in plan] == [
        ("strategy", "large", "alps", ()), ("strategy", "large", "alps(fit_steps=5)", ()),
        ("strategy", "small", "alps", ()), ("strategy", "small", "alps(fit_steps=5)", ()),
        ("embeddings", "large", "random", ("train", "test")),  # one pass per pool, whatever the strategy
        ("embeddings", "small", "random", ("train", "test")),
    ]  # the missing file is left to its runs, which say why
    corpus = load_config_corpus(plan[0].config)
    chars = {split: sum(map(len, corpus.texts[rows])) for split, rows in corpus.splits.items()}
    assert plan[0].size == chars["train"] and plan[2].size < plan[0].size  # the strategy reads the pool
    assert plan[4].size == chars["train"] + chars["test"]  # what a logistic regression's run embeds
    assert plan[0].config.seed == 0 and plan[4].name == "large.csv: embeddings (all-MiniLM-L6-v2, fp32)"
    # each task names the runs that read it: they start after it
    assert plan[0].readers == {f"data-large__strategy-alps{s}__seed-{seed}" for s in ("", "_n_init=3", "_fit_steps=250")
                               for seed in (0, 1)}
    assert plan[4].readers == {r.name for r in runs if "large" in r.name}

    real = al.records.read_rounds  # every run on the small pool finished: nothing to prepare for it
    finished = [{"picked": [0] * 5}, {"picked": [0] * 5}, {"picked": []}]  # 10, 15, 20 labeled
    monkeypatch.setattr(al.records, "read_rounds", lambda d: finished if "small" in str(d) else real(d))
    assert [Path(p.config.data_path).stem for p in plan_preparation(runs)] == ["large"] * 3


def test_one_embedding_pass_per_setting_over_every_split_its_runs_embed(tmp_path):
    from al.grid import plan_preparation

    spec = {
        "out": str(tmp_path / "runs"),
        "settings": {"dataset": "csv", "data_path": str(_csv(tmp_path / "d.csv")), "labels": ["a", "b"],
                     "initial": 10, "step": 5, "budget": 20},
        "grid": {
            "classifier": ["logreg", {"name": "logreg", "params": {"threshold": "dev"}}],
            "embed_precision": ["fp32", "bf16"],
            "model": ["all-MiniLM-L6-v2", "all-mpnet-base-v2"],
            "strategy": ["random", "cvirs"],
        },
    }
    plan = plan_preparation(expand_grid(spec)[1])
    assert sorted((p.config.model, p.config.embed_precision, p.splits) for p in plan) == [
        (model, precision, ("train", "test", "dev"))  # the dev split for the runs that tune thresholds on it
        for model in ("all-MiniLM-L6-v2", "all-mpnet-base-v2") for precision in ("bf16", "fp32")
    ]


def test_a_preparation_is_reported_not_counted_and_a_lone_worker_plans_none(tmp_path, monkeypatch, capsys):
    import yaml

    from al import grid

    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump({
        "out": str(tmp_path / "runs"),
        "settings": {"dataset": "csv", "data_path": str(_csv(tmp_path / "d.csv")), "labels": ["a", "b"]},
        "grid": {"seed": [0, 1]}}))
    planned = []
    monkeypatch.setattr(grid, "plan_preparation", lambda runs, **k: planned.append(len(runs)) or [
        grid.Preparation("d: embeddings", runs[0].config, "embeddings", 1, ("train",))])

    def fake_local(runs, workers, preparations=(), watch=None):
        assert workers == 2 and len(preparations) == 1
        yield preparations[0], {"status": "failed", "seconds": 1.0, "message": "no such model",
                                "warnings": ["emulated\nbf16"]}
        for r in runs:
            yield r, {"status": "done", "seconds": 2.0, "macro_f1": 0.5, "warnings": ["emulated\nbf16"]}

    monkeypatch.setattr(grid, "run_local", fake_local)
    assert main([str(path), "--workers", "2"]) == 0  # a failed preparation is left to its runs
    err = capsys.readouterr().err
    assert "[prepare] failed   d: embeddings  no such model" in err
    assert "[1/2] done" in err and "[2/2] done" in err and "2 done in" in err
    assert err.count("warning: emulated bf16") == 1
    monkeypatch.setattr(grid, "run_local", lambda runs, workers, preparations=(), watch=None: iter(
        [(r, {"status": "done", "seconds": 0.0, "macro_f1": 0.5}) for r in runs]) if not preparations else None)
    assert main([str(path), "--workers", "1"]) == 0 and planned == [2]  # one worker: nothing planned


class WarningRandom(RandomSampling):
    """Random picks that warn at every query."""

    def query(self, state, n):
        import warnings

        warnings.warn("a strategy's warning,\nsplit over lines", UserWarning)
        return super().query(state, n)


def test_a_run_s_warnings_reach_the_grid_once_each_on_one_line(tmp_path, capsys):
    import yaml

    path = tmp_path / "g.yaml"
    spec = {"out": str(tmp_path / "runs"),
            "settings": {"dataset": "csv", "data_path": str(_csv(tmp_path / "data.csv")), "labels": ["a", "b"],
                         "initial": 10, "step": 5, "budget": 20, "strategy": "tests.unit.test_grid:WarningRandom"},
            "grid": {"seed": [0, 1]}}
    path.write_text(yaml.safe_dump(spec))
    assert main([str(path)]) == 0
    err = capsys.readouterr().err
    assert err.count("warning: a strategy's warning,\nsplit") == 0
    assert err.count("warning: a strategy's warning, split over lines") == 1  # two runs, two queries each: once
    assert main([str(path), "--quiet", "--out", str(tmp_path / "again")]) == 0  # a warning is not progress
    assert capsys.readouterr().err.count("warning: a strategy's warning, split over lines") == 1


@pytest.mark.parametrize("spec, message", [
    ({"out": "o", "grid": ["strategy"]}, "`grid` must be a mapping such as {strategy: [random, cvirs]}, got ['strategy']"),
    ({"out": "o", "settings": [1, 2]}, "`settings` must be a mapping such as {budget: 600}, got [1, 2]"),
    ({"out": [1]}, "`out` must be a directory path, got [1]"),
    ({"out": "o", "grid": {"seed": [0, 0]}}, "two cells are both named seed-0 and would share one run directory"),
    ({"out": "o", "settings": {"budgt": 300}}, "unknown setting(s) ['budgt'] in settings (did you mean budget?)"),
    ({"out": "o", "settings": {"budgt": 300}, "grid": {"seed": [0]}},
     "unknown setting(s) ['budgt'] in settings (did you mean budget?)"),  # not on the seed axis
    ({"out": "o", "grid": {"seed": [0], "data": [{"name": "x", "dataset": "csv", "data_pth": "a.csv"}]}},
     "unknown setting(s) ['data_pth'] in grid.data value 'x' (did you mean data_path?)"),
    ({"out": "o", "grid": {"stratgy": ["random"]}}, "grid.stratgy is not a setting (did you mean strategy?)"),
    ({"out": "o", "grid": {"data": [{"name": "few", "threads": 1}]}}, "; remove it from grid.data value 'few'"),
], ids=["grid a list", "settings a list", "out a list", "one cell twice", "misspelt setting",
        "misspelt setting beside an axis", "misspelt setting in an axis value", "misspelt axis", "threads on an axis"])
def test_a_grid_file_of_the_wrong_shape_is_refused_in_one_line(spec, message):
    with pytest.raises(ConfigError) as exc:
        expand_grid(spec, "g.yaml")
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_a_grid_file_holding_a_list_says_how_a_grid_file_is_written(tmp_path, capsys):
    path = tmp_path / "g.yaml"
    path.write_text("- random\n- cvirs\n")
    assert main([str(path), "--dry-run"]) == 2
    assert capsys.readouterr().err == (f"error: {path} must hold a mapping of settings, got list; expected a YAML grid "
                                       f"file (out, settings, grid; see simulations/), written as key: value lines "
                                       f"(out: runs/NAME), not a list of - items\n")


def test_a_misspelt_setting_is_said_with_the_misspelt_names_of_the_cells_not_before_them():
    """A misspelt key hid a misspelt strategy: fixing the one showed the other on the next try."""
    spec = {"out": "o", "settings": {"budgt": 300}, "grid": {"strategy": ["random", "clas_embedding", "cvrs"]}}
    with pytest.raises(ConfigError) as exc:
        expand_grid(spec, "g.yaml")
    said = str(exc.value)
    assert said.startswith("g.yaml: unknown setting(s) ['budgt'] in settings (did you mean budget?); and the cells "
                           "would refuse: unknown strategy 'clas_embedding' (did you mean class_embedding?); known: ")
    assert "unknown strategy 'cvrs' (did you mean cvirs?)" in said and "\n" not in said
    # what the misspelt key leaves at its default is no problem to say (budget 600 is not above step 700)
    with pytest.raises(ConfigError, match=r"^g.yaml: unknown setting\(s\) \['budgt'\] in settings \(did you mean "
                                          r"budget\?\)$"):
        expand_grid({"out": "o", "settings": {"budgt": 1000, "step": 700}}, "g.yaml")


def test_workers_below_one_or_a_grid_with_nothing_to_run_exit_2(tmp_path, capsys):
    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{budget: 10}}\ngrid: {{seed: [0, 1]}}\n")
    with pytest.raises(SystemExit) as exc:
        main([str(path), "--workers", "0"])
    assert exc.value.code == 2 and "--workers must be at least 1, got 0" in capsys.readouterr().err
    assert main([str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("not run: ") == 1 and "not run: seed-0, seed-1: budget (10) must be larger" in err  # one reason
    assert err.endswith(f"error: none of the 2 simulations can run (each 'not run' line above says why); fix {path}\n")


def test_a_path_setting_of_the_wrong_type_is_a_cell_not_run_not_a_traceback(tmp_path, capsys):
    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{data_path: 5}}\ngrid: {{seed: [0]}}\n")
    assert main([str(path)]) == 2
    assert "not run: seed-0: data_path must be a path" in capsys.readouterr().err


_POOL_THAT_IS_KILLED = """
import os, sys, time
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from al.grid import _init_worker

if __name__ == "__main__":
    pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker,
                               initargs=(1, os.getpid()))
    print(*sorted({pool.submit(os.getpid).result() for _ in range(4)} | set(pool._processes)), flush=True)
    time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_grid_workers_end_when_the_grid_is_killed(tmp_path):
    import signal
    import subprocess

    script = tmp_path / "pool.py"
    script.write_text(_POOL_THAT_IS_KILLED)
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert workers and all(map(_alive, workers))
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 15
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:  # do not leave them behind if the check fails
        os.kill(pid, signal.SIGKILL)
    assert not left


_SIGNAL_AS_THE_TASK_ENDS = """
import inspect, signal, sys
from al import grid
from al.cli import Terminated

signal.signal(signal.SIGTERM, grid._stop_worker)
reset = next(i for i, line in enumerate(inspect.getsource(grid.in_pool).splitlines())
             if "_TASK_RUNNING = False" in line) + grid.in_pool.__code__.co_firstlineno


def tracer(frame, event, arg):  # the grid's SIGTERM landing between the task's return and the flag's reset
    if frame.f_code is grid.in_pool.__code__:
        if event == "line" and frame.f_lineno == reset:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # as _stop_worker leaves it
            raise Terminated
        return tracer
    return None


sys.settrace(tracer)
result = grid.in_pool(lambda: {"status": "done"})
sys.settrace(None)
print("returned", result, flush=True)  # a Terminated taken for the task's result: the worker lives on
"""


def test_a_worker_signalled_as_its_task_ends_exits_rather_than_waiting_for_a_grid_that_is_gone(tmp_path):
    """A grid killed outright as a worker's task returned left that worker for ever: the Terminated raised as its
    flag was reset left in_pool, was sent back as the task's result, and the worker, its SIGTERM ignored, waited
    for a next task."""
    import subprocess

    script = tmp_path / "ends.py"
    script.write_text(_SIGNAL_AS_THE_TASK_ENDS)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (143, ""), (done.returncode, done.stdout, done.stderr[-500:])


def test_a_worker_whose_parent_is_gone_already_ends_at_once(monkeypatch):
    import signal

    from al import grid

    sent = []
    monkeypatch.setattr(grid, "_parent_death_signal", lambda signum: True)
    monkeypatch.setattr(grid.os, "kill", lambda pid, signum: sent.append((pid, signum)))
    grid.exit_with_parent(os.getppid())
    assert sent == []
    grid.exit_with_parent(os.getppid() + 1)  # not this process's parent: it ended, this one was adopted
    assert sent == [(os.getpid(), signal.SIGTERM)]


@pytest.mark.parametrize("counts, not_run, status", [
    ({"done": 2, "complete": 1, "resumed": 1}, 0, 0),
    ({"done": 1}, 1, 2),  # one cell that cannot run: the user's to fix
    ({"done": 1, "failed": 1}, 0, 2),  # a run's own error (labels not eligible, a stored run of other settings)
    ({"busy": 1, "done": 1}, 0, 0),  # another grid command on the directory runs it: that command's to finish
])
def test_the_exit_status_rule(counts, not_run, status):
    from al.grid import exit_status

    assert exit_status(counts, not_run) == status


def test_a_grid_with_one_cell_not_run_and_one_done_exits_2(tmp_path, monkeypatch, capsys):
    from al import grid

    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\ngrid: {{budget: [10, 200]}}\n")
    monkeypatch.setattr(grid, "run_one", lambda config, defer_busy_caches=False:
                        {"status": "done", "seconds": 0.0, "rounds": 3, "macro_f1": 0.5})
    assert main([str(path)]) == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith("1 done, 1 not run in ")


def test_workers_beside_ray_is_refused_as_an_option_nothing_reads(tmp_path, capsys):
    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{budget: 200}}\n")
    with pytest.raises(SystemExit) as exc:
        main([str(path), "--ray", "127.0.0.1:1", "--workers", "2", "--dry-run"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1
    assert "error: --workers 2 sets the simulations at once on this machine, and --ray runs them on the cluster" in err
    assert not (tmp_path / "o").exists()


def test_a_ray_address_where_nothing_listens_is_one_line_at_once(tmp_path, capsys):
    pytest.importorskip("ray")
    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{budget: 200}}\n")
    start = time.monotonic()
    assert main([str(path), "--ray", "127.0.0.1:1"]) == 2  # loopback, a port nothing listens on
    assert time.monotonic() - start < 30
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("error: --ray 127.0.0.1:1: nothing listens there (connection refused); expected "), err
    assert not (tmp_path / "o").exists()


def test_an_empty_ray_address_is_refused_not_run_here(tmp_path, capsys):
    """--ray "$HEAD" with HEAD unset gave --ray "", which ran the grid on this machine without a word."""
    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{budget: 200}}\n")
    with pytest.raises(SystemExit) as exc:
        main([str(path), "--ray", " ", "--dry-run"])
    assert exc.value.code == 2
    assert "error: --ray got an empty address (an unset shell variable?); give the cluster's head as HOST:PORT" in \
        capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_ray_auto_that_reads_ray_address_names_it(tmp_path, capsys, monkeypatch):
    """RAY_ADDRESS overrides auto in Ray: a refusal of "--ray auto: nothing listens there" named neither."""
    pytest.importorskip("ray")
    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{budget: 200}}\n")
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:1")
    assert main([str(path), "--ray", "auto", "--dry-run"]) == 2
    assert "error: --ray auto (RAY_ADDRESS=127.0.0.1:1): nothing listens there (connection refused); " in \
        capsys.readouterr().err


@pytest.mark.parametrize("address, reason", [
    ("notanaddress", "Invalid address format: notanaddress"),
    ("auto", "Could not find any running Ray instance"),
])
def test_a_ray_address_that_is_none_or_finds_no_cluster_is_one_line_in_a_dry_run_too(tmp_path, capsys, monkeypatch,
                                                                                    address, reason):
    pytest.importorskip("ray")
    if address == "auto" and Path("/tmp/ray/ray_current_cluster").exists():
        pytest.skip("a Ray cluster is up here")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{budget: 200}}\n")
    for dry in ([], ["--dry-run"]):
        assert main([str(path), "--ray", address, *dry]) == 2
        err = capsys.readouterr().err.splitlines()
        assert err[-1].startswith(f"error: --ray {address}: {reason}; expected the address of a running Ray "), err
    assert not (tmp_path / "o").exists()


def _serve_once(reply: bytes | None):
    """A loopback server that answers each connection with ``reply`` (None: reads and says nothing); its port."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve():
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            with connection:
                connection.recv(64)
                if reply is not None:
                    connection.sendall(reply)
                    time.sleep(0.2)
                else:
                    time.sleep(1.5)

    threading.Thread(target=serve, daemon=True).start()
    return server


def test_a_server_that_is_no_ray_head_is_one_line_at_once(tmp_path, capsys):
    """An address where a web server listens (the dashboard's port, say) is refused before Ray's minute of retries."""
    pytest.importorskip("ray")
    from al.grid import answers_http2

    web = _serve_once(b"HTTP/1.0 505 HTTP Version Not Supported\r\n\r\n")
    grpc_like = _serve_once(bytes([0, 0, 0x18, 4, 0, 0, 0, 0, 0]) + bytes(24))  # a SETTINGS frame, as a Ray head's
    silent = _serve_once(None)
    try:
        assert answers_http2("127.0.0.1", web.getsockname()[1], 2.0) is False
        assert answers_http2("127.0.0.1", grpc_like.getsockname()[1], 2.0) is True
        assert answers_http2("127.0.0.1", silent.getsockname()[1], 0.5) is None  # unknown: Ray is left to try
        path = tmp_path / "g.yaml"
        path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{budget: 200}}\n")
        start = time.monotonic()
        assert main([str(path), "--ray", f"127.0.0.1:{web.getsockname()[1]}"]) == 2
        assert time.monotonic() - start < 10
        err = capsys.readouterr().err.splitlines()
        assert err[-1].startswith(f"error: --ray 127.0.0.1:{web.getsockname()[1]}: something listens there but it is "
                                  f"not a Ray head"), err
    finally:
        for server in (web, grpc_like, silent):
            server.close()


def test_ray_auto_without_a_cluster_is_one_line(monkeypatch):
    pytest.importorskip("ray")
    import ray

    from al.grid import connect_ray

    if ray.is_initialized() or Path("/tmp/ray/ray_current_cluster").exists():
        pytest.skip("a Ray cluster is up here")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(ConfigError, match=r"^--ray auto: Could not find any running Ray instance; expected the "):
        connect_ray("auto")


def test_a_clusters_workers_import_with_the_commands_path_and_folder(tmp_path, monkeypatch):
    """Workers of a cluster that ``ray start`` began elsewhere lacked the command's PYTHONPATH and folder: a
    strategy module the command (and its --dry-run) found could not be imported there."""
    from al.grid import import_path_env

    monkeypatch.chdir(tmp_path)
    for name in ("AL_CACHE_DIR", "HF_HOME", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(["sub", "", str(tmp_path / "lib")]))
    env = {"env_vars": {"PYTHONPATH": os.pathsep.join(
        [str(tmp_path), str(tmp_path / "sub"), str(tmp_path / "lib"), "${PYTHONPATH}"])}}
    assert import_path_env() == env
    # the command's cache (a relative path made whole) and model settings: a Ray grid's workers filled ~/.cache/al
    monkeypatch.setenv("AL_CACHE_DIR", "shared-cache")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert import_path_env()["env_vars"] == {**env["env_vars"], "AL_CACHE_DIR": str(tmp_path / "shared-cache")}
    # where models come from stays each machine's own (a path here may not exist on another machine)
    monkeypatch.delenv("AL_CACHE_DIR")
    monkeypatch.delenv("HF_HUB_OFFLINE")

    import al.grid

    class Ray:  # what connect_ray hands to ray.init for a cluster's address, and for a cluster of its own
        def __init__(self):
            self.given = []

        def is_initialized(self):
            return False

        def init(self, **kwargs):
            self.given.append(kwargs.get("runtime_env"))

    ray = Ray()
    monkeypatch.setattr(al.grid, "check_ray", lambda address, probe_timeout=None: ray)
    al.grid.connect_ray("127.0.0.1:6379")
    al.grid.connect_ray(None)
    assert ray.given == [env, None]
    # no address, RAY_ADDRESS set (the Python API): ray.init() joins that cluster, whose workers need the imports
    said = []
    monkeypatch.setattr(al.grid, "heartbeat", lambda doing, *timing: said.append(doing) or contextlib.nullcontext())
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.5:6379")
    al.grid.connect_ray(None)
    assert ray.given[-1] == env and said == ["connecting to the Ray cluster at 10.0.0.5:6379 (RAY_ADDRESS)"]
    monkeypatch.delenv("RAY_ADDRESS")
    al.grid.connect_ray(None)
    assert ray.given[-1] is None and said[-1] == "starting a Ray cluster on this machine"
    monkeypatch.delenv("PYTHONPATH")
    assert import_path_env()["env_vars"]["PYTHONPATH"] == f"{tmp_path}{os.pathsep}${{PYTHONPATH}}"


class _RayCore:
    """What connect_ray hands its address to: ``init`` logs ``logged`` on file descriptor 2 (as Ray's C++ core does,
    past ``sys.stderr``), then raises ``raises`` if given."""

    def __init__(self, logged: str, raises: Exception | None = None):
        self.logged, self.raises = logged, raises

    def is_initialized(self):
        return False

    def init(self, **kwargs):
        os.write(2, self.logged.encode())
        if self.raises is not None:
            raise self.raises


REFUSED_TOKEN = ("[2026-12-06 02:51:54,123 W 13949 13949] gcs_client.cc:210: Failed to get cluster ID from GCS server: "
                 "Unauthenticated: RPC error: InvalidAuthToken: Authentication token is missing or incorrect\n")


@pytest.mark.parametrize("mode", [None, "token"])
def test_a_cluster_that_refuses_the_token_is_one_line_saying_what_to_set_and_its_log_is_held(monkeypatch, capfd, mode):
    """A cluster `ray start --head` began with token authentication (Ray's default) refuses a HOST:PORT connection
    that sends no token; Ray's core logged a line a second for 20 s, then said only 'Failed to connect'."""
    import al.grid

    if mode is None:
        monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    else:
        monkeypatch.setenv("RAY_AUTH_MODE", mode)
    core = _RayCore(REFUSED_TOKEN * 20, ConnectionError("Failed to connect to Ray cluster at 192.0.2.2:6390"))
    monkeypatch.setattr(al.grid, "check_ray", lambda address, probe_timeout=None: core)
    with pytest.raises(ConfigError) as refused:
        al.grid.connect_ray("127.0.0.1:6390")
    said = str(refused.value)
    assert "\n" not in said and said.startswith("--ray 127.0.0.1:6390: the cluster ")
    if mode is None:
        assert "Ray sends none to an address given as HOST:PORT unless RAY_AUTH_MODE=token is set" in said
        assert "`RAY_AUTH_MODE=token python -m al.grid ...`" in said and "--ray auto" in said
    else:
        assert "refused the authentication token this command sent, or found none" in said
        assert "ray get-auth-token" in said
    with pytest.raises(ConfigError, match="^--ray auto: the cluster refused the authentication token this command "
                                          "sent, or found none; "):
        al.grid.connect_ray("auto")  # Ray sends the token it finds (none found: it sends none)
    assert "InvalidAuthToken" not in "".join(capfd.readouterr())  # held, not shown

    core = _RayCore("no token here\n", ConnectionError("Failed to connect to Ray cluster at 192.0.2.2:6390"))
    monkeypatch.setattr(al.grid, "check_ray", lambda address, probe_timeout=None: core)
    with pytest.raises(ConfigError, match=r"^--ray 127.0.0.1:6390: cannot connect \(Failed to connect to Ray cluster "):
        al.grid.connect_ray("127.0.0.1:6390")


def test_ray_s_own_authentication_error_and_a_disabled_mode_are_said_as_such(monkeypatch, capfd):
    """RAY_AUTH_MODE=token with no token here: Ray raises AuthenticationError at once, logging nothing on fd 2."""
    import types

    import al.grid

    class AuthenticationError(RuntimeError):
        pass

    core = _RayCore("", AuthenticationError("Token authentication is enabled but no authentication token was found"))
    core.exceptions = types.SimpleNamespace(AuthenticationError=AuthenticationError)
    monkeypatch.setattr(al.grid, "check_ray", lambda address, probe_timeout=None: core)
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    with pytest.raises(ConfigError, match=r"^--ray 10\.0\.0\.5:6379: the cluster refused the authentication token "
                                          r"this command sent, or found none; give it the token of the cluster's head"):
        al.grid.connect_ray("10.0.0.5:6379")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    refused = _RayCore(REFUSED_TOKEN, ConnectionError("Failed to connect to Ray cluster at 192.0.2.2:6390"))
    monkeypatch.setattr(al.grid, "check_ray", lambda address, probe_timeout=None: refused)
    with pytest.raises(ConfigError, match=r"^--ray auto: the cluster asks for Ray's authentication token, and "
                                          r"RAY_AUTH_MODE=disabled sends none; set RAY_AUTH_MODE=token \("):
        al.grid.connect_ray("auto")
    # auto that reads a HOST:PORT from RAY_ADDRESS: Ray sends no token there without RAY_AUTH_MODE=token (the
    # advice had been to give the token, which ~/.ray/auth_token held already)
    monkeypatch.delenv("RAY_AUTH_MODE")
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:6379")
    with pytest.raises(ConfigError, match=r"^--ray auto: the cluster asks for Ray's authentication token, and Ray "
                                          r"sends none to a HOST:PORT, as --ray auto reads "
                                          r"RAY_ADDRESS=127\.0\.0\.1:6379, unless RAY_AUTH_MODE=token is set; run "
                                          r"`RAY_AUTH_MODE=token python -m "
                                          r"al\.grid \.\.\.` .*or give --ray auto with RAY_ADDRESS unset for a "):
        al.grid.connect_ray("auto")
    assert al.grid.ray_target("auto") == "auto (RAY_ADDRESS=127.0.0.1:6379)"  # what "connecting to ..." names
    assert al.grid.ray_target("10.0.0.5:6379") == "10.0.0.5:6379"
    # a token file named that is not there: said so, not the generic advice to give the token
    monkeypatch.delenv("RAY_ADDRESS")
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    monkeypatch.delenv("RAY_AUTH_TOKEN", raising=False)
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", "/nonexistent/token")
    monkeypatch.setattr(al.grid, "check_ray", lambda address, probe_timeout=None: core)
    with pytest.raises(ConfigError, match=r"^--ray 10\.0\.0\.5:6379: the cluster asks for Ray's authentication token, "
                                          r"and RAY_AUTH_TOKEN_PATH names /nonexistent/token, which is no file here; "
                                          r"write the head's token there"):
        al.grid.connect_ray("10.0.0.5:6379")


def test_a_failure_that_is_not_the_token_names_ray_s_last_log_line(monkeypatch, capfd):
    import al.grid

    logged = "[W gcs_client.cc:210] Failed to get cluster ID from GCS server: Unavailable: failed to connect\n" * 3
    core = _RayCore(logged, ConnectionError("Failed to connect to Ray cluster at 192.0.2.2:6390"))
    monkeypatch.setattr(al.grid, "check_ray", lambda address, probe_timeout=None: core)
    with pytest.raises(ConfigError) as refused:
        al.grid.connect_ray("127.0.0.1:6390")
    assert str(refused.value).startswith("--ray 127.0.0.1:6390: cannot connect (Failed to connect to Ray cluster at "
                                         "192.0.2.2:6390; Ray's last log line: [W gcs_client.cc:210] Failed to get "
                                         "cluster ID from GCS server: Unavailable: failed to connect); expected ")
    assert "gcs_client" not in "".join(capfd.readouterr())  # held: said once, in the error


def test_what_ray_logs_while_it_connects_is_shown_once_it_has_connected(monkeypatch, capfd):
    import al.grid

    warned = "WARNING authentication_token_setup.py:85 -- Token authentication is enabled for this Ray cluster.\n"
    monkeypatch.setattr(al.grid, "check_ray", lambda address, probe_timeout=None: _RayCore(warned))
    al.grid.connect_ray("auto")
    assert capfd.readouterr().err == warned


def test_a_file_descriptor_2_held_keeps_what_was_written_on_it_and_python_s_stderr_goes_on_to_the_terminal():
    """In a process of its own: pytest's capture writes sys.stderr past file descriptor 2."""
    import subprocess

    code = """if True:
        import os, sys
        from al.grid import fd_stderr_held
        held = []
        try:
            with fd_stderr_held(held):
                os.write(2, b"from C++\\n")
                print("from python", file=sys.stderr)
                raise KeyError("stops")
        except KeyError:
            pass
        os.write(2, b"after\\n")
        print(repr(held))
    """
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "['from C++\\n']\n" and done.stderr == "from python\nafter\n"


def _rounds_file(run_dir: Path, n: int) -> None:
    """``n`` finished rounds of a run with initial 10, step 5, budget 20 (3 rounds: picks 5, 5, none)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "rounds.jsonl").write_text("".join(f'{{"round": {i}, "picked": {[0] * 5 if i < 2 else []}}}\n'
                                                  for i in range(n)))


def test_the_working_line_names_each_task_its_rounds_and_time(tmp_path):
    from al.grid import GridRun, Preparation, working_line

    runs = [GridRun(f"seed-{i}", SimulationConfig(out=str(tmp_path / f"seed-{i}"), initial=10, step=5, budget=20))
            for i in range(3)]
    _rounds_file(tmp_path / "seed-0", 2)
    prep = Preparation("d: embeddings (m, fp32)", runs[0].config, "embeddings", 1, ("train",))
    tasks = [(prep, 100.0), (runs[0], 85.0), (runs[1], 3.0)]
    assert working_line(tasks) == "d: embeddings (m, fp32) (2 min); seed-0 (2 of 3 rounds, 85 s); seed-1 (0 of 3 rounds, 3 s)"
    assert working_line(tasks, short=True) == "d: embeddings (m, fp32); seed-0 2/3; seed-1 0/3"
    # on Ray a submitted task may still wait: no times, and a run that shows no round is only counted
    assert working_line([*tasks, (runs[2], 1.0)], timed=False) == \
        "d: embeddings (m, fp32); seed-0 (2 of 3 rounds); 2 more submitted"


def test_dispatch_keeps_what_is_in_flight():
    from al.grid import InFlight, dispatch

    watch, seen = InFlight(), {}
    workers = FakeWorkers({"a": 1, "b": 5, "c": 1})
    for r, _ in dispatch(fake_runs(["a", "b", "c"]), 2, workers.start, workers.wait_any, watch):
        seen[r.name] = [item.name for item, _ in watch.snapshot()]
    assert seen == {"a": ["b"], "c": ["b"], "b": []}


def test_a_heartbeat_refreshes_a_terminal_bar_and_writes_a_log_line_only_after_silence(tmp_path, capsys):
    from al.grid import GridRun, Heartbeat, InFlight

    run = GridRun("seed-0", SimulationConfig(out=str(tmp_path / "seed-0"), initial=10, step=5, budget=20))
    _rounds_file(tmp_path / "seed-0", 1)
    watch = InFlight()
    watch.began(run)

    class Bar:
        postfix: list[str] = []

        def set_postfix_str(self, text, refresh=True):
            self.postfix.append(text)

    with Heartbeat(watch, Bar(), tick=0.02):  # its own thread: refreshed while the grid waits
        deadline = time.monotonic() + 30
        while not Bar.postfix and time.monotonic() < deadline:
            time.sleep(0.02)
    assert Bar.postfix and set(Bar.postfix) == {"seed-0 1/3"}
    assert capsys.readouterr().err == ""  # the bar carries it: no lines

    class Log:  # no bar (not a terminal)
        pass

    beat = Heartbeat(watch, Log(), interval=30.0, kept={"seed-0": 1})  # ticks driven by hand, at chosen times
    beat.say("[1/9] done")
    said = beat.last_said
    beat.beat(now=said)  # a run that starts from a stopped grid's rounds is said as it starts, once
    assert capsys.readouterr().err == "[1/9] done\ncontinuing seed-0 after 1 of 3 rounds\n"
    beat.beat(now=said + 29.0)
    assert capsys.readouterr().err == ""  # silent for less than the interval: nothing
    beat.beat(now=said + 31.0)
    assert re.fullmatch(r"working: seed-0 \(1 of 3 rounds, \d+ s\)\n", capsys.readouterr().err)
    beat.beat(now=said + 32.0)  # the line just said starts the count again
    assert capsys.readouterr().err == ""
    watch.ended(run)
    beat.beat(now=said + 1000.0)  # nothing in flight: nothing to say
    assert capsys.readouterr().err == ""
    watch.began(run)
    on_ray = Heartbeat(watch, Log(), interval=30.0, timed=False, kept={"seed-0": 1})  # a task's own time is not
    on_ray.beat(now=on_ray.began + 240.0)  # known there: the grid's; nor when it starts (submitted, it may wait)
    assert capsys.readouterr().err == "working, 4 min so far: seed-0 (1 of 3 rounds)\n"
    fresh = Heartbeat(watch, Log(), interval=30.0, kept={"seed-0": 0})  # a run from the start: its line at its end
    fresh.beat(now=fresh.began)
    assert capsys.readouterr().err == ""


def test_lines_from_the_grid_and_its_heartbeat_never_run_together(capsys):
    import threading

    from al.grid import say

    def speak(word):
        for _ in range(300):
            say(word * 20, None)

    threads = [threading.Thread(target=speak, args=(w,)) for w in "ab"]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch as often as they can
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    lines = capsys.readouterr().err.splitlines()
    assert sorted(set(lines)) == ["a" * 20, "b" * 20] and len(lines) == 600


def test_a_grid_that_works_silently_says_what_it_is_working_on(tmp_path, monkeypatch, capsys):
    from al import grid

    def slow_run(config_values, defer_busy_caches=False):
        run_dir = Path(config_values["out"])
        for n in (1, 2, 3):
            _rounds_file(run_dir, n)
            time.sleep(1.0)  # ample beside a 0.2 s interval, even on a busy machine
        return {"status": "done", "seconds": 3.0, "macro_f1": 0.5}

    monkeypatch.setattr(grid, "run_one", slow_run)
    monkeypatch.setattr(grid, "HEARTBEAT_SECONDS", 0.2)
    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{dataset: csv, data_path: {_csv(tmp_path / 'd.csv')}, "
                    f"labels: [a, b], initial: 10, step: 5, budget: 20}}\ngrid: {{seed: [0, 1]}}\n")
    assert main([str(path)]) == 0
    err = capsys.readouterr().err
    assert "working: seed-0 (1 of 3 rounds" in err and "working: seed-1 (2 of 3 rounds" in err, err
    assert err.index("working: seed-1") > err.index("[1/2] done     seed-0")
    assert main([str(path), "--quiet", "--out", str(tmp_path / "quiet")]) == 0
    assert "working:" not in capsys.readouterr().err


def test_quiet_keeps_the_runs_warnings(tmp_path, monkeypatch, capsys):
    """--quiet left out every warning a run gave, an edited strategy file's among them: only progress goes."""
    from al import grid

    def warning_run(config_values, defer_busy_caches=False):
        _rounds_file(Path(config_values["out"]), 3)
        return {"status": "done", "seconds": 0.1, "macro_f1": 0.5, "warnings": ["mine.py changed since r last ran"]}

    monkeypatch.setattr(grid, "run_one", warning_run)
    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{dataset: csv, data_path: {_csv(tmp_path / 'd.csv')}, "
                    f"labels: [a, b], initial: 10, step: 5, budget: 20}}\ngrid: {{seed: [0, 1]}}\n")
    assert main([str(path), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert err.count("warning: mine.py changed since r last ran") == 1 and "[1/2]" not in err, err


@pytest.mark.parametrize("rounds_before, stored_budget", [(0, 150), (1, 150), (1, 120)])
def test_an_edit_to_a_user_s_strategy_is_noted_only_where_rounds_came_from_the_code_before(tmp_path, monkeypatch,
                                                                                         rounds_before, stored_budget):
    """A strategy whose first query failed left a run of no round; fixed as the error said, the same command warned
    that "the rounds recorded there come from the code as it was then" and to pass another --out. Nor is it so
    where a raised budget computes every stored round again (budget 120: round 0's batch shrank to 20)."""
    import warnings

    import al.simulate
    from al.records import RunRecords
    from al.simulate import load_config_corpus, run, strategy_source

    data = tmp_path / "t.csv"
    data.write_text("text,food,water\n" + "".join(f"text number {i},{int(i % 3 == 0)},{int(i % 2 == 0)}\n"
                                                   for i in range(400)))
    code = "from strategies.random_sampling import RandomSampling\n\n\nclass Mine(RandomSampling):\n    pass\n"
    module = f"edited{rounds_before}_{stored_budget}"  # a module of its own: one imported before is another file
    (tmp_path / f"{module}.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    config = SimulationConfig(strategy=f"{module}:Mine", dataset="csv", data_path=str(data),
                              n_frequent=2, n_rare=0, initial=100, step=50, budget=150, out=str(tmp_path / "r"))
    records = RunRecords(config.run_dir)
    records.start(SimulationConfig(**{**config.to_dict(), "budget": stored_budget}).resolved(), {"strategy_source": strategy_source(config)})
    for i in range(rounds_before):
        records.append({"round": i, "n_labeled": 100, "macro_f1": 0.5, "picked": list(range(stored_budget - 100))})
    (tmp_path / f"{module}.py").write_text(code + "# fixed\n")

    def build(config, records=None, on_round=None, quiet=True):  # the real corpus; the engine's rounds made up
        class Run:
            space = None

            def run(self):
                for i in range(len(records.rounds), 2):
                    records.append({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": 0.5,
                                    "picked": list(range(50)) if i == 0 else []})
                return list(records.rounds)

        return load_config_corpus(config), Run()

    monkeypatch.setattr(al.simulate, "build_simulation", build)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert len(run(config, quiet=True)) == 2
    noted = [str(w.message) for w in caught if "changed since" in str(w.message)]
    assert noted == ([f"{tmp_path / module}.py changed since {tmp_path / 'r'} last ran: the rounds recorded there "
                      f"come from the code as it was then; pass another out= to run the new code from the start"]
                     if rounds_before and stored_budget == 150 else [])  # run() from Python: its keyword


def test_the_dry_run_warns_of_a_strategy_file_edited_since_its_runs_ran(tmp_path, monkeypatch, capsys):
    """The grid warned that mystrategies.py changed since its runs ran; its dry run said 'ready' alone."""
    from al.records import RunRecords
    from al.simulate import strategy_source

    code = "from strategies.random_sampling import RandomSampling\n\n\nclass Mine(RandomSampling):\n    pass\n"
    (tmp_path / "drymine.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{strategy: 'drymine:Mine', budget: 150}}\n"
                    f"grid: {{seed: [0, 1]}}\n")
    for seed in (0, 1):
        config = SimulationConfig(strategy="drymine:Mine", budget=150, seed=seed,
                                  out=str(tmp_path / "o" / f"seed-{seed}"))
        RunRecords(config.run_dir).start(config.resolved(), {"strategy_source": strategy_source(config)})
    assert main([str(path), "--dry-run"]) == 0
    assert "changed since" not in capsys.readouterr().err
    (tmp_path / "drymine.py").write_text(code + "# edited\n")
    assert main([str(path), "--dry-run"]) == 0
    assert (f"warning: {tmp_path / 'drymine.py'} changed since 2 runs (seed-0, seed-1) last ran: the rounds recorded "
            f"there come from the code as it was then") in capsys.readouterr().err
    sys.modules.pop("drymine", None)


def test_a_user_s_strategy_edited_since_its_run_is_noted_and_the_resume_records_it(tmp_path, monkeypatch):
    """Settings alone call an edited strategy's run the same: its file's digest, recorded, tells them apart."""
    from al.records import RunRecords
    from al.simulate import source_changed, strategy_source

    code = "from strategies.random_sampling import RandomSampling\n\n\nclass Mine(RandomSampling):\n    pass\n"
    (tmp_path / "mine.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    config = {"strategy": "mine:Mine", "initial": 100, "step": 50, "budget": 150, "out": str(tmp_path / "r")}
    assert strategy_source(SimulationConfig(**{**config, "strategy": "random"})) is None  # al's own
    source = strategy_source(SimulationConfig(**config))
    assert source["file"] == str(tmp_path / "mine.py") and len(source["digest"]) == 128
    records = RunRecords(tmp_path / "r")
    records.start(SimulationConfig(**config).resolved(), {"strategy_source": source})
    records.append({"round": 0, "n_labeled": 100, "macro_f1": 0.5, "picked": [0] * 50})
    assert source_changed(records.compare(SimulationConfig(**config).resolved()), source, "r") is None

    (tmp_path / "mine.py").write_text(code + "# edited\n")
    edited = strategy_source(SimulationConfig(**config))
    note = source_changed({"strategy_source": source}, edited, tmp_path / "r")
    assert note == (f"{tmp_path / 'mine.py'} changed since {tmp_path / 'r'} last ran: the rounds recorded there come "
                    f"from the code as it was then; pass another --out to run the new code from the start")
    assert source_changed({}, edited, "r") is None  # a run recorded before its source was: nothing to compare

    resumed = RunRecords(tmp_path / "r")
    resumed.start(SimulationConfig(**config).resolved(), {"strategy_source": edited})
    resumed.append({"round": 1, "n_labeled": 150, "macro_f1": 0.5, "picked": []})
    stored = RunRecords(tmp_path / "r").compare(SimulationConfig(**config).resolved())
    assert stored["resumes"][0]["strategy_source"] == [source["digest"], edited["digest"]]
    assert stored["strategy_source"] == edited

    (tmp_path / "mine.py").write_text(code + "# again\n")
    result = run_one(config)  # complete: said so, with the note
    assert result["status"] == "complete"
    assert result["warnings"] == [source_changed(stored, strategy_source(SimulationConfig(**config)),
                                                 tmp_path / "r")] != [None]


def test_a_run_whose_budget_was_raised_has_rounds_left_even_where_its_line_count_says_complete(tmp_path):
    """A budget-220 run (rounds at 100, 150, 200, 220) in a grid raised to 250 has as many rounds as 250 needs
    (100, 150, 200, 250): counting lines took it for complete, and the grid skipped it."""
    import json

    from al.grid import has_rounds_left

    def stored(picks):
        run_dir = tmp_path / "-".join(map(str, picks))
        run_dir.mkdir()
        (run_dir / "rounds.jsonl").write_text("".join(json.dumps({"round": i, "picked": [0] * n}) + "\n"
                                                      for i, n in enumerate(picks)))
        return run_dir

    def left(run_dir, budget):
        return has_rounds_left(SimulationConfig(initial=100, step=50, budget=budget, out=str(run_dir)))

    shrunk, whole = stored([50, 50, 20, 0]), stored([50, 50, 50, 0])
    assert left(shrunk, 250) and not left(whole, 250) and left(whole, 300)
    assert not left(shrunk, 220)
    assert left(tmp_path / "none", 250)
    # what progress lines and the time left count: the rounds kept, not the lines (4/5, then 3/5, then 4/5)
    from al.grid import kept_rounds

    def kept(run_dir, budget):
        return kept_rounds(SimulationConfig(initial=100, step=50, budget=budget, out=str(run_dir)))

    assert (kept(shrunk, 300), kept(shrunk, 220), kept(whole, 300), kept(tmp_path / "none", 300)) == (2, 4, 3, 0)


def test_a_raised_budget_is_an_extension_in_the_dry_run_and_the_run_lines(tmp_path, monkeypatch):
    """Budget 200 -> 250 in the grid file: the dry run said "16 to resume" and each line "resumed", where
    al.simulate says "extending to budget 250 (was 200)"."""
    import al.simulate
    from al.grid import readiness

    config = {"strategy": "random", "initial": 100, "step": 50, "budget": 200, "out": str(tmp_path / "r")}
    stored_run(config, 3)
    raised = {**config, "budget": 250}
    assert readiness([SimulationConfig(**raised)]) == "ready: 1 to extend (budget 200 -> 250)"
    assert readiness([SimulationConfig(**config)]) == "ready: 1 complete (nothing to run)"
    monkeypatch.setattr(al.simulate, "run_as_command", lambda config, quiet: [{"macro_f1": 0.5}] * 4)
    assert run_one(raised)["status"] == "extended"
    partial = {**config, "out": str(tmp_path / "p")}  # a run stopped after round 0, the same budget: resumed
    stored_run(partial, 1)
    assert readiness([SimulationConfig(**partial)]) == "ready: 1 to resume (after 1 of 3 rounds)"
    assert run_one(partial)["status"] == "resumed"  # (al.simulate.run_as_command stubbed: partial keeps its round)
    alike = {**partial, "out": str(tmp_path / "q")}  # two runs stopped after as many rounds: the count said, each
    stored_run(alike, 1)
    assert readiness([SimulationConfig(**partial), SimulationConfig(**alike)]) == \
        "ready: 2 to resume (after 1 of 3 rounds each)"
    further = {**partial, "out": str(tmp_path / "f"), "budget": 300}  # after 2 of 5 and 1 of 3: the range
    stored_run(further, 2)
    assert readiness([SimulationConfig(**c) for c in (partial, alike, further)]) == \
        "ready: 3 to resume (after 1 to 2 finished rounds)"
    shorter = {**further, "out": str(tmp_path / "s")}  # after 1 of 3 and 1 of 5 rounds: one count, a singular noun
    stored_run(shorter, 1)
    assert readiness([SimulationConfig(**c) for c in (partial, shorter)]) == \
        "ready: 2 to resume (after 1 finished round each)"


def test_a_dry_run_reads_the_label_descriptions_a_run_would_read_first(tmp_path):
    """A misspelt label in the descriptions file passed --dry-run and failed each run once it started."""
    from al.grid import unreadable_corpus

    data = _csv(tmp_path / "texts.csv")
    described = tmp_path / "d.yaml"

    def config(text):
        described.write_text(text)
        return SimulationConfig(dataset="csv", data_path=str(data), labels=["a", "b"], initial=10, step=5, budget=20,
                                initial_strategy="label_names", label_descriptions=str(described))

    assert unreadable_corpus(config("a: first\nb: second\n"), {}) is None
    assert unreadable_corpus(config("a: first\nc: third\n"), {}) == (
        f"label descriptions file {str(described)!r} names unknown label(s) c; the run's labels: a, b")
    assert unreadable_corpus(config("a: first\n"), {}) is None  # a file describing some labels: the run warns
    # a cell other settings refuse (a misspelt strategy param) is read for its data alone, descriptions included
    from dataclasses import replace

    from al.grid import unreadable_data

    refused = replace(config("a: first\nc: third\n"), strategy={"name": "cvirs", "params": {"treshold": 0.3}})
    assert refused.problems() and unreadable_data(refused, {}) == (
        f"label descriptions file {str(described)!r} names unknown label(s) c; the run's labels: a, b")
    # a bad step is read by neither the corpus nor the pool's size: a budget beyond the pool is said beside it
    too_big = replace(config("a: first\nb: second\n"), step=0, budget=100_000)
    assert [str(p).split(" (")[0] for p in too_big.problems()] == ["step must be a positive integer"]
    assert unreadable_data(too_big, {}).startswith("budget (100000) is larger than the pool (")
    assert unreadable_data(replace(too_big, budget=20), {}) is None  # a sound budget: only the step is said


def test_a_grid_whose_machines_ray_ended_ends_in_one_line_as_the_cluster_stopped(tmp_path, monkeypatch):
    """`ray stop` under a Ray grid read as a worker killed twice, by the out-of-memory killer perhaps; then each run in
    flight was a line of the same failure (sixty for a grid of sixty): the grid ends, in one line."""
    import types

    from al import grid

    class LocalRayletDiedError(Exception):
        pass

    class WorkerCrashedError(Exception):
        pass

    submitted = []

    class Ray:
        exceptions = types.SimpleNamespace(LocalRayletDiedError=LocalRayletDiedError,
                                           WorkerCrashedError=WorkerCrashedError)

        def remote(self, **options):
            return lambda function: types.SimpleNamespace(remote=lambda *args: submitted.append(args) or
                                                          len(submitted))

        def wait(self, refs, num_returns):
            clock.now += 40.0  # the task in flight 40 s
            return refs[:1], refs[1:]

        def get(self, ref):
            raise LocalRayletDiedError("the local raylet died")

    clock = types.SimpleNamespace(now=1000.0)
    monkeypatch.setattr(grid.time, "perf_counter", lambda: clock.now)
    monkeypatch.setattr(grid, "connect_ray", lambda address, **kwargs: Ray())
    runs = [grid.GridRun(f"seed-{seed}", SimulationConfig(out=str(tmp_path / f"seed-{seed}")), ()) for seed in (0, 1)]
    with pytest.raises(grid.RayClusterGone) as caught:
        list(grid.run_ray(runs, "auto"))
    assert len(submitted) == 2  # neither sent again: no run can go on on this machine
    assert str(caught.value) == (
        "this machine's Ray (its raylet) ended under the grid's tasks (LocalRayletDiedError): the cluster was stopped "
        "(ray stop) or crashed; what the runs finished is kept: start the cluster again and run the same grid "
        "command to resume them")


def test_runs_that_fail_alike_say_the_message_once(tmp_path, monkeypatch, capsys):
    """A model missing on a Ray cluster's workers (not checked here: models are each machine's own) failed the
    once-per-pool task and every run, each line the same 170 characters; the first says it, the others name it."""
    from al import grid

    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{strategy: random, initial: 100, step: 50, budget: 150}}\n"
                    f"grid: {{seed: [0, 1, 2, 3]}}\n")
    missing = "model 'x' is not installed locally and the hub is unreachable; run once online"

    def tasks(runs, workers, preparations=(), watch=None):
        for r, message in zip(runs, [missing, missing, "another failure", missing]):
            yield r, {"status": "failed", "seconds": 1.0, "message": message}

    monkeypatch.setattr(grid, "run_local", tasks)
    assert main([str(path), "--workers", "2"]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("[")]
    assert [line.split(maxsplit=3)[2:] for line in lines] == [
        ["seed-0", f"{missing}  (1 s)"], ["seed-1", "the same failure as seed-0  (1 s)"],
        ["seed-2", "another failure  (1 s)"], ["seed-3", "the same failure as seed-0  (1 s)"]], lines

    def prepared_first(runs, workers, preparations=(), watch=None):  # the once-per-pool task fails first
        yield grid.Preparation("disaster: embeddings", runs[0].config, "embeddings", 0), {
            "status": "failed", "seconds": 1.0, "message": missing}
        yield from tasks(runs, workers)

    monkeypatch.setattr(grid, "run_local", prepared_first)
    assert main([str(path), "--workers", "2"]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("[")]
    assert lines[0] == f"[prepare] failed   disaster: embeddings  {missing}"
    assert lines[1].endswith("seed-0  the same failure as the once-per-pool task 'disaster: embeddings'  (1 s)")
    assert main([str(path), "--workers", "2", "--quiet"]) == 2  # its line is not said: the first run says it all
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("[")]
    assert lines[0].endswith(f"seed-0  {missing}  (1 s)") and lines[1].endswith("the same failure as seed-0  (1 s)")


def test_a_ray_grid_whose_cluster_ended_says_it_once_and_counts_the_runs_not_finished(tmp_path, monkeypatch, capsys):
    from al import grid

    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{strategy: random, initial: 100, step: 50, budget: 150}}\n"
                    f"grid: {{seed: [0, 1, 2]}}\n")

    def tasks(runs, address, preparations=(), watch=None):
        yield runs[0], {"status": "done", "seconds": 1.0, "rounds": 2, "macro_f1": 0.5}
        watch.began(grid.Preparation("disaster: embeddings", runs[0].config, "embeddings", 0))  # one in flight
        raise grid.RayClusterGone("this machine's Ray (its raylet) ended under the grid's tasks (...)")

    monkeypatch.setattr(grid, "ray_connected", lambda: True)
    monkeypatch.setattr(grid, "connect_ray", lambda address, **kwargs: object())
    monkeypatch.setattr(grid, "no_cpu_note", lambda ray: None)
    monkeypatch.setattr(grid, "run_ray", tasks)
    assert main([str(path), "--ray", "auto"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-3].startswith("[1/3] done     seed-0") and err[-2:] == [
        "error: this machine's Ray (its raylet) ended under the grid's tasks (...)",
        f"1 done, 2 not finished in {err[-1].split(' in ')[1]}"], err
    import json

    (stopped,) = [json.loads(line) for line in (tmp_path / "o" / "preparations.jsonl").read_text().splitlines()]
    assert stopped["status"] == "stopped" and stopped["message"].startswith(
        "stopped before its end (this machine's Ray ended); what it finished is kept")


@pytest.mark.parametrize("stopped_where", ["in the wait", "between two results"])
def test_a_stopped_ray_grid_interrupts_its_tasks_so_they_keep_what_they_finished(tmp_path, monkeypatch, capsys,
                                                                                 stopped_where):
    """Ctrl-C on a Ray grid closed the connection under its tasks, killing them: an embedding pass lost every vector
    it had computed, where local workers keep them (SIGTERM, then STOP_GRACE seconds to save)."""
    import types

    from al import grid

    calls, refs = [], iter(range(100))

    class Ray:
        exceptions = types.SimpleNamespace()

        def remote(self, **options):
            return lambda function: types.SimpleNamespace(remote=lambda *args: f"ref-{next(refs)}")

        def wait(self, waited, num_returns, timeout=None):
            calls.append(("wait", sorted(waited), num_returns, timeout))
            if num_returns == 1 and stopped_where == "in the wait":
                raise KeyboardInterrupt  # Ctrl-C while the grid waits for a task
            if num_returns == 1:
                return waited[:1], waited[1:]
            return sorted(waited)[:1], sorted(waited)[1:]  # after the interrupt: one ended within the grace

        def get(self, ref):
            return {"status": "done", "seconds": 1.0, "rounds": 3, "macro_f1": 0.5}

        def cancel(self, ref, force=False):
            calls.append(("cancel", ref, force))

        def is_initialized(self):
            return True

    monkeypatch.setattr(grid, "connect_ray", lambda address, **kwargs: Ray())
    runs = [grid.GridRun(f"seed-{i}", SimulationConfig(out=str(tmp_path / f"seed-{i}")), ()) for i in range(3)]
    results = grid.run_ray(runs, "auto")
    if stopped_where == "in the wait":
        with pytest.raises(KeyboardInterrupt):
            next(results)
        in_flight = ["ref-0", "ref-1", "ref-2"]
    else:
        next(results)  # one result taken; the grid then stops between two (the caller closes the generator)
        results.close()
        in_flight = ["ref-1", "ref-2"]
    stops = calls[[c[0] for c in calls].index("cancel"):]
    assert sorted(stops[:len(in_flight)]) == [("cancel", ref, False) for ref in in_flight]  # interrupted, not killed
    assert stops[len(in_flight)] == ("wait", in_flight, len(in_flight), grid.STOP_GRACE)  # time to save
    assert stops[len(in_flight) + 1:] == [("cancel", ref, True) for ref in in_flight[1:]]  # killed after it
    assert f"stopping: {len(in_flight)} tasks sent to Ray (running, or waiting for a CPU) have up to 20 s to keep " \
        f"what they finished" in \
        capsys.readouterr().err
    closed = Ray()
    closed.is_initialized = lambda: False  # the connection closed already: Ray's cancel would start another Ray
    calls.clear()
    grid.stop_ray_tasks(closed, ["ref-9"])
    assert calls == []


def test_ctrl_c_between_two_results_stops_the_tasks_before_the_grid_returns(tmp_path, monkeypatch, capsys):
    """A stop that came while the grid printed a result left the tasks' generator to the garbage collector: a Ray
    grid closed its connection first, killing the tasks without the time to save."""
    from al import grid

    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{strategy: random, initial: 100, step: 50, budget: 150}}\n"
                    f"grid: {{seed: [0, 1]}}\n")
    events = []

    def tasks(runs, workers, preparations=(), watch=None):
        try:
            for r in runs:
                yield r, {"status": "done", "seconds": 1.0, "rounds": 2, "macro_f1": 0.5}
        finally:
            events.append("tasks stopped")

    def line(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C while the grid says the first result

    monkeypatch.setattr(grid, "run_local", tasks)
    monkeypatch.setattr(grid, "run_line", line)
    real_stopped = grid.stopped
    monkeypatch.setattr(grid, "stopped", lambda *a: events.append("grid says it stopped") or real_stopped(*a))
    assert main([str(path), "--workers", "2"]) == 130
    assert events == ["tasks stopped", "grid says it stopped"]


def _csv_with_a_conflict(path: Path) -> Path:
    """:func:`_csv`'s file with one pool text twice under other labels: reading it warns."""
    _csv(path)
    path.write_text(path.read_text() + "pool 1,0,0,train\n")
    return path


def test_a_warning_reading_the_data_is_said_once_per_grid(tmp_path, monkeypatch, capfd):
    """Planning the preparations read the corpus here and warned; the preparation task warned the same, and a worker's
    own reading of it, outside the run's record of warnings, printed it a third time as a raw Python warning."""
    from al import grid

    data = _csv_with_a_conflict(tmp_path / "d.csv")
    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump({"out": str(tmp_path / "o"), "settings": {
        "dataset": "csv", "data_path": str(data), "labels": ["a", "b"], "initial": 10, "step": 5, "budget": 20},
        "grid": {"strategy": ["random", "class_embedding"]}}))
    said = "stand more than once with other labels"

    def tasks(runs, workers, preparations=(), watch=None):
        for p in preparations:  # as a worker's preparation returns it: its warning recorded
            yield p, {"status": "prepared", "seconds": 1.0, "warnings": [
                f"{data}: 1 text(s) {said}, e.g. 'pool 1'; kept as given: if a copy is a mistake, fix or remove it"]}
        for r in runs:
            yield r, {"status": "done", "seconds": 1.0, "rounds": 3, "macro_f1": 0.5}

    monkeypatch.setattr(grid, "run_local", tasks)
    monkeypatch.setattr("al.simulate._LOADED_CORPORA", {})
    monkeypatch.setattr("al.datasets._LAST_READ", {})
    import warnings

    with warnings.catch_warnings():  # shown as a command shows them (pytest records them otherwise)
        warnings.simplefilter("default")
        warnings.showwarning = lambda message, *args, **kwargs: print(f"warning: {message}", file=sys.stderr)
        assert main([str(path), "--workers", "2"]) == 0
    err = capfd.readouterr().err
    assert err.count(said) == 1 and f"warning: {data}: 1 text(s) {said}" in err, err

    # a worker reads the corpus before the run (its pool size checked): what that warns of is the run's warning
    import al.simulate

    monkeypatch.setattr("al.simulate._LOADED_CORPORA", {})  # a fresh worker: it reads the file
    monkeypatch.setattr("al.datasets._LAST_READ", {})
    monkeypatch.setattr(al.simulate, "run_as_command", lambda config, quiet: [{"macro_f1": 0.5}] * 3)
    config = {"dataset": "csv", "data_path": str(data), "labels": ["a", "b"], "initial": 10, "step": 5, "budget": 20,
              "out": str(tmp_path / "lone")}
    result = run_one(config)
    assert result["status"] == "done" and any(said in w for w in result["warnings"]), result
    assert said not in capfd.readouterr().err  # nothing printed by the worker itself


@pytest.mark.parametrize("second, said", [
    ("resumed", "; it ran again and resumed from its finished rounds"),
    ("done", "; it ran again from the start (no round of it had finished)"),
    ("failed", "; it ran again and failed"),  # `ray stop`: it had said it resumed
])
def test_a_task_lost_once_says_how_its_second_run_ended(second, said):
    from al.grid import LOST, Preparation, dispatch

    outcomes = {"run": [LOST, second]}
    handles = iter(range(100))
    started = {}

    def start(r, defer):
        handle = next(handles)
        started[handle] = r
        return handle

    def wait_any(waited):
        return [(h, {"status": outcomes[started[h].name].pop(0), "seconds": 0.0, "message": "lost with its worker"})
                for h in waited[:1]]

    [(_, result)] = list(dispatch(fake_runs(["run"]), 1, start, wait_any))
    assert result["status"] == second and result["warnings"] == [f"lost with its worker{said}"]
    outcomes["run"] = [LOST, "busy"]  # another command took it meanwhile: it did not run again here
    [(_, result)] = list(dispatch(fake_runs(["run"]), 1, start, wait_any))
    assert result["warnings"] == ["lost with its worker; another command runs it now"]
    preparation = Preparation("d: embeddings", fake_runs(["x"])[0].config, "embeddings", 100,
                              readers=frozenset({"x"}))
    outcomes[preparation.name] = [LOST, "prepared"]  # no rounds to resume from
    [(_, result)] = list(dispatch([preparation], 1, start, wait_any))
    assert result["warnings"] == ["lost with its worker; it ran again"]


def test_each_run_lost_with_a_worker_is_named_in_its_warning():
    """Two runs lost with one worker gave one warning, of "this task": the grid says a warning once, so the second
    run's, alike, was neither said nor counted."""
    from al.grid import LOST, WORKER_LOST, dispatch

    runs = fake_runs(["a", "b"])
    outcomes = {"a": [LOST, "resumed"], "b": [LOST, "resumed"]}
    started = {}

    def start(r, defer):
        started[len(started)] = r
        return len(started) - 1

    def wait_any(waited):
        return [(h, {"status": outcomes[started[h].name].pop(0), "seconds": 0.0, "message": WORKER_LOST})
                for h in waited]

    said = {r.name: result["warnings"] for r, result in dispatch(runs, 2, start, wait_any)}
    for r in runs:
        assert said[r.name] == [f"{WORKER_LOST.replace('this task', f'the run of {r.config.run_dir}')}; it ran again "
                                f"and resumed from its finished rounds"]


def test_tasks_lost_with_a_process_pool_run_again_alone_so_a_second_loss_is_their_own():
    """One worker killed (out of memory) breaks the pool: every task in flight comes back lost. They ran again side
    by side, so a healthy task beside the one that ran out of memory again was lost twice, and failed."""
    from al.grid import LOST, dispatch

    runs = fake_runs(["hungry", "healthy", "next", "last"])
    handles = iter(range(100))
    started, in_flight, beside = {}, set(), {}
    outcomes = {"hungry": [LOST, LOST], "healthy": [LOST, "done"], "next": ["done"], "last": ["done"]}

    def start(r, defer):
        handle = next(handles)
        started[handle] = r
        beside.setdefault(r.name, []).append(sorted(started[h].name for h in in_flight))
        in_flight.add(handle)
        return handle

    def wait_any(waited):
        if len(waited) == 2 and {started[h].name for h in waited} == {"hungry", "healthy"}:
            ended = waited  # the pool breaks: both at once
        else:
            ended = waited[:1]
        in_flight.difference_update(ended)
        return [(h, {"status": outcomes[started[h].name].pop(0), "seconds": 0.0, "message": "lost"}) for h in ended]

    results = {r.name: result for r, result in dispatch(runs, 2, start, wait_any, lost_alone=True)}
    assert beside["hungry"] == [[], []] and beside["healthy"] == [["hungry"], []]  # again: each alone
    assert results["hungry"]["status"] == "failed" and "twice" in results["hungry"]["message"]
    assert results["healthy"]["status"] == "done" and results["healthy"]["warnings"]
    assert results["next"]["status"] == results["last"]["status"] == "done"
    assert beside["next"] == [[]] and beside["last"] == [["next"]]  # side by side again once the lost ones ended


def test_a_ray_port_out_of_range_is_said_as_such(tmp_path, capsys):
    """--ray 127.0.0.1:99999 said "nothing listens there": the socket had wrapped the port round to 34463."""
    pytest.importorskip("ray")
    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{budget: 200}}\n")
    for port in (99999, 0):
        assert main([str(path), "--ray", f"127.0.0.1:{port}", "--dry-run"]) == 2
        assert (f"error: --ray 127.0.0.1:{port}: port {port} is out of range (1 to 65535); give the head's port, "
                f"6379 unless") in capsys.readouterr().err


def test_ray_s_token_notice_is_not_shown_while_the_grid_connects():
    """Every --ray command, --quiet too, printed "Token authentication is enabled ... Set RAY_AUTH_MODE=disabled to
    opt out": nothing to act on, and an invitation to turn the cluster's security off."""
    import logging

    from al.grid import RAY_TOKEN_LOGGER, ray_notice_dropped

    class Kept(logging.Handler):  # on the logger itself: Ray's loggers do not propagate once Ray is imported
        def __init__(self):
            super().__init__(logging.WARNING)
            self.messages = []

        def emit(self, record):
            self.messages.append(record.getMessage())

    logger, kept = logging.getLogger(RAY_TOKEN_LOGGER), Kept()
    logger.addHandler(kept)
    try:
        with ray_notice_dropped():
            logger.warning("Token authentication is enabled for this Ray cluster. Set RAY_AUTH_MODE=disabled to opt "
                           "out.")
            logger.warning("the token file cannot be read")  # anything else of Ray's is shown
        logger.warning("Token authentication is enabled for this Ray cluster.")  # outside the connection: as Ray has it
    finally:
        logger.removeHandler(kept)
    assert kept.messages == ["the token file cannot be read", "Token authentication is enabled for this Ray cluster."]

    import al.grid

    class Ray:  # connects, logging the notice as Ray's token setup does
        def is_initialized(self):
            return False

        def init(self, **kwargs):
            logger.warning("Token authentication is enabled for this Ray cluster. Set RAY_AUTH_MODE=disabled to "
                           "opt out.")

    kept.messages.clear()
    logger.addHandler(kept)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(al.grid, "check_ray", lambda address, probe_timeout=None: Ray())
            al.grid.connect_ray("10.0.0.5:6379", quiet=True)
    finally:
        logger.removeHandler(kept)
    assert kept.messages == []  # the grid's connection drops it


def test_a_ray_cluster_with_no_cpu_is_said_before_the_grid_waits_on_it():
    """A head started with --num-cpus 0 and no worker node: the grid said it was working and waited for ever."""
    import types

    from al.grid import no_cpu_note

    def cluster(cpus):
        return types.SimpleNamespace(cluster_resources=lambda: {"CPU": cpus} if cpus is not None else {})

    assert no_cpu_note(cluster(None)).startswith("the Ray cluster offers no CPU now (a head started with --num-cpus 0")
    assert no_cpu_note(cluster(0.0)) is not None and no_cpu_note(cluster(2.0)) is None
    assert no_cpu_note(types.SimpleNamespace()) is None  # a Ray that cannot be asked: nothing said


def test_a_resumed_run_s_result_gives_the_own_seconds_of_the_rounds_it_ran_now(tmp_path, monkeypatch):
    """What the grid's time-left estimate reads: a resumed run's seconds less its loading (time_left)."""
    import al.simulate
    from al.grid import run_one

    config = {"strategy": "random", "initial": 100, "step": 50, "budget": 200, "out": str(tmp_path / "r")}
    stored_run(config, 1)  # stopped after round 0: rounds 1 and 2 left
    records = [{"macro_f1": 0.5, "seconds_train": 10.0 * (i + 1), "seconds_query": 1.0, "seconds_embed": 50.0}
               for i in range(3)]
    monkeypatch.setattr(al.simulate, "run_as_command", lambda config, quiet: records)
    result = run_one(config)
    assert result["status"] == "resumed" and result["round_seconds"] == pytest.approx(21.0 + 31.0)


def test_a_preparation_stopped_by_ctrl_c_is_logged_as_stopped(tmp_path, monkeypatch, capsys):
    """An embedding pass stopped by Ctrl-C left no line in preparations.jsonl: the report listed nothing of it,
    though its vectors were kept and used."""
    from al import grid
    from al.records import read_preparations

    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{strategy: random, initial: 100, step: 50, budget: 150}}\n"
                    f"grid: {{seed: [0, 1]}}\n")

    def tasks(runs, workers, preparations=(), watch=None):
        embedding = grid.Preparation("disaster: embeddings", runs[0].config, "embeddings", 1000, ("train",),
                                     frozenset(r.name for r in runs))
        watch.began(embedding)  # in flight, as a worker runs it, when Ctrl-C comes
        raise KeyboardInterrupt
        yield  # a generator, as run_local is

    monkeypatch.setattr(grid, "run_local", tasks)
    assert main([str(path), "--workers", "2"]) == 130
    (entry,) = read_preparations(tmp_path / "o")
    assert (entry["task"], entry["part"], entry["status"]) == ("disaster: embeddings", "embeddings", "stopped")
    assert entry["message"].endswith("the next grid command does the rest") and entry["runs"] == ["seed-0", "seed-1"]
