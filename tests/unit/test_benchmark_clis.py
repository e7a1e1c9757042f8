"""The benchmark scripts' command lines: a bad argument is one ``error:`` line on stderr, exit code 2, before any work.

Each case runs the script as a user would (``python benchmarks/X.py ...`` from the repository root) and
stops before the measured work starts, so each takes well under a second or two.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, f"benchmarks/{script}", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


REFUSED = [
    ("dal_profile.py", "abc"),
    ("dal_profile.py", "0"),
    ("dal_step.py", "--repeat", "3"),
    ("compare_reports.py", "/nonexist1", "/nonexist2"),
    ("cold_start_table.py", "/nonexist"),
    ("prefill_cache.py", "/nonexist.yaml"),
    ("main_job.py", "--", "--no-such-flag"),  # al.simulate's own line, then the script's exit without a traceback
    ("query_time.py", "--strategies", "random", "nosuch", "--pools", "1000"),
    ("query_time.py", "--pools", "100"),
    ("knn_speed.py", "--labeled", "0"),
    ("read_rows.py", "--rows", "0"),
    ("space_speed.py", "head", "--repeats", "0"),
    ("peers.py", "--repeats", "0"),  # it had spent a minute preparing, then printed a table of NaN
    ("peers.py", "--quick", "--tuned-repeats", "-1"),
    ("peers.py", "--repeats", "abc"),
    ("alps_cost.py", "--shared-first"),  # without --shared it had run the whole measurement
    ("embed_precision.py", "--reuters", "/nonexist.tar.gz"),  # it had left Reuters out without a word
    ("compare_runs.py", "/nonexist"),
    ("bert_step.py", "--tiny", "--device", "cpu", "--data-path", "/nonexist.csv"),  # a traceback, after the model
    ("bert_epochs.py", "--sizes", "0"),
    ("bert_epochs.py", "--check-epochs", "0"),
    ("bert_epochs.py", "--sizes", "100000"),  # after the corpus loads, before any model does
]


#: What the refusal must say, where another refusal of the same command could also end it with 2 (peers.py
#: without ../shared/data says "Reuters not found").
SAID = {
    ("peers.py", "--repeats", "0"): "--repeats must be at least 1, got 0",
    ("peers.py", "--quick", "--tuned-repeats", "-1"): "--tuned-repeats must be at least 1, got -1",
    ("peers.py", "--repeats", "abc"): "invalid int value: 'abc'",
    ("alps_cost.py", "--shared-first"): "--shared was not given",
    ("embed_precision.py", "--reuters", "/nonexist.tar.gz"): "--reuters /nonexist.tar.gz does not exist",
    ("compare_runs.py", "/nonexist"): "expected two directories to compare (A B), or --caches",
    ("bert_step.py", "--tiny", "--device", "cpu", "--data-path", "/nonexist.csv"): "--data-path /nonexist.csv is no file",
    ("bert_epochs.py", "--sizes", "0"): "--sizes must be at least 1 each, got [0]",
    ("bert_epochs.py", "--check-epochs", "0"): "--check-epochs must be at least 1, got 0",
    ("bert_epochs.py", "--sizes", "100000"): "a size of 100000 is more than the pool's 11,572 texts",
}


@pytest.mark.parametrize("argv", REFUSED, ids=" ".join)
def test_a_bad_argument_is_one_error_line_and_exit_2(argv):
    done = run(*argv)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert SAID.get(argv, "") in lines[0]
    assert done.stdout == ""


@pytest.mark.skipif(importlib.util.find_spec("libact") is not None, reason="libact is installed here")
def test_libact_crosscheck_without_libact_says_how_to_get_it():
    done = run("libact_crosscheck.py", "--rounds", "1")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "ALGORITHMS.md" in lines[0], done.stderr


@pytest.mark.parametrize("script", ["dal_profile.py", "dal_step.py"])
def test_help_describes_the_script(script):
    done = run(script, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: ") and "DAL" in done.stdout


def test_compare_reports_shows_seed_counts_and_names_the_rows_of_one_report_alone():
    """The quick grid (3 seeds) against the spaces study (10 seeds): means over other seeds, and the rows only one
    report holds, had been shown as if alike, and the others dropped without a word."""
    done = run("compare_reports.py", "benchmarks/quick-report/summary.json", "benchmarks/spaces-report/summary.json")
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| disaster")]
    assert rows and all("| 3 -> 10 (other seeds) |" in row and row.endswith("(3) |") for row in rows), done.stdout
    assert "only in the old report (7): disaster (5+5), logreg on all-MiniLM-L6-v2 / alps;" in done.stdout
    assert "only in the new report (15):" in done.stdout


def _run_record(directory, start, seed, sizes_f1):
    import json

    directory.mkdir(parents=True)
    (directory / "config.json").write_text(json.dumps({"config": {
        "dataset": "disaster", "strategy": {"name": "random", "params": {}}, "initial_strategy": start,
        "seed": seed, "initial": 10, "step": 10, "budget": 10 + 10 * (len(sizes_f1) - 1)}}))
    (directory / "rounds.jsonl").write_text("".join(
        json.dumps({"round": i, "n_labeled": n, "macro_f1": f1, "picked": []}) + "\n"
        for i, (n, f1) in enumerate(sizes_f1)))


def test_cold_start_table_refuses_runs_of_one_start_and_names_sizes_no_run_reached(tmp_path):
    """A grid without an initial_strategy axis had given empty tables and 'Holm over the 0 comparisons', rc 0."""
    for seed in (0, 1):
        _run_record(tmp_path / "g" / f"start-random__seed-{seed}", "random", seed, [(10, 0.1), (20, 0.2)])
    done = run("cold_start_table.py", str(tmp_path / "g"), "--sizes", "20")
    assert done.returncode == 2 and done.stdout == "", done
    assert done.stderr.splitlines() == [
        f"error: the runs under {tmp_path / 'g'} start only at random; expected runs of a random start and another "
        f"(initial_strategy label_names or kmeans), as simulations/cold-start.yaml makes"]
    for seed in (0, 1):
        _run_record(tmp_path / "g" / f"start-kmeans__seed-{seed}", "kmeans", seed, [(10, 0.3), (20, 0.4)])
    done = run("cold_start_table.py", str(tmp_path / "g"), "--sizes", "20", "300")
    assert done.returncode == 0, done.stderr
    assert "| random | kmeans | 2 | 0.4000 | 0.2000 | +0.2000" in done.stdout
    assert ("No run of another start has a random-start twin (same strategy and seed) with both measured at 300 "
            "labeled texts (the sizes this data set's runs reach: 10, 20).") in done.stdout
    for seed in (0, 1):  # two other starts and no random one: both named
        _run_record(tmp_path / "h" / f"start-kmeans__seed-{seed}", "kmeans", seed, [(10, 0.3)])
        _run_record(tmp_path / "h" / f"start-label_names__seed-{seed}", "label_names", seed, [(10, 0.3)])
    done = run("cold_start_table.py", str(tmp_path / "h"))
    assert done.returncode == 2 and "start only from kmeans, label_names; expected" in done.stderr, done.stderr


def test_the_machine_header_tells_two_xeons_of_one_generic_name_apart(monkeypatch):
    """Two Xeons of a virtual machine both read "Intel(R) Xeon(R) Processor (avx512)", yet ran the suite in 8 and
    17.6 minutes (RESULTS.md 17, 19): the header names their model numbers, and AMX where it is there."""
    import al.device
    from benchmarks import machine

    base = {"machine": "x86_64", "cpu family": "6", "model name": "Intel(R) Xeon(R) Processor"}
    monkeypatch.setattr(al.device, "cpu_description", lambda: {**base, "model": "207",
                                                               "simd": "amx_bf16 amx_tile avx2 avx512f"})
    assert machine.cpu_name() == "Intel(R) Xeon(R) Processor (family 6 model 207, avx512, amx)"
    monkeypatch.setattr(al.device, "cpu_description", lambda: {**base, "model": "85", "simd": "avx2 avx512f"})
    assert machine.cpu_name() == "Intel(R) Xeon(R) Processor (family 6 model 85, avx512)"
    monkeypatch.setattr(al.device, "cpu_description", lambda: {"machine": "arm64", "simd": "asimd"})  # no model
    assert machine.cpu_name() == "arm64 (neon)"
