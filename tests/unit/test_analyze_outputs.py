"""Where ``python -m al.analyze`` writes: a folder per data file, holding one analysis."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from tests.conftest import hash_embed, synthetic_corpus


class HashEmbedder:
    """Stands in for the sentence encoder (no model)."""

    def __init__(self, *args, **kwargs):
        self.n_encoded_ = 0  # texts run through the model, as SentenceEmbedder counts them (no cache here)

    def encode(self, texts):
        self.n_encoded_ += len(set(texts))
        return hash_embed(texts)


def _csv(path, seed):
    corpus = synthetic_corpus(400, seed=seed)
    rows = ["text,labels,split"]
    split_of = {int(i): name for name, idx in corpus.splits.items() for i in idx}
    for i, text in enumerate(corpus.texts):
        labels = "|".join(corpus.label_names[j] for j in np.flatnonzero(corpus.Y[i].toarray().ravel()))
        rows.append(f"{text},{labels},{split_of[i]}")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_two_files_go_to_two_folders_and_a_rerun_leaves_no_stale_figure(tmp_path, monkeypatch, capsys):
    import al.embedders
    from al.analyze import main

    monkeypatch.setattr(al.embedders, "SentenceEmbedder", HashEmbedder)
    monkeypatch.chdir(tmp_path)
    first, second = _csv(tmp_path / "mine.csv", 0), _csv(tmp_path / "theirs.csv", 1)
    common = ["--dataset", "csv", "--frequent", "1", "--rare", "1", "--k", "10", "--quiet"]
    assert main([*common, "--data-path", str(first), "--sizes", "20", "40"]) == 0
    assert main([*common, "--data-path", str(second), "--sizes", "20"]) == 0
    mine = tmp_path / "analysis" / "mine.csv-all-MiniLM-L6-v2"
    theirs = tmp_path / "analysis" / "theirs.csv-all-MiniLM-L6-v2"
    assert sorted(p.name for p in mine.glob("*.png")) == ["margins-20.png", "margins-40.png", "pca-20.png",
                                                          "pca-40.png", "proximity.png"]
    assert sorted(p.name for p in theirs.glob("*.png")) == ["margins-20.png", "pca-20.png", "proximity.png"]

    (mine / "notes.png").write_text("the user's")  # not an analysis figure: kept
    (mine / "pca-umap-by-hand.png").write_text("the user's too")  # named like one, but no analysis drew it
    capsys.readouterr()
    assert main([*common[:-1], "--data-path", str(first), "--sizes", "20"]) == 0
    assert sorted(p.name for p in mine.glob("*.png")) == ["margins-20.png", "notes.png", "pca-20.png",
                                                          "pca-umap-by-hand.png", "proximity.png"]
    assert "removed 2 figure(s) of an earlier analysis" in capsys.readouterr().err


def test_a_file_of_the_same_name_elsewhere_is_refused_the_default_folder(tmp_path, monkeypatch, capsys):
    import al.embedders
    from al.analyze import main

    monkeypatch.setattr(al.embedders, "SentenceEmbedder", HashEmbedder)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    common = ["--dataset", "csv", "--frequent", "1", "--rare", "1", "--k", "10", "--sizes", "20", "--quiet"]
    assert main([*common, "--data-path", str(_csv(tmp_path / "a" / "data.csv", 0))]) == 0
    assert main([*common, "--data-path", str(_csv(tmp_path / "b" / "data.csv", 1))]) == 2
    assert capsys.readouterr().err.strip().endswith(
        f"holds the analysis of another file of that name ({tmp_path / 'a' / 'data.csv'}); pass --out for this one's")
    assert main([*common, "--data-path", str(tmp_path / "a" / "data.csv")]) == 0  # its own file: again
    assert main([*common, "--data-path", str(tmp_path / "b" / "data.csv"), "--out", str(tmp_path / "b-out")]) == 0
    # a copy of the same bytes is analysed there, and the folder stays a's: the copy edited later is refused
    (tmp_path / "c").mkdir()
    copy = tmp_path / "c" / "data.csv"
    copy.write_bytes((tmp_path / "a" / "data.csv").read_bytes())
    assert main([*common, "--data-path", str(copy)]) == 0
    _csv(copy, 1)
    capsys.readouterr()
    assert main([*common, "--data-path", str(copy)]) == 2
    assert f"another file of that name ({tmp_path / 'a' / 'data.csv'})" in capsys.readouterr().err
    assert main([*common, "--data-path", str(tmp_path / "a" / "data.csv")]) == 0


def test_the_same_file_edited_is_analysed_again_in_its_default_folder(tmp_path, monkeypatch, capsys):
    import al.embedders
    from al.analyze import main
    from al.simulate import data_file_digest

    monkeypatch.setattr(al.embedders, "SentenceEmbedder", HashEmbedder)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a").mkdir()
    data = _csv(tmp_path / "a" / "data.csv", 0)
    common = ["--dataset", "csv", "--frequent", "1", "--rare", "1", "--k", "10", "--sizes", "20",
              "--data-path", str(data)]
    assert main([*common, "--quiet"]) == 0
    _csv(data, 1)  # the user edits the file in place
    capsys.readouterr()
    assert main(common) == 0
    assert f"{data} changed since its analysis in " in capsys.readouterr().err
    written = [json.loads(p.read_text()) for p in tmp_path.glob("analysis/*/analysis.json")]
    assert [w["data_digest"] for w in written] == [data_file_digest(str(data))]


def test_an_out_folder_holding_files_no_analysis_wrote_is_refused(tmp_path):
    import pytest

    from al.analysis.embedding_analysis import check_analysis_dir
    from al.errors import ConfigError

    check_analysis_dir(tmp_path / "new")  # a new folder
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".DS_Store").write_text("")
    check_analysis_dir(tmp_path / "empty")  # empty but for a hidden file
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "summary.md").write_text("my notes")
    with pytest.raises(ConfigError, match=r"^--out .*notes holds files no analysis wrote \(summary\.md\), which the "
                                          r"analysis would mix with or replace; give a new or empty directory"):
        check_analysis_dir(notes)
    (notes / "analysis.json").write_text('{"sizes": []}')  # an earlier analysis: replaced
    check_analysis_dir(notes)
    stopped = tmp_path / "stopped"  # an analysis stopped before its analysis.json: its figures only
    stopped.mkdir()
    for name in ("margins-100.png", "pca-100.png", "pca-cea-200.png", "proximity.png", "proximity-cea.png"):
        (stopped / name).write_text("")
    check_analysis_dir(stopped)
    (stopped / "holiday.png").write_text("")
    with pytest.raises(ConfigError, match=r"holds files no analysis wrote \(holiday\.png\)"):
        check_analysis_dir(stopped)


def test_repeated_pool_texts_are_said_where_the_pool_is_counted(tmp_path, monkeypatch, capsys):
    """'400 pool texts' then '399 texts embedded', with no word on why."""
    import al.embedders
    from al.analyze import main

    monkeypatch.setattr(al.embedders, "SentenceEmbedder", HashEmbedder)
    monkeypatch.chdir(tmp_path)
    path = _csv(tmp_path / "data.csv", 0)
    lines = path.read_text().splitlines()
    train = [line for line in lines[1:] if line.endswith(",train")]
    path.write_text("\n".join([*lines, train[0]]) + "\n")  # one pool text twice
    common = ["--dataset", "csv", "--data-path", str(path), "--frequent", "1", "--rare", "1", "--k", "10",
              "--sizes", "20"]
    assert main(common) == 0
    found = re.search(r"(\d+) pool texts \((\d+) distinct: a repeated text is embedded once and counts each time\)",
                      capsys.readouterr().err)
    assert found and int(found[2]) == int(found[1]) - 1


def test_default_sizes_that_do_not_fit_a_small_pool_are_left_out_with_a_note(tmp_path, monkeypatch, capsys):
    """A first analysis of a small file failed on the default sizes (1500 leaves no unlabeled text)."""
    import al.embedders
    from al.analyze import main

    monkeypatch.setattr(al.embedders, "SentenceEmbedder", HashEmbedder)
    monkeypatch.chdir(tmp_path)
    common = ["--dataset", "csv", "--data-path", str(_csv(tmp_path / "data.csv", 0)), "--frequent", "1", "--rare",
              "1", "--k", "20"]
    with pytest.warns(UserWarning, match=r"^default sizes 200 500 1500 left out: they leave --k 20 or fewer unlabeled "
                                         r"texts in the pool of 177; --sizes chooses others$"):
        assert main([*common, "--quiet"]) == 0  # it changes what is analysed: a warning, under --quiet too
    result = json.loads((tmp_path / "analysis" / "data.csv-all-MiniLM-L6-v2" / "analysis.json").read_text())
    assert [e["size"] for e in result["sizes"]] == [100]
    assert main([*common, "--sizes", "100", "1500"]) == 2  # sizes given: refused as given
    assert "--sizes: 1500 leaves no unlabeled text in a pool of " in capsys.readouterr().err
    # none fits (the pool of 177 with --k 80): it named --sizes the user never gave, then --k on the size it asked for
    assert main([*common[:-1], "80", "--out", "none"]) == 2
    err = capsys.readouterr().err
    assert err == ("error: the default sizes 100 200 500 1500 each leave --k 80 or fewer unlabeled texts in this pool "
                   "of 177 (the k nearest would be all of them, and every ratio to chance 1); give smaller ones, e.g. "
                   "--sizes 44 88\n")
    assert main([*common[:-1], "80", "--sizes", "44", "88", "--out", "advised", "--quiet"]) == 0  # the advice runs


def test_the_advice_for_a_pool_no_default_size_fits():
    from al.analyze import fitting_sizes_advice

    # a fifth of 112 is 22, a quarter 28, a half 56; each leaves more than 22 unlabeled
    assert fitting_sizes_advice((100, 200), 112, 100).endswith("e.g. --sizes 28 56 --k 22")
    assert fitting_sizes_advice((100,), 112, 10).startswith("the default size 100 leaves --k 10 or fewer")
    assert fitting_sizes_advice((100,), 112, 10).endswith("give smaller ones, e.g. --sizes 28 56")  # k fits: kept
    assert fitting_sizes_advice((100,), 112, 60).endswith("give smaller ones, e.g. --sizes 28")  # 56 leaves 56 <= 60
    assert fitting_sizes_advice((100,), 4, 100).endswith("the pool is too small to analyse: give a file with more "
                                                         "pool texts")
