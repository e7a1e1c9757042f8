"""A user's own data files: what is read from them, and the one line that says what is wrong with them."""
from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest

from al.annotate.data import read_session_texts
from al.datasets import load_corpus, load_dataset
from al.datasets.corpus import make_corpus
from al.datasets.reduction import select_labels
from al.datasets.tabular import hash_splits, load_table, read_rows, text_hash
from al.errors import ConfigError, DataError


def write_csv(path, header, rows):
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def zero_one_rows(n=60, stray_row=None, stray=None):
    """``text i,food,water`` rows; row ``stray_row`` (0-based) has ``stray`` as its food cell."""
    return [f"text number {i},{stray if i == stray_row else i % 2},{(i + 1) % 2}" for i in range(n)]


# 1 -------------------------------------------------------------- a stray value in a 0/1 column


@pytest.mark.parametrize("stray", ["2", "yes", "x"])
def test_a_zero_one_column_with_a_stray_value_is_left_out_with_a_warning_not_silently(tmp_path, stray):
    path = write_csv(tmp_path / "t.csv", "text,food,water", zero_one_rows(stray_row=7, stray=stray))
    with pytest.warns(UserWarning) as caught:
        corpus = load_table(path)
    assert corpus.label_names == ("water",)
    (message,) = [str(w.message) for w in caught]
    shown = repr(int(stray)) if stray.isdigit() else repr(stray)
    assert message.startswith(f"{path} line 9: column 'food' holds {shown} where its other 59 filled cells are 0 or 1")
    assert "fix the cell, or name the label columns with --label-columns" in message and "\n" not in message
    with pytest.raises(DataError, match=f"line 9: label column 'food' holds {shown}; expected 0 or 1"):
        load_table(path, label_columns=["food", "water"])  # named label columns: the cell must be fixed


def test_naming_a_column_left_out_for_a_stray_value_as_a_label_points_at_the_cell_not_at_a_typo(tmp_path):
    """--labels food, with food left out for one 'yes' cell, said "'food' not in corpus (did you mean ...?)": the
    refusal now says the column is there and why it was not read; a yes/no column likewise."""
    from al.datasets.reduction import reduce_labels

    path = write_csv(tmp_path / "t.csv", "text,food,water", zero_one_rows(stray_row=7, stray="yes"))
    with pytest.warns(UserWarning, match="column 'food' holds 'yes'"):
        corpus = load_table(path)
    assert corpus.unread_columns == ("food",) and corpus.label_names == ("water",)
    with pytest.raises(DataError) as caught:
        reduce_labels(corpus, ["food", "water"])
    assert str(caught.value) == (
        "label(s) 'food' of corpus 't': the file's column(s) of that name hold values other than 0 and 1 (the "
        "warning above says which), so were not read as labels; write the cells as 0 or 1, or name the label "
        "columns with --label-columns to be told of every bad cell")
    with pytest.raises(DataError, match=r"^label\(s\) 'fod' not in corpus 't'"):  # a typo is still one
        reduce_labels(corpus, ["fod"])
    worded = write_csv(tmp_path / "w.csv", "text,food,water",
                       [f"text number {i},{'yes' if i % 2 else 'no'},{(i + 1) % 2}" for i in range(60)])
    with pytest.warns(UserWarning, match="column 'food' holds only yes/no"):
        assert load_table(worded).unread_columns == ("food",)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_table(write_csv(tmp_path / "ok.csv", "text,food,water", zero_one_rows())).unread_columns == ()


def test_one_class_column_named_alone_lists_its_values_as_labels(tmp_path):
    """A named column of classes 0, 1 and a rare 2 is a list column, as it always was: no stray-value refusal."""
    rows = [f"text number {i},{2 if i in (3, 30, 50) else i % 2}" for i in range(60)]
    path = write_csv(tmp_path / "t.csv", "text,label", rows)
    assert load_table(path, label_columns=["label"]).label_names == ("0", "1", "2")


def test_an_id_column_named_as_the_labels_is_warned_of_with_the_files_columns(tmp_path):
    """--label-columns id read every id as a label: the reduction's refusal then listed 't0', 't1'... and advised
    fewer labels, which no setting could give."""
    rows = [f"t{i},text number {i},{'food|water' if i % 3 else 'food'}" for i in range(40)]
    path = write_csv(tmp_path / "t.csv", "id,text,tags", rows)
    with pytest.warns(UserWarning, match=r"column 'id' holds 40 distinct labels in 40 rows \(such as 't0', 't1', "
                                         r"'t10'\): an id or text column rather than labels\? name the column\(s\) "
                                         r"that hold the labels with --label-columns \(the file's columns: id, text, "
                                         r"tags\)$"):
        load_table(path, label_columns=["id"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the real label column: no word
        assert load_table(path, label_columns=["tags"]).label_names == ("food", "water")
    few = write_csv(tmp_path / "few.csv", "id,text", [f"t{i},text number {i}" for i in range(19)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # too few rows to tell
        assert len(load_table(few, label_columns=["id"]).label_names) == 19
    many = write_csv(tmp_path / "many.csv", "text,labels",  # a small sample of many labels: 28 on 40 rows, most
                     [f"text number {i},l{i % 28}|l{(i * 7) % 28}" for i in range(40)])  # on two rows or more
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(load_table(many).label_names) == 28


def test_a_count_that_is_mostly_zero_or_one_still_loads_the_file(tmp_path):
    rows = [f"text number {i},{i % 2},{5 if i == 10 else i % 2}" for i in range(60)]
    path = write_csv(tmp_path / "t.csv", "text,food,retweets", rows)
    with pytest.warns(UserWarning, match="column 'retweets' holds 5"):
        assert load_table(path).label_names == ("food",)


def test_columns_that_are_clearly_not_labels_are_still_ignored(tmp_path):
    rows = [f"text number {i},{i % 2},{i},{i * 7 % 13},free words {i}" for i in range(60)]
    path = write_csv(tmp_path / "t.csv", "text,food,row_id,score,note", rows)
    assert load_table(path).label_names == ("food",)


# 2 -------------------------------------------------------------- one rule for al.simulate and al.annotate


def test_the_label_columns_offered_are_quoted_for_the_shell(tmp_path):
    """A column name with a space or a comma, pasted from the advice, must be one argument."""
    path = tmp_path / "both.csv"
    path.write_text('text,labels,medical help,"search, and rescue"\n' +
                    "".join(f"text {i},medical help,{i % 2},{1 - i % 2}\n" for i in range(40)))
    with pytest.raises(DataError, match=r"--label-columns labels, or --label-columns 'medical help' "
                                        r"'search, and rescue'$"):
        load_table(path)


def test_both_readers_take_the_same_labels_from_a_file_with_a_list_and_zero_one_columns(tmp_path):
    path = tmp_path / "both.jsonl"
    rows = [{"text": f"text {i}", "labels": ["food"] if i % 2 else ["water"], "food": int(i % 3 == 0),
             "water": int(i % 3 == 1)} for i in range(60)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for read in (lambda **kw: load_table(path, **kw), lambda **kw: read_session_texts(path, ["food", "water"], **kw)):
        with pytest.raises(DataError, match="holds both a 'labels' list column and 0/1 label column\\(s\\) 'food', "
                                            "'water'; say which hold the labels: --label-columns labels, or "
                                            "--label-columns food water"):
            read()
    for columns, index in ((["labels"], lambda r: [int("food" in r["labels"]), int("water" in r["labels"])]),
                           (["food", "water"], lambda r: [r["food"], r["water"]])):
        simulated = load_table(path, label_columns=columns)
        annotated = read_session_texts(path, ["food", "water"], label_columns=columns)
        expected = [index(r) for r in rows]
        assert simulated.Y.toarray().tolist() == expected
        assert [annotated.given[i].tolist() for i in range(len(rows))] == expected


# 3 -------------------------------------------------------------- --label-sep


def comma_rows(n=200):
    return [f'"text {i}","{",".join(n for n, on in (("food", i % 2), ("water", i % 3 == 0)) if on)}"'
            for i in range(n)]


def test_label_sep_flag_of_simulate_reaches_the_reader_and_is_documented(tmp_path):
    from al.simulate import build_parser, config_from_args

    path = write_csv(tmp_path / "c.csv", "text,labels", comma_rows())
    args = build_parser().parse_args(["--dataset", "csv", "--data-path", str(path), "--label-sep", ","])
    config = config_from_args(args)
    assert dict(config.data_options) == {"label_sep": ","}
    corpus = load_dataset(config.dataset, config.data_path, **config.data_options)
    assert corpus.label_names == ("food", "water")
    assert "--label-sep" in build_parser().format_help()
    yaml_file = tmp_path / "run.yaml"
    yaml_file.write_text(f"dataset: csv\ndata_path: {path}\ndata_options: {{label_sep: ','}}\n")
    assert dict(config_from_args(build_parser().parse_args(["--config", str(yaml_file)])).data_options) == \
        {"label_sep": ","}


def test_a_data_option_at_its_default_is_no_change_of_a_stored_run():
    from al.config import changed_settings

    old = {"dataset": "csv", "data_options": {}}
    assert changed_settings(old, {"dataset": "csv", "data_options": {"label_sep": "|"}}) == []
    assert changed_settings(old, {"dataset": "csv", "data_options": {"label_sep": ","}}) == ["data_options"]


def test_label_sep_flag_of_annotate_reaches_the_session_and_its_export(tmp_path):
    from al.annotate.__main__ import build_parser, build_session
    from al.annotate.export import session_rows
    from tests.conftest import hash_embed

    rows = [f'"text {i}","{"food,water" if i == 0 else "food" if i < 3 else ""}"' for i in range(40)]
    path = write_csv(tmp_path / "c.csv", "text,labels", rows)
    assert "--label-sep" in build_parser().format_help()
    args = build_parser().parse_args(["--data", str(path), "--labels", "food", "water", "--out", str(tmp_path / "s"),
                                      "--label-sep", ",", "--initial", "5", "--step", "5", "--budget", "10"])
    session = build_session(args, embed=hash_embed)
    try:
        assert {i: y.tolist() for i, y in session.texts.given.items()} == {0: [1, 1], 1: [1, 0], 2: [1, 0]}
        assert session.settings()["session"]["label_sep"] == ","
    finally:
        session.close()
    result = session_rows(tmp_path / "s")
    exported, counts = result.rows, result.counts
    assert counts["given"] == 3 and exported[0]["food"] == exported[0]["water"] == 1


# 4 -------------------------------------------------------------- a JSON-lines file without --dataset


def test_a_data_file_re_saved_with_other_line_endings_resumes_its_run(tmp_path, monkeypatch, capsys):
    """CRLF line endings (or a spreadsheet's re-save) change a file's bytes, not what is read from it: its run
    resumes, recording the new digest; finished, it is complete; other texts are refused in one line."""
    import al.simulate
    from al.config import SimulationConfig
    from al.records import RunRecords, read_config
    from al.simulate import data_file_digest, load_config_corpus, run

    text = "text,food,water\n" + "".join(f"text number {i},{int(i % 3 == 0)},{int(i % 2 == 0)}\n" for i in range(400))
    data = tmp_path / "texts.csv"
    data.write_text(text)
    config = SimulationConfig(strategy="random", dataset="csv", data_path=str(data), n_frequent=2, n_rare=0,
                              initial=100, step=50, budget=150, out=str(tmp_path / "run"))
    first = data_file_digest(str(data))
    records = RunRecords(config.run_dir)
    records.start(config.resolved(), {"data_digest": first, "corpus_digest": load_config_corpus(config).digest()})
    records.append({"round": 0, "n_labeled": 100, "macro_f1": 0.5, "micro_f1": 0.6, "picked": list(range(50))})
    data.write_bytes(text.replace("\n", "\r\n").encode())
    built = []

    def build(config, records=None, on_round=None, quiet=True):  # the real corpus; the engine's round made up
        class Resumed:
            space = None

            def run(self):
                records.append({"round": 1, "n_labeled": 150, "macro_f1": 0.5, "micro_f1": 0.6, "picked": []})
                return list(records.rounds)

        built.append(config)
        return load_config_corpus(config), Resumed()

    monkeypatch.setattr(al.simulate, "build_simulation", build)
    assert len(run(config, quiet=True)) == 2 and built
    stored, second = read_config(config.run_dir), data_file_digest(str(data))
    assert stored["data_digest"] == second != first and stored["resumes"][-1]["data_digest"] == [first, second]
    built.clear()
    assert len(run(config, quiet=True)) == 2 and not built  # finished: complete, nothing built
    from dataclasses import replace

    capsys.readouterr()
    assert len(run(replace(config, diagnostics=True))) == 2 and not built  # asked for anew: said to be not recorded
    assert capsys.readouterr().err == (
        f"{config.run_dir} is complete (2 rounds); nothing to do (its rounds ran without --diagnostics, and a "
        f"complete run records no more: give another --out to run it with them, or python -m al.analyze for the "
        f"pool's diagnostics)\n")
    data.write_text(text)  # re-saved once more: a complete run says its data file's bytes changed, not the corpus
    assert len(run(config)) == 2 and not built
    assert capsys.readouterr().err == (
        f"{config.run_dir} is complete (2 rounds); nothing to do; texts.csv's bytes changed since it ran (its "
        f"config.json keeps the data_digest it read), not its texts, labels or splits\n")
    data.write_text(text.replace("text number 6,", "text number six,"))
    with pytest.raises(ConfigError) as refused:
        run(config, quiet=True)
    assert "\n" not in str(refused.value) and not built
    assert "other data (the data file's bytes changed: data_digest " in str(refused.value)
    assert "; the texts, labels or splits it reads changed: corpus_digest " in str(refused.value)


def test_a_jsonl_file_without_dataset_is_one_line(tmp_path, monkeypatch, capsys):
    from al.simulate import main

    (tmp_path / "d.jsonl").write_text('{"text": "a", "b": 1}\n{"text": "d"}\n'
                                      '{"text": "d, e", "labels": ["y"], "q": 1}\n')  # pandas fails on it as a CSV
    monkeypatch.chdir(tmp_path)
    assert main(["--data-path", "d.jsonl", "--out", "run"]) == 2
    err = capsys.readouterr().err
    assert err == ("error: data path d.jsonl is a .jsonl file, but dataset 'disaster' (the default of --dataset) "
                   "reads the Disaster Response CSV; for a file of your own give --dataset jsonl\n")
    (tmp_path / "d.csv").write_text('text,b\n"a",1\n"d, e",1,3,4\n')
    assert main(["--data-path", "d.csv", "--out", "run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot parse d.csv as the Disaster Response CSV (") and err.count("\n") == 1
    assert err.endswith("for a file of your own give --dataset csv or jsonl\n")


# 5 -------------------------------------------------------------- a misspelt data option


def test_a_misspelt_data_option_is_one_line_with_the_known_ones(tmp_path, monkeypatch, capsys):
    from al.simulate import main

    path = write_csv(tmp_path / "c.csv", "text,labels", comma_rows())
    (tmp_path / "run.yaml").write_text(f"dataset: csv\ndata_path: {path}\ndata_options: {{label_seperator: ','}}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["--config", "run.yaml", "--out", "run"]) == 2
    assert capsys.readouterr().err == (
        "error: data_options: dataset 'csv' has no option(s) 'label_seperator' (did you mean label_sep?); known: "
        "label_columns, label_sep, split_column, text_column\n")
    with pytest.raises(DataError, match="has no option\\(s\\) 'label_seperator' \\(did you mean label_sep\\?\\)"):
        load_dataset("csv", path, label_seperator=",")
    (tmp_path / "flat.yaml").write_text(f"dataset: csv\ndata_path: {path}\nlabel_sep: ','\n")
    assert main(["--config", "flat.yaml", "--out", "run"]) == 2
    assert "'label_sep' is an option of the data file; write it under data_options" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


# 6, 8 ---------------------------------------------------------- header names


def test_header_names_are_stripped_and_a_name_given_twice_is_refused(tmp_path):
    path = write_csv(tmp_path / "t.csv", " text , food ,water", zero_one_rows())
    assert load_table(path).label_names == ("food", "water")
    assert read_session_texts(path, ["food", "water"]).given[1].tolist() == [1, 0]
    twice = write_csv(tmp_path / "twice.csv", "text,food, food", zero_one_rows())
    with pytest.raises(DataError, match="twice.csv header \\(line 1\\) names column\\(s\\) 'food' more than once"):
        read_rows(twice)
    keys = tmp_path / "keys.jsonl"
    keys.write_text('{"text": "a", "food": 1}\n{"text": "b", "food": 1, " food": 0}\n')
    with pytest.raises(DataError, match="keys.jsonl line 2 names column\\(s\\) 'food' more than once"):
        read_rows(keys)


# 7 -------------------------------------------------------------- label descriptions


def test_label_descriptions_of_labels_named_like_numbers_or_booleans(tmp_path):
    from al.initial import load_label_descriptions

    path = tmp_path / "labels.yaml"
    path.write_text("1: the first grade\nyes: agreement\n'no': refusal\nnull: nothing\n")
    with pytest.warns(UserWarning, match="describes 4 of the run's 5 labels; other takes its name instead"):
        described = load_label_descriptions(path, ["1", "yes", "no", "null", "other"])
    assert described == {"1": "the first grade", "yes": "agreement", "no": "refusal", "null": "nothing",
                         "other": "other"}
    path.write_text("foood: meals\n")
    with pytest.raises(DataError, match="unknown label\\(s\\) foood \\(did you mean food\\?\\); the run's labels"):
        load_label_descriptions(path, ["food", "water"])
    path.write_text("1: one\n'1': again\n")
    with pytest.raises(DataError, match="describes '1' twice"):
        load_label_descriptions(path, ["1"])


# 9 -------------------------------------------------------------- rows named by their line in the file


def test_every_row_is_named_by_its_line_in_the_file(tmp_path):
    # line 1 header, 2 a row, 3 blank, 4-5 one row over two lines, 6 the bad row
    path = tmp_path / "t.csv"
    path.write_text('text,food,water\nfirst,1,0\n\n"two\nlines",0,1\nthird,7,0\n')
    with pytest.raises(DataError, match="t.csv line 6: label column 'food' holds 7; expected 0 or 1"):
        load_table(path, label_columns=["food", "water"])
    path.write_text('text,food\nfirst,1\n\n"two\nlines",0\n  ,1\n')
    with pytest.raises(DataError, match="t.csv line 6: empty text in column 'text'"):
        load_table(path)
    lines = tmp_path / "t.jsonl"
    lines.write_text('{"text": "a", "labels": ["x"]}\n\n{"text": "b", "labels": "[unclosed"}\n')
    with pytest.raises(DataError, match="t.jsonl line 3: cannot parse the label list '\\[unclosed'"):
        load_table(lines)
    split = write_csv(tmp_path / "s.csv", "text,food,split", ["a,1,train", "b,0,holdout", "c,1,"])
    with pytest.raises(DataError, match="s.csv line 3: column 'split' holds 'holdout' \\(2 such row\\(s\\)"):
        load_table(split)
    ids = write_csv(tmp_path / "ids.csv", "id,text", ["a1,first", "a2,second", "a1,third"])
    with pytest.raises(DataError, match="ids.csv line 4: id 'a1' is on line 2 already"):
        read_session_texts(ids, ["food"])
    partial = write_csv(tmp_path / "partial.csv", "text,food,water", ["a,1,0", "b,,1"])
    with pytest.raises(DataError, match="partial.csv line 3: some label columns are filled and some empty"):
        read_session_texts(partial, ["food", "water"])
    bad = write_csv(tmp_path / "bad.csv", "text,food,water", ["a,1,0", "b,0,0", "c,2,0"])
    with pytest.raises(DataError, match="bad.csv line 4: label column 'food' holds 2; expected 0 or 1"):
        read_session_texts(bad, ["food", "water"])
    floats = write_csv(tmp_path / "floats.csv", "text,food,water", ["a,,", "b,2,0"])  # read as floats: not '2.0'
    with pytest.raises(DataError, match="floats.csv line 3: label column 'food' holds 2; expected 0 or 1"):
        read_session_texts(floats, ["food", "water"])


def test_a_row_with_more_cells_than_the_header_is_named(tmp_path):
    path = write_csv(tmp_path / "t.csv", "text,food", ["a,1", "b, c,0"])
    with pytest.raises(DataError, match="t.csv line 3 has 3 cells but the header \\(line 1\\) names 2; quote a cell"):
        read_rows(path)


# 10 ------------------------------------------------------------- one label is a binary task


def test_one_kept_label_keeps_the_texts_without_it_as_negatives():
    Y = np.array([[1, 0], [0, 1], [0, 0], [1, 1], [0, 1], [1, 0], [0, 0], [0, 1], [1, 0]])
    splits = {"train": [0, 1, 2, 3], "dev": [4, 5, 6], "test": [7, 8]}
    corpus = make_corpus("x", list("abcdefghi"), Y, ["p", "q"], splits)
    one = select_labels(corpus, ["p"])
    assert one.texts.tolist() == list("abcdefghi") and one.Y.toarray().ravel().tolist() == Y[:, 0].tolist()
    both = select_labels(corpus, ["p", "q"])  # two labels: a text with neither is dropped, as before
    assert both.texts.tolist() == list("abdefhi")


def test_one_label_from_a_file_is_a_binary_task(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"text": f"text {i}", "labels": ["food"] if i % 3 == 0 else ["water"]}) + "\n"
                            for i in range(600)))
    corpus = load_corpus("jsonl", path, labels=["food"])
    assert len(corpus.texts) == 600 and 0 < corpus.label_counts("train")[0] < len(corpus.splits["train"])


# 11 ------------------------------------------------------------- the automatic split


def test_the_automatic_split_keeps_duplicates_together_and_appended_rows_move_nothing(tmp_path):
    texts = [f"message {i % 300}" for i in range(900)]  # every text three times
    splits = hash_splits(texts)
    side = {}
    for split, rows in splits.items():
        for i in rows:
            assert side.setdefault(texts[i], split) == split  # one split per distinct text
    shares = {s: len(rows) / len(texts) for s, rows in splits.items()}
    assert shares["train"] == pytest.approx(0.8, abs=0.05) and shares["test"] == pytest.approx(0.1, abs=0.04)
    more = hash_splits([*texts, "one more message"])
    assert all(np.array_equal(more[s][more[s] < 900], splits[s]) for s in splits)
    assert text_hash("message 1") == text_hash("message 1") and 0 <= text_hash("") < 1

    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"text": f"  {t} ", "labels": ["a"]}) + "\n" for t in texts))
    corpus = load_dataset("jsonl", path, seed=5)  # texts stripped as read; no seed in the split
    assert all(np.array_equal(corpus.splits[s], splits[s]) for s in splits)
    assert not set(corpus.texts_of("test")) & set(corpus.texts_of("train"))


def test_a_text_repeated_so_often_that_it_skews_the_split_is_a_warning(tmp_path):
    """One text written 300 times goes to one split with every copy: the user is told, and how to choose."""
    rows = [f"message {i},{i % 2}" for i in range(200)] + ["the same text,1"] * 300
    path = write_csv(tmp_path / "d.csv", "text,food", rows)
    with pytest.warns(UserWarning) as caught:
        load_table(path)
    message = str(caught[0].message)
    assert message.startswith(f"{path}: the automatic split puts train ") and "\n" not in message
    assert "299 rows repeat a text (one text 300 times)" in message and message.endswith("add a 'split' column "
                                                                                       "(train, dev, test) to choose "
                                                                                       "the splits")
    evenly = [f"message {i % 300},{i % 2}" for i in range(900)]  # every text three times: shares as they fall
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_table(write_csv(tmp_path / "e.csv", "text,food", evenly))
        load_table(write_csv(tmp_path / "t.csv", "text,food", ["a,1", "b,0", "c,1", "a,1"]))  # tiny: left as is


def test_a_tiny_file_still_gets_every_split_or_says_what_it_needs(tmp_path):
    path = write_csv(tmp_path / "t.csv", "text,food", ["a,1", "b,0", "c,1", "a,1"])
    corpus = load_table(path)
    assert sorted(len(rows) for rows in corpus.splits.values()) == [1, 1, 2]  # the two "a" rows together
    path = write_csv(tmp_path / "t.csv", "text,food", ["a,1", "b,0", "a,1"])
    with pytest.raises(DataError, match="t.csv: 2 distinct text\\(s\\) cannot be split into train, dev and test; the "
                                        "automatic split needs at least 3 distinct texts .*; add a 'split' column"):
        load_table(path)


def test_config_refuses_a_bad_data_option_before_data_loads():
    from al.config import SimulationConfig

    with pytest.raises(ConfigError, match="label_columns must be a list of column names"):
        SimulationConfig(dataset="csv", data_options={"label_columns": [3]}).validate()


# 12 ------------------------------------------------------------- JSON lines: one quick read, every check kept


def test_json_lines_keep_nested_values_blank_keys_and_each_row_s_line(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_bytes(
        b'\xef\xbb\xbf{" text ": "a", "meta": {"k": 1, "k": 2}, "labels": ["x", {"y": [1, {"z": 0, "z": 3}]}]}\r\n'
        b"\r\n   \n"
        b'{"text": "b", "": 1, " ": 2}\n'
        b'{"text": "c", "": 3, "": 4}\n'  # a blank key twice is two columns, as a blank header name is in a CSV
        b'{"text": "d", "labels": []}'  # no line end at the end of the file
    )
    table = read_rows(path)
    assert table.lines.tolist() == [1, 4, 5, 6]
    assert list(table.frame.columns) == ["text", "meta", "labels", "Unnamed: 1", "Unnamed: 2"]
    assert table.frame["text"].tolist() == ["a", "b", "c", "d"]
    assert table.frame.at[0, "meta"] == {"k": 2}  # a nested object keeps the last value of a key, as json does
    assert table.frame.at[0, "labels"] == ["x", {"y": [1, {"z": 3}]}] and table.frame.at[3, "labels"] == []
    assert table.frame["Unnamed: 1"].tolist()[1:3] == [1, 3] and table.frame["Unnamed: 2"].tolist()[1:3] == [2, 4]


@pytest.mark.parametrize("line, key", [
    ('{"text": "a", "labels": ["x"], "text": "b"}', "text"),  # read as the same keys as the rows above
    ('{"text": "a", "labels": {"n": 1, "n": 2}, "labels": []}', "labels"),  # after a nested object's own repeat
    ('{"text": "a", "\\u006cabels": [], "labels": []}', "labels"),  # the same key, written otherwise
])
def test_a_key_given_twice_in_one_object_is_refused_wherever_it_is(tmp_path, line, key):
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps({"text": f"t {i}", "labels": ["x"]}) + "\n" for i in range(50)) + f"\n{line}\n")
    with pytest.raises(DataError, match=f"t.jsonl line 52 names column\\(s\\) '{key}' more than once \\(surrounding "
                                        f"spaces do not count\\); give each column its own name"):
        read_rows(path)


def test_json_lines_check_each_order_of_keys_once_not_each_line(tmp_path, monkeypatch):
    """What made a long file slow: every line's keys checked anew. The rows of a file mostly share their keys."""
    import al.datasets.tabular as tabular

    checked = []
    header = tabular._header
    monkeypatch.setattr(tabular, "_header", lambda names, *args: checked.append(tuple(names)) or header(names, *args))
    path = tmp_path / "t.jsonl"
    rows = [{"text": f"t {i}", "labels": ["x"]} if i % 3 else {"labels": [], "text": f"t {i}"} for i in range(300)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert len(read_rows(path).frame) == 300
    assert checked == [("labels", "text"), ("text", "labels")]


def test_a_byte_order_mark_inside_json_lines_is_named_as_such(tmp_path):
    """Two files joined, the second saved with a BOM: the line looks like any other in an editor."""
    path = tmp_path / "joined.jsonl"
    path.write_text('\ufeff{"text": "a"}\n\ufeff{"text": "b"}\n', encoding="utf-8")  # the first one is the file's own
    with pytest.raises(DataError) as caught:
        read_rows(path)
    assert str(caught.value).startswith(f"{path} line 2 starts with a byte-order mark (U+FEFF")


# 13 ------------------------------------------------------------- parse errors name the file's line, or say it is unknown


@pytest.mark.parametrize("content, line", [
    ('text,a,b\nx,1,0\n"y,1,0\nz,1,0\n', 3),
    # blank lines, and a quoted cell over three lines before it: pandas says "row 5" (its count of records)
    ('\ntext,a,b\n"two\nlines\nmore",1,0\n\nx,1,0\n"y,1,0\nz,1,0\n', 8),
    ('text,a,b\r\n"two\r\nlines",1,0\r\nx,"1\r\n,0\r\n', 4),  # opened in a second cell; CR LF line ends
])
def test_an_unclosed_quote_is_named_by_the_line_it_opens_on(tmp_path, content, line):
    path = tmp_path / "t.csv"
    path.write_text(content, newline="")
    with pytest.raises(DataError) as caught:
        read_rows(path)
    assert str(caught.value).startswith(f"{path} line {line} opens a quoted cell ('\"")
    assert str(caught.value).endswith("that no later line closes (the file ends inside it); expected a closing "
                                      "quote: end the cell with \", and write a quote inside a cell as \"\"")


@pytest.mark.parametrize("content, sep, header_line, line", [
    ('text,a,b\n"two\nlines\nmore",1,0\ny,1,0\nz,1,0,9\n', ",", 1, 6),  # pandas: "line 4"
    ('\n\ntext,a,b\nx,1,0\n\n"q\nq",1,0\nz,1,0,9\n', ",", 3, 8),  # pandas: "line 7"
    ('text\ta\tb\r\n"two\r\nlines"\t1\t0\r\nz\t1\t0\t9\r\n', "\t", 1, 4),  # pandas: "line 3"
])
def test_pandas_count_of_records_is_read_back_as_the_file_s_line(tmp_path, content, sep, header_line, line):
    """pandas' "line N" counts records (a quoted cell over several lines is one); the message names the file's line."""
    import pandas as pd

    from al.datasets.tabular import _csv_parser_error

    path = tmp_path / ("t.csv" if sep == "," else "t.tsv")
    path.write_text(content, newline="")
    expected = (f"{path} line {line} has 4 cells but the header (line {header_line}) names 3; quote a cell that holds "
                f"{'a comma' if sep == ',' else 'a tab'} (\"{'a, b' if sep == ',' else 'a<tab>b'}\"), or name every "
                f"column in the header")
    with pytest.raises(DataError) as caught:  # read_rows finds the row before pandas reads
        read_rows(path)
    assert str(caught.value) == expected
    with pytest.raises(pd.errors.ParserError, match="Expected 3 fields in line") as pandas_error:
        pd.read_csv(path, sep=sep)
    assert str(_csv_parser_error(path, sep, pandas_error.value, header_line, 3)) == expected


def test_a_pandas_error_whose_line_cannot_be_told_says_so_and_names_none(tmp_path):
    import pandas as pd

    from al.datasets.tabular import _csv_parser_error

    path = tmp_path / "t.csv"
    path.write_text('text,a,b\n"two\nlines\nmore",1,0\ny,1,0\nz,1,0,9\n')
    # pandas' record 3 (line 5, "y,1,0") has 3 cells, not 4: a count that fits no record names no line
    fields = pd.errors.ParserError("Error tokenizing data. C error: Expected 3 fields in line 3, saw 4\n")
    assert str(_csv_parser_error(path, ",", fields, 1, 3)) == (
        f"{path} holds a row of 4 cells where pandas' parser expects 3, on a line that cannot be told (pandas counts "
        f"it as its record 3, a quoted cell over several lines being one); expected as many cells as the header "
        f"(line 1) names: quote a cell that holds a comma, and save the file with one kind of line ending (\\n or "
        f"\\r\\n)")
    eof = pd.errors.ParserError("Error tokenizing data. C error: EOF inside string starting at row 3")
    assert str(_csv_parser_error(path, ",", eof, 1, 3)).startswith(
        f"{path} holds a quoted cell that is never closed (the file ends inside it), on a line that cannot be told")
    other = pd.errors.ParserError("Too many columns specified: expected 3 and found 2")
    assert str(_csv_parser_error(path, ",", other, 1, 3)) == (
        f"{path} cannot be read as CSV: pandas' parser says 'Too many columns specified: expected 3 and found 2', on "
        f"a line it does not name; expected a header row, then one row per text with at most as many cells: check "
        f"for an unclosed quote or mixed line endings, or save the file again as CSV (UTF-8)")


@pytest.mark.parametrize("name, content, line, byte", [
    ("t.csv", b'text,a\nok,1\n\n"two\r\nlines",0\nbad \xff here,1\n', 6, 5),
    ("t.jsonl", b'{"text": "a"}\r\n\r\n{"text": "b \xff"}\n', 3, 13),
])
def test_a_byte_that_is_not_utf8_is_named_by_its_line(tmp_path, name, content, line, byte):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError) as caught:
        read_rows(path)
    converted = path.with_name(f"t.utf8{path.suffix}")
    assert str(caught.value) == (f"{path} line {line} is not UTF-8 text (byte 0xff, byte {byte} of the line) (it "
                                 f"reads as CP1252); expected UTF-8 text: save the file as UTF-8 (iconv -f CP1252 -t "
                                 f"UTF-8 {path} > {converted})")


# 14 ------------------------------------------------------------- a misspelt label value is said, not silently dropped


def typo_rows(n=653, typos=((10, "fod"), (11, "Water"), (12, "fod"))):
    """food / water / shelter lists, with a misspelt value as the only label of some rows."""
    rows = [{"text": f"message number {i}", "labels": [name for name, on in
                                                        (("food", i % 3 == 0), ("water", i % 3 == 1),
                                                         ("shelter", i % 5 == 2)) if on]} for i in range(n)]
    for i, value in typos:
        rows[i]["labels"] = [value]
    return rows


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_a_label_value_that_looks_like_a_kept_label_is_one_warning(tmp_path):
    path = write_jsonl(tmp_path / "typo.jsonl", typo_rows())
    with pytest.warns(UserWarning) as caught:
        corpus = load_corpus("jsonl", path, labels=["food", "water", "shelter"])
    (message,) = [str(w.message) for w in caught]
    assert message == (
        "corpus 'typo': --labels keeps 'food', 'water', 'shelter' and leaves out label(s) that look like one of them: "
        "'fod' (2 text(s), like 'food'), 'Water' (1 text(s), like 'water'); a text does not count for the kept label "
        "such a value resembles (and one with no kept label is dropped): if it is a misspelling, correct it in the "
        "data file; if it is a label of its own, add it to --labels or leave it out knowingly")
    assert "message number 10" not in corpus.texts.tolist()  # still dropped: a warning, not a change of what is read
    with warnings.catch_warnings():  # a subset of labels, the others unlike them, is no warning
        warnings.simplefilter("error")
        load_corpus("jsonl", write_jsonl(tmp_path / "clean.jsonl", typo_rows(typos=())), labels=["food", "water"])


def test_the_automatic_pick_warns_of_a_label_that_looks_like_a_picked_one(tmp_path):
    path = write_jsonl(tmp_path / "typo.jsonl", typo_rows(typos=[(i, "Water") for i in range(0, 600, 50)]))
    with pytest.warns(UserWarning, match="--frequent/--rare keep 'food', 'water', 'shelter' and leave out label\\(s\\) "
                                         "that look like one of them: 'Water' \\(12 text\\(s\\), like 'water'\\); .* "
                                         "if it is a label of its own, name the labels to keep with --labels or"):
        load_corpus("jsonl", path, n_frequent=2, n_rare=1)


@pytest.mark.parametrize("name, like", [
    ("fod", "food"), ("Water", "water"), ("SHELTER", "shelter"), ("foood", "food"), ("watr", "water"),
    ("medical help", "medical_help"), ("floods", None), ("related", None), ("shelters_nearby", None),
    ("tag16", None), ("TAG156", "tag156"), ("tags156", "tag156"),  # a numbered family is no typo; case and letters are
])
def test_which_labels_left_out_look_like_a_kept_one(name, like):
    from al.datasets.reduction import lookalike_labels

    kept = ["food", "water", "shelter", "medical_help", "aid_related", "tag156"]

    def corpus_with(n_kept: int, n_name: int):
        Y = np.concatenate([np.eye(len(kept) + 1, dtype=np.int8)[:-1].repeat(n_kept, axis=0),
                            np.eye(len(kept) + 1, dtype=np.int8)[-1:].repeat(n_name, axis=0)])
        return make_corpus("x", [f"t{i}" for i in range(len(Y))], Y, [*kept, name],
                           {"train": np.arange(0, len(Y), 2), "dev": [1, 3, 5], "test": [7, 9, 11]})

    # a misspelling is rare beside what it misspells: 2 texts beside 8 each
    assert lookalike_labels(corpus_with(8, 2), kept) == ([(name, 2, like)] if like else [])
    # a label on as many texts as the kept one is a label of its own ('flood' beside 'food'), unless only its case
    # differs
    alike_in_case = like is not None and name.casefold() == like
    assert lookalike_labels(corpus_with(8, 8), kept) == ([(name, 8, like)] if alike_in_case else [])


# 15 ------------------------------------------------------------- another separator inside label names


@pytest.mark.parametrize("joiner, given, flag, yaml", [
    (",", {}, "--label-sep ,", '","'),  # comma-joined cells, the default "|"
    ("|", {"label_sep": ","}, "--label-sep '|'", '"|"'),  # "|"-joined cells read with --label-sep ,
    (";", {}, "--label-sep ';'", '";"'),
    (";", {"label_sep": "; "}, "--label-sep ';'", '";"'),  # "food;water" where labels are split at "; "
    ("\t", {}, "--label-sep $'\\t'", '"\\t"'),
])
def test_a_label_name_holding_another_separator_is_one_warning(tmp_path, joiner, given, flag, yaml):
    cells = [joiner.join(n for n, on in (("food", i % 2), ("water", i % 3 == 0)) if on) for i in range(60)]
    path = write_jsonl(tmp_path / "t.jsonl", [{"text": f"text {i}", "labels": cell} for i, cell in enumerate(cells)])
    with pytest.warns(UserWarning) as caught:
        corpus = load_table(path, **given)
    (message,) = [str(w.message) for w in caught]
    sep = given.get("label_sep", "|")
    assert message == (
        f"{path} column 'labels': 1 label name(s) hold {joiner!r}, e.g. {'food' + joiner + 'water'!r} (on 10 text(s)), where "
        f"labels are split at {sep!r} (--label-sep); expected one label per name: if {joiner!r} joins the labels, "
        f"pass {flag} (in YAML: data_options: {{label_sep: {yaml}}}); if it is part of the names, ignore this")
    assert corpus.label_names == ("food", f"food{joiner}water", "water")  # read as before: the warning says how
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_table(path, label_sep=joiner).label_names == ("food", "water")


def test_a_separator_inside_a_json_list_item_or_in_the_separator_in_use_is_no_warning(tmp_path):
    rows = [{"text": f"text {i}", "labels": ["food, water and sanitation"] if i % 2 else "food; shelter"}
            for i in range(60)]
    path = write_jsonl(tmp_path / "t.jsonl", rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_table(path, label_sep="; ").label_names == ("food", "food, water and sanitation", "shelter")


def test_the_separator_most_names_hold_is_named_with_the_name_on_most_texts():
    from al.datasets.tabular import separator_note

    note = separator_note({"d,a": 5, "c,d": 5, "a,b": 3, "e;f": 9, "g": 1}, "|")  # most texts, then by name
    assert note.startswith("3 label name(s) hold ',', e.g. 'c,d' (on 5 text(s)), where labels are split at '|'")
    assert separator_note({"a;b": 1, "c;d": 1, "e,f": 7}, "|").startswith("2 label name(s) hold ';', e.g. 'a;b'")
    assert separator_note({"a;b": 1, "c,d": 1}, "|").startswith("1 label name(s) hold ','")  # a tie: the first
    assert separator_note({"a": 4, "a b": 2}, "|") is None


def test_simulate_prints_the_separator_warning_as_one_line(tmp_path):
    import subprocess
    import sys

    path = write_csv(tmp_path / "c.csv", "text,labels", comma_rows())
    result = subprocess.run([sys.executable, "-m", "al.simulate", "--dataset", "csv", "--data-path", str(path),
                             "--describe"], capture_output=True, text=True, timeout=120)
    warned = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert warned == [f"warning: {path} column 'labels': 1 label name(s) hold ',', e.g. 'food,water' (on 33 "
                      f"text(s)), where labels are split at '|' (--label-sep); expected one label per name: if ',' "
                      f"joins the labels, pass --label-sep , (in YAML: data_options: {{label_sep: \",\"}}); if it is "
                      f"part of the names, ignore this"]


# 16 ------------------------------------------------------------- a JSON error is named by its line and column


@pytest.mark.parametrize("end", ["\n", "\r\n", ""])
@pytest.mark.parametrize("bad", [
    '{"text": "a line that lacks its close", "labels": ["x"]',  # the error is at the end of the line
    '{"text": "b", "labels": ["x"] "split": "train"}',  # inside it
    '{"text": "c"} {"text": "d"}',  # extra data
])
def test_a_json_error_names_the_column_python_names(tmp_path, end, bad):
    path = tmp_path / "bad4.jsonl"
    lines = [*(json.dumps({"text": f"t {i}"}) for i in range(3)), bad]
    path.write_bytes(((end or "\n").join(lines) + end).encode())  # "": the bad line ends the file, no line end
    with pytest.raises(json.JSONDecodeError) as python:
        json.loads(bad)
    with pytest.raises(DataError) as caught:
        read_rows(path)
    assert str(caught.value) == (f"{path} line 4 is not JSON ({python.value.msg} at column {python.value.colno}): "
                                 f"{bad[:60]!r}; expected one JSON object per line")


@pytest.mark.parametrize("cells, shown", [(["yes", "no", "Yes", "no"], "yes/no"), (["Y", "n"] * 2, "y/n"),
                                          (["n"] * 4, "n")])
def test_a_column_of_yes_and_no_is_not_dropped_unsaid(tmp_path, cells, shown):
    path = write_csv(tmp_path / "d.csv", "text,food,water", [f"text {i},{i % 2},{cell}" for i, cell in enumerate(cells)])
    with pytest.warns(UserWarning, match=f"column 'water' holds only {shown}, not 0 or 1, so it is not read as a "
                                         f"label column; if it is one, write its cells as 1 and 0"):
        corpus = load_dataset("csv", path)
    assert corpus.label_names == ("food",)


def test_a_column_of_other_words_is_no_label_and_says_nothing(tmp_path):
    path = write_csv(tmp_path / "d.csv", "text,food,genre",
                     [f"text {i},{i % 2},{genre}" for i, genre in enumerate(["news", "direct"] * 2)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_dataset("csv", path).label_names == ("food",)


@pytest.mark.parametrize("suffix, sep", [(".csv", ";"), (".csv", "\t"), (".tsv", ","), (".tsv", ";")])
def test_a_file_separated_otherwise_than_its_suffix_says_reads_as_its_comma_twin(tmp_path, suffix, sep):
    """A spreadsheet's export with semicolons (a comma is its decimal mark), or tabs in a .csv, was refused; it is
    read at what its one-column header holds: the same rows, lines and labels as the file with commas."""
    rows = [["text", "labels", "split"], ['he said "2,5 litres; now"', "food|water", "train"],
            ["line one\nline two, with a comma", "food", "test"], ["a, b; c", "water", "dev"]]

    def written(path, sep):
        import csv
        with open(path, "w", newline="") as f:
            csv.writer(f, delimiter=sep).writerows(rows)
        return path

    twin, other = read_rows(written(tmp_path / "twin.csv", ",")), read_rows(written(tmp_path / f"o{suffix}", sep))
    assert other.frame.equals(twin.frame) and list(other.frame.columns) == ["text", "labels", "split"]
    assert other.lines.tolist() == twin.lines.tolist() == [2, 3, 5]
    assert other.frame["text"][0] == 'he said "2,5 litres; now"'


@pytest.mark.parametrize("header, held", [("text|labels", "'|'"), ("text;labels\tsplit", "';' and '\\t'")])
def test_a_header_of_one_column_holding_a_pipe_or_two_separators_is_refused(tmp_path, header, held):
    """``|`` joins labels too, and a header with both a semicolon and a tab says not which separates."""
    path = write_csv(tmp_path / "d.csv", header, ["bread|food", "clean water|water"])
    with pytest.raises(DataError) as caught:
        load_dataset("csv", path)
    by = "'|'" if held == "'|'" else "one of them"
    assert str(caught.value) == (f"{path}'s header (line 1) is one column, {header!r}, holding {held}: the file "
                                 f"looks separated by {by}, not commas; save it with commas, semicolons or tabs "
                                 f"between cells, its header holding no other of them")


def test_a_one_column_header_is_read_at_another_separator_only_where_its_first_row_splits_alike(tmp_path):
    """'text; notes' over rows of one cell is one column holding a semicolon, not a file separated by them."""
    from al.datasets.tabular import column_separator

    one = write_csv(tmp_path / "one.csv", "text; notes", ["bread", "clean water"])
    assert column_separator(one) == ","
    two = write_csv(tmp_path / "two.csv", "text; notes", ["bread;food", "clean water;water"])
    assert column_separator(two) == ";"
    assert column_separator(write_csv(tmp_path / "bare.csv", "text;labels", [])) == ";"  # no row: the header says
    assert column_separator(write_csv(tmp_path / "pipe.csv", "text|x;labels", ["a|b;food"])) == ";"


def test_a_semicolon_file_names_the_semicolon_in_its_errors(tmp_path):
    """A row of more cells than the header: the advice names what separates this file's cells."""
    path = write_csv(tmp_path / "d.csv", "text;labels", ["bread;food", "clean; water;water"])
    with pytest.raises(DataError, match=r"d\.csv line 3 has 3 cells but the header \(line 1\) names 2; quote a "
                                        r"cell that holds a semicolon \(\"a; b\"\), or name every column in the "
                                        r"header$"):
        load_dataset("csv", path)


def test_a_user_file_short_of_dev_texts_for_a_label_is_told_of_the_split_column(tmp_path):
    rows = [f"pool {i},{'a|b' if i % 2 else 'a'},train" for i in range(60)]
    rows += [f"dev {i},{'a|b' if i < 2 else 'a'},dev" for i in range(20)]  # b: 2 dev texts, too few
    rows += [f"test {i},{'a|b' if i % 2 else 'a'},test" for i in range(20)]
    path = write_csv(tmp_path / "d.csv", "text,labels,split", rows)
    with pytest.raises(DataError, match=r"\); put more texts of 'b' in dev and test with a split column of the "
                                        r"file's \(train/dev/test; --split-column\)$"):  # none eligible: no lower count
        load_corpus("csv", path, n_frequent=1, n_rare=1)


def test_a_yes_no_column_beside_a_labels_column_is_metadata_and_says_nothing(tmp_path):
    """Labels come from the `labels` list column: writing `urgent` as 0/1 would make the file give labels both ways."""
    path = write_csv(tmp_path / "d.csv", "text,labels,urgent",
                     [f"text {i},{'food' if i % 2 else 'water'},{'yes' if i % 3 else 'no'}" for i in range(8)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert set(load_dataset("csv", path).label_names) == {"food", "water"}


# -------------------------------------------------------------- what a user's file can get wrong silently


def test_a_header_without_rows_is_named_as_such(tmp_path):
    path = write_csv(tmp_path / "t.csv", "text,food,water", [])
    with pytest.raises(DataError, match=r"t.csv has a header \(text, food, water\) but no data rows; expected one row"):
        load_table(path)


def test_a_column_without_a_name_is_not_read_as_a_label(tmp_path):
    rows = [f"text number {i},{i % 2},{(i // 2) % 2},{(i + 1) % 2}" for i in range(60)]
    path = write_csv(tmp_path / "t.csv", "text,food,,water", rows)
    with pytest.warns(UserWarning, match=r"column\(s\) 3 hold 0/1 values but have no name in the header"):
        corpus = load_table(path)
    assert corpus.label_names == ("food", "water")


def test_a_label_separator_read_by_nothing_is_refused(tmp_path):
    path = write_csv(tmp_path / "t.csv", "text,food,water", zero_one_rows())
    with pytest.raises(DataError, match=r"--label-sep ',' is read by nothing: .*labels are 0/1 columns \(food, "
                                        r"water\), not a column listing them; leave --label-sep"):
        load_table(path, label_sep=",")
    assert load_table(path, label_sep="|").label_names == ("food", "water")  # the default, as given


def test_a_text_column_of_zeros_and_ones_is_refused(tmp_path):
    path = write_csv(tmp_path / "t.csv", "text,food,water", zero_one_rows())
    with pytest.raises(DataError, match="the text column 'food' holds only 0 and 1, as a label column does"):
        load_table(path, text_column="food", label_columns=["water"])


def test_a_label_list_holding_a_list_is_refused(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps({"text": f"text {i}", "labels": ["food", ["x"]] if i == 4 else ["food"]})
                              for i in range(30)) + "\n")
    with pytest.raises(DataError, match=r"t.jsonl line 5: the label list holds \['x'\], not a label name"):
        load_table(path)


def test_a_split_column_named_but_absent_is_refused_not_replaced_by_the_hash_split(tmp_path):
    rows = [f"{r},{'test' if i % 10 == 0 else 'train'}" for i, r in enumerate(zero_one_rows())]
    path = write_csv(tmp_path / "t.csv", "text,food,water,split", rows)
    with pytest.raises(DataError, match=r"t.csv has no split column 'part'.*columns: text, food, water, split; fix "
                                        r"--split-column \(data_options split_column\)"):
        load_dataset("csv", path, split_column="part")
    assert len(load_dataset("csv", path).splits["test"]) == 6  # the file's own column, by default


def test_test_texts_repeated_in_train_and_texts_with_two_labelings_are_warned_of(tmp_path):
    rows = [f"{r},{'test' if i < 6 else 'dev' if i < 12 else 'train'}" for i, r in enumerate(zero_one_rows())]
    rows += ["text number 0,0,1,train", "text number 1,0,1,train"]  # 0 as it was; 1 with other labels
    path = write_csv(tmp_path / "t.csv", "text,food,water,split", rows)
    with pytest.warns(UserWarning) as caught:
        load_table(path)
    messages = sorted(str(w.message) for w in caught)
    assert messages == [
        f"{path} column 'split': 2 test text(s) also stand in the train or dev split, e.g. 'text number 0', so the "
        f"test scores count texts the classifier learned from; expected each text in one split: move or remove the "
        f"copies",
        f"{path}: 1 text(s) stand more than once with other labels, e.g. 'text number 1'; kept as given: if a copy "
        f"is a mistake, fix or remove it",
    ]


@pytest.mark.parametrize("dataset, name, other", [("jsonl", "t.csv", "csv"), ("csv", "t.jsonl", "jsonl")])
def test_a_file_of_the_other_format_is_refused_not_read_as_it(tmp_path, dataset, name, other):
    path = tmp_path / name
    path.write_text("text,food\n" if name.endswith(".csv") else '{"text": "a", "labels": ["food"]}\n')
    with pytest.raises(DataError, match=f"is a {path.suffix} file, but --dataset is {dataset!r}; .*pass --dataset "
                                        f"{other}$"):
        load_dataset(dataset, path)


def test_a_missing_relative_data_path_says_where_it_was_looked_for(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match=rf"data path data/t.csv does not exist \(a relative path is read from the "
                                        rf"current directory: looked for {tmp_path}/data/t.csv\); fix --data-path"):
        load_dataset("csv", "data/t.csv")



def test_json_lines_of_empty_objects_are_named_by_the_missing_text_column_not_a_header(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text("{}\n{}\n")
    with pytest.raises(DataError, match="has no text column 'text'"):
        load_table(path)


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_a_label_column_empty_in_every_row_is_said_as_such(tmp_path, suffix, capsys):
    """A file whose label column is empty in every row loaded as a corpus of no label: `--describe` died with a
    TypeError (the widest of no label name) and a run said '0 labels eligible ... (every label of the corpus is
    eligible)'."""
    from al.simulate import main

    path = tmp_path / f"nolab.{suffix}"
    rows = [{"text": f"text {i} about water", "labels": "" if suffix == "csv" else []} for i in range(40)]
    if suffix == "csv":
        path.write_text("text,labels\n" + "".join(f"{r['text']},\n" for r in rows))
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataError, match=r"column 'labels' is empty in all 40 rows: no text has a label; expected "
                                        r"each text's labels, a list or joined by '\|' \(e\.g\. water\|food\)"):
        load_table(path)
    assert main(["--describe", "--dataset", suffix, "--data-path", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "is empty in all 40 rows" in err and "Traceback" not in err


def test_a_corpus_of_no_label_describes_itself_and_its_label_pick_says_so():
    from al.datasets.reduction import pick_frequent_rare

    splits = {"train": np.arange(20), "dev": np.arange(20, 25), "test": np.arange(25, 30)}
    corpus = make_corpus("none", [f"t{i}" for i in range(30)], np.zeros((30, 0), dtype=np.int8), [], splits)
    assert "0 labels" in corpus.describe()
    with pytest.raises(DataError, match=r"\(the corpus has no label\)"):
        pick_frequent_rare(corpus, 1, 0)


def test_the_texts_a_run_labeled_are_read_from_elsewhere_than_where_it_started(tmp_path, monkeypatch):
    """config.json keeps data_path as typed (`data/d.csv`): `labeled_texts(RUN_DIR)` worked only from the directory
    the run was started in, and said 'fix --data-path' to a Python call."""
    from al.config import SimulationConfig
    from al.records import RunRecords
    from al.simulate import data_file_digest, labeled_texts, load_config_corpus
    from tests.unit.test_grid import _csv

    (tmp_path / "work" / "data").mkdir(parents=True)
    _csv(tmp_path / "work" / "data" / "d.csv")
    monkeypatch.chdir(tmp_path / "work")
    config = SimulationConfig(dataset="csv", data_path="data/d.csv", labels=["a", "b"], initial=10, step=5,
                              budget=15, out="runs/r")
    corpus = load_config_corpus(config)
    records = RunRecords(config.run_dir)
    records.start(config.resolved(), {"corpus_digest": corpus.digest(), "data_digest": data_file_digest("data/d.csv")})
    records.append({"round": 0, "n_labeled": 10, "initial": list(range(10)), "picked": [30, 31, 32, 33, 34]})
    pool = corpus.splits["train"]
    expected = [str(corpus.texts[pool[i]]) for i in [*range(10), 30, 31, 32, 33, 34]]
    assert [r["text"] for r in labeled_texts("runs/r")] == expected  # from where it started
    monkeypatch.chdir(tmp_path)
    assert [r["text"] for r in labeled_texts("work/runs/r")] == expected  # the data found from where it started
    moved = tmp_path / "moved"
    (tmp_path / "work" / "runs" / "r").rename(moved)
    with pytest.raises(DataError, match=r"data file data/d.csv \(data_path in its config.json, relative\) is "
                                        r"not found from .*, and the directory the run was started in cannot be "
                                        r"told from its out; pass its path now: "
                                        r"labeled_texts\(RUN_DIR, data_path=\.\.\.\)"):
        labeled_texts(moved)
    with pytest.raises(DataError, match=r"^data_path .*missing.csv is no file; give the path of the data file "):
        labeled_texts(moved, data_path=tmp_path / "missing.csv")
    assert [r["text"] for r in labeled_texts(moved, data_path=tmp_path / "work" / "data" / "d.csv")] == expected
    other = _csv(tmp_path / "other.csv", n=25)  # another file: its own error, said to be another file's
    with pytest.raises(DataError, match=r"other.csv is not the data file .* read \(its bytes differ from the run's "
                                        r"data_digest\), and it does not load with the run's settings: "):
        labeled_texts(moved, data_path=other)


# ---------------------------------------------------------------- texts that are no strings, halves of emoji


def test_a_lone_surrogate_escape_in_a_json_line_is_read_as_a_replacement_character(tmp_path):
    """A tweet cut mid-emoji, written by json.dumps, ends in \\ud83d: hashing it for the split raised
    UnicodeEncodeError with a traceback (exit 1)."""
    rows = [{"text": f"need water in camp {i}" + (" \ud83d" if i in (7, 9) else " \ud83d\ude00" if i == 8 else ""),
             "labels": ["\udc80water"] if i == 7 else ["water"] if i % 2 else ["food"]} for i in range(60)]
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert "\\ud83d" in path.read_text()
    with pytest.warns(UserWarning, match=r"t\.jsonl line 8 and 1 more hold a lone surrogate escape \(such as "
                                         r"\\ud83d: half of an emoji, .*; read as U\+FFFD") as caught:
        table = read_rows(path)
    assert len(caught) == 1
    texts = table.frame["text"].tolist()
    assert texts[7] == "need water in camp 7 \ufffd" and texts[8] == "need water in camp 8 \U0001F600"  # a pair: whole
    assert all(t.encode("utf-8") for t in texts) and text_hash(texts[7]) >= 0
    assert table.frame["labels"][7] == ["\ufffdwater"]  # a label's too


@pytest.mark.parametrize("value, kind", [(["in", "the", "north"], "a list"), ({"title": "x"}, "an object"),
                                         (True, "true or false")])
def test_a_text_that_is_a_list_object_or_boolean_is_refused_not_read_as_its_python_spelling(tmp_path, value, kind):
    """{"text": ["in", "the", ...]} was embedded as "['in', 'the', ...]"."""
    rows = [{"text": value if i == 3 else f"text number {i}", "labels": ["a"]} for i in range(30)]
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataError, match=rf"^{path} line 4: the text in column 'text' is {kind} \(.*; 1 such "
                                        r"row\); "
                                        r"expected a string: write each text as one string \(join its parts\), or "
                                        r"name the text's column with --text-column$"):
        load_table(path)


def test_a_json_number_as_a_text_is_read_as_its_digits_with_a_warning_and_a_column_of_numbers_is_refused(tmp_path):
    """{"text": 12345} was read as "12345" without a word: an id in the text's field reads the same."""
    rows = [{"text": 12345 + i if i in (3, 9) else f"text number {i}", "labels": ["a"]} for i in range(30)]
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.warns(UserWarning, match=rf"^{path} line 4: the text in column 'text' is a number \(12348; 2 such "
                                         r"rows\), read as the text '12348'; if it is an id or a score, fix those "
                                         r"rows, or name the texts' column with --text-column$"):
        table = load_table(path)
    assert table.texts[3] == "12348" and table.texts[0] == "text number 0"
    numbers = tmp_path / "n.csv"
    numbers.write_text("text,labels\n" + "".join(f"{100 + i},a\n" for i in range(30)))
    with pytest.raises(DataError, match=rf"^{numbers}: the text column 'text' holds only numbers \(100 on line 2\); "
                                        r"expected the texts: name their column with --text-column$"):
        load_table(numbers)


def test_the_text_column_cannot_be_the_label_column(tmp_path):
    """--text-column labels on a file with a labels column embedded the label strings: every score a leak."""
    path = write_csv(tmp_path / "t.csv", "text,labels", [f"text number {i},{'food|water' if i % 2 else 'food'}"
                                                           for i in range(60)])
    with pytest.raises(DataError, match=r"column 'labels' is the text column \(--text-column\) and the label column at "
                                        r"once, so the labels would be read as the texts; name the texts' column with "
                                        r"--text-column \(the file's other columns: text\)$"):
        load_table(path, text_column="labels")
    with pytest.raises(DataError, match=r"column 'text' is the text column .* --text-column or the labels with "
                                        r"--label-columns \(the file's other columns: labels\)$"):
        load_table(path, label_columns=["text"])


def test_none_or_nan_written_as_text_in_a_label_list_is_warned_of(tmp_path):
    """str(None) and df.astype(str) write 'None' and 'nan' for an empty cell: read as a label without a word, it was
    picked as a frequent one and counted in macro-F1. Still read so (a run made on such a file reads the same corpus
    again), with a warning."""
    rows = [f"text number {i},{'None' if i % 5 == 0 else 'nan' if i == 7 else 'food|water' if i % 2 else 'food'}"
            for i in range(60)]
    path = write_csv(tmp_path / "t.csv", "text,labels", rows)
    with pytest.warns(UserWarning, match=r"t\.csv line 2 and 12 more: column 'labels' holds 'None' or 'nan', as "
                                         r"str\(None\), pandas' astype\(str\) or an export of a database's or JSON's "
                                         r"null write an empty cell, and it is read as a label of that name; if such "
                                         r"cells mean no label, leave them empty$"):
        corpus = load_table(path)
    assert corpus.label_names == ("None", "food", "nan", "water")  # as before


def test_a_split_column_without_dev_rows_gets_a_tenth_of_train_as_dev(tmp_path):
    """A download's train/test split left every label with 0 dev texts: refused (the eligibility rule needs dev
    texts), where train/test is the split users bring most. A tenth of the train split's distinct texts, by a hash
    of each, is dev now: repeated texts together, the same rows however the file is ordered, said in a warning."""
    from al.datasets.tabular import dev_from_train, text_hash

    rows = [f"text number {i},{'test' if i % 5 == 0 else 'train'},{'food|water' if i % 2 else 'food'}"
            for i in range(60)]
    train_texts = {f"text number {i}" for i in range(60) if i % 5}
    # by hand: the 5 distinct train texts first in hash order (48 distinct: a tenth is 4.8, rounded up)
    first = sorted(train_texts, key=lambda t: (text_hash(t), t))[:5]
    rows.append(f"{first[0]},train,food")  # a dev text given twice: both rows go to dev
    path = write_csv(tmp_path / "t.csv", "text,split,labels", rows)
    with pytest.warns(UserWarning, match=r"t\.csv column 'split' marks train and test texts and no dev text: 6 of its "
                                         r"49 train texts \(a tenth of its distinct texts, by a hash of each\) are dev, "
                                         r"for the labels' eligibility, tuned thresholds and early stopping; mark dev "
                                         r"rows in that column to choose them$"):
        corpus = load_table(path)
    dev = [corpus.texts[i] for i in corpus.splits["dev"]]
    assert sorted(dev) == sorted([*first, first[0]])
    assert len(corpus.splits["test"]) == 12 and len(corpus.splits["train"]) == 43
    shuffled = write_csv(tmp_path / "s.csv", "text,split,labels", rows[::-1])
    with pytest.warns(UserWarning, match="are dev"):
        again = load_table(shuffled)
    assert sorted(again.texts[i] for i in again.splits["dev"]) == sorted(dev)  # the file's order plays no part
    one = dev_from_train({"train": np.array([0, 1]), "dev": np.array([], dtype=int), "test": np.array([2])},
                         ["a", "b", "c"])
    assert len(one["dev"]) == 1 and len(one["train"]) == 1  # at least one dev text, and one train text left
    same = write_csv(tmp_path / "same.csv", "text,split,labels", ["same,train,a", "same,train,a", "t1,test,a"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one distinct train text: nothing to move, nothing said ("0 of its 2")
        assert len(load_table(same).splits["dev"]) == 0


def test_a_split_column_of_train_texts_alone_is_refused_naming_the_missing_splits(tmp_path):
    """Every row train: no dev and no test, which no carving of train into dev would mend alone."""
    rows = [f"text number {i},train,{'food|water' if i % 2 else 'food'}" for i in range(60)]
    path = write_csv(tmp_path / "t.csv", "text,split,labels", rows)
    from al.datasets.reduction import pick_frequent_rare

    corpus = load_table(path)
    assert len(corpus.splits["dev"]) == len(corpus.splits["test"]) == 0
    with pytest.raises(DataError, match=r"^corpus 't' has 0 labels with .*'food' \(pool 60 = 100%, dev 0, test 0\)"):
        pick_frequent_rare(corpus, 1, 1, user_file=True)


def test_label_columns_of_yes_and_no_are_one_refusal_that_says_why(tmp_path):
    """Twelve yes/no columns printed twelve warnings, then 'no 0/1 label columns ...; name them with --label-columns',
    which refused them again ('holds yes; expected 0 or 1'); then one warning, and the refusal said it again."""
    rows = [f"text number {i},{'yes' if i % 2 else 'no'},{'no' if i % 3 else 'yes'},{'yes' if i % 5 else 'no'}"
            for i in range(40)]
    path = write_csv(tmp_path / "t.csv", "text,water,food,fire", rows)
    with warnings.catch_warnings(record=True) as caught, pytest.raises(
            DataError, match=r"t\.csv has no 0/1 label columns and no 'labels' column; columns 'water', 'food', 'fire' "
                             r"hold only yes/no words: write the cells of the label columns as 1 and 0 \(its columns "
                             r"besides the text, split and id: water, food, fire\)$"):
        warnings.simplefilter("always")
        load_table(path)
    assert [str(w.message) for w in caught] == []
    # beside a 0/1 column the yes/no one is left out, and said so
    mixed = write_csv(tmp_path / "m.csv", "text,water,food", [f"t {i},{i % 2},{'yes' if i % 3 else 'no'}"
                                                                for i in range(40)])
    with pytest.warns(UserWarning, match="column 'food' holds only yes/no, not 0 or 1, so it is not read"):
        assert load_table(mixed).label_names == ("water",)


def test_the_texts_a_run_in_its_default_folder_labeled_are_read_from_elsewhere(tmp_path, monkeypatch):
    """A run of the default folder records out: null, so the directory it was started in 'cannot be told': the
    README's own example (run(config); labeled_texts(config.run_dir)) failed from any other directory."""
    from al.config import SimulationConfig
    from al.records import RunRecords
    from al.simulate import data_file_digest, labeled_texts, load_config_corpus
    from tests.unit.test_grid import _csv

    (tmp_path / "work" / "data").mkdir(parents=True)
    _csv(tmp_path / "work" / "data" / "d.csv")
    monkeypatch.chdir(tmp_path / "work")
    config = SimulationConfig(dataset="csv", data_path="data/d.csv", labels=["a", "b"], initial=10, step=5,
                              budget=15)
    corpus = load_config_corpus(config)
    records = RunRecords(config.run_dir)
    records.start(config.resolved(), {"corpus_digest": corpus.digest(), "data_digest": data_file_digest("data/d.csv")})
    records.append({"round": 0, "n_labeled": 10, "initial": list(range(10)), "picked": [30, 31]})
    assert config.out is None and config.run_dir.parts[0] == "runs"
    pool = corpus.splits["train"]
    expected = [str(corpus.texts[pool[i]]) for i in [*range(10), 30, 31]]
    monkeypatch.chdir(tmp_path)
    assert [r["text"] for r in labeled_texts(tmp_path / "work" / config.run_dir)] == expected


def test_one_label_named_alone_may_be_on_most_texts_where_enough_lack_it(tmp_path):
    """A spam/ham file whose one label is on 65 % of the texts could not be run at all: 'at most 50% of the pool
    texts; pick other labels (no other label of this corpus is eligible)'. Named alone it is a 65/35 binary task."""
    from al.datasets.reduction import check_eligible, reduce_labels

    path = write_csv(tmp_path / "t.csv", "text,ham", [f"text number {i},{int(i % 20 < 13)}" for i in range(600)])
    corpus = load_table(path)
    reduced = reduce_labels(corpus, ["ham"], user_file=True)
    assert reduced.label_names == ("ham",) and len(reduced.texts) == 600  # every text: its negatives too
    share = reduced.label_counts("train")[0] / len(reduced.splits["train"])
    assert 0.55 < share < 0.75
    with pytest.raises(DataError, match="at most 50%"):  # beside another label, the cap holds
        always = write_csv(tmp_path / "u.csv", "text,ham,spam",
                           [f"text number {i},{int(i % 20 < 13)},{int(i % 20 >= 13)}" for i in range(600)])
        check_eligible(load_table(always), ["ham", "spam"])
    every = write_csv(tmp_path / "v.csv", "text,ham,x", [f"text number {i},1,{i % 2}" for i in range(600)])
    with pytest.raises(DataError, match=r"'ham' \(pool \d+ = 100%"):  # on every text: a constant still
        check_eligible(load_table(every), ["ham"])


def test_the_start_line_says_how_many_of_a_files_labels_the_pick_kept(tmp_path, monkeypatch, capsys):
    """12 eligible labels, 5 + 5 kept: the start line said '10 labels', and only --describe told of the 2 dropped."""
    import al.embedders
    from al.simulate import main
    from tests.unit.test_analyze_own_data import HashEmbedder

    monkeypatch.setattr(al.embedders, "SentenceEmbedder", HashEmbedder)
    names = [f"label{j:02d}" for j in range(12)]
    path = write_csv(tmp_path / "t.csv", "text,labels", [f"text number {i} {names[i % 12]},{names[i % 12]}"
                                                         for i in range(2400)])
    base = ["--dataset", "csv", "--data-path", str(path), "--strategy", "random", "--initial", "20", "--step", "10",
            "--budget", "30"]
    assert main([*base, "--out", str(tmp_path / "a")]) == 0
    start = next(line for line in capsys.readouterr().err.splitlines() if line.startswith("starting: "))
    assert "(1599 pool texts, 10 labels of the file's 12 (the 5 most and 5 least frequent eligible ones; --describe " \
           "says why the others are left out): label08, label01, label02, label03, label10, label00, label06, label04, " \
           "label09, label11), logreg" in start, start
    assert main([*base, "--labels", *names[:3], "--out", str(tmp_path / "b")]) == 0  # named: nothing to say
    start = next(line for line in capsys.readouterr().err.splitlines() if line.startswith("starting: "))
    assert "3 labels), logreg" in start, start
    # every eligible label kept: found, not named, so the line names them (a 0/1 flag read as a label shows there)
    assert main([*base, "--frequent", "6", "--rare", "6", "--out", str(tmp_path / "c")]) == 0
    start = next(line for line in capsys.readouterr().err.splitlines() if line.startswith("starting: "))
    assert "(1917 pool texts, 12 labels: label" in start and "of the file's" not in start, start  # more texts kept
    assert start.split("12 labels: ")[1].split(")")[0].count(", ") == 11, start


def test_an_indented_json_array_is_told_to_be_written_one_object_a_line(tmp_path):
    """json.dump(rows, f, indent=2) into a .jsonl: 'line 1 is not JSON (...): '['', where a one-line array is told
    what to do."""
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps([{"text": f"text {i}", "labels": ["a"]} for i in range(3)], indent=2))
    with pytest.raises(DataError, match=r"line 1 is not JSON \(.*\): '\['; expected one JSON object per line \(the "
                                        r"whole file one JSON array, indented\? write one object a line: "
                                        r"DataFrame\.to_json\(path, orient='records', lines=True\)\)$"):
        load_table(path)


def test_one_label_named_alone_is_refused_by_its_own_rule(tmp_path):
    """Its refusal said 'every kept label needs ... at most 50% of the pool', which is not the rule it is held to."""
    from al.datasets.reduction import check_eligible

    every = write_csv(tmp_path / "v.csv", "text,ham,x", [f"text number {i},1,{i % 2}" for i in range(600)])
    with pytest.raises(DataError, match=r"; a label named alone needs >= 20 pool texts with it and as many without "
                                        r"it, and >= 10 of each in dev and in test; pick other labels"):
        check_eligible(load_table(every), ["ham"])


def test_a_split_column_not_found_points_at_the_column_named_split_before_a_near_spelling():
    from al.datasets.tabular import absent_split_column

    said = str(absent_split_column("f.csv", "fold", ["text", "food", "water", "split"]))
    assert "'fold' (did you mean split?)" in said
    assert "(did you mean food?)" in str(absent_split_column("f.csv", "fod", ["text", "food", "water"]))


# -------------------------------------------------------------- what a file that is no UTF-8 table is instead

GOOD_CSV = "text,food,water\n" + "".join(f'"text {i}, about things",{i % 2},{i % 3 == 0:d}\n' for i in range(30))


@pytest.mark.parametrize(("name", "content", "said"), [
    ("d.csv.gz", None, r"is compressed \(\.gz\); expected the \.csv, \.tsv or \.jsonl file itself: gunzip -k "),
    ("d.csv", "gzip", r"is gzip-compressed, not text; expected the text file: gunzip -c "),
    ("d.csv", "zip", r"is a zip archive \(an \.xlsx workbook\?\), not text; .*export the sheet as CSV UTF-8"),
    ("d.csv", "utf-16", r"is UTF-16 text \(it begins with a byte-order mark.*iconv -f UTF-16 -t UTF-8 "),
    ("d.csv", "cp1252", r"line 2 is not UTF-8 text \(byte 0x97, byte 7 of the line\) \(it reads as CP1252\); "
                        r"expected UTF-8 text: save the file as UTF-8 \(iconv -f CP1252 -t UTF-8 .*d\.csv > "
                        r".*d\.utf8\.csv\)$"),
    # Cyrillic in CP1251 decodes as CP1252 too: converted from CP1252 it would be garbled, so no such guess
    ("d.csv", "cp1251", r"line 2 is not UTF-8 text \(byte 0xcf, byte 1 of the line\); expected UTF-8 text: save the "
                        r"file as UTF-8 from the encoding it was written in \(iconv -f ENCODING -t UTF-8 .* ENCODING "
                        r"such as CP1251 or GBK\)$"),
    ("d.xlsx", "zip", r"is a spreadsheet workbook \(\.xlsx\); expected a \.csv, \.tsv or \.jsonl file: export the "
                      r"sheet"),
])
def test_a_file_that_is_no_utf8_text_is_named_for_what_it_is(tmp_path, name, content, said):
    import gzip
    import zipfile

    path = tmp_path / name
    if content == "gzip" or content is None:
        path.write_bytes(gzip.compress(GOOD_CSV.encode()))
    elif content == "zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("sheet.xml", GOOD_CSV)
    elif content == "utf-16":
        path.write_text(GOOD_CSV, encoding="utf-16")
    elif content == "cp1251":
        rows = "".join(f"Привет мир {i},{i % 2}\n" for i in range(9))
        path.write_bytes(("text,food\n" + rows).encode("cp1251"))
    else:
        path.write_bytes(GOOD_CSV.replace("text 0,", "text \u2014 0,", 1).encode("cp1252"))
    with pytest.raises(DataError, match=said):
        read_rows(path)


@pytest.mark.parametrize(("lines", "said"), [
    # a quote opened before a text and closed by the next row's: one row through line 4, too many cells
    (['text,food,water', 'a,1,0', '"b, c,1,0', 'd,0,1', '"e, f",1,0'],
     r"line 3 has 4 cells but the header \(line 1\) names 3, read as one row through line 5: a quote \(\"\) opened on "
     r"line 3 is likely not closed where its cell ends"),
    (['text,food,water', 'a,1,0', '""b, c",1,0'], r"line 3 has 4 cells .* names 3, and an odd number of quotes "
                                                  r"\(\"\): a quote opened there is not closed, or a cell that holds a "
                                                  r"comma is not quoted"),
    (['text,food,water', 'a,1,0', 'b, c,1,0'], r"line 3 has 4 cells but the header \(line 1\) names 3; quote a cell"),
    # a text over two lines, quoted and closed, then a row whose comma is not quoted: the comma, not the quote
    (['text,food,water', '"two\nlines",1,0', 'b, c,1,0'], r"line 4 has 4 cells but the header \(line 1\) names 3; "
                                                         r"quote a cell"),
])
def test_an_unclosed_quote_is_named_as_such_not_as_a_comma_to_quote(tmp_path, lines, said):
    path = write_csv(tmp_path / "d.csv", lines[0], lines[1:])
    with pytest.raises(DataError, match=said):
        read_rows(path)


def test_empty_cells_of_a_label_column_are_counted_and_said_not_to_be_zeros(tmp_path):
    rows = [f"text {i},{'1' if i % 3 == 0 else ''},{i % 2}" for i in range(60)]
    path = write_csv(tmp_path / "d.csv", "text,food,water", rows)
    said = (r"line 3: the cell of label column 'food' is empty \(40 of its cells are empty: write 0 in them, an empty "
            r"cell is not read as 0\); expected 0 or 1")
    with pytest.raises(DataError, match=said):
        load_table(path, label_columns=["food", "water"])


@pytest.mark.parametrize(("line", "kind"), [('"a text"', "a string"), ("[1, 2]", "an array"), ("3", "a number"),
                                            ("null", "null"), ("true", "true/false")])
def test_a_json_line_that_is_no_object_is_named_by_json_s_words(tmp_path, line, kind):
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "one", "labels": ["a"]}\n' + line + "\n")
    with pytest.raises(DataError, match=rf"line 2 holds {re.escape(kind)}, not an object; expected a JSON object"):
        read_rows(path)


def joined_rows(cell) -> list[str]:
    """60 texts labeled food, water or shelter alone, and 30 with two of them joined by ``,`` (``cell`` writes them)."""
    rows = [f"text {i},{['food', 'water', 'shelter'][i % 3]}" for i in range(60)]
    pairs = ["food,water", "water,shelter", "food,shelter"]
    return rows + [f"joined {i},{cell(pairs[i % 3])}" for i in range(30)]


def test_labels_that_are_other_labels_joined_are_refused_whatever_picks_them(tmp_path):
    path = write_csv(tmp_path / "d.csv", "text,labels", joined_rows(lambda pair: f'"{pair}"'))
    said = (r"column 'labels': 3 label names are other labels of the file joined by ',', e.g. 'water,shelter' \(on 10 "
            r"text\(s\)\), where labels are split at '\|': read so, a text of 'water,shelter' is a text of neither "
            r"'water' nor 'shelter'; pass --label-sep , \(in YAML: data_options: \{label_sep: \",\"\}\), or, if such "
            r"names are labels of their own, write those cells as JSON lists")
    with pytest.raises(DataError, match=said):
        load_table(path)
    assert load_table(path, label_sep=",").label_names == ("food", "shelter", "water")


def test_labels_of_their_own_that_hold_a_separator_are_read_from_json_lists_or_warned_of_alone(tmp_path):
    as_lists = write_csv(tmp_path / "l.csv", "text,labels", joined_rows(lambda pair: '"' + json.dumps([pair]).replace(
        '"', '""') + '"'))
    assert "food,water" in load_table(as_lists).label_names
    one = [f"text {i},{['food', 'water', 'shelter'][i % 3]}" for i in range(60)] + ['"joined","food,water"']
    with pytest.warns(UserWarning, match="1 label name\\(s\\) hold ','"):  # one such name: a warning, as before
        assert "food,water" in load_table(write_csv(tmp_path / "o.csv", "text,labels", one)).label_names


def test_with_no_eligible_label_the_advice_is_what_can_help_and_analyze_names_its_own_rule(tmp_path):
    """0 eligible labels advised 'lower --frequent/--rare or name the labels with --labels': no count helps, and a
    run's named label meets the same rule; al.analyze, which reads no dev or test text, takes named labels of 2."""
    from al.datasets.reduction import pick_frequent_rare, reduce_labels

    names = ["food", "shelter", "water"]
    rows = [f"message number {i},{names[i % 3]},{['test', 'dev', *['train'] * 18][i % 20]}" for i in range(150)]
    corpus = load_table(write_csv(tmp_path / "small.csv", "text,labels,split", rows))  # 7-8 dev and test texts
    with pytest.raises(DataError) as caught:
        pick_frequent_rare(corpus, user_file=True)
    said = str(caught.value)
    assert said.endswith("; put more texts of 'shelter', 'water', 'food' in dev and test with a split column of the "
                         "file's (train/dev/test; --split-column)") and "lower --frequent" not in said, said
    for short in ({}, {"min_pool": 50}):  # short of dev and test texts, then of pool texts (44-45 each)
        with pytest.raises(DataError) as caught:
            pick_frequent_rare(corpus, **short)  # no split column of a user's to suggest
        assert str(caught.value).endswith("; use a larger corpus: no label has the texts the rule asks for")
    common = load_table(write_csv(tmp_path / "common.csv", "text,labels", [f"text {i},food|water" for i in range(90)]))
    with pytest.raises(DataError) as caught:
        pick_frequent_rare(common)
    assert str(caught.value).endswith("; no label of the corpus meets the rule, each on too much of the pool: use "
                                      "other data")
    with pytest.raises(DataError) as caught:
        reduce_labels(corpus, user_file=True, analysis=True)
    assert str(caught.value).endswith(
        "; name the labels with --labels (al.analyze reads no dev or test text: each needs only 2 pool texts "
        "here), or put more texts of 'shelter', 'water', 'food' in dev and test with a split column of the file's "
        "(train/dev/test; --split-column)")
    assert reduce_labels(corpus, ["food", "water"], user_file=True, analysis=True).label_names == ("food", "water")


def test_describe_names_the_0_1_columns_read_as_labels_and_the_repeated_texts(tmp_path, capsys):
    from al.simulate import main

    rows = [f"message number {i},{int(i % 3 == 0)},{int(i % 3 == 1)},{int(i % 7 == 0)}" for i in range(600)]
    path = write_csv(tmp_path / "d.csv", "text,food,water,needs_review", rows + rows[:20])
    assert main(["--dataset", "csv", "--data-path", str(path), "--describe"]) == 0
    out = capsys.readouterr().out
    assert ("labels read from the file's 0/1 columns: food, water, needs_review (every column of only 0 and 1 but "
            "the text, split and id columns;") in out
    # of the 20 repeated rows, the 14 with food or water stay (the reduction keeps the eligible labels' texts)
    assert "repeated: 14 texts repeat an earlier text (kept: duplicates are data)" in out
    assert "\nsplits by a hash of each text (about 80% train, 10% dev, 10% test; a text and its repeats stay " \
           "together), as the file has no 'split' column: add one (train, dev, test) to choose them\n" in out
    assert main(["--dataset", "csv", "--data-path", str(path), "--describe", "--label-columns", "food", "water"]) == 0
    assert "labels read from" not in capsys.readouterr().out


def test_describe_says_a_file_is_read_at_semicolons_and_a_split_column_is_checked_among_its_cells(tmp_path, capsys):
    """The settings check reads the header at the separator loading reads it at: 'Split' is a cell of its own."""
    from al.simulate import main

    rows = [f"message number {i};{['food', 'water', 'shelter'][i % 3]};{['test', 'dev', *['train'] * 8][i % 10]}"
            for i in range(600)]
    path = write_csv(tmp_path / "d.csv", "text;labels;Split", rows)
    assert main(["--dataset", "csv", "--data-path", str(path), "--describe", "--split-column", "Split"]) == 0
    out = capsys.readouterr().out
    assert ("cells separated by semicolons (read at ';': at a .csv's commas its header is one column, "
            "'text;labels;Split')\n") in out
    assert "\nsplits from the file's column 'Split' (train, dev, test)\n" in out
    path.write_text("\n".join(["text;labels;Split", *(row.replace(";dev", ";train") for row in rows)]) + "\n")
    with pytest.warns(UserWarning, match="marks train and test texts and no dev text"):
        assert main(["--dataset", "csv", "--data-path", str(path), "--describe", "--split-column", "Split"]) == 0
    assert ("\nsplits from the file's column 'Split' (train, dev, test; no dev rows: dev is a tenth of train, by a "
            "hash of each text)\n") in capsys.readouterr().out
    assert main(["--dataset", "csv", "--data-path", str(path), "--describe", "--split-column", "fold"]) == 2
    said = capsys.readouterr().err
    assert "columns: text, labels, Split" in said and "fold" in said, said
    assert main(["--dataset", "csv", "--data-path", str(write_csv(tmp_path / "c.csv", "text,labels", [
        r.replace(";", ",", 1).rsplit(";", 1)[0] for r in rows])), "--describe"]) == 0
    assert "cells separated" not in capsys.readouterr().out


def test_labels_holding_a_comma_are_kept_where_the_cells_join_labels_with_the_separator_read(tmp_path):
    """'Food, Drink' beside 'Food' and 'Drink', every cell joined by '|': the file's own reading, not refused."""
    rows = [f'text {i},"{["Food|Health, Safety", "Drink|Food, Drink", "Health|Safety"][i % 3]}"' for i in range(60)]
    path = write_csv(tmp_path / "d.csv", "text,labels", rows)
    with pytest.warns(UserWarning, match="label name\\(s\\) hold ','"):
        names = load_table(path).label_names
    assert set(names) == {"Food", "Health, Safety", "Drink", "Food, Drink", "Health", "Safety"}


def test_a_list_column_as_pandas_writes_it_is_read_as_its_json_form_is(tmp_path):
    """df.to_csv of a list column writes ['food', 'storm']: refused as no JSON list, the commonest way a pandas user
    writes labels. Read as a Python literal (parsed, never run), it gives the corpus the JSON form gives."""
    import pandas as pd

    rows = [("flooded road", ["water", "storm"]), ("bread please", ["food"]), ("all fine", []),
            ("no water", ["water"])]
    frame = pd.DataFrame({"text": [t for t, _ in rows], "labels": [labels for _, labels in rows]})
    frame.to_csv(tmp_path / "pandas.csv", index=False)
    assert "\"['water', 'storm']\"" in (tmp_path / "pandas.csv").read_text()  # what pandas writes
    frame.assign(labels=frame["labels"].map(json.dumps)).to_csv(tmp_path / "json.csv", index=False)
    python, as_json = load_table(tmp_path / "pandas.csv"), load_table(tmp_path / "json.csv")
    assert python.label_names == as_json.label_names == ("food", "storm", "water")
    assert (python.Y != as_json.Y).nnz == 0 and list(python.texts) == list(as_json.texts)
    (tmp_path / "code.csv").write_text("text,labels\nx,\"[__import__('os').getcwd()]\"\n")
    with pytest.raises(DataError, match=r"code.csv line 2: cannot parse the label list .*\(or Python's \['a', 'b'\], "
                                        r"as pandas writes a list\)"):
        load_table(tmp_path / "code.csv")
