"""``python -m al.analyze`` end to end with the real all-MiniLM-L6-v2 on a small Disaster Response slice."""
from __future__ import annotations

import json

import pytest

from al.analyze import main

pytestmark = pytest.mark.integration
LABELS = ["food", "water", "shelter", "medical_help"]
PNG = b"\x89PNG\r\n\x1a\n"


def test_analysis_of_four_labels(tmp_path, capsys):
    out = tmp_path / "analysis"
    argv = ["--labels", *LABELS, "--pool-size", "400", "--sizes", "50", "100", "--k", "20",
            "--out", str(out), "--quiet"]
    assert main(argv) == 0
    table = capsys.readouterr().out
    assert "observed / chance" in table and all(name in table for name in LABELS)

    result = json.loads((out / "analysis.json").read_text())
    assert result["dataset"] == "disaster" and result["model"] == "all-MiniLM-L6-v2"
    assert result["label_names"] == LABELS and result["pool_size"] == 400
    assert [e["size"] for e in result["sizes"]] == [50, 100]
    for entry in result["sizes"]:
        assert entry["n_unlabeled"] == 400 - entry["size"] and entry["k"] == 20
        for name in LABELS:
            p, m = entry["proximity"][name], entry["margins"][name]
            assert 0 <= p["observed"] <= 20 and 0 < p["expected"] < 20
            assert 0 < m["own"] < m["other"] < 1  # real embeddings: texts nearer their own centroid
        # food, water, shelter and medical help are distinct topics: centroids find them above chance
        assert entry["summary"]["mean_ratio"] > 1.2
        q = entry["quality"]
        assert 0 < q["snnl"]["0.1"] < q["snnl_uniform"]  # better than distances without class information
        assert -1 <= q["silhouette"] <= 1 and q["davies_bouldin"] > 0 and q["calinski_harabasz"] > 0
        assert 0 < q["kmeans"]["nmi"] <= 1 and 0 < q["kmeans"]["accuracy"] <= 1
        evr = entry["pca"]["explained_variance_ratio"]
        assert 0 < evr[1] <= evr[0] < 1

    for name in ["proximity.png", "margins-50.png", "margins-100.png", "pca-50.png", "pca-100.png"]:
        data = (out / name).read_bytes()
        assert data[:8] == PNG and len(data) > 10_000
    summary = (out / "summary.md").read_text()
    assert "## Reading" in summary and "times as often as chance" in summary and "(pca-100.png)" in summary


def test_analysis_before_and_after_a_cea_space(tmp_path, capsys):
    out = tmp_path / "cea"
    argv = ["--labels", *LABELS, "--pool-size", "400", "--sizes", "50", "100", "--k", "20", "--space", "cea",
            "--space-param", "epochs=5", "--held-out", "100", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "in the cea space fitted on each labeled set" in printed
    result = json.loads((out / "analysis.json").read_text())
    assert result["space"] == "cea" and result["space_settings"]["space"]["params"]["epochs"] == 5
    for entry in result["sizes"]:
        assert entry["adapted"]["n_unlabeled"] == 400 - entry["size"]
        assert entry["held_out"]["n_texts"] == 100
        assert (out / f"pca-cea-{entry['size']}.png").read_bytes().startswith(PNG)
        assert entry["adapted"]["fit"]["epochs"] == 5 and entry["adapted"]["fit"]["loss"] > 0  # the fit's own report
    assert (out / "proximity-cea.png").read_bytes().startswith(PNG)
    summary = (out / "summary.md").read_text()
    assert "## Pretrained vs the cea space" in summary and "The cea objective's training loss" in summary
