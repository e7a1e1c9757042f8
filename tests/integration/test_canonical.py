"""A text's vector depends on the text alone (real all-MiniLM-L6-v2, a few dozen messages).

Bit for bit (``np.array_equal``): alone, in other company (shorter, longer and
equally long texts), on 1 or 2 torch threads, and read back from the cache; in
fp32 and under bf16 autocast alike.
"""
from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest
import torch

from al.device import torch_threads
from al.embedders import AHEAD_THREADS, SentenceEmbedder, bucket_length, matrix_digest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def texts(disaster_messages):
    return disaster_messages(80, random_state=2)


@pytest.fixture(scope="module", params=["fp32", "bf16"])
def embedder(request):
    embedder = SentenceEmbedder(cache=False, device="cpu", precision=request.param)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # bf16 on a CPU without native bf16: slow, still canonical
        embedder._load()
    return embedder


def by_bucket(embedder, texts):
    """(target, texts of its own bucket, texts of other buckets) for a short and a long target."""
    tokenizer, limit = embedder._encoder.tokenizer, embedder._encoder.max_seq_length
    bucket = {t: bucket_length(len(tokenizer(t, truncation=True, max_length=limit)["input_ids"]), limit) for t in texts}
    found = []
    for target in (min(texts, key=len), *sorted(texts, key=len, reverse=True)):
        same = [t for t in texts if t != target and bucket[t] == bucket[target]]
        if len(same) >= 2:
            found.append((target, same, [t for t in texts if bucket[t] != bucket[target]]))
        if len(found) == 2:
            return found
    raise AssertionError("expected two buckets holding three texts or more")


def test_a_text_gets_the_same_bits_alone_and_in_two_other_batches(embedder, texts):
    cases = by_bucket(embedder, texts)
    assert len(cases[0][0]) < len(cases[1][0])
    for target, same, other in cases:
        alone = embedder.encode([target])[0]
        first = embedder.encode([*other[:15], same[0], target])
        second = embedder.encode([target, *same[1:], *other[15:]])
        np.testing.assert_array_equal(first[-1], alone)
        np.testing.assert_array_equal(second[0], alone)
        assert alone.dtype == np.float32 and abs(np.linalg.norm(alone) - 1) < 1e-6


def test_the_same_function_as_sentence_transformers(embedder, texts):
    ours = embedder.encode(texts)
    theirs = embedder._encoder.encode(texts, batch_size=64, convert_to_numpy=True, normalize_embeddings=True)
    assert ours.shape == theirs.shape == (len(texts), 384)
    if embedder.precision == "fp32":
        np.testing.assert_allclose(ours, theirs, atol=2e-6)
    else:  # bf16 autocast: near sentence-transformers' fp32 vectors, but far beyond fp32's rounding (2e-6 above)
        cosine = (ours * theirs).sum(axis=1)
        assert ours.dtype == np.float32 and np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-6)
        assert np.abs(ours - theirs).max() > 1e-4 and cosine.min() > 0.999, cosine.min()


def test_one_and_two_threads_give_the_same_bits(embedder, texts, monkeypatch):
    """1 thread; 2 threads, two passes at once, one thread each; 2 threads, each pass on both (RUN_AHEAD off,
    the way before): the same bits."""
    import al.embedders

    ran_on, digests = [], []
    hook = embedder._encoder[0].register_forward_hook(
        lambda *_: ran_on.append((threading.current_thread().name.startswith(AHEAD_THREADS), torch.get_num_threads())))
    try:
        for threads, ahead, expected in ((1, True, (False, 1)), (2, True, (True, 1)), (2, False, (False, 2))):
            monkeypatch.setattr(al.embedders, "RUN_AHEAD", ahead)
            ran_on.clear()
            with torch_threads(threads):
                digests.append(matrix_digest(embedder.encode(texts)))
            assert set(ran_on) == {expected}
    finally:
        hook.remove()
    assert len(set(digests)) == 1


def test_a_cached_vector_equals_a_fresh_one_from_another_batch(texts):
    first = SentenceEmbedder(device="cpu")
    cached = first.encode(texts[:30])
    second = SentenceEmbedder(device="cpu")
    again = second.encode(texts[10:30][::-1])
    assert second.n_encoded_ == 0  # all read from the cache
    fresh = SentenceEmbedder(device="cpu", cache=False).encode([*texts[50:], *texts[10:30]])
    np.testing.assert_array_equal(again[::-1], cached[10:30])
    np.testing.assert_array_equal(fresh[-20:], cached[10:30])
    assert matrix_digest(fresh[-20:]) == matrix_digest(again[::-1])


def test_bf16_vectors_have_their_own_cache_and_never_come_back_as_fp32(texts):
    fp32 = SentenceEmbedder(device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        bf16 = SentenceEmbedder(device="cpu", precision="bf16")
        low = bf16.encode(texts[:20])
    assert fp32.cache_key.replace("-fp32-cpu", "-bf16-cpu") == bf16.cache_key.replace("-emulated", "")
    high = fp32.encode(texts[:20])
    assert fp32.n_encoded_ == 20  # not read from the bf16 shards
    assert not np.array_equal(low, high) and (low * high).sum(axis=1).min() > 0.999
    again = SentenceEmbedder(device="cpu", precision="bf16")
    np.testing.assert_array_equal(again.encode(texts[:20]), low)
    assert again.n_encoded_ == 0


def test_a_surprisal_vector_is_the_same_alone_and_in_a_batch(texts):
    from al.embedders.surprisal import MLMSurprisal

    mlm = MLMSurprisal(mlm_head="fit", fit_steps=3, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the fitted-head deviation
        pool = mlm(texts)
    for i in (0, int(np.argmax([len(t) for t in texts]))):
        assert np.linalg.norm(pool[i]) > 0
        np.testing.assert_array_equal(mlm._compute([texts[i]])[0], pool[i])
        company = [*texts[40:70], texts[i]]
        np.testing.assert_array_equal(mlm._compute(company)[-1], pool[i])


def test_vectors_embedded_before_a_ctrl_c_are_kept_and_the_same_command_embeds_the_rest(texts, tmp_path,
                                                                                        monkeypatch):
    """Nothing is lost: the passes finished before the interrupt are cached, and the cache then holds the bits a
    run without the interrupt computes."""
    import al.embedders as embedders

    real_progress = embedders.progress
    updates = []

    class StopAfterTwo:
        def __init__(self, bar):
            self.bar = bar

        def update(self, n, work=None):
            updates.append(n)
            if len(updates) == 2:
                raise KeyboardInterrupt

    def interrupting(*args, **kwargs):
        from contextlib import contextmanager

        @contextmanager
        def wrapped():
            with real_progress(*args, **kwargs) as bar:
                yield StopAfterTwo(bar)
        return wrapped()

    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "interrupted"))
    monkeypatch.setattr(embedders, "progress", interrupting)
    stopped = SentenceEmbedder(device="cpu", batch_size=4)
    with pytest.raises(KeyboardInterrupt):
        stopped.encode(texts)
    kept = sum(updates)
    assert 0 < kept < len(set(texts))
    monkeypatch.setattr(embedders, "progress", real_progress)
    embedders.EmbeddingCache._open.clear()  # a new process
    again = SentenceEmbedder(device="cpu", batch_size=4)
    resumed = again.encode(texts)
    assert again.n_encoded_ == len(set(texts)) - kept  # only the rest

    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "whole"))
    embedders.EmbeddingCache._open.clear()
    np.testing.assert_array_equal(resumed, SentenceEmbedder(device="cpu", batch_size=4).encode(texts))


def test_texts_the_model_reads_in_part_or_not_at_all_are_a_warning():
    """A text longer than the model's 256 tokens was cut with no word said, and emoji-only texts, read as unknown
    tokens alone, all got one vector."""
    embedder = SentenceEmbedder(cache=False, device="cpu", show_progress=False)
    limit = embedder._load().max_seq_length
    exact = "x " * (limit - 2)  # with [CLS] and [SEP]: exactly the limit, read whole
    assert len(embedder._encoder.tokenizer(exact)["input_ids"]) == limit
    texts = ["We need water. " * 100, exact, "😀", "🍞💧🏥🙏", "😀 😀", "send food to the camp"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vectors = embedder.encode(texts)
    (said,) = [str(w.message) for w in caught if "tokens" in str(w.message)]
    assert said.startswith(f"1 of the 6 texts embedded now are longer than all-MiniLM-L6-v2's {limit} tokens "
                           f"(e.g. 'We need water. ")
    assert (f"only their first {limit} are read; 3 of the 6 texts embedded now hold nothing the model's vocabulary "
            f"knows") in said
    assert said.endswith("so such texts get near one vector, told apart only by how many unknown tokens they hold")
    assert np.array_equal(vectors[2], vectors[3])  # one unknown token each (a run of emoji is one word)
    assert 0.8 < float(vectors[2] @ vectors[4]) < 0.999  # two: near, not equal
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        embedder.encode([exact, "send food to the camp"])
    assert not [w for w in caught if "tokens" in str(w.message)]
