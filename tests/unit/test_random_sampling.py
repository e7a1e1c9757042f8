"""Random sampling (ALGORITHMS.md: a seeded uniform choice without replacement), checked by its definition."""
from __future__ import annotations

import dataclasses

import numpy as np

from al.testing import make_state
from strategies.random_sampling import RandomSampling


def test_picks_are_distinct_unlabeled_texts_each_equally_likely():
    # 48 unlabeled texts, 6 picks a query: each text is picked with probability 6 / 48 = 0.125; over 4,000
    # queries the binomial sd of a frequency is about 0.0052, so 0.02 is about 4 sd
    state, _ = make_state(n_pool=60, n_labeled=12)
    unlabeled = set(state.indices_unlabeled.tolist())
    counts = np.zeros(60)
    for _ in range(4000):
        picked = RandomSampling().query(state, 6)
        assert len(set(picked.tolist())) == 6 and set(picked.tolist()) <= unlabeled
        counts[picked] += 1
    assert counts[state.indices_labeled].sum() == 0
    np.testing.assert_allclose(counts[state.indices_unlabeled] / 4000, 0.125, atol=0.02)


def test_the_run_s_generator_is_the_only_source_of_randomness():
    state, _ = make_state()
    global_state = np.random.get_state()
    first = RandomSampling().query(dataclasses.replace(state, rng=np.random.default_rng(3)), 5)
    again = RandomSampling().query(dataclasses.replace(state, rng=np.random.default_rng(3)), 5)
    other = RandomSampling().query(dataclasses.replace(state, rng=np.random.default_rng(4)), 5)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert np.array_equal(np.random.get_state()[1], global_state[1])
