"""What ``al.analyze`` reads into its numbers: margins next to shuffled labels, a verdict that weighs the
neighbours, and inputs where a figure is undefined written as such (null, never NaN)."""
from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest

from al.analysis.embedding_analysis import analyze_pool, reading
from al.analysis.margins import shuffled_margins
from al.errors import ConfigError
from tests.unit.test_analyze_outputs import HashEmbedder, _csv


def _margin_by_hand(X: np.ndarray, Y: np.ndarray, j: int) -> float:
    """Margin of label j from the definition: mean over its texts of (mean distance to the other centroids -
    distance to its own), cosine distance, loops only."""
    def centroid(col):
        rows = [X[i] for i in range(len(X)) if Y[i, col]]
        return sum(rows) / len(rows)

    def dist(a, b):
        return 1 - float(a @ b) / (np.linalg.norm(a) * np.linalg.norm(b))

    mine = [i for i in range(len(X)) if Y[i, j]]
    others = [c for c in range(Y.shape[1]) if c != j and Y[:, c].any()]
    own = sum(dist(X[i], centroid(j)) for i in mine) / len(mine)
    other = sum(dist(X[i], centroid(c)) for i in mine for c in others) / (len(mine) * len(others))
    return other - own


def test_a_shuffled_margin_is_the_margin_of_the_labels_given_to_other_texts_as_the_definition_computes_it():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(12, 5))
    Y = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 1, 1], [0, 0, 1], [1, 0, 0],
                  [0, 1, 0], [0, 0, 1], [1, 0, 1], [0, 1, 0], [1, 0, 0], [0, 0, 1]])
    got = shuffled_margins(X, Y, ["a", "b", "c"], seed=7, n_shuffles=3)
    perms = np.random.default_rng([7, 12])
    by_hand = []
    for _ in range(3):
        shuffled = Y[perms.permutation(12)]
        by_hand.append([_margin_by_hand(X, shuffled, j) for j in range(3)])
    by_hand = np.array(by_hand)
    assert got["n_shuffles"] == 3
    assert got["margin"] == pytest.approx(dict(zip("abc", by_hand.mean(axis=0))), abs=1e-6)
    means = by_hand.mean(axis=1)  # every label has 2+ texts: each shuffle's mean margin is over all three
    assert got["mean_margin"] == pytest.approx(means.mean(), abs=1e-6)
    assert got["std"] == pytest.approx(means.std(ddof=1), abs=1e-6)


def test_margins_of_classes_the_space_holds_stand_above_the_shuffled_ones_and_of_classes_it_does_not_do_not():
    rng = np.random.default_rng(0)
    Y = np.zeros((200, 4), int)
    Y[np.arange(200), np.arange(200) % 4] = 1
    apart = rng.normal(size=(200, 16)) * 0.3
    apart[np.arange(200), np.arange(200) % 4] += 3  # each class its own direction
    noise = rng.normal(size=(200, 16))  # no class in the space
    for X, shows in ((apart, True), (noise, False)):
        result = analyze_pool(X, Y, list("abcd"), [40], k=20)
        entry = result["sizes"][0]
        real, chance = entry["summary"]["mean_margin"], entry["margins_shuffled"]["mean_margin"]
        assert chance > 0  # a centroid of its own texts: positive with no class at all
        spread = entry["margins_shuffled"]["std"]
        assert (real > chance + 0.3) is shows and (abs(real - chance) < 3 * spread) is not shows
        text = reading(result)
        assert "With the labels shuffled among the same labeled texts (20 shuffles" in text
        assert ("no class structure shows in the margins" in text) is not shows


def _quality_result(snnl: float, uniform: float, silhouette: float = 0.05, nmi: float = 0.3) -> dict:
    margins = {"n_texts": 50, "own": 0.4, "other": 0.6, "margin": 0.2}
    proximity = {"observed": 30, "expected": 10.0, "ratio": 3.0, "possible": 100, "ceiling": 10.0}
    quality = {"snnl": {"0.1": snnl}, "snnl_uniform": uniform, "snnl_anchors": 100, "silhouette": silhouette,
               "davies_bouldin": 2.0, "calinski_harabasz": 10.0,
               "kmeans": {"k": 2, "nmi": nmi, "ari": 0.2, "accuracy": 0.6}}
    entry = {"size": 100, "labeled_counts": {"a": 50, "b": 50}, "proximity": {"a": proximity, "b": proximity},
             "margins": {"a": margins, "b": margins}, "quality": quality}
    return {"label_names": ["a", "b"], "sizes": [entry], "k": 100, "pool_size": 1000}


def test_neighbours_that_share_their_labels_are_not_read_as_classes_far_from_separated():
    # the loss a tenth of uniform: a text's soft neighbours are mostly of its class, though the rarest labels
    # make no compact clusters (silhouette 0.05, NMI 0.3)
    text = reading(_quality_result(snnl=0.08, uniform=0.83))
    assert "far from separated" not in text
    assert "a text's nearest labeled texts mostly share a label with it (the loss at most 25% of its uniform value)" \
        in text
    text = reading(_quality_result(snnl=0.116, uniform=0.276))  # 42% of uniform: as on the default data
    assert "the classes are far from separated in this embedding space" in text
    assert "well separated" in reading(_quality_result(snnl=0.5, uniform=0.8, silhouette=0.3))


def test_tiny_labeled_sets_are_read_without_dashes_and_with_the_reason_a_figure_is_undefined():
    rng = np.random.default_rng(1)
    Y = np.zeros((60, 3), int)
    Y[np.arange(60), np.arange(60) % 3] = 1
    X = rng.normal(size=(60, 8))
    result = analyze_pool(X, Y, ["a", "b", "c"], [2, 3], k=5)  # 2 and 3 texts: no label has two of them
    text = reading(result)
    assert "–" not in text, text
    assert "the soft nearest neighbour loss is undefined: no labeled text shares a label with another" in text
    assert "they need more labeled texts than primary labels, and 2 texts have 2" in text


def test_every_text_at_one_point_writes_null_never_nan_and_scores_no_separation(tmp_path):
    X = np.ones((120, 6))
    Y = np.zeros((120, 2), int)
    Y[::2, 0] = Y[1::2, 1] = 1
    result = analyze_pool(X, Y, ["a", "b"], [50], k=20, out=tmp_path / "one")
    text = (tmp_path / "one" / "analysis.json").read_text(encoding="utf-8")

    def refuse(constant):
        raise ValueError(f"{constant} is no JSON")

    written = json.loads(text, parse_constant=refuse)  # NaN or Infinity would raise
    entry = written["sizes"][0]
    assert entry["pca"]["explained_variance_ratio"] == [None, None]
    assert {entry["quality"][name] for name in ("silhouette", "davies_bouldin", "calinski_harabasz")} == {None}
    assert entry["quality"]["kmeans"]["nmi"] is None
    summary = (tmp_path / "one" / "summary.md").read_text(encoding="utf-8")
    assert "nan" not in summary.lower()
    assert "(no variance to explain: every labeled text at one point)" in summary
    assert "texts at more than one point of the space" in reading(result)


def test_labels_outside_ascii_are_written_as_they_are():
    out = analyze_pool(np.random.default_rng(0).normal(size=(80, 4)), np.eye(2, dtype=int)[np.arange(80) % 2],
                       ["配送", "café"], [20], k=10)
    assert out["label_names"] == ["配送", "café"]


def test_analysis_json_keeps_labels_outside_ascii_in_utf8(tmp_path):
    analyze_pool(np.random.default_rng(0).normal(size=(80, 4)), np.eye(2, dtype=int)[np.arange(80) % 2],
                 ["配送", "café"], [20], k=10, out=tmp_path / "u")
    raw = (tmp_path / "u" / "analysis.json").read_text(encoding="utf-8")
    assert '"配送"' in raw and '"café"' in raw and "\\u" not in raw


@pytest.mark.parametrize("kwargs, message", [
    ({"k": 20, "sizes": [50.5]}, "analyze_pool's sizes must be whole numbers (each a labeled-set size, "
                                 "sizes=[100, 500] say), got 50.5"),
    ({"k": 20.5, "sizes": [50]}, "analyze_pool's k must be a whole number (the unlabeled texts searched around "
                                 "each centroid, k=100 say), got 20.5"),
    ({"k": "20", "sizes": [50]}, "got '20'"),
    ({"k": True, "sizes": [50]}, "got True"),
])
def test_analyze_pool_refuses_a_size_or_k_that_is_no_whole_number(kwargs, message):
    X = np.random.default_rng(0).normal(size=(200, 4))
    with pytest.raises(ConfigError, match=None) as caught:
        analyze_pool(X, np.eye(2, dtype=int)[np.arange(200) % 2], ["a", "b"], **kwargs)
    assert message in str(caught.value)


def test_analyze_pool_takes_whole_numbers_in_any_type():
    X = np.random.default_rng(0).normal(size=(200, 4))
    result = analyze_pool(X, np.eye(2, dtype=int)[np.arange(200) % 2], ["a", "b"], sizes=[np.int64(40), 60.0],
                          k=20.0)
    assert [e["size"] for e in result["sizes"]] == [40, 60] and result["k"] == 20


def test_a_pool_of_one_text_repeated_is_refused_naming_the_text_column(tmp_path, monkeypatch, capsys):
    import al.embedders
    from al.analyze import main

    monkeypatch.setattr(al.embedders, "SentenceEmbedder", HashEmbedder)
    monkeypatch.chdir(tmp_path)
    data = _csv(tmp_path / "mine.csv", 0)
    code = main(["--dataset", "csv", "--data-path", str(data), "--text-column", "split", "--frequent", "1",
                 "--rare", "1", "--k", "10", "--sizes", "20", "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("error: mine.csv's ")
    assert err[-1].endswith(" pool texts are one text repeated ('train'): nothing to analyse; is 'split' the column "
                            "of the texts? give theirs with --text-column")
    assert not (tmp_path / "analysis").exists() or not any((tmp_path / "analysis").iterdir())


def test_a_file_named_outside_ascii_gets_a_folder_of_its_own_name(tmp_path, monkeypatch, capsys):
    import al.embedders
    from al.analyze import main

    monkeypatch.setattr(al.embedders, "SentenceEmbedder", HashEmbedder)
    monkeypatch.chdir(tmp_path)
    common = ["--dataset", "csv", "--frequent", "1", "--rare", "1", "--k", "10", "--sizes", "20", "--quiet"]
    accented = _csv(tmp_path / "données é.csv", 0)
    earlier = tmp_path / "analysis" / "donn_es_.csv-all-MiniLM-L6-v2"  # as earlier versions named its folder
    assert main([*common, "--data-path", str(accented), "--out", str(earlier)]) == 0
    assert main([*common[:-1], "--data-path", str(accented)]) == 0
    assert ("note: an earlier analysis of données é.csv is in analysis/donn_es_.csv-all-MiniLM-L6-v2 (named as "
            "earlier versions named it); this one goes to analysis/données_é.csv-all-MiniLM-L6-v2") in \
        capsys.readouterr().err
    shutil.rmtree(earlier)
    assert main([*common, "--data-path", str(_csv(tmp_path / "données è.csv", 1))]) == 0
    assert sorted(p.name for p in (tmp_path / "analysis").iterdir()) == [
        "données_è.csv-all-MiniLM-L6-v2", "données_é.csv-all-MiniLM-L6-v2"]
    # two names that make one folder: the second is refused, said as such
    assert main([*common, "--data-path", str(_csv(tmp_path / "a b.csv", 0))]) == 0
    capsys.readouterr()
    assert main([*common, "--data-path", str(_csv(tmp_path / "a_b.csv", 1))]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: analysis/a_b.csv-all-MiniLM-L6-v2 holds the analysis of another file whose name gives the same "
        f"folder ({tmp_path / 'a b.csv'}); pass --out for this one's")


def test_a_test_text_also_in_train_is_not_warned_of_by_an_analysis_that_reads_no_test_text(tmp_path, monkeypatch,
                                                                                              capsys):
    import al.embedders
    from al.analyze import main

    monkeypatch.setattr(al.embedders, "SentenceEmbedder", HashEmbedder)
    monkeypatch.chdir(tmp_path)
    data = _csv(tmp_path / "mine.csv", 0)
    lines = data.read_text().splitlines()
    train = next(line for line in lines[1:] if line.endswith(",train"))
    data.write_text("\n".join([*lines, train.rsplit(",", 1)[0] + ",test"]) + "\n")  # a train text in test too
    args = ["--dataset", "csv", "--frequent", "1", "--rare", "1", "--k", "10", "--sizes", "20", "--quiet"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main([*args, "--data-path", str(data)]) == 0
    assert not [w for w in caught if "also stand in the train or dev split" in str(w.message)]
    assert "also stand in the train or dev split" not in capsys.readouterr().err
    from al.datasets.tabular import load_table

    with pytest.warns(UserWarning, match="also stand in the train or dev split"):  # al.simulate's reading warns
        load_table(data)


def test_a_space_whose_fit_reports_nan_is_written_with_null(tmp_path):
    """A space returning (X, {"loss": nan}) ended the analysis with a ValueError after every figure was drawn (JSON
    has no NaN), leaving no analysis.json."""
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(80, 4)), np.eye(2, dtype=int)[np.arange(80) % 2]

    def space(labeled, Y_labeled, seed):
        return X * 2.0, {"loss": float("nan"), "loss_first_epoch": 1.0, "epochs": 3, "losses": [1.0, float("inf")]}

    analyze_pool(X, Y, ["a", "b"], [20], k=10, out=tmp_path / "s", space=space, space_name="mine", held_out=20)
    fit = json.loads((tmp_path / "s" / "analysis.json").read_text())["sizes"][0]["adapted"]["fit"]
    assert fit == {"loss": None, "loss_first_epoch": 1.0, "epochs": 3, "losses": [1.0, None]}
