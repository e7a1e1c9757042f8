"""Loaders, the corpus type and label reduction."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from al.datasets import load_corpus, load_dataset
from al.datasets.corpus import make_corpus
from al.datasets.reduction import eligible_labels, pick_frequent_rare, select_labels, subsample_pool
from al.errors import DataError


def corpus_with_counts(train_counts, dev_counts, test_counts):
    """A corpus whose label j appears on exactly the given number of texts per split."""
    rows, splits, start = [], {}, 0
    for split, counts in (("train", train_counts), ("dev", dev_counts), ("test", test_counts)):
        n = max(max(counts), 1) * 3  # leave room for texts with few labels
        Y = np.zeros((n, len(counts)), dtype=np.int8)
        for j, c in enumerate(counts):
            Y[:c, j] = 1
        Y[~Y.any(axis=1), 0] = 0  # texts with no label stay unlabeled
        rows.append(Y)
        splits[split] = np.arange(start, start + n)
        start += n
    Y = np.vstack(rows)
    return make_corpus("counts", [f"t{i}" for i in range(len(Y))], Y, [f"L{j}" for j in range(Y.shape[1])], splits)


def test_corpus_checks_shapes_and_splits():
    with pytest.raises(DataError, match="expected \\(2, 1\\)"):
        make_corpus("x", ["a", "b"], np.zeros((3, 1)), ["l"], {"train": [0], "dev": [1], "test": []})
    with pytest.raises(DataError, match="overlaps"):
        make_corpus("x", ["a", "b"], np.zeros((2, 1)), ["l"], {"train": [0, 1], "dev": [1], "test": []})
    with pytest.raises(DataError, match="lacks split"):
        make_corpus("x", ["a"], np.zeros((1, 1)), ["l"], {"train": [0]})


def test_make_corpus_normalises_labels_to_binary_sparse():
    c = make_corpus("x", ["a", "b"], np.array([[2, 0], [0, 1]]), ["p", "q"], {"train": [0], "dev": [1], "test": []})
    assert sp.isspmatrix_csr(c.Y) and c.Y.dtype == np.int8
    np.testing.assert_array_equal(c.Y.toarray(), [[1, 0], [0, 1]])


def test_frequent_and_rare_by_hand():
    #        L0   L1   L2  L3  L4  L5(too few dev)  L6(umbrella: > half the pool)
    train = [100, 80, 60, 40, 25, 30, 250]
    dev = [10, 10, 10, 10, 10, 3, 10]
    test = [10, 10, 10, 10, 10, 10, 10]
    corpus = corpus_with_counts(train, dev, test)  # pool = 750 texts; L6 on 250 = 33%: eligible
    assert eligible_labels(corpus).tolist() == [0, 1, 2, 3, 4, 6]
    # frequent: by pool count descending -> L6 (250), L0 (100); rare: ascending -> L4 (25), L3 (40)
    assert pick_frequent_rare(corpus, 2, 2) == ["L6", "L0", "L4", "L3"]
    with pytest.raises(DataError) as caught:
        pick_frequent_rare(corpus, 4, 3)
    assert "split" not in str(caught.value)  # a packaged data set's splits are its own
    with pytest.raises(DataError) as caught:
        pick_frequent_rare(corpus, 4, 3, user_file=True)
    assert str(caught.value) == (
        "corpus 'counts' has 6 labels with >= 20 pool texts, >= 10 dev and >= 10 test texts and at most 50% of the "
        "750 pool texts before the label reduction, but 4 frequent + 3 rare = 7 were asked for (not eligible: 'L5' "
        "(pool 30 = 4%, dev 3, test 10)); lower --frequent/--rare (--frequent 3 --rare 3 keeps all 6) or name the "
        "labels with --labels, or put more texts of 'L5' in dev and test with a split column of the file's "
        "(train/dev/test; --split-column)")  # L5 is short of dev texts only
    assert caught.value.keep_all == (3, 3)  # what a command's default pick falls back to (al.simulate)


def test_too_few_eligible_labels_of_a_file_whose_names_hold_a_separator_name_the_label_sep_to_pass():
    """'fire;food' read at '|' is a label of its own, too rare to be eligible: the warning as the file was read named
    --label-sep, the error that stopped the command did not."""
    counts = corpus_with_counts([30, 5, 5], [10] * 3, [10] * 3)
    corpus = make_corpus("mine", counts.texts, counts.Y, ["fire", "fire;food", "water;fire"], counts.splits)
    for user_file, hint in ((True, True), (False, False)):  # a packaged corpus's names are its own
        with pytest.raises(DataError) as caught:
            pick_frequent_rare(corpus, 1, 1, user_file=user_file)
        assert ("); label names such as 'fire;food' hold ';': if it joins labels, pass --label-sep ';'; else lower "
                "--frequent/--rare" in str(caught.value)) is hint, str(caught.value)
        assert caught.value.keep_all is None  # one eligible label: never a run's pick kept by default
    two = corpus_with_counts([30, 30, 5, 5], [10] * 4, [10] * 4)
    two = make_corpus("mine", two.texts, two.Y, ["fire", "water", "fire;water", "water;fire"], two.splits)
    for user_file, kept in ((True, None), (False, (1, 1))):  # two eligible: kept unless a name looks joined
        with pytest.raises(DataError) as caught:
            pick_frequent_rare(two, 2, 2, user_file=user_file)
        assert caught.value.keep_all == kept
    tabbed = make_corpus("mine", counts.texts, counts.Y, ["fire", "a\tb", "c\td"], counts.splits)
    with pytest.raises(DataError) as caught:
        pick_frequent_rare(tabbed, 1, 1, user_file=True)
    assert "label names such as 'a\\tb' hold '\\t': if it joins labels, pass --label-sep $'\\t'; " in str(caught.value)
    with pytest.raises(DataError) as caught:
        pick_frequent_rare(corpus_with_counts([30, 5], [10] * 2, [10] * 2), 1, 1, user_file=True)
    assert "--label-sep" not in str(caught.value)  # no name holds one
    odd = make_corpus("mine", counts.texts, counts.Y, ["fire;smoke", "b", "c;d"], counts.splits)
    with pytest.raises(DataError) as caught:  # 0/1 columns: one ineligible name holding ';' (the eligible one aside)
        pick_frequent_rare(odd, 1, 1, user_file=True)
    assert "--label-sep" not in str(caught.value)


def test_too_few_eligible_labels_lists_the_others_most_pool_texts_first():
    # L0-L13: 6..19 pool texts, too few; L14 and L15 eligible; the pool is 3 * 600 = 1800 texts
    corpus = corpus_with_counts([*range(6, 20), 600, 360], [10] * 16, [10] * 16)
    with pytest.raises(DataError) as caught:
        pick_frequent_rare(corpus, 2, 1)
    assert str(caught.value) == (
        "corpus 'counts' has 2 labels with >= 20 pool texts, >= 10 dev and >= 10 test texts and at most 50% of the "
        "1,800 pool texts before the label reduction, but 2 frequent + 1 rare = 3 were asked for (not eligible: "
        + ", ".join(f"'L{j}' (pool {j + 6} = {(j + 6) / 1800:.0%}, dev 10, test 10)" for j in range(13, 1, -1))
        + " and 2 more); lower --frequent/--rare (--frequent 1 --rare 1 keeps all 2) or name the labels with --labels")
    everything = corpus_with_counts([40], [10], [10])
    with pytest.raises(DataError, match="= 2 were asked for \\(every label of the corpus is eligible\\); lower --frequent/--rare "
                       "\\(--frequent 1 --rare 0 keeps it\\) or"):
        pick_frequent_rare(everything, 1, 1)


def test_umbrella_label_is_not_eligible():
    corpus = corpus_with_counts([300, 40], [10, 10], [10, 10])  # pool = 900; L0 on 300 = 33%
    assert eligible_labels(corpus).tolist() == [0, 1]
    Y = corpus.Y.toarray()
    Y[corpus.splits["train"][:600], 0] = 1  # now on 600 / 900 = 67% of the pool
    umbrella = make_corpus("u", corpus.texts, Y, corpus.label_names, corpus.splits)
    assert eligible_labels(umbrella).tolist() == [1]


def test_select_labels_keeps_order_and_drops_texts_without_a_kept_label():
    Y = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 0, 1], [1, 0, 0]])
    c = make_corpus("x", list("abcdef"), Y, ["p", "q", "r"], {"train": [0, 1, 2, 3], "dev": [4], "test": [5]})
    with pytest.raises(DataError, match="no dev text"):
        select_labels(c, ["q", "p"])
    c2 = make_corpus("x", list("abcdef"), Y, ["p", "q", "r"], {"train": [0, 1, 2], "dev": [3], "test": [4, 5]})
    reduced = select_labels(c2, ["q", "p"])
    assert reduced.label_names == ("q", "p")
    assert reduced.texts.tolist() == ["a", "b", "d", "f"]  # c and e carry only r
    np.testing.assert_array_equal(reduced.Y.toarray(), [[0, 1], [1, 0], [1, 1], [0, 1]])
    assert {k: v.tolist() for k, v in reduced.splits.items()} == {"train": [0, 1], "dev": [2], "test": [3]}
    with pytest.raises(DataError, match="'nope' not in corpus"):
        select_labels(c2, ["p", "nope"])


def test_subsample_pool_keeps_dev_and_test(corpus):
    small = subsample_pool(corpus, 50)
    assert len(small.splits["train"]) == 50
    assert small.texts_of("test") == corpus.texts_of("test")
    assert small.texts_of("dev") == corpus.texts_of("dev")
    assert set(small.texts_of("train")) <= set(corpus.texts_of("train"))


def test_a_pool_cut_can_leave_a_kept_label_without_a_text_and_says_which():
    """--pool-size 60 on Disaster Response kept 'clothing' with no pool text, silently: a 0 in every macro-F1."""
    from al.datasets.reduction import labels_without_pool_texts

    corpus = corpus_with_counts([30, 1, 60], [10] * 3, [10] * 3)  # 'L1' on a single pool text
    pool = corpus.splits["train"]
    draws = {s: corpus.Y[np.random.default_rng(s).choice(pool, 20, replace=False)].toarray().sum(axis=0)
             for s in range(100)}  # by hand, the draw subsample_pool makes
    misses = next(s for s, counts in draws.items() if counts[1] == 0)
    keeps = next(s for s, counts in draws.items() if counts.all())
    assert labels_without_pool_texts(subsample_pool(corpus, 20, seed=misses)) == ["L1"]
    assert labels_without_pool_texts(subsample_pool(corpus, 20, seed=keeps)) == []
    assert labels_without_pool_texts(corpus) == []


def test_disaster_from_its_package():
    full = load_dataset("disaster")
    assert len(full.texts) == 26248 - 2  # two empty messages dropped
    # one empty message in train, one in validation
    assert {s: len(i) for s, i in full.splits.items()} == {"train": 21046 - 1, "dev": 2573 - 1, "test": 2629}
    assert "PII" not in full.label_names and "child_alone" not in full.label_names  # never 1
    assert full.n_labels == 37 - 2  # 37 category columns
    related = full.label_names.index("related")
    # 19,930 messages have related == 1 (one of them empty); the 193 with related == 2 count as 0
    assert full.label_counts()[related] == 19930 - 1
    reduced = load_corpus("disaster")
    assert reduced.n_labels == 10
    assert "related" not in reduced.label_names  # on 97% of the texts that have any category
    assert reduced.label_names[:5] == ("aid_related", "weather_related", "direct_report", "request", "other_aid")
    assert all(c >= 10 for c in reduced.label_counts("test"))
    text = reduced.describe()
    assert "label cardinality" in text and "hospitals" in text and "train is the pool" in text


def test_csv_with_label_columns(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("text,sports,politics,split\nfootball match,1,0,train\nelection day,0,1,train\n"
                    "minister plays golf,1,1,dev\nvote now,0,1,test\n")
    c = load_dataset("csv", path)
    assert c.label_names == ("sports", "politics")
    assert c.texts_of("dev") == ["minister plays golf"]
    np.testing.assert_array_equal(c.Y_of("train").toarray(), [[1, 0], [0, 1]])


def test_jsonl_with_label_lists_and_hashed_split(tmp_path):
    path = tmp_path / "data.jsonl"
    rows = [{"text": f"text {i}", "labels": ["a", "b"] if i % 3 == 0 else ["b"]} for i in range(40)]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    c = load_dataset("jsonl", path)
    assert c.label_names == ("a", "b")
    assert {s: len(i) for s, i in c.splits.items()} == {"train": 30, "dev": 4, "test": 6}  # blake2b of each text
    assert int(c.Y[:, 0].sum()) == 14 and int(c.Y[:, 1].sum()) == 40
    again = load_dataset("jsonl", path)
    assert all(np.array_equal(c.splits[s], again.splits[s]) for s in c.splits)


def test_csv_label_string_column(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("body,tags\nx,a|b\ny,b\nz,\n")
    c = load_dataset("csv", path, text_column="body", label_columns=["tags"])
    assert c.label_names == ("a", "b")
    np.testing.assert_array_equal(c.Y.toarray(), [[1, 1], [0, 1], [0, 0]])


@pytest.mark.parametrize(
    "content, kwargs, message",
    [
        ("text,a\nhello,1\n ,0\n", {}, "bad.csv line 3: empty text"),
        ("body,a\nhello,1\n", {}, "no text column 'text'"),
        ("text,a,b\nhello,3,0\n", {"label_columns": ["a", "b"]}, "expected 0 or 1"),
        ("text,a\nhello,1\n", {"label_columns": ["a", "text"]}, "the text column .* and the label column at once"),
        ("text,a\nhello,1\n", {"label_columns": ["b"]}, "no column"),
        ("text,split,a\nhello,holdout,1\n", {}, "expected train, dev"),
    ],
)
def test_bad_tables(tmp_path, content, kwargs, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        load_dataset("csv", path, **kwargs)


def test_a_file_saved_with_windows_line_endings_reads_the_same_corpus(tmp_path):
    """``\\r\\n`` inside quoted cells (unix2dos, git's autocrlf) stayed in the texts: another hash, so another
    automatic split and another digest, and a run could not resume on the re-saved file."""
    rows = "".join(f'"report {i},\nline two of {i}",{i % 2},{1 - i % 2}\n' for i in range(40))
    unix, windows = tmp_path / "unix.csv", tmp_path / "windows.csv"
    unix.write_bytes(("text,a,b\n" + rows).encode())
    windows.write_bytes(("\ufefftext,a,b\n" + rows).replace("\n", "\r\n").encode())
    c, d = load_dataset("csv", unix), load_dataset("csv", windows)
    assert b"\r\n" in windows.read_bytes() and c.texts_of("train")[0].count("\n") == 1
    assert c.digest() == d.digest() and list(c.texts) == list(d.texts)
    lone = tmp_path / "lone.csv"
    lone.write_bytes(b'text,a,b\n' + b"".join(f'"scraped {i}\rtext",{i % 2},{1 - i % 2}\n'.encode() for i in range(40)))
    assert load_dataset("csv", lone).texts[0].count("\r") == 1  # a lone carriage return is left as it is


def test_a_column_of_split_names_under_another_name_is_a_warning_and_the_flag_reads_it(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("text,a,Split\n" + "".join(f"text {i},{i % 2},{('train', 'dev', 'test')[i % 3]}\n"
                                               for i in range(30)))
    with pytest.warns(UserWarning, match=r"column 'Split' holds only split names \(train, dev, test\), but the split "
                                         r"read is the 'split' column's, which the file lacks, so each text goes where "
                                         r"its hash falls; to split by 'Split': --split-column Split"):
        hashed = load_dataset("csv", path)
    assert len(hashed.splits["dev"]) != 10
    with pytest.raises(DataError, match=r"has no split column 'split' \(did you mean Split\?\)"):
        load_dataset("csv", path, split_column="split")  # named, the default name too must be there
    own = load_dataset("csv", path, split_column="Split")
    assert {s: len(i) for s, i in own.splits.items()} == {"train": 10, "dev": 10, "test": 10}
    assert own.label_names == ("a",)
    late = tmp_path / "late.csv"  # split names in its first 60 cells, then another value: no column of splits
    late.write_text("text,a,Split\n" + "".join(f"text {i},{i % 2},{('train', 'dev', 'test')[i % 3] if i < 60 else 'x'}"
                                               f"\n" for i in range(61)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_dataset("csv", late)


def test_an_all_zero_label_column_found_by_the_rule_is_left_out_with_a_warning(tmp_path):
    """An exported sheet's unused category stopped every run, even one whose --labels left it out."""
    path = tmp_path / "data.csv"
    path.write_text("text,a,b,fire\n" + "".join(f"text {i},{i % 2},{1 - i % 2},0\n" for i in range(30)))
    with pytest.warns(UserWarning, match=r"label column\(s\) 'fire' hold only zeros, so no text carries it: left out"):
        c = load_dataset("csv", path)
    assert c.label_names == ("a", "b") and c.Y.shape == (30, 2)
    with pytest.raises(DataError, match=r"'fire' hold only zeros; .*: leave it out of --label-columns"):
        load_dataset("csv", path, label_columns=["a", "fire"])


def test_a_mapping_as_a_label_cell_is_refused(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps({"text": f"t {i}", "labels": {"a": 1, "b": 0}}) + "\n" for i in range(5)))
    with pytest.raises(DataError, match=r"data.jsonl line 1: the label cell holds a mapping \(\{'a': 1, 'b': 0\}\); "
                                        r"expected a list of label names"):
        load_dataset("jsonl", path)
    # a CSV cell holding the same object as text was read as one label named '{"a": 1}'
    table = tmp_path / "data.csv"
    rows = ["t 0,a|b", "t 1,a", 't 2,"{""a"": 1}"', "t 3,b"]
    table.write_text("\n".join(["text,labels", *rows]) + "\n")
    with pytest.raises(DataError, match=r"data.csv line 4: the label cell holds a mapping \(\{'a': 1\}\); "):
        load_dataset("csv", table)
    rows[2] = "t 2,{a"
    table.write_text("\n".join(["text,labels", *rows]) + "\n")
    assert load_dataset("csv", table).label_names == ("a", "b", "{a")  # a name that is no mapping: a name


@pytest.mark.parametrize("name, content, kwargs, message", [
    ("a.csv", "text,Labels\nx,a\ny,b\nz,a\n", {},  # the flag that reads it, whole (it had said no more than the flag)
     r"a.csv has no 0/1 label columns and no 'labels' column; for a column listing each text's labels, as 'labels' "
     r"would: --label-columns Labels \(its columns besides the text, split and id: Labels\)$"),
    ("a.csv", "text,topic\nx,a\ny,b\nz,a\n", {},
     r"a.csv has no 0/1 label columns and no 'labels' column; name them with --label-columns \(its columns besides "
     r"the text, split and id: topic\)$"),
    ("a.jsonl", '{"text": "x", "a": 1, "split": "train"}\n{"text": "y", "a": 0}\n', {},
     r"a.jsonl line 2: column 'split' holds an empty cell \(1 such row\(s\)\); expected train, dev \(or "
     r"validation\), test in every row$"),
    ("a.json", '[{"text": "x", "labels": ["a"]}, {"text": "y", "labels": ["b"]}]\n', {},
     r"a.json line 1 holds an array, not an object; expected a JSON object \(the whole file one JSON array, as pandas' "
     r"orient='records' writes it\? .*lines=True\)\)$"),
    # an API's reply: the records under one key (the advice had been --text-column data, then "a list")
    ("a.json", '{"data": [{"text": "x", "labels": ["a"]}, {"text": "y", "labels": ["b"]}]}\n', {},
     r"a.json is one JSON object holding 2 records under 'data'; expected one JSON object per line, a record each: "
     r"write them so \(pandas: pd.DataFrame\(json.load\(f\)\['data'\]\).to_json\(path, orient='records', "
     r"lines=True\)\)$"),
    # one text whose label cell holds objects: that cell's message, not "1 records under 'labels'"
    ("a.jsonl", '{"text": "x", "labels": [{"n": 1}, {"n": 2}]}\n', {},
     r"a.jsonl line 1: the label list holds \{'n': 1\}, not a label name; expected a flat list of names"),
    ("a.jsonl", '{\n  "text": "x",\n  "labels": ["a"]\n}\n', {},
     r"a.jsonl line 1 is not JSON .*; expected one JSON object per line \(the whole file one indented JSON object\? "
     r"write each record as one object on a line of its own\)$"),
    ("a.csv", "text,a,b\nx,1,0\ny,,1\nz,0,1\n", {},
     r"a.csv line 3: the cell of label column 'a' is empty; expected 0 or 1: write 0 or 1 in each of its cells, or "
     r"name the label columns with --label-columns, leaving it out$"),
    ("a.csv", "text,a,b\nx,1,0\ny,,1\nz,0,1\n", {"label_columns": ["a", "b"]},
     r"or leave the column out of --label-columns$"),
])
def test_what_a_file_s_refusal_suggests_fits_what_was_given(tmp_path, name, content, kwargs, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        load_dataset("jsonl" if name.endswith(("jsonl", "json")) else "csv", path, **kwargs)


def test_an_unknown_label_gets_a_did_you_mean():
    corpus = make_corpus("c", ["x", "y", "z"], np.array([[1, 0], [0, 1], [1, 1]]), ["food", "water"],
                         {"train": np.array([0]), "dev": np.array([1]), "test": np.array([2])})
    with pytest.raises(DataError, match=r"label\(s\) 'fod' not in corpus 'c' \(did you mean food\?\); known labels: "
                                        r"food, water$"):
        select_labels(corpus, ["fod", "water"])
    with pytest.raises(DataError, match=r"^label\(s\) 'fod,water' not in corpus 'c' \(did you mean food\?\); labels "
                                        r"are given apart, not joined by commas: --labels fod water; known labels: "):
        select_labels(corpus, ["fod,water"])  # --labels fod,water
    with pytest.raises(DataError, match=r"^label\(s\) 'food water' not in corpus 'c'; 'food water' names 2 labels in "
                                        r"one string: list them one by one \(food, water\), not as one name; "
                                        r"known labels: "):
        select_labels(corpus, ["food water"])  # a settings file's labels: food water
    with pytest.raises(DataError, match=r"^label\(s\) 'heavy rain' not in corpus 'c'; known labels: "):
        select_labels(corpus, ["heavy rain"])  # a name with a space: no labels there to split it into


def test_describe_aligns_label_names_shorter_than_the_header():
    c = make_corpus("c", ["x", "y", "z"], np.array([[1], [1], [1]]), ["1"],
                    {"train": np.array([0]), "dev": np.array([1]), "test": np.array([2])})
    lines = c.describe().splitlines()
    assert lines[-2] == "  label   train     dev    test" and lines[-1] == "  1           1       1       1"
    assert lines[0].startswith("corpus c: 3 texts, 1 label; ")  # not "1 labels"


def test_unknown_dataset_and_missing_path(tmp_path):
    with pytest.raises(DataError, match="unknown dataset 'nope'; known: csv, disaster, jsonl, reuters"):
        load_dataset("nope")
    with pytest.raises(DataError, match="known: csv, disaster, jsonl, reuters; for a file of your own give "
                                        "--dataset jsonl --data-path data.ndjson$"):
        load_dataset("data.ndjson")
    with pytest.raises(DataError, match="does not exist"):
        load_dataset("csv", tmp_path / "missing.csv")
    with pytest.raises(DataError, match="needs --data-path"):
        load_dataset("reuters")


def test_a_table_reads_words_like_na_as_texts_and_ids_as_written(tmp_path):
    """Only an empty cell is missing: "NA", "None" and "null" are texts; an id keeps its leading zeros."""
    import pandas as pd

    from al.datasets.tabular import read_table

    path = tmp_path / "t.csv"
    path.write_text("id,text,a\n001,NA,1\n002,None,0\n003,null,1\n004,,1\n")
    frame = read_table(path)
    assert frame["id"].tolist() == ["001", "002", "003", "004"]
    assert frame["text"].tolist()[:3] == ["NA", "None", "null"] and pd.isna(frame["text"][3])
    assert frame["a"].tolist() == [1, 0, 1, 1]


def test_null_or_empty_items_of_a_label_list_name_no_label(tmp_path):
    from al.datasets.tabular import load_table

    path = tmp_path / "t.jsonl"
    rows = [{"text": f"text {i}", "labels": ["food", None, ""] if i % 2 else ["water"]} for i in range(60)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert list(load_table(path).label_names) == ["food", "water"]


def _wrapped_interrupt(*args, **kwargs):
    """What pandas' parser may raise when Ctrl-C arrives mid-read: a ParserError whose context is the interrupt."""
    import pandas as pd

    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as exc:
        raise pd.errors.ParserError("Error tokenizing data. C error: Calling read(nbytes) on source failed") from exc


@pytest.mark.parametrize("dataset", ["disaster", "csv"])
def test_ctrl_c_while_a_file_is_read_stays_an_interrupt(dataset, tmp_path, monkeypatch):
    import al.datasets.disaster
    import al.datasets.tabular

    path = tmp_path / "texts.csv"
    path.write_text("text,split,message,related,a\nhello,train,hello,1,1\n")
    for module in (al.datasets.disaster, al.datasets.tabular):
        monkeypatch.setattr(module.pd, "read_csv", _wrapped_interrupt)
    with pytest.raises(KeyboardInterrupt):
        load_dataset(dataset, str(path))


def test_raise_interrupt_finds_an_interrupt_anywhere_in_an_error_s_chain():
    from al.datasets.tabular import raise_interrupt

    raise_interrupt(ValueError("bad cell"))  # nothing wrapped: returns
    inner = KeyboardInterrupt()
    outer = ValueError("outer")
    outer.__context__ = OSError("read failed")
    outer.__context__.__cause__ = inner
    with pytest.raises(KeyboardInterrupt) as caught:
        raise_interrupt(outer)
    assert caught.value is inner
    looped = ValueError("loop")
    looped.__context__ = ValueError("other")
    looped.__context__.__context__ = looped
    raise_interrupt(looped)  # a cycle ends


def test_the_reduction_summary_counts_what_was_left_out():
    """Texts a b c d e: labels x, y, z; keeping x and y leaves out the text with z alone and the one with none."""
    from al.datasets.reduction import reduction_summary

    Y = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 1], [0, 0, 1], [0, 0, 0]], dtype=np.int8)
    full = make_corpus("t", list("abcde"), Y, ["x", "y", "z"],
                       {"train": np.array([0, 1, 3]), "dev": np.array([2]), "test": np.array([4])})
    reduced = make_corpus("t", list("abc"), Y[:3, :2], ["x", "y"],
                          {"train": np.array([0, 1]), "dev": np.array([2]), "test": np.array([], dtype=int)})
    assert reduction_summary(full, reduced) == ("left out: 2 of 5 texts, which carry none of the 2 kept labels (1 "
                                                "carries no label at all); 1 of 3 labels (z)")
    assert reduction_summary(full, full).endswith("(1 carries no label at all); every label kept")
    bare = make_corpus("t", list("abc"), Y[:3], ["x", "y", "z"], reduced.splits)
    assert reduction_summary(bare, bare) == "left out: nothing (every text and label kept)"
    commas = make_corpus("t", list("abcde"), Y, ["x", "y", "z, or w"], full.splits)
    assert reduction_summary(commas, reduced).endswith("; 1 of 3 labels ('z, or w')")



def test_the_reduction_summary_says_why_each_label_was_left_out():
    """--describe said "left out: nothing (every text and label kept)" beside the warning that an all-zero column
    was left out, and named the labels the pick left out without saying why (too rare? not picked?)."""
    from al.datasets.reduction import reduction_summary

    rng = np.random.default_rng(0)
    n = 400
    splits = {"train": np.arange(0, 300), "dev": np.arange(300, 350), "test": np.arange(350, 400)}
    # a: on every text (above the 50% share); b, c, d: common; e: on 3 texts (below 20 pool texts)
    Y = np.zeros((n, 5), dtype=np.int8)
    Y[:, 0] = 1
    Y[:, 1:4] = rng.random((n, 3)) < 0.3
    Y[[0, 300, 350], 4] = 1
    full = make_corpus("t", [f"t{i}" for i in range(n)], Y, list("abcde"), splits, left_out_labels=["never"])
    reduced = select_labels(full, ["b", "c"])
    said = reduction_summary(full, reduced, picked=(1, 1))
    assert said.endswith("; 4 of 6 labels (eligible, not among the 1 most and 1 least frequent: d; under the rule of "
                         ">= 20 pool texts, >= 10 dev and >= 10 test texts and at most 50% of the 300 pool texts "
                         "before the label reduction: a, e; on no text: never)"), said
    assert reduction_summary(full, reduced, picked=None).endswith("(not named with --labels: a, d, e; on no text: "
                                                                  "never)")
    assert reduction_summary(full, reduced).endswith("; 4 of 6 labels (a, d, e; on no text: never)")
    every = select_labels(full, list("abcde"))
    assert reduction_summary(full, every).endswith("; 1 of 6 labels (on no text: never)")  # not "every label kept"


def test_the_same_file_is_parsed_once_until_its_bytes_change(tmp_path, monkeypatch):
    """al.analyze and --describe read the full corpus twice (the reduction, then what it left out)."""
    import al.datasets.tabular

    reads = []
    real = al.datasets.tabular.read_rows
    monkeypatch.setattr(al.datasets.tabular, "read_rows", lambda path: reads.append(path) or real(path))
    path = tmp_path / "data.csv"
    path.write_text("text,a\n" + "".join(f"text {i},{i % 2}\n" for i in range(30)))
    first = load_dataset("csv", path)
    assert load_dataset("csv", path) is first and len(reads) == 1
    assert load_dataset("csv", path, label_columns=["a"]) is not first  # other options
    path.write_text("text,a\n" + "".join(f"text {i},{1 - i % 2}\n" for i in range(30)))  # same size, other bytes
    again = load_dataset("csv", path)
    assert again is not first and len(reads) == 3 and again.Y.toarray()[0, 0] == 1
    copy = tmp_path / "copy.csv"
    copy.write_bytes(path.read_bytes())
    assert load_dataset("csv", copy).name == "copy"  # the same bytes under another name: its own corpus name


def test_a_label_whose_column_holds_only_zeros_is_said_to_carry_no_text():
    """--labels PII food said "'PII' not in corpus 'disaster'", though PII is a column of the file (all 0, left out
    as the data was read)."""
    from al.datasets.reduction import reduce_labels

    counts = corpus_with_counts([30, 30], [10, 10], [10, 10])
    corpus = make_corpus("d", counts.texts, counts.Y, ["food", "water"], counts.splits, left_out_labels=["PII"])
    with pytest.raises(DataError) as caught:
        reduce_labels(corpus, ["PII", "food"])
    assert str(caught.value) == ("label(s) 'PII' of corpus 'd' carry no text (a column of only zeros, left out as the "
                                 "data was read); name labels that texts carry: food, water")
    with pytest.raises(DataError, match=r"^label\(s\) 'fod' not in corpus 'd' \(did you mean food\?\)"):
        reduce_labels(corpus, ["fod"])


def test_describe_lines_up_label_names_of_wide_characters():
    from al.datasets.corpus import display_width

    names = ["food", "食物", "🌍 quake", "café"]
    Y = np.eye(4, dtype=np.int8).repeat(3, axis=0)
    corpus = make_corpus("wide", [f"t{i}" for i in range(12)], Y, names,
                         {"train": np.arange(0, 12, 3), "dev": np.arange(1, 12, 3), "test": np.arange(2, 12, 3)})
    rows = corpus.describe().splitlines()[-4:]
    assert [display_width(row) for row in rows] == [display_width(rows[0])] * 4  # one width: the columns line up
    assert [display_width(name) for name in names] == [4, 4, 8, 4]
