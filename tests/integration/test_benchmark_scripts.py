"""Benchmark scripts that read al's records run to their end on small data (a renamed record key had stopped one)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_annotate_pause_reads_the_records_it_summarises(tmp_path):
    """It measured every pause, then died on ``r['stopping']['seconds']``: the records keep ``seconds_stopping``."""
    done = subprocess.run([sys.executable, "benchmarks/annotate_pause.py", "--pool", "120", "--initial", "20",
                           "--step", "10", "--budget", "40", "--workdir", str(tmp_path / "work")],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    last = done.stdout.splitlines()[-1]
    assert last.startswith("per round: train ") and "stopping signals " in last and last.endswith("s (medians)"), \
        done.stdout
    assert "  -> round 2 (labeled 30): " in done.stdout
