"""Core-Set: greedy k-center on the classifier's representation.

References
----------
Sener and Savarese, "Active Learning for Convolutional Neural Networks: A
Core-Set Approach", ICLR 2018 (Algorithm 1, k-Center-Greedy).
"""
from __future__ import annotations

import numpy as np

from al.errors import QueryError
from al.registry import register
from al.strategy import PoolState, Strategy


def nearest_center_sq_distances(points: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Squared Euclidean distance of every point to its nearest centre, by an exact FAISS ``IndexFlatL2``.

    Parameters
    ----------
    points : ndarray of shape (n_points, dim)
    centers : ndarray of shape (n_centers, dim)

    Returns
    -------
    ndarray of shape (n_points,), float64; ``inf`` everywhere when there is no centre.
    """
    if len(centers) == 0:
        return np.full(len(points), np.inf)
    import faiss

    index = faiss.IndexFlatL2(centers.shape[1])
    index.add(np.ascontiguousarray(centers, dtype=np.float32))
    distances, _ = index.search(np.ascontiguousarray(points, dtype=np.float32), 1)
    return np.maximum(distances[:, 0].astype(np.float64), 0.0)


def k_center_greedy(points: np.ndarray, min_sq_distances: np.ndarray, n: int) -> np.ndarray:
    """Greedy k-center: ``n`` times, take the point farthest from every centre so far.

    Parameters
    ----------
    points : ndarray of shape (n_points, dim)
        The candidates (the unlabeled texts' representations).
    min_sq_distances : ndarray of shape (n_points,)
        Each candidate's squared distance to the nearest initial centre (the
        labeled texts); ``inf`` when there is none.
    n : int

    Returns
    -------
    ndarray of int, shape (n,): positions into ``points`` in the order picked.
    Ties go to the lowest position. After each pick the distances are updated
    with one pass over the candidates (distance to the new centre).
    """
    if n > len(points):
        raise QueryError(f"asked for {n} texts but only {len(points)} are unlabeled")
    points = np.asarray(points)
    if not np.issubdtype(points.dtype, np.floating):
        points = points.astype(np.float64)
    sq_norms = np.einsum("ij,ij->i", points, points, dtype=np.float64)
    d2 = np.array(min_sq_distances, dtype=np.float64)
    picked = np.empty(n, dtype=np.int64)
    for k in range(n):
        i = int(np.argmax(d2))  # first maximum: the lowest position on ties
        picked[k] = i
        new = sq_norms + sq_norms[i] - 2.0 * (points @ points[i]).astype(np.float64)
        d2 = np.minimum(d2, np.maximum(new, 0.0))
        d2[i] = -1.0  # taken: never the farthest again, also when every distance is 0
    return picked


@register("coreset")
class CoreSet(Strategy):
    """Greedy k-center on the ``representations`` view, the labeled texts as initial centres.

    Each pick is the unlabeled text farthest (Euclidean) from the labeled set and
    the earlier picks; ties go to the lowest pool index. Nearest-centre distances
    to the labeled set come from an exact FAISS ``IndexFlatL2``. ``last_scores``
    holds each unlabeled text's distance to the labeled set before the first pick.

    References
    ----------
    Sener and Savarese, "Active Learning for Convolutional Neural Networks: A
    Core-Set Approach", ICLR 2018.
    """

    requires = frozenset({"representations"})

    def query(self, state: PoolState, n: int) -> np.ndarray:
        sort = np.argsort(state.indices_unlabeled, kind="stable")
        candidates = state.indices_unlabeled[sort]  # ascending: ties go to the lowest pool index
        representations = state.representations
        points = representations[candidates]
        d2 = nearest_center_sq_distances(points, representations[state.indices_labeled])
        self.last_scores = np.empty(len(candidates))
        self.last_scores[sort] = np.sqrt(d2)  # aligned with state.indices_unlabeled
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):  # one matrix-vector product per pick: memory-bound, threads only contend
            return candidates[k_center_greedy(points, d2, n)]
