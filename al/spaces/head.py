"""Head scope: a small projection trained on the frozen, cached sentence embeddings.

This is seed 002's own setting (the sentence embeddings are fixed inputs of a
small network, l.421), applied to every objective: a two-layer network
``x -> GELU(W1 x) -> W2 . -> z`` whose output ``z`` is the adapted space,
plus a linear multi-label output layer on ``z`` for the objectives that train
beside a classification loss. Seconds per round on two CPU cores at 600
labeled texts; the path a grid runs thousands of times.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from al.checks import FIX
from al.errors import ConfigError, DataError, did_you_mean, spelled
from al.optim import Adam
from al.spaces.training import (CLLD_TAU, Batch, batch_loss, check_fit, check_space_settings, minibatches, pair_loss,
                                 resolve_params)

LDM_MODES = ("static", "adaptive")


class HeadSpace:
    """Fit a projection of frozen embeddings with one of the objectives.

    Parameters
    ----------
    objective : {"cea", "snnl", "aan", "am", "clld"}
    dim : int
        Dimension of the adapted space (the network's output).
    hidden : int
        Width of the hidden layer.
    epochs, batch_size, learning_rate : training (Adam); CEA's batches are of pairs.
    dropout : float or None
        Dropout before each layer while training; None: 0.1 for CLLD (its two
        views differ by it), 0 for the others.
    positive : {"shares", "exact"}
        Multi-label meaning of "same class" (:func:`al.spaces.objectives.positive_mask`).
    alpha, eta, gamma : SNNL (seed 002): weight of the loss summed over both
        layers (negative entangles the classes, as the paper's -100 does), and the
        annealing T = 1 / (eta + epoch) ** gamma; None: the paper's 100, 1, 0.55.
    aux_weight, negatives, delta : AAN / AM (seed 004): weight of the auxiliary
        loss, texts sampled per anchor, AM's margin; None: 1, 4, 0.4.
    lam : CLLD (seed 003): lam * BCE + (1 - lam) * contrastive; None: 0.5.
    ldm : {"static", "adaptive"}
        CLLD's label-distance matrix. ``static``: ones, and tau at the
        ``confusable`` label pairs most confused, on dev, by a one-vs-rest
        logistic regression fitted on the labeled pretrained embeddings.
        ``adaptive``: seed 003 Alg. 1 on dev: from epoch > epochs / 5, after
        every epoch, LDM moves towards the head's own dev confusion counts
        with epsilon = 1 - epoch / epochs.
    confusable : int
        Static LDM: how many label pairs get distance ``tau`` (0: all ones).
    tau : float
        Static LDM's distance of a confusable pair (seed 003: 5).
    """

    input = "embeddings"
    scope = "head"

    def __init__(
        self, objective: str = "cea", *, dim: int = 128, hidden: int = 256, epochs: int = 10, batch_size: int = 64,
        learning_rate: float = 1e-3, dropout: float | None = None, positive: str = "shares",
        alpha: float | None = None, eta: float | None = None, gamma: float | None = None,
        aux_weight: float | None = None, negatives: int | None = None, delta: float | None = None,
        lam: float | None = None, ldm: str = "static", confusable: int = 0, tau: float = CLLD_TAU,
    ) -> None:
        self.objective = objective
        self.dim = dim
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.dropout = dropout
        self.positive = positive
        self.alpha = alpha
        self.eta = eta
        self.gamma = gamma
        self.aux_weight = aux_weight
        self.negatives = negatives
        self.delta = delta
        self.lam = lam
        self.ldm = ldm
        self.confusable = confusable
        self.tau = tau

    @property
    def uses_dev(self) -> bool:
        """CLLD's label-distance matrix reads dev labels (adaptive, or static with confusable pairs)."""
        return self.objective == "clld" and (self.ldm == "adaptive" or self.confusable > 0)

    def check(self) -> None:
        """Refuse bad settings before any data loads."""
        check_space_settings(self, ("dim", "hidden", "epochs", "batch_size"))
        if self.ldm not in LDM_MODES:
            raise ConfigError(f"space {self.objective!r} ldm must be one of {', '.join(LDM_MODES)}, got "
                              f"{spelled(self.ldm)}{did_you_mean([str(self.ldm)], LDM_MODES)}; {FIX}")
        if self.dropout is not None and (isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float))
                                         or not 0 <= self.dropout < 1):
            raise ConfigError(f"space {self.objective!r} dropout must be a number in [0, 1), or null (YAML; or leave it "
                              f"out) for the objective's own, got {spelled(self.dropout)}")
        if self.objective == "clld" and self.dropout == 0:
            raise ConfigError("clld contrasts two dropout views of each text; give dropout > 0 (or leave it None: 0.1)")

    def params(self) -> dict[str, Any]:
        given = {k: getattr(self, k) for k in ("alpha", "eta", "gamma", "aux_weight", "negatives", "delta", "lam")}
        return resolve_params(self.objective, given) if self.objective != "cea" else {}

    def fit(self, inputs: np.ndarray, Y: sp.csr_matrix, seed: int, dev_inputs: np.ndarray | None = None,
            Y_dev: sp.csr_matrix | None = None) -> "FittedHead":
        """Train on the labeled texts' embeddings ``inputs`` (n, d) and labels ``Y`` (n, n_labels).

        Deterministic for a seed: weights and dropout from ``torch.manual_seed(seed)``
        (the global torch state is restored after), pairs, batches and
        negatives from ``numpy.random.default_rng(seed)``, one CPU thread.
        """
        from al.device import seeded_torch, torch_threads

        self.check()
        X = np.ascontiguousarray(inputs, dtype=np.float32)
        Y_dense = (Y.toarray() if sp.issparse(Y) else np.asarray(Y)).astype(np.float32)
        if len(X) != len(Y_dense) or len(X) < 2:
            raise DataError(f"a space needs at least 2 labeled texts with one label row each, got {len(X)} "
                            f"texts and {len(Y_dense)} label rows")
        if self.uses_dev and (dev_inputs is None or Y_dev is None):
            raise ConfigError("clld's label-distance matrix reads the dev split (ldm=adaptive or confusable > 0), "
                              "but none was given; use ldm=static with confusable=0 or a corpus with a dev split")
        rng = np.random.default_rng(seed)
        with torch_threads(1), seeded_torch(seed):
            dropout = self.dropout if self.dropout is not None else (0.1 if self.objective == "clld" else 0.0)
            net = _Network(X.shape[1], self.hidden, self.dim, Y_dense.shape[1], dropout)
            ldm, pairs = self._static_ldm(X, Y_dense, dev_inputs, Y_dev, seed)
            losses = self._train(net, X, Y_dense, rng, ldm, dev_inputs, Y_dev)
        net.eval()
        facts: dict[str, Any] = {"epochs": self.epochs, "loss": round(losses[-1], 5),
                                 "loss_first_epoch": round(losses[0], 5)}
        if pairs is not None:  # found on dev at each fit: which pairs got tau, by label index in the run's order
            facts["confusable_pairs"] = [[int(a), int(b)] for a, b in pairs]
        fitted = FittedHead(net, self.objective, facts)
        check_fit(self.objective, "head", losses, self.learning_rate, fitted.transform(X))
        return fitted

    # ------------------------------------------------------------ training

    def _train(self, net: "_Network", X: np.ndarray, Y: np.ndarray, rng: np.random.Generator,
               ldm: np.ndarray | None, dev_inputs: np.ndarray | None, Y_dev: sp.csr_matrix | None) -> list[float]:
        import torch

        from al.spaces.objectives import adaptive_label_distance, multilabel_confusion, sample_cea_pairs

        optimiser = Adam(net.parameters(), lr=self.learning_rate)
        X_t, Y_t = torch.from_numpy(X), torch.from_numpy(Y)
        params = self.params()
        epoch_losses: list[float] = []
        for epoch in range(self.epochs):
            net.train()
            total, count = 0.0, 0
            if self.objective == "cea":
                anchors, partners, targets = sample_cea_pairs(Y, rng, positive=self.positive)
                target_t = torch.from_numpy(np.asarray(targets, dtype=np.float32))
                for rows in minibatches(len(anchors), self.batch_size, rng):
                    both = net(X_t[np.concatenate([anchors[rows], partners[rows]])])[0][-1]  # one pass, tied weights
                    loss = pair_loss(both[: len(rows)], both[len(rows) :], target_t[rows])
                    total, count = self._step(optimiser, loss, total, count, len(rows))
            else:
                for rows in minibatches(len(X), self.batch_size, rng):
                    if len(rows) < 2:
                        continue  # a lone text has no pair to contrast with
                    hidden, logits = net(X_t[rows])
                    second = net(X_t[rows])[0][-1] if self.objective == "clld" else None
                    batch = Batch(hidden, logits, Y_t[rows], second)
                    loss = batch_loss(self.objective, batch, epoch, rng, params, self.positive, ldm)
                    total, count = self._step(optimiser, loss, total, count, len(rows))
            epoch_losses.append(total / max(count, 1))
            if self.objective == "clld" and self.ldm == "adaptive" and epoch + 1 > self.epochs / 5:
                net.eval()
                with torch.no_grad():
                    proba = torch.sigmoid(net(torch.from_numpy(np.asarray(dev_inputs, dtype=np.float32)))[1])
                confusion = multilabel_confusion(_dense(Y_dev), (proba.numpy() >= 0.5).astype(np.int8))
                ldm = adaptive_label_distance(ldm, confusion, epoch + 1, self.epochs)
        return epoch_losses

    @staticmethod
    def _step(optimiser: Any, loss: Any, total: float, count: int, size: int) -> tuple[float, int]:
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        return total + float(loss.detach()) * size, count + size

    def _static_ldm(self, X: np.ndarray, Y: np.ndarray, dev_inputs: Any, Y_dev: Any, seed: int
                    ) -> tuple[np.ndarray | None, list[tuple[int, int]] | None]:
        """CLLD's starting label-distance matrix (see the class docstring) and the confusable label pairs it puts
        tau on (None unless ``confusable`` > 0); (None, None) for other objectives."""
        if self.objective != "clld":
            return None, None
        from al.spaces.objectives import confusable_pairs, multilabel_confusion, static_label_distance

        n_labels = Y.shape[1]
        if self.confusable <= 0:
            return static_label_distance(n_labels), None
        from al.classifiers.linear import LogisticRegressionClassifier

        probe = LogisticRegressionClassifier(seed=seed).fit(X, sp.csr_matrix(Y))
        confusion = multilabel_confusion(_dense(Y_dev), probe.predict(np.asarray(dev_inputs, dtype=np.float32)))
        pairs = confusable_pairs(confusion, self.confusable)
        return static_label_distance(n_labels, pairs, tau=self.tau), pairs


def _dense(Y: Any) -> np.ndarray:
    return Y.toarray() if sp.issparse(Y) else np.asarray(Y)


class _Network:
    """``x -> GELU(W1 dropout(x)) -> W2 dropout(.) = z``, and logits ``W3 z``; built lazily on torch."""

    def __new__(cls, d_in: int, hidden: int, dim: int, n_labels: int, dropout: float) -> Any:
        import torch
        from torch import nn

        class Network(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.first = nn.Linear(d_in, hidden)
                self.second = nn.Linear(hidden, dim)
                self.output = nn.Linear(dim, n_labels)
                self.drop = nn.Dropout(dropout)

            def forward(self, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
                if dropout > 0:
                    x = self.drop(x)
                h = nn.functional.gelu(self.first(x))
                z = self.second(self.drop(h) if dropout > 0 else h)
                return [h, z], self.output(z)

        return Network()


@dataclass
class FittedHead:
    """A trained projection: :meth:`transform` maps pretrained embeddings to the adapted space."""

    network: Any
    objective: str
    facts: dict[str, Any]

    def transform(self, inputs: np.ndarray, batch_size: int = 8192) -> np.ndarray:
        """Adapted vectors of ``inputs`` (n, d): ndarray (n, dim), float32, unit L2 norm."""
        import torch

        from al.device import torch_threads

        X = np.asarray(inputs, dtype=np.float32)
        out = np.empty((len(X), self.network.second.out_features), dtype=np.float32)
        with torch_threads(1), torch.no_grad():
            for start in range(0, len(X), batch_size):
                z = self.network(torch.from_numpy(X[start : start + batch_size]))[0][-1]
                out[start : start + batch_size] = torch.nn.functional.normalize(z, dim=1).numpy()
        return out

    def info(self) -> dict[str, Any]:
        return dict(self.facts)
