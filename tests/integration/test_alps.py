"""ALPS with the real all-MiniLM-L6-v2 on 150 Disaster Response messages."""
from __future__ import annotations

import re
import threading
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import al.embedders.surprisal as surprisal
from al.embedders import AHEAD_THREADS
from al.embedders.surprisal import MAX_LENGTH, MLMSurprisal
from al.errors import ConfigError, ModelError
from al.strategy import PoolState, validate_answer
from strategies.alps import ALPS

pytestmark = pytest.mark.integration
N_TEXTS = 150
FIT_STEPS = 5


@pytest.fixture(scope="module")
def texts(disaster_messages):
    return disaster_messages(N_TEXTS, random_state=0)


def state_of(texts, n_labeled=20, seed=0):
    return PoolState(
        indices_labeled=np.arange(n_labeled),
        indices_unlabeled=np.arange(n_labeled, len(texts)),
        y_labeled=sp.csr_matrix(np.ones((n_labeled, 1), dtype=np.int8)),
        label_names=("related",),
        rng=np.random.default_rng(seed),
        views={"texts": lambda: texts},
    )


def test_pretrained_head_missing_is_a_clear_error(texts):
    with pytest.raises(ModelError, match="'all-MiniLM-L6-v2' has no pretrained MLM head") as info:
        ALPS(mlm_head="pretrained").query(state_of(texts), 5)
    assert "bert-base-uncased" in str(info.value) and "--strategy-param mlm_head=fit" in str(info.value)


def test_fitted_head_vectors_cache_and_query(texts, monkeypatch, tmp_path):
    fits, computed = [], []
    real_fit, real_compute = surprisal.fit_mlm_head, MLMSurprisal._compute
    monkeypatch.setattr(surprisal, "fit_mlm_head", lambda *a, **k: fits.append(1) or real_fit(*a, **k))
    monkeypatch.setattr(MLMSurprisal, "_compute", lambda self, t: computed.append(len(t)) or real_compute(self, t))

    first = MLMSurprisal(mlm_head="fit", fit_steps=FIT_STEPS)
    with pytest.warns(UserWarning) as said:
        vectors = first(texts)
    said = [str(w.message) for w in said]  # before the fit, and its loss after
    assert len(said) == 2 and re.search("no pretrained MLM head.*deviates from the paper", said[0])
    assert "ended at masked-LM loss" in said[1]
    assert first.head_ == f"fitted on {N_TEXTS} pool texts, {FIT_STEPS} steps"
    assert vectors.shape == (N_TEXTS, MAX_LENGTH) and vectors.dtype == np.float32
    norms = np.linalg.norm(vectors, axis=1)
    assert np.all(np.isclose(norms, 1.0, atol=1e-5) | (norms == 0)) and (norms > 0).mean() > 0.9
    assert np.all(vectors >= 0) and np.all(vectors[:, 0] == 0)  # [CLS] is never chosen
    # a text's vector does not depend on the batch it is computed in, to the bit
    np.testing.assert_array_equal(first._compute(texts[:3]), vectors[:3])
    assert fits == [1] and computed == [N_TEXTS, 3]

    # a second instance reuses the cached head and vectors: no fit, no MLM pass
    strategy = ALPS(mlm_head="fit", fit_steps=FIT_STEPS)
    state = state_of(texts)
    with pytest.warns(UserWarning, match="loaded from the cache"):
        picked = strategy.query(state, 10)
    validate_answer(picked, state, 10, "alps")
    assert fits == [1] and computed == [N_TEXTS, 3]
    assert strategy.last_info["mlm_head"] == first.head_
    np.testing.assert_array_equal(strategy.pool_vectors(texts), vectors)

    # deterministic: a fresh cache refits the head and recomputes the same vectors
    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "fresh"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        again = MLMSurprisal(mlm_head="fit", fit_steps=FIT_STEPS)(texts)
    assert fits == [1, 1]
    np.testing.assert_array_equal(again, vectors)


def test_a_damaged_cached_head_is_set_aside_and_fitted_again(texts, monkeypatch, tmp_path):
    """A head file cut short (a disk, a copy) stopped ALPS with a traceback; now it is fitted again, the same."""
    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "cache"))
    fits = []
    real_fit = surprisal.fit_mlm_head
    monkeypatch.setattr(surprisal, "fit_mlm_head", lambda *a, **k: fits.append(1) or real_fit(*a, **k))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        vectors = MLMSurprisal(mlm_head="fit", fit_steps=FIT_STEPS)(texts[:40])
    (head,) = (tmp_path / "cache" / "alps" / "heads").glob("*/*.pt")
    head.write_bytes(head.read_bytes()[:100])
    with pytest.warns(UserWarning) as said:
        again = MLMSurprisal(mlm_head="fit", fit_steps=FIT_STEPS)(texts[:40])
    assert any(re.search(rf"cache file {re.escape(str(head))} cannot be read .*set aside as {head.name}\.damaged, "
                         rf"the head is fitted again", str(w.message)) for w in said)
    assert fits == [1, 1] and head.is_file() and head.with_name(head.name + ".damaged").is_file()
    np.testing.assert_array_equal(again, vectors)


def test_a_checkpoint_with_an_mlm_head_is_used_as_is(texts, tmp_path):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from al.models import resolve_model

    source = str(resolve_model("all-MiniLM-L6-v2"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        AutoModelForMaskedLM.from_pretrained(source).save_pretrained(tmp_path / "with-head")
    AutoTokenizer.from_pretrained(source).save_pretrained(tmp_path / "with-head")
    strategy = ALPS(model=str(tmp_path / "with-head"), mlm_head="pretrained")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no deviation to warn about
        picked = strategy.query(state_of(texts[:60]), 5)
    assert len(set(picked.tolist())) == 5
    assert strategy.last_info["mlm_head"] == "pretrained"


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_a_minilm_head_is_the_same_fitted_on_one_or_two_threads(texts, precision, monkeypatch):
    """The encoder's passes in turn on 1 thread, ahead on threads of their own, or (RUN_AHEAD off, the way
    before) in turn on 2 threads; the head on one thread: the same head, and the same surprisal vectors."""
    import torch
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    import al.embedders
    from al.models import resolve_model

    path = resolve_model("all-MiniLM-L6-v2")
    tokenizer = AutoTokenizer.from_pretrained(path)
    heads, vectors, encoder_ran_on, alive = [], [], [], []
    before = torch.get_num_threads()
    try:
        for threads, ahead in ((1, True), (2, True), (2, False)):
            monkeypatch.setattr(al.embedders, "RUN_AHEAD", ahead)
            torch.set_num_threads(threads)
            model = AutoModelForMaskedLM.from_pretrained(path)
            model.base_model.register_forward_hook(lambda *_, way=(threads, ahead): encoder_ran_on.append(
                (way, threading.current_thread().name.startswith(AHEAD_THREADS), torch.get_num_threads())))
            # head parameters holding a gradient when the head's forward pass (the logits) starts
            hook = model.cls.register_forward_pre_hook(
                lambda module, _: alive.append(sum(p.grad is not None for p in module.parameters())))
            surprisal.fit_mlm_head(model, tokenizer, texts[:64], steps=4, seed=0, batch_size=16,
                                   encoder_dtype=torch.bfloat16 if precision == "bf16" else None)
            hook.remove()
            heads.append({k: p.detach().clone() for k, p in model.cls.named_parameters()})
            mlm = MLMSurprisal(precision=precision, device="cpu")
            mlm._mlm, mlm._tokenizer = model, tokenizer
            vectors.append(mlm._compute(texts))
    finally:
        torch.set_num_threads(before)
    # (way, on a pass thread, torch threads) of every encoder pass, the fit's and the surprisal pass's
    assert set(encoder_ran_on) == {((1, True), False, 1), ((2, True), True, 1), ((2, False), False, 2)}
    assert alive == [0] * 12  # 3 fits x 4 steps, never beside the last step's gradients
    for other in heads[1:]:
        for name in heads[0]:
            assert torch.equal(heads[0][name], other[name]), name
    for other in vectors[1:]:
        np.testing.assert_array_equal(vectors[0], other)


def test_bf16_surprisal_is_close_to_fp32_and_cached_apart(texts, monkeypatch, tmp_path):
    """--embed-precision bf16 runs the masked LM's encoder under bf16 autocast (fit and pass): other vectors, own keys."""
    import torch

    from al.embedders import precision_key
    from al.models import model_key

    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path))
    autocast = []
    real_forward = torch.nn.Module.__call__

    def cpu_autocast_enabled() -> bool:
        try:
            return torch.is_autocast_enabled("cpu")
        except TypeError:  # torch < 2.4 has no device argument
            return torch.is_autocast_cpu_enabled()

    def watch(module, *args, **kwargs):
        if module.__class__.__name__ == "BertModel":
            autocast.append(cpu_autocast_enabled())
        return real_forward(module, *args, **kwargs)

    from al.device import cpu_has_native_bf16

    vectors = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for precision in ("fp32", "bf16"):
            monkeypatch.setattr(torch.nn.Module, "__call__", watch)
            alps = MLMSurprisal(mlm_head="fit", fit_steps=FIT_STEPS, device="cpu", precision=precision)
            vectors[precision] = alps(texts)
            monkeypatch.setattr(torch.nn.Module, "__call__", real_forward)
            assert set(autocast) == {precision == "bf16"}, precision  # every encoder pass, the fit's too
            autocast.clear()
    emulated = [w for w in caught if issubclass(w.category, RuntimeWarning) and "emulated" in str(w.message)]
    assert bool(emulated) == (not cpu_has_native_bf16())  # a CPU without native bf16 is told it is slower there
    fp32_suffix, suffix = precision_key("fp32", "cpu"), precision_key("bf16", "cpu")
    assert MLMSurprisal(precision="fp32").precision_key == fp32_suffix
    assert fp32_suffix.startswith("-fp32-cpu-") and suffix.startswith("-bf16-cpu")
    heads = {p.name for p in (tmp_path / "alps" / "heads").rglob("*.pt")}
    head = f"fitv2-{surprisal.pool_key(texts)}-steps{FIT_STEPS}-seed0"
    assert heads == {f"{head}{fp32_suffix}.pt", f"{head}{suffix}.pt"}
    dirs = {p.name for p in (tmp_path / "alps" / "surprisal").iterdir()}
    base = f"{model_key('all-MiniLM-L6-v2')}-len128-seed0-{head}-canonical1-b64"
    assert dirs == {base + fp32_suffix, base + suffix}
    fp32, bf16 = vectors["fp32"], vectors["bf16"]
    assert not np.array_equal(fp32, bf16)
    np.testing.assert_array_equal(fp32 > 0, bf16 > 0)  # the same chosen positions (they depend on the text alone)
    cosine = (fp32 * bf16).sum(axis=1)[np.linalg.norm(fp32, axis=1) > 0]
    assert cosine.min() > 0.99, cosine.min()
    with pytest.raises(ConfigError, match="precision must be one of fp32, bf16, got 'fp16'"):
        MLMSurprisal(precision="fp16")


def _quiet(function, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fitted head's warnings, tested above
        return function(*args)


def test_the_surprisal_pass_gives_the_pool_s_sentence_vectors_the_same_bits(texts, monkeypatch, tmp_path):
    """One encoder pass over the pool for both: ALPS's pass gives the embedder's vectors of its short texts."""
    from al.embedders import SentenceEmbedder

    long_text = " ".join(texts[:12])  # over MAX_LENGTH tokens: ALPS truncates it, so the embedder runs it itself
    pool = [*texts, long_text]
    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "apart"))
    apart = SentenceEmbedder(show_progress=False)
    alps_apart = MLMSurprisal(mlm_head="fit", fit_steps=FIT_STEPS)
    surprisal_apart = _quiet(alps_apart, pool)
    vectors_apart = apart.encode(pool)
    assert alps_apart.sentences_given_ == 0

    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "shared"))
    embedder = SentenceEmbedder(show_progress=False)
    alps = MLMSurprisal(mlm_head="fit", fit_steps=FIT_STEPS)
    assert alps.share_pass(embedder)
    surprisal_shared = _quiet(alps, pool)
    short = sum(len(ids) <= MAX_LENGTH for ids in embedder._load().tokenizer(pool)["input_ids"])
    assert short == len(texts) and alps.sentences_given_ == short
    encoded = []
    real_encode = embedder._encode
    monkeypatch.setattr(embedder, "_encode", lambda t, **kw: encoded.append(list(t)) or real_encode(t, **kw))
    vectors_shared = embedder.encode(pool)
    assert encoded == [[long_text]]  # the rest came from the surprisal pass
    assert np.array_equal(vectors_shared, vectors_apart)
    assert np.array_equal(surprisal_shared, surprisal_apart)


def test_a_shared_fit_and_pass_stop_when_the_embedder_s_stop_is_set(texts, tmp_path, monkeypatch):
    """An annotation session closing sets its embedder's stop: ALPS's passes shared with it stop as the
    embedder's own would, and what they leave behind changes nothing later."""
    from al.embedders import PARTIAL, EncodingStopped, SentenceEmbedder

    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "cache"))
    stop = threading.Event()
    embedder = SentenceEmbedder(show_progress=False, stop=stop)
    alps = MLMSurprisal(mlm_head="fit", fit_steps=20)
    assert alps.share_pass(embedder)
    real_batches, drawn = surprisal._masked_batches, []

    def stopping_at_the_third(*args, **kwargs):
        for batch in real_batches(*args, **kwargs):
            drawn.append(batch)
            if len(drawn) == 3:
                stop.set()  # the session closes during the head's fit
            yield batch

    monkeypatch.setattr(surprisal, "_masked_batches", stopping_at_the_third)
    with pytest.raises(EncodingStopped):
        _quiet(alps, texts)
    assert len(drawn) < 20 and not list((tmp_path / "cache").rglob("*.pt"))  # stopped; no half-fitted head kept

    stop.clear()
    monkeypatch.setattr(surprisal, "_masked_batches", real_batches)
    real_head, head_passes = surprisal._head_surprisal, []

    def stopping_in_the_pass(*args):
        head_passes.append(1)
        if len(head_passes) == 2:
            stop.set()  # the session closes during the surprisal pass
        return real_head(*args)

    monkeypatch.setattr(surprisal, "HEAD_ROWS", 64)
    monkeypatch.setattr(surprisal, "_head_surprisal", stopping_in_the_pass)
    with pytest.raises(EncodingStopped) as stopped:
        _quiet(alps, texts)
    assert hasattr(stopped.value, PARTIAL)  # the texts finished are kept, as after Ctrl-C

    stop.clear()
    monkeypatch.setattr(surprisal, "_head_surprisal", real_head)
    alone = MLMSurprisal(mlm_head="fit", fit_steps=20)  # never stopped, never shared
    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "alone"))
    expected = _quiet(alone, texts)
    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "cache"))
    assert np.array_equal(_quiet(alps, texts), expected)  # the head fitted afresh, the rest computed: same bits


def test_a_shared_pass_stopped_by_ctrl_c_keeps_the_checked_sentence_vectors_it_gave(texts, monkeypatch):
    """Nothing is lost and nothing wrong is kept: the sentence vectors given before the stop are in the embedder's
    cache with the embedder's own bits, and its next pass computes only the others."""
    from al.embedders import PARTIAL, SentenceEmbedder

    expected = SentenceEmbedder(show_progress=False, cache=False).encode(texts)
    embedder = SentenceEmbedder(show_progress=False)
    alps = MLMSurprisal(mlm_head="fit", fit_steps=2)
    assert alps.share_pass(embedder)
    _quiet(alps._prepare, texts, surprisal.pool_key(texts))  # the head first, so that the stop falls in the pass
    monkeypatch.setattr(surprisal, "HEAD_ROWS", 64)  # several head passes
    real_head, head_passes = surprisal._head_surprisal, []

    def stopping_at_the_third(*args):
        head_passes.append(1)
        if len(head_passes) == 3:
            raise KeyboardInterrupt
        return real_head(*args)

    monkeypatch.setattr(surprisal, "_head_surprisal", stopping_at_the_third)
    with pytest.raises(KeyboardInterrupt) as stopped:
        _quiet(alps, texts)
    assert hasattr(stopped.value, PARTIAL)
    assert 0 < alps.sentences_given_ < len(texts)
    encoded = []
    real_encode = embedder._encode
    monkeypatch.setattr(embedder, "_encode", lambda t, **kw: encoded.append(len(t)) or real_encode(t, **kw))
    assert np.array_equal(embedder.encode(texts), expected)
    assert sum(encoded) == len(set(texts)) - alps.sentences_given_


@pytest.mark.parametrize("longest_only", [False, True])  # every pass off, or only the passes of the longest texts
def test_sentence_vectors_that_differ_from_the_embedder_s_own_never_enter_its_cache(texts, monkeypatch,
                                                                                   longest_only):
    from al.embedders import SentenceEmbedder

    pool = texts[:60]
    embedder = SentenceEmbedder(show_progress=False)
    expected = SentenceEmbedder(show_progress=False, cache=False).encode(pool)
    longest = max(len(ids) for ids in embedder._load().tokenizer(pool)["input_ids"])
    real_pooled, checks = SentenceEmbedder.pooled, []

    def pooled(self, states, mask):
        vectors = real_pooled(self, states, mask)
        return vectors * np.float32(1 + 2**-20) if not longest_only or states.shape[1] >= longest else vectors

    real_agrees = SentenceEmbedder.agrees
    monkeypatch.setattr(SentenceEmbedder, "pooled", pooled)
    monkeypatch.setattr(SentenceEmbedder, "agrees", lambda self, *a: checks.append(real_agrees(self, *a)) or checks[-1])
    alps = MLMSurprisal(mlm_head="fit", fit_steps=2)
    assert alps.share_pass(embedder)
    _quiet(alps, pool)
    assert checks[-1] is False and checks.count(False) == 1  # checked, found to differ, and nothing given
    assert len(checks) > 1 if longest_only else checks == [False]  # each pass shape has its own check
    assert alps.sentences_given_ == 0
    assert np.array_equal(embedder.encode(pool), expected)


def test_a_cache_that_cannot_take_the_sentence_vectors_costs_the_surprisal_pass_nothing(texts, monkeypatch):
    from al.embedders import EmbeddingCache, SentenceEmbedder

    embedder = SentenceEmbedder(show_progress=False)
    alps = MLMSurprisal(mlm_head="fit", fit_steps=2)
    assert alps.share_pass(embedder)
    real_add = EmbeddingCache.add

    def add(cache, keys, vectors):
        if cache is embedder.vector_cache():
            raise OSError("No space left on device")
        return real_add(cache, keys, vectors)

    monkeypatch.setattr(EmbeddingCache, "add", add)
    with pytest.warns(UserWarning) as said:
        vectors = alps(texts[:30])
    assert any("were not cached (No space left on device)" in str(w.message) for w in said)
    assert vectors.shape == (30, MAX_LENGTH) and alps.sentences_given_ == 0


@pytest.mark.parametrize("other", [{"batch_size": 32}, {"precision": "bf16"}, {"cache": False}, {}])
def test_an_embedder_computing_other_bits_is_not_shared(other):
    from al.embedders import SentenceEmbedder

    assert MLMSurprisal(mlm_head="fit").share_pass(SentenceEmbedder(**other)) is (not other)  # {}: the same bits
    assert MLMSurprisal(mlm_head="fit", precision="bf16").share_pass(SentenceEmbedder(**other)) is False


def test_an_alps_annotation_session_closes_promptly_during_the_shared_fit(texts, tmp_path, monkeypatch):
    """A session with ALPS runs ALPS's pass ahead of the embedding (the person answers the first texts meanwhile);
    closing it stops that work after the passes running, as it stops the embedding."""
    import json
    import time

    from al.annotate.__main__ import build_parser, build_session

    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "texts.jsonl"
    data.write_text("".join(json.dumps({"id": f"m{i}", "text": t}) + "\n" for i, t in enumerate(texts)))
    fitting, real_fit = threading.Event(), surprisal.fit_mlm_head

    def fit(*args, **kwargs):
        fitting.set()
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(surprisal, "fit_mlm_head", fit)
    args = build_parser().parse_args(["--data", str(data), "--labels", "food", "water", "--out", str(tmp_path / "s"),
                                      "--strategy", "alps", "--initial", "10", "--step", "5", "--budget", "20",
                                      "--folds", "2"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fitted head's warning
        session = build_session(args).start()
        try:
            assert session.state(wait=30)["phase"] == "answering"  # the first texts, while ALPS works
            assert fitting.wait(120), "ALPS's head fit never started"
            started = time.monotonic()
        finally:
            session.close()
        took = time.monotonic() - started
    assert not session._thread.is_alive() and took < 8  # 250 fit steps take about 30 s or more on 2 cores
    assert not list((tmp_path / "cache").rglob("*.pt"))  # no half-fitted head kept
