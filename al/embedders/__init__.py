"""Sentence embeddings: texts -> float32, L2-normalised, cached on disk.

The cache is content-addressed: one key per (model, max length, text), so a
text embedded once is never embedded again, in a later round, a later run or
another data set. Each call that computes new vectors adds one shard file,
written to a temporary name and renamed, so concurrent runs never corrupt the
cache and a crash leaves no half-written shard; new texts are encoded under a
lock on the model's cache, so concurrent runs never encode the same pool twice.
"""
from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from al.cache import cache_dir, cache_lock
from al.models import model_key, quiet_loading, resolve_model

KEY_BYTES = 16


def text_keys(texts: Sequence[str]) -> np.ndarray:
    """BLAKE2b digests of the texts, ndarray of shape (n_texts,) dtype ``S16``."""
    return np.array(
        [hashlib.blake2b(t.encode("utf-8"), digest_size=KEY_BYTES).digest() for t in texts],
        dtype=f"S{KEY_BYTES}",
    )


class EmbeddingCache:
    """A directory of ``.npz`` shards, each holding ``keys`` (S16) and ``vectors`` (float32)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._index: dict[bytes, tuple[int, int]] = {}
        self._shards: list[np.ndarray] = []
        self._seen: set[str] = set()

    def _refresh(self) -> None:
        for path in sorted(self.directory.glob("shard-*.npz")):
            if path.name in self._seen:
                continue
            with np.load(path) as shard:
                keys, vectors = shard["keys"], shard["vectors"]
            self._seen.add(path.name)
            self._shards.append(vectors)
            s = len(self._shards) - 1
            self._index.update({k: (s, i) for i, k in enumerate(keys.tolist())})

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(found mask of shape (n,), vectors of the found keys in order, or None)."""
        self._refresh()
        hits = [self._index.get(k) for k in keys.tolist()]
        found = np.array([h is not None for h in hits], dtype=bool)
        if not found.any():
            return found, None
        return found, np.stack([self._shards[s][i] for s, i in (h for h in hits if h is not None)])

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Write one new shard atomically (and index it here, so it is not read back)."""
        vectors = vectors.astype(np.float32)
        name = f"shard-{uuid.uuid4().hex}.npz"
        tmp = self.directory / f".{name}.tmp"
        with open(tmp, "wb") as f:
            np.savez(f, keys=keys, vectors=vectors)
        os.replace(tmp, self.directory / name)
        self._seen.add(name)
        self._shards.append(vectors)
        s = len(self._shards) - 1
        self._index.update({k: (s, i) for i, k in enumerate(keys.tolist())})

    def get_or_compute(self, keys: np.ndarray, compute: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """Vectors of ``keys`` (n,), ndarray (n, dim) float32: cached, or ``compute(rows)`` and cached.

        ``compute`` gets the positions in ``keys`` of one occurrence of each
        missing key and returns their vectors. It runs under a lock on this
        cache, after a second look, so processes sharing the cache (grid
        workers) compute each vector once: the others wait, then read it.
        ``keys`` must not be empty.
        """
        found, cached = self.lookup(keys)
        if cached is not None and found.all():
            return cached
        with cache_lock(self.directory / ".lock"):
            found, cached = self.lookup(keys)  # another process may have added them meanwhile
            if cached is not None and found.all():
                return cached
            missing = np.flatnonzero(~found)
            unique_keys, first = np.unique(keys[missing], return_index=True)
            fresh = np.asarray(compute(missing[first]), dtype=np.float32)
            self.add(unique_keys, fresh)
        out = np.empty((len(keys), fresh.shape[1]), dtype=np.float32)
        if cached is not None:
            out[found] = cached
        out[missing] = fresh[np.searchsorted(unique_keys, keys[missing])]
        return out


class SentenceEmbedder:
    """Encode texts with a sentence-transformers model, with an on-disk cache.

    Parameters
    ----------
    model : str
        A name or local path understood by :func:`al.models.resolve_model`.
    batch_size : int
        Texts per forward pass (sentence-transformers sorts by length, so
        padding is dynamic).
    max_length : int or None
        Token limit; None keeps the model's own (256 for MiniLM, 384 for mpnet).
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
    cache : bool
        Read and write the cache under ``$AL_CACHE_DIR/embeddings``.
    """

    def __init__(
        self,
        model: str = "all-MiniLM-L6-v2",
        *,
        batch_size: int = 64,
        max_length: int | None = None,
        device: str = "auto",
        cache: bool = True,
        show_progress: bool = False,
    ) -> None:
        self.model = model
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self.cache = cache
        self.show_progress = show_progress
        self._encoder: Any = None
        self._cache: EmbeddingCache | None = None
        self.n_encoded_ = 0  # texts actually run through the model (not cached)

    @property
    def cache_key(self) -> str:
        """Directory name of this model's cache: model identity + token limit."""
        return f"{model_key(self.model)}-len{self.max_length or 'default'}"

    def _load(self) -> Any:
        if self._encoder is None:
            from sentence_transformers import SentenceTransformer

            from al.device import resolve_device

            path, device = str(resolve_model(self.model)), resolve_device(self.device)
            with quiet_loading():  # "Loading weights" bars would drown the per-round lines
                self._encoder = SentenceTransformer(path, device=device)
            if self.max_length is not None:
                self._encoder.max_seq_length = self.max_length
        return self._encoder

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings, ndarray of shape (n_texts, dim), float32, unit L2 norm.

        Each distinct text is encoded once; with the cache, only texts missing
        from it are, under its lock (see :meth:`EmbeddingCache.get_or_compute`).
        """
        texts = list(texts)
        if not texts:
            return np.empty((0, 0), dtype=np.float32)
        keys = text_keys(texts)
        if not self.cache:
            _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
            return self._encode([texts[i] for i in first])[inverse.ravel()]
        if self._cache is None:
            self._cache = EmbeddingCache(cache_dir("embeddings", self.cache_key))
        return self._cache.get_or_compute(keys, lambda rows: self._encode([texts[i] for i in rows]))

    def _encode(self, texts: list[str]) -> np.ndarray:
        """One pass of the model over ``texts``: ndarray (n_texts, dim), float32."""
        vectors = self._load().encode(
            texts,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=self.show_progress,
        ).astype(np.float32)
        self.n_encoded_ += len(texts)
        return vectors
