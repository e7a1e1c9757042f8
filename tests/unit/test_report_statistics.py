"""The report's statistics on tiny hand-written runs: exact Wilcoxon p and its n, Holm, bootstrap, and the
labeled texts needed to reach 95 % of random's final macro-F1.

Every run below is written by hand (``config.json`` + ``rounds.jsonl``): 3 rounds at 100, 150 and 200
labeled texts, so a run's normalised area is ``(v100 + 2 v150 + v200) / 4``.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from al.analysis.comparison import (
    BOOTSTRAP_SEED, RESAMPLES, Reach, bootstrap_ci, holm, labeled_to_reach, paired_test, signed_rank_exact,
)
from al.analysis.curves import curves, load_runs
from al.analysis.strategy_report import FEW_SEEDS_NOTE
from al.report import main

BASE = {"dataset": "disaster", "classifier": {"name": "logreg", "params": {}}, "model": "all-MiniLM-L6-v2",
        "labels": None, "n_frequent": 1, "n_rare": 1, "initial": 100, "step": 50, "budget": 200}

# Final macro-F1 per seed 0..5. random: mean 3.60 / 6 = 0.60, so the target is 0.95 * 0.60 = 0.57.
RANDOM_FINAL = [0.54, 0.58, 0.59, 0.61, 0.63, 0.65]
CVIRS_GAIN = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06]      # final - random's: all positive, no tie
MARGIN_FINAL = [0.55, 0.56, 0.56, 0.56, 0.56, 0.56]    # - random's: +0.01, -0.02, -0.03, -0.05, -0.07, -0.09


def write_run(root, name, seed, macro, given=None, meta=None, query=None, **config):
    """One run directory written by hand: its resolved config (and the components as given, and any other
    ``meta``) and one JSON line per round; with ``query`` (seconds per round), each round's ``picked`` as well, as
    a simulation records them (the last round picks nothing)."""
    run = root / f"{name}-{seed}"
    run.mkdir(parents=True)
    settings = {**BASE, "strategy": {"name": name, "params": {}}, "seed": seed, **config}
    meta = {"version": "0.1.0", "given": given or {}, **(meta or {})}
    (run / "config.json").write_text(json.dumps({"config": settings, **meta}))
    picks = {} if query is None else {
        i: {"seconds_query": q, "picked": list(range(1000 + 50 * i, 1050 + 50 * i)) if i < len(macro) - 1 else []}
        for i, q in enumerate(query)}
    lines = [json.dumps({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": v, "micro_f1": v,
                         "per_label_f1": {"a": v, "b": v}, "seconds_train": 1.0, "seconds_query": 1.0,
                         "seconds_evaluate": 1.0, **picks.get(i, {})}) for i, v in enumerate(macro)]
    (run / "rounds.jsonl").write_text("\n".join(lines) + "\n")


def three_strategies(root):
    for seed in range(6):
        final = RANDOM_FINAL[seed]
        write_run(root, "random", seed, [0.40, 0.50, final])             # reaches 0.57 at 200, but seed 0 (0.54)
        write_run(root, "cvirs", seed, [0.45, 0.58, final + CVIRS_GAIN[seed]])  # reaches it at 150
        write_run(root, "margin", seed, [0.30, 0.40, MARGIN_FINAL[seed]])      # never reaches it


def report(root, tmp_path, *args):
    out = tmp_path / "report"
    assert main([str(root), "-o", str(out), *args]) == 0
    summary = json.loads((out / "summary.json").read_text())
    (setting,) = summary["settings"].values()
    return summary, setting, out


def rows_of(block):
    return {r["strategy"]: r for r in block["rows"]}


# -- the pieces, by hand ------------------------------------------------------------------------------------


def test_wilcoxon_exact_p_with_six_seeds_all_positive():
    # ranks 1..6 all positive: T- = 0; exactly 1 of the 2^6 sign patterns has T- = 0 (and 1 has T+ = 0),
    # so the two-sided exact p is 2 / 64 = 0.03125
    t = paired_test([r + g for r, g in zip(RANDOM_FINAL, CVIRS_GAIN)], RANDOM_FINAL)
    assert (t.n, t.n_test, t.statistic, t.wins, t.method) == (6, 6, 0.0, 6, "exact")
    assert t.p_value == pytest.approx(2 / 64, abs=1e-15)


def test_wilcoxon_drops_zero_differences_and_says_so():
    # differences -0.01, +0.02, +0.03, +0.04, +0.05, 0: the zero is dropped (zero_method="wilcox"), n_test = 5;
    # T- = rank of 0.01 = 1; sign patterns of 5 ranks with T- <= 1: {} and {1}: 2 / 32; two-sided 4 / 32
    t = paired_test([0.53, 0.60, 0.62, 0.65, 0.68, 0.65], [0.54, 0.58, 0.59, 0.61, 0.63, 0.65])
    assert (t.n, t.n_test, t.statistic, t.method) == (6, 5, 1.0, "exact")
    assert t.p_value == pytest.approx(4 / 32)
    # differences equal only up to float noise are zeros, not tiny wins
    assert paired_test([0.1 + 0.2], [0.3]).p_value is None


def test_wilcoxon_with_tied_differences_is_exact_over_all_sign_patterns():
    # non-zero differences 0.1, 0.1, 0.3, 0.4, 0.5, -0.6: mid-ranks 1.5, 1.5, 3, 4, 5, 6; T- = 6 = W.
    # Doubled ranks {3, 3, 6, 8, 10, 12}; subsets summing to <= 12 (= 2 T-): {}, {3}, {3'}, {6}, {8}, {10},
    # {12}, {3,3'}, {3,6}, {3',6}, {3,8}, {3',8}, {3,3',6}: 13 of 64. Two-sided p = 26 / 64 = 0.40625.
    # (scipy's method="exact" ignores the tie and would give 0.4375.)
    t = paired_test([0.5, 0.6, 0.6, 0.8, 0.9, 1.0, -0.1], [0.5] * 7)
    assert (t.n, t.n_test, t.statistic, t.method) == (7, 6, 6.0, "exact-ties")
    assert t.p_value == pytest.approx(26 / 64)


def test_the_exact_distribution_agrees_with_scipy():
    from scipy.stats import PermutationMethod, wilcoxon

    rng = np.random.default_rng(0)
    for n in (1, 2, 5, 10, 15):
        d = rng.normal(size=n)
        statistic, p = signed_rank_exact(d)
        expected = wilcoxon(d, method="exact")
        assert statistic == expected.statistic and p == pytest.approx(expected.pvalue, abs=1e-12)
    d = np.array([1.0, 1.0, -2.0, 3.0, 3.0, 3.0, -4.0, 5.0])  # ties; 2^8 < 9999: scipy enumerates them all
    expected = wilcoxon(d, method=PermutationMethod())
    assert signed_rank_exact(d) == (pytest.approx(expected.statistic), pytest.approx(expected.pvalue, abs=1e-12))


def test_more_than_fifty_differences_use_the_normal_approximation():
    from scipy.stats import wilcoxon

    d = np.arange(1, 61) * np.where(np.arange(60) % 3 == 0, -1, 1) / 100
    t = paired_test(d, np.zeros(60))
    assert (t.n_test, t.method) == (60, "normal")
    assert t.p_value == pytest.approx(wilcoxon(d, method="asymptotic", correction=False).pvalue)


def test_holm_step_down_by_hand():
    # sorted 0.01, 0.03, 0.04 -> 3 * 0.01 = 0.03, 2 * 0.03 = 0.06, 1 * 0.04 = 0.04 -> running max 0.06
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.6, 0.7]) == [1.0, 1.0]  # 2 * 0.6 = 1.2, capped at 1
    assert holm([0.02]) == [0.02]
    assert holm([]) == []


def test_bootstrap_interval_is_the_percentile_interval_of_a_fixed_generator():
    d = np.array(CVIRS_GAIN)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    means = d[rng.integers(0, 6, size=(RESAMPLES, 6))].mean(axis=1)
    expected = tuple(np.quantile(means, [0.025, 0.975]))
    assert bootstrap_ci(d) == expected
    low, high = expected
    assert low < d.mean() < high and 0.01 <= low and high <= 0.06
    irregular = [0.013, 0.021, 0.034, 0.046, 0.052, 0.067]
    assert bootstrap_ci(irregular, seed=1) != bootstrap_ci(irregular)
    assert bootstrap_ci([0.1, 0.2]) is None  # too few seeds


def test_labeled_to_reach_takes_the_first_measured_size():
    assert labeled_to_reach([100, 150, 200], [0.40, 0.58, 0.56], 0.57) == 150  # no interpolation to 140
    assert labeled_to_reach([100, 150, 200], [0.40, 0.50, 0.54], 0.57) is None
    assert labeled_to_reach([100, 150], [0.57, 0.60], 0.57) == 100  # at the target is reaching it
    assert labeled_to_reach([100, 150], [0.3, 0.5], 0.1 + 0.2) == 100  # 0.3 is float noise below 0.30000000000000004


# -- the report ------------------------------------------------------------------------------------------------


def test_report_on_three_strategies_and_six_seeds(tmp_path):
    three_strategies(tmp_path / "runs")
    summary, setting, out = report(tmp_path / "runs", tmp_path)
    assert summary["statistics"]["bootstrap"]["seed"] == BOOTSTRAP_SEED
    assert summary["statistics"]["bootstrap"]["resamples"] == 10_000
    assert summary["baseline"] == "random"

    final = setting["comparisons"]["final_macro_f1"]
    area = setting["comparisons"]["area_macro_f1"]
    assert final["m"] == area["m"] == 2
    cvirs, margin = rows_of(final)["cvirs"], rows_of(final)["margin"]
    assert cvirs["n"] == margin["n"] == 6 and cvirs["seeds"] == list(range(6))
    # cvirs: all 6 differences positive -> p = 2/64. margin: +0.01, -0.02, -0.03, -0.05, -0.07, -0.09 ->
    # T+ = 1 = W; patterns with T+ <= 1: 2 of 64 -> p = 4/64
    assert (cvirs["statistic"], cvirs["p"]) == (0.0, pytest.approx(0.03125))
    assert (margin["statistic"], margin["p"], margin["wins"]) == (1.0, pytest.approx(0.0625), 1)
    # Holm, m = 2: 2 * 0.03125 = 0.0625 and max(0.0625, 1 * 0.0625) = 0.0625
    assert cvirs["p_holm"] == pytest.approx(0.0625) and margin["p_holm"] == pytest.approx(0.0625)
    assert cvirs["mean_difference"] == pytest.approx(0.035)
    # areas: cvirs - random = (0.05 + 0.16 + gain) / 4, all positive; margin - random = (-0.10 - 0.20 + e) / 4
    assert rows_of(area)["cvirs"]["difference_by_seed"]["0"] == pytest.approx((0.21 + 0.01) / 4)
    assert rows_of(area)["cvirs"]["p"] == pytest.approx(0.03125)
    assert rows_of(area)["margin"]["statistic"] == 0.0 and rows_of(area)["margin"]["wins"] == 0
    # the interval: the same numpy computation, and it holds the mean
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    means = np.array(CVIRS_GAIN)[rng.integers(0, 6, size=(10_000, 6))].mean(axis=1)
    np.testing.assert_allclose([cvirs["ci_low"], cvirs["ci_high"]], np.quantile(means, [0.025, 0.975]), atol=1e-12)
    assert cvirs["ci_low"] < cvirs["mean_difference"] < cvirs["ci_high"]

    reach = setting["reach"]
    assert reach["target"] == pytest.approx(0.57)
    r = rows_of(reach)
    # random: seed 0 ends at 0.54, the others reach 0.57 at 200; cvirs reaches it at 150 on every seed
    assert r["random"]["by_seed"] == {"0": None, "1": 200, "2": 200, "3": 200, "4": 200, "5": 200}
    assert (r["random"]["labeled_texts"], r["random"]["seeds_reached"]) == ("200", "5 of 6 seeds")
    assert (r["cvirs"]["median_labeled"], r["cvirs"]["seeds_reached"]) == (150, "6 of 6 seeds")
    margin = r["margin"]
    assert (margin["labeled_texts"], margin["median_labeled"], margin["reached"]) == ("not reached", None, 0)
    assert [row["strategy"] for row in reach["rows"]] == ["random", "cvirs", "margin"]

    md = (out / "report.md").read_text()
    html = (out / "report.html").read_text()
    for text in (md, html):
        assert "Holm–Bonferroni step-down adjustment over the m = 2 comparisons with random in this table" in text
        assert "not reached" in text and "0 of 6 seeds" in text and "5 of 6 seeds" in text
        assert "zero_method=&#x27;wilcox&#x27;" in text or "zero_method='wilcox'" in text
        assert "no interpolation" in text and "default_rng(0)" in text
    assert "| cvirs | 6 | +0.0350 | [+" in md and "| 0.03125 | 0.0625 | exact |" in md
    # the main table shows the Holm-adjusted p of the table below, never the unadjusted one
    main_rows = {row["strategy"]: row for row in setting["strategies"]}
    assert main_rows["cvirs"]["vs_baseline_final"] == "+0.0350 (W=0, p Holm=0.0625, wins 6/6)"
    assert main_rows["margin"]["vs_baseline_final"] == "-0.0417 (W=1, p Holm=0.0625, wins 1/6)"
    assert "p=0.03125" not in md and "p Holm=0.0625" in md
    assert "Holm-adjusted over the strategies compared with random" in md
    # 6 seeds: every interval shown carries the caveat, once per comparison table
    assert md.count(FEW_SEEDS_NOTE) == 2 and html.count(FEW_SEEDS_NOTE) == 2
    assert "more than half the seeds reached it" in md


def test_report_is_the_same_bit_for_bit_and_records_its_seed(tmp_path):
    three_strategies(tmp_path / "runs")
    outputs = []
    for name in ("a", "b"):
        assert main([str(tmp_path / "runs"), "-o", str(tmp_path / name)]) == 0
        outputs.append([(tmp_path / name / f).read_bytes() for f in ("summary.json", "report.md", "report.html")])
    assert outputs[0] == outputs[1]
    _, setting, _ = report(tmp_path / "runs", tmp_path, "--bootstrap-seed", "7")
    (first,) = json.loads(outputs[0][0])["settings"].values()

    def intervals(s):
        return [(r["ci_low"], r["ci_high"]) for block in s["comparisons"].values() for r in block["rows"]]

    assert intervals(setting) != intervals(first)
    assert json.loads((tmp_path / "report" / "summary.json").read_text())["statistics"]["bootstrap"]["seed"] == 7


def test_only_seeds_both_ran_are_paired_and_few_seeds_get_no_interval(tmp_path):
    three_strategies(tmp_path / "runs")
    write_run(tmp_path / "runs", "dal", 0, [0.40, 0.50, 0.55])   # random's seed 0 ends at 0.54: +0.01
    write_run(tmp_path / "runs", "dal", 1, [0.40, 0.50, 0.60])   # random's seed 1 ends at 0.58: +0.02
    write_run(tmp_path / "runs", "dal", 9, [0.40, 0.50, 0.90])   # no random run of seed 9: not a pair
    _, setting, out = report(tmp_path / "runs", tmp_path)
    final = setting["comparisons"]["final_macro_f1"]
    dal = rows_of(final)["dal"]
    assert (dal["n"], dal["seeds"], dal["ci"], dal["ci_low"]) == (2, [0, 1], "too few seeds (n=2)", None)
    assert dal["p"] == pytest.approx(0.5)  # two positive differences: 2 / 2^2
    # Holm over m = 3: sorted 0.03125, 0.0625, 0.5 -> 3 * 0.03125, max(that, 2 * 0.0625), max(that, 0.5)
    assert final["m"] == 3
    assert [rows_of(final)[s]["p_holm"] for s in ("cvirs", "margin", "dal")] == \
        pytest.approx([0.09375, 0.125, 0.5])
    assert "too few seeds (n=2)" in (out / "report.md").read_text()
    assert "over the m = 3 comparisons" in (out / "report.md").read_text()
    main_rows = {r["strategy"]: r for r in setting["strategies"]}
    assert main_rows["dal"]["seeds"] == [0, 1, 9]  # the run is shown, only its pairs are tested


def test_lines_of_other_seeds_are_named_in_the_report_on_stderr_and_by_al_plot(tmp_path, capsys):
    """A strategy with seeds random lacks was averaged over them beside random's, with no word said."""
    from al.plot import main as plot

    three_strategies(tmp_path / "runs")
    for seed in (6, 7, 9):
        write_run(tmp_path / "runs", "dal", seed, [0.40, 0.50, 0.90])
    write_run(tmp_path / "runs", "dal", 0, [0.40, 0.50, 0.55])
    _, setting, out = report(tmp_path / "runs", tmp_path)
    said = ("the lines ran different seeds (cvirs: seeds 0-5; dal: seeds 0, 6-7, 9; margin: seeds 0-5; random: "
            "seeds 0-5): each line's mean "
            "and band are over its own seeds, the paired comparisons over the seeds each shares with random; run "
            "the missing seeds for like-for-like lines")
    assert setting["unequal_seeds"] == said
    assert f"**Note:** T{said[1:]}." in (out / "report.md").read_text()
    # the main table's cell says the seeds it pairs where either line ran others: its means' gap is no difference
    main_rows = {r["strategy"]: r for r in setting["strategies"]}
    assert main_rows["dal"]["vs_baseline_final"] == "+0.0100 (no test: one non-zero difference, wins 1/1 over seed 0 " \
                                                  "alone)"
    assert "over seed" not in main_rows["cvirs"]["vs_baseline_final"]  # seeds 0-5 both: the means' own gap
    assert f"note: in {next(iter(json.loads((out / 'summary.json').read_text())['settings']))}, {said}\n" in \
        capsys.readouterr().err
    assert plot([str(tmp_path / "runs"), "-o", str(tmp_path / "c.png")]) == 0
    assert f"note: {said.split(', the paired')[0]}; run the missing" in capsys.readouterr().err
    for seed in (6, 7, 9):
        (tmp_path / "runs" / f"dal-{seed}" / "rounds.jsonl").unlink()
        (tmp_path / "runs" / f"dal-{seed}" / "config.json").unlink()
        (tmp_path / "runs" / f"dal-{seed}").rmdir()
    for seed in range(1, 6):
        write_run(tmp_path / "runs", "dal", seed, [0.40, 0.50, 0.60])
    _, setting, out = report(tmp_path / "runs", tmp_path)  # the same seeds: nothing said
    assert "unequal_seeds" not in setting and "Note:" not in (out / "report.md").read_text()
    assert "different seeds" not in capsys.readouterr().err
    from al.analysis.comparison import unequal_seeds

    assert "(mmc: seed 2; random: seeds 0-2)" in unequal_seeds({"random": [0, 1, 2], "mmc": [2]})  # not "mmc 2"


def test_the_report_states_what_each_setting_held_fixed_which_runs_and_mixed_versions_or_vectors(tmp_path, capsys):
    """report.md and summary.json named no budget, step, classifier param or run folder; runs of another al version
    or other pool vectors were paired with no word said."""
    for seed in range(2):
        write_run(tmp_path / "runs", "random", seed, [0.40, 0.50, 0.60], meta={"embeddings_digest": "a" * 16})
        write_run(tmp_path / "runs", "cvirs", seed, [0.40, 0.50, 0.62], meta={"embeddings_digest": "a" * 16})
    summary, setting, out = report(tmp_path / "runs", tmp_path)
    assert setting["conditions"]["budget"] == 200 and setting["conditions"]["step"] == 50  # JSON values, not text
    assert setting["conditions"]["classifier"] == "logreg" and "strategy" not in setting["conditions"]
    assert setting["conditions"]["classifier.C"] == 1 and setting["conditions"]["labels"] is None
    assert setting["conditions"]["data_options"] == {} and setting["conditions"]["pool_size"] is None
    assert "n_frequent" in setting["conditions"]  # read: no labels were named
    assert "seed" not in setting["conditions"]
    assert setting["runs"] == {"cvirs": {"0": "cvirs-0", "1": "cvirs-1"}, "random": {"0": "random-0", "1": "random-1"}}
    assert setting["al_versions"] == ["0.1.0"] and "mixed_provenance" not in setting
    md = (out / "report.md").read_text()
    assert "Held fixed in every run of this setting: dataset=disaster, " in md and ", budget=200" in md
    held = next(line for line in md.splitlines() if line.startswith("Held fixed"))
    assert "=None" not in held and "=null" not in held and "={}" not in held  # left at nothing: not listed
    from al.analysis.strategy_report import held_text

    shown = held_text({"conditions": {"labels": "None", "classifier": "logreg", "classifier.class_weight": "None"},
                       "versions": ["0.1.0"]})  # a component's null is a choice: said
    assert shown == "Held fixed in every run of this setting: classifier=logreg, classifier.class_weight=null; run " \
                    "by al 0.1.0."
    shown = held_text({"conditions": {"dataset": "reuters", "data": "29e249b2fac9"}, "versions": ["0.1.0"]})
    assert shown.startswith("Held fixed in every run of this setting: dataset=reuters, data digest=29e249b2fac9;")
    assert md.count("; run by al 0.1.0.") == 1 and "Note:" not in md and "note:" not in capsys.readouterr().err
    config = json.loads((tmp_path / "runs" / "cvirs-1" / "config.json").read_text())
    config.update(version="0.2.0", embeddings_digest="b" * 16)
    (tmp_path / "runs" / "cvirs-1" / "config.json").write_text(json.dumps(config))
    _, setting, out = report(tmp_path / "runs", tmp_path)
    said = ("its runs were run by al 0.1.0, 0.2.0 and read 2 different sets of pool vectors (embeddings_digest "
            "aaaaaaaaaaaa in 3 runs, bbbbbbbbbbbb in 1 run): their differences may come from that as well as from "
            "the strategies; rerun them with one version on one kind of machine for a clean comparison")
    assert setting["mixed_provenance"] == said and setting["al_versions"] == ["0.1.0", "0.2.0"]
    assert f"**Note:** I{said[1:]}." in (out / "report.md").read_text()
    assert f", {said}\n" in capsys.readouterr().err
    config.pop("version")  # a run that recorded none
    (tmp_path / "runs" / "cvirs-1" / "config.json").write_text(json.dumps(config))
    _, setting, out = report(tmp_path / "runs", tmp_path)
    assert setting["al_versions"] == ["0.1.0", "an unrecorded version"]
    assert "were run by al 0.1.0, an unrecorded version and read" in setting["mixed_provenance"]


def test_the_report_says_when_a_users_strategy_file_was_edited_between_its_runs_or_within_one(tmp_path, capsys):
    """Each run stores its strategy file's digest, and a resume after an edit records the change; the report paired
    seeds of other code with no word said."""
    def source(digest):
        return {"strategy_source": {"file": "/x/myal.py", "digest": digest}}

    for seed in range(3):
        write_run(tmp_path / "runs", "random", seed, [0.40, 0.50, 0.60])
        write_run(tmp_path / "runs", "mine", seed, [0.40, 0.50, 0.62], meta=source("a" * 64))
    _, setting, _ = report(tmp_path / "runs", tmp_path)
    assert "mixed_provenance" not in setting  # one version in every run
    config = json.loads((tmp_path / "runs" / "mine-2" / "config.json").read_text())
    config.update(source("b" * 64))
    (tmp_path / "runs" / "mine-2" / "config.json").write_text(json.dumps(config))
    _, setting, out = report(tmp_path / "runs", tmp_path)
    said = ("the strategy file of mine was edited between its runs (2 versions; last: aaaaaaaaaaaa in seeds 0, 1, "
            "bbbbbbbbbbbb in seed 2): the runs do not all come from the same code; rerun them (another --out, or the "
            "run folders removed) for a clean comparison")
    assert setting["mixed_provenance"] == said
    assert f"**Note:** T{said[1:]}." in (out / "report.md").read_text()  # never the strategy's name capitalised
    assert said in capsys.readouterr().err
    config = json.loads((tmp_path / "runs" / "mine-1" / "config.json").read_text())  # resumed after an edit
    config.update(source("c" * 64), resumes=[{"after_round": 1, "strategy_source": ["a" * 64, "c" * 64]}])
    (tmp_path / "runs" / "mine-1" / "config.json").write_text(json.dumps(config))
    _, setting, _ = report(tmp_path / "runs", tmp_path)
    assert setting["mixed_provenance"].startswith(
        "the strategy file of mine was edited between its runs (3 versions; last: aaaaaaaaaaaa in seed 0, "
        "cccccccccccc in seed 1, bbbbbbbbbbbb in seed 2), and seed 1 was resumed on other code than its first rounds: ")
    for seed in (0, 2):  # every run ends on the new code, one of them resumed on it: an edit within a run
        config = json.loads((tmp_path / "runs" / f"mine-{seed}" / "config.json").read_text())
        config.update(source("c" * 64))
        (tmp_path / "runs" / f"mine-{seed}" / "config.json").write_text(json.dumps(config))
    _, setting, _ = report(tmp_path / "runs", tmp_path)
    assert setting["mixed_provenance"].startswith(
        "the strategy file of mine was edited within a run (2 versions; last: cccccccccccc in seeds 0, 1, 2), and "
        "seed 1 was resumed on other code than its first rounds: ")


def test_labels_named_leave_the_frequent_rare_pick_out_of_what_a_setting_held_fixed(tmp_path):
    """A report of runs made with --labels said "Held fixed: ... n_frequent=5, n_rare=5", settings never read."""
    for seed in range(2):
        write_run(tmp_path / "runs", "random", seed, [0.40, 0.50, 0.60], labels=["a", "b"], n_frequent=3)
        write_run(tmp_path / "runs", "cvirs", seed, [0.40, 0.50, 0.62], labels=["a", "b"])  # n_frequent 5: the same
    summary, setting, out = report(tmp_path / "runs", tmp_path)
    assert setting["conditions"]["labels"] == ["a", "b"]
    assert "n_frequent" not in setting["conditions"] and "n_rare" not in setting["conditions"]
    assert "n_frequent" not in (out / "report.md").read_text()


def test_a_table_with_no_test_says_so_instead_of_an_adjustment_over_zero_comparisons(tmp_path):
    write_run(tmp_path / "runs", "random", 0, [0.40, 0.50, 0.60])
    write_run(tmp_path / "runs", "cvirs", 0, [0.40, 0.50, 0.62])
    _, setting, out = report(tmp_path / "runs", tmp_path)
    assert setting["comparisons"]["final_macro_f1"]["m"] == 0
    text = (out / "report.md").read_text()
    assert "over the m = 0" not in text
    assert ("p (Holm): none; no comparison in this table has a p value (a test needs at least 2 seeds whose "
            "difference is not zero).") in text


def test_a_damaged_run_is_named_and_left_out_and_the_report_goes_on(tmp_path, capsys):
    """One damaged rounds.jsonl, or a run folder that lost its config.json, stopped the whole report."""
    for seed in range(3):
        write_run(tmp_path / "runs", "random", seed, [0.40, 0.50, 0.60])
        write_run(tmp_path / "runs", "cvirs", seed, [0.40, 0.50, 0.62])
    (tmp_path / "runs" / "cvirs-2" / "rounds.jsonl").write_text('{"round": 0, "n_labeled": 100, "macro_f1": 0.4}\n'
                                                             '{"round": 1, "n_lab\n{"round": 2}\n')
    (tmp_path / "runs" / "random-2" / "config.json").unlink()
    summary, setting, out = report(tmp_path / "runs", tmp_path)
    assert [d["run"] for d in summary["damaged"]] == ["cvirs-2", "random-2"]
    assert "random-2" in summary["damaged"][1]["why"] and "no config.json" in summary["damaged"][1]["why"]
    assert setting["runs"] == {"cvirs": {"0": "cvirs-0", "1": "cvirs-1"}, "random": {"0": "random-0", "1": "random-1"}}
    err = capsys.readouterr().err
    assert "damaged: cvirs-2 (" in err and ") — left out" in err
    assert "- damaged: random-2 (" in (out / "report.md").read_text()
    for seed in range(2):  # nothing readable at all: the first reason, in one line
        for name in ("random", "cvirs"):
            (tmp_path / "runs" / f"{name}-{seed}" / "config.json").unlink()
    from al.report import main

    assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "again")]) == 2
    assert capsys.readouterr().err.startswith("error: no run could be read: ")


def test_a_single_non_zero_difference_is_no_test_and_not_in_holms_family(tmp_path):
    """Its smallest possible p is 1: it was tested (W=0, p=1) and made every other p Holm-adjusted over one more."""
    one = paired_test([0.5, 0.6, 0.7], [0.5, 0.6, 0.65])  # two zero differences, one non-zero
    assert (one.p_value, one.statistic, one.n, one.n_test, one.wins, one.method) == (None, None, 3, 1, 1, "single")
    assert paired_test([0.6], [0.5]).p_value is None
    assert paired_test([0.6, 0.7], [0.5, 0.5]).p_value == pytest.approx(0.5)  # two: a test, however weak
    three_strategies(tmp_path / "runs")
    write_run(tmp_path / "runs", "dal", 0, [0.40, 0.50, 0.55])  # one pair with random: +0.01
    _, setting, out = report(tmp_path / "runs", tmp_path)
    final = setting["comparisons"]["final_macro_f1"]
    dal = rows_of(final)["dal"]
    assert (dal["n"], dal["p"], dal["p_holm"], dal["method"]) == (1, None, None, "single")
    assert final["m"] == 2  # cvirs and margin: 0.03125 and 0.0625 -> 2 * 0.03125, max(that, 0.0625)
    assert [rows_of(final)[s]["p_holm"] for s in ("cvirs", "margin")] == pytest.approx([0.0625, 0.0625])
    assert "no test (a single non-zero difference: its smallest possible p is 1)" in (out / "report.md").read_text()
    # the main table's cell keeps the mean difference and says why there is no test ("n=1: no test" had read as
    # too few seeds alone, and hid the mean)
    row = next(r for r in setting["strategies"] if r["strategy"] == "dal")
    assert row["vs_baseline_final"] == "+0.0100 (no test: one non-zero difference, wins 1/1 over seed 0 alone)"
    assert paired_test([0.5, 0.6, 0.7], [0.5, 0.6, 0.7]).text == "+0.0000 (no test: no non-zero difference, wins 0/3)"
    assert paired_test([], []).text == "n=0: no test"


def test_a_strategy_in_a_task_specific_space_is_its_own_row_and_curve(tmp_path):
    space = {"space": {"name": "cea", "params": {"epochs": 20}}, "space_scope": "head", "space_every": 1}
    pretrained = {"space": {"name": "pretrained", "params": {}}, "space_scope": None, "space_every": None}
    for seed in range(3):
        write_run(tmp_path / "runs", "random", seed, [0.40, 0.50, 0.60], **pretrained)
        write_run(tmp_path / "runs", "class_embedding", seed, [0.40, 0.50, 0.60 + 0.01 * (seed + 1)], **pretrained)
        (tmp_path / "runs" / f"class_embedding-{seed}").rename(tmp_path / "runs" / f"ce-{seed}")
        write_run(tmp_path / "runs", "class_embedding", seed, [0.40, 0.70, 0.80],  # as al.simulate --space cea
                  given={"space": {"name": "cea", "params": {}}}, **space)
    _, setting, _ = report(tmp_path / "runs", tmp_path)
    assert [r["strategy"] for r in setting["strategies"]] == ["random", "class_embedding", "class_embedding@cea"]
    final = rows_of(setting["comparisons"]["final_macro_f1"])
    assert final["class_embedding"]["mean_difference"] == pytest.approx(0.02)
    assert final["class_embedding@cea"]["mean_difference"] == pytest.approx(0.20)
    by_name = {c.strategy: c for c in curves(load_runs([tmp_path / "runs"]), "macro_f1")}
    assert set(by_name) == {"random", "class_embedding", "class_embedding@cea"}
    np.testing.assert_allclose(by_name["class_embedding@cea"].mean, [0.40, 0.70, 0.80])


def settings_of_report(tmp_path, *args):
    """Report on ``tmp_path / "runs"``: {setting: {row label: row}} and {setting: {row label: final comparison}}."""
    out = tmp_path / "report"
    assert main([str(tmp_path / "runs"), "-o", str(out), *args]) == 0
    summary = json.loads((out / "summary.json").read_text())
    rows = {name: {r["strategy"]: r for r in s["strategies"]} for name, s in summary["settings"].items()}
    final = {name: rows_of(s["comparisons"]["final_macro_f1"]) for name, s in summary["settings"].items()}
    return rows, final


SETTING = "disaster (1+1), logreg on all-MiniLM-L6-v2"


@pytest.mark.parametrize("condition, other, default", [
    ({"budget": 180}, "budget=180", "budget=200"),  # 100, 150, 180: three rounds too
    ({"initial_strategy": "kmeans"}, "initial_strategy=kmeans", "initial_strategy=random"),
    ({"embed_precision": "bf16"}, "embed_precision=bf16", "embed_precision=fp32"),
    ({"pool_size": 5000}, "pool_size=5000", "pool_size=null"),
    ({"step": 25, "budget": 150}, "step=25", "step=50"),
])
def test_strategies_run_under_other_conditions_are_other_settings_never_paired(tmp_path, capsys, condition, other,
                                                                                default):
    for seed in range(3):
        write_run(tmp_path / "runs", "random", seed, [0.40, 0.50, 0.60])
        write_run(tmp_path / "runs", "cvirs", seed, [0.40, 0.50, 0.90], **condition)
    rows, final = settings_of_report(tmp_path)
    (plain,) = [name for name in rows if default in name]
    (changed,) = [name for name in rows if other in name]
    assert plain.startswith(SETTING + " [") and changed.startswith(SETTING + " [")
    assert set(rows[plain]) == {"random"} and set(rows[changed]) == {"cvirs"}
    assert rows[changed]["cvirs"]["vs_baseline_final"] == "no baseline" and final[changed] == {}
    err = capsys.readouterr().err
    assert f"note: {changed} has no 'random' run: its strategies are not tested" in err


def test_runs_of_other_data_files_are_other_settings(tmp_path, capsys):
    """Two data files at other paths, told apart by the digest of their bytes; a file that moved is the same."""
    for seed in range(3):
        write_run(tmp_path / "runs", "random", seed, [0.40, 0.50, 0.60], data_path="/data/tweets.jsonl",
                  meta={"data_digest": "a" * 64})
        write_run(tmp_path / "runs", "cvirs", seed, [0.40, 0.50, 0.90], data_path="/data/news.jsonl",
                  meta={"data_digest": "b" * 64})
        write_run(tmp_path / "runs", "margin", seed, [0.40, 0.50, 0.65], data_path="/moved/tweets.jsonl",
                  meta={"data_digest": "a" * 64})
    rows, final = settings_of_report(tmp_path)
    assert set(rows) == {f"{SETTING} [data={'a' * 12}]", f"{SETTING} [data={'b' * 12}]"}
    assert set(final[f"{SETTING} [data={'a' * 12}]"]) == {"margin"}
    assert final[f"{SETTING} [data={'b' * 12}]"] == {}


def test_label_descriptions_count_by_their_content_not_their_path_spelling(tmp_path):
    """One descriptions file named relatively and absolutely is one setting; another file's content is another."""
    start = {"initial_strategy": "label_names"}
    for seed in range(3):
        write_run(tmp_path / "runs", "random", seed, [0.40, 0.50, 0.60], label_descriptions="labels.yaml",
                  meta={"label_descriptions_digest": "c" * 64}, **start)
        write_run(tmp_path / "runs", "cvirs", seed, [0.40, 0.50, 0.90], label_descriptions="/home/me/labels.yaml",
                  meta={"label_descriptions_digest": "c" * 64}, **start)
    rows, final = settings_of_report(tmp_path)
    (name,) = rows
    assert set(rows[name]) == {"random", "cvirs"} and final[name]["cvirs"]["mean_difference"] == pytest.approx(0.30)
    for seed in range(3):
        write_run(tmp_path / "runs", "margin", seed, [0.40, 0.50, 0.65], label_descriptions="labels.yaml",
                  meta={"label_descriptions_digest": "d" * 64}, **start)
    rows, _ = settings_of_report(tmp_path)
    assert len(rows) == 2 and {frozenset(r) for r in rows.values()} == {frozenset({"random", "cvirs"}),
                                                                         frozenset({"margin"})}


def test_a_grid_over_budgets_compares_each_strategy_with_random_of_its_budget(tmp_path):
    for seed in range(3):
        for budget, rounds in ((200, [0.40, 0.50, 0.60]), (300, [0.40, 0.50, 0.60, 0.70, 0.80])):
            write_run(tmp_path / "runs" / f"budget-{budget}", "random", seed, rounds, budget=budget)
            write_run(tmp_path / "runs" / f"budget-{budget}", "cvirs", seed, rounds[:-1] + [rounds[-1] + 0.05],
                      budget=budget)
    rows, final = settings_of_report(tmp_path)
    assert set(rows) == {f"{SETTING} [budget=200]", f"{SETTING} [budget=300]"}
    for name in rows:
        assert set(rows[name]) == {"random", "cvirs"}  # no budget in the row labels: the setting names it
        assert final[name]["cvirs"]["mean_difference"] == pytest.approx(0.05)


def test_a_setting_a_run_does_not_store_is_the_default_it_ran_with(tmp_path):
    """An older version stored no initial_strategy: those runs started at random, like the ones that say so."""
    for seed in range(3):
        write_run(tmp_path / "runs", "random", seed, [0.40, 0.50, 0.60])  # no initial_strategy, no pool_size
        write_run(tmp_path / "runs", "cvirs", seed, [0.40, 0.50, 0.62], initial_strategy="random", pool_size=None)
    for seed in range(3, 6):
        write_run(tmp_path / "runs", "random", seed, [0.40, 0.50, 0.70], initial_strategy="kmeans")
        write_run(tmp_path / "runs", "cvirs", seed, [0.40, 0.50, 0.72], initial_strategy="kmeans")
    rows, final = settings_of_report(tmp_path)
    assert set(rows) == {f"{SETTING} [initial_strategy=random]", f"{SETTING} [initial_strategy=kmeans]"}
    assert rows[f"{SETTING} [initial_strategy=random]"]["cvirs"]["seeds"] == [0, 1, 2]
    assert rows[f"{SETTING} [initial_strategy=kmeans]"]["random"]["seeds"] == [3, 4, 5]
    assert final[f"{SETTING} [initial_strategy=random]"]["cvirs"]["mean_difference"] == pytest.approx(0.02)


def test_a_strategy_whose_resolved_params_differ_is_labeled_by_them(tmp_path):
    """Given alike (no params), resolved apart (a default that changed between versions): two rows, not six seeds."""
    for seed in range(3):
        write_run(tmp_path / "runs", "random", seed, [0.40, 0.50, 0.60])
        write_run(tmp_path / "runs" / "old", "dal", seed, [0.40, 0.50, 0.65], strategy={"name": "dal", "params": {
            "sub_batches": 5}}, given={"strategy": {"name": "dal", "params": {}}})
        write_run(tmp_path / "runs" / "new", "dal", seed + 3, [0.40, 0.50, 0.75], strategy={"name": "dal", "params": {
            "sub_batches": 10}}, given={"strategy": {"name": "dal", "params": {}}})
    _, setting, _ = report(tmp_path / "runs", tmp_path)
    seeds = {r["strategy"]: r["seeds"] for r in setting["strategies"]}
    assert seeds == {"random": [0, 1, 2], "dal [strategy.sub_batches=5]": [0, 1, 2],
                     "dal [strategy.sub_batches=10]": [3, 4, 5]}


def test_what_a_run_records_beside_its_results_is_not_a_condition(tmp_path):
    """Seeds run with and without the stopping signals, or the diagnostics, on other devices: one row."""
    for seed, extra in enumerate([{"stopping": False, "diagnostics": False, "device": "cpu"},
                                  {"stopping": True, "diagnostics": True, "device": "cpu"},
                                  {"stopping": True, "diagnostics": False, "device": "cuda"}]):
        write_run(tmp_path / "runs", "random", seed, [0.40, 0.50, 0.60], **extra)
    _, setting, _ = report(tmp_path / "runs", tmp_path)
    assert [r["strategy"] for r in setting["strategies"]] == ["random"]


def test_the_same_simulation_twice_is_an_error_naming_both(tmp_path, capsys):
    write_run(tmp_path / "runs" / "a", "random", 0, [0.40, 0.50, 0.60])
    write_run(tmp_path / "runs" / "b", "random", 0, [0.40, 0.50, 0.61])
    assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "report")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "a/random-0" in err and "b/random-0" in err and "seed 0" in err
    assert "Traceback" not in err


def test_an_unknown_baseline_is_an_error_listing_the_strategies(tmp_path, capsys):
    three_strategies(tmp_path / "runs")
    assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "report"), "--baseline", "randon"]) == 2
    err = capsys.readouterr().err
    assert "baseline 'randon' is not a strategy of any setting" in err and "cvirs, margin, random" in err
    assert "(did you mean random?); expected one of" in err


def test_a_baseline_named_without_its_params_is_its_one_row(tmp_path, capsys):
    """--baseline mine:Gap was refused where its row is mine:Gap(alpha=0.7): the whole label, quoted, was needed."""
    for seed in range(3):
        write_run(tmp_path / "runs", "random", seed, [0.40, 0.50, 0.60])
        write_run(tmp_path / "runs" / "a", "cvirs", seed, [0.45, 0.55, 0.65],
                  strategy={"name": "cvirs", "params": {"threshold": 0.3}})
    _, setting, _ = report(tmp_path / "runs", tmp_path, "--baseline", "cvirs")
    assert setting["strategies"][0]["strategy"] == "cvirs(threshold=0.3)"
    assert setting["strategies"][0]["vs_baseline_final"] == "baseline"
    for seed in range(3):  # a second row of it: which one is not guessed
        write_run(tmp_path / "runs" / "b", "cvirs", seed, [0.45, 0.55, 0.65],
                  strategy={"name": "cvirs", "params": {"threshold": 0.4}})
    capsys.readouterr()
    assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "again"), "--baseline", "cvirs"]) == 2
    assert capsys.readouterr().err == (
        "error: baseline 'cvirs' has 2 rows, of other params or spaces: cvirs(threshold=0.3), cvirs(threshold=0.4); give one "
        "of them whole (quoted for the shell: --baseline 'cvirs(threshold=0.3)')\n")


def test_a_baseline_named_without_its_space_is_its_one_row(tmp_path, capsys):
    """--baseline dal was refused where its row is dal@cea, the one space it ran in."""
    space = {"space": {"name": "cea", "params": {}}, "space_scope": "head", "space_every": 1}
    for seed in range(3):
        write_run(tmp_path / "runs", "random", seed, [0.40, 0.50, 0.60], **space)
        write_run(tmp_path / "runs", "dal", seed, [0.40, 0.50, 0.60 + 0.01 * (seed + 1)], **space)
    _, setting, _ = report(tmp_path / "runs", tmp_path, "--baseline", "dal")
    assert [r["strategy"] for r in setting["strategies"]] == ["dal@cea", "random@cea"]
    assert setting["strategies"][0]["vs_baseline_final"] == "baseline"
    assert rows_of(setting["comparisons"]["final_macro_f1"])["random@cea"]["mean_difference"] == pytest.approx(-0.02)
    capsys.readouterr()
    assert main([str(tmp_path / "runs"), "-o", str(tmp_path / "again"), "--baseline", "da"]) == 2
    assert "baseline 'da' is not a strategy of any setting" in capsys.readouterr().err  # a prefix is no name
    for seed in range(3):  # the space read by the strategy alone: the row says so, the name the README gives finds it
        write_run(tmp_path / "only", "random", seed, [0.40, 0.50, 0.60])
        write_run(tmp_path / "only", "class_embedding", seed, [0.40, 0.50, 0.70], **space, space_for="strategy")
    _, setting, _ = report(tmp_path / "only", tmp_path / "third", "--baseline", "class_embedding@cea")
    assert setting["strategies"][0]["strategy"] == "class_embedding@cea (strategy only)"
    assert setting["strategies"][0]["vs_baseline_final"] == "baseline"


def test_another_baseline(tmp_path):
    three_strategies(tmp_path / "runs")
    _, setting, _ = report(tmp_path / "runs", tmp_path, "--baseline", "cvirs")
    final = rows_of(setting["comparisons"]["final_macro_f1"])
    assert set(final) == {"margin", "random"}
    assert final["random"]["p"] == pytest.approx(0.03125) and final["random"]["wins"] == 0
    # target: 0.95 * mean of cvirs's finals (0.60 + 0.035) = 0.60325: random reaches it on seeds 3, 4, 5 at 200
    assert setting["reach"]["target"] == pytest.approx(0.95 * 0.635)
    random = rows_of(setting["reach"])["random"]
    assert random["seeds_reached"] == "3 of 6 seeds"
    # 3 of 6 reached it at 200: the median seed did not (the seeds that reached alone would say 200)
    assert (random["labeled_texts"], random["median_labeled"]) == ("not reached", None)


@pytest.mark.parametrize("by_seed, median", [
    ({0: 100, 1: 150, 2: 200}, 150.0),
    ({0: 100, 1: None, 2: 150}, 150.0),          # sorted 100, 150, inf
    ({0: 100, 1: None, 2: None}, None),          # 100, inf, inf: one of three reached it
    ({0: 100, 1: 150, 2: 200, 3: None}, 175.0),  # 100, 150, 200, inf: (150 + 200) / 2
    ({0: 100, 1: 150, 2: None, 3: None}, None),  # half reached it: (150 + inf) / 2 is not a number of texts
    ({0: None}, None),
    ({}, None),
])
def test_the_reach_median_counts_a_seed_that_never_reached_as_infinitely_many_texts(by_seed, median):
    r = Reach("s", by_seed)
    assert r.median == median
    assert r.text == ("not reached" if median is None else f"{median:g}")


def test_query_seconds_are_averaged_over_the_rounds_that_queried(tmp_path):
    for seed in range(3):
        write_run(tmp_path / "runs", "random", seed, [0.40, 0.50, 0.60], query=[2.0, 4.0, 0.0])
        write_run(tmp_path / "runs", "cvirs", seed, [0.40, 0.50, 0.60], query=[1.0, 1.0, 0.0])
    _, setting, out = report(tmp_path / "runs", tmp_path)
    compute = rows_of({"rows": setting["compute"]})
    assert compute["random"]["query"] == pytest.approx(3.0)  # (2 + 4) / 2: the last round picked nothing
    assert compute["cvirs"]["query"] == pytest.approx(1.0)
    assert compute["random"]["train"] == pytest.approx(1.0)  # every round trains
    assert "query: over the rounds that queried" in (out / "report.md").read_text()


def test_ten_seeds_or_more_carry_no_few_seeds_caveat(tmp_path):
    for seed in range(10):
        write_run(tmp_path / "runs", "random", seed, [0.40, 0.50, 0.60])
        write_run(tmp_path / "runs", "cvirs", seed, [0.40, 0.50, 0.60 + 0.001 * (seed + 1)])
    _, setting, out = report(tmp_path / "runs", tmp_path)
    assert rows_of(setting["comparisons"]["final_macro_f1"])["cvirs"]["ci_low"] is not None
    assert FEW_SEEDS_NOTE not in (out / "report.md").read_text()


def test_the_report_says_where_each_stopping_criterion_would_have_stopped():
    from al.analysis.curves import Run
    from al.analysis.strategy_report import stopping_rows

    def run(seed, kappas, uncertainties, f1s):
        rounds = [{"round": r, "n_labeled": 100 + 50 * r, "macro_f1": f1,
                   "stopping": {"kappa": k, "max_uncertainty": u}}
                  for r, (k, u, f1) in enumerate(zip(kappas, uncertainties, f1s))]
        return Run(f"r{seed}", {"seed": seed}, rounds)

    f1s = [0.40, 0.50, 0.55, 0.60, 0.58, 0.62]
    # seed 0: kappas 0.97, 0.995, 0.995, 0.995 -> rounds 1-3 average (0.97 + 0.995 + 0.995) / 3 = 0.9867 < 0.99;
    #   rounds 2-4 average 0.995 >= 0.99: it stops at round 4, 300 labeled of the final 350 (50 saved), macro-F1 given up 0.62 - 0.58 = 0.04
    # seed 1: never stable; its uncertainty drops below 0.1 at round 3 (250 labeled, 100 saved): given up 0.62 - 0.60 = 0.02
    a = run(0, [None, 0.97, 0.995, 0.995, 0.995, 0.999], [0.9, 0.5, 0.3, 0.2, 0.2, 0.2], f1s)
    b = run(1, [None, 0.5, 0.6, 0.7, 0.8, 0.9], [0.9, 0.5, 0.3, 0.05, 0.04, 0.03], f1s)
    rows = {(r["strategy"], r["criterion"]): r for r in stopping_rows({"random": [a, b]})}
    stable = rows[("random", "stabilizing_predictions")]
    assert stable["stopped"] == "1 of 2" and stable["labeled_at_stop"] == 300
    assert stable["macro_f1_given_up"] == pytest.approx(0.04) and stable["labels_saved"] == 50
    unsure = rows[("random", "max_uncertainty")]
    assert unsure["stopped"] == "1 of 2" and unsure["labeled_at_stop"] == 250
    assert unsure["macro_f1_given_up"] == pytest.approx(0.02) and unsure["labels_saved"] == 100
    assert stopping_rows({"old": [Run("x", {}, [{"round": 0, "n_labeled": 100, "macro_f1": 0.1}])]}) == []
    partial = run(2, [None, 0.97, 0.995, 0.995, 0.995, 0.999], [0.9, 0.5, 0.3, 0.2, 0.2, 0.2], f1s)
    del partial.rounds[2]["stopping"]  # resumed across --no-stopping: signals missing from a round
    assert {r["stopped"] for r in stopping_rows({"random": [a, b, partial]})} == {"1 of 2"}  # left out
