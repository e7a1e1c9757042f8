"""Round observers: side work after each round's evaluation, outside the strategy's path.

An observer is called with a :class:`~al.engine.RoundView`, which holds the
gold labels of the unlabeled texts for measurement; the fields it returns go
into the round's record and never back into the loop.
"""
from __future__ import annotations

import time
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from al.engine import RoundView


class EmbeddingDiagnostics:
    """Centroid proximity, distance margins and clustering quality of the labeled set, every round.

    Adds ``diagnostics`` (see :func:`al.analysis.diagnostics.diagnostics`) and
    ``seconds_diagnostics`` to each record.

    Parameters
    ----------
    k : int
        Unlabeled texts searched around each centroid.
    seed : int
        Seed of k-means.
    """

    requires_embeddings = True

    def __init__(self, k: int = 100, seed: int = 0) -> None:
        self.k = k
        self.seed = seed

    def __call__(self, view: "RoundView") -> dict[str, Any]:
        from al.analysis.diagnostics import diagnostics

        t = time.perf_counter()
        emb = view.features.pool_embeddings
        with warnings.catch_warnings():  # k over the last rounds' unlabeled texts: al.simulate said so once, up front
            warnings.filterwarnings("ignore", message="diagnostics' k ", category=UserWarning)
            result = diagnostics(
                emb[view.indices_labeled], view.y_labeled, emb[view.indices_unlabeled],
                view.Y_pool_for_evaluation_only[view.indices_unlabeled], view.label_names, k=self.k, seed=self.seed,
            )
        return {"diagnostics": result, "seconds_diagnostics": round(time.perf_counter() - t, 4)}
