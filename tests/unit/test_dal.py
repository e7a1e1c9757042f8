"""DAL (Gissin & Shalev-Shwartz 2019): sub-batching, subsampling, stopping, selection."""
from __future__ import annotations

import time

import numpy as np
import pytest

from strategies.dal import DAL, dal_query, inverse_size_weights, sub_batch_sizes, train_discriminator


def test_sub_batch_sizes_by_hand():
    assert sub_batch_sizes(50, 10) == [5] * 10
    assert sub_batch_sizes(25, 10) == [3, 3, 3, 3, 3, 2, 2, 2, 2, 2]
    assert sub_batch_sizes(3, 10) == [1, 1, 1]


def test_inverse_size_weights_by_hand():
    # 100 labeled, 900 unlabeled: w = 1000 / (2 * 100) = 5, 1000 / (2 * 900) = 0.5556
    w_l, w_u = inverse_size_weights(100, 900)
    assert w_l == pytest.approx(5.0) and w_u == pytest.approx(0.555556, abs=1e-6)
    # weighted class totals are equal: 100 * 5 = 900 * 0.5556 = 500
    assert 100 * w_l == pytest.approx(900 * w_u)


def test_the_discriminator_s_loss_weighs_each_class_inversely_to_its_size():
    """Two labeled and eight unlabeled texts: weights 10 / 4 = 2.5 and 10 / 16 = 0.625. From zero weights every
    probability is 1/2, so the output bias's gradient is sum_i w_i (1/2 - y_i) / W = (2 x 2.5 - 8 x 0.625) / 2 / 10
    = 0 exactly (dyadic numbers): Adam leaves the bias at 0. Unweighted or swapped weights would move it by
    about the learning rate."""
    torch = pytest.importorskip("torch")

    rng = np.random.default_rng(0)
    X_labeled, X_unlabeled = rng.normal(size=(2, 3)), rng.normal(size=(8, 3))
    zero = {"0.weight": torch.zeros(2, 3), "0.bias": torch.zeros(2)}
    model, info = train_discriminator(X_labeled, X_unlabeled, seed=0, n_layers=0, batch_size=64, max_epochs=1,
                                      init=zero)
    assert info["epochs"] == 1
    assert model[0].bias.detach().tolist() == [0.0, 0.0]
    assert float(model[0].weight.detach().abs().max()) > 1e-4  # the step was taken


def clusters(seed=0):
    """Labeled texts around the origin; the pool mixes look-alikes and a far-away cluster of 30."""
    rng = np.random.default_rng(seed)
    labeled = rng.normal(0, 1, (20, 8))
    near = rng.normal(0, 1, (300, 8))
    far = rng.normal(0, 1, (30, 8)) + 6.0
    return np.vstack([labeled, near, far]), np.arange(20), np.arange(20, 350), np.arange(320, 350)


def test_picks_what_the_labeled_set_does_not_cover():
    X, labeled, unlabeled, far = clusters()
    picked, _ = dal_query(X, labeled, unlabeled, 5, np.random.default_rng(0), sub_batches=1)
    # U' = 200 of the 330 pool texts; the far cluster is unlike anything labeled
    assert np.isin(picked, far).all()


def test_sub_batches_move_on_once_a_region_is_covered():
    X, labeled, unlabeled, far = clusters()
    picked, _ = dal_query(X, labeled, unlabeled, 10, np.random.default_rng(0), sub_batches=2)
    # sub-batch 1 takes 5 far texts; they join L, so the far region now looks labeled
    # (5 labeled vs ~23 unlabeled there, weighted 5 : 0.5) and sub-batch 2 looks elsewhere
    assert np.isin(picked[:5], far).all()
    assert not np.isin(picked[5:], far).all()


def test_picks_are_the_top_of_p_unlabeled_over_u_prime_also_where_float32_rounds_it_to_1(monkeypatch):
    """A float32 softmax is exactly 1.0 for logits apart by more than ~17 (bert's [CLS] vectors reach that): the
    sort on it left those texts to the tie-break, the lowest pool index, whatever the discriminator said."""
    import torch

    import strategies.dal as dal

    class Margin(torch.nn.Module):  # logit(unlabeled) - logit(labeled) = 20 + x: P(unlabeled) 1.0f for all
        def forward(self, X):
            return torch.stack([torch.zeros(len(X)), 20.0 + X[:, 0]], dim=1)

    monkeypatch.setattr(dal, "train_discriminator", lambda *a, **k: (Margin(), {"epochs": 1}))
    X = np.array([[0.1], [0.5], [0.2], [3.0], [0.3], [2.0], [0.0], [1.0]], dtype=np.float32)
    assert (torch.softmax(Margin()(torch.from_numpy(X)), dim=1)[:, 1].numpy() == 1.0).all()  # no order left in it
    np.testing.assert_allclose(dal.unlabeled_logit(Margin(), X), 20.0 + X[:, 0].astype(np.float64), rtol=1e-7)
    labeled, unlabeled = np.array([6]), np.array([0, 1, 2, 3, 4, 5, 7])
    picked, _ = dal_query(X, labeled, unlabeled, 3, np.random.default_rng(0), sub_batches=1, subsample_factor=10)
    # U' is every unlabeled text (10 |L| >= |U|): by hand, the largest 20 + x are texts 3 (3.0), 5 (2.0), 7 (1.0)
    assert picked.tolist() == [3, 5, 7]


def test_subsample_grows_with_the_labeled_set_by_hand():
    X, labeled, unlabeled, _ = clusters()
    _, info = dal_query(X, labeled[:5], unlabeled[:200], 20, np.random.default_rng(0), sub_batches=4)
    # sub-batches of 5; |L| = 5, 10, 15, 20; |U| = 200, 195, 190, 185 -> |U'| = min(10 |L|, |U|)
    assert [s["subsample"] for s in info] == [50, 100, 150, 185]


def test_stops_at_target_accuracy_or_the_epoch_cap():
    X, labeled, unlabeled, far = clusters()
    _, easy = train_discriminator(X[labeled], X[far], seed=0, max_epochs=500, batch_size=8)
    assert easy["train_accuracy"] > 0.98 and easy["epochs"] < 500  # separable: stops early
    rng = np.random.default_rng(1)
    same = rng.normal(0, 1, (200, 8))
    _, hard = train_discriminator(same[:20], same[20:], seed=0, max_epochs=3, target_accuracy=0.999)
    assert hard["epochs"] == 3  # capped


def test_deterministic():
    X, labeled, unlabeled, _ = clusters()
    a, _ = dal_query(X, labeled, unlabeled, 10, np.random.default_rng(5))
    b, _ = dal_query(X, labeled, unlabeled, 10, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)


def test_warm_start_keeps_the_first_sub_batch_and_needs_fewer_epochs():
    X, labeled, unlabeled, _ = clusters()
    faithful, slow = dal_query(X, labeled, unlabeled, 20, np.random.default_rng(3), sub_batches=4)
    warm, fast = dal_query(X, labeled, unlabeled, 20, np.random.default_rng(3), sub_batches=4, warm_start=True)
    # the same generator draws the same subsamples and seeds; the first discriminator is the same one
    np.testing.assert_array_equal(warm[:5], faithful[:5])
    assert fast[0] == slow[0]
    assert [s["subsample"] for s in fast] == [s["subsample"] for s in slow]
    # later ones start from their predecessor, which already tells L from U' apart
    assert sum(s["epochs"] for s in fast[1:]) < sum(s["epochs"] for s in slow[1:])
    again, _ = dal_query(X, labeled, unlabeled, 20, np.random.default_rng(3), sub_batches=4, warm_start=True)
    np.testing.assert_array_equal(again, warm)  # deterministic
    # through the strategy: off by default, on as a parameter
    from al.testing import make_state

    state, _ = make_state(n_pool=120, n_labeled=10)
    assert DAL().warm_start is False
    assert len(DAL(warm_start=True, sub_batches=2).query(state, 6)) == 6


def test_does_not_retrain_the_task_classifier():
    from al.testing import make_state

    state, _ = make_state(n_pool=80, n_labeled=10)
    before = state.classifier.model_.estimators_[0].coef_.copy()
    DAL().query(state, 5)
    np.testing.assert_array_equal(state.classifier.model_.estimators_[0].coef_, before)


@pytest.mark.slow
def test_large_pool_under_a_minute():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100_000, 384)).astype(np.float32)
    start = time.perf_counter()
    picked, _ = dal_query(X, np.arange(600), np.arange(600, 100_000), 50, rng)
    assert len(set(picked.tolist())) == 50
    assert time.perf_counter() - start < 60


def test_the_discriminator_trains_as_with_torch_adam_and_never_imports_the_compiler(monkeypatch):
    """al.optim.Adam is torch.optim.Adam bit for bit; a DAL query leaves torch._dynamo unimported (2.4 s)."""
    import subprocess
    import sys

    import torch

    import strategies.dal as dal

    X, labeled, _, far = clusters()
    ours, _ = train_discriminator(X[labeled], X[far], seed=3, max_epochs=4, batch_size=8)
    monkeypatch.setattr(dal, "Adam", torch.optim.Adam)
    theirs, _ = train_discriminator(X[labeled], X[far], seed=3, max_epochs=4, batch_size=8)
    assert all(torch.equal(a, b) for a, b in zip(ours.state_dict().values(), theirs.state_dict().values()))
    code = ("import sys, numpy as np; from strategies.dal import dal_query; "
            "X = np.random.default_rng(0).normal(size=(300, 8)); "
            "dal_query(X, np.arange(30), np.arange(30, 300), 10, np.random.default_rng(0)); "
            "print('torch._dynamo' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_more_sub_batches_than_a_query_has_picks_is_refused_while_settings_are_checked():
    """sub_batches=100 at step 50 ran 50 sub-batches of one pick, under the name dal(sub_batches=100)."""
    from al.config import Component, SimulationConfig
    from al.errors import ConfigError

    def config(sub_batches, budget):
        return SimulationConfig(strategy=Component("dal", {"sub_batches": sub_batches}), step=50, budget=budget)

    with pytest.raises(ConfigError) as caught:
        config(51, 600)._validated()
    assert str(caught.value) == ("strategy 'dal' splits each query into sub_batches=51 parts of at least one pick, and "
                                 "each query asks for 50; lower --strategy-param sub_batches to at most 50, or raise "
                                 "--step")
    config(50, 600)._validated()
    config(50, 620)._validated()  # a last query of 20 splits into 20, as the paper's min(sub_batches, n)
