"""DAL runs its discriminators on one torch thread and gives the caller's thread count back, also on error."""
from __future__ import annotations

import numpy as np
import pytest

import strategies.dal as dal
from strategies.dal import dal_query, train_discriminator

torch = pytest.importorskip("torch")

CALLER_THREADS = 3  # anything but 1, so a count left at 1 shows


@pytest.fixture
def caller_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(CALLER_THREADS)
    yield CALLER_THREADS
    torch.set_num_threads(before)


def small_input(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(60, 8)).astype(np.float32), np.arange(10), np.arange(10, 60)


def test_dal_query_restores_the_thread_count(caller_threads):
    X, labeled, unlabeled = small_input()
    picked, _ = dal_query(X, labeled, unlabeled, 4, np.random.default_rng(0), sub_batches=2, max_epochs=2)
    assert len(picked) == 4
    assert torch.get_num_threads() == caller_threads


def test_training_and_scoring_run_on_one_thread(caller_threads, monkeypatch):
    seen = []
    real_train, real_score = dal._train, dal.unlabeled_probability

    def spy_train(*args, **kwargs):
        seen.append(("train", torch.get_num_threads()))
        return real_train(*args, **kwargs)

    def spy_score(*args, **kwargs):
        seen.append(("score", torch.get_num_threads()))
        return real_score(*args, **kwargs)

    monkeypatch.setattr(dal, "_train", spy_train)
    monkeypatch.setattr(dal, "unlabeled_probability", spy_score)
    X, labeled, unlabeled = small_input()
    dal_query(X, labeled, unlabeled, 4, np.random.default_rng(0), sub_batches=2, max_epochs=2)
    assert seen == [("train", 1), ("score", 1), ("train", 1), ("score", 1)]
    assert torch.get_num_threads() == caller_threads
    train_discriminator(X[labeled], X[unlabeled], seed=0, max_epochs=1)  # on its own, too
    assert seen[-1] == ("train", 1) and torch.get_num_threads() == caller_threads


def test_thread_count_restored_when_training_raises(caller_threads):
    X, labeled, unlabeled = small_input()
    with pytest.raises(ValueError, match="learning rate"):  # Adam refuses it inside training
        train_discriminator(X[labeled], X[unlabeled], seed=0, learning_rate=-1.0)
    assert torch.get_num_threads() == caller_threads
    with pytest.raises(ValueError, match="learning rate"):
        dal_query(X, labeled, unlabeled, 4, np.random.default_rng(0), learning_rate=-1.0)
    assert torch.get_num_threads() == caller_threads


def test_thread_count_restored_when_scoring_raises(caller_threads, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("scoring failed")

    monkeypatch.setattr(dal, "unlabeled_probability", broken)
    X, labeled, unlabeled = small_input()
    with pytest.raises(RuntimeError, match="scoring failed"):
        dal_query(X, labeled, unlabeled, 4, np.random.default_rng(0), max_epochs=1)
    assert torch.get_num_threads() == caller_threads
