"""A grid's plan and its clock: runs their directory will refuse, and the time left when a grid resumes."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from al.config import SimulationConfig
from al.grid import expand_grid, main
from al.progress import duration
from tests.unit.test_grid import _csv

SETTINGS = {"dataset": "csv", "labels": ["a", "b"], "initial": 10, "step": 5, "budget": 20}  # 3 rounds


def _store(config: SimulationConfig, rounds: int, meta: dict | None = None, **edited) -> None:
    """A run directory as an earlier grid command left it: ``config`` (``edited``) with ``rounds`` finished."""
    from al.records import RunRecords

    records, stored = RunRecords(config.run_dir), SimulationConfig(**{**config.to_dict(), **edited})
    records.start(stored.resolved(), meta or {})
    for i in range(rounds):
        n_labeled = stored.initial + stored.step * i
        records.append({"round": i, "n_labeled": n_labeled, "macro_f1": 0.5,
                        "picked": [0] * max(0, min(stored.step, stored.budget - n_labeled))})


def _digests(config: SimulationConfig) -> dict[str, str]:
    from al.simulate import data_file_digest, load_config_corpus

    return {"data_digest": data_file_digest(config.data_path), "corpus_digest": load_config_corpus(config).digest()}


def test_the_plan_leaves_out_runs_their_directory_will_refuse(tmp_path, monkeypatch):
    """An edited grid file rerun into the same out: no pool work for runs that will fail, all for those that resume."""
    from al.grid import plan_preparation, refusal

    monkeypatch.setattr("al.simulate._LOADED_CORPORA", {})
    small, large = _csv(tmp_path / "small.csv", n=60), _csv(tmp_path / "large.csv", n=90)
    _, runs = expand_grid({
        "out": str(tmp_path / "runs"), "settings": SETTINGS,
        "grid": {"data": [{"name": "small", "data_path": str(small)}, {"name": "large", "data_path": str(large)}],
                 "strategy": ["random", "alps"]}})
    run = {r.name: r.config for r in runs}
    assert [(p.part, Path(p.config.data_path).stem) for p in plan_preparation(runs)] == [
        ("strategy", "large"), ("strategy", "small"), ("embeddings", "large"), ("embeddings", "small")]

    _store(run["data-large__strategy-alps"], 1, budget=25)  # other settings: refused before the corpus loads
    _store(run["data-large__strategy-random"], 1,  # other data: the stored run read other texts
           {"data_digest": "0" * 32, "corpus_digest": "1" * 32})
    for name in ("data-small__strategy-alps", "data-small__strategy-random"):  # partial runs of these settings
        _store(run[name], 1, _digests(run[name]))
    small.write_bytes(small.read_bytes().replace(b"\n", b"\r\n"))  # re-saved: other bytes, the same corpus

    assert "holds a run with other settings (budget: 25 -> 20)" in refusal(run["data-large__strategy-alps"])
    assert "the texts, labels or splits it reads changed" in refusal(run["data-large__strategy-random"])
    assert refusal(run["data-small__strategy-alps"]) is None and refusal(run["data-small__strategy-random"]) is None
    assert [(p.part, Path(p.config.data_path).stem) for p in plan_preparation(runs)] == [
        ("strategy", "small"), ("embeddings", "small")]


def _grid_file(tmp_path: Path, seeds: list[int]) -> tuple[Path, dict[str, SimulationConfig]]:
    path = tmp_path / "g.yaml"
    spec = {"out": str(tmp_path / "runs"), "settings": {**SETTINGS, "data_path": str(_csv(tmp_path / "d.csv"))},
            "grid": {"seed": seeds}}
    path.write_text(yaml.safe_dump(spec))
    return path, {r.name: r.config for r in expand_grid(spec)[1]}


def test_a_run_its_directory_refuses_fails_at_once_and_is_neither_prepared_nor_started(tmp_path, monkeypatch,
                                                                                        capsys):
    from al import grid

    path, run = _grid_file(tmp_path, [0, 1, 2])
    _store(run["seed-1"], 1, budget=25)
    started = {}

    def fake_local(runs, workers, preparations=(), watch=None):
        started["err"] = capsys.readouterr().err  # what the grid said before any work began
        started["runs"], started["preparations"] = [r.name for r in runs], list(preparations)
        for p in preparations:
            yield p, {"status": "prepared", "seconds": 1.0}
        for r in runs:
            yield r, {"status": "done", "seconds": 2.0, "macro_f1": 0.5}

    monkeypatch.setattr(grid, "run_local", fake_local)
    assert main([str(path), "--workers", "2"]) == 2
    assert started["runs"] == ["seed-0", "seed-2"]
    assert [p.part for p in started["preparations"]] == ["embeddings"]  # for the runs that will read it
    assert "\n  failed: seed-1: its directory holds a run with other settings (budget: 25 -> 20)" in started["err"]
    assert capsys.readouterr().err.splitlines()[-1].startswith("2 done, 1 failed in ")

    for name in ("seed-0", "seed-2"):  # every run refused: nothing planned, no worker started
        _store(run[name], 3, budget=25)
    monkeypatch.setattr(grid, "run_local", lambda *a, **k: pytest.fail("a worker pool for runs that are all refused"))
    monkeypatch.setattr(grid, "plan_preparation", lambda *a, **k: pytest.fail("preparations for refused runs"))
    assert main([str(path), "--workers", "2"]) == 2
    err = capsys.readouterr().err
    assert "once-per-pool" not in err and "3 failed in " in err
    # one line for the three alike refusals (a lowered budget refuses every run of a grid), as the dry run says it
    failed = [line for line in err.splitlines() if "failed" in line and "3 failed in " not in line]
    assert failed == ["  failed: seed-0, seed-1, seed-2: its directory holds a run with other settings (budget: 25 -> "
                      "20); a budget can be raised to continue a run, not lowered: pass another --out or remove that "
                      "directory"], err


@pytest.mark.parametrize("worked, rounds_left, elapsed, in_flight, left", [
    ([], [11] * 9, 0.0, (), None),  # no run did work yet: no estimate
    ([(60.0, 3)], [], 60.0, (), None),  # nothing left to do
    ([(60.0, 3)], [3] * 9, 60.0, (), 540.0),  # resumed: complete runs set no pace, nor count as left
    ([(60.0, 3)], [3] * 8 + [1], 60.0, (60.0,), 250.0),  # two workers: the other run 2 of 3 rounds in; 25 rounds
    ([(5.0, 1)], [20] * 20, 5.0, (), 2000.0),  # a resumed run ran one round: its pace is a round's, not a run's
    ([(10.0, 10)], [8], 10.0, (10.0,), 8.0),  # a slow run in flight past the others' time: its rounds left count
    ([(60.0, 3), (60.0, 3)], [3, 3], 120.0, (), 120.0),  # one worker at a time (the other held by a preparation)
    ([(60.0, 3)] * 4, [3] * 8, 60.0, (), 120.0),  # four at once (Ray: in flight unknown, pace from what came back)
    ([(60.0, 3), (60.0, 3)], [3, 3], 60.0, (50.0,), 60.0),  # two at once, but the one not begun takes a whole run
    ([(60.0, 3)], [3] * 5, 60.0, (200.0,), 150.0),  # in flight before the pace was clocked: counts from then
])
def test_time_left(worked, rounds_left, elapsed, in_flight, left):
    from al.grid import time_left

    assert time_left(worked, rounds_left, elapsed, in_flight) == (None if left is None else pytest.approx(left))


def test_time_left_counts_what_a_run_pays_once_apart_from_its_rounds():
    """A resumed grid's first run ran one round in 5 s, 4 of them loading: the 20 runs of 20 rounds left were said
    to take 2,000 s (5 s a round) where each takes about 24."""
    from al.grid import time_left

    assert time_left([(5.0, 1, 1.0)], [20] * 20, 5.0) == pytest.approx(20 * (20 * 1.0 + 4.0))
    # a run in flight has paid its loading already: its rounds alone
    assert time_left([(5.0, 1, 1.0)], [20, 20], 5.0, (), None, None, [True, False]) == pytest.approx(20 + 24)
    # the first run embedded the pool (100 s once), two others loaded from the cache (2 s): the median, not the mean
    worked = [(110.0, 10, 10.0), (12.0, 10, 10.0), (12.0, 10, 10.0)]
    assert time_left(worked, [10], 134.0) == pytest.approx(12.0)
    # each kind its own: DAL's runs pay 30 s once and 10 s a round, random's 1 and 1
    worked, kinds = [(11.0, 10, 10.0), (130.0, 10, 100.0)], ["random", "dal"]
    assert time_left(worked, [10, 10], 141.0, (), kinds, ["random", "dal"]) == pytest.approx(141.0)
    assert time_left(worked, [5], 141.0, (), kinds, ["cvirs"]) == pytest.approx(5 * 5.5 + 15.5)  # untimed: all's


def test_a_run_s_result_gives_its_rounds_own_seconds_less_what_it_paid_once():
    from al.grid import round_seconds

    records = [{"seconds_train": 1.0, "seconds_train_dev": 0.4, "seconds_evaluate": 0.5, "seconds_query": 0.25,
                "seconds_embed": 100.0, "seconds_replay": 3.0},
               {"seconds_train": 2.0, "seconds_space": 1.0, "seconds_stopping": 0.5, "seconds_diagnostics": 0.25}]
    assert round_seconds(records) == pytest.approx(1.75 + 3.75)  # stopping and diagnostics: each round's too


def test_time_left_takes_each_kind_of_run_at_its_own_pace():
    """A grid's random run took 1 s a round, its DAL run 10: the estimate for two random and one DAL run left was
    the mean pace, 5.5 s a round (the grid's line said 'about 3 s left' with a minute of DAL runs to go)."""
    from al.grid import run_line, time_left

    worked, kinds = [(10.0, 10), (100.0, 10)], ["random", "dal"]
    assert time_left(worked, [10, 10, 10], 110.0) == pytest.approx(165.0)  # no kinds: 30 rounds at 5.5 s
    assert time_left(worked, [10, 10, 10], 110.0, (), kinds, ["random", "random", "dal"]) == pytest.approx(120.0)
    assert time_left(worked, [10], 110.0, (), kinds, ["cvirs"]) == pytest.approx(55.0)  # untimed: the pace of all
    line = run_line(3, 6, "x", {"status": "done", "seconds": 5.0, "macro_f1": 0.5}, 55.0, untimed=1, to_run=3)
    assert line == ("[3/6] done     x  macro-F1 0.5000  (5 s, about 55 s left for the runs of timed settings, and 1 "
                    "run of settings not timed yet)")
    line = run_line(3, 6, "x", {"status": "done", "seconds": 5.0, "macro_f1": 0.5}, 0.5, untimed=2, to_run=3)
    assert line == ("[3/6] done     x  macro-F1 0.5000  (5 s, the runs of timed settings are about done, and 2 runs "
                    "of settings not timed yet)")  # it said "about 0 s left for the runs of timed settings"
    line = run_line(3, 6, "x", {"status": "done", "seconds": 5.0, "macro_f1": 0.5}, 0.4, untimed=0, to_run=3)
    assert line == "[3/6] done     x  macro-F1 0.5000  (5 s, about done)"
    line = run_line(5, 6, "x", {"status": "done", "seconds": 5.0, "macro_f1": 0.5}, None, untimed=1, to_run=1)
    assert line == ("[5/6] done     x  macro-F1 0.5000  (5 s, time left not known until the run left ends: its "
                    "settings have not been timed)")


@pytest.mark.parametrize("workers, lines", [
    (1, ["[4/6] done     seed-3  macro-F1 0.5000  (60 s, about 2 min left)",
         "[5/6] done     seed-4  macro-F1 0.5000  (60 s, about 60 s left)",
         "[6/6] done     seed-5  macro-F1 0.5000  (60 s)"]),
    (2, ["[4/6] done     seed-3  macro-F1 0.5000  (60 s, about 60 s left)",  # seed-4 ends now, then seed-5
         "[5/6] done     seed-4  macro-F1 0.5000  (60 s, about 60 s left)",
         "[6/6] done     seed-5  macro-F1 0.5000  (60 s)"]),
])
def test_a_resumed_grid_estimates_from_the_runs_that_work(tmp_path, monkeypatch, capsys, workers, lines):
    """Three runs complete on disk, three to do, 60 s each: the complete ones are no pace and no work left."""
    from al import grid

    path, run = _grid_file(tmp_path, list(range(6)))
    for name in ("seed-0", "seed-1", "seed-2"):
        _store(run[name], 3)
    clock, spent = [1000.0], {}
    monkeypatch.setattr(grid.time, "perf_counter", lambda: clock[0])
    real_snapshot = grid.InFlight.snapshot
    monkeypatch.setattr(grid.InFlight, "snapshot", lambda self: [(r, spent[r.name]) for r, _ in real_snapshot(self)])

    def fake_local(runs, workers, preparations=(), watch=None):
        for p in preparations:
            clock[0] += 30.0  # once-per-pool work: no run's pace
            yield p, {"status": "prepared", "seconds": 30.0}
        for r in runs[:3]:
            yield r, {"status": "complete", "seconds": 0.0, "macro_f1": 0.5}
        first, second, third = runs[3:]
        if workers == 1:
            for r in (first, second, third):
                clock[0] += 60.0
                yield r, {"status": "done", "seconds": 60.0, "macro_f1": 0.5, "rounds": 3}
            return
        watch.began(second)  # first and second run side by side, then third
        clock[0] += 60.0
        spent[second.name] = 60.0
        yield first, {"status": "done", "seconds": 60.0, "macro_f1": 0.5, "rounds": 3}
        watch.ended(second)
        watch.began(third)
        spent[third.name] = 0.0
        yield second, {"status": "done", "seconds": 60.0, "macro_f1": 0.5, "rounds": 3}
        watch.ended(third)
        clock[0] += 60.0
        yield third, {"status": "done", "seconds": 60.0, "macro_f1": 0.5, "rounds": 3}

    monkeypatch.setattr(grid, "run_local", fake_local)
    assert main([str(path), "--workers", str(workers)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert "[1/6] complete seed-0  macro-F1 0.5000  (0 s)" in err  # no run did work yet: no estimate
    assert [line for line in err if "] done" in line] == lines


def test_a_grid_estimates_each_strategy_at_its_own_pace_and_says_which_are_not_timed_yet(tmp_path, monkeypatch,
                                                                                          capsys):
    """Random runs first at 1 s a round, then margin runs at 10: the line after the random runs priced the margin
    runs at random's pace and did not say so; then it said so, but with random's time (a grid of DAL runs read
    'about 0 s left, guessed for 3 runs')."""
    from al import grid

    path = tmp_path / "g.yaml"
    spec = {"out": str(tmp_path / "runs"), "settings": {**SETTINGS, "data_path": str(_csv(tmp_path / "d.csv"))},
            "grid": {"strategy": ["random", "margin"], "seed": [0, 1]}}
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    clock = [1000.0]
    monkeypatch.setattr(grid.time, "perf_counter", lambda: clock[0])

    def fake_local(runs, workers, preparations=(), watch=None):
        for p in preparations:
            yield p, {"status": "prepared", "seconds": 0.0}
        for r in runs:  # in the file's order: the random runs first
            seconds = (1.0 if r.config.strategy.name == "random" else 10.0) * r.config.n_rounds
            clock[0] += seconds
            yield r, {"status": "done", "seconds": seconds, "macro_f1": 0.5, "rounds": r.config.n_rounds}

    monkeypatch.setattr(grid, "run_local", fake_local)
    assert main([str(path), "--workers", "1"]) == 0
    n = expand_grid(spec)[1][0].config.n_rounds
    done = [line for line in capsys.readouterr().err.splitlines() if "] done" in line]
    # no pace of random's is margin's: no time is guessed for its runs
    assert done[0].endswith(f"({n} s, about {duration(n)} left for the runs of timed settings, and 2 runs of "
                            f"settings not timed yet)")
    assert done[1].endswith(f"({n} s, time left not known until one of the 2 runs left ends: none of their settings "
                            f"has been timed)")
    assert done[2].endswith(f"({10 * n} s, about {duration(10 * n)} left)")  # margin's own pace, not (1 + 10) / 2


def test_a_dry_run_names_the_runs_their_directories_will_refuse(tmp_path, capsys):
    path, run = _grid_file(tmp_path, [0, 1, 2])
    assert main([str(path), "--dry-run"]) == 0  # every run can run
    capsys.readouterr()
    _store(run["seed-1"], 1, budget=25)
    assert main([str(path), "--dry-run"]) == 2  # as the grid would end
    captured = capsys.readouterr()
    assert captured.out.split() == ["seed-0", "seed-1", "seed-2"]
    refused = [line for line in captured.err.splitlines() if line.startswith("  will fail: ")]
    assert len(refused) == 1 and refused[0].startswith("  will fail: seed-1: ") and "budget: 25 -> 20" in refused[0]
    # the same refusal of several runs is one line: each run's directory is "its directory" (it was one line each)
    _store(run["seed-2"], 1, budget=25)
    assert main([str(path), "--dry-run"]) == 2
    refused = [line for line in capsys.readouterr().err.splitlines() if line.startswith("  will fail: ")]
    assert len(refused) == 1 and refused[0].startswith("  will fail: seed-1, seed-2: its directory holds a run with "
                                                       "other settings (budget: 25 -> 20); "), refused


def test_a_resumed_run_sets_the_pace_of_the_rounds_it_ran(tmp_path, monkeypatch, capsys):
    """seed-0 had 2 of 3 rounds: its last round took 20 s, so two fresh runs of 3 rounds take 2 min, not 40 s."""
    from al import grid

    path, run = _grid_file(tmp_path, [0, 1, 2])
    _store(run["seed-0"], 2)
    clock = [1000.0]
    monkeypatch.setattr(grid.time, "perf_counter", lambda: clock[0])

    def fake_local(runs, workers, preparations=(), watch=None):
        clock[0] += 20.0
        yield runs[0], {"status": "resumed", "seconds": 20.0, "macro_f1": 0.5, "rounds": 3}
        for r in runs[1:]:
            clock[0] += 60.0
            yield r, {"status": "done", "seconds": 60.0, "macro_f1": 0.5, "rounds": 3}

    monkeypatch.setattr(grid, "run_local", fake_local)
    assert main([str(path)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert "[1/3] resumed  seed-0  macro-F1 0.5000  (20 s, about 2 min left)" in err, err


def test_each_task_that_ends_is_logged_for_the_report_and_a_log_that_cannot_be_written_stops_nothing(
        tmp_path, monkeypatch, capsys):
    """preparations.jsonl gets one line per preparation that ended (prepared or failed), with its seconds and the
    runs that read it; a second grid command adds to it; a log the grid cannot write is one warning line."""
    from al import grid
    from al.records import read_preparations

    path, run = _grid_file(tmp_path, [0, 1])
    root = tmp_path / "runs"
    names = frozenset(run)

    def plan(runs, **kwargs):
        config = runs[0].config
        return [grid.Preparation("d: alps's pool work", config, "strategy", 1, readers=names),
                grid.Preparation("d: embeddings (all-MiniLM-L6-v2, fp32)", config, "embeddings", 1, readers=names)]

    def fake_local(runs, workers, preparations=(), watch=None):
        for p, seconds in zip(preparations, (12.3456, 0.5)):
            yield p, ({"status": "prepared", "seconds": seconds} if p.part == "strategy" else
                      {"status": "failed", "seconds": seconds, "message": "no space left"})
        for r in runs:
            yield r, {"status": "done", "seconds": 2.0, "macro_f1": 0.5}

    monkeypatch.setattr(grid, "plan_preparation", plan)
    monkeypatch.setattr(grid, "run_local", fake_local)
    assert main([str(path), "--workers", "2"]) == 0
    first, second = read_preparations(root)
    assert (first["task"], first["part"], first["status"], first["seconds"]) == (
        "d: alps's pool work", "strategy", "prepared", 12.346)
    assert first["runs"] == ["seed-0", "seed-1"] and "message" not in first
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", first["ended"])
    assert (second["status"], second["seconds"], second["message"]) == ("failed", 0.5, "no space left")

    assert main([str(path), "--workers", "2"]) == 0  # the fake stores no run: the grid prepares again, and adds
    assert [e["task"] for e in read_preparations(root)] == [first["task"], second["task"]] * 2

    def cannot(*args):
        raise PermissionError(13, "denied")

    monkeypatch.setattr(grid, "append_preparation", cannot)
    capsys.readouterr()
    assert main([str(path), "--workers", "2"]) == 0
    err = capsys.readouterr().err
    assert err.count("warning: cannot add to ") == 1 and "preparations.jsonl (denied); the grid goes on" in err
    assert len(read_preparations(root)) == 4


def test_a_model_that_cannot_load_here_is_a_run_that_will_fail_in_a_dry_run_and_fails_at_once(tmp_path, monkeypatch,
                                                                                               capsys):
    from al import grid

    import al.models

    path = tmp_path / "g.yaml"
    missing = str(tmp_path / "no-such-model")
    spec = {"out": str(tmp_path / "runs"), "settings": {**SETTINGS, "data_path": str(_csv(tmp_path / "d.csv"))},
            "grid": {"model": ["all-MiniLM-L6-v2", missing, missing + "/"]}}  # the last two: one name, twice
    path.write_text(yaml.safe_dump(spec))
    bad = [r.name for r in expand_grid(spec)[1] if r.config.model.startswith(missing)]
    looked: list[str] = []
    resolve = al.models.resolve_model
    monkeypatch.setattr(al.models, "resolve_model", lambda name: looked.append(name) or resolve(name))
    assert main([str(path), "--dry-run"]) == 2
    will_fail = [line for line in capsys.readouterr().err.splitlines() if line.startswith("  will fail: ")]
    assert will_fail == [f"  will fail: {name}: model path {model} does not exist; pass an existing directory or a "
                         f"model name" for name, model in zip(bad, (missing, missing + "/"))]
    assert sorted(looked) == sorted(["all-MiniLM-L6-v2", missing, missing + "/"])  # each name once
    started = {}

    def fake_local(runs, workers, preparations=(), watch=None):
        started["runs"] = [r.name for r in runs]
        for r in runs:
            yield r, {"status": "done", "seconds": 2.0, "macro_f1": 0.5}

    monkeypatch.setattr(grid, "run_local", fake_local)
    assert main([str(path)]) == 2
    assert started["runs"] == [r.name for r in expand_grid(spec)[1] if r.name not in bad]
    err = capsys.readouterr().err
    assert all(f"  failed: {name}: model path " in err for name in bad), err


def test_a_dry_run_names_every_problem_of_a_run_not_only_its_first(tmp_path, monkeypatch, capsys):
    """A cell whose directory holds other settings, whose sentence encoder and classifier's model are missing here
    and whose pool is smaller than its budget: four lines, so one dry run shows all there is to fix."""
    monkeypatch.setattr("al.simulate._LOADED_CORPORA", {})
    path = tmp_path / "g.yaml"
    model, other = str(tmp_path / "no-such-model"), str(tmp_path / "no-other-model")
    spec = {"out": str(tmp_path / "runs"),
            "settings": {**SETTINGS, "budget": 500, "data_path": str(_csv(tmp_path / "d.csv")), "model": model,
                         "classifier": {"name": "bert", "params": {"model": other}}},
            "grid": {"seed": [0]}}
    path.write_text(yaml.safe_dump(spec))
    (run,) = expand_grid(spec)[1]
    _store(run.config, 1, budget=600)
    assert main([str(path), "--dry-run"]) == 2
    will_fail = [line.split(": ", 2)[2] for line in capsys.readouterr().err.splitlines()
                 if line.startswith(f"  will fail: {run.name}: ")]
    assert len(will_fail) == 4, will_fail
    assert "holds a run with other settings (budget: 600 -> 500)" in will_fail[0]
    assert will_fail[1].startswith(f"model path {model} does not exist")
    assert will_fail[2].startswith(f"classifier 'bert' param model: model path {other} does not exist")  # its param
    assert "budget" in will_fail[3] and "pool" in will_fail[3]


def test_a_misspelt_data_option_and_a_missing_data_file_are_both_named(tmp_path, capsys):
    """The missing file showed only once the data option was mended: the option's check held the path's back."""
    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump({"out": str(tmp_path / "runs"),
                                    "settings": {"dataset": "jsonl", "data_path": str(tmp_path / "nosuch.jsonl"),
                                                 "data_options": {"split_colum": "fold"}, "budget": 200},
                                    "grid": {"seed": [0]}}))
    assert main([str(path), "--dry-run"]) == 2
    not_run = [line for line in capsys.readouterr().err.splitlines() if line.startswith("  not run: ")]
    assert len(not_run) == 2, not_run
    assert "has no option(s) 'split_colum' (did you mean split_column?)" in not_run[0]
    assert f"data path {tmp_path / 'nosuch.jsonl'} does not exist" in not_run[1]


def test_a_finished_run_loads_no_model_so_one_missing_here_does_not_fail_it(tmp_path, monkeypatch, capsys):
    """Re-running a finished grid where its model is not installed (archived runs on a laptop) finds them done."""
    import al.models
    from al.errors import ModelError

    path, run = _grid_file(tmp_path, [0, 1])
    _store(run["seed-0"], 3)  # finished: 3 of 3 rounds
    _store(run["seed-1"], 1)  # rounds left: it needs the model

    def not_here(name):
        raise ModelError(f"model {name!r} is not installed locally")

    monkeypatch.setattr(al.models, "resolve_model", not_here)
    assert main([str(path), "--dry-run"]) == 2
    will_fail = [line for line in capsys.readouterr().err.splitlines() if line.startswith("  will fail: ")]
    assert will_fail == ["  will fail: seed-1: model 'all-MiniLM-L6-v2' is not installed locally"]


class RayThatInstallsItsHandler:
    """Stands in for Ray where signals are concerned: ``init`` puts in Ray's own SIGTERM handler (``sys.exit(15)``),
    as ray.init does, and may be sent SIGTERM while it connects; ``shutdown`` notes the handlers it met."""

    def __init__(self, signalled: bool = False):
        self.up, self.signalled, self.met = False, signalled, None

    def is_initialized(self):
        return self.up

    def init(self, **kwargs):
        import os
        import signal
        import sys

        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(signum))
        if self.signalled:
            os.kill(os.getpid(), signal.SIGTERM)
        self.up = True

    def shutdown(self):
        import signal

        self.met = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
        self.up = False


def test_sigterm_while_ray_connects_stops_the_grid_as_sigterm_does(tmp_path, monkeypatch, capsys):
    """ray.init puts in its own SIGTERM handler: a SIGTERM while it connected exited 15 without a word, and the
    grid's own handler was gone for the rest of the command."""
    import signal

    path, _ = _grid_file(tmp_path, [0])
    ray = RayThatInstallsItsHandler(signalled=True)
    monkeypatch.setattr("al.grid.check_ray", lambda address, probe_timeout=None: ray)
    before = signal.getsignal(signal.SIGTERM)
    for flags in (["--dry-run"], []):
        assert main([str(path), *flags, "--ray", "auto"]) == 143
        assert capsys.readouterr().err.splitlines()[-1] == "terminated; nothing was run"
        assert signal.getsignal(signal.SIGTERM) is before  # Ray's handler is not left behind


def test_a_keyboard_interrupt_raised_after_sigterm_is_said_as_sigterm():
    """ray.wait catches the Terminated raised inside it and raises a KeyboardInterrupt of its own: a grid on Ray
    stopped by SIGTERM said "interrupted" and exited 130, not 143."""
    import os
    import signal

    from al.cli import Terminated, sigterm_stops, stopped

    with sigterm_stops():
        try:
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(1000):  # the handler runs between bytecodes
                    pass
            except Terminated:
                raise KeyboardInterrupt from None  # what the library raises in its place
        except KeyboardInterrupt as stop:
            assert type(stop) is KeyboardInterrupt and stopped(stop) == 143
    with sigterm_stops():  # a new block starts afresh: Ctrl-C is Ctrl-C
        assert stopped(KeyboardInterrupt()) == 130


def test_the_grid_closes_its_ray_connection_with_ctrl_c_held_off(tmp_path, monkeypatch):
    """A second Ctrl-C in Ray's own shutdown at exit printed a traceback and once aborted the process."""
    import signal

    import al.grid

    path, _ = _grid_file(tmp_path, [0])
    ray = RayThatInstallsItsHandler()
    monkeypatch.setattr("al.grid.check_ray", lambda address, probe_timeout=None: ray)
    monkeypatch.setitem(__import__("sys").modules, "ray", ray)
    monkeypatch.setattr(al.grid, "run_ray", lambda *args, **kwargs: iter(()))
    handlers = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    main([str(path), "--ray", "auto"])
    assert ray.met == (signal.SIG_IGN, signal.SIG_DFL) and not ray.up  # SIGTERM still ends a shutdown that hangs
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers


def test_a_dry_run_for_a_ray_cluster_connects_to_it_and_leaves_models_to_the_cluster(tmp_path, monkeypatch,
                                                                                          capsys):
    pytest.importorskip("ray")
    import socket

    path, run = _grid_file(tmp_path, [0])
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert main([str(path), "--dry-run", "--ray", f"127.0.0.1:{port}"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith(f"error: --ray 127.0.0.1:{port}: nothing listens there (connection refused); ")

    class Ray:  # a cluster that takes the connection: connected once, then let go
        def __init__(self):
            self.calls, self.up = [], False

        def is_initialized(self):
            return self.up

        def init(self, **kwargs):
            self.calls.append(("init", kwargs["address"]))
            self.up = True

        def shutdown(self):
            self.calls.append(("shutdown",))
            self.up = False

    ray = Ray()
    monkeypatch.setattr("al.grid.check_ray", lambda address, probe_timeout=None: ray)
    monkeypatch.setattr("al.models.resolve_model", lambda name: pytest.fail("a model looked for on the driver"))
    assert main([str(path), "--dry-run", "--ray", "auto"]) == 0
    assert ray.calls == [("init", "auto"), ("shutdown",)]

    from tests.unit.test_grid import REFUSED_TOKEN, _RayCore  # a cluster that refuses the connection's token

    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    refusing = _RayCore(REFUSED_TOKEN, ConnectionError("Failed to connect to Ray cluster at 192.0.2.2:6390"))
    monkeypatch.setattr("al.grid.check_ray", lambda address, probe_timeout=None: refusing)
    capsys.readouterr()
    _store(run["seed-0"], 1, budget=25)  # and a run its directory refuses: said after the cluster, in the same dry run
    assert main([str(path), "--dry-run", "--ray", "127.0.0.1:6390"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[1].startswith("error: --ray 127.0.0.1:6390: the cluster asks for Ray's authentication token"), err
    assert err[2].startswith("  will fail: seed-0: ") and "(budget: 25 -> 20)" in err[2], err


def test_a_slow_connection_says_it_is_still_connecting_unless_quiet_and_ctrl_c_stops_it_in_one_line(
        tmp_path, monkeypatch, capfd):
    import time

    import al.grid
    from tests.unit.test_grid import _RayCore

    class Slow(_RayCore):
        def init(self, **kwargs):
            time.sleep(0.35)
            raise KeyboardInterrupt

    import al.progress

    monkeypatch.setattr(al.progress, "_quiet", False)  # as a command leaves it (a worker run in-process sets it)
    monkeypatch.setattr(al.grid, "RAY_CONNECT_HEARTBEAT", (0.1, 0.1))
    monkeypatch.setattr(al.grid, "check_ray", lambda address, probe_timeout=None: Slow(""))
    path, _ = _grid_file(tmp_path, [0])
    assert main([str(path), "--ray", "127.0.0.1:6390"]) == 130
    err = capfd.readouterr().err
    assert "connecting to the Ray cluster at 127.0.0.1:6390: 0 s so far\n" in err
    assert err.endswith("interrupted; nothing was run\n") and "Traceback" not in err
    assert main([str(path), "--ray", "127.0.0.1:6390", "--quiet"]) == 130
    assert "so far" not in capfd.readouterr().err


def test_a_run_directory_as_the_grid_s_out_is_refused(tmp_path, capsys):
    path, run = _grid_file(tmp_path, [0])
    _store(run["seed-0"], 1)
    inner = run["seed-0"].run_dir
    before = sorted(p.name for p in inner.iterdir())
    assert main([str(path), "--out", str(inner)]) == 2
    assert capsys.readouterr().err == (
        f"error: the grid's out {inner} is a run directory (it holds config.json), where the grid's runs would be "
        f"hidden below that run from al.report and al.plot; give a directory for the grid's runs (a new one, or one "
        f"a grid wrote)\n")
    assert sorted(p.name for p in inner.iterdir()) == before
    assert main([str(path), "--dry-run", "--out", str(inner)]) == 2


def test_quiet_leaves_out_the_grid_s_first_line_and_one_simulation_is_singular(tmp_path, monkeypatch, capsys):
    from al import grid

    path, _ = _grid_file(tmp_path, [0])
    monkeypatch.setattr(grid, "run_local", lambda runs, *a, **k: ((r, {"status": "done", "seconds": 1.0,
                                                                          "macro_f1": 0.5}) for r in runs))
    assert main([str(path), "--quiet"]) == 0
    assert capsys.readouterr().err.splitlines()[0].startswith("1 done in ")  # the closing line alone
    assert main([str(path), "--dry-run", "--quiet"]) == 0
    assert capsys.readouterr().err == f"1 simulation in {path} -> {tmp_path / 'runs'}\n"


def test_a_relative_data_path_the_grid_files_folder_holds_is_named_from_another_folder(tmp_path, monkeypatch, capsys):
    """From another folder, every cell said 'data path .../elsewhere/d.csv does not exist', with the file beside the
    grid file and no word on where relative paths are read from."""
    _csv(tmp_path / "d.csv")
    (tmp_path / "g.yaml").write_text("out: runs\nsettings: {dataset: csv, data_path: d.csv, labels: [a, b], "
                                     "initial: 10, step: 5, budget: 20}\ngrid: {seed: [0, 1]}\n")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert main(["../g.yaml", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.count(f"warning: data_path 'd.csv' is read from the current directory ({tmp_path / 'elsewhere'}), "
                     f"which does not hold it; the grid file's folder does ({tmp_path / 'd.csv'}): run from there, or "
                     f"give the path from here or in full") == 1, err
    monkeypatch.chdir(tmp_path)
    assert main(["g.yaml", "--dry-run"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_a_relative_data_path_found_nowhere_says_where_it_was_read_from(tmp_path, monkeypatch, capsys):
    """simulations/quick.yaml run from another folder: each cell said 'data path /elsewhere/../shared/... does not
    exist' with the path made absolute, and no word on where relative paths are read from."""
    (tmp_path / "g.yaml").write_text("out: runs\nsettings: {dataset: csv, data_path: ../d.csv, labels: [a, b], "
                                     "initial: 10, step: 5, budget: 20}\ngrid: {seed: [0, 1]}\n")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert main(["../g.yaml", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.count(f"warning: data_path '../d.csv' is read from the current directory ({tmp_path / 'elsewhere'}), "
                     f"which does not hold it: run the grid from the folder its relative paths start from") == 1, err
    _csv(tmp_path / "d.csv")
    assert main(["../g.yaml", "--dry-run"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_a_warning_said_of_each_run_s_own_directory_is_one_line_and_the_runs_counted(tmp_path, monkeypatch,
                                                                                    capsys):
    """An edited strategy file warned once per finished run, each line naming its own directory."""
    from al import grid

    path, run = _grid_file(tmp_path, [0, 1, 2, 3])

    def fake_local(runs, workers, preparations=(), watch=None):
        for r in runs:
            yield r, {"status": "complete", "seconds": 0.0, "macro_f1": 0.5, "rounds": 3,
                      "warnings": [f"mine.py changed since {r.config.run_dir} last ran: pass another --out",
                                   "a warning of every run alike"]}

    monkeypatch.setattr(grid, "run_local", fake_local)
    assert main([str(path)]) == 0
    err = capsys.readouterr().err
    warned = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert warned == [f"warning: mine.py changed since {run['seed-0'].run_dir} last ran: pass another --out",
                      "warning: a warning of every run alike",
                      "warning: the same for 3 more runs (seed-1, seed-2, seed-3): mine.py changed since its "
                      "directory last ran: pass another --out"], err
