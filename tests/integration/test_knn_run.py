"""--classifier knn end to end with the real all-MiniLM-L6-v2: the index grows by each round's texts."""
from __future__ import annotations

import pytest

from al.records import read_config, read_rounds
from al.simulate import main
from tests.integration.conftest import LABELS

pytestmark = pytest.mark.integration


def run(small_jsonl, out):
    return main(["--dataset", "jsonl", "--data-path", str(small_jsonl), "--labels", *LABELS,
                 "--classifier", "knn", "--strategy", "random",
                 "--initial", "50", "--step", "50", "--budget", "150", "--out", str(out), "--quiet"])


def without_times(rounds):
    return [{k: v for k, v in r.items() if not k.startswith("seconds")} for r in rounds]


def test_knn_run_adds_each_rounds_texts_to_the_index(small_jsonl, tmp_path):
    assert run(small_jsonl, tmp_path / "a") == 0
    rounds = read_rounds(tmp_path / "a")
    assert [r["n_labeled"] for r in rounds] == [50, 100, 150]
    assert [r["classifier_info"]["index"] for r in rounds] == ["rebuilt", "added 50", "added 50"]
    for r in rounds:  # k chosen on the 60 dev texts, within 1..min(100, |L|)
        assert 1 <= r["classifier_info"]["k"] <= min(100, r["n_labeled"])
    assert rounds[-1]["macro_f1"] > 0.3  # real embeddings separate food / water / shelter / medical
    assert read_config(tmp_path / "a")["config"]["classifier"] == {
        "name": "knn", "params": {"k": "dev", "weights": "uniform", "threshold": 0.5, "warm_start": True}}
    # the same seed gives the same rounds
    assert run(small_jsonl, tmp_path / "b") == 0
    assert without_times(read_rounds(tmp_path / "b")) == without_times(rounds)
