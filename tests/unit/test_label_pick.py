"""An explicit ``--labels`` pick passes the same eligibility rule as the automatic pick."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from al.datasets import load_corpus, reduce_labels
from al.datasets.corpus import make_corpus
from al.datasets.reduction import MAX_POOL_SHARE, MIN_EVAL_TEXTS, MIN_POOL_TEXTS, check_eligible, select_labels
from al.errors import DataError
from tests.conftest import REUTERS_TARBALL

needs_reuters = pytest.mark.skipif(not REUTERS_TARBALL.exists(), reason=f"Reuters-21578 not found at {REUTERS_TARBALL}")

POOL, DEV, TEST = 100, 40, 40


def corpus_with(counts: dict[str, tuple[int, int, int]]):
    """100 pool, 40 dev and 40 test texts; label name -> texts carrying it per split (pool, dev, test)."""
    names = list(counts)
    blocks, splits, start = [], {}, 0
    for s, (split, n) in enumerate((("train", POOL), ("dev", DEV), ("test", TEST))):
        Y = np.zeros((n, len(names)), dtype=np.int8)
        for j, name in enumerate(names):
            Y[: counts[name][s], j] = 1
        blocks.append(Y)
        splits[split] = np.arange(start, start + n)
        start += n
    Y = np.vstack(blocks)
    return make_corpus("toy", [f"text {i}" for i in range(len(Y))], Y, names, splits)


def test_the_thresholds_are_those_of_the_automatic_pick():
    assert (MIN_POOL_TEXTS, MIN_EVAL_TEXTS, MAX_POOL_SHARE) == (20, 10, 0.5)


def test_an_eligible_pick_is_kept_as_asked():
    # exactly at every bound: 20 pool texts, 10 dev, 10 test; 50 of the 100 pool texts = 50 %
    corpus = corpus_with({"low": (20, 10, 10), "half": (50, 12, 12), "other": (30, 3, 0)})
    reduced = reduce_labels(corpus, ["half", "low"])
    assert reduced.label_names == ("half", "low")
    select = select_labels(corpus, ["half", "low"])
    np.testing.assert_array_equal(reduced.Y.toarray(), select.Y.toarray())


@pytest.mark.parametrize("counts, shown", [
    ((19, 10, 10), "'bad' (pool 19 = 19%, dev 10, test 10)"),     # one pool text short
    ((40, 9, 10), "'bad' (pool 40 = 40%, dev 9, test 10)"),       # too few dev texts: thresholds, stopping
    ((40, 10, 0), "'bad' (pool 40 = 40%, dev 10, test 0)"),       # absent from test: F1 0 in every round
    ((51, 20, 20), "'bad' (pool 51 = 51%, dev 20, test 20)"),     # on more than half the pool: near-constant
], ids=["pool", "dev", "test absent", "umbrella"])
def test_an_ineligible_label_is_refused_with_its_counts(counts, shown):
    corpus = corpus_with({"good": (30, 15, 15), "bad": counts, "spare": (25, 11, 11)})
    with pytest.raises(DataError) as info:
        reduce_labels(corpus, ["good", "bad"])
    message = str(info.value)
    assert "\n" not in message
    assert shown in message and "'good'" not in message
    assert "needs >= 20 pool texts, >= 10 dev and >= 10 test texts and at most 50% of the 100 pool texts" in message
    assert "pick other labels (eligible labels not picked: spare (25))" in message


def test_every_offending_label_is_named_in_one_line():
    corpus = corpus_with({"a": (5, 1, 2), "b": (30, 15, 15), "c": (60, 30, 30)})
    with pytest.raises(DataError) as info:
        check_eligible(corpus, ["a", "b", "c"])
    message = str(info.value)
    assert message.startswith("--labels: 2 label(s) of corpus 'toy' cannot be learned and measured: "
                              "'a' (pool 5 = 5%, dev 1, test 2), 'c' (pool 60 = 60%, dev 30, test 30);")
    assert "no other label of this corpus is eligible" in message and "\n" not in message
    assert message.endswith("or use --frequent/--rare")  # 'b' is eligible: an automatic pick of one label works
    # a user's file: the label short of dev and test texts alone may get them from a split column ('c' cannot)
    short = corpus_with({"a": (30, 3, 2), "b": (30, 15, 15), "c": (60, 30, 30)})
    with pytest.raises(DataError) as info:
        check_eligible(short, ["a", "b", "c"], user_file=True)
    assert str(info.value).endswith("or use --frequent/--rare; or put more texts of 'a' in dev and test with a split "
                                    "column of the file's (train/dev/test; --split-column)")
    with pytest.raises(DataError) as info:  # none eligible: no automatic pick to offer
        check_eligible(corpus_with({"a": (5, 1, 2)}), ["a"])
    assert str(info.value).endswith("pick other labels (no other label of this corpus is eligible)")


def test_names_are_checked_before_counts():
    corpus = corpus_with({"a": (5, 1, 2)})
    with pytest.raises(DataError, match="label\\(s\\) 'nope' not in corpus 'toy'; known labels: a"):
        reduce_labels(corpus, ["a", "nope"])
    with pytest.raises(DataError, match="lists a label twice"):
        reduce_labels(corpus, ["a", "a"])


def test_a_label_named_twice_is_refused_before_any_data_loads():
    """labels=["a", "a"] passed validate() and was refused only once the data was read (a grid's dry run read it)."""
    from al.config import SimulationConfig
    from al.errors import ConfigError

    problems = SimulationConfig(labels=["food", "water", "food"])._problems()
    assert [str(p) for p in problems] == ["--labels lists 'food' more than once: ['food', 'water', 'food']; name each "
                                          "label once"]
    with pytest.raises(ConfigError, match=r"^labels lists 'food' more than once"):  # from Python, its keyword
        SimulationConfig(labels=["food", "food"]).validate()


def test_counts_are_taken_before_texts_without_a_kept_label_are_dropped():
    # 'x' is on 40 of 100 pool texts; after keeping 'x' and 'w' (on 25 of the same texts) the pool shrinks to
    # those 40 texts, where 'x' would be on 100 %: the share is judged as the automatic pick judges it, before
    # reduction
    corpus = corpus_with({"x": (40, 10, 10), "w": (25, 10, 10), "y": (60, 30, 30)})
    reduced = reduce_labels(corpus, ["x", "w"])
    assert len(reduced.splits["train"]) == 40


def test_load_corpus_applies_the_rule(tmp_path):
    lines = ["text,a,b,split"]
    lines += [f"pool {i},{int(i < 30)},{int(i >= 30)},train" for i in range(60)]
    lines += [f"dev {i},{int(i < 12)},{int(i >= 12)},dev" for i in range(24)]
    lines += [f"test {i},0,1,test" for i in range(24)]  # no test text carries 'a'
    path = tmp_path / "data.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="'a' \\(pool 30 = 50%, dev 12, test 0\\)"):
        load_corpus("csv", path, labels=["a", "b"])
    assert load_corpus("csv", path, labels=["b"]).label_names == ("b",)


def test_simulate_cli_refuses_the_pick_in_one_line(tmp_path, capsys):
    from al.simulate import main

    lines = ["text,a,b,split"] + [f"pool {i},{int(i < 30)},1,train" for i in range(60)]
    lines += [f"dev {i},{int(i < 3)},1,dev" for i in range(20)] + [f"test {i},1,1,test" for i in range(20)]
    path = tmp_path / "data.csv"
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "run"
    code = main(["--dataset", "csv", "--data-path", str(path), "--labels", "a", "--initial", "10", "--step", "5",
                 "--budget", "20", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: --labels: 1 label(s)") and err.count("\n") == 1
    assert "'a' (pool 30 = 50%, dev 3, test 20)" in err
    assert not out.exists()


README = Path(__file__).resolve().parents[2] / "README.md"


def readme_picks() -> list[list[str]]:
    """Every ``--labels a b c`` the README shows for Reuters: in a command with ``--dataset reuters``, or in prose."""
    text = README.read_text().replace("\\\n", " ")  # one line per command
    picks = []
    for line in text.splitlines():
        if "python -m al." in line and "--dataset reuters" not in line:
            continue  # another data set's labels (e.g. al.annotate's own)
        picks += [m.split() for m in re.findall(r"--labels((?: [a-z][a-z_-]*)+)", line)]
    return picks


@pytest.mark.reuters
@needs_reuters
def test_the_readme_reuters_pick_is_eligible_and_nat_gas_is_not():
    from al.datasets.reuters import load_reuters

    reuters = load_reuters(REUTERS_TARBALL)  # seed 0, the dev split every run uses
    picks = readme_picks()
    assert len(picks) >= 2 and all(len(p) == 10 for p in picks)
    for pick in picks:
        check_eligible(reuters, pick)
    with pytest.raises(DataError, match="'nat-gas' \\(pool 71 = 1%, dev 4, test 30\\)"):
        check_eligible(reuters, [*picks[0][:8], "nat-gas", picks[0][9]])


def test_the_disaster_picks_used_in_tests_are_eligible():
    from al.datasets import load_dataset

    disaster = load_dataset("disaster")
    for pick in (["food", "water", "shelter", "medical_help"], ["food", "water"],
                 ["request", "food", "water", "shelter", "weather_related"]):
        check_eligible(disaster, pick)


def test_a_share_just_over_the_cap_is_not_shown_as_the_cap():
    """126 of 251 pool texts read 'pool 126 = 50%' beside 'at most 50% of the 251 pool texts': as if it passed."""
    from al.datasets.reduction import pool_share

    assert (pool_share(126, 251), pool_share(125, 251), pool_share(125, 250), pool_share(5, 100)) == (
        "50.2%", "49.8%", "50%", "5%")
    assert (pool_share(5787, 11572), pool_share(2001, 4000), pool_share(1999, 4000)) == ("50.01%", "50.02%", "49.98%")
    Y = np.zeros((291, 2), dtype=np.int8)
    Y[:126, 0] = Y[251:261, 0] = Y[271:281, 0] = 1  # 'a': 126 of 251 pool texts, 10 dev, 10 test
    Y[126:156, 1] = Y[261:271, 1] = Y[281:291, 1] = 1
    corpus = make_corpus("toy", [f"text {i}" for i in range(291)], Y, ["a", "b"],
                         {"train": np.arange(251), "dev": np.arange(251, 271), "test": np.arange(271, 291)})
    with pytest.raises(DataError, match=r"'a' \(pool 126 = 50\.2%, dev 10, test 10\); every kept label needs .* at "
                                        r"most 50% of the 251 pool texts"):
        check_eligible(corpus, ["a", "b"])
