"""Core-Set greedy k-center, against a hand example and brute force."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from al.strategy import PoolState
from strategies.coreset import CoreSet, k_center_greedy, nearest_center_sq_distances


def state_of(points: np.ndarray, labeled: list[int], unlabeled: list[int] | None = None) -> PoolState:
    if unlabeled is None:
        unlabeled = sorted(set(range(len(points))) - set(labeled))
    return PoolState(
        indices_labeled=np.asarray(labeled, dtype=np.int64), indices_unlabeled=np.asarray(unlabeled, dtype=np.int64),
        y_labeled=sp.csr_matrix(np.ones((len(labeled), 2), dtype=np.int8)), label_names=("a", "b"),
        rng=np.random.default_rng(0), views={"representations": lambda: points},
    )


# Labeled: text 0 at (0, 0). Unlabeled: 1 at (1, 0), 2 at (4, 0), 3 at (0, 3), 4 at (4, 1).
# Distances to the labeled set: 1, 4, 3, sqrt(17) = 4.12            -> pick 4
# to text 4 as well:  1: min(1, sqrt(10)) = 1;  2: min(4, 1) = 1;  3: min(3, sqrt(20)) = 3   -> pick 3
# to text 3 as well:  1: min(1, sqrt(10)) = 1;  2: min(1, 5) = 1                         -> tie: pick 1, then 2
HAND = np.array([[0, 0], [1, 0], [4, 0], [0, 3], [4, 1]], dtype=np.float32)


def test_hand_example():
    strategy = CoreSet()
    assert strategy.query(state_of(HAND, [0]), 4).tolist() == [4, 3, 1, 2]
    assert np.allclose(strategy.last_scores, [1, 4, 3, np.sqrt(17)])


def test_ties_go_to_the_lowest_pool_index_whatever_the_order_of_the_unlabeled():
    state = state_of(HAND, [0], unlabeled=[2, 4, 1, 3])
    strategy = CoreSet()
    assert strategy.query(state, 4).tolist() == [4, 3, 1, 2]
    assert np.allclose(strategy.last_scores, [4, np.sqrt(17), 1, 3])  # aligned with indices_unlabeled


@pytest.mark.parametrize("seed", range(3))
def test_each_pick_is_the_text_farthest_from_the_labeled_set_and_earlier_picks(seed):
    gen = np.random.default_rng(seed)
    points = gen.normal(size=(200, 6)).astype(np.float32)
    labeled = list(range(0, 200, 10))
    picked = CoreSet().query(state_of(points, labeled), 15)
    centres = list(labeled)
    for index in picked:
        remaining = np.setdiff1d(np.arange(200), centres)
        d = np.linalg.norm(points[remaining, None, :] - points[None, centres, :], axis=2).min(axis=1)
        assert index == remaining[np.argmax(d)]
        centres.append(int(index))


def test_faiss_nearest_centre_distances_equal_brute_force():
    gen = np.random.default_rng(1)
    points, centres = gen.normal(size=(300, 12)), gen.normal(size=(40, 12))
    brute = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).min(axis=1)
    assert np.allclose(nearest_center_sq_distances(points, centres), brute, rtol=1e-4, atol=1e-4)
    assert np.isinf(nearest_center_sq_distances(points, centres[:0])).all()


def test_duplicates_and_no_labeled_set_still_give_distinct_picks():
    points = np.zeros((5, 3))
    picked = k_center_greedy(points, np.full(5, np.inf), 5)
    assert picked.tolist() == [0, 1, 2, 3, 4]
