"""How well an embedding space separates the labels: SNNL and clustering scores.

Multi-label rules, applied everywhere in this module:

* **Soft nearest neighbour loss**: two texts are of the *same class* when they
  share at least one label; texts with no label are one class of their own (as
  in the trained loss). An anchor with no other text of its class has no
  same-class neighbour (its term would be ``-log 0``) and is left out of the
  mean; :func:`embedding_quality` reports how many anchors were used.
* **Silhouette, Davies-Bouldin, Calinski-Harabasz, k-means agreement**: every
  text gets one *primary label*, the rarest of its labels in the set being
  scored (fewest texts; ties go to the lower label index). Rare labels would
  otherwise vanish under umbrella labels that sit on most texts. Texts without
  any label are left out.

Distances: cosine (``1 - cos``) for the loss and the silhouette; Davies-Bouldin
and Calinski-Harabasz are Euclidean by definition, which on unit-length
embeddings is a monotone function of the cosine distance
(``||a - b||^2 = 2 (1 - cos(a, b))``).

References
----------
Frosst, Papernot, Hinton, "Analyzing and Improving Representations with the
Soft Nearest Neighbor Loss", ICML 2019.
Agarap, Azcarraga, "Text Classification and Clustering with Annealing Soft
Nearest Neighbor Loss" (``../shared/seeds/002``), eq. 4-5 and sec. 3.4
(DBI, SIL, CHS, NMI, ARI, ACC).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp

from al.errors import ConfigError, DataError, spelled

#: Temperatures at which :func:`embedding_quality` reports the loss.
TEMPERATURES = (0.1, 0.5, 1.0, 10.0)
#: k-means restarts: enough for stable scores, few enough to run every round.
KMEANS_RESTARTS = 4


def dense_labels(Y: sp.spmatrix | np.ndarray) -> np.ndarray:
    """``Y`` as a dense boolean array of shape (n_samples, n_labels)."""
    Y = Y.toarray() if sp.issparse(Y) else np.asarray(Y)
    if Y.ndim != 2:
        raise DataError(f"label matrix must be 2-D (n_samples, n_labels), got shape {Y.shape}")
    return Y.astype(bool)


def unit_rows(X: np.ndarray) -> np.ndarray:
    """Rows of ``X`` scaled to unit L2 norm (all-zero rows stay zero), float64."""
    X = np.asarray(X, dtype=np.float64)
    norms = np.linalg.norm(X, axis=-1, keepdims=True)
    return X / np.where(norms > 0, norms, 1.0)


def cosine_distance_matrix(X: np.ndarray) -> np.ndarray:
    """Pairwise cosine distances ``1 - cos``, ndarray of shape (n, n), in [0, 2]."""
    U = unit_rows(X)
    return np.clip(1.0 - U @ U.T, 0.0, 2.0)


def soft_nearest_neighbour_loss(
    embeddings: np.ndarray, Y: sp.spmatrix | np.ndarray, temperature: float
) -> float:
    """Soft nearest neighbour loss of a labeled set, cosine distance.

    ``l = -1/b sum_i log( sum_{j != i, same(i, j)} exp(-d_ij / T) / sum_{k != i} exp(-d_ik / T) )``,
    where ``same(i, j)`` means texts i and j share at least one label, or both have none. Anchors
    without any same-class text are left out of the mean (``b`` counts the
    rest). Low = classes disentangled; as ``T`` grows the loss tends to
    :func:`snnl_uniform`, its value when distances carry no class information.

    Parameters
    ----------
    embeddings : ndarray of shape (n_samples, dim)
    Y : (sparse) matrix of shape (n_samples, n_labels), 0/1
    temperature : float, > 0

    Returns
    -------
    float, NaN when no anchor has a same-class text.

    References
    ----------
    Frosst et al. 2019; Agarap and Azcarraga (seed 002), eq. 4 and 5.
    """
    same, others = _pair_masks(embeddings, Y)
    return _snnl(cosine_distance_matrix(embeddings), same, others, temperature)


def _snnl(D: np.ndarray, same: np.ndarray, others: np.ndarray, temperature: float) -> float:
    if not temperature > 0:
        raise ConfigError(f"temperature must be positive, got {spelled(temperature)}")
    anchors = same.any(axis=1)
    if not anchors.any():
        return float("nan")
    logits = -D[anchors] / temperature
    numerator = _log_sum_exp(logits, same[anchors])
    denominator = _log_sum_exp(logits, others[anchors])
    return float(np.mean(denominator - numerator))


def _log_sum_exp(logits: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Row-wise ``log sum_{mask} exp(logits)``, shifted by the row maximum; every row has a masked entry."""
    top = np.where(mask, logits, -np.inf).max(axis=1, keepdims=True)
    shifted = np.where(mask, logits - top, -np.inf)
    return top[:, 0] + np.log(np.exp(shifted).sum(axis=1))


def snnl_uniform(Y: sp.spmatrix | np.ndarray) -> float:
    """The loss when all distances are equal (``T -> inf``): ``mean_i -log(same_i / (b - 1))``.

    A chance reference for :func:`soft_nearest_neighbour_loss`, over the same
    anchors (those with at least one same-class text). NaN when there is none.
    """
    return _snnl_uniform(_pair_masks(None, Y)[0])


def _snnl_uniform(same: np.ndarray) -> float:
    n_same = same.sum(axis=1)
    anchors = n_same > 0
    if not anchors.any():
        return float("nan")
    return float(np.mean(np.log((len(n_same) - 1) / n_same[anchors])))


def _pair_masks(embeddings: np.ndarray | None, Y: sp.spmatrix | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positives, not self), both boolean of shape (n, n).

    Positives share a label, and texts with no label are a class of their own
    (each other's positives), as in the trained loss
    (:func:`al.spaces.objectives.positive_mask`, ALGORITHMS.md): the
    diagnostic measures what ``--space snnl`` optimises.
    """
    Yd = dense_labels(Y).astype(np.float32)
    if embeddings is not None and len(embeddings) != len(Yd):
        raise DataError(f"{len(embeddings)} embeddings but {len(Yd)} label rows")
    others = ~np.eye(len(Yd), dtype=bool)
    empty = ~Yd.any(axis=1)
    return (((Yd @ Yd.T) > 0.5) | (empty[:, None] & empty[None, :])) & others, others


def primary_labels(Y: sp.spmatrix | np.ndarray) -> np.ndarray:
    """One label per text: the rarest of its labels in ``Y``.

    Parameters
    ----------
    Y : (sparse) matrix of shape (n_samples, n_labels), 0/1

    Returns
    -------
    ndarray of int, shape (n_samples,): the label with the fewest texts among
    each text's labels (ties: lower index), ``-1`` for texts without a label.
    """
    Yd = dense_labels(Y)
    counts = Yd.sum(axis=0).astype(np.float64)
    scores = np.where(Yd, counts[None, :], np.inf)
    primary = np.argmin(scores, axis=1) if Yd.shape[1] else np.zeros(len(Yd), dtype=np.int64)
    return np.where(Yd.any(axis=1), primary, -1).astype(np.int64)


def cluster_separation(embeddings: np.ndarray, labels: np.ndarray) -> dict[str, float | None]:
    """Silhouette (cosine), Davies-Bouldin and Calinski-Harabasz with ``labels`` as clusters.

    Parameters
    ----------
    embeddings : ndarray of shape (n_samples, dim)
    labels : ndarray of int, shape (n_samples,)
        One cluster per sample (e.g. :func:`primary_labels`); negative values
        are left out.

    Returns
    -------
    dict with ``silhouette`` (higher = better separated, in [-1, 1]),
    ``davies_bouldin`` (lower = better) and ``calinski_harabasz`` (higher =
    better); None where the scores are undefined (fewer than two clusters, as
    many clusters as samples, or every sample at one point).

    References
    ----------
    Agarap and Azcarraga (seed 002), sec. 3.4.1, eq. 9-16.
    """
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

    X, labels = _kept(embeddings, labels)
    n_clusters = len(np.unique(labels))
    if not 2 <= n_clusters <= len(labels) - 1 or not np.ptp(X, axis=0).any():  # all at one point: 0 reads as best
        return {"silhouette": None, "davies_bouldin": None, "calinski_harabasz": None}
    return {
        "silhouette": float(silhouette_score(X, labels, metric="cosine")),
        "davies_bouldin": float(davies_bouldin_score(X, labels)),
        "calinski_harabasz": float(calinski_harabasz_score(X, labels)),
    }


def clustering_accuracy(labels_true: np.ndarray, labels_pred: np.ndarray) -> float:
    """Share of samples whose cluster maps to their label under the best one-to-one mapping.

    ``ACC = max_m 1/n sum_i 1[l_i = m(c_i)]``, the mapping ``m`` found by the
    Hungarian method on the contingency table (clusters and labels may differ
    in number; unmatched ones count as wrong).

    Parameters
    ----------
    labels_true, labels_pred : ndarray of int, shape (n_samples,)

    References
    ----------
    Agarap and Azcarraga (seed 002), eq. 20; Yang et al. 2010.
    """
    from scipy.optimize import linear_sum_assignment

    labels_true, labels_pred = np.asarray(labels_true), np.asarray(labels_pred)
    if labels_true.shape != labels_pred.shape or labels_true.ndim != 1:
        raise DataError(f"label vectors must be 1-D of equal length, got {labels_true.shape} and {labels_pred.shape}")
    if not len(labels_true):
        return float("nan")
    true_ids, t = np.unique(labels_true, return_inverse=True)
    pred_ids, p = np.unique(labels_pred, return_inverse=True)
    table = np.zeros((len(pred_ids), len(true_ids)), dtype=np.int64)
    np.add.at(table, (p, t), 1)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(table[rows, cols].sum() / len(labels_true))


def kmeans_agreement(
    embeddings: np.ndarray, labels: np.ndarray, seed: int = 0, n_init: int = KMEANS_RESTARTS
) -> dict[str, Any]:
    """k-means on the embeddings scored against ``labels``: NMI, ARI, clustering accuracy.

    k is the number of distinct labels among the kept samples (negative
    labels are left out); k-means++ with ``n_init`` seeded restarts, the
    best (lowest inertia) kept.

    Parameters
    ----------
    embeddings : ndarray of shape (n_samples, dim)
    labels : ndarray of int, shape (n_samples,)
    seed : int
    n_init : int

    Returns
    -------
    dict with ``k``, ``nmi`` (arithmetic normalisation, eq. 17), ``ari`` and
    ``accuracy``; the scores are None with fewer than two labels, no more
    samples than labels, or every sample at one point.

    References
    ----------
    Agarap and Azcarraga (seed 002), sec. 3.4.2, eq. 17-20.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
    from threadpoolctl import threadpool_limits

    X, labels = _kept(embeddings, labels)
    order = np.lexsort(X.T[::-1])  # rows by value: k-means' start depends on row positions, the scores must not
    X, labels = X[order], labels[order]
    k = len(np.unique(labels))
    if k < 2 or len(labels) <= k or not np.ptp(X, axis=0).any():  # all at one point: any partition is arbitrary
        return {"k": k, "nmi": None, "ari": None, "accuracy": None}
    # one OpenMP thread: on a few thousand points, thread start-up and spinning
    # cost more than they save (30x slower on a busy 2-core machine)
    with threadpool_limits(limits=1, user_api="openmp"):
        pred = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit_predict(X)
    return {
        "k": k,
        "nmi": float(normalized_mutual_info_score(labels, pred)),
        "ari": float(adjusted_rand_score(labels, pred)),
        "accuracy": clustering_accuracy(labels, pred),
    }


def _kept(embeddings: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(labels)
    if len(embeddings) != len(labels):
        raise DataError(f"{len(embeddings)} embeddings but {len(labels)} labels")
    keep = labels >= 0
    return np.asarray(embeddings, dtype=np.float64)[keep], labels[keep]


def embedding_quality(
    embeddings: np.ndarray,
    Y: sp.spmatrix | np.ndarray,
    temperatures: Sequence[float] = TEMPERATURES,
    seed: int = 0,
) -> dict[str, Any]:
    """Every quality number of one labeled set, JSON-serialisable.

    Parameters
    ----------
    embeddings : ndarray of shape (n_samples, dim)
    Y : (sparse) matrix of shape (n_samples, n_labels), 0/1
    temperatures : sequence of float
    seed : int, for k-means

    Returns
    -------
    dict with ``snnl`` ({str(T): loss}), ``snnl_uniform`` (chance reference),
    ``snnl_anchors`` (texts with a same-class text), ``silhouette``,
    ``davies_bouldin``, ``calinski_harabasz`` and ``kmeans`` (see
    :func:`kmeans_agreement`); the clustering scores use
    :func:`primary_labels`. NaN becomes None.
    """
    Yd = dense_labels(Y)
    same, others = _pair_masks(embeddings, Yd)
    D = cosine_distance_matrix(embeddings)
    primary = primary_labels(Yd)
    out: dict[str, Any] = {
        "snnl": {f"{float(t):g}": json_float(_snnl(D, same, others, t)) for t in temperatures},
        "snnl_uniform": json_float(_snnl_uniform(same)),
        "snnl_anchors": int(same.any(axis=1).sum()),
        **{name: json_float(v) for name, v in cluster_separation(embeddings, primary).items()},
    }
    kmeans = kmeans_agreement(embeddings, primary, seed)
    out["kmeans"] = {"k": kmeans["k"], **{m: json_float(kmeans[m]) for m in ("nmi", "ari", "accuracy")}}
    return out


def json_float(x: float | None, digits: int = 6) -> float | None:
    """``x`` rounded for JSON; None for None, NaN and infinities; a value that rounds to zero is 0.0, never -0.0."""
    return None if x is None or not np.isfinite(x) else round(float(x), digits) + 0.0


def whole_number(value: Any, name: str, expected: str, caller: str = "analyze_pool") -> int:
    """``value`` as an int where it is a whole number (``50``, ``np.int64(50)``, ``50.0``); else one line."""
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
        owner = f"{caller}'" if caller.endswith("s") else f"{caller}'s"
        raise ConfigError(f"{owner} {name} must be {'a whole number' if name == 'k' else 'whole numbers'} "
                          f"({expected}), got {value!r}")
    return int(value)


def check_pool(embeddings: np.ndarray, Y: sp.spmatrix | np.ndarray, label_names: Sequence[str],
               caller: str = "analyze_pool") -> np.ndarray:
    """``Y`` dense and boolean, once the inputs of ``caller`` (:func:`al.analysis.embedding_analysis.analyze_pool`,
    :func:`al.analysis.diagnostics.diagnostics`) are found to fit: finite vectors, one row of labels each, 0/1
    labels (a probability of 0.7 is no label), distinct label names given as a sequence (a string is no list).

    Raises
    ------
    ConfigError
        One line: what came, what was expected.
    """
    if isinstance(label_names, str):  # "abcd" would be four labels, a, b, c and d
        raise ConfigError(f"{caller} got label names as one string {label_names!r}; expected a list of names, one per "
                          f"column of Y: [{label_names!r}] for one label")
    values = Y.data if sp.issparse(Y) else np.asarray(Y)
    shape = Y.shape if sp.issparse(Y) else values.shape
    if embeddings.ndim != 2 or len(shape) != 2 or shape != (len(embeddings), len(label_names)):
        raise ConfigError(f"{caller} got embeddings of shape {embeddings.shape}, labels of shape {shape} and "
                          f"{len(label_names)} label names; expected (n_pool, dim), (n_pool, n_labels) and n_labels "
                          f"names, row i of both the same pool text")
    if embeddings.dtype.kind not in "fiu":
        raise ConfigError(f"{caller} got embeddings of dtype {embeddings.dtype}; expected float vectors, one row "
                          f"a pool text: pass np.asarray(X, dtype=np.float32)")
    if not np.isfinite(embeddings).all():
        row = int(np.flatnonzero(~np.isfinite(embeddings).all(axis=1))[0])
        raise ConfigError(f"{caller} got embeddings holding NaN or infinity in row {row}; expected finite "
                          f"vectors, one row a pool text: recompute that row (a diverged fit gives NaN)")
    numbers = values.dtype.kind in "biuf" or (values.dtype.kind == "O" and all(
        isinstance(v, (bool, int, float, np.bool_, np.integer, np.floating)) for v in values.ravel()))
    if not numbers:  # text ("0" reads as 1 where it is cast), complex, None
        raise ConfigError(f"{caller} got labels of dtype {values.dtype}, not numbers; expected Y of 0 and 1, 1 "
                          f"where a text carries the label: pass np.asarray(Y, dtype=int) of numbers")
    odd = ~np.isin(values.astype(np.float64), (0, 1))
    if odd.any():
        first = values.ravel()[int(np.flatnonzero(odd.ravel())[0])]
        first = first.item() if isinstance(first, np.generic) else first
        raise ConfigError(f"{caller} got labels holding {first!r} ({int(odd.sum()):,} values not 0 or 1); "
                          f"expected Y of 0 and 1, 1 where a text carries the label: threshold scores first, e.g. "
                          f"Y >= 0.5")
    Yd = dense_labels(Y.astype(np.float64) if sp.issparse(Y) else values.astype(np.float64))
    odd_names = [name for name in label_names if not isinstance(name, str) or not name.strip()
                 or "\n" in name or "\r" in name]
    if odd_names:  # a figure's legend, summary.md's table rows and analysis.json's keys are one-line strings
        raise ConfigError(f"{caller} got label name {odd_names[0]!r} ({type(odd_names[0]).__name__}); expected a "
                          f"non-empty one-line string per column of Y (for numbered labels: [str(name) for name in "
                          f"names])")
    if len(set(label_names)) != len(label_names):
        twice = sorted({name for name in label_names if list(label_names).count(name) > 1})
        raise ConfigError(f"{caller} got label names {', '.join(map(repr, twice))} more than once; expected one "
                          f"distinct name per column of Y")
    return Yd
