"""ALPS without a model: surprisal and selection by hand, caching, conformance with a fake embedder."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from al.cache import cache_dir
from al.embedders import EmbeddingCache
from al.errors import ConfigError, EmptyPoolError
from al.registry import get_strategy
from al.strategy import PoolState
from al.embedders.surprisal import MAX_LENGTH, MLMSurprisal, choose_positions, surprisal_vectors
from strategies.alps import ALPS, alps_select, fill_duplicates, nearest_to_centres
from tests.conftest import hash_embed


def fake_surprisal(texts):
    """Deterministic stand-in for the MLM: hashed bag of words."""
    return hash_embed(texts, dim=16)


# ------------------------------------------------------------ surprisal


def test_surprisal_by_hand():
    # vocabulary of 4 tokens; 0 = [CLS]/[PAD], 3 = [SEP]
    token_ids = np.array([[0, 2, 1, 3], [0, 3, 3, 0], [0, 1, 3, 0]])
    chosen = np.array([[0, 1, 1, 0], [0, 0, 0, 0], [0, 1, 0, 0]], dtype=bool)
    logits = np.log(np.array([
        [1.0, 1.0, 1.0, 1.0],  # text 0, position 1, token 2: p = 1/4, surprisal ln 4 = 1.386294
        [1.0, 3.0, 2.0, 2.0],  # text 0, position 2, token 1: p = 3/8, surprisal ln(8/3) = 0.980829
        [1.0, 7.0, 1.0, 1.0],  # text 2, position 1, token 1: p = 7/10
    ]))
    out = surprisal_vectors(token_ids, logits, chosen, max_length=6)
    assert out.shape == (3, 6) and out.dtype == np.float32
    # text 0: (0, 1.386294, 0.980829, 0, 0, 0) / sqrt(1.386294^2 + 0.980829^2) = / 1.698186
    np.testing.assert_allclose(out[0], [0, 0.816338, 0.577574, 0, 0, 0], atol=1e-6)
    # text 1: nothing chosen -> stays all-zero
    np.testing.assert_array_equal(out[1], 0.0)
    # text 2: one chosen position -> unit weight there
    np.testing.assert_allclose(out[2], [0, 1, 0, 0, 0, 0], atol=1e-6)


def test_surprisal_takes_log_probabilities_too():
    token_ids = np.array([[0, 2, 1, 3]])
    chosen = np.array([[0, 1, 1, 0]], dtype=bool)
    logits = np.array([[0.3, -1.0, 2.0, 0.5], [1.0, 0.0, -2.0, 4.0]])
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(
        surprisal_vectors(token_ids, logits, chosen), surprisal_vectors(token_ids, log_probs, chosen), atol=1e-6
    )
    # unnormalised: -log softmax(logits)[target]
    row0 = -log_probs[0, 2]
    row1 = -log_probs[1, 1]
    expected = np.array([0, row0, row1]) / np.hypot(row0, row1)
    np.testing.assert_allclose(surprisal_vectors(token_ids, logits, chosen)[0, :3], expected, atol=1e-6)


def test_the_torch_surprisal_by_hand_and_against_scipy():
    torch = pytest.importorskip("torch")
    from al.embedders.surprisal import token_surprisal, token_surprisal_torch

    # the same rows as above: -log p(target) = ln 4, ln(8/3), ln(10/7); then a tie at the maximum:
    # logits (2, 2, 0), target 2: logsumexp = 2 + ln(2 + e^-2) = 2.758624, surprisal 2.758624
    logits = np.log(np.array([[1.0, 1.0, 1.0, 1.0], [1.0, 3.0, 2.0, 2.0], [1.0, 7.0, 1.0, 1.0]]))
    logits = np.vstack([logits, [2.0, 2.0, 0.0, -np.inf]])
    got = token_surprisal_torch(torch.from_numpy(logits), torch.tensor([2, 1, 1, 2])).numpy()
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, [np.log(4), np.log(8 / 3), np.log(10 / 7), 2.758624], rtol=1e-6)

    # a head pass's shape, with ties: scipy's value to about 1e-16, the same float32, whatever the chunking
    rng = np.random.default_rng(0)
    big = (rng.normal(size=(40, 30522)) * 4).astype(np.float32)
    big[3, [5, 9]] = big[3].max() + 1
    targets = rng.integers(0, 30522, 40)
    reference = token_surprisal(big, targets)
    chunked = [token_surprisal_torch(torch.from_numpy(big), torch.from_numpy(targets), rows_per_chunk=k).numpy()
               for k in (1, 3, 8, 40)]
    np.testing.assert_allclose(chunked[0], reference, rtol=1e-14, atol=0)
    np.testing.assert_array_equal(chunked[0].astype(np.float32), reference.astype(np.float32))
    for other in chunked[1:]:
        np.testing.assert_array_equal(other, chunked[0])


def test_surprisal_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="one row per chosen position"):
        surprisal_vectors(np.zeros((1, 4), int), np.zeros((3, 5)), np.array([[0, 1, 0, 0]], dtype=bool))


def test_positions_skip_special_tokens_and_depend_only_on_the_text():
    special = [1] + [0] * 9998 + [1]
    chosen = choose_positions("some text", special, seed=0)
    assert not chosen[0] and not chosen[-1]
    assert 0.14 < chosen.mean() < 0.16
    np.testing.assert_array_equal(chosen, choose_positions("some text", special, seed=0))
    assert not np.array_equal(chosen, choose_positions("other text", special, seed=0))
    assert not np.array_equal(chosen, choose_positions("some text", special, seed=1))
    # with every token drawn (prob 1), exactly the non-special ones are chosen
    special = [1, 0, 0, 1, 0, 1]
    np.testing.assert_array_equal(choose_positions("some text", special, seed=0, prob=1.0),
                                  [False, True, True, False, True, False])


# ------------------------------------------------------------ selection


def test_nearest_to_centres_by_hand():
    vectors = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
    centres = np.array([[0.9, 0.1], [4.0, 4.0], [0.5, 0.5]])
    # (0.5, 0.5) is equally far from rows 0, 1 and 2: the lower row wins
    np.testing.assert_array_equal(nearest_to_centres(vectors, centres), [1, 3, 0])


def test_duplicate_picks_are_filled_at_random_from_the_rest():
    picks, n_filled = fill_duplicates(np.array([4, 2, 4, 7, 2]), 8, np.random.default_rng(0))
    assert n_filled == 2
    np.testing.assert_array_equal(picks[:3], [4, 2, 7])  # first occurrences, centre order
    expected = np.random.default_rng(0).choice([0, 1, 3, 5, 6], 2, replace=False)
    np.testing.assert_array_equal(picks[3:], expected)


def test_three_clusters_give_one_pick_each_nearest_the_centre():
    # each cluster: a centre c and c +- (1, 0), c +- (0, 1): the mean is c itself
    offsets = np.array([[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1]], dtype=float)
    centres = np.array([[0, 0], [20, 0], [0, 20]], dtype=float)
    vectors = np.concatenate([c + offsets for c in centres])
    picks, n_filled = alps_select(vectors, 3, np.random.default_rng(0))
    assert n_filled == 0
    assert sorted(picks.tolist()) == [0, 5, 10]


def test_duplicate_points_still_give_n_distinct_picks():
    vectors = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    picks, n_filled = alps_select(vectors, 3, np.random.default_rng(0))
    assert sorted(picks.tolist()) == [0, 1, 2]
    assert n_filled == 1


# ------------------------------------------------------------ the strategy


def pool_state(texts, n_labeled=2, seed=0):
    n_pool = len(texts)
    return PoolState(
        indices_labeled=np.arange(n_labeled),
        indices_unlabeled=np.arange(n_labeled, n_pool),
        y_labeled=sp.csr_matrix(np.ones((n_labeled, 1), dtype=np.int8)),
        label_names=("a",),
        rng=np.random.default_rng(seed),
        views={"texts": lambda: list(texts)},
    )


def test_registered_and_checks_parameters_early():
    assert get_strategy("alps") is ALPS
    with pytest.raises(ConfigError, match="^mlm_head must be one of auto, pretrained, fit, got 'bert'; give one of "
                                          "them, or leave it out for auto$"):
        ALPS(mlm_head="bert")
    for steps, shown in ((0, "0"), (True, "true")):  # the errors said no fix, where the strategy's other params' do
        with pytest.raises(ConfigError, match=f"^fit_steps must be a positive integer, got {shown}; give one such, "
                                              f"or leave it out for its default$"):
            ALPS(fit_steps=steps)
    with pytest.raises(ConfigError, match="surprisal must be a function .* no command-line form\\), got 'foo'"):
        ALPS(surprisal="foo")  # --strategy-param surprisal=foo: one line, not a TypeError at the first query


def test_picks_one_text_per_topic_among_unlabeled():
    texts = ["flood water"] * 3 + ["food rice"] * 3 + ["medical doctor"] * 3
    strategy = ALPS(surprisal=fake_surprisal)
    picked = strategy.query(pool_state(texts, n_labeled=0), 3)
    assert sorted(texts[i] for i in picked) == ["flood water", "food rice", "medical doctor"]
    assert strategy.last_info == {"surprisal": "fake_surprisal", "n_filled_at_random": 0}
    picked = strategy.query(pool_state(texts, n_labeled=3), 2)
    assert picked.min() >= 3 and len(set(picked.tolist())) == 2


def test_vectors_are_computed_once_per_pool():
    calls = []

    def counting(texts):
        calls.append(len(texts))
        return fake_surprisal(texts)

    strategy = ALPS(surprisal=counting)
    texts = [f"message {i} about {'water' if i % 2 else 'food'}" for i in range(12)]
    strategy.query(pool_state(texts), 3)
    strategy.query(pool_state(texts, n_labeled=5), 3)
    assert calls == [12]
    strategy.query(pool_state(texts + ["one more"]), 3)
    assert calls == [12, 13]


def test_asking_for_more_than_the_unlabeled_pool_fails():
    with pytest.raises(EmptyPoolError, match="asked for 5 texts but only 3 are unlabeled"):
        ALPS(surprisal=fake_surprisal).query(pool_state(["a", "b", "c", "d", "e"]), 5)


class FakeMLM(MLMSurprisal):
    """MLMSurprisal with the model replaced: counts the texts it computes."""

    def _prepare(self, texts, key):
        self.head_ = "fake"
        self._cache = EmbeddingCache(cache_dir("alps", "surprisal", "fake"))

    def _compute(self, texts):
        self.computed = getattr(self, "computed", 0) + len(texts)
        return np.pad(fake_surprisal(texts), ((0, 0), (0, MAX_LENGTH - 16)))


def test_vectors_are_cached_on_disk_per_distinct_text():
    texts = ["water", "food", "water", "shelter"]
    first = FakeMLM()
    out = first(texts)
    assert first.computed == 3 and out.shape == (4, MAX_LENGTH)
    np.testing.assert_array_equal(out[0], out[2])
    second = FakeMLM()
    again = second(texts[::-1] + ["new"])
    assert second.computed == 1  # only "new"
    np.testing.assert_array_equal(again[:4], out[::-1])


def test_pool_work_done_ahead_is_what_a_later_run_reads_from_disk():
    """ALPS.prepare (a grid runs it in another process) leaves the run nothing to compute and the same picks."""
    texts = [f"message {i} about {'water' if i % 3 else 'food'} and {'rain' if i % 2 else 'rice'}" for i in range(15)]
    ahead = ALPS()
    ahead._embed = FakeMLM()
    ahead.prepare(texts)
    assert ahead._embed.computed == 15
    run = ALPS()  # another process: nothing in memory
    run._embed = FakeMLM()
    picks = run.query(pool_state(texts), 4)
    assert getattr(run._embed, "computed", 0) == 0
    alone = ALPS(surprisal=lambda t: np.pad(fake_surprisal(t), ((0, 0), (0, MAX_LENGTH - 16))))
    np.testing.assert_array_equal(picks, alone.query(pool_state(texts), 4))
