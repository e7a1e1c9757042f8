"""Task-specific spaces end to end with the real all-MiniLM-L6-v2 on a small Disaster Response slice."""
from __future__ import annotations

import json

import numpy as np
import pytest

from al.simulate import main

pytestmark = pytest.mark.integration


def rounds_of(out):
    return [json.loads(line) for line in (out / "rounds.jsonl").read_text().splitlines()]


def without_times(rounds):
    out = []
    for r in rounds:
        r = {k: v for k, v in r.items() if not k.startswith("seconds")}
        r["space"] = {k: v for k, v in r["space"].items() if k != "seconds_fit"}
        out.append(r)
    return out


def test_head_space_with_the_knn_classifier(small_jsonl, tmp_path):
    argv = ["--dataset", "jsonl", "--data-path", str(small_jsonl), "--frequent", "4", "--rare", "0",
            "--strategy", "class_embedding",
            "--classifier", "knn", "--space", "cea", "--space-param", "epochs=5", "--initial", "40", "--step", "40",
            "--budget", "120", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    rounds = rounds_of(tmp_path / "a")
    assert [r["space"]["fitted_on"] for r in rounds] == [40, 80, 120]
    # every round's space is new, so the kNN index is rebuilt, never extended
    assert all(r["classifier_info"]["index"] == "rebuilt" for r in rounds)
    assert rounds[-1]["macro_f1"] > 0.3
    assert main([*argv, "--out", str(tmp_path / "b")]) == 0
    assert without_times(rounds_of(tmp_path / "b")) == without_times(rounds)  # same seed, same run
    config = json.loads((tmp_path / "a" / "config.json").read_text())["config"]
    assert config["space"]["name"] == "cea" and config["space_scope"] == "head" and config["space_every"] == 1


def test_encoder_space_fine_tunes_minilm_and_is_deterministic(small_jsonl, tmp_path):
    """Encoder scope on CPU: two fits, of 30 then 50 labeled texts, the pool and test re-embedded after each."""
    argv = ["--dataset", "jsonl", "--data-path", str(small_jsonl), "--frequent", "4", "--rare", "0",
            "--strategy", "class_embedding",
            "--space", "aan", "--space-scope", "encoder", "--space-every", "2", "--initial", "30", "--step", "10",
            "--budget", "50", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    rounds = rounds_of(tmp_path / "a")
    assert [r["space"]["fitted_round"] for r in rounds] == [0, 0, 2]
    assert all(r["space"]["scope"] == "encoder" and r["space"]["device"] == "cpu" for r in rounds)
    import torch

    assert {r["space"]["cpu_threads"] for r in rounds} == {torch.get_num_threads()}  # the fit's bits depend on it
    assert rounds[0]["seconds_space"] > 0 and rounds[1]["seconds_space"] == 0
    assert main([*argv, "--out", str(tmp_path / "b")]) == 0
    assert without_times(rounds_of(tmp_path / "b")) == without_times(rounds)


def test_encoder_fit_changes_the_space_and_reads_only_its_labels(small_jsonl):
    from al.datasets import load_corpus
    from al.embedders import SentenceEmbedder
    from al.spaces.encoder import EncoderSpace

    corpus = load_corpus("jsonl", str(small_jsonl), n_frequent=4, n_rare=0)
    pool = corpus.splits["train"]
    texts = corpus.texts[pool].tolist()
    labeled = np.arange(30)
    fitted = EncoderSpace("cea", device="cpu").fit([texts[i] for i in labeled], corpus.Y[pool][labeled], seed=0)
    adapted = fitted.transform(texts)
    pretrained = SentenceEmbedder(device="cpu").encode(texts)
    assert adapted.shape == pretrained.shape
    np.testing.assert_allclose(np.linalg.norm(adapted, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(adapted, pretrained, atol=1e-3)  # the encoder's weights moved
    # the pretrained cache is untouched by the fine-tuned encoder
    np.testing.assert_array_equal(SentenceEmbedder(device="cpu").encode(texts[:5]), pretrained[:5])
    # a text it cuts is said as cut at the space's max_length, not the model's (which reads 256)
    with pytest.warns(UserWarning, match=r"^1 of the 1 texts embedded now are longer than the fitted encoder's "
                                         r"max_length \(--space-param max_length\) of 128 tokens"):
        fitted.transform(["water " * 200])


def test_an_encoder_space_refuses_a_max_length_above_the_model_s_before_it_trains(small_jsonl, monkeypatch):
    """513 fine-tuned, then broke on the first text that long when the pool was mapped (a traceback)."""
    import torch

    from al.errors import ConfigError
    from al.spaces.encoder import EncoderSpace

    monkeypatch.setattr(torch.optim.AdamW, "step", lambda *a, **k: pytest.fail("trained"))
    texts = ["a first text", "a second one", "and a third"]
    with pytest.raises(ConfigError, match=r"^space 'cea' \(encoder scope\) max_length 513 is more tokens than "
                                          r"all-MiniLM-L6-v2 reads \(512: its position embeddings\); give at most "
                                          r"max_length=512$"):
        EncoderSpace("cea", device="cpu", max_length=513).fit(texts, np.eye(3, dtype=np.int8), seed=0)


@pytest.mark.parametrize("objective", ["cea", "aan"])
def test_an_encoder_space_s_forward_passes_never_run_beside_the_last_step_s_gradients(small_jsonl, objective,
                                                                                     monkeypatch):
    """Gradients (the encoder's size) are dropped before each forward pass, not after it: a lower peak."""
    import sentence_transformers

    from al.datasets import load_corpus
    from al.spaces.encoder import EncoderSpace

    corpus = load_corpus("jsonl", str(small_jsonl), n_frequent=4, n_rare=0)
    pool = corpus.splits["train"][:24]
    alive = []  # encoder parameters holding a gradient when a training forward pass starts
    real = sentence_transformers.SentenceTransformer

    def watched(*args, **kwargs):
        encoder = real(*args, **kwargs)

        def count(module, inputs):
            if module.training:
                alive.append(sum(p.grad is not None for p in encoder.parameters()))

        encoder[0].register_forward_pre_hook(count)
        return encoder

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", watched)
    EncoderSpace(objective, device="cpu", epochs=2, batch_size=8).fit(corpus.texts[pool].tolist(), corpus.Y[pool],
                                                                      seed=0)
    assert len(alive) >= 6 and set(alive) == {0}, alive


def test_an_encoder_space_re_embeds_in_the_run_s_precision(small_jsonl):
    """bf16: the fitted encoder's passes run under bfloat16 autocast (vectors near fp32's, not its bits), and the
    fit's facts say so; fp32 facts stay as they were."""
    import torch

    from al.datasets import load_corpus
    from al.spaces.encoder import EncoderSpace, FittedEncoder

    corpus = load_corpus("jsonl", str(small_jsonl), n_frequent=4, n_rare=0)
    pool = corpus.splits["train"]
    texts = corpus.texts[pool].tolist()[:60]
    fitted = EncoderSpace("aan", device="cpu", precision="bf16").fit(texts[:30], corpus.Y[pool][:30], seed=0)
    assert fitted.precision == "bf16" and fitted.info()["embed_precision"] == "bf16"
    seen = []
    fitted.encoder[0].register_forward_pre_hook(lambda module, args: seen.append(torch.is_autocast_enabled("cpu")))
    bf16 = fitted.transform(texts)
    assert seen and all(seen)
    fp32 = FittedEncoder(fitted.encoder, fitted.model, {}, "fp32").transform(texts)
    assert not seen[-1]
    assert not np.array_equal(bf16, fp32)
    assert np.min(np.sum(bf16 * fp32, axis=1)) > 0.99
    assert "embed_precision" not in EncoderSpace("aan", device="cpu", epochs=1).fit(
        texts[:30], corpus.Y[pool][:30], seed=0).info()


def test_an_encoder_space_fits_under_the_attention_kernels_al_chooses_for_its_device(small_jsonl, monkeypatch):
    """The fit's passes run inside al.device.cudnn_attention_off(the fit's device): on a GPU, cuDNN's attention off."""
    from contextlib import contextmanager

    import al.device
    from al.datasets import load_corpus
    from al.spaces.encoder import EncoderSpace

    corpus = load_corpus("jsonl", str(small_jsonl), n_frequent=4, n_rare=0)
    pool = corpus.splits["train"][:16]
    entered = []

    @contextmanager
    def recorded(device):
        entered.append(device)
        yield

    monkeypatch.setattr(al.device, "cudnn_attention_off", recorded)
    EncoderSpace("aan", device="cpu", epochs=1, batch_size=8).fit(corpus.texts[pool].tolist(), corpus.Y[pool], seed=0)
    assert entered == ["cpu"]


def test_an_encoder_fit_counts_the_batches_of_the_pairs_it_draws(small_jsonl, monkeypatch):
    """Two pairs a text was the bar's total; a text with no negative (or no positive) partner has one: the bar
    said 2/13 batches and ended '12 batches done'."""
    from contextlib import contextmanager

    import al.progress
    from al.datasets import load_corpus
    from al.spaces.encoder import EncoderSpace

    bars = []
    real_progress = al.progress.progress

    @contextmanager
    def recorded(*args, **kwargs):
        with real_progress(*args, **kwargs) as bar:
            yield bar
            bars.append((bar.n, bar.total))

    monkeypatch.setattr(al.progress, "progress", recorded)  # imported by the fit when it runs
    corpus = load_corpus("jsonl", str(small_jsonl), n_frequent=4, n_rare=0)
    texts = corpus.texts[corpus.splits["train"]].tolist()[:40]
    Y = np.zeros((40, 2), dtype=np.int8)
    Y[:, 0] = 1  # every text shares label 0: none has a negative partner, so 40 pairs, not 80
    Y[::4, 1] = 1
    EncoderSpace("cea", device="cpu", batch_size=16).fit(texts, Y, seed=0)
    assert bars == [(3, 3)], bars  # 40 pairs in batches of 16 (it counted towards 5)
    monkeypatch.setattr(al.progress, "_quiet", True)  # --quiet, and every grid task: a silent bar counts alike
    EncoderSpace("cea", device="cpu", batch_size=16).fit(texts[:20], Y[:20], seed=0)
    assert bars[1:] == [(2, 2)], bars
