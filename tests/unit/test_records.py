"""Run directories: what a resume compares, what it leaves untouched, and who may write (al.records)."""
from __future__ import annotations

import json
import multiprocessing
from contextlib import contextmanager

import pytest

from al.errors import ConfigError, RunBusyError
from al.records import RunRecords, read_config, read_rounds, run_lock

SETTINGS = {"strategy": "random", "budget": 60, "threads": None}


def _run(directory, rounds=2, meta=None, settings=SETTINGS):
    records = RunRecords(directory)
    records.start(dict(settings), {"version": "0.1.0", **(meta or {})})
    for i in range(rounds):
        records.append({"round": i, "n_labeled": 20 * (i + 1)})
    return records


def test_a_resume_on_other_data_is_refused_and_on_the_same_data_accepted(tmp_path):
    _run(tmp_path, meta={"data_digest": "aaa", "corpus_digest": "c1"})
    with pytest.raises(ConfigError,
                       match=r"other data \(the texts, labels or splits it reads changed: corpus_digest c1 -> c2\); pass"):
        RunRecords(tmp_path).start(dict(SETTINGS), {"data_digest": "aaa", "corpus_digest": "c2"})
    assert RunRecords(tmp_path).start(dict(SETTINGS), {"data_digest": "aaa", "corpus_digest": "c1"})
    unread = tmp_path / "unread"  # stored without its corpus digest: the file's bytes decide, before the data loads
    _run(unread, meta={"data_digest": "aaa"})
    with pytest.raises(ConfigError,
                       match=r"holds a run with other data \(the data file.s bytes changed: data_digest aaa -> bbb\); pass"):
        RunRecords(unread).check(dict(SETTINGS), data_digest="bbb")
    # a run stored before a digest was recorded is not compared on it
    other = tmp_path / "old"
    _run(other)
    assert len(RunRecords(other).start(dict(SETTINGS), {"data_digest": "x", "corpus_digest": "y"})) == 2


def test_a_label_descriptions_file_is_compared_by_its_bytes_as_the_data_file_is(tmp_path):
    """An edited descriptions file met 'complete; nothing to do'; the same bytes at another path were refused."""
    from al.io import file_digest

    first, copy = tmp_path / "ld.yaml", tmp_path / "moved.yaml"
    first.write_text("food: meals\n")
    copy.write_text("food: meals\n")
    run = tmp_path / "run"
    _run(run, settings={**SETTINGS, "label_descriptions": str(first)},
         meta={"label_descriptions_digest": file_digest(first)})
    assert RunRecords(run).check({**SETTINGS, "label_descriptions": str(copy)}) is not None  # the same bytes
    first.write_text("food: meals and water\n")
    with pytest.raises(ConfigError, match=r"other data \(the label descriptions file.s bytes changed: "
                                          r"label_descriptions_digest [0-9a-f]{16} -> [0-9a-f]{16}\); "):
        RunRecords(run).check({**SETTINGS, "label_descriptions": str(first)})


def test_other_bytes_of_the_data_file_are_left_to_the_corpus_and_kept_in_the_resumes(tmp_path):
    """A data file converted to CRLF, or re-saved by a spreadsheet: other bytes, the same texts, labels and splits."""
    _run(tmp_path, meta={"data_digest": "aaa", "corpus_digest": "c1"})
    assert RunRecords(tmp_path).check(dict(SETTINGS), data_digest="bbb") is not None  # before the data loads: open
    with pytest.raises(ConfigError) as refused:
        RunRecords(tmp_path).start(dict(SETTINGS), {"data_digest": "bbb", "corpus_digest": "c2"})
    assert str(refused.value) == (
        f"{tmp_path} holds a run with other data (the data file's bytes changed: data_digest aaa -> bbb; the texts, "
        f"labels or splits it reads changed: corpus_digest c1 -> c2); pass another --out or remove that directory")
    for after, (old, new) in enumerate([("aaa", "bbb"), ("bbb", "ccc")], 2):  # re-saved twice: both kept
        records = RunRecords(tmp_path)
        assert len(records.start(dict(SETTINGS), {"version": "0.2.0", "data_digest": new, "corpus_digest": "c1"})) \
            == after
        records.append({"round": after, "n_labeled": 20 * (after + 1)})
        assert read_config(tmp_path)["resumes"][-1] == {"after_round": after, "version": "0.2.0", "changed": {},
                                                        "data_digest": [old, new]}
    stored = read_config(tmp_path)
    assert stored["data_digest"] == "ccc" and stored["corpus_digest"] == "c1" and len(stored["resumes"]) == 2
    # other settings as well: refused before the data loads, on the settings (the bytes are not what decides)
    with pytest.raises(ConfigError, match=r"other settings \(budget: 60 -> 30\); a budget can be raised"):
        RunRecords(tmp_path).check({**SETTINGS, "budget": 30}, data_digest="ddd")


def test_other_data_options_that_read_the_same_corpus_resume_and_others_do_not(tmp_path):
    """Naming the label columns an earlier version picked by itself is the same run; the corpus digest decides."""
    stored = {**SETTINGS, "dataset": "csv", "data_options": {}}
    named = {**stored, "data_options": {"label_columns": ["urgent", "repeat"]}}
    _run(tmp_path, meta={"corpus_digest": "c1"}, settings=stored)
    assert RunRecords(tmp_path).check(dict(named)) is not None  # before the data loads: left to the corpus digest
    with pytest.raises(ConfigError, match=r"corpus_digest c1 -> c2"):
        RunRecords(tmp_path).start(dict(named), {"corpus_digest": "c2"})
    assert len(RunRecords(tmp_path).start(dict(named), {"corpus_digest": "c1"})) == 2
    old = tmp_path / "old"  # stored before the corpus digest was recorded: the options themselves are compared
    _run(old, settings=stored)
    with pytest.raises(ConfigError, match=r"holds a run with other settings \(data_options"):
        RunRecords(old).check(dict(named))


def test_taking_the_run_lock_removes_what_a_killed_write_left(tmp_path):
    _run(tmp_path)
    left = [tmp_path / ".rounds.jsonl.k1l2.tmp", tmp_path / ".config.json.x9.tmp"]
    for path in left:
        path.write_text("half written")
    other = tmp_path / ".plot.png.a1.tmp"  # not the run's own files: left alone
    other.write_text("x")
    with run_lock(tmp_path):
        assert not any(p.exists() for p in left) and other.exists()
    assert len(read_rounds(tmp_path)) == 2


def test_a_resume_changes_nothing_until_its_first_new_round_then_keeps_the_first_version(tmp_path):
    _run(tmp_path, meta={"embeddings_digest": "e1"})
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    records = RunRecords(tmp_path)
    assert len(records.start({**SETTINGS, "threads": 1}, {"version": "0.2.0"})) == 2
    records.note(embeddings_digest="e1")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # refused later, or complete: untouched
    records.append({"round": 2, "n_labeled": 60})
    stored = read_config(tmp_path)
    assert stored["version"] == "0.1.0" and stored["embeddings_digest"] == "e1"
    assert stored["resumes"] == [{"after_round": 2, "version": "0.2.0", "changed": {"threads": [None, 1]}}]
    assert stored["config"]["threads"] == 1 and len(read_rounds(tmp_path)) == 3


def test_a_resume_killed_between_its_config_and_its_round_is_listed_once(tmp_path):
    """config.json is written just before the round's rounds.jsonl: a kill between the two left a resume that
    made no round, and each such kill added another."""
    _run(tmp_path)
    for threads in (1, 2, 3):  # three resumes, each stopped after config.json
        records = RunRecords(tmp_path)
        records.start({**SETTINGS, "threads": threads}, {"version": "0.2.0"})
        records._write_config()  # what append() writes first
    records = RunRecords(tmp_path)
    records.start({**SETTINGS, "threads": 4}, {"version": "0.2.0"})
    records.append({"round": 2, "n_labeled": 60})
    assert read_config(tmp_path)["resumes"] == [{"after_round": 2, "version": "0.2.0",  # the first rounds' None
                                                 "changed": {"threads": [None, 4]}}]
    records = RunRecords(tmp_path)  # a resume after that round is another entry
    records.start({**SETTINGS, "threads": 4}, {"version": "0.2.1"})
    records.append({"round": 3, "n_labeled": 70})
    assert [r["after_round"] for r in read_config(tmp_path)["resumes"]] == [2, 3]


def test_rounds_without_their_config_are_refused_not_overwritten(tmp_path):
    _run(tmp_path)
    (tmp_path / "config.json").unlink()
    with pytest.raises(ConfigError, match=r"holds finished rounds \(rounds.jsonl\) but no config.json"):
        RunRecords(tmp_path).start(dict(SETTINGS), {})
    assert len(read_rounds(tmp_path)) == 2


def test_a_new_run_in_a_folder_of_runs_is_refused_and_those_runs_are_still_found(tmp_path):
    from al.analysis.curves import find_run_dirs

    _run(tmp_path / "grid" / "random-0")
    _run(tmp_path / "grid" / "deeper" / "cvirs-0")
    (tmp_path / "grid" / ".hidden" / "x").mkdir(parents=True)  # hidden folders are not looked in
    (tmp_path / "grid" / ".hidden" / "x" / "config.json").write_text("{}")
    (tmp_path / "grid" / "models" / "bert").mkdir(parents=True)  # another program's config.json: no run
    (tmp_path / "grid" / "models" / "bert" / "config.json").write_text('{"hidden_size": 768}')
    (tmp_path / "grid" / "locked").mkdir()  # a folder this user cannot look into: left out, no error
    (tmp_path / "grid" / "locked").chmod(0)
    with pytest.raises(ConfigError, match=r"grid holds runs in its folders \(deeper/cvirs-0, random-0\): a grid's "
                                          r"out or a folder of runs, not one run's directory; give this run a folder "
                                          r"of its own, e.g. --out .*grid/NAME$"):
        RunRecords(tmp_path / "grid").check(dict(SETTINGS))
    assert not (tmp_path / "grid" / "config.json").exists()
    # a run written there before the refusal resumes, and the folder's runs are read beside it
    _run(tmp_path / "old")
    _run(tmp_path / "old" / "random-0")
    assert len(RunRecords(tmp_path / "old").start(dict(SETTINGS), {"version": "0.1.0"})) == 2
    assert find_run_dirs([tmp_path / "old"]) == [tmp_path / "old", tmp_path / "old" / "random-0"]
    (tmp_path / "grid" / "locked").chmod(0o755)
    assert find_run_dirs([tmp_path / "grid"]) == [tmp_path / "grid" / "deeper" / "cvirs-0",
                                                   tmp_path / "grid" / "random-0"]
    from al.records import runs_below

    (tmp_path / "models" / "bert").mkdir(parents=True)
    (tmp_path / "models" / "bert" / "config.json").write_text('{"hidden_size": 768}')
    assert runs_below(tmp_path / "models") == []
    # deeper than two levels is not looked for: a large folder given as --out is not walked whole
    _run(tmp_path / "far" / "a" / "b" / "run")
    assert len(RunRecords(tmp_path / "far").start(dict(SETTINGS), {"version": "0.1.0"})) == 0


def _hold(directory, ready, release):
    with run_lock(directory):
        ready.set()
        release.wait(30)


@contextmanager
def _held_by_another_process(directory):
    """Another process holds ``directory``'s run lock for the block; yields its pid."""
    context = multiprocessing.get_context("fork")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold, args=(directory, ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        yield holder.pid
    finally:
        release.set()
        holder.join(30)


def test_one_process_at_a_time_writes_a_run_directory(tmp_path):
    with _held_by_another_process(tmp_path) as pid:
        with pytest.raises(RunBusyError, match=rf"{tmp_path} is being written by another process or thread .*{pid}"):
            with run_lock(tmp_path):
                pass
    with run_lock(tmp_path), run_lock(tmp_path):  # free again, and re-entrant within a process
        json.dumps({})


def test_a_second_command_on_a_directory_being_written_stops_before_loading_anything(tmp_path, capsys):
    from al.simulate import main

    with _held_by_another_process(tmp_path):
        assert main(["--strategy", "random", "--budget", "200", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is being written by another process" in err and "starting" not in err


def test_a_second_thread_of_one_process_is_refused_too(tmp_path):
    import threading

    errors = []

    def second() -> None:
        try:
            with run_lock(tmp_path):
                pass
        except RunBusyError as exc:
            errors.append(str(exc))

    with run_lock(tmp_path):
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(30)
    assert len(errors) == 1 and "is being written by another process" in errors[0]


def test_a_budget_may_be_raised_on_resume_and_not_lowered(tmp_path):
    """A raised budget continues the run (the resume records the change); a lowered one is refused, saying so."""
    _run(tmp_path)
    records = RunRecords(tmp_path)
    assert len(records.start({**SETTINGS, "budget": 90}, {"version": "0.2.0"}, continued=lambda rounds: 1)) == 1
    records.append({"round": 1, "n_labeled": 40, "again": True})
    assert read_config(tmp_path)["config"]["budget"] == 90
    assert read_config(tmp_path)["resumes"] == [{"after_round": 1, "version": "0.2.0",
                                                 "changed": {"budget": [60, 90]}}]
    assert [r.get("again") for r in read_rounds(tmp_path)] == [None, True]  # the dropped round is gone
    with pytest.raises(ConfigError) as lowered:
        RunRecords(tmp_path).check({**SETTINGS, "budget": 60})
    assert str(lowered.value) == (f"{tmp_path} holds a run with other settings (budget: 90 -> 60); a budget can be "
                                  f"raised to continue a run, not lowered: pass another --out or remove that "
                                  f"directory")
    with pytest.raises(ConfigError) as other:
        RunRecords(tmp_path).check({**SETTINGS, "budget": 120, "strategy": "cvirs"})
    # the folder given too: a param given off its default (alpha=0.5 after the code's default became 0.4) names
    # another default folder, where following the advice had started a new run
    assert str(other.value).endswith(f"other settings (strategy: 'random' -> 'cvirs'); give the settings it was made "
                                     f"with again (before each ->) and --out {tmp_path} to resume it (--out too: a "
                                     f"default folder is named after the settings given), or pass another --out or "
                                     f"remove that directory")
    with pytest.raises(ConfigError, match=r"budget: 90 -> true"):  # not a number: never taken as a larger one
        RunRecords(tmp_path).check({**SETTINGS, "budget": True})


def test_an_extension_that_computes_every_stored_round_again_leaves_the_stored_run_whole_until_its_first_round(
        tmp_path):
    """A budget of 120 with initial 100 and step 50: its first round picked 20, so a budget of 300 keeps none. The
    new config.json was written at once, beside the old rounds, and a Ctrl-C then lost the stored run."""
    _run(tmp_path)
    before = (tmp_path / "config.json").read_bytes()
    records = RunRecords(tmp_path)
    assert records.start({**SETTINGS, "budget": 90}, {"version": "0.2.0"}, continued=lambda rounds: 0) == []
    assert records.dropped == 2 and records.raised == {"budget": [60, 90]}
    assert (tmp_path / "config.json").read_bytes() == before and len(read_rounds(tmp_path)) == 2
    records._write_config()  # what append() writes first: killed here, the next start reads budget 90 already
    again = RunRecords(tmp_path)
    assert again.start({**SETTINGS, "budget": 90}, {"version": "0.2.0"}, continued=lambda rounds: 0) == []
    assert again.raised == {"budget": [60, 90]} and again.dropped == 2  # still said as an extension
    again.append({"round": 0, "n_labeled": 20, "new": True})
    assert read_config(tmp_path)["config"]["budget"] == 90
    assert read_config(tmp_path)["resumes"] == [{"after_round": 0, "version": "0.2.0", "changed": {"budget": [60, 90]}}]
    assert read_rounds(tmp_path) == [{"round": 0, "n_labeled": 20, "new": True}]


def test_a_budget_raised_twice_says_the_stored_budget_though_the_rounds_kept_are_of_the_first(tmp_path):
    """60 -> 70 -> 90, where 90 computes again the round that picked for 70: the console said 'was 60' of a
    directory holding a finished budget-70 run; resumes keeps [60, 90], the history of the rounds kept."""
    _run(tmp_path)
    first = RunRecords(tmp_path)
    first.start({**SETTINGS, "budget": 70}, {"version": "0.1.0"}, continued=lambda rounds: 2)
    assert first.raised == first.raised_on_stored == {"budget": [60, 70]}
    first.append({"round": 2, "n_labeled": 70})
    second = RunRecords(tmp_path)
    second.start({**SETTINGS, "budget": 90}, {"version": "0.1.0"}, continued=lambda rounds: 2)
    assert second.raised == {"budget": [60, 90]} and second.raised_on_stored == {"budget": [70, 90]}
    second.append({"round": 2, "n_labeled": 80})
    assert read_config(tmp_path)["resumes"] == [{"after_round": 2, "version": "0.1.0", "changed": {"budget": [60, 90]}}]


def test_resumes_that_left_no_round_or_whose_rounds_were_computed_again_are_composed_into_the_next(tmp_path):
    """An extension killed between its config.json and its first round lost its budget change from ``resumes``; a
    resume of rounds an extension computed again stayed listed, after a later round than the next entry's."""
    _run(tmp_path, rounds=3)
    threads = RunRecords(tmp_path)  # resumed after round 3 on one thread
    threads.start({**SETTINGS, "threads": 1}, {"version": "0.1.0"})
    threads.append({"round": 3, "n_labeled": 80})
    killed = RunRecords(tmp_path)  # raised to 90 keeping 2 rounds: config.json written, then killed
    killed.start({**SETTINGS, "threads": 2, "budget": 90}, {"version": "0.2.0"}, continued=lambda rounds: 2)
    killed._write_config()
    again = RunRecords(tmp_path)
    again.start({**SETTINGS, "threads": 2, "budget": 90}, {"version": "0.2.0"}, continued=lambda rounds: 2)
    assert again.raised == {"budget": [60, 90]}  # the console still says it extends
    again.append({"round": 2, "n_labeled": 60})
    assert read_config(tmp_path)["resumes"] == [
        {"after_round": 2, "version": "0.2.0", "changed": {"threads": [None, 2], "budget": [60, 90]}}]


def test_composed_resumes_keep_each_change_from_its_first_value_to_its_last():
    from al.records import _composed

    entries = [{"after_round": 3, "version": "0.1", "changed": {"a": [1, 2], "b": [0, 5]},
                "packages": {"torch": ["2.12", "2.13"]}, "data_digest": ["x", "y"]},
               {"after_round": 2, "version": "0.2", "changed": {"a": [2, 3], "b": [5, 0]},
                "packages": {"torch": ["2.13", "2.12"], "numpy": ["1", "2"]}, "data_digest": ["y", "z"],
                "device_type": ["cpu", "cuda"]}]
    assert _composed(entries) == {"after_round": 2, "version": "0.2", "changed": {"a": [1, 3]},
                                  "packages": {"numpy": ["1", "2"]}, "data_digest": ["x", "z"],
                                  "device_type": ["cpu", "cuda"]}
    assert _composed([{"after_round": 1, "version": None, "changed": {}}]) == {"after_round": 1, "version": None,
                                                                              "changed": {}}


def test_a_refusal_naming_five_changed_settings_says_how_many_more_changed(tmp_path):
    """"give the settings it was made with again (before each ->)" read as the whole list where it was cut."""
    settings = {**SETTINGS, **{key: 1 for key in "abcdef"}}
    records = RunRecords(tmp_path)
    records.start(settings, {"version": "0.1.0"})
    records.append({"round": 0})
    with pytest.raises(ConfigError, match=r"\(a: 1 -> 9; b: 1 -> 9; c: 1 -> 9; d: 1 -> 9; e: 1 -> 9; and 1 more\); "
                                          r"give the settings it was made with again"):
        RunRecords(tmp_path).check({**settings, **{key: 9 for key in "abcdef"}})


def test_a_setting_changed_is_said_as_it_changed():
    """Another strategy was said with the old one's params as changed: strategy.params.threshold: 0.5 -> None (now
    null, as a file or command line writes it: pool_size: None -> 30 named no setting a user had given)."""
    from al.records import _difference

    assert _difference("strategy", {"name": "cvirs", "params": {"threshold": 0.5}},
                       {"name": "margin", "params": {}}) == "strategy: 'cvirs' -> 'margin'"
    assert _difference("strategy", {"name": "dal", "params": {"sub_batches": 10}},
                       {"name": "dal", "params": {"sub_batches": 5, "warm_start": None}}) == (
        "strategy.params.sub_batches: 10 -> 5; strategy.params.warm_start: not set -> null")
    assert _difference("budget", 600, 500) == "budget: 600 -> 500"
    # a file's digest is said with its path, not beside it (a session given --dev showed a hash)
    assert _difference("session", {"dev": None, "dev_sha256": None, "folds": 5},
                       {"dev": "d.jsonl", "dev_sha256": "fb30c739", "folds": None}) == (
        "session.dev: null -> 'd.jsonl'; session.folds: 5 -> null")  # as a file or command gives them
    assert _difference("session", {"dev": "d.jsonl", "dev_sha256": "ab"}, {"dev": "d.jsonl", "dev_sha256": "cd"}) == (
        "session.dev_sha256: 'ab' -> 'cd'")


def test_a_run_is_being_written_while_another_process_holds_its_lock(tmp_path):
    """al.plot and al.report tell a partial run that goes on from one that stopped by its lock."""
    import subprocess
    import sys

    from al.records import being_written

    run = tmp_path / "run"
    assert not being_written(run)  # no directory, no lock file
    holder = subprocess.Popen([sys.executable, "-c", f"import sys, time\nfrom al.records import run_lock\n"
                               f"with run_lock({str(run)!r}):\n    print('held', flush=True)\n    time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        assert being_written(run)
    finally:
        holder.kill()
        holder.wait()
    assert (run / ".lock").exists() and not being_written(run)  # the lock file stays; nothing holds it


def test_asking_whether_a_run_is_being_written_takes_no_lock(tmp_path, monkeypatch):
    """It took a shared lock for an instant, and a run starting at that instant was refused as busy (run_lock does
    not wait): 2,534 refusals in 8 s of a loop beside a starting one."""
    import fcntl

    from al.records import being_written

    with run_lock(tmp_path / "run"):
        pass  # the lock file stays, held by nobody
    taken = []
    monkeypatch.setattr(fcntl, "flock", lambda *args: taken.append(args))
    assert not being_written(tmp_path / "run") and taken == []
