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
]


@pytest.mark.parametrize("argv", REFUSED, ids=" ".join)
def test_a_bad_argument_is_one_error_line_and_exit_2(argv):
    done = run(*argv)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
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
