"""A strategy that takes its time, so a signal can arrive in the middle of a round."""
from __future__ import annotations

import time

import numpy as np

from al.strategy import PoolState, Strategy


class SlowRandom(Strategy):
    """Uniform picks after a pause of ``seconds``."""

    def __init__(self, seconds: float = 1.0) -> None:
        super().__init__()
        self.seconds = seconds

    def query(self, state: PoolState, n: int) -> np.ndarray:
        time.sleep(self.seconds)
        return state.rng.choice(state.indices_unlabeled, n, replace=False)


class KillsItsProcess(Strategy):
    """Uniform picks; the first query of each seed listed in ``kills`` (seed -> times) ends its own process
    outright (SIGKILL, as the out-of-memory killer does) until ``flag_dir`` holds that many marks of it."""

    def __init__(self, flag_dir: str = "", kills: int = 1) -> None:
        super().__init__()
        self.flag_dir = flag_dir
        self.kills = kills

    def query(self, state: PoolState, n: int) -> np.ndarray:
        import os
        import signal
        from pathlib import Path

        marks = Path(self.flag_dir)
        if len(list(marks.glob("killed-*"))) < self.kills:
            (marks / f"killed-{len(list(marks.glob('killed-*')))}").touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return state.rng.choice(state.indices_unlabeled, n, replace=False)
