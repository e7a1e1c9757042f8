"""benchmarks/peers.py's measurement of a child process: its own peak memory, not its parent's."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from benchmarks import peers

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in KiB, fork: Linux")


def test_a_child_s_peak_is_its_own_whatever_its_parent_holds():
    held = np.ones(300 * 2**20 // 8)  # the benchmark holding 300 MiB (the task's embeddings, say)
    _, small = peers.timed_process(["/bin/true"])
    _, big = peers.timed_process([sys.executable, "-c", "import numpy as np; x = np.ones(150 * 2**20 // 8)"])
    assert held.sum() > 0
    assert small < 50  # forked from the benchmark itself it read about 310
    assert 150 < big < 280


def test_a_child_that_fails_is_an_error_with_its_last_words():
    with pytest.raises(RuntimeError, match="exited with 3:\nboom"):
        peers.timed_process([sys.executable, "-c", "import sys; print('boom', file=sys.stderr); sys.exit(3)"])
