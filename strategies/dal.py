"""DAL: discriminative active learning.

References
----------
Gissin and Shalev-Shwartz, "Discriminative Active Learning", arXiv:1907.06347 (2019).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from al import checks
from al.device import seeded_torch, torch_threads
from al.errors import ConfigError
from al.optim import Adam
from al.registry import register
from al.strategy import PoolState, Strategy


def sub_batch_sizes(n: int, sub_batches: int) -> list[int]:
    """Split ``n`` into ``min(sub_batches, n)`` near-equal sizes, larger first (10 -> 25: 3,3,3,3,3,2,2,2,2,2)."""
    parts = min(sub_batches, n)
    return [len(p) for p in np.array_split(np.arange(n), parts)]


def inverse_size_weights(n_labeled: int, n_unlabeled: int) -> tuple[float, float]:
    """Class weights inverse to class size, (labeled, unlabeled), averaging 1 over samples.

    w_c = N / (2 N_c) with N = N_labeled + N_unlabeled.
    """
    total = n_labeled + n_unlabeled
    return total / (2.0 * n_labeled), total / (2.0 * n_unlabeled)


def train_discriminator(
    X_labeled: np.ndarray,
    X_unlabeled: np.ndarray,
    *,
    seed: int,
    hidden: int = 256,
    n_layers: int = 3,
    learning_rate: float = 1e-3,
    batch_size: int = 256,
    max_epochs: int = 50,
    target_accuracy: float = 0.98,
    init: dict[str, Any] | None = None,
    check_beside: bool | None = None,
) -> tuple[Any, dict[str, float]]:
    """Train an MLP to tell labeled (class 0) from unlabeled (class 1) representations.

    ``n_layers`` x ``hidden`` ReLU layers, softmax over the two classes, weighted
    cross-entropy with :func:`inverse_size_weights`, Adam. Stops after the first
    epoch whose training accuracy exceeds ``target_accuracy``, or at ``max_epochs``.
    ``init``: a ``state_dict`` of an earlier discriminator of the same shape to
    start from instead of fresh weights (the warm-started variant; Adam's state
    starts fresh). Each thread it runs on uses one torch CPU thread
    (:func:`al.device.torch_threads`); the caller's thread count is restored
    afterwards, also when training raises.

    ``check_beside``: each epoch's accuracy check (a forward pass over every
    training row, about a fifth of an epoch's time) runs on a second Python
    thread, on a copy of that epoch's weights, while the next epoch trains; once
    a check passes, the copy is returned and the epoch training beside it is
    abandoned (an error it raised meanwhile too). The same weights, epochs and
    accuracy as one after the other, bit for bit. None (default): where the
    caller has a second torch thread (a lone run on two cores; a grid worker
    given one thread has none).

    Returns
    -------
    model : torch.nn.Module (eval mode)
    info : dict with ``epochs`` and ``train_accuracy``
    """
    import torch

    if check_beside is None:
        check_beside = torch.get_num_threads() > 1
    with torch_threads(1):  # small: threads only contend; one: the same numbers on any thread count
        return _train(X_labeled, X_unlabeled, seed, hidden, n_layers, learning_rate, batch_size, max_epochs,
                      target_accuracy, init, check_beside)


def _train(
    X_labeled: np.ndarray, X_unlabeled: np.ndarray, seed: int, hidden: int, n_layers: int, learning_rate: float,
    batch_size: int, max_epochs: int, target_accuracy: float, init: dict[str, Any] | None = None,
    check_beside: bool = False,
) -> tuple[Any, dict[str, float]]:
    import copy
    from concurrent.futures import Future, ThreadPoolExecutor  # noqa: F401 - Future: annotations

    import torch
    from torch import nn

    generator = torch.Generator().manual_seed(seed)
    X = torch.from_numpy(np.vstack([X_labeled, X_unlabeled]).astype(np.float32))
    y = torch.cat([torch.zeros(len(X_labeled), dtype=torch.long), torch.ones(len(X_unlabeled), dtype=torch.long)])
    with seeded_torch(seed):
        layers: list[nn.Module] = []
        width = X.shape[1]
        for _ in range(n_layers):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        model = nn.Sequential(*layers, nn.Linear(width, 2))
    if init is not None:
        model.load_state_dict(init)
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(inverse_size_weights(len(X_labeled), len(X_unlabeled)),
                                                      dtype=torch.float32))
    optimizer = Adam(model.parameters(), lr=learning_rate)  # torch.optim.Adam bit for bit, no compiler import

    def train_epoch(given_up: Callable[[], bool] = lambda: False) -> None:
        """One epoch of Adam steps in a fresh random order; left between two steps once ``given_up()``."""
        model.train()
        order = torch.randperm(len(X), generator=generator)
        for start in range(0, len(X), batch_size):
            if given_up():
                return
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            loss_fn(model(X[batch]), y[batch]).backward()
            optimizer.step()

    if not check_beside:
        acc, epoch = 0.0, 0
        for epoch in range(1, max_epochs + 1):
            train_epoch()
            acc = _accuracy(model.eval(), X, y)
            if acc > target_accuracy:
                break
        return model.eval(), {"epochs": epoch, "train_accuracy": round(acc, 4)}

    def passed(check: Future[float] | None) -> bool:
        """Whether ``check`` has ended, above the target (without waiting for it)."""
        return check is not None and check.done() and check.result() > target_accuracy

    with ThreadPoolExecutor(1, thread_name_prefix="dal-accuracy") as helper:
        # (epoch, its weights, their accuracy to come): checked while the next epoch trains
        checking: tuple[int, Any, Future[float]] | None = None
        for epoch in range(1, max_epochs + 1):
            check = checking[2] if checking is not None else None
            try:
                train_epoch(lambda: passed(check))  # dropped if the last epoch's check passes meanwhile
            except Exception:  # an epoch one after the other would not have trained: its error neither
                if check is None or not check.result() > target_accuracy:
                    raise
            if checking is not None and (acc := checking[2].result()) > target_accuracy:
                return checking[1], {"epochs": checking[0], "train_accuracy": round(acc, 4)}
            weights = copy.deepcopy(model).eval()
            checking = (epoch, weights, helper.submit(_accuracy, weights, X, y))
        if checking is None:  # max_epochs < 1: no epoch, as one after the other
            return model.eval(), {"epochs": 0, "train_accuracy": 0.0}
        return checking[1], {"epochs": checking[0], "train_accuracy": round(checking[2].result(), 4)}


def _accuracy(net: Any, X: Any, y: Any) -> float:
    """Training accuracy of ``net`` (eval mode) on ``X`` (n, dim) against ``y`` (n,), exact, on one torch thread
    whichever thread runs it."""
    import torch

    with torch_threads(1), torch.inference_mode():
        return int((net(X).argmax(dim=1) == y).sum()) / len(y)


def unlabeled_logit(model: Any, X: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """log P(unlabeled | x) - log P(labeled | x), the two logits' difference in float64, shape (n,).

    Ranks as P(unlabeled | x) does (P = sigmoid of it), without its saturation: a float32 softmax is exactly 1.0
    for every text whose logits differ by more than about 17, and a sort on it left such texts to the tie-break
    (the pool index), whatever the discriminator said of them.
    """
    import torch

    out = []
    with torch.inference_mode():
        for start in range(0, len(X), batch_size):
            logits = model(torch.from_numpy(np.ascontiguousarray(X[start : start + batch_size], dtype=np.float32)))
            out.append((logits[:, 1].double() - logits[:, 0].double()).numpy())
    return np.concatenate(out) if out else np.empty(0)


def dal_query(
    representations: np.ndarray,
    indices_labeled: np.ndarray,
    indices_unlabeled: np.ndarray,
    n: int,
    rng: np.random.Generator,
    *,
    sub_batches: int = 10,
    subsample_factor: int = 10,
    warm_start: bool = False,
    **train_kwargs: Any,
) -> tuple[np.ndarray, list[dict[str, float]]]:
    """DAL for one query (Gissin & Shalev-Shwartz 2019, Algorithm 1 with sub-batches).

    For each of ``sub_batches`` parts of ``n``: sample U' of size
    min(subsample_factor |L|, |U|) from the unlabeled texts, train a discriminator
    L vs U', move the texts of U' with the highest P(unlabeled) into L (as if
    labeled; no gold label is used), and repeat with the grown L. With
    ``warm_start`` (not the paper's: off by default) each sub-batch's
    discriminator starts from the previous one's weights; the first is the same.

    Parameters
    ----------
    representations : ndarray of shape (n_pool, dim)
        What the task classifier's output layer sees; never retrained here.
    indices_labeled, indices_unlabeled : ndarray of int, absolute pool indices

    Returns
    -------
    picked : ndarray of int, shape (n,), in the order chosen
    info : one dict per sub-batch: ``subsample``, ``epochs``, ``train_accuracy``
    """
    import torch

    from al.progress import progress

    labeled = list(indices_labeled)
    remaining = np.asarray(indices_unlabeled)
    picked: list[int] = []
    info = []
    previous: dict[str, Any] | None = None  # the last discriminator's weights, with warm_start
    check_beside = torch.get_num_threads() > 1  # a second thread for the accuracy checks (train_discriminator)
    with torch_threads(1), progress(n, "dal sub-batches", unit="picks") as bar:
        # training and scoring on one thread; the caller's count comes back, also on error
        for size in sub_batch_sizes(n, sub_batches):
            subsample = rng.choice(remaining, size=min(subsample_factor * len(labeled), len(remaining)),
                                   replace=False)
            model, stats = train_discriminator(
                representations[labeled], representations[subsample], seed=int(rng.integers(2**31 - 1)),
                init=previous, check_beside=check_beside, **train_kwargs,
            )
            if warm_start:
                previous = model.state_dict()  # that model is never trained again
            logit = unlabeled_logit(model, representations[subsample])  # P(unlabeled)'s order, unsaturated
            order = np.lexsort((subsample, -logit))  # highest P(unlabeled) first; exact ties by index
            chosen = subsample[order[:size]]
            picked.extend(chosen.tolist())
            labeled.extend(chosen.tolist())
            remaining = np.setdiff1d(remaining, chosen, assume_unique=True)
            info.append({"subsample": int(len(subsample)), **stats})
            bar.update(size)
    return np.asarray(picked, dtype=np.int64), info


@register("dal")
class DAL(Strategy):
    """Discriminative Active Learning (Gissin & Shalev-Shwartz 2019).

    Reads the task classifier's representation (``representations``: the
    [CLS] vector for ``bert``, the sentence embedding for ``logreg``), never
    retrains the task classifier, never uses labels.

    Parameters
    ----------
    sub_batches : int, default 10
    subsample_factor : int, default 10
        |U'| = min(subsample_factor |L|, |U|).
    max_epochs : int, default 50
    target_accuracy : float, default 0.98
    hidden, n_layers, learning_rate, batch_size : the discriminator (3 x 256 ReLU, Adam 1e-3, batch 256)
    warm_start : bool, default False
        Not in the paper: start each sub-batch's discriminator from the previous
        one's weights instead of fresh ones, so it needs fewer epochs to pass
        ``target_accuracy`` (``benchmarks/RESULTS.md`` says how often picks and
        curves differ from the faithful form).
    """

    requires = frozenset({"representations"})

    def __init__(
        self,
        sub_batches: int = 10,
        subsample_factor: int = 10,
        max_epochs: int = 50,
        target_accuracy: float = 0.98,
        hidden: int = 256,
        n_layers: int = 3,
        learning_rate: float = 1e-3,
        batch_size: int = 256,
        warm_start: bool = False,
    ) -> None:
        super().__init__()
        self.sub_batches = checks.integer("dal", "sub_batches", sub_batches)
        self.subsample_factor = checks.integer("dal", "subsample_factor", subsample_factor)
        self.max_epochs = checks.integer("dal", "max_epochs", max_epochs, at_least=0)
        self.target_accuracy = checks.number("dal", "target_accuracy", target_accuracy, 0.0, 1.0)
        self.hidden = checks.integer("dal", "hidden", hidden)
        self.n_layers = checks.integer("dal", "n_layers", n_layers, at_least=0)
        self.learning_rate = checks.number("dal", "learning_rate", learning_rate, 0.0, low_open=True)
        self.batch_size = checks.integer("dal", "batch_size", batch_size)
        self.warm_start = warm_start

    def check_query_sizes(self, sizes: Sequence[int], step: int) -> None:
        """More sub-batches than a query of ``step`` texts has picks is refused: each would pick one text and the
        run, named ``dal(sub_batches=100)``, would run fewer (a last query shrunk to fit the budget splits into as
        many as it has picks, as the paper's ``min(sub_batches, n)``)."""
        if self.sub_batches > step and step in sizes:
            raise ConfigError(f"strategy 'dal' splits each query into sub_batches={self.sub_batches} parts of at "
                              f"least one pick, and each query asks for {step}; lower --strategy-param sub_batches "
                              f"to at most {step}, or raise --step")

    def query(self, state: PoolState, n: int) -> np.ndarray:
        picked, info = dal_query(
            state.representations, state.indices_labeled, state.indices_unlabeled, n, state.rng,
            sub_batches=self.sub_batches, subsample_factor=self.subsample_factor, max_epochs=self.max_epochs,
            target_accuracy=self.target_accuracy, hidden=self.hidden, n_layers=self.n_layers,
            learning_rate=self.learning_rate, batch_size=self.batch_size, warm_start=bool(self.warm_start),
        )
        self.last_info = {"sub_batches": info}
        return picked
