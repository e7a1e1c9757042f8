"""Random sampling: the baseline every strategy must beat."""
from __future__ import annotations

import numpy as np

from al.registry import register
from al.strategy import PoolState, Strategy


@register("random")
class RandomSampling(Strategy):
    """Seeded uniform choice of ``n`` unlabeled texts without replacement."""

    requires = frozenset()

    def query(self, state: PoolState, n: int) -> np.ndarray:
        return state.rng.choice(state.indices_unlabeled, size=n, replace=False)
