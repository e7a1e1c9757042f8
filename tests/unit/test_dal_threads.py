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
    real_train, real_score = dal._train, dal.unlabeled_logit

    def spy_train(*args, **kwargs):
        seen.append(("train", torch.get_num_threads()))
        return real_train(*args, **kwargs)

    def spy_score(*args, **kwargs):
        seen.append(("score", torch.get_num_threads()))
        return real_score(*args, **kwargs)

    monkeypatch.setattr(dal, "_train", spy_train)
    monkeypatch.setattr(dal, "unlabeled_logit", spy_score)
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

    monkeypatch.setattr(dal, "unlabeled_logit", broken)
    X, labeled, unlabeled = small_input()
    with pytest.raises(RuntimeError, match="scoring failed"):
        dal_query(X, labeled, unlabeled, 4, np.random.default_rng(0), max_epochs=1)
    assert torch.get_num_threads() == caller_threads


def _same(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


@pytest.mark.parametrize("check_seconds", [0.0, 0.05])  # a check that ends during the next epoch, or after it
@pytest.mark.parametrize("case", ["stops early", "capped", "warm init", "one epoch", "no epoch"])
def test_the_accuracy_check_beside_the_next_epoch_gives_the_same_discriminator(case, check_seconds, monkeypatch):
    """check_beside: each epoch's check runs on a second thread while the next epoch trains; the discriminator,
    its epochs and accuracy are those of the checks one after the other, bit for bit (in every way it can end,
    whenever the check ends)."""
    import time

    real_accuracy = dal._accuracy
    monkeypatch.setattr(dal, "_accuracy", lambda *a: (time.sleep(check_seconds), real_accuracy(*a))[1])
    rng = np.random.default_rng(4)
    labeled, unlabeled = rng.normal(0, 1, (40, 8)), rng.normal(0.8, 1, (400, 8))
    kwargs = {"stops early": dict(max_epochs=200),  # 16 epochs at the default 0.98
              "capped": dict(max_epochs=4, target_accuracy=0.999),
              "one epoch": dict(max_epochs=1), "no epoch": dict(max_epochs=0)}.get(case, dict(max_epochs=200))
    if case == "warm init":
        kwargs["init"] = train_discriminator(labeled, unlabeled, seed=1, max_epochs=2, check_beside=False)[0].state_dict()
    beside, info_beside = train_discriminator(labeled, unlabeled, seed=7, batch_size=32, check_beside=True, **kwargs)
    after, info_after = train_discriminator(labeled, unlabeled, seed=7, batch_size=32, check_beside=False, **kwargs)
    assert info_beside == info_after and _same(beside, after)
    assert not beside.training
    if case in ("stops early", "warm init"):  # the check of an epoch passed while the next one trained
        assert 2 <= info_after["epochs"] < 200 and info_after["train_accuracy"] > 0.98
    if case == "capped":
        assert info_after["epochs"] == 4
    if case == "no epoch":
        assert info_after == {"epochs": 0, "train_accuracy": 0.0}


def test_an_error_in_the_epoch_beside_a_passing_check_is_dropped_with_that_epoch(monkeypatch):
    """One after the other, the epoch after a passing check never trains: its error must not escape either."""
    rng = np.random.default_rng(4)
    labeled, unlabeled = rng.normal(0, 1, (40, 8)), rng.normal(0.8, 1, (400, 8))
    after, info_after = train_discriminator(labeled, unlabeled, seed=7, batch_size=32, max_epochs=200,
                                            check_beside=False)
    steps = {"n": 0}
    per_epoch = -(-440 // 32)
    real_step = dal.Adam.step

    def step(self, *args, **kwargs):  # the first step of the epoch after the passing one fails
        steps["n"] += 1
        if steps["n"] == info_after["epochs"] * per_epoch + 1:
            raise MemoryError("no memory for this step")
        return real_step(self, *args, **kwargs)

    real_accuracy = dal._accuracy
    monkeypatch.setattr(dal, "_accuracy", lambda *a: (__import__("time").sleep(0.05), real_accuracy(*a))[1])
    monkeypatch.setattr(dal.Adam, "step", step)
    beside, info_beside = train_discriminator(labeled, unlabeled, seed=7, batch_size=32, max_epochs=200,
                                              check_beside=True)
    assert steps["n"] == info_after["epochs"] * per_epoch + 1  # the failing step was reached
    assert info_beside == info_after and _same(beside, after)
    steps["n"] = 0
    with pytest.raises(MemoryError):  # an epoch both forms train: its error is the caller's
        train_discriminator(labeled, unlabeled, seed=7, batch_size=32, max_epochs=200, target_accuracy=0.999,
                            check_beside=True)


def test_a_lone_caller_s_second_thread_checks_beside_and_a_one_thread_caller_s_does_not(caller_threads, monkeypatch):
    """dal_query checks beside where its caller has more than one torch thread (a lone run), on a thread of its
    own and one torch thread there; the picks are the same on 1 and on 3 threads."""
    import threading

    asked, checks = [], []
    real_train, real_accuracy = dal._train, dal._accuracy

    def spy_train(*args, **kwargs):
        asked.append(args[-1])  # check_beside
        return real_train(*args, **kwargs)

    def spy_accuracy(net, X, y):
        hook = net.register_forward_pre_hook(
            lambda module, inputs: checks.append((threading.current_thread().name, torch.get_num_threads())))
        try:
            return real_accuracy(net, X, y)
        finally:
            hook.remove()

    monkeypatch.setattr(dal, "_train", spy_train)
    monkeypatch.setattr(dal, "_accuracy", spy_accuracy)
    X, labeled, unlabeled = small_input()
    three, _ = dal_query(X, labeled, unlabeled, 4, np.random.default_rng(0), sub_batches=2, max_epochs=3)
    assert asked == [True, True] and checks and all(c == (checks[0][0], 1) for c in checks)
    assert checks[0][0].startswith("dal-accuracy")
    asked.clear()
    checks.clear()
    torch.set_num_threads(1)  # a grid worker given one thread: the checks on the training's own thread
    one, _ = dal_query(X, labeled, unlabeled, 4, np.random.default_rng(0), sub_batches=2, max_epochs=3)
    assert asked == [False, False] and set(checks) == {(threading.current_thread().name, 1)}
    np.testing.assert_array_equal(one, three)

    checks.clear()
    torch.set_num_threads(3)  # a helper thread born on 3 threads (another thread changed the count) checks on 1
    dal._train(X[labeled], X[unlabeled], 0, 16, 2, 1e-3, 16, 3, 0.98, None, True)
    assert checks and {c[1] for c in checks} == {1} and checks[0][0].startswith("dal-accuracy")
