"""BADGE: gradient embeddings and k-means++ seeding, against hand-computed values."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from al.errors import ConfigError
from al.strategy import PoolState
from strategies.badge import BADGE, badge_select, gradient_embeddings, gradient_residuals, kmeans_pp_seeding


def state_of(proba: np.ndarray, representations: np.ndarray, labeled: list[int], rng_seed: int = 0) -> PoolState:
    n = len(proba)
    unlabeled = np.setdiff1d(np.arange(n), labeled)
    return PoolState(
        indices_labeled=np.asarray(labeled, dtype=np.int64), indices_unlabeled=unlabeled,
        y_labeled=sp.csr_matrix(np.ones((len(labeled), proba.shape[1]), dtype=np.int8)),
        label_names=tuple(f"l{j}" for j in range(proba.shape[1])), rng=np.random.default_rng(rng_seed),
        views={"proba": lambda: proba, "representations": lambda: representations},
    )


def test_gradient_embedding_by_hand():
    # p = (0.8, 0.3): label 0 predicted (yhat 1), label 1 not (yhat 0); r = p - yhat = (-0.2, 0.3)
    # h = (1, 2): g = (-0.2 * h, 0.3 * h) = (-0.2, -0.4, 0.3, 0.6)
    proba = np.array([[0.8, 0.3]])
    h = np.array([[1.0, 2.0]])
    assert np.allclose(gradient_residuals(proba), [[-0.2, 0.3]])
    assert np.allclose(gradient_embeddings(proba, h), [[-0.2, -0.4, 0.3, 0.6]])
    # p exactly at the threshold counts as predicted: r = 0.5 - 1
    assert np.allclose(gradient_residuals(np.array([[0.5]])), [[-0.5]])


# One label, one dimension, so g = (p - yhat) h is a number:
#   text 0: p 0.4, h  1 -> g  0.4      text 1: p 0.4, h 1 -> g 0.4 (a duplicate of text 0)
#   text 2: p 0.1, h  1 -> g  0.1      text 3: p 0.2, h -1 -> g -0.2
# First centre: the largest |g|, texts 0 and 1 tie -> the lower, text 0.
# D^2 to it: text 1: 0, text 2: 0.3^2 = 0.09, text 3: 0.6^2 = 0.36; total 0.45.
# Second centre: u = rng.random(); text 2 if u * 0.45 < 0.09 (u < 0.2), else text 3; never text 1.
HAND_PROBA = np.array([[0.4], [0.4], [0.1], [0.2]])
HAND_H = np.array([[1.0], [1.0], [1.0], [-1.0]])


@pytest.mark.parametrize("materialise", [True, False])
def test_d2_sampling_by_hand(materialise):
    for seed in range(200):
        u = np.random.default_rng(seed).random()
        picked = badge_select(HAND_PROBA, HAND_H, 2, np.random.default_rng(seed), materialise=materialise)
        assert picked.tolist() == [0, 2 if u < 0.2 else 3], (seed, u)


def test_a_duplicate_of_a_centre_comes_only_after_everything_else():
    # after texts 0, 2 and 3 every remaining D^2 is 0: text 1 is drawn uniformly from what is left
    for seed in range(20):
        picked = badge_select(HAND_PROBA, HAND_H, 4, np.random.default_rng(seed))
        assert picked[0] == 0 and sorted(picked[1:3].tolist()) == [2, 3] and picked[3] == 1


def test_all_zero_gradients_still_give_distinct_picks():
    proba = np.zeros((6, 2))  # p = 0 everywhere: r = 0, every g = 0
    picked = badge_select(proba, np.ones((6, 3)), 6, np.random.default_rng(0))
    assert sorted(picked.tolist()) == list(range(6))


@pytest.mark.parametrize("seed", range(5))
def test_factorised_and_materialised_give_the_same_picks(seed):
    gen = np.random.default_rng(seed)
    proba = gen.random((300, 4))
    h = gen.normal(size=(300, 16))
    a = badge_select(proba, h, 40, np.random.default_rng(seed), materialise=True)
    b = badge_select(proba, h, 40, np.random.default_rng(seed), materialise=False)
    assert a.tolist() == b.tolist()
    assert len(set(a.tolist())) == 40


def test_factorised_distances_equal_the_materialised_ones():
    gen = np.random.default_rng(3)
    proba, h = gen.random((50, 3)), gen.normal(size=(50, 5))
    g = gradient_embeddings(proba, h)
    direct = ((g[:, None, :] - g[None, :, :]) ** 2).sum(axis=2)
    r = gradient_residuals(proba)
    sq = (r**2).sum(1) * (h**2).sum(1)
    factorised = sq[:, None] + sq[None, :] - 2 * (r @ r.T) * (h @ h.T)
    assert np.allclose(direct, factorised)


def test_the_strategy_chooses_the_form_by_the_memory_threshold_and_picks_alike():
    gen = np.random.default_rng(0)
    proba = gen.random((120, 3)).astype(np.float32)
    h = gen.normal(size=(120, 8))
    labeled = list(range(0, 120, 6))
    # 100 unlabeled x 3 labels x 8 dims x 8 bytes = 19,200 bytes
    big, small = BADGE(max_gradient_bytes=19_200), BADGE(max_gradient_bytes=19_199)
    a = big.query(state_of(proba, h, labeled), 10)
    b = small.query(state_of(proba, h, labeled), 10)
    assert big.last_info == {"gradients": "materialised"} and small.last_info == {"gradients": "factorised"}
    assert a.tolist() == b.tolist()
    assert not set(a.tolist()) & set(labeled)
    # the first pick is the unlabeled text with the largest gradient norm
    unlabeled = np.setdiff1d(np.arange(120), labeled)
    norms = np.linalg.norm(gradient_embeddings(proba[unlabeled], h[unlabeled]), axis=1)
    assert a[0] == unlabeled[np.argmax(norms)]


def test_seeding_is_linear_in_the_picks():
    calls = []

    def distance_to(i):
        calls.append(i)
        return np.abs(np.arange(10.0) - i) ** 2

    kmeans_pp_seeding(np.arange(10.0), distance_to, 5, np.random.default_rng(0))
    assert len(calls) == 5  # one pass over the rows per pick


def test_bad_threshold_is_a_config_error():
    with pytest.raises(ConfigError, match=r"threshold must be a number in \(0, 1\), got 1.5"):
        BADGE(threshold=1.5)
