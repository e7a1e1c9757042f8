"""Bad input, each case: one line on stderr saying what was expected and what came, exit 2, nothing written."""
from __future__ import annotations

import json
import os

import pytest

from al.simulate import main


def files(tmp_path):
    (tmp_path / "zeros.csv").write_text("text,a,b\nhello world,0,1\nanother text,0,1\nthird,0,1\n")
    (tmp_path / "broken.jsonl").write_text('{"text": "a", "labels": ["x"]}\n\n{"text": "b", labels: ["y"]}\n')
    (tmp_path / "array.jsonl").write_text('{"text": "a", "labels": ["x"]}\n[1, 2]\n')
    (tmp_path / "empty.jsonl").write_text("\n\n")
    (tmp_path / "empty.csv").write_text("\n")
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf")  # an editor's empty sheet saved as CSV UTF-8
    (tmp_path / "nan.csv").write_text("text,a\nfine,1\n,1\n")  # a blank cell: "nan" or "NA" would be texts
    (tmp_path / "wrong").mkdir()
    (tmp_path / "wrong" / "readme.txt").write_text("not the data\n")


CASES = {
    "label column of zeros named": (["--dataset", "csv", "--data-path", "zeros.csv", "--label-columns", "a", "b"],
                                    "label column(s) 'a' hold only zeros; expected at least one positive text per "
                                    "label: leave it out of --label-columns"),
    "every label column zeros": (["--dataset", "csv", "--data-path", "zeros.csv", "--label-columns", "a"],
                                 "label column(s) 'a' hold only zeros"),
    "jsonl line not json": (["--dataset", "jsonl", "--data-path", "broken.jsonl"],
                            "broken.jsonl line 3 is not JSON (Expecting property name enclosed in double quotes"),
    "jsonl line not an object": (["--dataset", "jsonl", "--data-path", "array.jsonl"],
                                 "array.jsonl line 2 holds an array, not an object; expected a JSON object"),
    "empty jsonl": (["--dataset", "jsonl", "--data-path", "empty.jsonl"], "holds no JSON lines"),
    "empty csv": (["--dataset", "csv", "--data-path", "empty.csv"],
                  "data path empty.csv is empty; expected a header row and one row per labeled text"),
    "csv of a byte-order mark alone": (["--dataset", "csv", "--data-path", "bom.csv"],  # pandas: "No columns to parse"
                                       "data path bom.csv is empty; expected a header row and one row per labeled "
                                       "text"),
    "NaN text": (["--dataset", "csv", "--data-path", "nan.csv", "--labels", "a"],
                 "nan.csv line 3: empty text in column 'text' (blank or missing; 1 such row(s))"),
    "csv path is a directory": (["--dataset", "csv", "--data-path", "wrong"],
                                "is a directory; expected a .csv, .tsv or .jsonl file"),
    "reuters directory of the wrong files": (["--dataset", "reuters", "--data-path", "wrong"],
                                             "no reut2-*.sgm files in"),
    "disaster path is a directory": (["--dataset", "disaster", "--data-path", "wrong"],
                                     "is a directory; expected the file disaster_response_messages.csv"),
    "jsonl path is a device": (["--dataset", "jsonl", "--data-path", os.devnull],
                               f"data path {os.devnull} is not a regular file; expected a .csv, .tsv or .jsonl file"),
    "disaster path is a device": (["--dataset", "disaster", "--data-path", os.devnull],
                                  f"data path {os.devnull} is not a regular file; expected the file"),
}


@pytest.mark.parametrize("argv, message", CASES.values(), ids=CASES.keys())
def test_bad_data(argv, message, tmp_path, monkeypatch, capsys):
    files(tmp_path)
    monkeypatch.chdir(tmp_path)
    code = main([*argv, "--out", "run"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and message in err, err
    assert err.count("\n") == 1, err
    assert not (tmp_path / "run").exists()


def test_an_out_holding_another_run_is_refused_before_data_loads(tmp_path, monkeypatch, capsys):
    import al.datasets

    out = tmp_path / "run"
    out.mkdir()
    stored = {"config": {"strategy": {"name": "random", "params": {}}, "seed": 0}}
    (out / "config.json").write_text(json.dumps(stored))
    (out / "rounds.jsonl").write_text('{"round": 0}\n')
    monkeypatch.setattr(al.datasets, "load_corpus", lambda *a, **k: pytest.fail("data loaded"))
    assert main(["--strategy", "cvirs", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "holds a run with other settings (" in err and "pass another --out" in err and err.count("\n") == 1
    assert json.loads((out / "config.json").read_text()) == stored  # untouched
    assert (out / "rounds.jsonl").read_text() == '{"round": 0}\n'


def test_an_out_whose_run_finished_no_round_is_started_afresh(tmp_path, capsys, monkeypatch):
    """A value refused in the first fit (bert's max_length) left a config.json, and the corrected command on the
    same --out was refused as other settings: with nothing to lose, the run starts afresh, said in a warning."""
    import al.simulate
    from al.errors import ConfigError

    def build(*args, **kwargs):
        raise ConfigError("stopped where the data would load")

    monkeypatch.setattr(al.simulate, "build_simulation", build)
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text(json.dumps({"config": {"strategy": {"name": "random", "params": {}}}}))
    assert main(["--strategy", "cvirs", "--out", str(out)]) == 2  # compared: not refused, nothing said or written
    assert capsys.readouterr().err == "error: stopped where the data would load\n"
    assert json.loads((out / "config.json").read_text())["config"]["strategy"]["name"] == "random"
    from al.config import SimulationConfig
    from al.records import RunRecords
    from al.simulate import stored_settings

    settings = SimulationConfig(strategy="cvirs", out=str(out)).resolved()
    with pytest.warns(UserWarning, match=rf"^{out} held a run with other settings \(strategy: 'random' -> "
                                         rf"'cvirs'\), and it finished no round: started afresh$"):
        assert RunRecords(out).start(settings, {}, stored_settings=stored_settings) == []  # under the lock, in a run
    assert json.loads((out / "config.json").read_text())["config"] == settings
    (out / "answers.sqlite").write_text("")  # something else lives there: no such promise, nor advice to remove
    assert main(["--strategy", "margin", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "loses nothing" not in err and "remove" not in err and err.rstrip().endswith("pass another --out")


@pytest.mark.parametrize("name, text, message", [
    ("config.json", '{"config": {"strategy": ', "config.json is not JSON (Expecting value: column 25); "),
    ("rounds.jsonl", '{"round": 0}\n{"round": 1, "picked": [', "rounds.jsonl line 2 is not JSON ("),
    ("rounds.jsonl", '{"round": 0, "x": "ab\n', "rounds.jsonl line 1 is not JSON (Unterminated string starting at: "
                                              "column 19); "),
    ("rounds.jsonl", '{"round": 0}\n[1]\n', "rounds.jsonl line 2 is not a round's record"),
    ("rounds.jsonl", b"\xff\xfe", "rounds.jsonl is not UTF-8 text"),
])
def test_damaged_records_are_named_in_one_line(tmp_path, capsys, name, text, message):
    """A run writes its records whole: a file that does not parse was changed by another hand; say which, where."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text(json.dumps({"config": {"strategy": {"name": "random", "params": {}}}}))
    path = out / name
    path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text)
    assert main(["--strategy", "random", "--out", str(out)]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("warning: ")]
    assert len(errors) == 1 and errors[0].startswith("error: ") and message in errors[0], errors
    assert "remove the run directory to run again" in errors[0]


@pytest.mark.parametrize("text", ["[]", '{"a": 1}', '{"config": 5}'])
def test_a_config_json_of_another_program_is_named_in_one_line_and_never_advised_away(tmp_path, capsys, text):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text(text)
    assert main(["--strategy", "random", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: {out / 'config.json'} does not hold a run's settings (an object with its config): another "
                   f"program's file, or one edited by hand; pass another --out (or directory), or restore it from a "
                   f"copy\n")
    assert (out / "config.json").read_text() == text


def test_an_out_that_is_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "run").write_text("x")
    assert main(["--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "run directory" in err and "is a file; pass a directory as --out" in err and err.count("\n") == 1


def test_a_read_only_out_is_refused_before_data_loads(monkeypatch, capsys):
    import al.datasets

    target = "/sys/al-read-only-check"  # read-only even for root (chmod means nothing to root)
    try:
        os.mkdir(target)
    except OSError:
        pass
    else:
        os.rmdir(target)
        pytest.skip("/sys is writable on this machine; no read-only location to test with")
    monkeypatch.setattr(al.datasets, "load_corpus", lambda *a, **k: pytest.fail("data loaded"))
    assert main(["--out", f"{target}/run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot write the run directory {target}/run (") and err.count("\n") == 1
    assert "pass an --out you can write to" in err


def test_records_that_cannot_be_written_fail_cleanly_and_keep_what_is_on_disk(tmp_path, corpus, monkeypatch):
    from al.errors import ConfigError
    from al.records import RunRecords, read_rounds
    from tests.unit.test_engine import simulate

    records = RunRecords(tmp_path)
    records.start({}, {})
    calls = {"n": 0}
    import al.records

    real = al.records.write_atomic

    def full_disk_on_third_round(path, text):
        if path.name == "rounds.jsonl":
            calls["n"] += 1
            if calls["n"] == 3:
                raise OSError(28, "No space left on device")
        real(path, text)

    monkeypatch.setattr(al.records, "write_atomic", full_disk_on_third_round)
    with pytest.raises(ConfigError, match="No space left on device.*run the same command again to resume"):
        simulate(corpus, records=records).run()
    assert [r["round"] for r in read_rounds(tmp_path)] == [0, 1]  # the last good state
    assert [r["round"] for r in records.rounds] == [0, 1]  # memory agrees with the disk


def test_duplicated_texts_are_kept_with_one_warning(tmp_path, capsys):
    from al.datasets.tabular import load_table
    from al.simulate import warn_duplicates

    rows = [{"text": f"text number {i % 30}", "labels": ["food"] if i % 2 else ["water"]} for i in range(80)]
    data = tmp_path / "dup.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    corpus = load_table(data)
    assert len(corpus.texts) == 80 and corpus.n_duplicated_texts() == 50  # 30 distinct texts, all 80 kept
    warn_duplicates(corpus, quiet=False)
    assert capsys.readouterr().err == "note: 50 texts of dup repeat an earlier text (kept: duplicates are data)\n"
    warn_duplicates(corpus, quiet=True)
    assert capsys.readouterr().err == ""
    data.write_text("".join(json.dumps(r) + "\n" for r in rows[:31]))  # text number 0 twice: one repeat
    warn_duplicates(load_table(data), quiet=False)
    assert capsys.readouterr().err == "note: 1 text of dup repeats an earlier text (kept: duplicates are data)\n"


def test_a_damaged_record_beside_other_files_is_never_answered_with_removing_the_directory(tmp_path):
    """A session directory holds the person's answers beside its records: the advice is to move the file aside."""
    from al.errors import DataError
    from al.records import read_config

    out = tmp_path / "session"
    out.mkdir()
    (out / "config.json").write_text('{"config": ')
    (out / "answers.sqlite").write_bytes(b"")
    with pytest.raises(DataError) as exc:
        read_config(out)
    assert "move it aside; keep the rest of" in str(exc.value) and "answers.sqlite" in str(exc.value)
    assert "remove the run directory" not in str(exc.value)


def test_one_label_is_a_binary_task_with_one_probability_column():
    import numpy as np

    """One label (a spam filter): probabilities of shape (n, 1), P(label) from a binary logistic regression."""
    from sklearn.linear_model import LogisticRegression

    from al.classifiers.linear import LogisticRegressionClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5)).astype(np.float32)
    y = (X[:, 0] + 0.3 * rng.normal(size=60) > 0).astype(int)
    proba = LogisticRegressionClassifier().fit(X, y[:, None]).predict_proba(X)
    direct = LogisticRegression(class_weight="balanced", max_iter=1000, random_state=0).fit(X, y)
    assert proba.shape == (60, 1)
    np.testing.assert_allclose(proba[:, 0], direct.predict_proba(X)[:, 1], rtol=1e-6)
    for constant in (0, 1):  # a label on no or on every training text: that probability
        fitted = LogisticRegressionClassifier().fit(X, np.full((60, 1), constant))
        np.testing.assert_array_equal(fitted.predict_proba(X), np.full((60, 1), constant, dtype=np.float32))
