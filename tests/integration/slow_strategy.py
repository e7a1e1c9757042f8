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
