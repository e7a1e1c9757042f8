"""Reports and plots tell data apart as a resume does: by the corpus a run read (``corpus_digest``) where runs
recorded it, by the data file's bytes (``data_digest``) and its data options where they did not, unknown where
neither was recorded.

Runs are written by hand as in ``test_report_statistics``: three rounds at 100, 150 and 200 labeled texts.
"""
from __future__ import annotations

import pytest

from al.analysis.comparison import run_labels, settings_of
from al.analysis.curves import curves, load_runs
from al.errors import DataError
from tests.unit.test_report_statistics import SETTING, settings_of_report, write_run

A, B = "a" * 64, "b" * 64  # the bytes of two data files (or of one file, re-saved)
C, D = "c" * 16, "d" * 16  # two corpora


def grid(root, metas, options=None, **config):
    """random and cvirs, seed i recording ``metas[i]`` (and reading with ``options[i]`` as its data options)."""
    for seed, meta in enumerate(metas):
        given = {} if options is None else {"data_options": options[seed]}
        write_run(root, "random", seed, [0.40, 0.50, 0.60], meta=meta, **given, **config)
        write_run(root, "cvirs", seed, [0.40, 0.50, 0.90], meta=meta, **given, **config)


def setting_names(root):
    return sorted(set(settings_of(load_runs([root])).values()))


@pytest.mark.parametrize("metas, names", [
    # the data file re-saved (other line endings) between seeds: the same corpus, one condition
    ([{"data_digest": A, "corpus_digest": C}] * 2 + [{"data_digest": B, "corpus_digest": C}], [SETTING]),
    # another corpus from other bytes: two
    ([{"data_digest": A, "corpus_digest": C}] * 2 + [{"data_digest": B, "corpus_digest": D}],
     [f"{SETTING} [data={'a' * 12}]", f"{SETTING} [data={'b' * 12}]"]),
    # runs from before corpus digests: by the data file's bytes, as before
    ([{"data_digest": A}] * 2 + [{"data_digest": B}], [f"{SETTING} [data={'a' * 12}]", f"{SETTING} [data={'b' * 12}]"]),
    ([{"data_digest": A}] * 3, [SETTING]),
    # an older run on either file that newer runs read one corpus from: one
    ([{"data_digest": A}, {"data_digest": A, "corpus_digest": C}, {"data_digest": B, "corpus_digest": C}], [SETTING]),
    ([{"data_digest": B}, {"data_digest": A, "corpus_digest": C}, {"data_digest": B, "corpus_digest": C}], [SETTING]),
    # nothing recorded is unknown, not other data
    ([{}, {"data_digest": A, "corpus_digest": C}, {"data_digest": B, "corpus_digest": C}], [SETTING]),
    # one file (and options) that read two corpora where nothing else differs: other data, told by the corpus
    ([{"data_digest": A, "corpus_digest": C}] * 2 + [{"data_digest": A, "corpus_digest": D}],
     [f"{SETTING} [data={'c' * 12}]", f"{SETTING} [data={'d' * 12}]"]),
])
def test_data_is_told_apart_by_the_corpus_read_then_by_the_file(tmp_path, metas, names):
    grid(tmp_path / "runs", metas)
    assert setting_names(tmp_path / "runs") == names


def test_seeds_on_a_re_saved_file_are_paired_in_the_report_and_one_line_in_the_plot(tmp_path):
    grid(tmp_path / "runs", [{"data_digest": A, "corpus_digest": C}] * 2 + [{"data_digest": B, "corpus_digest": C}])
    rows, final = settings_of_report(tmp_path)
    assert list(rows) == [SETTING] and final[SETTING]["cvirs"]["n"] == 3
    lines = {c.strategy: c for c in curves(load_runs([tmp_path / "runs"]))}
    assert sorted(lines) == ["cvirs", "random"] and list(lines["random"].n_runs) == [3, 3, 3]


@pytest.mark.parametrize("corpus, options, names", [
    # other data options that read the same corpus are no other condition, as on resume
    (C, [{}, {}, {"label_sep": ";"}], ["t.csv (1+1), logreg on all-MiniLM-L6-v2"]),
    # without corpus digests they are compared themselves, as on resume
    (None, [{}, {}, {"label_sep": ";"}], ['t.csv (1+1), logreg on all-MiniLM-L6-v2 [data_options={"label_sep": ";"}]',
                                          "t.csv (1+1), logreg on all-MiniLM-L6-v2 [data_options={}]"]),
    # an option given at its default is no option given
    (None, [{}, {}, {"label_sep": "|"}], ["t.csv (1+1), logreg on all-MiniLM-L6-v2"]),
])
def test_data_options_count_through_the_corpus_they_read(tmp_path, corpus, options, names):
    meta = {"data_digest": A, **({"corpus_digest": corpus} if corpus else {})}
    grid(tmp_path / "runs", [meta] * 3, options, dataset="csv", data_path="/data/t.csv")
    assert setting_names(tmp_path / "runs") == names


def test_a_grid_over_pool_sizes_on_one_file_differs_in_the_pool_size_only(tmp_path):
    """Each pool size reads its own corpus from the same file: the setting names the pool size, not the data."""
    for pool, corpus in ((5000, C), (None, D)):
        grid(tmp_path / "runs" / f"pool-{pool}", [{"data_digest": A, "corpus_digest": corpus}] * 3, pool_size=pool)
    assert setting_names(tmp_path / "runs") == [f"{SETTING} [pool_size=5000]", f"{SETTING} [pool_size=null]"]


def test_one_seed_twice_on_a_re_saved_file_is_the_same_simulation(tmp_path, capsys):
    """The refusal of duplicates agrees with the grouping: one corpus is one condition, another corpus another."""
    for folder, meta in (("first", {"data_digest": A, "corpus_digest": C}),
                         ("again", {"data_digest": B, "corpus_digest": C})):
        write_run(tmp_path / "runs" / folder, "random", 0, [0.40, 0.50, 0.60], meta=meta,
                  data_path=f"/data/{folder}.csv")
    runs = load_runs([tmp_path / "runs"])
    with pytest.raises(DataError, match="are the same simulation") as caught:
        curves(runs)
    assert ("(random, seed 0; they read one corpus, the same texts, labels and splits, from /data/again.csv and "
            "/data/first.csv)") in str(caught.value)  # why two files are one simulation (path order)
    again = tmp_path / "runs" / "again" / "random-0" / "config.json"
    again.write_text(again.read_text().replace(C, D))
    labels = run_labels(load_runs([tmp_path / "runs"]))
    assert sorted(labels.values()) == ["random", "random"]  # apart by setting, not refused
    assert len(setting_names(tmp_path / "runs")) == 2


def test_two_files_one_corpus_under_one_label_choice_are_not_joined_under_another(tmp_path):
    """Files a and b read one corpus with n_frequent 2 (newer runs), but older runs with n_frequent 3 recorded no
    corpus digest: under n_frequent 3 nothing says a and b are the same, so they stay two conditions there."""
    root = tmp_path / "runs"
    for seed, meta in enumerate([{"data_digest": A, "corpus_digest": C}, {"data_digest": B, "corpus_digest": C}]):
        write_run(root / "two", "random", seed, [0.40, 0.50, 0.60], meta=meta, n_frequent=2)
    for seed, meta in enumerate([{"data_digest": A}, {"data_digest": B}]):
        write_run(root / "three", "random", seed, [0.40, 0.50, 0.60], meta=meta, n_frequent=3)
    names = setting_names(root)
    assert sum("[data=" in name for name in names) == 2 and len(names) == 3, names


def test_a_user_s_file_is_named_in_the_setting_not_its_kind_or_digest(tmp_path):
    root = tmp_path / "runs"
    for seed in range(2):
        write_run(root / "one", "random", seed, [0.40, 0.50, 0.60], meta={"data_digest": A, "corpus_digest": C},
                  dataset="csv", data_path="/data/mydata.csv")
    assert setting_names(root) == ["mydata.csv (1+1), logreg on all-MiniLM-L6-v2"]
    for seed in range(2):  # another file on the grid's data axis: each run's file names its data
        write_run(root / "two", "random", seed, [0.40, 0.50, 0.60], meta={"data_digest": B, "corpus_digest": D},
                  dataset="csv", data_path="/data/subset.csv")
    assert setting_names(root) == ["csv (1+1), logreg on all-MiniLM-L6-v2 [data=mydata.csv]",
                                   "csv (1+1), logreg on all-MiniLM-L6-v2 [data=subset.csv]"]
    for seed in range(2):  # a third data under a name taken: its digest tells them apart
        write_run(root / "three", "random", seed, [0.40, 0.50, 0.60], meta={"data_digest": "e" * 64,
                  "corpus_digest": "f" * 16}, dataset="csv", data_path="/elsewhere/subset.csv")
    assert setting_names(root)[1:] == [f"csv (1+1), logreg on all-MiniLM-L6-v2 [data=subset.csv@{'b' * 12}]",
                                       f"csv (1+1), logreg on all-MiniLM-L6-v2 [data=subset.csv@{'e' * 12}]"]


def test_a_setting_is_named_after_a_file_only_when_every_run_read_that_file(tmp_path):
    """An old run on old.csv (no digest: unknown data) beside runs on new.csv: named by kind, not by either file."""
    root = tmp_path / "runs"
    write_run(root / "old", "random", 0, [0.40, 0.50, 0.60], dataset="csv", data_path="/data/old.csv")
    for seed in (1, 2):
        write_run(root / "new", "random", seed, [0.40, 0.50, 0.60], meta={"data_digest": A, "corpus_digest": C},
                  dataset="csv", data_path="/data/new.csv")
    assert setting_names(root) == ["csv (1+1), logreg on all-MiniLM-L6-v2"]


def test_two_files_as_one_simulation_say_why_only_as_far_as_was_recorded(tmp_path):
    root = tmp_path / "runs"
    write_run(root / "old", "random", 0, [0.40, 0.50, 0.60], dataset="csv", data_path="/data/old.csv")
    write_run(root / "new", "random", 0, [0.40, 0.50, 0.60], meta={"data_digest": A, "corpus_digest": C},
              dataset="csv", data_path="/data/new.csv")
    with pytest.raises(DataError) as caught:
        curves(load_runs([root]))
    assert "read one corpus" not in str(caught.value)
    assert "/data/new.csv and /data/old.csv count as one data, as a run that recorded no digest" in str(caught.value)
