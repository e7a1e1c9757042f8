"""Class-embedding analyses and embedding-space quality, checked against numbers worked out by hand."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from al.analysis.diagnostics import diagnostics
from al.analysis.embedding_analysis import analyze_pool, check_sizes, labeled_splits, save_figure
from al.analysis.margins import centroid_margins, plot_margins
from al.analysis.pca import pca_projection, plot_pca
from al.analysis.proximity import centroid_proximity, nearest_neighbours, plot_proximity
from al.analysis.quality import (
    cluster_separation,
    clustering_accuracy,
    embedding_quality,
    kmeans_agreement,
    primary_labels,
    snnl_uniform,
    soft_nearest_neighbour_loss,
)
from al.analyze import main
from al.centroids import class_centroids
from al.errors import ConfigError, DataError

PNG = b"\x89PNG\r\n\x1a\n"


def angle(degrees: float) -> list[float]:
    r = np.deg2rad(degrees)
    return [np.cos(r), np.sin(r)]


# -- centroid proximity ------------------------------------------------------------------------------------

# Labels A, B, C. Labeled: (1, 0) carries A, (0, 1) carries B, nothing carries C,
# so the centroids are A at 0 degrees, B at 90 degrees, C none.
X_LABELED = np.array([angle(0), angle(90)])
Y_LABELED = np.array([[1, 0, 0], [0, 1, 0]])
# Unlabeled texts on the unit circle (angle: labels)
X_UNLABELED = np.array([angle(10), angle(20), angle(80), angle(70), angle(180), angle(45)])
Y_UNLABELED = np.array([
    [1, 0, 0],  # 10 deg: A
    [0, 1, 0],  # 20 deg: B
    [0, 1, 0],  # 80 deg: B
    [1, 1, 0],  # 70 deg: A, B
    [0, 0, 1],  # 180 deg: C
    [0, 0, 1],  # 45 deg: C
])


def test_proximity_counts_and_chance_by_hand():
    centroids, _ = class_centroids(X_LABELED, Y_LABELED)
    p = centroid_proximity(centroids, X_UNLABELED, sp.csr_matrix(Y_UNLABELED), k=2)
    # A (0 deg): nearest 10 deg (A) and 20 deg (B) -> 1; chance = 2/6 texts carry A x k 2 = 0.667
    # B (90 deg): nearest 80 deg (B) and 70 deg (A, B) -> 2; chance = 3/6 x 2 = 1
    # C: no labeled text, no centroid -> NaN; chance = 2/6 x 2 = 0.667
    assert p.k == 2
    np.testing.assert_allclose(p.observed, [1, 2, np.nan])
    np.testing.assert_allclose(p.expected, [2 / 3, 1, 2 / 3])
    np.testing.assert_allclose(p.ratio, [1.5, 2.0, np.nan])
    # the most each can find: min(k, unlabeled texts with it) = min(2, 2), min(2, 3), min(2, 2); ratio at most
    # that over chance: 2 / (2/3) = 3, 2 / 1 = 2, and C none (no centroid)
    np.testing.assert_array_equal(p.possible, [2, 2, 2])
    np.testing.assert_allclose(p.ceiling, [3.0, 2.0, np.nan])
    assert p.as_dict("ABC")["C"] == {"observed": None, "expected": 0.666667, "ratio": None, "possible": 2,
                                     "ceiling": None}


def test_proximity_clips_k_to_the_unlabeled_set():
    centroids, _ = class_centroids(X_LABELED, Y_LABELED)
    p = centroid_proximity(centroids, X_UNLABELED, Y_UNLABELED, k=100)
    # k = 6: every unlabeled text is "near"; A is on 2 of them, chance 2/6 x 6 = 2
    assert p.k == 6
    np.testing.assert_allclose(p.observed[:2], [2, 3])
    np.testing.assert_allclose(p.ratio[:2], [1, 1])


def test_nearest_neighbours_normalises_and_is_exact():
    base = np.array([[10.0, 0.0], [0.0, 0.1], [1.0, 1.0]])  # lengths differ; only the angle counts
    np.testing.assert_array_equal(nearest_neighbours(np.array([[0.1, 1.0]]), base, 3), [[1, 2, 0]])
    with pytest.raises(ConfigError, match="k must be between 1 and"):
        nearest_neighbours(base, base, 4)


def test_proximity_rejects_mismatched_labels():
    centroids, _ = class_centroids(X_LABELED, Y_LABELED)
    with pytest.raises(DataError, match=r"expected \(6, 3\)"):
        centroid_proximity(centroids, X_UNLABELED, Y_UNLABELED[:, :2], k=2)


# -- margins -----------------------------------------------------------------------------------------------

# (1, 0): A; (0, 1): B; 45 degrees: A and B; label C on nothing.
X_MARGINS = np.array([angle(0), angle(90), angle(45)])
Y_MARGINS = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0]])


def test_margins_by_hand():
    centroids, _ = class_centroids(X_MARGINS, Y_MARGINS)
    m = centroid_margins(X_MARGINS, Y_MARGINS, centroids)
    # centroid A = mean of 0 and 45 deg -> direction 22.5 deg; B -> 67.5 deg.
    # own A: both A texts (0 and 45 deg) are 22.5 deg from it: 1 - cos(pi/8) = 0.076120
    # other A: B's centroid is 67.5 deg from 0 deg and 22.5 deg from 45 deg:
    #   (1 - cos(3pi/8) + 1 - cos(pi/8)) / 2 = (0.617317 + 0.076120) / 2 = 0.346719
    # margin = 0.346719 - 0.076120 = 0.270598; B is the mirror image
    np.testing.assert_array_equal(m.n_texts, [2, 2, 0])
    np.testing.assert_allclose(m.own, [0.076120, 0.076120, np.nan], atol=1e-6)
    np.testing.assert_allclose(m.other, [0.346719, 0.346719, np.nan], atol=1e-6)
    np.testing.assert_allclose(m.margin, [0.270598, 0.270598, np.nan], atol=1e-6)
    assert m.as_dict("ABC")["C"] == {"n_texts": 0, "own": None, "other": None, "margin": None}


def test_margin_without_another_centroid_is_undefined():
    centroids, _ = class_centroids(X_MARGINS[:1], Y_MARGINS[:1])
    m = centroid_margins(X_MARGINS[:1], Y_MARGINS[:1], centroids)
    assert m.own[0] == pytest.approx(0.0) and np.isnan(m.other[0]) and np.isnan(m.margin[0])


# -- soft nearest neighbour loss ---------------------------------------------------------------------------

# Four unit vectors at 0, 90, 180, 270 degrees; cosine distances: neighbours 1, opposite 2.
SQUARE = np.array([angle(0), angle(90), angle(180), angle(270)])


def test_snnl_single_label_by_hand():
    Y = np.array([[1, 0], [1, 0], [0, 1], [0, 1]])  # {0, 90} vs {180, 270}
    # each point: one same-class neighbour at distance 1; others at 1 and 2
    # T = 1:   -log(e^-1 / (2 e^-1 + e^-2)) = log(2 + e^-1) = 0.861995
    # T = 0.5: -log(e^-2 / (2 e^-2 + e^-4)) = log(2 + e^-2) = 0.758624
    assert soft_nearest_neighbour_loss(SQUARE, Y, 1.0) == pytest.approx(0.861995, abs=1e-6)
    assert soft_nearest_neighbour_loss(SQUARE, Y, 0.5) == pytest.approx(0.758624, abs=1e-6)
    # all distances equal: -log(1/3) = 1.098612 for every point; T = 1e6 comes close
    assert snnl_uniform(Y) == pytest.approx(np.log(3))
    assert soft_nearest_neighbour_loss(SQUARE, Y, 1e6) == pytest.approx(np.log(3), abs=1e-5)


def test_snnl_multi_label_shares_a_label():
    Y = np.array([[1, 0], [1, 1], [0, 1], [0, 1]])  # the 90-degree text carries both labels
    # 0 deg (A):   same {90}:           log((2e^-1 + e^-2) / e^-1)            = 0.861995
    # 90 deg (AB): same = all others:   0
    # 180 deg (B): same {90, 270}:      log((2e^-1 + e^-2) / (2e^-1))        = 0.168848
    # 270 deg (B): same {90 at 2, 180}: log((2e^-1 + e^-2) / (e^-1 + e^-2)) = 0.548733
    # mean = 0.394894
    assert soft_nearest_neighbour_loss(SQUARE, sp.csr_matrix(Y), 1.0) == pytest.approx(0.394894, abs=1e-6)


def test_snnl_leaves_out_anchors_without_a_same_class_text():
    Y = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])  # 180 and 270 deg are alone in their class
    # anchors 0 and 90 deg: log(2 + e^-1) each, as above
    assert soft_nearest_neighbour_loss(SQUARE, Y, 1.0) == pytest.approx(0.861995, abs=1e-6)
    assert np.isnan(soft_nearest_neighbour_loss(SQUARE, np.eye(4), 1.0))


def test_snnl_is_stable_at_low_temperature():
    Y = np.array([[1, 0], [1, 0], [0, 1], [0, 1]])
    # T -> 0: only the nearest neighbours count; e^-1/T dominates, loss -> log(2) (1 same of 2 nearest)
    assert soft_nearest_neighbour_loss(SQUARE, Y, 1e-4) == pytest.approx(np.log(2))
    with pytest.raises(ConfigError, match="temperature must be positive"):
        soft_nearest_neighbour_loss(SQUARE, Y, 0.0)


# -- clustering scores -------------------------------------------------------------------------------------


def test_primary_label_is_the_rarest():
    Y = np.array([[1, 1, 0], [1, 0, 0], [1, 0, 1], [0, 0, 0], [0, 1, 1]])
    # label counts 3, 2, 2: rarest of {0,1} is 1; of {0} 0; of {0,2} 2; none -> -1; tie {1,2} -> lower, 1
    np.testing.assert_array_equal(primary_labels(sp.csr_matrix(Y)), [1, 0, 2, -1, 1])


def test_separation_by_hand_and_against_scikit_learn():
    labels = np.array([0, 0, 1, 1])  # {0, 90 deg} vs {180, 270 deg}
    scores = cluster_separation(SQUARE, labels)
    # silhouette (cosine), every point: a = 1 (its partner), b = mean(2, 1) = 1.5 -> (1.5 - 1) / 1.5 = 1/3
    assert scores["silhouette"] == pytest.approx(1 / 3)
    # Davies-Bouldin: cluster centres (.5, .5), (-.5, -.5); spread = |(1, 0) - (.5, .5)| = 0.7071 each;
    # centre distance sqrt(2) -> R = (0.7071 + 0.7071) / 1.4142 = 1
    assert scores["davies_bouldin"] == pytest.approx(1.0)
    # Calinski-Harabasz: B = 2 |(.5, .5)|^2 x 2 = 2, W = 4 x 0.5 = 2 -> (2 / 2) x (4 - 2) / (2 - 1) = 2
    assert scores["calinski_harabasz"] == pytest.approx(2.0)
    # and the same as scikit-learn on a less regular input
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 5)), rng.integers(0, 3, 30)
    scores = cluster_separation(X, y)
    assert scores["silhouette"] == pytest.approx(silhouette_score(X, y, metric="cosine"))
    assert scores["davies_bouldin"] == pytest.approx(davies_bouldin_score(X, y))
    assert scores["calinski_harabasz"] == pytest.approx(calinski_harabasz_score(X, y))


def test_separation_undefined_with_one_cluster_and_ignores_unlabeled():
    assert cluster_separation(SQUARE, np.array([0, 0, 0, -1])) == {
        "silhouette": None, "davies_bouldin": None, "calinski_harabasz": None}
    # -1 texts are left out: same scores as the three labeled texts alone
    X3 = SQUARE[[0, 1, 2]]
    assert cluster_separation(np.vstack([X3, [[5.0, 5.0]]]), np.array([0, 0, 1, -1]))["calinski_harabasz"] == \
        pytest.approx(calinski_harabasz_score(X3, [0, 0, 1]))


@pytest.mark.parametrize("true, pred, expected", [
    ([0, 0, 1, 1, 2, 2], [2, 2, 0, 0, 1, 1], 1.0),  # a permuted labelling
    ([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 1, 1], 5 / 6),  # 0->0 (2 right) and 1->1 (3 right)
    ([0, 0, 1, 1], [0, 1, 2, 3], 0.5),  # four clusters, two labels: two clusters matched, one text each
    ([0, 1, 2, 0], [0, 0, 0, 0], 0.5),  # one cluster: matched to label 0 (2 of 4)
])
def test_clustering_accuracy_hungarian_by_hand(true, pred, expected):
    assert clustering_accuracy(np.array(true), np.array(pred)) == pytest.approx(expected)


def test_kmeans_recovers_separated_blobs():
    rng = np.random.default_rng(0)
    centres = np.eye(3) * 10
    labels = np.repeat([0, 1, 2], 20)
    X = centres[labels] + rng.normal(scale=0.1, size=(60, 3))
    result = kmeans_agreement(X, labels, seed=0)
    assert result == {"k": 3, "nmi": pytest.approx(1.0), "ari": pytest.approx(1.0), "accuracy": 1.0}
    assert kmeans_agreement(X, np.zeros(60, dtype=int))["nmi"] is None  # one label: nothing to recover


def test_embedding_quality_is_json_ready():
    Y = np.array([[1, 0], [1, 0], [0, 1], [0, 1]])
    q = embedding_quality(SQUARE, Y, temperatures=(0.5, 1))
    assert q["snnl"] == {"0.5": pytest.approx(0.758624), "1": pytest.approx(0.861995)}
    assert q["snnl_uniform"] == pytest.approx(np.log(3), abs=1e-6) and q["snnl_anchors"] == 4
    assert q["silhouette"] == pytest.approx(1 / 3, abs=1e-6)
    json.dumps(q, allow_nan=False)


# -- per-split diagnostics ---------------------------------------------------------------------------------


def test_diagnostics_combines_the_hand_computed_numbers():
    d = diagnostics(X_LABELED, sp.csr_matrix(Y_LABELED), X_UNLABELED, sp.csr_matrix(Y_UNLABELED), ["A", "B", "C"], k=2)
    json.dumps(d, allow_nan=False)
    assert (d["n_labeled"], d["n_unlabeled"], d["k"]) == (2, 6, 2)
    assert d["labeled_counts"] == {"A": 1, "B": 1, "C": 0}
    assert d["proximity"]["A"] == {"observed": 1, "expected": 0.666667, "ratio": 1.5, "possible": 2, "ceiling": 3.0}
    assert d["proximity"]["B"]["observed"] == 2 and d["proximity"]["C"]["observed"] is None
    # one text per centroid: own distance 0, other = 1 - cos(90 deg) = 1
    assert d["margins"]["A"] == {"n_texts": 1, "own": 0.0, "other": 1.0, "margin": 1.0}
    assert d["summary"] == {"mean_ratio": 1.75, "mean_margin": 1.0, "labels_without_centroid": ["C"]}
    assert d["quality"]["snnl_anchors"] == 0 and d["quality"]["snnl"]["1"] is None  # nobody shares a label


def test_diagnostics_does_not_import_matplotlib():
    code = "import sys, al.analysis.diagnostics; sys.exit('matplotlib' in sys.modules or 'faiss' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# -- figures -----------------------------------------------------------------------------------------------


def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG and len(data) > 5_000


def test_margins_figure(tmp_path):
    centroids, _ = class_centroids(X_MARGINS, Y_MARGINS)
    fig = plot_margins(centroid_margins(X_MARGINS, Y_MARGINS, centroids), ["A", "B", "C"])
    ax = fig.axes[0]
    assert ax.get_title() == "Cosine distance of labeled texts to class centroids"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("label", "mean cosine distance")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["own class centroid", "other class centroids (mean)"]
    assert len(ax.patches) == 6  # 3 labels x (own, other)
    assert_png(save_figure(fig, tmp_path / "margins.png"))


def test_pca_figure(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 5)) * [5, 2, 1, 0.1, 0.1]
    Y = np.zeros((12, 2), dtype=int)
    Y[:6, 0] = Y[4:, 1] = 1  # two texts carry both labels
    centroids, _ = class_centroids(X, Y)
    projection = pca_projection(X, centroids)
    assert projection.points.shape == (12, 2) and projection.centroids.shape == (2, 2)
    # the centroid of a label projects to the mean of its texts' projections (PCA is affine)
    np.testing.assert_allclose(projection.centroids[0], projection.points[:6].mean(axis=0), atol=1e-9)
    evr = projection.explained_variance_ratio
    assert evr[0] >= evr[1] > 0
    fig = plot_pca(projection, Y, ["A", "B"], title="pca title")
    ax = fig.axes[0]
    assert ax.get_title() == "pca title"
    assert ax.get_xlabel() == f"PC1 ({100 * evr[0]:.1f}%)" and ax.get_ylabel() == f"PC2 ({100 * evr[1]:.1f}%)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["A (6)", "B (8)"]  # drawn once per label
    underscored = plot_pca(projection, Y, ["_other", "B"]).axes[0]  # a label matplotlib would leave out
    assert [t.get_text().lstrip("\u200b") for t in underscored.get_legend().get_texts()] == ["_other (6)", "B (8)"]
    assert_png(save_figure(fig, tmp_path / "pca.png"))


def test_pca_with_a_label_without_centroid():
    X = np.random.default_rng(0).normal(size=(5, 3))
    Y = np.array([[1, 0]] * 5)
    projection = pca_projection(X, class_centroids(X, Y)[0])
    assert np.isnan(projection.centroids[1]).all() and not np.isnan(projection.centroids[0]).any()
    plot_pca(projection, Y, ["A", "B"])


def test_proximity_figure(tmp_path):
    fig = plot_proximity([100, 200], np.array([[1, np.nan], [3, 4]]), np.array([[2, 2.5], [2, 2.5]]), ["A", "B"], k=100)
    ax = fig.axes[0]
    assert ax.get_title().startswith("Unlabeled texts nearest each class centroid")
    assert ax.get_xlabel() == "label" and ax.get_ylabel() == "texts with the label among the 100 nearest"
    assert_png(save_figure(fig, tmp_path / "proximity.png"))
    ceilings = plot_proximity([100], np.array([[1, 2]]), np.array([[0.5, 1]]), ["A", "B"], k=3,
                              possible=np.array([[3, 2]])).axes[0]
    assert "the most possible" in ceilings.get_legend_handles_labels()[1]
    grey = [c for c in ceilings.collections if c.get_label() == "the most possible"][0]
    assert grey.get_offsets()[:, 1].tolist() == [3, 2]  # min(k, the label's unlabeled texts), per bar
    # B at |L| = 100 has no centroid: no chance or most-possible tick over an empty bar (it read as 'found none')
    absent = plot_proximity([100, 200], np.array([[1, np.nan], [3, 4]]), np.array([[2, 2.5], [2, 2.5]]), ["A", "B"],
                            k=100, possible=np.array([[9, 9], [8, 8]])).axes[0]
    marks = {c.get_label(): c.get_offsets() for c in absent.collections if not c.get_label().startswith("_")}
    assert np.ma.getmaskarray(marks["expected by chance"][:, 1]).tolist() == [False, True]  # the first size's ticks
    assert np.ma.getmaskarray(marks["the most possible"][:, 1]).tolist() == [False, True]
    np.testing.assert_allclose(marks["no centroid (no labeled text)"], [[1 - 0.4 + 0.4 * 0.5, 0.0]])  # B, first bar


# -- the report over several sizes -------------------------------------------------------------------------


def test_labeled_splits_are_nested_and_seeded():
    (l1, u1), (l2, u2) = labeled_splits(50, [10, 20], seed=3)
    assert len(l1) == 10 and len(u1) == 40 and set(l1) <= set(l2)
    assert not set(l2) & set(u2) and len(set(l2) | set(u2)) == 50
    np.testing.assert_array_equal(labeled_splits(50, [10], seed=3)[0][0], l1)


def test_analyze_pool_writes_json_figures_and_summary(tmp_path):
    from tests.conftest import hash_embed, synthetic_corpus

    corpus = synthetic_corpus(n_texts=300)
    pool = corpus.splits["train"]
    X = hash_embed(corpus.texts[pool].tolist())
    result = analyze_pool(X, corpus.Y[pool], corpus.label_names, [3, 40], k=10, seed=0, out=tmp_path,
                          meta={"dataset": "synthetic", "model": "hash", "seconds": {"embed": 0.0}})
    text = (tmp_path / "analysis.json").read_text()
    assert "NaN" not in text and json.loads(text) == json.loads(json.dumps(result))
    assert [e["size"] for e in result["sizes"]] == [3, 40]
    big = result["sizes"][1]
    for name in corpus.label_names:
        p = big["proximity"][name]
        assert 0 <= p["observed"] <= 10 and p["expected"] == pytest.approx(
            10 * corpus.Y[pool].toarray()[:, corpus.label_names.index(name)].mean(), abs=0.2)
    # hashed label words make the centroids find their class far above chance
    assert big["summary"]["mean_ratio"] > 1.5 and big["summary"]["mean_margin"] > 0
    # three labeled texts cannot cover four labels: some centroid is missing, and said so
    small = result["sizes"][0]
    assert small["summary"]["labels_without_centroid"]
    missing = small["summary"]["labels_without_centroid"][0]
    assert small["proximity"][missing]["observed"] is None
    for png in ["proximity.png", "margins-3.png", "margins-40.png", "pca-3.png", "pca-40.png"]:
        assert_png(tmp_path / png)
    summary = (tmp_path / "summary.md").read_text()
    assert "# Class-embedding analysis: synthetic, hash" in summary and "no centroid" in summary
    assert "## Reading" in summary and "times as often as chance" in summary and "(margins-40.png)" in summary
    assert set(result["seconds"]) == {"embed", "analysis"}
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


# -- command line ------------------------------------------------------------------------------------------

BAD_INPUTS = {
    "unknown dataset": (["--dataset", "imdb"], "unknown dataset 'imdb'; known: csv, disaster, jsonl, reuters"),
    "unknown model": (["--model", "no-such-model-xyz"], "model 'no-such-model-xyz' is not installed locally"),
    "size zero": (["--sizes", "0", "100"], "--sizes: each labeled-set size must be at least 2, got 0"),
    "k zero": (["--k", "0"], "--k must be a positive integer, got 0"),
    "size above the pool": (["--pool-size", "50", "--sizes", "20", "50"],
                            "--sizes: 50 leaves no unlabeled text in a pool of 50 texts; give sizes below 50"),
    "labels absent": (["--labels", "food", "unicorns"], "label(s) 'unicorns' not in corpus 'disaster'"),
    "negative seed": (["--seed", "-1"], "--seed must be at least 0, got -1"),
    "held-out below one": (["--space", "cea", "--held-out", "-5"], "--held-out must be at least 1, got -5"),
    "held-out without a space": (["--held-out", "100"], "--held-out needs --space NAME (cea, snnl, aan, am, clld): "
                                                        "it is read by the fitted space alone; add --space or drop it"),
    "two space flags without a space": (["--held-out", "100", "--space-scope", "head"],
                                        "--space-scope and --held-out need --space NAME"),
    "misspelt space": (["--space", "cae"], "--space 'cae' names no fitted space (did you mean cea?); known: cea, snnl"),
    "the pretrained space fitted": (["--space", "pretrained", "--held-out", "100"],
                                    "--held-out is read by a fitted space alone, and --space pretrained fits none; "
                                    "give --space NAME (cea, snnl, aan, am, clld), or drop it"),
    "the pretrained space given params": (["--space", "pretrained", "--space-param", "epochs=3"],
                                          "--space-param is read by a fitted space alone, and --space pretrained fits "
                                          "none"),
    "the pretrained space named is al.simulate's default": (["--space", "pretrained", "--k", "0"],
                                                            "--k must be a positive integer, got 0"),
    "transposed dataset": (["--dataset", "cvs"], "unknown dataset 'cvs' (did you mean csv?)"),
}


@pytest.mark.parametrize("argv, message", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input(argv, message, tmp_path, capsys):
    out = tmp_path / "analysis"
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert err.count("\n") == 1, err
    assert not out.exists()


def test_each_sizes_analysis_says_it_is_working_when_it_takes_long(monkeypatch, capsys):
    """|L| = 8000 took 13 s with nothing printed after 'analysing sizes 8000': each size's pass, in each space, and
    the held-out measure run under a heartbeat (its line after 5 s, every 15 s after)."""
    from contextlib import contextmanager

    import al.analysis.embedding_analysis as analysis
    from al.spaces.head import HeadSpace
    from tests.conftest import hash_embed, synthetic_corpus

    beats = []

    @contextmanager
    def heartbeat(desc, delay, interval):
        beats.append((desc, delay, interval))
        yield

    monkeypatch.setattr(analysis, "heartbeat", heartbeat)
    corpus = synthetic_corpus(n_texts=300)
    pool = corpus.splits["train"]
    X = hash_embed(corpus.texts[pool].tolist())

    def space(labeled, Y_labeled, seed):
        return HeadSpace("cea", epochs=2, dim=8, hidden=16).fit(X[labeled], sp.csr_matrix(Y_labeled), seed).transform(X)

    analysis.analyze_pool(X, corpus.Y[pool], corpus.label_names, [20, 40], k=10, space=space, space_name="cea",
                          held_out=50)
    assert beats == [(f"{what}", 5.0, 15.0) for size in (20, 40) for what in (
        f"analysing |L| = {size} (its pairwise distances grow with its square)", f"analysing |L| = {size} in the cea "
        f"space", f"measuring 50 held-out texts in both spaces at |L| = {size}")]


def test_sizes_must_be_integers(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--sizes", "ten"])
    assert exc.value.code == 2 and "invalid int value: 'ten'" in capsys.readouterr().err


def test_analyze_pool_with_a_space_compares_both_and_fits_on_the_labeled_set_only(tmp_path):
    from al.spaces.head import HeadSpace
    from tests.conftest import hash_embed, synthetic_corpus

    corpus = synthetic_corpus(n_texts=300)
    pool = corpus.splits["train"]
    X = hash_embed(corpus.texts[pool].tolist())
    Y = corpus.Y[pool].toarray()
    seen = []

    def space(labeled, Y_labeled, seed):
        seen.append((labeled.copy(), np.asarray(Y_labeled).copy()))
        fitted = HeadSpace("cea", epochs=5, dim=16, hidden=32).fit(X[labeled], sp.csr_matrix(Y_labeled), seed)
        return fitted.transform(X), fitted.info()

    result = analyze_pool(X, corpus.Y[pool], corpus.label_names, [20, 60], k=10, seed=0, out=tmp_path,
                          space=space, space_name="cea", held_out=50)
    for (labeled, rows), entry in zip(seen, result["sizes"]):
        assert len(labeled) == entry["size"]
        assert np.array_equal(rows, Y[labeled])  # the space reads the labeled texts' labels, nothing else
        adapted = entry["adapted"]
        assert adapted["n_unlabeled"] == len(pool) - entry["size"]  # proximity over held-out texts only
        assert adapted["proximity"] != entry["proximity"]
        held = entry["held_out"]
        assert held["n_texts"] == 50 and set(held) == {"n_texts", "pretrained", "cea"}
        assert held["pretrained"] != held["cea"]
        assert adapted["fit"]["epochs"] == 5 and adapted["fit"]["loss"] < adapted["fit"]["loss_first_epoch"]
    assert result["space"] == "cea"
    for png in ["pca-cea-20.png", "margins-cea-60.png", "proximity-cea.png"]:
        assert_png(tmp_path / png)
    assert result["figures"] == {"proximity": "proximity.png", "proximity_cea": "proximity-cea.png"}
    summary = (tmp_path / "summary.md").read_text()
    assert "## Pretrained vs the cea space" in summary
    assert "![proximity, cea](proximity-cea.png)" in summary
    fits = [e["adapted"]["fit"] for e in result["sizes"]]
    assert (f"training loss, first epoch -> last: |L| = 20: {fits[0]['loss_first_epoch']:.4f} -> "
            f"{fits[0]['loss']:.4f} (5 epochs); |L| = 60: ") in summary
    section = summary.split("## Pretrained vs the cea space")[1].split("## Figures")[0]
    rows = [line for line in section.splitlines() if line.startswith("| 60 |")]
    assert [r.split("|")[2].strip() for r in rows] == ["pretrained", "cea"]
    assert "\"held out\" scores are measured on a seeded sample of 50 unlabeled texts. \"Mean margin\"" in summary
    from al.analysis.embedding_analysis import _held_out_sizes

    fewer = {"held_out": 2000, "sizes": [{"size": 100, "held_out": {"n_texts": 2000}},
                                         {"size": 300, "held_out": {"n_texts": 330}}]}
    assert _held_out_sizes(fewer) == "2,000 unlabeled texts (all of them where a size leaves fewer: 330 at |L| = 300)"
    evr = result["sizes"][1]["adapted"]["pca"]["explained_variance_ratio"]  # the fitted space's PCA, as the pretrained
    assert (f"60 labeled texts in the cea space: [margins](margins-cea-60.png), [PCA](pca-cea-60.png) "
            f"(PC1 {100 * evr[0]:.1f}%, PC2 {100 * evr[1]:.1f}% of the variance)") in summary


def test_the_text_column_of_a_csv_is_named_as_in_simulate(tmp_path, capsys):
    path = tmp_path / "notes.csv"
    path.write_text("body,a,b,split\nhello world,1,0,train\nsecond text,0,1,test\n")
    assert main(["--dataset", "csv", "--data-path", str(path), "--out", str(tmp_path / "a")]) == 2
    assert "has no text column 'text'; columns: body, a, b, split; name it with --text-column" in capsys.readouterr().err
    assert main(["--dataset", "csv", "--data-path", str(path), "--text-column", "body", "--label-columns", "a",
                 "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert "has no text column" not in err and "error: corpus 'notes' has" in err, err


def test_a_label_separator_reaches_the_reader_as_in_simulate(tmp_path, monkeypatch):
    import al.simulate
    from al.errors import ConfigError

    path = tmp_path / "notes.csv"
    path.write_text('text,labels\nhello world,"food,water"\n')
    read = []

    def load(config, *args, **kwargs):
        read.append(dict(config.data_options))
        raise ConfigError("stop here")

    monkeypatch.setattr(al.simulate, "load_config_corpus", load)
    args = ["--dataset", "csv", "--data-path", str(path), "--out", str(tmp_path / "a"), "--quiet"]
    assert main([*args, "--label-sep", ","]) == 2
    assert main(args) == 2
    assert read == [{"label_sep": ","}, {}]


def test_the_snnl_diagnostic_counts_texts_without_a_label_as_one_class_like_the_trained_loss():
    """By hand, T = 1, cosine distance d = 1 - cos: anchors 0 and 1 share label a, texts 2 and 3 have none.
    l_i = -log(sum_{j positive} exp(-d_ij) / sum_{k != i} exp(-d_ik)), mean over the 4 anchors."""
    import torch

    from al.analysis.quality import soft_nearest_neighbour_loss
    from al.spaces.objectives import soft_nearest_neighbour_loss as trained

    X = np.array([[1, 0], [0.9, 0.1], [0, 1], [-1, 0.2]])
    Y = np.array([[1, 0], [1, 0], [0, 0], [0, 0]])
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    e = np.exp(-(1 - unit @ unit.T))
    positives = [[1], [0], [3], [2]]
    by_hand = np.mean([-np.log(e[i, positives[i]].sum() / (e[i].sum() - e[i, i])) for i in range(4)])
    assert soft_nearest_neighbour_loss(X, Y, temperature=1.0) == pytest.approx(by_hand, rel=1e-6)
    assert by_hand == pytest.approx(0.58678, abs=1e-5)
    assert float(trained(torch.tensor(X, dtype=torch.float64), torch.tensor(Y), temperature=1.0)) == \
        pytest.approx(by_hand, rel=1e-6)


def test_kmeans_agreement_does_not_depend_on_the_order_of_the_rows():
    from al.analysis.quality import kmeans_agreement

    rng = np.random.default_rng(0)
    X, labels = rng.normal(size=(150, 8)), rng.integers(0, 6, 150)
    first = kmeans_agreement(X, labels, seed=0)
    for _ in range(3):
        order = rng.permutation(150)
        assert kmeans_agreement(X[order], labels[order], seed=0) == first


def test_a_k_that_searches_every_unlabeled_text_is_refused():
    """k at least the unlabeled texts a size leaves: every centroid would find them all, each ratio 1 by
    construction (it was clipped and read as "no better than chance")."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 8)).astype(np.float32)
    Y = (rng.random((30, 3)) < 0.4).astype(int)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    with pytest.raises(ConfigError, match=r"^k=5 searches every one of the 5 unlabeled texts left at \|L\| = 25 "
                       r"\(pool of 30\).*give k below 5 or sizes below 25$"):  # analyze_pool's own words
        analyze_pool(X, Y, ["a", "b", "c"], [10, 25], k=5)
    with pytest.raises(ConfigError, match=r"^--k 5 searches every one .*give --k below 5 or sizes below 25$"):
        check_sizes([10, 25], 30, 5)  # al.analyze's
    result = analyze_pool(X, Y, ["a", "b", "c"], [10, 25], k=4)  # one below: searched, not all
    assert [e["k"] for e in result["sizes"]] == [4, 4]
    for entry, (labeled, _) in zip(result["sizes"], labeled_splits(30, [10, 25], 0)):  # recorded: recomputable
        assert entry["labeled"] == labeled.tolist() and len(entry["labeled"]) == entry["size"]
        assert list(entry["labeled_counts"].values()) == Y[entry["labeled"]].sum(axis=0).tolist()
    assert set(result["sizes"][0]["labeled"]) < set(result["sizes"][1]["labeled"])
    # diagnostics() itself clips k, and now says so: every ratio 1.0 had come back without a word
    with pytest.warns(UserWarning, match=r"^diagnostics' k \(5\) is at least the 5 unlabeled texts: .* every "
                                         r"proximity ratio is 1 by construction and says nothing; give k below 5$"):
        clipped = diagnostics(X[:25], Y[:25], X[25:], Y[25:], ["a", "b", "c"], k=5)
    assert clipped["k"] == 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert diagnostics(X[:25], Y[:25], X[25:], Y[25:], ["a", "b", "c"], k=4)["k"] == 4
        # a simulation's per-round diagnostics: al.simulate warned once as the run was built, not every round
        from types import SimpleNamespace

        from al.observers import EmbeddingDiagnostics

        view = SimpleNamespace(features=SimpleNamespace(pool_embeddings=X), indices_labeled=np.arange(25),
                               y_labeled=Y[:25], indices_unlabeled=np.arange(25, 30), Y_pool_for_evaluation_only=Y,
                               label_names=["a", "b", "c"])
        assert EmbeddingDiagnostics(k=5)(view)["diagnostics"]["k"] == 5




def test_a_value_that_rounds_to_zero_is_recorded_as_zero_not_minus_zero():
    """A label's lone text sits at its centroid: its own distance, -1e-9 in floats, was recorded as -0.0."""
    import json

    from al.analysis.quality import json_float

    assert json.dumps([json_float(-1e-9), json_float(-0.0), json_float(-0.25), json_float(float("nan"))]) == \
        "[0.0, 0.0, -0.25, null]"


@pytest.mark.parametrize("rows", [slice(0, 150), slice(None)])
def test_analyze_pool_refuses_labels_of_other_texts_than_the_embeddings(rows):
    from al.errors import ConfigError
    from tests.conftest import hash_embed, synthetic_corpus

    corpus = synthetic_corpus(n_texts=300)
    pool = corpus.splits["train"]
    X = hash_embed(corpus.texts[pool].tolist())
    Y = corpus.Y[pool][rows] if rows != slice(None) else corpus.Y  # a part of the pool, or the whole corpus
    with pytest.raises(ConfigError, match=r"analyze_pool got embeddings of shape \(\d+, \d+\), labels of shape"):
        analyze_pool(X, Y, corpus.label_names, [20], k=10)


def _pool(n=120, seed=0):
    """Vectors and 0/1 labels of three labels, each label's texts near a corner of its own."""
    rng = np.random.default_rng(seed)
    Y = np.zeros((n, 3), dtype=int)
    Y[np.arange(n), np.arange(n) % 3] = 1
    return (Y @ np.eye(3, 8) + 0.3 * rng.normal(size=(n, 8))).astype(np.float32), Y


@pytest.mark.parametrize("change, said", [
    (lambda X, Y, names: (np.where(np.arange(len(X))[:, None] == 7, np.nan, X), Y, names),
     r"analyze_pool got embeddings holding NaN or infinity in row 7; expected finite vectors"),
    (lambda X, Y, names: (X, np.where(Y == 1, "yes", "no"), names),
     r"analyze_pool got labels of dtype <U3, not numbers; expected Y of 0 and 1"),
    (lambda X, Y, names: (X, Y.astype(str), names),  # "0" cast to bool is True: every cell was a label
     r"analyze_pool got labels of dtype <U21, not numbers; expected Y of 0 and 1"),
    (lambda X, Y, names: (X, np.where(Y == 1, 1, None), names), r"analyze_pool got labels of dtype object, not "),
    (lambda X, Y, names: (X, Y[:, 0], names), r"analyze_pool got embeddings of shape \(120, 8\), labels of shape "
                                              r"\(120,\) and 3 label names"),
    (lambda X, Y, names: (X, Y.astype(object), names), None),  # 0 and 1 as Python ints: read
    (lambda X, Y, names: (X, Y.astype(bool), names), None),
    (lambda X, Y, names: (X, Y * 0.7, names),
     r"analyze_pool got labels holding 0\.7 \(120 values not 0 or 1\); expected Y of 0 and 1, .*Y >= 0\.5$"),
    (lambda X, Y, names: (X, sp.csr_matrix(Y * 2), names), r"analyze_pool got labels holding 2 \(120 values not 0"),
    (lambda X, Y, names: (X, Y, ["a", "b", "a"]), r"analyze_pool got label names 'a' more than once"),
    (lambda X, Y, names: (X, Y, [1, 2, 3]),  # a traceback in summary.md, after analysis.json and the figures
     r"^analyze_pool got label name 1 \(int\); expected a non-empty one-line string per column of Y \(for numbered "
     r"labels: \[str\(name\) for name in names\]\)$"),
    (lambda X, Y, names: (X, Y, [None, "b", "c"]), r"^analyze_pool got label name None \(NoneType\); expected a "),
    (lambda X, Y, names: (X, Y, ["a", " ", "c"]), r"^analyze_pool got label name ' ' \(str\); expected a "),
    (lambda X, Y, names: (X, Y, ["a", "b\nc", "c"]), r"^analyze_pool got label name 'b\\nc' \(str\); expected a "),
], ids=["nan-row", "words", "digit-strings", "none", "one-dimensional", "object-ints", "bools", "probabilities",
        "sparse-twos", "names-twice", "numbered-names", "none-name", "blank-name", "two-line-name"])
def test_analyze_pool_refuses_what_it_would_read_wrong_in_one_line(change, said):
    """A NaN row ended in scikit-learn's traceback (or passed, among the unlabeled texts); labels of 0.7 or 2 were read
    as 1; a name given twice was two labels of one name."""
    from al.errors import ConfigError

    X, Y = _pool()
    if said is None:
        counts = analyze_pool(*change(X, Y, ["a", "b", "c"]), [30], k=20)["pool_label_counts"]
        assert counts == {"a": 40, "b": 40, "c": 40}
        return
    with pytest.raises(ConfigError, match=said):
        analyze_pool(*change(X, Y, ["a", "b", "c"]), [30], k=20)


def test_analyze_pool_speaks_python_takes_one_size_and_checks_its_space_and_its_folder(tmp_path):
    """Its errors named --k and --sizes; sizes=30 was a TypeError; a space of the labeled texts alone an
    IndexError; and it wrote into a run's folder, which al.analyze --out refuses."""
    from al.errors import ConfigError

    X, Y = _pool()
    with pytest.raises(ConfigError, match=r"^k=100 searches every one of the 90 unlabeled texts .*; give k below 90 "):
        analyze_pool(X, Y, ["a", "b", "c"], [30], k=100)
    assert [s["size"] for s in analyze_pool(X, Y, ["a", "b", "c"], 30, k=20)["sizes"]] == [30]
    assert [s["size"] for s in analyze_pool(X, Y, ["a", "b", "c"], np.array([60, 30]), k=20)["sizes"]] == [30, 60]
    with pytest.raises(ConfigError, match=r"^analyze_pool's space returned shape \(30, 8\) at \|L\| = 30; expected "
                                          r"finite vectors of the whole pool, shape \(120, dim\)"):
        analyze_pool(X, Y, ["a", "b", "c"], [30], k=20, space=lambda labeled, Y_labeled, seed: X[labeled])
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")
    with pytest.raises(ConfigError, match=rf"^out {re.escape(str(run))} holds files no analysis wrote "
                                          rf"\(config\.json\), which the analysis would mix with or replace"):
        analyze_pool(X, Y, ["a", "b", "c"], [30], k=20, out=run)
    assert sorted(p.name for p in run.iterdir()) == ["config.json"]
