"""k nearest neighbours over an exact FAISS index of the labeled texts' embeddings.

The classifier of CEA (Pasupulety et al., seed 000, section 2.3 and l.359-365): unseen
texts are classified by a vote of their k nearest labeled neighbours under cosine
similarity, k is searched on dev over 1-100, and labeled texts can be added to the
index without any training (section 4.2, "index++", l.639-645).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np
import scipy.sparse as sp

from al.classifiers.base import Classifier, fixed_threshold, tune_thresholds
from al.errors import ConfigError, spelled

#: The largest k searched on dev (the paper's range is 1-100).
K_MAX = 100
#: Elements of the (queries, k, n_labels) vote array built per block of queries.
_BLOCK_ELEMENTS = 1 << 21

WEIGHTS = ("uniform", "similarity")


class KNNClassifier(Classifier):
    """Multi-label kNN vote over L2-normalised embeddings in a ``faiss.IndexFlatIP``.

    The probability of a label is the (weighted) share of the k nearest labeled texts
    that carry it. Search is exact inner product over unit vectors, i.e. cosine
    similarity.

    Neighbour order: decreasing similarity; equal similarities (duplicate texts) in
    increasing row order of the labeled set, so the earlier labeled text comes first
    and is the one kept when a tie straddles the k-th place. FAISS's own choice among
    tied neighbours at the k-th place is its heap's, not this rule; rows where a tie
    straddles the boundary are searched again in full and resolved by the rule. Every
    search goes through the same BLAS kernel (FAISS's direct kernel for small batches
    gives other last bits), so a query's neighbours and probabilities do not depend on
    the other queries searched with it.

    Parameters
    ----------
    k : int or "dev"
        Neighbours voting. An int is capped at the number of labeled texts.
        ``"dev"``: the k in [1, min(100, n_labeled)] with the best dev macro-F1
        (ties to the smaller k), all k scored from one search (:func:`knn_votes`).
    weights : {"uniform", "similarity"}
        ``"uniform"``: each neighbour's vote counts 1. ``"similarity"``: its cosine
        similarity, clipped at 0; a text whose k neighbours all have similarity <= 0
        falls back to uniform weights.
    threshold : float, "fixed" or "dev"
        Decision threshold on the vote share: a float in (0, 1] for every label
        (``"fixed"`` is 0.5), or ``"dev"``: per-label thresholds tuned on dev with
        :func:`~al.classifiers.base.tune_thresholds`. With ``k="dev"`` too, k is chosen
        at threshold 0.5 first, then the thresholds are tuned at that k.
    warm_start : bool
        When a new fit's first rows equal (``np.array_equal``, after normalisation) the
        rows already indexed, only the new rows are added to the index; otherwise (or
        when False) the index is rebuilt. The engine then fits one instance every round.
    seed : int
        Accepted for the engine's interface; the vote uses no randomness.

    Attributes
    ----------
    k_ : int
        The k used.
    vectors_ : ndarray of shape (n_labeled, dim), float32
        The L2-normalised labeled vectors, in index order.
    Y_ : ndarray of shape (n_labeled, n_labels), float64 0/1
    index_ : faiss.IndexFlatIP
    index_update_ : str
        ``"added N"`` (N rows appended to the previous index) or ``"rebuilt"``
        (built from all rows, also on a first fit).
    dev_macro_f1_ : ndarray of shape (min(100, n_labeled),) or None
        Dev macro-F1 of every k searched, k = 1, 2, ...; None when k is an int.
    thresholds_ : ndarray of shape (n_labels,), float32

    References
    ----------
    Pasupulety, Anand, et al. "Class-driven embedding alignment" (CEA), seed 000:
    kNN classification with k in [1, 100] selected on dev (l.359-365), incremental
    learning by adding labeled texts to the search index (l.639-645). The paper
    selects k by dev accuracy on single-label data; for multi-label data we use
    macro-F1 as the rest of this package does.
    """

    input = "embeddings"

    def __init__(
        self,
        *,
        k: int | str = "dev",
        weights: str = "uniform",
        threshold: str | float = 0.5,
        warm_start: bool = True,
        seed: int = 0,
    ) -> None:
        self.k = k
        self.weights = weights
        self.threshold = threshold
        self.warm_start = warm_start
        self.seed = seed

    @property
    def uses_dev(self) -> bool:
        return self.k == "dev" or self.threshold == "dev"

    # ------------------------------------------------------------------ fit

    def fit(
        self,
        X: np.ndarray,
        Y: sp.csr_matrix | np.ndarray,
        X_dev: np.ndarray | None = None,
        Y_dev: sp.csr_matrix | np.ndarray | None = None,
    ) -> KNNClassifier:
        """Index ``X`` (added to the previous index when it extends it) and choose k / thresholds.

        Parameters
        ----------
        X : ndarray of shape (n_samples, dim)
        Y : (sparse) matrix of shape (n_samples, n_labels), 0/1
        X_dev : ndarray of shape (n_dev, dim), optional
        Y_dev : (sparse) matrix of shape (n_dev, n_labels), 0/1, optional

        Returns
        -------
        self
        """
        import faiss

        fixed = self._check_params()
        vectors = unit_rows(_matrix(X, "X"))
        Y_dense = _labels(Y, "Y", len(vectors))
        if len(vectors) == 0:
            raise ConfigError("X holds no rows; the kNN classifier needs at least one labeled text")
        dev = None
        if X_dev is not None or Y_dev is not None:
            if X_dev is None or Y_dev is None:
                raise ConfigError("pass both X_dev and Y_dev, or neither")
            dev_vectors = _matrix(X_dev, "X_dev")
            Y_dev_dense = _labels(Y_dev, "Y_dev", len(dev_vectors))
            if dev_vectors.shape[1] != vectors.shape[1] or Y_dev_dense.shape[1] != Y_dense.shape[1]:
                raise ConfigError(
                    f"dev data of shape {dev_vectors.shape} with {Y_dev_dense.shape[1]} labels does not match "
                    f"X of dim {vectors.shape[1]} with {Y_dense.shape[1]} labels"
                )
            if len(dev_vectors):
                dev = (dev_vectors, Y_dev_dense)
        if dev is None and self.k == "dev":
            raise ConfigError(
                "k='dev' chooses k on dev data, but none was given; pass an int k "
                "(--classifier-param k=10) or use a corpus with a dev split"
            )
        if dev is None and self.threshold == "dev":
            raise ConfigError(
                "threshold='dev' tunes thresholds on dev data, but none was given; pass a float threshold "
                "(--classifier-param threshold=0.5) or use a corpus with a dev split"
            )

        n_old = len(self.vectors_) if hasattr(self, "vectors_") else 0
        if (self.warm_start and hasattr(self, "index_") and self.index_.d == vectors.shape[1]
                and n_old <= len(vectors) and np.array_equal(vectors[:n_old], self.vectors_)):
            self.index_.add(vectors[n_old:])
            self.index_update_ = f"added {len(vectors) - n_old}"
        else:
            self.index_ = faiss.IndexFlatIP(vectors.shape[1])
            self.index_.add(vectors)
            self.index_update_ = "rebuilt"
        self.vectors_ = vectors
        self.Y_ = Y_dense
        n_labels = Y_dense.shape[1]

        self.dev_macro_f1_ = None
        if self.k == "dev" and dev is not None:  # dev is there: checked above
            self.dev_macro_f1_ = self._dev_curve(dev[0], dev[1], 0.5 if self.threshold == "dev" else fixed)
            self.k_ = int(np.argmax(self.dev_macro_f1_)) + 1  # first maximum: the smaller k
        else:
            self.k_ = min(int(self.k), len(vectors))
            if self.k_ < int(self.k):
                import warnings

                warnings.warn(f"knn k={self.k} is more than the labeled texts, so it is capped at their number and "
                              f"every labeled text votes (each round's k is in its classifier_info); give a smaller k, "
                              f"or k=dev", UserWarning, stacklevel=2)
        self.thresholds_ = np.full(n_labels, 0.5 if self.threshold == "dev" else fixed, dtype=np.float32)
        if self.threshold == "dev" and dev is not None:
            self.thresholds_ = tune_thresholds(self.predict_proba(dev[0]), dev[1])
        return self

    def _dev_curve(self, X_dev: np.ndarray, Y_dev: np.ndarray, threshold: float) -> np.ndarray:
        """Dev macro-F1 for every k in 1..min(100, n_labeled), from one search; shape (k_max,)."""
        k_max = min(K_MAX, len(self.vectors_))
        n_labels = Y_dev.shape[1]
        truth = Y_dev.astype(bool)
        tp = np.zeros((k_max, n_labels), dtype=np.int64)
        fp = np.zeros_like(tp)
        fn = np.zeros_like(tp)
        queries = unit_rows(X_dev)
        for start, stop in _blocks(len(queries), k_max * max(n_labels, 1)):
            sims, found = self._search(queries[start:stop], k_max)
            votes = knn_votes(sims, self.Y_[found], self.weights)  # (block, k_max, n_labels)
            pred = votes >= np.float32(threshold)
            block_truth = truth[start:stop, None, :]
            tp += (pred & block_truth).sum(axis=0)
            fp += (pred & ~block_truth).sum(axis=0)
            fn += (~pred & block_truth).sum(axis=0)
        return macro_f1_from_counts(tp, fp, fn)

    # ------------------------------------------------------------------ predict

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Per label, the (weighted) share of the k nearest labeled texts carrying it.

        Parameters
        ----------
        X : ndarray of shape (n_samples, dim)

        Returns
        -------
        ndarray of shape (n_samples, n_labels), float32
        """
        self._check_fitted()
        queries = self.transform(X)
        out = np.empty((len(queries), self.Y_.shape[1]), dtype=np.float32)
        for start, stop in _blocks(len(queries), self.k_ * max(self.Y_.shape[1], 1)):
            sims, found = self._search(queries[start:stop], self.k_)
            out[start:stop] = knn_votes(sims, self.Y_[found], self.weights, every_k=False)
        return out

    def transform(self, X: np.ndarray) -> np.ndarray:
        """The L2-normalised rows of ``X`` (what the vote compares), shape (n_samples, dim), float32."""
        self._check_fitted()
        queries = _matrix(X, "X")
        if queries.shape[1] != self.vectors_.shape[1]:
            raise ConfigError(
                f"X has {queries.shape[1]} columns, the index holds vectors of dim {self.vectors_.shape[1]}; "
                f"embed with the model the classifier was fitted on"
            )
        return unit_rows(queries)

    def info(self) -> dict[str, Any]:
        """``{"k": k, "index": "added N" | "rebuilt"}``, plus ``thresholds`` when tuned on dev."""
        base = super().info()  # raises NotFittedError first
        return {"k": self.k_, "index": self.index_update_, **base}

    # ------------------------------------------------------------------ helpers

    def _search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest labeled rows of each unit query, in the documented order.

        Returns
        -------
        sims : ndarray of shape (n_queries, k), float32, decreasing along each row
        found : ndarray of shape (n_queries, k), int64 row indices into ``vectors_``
        """
        n = self.index_.ntotal
        with _one_kernel():
            # One neighbour more than needed shows whether a tie straddles the k-th place.
            sims, found = self.index_.search(queries, min(k + 1, n))
            if k < n:
                straddling = np.flatnonzero(sims[:, k] == sims[:, k - 1])
                if len(straddling):
                    sims_all, found_all = self.index_.search(queries[straddling], n)
                    sims_all, found_all = _ordered(sims_all, found_all)
                    sims[straddling], found[straddling] = sims_all[:, : k + 1], found_all[:, : k + 1]
        sims, found = _ordered(sims[:, :k], found[:, :k])
        return sims, found.astype(np.int64)

    def _check_params(self) -> float:
        """Check the parameters' values; returns the fixed threshold (0.5 for "fixed"/"dev")."""
        k = self.k
        if k != "dev" and (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1):
            raise ConfigError(f"k must be a positive integer or 'dev', got {spelled(k)}; give k=10, say, or k=dev (the "
                              f"default: chosen each round on dev macro-F1)")
        if self.weights not in WEIGHTS:
            raise ConfigError(f"weights must be one of {', '.join(WEIGHTS)}, got {spelled(self.weights)}")
        return fixed_threshold(self.threshold)


def knn_votes(
    sims: np.ndarray, neighbour_labels: np.ndarray, weights: str = "uniform", every_k: bool = True
) -> np.ndarray:
    """Label shares among the first 1, 2, ..., k neighbours, by cumulative sums.

    Parameters
    ----------
    sims : ndarray of shape (n_queries, k)
        Cosine similarities of each query's neighbours, nearest first.
    neighbour_labels : ndarray of shape (n_queries, k, n_labels), 0/1
        The labels of those neighbours.
    weights : {"uniform", "similarity"}
        Vote weights: 1 each, or the similarity clipped at 0. A prefix whose weights
        sum to 0 (all similarities <= 0) gets uniform weights.
    every_k : bool
        True: the shares of every prefix; False: of all k neighbours only (the last
        prefix, with the same additions in the same order, so the same bits).

    Returns
    -------
    ndarray of shape (n_queries, k, n_labels), or (n_queries, n_labels) when
    ``every_k`` is False, float32: ``[:, j-1, l]`` is the probability of label l under
    a vote of the j nearest neighbours, sum_i w_i y_il / sum_i w_i over i <= j.
    """
    if weights not in WEIGHTS:
        raise ConfigError(f"weights must be one of {', '.join(WEIGHTS)}, got {spelled(weights)}")
    labels = np.asarray(neighbour_labels, dtype=np.float64)
    n_queries, k, n_labels = labels.shape
    # Uniform shares are counts / j: sums of 0/1 are exact in float64, in any order.
    if every_k:
        uniform = np.cumsum(labels, axis=1) / np.arange(1, k + 1, dtype=np.float64)[None, :, None]
    else:
        uniform = labels.sum(axis=1) / np.float64(k)
    if weights == "uniform":
        return uniform.astype(np.float32)
    w = np.clip(np.asarray(sims, dtype=np.float64), 0.0, None)
    if every_k:
        total = np.cumsum(w, axis=1)[:, :, None]
        weighted = np.cumsum(w[:, :, None] * labels, axis=1)
    else:  # the last step of the cumulative sums above: the same additions in the same order
        total = np.zeros((n_queries, 1))
        weighted = np.zeros((n_queries, n_labels))
        for j in range(k):
            total = total + w[:, j, None]
            weighted = weighted + w[:, j, None] * labels[:, j]
    shares = np.divide(weighted, total, out=uniform, where=total > 0)
    return shares.astype(np.float32)


def macro_f1_from_counts(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """Macro-F1 of each row of per-label counts, zero_division = 0 (as :func:`al.metrics.evaluate`).

    Parameters
    ----------
    tp, fp, fn : ndarray of shape (n_settings, n_labels)

    Returns
    -------
    ndarray of shape (n_settings,), float64
    """
    numerator = 2.0 * tp
    denominator = (2 * tp + fp + fn).astype(np.float64)
    f1 = np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)
    return f1.mean(axis=1) if f1.shape[1] else np.zeros(f1.shape[0])


def unit_rows(X: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (all-zero rows stay zero), float32, C-contiguous.

    Each row is scaled on its own, so a row's result does not depend on the others.
    """
    X = np.asarray(X, dtype=np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", X.astype(np.float64), X.astype(np.float64)))
    scaled = X / np.where(norms > 0, norms, 1.0)[:, None]
    return np.ascontiguousarray(scaled, dtype=np.float32)


def _ordered(sims: np.ndarray, found: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row sorted by decreasing similarity, then increasing row index.

    FAISS returns rows by decreasing similarity already; only rows that are not
    strictly decreasing (equal similarities) are sorted again.
    """
    sims, found = sims.copy(), found.copy()
    tied = np.flatnonzero((sims[:, 1:] >= sims[:, :-1]).any(axis=1))
    if len(tied):
        order = np.lexsort((found[tied], -sims[tied]), axis=-1)
        sims[tied] = np.take_along_axis(sims[tied], order, axis=1)
        found[tied] = np.take_along_axis(found[tied], order, axis=1)
    return sims, found


@contextmanager
def _one_kernel() -> Iterator[None]:
    """Make FAISS compute every inner product with its direct kernel, one (query, row) pair at a time.

    FAISS switches to BLAS from ``distance_compute_blas_threshold`` queries up (queries
    times dimensions in newer versions), and the two kernels differ in the last bits.
    BLAS for every batch is not enough either: on some CPUs (AMD EPYC with AVX-512,
    faiss-cpu 1.12 to 1.15) BLAS gives a row other
    last bits depending on its place in the matrix tiles, so exact duplicates get
    different similarities and a query's answer depends on the queries searched
    with it. The direct kernel's result depends on the two vectors alone (about
    as fast here: 0.36 s against 0.44 s for 11,572 queries, 600 rows, 384 dims,
    every neighbour). The setting is process-wide; it is restored on exit.
    """
    import faiss

    before = faiss.cvar.distance_compute_blas_threshold
    faiss.cvar.distance_compute_blas_threshold = 2**31 - 1  # the largest it takes: far past any search here
    try:
        yield
    finally:
        faiss.cvar.distance_compute_blas_threshold = before


def _blocks(n_rows: int, elements_per_row: int) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` row ranges holding about ``_BLOCK_ELEMENTS`` elements each."""
    size = max(1, _BLOCK_ELEMENTS // max(elements_per_row, 1))
    for start in range(0, n_rows, size):
        yield start, min(start + size, n_rows)


def _matrix(X: Any, name: str) -> np.ndarray:
    array = np.asarray(X, dtype=np.float32)
    if array.ndim != 2:
        raise ConfigError(f"{name} must be a 2-D array of embeddings (n_samples, dim), got shape {array.shape}")
    return array


def _labels(Y: Any, name: str, n_rows: int) -> np.ndarray:
    dense = Y.toarray() if sp.issparse(Y) else np.asarray(Y)
    if dense.ndim != 2 or len(dense) != n_rows:
        raise ConfigError(
            f"{name} must be a 0/1 matrix with {n_rows} rows (one per embedding), got shape {dense.shape}"
        )
    return (dense != 0).astype(np.float64)
