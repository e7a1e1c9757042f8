"""ALPS: cold-start sampling by k-means on masked-language-model surprisal.

Each pool text becomes a *surprisal embedding* (see
:mod:`al.embedders.surprisal`): the unmasked text goes through a masked
language model, and at about 15% of its token positions (chosen at random,
once per text) the vector holds the cross-entropy -log p(token) of the MLM
head, 0 elsewhere. k-means with k = n clusters the unlabeled texts' vectors
and the text nearest each centre is picked. No labels and no task classifier
are involved, so the method applies to multi-label data as is.

The vectors depend only on the text, the model, its MLM head, the seed and the
run's embedding precision:
they are computed once per pool, kept on the strategy and on disk under
``$AL_CACHE_DIR/alps``.

The paper uses bert-base-uncased with its pretrained MLM head. The models
available offline (all-MiniLM-L6-v2, all-mpnet-base-v2) are sentence
encoders shipped without one; for them (``mlm_head="auto"`` or ``"fit"``) a
head is fitted on the pool texts over the frozen encoder (see
:func:`al.embedders.surprisal.fit_mlm_head`), which is a deviation from the
paper: a warning says so and ``last_info["mlm_head"]`` records which head was
used.

References
----------
Yuan, Lin, Boyd-Graber, "Cold-start Active Learning through Self-supervised
Language Modeling", EMNLP 2020.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

import numpy as np

from al import checks
from al.embedders.surprisal import MLMSurprisal, pool_key
from al.errors import ConfigError, EmptyPoolError, spelled
from al.registry import register
from al.strategy import PoolState, Strategy

# ---------------------------------------------------------------- selection


def nearest_to_centres(vectors: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """For each centre, the row of ``vectors`` nearest to it (Euclidean; ties: lower row).

    Parameters
    ----------
    vectors : ndarray of shape (n_samples, dim)
    centres : ndarray of shape (n_centres, dim)

    Returns
    -------
    ndarray of int, shape (n_centres,)
    """
    x, c = np.asarray(vectors, dtype=np.float64), np.asarray(centres, dtype=np.float64)
    distances = (x**2).sum(axis=1)[:, None] - 2.0 * x @ c.T + (c**2).sum(axis=1)[None, :]
    return distances.argmin(axis=0)


def fill_duplicates(nearest: np.ndarray, n_samples: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Make the picks distinct: keep each row's first occurrence, fill up with random other rows.

    Parameters
    ----------
    nearest : ndarray of int, shape (n,)
        The row picked for each centre, in centre order; may repeat.
    n_samples : int
        Rows to fill from (``0 .. n_samples - 1``).
    rng : numpy.random.Generator

    Returns
    -------
    picks : ndarray of int, shape (n,), distinct: the distinct rows of
        ``nearest`` in order, then rows drawn without replacement from those
        not yet picked.
    n_filled : int, how many were drawn at random.
    """
    nearest = np.asarray(nearest, dtype=np.int64)
    _, first = np.unique(nearest, return_index=True)
    picks = nearest[np.sort(first)]
    n_filled = len(nearest) - len(picks)
    if n_filled:
        rest = np.setdiff1d(np.arange(n_samples), picks)
        picks = np.concatenate([picks, rng.choice(rest, n_filled, replace=False)])
    return picks, n_filled


def alps_select(vectors: np.ndarray, n: int, rng: np.random.Generator, n_init: int = 1) -> tuple[np.ndarray, int]:
    """ALPS selection: k-means with k = n, the row nearest each centre, duplicates filled at random.

    Parameters
    ----------
    vectors : ndarray of shape (n_samples, dim)
        Surprisal embeddings of the candidates; ``n <= n_samples``.
    n : int
    rng : numpy.random.Generator
        Seeds k-means and the fill-up draws.
    n_init : int
        k-means++ restarts (the best inertia wins); 1 is scikit-learn's default
        for k-means++ and costs a tenth of 10 restarts.

    Returns
    -------
    picks : ndarray of int, shape (n,), distinct rows of ``vectors``.
    n_filled : int, picks drawn at random because two centres shared a nearest row.
    """
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    if n == 0:
        return np.zeros(0, dtype=np.int64), 0
    x = np.asarray(vectors, dtype=np.float64)
    kmeans = KMeans(n_clusters=n, n_init=n_init, random_state=int(rng.integers(2**31 - 1)))
    with warnings.catch_warnings():
        # fewer distinct points than clusters: the duplicate fill-up handles it
        warnings.simplefilter("ignore", ConvergenceWarning)
        kmeans.fit(x)
    return fill_duplicates(nearest_to_centres(x, kmeans.cluster_centers_), len(x), rng)


# ---------------------------------------------------------------- the strategy


@register("alps")
class ALPS(Strategy):
    """Cold-start ALPS: k-means on surprisal embeddings, the text nearest each centre.

    Parameters
    ----------
    model : str
        The masked language model, default ``"all-MiniLM-L6-v2"`` (available
        offline, no MLM head: one is fitted on the pool). The paper uses
        ``"bert-base-uncased"`` with its pretrained head (needs the hub once).
    mlm_head : {"auto", "pretrained", "fit"}
        See :class:`~al.embedders.surprisal.MLMSurprisal`; never falls back silently:
        ``last_info["mlm_head"]`` records the head used.
    fit_steps : int
        Head-fitting steps (``FIT_BATCH_SIZE`` = 32 texts each) when a head is
        fitted: 250 steps = 8000 texts, about 0.7 epoch of the 11.5k-text
        Disaster Response pool and about 3 CPU-minutes with MiniLM.
    seed : int
        Fixes the token positions and the fitted head, so the vectors are the
        same in every round (and cacheable). k-means and the fill-up draws use
        ``state.rng``. Runs keep it at 0 (a ``seed`` strategy param is refused,
        and the run's seed does not reach it: one cached head for every seed);
        it is a parameter for Python callers alone.
    batch_size : int
        Texts of 16 tokens per forward pass of the surprisal pass (see
        :class:`~al.embedders.surprisal.MLMSurprisal`); part of the vector cache key.
    device : str
        Set by the run (``--device``).
    precision : {"fp32", "bf16"}
        Arithmetic of the masked LM's encoder passes, set by the run
        (``--embed-precision``): bf16 gives other vectors (and another fitted
        head), cached under their own keys; see
        :class:`~al.embedders.surprisal.MLMSurprisal`.
    n_init : int
        k-means++ restarts (default 1, scikit-learn's default).
    surprisal : callable or None
        Texts (the whole pool) -> ndarray (n_texts, dim). None (default)
        uses :class:`MLMSurprisal` with the parameters above; tests inject a
        fake here to run without a model.

    Notes
    -----
    After a query, ``last_info`` holds ``mlm_head`` (or ``surprisal`` naming
    an injected function) and ``n_filled_at_random``: picks drawn at random
    because two centres shared their nearest text. ``last_scores`` is None.

    Short texts may get no chosen position, hence an all-zero vector (402 of
    the 11540 distinct Disaster Response pool texts with the default seed);
    k-means treats them as one point at the origin.

    References
    ----------
    Yuan, Lin, Boyd-Graber, "Cold-start Active Learning through
    Self-supervised Language Modeling", EMNLP 2020.
    """

    requires = frozenset({"texts"})
    run_params = {"device": "device", "precision": "embed_precision"}  # its masked LM runs where and as the run says
    model_params = ("model",)  # params naming a model it loads: resolved with the run's, before anything is written

    def __init__(
        self,
        model: str = "all-MiniLM-L6-v2",
        mlm_head: str = "auto",
        *,
        fit_steps: int = 250,
        seed: int = 0,
        batch_size: int = 64,
        device: str = "auto",
        precision: str = "fp32",
        n_init: int = 1,
        surprisal: Callable[[Sequence[str]], np.ndarray] | None = None,
    ) -> None:
        super().__init__()
        checks.integer("alps", "n_init", n_init)
        if surprisal is not None and not callable(surprisal):
            raise ConfigError(f"surprisal must be a function of the pool's texts, passed from Python (it has no "
                              f"command-line form), got {spelled(surprisal)}; leave it out to use the masked LM")
        self.model = model
        self.mlm_head = mlm_head
        self.fit_steps = fit_steps
        self.seed = seed
        self.batch_size = batch_size
        self.device = device
        self.precision = precision
        self.n_init = n_init
        self.surprisal = surprisal
        self._embed = surprisal if surprisal is not None else MLMSurprisal(
            model, mlm_head, fit_steps=fit_steps, seed=seed, batch_size=batch_size, device=device, precision=precision
        )
        self._pool_key: str | None = None
        self._vectors: np.ndarray | None = None

    def pool_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Surprisal embeddings of all pool texts, ndarray (n_pool, dim); computed once per pool."""
        key = pool_key(texts)
        if key != self._pool_key:
            self._vectors = np.asarray(self._embed(texts), dtype=np.float32)
            self._pool_key = key
        return self._vectors

    def prepare(self, texts: Sequence[str]) -> None:
        """Fit (or load) the MLM head and compute the pool's surprisal vectors, cached on disk."""
        self.pool_vectors(texts)

    def share_encoder_pass(self, embedder: Any) -> bool:
        """Offer the run's sentence embedder: True where the surprisal pass gives its pool vectors too
        (:meth:`~al.embedders.surprisal.MLMSurprisal.share_pass`), so that :meth:`prepare` should run before
        the pool is embedded (one encoder pass over the pool instead of two; the same vectors either way)."""
        return isinstance(self._embed, MLMSurprisal) and self._embed.share_pass(embedder)

    def prepare_key(self) -> tuple | None:
        """The surprisal vectors' settings (``n_init`` reads them, it does not change them); None when injected
        or in a subclass (whose own parameters may change the vectors)."""
        if self.surprisal is not None or type(self) is not ALPS:
            return None
        return (self.model, self.mlm_head, self.fit_steps, self.seed, self.batch_size, self.device, self.precision)

    def query(self, state: PoolState, n: int) -> np.ndarray:
        candidates = state.indices_unlabeled
        if n > len(candidates):
            raise EmptyPoolError(f"asked for {n} texts but only {len(candidates)} are unlabeled")
        vectors = self.pool_vectors(state.texts)
        picks, n_filled = alps_select(vectors[candidates], n, state.rng, self.n_init)
        if self.surprisal is None:
            self.last_info = {"mlm_head": self._embed.head_}
        else:
            self.last_info = {"surprisal": getattr(self.surprisal, "__name__", type(self.surprisal).__name__)}
        self.last_info["n_filled_at_random"] = n_filled
        return candidates[picks].astype(np.int64)
