"""What the picks carried and the space the strategy read: values worked out by hand from tiny records."""
from __future__ import annotations

import json

import pytest

from al.analysis.picks import diagnostics_rows, mean_margin, pick_rates, picks_rows, proximity_ratio
from al.records import RunRecords
from al.report import main

GROUPS = {"frequent": ["a"], "rare": ["b", "c"]}


def record(n_labeled, counts, ratios=None, margin=None, ceilings=(5.0, 6.0, 10.0), margins=None):
    """A round's record; with ``ratios``, diagnostics whose labels a, b, c have ``margin`` each (or ``margins``)
    over 3 labeled texts each (or ``counts``' where given as ``margins``)."""
    r = {"n_labeled": n_labeled, "labeled_counts": dict(zip("abc", counts))}
    if ratios is not None:
        margins = margins or [(margin, 3)] * 3
        r["diagnostics"] = {"proximity": {l: {"observed": None, "expected": None, "ratio": x,
                                              "ceiling": None if x is None else c}
                                          for l, x, c in zip("abc", ratios, ceilings)},
                            "margins": {l: {"n_texts": n, "margin": m} for l, (m, n) in zip("abc", margins)},
                            "summary": {"mean_margin": margin}}
    return r


def test_pick_rates_by_hand():
    # 100 -> 150 -> 200 labeled: 100 picks added a: 70 - 50 = 20, b: 12 - 2 = 10, c: 3 - 3 = 0
    # per 100 picks: a 20, b 10, c 0
    rounds = [record(100, [50, 2, 3]), record(150, [60, 8, 3]), record(200, [70, 12, 3])]
    assert pick_rates(rounds) == pytest.approx({"a": 20.0, "b": 10.0, "c": 0.0})
    assert pick_rates(rounds[:1]) is None  # nothing picked
    assert pick_rates([{"n_labeled": 100}, {"n_labeled": 200}]) is None  # records without label counts


def test_picks_rows_average_runs_and_add_chance_and_rare_sum():
    one = [record(100, [50, 2, 3]), record(200, [70, 12, 3])]   # a 20, b 10, c 0
    two = [record(100, [40, 5, 1]), record(200, [80, 5, 11])]   # a 40, b 0, c 10
    rows = picks_rows({"random": [one], "class_embedding": [one, two]}, GROUPS, {"a": 0.5, "b": 0.02, "c": 0.01})
    assert rows[0] == {"strategy": "pool (chance)", "seeds": "–", "a": 50.0, "b": 2.0, "c": 1.0, "rare_sum": 3.0}
    assert rows[1] == {"strategy": "random", "seeds": 1, "a": 20.0, "b": 10.0, "c": 0.0, "rare_sum": 10.0}
    # means of the two runs: a (20 + 40) / 2 = 30, b (10 + 0) / 2 = 5, c (0 + 10) / 2 = 5; rare 5 + 5 = 10
    assert rows[2] == {"strategy": "class_embedding", "seeds": 2, "a": 30.0, "b": 5.0, "c": 5.0, "rare_sum": 10.0}


def test_proximity_and_margin_by_hand():
    r = record(100, [1, 1, 1], ratios=[3.0, None, 1.0], margin=0.25)
    assert proximity_ratio(r) == pytest.approx(2.0)            # (3 + 1) / 2: b has no centroid
    assert proximity_ratio(r, ["b", "c"]) == pytest.approx(1.0)  # only c has a ratio
    assert proximity_ratio(r, ["b"]) is None
    assert mean_margin(r) == 0.25
    assert proximity_ratio(record(100, [1, 1, 1])) is None and mean_margin(record(100, [1, 1, 1])) is None
    # ceilings of the labels that have a ratio: (5 + 10) / 2 = 7.5; rare b, c: c's alone, 10
    assert proximity_ratio(r, key="ceiling") == pytest.approx(7.5)
    assert proximity_ratio(r, ["b", "c"], key="ceiling") == pytest.approx(10.0)
    # a label on one labeled text (its centroid, at distance 0) does not count in the margin: (0.1 + 0.3) / 2
    singles = record(100, [1, 1, 1], [1.0, 1.0, 1.0], margins=[(0.1, 2), (0.9, 1), (0.3, 40)])
    assert mean_margin(singles) == pytest.approx(0.2)
    assert mean_margin(record(100, [1, 1, 1], [1.0, 1.0, 1.0], margins=[(0.9, 1)] * 3)) is None
    old = record(100, [1, 1, 1], [3.0, None, 1.0])  # recorded before ceilings were
    for label in "abc":
        del old["diagnostics"]["proximity"][label]["ceiling"]
    assert proximity_ratio(old, key="ceiling") is None and proximity_ratio(old) == pytest.approx(2.0)


def test_diagnostics_rows_first_and_last_round_over_runs():
    run1 = [record(100, [1, 1, 1], [4.0, 2.0, 0.0], 0.1), record(200, [1, 1, 1], [2.0, 2.0, 2.0], 0.3)]
    run2 = [record(100, [1, 1, 1], [2.0, 2.0, 2.0], 0.3), record(200, [1, 1, 1], [1.0, 1.0, 4.0], 0.5)]
    rows = diagnostics_rows({"ce": [run1, run2], "plain": [[record(100, [1, 1, 1])]]}, GROUPS)
    # first: run1 mean (4+2+0)/3 = 2, run2 2 -> 2; rare (2+0)/2 = 1 and 2 -> 1.5; margin (0.1 + 0.3) / 2 = 0.2
    # last: run1 2, run2 (1+1+4)/3 = 2 -> 2; rare 2 and (1+4)/2 = 2.5 -> 2.25; margin 0.4
    # ceilings (5, 6, 10) in every round: all labels 7, rare 8
    assert rows == [{"strategy": "ce", "seeds": 2, "proximity_first": 2.0, "ceiling_first": 7.0,
                     "rare_proximity_first": 1.5, "rare_ceiling_first": 8.0, "proximity_last": 2.0,
                     "ceiling_last": 7.0, "rare_proximity_last": 2.25, "rare_ceiling_last": 8.0, "margin_first": 0.2,
                     "margin_last": 0.4}]


def test_report_shows_picks_and_space_tables(tmp_path):
    runs = tmp_path / "runs"
    config = {"dataset": "toy", "classifier": "logreg", "model": "m", "labels": None, "n_frequent": 1, "n_rare": 2,
              "initial": 100, "step": 100, "budget": 200}
    corpus = {"corpus": {"label_names": list("abc"), "pool_label_counts": [500, 20, 10],
                         "split_sizes": {"train": 1000}, "label_groups": GROUPS}}
    for strategy, end in (("random", [70, 12, 3]), ("class_embedding", [60, 12, 13])):
        for seed in range(2):
            records = RunRecords(runs / f"{strategy}-{seed}")
            records.start({**config, "strategy": strategy, "seed": seed}, corpus)
            for i, (n, counts) in enumerate(((100, [50, 2, 3]), (200, end))):
                records.append({"round": i, "n_labeled": n, "macro_f1": 0.3 + 0.1 * i + 0.01 * seed,
                                "micro_f1": 0.5, "per_label_f1": {"a": 0.5, "b": 0.2, "c": 0.1},
                                "labeled_counts": dict(zip("abc", counts)), "seconds_train": 1.0,
                                "seconds_query": 0.1, "seconds_evaluate": 0.1,
                                "diagnostics": {"proximity": {"a": {"ratio": 2.0, "ceiling": 2.0},
                                                              "b": {"ratio": 1.0, "ceiling": 50.0},
                                                              "c": {"ratio": 3.0 + i, "ceiling": 90.0}},
                                                "margins": {"a": {"n_texts": 50, "margin": 0.1},
                                                            "b": {"n_texts": 1 + 11 * i, "margin": 0.8},
                                                            "c": {"n_texts": 3, "margin": 0.3}},
                                                "summary": {"mean_margin": 0.4 if i == 0 else 0.2}}})
    out = tmp_path / "report"
    assert main([str(runs), "-o", str(out)]) == 0
    setting = next(iter(json.loads((out / "summary.json").read_text())["settings"].values()))
    picks = {row["strategy"]: row for row in setting["picks_per_100"]}
    assert picks["pool (chance)"]["b"] == 2.0 and picks["pool (chance)"]["rare_sum"] == 3.0  # 20 / 1000 per 100
    assert (picks["random"]["a"], picks["random"]["rare_sum"]) == (20.0, 10.0)
    assert (picks["class_embedding"]["c"], picks["class_embedding"]["rare_sum"]) == (10.0, 20.0)
    space = {row["strategy"]: row for row in setting["space_diagnostics"]}
    # first round: (2 + 1 + 3) / 3 = 2, rare (1 + 3) / 2 = 2; last: (2 + 1 + 4) / 3 = 2.333, rare 2.5
    assert space["random"]["proximity_first"] == 2.0 and space["random"]["rare_proximity_last"] == 2.5
    assert space["class_embedding"]["proximity_last"] == pytest.approx(2.333)
    # ceilings (2 + 50 + 90) / 3 = 47.333, rare (50 + 90) / 2 = 70; margin first: b's one text left out,
    # (0.1 + 0.3) / 2 = 0.2; last: b on 12 texts, (0.1 + 0.8 + 0.3) / 3 = 0.4
    assert (space["random"]["ceiling_first"], space["random"]["rare_ceiling_last"]) == (47.333, 70.0)
    assert (space["random"]["margin_first"], space["random"]["margin_last"]) == (0.2, 0.4)
    text = (out / "report.md").read_text()
    assert "| random | 2 | 2.0 | 47.333 | 2.333 | 47.333 | 2.0 | 70.0 | 2.5 | 70.0 | 0.2 | 0.4 |" in text
    assert "What the picks carried" in text and "| pool (chance) | – | 50.0 | 2.0 | 1.0 | 3.0 |" in text
    assert "The space each strategy read" in text
    page = (out / "report.html").read_text()
    assert "What the picks carried" in page
    assert "<em>pool (chance)</em>" in page and "*pool (chance)*" not in page  # the Markdown's emphasis, rendered


def test_labels_without_a_stored_pick_are_split_by_pool_frequency():
    from al.analysis.strategy_report import frequency_groups

    # shares 0.5, 0.3, 0.3, 0.1, 0.05: the frequent half rounded up is 3 labels; ties broken by name
    shares = {"e": 0.05, "b": 0.3, "a": 0.5, "c": 0.3, "d": 0.1}
    assert frequency_groups(shares) == {"frequent": ["a", "b", "c"], "rare": ["d", "e"]}
    assert frequency_groups({"a": 1.0}) is None and frequency_groups(None) is None
