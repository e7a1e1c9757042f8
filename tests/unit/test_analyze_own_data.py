"""``python -m al.analyze`` on a researcher's own file: what it reads, what it says, and what it never claims."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from al.analysis.embedding_analysis import analyze_pool, proximity_table, reading
from al.errors import DataError
from tests.conftest import hash_embed


class HashEmbedder:
    """Stands in for the sentence encoder (no model)."""

    def __init__(self, *args, **kwargs):
        self.n_encoded_ = 0  # texts run through the model, as SentenceEmbedder counts them (no cache here)

    def encode(self, texts):
        self.n_encoded_ += len(set(texts))
        return hash_embed(texts)


def _rows(n: int, seed: int, split_of=lambda i: "train"):
    """``n`` texts, labels food (about 40 %), water (30 %) and rare (the first 12 texts), all with a split."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        labels = [name for name, p in (("food", 0.4), ("water", 0.3)) if rng.random() < p]
        if i < 12:
            labels.append("rare")
        rows.append((f"message {i} about {' '.join(labels) or 'nothing'} number {rng.integers(1e9)}",
                     "|".join(labels), split_of(i)))
    return rows


def _write(path, rows):
    path.write_text("text,labels,split\n" + "".join(f"{t},{labels},{split}\n" for t, labels, split in rows))
    return path


@pytest.fixture
def hashed(monkeypatch, tmp_path):
    import al.embedders

    monkeypatch.setattr(al.embedders, "SentenceEmbedder", HashEmbedder)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_file_with_every_text_in_train_and_a_rare_label_is_analysed(hashed, capsys):
    """The analysis reads the pool alone: a label with 12 pool texts and none in dev or test (which a simulation
    could not measure) is analysed when named, and a file that puts every text in train too."""
    from al.analyze import main

    data = _write(hashed / "alltrain.csv", _rows(300, 0))
    assert main(["--dataset", "csv", "--data-path", str(data), "--labels", "food", "rare", "--sizes", "40",
                 "--k", "20", "--out", "out"]) == 0
    result = json.loads((hashed / "out" / "analysis.json").read_text())
    assert result["label_names"] == ["food", "rare"]
    assert result["data"]["pool_texts"] == result["pool_size"] > 0
    assert (result["data"]["dev_texts"], result["data"]["test_texts"]) == (0, 0)
    summary = (hashed / "out" / "summary.md").read_text()
    assert "its 0 dev and 0 test texts are not read" in summary
    assert "1 of 3 labels (water)" in summary  # what the reduction left out is said
    said = capsys.readouterr().err
    assert "left out:" in said
    assert f"\n{result['pool_size']} texts embedded in " in said  # every vector computed (the stand-in has no cache)

    # the simulation's rule is unchanged: the same label cannot be learned and measured there
    from al.simulate import main as simulate

    assert simulate(["--dataset", "csv", "--data-path", str(data), "--labels", "food", "rare", "--describe"]) == 2
    assert "cannot be learned and measured" in capsys.readouterr().err


def test_a_file_of_fewer_labels_than_the_default_pick_is_analysed_with_all_of_them(hashed, capsys):
    """Two eligible labels under the default 5 + 5, none named (rare's 12 pool texts are too few): both are analysed,
    said; counts given stand."""
    from al.analyze import main

    data = _write(hashed / "three.csv", _rows(300, 0))
    assert main(["--dataset", "csv", "--data-path", str(data), "--sizes", "40", "--k", "20", "--out", "out"]) == 0
    assert sorted(json.loads((hashed / "out" / "analysis.json").read_text())["label_names"]) == ["food", "water"]
    assert capsys.readouterr().err.startswith(
        "note: three.csv has 2 eligible labels, fewer than the default 5 frequent + 5 rare: keeping all 2 (1 frequent "
        "+ 1 rare, as --frequent 1 --rare 1); --labels or --frequent/--rare pick others\n")
    assert main(["--dataset", "csv", "--data-path", str(data), "--sizes", "40", "--k", "20", "--out", "given",
                 "--frequent", "2"]) == 2
    assert "but 2 frequent + 5 rare = 7 were asked for" in capsys.readouterr().err


def test_the_embedding_line_says_how_many_vectors_came_from_the_cache(hashed, monkeypatch, capsys):
    import al.embedders
    from al.analyze import main

    class Cached(HashEmbedder):
        """Every vector in the cache, or all but 5."""
        fresh = 0

        def encode(self, texts):
            self.n_encoded_ = self.fresh
            return hash_embed(texts)

    data = _write(hashed / "d.csv", _rows(300, 0))
    monkeypatch.setattr(al.embedders, "SentenceEmbedder", Cached)
    argv = ["--dataset", "csv", "--data-path", str(data), "--labels", "food", "--sizes", "40", "--k", "20", "--out"]
    assert main([*argv, "a"]) == 0
    err = capsys.readouterr().err
    assert "\nvectors read from the cache in " in err and "loading included" not in err  # no model loaded
    Cached.fresh = 5
    assert main([*argv, "b"]) == 0
    n_pool = json.loads((hashed / "b" / "analysis.json").read_text())["pool_size"]
    err = capsys.readouterr().err
    assert f"\n5 texts embedded, {n_pool - 5} read from the cache in " in err
    # longer than the embedding progress line's own "done in": the model's loading is in it, and said to be
    assert re.search(r"read from the cache in \d+\.\d s \(the model's loading included\); analysing sizes 40", err)


def test_an_analysis_of_other_labels_in_the_default_folder_says_it_replaces_the_earlier(hashed):
    """A second analysis of the same file with other --labels replaced the first in its default folder with no
    word but the figures it removed."""
    import warnings

    from al.analyze import main

    data = _write(hashed / "d.csv", _rows(300, 0))
    argv = ["--dataset", "csv", "--data-path", str(data), "--sizes", "40", "--k", "20", "--labels"]
    assert main([*argv, "food", "water"]) == 0
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        assert main([*argv, "food", "water", "--quiet"]) == 0  # the same labels again: no word
        assert main([*argv, "food", "rare", "--quiet"]) == 0
        assert main([*argv, "food", "--out", "own"]) == 0  # a new folder of one's own: nothing replaced there
        assert main([*argv, "water", "--out", "own", "--quiet"]) == 0  # ... and then, other labels there
    replaced = [str(w.message) for w in shown if "replaces" in str(w.message)]
    assert len(replaced) == 2 and replaced[0].endswith(
        "d.csv-all-MiniLM-L6-v2 holds an analysis of other labels (food, water), which this one replaces; pass "
        "--out to keep both"), replaced
    assert replaced[1] == ("own holds an analysis of other labels (food), which this one replaces; pass another --out "
                           "to keep both")


def test_the_automatic_pick_is_the_simulations_where_dev_and_test_exist(tmp_path):
    from al.datasets import load_corpus

    data = _write(tmp_path / "d.csv", _rows(600, 1, split_of=lambda i: ("train", "train", "train", "dev", "test")[i % 5]
                                            if i >= 12 else "train"))
    simulated = load_corpus("csv", data, n_frequent=1, n_rare=1)
    analysed = load_corpus("csv", data, n_frequent=1, n_rare=1, analysis=True)
    assert list(simulated.label_names) == list(analysed.label_names) == ["food", "water"]  # rare: no dev/test texts, not picked
    rows = [(t, labels.replace("|rare", "").replace("rare", "") if i else "food|rare", split)
            for i, (t, labels, split) in enumerate(_rows(60, 2))]  # rare on one text alone
    with pytest.raises(DataError, match=r"cannot be analysed: 'rare' \(pool 1 = 2%.*needs >= 2 pool texts and at "
                                        r"most 50% of the 60 pool texts"):
        load_corpus("csv", _write(tmp_path / "one.csv", rows), labels=["food", "rare"], analysis=True)


def test_clld_reading_dev_is_refused_before_embedding_without_dev_texts(hashed, capsys):
    from al.analyze import main

    data = _write(hashed / "alltrain.csv", _rows(200, 3))
    assert main(["--dataset", "csv", "--data-path", str(data), "--labels", "food", "water", "--sizes", "40",
                 "--k", "20", "--space", "clld", "--space-param", "ldm=adaptive", "--out", "o", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "reads the dev split, and alltrain has no dev text" in err and "ldm=static" in err
    assert err.count("\n") == 1 and not (hashed / "o").exists()


def test_the_summary_says_when_a_clld_fit_reads_the_dev_split(hashed):
    """It said 'its dev and test texts are not read' while clld's adaptive label distances read dev."""
    from al.analyze import main

    data = _write(hashed / "split.csv", _rows(400, 3, split_of=lambda i: ("train", "train", "train", "dev", "test")[i % 5]))
    argv = ["--dataset", "csv", "--data-path", str(data), "--labels", "food", "water", "--sizes", "40", "--k", "20",
            "--held-out", "50", "--quiet", "--space", "clld"]
    assert main([*argv, "--space-param", "ldm=adaptive", "--out", "adaptive"]) == 0
    assert main([*argv, "--out", "static"]) == 0
    adaptive, static = ((hashed / name / "summary.md").read_text() for name in ("adaptive", "static"))
    data = json.loads((hashed / "static" / "analysis.json").read_text())["data"]
    dev, test = data["dev_texts"], data["test_texts"]
    assert dev > 0 and test > 0
    assert (f"its {dev} dev texts are read only by the clld fit (its label distances), its {test} test texts not at "
            f"all") in adaptive
    assert f"its {dev} dev and {test} test texts are not read" in static


def test_one_label_gives_no_best_worst_no_margin_and_no_separation_verdict():
    """With one label there is no other centroid and one primary label: nothing is compared that is not there."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 8)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    Y = (rng.random((120, 1)) < 0.3).astype(int)
    text = reading(analyze_pool(X, Y, ["food"], [30, 60], k=20))
    assert "best-placed" not in text and "0 of 0" not in text and "mean margin of –" not in text
    assert "No distance margin is defined" in text
    assert "silhouette and the k-means agreement are undefined here" in text
    assert "separated" not in text


def test_labels_placed_alike_have_no_best_and_worst_centroid():
    """Every text carries both labels: each ratio is 1.00 at its ceiling, and 'the best-placed centroid is food
    (1.00), the worst water (1.00)' named a difference that is not there."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 8)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    text = reading(analyze_pool(X, np.ones((60, 2), dtype=int), ["food", "water"], [30], k=20))
    assert "carried its label 1.00 times as often as chance" in text
    assert "best-placed" not in text
    # every labeled text shares a label with every other: the loss is 0 in any space ("0.000 against 0.000" had read
    # as a comparison)
    assert ("At |L| = 30 the soft nearest neighbour loss says nothing: every labeled text shares a label with every "
            "other, so no text of another class sits near any, in any space (0 against 0)") in text
    assert "against 0.000 if distances" not in text
    Y = np.ones((60, 2), dtype=int)
    Y[::2, 1] = 0  # water on half the texts, gathered about one direction: its ratio near 2, food's 1 at its ceiling
    X[1::2] = X[1::2] * 0.1 + np.eye(8, dtype=np.float32)[0]
    assert "best-placed" not in reading(analyze_pool(X, Y, ["food", "water"], [30], k=20))  # food: no room to rank


def test_the_best_and_worst_placed_centroids_are_ranked_by_the_way_from_chance_to_the_ceiling():
    """The raw ratio is mostly how rare a label is: on the Disaster Response data 'the worst that of aid_related
    (1.29, at most 1.33)' named a centroid whose 100 nearest texts were 96 to 98 of its own."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 16)).astype(np.float32)
    Y = np.zeros((200, 2), dtype=int)
    Y[:100, 0] = 1  # common: half the texts, all tight about one direction
    X[:100] = X[:100] * 0.05 + np.eye(16, dtype=np.float32)[0]
    Y[100:130, 1] = 1  # rare: 30 texts, 15 tight about another direction, 15 anywhere
    X[100:115] = X[100:115] * 0.05 + np.eye(16, dtype=np.float32)[1]
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    result = analyze_pool(X, Y, ["common", "rare"], [50], k=20)
    proximity = result["sizes"][0]["proximity"]
    # by hand: common 20 found of 20 possible, chance 10.53 -> ratio = ceiling = 1.90, the whole way (1.0);
    # rare 13 found, chance 3.07, 20 possible -> ratio 4.24 under a ceiling of 6.52: (4.24 - 1) / (6.52 - 1) = 0.59
    assert [proximity[j]["observed"] for j in ("common", "rare")] == [20, 13]
    assert ("Measured by how far its ratio got from chance towards its ceiling, the best-placed centroid is that of "
            "common (ratio 1.90, at most 1.90: 100% of the way from chance to it), the worst that of rare (ratio "
            "4.24, at most 6.52: 59% of the way from chance to it).") in reading(result)


def test_a_label_on_one_labeled_text_is_left_out_of_the_margin_it_would_inflate():
    """Texts on the unit circle in 2-D: a at 0 and 90 degrees (centroid at 45), b alone at 180 (its own centroid).
    a's own distance 1 - cos 45 = 0.29289; to b's centroid 1 - cos 180 = 2 and 1 - cos 90 = 1, mean 1.5: margin
    0.5 + sqrt(0.5) = 1.20711; b's margin would be 1 - cos 135 = 1.70711 to a's centroid, own 0. The mean over
    labels with 2 or more texts is a's alone."""
    from al.analysis.margins import mean_margin

    X = np.array([[1, 0], [0, 1], [-1, 0]] + [[np.cos(t), np.sin(t)] for t in np.linspace(0.1, 6, 30)],
                 dtype=np.float32)
    Y = np.array([[1, 0], [1, 0], [0, 1]] + [[int(i % 3 == 0), int(i % 5 == 0)] for i in range(30)])
    labeled = np.arange(3)
    result = analyze_pool(X, Y, ["a", "b"], [3], k=5, seed=0)  # its own random 3: the margins are checked below
    from al.analysis.diagnostics import diagnostics

    d = diagnostics(X[labeled], Y[labeled], X[3:], Y[3:], ["a", "b"], k=5)
    a = 0.5 + np.sqrt(0.5)
    assert d["margins"]["a"]["margin"] == pytest.approx(a, abs=1e-5)
    assert d["margins"]["b"]["margin"] == pytest.approx(1 + np.sqrt(0.5), abs=1e-5)
    assert d["summary"]["mean_margin"] == pytest.approx((a + 1 + np.sqrt(0.5)) / 2, abs=1e-5)  # as recorded
    assert mean_margin(d["margins"]) == pytest.approx(a, abs=1e-5)  # b's lone text left out
    text = reading({**result, "sizes": [{**result["sizes"][0], **d}]})
    assert "for 1 of 1 label-size pairs with at least 2 labeled texts" in text
    assert f"mean margin of {a:.3f} cosine distance at |L| = 3" in text
    assert "At |L| = 3, b had a single labeled text, its own centroid at distance 0, and is left out of the mean " \
           "margin." in text and "At |L| = 3, a had two labeled texts, so their own distance is small" in text


def test_the_reading_names_each_ratios_ceiling():
    """A label on most unlabeled texts cannot reach a high ratio: the reading and the table say how high it could."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 8)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    Y = np.stack([rng.random(400) < 0.8, rng.random(400) < 0.1], axis=1).astype(int)
    result = analyze_pool(X, Y, ["common", "rare"], [100], k=50)
    p = result["sizes"][0]["proximity"]
    unlabeled = Y[np.sort(np.random.default_rng(0).permutation(400)[100:])]
    for j, name in enumerate(["common", "rare"]):  # by hand: min(k, P) / (k P / n)
        positives = int(unlabeled[:, j].sum())
        assert p[name]["possible"] == min(50, positives)
        assert p[name]["ceiling"] == pytest.approx(min(50, positives) / (50 * positives / 300), abs=1e-6)
    assert p["common"]["ceiling"] < 1.5
    assert f"at most {p['common']['ceiling']:.2f}" in proximity_table(result)
    assert "whose median ceiling" in reading(result)


def test_a_label_name_holding_a_bar_stays_in_its_markdown_cell():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(100, 8)).astype(np.float32)
    Y = (rng.random((100, 2)) < 0.4).astype(int)
    table = proximity_table(analyze_pool(X / np.linalg.norm(X, axis=1, keepdims=True), Y, ["food|aid", "storm"],
                                         [30], k=10))
    header = table.splitlines()[0]
    assert header == "| labeled | food\\|aid | storm |"
    assert all(line.replace("\\|", "").count("|") == 4 for line in table.splitlines())


def test_the_reading_says_what_a_fitted_space_changed():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 8)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    Y = (rng.random((200, 2)) < 0.4).astype(int)
    result = analyze_pool(X, Y, ["a", "b"], [40, 80], k=20, space=lambda labeled, Y_labeled, seed: X[:, ::-1].copy(),
                          space_name="am", held_out=50)
    text = reading(result)
    for e in result["sizes"]:
        said = (f"|L| = {e['size']}: proximity ratio {e['summary']['mean_ratio']:.2f} -> "
                f"{e['adapted']['summary']['mean_ratio']:.2f}, held-out silhouette "
                f"{e['held_out']['pretrained']['silhouette']:.3f} -> {e['held_out']['am']['silhouette']:.3f}")
        assert said in text
    assert "In an am space fitted on each labeled set" in text


def test_the_separation_verdict_reads_the_size_silhouette_and_k_means_together():
    """With 5 labeled texts k-means 'recovered' the primary labels with NMI 1.000, and the reading still called the
    classes far from separated: it looked at the silhouette alone."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 8)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    Y = (rng.random((200, 3)) < 0.4).astype(int)
    result = analyze_pool(X, Y, ["a", "b", "c"], [60], k=20)
    entry = result["sizes"][0]

    def verdict(size, silhouette, nmi, k=3):
        q = {**entry["quality"], "silhouette": silhouette, "kmeans": {**entry["quality"]["kmeans"], "k": k,
                                                                      "nmi": nmi}}
        return reading({**result, "sizes": [{**entry, "size": size, "quality": q}]})

    small = verdict(14, 0.05, 1.0)
    assert ("with 14 labeled texts under 3 primary labels (fewer than 5 a label) these figures say little about how "
            "separated the classes are") in small and "far from separated" not in small
    assert "far from separated" not in verdict(15, 0.05, 0.9)  # 5 a label: judged
    assert "k-means finds the classes, but they are not compact and apart" in verdict(15, 0.05, 0.9)
    assert "the classes are far from separated in this embedding space" in verdict(15, 0.05, 0.2)
    assert "the classes are well separated in this embedding space" in verdict(15, 0.3, 0.2)


def test_the_margins_table_marks_a_label_on_one_labeled_text_and_shows_no_negative_zero():
    from al.analysis.embedding_analysis import margins_table

    result = {"label_names": ["a", "b"], "sizes": [{"size": 3, "margins": {
        "a": {"n_texts": 2, "own": 0.25, "other": 0.5, "margin": 0.25},
        "b": {"n_texts": 1, "own": -1e-8, "other": 0.523, "margin": 0.523}}}]}
    lines = margins_table(result).splitlines()  # as an analysis written before the shuffled margins were measured
    assert lines[2] == "| a | 0.250 / 0.500 / 0.250 |"
    assert lines[3] == "| b | 0.000 / 0.523 / 0.523 (1 text) |"
    assert lines[4] == "| mean margin, labels with 2+ texts | 0.250 |"  # b's lone text left out
    result["sizes"][0]["margins_shuffled"] = {"n_shuffles": 20, "mean_margin": 0.1, "std": 0.01,
                                              "margin": {"a": 0.1, "b": 0.5}}
    lines = margins_table(result).splitlines()
    assert lines[0] == "| label | own / other / margin (labels shuffled), 3 labeled |"
    assert lines[2:] == ["| a | 0.250 / 0.500 / 0.250 (0.100) |", "| b | 0.000 / 0.523 / 0.523 (0.500) (1 text) |",
                         "| mean margin, labels with 2+ texts | 0.250 (0.100) |"]


def test_a_ratio_near_a_low_ceiling_is_read_as_near_it_and_a_k_over_half_the_pool_is_named():
    """k = 100 on 153 unlabeled texts: every ceiling is at most 153/100 = 1.53, and a ratio of 1.48 (nearly every
    text the 100 nearest could carry) was read as finding the class "only somewhat more often than a random draw"."""
    rng = np.random.default_rng(1)
    Y = np.zeros((253, 2), int)
    Y[:115, 0] = Y[200:, 1] = 1
    X = rng.normal(size=(253, 8)).astype(np.float32) * 0.1
    X[:111, 0] += 3
    X[111:115, 1] += 3  # four 'water' texts in the 'fire' cluster
    X[200:251, 1] += 3
    X[251:, 1] -= 3  # two 'fire' texts opposite its cluster: the farthest from its centroid
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    result = analyze_pool(X, Y, ["water", "fire"], [100], k=100)
    proximity = result["sizes"][0]["proximity"]
    ratios = [proximity[name]["ratio"] for name in ("water", "fire")]
    assert all(1.1 < r < 1.5 for r in ratios) and {proximity[n]["ceiling"] for n in ("water", "fire")} == {1.53}
    reach = np.median([(r - 1) / (1.53 - 1) for r in ratios])  # by hand: the share of the way from chance
    text = reading(result)
    assert text.startswith("At labeled-set size 100, the 100 unlabeled texts")  # one size: not "Across sizes 100"
    assert f"which is near the ceiling (a median {reach:.0%} of the way from chance to it)" in text
    assert "only somewhat" not in text
    assert "k = 100 is 65% of the 153 unlabeled texts at |L| = 100" in text
    assert "k = 10 is" not in reading(analyze_pool(X, Y, ["water", "fire"], [100], k=10))
    # 233 and 183 unlabeled texts at 20 and 70: k = 100 is under half of the first, over half of the second alone
    # (the note had read the smallest size alone, which leaves the most)
    text = reading(analyze_pool(X, Y, ["water", "fire"], [20, 70], k=100))
    assert "k = 100 is 55% of the 183 unlabeled texts at |L| = 70: the nearest" in text, text
    text = reading(analyze_pool(X, Y, ["water", "fire"], [70, 100], k=100))
    assert ("k = 100 is 55% of the 183 unlabeled texts at |L| = 70, 65% of the 153 unlabeled texts at |L| = 100: "
            in text)


def test_a_ratio_under_a_low_ceiling_is_not_read_as_the_papers_chance():
    """Labels on most texts (ceilings about 1.2) and random vectors: the reading said "no more often than a random
    draw, as in the paper's Table 2", then that a ratio near 1 says little under such ceilings."""
    rng = np.random.default_rng(3)
    Y = (rng.random((400, 2)) < 0.8).astype(int)
    noise = rng.normal(size=(400, 16)).astype(np.float32)
    for shift, reached in ((0.0, None), (0.2, "which is a median {:.0%} of the way from chance to its ceiling.")):
        X = noise.copy()
        X[:, :2] += shift * Y  # a little of each label in its own direction, or none
        X /= np.linalg.norm(X, axis=1, keepdims=True)
        result = analyze_pool(X, Y, ["water", "fire"], [100], k=50)
        proximity = result["sizes"][0]["proximity"]
        ratios = [proximity[n]["ratio"] for n in ("water", "fire")]
        ceilings = [proximity[n]["ceiling"] for n in ("water", "fire")]
        assert all(c < 1.5 for c in ceilings) and all(r <= 1.1 for r in ratios)
        reach = np.median([(r - 1) / (c - 1) for r, c in zip(ratios, ceilings)])  # by hand
        text = reading(result)
        said = "which is no more than chance." if reached is None else reached.format(reach)
        assert "Table 2" not in text and said in text and (reached is None) == (reach <= 0.05), (reach, text)
        assert "a ratio near 1 says little" in text and "over all sizes" not in text  # one size
        assert "With ceilings this low (labels on a large share of the unlabeled texts)" in text  # k = 50 of 300
    # k = 250 of the 300 unlabeled texts: each ceiling is 300 / max(k, the label's unlabeled texts), k's doing
    crowded = reading(analyze_pool(X, Y, ["water", "fire"], [100], k=250))
    assert "With ceilings this low (k a large share of the unlabeled texts), a ratio near 1 says little" in crowded
