"""One training step's loss for each objective, shared by the head and the encoder scopes.

A network gives, for a batch of texts, its hidden layers (the last one is the
space), and logits of a linear multi-label output layer. The papers train
single-label softmax classifiers beside their objectives; multi-label texts
need per-label sigmoids, so binary cross-entropy (mean over texts and labels)
takes the place of their cross-entropy everywhere.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from al.checks import FIX
from al.errors import ConfigError, did_you_mean, spelled

#: Default weights of each objective, from its paper.
DEFAULTS: dict[str, dict[str, Any]] = {
    "cea": {},
    "snnl": {"alpha": 100.0, "eta": 1.0, "gamma": 0.55},  # seed 002 eq. 7, l.380, l.477
    "aan": {"aux_weight": 1.0, "negatives": 4},  # seed 004 l.380-382
    "am": {"aux_weight": 1.0, "negatives": 4, "delta": 0.4},  # seed 004 §4
    "clld": {"lam": 0.5},  # seed 003
}
#: CLLD's distance of a confusable label pair by default (seed 003).
CLLD_TAU = 5.0


@dataclass(frozen=True)
class Batch:
    """One batch's network outputs.

    Attributes
    ----------
    hidden : list of Tensor (b, h_l)
        Every hidden layer, the space (last) included.
    logits : Tensor (b, n_labels)
    Y : Tensor (b, n_labels), float 0/1
    second_view : Tensor (b, dim) or None
        The space of a second pass with other dropout noise (CLLD).
    """

    hidden: list[Any]
    logits: Any
    Y: Any
    second_view: Any = None


#: Parameters that belong to one objective (the others leave them at None).
OBJECTIVE_PARAMS: dict[str, tuple[str, ...]] = {
    "cea": (),
    "snnl": ("alpha", "eta", "gamma"),
    "aan": ("aux_weight", "negatives"),
    "am": ("aux_weight", "negatives", "delta"),
    "clld": ("lam", "ldm", "confusable", "tau"),
}
_ALL_OBJECTIVE_PARAMS = frozenset(k for keys in OBJECTIVE_PARAMS.values() for k in keys)


def recorded_params(objective: str, params: dict[str, Any]) -> dict[str, Any]:
    """A space's resolved params as a run records them: other objectives' params dropped, paper defaults filled."""
    own = set(OBJECTIVE_PARAMS.get(objective, ()))
    out = {k: v for k, v in params.items() if k not in _ALL_OBJECTIVE_PARAMS or k in own}
    for key, value in DEFAULTS.get(objective, {}).items():
        if out.get(key) is None:
            out[key] = value
    return dict(sorted(out.items()))


def check_objective_params(objective: str, given: dict[str, Any]) -> None:
    """Refuse a parameter of another objective (``alpha`` for ``cea``) with the ones this one takes."""
    from al.errors import ConfigError

    foreign = sorted(k for k, v in given.items()
                     if k in _ALL_OBJECTIVE_PARAMS and k not in OBJECTIVE_PARAMS.get(objective, ()) and v is not None)
    if foreign:
        own = ", ".join(OBJECTIVE_PARAMS.get(objective, ())) or "none of its own"
        raise ConfigError(f"space {objective!r} does not use {', '.join(foreign)}; its objective's parameters: {own}")


def check_space_settings(space: Any, positive_ints: tuple[str, ...]) -> None:
    """What every scope checks before data loads: a known objective and convention, positive integer sizes."""
    from al import checks
    from al.errors import ConfigError
    from al.spaces import OBJECTIVES, check_space_name
    from al.spaces.objectives import POSITIVE

    check_space_name(space.objective)
    if space.objective not in OBJECTIVES:
        raise ConfigError(f"space objective must be one of {', '.join(OBJECTIVES)}, got {spelled(space.objective)}")
    owner = f"space {space.objective!r}"
    if space.positive not in POSITIVE:
        raise ConfigError(f"{owner} positive must be one of {', '.join(POSITIVE)}, got {spelled(space.positive)}"
                          f"{did_you_mean([str(space.positive)], POSITIVE)}; {FIX}")
    for name in positive_ints:  # CEA's batches are of pairs; the others' losses compare the texts of a batch
        of_texts = name == "batch_size" and space.objective != "cea"
        checks.integer(owner, name, getattr(space, name), at_least=2 if of_texts else 1,
                       why="its loss compares the texts of a batch" if of_texts else "")
    checks.number(owner, "learning_rate", space.learning_rate, 0.0, low_open=True)
    check_objective_values(space)


def check_objective_values(space: Any) -> None:
    """Refuse an objective's weight that is not a number in its range (``alpha=abc``, ``lam=2``, AM's
    ``negatives=1``), and CLLD's ``tau`` where no label pair reads it, before any data loads."""
    from al import checks

    owner = f"space {space.objective!r}"
    given = {k: getattr(space, k, None) for k in _ALL_OBJECTIVE_PARAMS if k not in ("ldm", "confusable", "tau")}
    for name, value in (resolve_params(space.objective, given) if space.objective != "cea" else {}).items():
        if name == "negatives":  # AM draws one positive, then negatives
            checks.integer(owner, name, value, at_least=2 if space.objective == "am" else 1)
        elif name == "lam":
            checks.number(owner, name, value, 0.0, 1.0)
        elif name == "alpha":  # seed 002: 100 disentangles the classes, -100 entangles them (l.477-478)
            checks.number(owner, name, value, -math.inf, low_open=True)
        elif name == "eta":  # T = 1 / (eta + epoch) ** gamma from epoch 0
            checks.number(owner, name, value, 0.0, low_open=True)
        else:  # gamma, aux_weight, delta
            checks.number(owner, name, value, 0.0)
    if space.objective == "clld" and hasattr(space, "confusable"):
        checks.integer(owner, "confusable", space.confusable, at_least=0)
        checks.number(owner, "tau", space.tau, 0.0, low_open=True)
        if space.confusable == 0 and space.tau != CLLD_TAU:
            raise ConfigError(f"{owner} tau={space.tau!r} is read by nothing: the label distance starts with tau on "
                              f"the confusable label pairs, and confusable is 0; give confusable=N (pairs), or "
                              f"leave tau out")



def batch_loss(objective: str, batch: Batch, epoch: int, rng: np.random.Generator, params: dict[str, Any],
               positive: str = "shares", ldm: np.ndarray | None = None) -> Any:
    """The objective's loss on one batch (everything but CEA, which trains on pairs: :func:`pair_loss`).

    Parameters
    ----------
    objective : "snnl", "aan", "am" or "clld"
    epoch : int, from 0 (SNNL's temperature T = 1 / (eta + epoch) ** gamma)
    rng : the run's generator (AAN / AM negatives)
    params : the objective's weights (:data:`DEFAULTS` completed by the caller)
    ldm : ndarray (n_labels, n_labels), CLLD's label-distance matrix
    """
    import torch
    import torch.nn.functional as F

    from al.spaces import objectives as obj

    task = F.binary_cross_entropy_with_logits(batch.logits, batch.Y)
    z = batch.hidden[-1]
    if objective == "snnl":
        T = obj.annealed_temperature(epoch, params["eta"], params["gamma"])
        aux = sum(obj.soft_nearest_neighbour_loss(h, batch.Y, T, positive=positive) for h in batch.hidden)
        return task + params["alpha"] * aux
    if objective in ("aan", "am"):
        margin = objective == "am"
        pos, neg = obj.sample_negative_supervision(batch.Y.detach().cpu().numpy(), rng, n=params["negatives"],
                                                   margin=margin, positive=positive)
        neg_t = torch.as_tensor(neg, device=z.device)
        mask = neg_t >= 0
        negatives = z[neg_t.clamp(min=0)]
        if margin:
            pos_t = torch.as_tensor(pos, device=z.device)
            aux = obj.margin_loss(z, z[pos_t.clamp(min=0)], negatives, mask, delta=params["delta"],
                                  positive_mask=pos_t >= 0)
        else:
            aux = obj.negative_supervision_loss(z, negatives, mask)
        return task + params["aux_weight"] * aux
    if objective == "clld":
        if batch.second_view is None:
            raise ValueError("clld needs a second dropout view of the batch")
        both = torch.cat([z, batch.second_view], dim=0)
        n_labels = batch.Y.shape[1]
        matrix = torch.as_tensor(np.ones((n_labels, n_labels)) if ldm is None else ldm, dtype=z.dtype,
                                 device=z.device)
        return obj.clld_loss(batch.logits, batch.Y, both, matrix, lam=params["lam"], positive=positive)
    raise ConfigError(f"objective {objective!r} trains on batches of texts; known: snnl, aan, am, clld")


def pair_loss(u: Any, v: Any, target: Any) -> Any:
    """CEA (seed 000): mean squared error between cos(u_i, v_i) and the pair's target (1 or 0)."""
    from al.spaces import objectives as obj

    return obj.cea_loss(u, v, target)


def resolve_params(objective: str, given: dict[str, Any]) -> dict[str, Any]:
    """The objective's paper defaults with ``given`` (not None) laid over them."""
    out = dict(DEFAULTS[objective])
    out.update({k: v for k, v in given.items() if v is not None and k in out})
    return out


def minibatches(n: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """A random partition of range(n) into batches of ``batch_size`` (the last one shorter)."""
    order = rng.permutation(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


Progress = Callable[[int], None]


def check_fit(objective: str, scope: str, losses: list[float], learning_rate: float, mapped: np.ndarray) -> None:
    """Refuse a fit that diverged: a loss or a mapped vector not finite (the space would be noise, its picks
    index order, and its loss a NaN in the records). A loss that rises over the epochs is no sign of it here:
    CLLD's adaptive label distances change between epochs, and its loss with them.

    ``losses``: the mean training loss of each epoch; ``mapped``: the fitted space's vectors of its own
    training texts (n, dim).
    """
    where = f"space {objective!r} ({scope} scope)"
    bad = next((epoch for epoch, loss in enumerate(losses, 1) if not np.isfinite(loss)), None)
    if bad is not None or not np.isfinite(mapped).all():
        what = (f"its training loss became {losses[bad - 1]} in epoch {bad}" if bad is not None
                else "its vectors are not finite")
        raise ConfigError(f"{where} diverged: {what}; lower its learning_rate (given {learning_rate:g}), e.g. "
                          f"--space-param learning_rate={learning_rate / 10:g}")
