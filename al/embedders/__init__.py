"""Sentence embeddings: texts -> float32, L2-normalised, cached on disk.

A text's vector depends on the text alone, never on the texts encoded beside
it (*canonical batching*, see :func:`canonical_batches`): each text is
tokenized on its own, padded to a length set by its own token count, and run
in a forward pass whose shape is set by that length alone. So a vector read
from the cache equals, bit for bit, the one a fresh run computes in any other
company, and :func:`matrix_digest` of a run's embeddings identifies what the
run read.

The cache is content-addressed: one key per (model, max length, batching
scheme, precision and device type, text), so a text embedded once is never embedded again, in a later
round, a later run or another data set. Each call that computes new vectors adds one shard file,
written to a temporary name and renamed, so concurrent runs never corrupt the
cache and a crash leaves no half-written shard; new texts are encoded under a
lock on the model's cache, so concurrent runs never encode the same pool twice.
"""
from __future__ import annotations

import hashlib
import os
import threading
import uuid
from pathlib import Path
from contextlib import closing, contextmanager, nullcontext
from typing import Any, Callable, ClassVar, Iterable, Iterator, NamedTuple, Sequence, TypeVar

import numpy as np

from al.cache import cache_dir, cache_lock, mark_used, set_aside_damaged  # noqa: F401 - re-exported
from al.device import torch_threads
from al.io import atomic_file, remove_stale_temporaries
from al.models import model_key, quiet_loading, resolve_model
from al.progress import progress

KEY_BYTES = 16
#: Padded lengths are multiples of this many tokens (the buckets of :func:`canonical_batches`).
BUCKET_MULTIPLE = 8
#: ``batch_size`` counts texts of this many tokens: a forward pass holds ``batch_size * NOMINAL_LENGTH`` padded tokens.
NOMINAL_LENGTH = 16
#: Version of the batching scheme; part of every cache key, so vectors computed
#: another way (sentence-transformers' own length-sorted batches) are never mixed in.
CANONICAL = "canonical1"
#: Arithmetic of the encoder's forward passes: fp32 (the default), or bfloat16 autocast
#: (the vectors stay float32 and unit-norm; see :class:`SentenceEmbedder`).
PRECISIONS = ("fp32", "bf16")


def precision_key(precision: str, device: str) -> str:
    """The part of a vector cache key that names the arithmetic: ``-fp32-cpu-avx2-3f09c1d2``.

    The precision, the device type, ``-emulated`` for bf16 on a CPU without
    native bf16, and :func:`al.device.arithmetic_key`: the kernels that device
    runs (the CPU's vector units, or the GPU's model, and the versions of
    torch, transformers and sentence-transformers). Other kernels give other
    last bits, so a run reads only vectors that the same kernels computed,
    whatever machine filled the cache before. fp32 on a CPU without a GPU
    driver imports no torch for it.
    """
    from al.device import arithmetic_key, cpu_has_native_bf16, device_type, resolve_device

    kind = device_type(device)
    emulated = "-emulated" if precision != "fp32" and kind == "cpu" and not cpu_has_native_bf16() else ""
    index = None
    if kind != "cpu":
        _, _, number = resolve_device(device).partition(":")
        index = int(number) if number else None
    return f"-{precision}-{kind}{emulated}-{arithmetic_key(kind, index)}"


def bucket_length(n_tokens: int, max_length: int, multiple: int = BUCKET_MULTIPLE) -> int:
    """Padded length of a text of ``n_tokens`` tokens: rounded up to a multiple, at most ``max_length``.

    Parameters
    ----------
    n_tokens : int
        Token count of the text alone (special tokens included, after truncation).
    max_length : int
        The model's token limit.
    multiple : int

    Returns
    -------
    int, ``min(max_length, multiple * ceil(max(n_tokens, 1) / multiple))``.
    """
    return min(max_length, multiple * max(1, -(-n_tokens // multiple)))


class CanonicalBatch(NamedTuple):
    """One forward pass: ``rows`` (positions in the input) padded to ``length`` tokens, in ``n_rows`` rows.

    ``n_rows >= len(rows)``; the rows past ``len(rows)`` are filler (copies of
    a real row) so that every pass over one bucket has the same shape.
    """

    rows: np.ndarray
    length: int
    n_rows: int


def rows_per_batch(length: int, batch_size: int) -> int:
    """Rows of every forward pass over texts padded to ``length``: ``max(1, batch_size * NOMINAL_LENGTH // length)``.

    A pass holds about ``batch_size * NOMINAL_LENGTH`` padded tokens whatever
    the length: ``batch_size`` texts of 16 tokens, half as many of 32, twice
    as many of 8.
    """
    return max(1, batch_size * NOMINAL_LENGTH // length)


def canonical_batches(
    lengths: Sequence[int], max_length: int, batch_size: int, multiple: int = BUCKET_MULTIPLE
) -> list[CanonicalBatch]:
    """Group texts into forward passes whose shape depends on each text's own length alone.

    A text of ``n`` tokens goes into the bucket ``bucket_length(n, max_length)``;
    only texts of one bucket share a pass, and every pass over a bucket of
    length ``L`` has ``rows_per_batch(L, batch_size)`` rows (the last one of a
    bucket filled up with filler rows). The matrix kernels then see the same
    shapes whichever other texts are encoded, so a text's result does not
    depend on them. Measured with all-MiniLM-L6-v2 on CPU (torch 2.13): within
    one pass shape a row's result does not depend on the other rows or on its
    place among them, while the padded length, the number of rows and, for
    passes of 64-192 tokens, the thread count each change the last bits;
    passes of 256 to 2048 tokens gave the same bits on 1, 2, 3, 4 and 8
    threads (see benchmarks/RESULTS.md, section 5).

    Parameters
    ----------
    lengths : sequence of int, shape (n_texts,)
        Token count of each text, tokenized alone.
    max_length : int
    batch_size : int
        Passes hold about ``batch_size * NOMINAL_LENGTH`` padded tokens (see
        :func:`rows_per_batch`); from 32 on, every pass holds 256 or more.
    multiple : int
        Bucket width (see :func:`bucket_length`).

    Returns
    -------
    list of CanonicalBatch, buckets in increasing length, rows of a bucket in
    input order; every position ``0 .. n_texts - 1`` appears once.
    """
    buckets = np.array([bucket_length(n, max_length, multiple) for n in lengths], dtype=np.int64)
    batches = []
    for length in np.unique(buckets).tolist():
        rows = np.flatnonzero(buckets == length)
        n_rows = rows_per_batch(length, batch_size)
        batches += [CanonicalBatch(rows[i : i + n_rows], length, n_rows) for i in range(0, len(rows), n_rows)]
    return batches


def padded_tokens(batches: Sequence[CanonicalBatch]) -> int:
    """Padded tokens of all ``batches`` (filler rows included): the work of their passes, for progress.

    A pass's time grows with its rows times its length, so a progress display
    that counts texts (short ones first, many to a pass) would guess the time
    left too short; one that counts these tokens guesses it right.
    """
    return sum(batch.n_rows * batch.length for batch in batches)


#: Name prefix of the threads that run encoder passes ahead of their caller (:func:`computed_ahead`).
AHEAD_THREADS = "al-encoder"
#: Run a CPU's encoder passes one thread each, several at once (:func:`encoder_passes`); False runs
#: each pass on all the threads in turn, as before (the same bits; for benchmarks/run_ahead.py).
RUN_AHEAD = True
#: Most passes at once. Measured on 2 cores only (benchmarks/RESULTS.md, section 12.14); the caller's
#: own one-thread work (ALPS's head) would set the pace with many more, so larger counts run in turn.
MAX_AT_ONCE = 4

Item = TypeVar("Item")
Result = TypeVar("Result")


class EncodingStopped(Exception):
    """Raised by encoder passes whose ``stop`` event is set: the passes running finished, no new one started."""


def _check_stop(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise EncodingStopped("stopped: the encoding was asked to stop; the vectors computed so far are kept")


def passes_at_once(device: Any, threads: int | None = None, one_thread: bool = False) -> int:
    """How many encoder passes run at once, one torch thread each: ``threads``, or 0 for one after another.

    ``threads`` defaults to the calling thread's torch thread count. It is 0 (each
    pass on all the threads, in turn) on a GPU, with one thread or more than
    :data:`MAX_AT_ONCE`, or with :data:`RUN_AHEAD` off. ``one_thread``: passes
    whose bits may depend on the thread count (fewer than 256 padded tokens:
    ALPS's) never run on more than one thread on a CPU, so with more than
    :data:`MAX_AT_ONCE` threads that many run at once.
    """
    import torch

    threads = torch.get_num_threads() if threads is None else threads
    on_cpu = getattr(device, "type", device) == "cpu"
    if not (RUN_AHEAD and on_cpu and threads > 1):
        return 0
    return min(threads, MAX_AT_ONCE) if one_thread else (threads if threads <= MAX_AT_ONCE else 0)


@contextmanager
def encoder_passes(
    encode: Callable[[Item], Result], batches: Iterable[Item | None], *, device: Any, threads: int | None = None,
    one_thread: bool = False, stop: threading.Event | None = None,
) -> Iterator[Iterator[tuple[Item | None, Result | None]]]:
    """``(batch, encode(batch))`` for each of ``batches``, in order, on the cores the way that keeps them busy.

    A None batch gives ``(None, None)``. With ``n = passes_at_once(device,
    threads)`` above 0 the passes run ``n`` at once, one torch thread each,
    ahead of the caller (:func:`computed_ahead`), and the calling thread's
    count is 1 inside the block: the caller's own work (the ALPS head's step,
    its passes over the vocabulary, writing the vectors) runs on one thread
    beside them, where one pass on all the threads would leave cores idle in
    it. Otherwise each pass runs in turn, on ``threads`` threads if given. A
    pass's output is the same on one thread as on several (benchmarks/RESULTS.md,
    sections 5, 12.2 and 12.14), so the results are the same either way; that
    holds for passes of 256 padded tokens or more, and ``one_thread`` keeps
    smaller ones on one thread each whatever the count (:func:`passes_at_once`).
    ``stop``: once set, no new pass starts and :class:`EncodingStopped` is raised (a session closing).
    """
    at_once = passes_at_once(device, threads, one_thread)
    if at_once:
        with torch_threads(1), closing(computed_ahead(encode, batches, workers=at_once,
                                                      on_start=one_torch_thread, stop=stop)) as passes:
            yield passes
        return

    def in_turn() -> Iterator[tuple[Item | None, Result | None]]:
        for batch in batches:
            _check_stop(stop)
            with torch_threads(threads) if threads else nullcontext():
                result = None if batch is None else encode(batch)
            yield batch, result

    with closing(in_turn()) as passes:
        yield passes


def one_torch_thread() -> None:
    """Set the calling thread's torch CPU thread count to 1 (an ahead worker's first act).

    torch's count (OpenMP and MKL) belongs to each thread. A new thread takes
    the count last set in the process at its first parallel operation, but a
    matrix product before that runs on all cores, so each worker sets its own.
    """
    import torch

    torch.set_num_threads(1)


def computed_ahead(
    function: Callable[[Item], Result], items: Iterable[Item | None], *, workers: int, per_worker: int = 2,
    on_start: Callable[[], None] | None = None, stop: threading.Event | None = None,
) -> Iterator[tuple[Item | None, Result | None]]:
    """``(item, function(item))`` for each of ``items``, in their order, computed ahead on ``workers`` threads.

    ``on_start`` runs once on each worker thread before its first call. ``stop``:
    once set, no new call is submitted and :class:`EncodingStopped` is raised
    (as for an early stop, the running calls finish and the queued ones are dropped).

    A None item gives ``(None, None)``. Items are drawn in order on the
    calling thread, ``workers * per_worker + 1`` at most before their results
    are taken. When the caller stops early (``close()``) or a call fails (its
    error is raised here, in order), the running calls finish, the queued ones
    are dropped, and no thread is left.
    """
    from collections import deque
    from concurrent.futures import Future, ThreadPoolExecutor

    pending: deque[tuple[Item | None, Future | None]] = deque()
    pool = ThreadPoolExecutor(workers, thread_name_prefix=AHEAD_THREADS, initializer=on_start)
    try:
        for item in items:
            _check_stop(stop)
            pending.append((item, None if item is None else pool.submit(function, item)))
            while len(pending) > workers * per_worker:
                first, future = pending.popleft()
                yield first, None if future is None else future.result()
        while pending:
            _check_stop(stop)
            first, future = pending.popleft()
            yield first, None if future is None else future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def matrix_digest(X: np.ndarray) -> str:
    """A short fingerprint of an embedding matrix: its shape and float32 bytes.

    Matrices of one shape and the same float32 values bit for bit get the
    same digest (a copy, or a C- versus Fortran-ordered layout, changes
    nothing); one flipped bit, or another shape, gives another. Recorded with
    a run, it tells whether two runs read the same embeddings.

    Parameters
    ----------
    X : ndarray of shape (n_samples, dim)
        Cast to float32 first.

    Returns
    -------
    str, 16 hex digits: the start of the SHA-256 of the shape and the
    C-contiguous float32 bytes.
    """
    data = np.ascontiguousarray(X, dtype=np.float32)
    digest = hashlib.sha256(repr(data.shape).encode())
    digest.update(data.tobytes())
    return digest.hexdigest()[:16]


def text_keys(texts: Sequence[str]) -> np.ndarray:
    """BLAKE2b digests of the texts, ndarray of shape (n_texts,) dtype ``S16``."""
    return np.array(
        [hashlib.blake2b(t.encode("utf-8"), digest_size=KEY_BYTES).digest() for t in texts],
        dtype=f"S{KEY_BYTES}",
    )


#: The attribute of an exception raised by a computation of vectors that holds ``(positions, vectors)`` of those
#: it finished (:meth:`EmbeddingCache.get_or_compute` caches them).
PARTIAL = "al_partial"


def _npy_shape(archive: Any, member: str) -> tuple[int, ...]:
    """The shape of ``member`` (an ``.npy`` file) of an open zip ``archive``, read from its header alone."""
    with archive.open(member) as f:
        version = np.lib.format.read_magic(f)
        header = (np.lib.format.read_array_header_1_0 if version == (1, 0) else
                  np.lib.format.read_array_header_2_0)
        return header(f)[0]


class EmbeddingCache:
    """A directory of ``.npz`` shards, each holding ``keys`` (S16) and ``vectors`` (float32).

    Shards are only ever added, and a key's vector never changes, so one
    instance per directory serves a whole process (:meth:`open`): a grid worker
    reads each shard once, not once per simulation. Every shard's keys are
    indexed; a shard's vectors are read when a lookup first needs one of them,
    so a process holds the vectors of the texts it reads, not of every text
    ever embedded with the model (a cache that served other corpora).
    """

    _open: ClassVar[dict[str, "EmbeddingCache"]] = {}

    @classmethod
    def open(cls, directory: Path) -> "EmbeddingCache":
        """This process's cache for ``directory`` (made on first use)."""
        key = os.path.realpath(directory)
        if key not in cls._open:
            cls._open[key] = cls(directory)
        return cls._open[key]

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        remove_stale_temporaries(directory, ".shard-")  # each shard has its own name: no later write clears these
        mark_used(directory)  # for python -m al.cache prune --unused-for
        self._index: dict[bytes, tuple[int, int]] = {}
        self._shards: list[np.ndarray | None] = []  # a shard's vectors, None until a lookup needs them
        self._paths: list[Path | None] = []  # where each shard's vectors are read from (None: added here)
        self._seen: set[str] = set()

    def _refresh(self) -> None:
        """Index the keys of the shards not seen yet (their vectors' shape checked from the file's header)."""
        for path in sorted(self.directory.glob("shard-*.npz")):
            if path.name in self._seen:
                continue
            try:
                with np.load(path) as shard:
                    keys = shard["keys"]
                    shape = _npy_shape(shard.zip, "vectors.npy")
                if keys.ndim != 1 or len(shape) != 2 or len(keys) != shape[0] or keys.dtype != f"S{KEY_BYTES}":
                    raise ValueError(f"keys of shape {keys.shape} ({keys.dtype}) and vectors of shape {shape}")
            except FileNotFoundError:  # another process set it aside meanwhile
                continue
            except MemoryError:
                raise
            except Exception as exc:  # noqa: BLE001 - a damaged file (a disk, a copy cut short): computed again
                set_aside_damaged(path, exc, "its vectors are computed again where a run needs them")
                continue
            self._seen.add(path.name)
            self._shards.append(None)
            self._paths.append(path)
            s = len(self._shards) - 1
            self._index.update({k: (s, i) for i, k in enumerate(keys.tolist())})

    def _vectors(self, s: int) -> np.ndarray | None:
        """Shard ``s``'s vectors, read on first use; None where its file is gone or damaged now (its keys are then
        dropped from the index, and computed again)."""
        if self._shards[s] is None:
            path = self._paths[s]
            try:
                with np.load(path) as shard:
                    vectors = shard["vectors"]
                if vectors.ndim != 2:
                    raise ValueError(f"vectors of shape {vectors.shape}")
            except FileNotFoundError:  # pruned meanwhile (python -m al.cache prune)
                vectors = None
            except MemoryError:
                raise
            except Exception as exc:  # noqa: BLE001 - damaged since its keys were read
                set_aside_damaged(path, exc, "its vectors are computed again")
                vectors = None
            if vectors is None:
                self._index = {k: hit for k, hit in self._index.items() if hit[0] != s}
                return None
            self._shards[s] = vectors
        return self._shards[s]

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(found mask of shape (n,), vectors of the found keys in order, or None)."""
        self._refresh()
        while True:
            hits = [self._index.get(k) for k in keys.tolist()]
            needed = sorted({h[0] for h in hits if h is not None})
            if all(self._vectors(s) is not None for s in needed):  # else: its keys left the index, look again
                break
        found = np.array([h is not None for h in hits], dtype=bool)
        if not found.any():
            return found, None
        return found, np.stack([self._shards[s][i] for s, i in (h for h in hits if h is not None)])

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Write one new shard atomically (and index it here, so it is not read back)."""
        vectors = vectors.astype(np.float32)
        name = f"shard-{uuid.uuid4().hex}.npz"
        with atomic_file(self.directory / name, "wb") as f:
            np.savez(f, keys=keys, vectors=vectors)
        self._seen.add(name)
        self._shards.append(vectors)
        self._paths.append(None)
        s = len(self._shards) - 1
        self._index.update({k: (s, i) for i, k in enumerate(keys.tolist())})

    def lock_path(self, missing: np.ndarray) -> Path:
        """The lock file guarding the computation of the keys ``missing`` (S16): one per set of keys."""
        digest = hashlib.blake2b(np.unique(missing).tobytes(), digest_size=8).hexdigest()
        return self.directory / f".lock-{digest}"

    def get_or_compute(self, keys: np.ndarray, compute: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """Vectors of ``keys`` (n,), ndarray (n, dim) float32: cached, or ``compute(rows)`` and cached.

        ``compute`` gets the positions in ``keys`` of one occurrence of each
        missing key and returns their vectors. It runs under a lock on the set
        of missing keys (:meth:`lock_path`), after a second look, so processes
        sharing the cache (grid workers) compute each vector once: the others
        wait, then read it, while a process missing other texts (another
        corpus) computes them at the same time. ``keys`` must not be empty.

        When ``compute`` stops (Ctrl-C, an error) with the attribute
        :data:`PARTIAL` on its exception, ``(positions, vectors)`` of the
        texts it finished, those are cached before the exception goes on: the
        same command then computes only the rest. Each vector depends on its
        text alone, so the cache holds the same bits either way.
        """
        found, cached = self.lookup(keys)
        if cached is not None and found.all():
            return cached
        with cache_lock(self.lock_path(keys[~found])):
            found, cached = self.lookup(keys)  # another process may have added them meanwhile
            if cached is not None and found.all():
                return cached
            missing = np.flatnonzero(~found)
            unique_keys, first = np.unique(keys[missing], return_index=True)
            try:
                fresh = np.asarray(compute(missing[first]), dtype=np.float32)
            except BaseException as exc:  # the vectors computed before it stopped (PARTIAL) are kept
                done, vectors = getattr(exc, PARTIAL, (np.zeros(0, dtype=np.int64), None))
                if len(done):
                    self.add(unique_keys[done], vectors)
                raise
            self.add(unique_keys, fresh)
        out = np.empty((len(keys), fresh.shape[1]), dtype=np.float32)
        if cached is not None:
            out[found] = cached
        out[missing] = fresh[np.searchsorted(unique_keys, keys[missing])]
        return out


def unread_texts(texts: Sequence[str], input_ids: Sequence[Sequence[int]], tokenizer: Any, max_length: int,
                 model: str, reader: str | None = None) -> str | None:
    """What a user should know of ``texts`` whose tokens (``input_ids``, cut at ``max_length``) the model reads
    only in part (longer than ``max_length`` tokens: the rest is never read) or not at all (nothing but unknown
    tokens, emoji alone: such texts get near one vector); None when every text is read whole. ``reader``: what
    reads them where it is not ``model`` itself (a fitted encoder, with its own max_length and how to raise it).
    ``texts`` are those embedded now: the cached ones were said of when they were embedded."""
    at_limit = [i for i, ids in enumerate(input_ids) if len(ids) >= max_length]
    long: list[int] = []
    if at_limit:  # cut one token later: a text of exactly max_length tokens is read whole
        longer = tokenizer([texts[i] for i in at_limit], truncation=True, max_length=max_length + 1)["input_ids"]
        long = [i for i, ids in zip(at_limit, longer) if len(ids) > max_length]
    unk, special = tokenizer.unk_token_id, set(tokenizer.all_special_ids) - {tokenizer.unk_token_id}
    unknown = [i for i, ids in enumerate(input_ids)
               if unk is not None and (words := [t for t in ids if t not in special]) and all(t == unk for t in words)]
    said = []
    if long:
        said.append(f"{len(long)} of the {len(texts)} texts embedded now are longer than "
                    f"{reader or model + chr(39) + 's'} {max_length} tokens (e.g. {texts[long[0]][:40]!r}...): "
                    f"only their first {max_length} are read")
    if unknown:
        said.append(f"{len(unknown)} of the {len(texts)} texts embedded now hold nothing the model's vocabulary "
                    f"knows (e.g. {texts[unknown[0]][:40]!r}): each is read as unknown tokens alone, so such texts "
                    f"get near one vector, told apart only by how many unknown tokens they hold")
    return "; ".join(said) if said else None


class SentenceEmbedder:
    """Encode texts with a sentence-transformers model, with an on-disk cache.

    Each text's vector depends on the text alone (see :func:`canonical_batches`):
    the model's modules run on passes of fixed shape per padded length, under
    ``torch.inference_mode()``, and the output is L2-normalised in float32. On
    a CPU with a few torch threads each pass runs on one, as many passes at
    once as there are threads (:func:`encoder_passes`): about 8 % faster than
    one pass on both of two cores (benchmarks/RESULTS.md, section 12.14), and the
    same bits.

    Parameters
    ----------
    model : str
        A name or local path understood by :func:`al.models.resolve_model`.
    batch_size : int
        Texts of 16 tokens per forward pass: every pass holds about
        ``batch_size * 16`` padded tokens, so fewer longer texts and more
        shorter ones (see :func:`rows_per_batch`). Part of the cache key. From
        32 on every pass holds 256 tokens or more, where a pass's output was
        measured to be the same on 1, 2, 3, 4 and 8 CPU threads (smaller
        passes differ with the thread count).
    max_length : int or None
        Token limit; None keeps the model's own (256 for MiniLM, 384 for mpnet).
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
    cache : bool
        Read and write the cache under ``$AL_CACHE_DIR/embeddings``.
    show_progress : bool
        Progress of long encodings (:mod:`al.progress`; ``--quiet`` silences it).
    precision : {"fp32", "bf16"}
        ``"bf16"`` runs the encoder under bfloat16 autocast: on a CPU with native
        bf16 (AVX512-BF16, AMX) about 1.6-1.7x faster, vectors at cosine 0.9999 or
        more to the fp32 ones but not the same bits, so they have their own
        cache (``benchmarks/RESULTS.md`` section 12.7). Canonical batching holds
        in both.
    stop : threading.Event, optional
        Once set, an encoding in progress starts no new pass and raises
        :class:`EncodingStopped`, its vectors so far cached (an annotation
        session closing while it embeds its pool). Not part of the cache key.
    """

    def __init__(
        self,
        model: str = "all-MiniLM-L6-v2",
        *,
        batch_size: int = 64,
        max_length: int | None = None,
        device: str = "auto",
        cache: bool = True,
        show_progress: bool = True,
        precision: str = "fp32",
        stop: threading.Event | None = None,
    ) -> None:
        if precision not in PRECISIONS:
            from al.errors import ConfigError, spelled

            raise ConfigError(f"embedding precision must be one of {', '.join(PRECISIONS)}, got {spelled(precision)}")
        self.model = model
        self.precision = precision
        self.batch_size = batch_size
        self.max_length = max_length
        #: What reads the texts, where not the model as shipped (a fitted encoder): named when texts are cut
        self.reader: str | None = None
        #: What the embedding progress line says it embeds with, where not the model as shipped (a fitted encoder)
        self.described_as: str | None = None
        self.device = device
        self.cache = cache
        self.show_progress = show_progress
        self.stop = stop
        self._encoder: Any = None
        self._cache: EmbeddingCache | None = None
        self.n_encoded_ = 0  # texts actually run through the model (not cached)

    @property
    def cache_key(self) -> str:
        """Directory name of this model's cache: model identity, token limit, batching scheme, arithmetic.

        The arithmetic's part is :func:`precision_key`: precision, device type
        and the kernels it runs (``-fp32-cpu-avx2-3f09c1d2``, ``-bf16-cuda-…``).
        """
        key = f"{model_key(self.model)}-len{self.max_length or 'default'}-{CANONICAL}-b{self.batch_size}"
        return key + precision_key(self.precision, self.device)

    def _load(self) -> Any:
        if self._encoder is None:
            from al.device import resolve_device
            from al.progress import heartbeat

            path, device = str(resolve_model(self.model)), resolve_device(self.device)
            # the libraries' import and the weights: seconds with nothing said, a minute on a busy machine
            said = heartbeat(f"loading {self.model}", 3.0, 15.0) if self.show_progress else nullcontext()
            with said, quiet_loading():  # "Loading weights" bars would drown the per-round lines
                from sentence_transformers import SentenceTransformer

                self._encoder = SentenceTransformer(path, device=device)
            if self.max_length is not None:
                self._encoder.max_seq_length = self.max_length
            self._encoder.eval()
            if self.precision == "bf16" and device == "cpu":
                from al.device import warn_if_bf16_emulated

                warn_if_bf16_emulated("embedding precision bf16", "fp32")
        return self._encoder

    def _autocast(self) -> Any:
        """bfloat16 autocast on the encoder's device for ``precision="bf16"``, else nothing."""
        import torch

        from al.device import autocast

        return autocast(self._load().device, torch.bfloat16 if self.precision == "bf16" else None)

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
        return self.vector_cache().get_or_compute(keys, lambda rows: self._encode([texts[i] for i in rows]))

    def uncached(self, texts: Sequence[str]) -> int:
        """How many distinct texts of ``texts`` :meth:`encode` would run through the model now (all, without the
        cache)."""
        keys = np.unique(text_keys(list(texts)))
        if not self.cache or not len(keys):
            return len(keys)
        found, _ = self.vector_cache().lookup(keys)
        return int((~found).sum())

    def vector_cache(self) -> EmbeddingCache:
        """This embedder's on-disk cache of vectors (:attr:`cache_key`), opened on first use."""
        if self._cache is None:
            self._cache = EmbeddingCache.open(cache_dir("embeddings", self.cache_key))
        return self._cache

    def pooled(self, token_states: Any, attention_mask: Any) -> np.ndarray:
        """This model's unit vectors from its transformer's output, as :meth:`encode` makes them from its own.

        ``token_states``: (n_rows, L, dim) float32 tensor, the last hidden states
        of one canonical pass of this model's transformer; ``attention_mask``:
        (n_rows, L). The model's modules after the transformer (pooling,
        normalisation) run on them, then the unit norm. Returns (n_rows, dim)
        float32. Another pass over the same encoder (ALPS's surprisal pass, which
        runs it on the same canonical batches) thereby gives the pool's sentence
        vectors without a pass of its own; :meth:`agrees` checks the bits.
        """
        import torch

        encoder = self._load()
        features = {"token_embeddings": token_states, "attention_mask": attention_mask}
        with torch.inference_mode():
            for module in list(encoder)[1:]:
                features = module(features)
            return torch.nn.functional.normalize(features["sentence_embedding"].float(), p=2.0, dim=1).cpu().numpy()

    def agrees(self, texts: Sequence[str], vectors: np.ndarray) -> bool:
        """Whether ``vectors`` (n_texts, dim) are, bit for bit, what :meth:`encode` computes for ``texts`` (uncached,
        no progress shown): the check before vectors computed elsewhere (:meth:`pooled`) enter the cache."""
        shown, counted_before = self.show_progress, self.n_encoded_
        self.show_progress = False
        try:
            fresh = self._encode(list(texts), warn=False)
        finally:
            self.show_progress, self.n_encoded_ = shown, counted_before
        return fresh.shape == np.shape(vectors) and np.array_equal(fresh, vectors)

    def _encode(self, texts: list[str], warn: bool = True) -> np.ndarray:
        """Run the model over ``texts`` in canonical batches: ndarray (n_texts, dim), float32, unit norm. ``warn``:
        say how many texts the model reads only in part, or not at all (:func:`unread_texts`)."""
        import torch

        encoder = self._load()
        tokenizer, max_length = encoder.tokenizer, encoder.max_seq_length
        encoded = tokenizer(texts, truncation=True, max_length=max_length)  # each text alone: no padding
        if warn and (note := unread_texts(texts, encoded["input_ids"], tokenizer, max_length, self.model,
                                          self.reader)):
            import warnings

            warnings.warn(note, UserWarning, stacklevel=2)
        names = list(encoded.keys())
        features = [{name: encoded[name][i] for name in names} for i in range(len(texts))]
        batches = canonical_batches([len(f["input_ids"]) for f in features], max_length, self.batch_size)

        def encode(batch: CanonicalBatch) -> Any:
            """Unit vectors of one canonical batch's real rows, (len(batch.rows), dim) float32."""
            chunk = [features[i] for i in batch.rows]
            chunk += [chunk[0]] * (batch.n_rows - len(chunk))  # filler: every pass of a bucket has one shape
            inputs = tokenizer.pad(chunk, padding="max_length", max_length=batch.length, return_tensors="pt")
            with torch.inference_mode(), self._autocast():
                vectors = encoder({k: v.to(encoder.device) for k, v in inputs.items()})["sentence_embedding"]
                return torch.nn.functional.normalize(vectors.float(), p=2.0, dim=1)[: len(batch.rows)].cpu().numpy()

        out: np.ndarray | None = None
        done = np.zeros(len(texts), dtype=bool)
        # short texts run first, many to a pass: the time left is estimated from the padded tokens
        try:
            with encoder_passes(encode, batches, device=encoder.device, stop=self.stop) as passes, \
                    progress(len(texts), f"embedding with {self.described_as or self.model}", unit="texts",
                             enabled=self.show_progress, work=padded_tokens(batches)) as bar:
                for batch, vectors in passes:
                    if out is None:
                        out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
                    out[batch.rows] = vectors
                    done[batch.rows] = True
                    bar.update(len(batch.rows), work=batch.n_rows * batch.length)
        except BaseException as exc:  # Ctrl-C, a kill's SIGTERM...: the vectors done are kept (EmbeddingCache)
            if out is not None:
                setattr(exc, PARTIAL, (np.flatnonzero(done), out[done]))
            raise
        self.n_encoded_ += len(texts)
        return out if out is not None else np.empty((0, 0), dtype=np.float32)
