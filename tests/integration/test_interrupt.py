"""Ctrl-C, SIGTERM or SIGKILL in the middle of a round: the records stay valid and the same command resumes."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from al.records import read_rounds
from tests.integration.conftest import LABELS

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def command(data, out):
    return [sys.executable, "-m", "al.simulate", "--dataset", "jsonl", "--data-path", str(data), "--labels", *LABELS,
            "--strategy", "tests.integration.slow_strategy:SlowRandom", "--strategy-param", "seconds=1",
            "--initial", "20", "--step", "10", "--budget", "60", "--out", str(out)]


def interrupt_after_round(data, out, sig, after_round=2):
    """Start a run, send ``sig`` while round ``after_round + 1`` is querying; return (exit code, stderr)."""
    # SIGINT at its default in the child even when this test runs in the background (nohup, `cmd &`), where
    # it is inherited as ignored and Python would then never raise KeyboardInterrupt
    process = subprocess.Popen(command(data, out), cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines = []
    for line in process.stderr:
        lines.append(line)
        if line.startswith(f"round {after_round:>2}/"):
            break
    process.send_signal(sig)  # the next round is training or sleeping in its query
    rest = process.stderr.read()
    return process.wait(timeout=60), "".join(lines) + rest


@pytest.fixture(scope="module")
def uninterrupted(small_jsonl, tmp_path_factory):
    full = tmp_path_factory.mktemp("full") / "run"
    assert subprocess.run(command(small_jsonl, full), cwd=ROOT, capture_output=True).returncode == 0
    return read_rounds(full)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["ctrl-c", "sigterm", "sigkill"])
def test_a_signal_mid_round_leaves_valid_records_and_the_run_resumes(small_jsonl, uninterrupted, tmp_path, sig):
    expected = uninterrupted

    out = tmp_path / "cut"
    code, err = interrupt_after_round(small_jsonl, out, sig)
    if sig in (signal.SIGINT, signal.SIGTERM):  # SIGTERM (a scheduler's, timeout's) died silently, status -15
        assert code == (130 if sig == signal.SIGINT else 143)
        said = "interrupted" if sig == signal.SIGINT else "terminated"
        assert err.splitlines()[-1] == f"{said}; run the same command again to resume after round 2; round 3 starts " \
                                       f"again"
        assert "Traceback" not in err
    else:
        assert code == -signal.SIGKILL
    lines = (out / "rounds.jsonl").read_text().splitlines()
    assert [json.loads(line)["round"] for line in lines] == [0, 1]  # whole rounds only, valid JSON
    assert not list(out.glob(".*.tmp"))

    again = subprocess.run(command(small_jsonl, out), cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert "resuming after round 2" in again.stderr
    resumed = read_rounds(out)
    assert [r["picked"] for r in resumed] == [r["picked"] for r in expected]
    assert [r["macro_f1"] for r in resumed] == [r["macro_f1"] for r in expected]
