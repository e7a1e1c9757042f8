"""Objectives that make an embedding space task-specific, as pure torch functions.

Four papers give the objectives (their texts are ``../shared/seeds/00N``, line
numbers below refer to them; the spec is ``../shared/ALGORITHMS.md``, section
"Making embeddings task-specific"):

========  ==========================================================  =====================================
name      what                                                        functions
========  ==========================================================  =====================================
CEA       pairs pulled to cosine 1 (same class) or 0 (other class)    :func:`sample_cea_pairs`, :func:`cea_loss`
SNNL      soft nearest neighbour loss, annealed temperature           :func:`soft_nearest_neighbour_loss`,
                                                                      :func:`annealed_temperature`
AAN / AM  negative supervision: all-negative, or margin               :func:`sample_negative_supervision`,
                                                                      :func:`negative_supervision_loss`,
                                                                      :func:`margin_loss`
CLLD      contrastive learning with a label-distance matrix           :func:`clld_loss`, :func:`clld_contrastive_loss`,
                                                                      :func:`pair_label_distance`, the LDM helpers
========  ==========================================================  =====================================

**Multi-label convention.** None of the papers defines the multi-label case
(seed 000 calls it future work, l.881). Here two texts are *positive* for each
other when they share at least one label (``positive="shares"``); texts with no
label form their own "empty" class and are positive to each other; every other
pair is *negative*; a text is never its own pair. ``positive="exact"`` (identical
label sets) is the literal reading of the papers' ``y_i = y_j``.

Every function is pure: no module state, and randomness only from a
``numpy.random.Generator`` argument. This module imports torch; its users import
it lazily so that ``import al`` stays light.

References
----------
.. [CEA] Halder et al., "Task-Specific Embeddings for Ante-Hoc Explainable Text
   Classification" (seed 000).
.. [SNNL] Agarap, "Text Classification and Clustering with Annealing Soft Nearest
   Neighbor Loss" (seed 002); Frosst, Papernot and Hinton, "Analyzing and Improving
   Representations with the Soft Nearest Neighbor Loss", ICML 2019.
.. [CLLD] "Contrastive Learning with Label Distance for Text Classification" (seed 003).
.. [NS] Ohashi et al., "Text Classification with Negative Supervision", ACL 2020 (seed 004).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from al.errors import ConfigError, spelled

__all__ = [
    "POSITIVE",
    "adaptive_label_distance",
    "annealed_temperature",
    "cea_loss",
    "clld_contrastive_loss",
    "clld_loss",
    "confusable_pairs",
    "cosine_matrix",
    "margin_loss",
    "multilabel_confusion",
    "negative_supervision_loss",
    "pair_label_distance",
    "positive_mask",
    "sample_cea_pairs",
    "sample_negative_supervision",
    "soft_nearest_neighbour_loss",
    "static_label_distance",
]

POSITIVE = ("shares", "exact")  # the multi-label conventions
EPS = 1e-8  # smallest norm a vector is divided by (seed 003 eq. 4 uses the same xi)


# ------------------------------------------------------------------ labels


def _dense_labels(Y: Any, name: str = "Y") -> np.ndarray:
    """``Y`` (ndarray, scipy sparse or torch tensor) as a dense bool ndarray of shape (n, L)."""
    if isinstance(Y, torch.Tensor):
        dense = Y.detach().cpu().numpy()
    elif sp.issparse(Y):
        dense = Y.toarray()
    else:
        dense = np.asarray(Y)
    if dense.ndim != 2:
        raise ConfigError(f"{name} must be a label matrix of shape (n, n_labels), got shape {dense.shape}; "
                          f"pass one 0/1 row per text")
    return dense != 0


def _positive_mask_numpy(Y: np.ndarray, positive: str) -> np.ndarray:
    """:func:`positive_mask` on a dense bool ndarray, as an ndarray."""
    if positive not in POSITIVE:
        raise ConfigError(f"positive must be one of {', '.join(POSITIVE)}, got {spelled(positive)}")
    if positive == "shares":
        counts = Y.astype(np.float32)  # float: BLAS; the products are small exact integers
        empty = ~Y.any(axis=1)
        mask = (counts @ counts.T > 0.5) | (empty[:, None] & empty[None, :])
    else:
        mask = (Y[:, None, :] == Y[None, :, :]).all(axis=2)
    np.fill_diagonal(mask, False)
    return mask


def positive_mask(Y: Any, positive: str = "shares") -> torch.Tensor:
    """Which pairs of texts are positives for each other.

    Parameters
    ----------
    Y : ndarray, sparse matrix or tensor of shape (n, n_labels), 0/1
    positive : {"shares", "exact"}
        ``"shares"``: ``i`` and ``j`` share at least one label; rows with no
        label form their own "empty" class (positive to each other).
        ``"exact"``: identical label sets (the papers' literal ``y_i = y_j``).

    Returns
    -------
    BoolTensor of shape (n, n)
        True where ``i`` and ``j`` are positives; the diagonal is always False.
        On ``Y``'s device when ``Y`` is a tensor, else on the cpu.

    Raises
    ------
    ConfigError
        If ``positive`` is not one of :data:`POSITIVE`.
    """
    mask = torch.from_numpy(_positive_mask_numpy(_dense_labels(Y), positive))
    return mask.to(Y.device) if isinstance(Y, torch.Tensor) else mask


# ------------------------------------------------------------------ cosine


def _unit_rows(x: torch.Tensor) -> torch.Tensor:
    """Rows divided by ``max(norm, EPS)``: a zero row stays zero (cosine 0 with anything)."""
    return F.normalize(x, p=2.0, dim=-1, eps=EPS)


def cosine_matrix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Cosine similarity of every row of ``a`` with every row of ``b``.

    Parameters
    ----------
    a : Tensor of shape (n, d)
    b : Tensor of shape (m, d)

    Returns
    -------
    Tensor of shape (n, m)
        ``a_i . b_j / (max(|a_i|, eps) max(|b_j|, eps))``: 0 for a zero row, and a
        finite gradient there.
    """
    return _unit_rows(a) @ _unit_rows(b).T


def _no_loss(*tensors: torch.Tensor) -> torch.Tensor:
    """A zero that still has a ``grad_fn`` (so ``backward`` works on a batch without pairs)."""
    return sum(0.0 * t.sum() for t in tensors)


# ------------------------------------------------------------------ CEA (seed 000)


def cea_loss(u: torch.Tensor, v: torch.Tensor, target: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Class-driven embedding alignment: mean squared error of the pairs' cosine against the targets.

    ``mean_i (cos(u_i, v_i) - target_i)^2``. Positive pairs have target 1 and
    negative pairs target 0, so negatives are pushed to orthogonal, not opposite
    (cosine 0, not -1).

    Parameters
    ----------
    u, v : Tensor of shape (p, d)
        The two texts of each pair (the Siamese towers share their weights).
    target : Tensor or ndarray of shape (p,)
        1.0 for a positive pair, 0.0 for a negative one (:func:`sample_cea_pairs`).

    Returns
    -------
    Tensor, scalar

    References
    ----------
    [CEA]_ sec. 2.2, eq. 2 (l.252-258).
    """
    target = torch.as_tensor(target, dtype=u.dtype, device=u.device)
    if u.shape != v.shape or u.ndim != 2 or target.shape != (u.shape[0],):
        raise ConfigError(f"cea_loss expects u, v of one shape (p, d) and target of shape (p,); got "
                          f"{tuple(u.shape)}, {tuple(v.shape)}, {tuple(target.shape)}")
    if u.shape[0] == 0:
        return _no_loss(u, v)
    cos = (_unit_rows(u) * _unit_rows(v)).sum(dim=1)
    return ((cos - target) ** 2).mean()


def sample_cea_pairs(
    Y: Any, rng: np.random.Generator, positive: str = "shares"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One epoch of CEA training pairs: a positive and a negative partner for every text.

    For each text ``i`` in order 0..n-1: one positive partner drawn uniformly from
    its positives (target 1.0), then one negative partner drawn uniformly from its
    negatives (target 0.0). A text is never its own partner: the paper's Algorithm
    1 draws from a set that includes the text (l.189), its prose says "all other
    documents" (l.210); we follow the prose. A text with no positive keeps only
    its negative pair; a text with no negative keeps only its positive pair.
    Calling it again with the advanced generator gives the next epoch's pairs.

    Parameters
    ----------
    Y : ndarray or sparse matrix of shape (n, n_labels), 0/1
    rng : numpy.random.Generator
        The only source of randomness.
    positive : {"shares", "exact"}
        The multi-label convention (:func:`positive_mask`).

    Returns
    -------
    anchors : ndarray of shape (p,), int64
    partners : ndarray of shape (p,), int64
    targets : ndarray of shape (p,), float32
        ``p <= 2n``; pairs ordered by anchor, the positive before the negative.

    References
    ----------
    [CEA]_ sec. 2.1, Algorithm 1 (l.180-192) and its prose (l.197-217).
    """
    positives = _positive_mask_numpy(_dense_labels(Y), positive)
    negatives = ~positives
    np.fill_diagonal(negatives, False)
    n = len(positives)
    uniforms = rng.random((n, 2))  # per text: which positive, which negative
    chosen = []
    for column, (mask, target) in enumerate(((positives, 1.0), (negatives, 0.0))):
        counts = mask.sum(axis=1)
        k = np.minimum((uniforms[:, column] * counts).astype(np.int64), np.maximum(counts - 1, 0))
        partner = (np.cumsum(mask, axis=1, dtype=np.int32) > k[:, None]).argmax(axis=1)  # k-th candidate per row
        chosen.append((np.flatnonzero(counts > 0), partner, target))
    anchors = np.concatenate([rows for rows, _, _ in chosen])
    partners = np.concatenate([partner[rows] for rows, partner, _ in chosen])
    targets = np.concatenate([np.full(len(rows), target, dtype=np.float32) for rows, _, target in chosen])
    order = np.lexsort((1.0 - targets, anchors))  # by anchor, the positive before the negative
    return anchors[order].astype(np.int64), partners[order].astype(np.int64), targets[order]


# ------------------------------------------------------------------ SNNL (seed 002)


def annealed_temperature(epoch: int, eta: float = 1.0, gamma: float = 0.55) -> float:
    """The annealed SNNL temperature ``T = 1 / (eta + epoch) ** gamma``.

    Parameters
    ----------
    epoch : int
        Epoch index starting at 0, so the first epoch has ``T = 1`` (with ``eta = 1``).
    eta, gamma : float
        The paper's values are 1 and 0.55.

    Returns
    -------
    float

    References
    ----------
    [SNNL]_ eq. 6 (l.370-382).
    """
    if epoch < 0 or eta + epoch <= 0:
        raise ConfigError(f"annealed_temperature needs epoch >= 0 and eta + epoch > 0; got epoch={epoch}, "
                          f"eta={eta}; epochs count from 0")
    return float(1.0 / (eta + epoch) ** gamma)


def soft_nearest_neighbour_loss(
    z: torch.Tensor, Y: Any, temperature: float, positive: str = "shares"
) -> torch.Tensor:
    """Soft nearest neighbour loss of a batch, with cosine distance.

    ``l = -1/b' sum_i log( sum_{j != i, j positive} exp(-d_ij / T) / sum_{k != i} exp(-d_ik / T) )``
    with ``d = 1 - cos``. An anchor without a positive in the batch is left out
    of the mean (``b'`` counts anchors with a positive) but stays in the other
    rows' denominators. Computed with ``logsumexp``, so no ``log 0``. Low values
    mean classes are disentangled.

    Parameters
    ----------
    z : Tensor of shape (b, d)
        The batch's representations.
    Y : ndarray, sparse matrix or tensor of shape (b, n_labels), 0/1
    temperature : float
        ``T > 0``; see :func:`annealed_temperature`.
    positive : {"shares", "exact"}
        The multi-label convention (:func:`positive_mask`).

    Returns
    -------
    Tensor, scalar
        ``0 * z.sum()`` (zero, with a ``grad_fn``) if no anchor has a positive.

    References
    ----------
    [SNNL]_ eq. 4-5 (l.300-368), after Frosst et al. (2019).
    """
    if not temperature > 0:
        raise ConfigError(f"temperature must be positive, got {spelled(temperature)}")
    mask = positive_mask(Y, positive).to(z.device)
    if mask.shape[0] != z.shape[0]:
        raise ConfigError(f"z has {z.shape[0]} rows but Y has {mask.shape[0]}; they must match")
    anchors = mask.any(dim=1)
    if not bool(anchors.any()):
        return _no_loss(z)
    logits = (cosine_matrix(z, z) - 1.0) / temperature  # -d_ij / T
    logits = logits[anchors]
    self_mask = torch.eye(len(z), dtype=torch.bool, device=z.device)[anchors]
    minus_inf = torch.finfo(logits.dtype).min
    log_den = torch.logsumexp(logits.masked_fill(self_mask, minus_inf), dim=1)
    log_num = torch.logsumexp(logits.masked_fill(~mask[anchors], minus_inf), dim=1)
    return (log_den - log_num).mean()


# ------------------------------------------------------------------ AAN / AM (seed 004)


def _valid_mean(values: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Row means of ``values`` (m, n) over the ``valid`` entries, and which rows have any."""
    counts = valid.sum(dim=1)
    sums = torch.where(valid, values, torch.zeros_like(values)).sum(dim=1)
    return sums / counts.clamp(min=1), counts > 0


def _check_negatives(anchor: torch.Tensor, negatives: torch.Tensor, negative_mask: torch.Tensor) -> torch.Tensor:
    negative_mask = torch.as_tensor(negative_mask, dtype=torch.bool, device=anchor.device)
    m, d = anchor.shape
    if negatives.ndim != 3 or negatives.shape[0] != m or negatives.shape[2] != d \
            or negative_mask.shape != negatives.shape[:2]:
        raise ConfigError(f"expected anchor (m, d), negatives (m, n, d), negative_mask (m, n); got "
                          f"{tuple(anchor.shape)}, {tuple(negatives.shape)}, {tuple(negative_mask.shape)}")
    return negative_mask


def _cosine_to_negatives(anchor: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
    """(m, n) cosine of each anchor with each of its negatives."""
    return torch.einsum("md,mnd->mn", _unit_rows(anchor), _unit_rows(negatives))


def negative_supervision_loss(
    anchor: torch.Tensor, negatives: torch.Tensor, negative_mask: torch.Tensor | np.ndarray
) -> torch.Tensor:
    """AAN ("all negative"): pushes each text away from texts with other labels.

    ``La = mean over anchors with >= 1 negative of [mean over its valid negatives of (1 + cos)]``.
    The total loss is the task loss plus ``La`` (weight 1, seed 004 l.140).

    Parameters
    ----------
    anchor : Tensor of shape (m, d)
    negatives : Tensor of shape (m, n, d)
        The sampled negatives of each anchor (:func:`sample_negative_supervision`).
    negative_mask : BoolTensor or ndarray of shape (m, n)
        False marks padding where fewer than ``n`` negatives existed.

    Returns
    -------
    Tensor, scalar
        A zero with a ``grad_fn`` if no anchor has a negative.

    References
    ----------
    [NS]_ sec. 2.2 (l.162-185).
    """
    valid = _check_negatives(anchor, negatives, negative_mask)
    per_anchor, has = _valid_mean(1.0 + _cosine_to_negatives(anchor, negatives), valid)
    if not bool(has.any()):
        return _no_loss(anchor, negatives)
    return per_anchor[has].mean()


def margin_loss(
    anchor: torch.Tensor,
    positive: torch.Tensor,
    negatives: torch.Tensor,
    negative_mask: torch.Tensor | np.ndarray,
    delta: float = 0.4,
    *,
    positive_mask: torch.Tensor | np.ndarray | None = None,
) -> torch.Tensor:
    """AM (margin): a text nearer its positive than, on average, its negatives, by ``delta``.

    Per anchor ``max(0, delta - s(anchor, pos) + mean over valid negatives of s(anchor, neg))``
    with ``s`` the cosine similarity; the mean over anchors that have a positive
    and at least one negative (the others are skipped).

    Parameters
    ----------
    anchor : Tensor of shape (m, d)
    positive : Tensor of shape (m, d)
        A positive row for every anchor (any row where ``positive_mask`` is False).
    negatives : Tensor of shape (m, n, d)
    negative_mask : BoolTensor or ndarray of shape (m, n)
        False marks padding.
    delta : float
        The margin, 0.4 in the paper.
    positive_mask : BoolTensor or ndarray of shape (m,), optional
        Which anchors have a positive; default all.

    Returns
    -------
    Tensor, scalar
        A zero with a ``grad_fn`` if no anchor has both.

    References
    ----------
    [NS]_ sec. 3.3 (l.355-375).
    """
    valid = _check_negatives(anchor, negatives, negative_mask)
    if positive.shape != anchor.shape:
        raise ConfigError(f"positive must have the anchor's shape {tuple(anchor.shape)}, got {tuple(positive.shape)}")
    has_positive = (torch.ones(len(anchor), dtype=torch.bool, device=anchor.device) if positive_mask is None
                    else torch.as_tensor(positive_mask, dtype=torch.bool, device=anchor.device))
    if has_positive.shape != (len(anchor),):
        raise ConfigError(f"positive_mask must have shape ({len(anchor)},), got {tuple(has_positive.shape)}")
    s_pos = (_unit_rows(anchor) * _unit_rows(positive)).sum(dim=1)
    s_neg, has_negative = _valid_mean(_cosine_to_negatives(anchor, negatives), valid)
    keep = has_positive & has_negative
    if not bool(keep.any()):
        return _no_loss(anchor, positive, negatives)
    return torch.clamp(delta - s_pos + s_neg, min=0.0)[keep].mean()


def sample_negative_supervision(
    Y: Any, rng: np.random.Generator, n: int = 4, margin: bool = False, positive: str = "shares"
) -> tuple[np.ndarray, np.ndarray]:
    """For each text of a batch, the batch texts its auxiliary loss compares it with.

    For each anchor ``i`` in 0..m-1, in order: AAN (``margin=False``) draws ``n``
    negatives without replacement from the batch's negatives of ``i``; AM
    (``margin=True``) draws one positive, then ``n - 1`` negatives. Fewer exist:
    fewer are taken, and rows are padded with -1.

    Parameters
    ----------
    Y : ndarray, sparse matrix or tensor of shape (m, n_labels), 0/1
        The batch's labels.
    rng : numpy.random.Generator
    n : int
        Texts sampled per anchor; the paper's 4 (l.380-382).
    margin : bool
        AM instead of AAN.
    positive : {"shares", "exact"}
        The multi-label convention (:func:`positive_mask`).

    Returns
    -------
    positive_index : ndarray of shape (m,), int64
        Batch row of the positive, -1 where none (always -1 for AAN).
    negative_index : ndarray of shape (m, n) for AAN or (m, n - 1) for AM, int64
        Batch rows of the negatives, -1 padding at the end of a row.

    References
    ----------
    [NS]_ sec. 2.2 (l.164-170), sec. 3.3 (l.355-382).
    """
    least = 2 if margin else 1
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < least:
        raise ConfigError(f"n must be an integer >= {least} for {'AM' if margin else 'AAN'}, got {spelled(n)}")
    mask = _positive_mask_numpy(_dense_labels(Y), positive)
    m = len(mask)
    n_neg = n - 1 if margin else n
    positive_index = np.full(m, -1, dtype=np.int64)
    negative_index = np.full((m, n_neg), -1, dtype=np.int64)
    for i in range(m):
        if margin:
            pos = np.flatnonzero(mask[i])
            if len(pos):
                positive_index[i] = pos[rng.integers(len(pos))]
        neg = np.flatnonzero(~mask[i])
        neg = neg[neg != i]
        take = min(n_neg, len(neg))
        if take:
            negative_index[i, :take] = rng.choice(neg, size=take, replace=False)
    return positive_index, negative_index


# ------------------------------------------------------------------ CLLD (seed 003)


def static_label_distance(
    n_labels: int, confusable: Iterable[tuple[int, int]] = (), tau: float = 5.0
) -> np.ndarray:
    """The static label-distance matrix (LDM): ones, ``tau`` on the confusable label pairs.

    Parameters
    ----------
    n_labels : int
    confusable : iterable of (int, int)
        Unordered pairs of distinct label indices (e.g. from :func:`confusable_pairs`
        on a dev confusion matrix); each sets ``LDM[a, b] = LDM[b, a] = tau``.
    tau : float
        5.0 in the paper.

    Returns
    -------
    ndarray of shape (n_labels, n_labels), float64

    References
    ----------
    [CLLD]_ sec. III (l.355-362), IV-B (l.534), ablation (l.597-599).
    """
    if not isinstance(n_labels, (int, np.integer)) or n_labels < 1:
        raise ConfigError(f"n_labels must be a positive integer, got {spelled(n_labels)}")
    ldm = np.ones((n_labels, n_labels))
    for pair in confusable:
        a, b = (int(x) for x in pair)
        if a == b or not (0 <= a < n_labels and 0 <= b < n_labels):
            raise ConfigError(f"a confusable pair must be two distinct label indices in [0, {n_labels}), "
                              f"got {tuple(pair)}")
        ldm[a, b] = ldm[b, a] = tau
    return ldm


def confusable_pairs(confusion: np.ndarray, k: int) -> list[tuple[int, int]]:
    """The ``k`` most confused unordered label pairs of a confusion matrix.

    Pairs ``(a, b)``, ``a < b``, ranked by ``C[a, b] + C[b, a]`` (ties: lower
    indices first); pairs never confused are left out, so fewer than ``k`` may come.

    Parameters
    ----------
    confusion : ndarray of shape (n_labels, n_labels)
        E.g. :func:`multilabel_confusion` on dev predictions.
    k : int

    Returns
    -------
    list of (int, int)
    """
    C = np.asarray(confusion)
    if C.ndim != 2 or C.shape[0] != C.shape[1]:
        raise ConfigError(f"confusion must be a square matrix, got shape {C.shape}")
    if not isinstance(k, (int, np.integer)) or k < 0:
        raise ConfigError(f"k must be a non-negative integer, got {spelled(k)}")
    a, b = np.triu_indices(len(C), k=1)
    score = C[a, b] + C[b, a]
    order = np.lexsort((b, a, -score))  # by score descending, then a, then b
    return [(int(a[i]), int(b[i])) for i in order[:k] if score[i] > 0]


def multilabel_confusion(Y_true: Any, Y_pred: Any) -> np.ndarray:
    """A label-by-label confusion count for multi-label predictions.

    ``C[a, b]`` (``a != b``) counts texts that carry ``a``, were predicted ``b``
    and do not carry ``b``; ``C[a, a]`` counts true positives of ``a``. On one-hot
    rows with one prediction each this is the usual confusion matrix.

    Parameters
    ----------
    Y_true, Y_pred : ndarray or sparse matrix of shape (n, n_labels), 0/1

    Returns
    -------
    ndarray of shape (n_labels, n_labels), int64

    References
    ----------
    [CLLD]_ Algorithm 1, line 6-8 (l.374-400); the multi-label count is ours.
    """
    T = _dense_labels(Y_true, "Y_true").astype(np.int64)
    P = _dense_labels(Y_pred, "Y_pred").astype(np.int64)
    if T.shape != P.shape:
        raise ConfigError(f"Y_true and Y_pred must have one shape, got {T.shape} and {P.shape}")
    C = T.T @ (P * (1 - T))  # the diagonal is 0 here: a predicted label a text carries is no confusion
    C[np.diag_indices_from(C)] = (T * P).sum(axis=0)
    return C


def adaptive_label_distance(ldm: np.ndarray, confusion: np.ndarray, step: int, total: int) -> np.ndarray:
    """One update of the adaptive label-distance matrix.

    ``epsilon = 1 - step / total``; ``LDM <- (LDM' - LDM) * epsilon + LDM`` with
    ``LDM'`` the raw confusion counts (l.389): early updates move the matrix
    almost onto the counts, late ones barely move it.

    Parameters
    ----------
    ldm : ndarray of shape (n_labels, n_labels)
        The current matrix (not modified).
    confusion : ndarray of shape (n_labels, n_labels)
        Raw counts, e.g. :func:`multilabel_confusion` on the validation data.
    step, total : int
        Training steps done and planned, ``0 <= step <= total``, ``total > 0``.

    Returns
    -------
    ndarray of shape (n_labels, n_labels), float64

    References
    ----------
    [CLLD]_ Algorithm 1 (l.374-400).
    """
    ldm = np.asarray(ldm, dtype=np.float64)
    confusion = np.asarray(confusion, dtype=np.float64)
    if ldm.shape != confusion.shape or ldm.ndim != 2:
        raise ConfigError(f"ldm and confusion must be square matrices of one shape, got {ldm.shape} and "
                          f"{confusion.shape}")
    if not 0 < total or not 0 <= step <= total:
        raise ConfigError(f"need 0 <= step <= total and total > 0, got step={step}, total={total}")
    epsilon = 1.0 - step / total
    return (confusion - ldm) * epsilon + ldm


def pair_label_distance(Y: Any, ldm: Any) -> torch.Tensor:
    """The label-distance mask matrix (LDMM) of a batch, for multi-label rows.

    Entry ``(i, j)`` is the mean of ``ldm[a, b]`` over ``a`` in labels(i) and ``b``
    in labels(j), i.e. ``Y LDM Y^T`` divided by ``|labels(i)| |labels(j)|``: on
    one-hot rows this equals the paper's ``Y LDM Y^T`` (eq. 7). A row with no
    label has no label distance: its entries are 1.0 (neutral, the similarity
    is kept as it is).

    Parameters
    ----------
    Y : ndarray, sparse matrix or tensor of shape (m, n_labels), 0/1
    ldm : ndarray or tensor of shape (n_labels, n_labels)

    Returns
    -------
    Tensor of shape (m, m), float32
        On ``Y``'s device when ``Y`` is a tensor, else on the cpu.

    References
    ----------
    [CLLD]_ eq. 7 (l.324-344).
    """
    labels = _dense_labels(Y).astype(np.float64)
    ldm = (ldm.detach().cpu().numpy() if isinstance(ldm, torch.Tensor) else np.asarray(ldm)).astype(np.float64)
    if ldm.shape != (labels.shape[1], labels.shape[1]):
        raise ConfigError(f"ldm must have shape ({labels.shape[1]}, {labels.shape[1]}) for {labels.shape[1]} "
                          f"labels, got {ldm.shape}")
    counts = labels.sum(axis=1)
    weights = labels / np.where(counts > 0, counts, 1.0)[:, None]
    out = weights @ ldm @ weights.T
    empty = counts == 0
    out[empty, :] = 1.0
    out[:, empty] = 1.0
    out = torch.from_numpy(out.astype(np.float32))
    return out.to(Y.device) if isinstance(Y, torch.Tensor) else out


def clld_contrastive_loss(z: torch.Tensor, Y: Any, ldm: Any, positive: str = "shares") -> torch.Tensor:
    """CLLD's contrastive loss over the two dropout views of a batch.

    ``sim = (cos + 1) / 2`` between all 2M rows, multiplied elementwise by the
    LDMM of the 2M rows (:func:`pair_label_distance`), *then* the diagonal is
    masked out: it takes part neither in the softmax nor in the target. (The
    paper sets the diagonal to -1e6 before the multiplication, l.277; with an LDM
    diagonal entry of 0 that lets self-similarity back in as ``exp(0)``.) The
    positives of row ``i`` are its other view and every row of a positive text
    (:func:`positive_mask` over the 2M rows); ``z_i`` = the positives normalised
    to sum 1, ``q_i`` = softmax of row ``i`` over the 2M - 1 others, and the loss
    is ``1/(2M) sum_i KL(z_i || q_i)`` with ``0 log 0 = 0``. No temperature.

    Parameters
    ----------
    z : Tensor of shape (2M, d)
        The M texts' two views stacked: ``[view 1; view 2]``.
    Y : ndarray, sparse matrix or tensor of shape (M, n_labels), 0/1
    ldm : ndarray or tensor of shape (n_labels, n_labels)
        :func:`static_label_distance` or :func:`adaptive_label_distance`.
    positive : {"shares", "exact"}
        The multi-label convention (:func:`positive_mask`).

    Returns
    -------
    Tensor, scalar

    References
    ----------
    [CLLD]_ eq. 4-8 (l.236-350) and 11-13 (l.441-469).
    """
    labels = _dense_labels(Y)
    M = len(labels)
    if z.ndim != 2 or z.shape[0] != 2 * M:
        raise ConfigError(f"z must hold the two views of the {M} texts stacked, shape ({2 * M}, d); got "
                          f"{tuple(z.shape)}")
    if M == 0:
        return _no_loss(z)
    labels2 = np.concatenate([labels, labels])
    ldmm = pair_label_distance(labels2, ldm).to(device=z.device, dtype=z.dtype)
    sim = (cosine_matrix(z, z) + 1.0) / 2.0 * ldmm
    diagonal = torch.eye(2 * M, dtype=torch.bool, device=z.device)
    log_q = torch.log_softmax(sim.masked_fill(diagonal, float("-inf")), dim=1)
    views = torch.roll(diagonal, shifts=M, dims=1)  # (i, i + M) and (i + M, i)
    targets = (positive_mask(labels2, positive).to(z.device) | views).to(z.dtype)
    targets = targets / targets.sum(dim=1, keepdim=True)
    # KL(z || q) = sum_j z log z - z log q; entries with z = 0 (the diagonal among them) add nothing.
    cross = (targets * log_q.masked_fill(targets == 0, 0.0)).sum(dim=1)
    entropy = torch.xlogy(targets, targets).sum(dim=1)
    return (entropy - cross).mean()


def clld_loss(
    logits: torch.Tensor,
    Y: Any,
    z: torch.Tensor,
    ldm: Any,
    lam: float = 0.5,
    positive: str = "shares",
    *,
    pos_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """CLLD's total loss: ``lam * BCE + (1 - lam) * contrastive``.

    Multi-label: binary cross-entropy with logits replaces the paper's softmax
    cross-entropy (eq. 10). The classification term reads the first view's
    logits only (the second view feeds the contrastive term alone).

    Parameters
    ----------
    logits : Tensor of shape (M, n_labels) or (2M, n_labels)
        The first view's logits, or both views' stacked (then the first M rows are used).
    Y : ndarray, sparse matrix or tensor of shape (M, n_labels), 0/1
    z : Tensor of shape (2M, d)
        Both views' representations, stacked (:func:`clld_contrastive_loss`).
    ldm : ndarray or tensor of shape (n_labels, n_labels)
    lam : float
        Weight of the classification term, 0.5 in the paper (l.534).
    positive : {"shares", "exact"}
    pos_weight : Tensor of shape (n_labels,), optional
        Passed to ``binary_cross_entropy_with_logits``.

    Returns
    -------
    Tensor, scalar

    References
    ----------
    [CLLD]_ eq. 9-10 (l.405-430), IV-B (l.534).
    """
    labels = _dense_labels(Y)
    M = len(labels)
    if logits.ndim != 2 or logits.shape[0] not in (M, 2 * M) or logits.shape[1] != labels.shape[1]:
        raise ConfigError(f"logits must have shape ({M}, {labels.shape[1]}) or ({2 * M}, {labels.shape[1]}), "
                          f"got {tuple(logits.shape)}")
    if not 0 <= lam <= 1:
        raise ConfigError(f"lam must lie in [0, 1], got {spelled(lam)}")
    target = torch.from_numpy(labels.astype(np.float32)).to(device=logits.device, dtype=logits.dtype)
    bce = F.binary_cross_entropy_with_logits(logits[:M], target, pos_weight=pos_weight)
    return lam * bce + (1.0 - lam) * clld_contrastive_loss(z, labels, ldm, positive)
