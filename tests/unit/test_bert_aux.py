"""BertClassifier's auxiliary objectives on a tiny random BERT (built in a temporary directory, seconds)."""
from __future__ import annotations

import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import al.classifiers.bert as bert  # noqa: E402
from al.classifiers.bert import BertClassifier  # noqa: E402
from al.errors import ConfigError  # noqa: E402
from al.spaces import objectives as obj  # noqa: E402

WORDS = ("flood water food shelter rain storm sick doctor medicine help road blocked tent rice "
         "children house fire smoke wind").split()
X8 = ["flood water rain", "storm rain flood wind", "food rice", "tent shelter house food", "sick doctor medicine",
      "children sick", "flood food help", "road blocked"]
Y8 = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1], [1, 1, 0], [0, 0, 0]])
# Six texts, three labels, two texts each: every text has exactly one positive and four negatives, so
# AAN with 4 negatives and AM with 1 positive + 4 negatives take the whole batch whatever the draws.
X6, Y6 = X8[:6], Y8[:6]
TINY = dict(device="cpu", show_progress=False, max_length=16)

# predict_proba(X8) after fitting X8, Y8 with the BertClassifier of commit 8850b36 (before ``aux``
# existed): BertClassifier(model=tiny, max_epochs=3, batch_size=3, seed=3, learning_rate=1e-3, **TINY).
BEFORE_AUX = np.array([
    [0.48594996, 0.48879990, 0.50344706],
    [0.48112950, 0.49488831, 0.50166458],
    [0.47849256, 0.48993933, 0.50802970],
    [0.47091967, 0.49545991, 0.50307828],
    [0.46863213, 0.48803028, 0.51065093],
    [0.47463620, 0.48229870, 0.51346898],
    [0.47515690, 0.49042603, 0.50286627],
    [0.47232652, 0.48667780, 0.51120919],
], dtype=np.float32)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    """A 2-layer BERT (hidden 32) whose weights come from a numpy Generator, and its WordPiece tokenizer."""
    directory = tmp_path_factory.mktemp("tiny-bert")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    tokenizer = transformers.BertTokenizerFast(vocab={word: i for i, word in enumerate(vocab)})
    assert tokenizer("flood water")["input_ids"] == [2, 5, 6, 3]  # the words are known, not [UNK]
    config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)
    model = transformers.BertModel(config)
    rng = np.random.default_rng(0)
    with torch.no_grad():  # weights independent of transformers' initialisation code
        for name, param in sorted(model.named_parameters()):
            if "LayerNorm" in name:
                param.copy_(torch.ones_like(param) if name.endswith("weight") else torch.zeros_like(param))
            else:
                param.copy_(torch.from_numpy(rng.normal(0, 0.1, tuple(param.shape)).astype(np.float32)))
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return str(directory)


@pytest.fixture
def training_forwards(monkeypatch):
    """Every training-mode forward of the model: ``(input_ids, cls, logits)``."""
    seen = []
    forward = bert._EncoderWithHead.forward

    def recording(self, batch):
        cls, logits = forward(self, batch)
        if self.training:
            seen.append((batch["input_ids"], cls.detach().clone(), logits.detach().clone()))
        return cls, logits

    monkeypatch.setattr(bert._EncoderWithHead, "forward", recording)
    return seen


def batch_labels(clf: BertClassifier, input_ids: torch.Tensor, texts: list[str], Y: np.ndarray) -> np.ndarray:
    """The label rows of a padded batch, matched by token ids."""
    row_of = {tuple(clf.tokenizer_(text)["input_ids"]): i for i, text in enumerate(texts)}
    return np.stack([Y[row_of[tuple(t for t in ids.tolist() if t != 0)]] for ids in input_ids])


def test_without_aux_training_is_what_it_was_before(tiny):
    clf = BertClassifier(model=tiny, max_epochs=3, batch_size=3, seed=3, learning_rate=1e-3, **TINY).fit(X8, Y8)
    assert clf.predict_proba(X8) == pytest.approx(BEFORE_AUX, abs=1e-6)
    assert clf.aux_loss_ == [] and clf.info() == {"n_epochs": 3, "best_epoch": 3, "aux": None,
                                                  "cpu_threads": torch.get_num_threads(),
                                                  "train_loss": [round(x, 6) for x in clf.train_loss_]}
    assert len(clf.train_loss_) == 3


def test_a_fit_with_dev_data_records_each_epochs_dev_macro_f1_and_keeps_the_best(tiny):
    """The epoch kept was recorded, the dev macro-F1 that chose it was not."""
    clf = BertClassifier(model=tiny, max_epochs=4, patience=4, batch_size=3, seed=3, learning_rate=1e-3,
                         **TINY).fit(X8, Y8, X6, Y6)
    info = clf.info()
    assert len(info["dev_macro_f1"]) == len(info["train_loss"]) == info["n_epochs"] == 4
    assert info["dev_macro_f1"] == [round(f, 6) for f in clf.dev_macro_f1_]
    assert info["best_epoch"] == int(np.argmax(clf.dev_macro_f1_)) + 1  # the first epoch of the best score


def test_an_epoch_loss_that_overflowed_is_recorded_as_null(tiny):
    """A float16 overflow makes an epoch's mean loss inf or nan, which rounds.jsonl wrote as bare NaN / Infinity:
    JSON that strict readers (jq) refuse."""
    import json

    clf = BertClassifier(model=tiny, max_epochs=2, batch_size=4, seed=0, **TINY).fit(X8, Y8)
    clf.train_loss_ = [0.5, float("inf")]
    clf.aux_loss_ = [float("nan"), 0.25]
    clf.aux = "aan"
    info = clf.info()
    assert (info["train_loss"], info["aux_loss"]) == ([0.5, None], [None, 0.25])
    json.dumps(info, allow_nan=False)  # strict JSON


@pytest.mark.parametrize("threads", [1, 2])
def test_a_fit_on_the_cpu_records_the_thread_count_it_ran_on(tiny, threads):
    """A fine-tuning's last bits depend on torch's thread count: the round's record says which it was."""
    from al.device import torch_threads

    with torch_threads(threads):
        clf = BertClassifier(model=tiny, max_epochs=1, batch_size=4, seed=0, **TINY).fit(X8, Y8)
    assert clf.cpu_threads_ == threads and clf.info()["cpu_threads"] == threads


@pytest.mark.parametrize("aux, params", [
    ("snnl", {}), ("aan", {}), ("aan", {"aux_weight": 3.0}), ("am", {"aux_negatives": 5}), ("clld", {}),
    ("clld", {"aux_confusable": [[0, 1]], "aux_weight": 0.25}),
])
def test_the_loss_minimised_is_the_task_loss_plus_the_weighted_objective(tiny, training_forwards, aux, params):
    # one batch of the six texts per epoch; the second epoch's step is checked (SNNL: T = 1 / 2^0.55)
    clf = BertClassifier(model=tiny, max_epochs=2, batch_size=8, seed=1, aux=aux, **params, **TINY).fit(X6, Y6)
    input_ids, cls, logits = training_forwards[-1]
    m = len(X6)
    assert len(training_forwards) == 2 and len(cls) == (2 * m if aux == "clld" else m)  # CLLD: both views
    Y = batch_labels(clf, input_ids[:m], X6, Y6)
    task = torch.nn.BCEWithLogitsLoss(pos_weight=torch.from_numpy(clf.pos_weight_))(
        logits[:m], torch.from_numpy(Y.astype(np.float32)))
    weight = params.get("aux_weight", bert.AUX_WEIGHT[aux])

    if aux == "snnl":
        objective = obj.soft_nearest_neighbour_loss(cls, Y, obj.annealed_temperature(1))
    elif aux == "clld":
        ldm = obj.static_label_distance(3, params.get("aux_confusable", ()), tau=5.0)
        objective = obj.clld_contrastive_loss(cls, Y, ldm)
        pos_weight = torch.from_numpy(clf.pos_weight_)
        expected = obj.clld_loss(logits, Y, cls, ldm, lam=weight, pos_weight=pos_weight)
        assert expected.item() == pytest.approx(weight * task.item() + (1 - weight) * objective.item(), rel=1e-6)
    else:
        mask = obj.positive_mask(Y).numpy()
        negatives = np.array([[j for j in range(m) if j != i and not mask[i, j]] for i in range(m)])
        valid = torch.ones(negatives.shape, dtype=torch.bool)
        if aux == "aan":
            objective = obj.negative_supervision_loss(cls, cls[negatives], valid)
        else:
            positive = mask.argmax(axis=1)
            objective = obj.margin_loss(cls, cls[positive], cls[negatives], valid, delta=0.4)
    if aux != "clld":
        expected = task + weight * objective

    assert objective.item() > 0
    assert clf.aux_loss_[-1] == pytest.approx(objective.item(), rel=1e-5)
    assert clf.train_loss_[-1] == pytest.approx(expected.item(), rel=1e-5)
    assert clf.info() == {"n_epochs": 2, "best_epoch": 2, "aux": aux, "aux_weight": weight,
                          "cpu_threads": torch.get_num_threads(),  # each epoch's, the last pinned above by hand
                          "train_loss": [round(x, 6) for x in clf.train_loss_],
                          "aux_loss": [round(x, 6) for x in clf.aux_loss_]}
    assert len(clf.aux_loss_) == 2 and clf.info()["aux_loss"][-1] == pytest.approx(objective.item(), abs=1e-6)
    assert clf.transform(X6).shape == (m, 32)


@pytest.mark.parametrize("aux", ["aan", "clld"])
def test_training_with_aux_is_deterministic_on_cpu(tiny, aux):
    def fit(seed):
        return BertClassifier(model=tiny, max_epochs=2, batch_size=4, seed=seed, aux=aux, learning_rate=1e-3,
                              **TINY).fit(X8, Y8)

    first, again, other = fit(0), fit(0), fit(1)
    assert np.array_equal(first.predict_proba(X8), again.predict_proba(X8))
    assert np.array_equal(first.transform(X8), again.transform(X8))
    assert first.train_loss_ == again.train_loss_ and first.aux_loss_ == again.aux_loss_
    assert not np.array_equal(first.transform(X8), other.transform(X8))
    plain = BertClassifier(model=tiny, max_epochs=2, batch_size=4, seed=0, learning_rate=1e-3, **TINY).fit(X8, Y8)
    assert not np.array_equal(first.transform(X8), plain.transform(X8))  # the objective moved the space


@pytest.mark.parametrize("params, message", [
    ({"aux": "snl"}, "bert aux must be one of snnl, aan, am, clld (or null for none), got 'snl'"),
    ({"aux": "am", "aux_negatives": 1}, "bert aux_negatives must be an integer of at least 2 (am draws one positive, then "
                                        "negatives), got 1; give one such"),
    ({"aux": "aan", "aux_negatives": 0}, "bert aux_negatives must be a positive integer, got 0; give one such"),
    ({"aux": "snnl", "aux_weight": float("nan")}, "bert aux_weight must be a finite number or null (the paper's), "
                                                  "got nan; give one such, or leave it out for the paper's"),
    ({"aux": "clld", "aux_weight": 2}, "aux_weight is CLLD's lambda, the weight of BCE, and must lie in [0, 1]"),
    # a negative weight of the auxiliary loss trained, where the head space's aan refuses it (SNNL's alpha may be < 0)
    ({"aux": "aan", "aux_weight": -1}, "bert aux_weight is AAN's weight of its auxiliary loss and must be at least 0 "
                                      "(a negative one rewards the similarity the loss penalises), got -1; give 0 or "
                                      "more, or leave it out for the paper's 1.0"),
    ({"aux": "am", "aux_weight": -0.5}, "bert aux_weight is AM's weight of its auxiliary loss and must be at least 0"),
    ({"aux": "aan", "aux_positive": "same"}, "aux_positive must be one of shares, exact, got 'same'"),
    ({"aux": "aan", "aux_positive": "exat"}, "aux_positive must be one of shares, exact, got 'exat' (did you mean "
                                             "exact?); give one such"),
    # a batch of one text, or no epoch: the objective added nothing while the records named it
    ({"aux": "snnl", "batch_size": 1}, "bert batch_size must be an integer of at least 2 (aux=snnl compares the "
                                       "texts of a batch), got 1; give one such"),
    ({"aux": "am", "max_epochs": 0}, "bert aux='am' is read by nothing with max_epochs=0 (nothing trains); give "
                                     "max_epochs of 1 or more, or leave aux out"),
    ({"aux": "clld", "aux_confusable": [[0, 1], [2, 3], [1, 0]]}, "bert aux_confusable lists the pair [0, 1] twice "
                                                                  "(as [1, 0]: a pair is unordered); name each pair "
                                                                  "once"),
    ({"aux": "clld", "aux_confusable": [0, 1]}, "aux_confusable must be a list of label index pairs such as "
                                                "[[0, 1], [2, 5]] (indices in the run's label order), got [0, 1]"),
    # a count, as a fitted space's confusable takes: it had failed with TypeError: 'int' object is not iterable
    ({"aux": "clld", "aux_confusable": 2}, "got 2 (a count of pairs is a fitted space's confusable=k; bert's "
                                           "aux_confusable names the pairs)"),
])
def test_bad_aux_settings_fail_before_any_model_loads(params, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        BertClassifier(model="/nonexistent", **params, **TINY).fit(X8, Y8)


def test_a_confusable_pair_outside_the_labels_is_a_config_error(tiny):
    with pytest.raises(ConfigError, match=r"two distinct label indices in \[0, 3\), got \(0, 3\)"):
        BertClassifier(model=tiny, max_epochs=1, aux="clld", aux_confusable=[(0, 3)], **TINY).fit(X8, Y8)


@pytest.fixture
def progress_shown(monkeypatch):
    """Every progress display bert opens: its arguments and its updates ``(n, work)``."""
    from contextlib import contextmanager

    shown = []

    @contextmanager
    def recording(total, desc, unit="it", delay=2.0, enabled=True, work=None):
        updates = []
        shown.append({"total": total, "desc": desc, "unit": unit, "delay": delay, "enabled": enabled, "work": work,
                      "updates": updates})

        class Bar:
            def update(self, n=1, work=None):
                updates.append((n, work))

        yield Bar()

    monkeypatch.setattr(bert, "progress", recording)
    return shown


def test_every_prediction_pass_shows_progress_counted_in_texts_and_timed_by_padded_tokens(tiny, progress_shown,
                                                                                          monkeypatch):
    """Dev evaluation, predict_proba (test, stop set, pool), transform and MC dropout each say what they do;
    each update counts a batch's texts, and its work is the padded tokens of the batch the model ran."""
    clf = BertClassifier(model=tiny, max_epochs=2, batch_size=4, eval_batch_size=3, seed=0, device="cpu",
                         max_length=16).fit(X8[:6], Y8[:6], X8, Y8)
    ran = []
    forward = bert._EncoderWithHead.forward

    def recording(self, batch):
        ran.append(batch["input_ids"].numel())  # rows x padded length
        return forward(self, batch)

    monkeypatch.setattr(bert._EncoderWithHead, "forward", recording)
    clf.predict_proba(X8)
    clf.transform(X8[:5])
    clf.predict_proba_dropout(X8, n_samples=2, seed=0)
    training = ("bert: fitting on 6 texts (at most 2 epochs)", "bert epoch 1/2", "bert epoch 2/2")
    fitting, *epochs = [p for p in progress_shown if p["desc"] in training]  # the fit's, then each epoch's
    assert (fitting["desc"], fitting["total"], fitting["unit"], fitting["updates"]) == (
        training[0], 2, "epochs", [(1, None), (1, None)])  # an epoch at a time: short epochs say nothing themselves
    assert [(p["desc"], p["total"]) for p in epochs] == [("bert epoch 1/2", 6), ("bert epoch 2/2", 6)]
    passes = [p for p in progress_shown if p["desc"] not in training]  # not training
    assert [p["desc"] for p in passes] == [
        "bert epoch 1/2: evaluating on 8 dev texts", "bert epoch 2/2: evaluating on 8 dev texts",
        "bert: predicting 8 texts", "bert: representations of 5 texts", "bert: 2 dropout passes over 8 texts",
    ]
    assert [p["total"] for p in passes] == [8, 8, 8, 5, 16]
    assert all(p["unit"] == "texts" and p["enabled"] and p["delay"] == 2.0 for p in passes)  # quick passes: silent
    assert [[n for n, _ in p["updates"]] for p in passes] == [[3, 3, 2]] * 3 + [[3, 2], [3, 3, 2] * 2]
    assert all(sum(work for _, work in p["updates"]) == p["work"] for p in passes)
    assert [work for p in passes[2:] for _, work in p["updates"]] == ran  # each the padded tokens the model ran
    lengths = sorted((len(clf.tokenizer_(t)["input_ids"]) for t in X8), reverse=True)
    assert [work for _, work in passes[2]["updates"]] == [3 * lengths[0], 3 * lengths[3], 2 * lengths[6]]
    assert lengths[0] > lengths[6]  # longest first: the work is not the count of texts


def test_progress_of_prediction_passes_changes_no_result(tiny, monkeypatch, capsys):
    from al import progress as progress_module

    def fit(show_progress):
        return BertClassifier(model=tiny, max_epochs=2, batch_size=4, eval_batch_size=3, seed=0, device="cpu",
                              max_length=16, threshold="dev", show_progress=show_progress).fit(X8[:6], Y8[:6], X8, Y8)

    def outputs(clf):
        return clf.predict_proba(X8), clf.transform(X8), clf.predict_proba_dropout(X8, 2, 0)

    silent = fit(False)
    silent_outputs = outputs(silent)
    assert capsys.readouterr().err == ""
    # every display speaks at once (no delay), as a long pass's would
    monkeypatch.setattr(bert, "progress", lambda *args, **kwargs: progress_module.progress(
        *args, **{**kwargs, "delay": 0.0}))
    shown = fit(True)
    shown_outputs = outputs(shown)
    lines = capsys.readouterr().err.splitlines()
    passes = [re.sub(r"\d+ s\b", "T", line) for line in lines
              if not re.match(r"bert epoch ./2: \d|bert: fitting on 6 texts \(at most 2 epochs\): ", line)]
    assert passes == [  # 3 of 8 texts, the longest: 44% of the padded tokens
        "bert epoch 1/2: evaluating on 8 dev texts: 3/8 texts (44% of the work), T, about T left",
        "bert epoch 1/2: evaluating on 8 dev texts: 8 texts done in T",
        "bert epoch 2/2: evaluating on 8 dev texts: 3/8 texts (44% of the work), T, about T left",
        "bert epoch 2/2: evaluating on 8 dev texts: 8 texts done in T",
        "bert: predicting 8 texts: 3/8 texts (44% of the work), T, about T left",
        "bert: predicting 8 texts: 8 texts done in T",
        "bert: representations of 8 texts: 3/8 texts (44% of the work), T, about T left",
        "bert: representations of 8 texts: 8 texts done in T",
        "bert: 2 dropout passes over 8 texts: 3/16 texts (22% of the work), T, about T left",
        "bert: 2 dropout passes over 8 texts: 16 texts done in T",
    ]
    assert shown.train_loss_ == silent.train_loss_  # epoch 2's dropout masks come after epoch 1's dev pass
    assert shown.dev_macro_f1_ == silent.dev_macro_f1_ and np.array_equal(shown.thresholds_, silent.thresholds_)
    assert all(np.array_equal(a, b) for a, b in zip(shown_outputs, silent_outputs))


def test_a_caller_names_the_passes_inside_its_block(tiny, progress_shown):
    """describe_passes names every prediction pass inside it (nested blocks too), and the default comes back after."""
    clf = BertClassifier(model=tiny, max_epochs=1, batch_size=4, eval_batch_size=3, seed=0, device="cpu",
                         max_length=16).fit(X8[:6], Y8[:6])
    with clf.describe_passes("the 8 test texts"):
        clf.predict_proba(X8)
        with clf.describe_passes("representations of the 5 pool texts"):
            clf.transform(X8[:5])
        clf.predict(X8)
    clf.predict_proba(X8)
    clf.transform(X8[:5])
    assert [p["desc"] for p in progress_shown if not p["desc"].startswith(("bert epoch", "bert: fitting"))] == [
        "bert: predicting the 8 test texts", "bert: predicting representations of the 5 pool texts",
        "bert: predicting the 8 test texts", "bert: predicting 8 texts", "bert: representations of 5 texts",
    ]


def test_the_token_limit_is_the_smaller_of_the_position_embeddings_and_the_tokenizer_s_own():
    from types import SimpleNamespace as NS

    from al.models import token_limit

    assert token_limit(NS(max_position_embeddings=512), NS(model_max_length=int(1e30))) == 512
    assert token_limit(NS(max_position_embeddings=514), NS(model_max_length=512)) == 512  # RoBERTa
    assert token_limit(NS(), NS()) is None  # no such limit said: none enforced
    # position ids of RoBERTa-like models (mpnet: all-mpnet-base-v2) start after the padding index 1: 514 - 2
    assert token_limit(NS(max_position_embeddings=514, model_type="mpnet", pad_token_id=1)) == 512
    assert token_limit(NS(max_position_embeddings=512, model_type="bert", pad_token_id=0)) == 512


def four_label_file(path, names):
    """A CSV of 800 texts, each of two of the four ``names``, with a split column (a tenth test, a tenth dev)."""
    rows = [f"message number {i},{names[i % 4]}|{names[(i // 4) % 4]},{['test', 'dev', *['train'] * 8][i % 10]}"
            for i in range(800)]
    path.write_text("text,labels,split\n" + "\n".join(rows) + "\n")
    return path


def test_confusable_pairs_outside_the_runs_labels_are_refused_before_the_run_folder_is_made(tiny, tmp_path, capsys):
    """The README's pair [5, 9] on a file of 4 labels: 'starting:', a run folder with its config.json, then an
    error naming no parameter ('a confusable pair must be ...'); now one line naming aux_confusable and the labels."""
    from al.simulate import main

    names = ["food", "shelter", "water", "medical_help"]
    data = four_label_file(tmp_path / "d.csv", names)
    out = tmp_path / "run"
    argv = ["--dataset", "csv", "--data-path", str(data), "--classifier", "bert", "--classifier-param",
            f"model={tiny}", "--classifier-param", "aux=clld", "--budget", "150", "--out", str(out)]
    assert main([*argv, "--classifier-param", "aux_confusable=[[0, 1], [5, 9]]"]) == 2
    err = capsys.readouterr().err
    assert err.endswith("error: bert aux_confusable pair [5, 9] is no two distinct indices of the run's 4 labels, in "
                        "[0, 4); its labels in order: 0 food, 1 medical_help, 2 shelter, 3 water; give pairs of "
                        "those\n"), err  # the run's order, not the file's: why it is said
    assert not out.exists()
    BertClassifier.check_labels({"aux": "clld", "aux_confusable": [[0, 3], [1, 2]]}, names)  # in range: no error
    BertClassifier.check_labels({"aux": "aan", "aux_confusable": [[5, 9]]}, names)  # read by clld alone
    with pytest.raises(ConfigError, match=r"pair \[2, 2\] is no two distinct indices"):
        BertClassifier.check_labels({"aux": "clld", "aux_confusable": [[2, 2]]}, names)


def test_a_grid_dry_run_names_confusable_pairs_outside_the_runs_labels(tiny, tmp_path, capsys):
    """The dry run passed them, and every run then failed on them."""
    from al.grid import main as grid

    data = four_label_file(tmp_path / "d.csv", ["food", "shelter", "water", "medical_help"])
    path = tmp_path / "g.yaml"
    path.write_text(f"out: {tmp_path / 'o'}\nsettings: {{dataset: csv, data_path: {data}, n_frequent: 2, n_rare: 2, "
                    f"budget: 150, classifier: "
                    f"{{name: bert, params: {{model: {tiny}, aux: clld, aux_confusable: [[0, 1], [5, 9]]}}}}}}\n"
                    f"grid: {{seed: [0, 1]}}\n")
    assert grid([str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "will fail: seed-0, seed-1: bert aux_confusable pair [5, 9] is no two distinct indices of the run's 4 " \
           "labels, in [0, 4); its labels in order: 0 food," in err, err
