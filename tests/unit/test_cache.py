"""The cache's inter-process lock: holders never overlap; a raising holder releases it; deferring callers do not wait."""
from __future__ import annotations

import multiprocessing
import os
import threading
import time
import warnings
from pathlib import Path

import pytest

from al.cache import CacheBusy, cache_dir, cache_lock, deferring_busy_locks


def hold(lock_path: str, log_path: str, seconds: float) -> None:
    """Take the lock, log (enter, exit) wall times, hold it for ``seconds``."""
    with cache_lock(Path(lock_path)):
        entered = time.time()
        time.sleep(seconds)
        with open(log_path, "a") as log:
            log.write(f"{entered} {time.time()}\n")


def test_holders_of_one_lock_never_overlap(tmp_path):
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=hold, args=(str(tmp_path / ".lock"), str(tmp_path / "log"), 0.4))
               for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    spans = sorted(tuple(map(float, line.split())) for line in (tmp_path / "log").read_text().splitlines())
    assert len(spans) == 3
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert start >= end  # each one entered after the previous one left


def test_the_lock_is_released_when_its_holder_raises(tmp_path):
    with pytest.raises(RuntimeError):
        with cache_lock(tmp_path / ".lock"):
            raise RuntimeError("inside")
    other = multiprocessing.get_context("spawn").Process(
        target=hold, args=(str(tmp_path / ".lock"), str(tmp_path / "log"), 0.0))
    other.start()
    other.join(timeout=60)
    assert other.exitcode == 0 and len((tmp_path / "log").read_text().splitlines()) == 1


def test_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir("alps", "heads") == tmp_path / "c" / "alps" / "heads"
    assert (tmp_path / "c" / "alps" / "heads").is_dir()


def hold_until_told(lock_path: str, held, release) -> None:
    with cache_lock(Path(lock_path)):
        held.set()
        release.wait(60)


def test_a_deferring_caller_gets_cache_busy_at_once_and_a_plain_one_waits(tmp_path):
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    holder = context.Process(target=hold_until_told, args=(str(tmp_path / ".lock"), held, release))
    holder.start()
    try:
        assert held.wait(60)
        start = time.perf_counter()
        with pytest.raises(CacheBusy) as busy, deferring_busy_locks():
            with cache_lock(tmp_path / ".lock"):
                pytest.fail("entered a lock another process holds")
        assert time.perf_counter() - start < 5 and busy.value.path == tmp_path / ".lock"
        threading.Timer(0.5, release.set).start()
        start = time.perf_counter()
        with cache_lock(tmp_path / ".lock"):  # outside the block: waits for the holder, then enters
            assert time.perf_counter() - start >= 0.4
    finally:
        release.set()
        holder.join(timeout=60)
    assert holder.exitcode == 0
    with deferring_busy_locks(), cache_lock(tmp_path / ".lock"):  # a free lock is taken as usual
        pass


def test_an_embedding_cache_locks_each_set_of_missing_texts_on_its_own(tmp_path):
    """A process embedding one corpus does not hold up one embedding another (one lock per set of missing keys)."""
    import numpy as np

    from al.embedders import EmbeddingCache, text_keys

    cache = EmbeddingCache(tmp_path / "emb")
    (tmp_path / "emb").mkdir()
    first, second = text_keys(["a storm", "a flood"]), text_keys(["wheat exports"])
    assert cache.lock_path(first) == cache.lock_path(first[::-1])  # a set: the order does not matter
    assert cache.lock_path(first) != cache.lock_path(second)
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    holder = context.Process(target=hold_until_told, args=(str(cache.lock_path(first)), held, release))
    holder.start()
    try:
        assert held.wait(60)
        with deferring_busy_locks():
            vectors = cache.get_or_compute(second, lambda rows: np.full((len(rows), 2), 7.0))
            with pytest.raises(CacheBusy):
                cache.get_or_compute(first, lambda rows: pytest.fail("computed texts another process is computing"))
    finally:
        release.set()
        holder.join(timeout=60)
    assert vectors.tolist() == [[7.0, 7.0]]
    assert cache.get_or_compute(first, lambda rows: np.zeros((len(rows), 2))).shape == (2, 2)


@pytest.mark.parametrize("damage", ["cut short", "not a zip", "keys and vectors disagree"])
def test_a_damaged_shard_is_set_aside_with_a_warning_and_its_vectors_computed_again(tmp_path, damage):
    """A shard the disk or a copy damaged stopped every run reading the cache with a traceback (BadZipFile)."""
    import io

    import numpy as np

    from al.embedders import EmbeddingCache, text_keys

    folder = tmp_path / "emb"
    folder.mkdir()
    keys = text_keys(["a storm", "a flood", "wheat"])
    vectors = np.arange(6, dtype=np.float32).reshape(3, 2)
    assert EmbeddingCache(folder).get_or_compute(keys, lambda rows: vectors[rows]).tolist() == vectors.tolist()
    (shard,) = folder.glob("shard-*.npz")
    if damage == "cut short":
        shard.write_bytes(shard.read_bytes()[:200])
    elif damage == "not a zip":
        shard.write_text("garbage")
    else:
        buffer = io.BytesIO()
        np.savez(buffer, keys=keys[:2], vectors=vectors)
        shard.write_bytes(buffer.getvalue())
    os.utime(shard, (1e9, 1e9))  # written long ago: set aside now, its age starts again
    computed = []
    with pytest.warns(UserWarning, match=rf"cache file {shard} cannot be read \(.*\); set aside as "
                                         rf"{shard.name}.damaged, its vectors are computed again where a run needs "
                                         rf"them"):
        again = EmbeddingCache(folder).get_or_compute(keys, lambda rows: computed.append(len(rows)) or vectors[rows])
    assert again.tolist() == vectors.tolist() and computed == [3]
    assert (folder / f"{shard.name}.damaged").is_file() and not shard.exists()
    assert time.time() - (folder / f"{shard.name}.damaged").stat().st_mtime < 60  # prune --unused-for keeps it
    assert EmbeddingCache(folder).get_or_compute(keys, lambda rows: pytest.fail("recomputed")).tolist() == \
        vectors.tolist()


def test_an_embedding_cache_holds_only_the_vectors_of_the_shards_a_lookup_needs(tmp_path):
    """Every shard of the model's cache was read whole: a run on Reuters held the vectors of every text ever embedded
    with MiniLM (104 MB here), 294 MiB peak against 215 with only its own."""
    import numpy as np

    from al.embedders import EmbeddingCache, text_keys

    folder = tmp_path / "emb"
    folder.mkdir()
    mine, others = text_keys(["a storm", "a flood"]), text_keys(["wheat", "corn", "oil"])
    EmbeddingCache(folder).get_or_compute(others, lambda rows: np.full((len(rows), 2), 9.0))  # another corpus's
    EmbeddingCache(folder).get_or_compute(mine, lambda rows: np.arange(4.0).reshape(2, 2)[rows])
    cache = EmbeddingCache(folder)
    assert cache.get_or_compute(mine, lambda rows: pytest.fail("recomputed")).tolist() == [[0, 1], [2, 3]]
    assert sum(vectors is not None for vectors in cache._shards) == 1  # the other corpus's shard: its keys alone
    assert len(cache._index) == 5


def test_a_shard_pruned_after_its_keys_were_read_is_computed_again(tmp_path):
    """Its vectors are read when first needed: a prune between the two leaves its texts to compute, not a crash."""
    import numpy as np

    from al.embedders import EmbeddingCache, text_keys

    folder = tmp_path / "emb"
    folder.mkdir()
    keys = text_keys(["a storm", "a flood"])
    EmbeddingCache(folder).get_or_compute(keys, lambda rows: np.ones((len(rows), 2)))
    cache = EmbeddingCache(folder)
    assert cache.lookup(text_keys(["unseen"]))[0].tolist() == [False]  # the shard's keys indexed, its vectors not
    for shard in folder.glob("shard-*.npz"):
        shard.unlink()  # python -m al.cache prune, meanwhile
    computed = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # gone, not damaged: nothing to set aside or warn of
        again = cache.get_or_compute(keys, lambda rows: computed.append(len(rows)) or np.full((len(rows), 2), 2.0))
    assert computed == [2] and again.tolist() == [[2, 2], [2, 2]]
