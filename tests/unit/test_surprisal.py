"""The surprisal pass and head fitting on a tiny random BERT (built in memory, no download)."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import al.embedders
import al.embedders.surprisal as surprisal
from al.embedders import AHEAD_THREADS
from al.embedders.surprisal import MAX_LENGTH, MLMSurprisal, choose_positions, fit_mlm_head, surprisal_vectors

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

WORDS = ("we need food and water the flood took our house please send help people are sick in the shelter "
         "doctor medical rice tents roads blocked children").split()
TEXTS = [
    "we need food", "please send water and food to the shelter", "flood", "people are sick",
    "the flood took our house we need tents and rice and water please", "doctor", "roads blocked",
    "children in the shelter need medical help", "send help", "water water water water water water",
    "we need food and water the flood took our house please send help people are sick in the shelter",
] * 3


def build_tiny(directory, hidden_size=384):
    """A 1-layer BERT masked LM (random weights) with a 35-token vocabulary, and its WordPiece tokenizer.

    Hidden size 384 as in MiniLM: with smaller matrices the CPU kernels give
    the same bits whatever the batch, and the tests below would prove nothing.
    """
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *dict.fromkeys(WORDS)]
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = transformers.BertTokenizerFast(vocab_file=str(directory / "vocab.txt"),  # transformers 4
                                               vocab={token: i for i, token in enumerate(vocab)})  # 5
    # transformers 5 ignores vocab_file= here and maps every word to [UNK]: the tests would then see one token
    assert tokenizer.convert_tokens_to_ids(WORDS[:3]) == [vocab.index(w) for w in WORDS[:3]]
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=hidden_size, num_hidden_layers=1,
                                     num_attention_heads=4, intermediate_size=256,
                                     max_position_embeddings=MAX_LENGTH)
    return transformers.BertForMaskedLM(config).eval(), tokenizer


@pytest.fixture
def tiny(tmp_path):
    return build_tiny(tmp_path)


def surprisal_of(model, tokenizer, batch_size=64, seed=0):
    mlm = MLMSurprisal(seed=seed, batch_size=batch_size)
    mlm._mlm, mlm._tokenizer = model, tokenizer
    return mlm


def reference(model, tokenizer, text, seed=0):
    """One text alone, unpadded, the head on its chosen positions: the definition, via surprisal_vectors."""
    enc = tokenizer([text], return_special_tokens_mask=True)
    ids = np.array(enc["input_ids"])
    chosen = choose_positions(text, enc["special_tokens_mask"][0], seed)[None]
    with torch.no_grad():
        hidden = model.base_model(input_ids=torch.from_numpy(ids)).last_hidden_state
        logits = model.cls(hidden[torch.from_numpy(chosen)]).numpy()
    return surprisal_vectors(ids, logits, chosen)[0]


@pytest.mark.parametrize(("batch_size", "head_rows"), [(64, 256), (1, 3), (2, 7)])
def test_the_pass_computes_the_definition_text_by_text(tiny, monkeypatch, batch_size, head_rows):
    # small batches and head passes: many canonical batches with filler rows, positions spread over head passes
    monkeypatch.setattr(surprisal, "HEAD_ROWS", head_rows)
    model, tokenizer = tiny
    out = surprisal_of(model, tokenizer, batch_size)._compute(TEXTS)
    assert out.shape == (len(TEXTS), MAX_LENGTH) and out.dtype == np.float32
    for text, row in zip(TEXTS, out):
        np.testing.assert_allclose(row, reference(model, tokenizer, text), atol=1e-5)
    assert (np.linalg.norm(out, axis=1) > 0).sum() >= len(TEXTS) // 3  # short texts may get no position


def test_a_vector_is_the_same_alone_and_in_other_company(tiny, monkeypatch):
    monkeypatch.setattr(surprisal, "HEAD_ROWS", 5)
    model, tokenizer = tiny
    mlm = surprisal_of(model, tokenizer, batch_size=2)
    target = TEXTS[1]
    alone = mlm._compute([target])[0]
    assert np.linalg.norm(alone) > 0
    for company in (TEXTS[:7] + [target], [target] + TEXTS[3:], [TEXTS[4], target, TEXTS[10]]):
        np.testing.assert_array_equal(mlm._compute(company)[company.index(target)], alone)


def test_a_head_is_fitted_on_one_thread_and_the_count_restored(tiny):
    model, tokenizer = tiny
    seen = []
    model.cls.register_forward_hook(lambda *_: seen.append(torch.get_num_threads()))
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        loss = fit_mlm_head(model, tokenizer, TEXTS, steps=3, seed=0, batch_size=8)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert np.isfinite(loss) and seen and set(seen) == {1}


def test_the_thread_count_is_restored_when_fitting_fails(tiny):
    model, tokenizer = tiny

    def fail(*_):
        raise RuntimeError("inside the fit")

    model.cls.register_forward_hook(fail)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with pytest.raises(RuntimeError, match="inside the fit"):
            fit_mlm_head(model, tokenizer, TEXTS, steps=3, seed=0, batch_size=8)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_a_fitted_head_is_the_same_whatever_the_thread_count(tmp_path, monkeypatch):
    """On 1 thread the encoder's passes run in turn with the head's steps; on 2, ahead on threads of their own,
    or (RUN_AHEAD off, the way before) in turn on both threads; on 8, still one thread each (four at once):
    a short pool's passes hold under 256 tokens, whose bits may depend on the thread count."""
    heads, encoder_ran_on = [], []
    before = torch.get_num_threads()
    try:
        for threads, ahead in ((1, True), (2, True), (2, False), (8, True)):
            monkeypatch.setattr(al.embedders, "RUN_AHEAD", ahead)
            torch.set_num_threads(threads)
            model, tokenizer = build_tiny(tmp_path)
            model.base_model.register_forward_hook(
                lambda *_, way=(threads, ahead): encoder_ran_on.append(
                    (way, threading.current_thread().name.startswith(AHEAD_THREADS), torch.get_num_threads())))
            fit_mlm_head(model, tokenizer, TEXTS, steps=4, seed=0, batch_size=16)
            heads.append({k: p.detach().clone() for k, p in model.cls.named_parameters()})
    finally:
        torch.set_num_threads(before)
    assert set(encoder_ran_on) == {((1, True), False, 1), ((2, True), True, 1), ((2, False), False, 2),
                                   ((8, True), True, 1)}
    for other in heads[1:]:
        for name in heads[0]:
            assert torch.equal(heads[0][name], other[name]), name


def test_the_pass_gives_the_same_bits_on_one_and_two_threads(tiny, monkeypatch):
    """On 2 threads two encoder passes run at once, one thread each, beside the head's passes on the caller's thread:
    the same bits as on one thread, and on 8 (four at once)."""
    monkeypatch.setattr(surprisal, "HEAD_ROWS", 5)  # many head passes between the encoder's
    model, tokenizer = tiny
    encoder_ran_on, head_ran_on = [], []
    model.base_model.register_forward_hook(lambda *_: encoder_ran_on.append(threading.current_thread().name))
    model.cls.register_forward_hook(lambda *_: head_ran_on.append((threading.current_thread().name,
                                                                    torch.get_num_threads())))
    out = {}
    before = torch.get_num_threads()
    try:
        for threads, ahead in ((1, True), (2, True), (2, False), (8, True)):
            monkeypatch.setattr(al.embedders, "RUN_AHEAD", ahead)
            torch.set_num_threads(threads)
            encoder_ran_on.clear()
            head_ran_on.clear()
            out[threads, ahead] = surprisal_of(model, tokenizer, batch_size=2)._compute(TEXTS)
            assert torch.get_num_threads() == threads  # restored
            assert {name.startswith(AHEAD_THREADS) for name in encoder_ran_on} == {threads > 1 and ahead}
            # the head on the caller's thread: on one torch thread beside passes run ahead, else on the caller's count
            assert set(head_ran_on) == {(threading.main_thread().name, 1 if ahead else threads)}
    finally:
        torch.set_num_threads(before)
    np.testing.assert_array_equal(out[1, True], out[2, True])
    np.testing.assert_array_equal(out[1, True], out[8, True])
    # RUN_AHEAD off (the old way, kept for benchmarks) runs these tiny passes (2 texts, 5 head rows) on both
    # threads: passes that small may come out in other last bits on other thread counts (an AVX2 CPU: 1 of 4,224)
    np.testing.assert_allclose(out[2, False], out[1, True], rtol=1e-6, atol=1e-7)


def test_a_second_pool_s_head_is_fitted_from_the_loaded_head_not_the_first_pool_s(tmp_path, monkeypatch):
    """One ALPS object fitting heads for two pools gives the second the head a fresh object fits for it
    (the fit resets the transform and the bias, not the LayerNorm: it starts from the head as loaded)."""
    from al.embedders.surprisal import pool_key

    pool_a, pool_b = TEXTS[:11], [t + " please" for t in TEXTS[:11]]

    def head_after(pools, directory):
        directory.mkdir()
        monkeypatch.setenv("AL_CACHE_DIR", str(directory / "cache"))  # each fits its own heads
        model, tokenizer = build_tiny(directory)
        mlm = MLMSurprisal(mlm_head="fit", fit_steps=3, seed=0)
        mlm._mlm, mlm._tokenizer = model, tokenizer
        for pool in pools:
            with pytest.warns(UserWarning) as said:  # fitting it now, then its loss
                mlm._prepare(pool, pool_key(pool))
            assert ["fitting it now" in str(w.message) for w in said] == [True, False]
            assert "ended at masked-LM loss" in str(said[1].message)
        return {k: p.detach().clone() for k, p in model.cls.named_parameters()}

    both, alone = head_after([pool_a, pool_b], tmp_path / "both"), head_after([pool_b], tmp_path / "alone")
    for name in alone:
        assert torch.equal(both[name], alone[name]), name


def test_the_fitted_head_warning_comes_before_the_fit_and_its_loss_after(tmp_path, monkeypatch):
    """A user learns that ALPS deviates from the paper (and how not to) before the minutes of the fit, not after."""
    import warnings

    from al.embedders import surprisal
    from al.embedders.surprisal import pool_key

    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "cache"))
    model, tokenizer = build_tiny(tmp_path)
    mlm = MLMSurprisal(mlm_head="fit", fit_steps=3, seed=0)
    mlm._mlm, mlm._tokenizer = model, tokenizer
    real_fit = surprisal.fit_mlm_head
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seen_at_fit: list[list[str]] = []
        monkeypatch.setattr(surprisal, "fit_mlm_head",
                            lambda *a, **k: seen_at_fit.append([str(w.message) for w in caught]) or real_fit(*a, **k))
        mlm._prepare(TEXTS[:11], pool_key(TEXTS[:11]))
    assert len(seen_at_fit) == 1 and len(seen_at_fit[0]) == 1
    before = seen_at_fit[0][0]
    assert "deviates from the paper" in before and "fitting it now" in before
    assert "--strategy-param model=bert-base-uncased" in before
    after = [str(w.message) for w in caught][1:]
    assert len(after) == 1 and "ended at masked-LM loss" in after[0]
    with warnings.catch_warnings(record=True) as caught:  # a later process loads it: one line, no fit
        warnings.simplefilter("always")
        again = MLMSurprisal(mlm_head="fit", fit_steps=3, seed=0)
        again._mlm, again._tokenizer = model, tokenizer
        again._prepare(TEXTS[:11], pool_key(TEXTS[:11]))
    assert len(seen_at_fit) == 1 and [("loaded from the cache" in str(w.message)) for w in caught] == [True]


def test_texts_finished_before_a_ctrl_c_are_kept_and_the_next_call_computes_only_the_rest(tiny, tmp_path,
                                                                                          monkeypatch):
    """Nothing is lost: texts whose chosen positions all went through the head before the interrupt are cached
    with the bits an uninterrupted pass gives them, and the same call then computes only the others."""
    monkeypatch.setattr(surprisal, "HEAD_ROWS", 1)  # a head pass per chosen position (8 in all here)
    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "cache"))
    model, tokenizer = tiny
    pool = list(dict.fromkeys(TEXTS))
    whole = dict(zip(pool, surprisal_of(model, tokenizer, batch_size=2)._compute(pool)))
    computed: list[list[str]] = []
    real_compute, real_head = MLMSurprisal._compute, surprisal._head_surprisal
    monkeypatch.setattr(MLMSurprisal, "_compute", lambda self, t: computed.append(list(t)) or real_compute(self, t))
    head_passes = []

    def stopping_at_the_fifth(*args):
        head_passes.append(args)
        if len(head_passes) == 5:
            raise KeyboardInterrupt
        return real_head(*args)

    monkeypatch.setattr(surprisal, "_head_surprisal", stopping_at_the_fifth)
    with pytest.raises(KeyboardInterrupt) as stopped:
        surprisal_of(model, tokenizer, batch_size=2)(pool)
    done, vectors = getattr(stopped.value, al.embedders.PARTIAL)
    kept = [computed[0][i] for i in done]
    assert 0 < len(kept) < len(pool)
    np.testing.assert_array_equal(vectors, np.stack([whole[t] for t in kept]))

    monkeypatch.setattr(surprisal, "_head_surprisal", real_head)
    al.embedders.EmbeddingCache._open.clear()  # a new process
    again = surprisal_of(model, tokenizer, batch_size=2)(pool)
    assert sorted(computed[1]) == sorted(set(pool) - set(kept))
    np.testing.assert_array_equal(again, np.stack([whole[t] for t in pool]))
