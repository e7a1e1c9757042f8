"""End to end with the real all-MiniLM-L6-v2 on ~200 Disaster Response texts."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from al.embedders import SentenceEmbedder
from al.records import read_config, read_rounds
from al.simulate import main
from tests.integration.conftest import LABELS

pytestmark = pytest.mark.integration


def run(args, out):
    return main([*args, "--initial", "20", "--step", "20", "--budget", "60", "--out", str(out), "--quiet"])


@pytest.mark.parametrize("strategy", ["class_embedding", "random"])
def test_three_rounds_with_minilm(small_jsonl, tmp_path, strategy):
    args = ["--dataset", "jsonl", "--data-path", str(small_jsonl), "--labels", *LABELS, "--strategy", strategy]
    assert run(args, tmp_path / "a") == 0
    rounds = read_rounds(tmp_path / "a")
    assert [r["n_labeled"] for r in rounds] == [20, 40, 60]
    assert rounds[-1]["macro_f1"] > 0.3  # real embeddings separate food / water / shelter / medical
    # the same seed on CPU gives the same picks and metrics
    assert run(args, tmp_path / "b") == 0
    again = read_rounds(tmp_path / "b")
    for x, y in zip(rounds, again):
        assert x["picked"] == y["picked"] and x["macro_f1"] == y["macro_f1"]


def test_the_texts_a_run_labeled_are_read_back_from_its_records(small_jsonl, tmp_path, monkeypatch):
    """rounds.jsonl holds pool indices: which rows of the user's file the strategy chose could not be told."""
    import json

    from al.errors import DataError
    from al.simulate import labeled_texts

    data = tmp_path / "mine.jsonl"
    data.write_text(small_jsonl.read_text())
    args = ["--dataset", "jsonl", "--data-path", str(data), "--labels", *LABELS, "--strategy", "class_embedding"]
    assert run(args, tmp_path / "a") == 0
    rounds = read_rounds(tmp_path / "a")
    rows = labeled_texts(tmp_path / "a")
    assert [r["after_round"] for r in rows] == [None] * 20 + [0] * 20 + [1] * 20
    assert [r["pool_index"] for r in rows] == rounds[0]["initial"] + rounds[0]["picked"] + rounds[1]["picked"]
    given = {json.loads(line)["text"].strip(): {label for label in LABELS if json.loads(line)[label]}
             for line in data.read_text().splitlines()}
    assert all(set(r["labels"]) == given[r["text"]] for r in rows)
    assert {label: sum(label in r["labels"] for r in rows) for label in LABELS} == rounds[-1]["labeled_counts"]
    assert not any("taken_by" in r for r in rows)  # a random start: no label took a text
    assert run([*args, "--initial-strategy", "label_names"], tmp_path / "named") == 0
    named, first = labeled_texts(tmp_path / "named"), read_rounds(tmp_path / "named")[0]
    assert [r["taken_by"] for r in named[:20]] == first["initial_reasons"] and "taken_by" not in named[20]
    assert sorted(first["initial_reasons"]) == sorted(LABELS * 5)  # 4 labels take turns: 5 texts each
    monkeypatch.setattr("al.simulate._LOADED_CORPORA", {})
    data.write_text(data.read_text().replace(rows[0]["text"], rows[0]["text"] + " edited", 1))
    with pytest.raises(DataError, match="the data read now is not what"):
        labeled_texts(tmp_path / "a")


def test_a_default_folder_named_after_params_finds_its_relative_data_file_from_elsewhere(small_jsonl, tmp_path,
                                                                                          monkeypatch):
    """A run of the default folder records out: null; labeled_texts finds where it was started by the folder's
    name, which now names the strategy's params."""
    from al.simulate import labeled_texts

    (tmp_path / "mine.jsonl").write_text(small_jsonl.read_text())
    monkeypatch.chdir(tmp_path)
    assert main(["--dataset", "jsonl", "--data-path", "mine.jsonl", "--labels", *LABELS, "--strategy", "cvirs",
                 "--strategy-param", "threshold=0.3", "--initial", "20", "--step", "20", "--budget", "40",
                 "--quiet"]) == 0
    run_dir = tmp_path / "runs" / "jsonl-mine-cvirs_threshold=0.3-logreg-seed0"
    assert read_config(run_dir)["config"]["out"] is None
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert len(labeled_texts(run_dir)) == 40


def test_embeddings_are_cached_across_runs(small_jsonl):
    texts = pd.read_json(small_jsonl, lines=True)["text"].tolist()
    first = SentenceEmbedder("all-MiniLM-L6-v2")
    a = first.encode(texts)
    assert first.n_encoded_ == len(set(texts))
    assert a.dtype == np.float32 and a.shape == (len(texts), 384)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    second = SentenceEmbedder("all-MiniLM-L6-v2")
    b = second.encode(texts[::-1])
    assert second.n_encoded_ == 0  # all from disk
    np.testing.assert_array_equal(b, a[::-1])


def test_cli_resumes_a_killed_run(small_jsonl, tmp_path, capsys):
    args = ["--dataset", "jsonl", "--data-path", str(small_jsonl), "--labels", *LABELS]
    assert run(args, tmp_path / "full") == 0
    full = read_rounds(tmp_path / "full")
    # a run killed after its first round: the records hold round 0 only
    assert run(args, tmp_path / "killed") == 0
    lines = (tmp_path / "killed" / "rounds.jsonl").read_text().splitlines()
    (tmp_path / "killed" / "rounds.jsonl").write_text(lines[0] + "\n")
    capsys.readouterr()
    assert main([*args, "--initial", "20", "--step", "20", "--budget", "60", "--out", str(tmp_path / "killed")]) == 0
    assert "resuming after round 1" in capsys.readouterr().err
    resumed = read_rounds(tmp_path / "killed")
    assert [r["picked"] for r in resumed] == [r["picked"] for r in full]
    assert [r["macro_f1"] for r in resumed] == [r["macro_f1"] for r in full]
    # other settings in the same directory are refused, nothing overwritten
    assert main([*args, "--initial", "20", "--step", "10", "--budget", "60", "--out", str(tmp_path / "killed")]) == 2
    assert "holds a run with other settings (step: 20 -> 10)" in capsys.readouterr().err
    assert read_rounds(tmp_path / "killed") == resumed


def test_a_file_of_fewer_eligible_labels_than_the_default_pick_keeps_them_all_and_resumes(small_jsonl, tmp_path,
                                                                                          capsys):
    """Four labels under the default 5 + 5, none named: the run keeps all four, says so, records the counts it used,
    and the same command with a larger budget resumes it (the counts decided before the stored settings are read)."""
    args = ["--dataset", "jsonl", "--data-path", str(small_jsonl), "--strategy", "random", "--initial", "20",
            "--step", "20", "--out", str(tmp_path / "run")]
    assert main([*args, "--budget", "40", "--quiet"]) == 0  # said under --quiet too: it is what the run reads
    err = capsys.readouterr().err
    assert ("note: small.jsonl has 4 eligible labels, fewer than the default 5 frequent + 5 rare: keeping all 4 (2 "
            "frequent + 2 rare, as --frequent 2 --rare 2); --labels or --frequent/--rare pick others\n") in err
    stored = read_config(tmp_path / "run")
    assert (stored["config"]["n_frequent"], stored["config"]["n_rare"]) == (2, 2)
    assert sorted(stored["corpus"]["label_names"]) == sorted(LABELS)
    assert main([*args, "--budget", "60"]) == 0
    said = capsys.readouterr().err
    assert ("extending to budget 60 (was 40): resuming after round 1: random on small (200 pool texts, 4 labels: "
            in said)
    assert sorted(said.split("4 labels: ")[1].split(")")[0].split(", ")) == sorted(LABELS)  # found, so named
    assert [r["n_labeled"] for r in read_rounds(tmp_path / "run")] == [20, 40, 60]
    assert main([*args, "--budget", "60", "--frequent", "5"]) == 2  # counts given are kept as given
    assert "but 5 frequent + 5 rare = 10 were asked for" in capsys.readouterr().err


def test_a_finished_run_given_a_larger_budget_continues_into_the_run_a_fresh_one_would_be(small_jsonl, tmp_path,
                                                                                          capsys):
    """Budget 50 (rounds at 20, 40, 50: the round at 40 picked 10, the last step shrunk to fit), then 60 in the
    same directory: the rounds from 40 on are computed again, and the records are those of a run of budget 60
    from the start."""
    args = ["--dataset", "jsonl", "--data-path", str(small_jsonl), "--labels", *LABELS, "--strategy", "cvirs",
            "--initial", "20", "--step", "20"]
    assert main([*args, "--budget", "60", "--out", str(tmp_path / "fresh"), "--quiet"]) == 0
    assert main([*args, "--budget", "50", "--out", str(tmp_path / "run"), "--quiet"]) == 0
    assert [r["n_labeled"] for r in read_rounds(tmp_path / "run")] == [20, 40, 50]
    capsys.readouterr()
    assert main([*args, "--budget", "60", "--out", str(tmp_path / "run")]) == 0
    line = next(line for line in capsys.readouterr().err.splitlines() if line.startswith("extending"))
    assert line.startswith("extending to budget 60 (was 50): resuming after round 1: cvirs on small")
    assert line.endswith("; its stored rounds at 40 and 50 labeled texts are computed again")

    def without_times(rounds):
        return [{k: v for k, v in r.items() if not k.startswith("seconds") and k != "resumed"} for r in rounds]

    assert without_times(read_rounds(tmp_path / "run")) == without_times(read_rounds(tmp_path / "fresh"))
    assert read_config(tmp_path / "run")["config"]["budget"] == 60
    assert main([*args, "--budget", "40", "--out", str(tmp_path / "run")]) == 2
    assert "(budget: 60 -> 40); a budget can be raised to continue a run, not lowered: pass another --out or " \
           "remove that directory" in capsys.readouterr().err


def test_bert_classifier_through_the_loop(small_jsonl, tmp_path):
    """--classifier bert runs the full fine-tuning path: 2 rounds, dev early stopping, DAL on [CLS]."""
    args = ["--dataset", "jsonl", "--data-path", str(small_jsonl), "--labels", *LABELS,
            "--classifier", "bert", "--classifier-param", "max_epochs=2", "--classifier-param", "max_length=64",
            "--strategy", "dal",
            "--initial", "20", "--step", "20", "--budget", "40", "--out", str(tmp_path / "bert"), "--quiet"]
    assert main(args) == 0
    rounds = read_rounds(tmp_path / "bert")
    assert [r["n_labeled"] for r in rounds] == [20, 40]
    assert all(1 <= r["classifier_info"]["n_epochs"] <= 2 for r in rounds)
    assert len(rounds[0]["strategy_info"]["sub_batches"]) == 10  # DAL ran on the classifier's representation
    assert rounds[-1]["macro_f1"] > 0.0


def test_a_warm_started_bert_run_resumed_after_a_crash_records_what_an_uninterrupted_one_does(small_jsonl, tmp_path):
    """warm_start carries bert's weights from round to round: a new process refits the finished rounds first.

    A crash leaves rounds.jsonl whole up to its last finished round (atomic writes), which the copy's
    truncated file stands for."""
    import shutil

    from al.records import ROUNDS_FILE

    args = ["--dataset", "jsonl", "--data-path", str(small_jsonl), "--labels", *LABELS,
            "--classifier", "bert", "--classifier-param", "warm_start=true", "--classifier-param", "max_epochs=1",
            "--classifier-param", "max_length=32", "--strategy", "random", "--no-stopping",
            "--initial", "20", "--step", "10", "--budget", "40", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "whole")]) == 0
    shutil.copytree(tmp_path / "whole", tmp_path / "crashed")
    lines = (tmp_path / "crashed" / ROUNDS_FILE).read_text().splitlines(keepends=True)
    (tmp_path / "crashed" / ROUNDS_FILE).write_text("".join(lines[:2]))  # rounds 0 and 1 finished
    assert main([*args, "--out", str(tmp_path / "crashed")]) == 0

    def without_times(rounds):
        return [{k: v for k, v in r.items() if not k.startswith("seconds") and k != "resumed"} for r in rounds]

    whole, resumed = read_rounds(tmp_path / "whole"), read_rounds(tmp_path / "crashed")
    assert without_times(resumed) == without_times(whole)
    assert resumed[2]["seconds_replay"] > 0 and resumed[2]["resumed"] is True


def test_a_cold_alps_run_embeds_its_pool_in_the_surprisal_pass_and_records_the_same(small_jsonl, tmp_path,
                                                                                   monkeypatch):
    """ALPS's pass over the pool gives the pool's sentence vectors (one encoder pass, not two); nothing else changes."""
    args = ["--dataset", "jsonl", "--data-path", str(small_jsonl), "--labels", *LABELS, "--strategy", "alps",
            "--strategy-param", "fit_steps=3"]
    encoded = []
    real_encode = SentenceEmbedder._encode
    monkeypatch.setattr(SentenceEmbedder, "_encode",
                        lambda self, t, **kw: encoded.append(len(t)) or real_encode(self, t, **kw))
    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "cold"))
    with pytest.warns(UserWarning, match="ALPS"):
        assert run(args, tmp_path / "cold-run") == 0
    shared = read_rounds(tmp_path / "cold-run")
    frame = pd.read_json(small_jsonl, lines=True)
    assert "seconds_prepare" in shared[0]
    # the pool's texts came from the surprisal pass: the embedding ran the test split and the longer pool texts only
    # (the calls before it: the check of each pass shape)
    tokenizer = SentenceEmbedder()._load().tokenizer
    pool_texts = frame.loc[frame["split"] == "train", "text"].tolist()
    long_pool = sum(len(ids) > 128 for ids in tokenizer(pool_texts)["input_ids"])
    assert encoded[-1] == (frame["split"] == "test").sum() + long_pool
    assert sum(encoded[:-1]) < (frame["split"] == "train").sum()

    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "embedded-first"))
    assert run([*args[:-4], "--strategy", "random"], tmp_path / "random") == 0  # the pool cached: ALPS at its query
    with pytest.warns(UserWarning, match="ALPS"):
        assert run(args, tmp_path / "apart-run") == 0
    apart = read_rounds(tmp_path / "apart-run")
    assert "seconds_prepare" not in apart[0]
    digests = [read_config(tmp_path / run)["embeddings_digest"] for run in ("cold-run", "apart-run")]
    assert digests[0] == digests[1]
    for x, y in zip(shared, apart, strict=True):
        assert {k: v for k, v in x.items() if not k.startswith("seconds")} == \
               {k: v for k, v in y.items() if not k.startswith("seconds")}
