"""How a session reads its data file: recorded when it starts, reused by its resume and its export.

A file that gives labels both ways (a ``labels`` list column and 0/1 columns
named as the labels) must say which to read (``--label-columns``). A session
started before that rule recorded nothing; its resume and its export take
``--label-columns`` and check it against what the session read.
"""
from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from al.annotate.__main__ import build_parser, build_session, main  # noqa: E402
from al.annotate.app import create_app  # noqa: E402
from al.annotate.export import session_rows  # noqa: E402
from al.annotate.session import settings_digest  # noqa: E402
from al.annotate.store import DB_FILE, READING_KEY, AnswerStore  # noqa: E402
from al.errors import ConfigError  # noqa: E402
from tests.conftest import hash_embed, synthetic_corpus  # noqa: E402

LOOP = ["--initial", "10", "--step", "5", "--budget", "20", "--strategy", "random", "--folds", "2"]
NAMES = [f"label{j}" for j in range(4)]


@pytest.fixture
def both_ways(tmp_path):
    """60 texts; rows 0-3 give their labels both as a 'labels' list and as 0/1 columns, rows 4-5 as columns only."""
    corpus = synthetic_corpus(60)
    Y = corpus.Y.toarray()
    path = tmp_path / "texts.jsonl"
    with open(path, "w") as f:
        for i, text in enumerate(corpus.texts):
            row = {"id": f"t{i}", "text": text}
            if i < 4:
                row["labels"] = [NAMES[j] for j in np.flatnonzero(Y[i])]
            if i < 6:
                row.update({name: int(Y[i, j]) for j, name in enumerate(NAMES)})
            f.write(json.dumps(row) + "\n")
    return path, Y


def start(path, out, *extra):
    args = build_parser().parse_args(["--data", str(path), "--labels", *NAMES, "--out", str(out), *LOOP, *extra])
    return build_session(args, embed=hash_embed)


def answer(session, n):
    """Answer ``n`` texts with no label (what is answered does not matter here)."""
    client = TestClient(create_app(session), base_url="http://127.0.0.1")
    for _ in range(n):
        state = client.get("/api/state", params={"wait": 30}).json()
        assert state["text"] is not None, state
        response = client.post("/api/answer", json={"id": state["text"]["id"], "labels": [], "skipped": False})
        assert response.status_code == 200, response.text


def meta(session_dir):
    db = sqlite3.connect(session_dir / DB_FILE)
    try:
        return dict(db.execute("SELECT key, value FROM meta").fetchall())
    finally:
        db.close()


def as_before_the_rule(session_dir):
    """Make the session look as one started before sessions recorded how they read their labels."""
    config_file = session_dir / "config.json"
    stored = json.loads(config_file.read_text())
    stored["config"]["session"].pop("label_columns")
    digest = settings_digest(stored["config"])
    stored["session"]["settings_digest"] = digest
    config_file.write_text(json.dumps(stored))
    db = sqlite3.connect(session_dir / DB_FILE)
    try:
        with db:
            db.execute("UPDATE meta SET value = ? WHERE key = 'settings_digest'", (digest,))
            db.execute("DELETE FROM meta WHERE key = ?", (READING_KEY,))
    finally:
        db.close()
    return digest


def one_line_error(capsys):
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    return err


def test_a_new_session_records_how_it_reads_its_file_and_resume_and_export_read_it_so(both_ways, tmp_path, capsys):
    path, Y = both_ways
    session = start(path, tmp_path / "s", "--label-columns", "labels").start()
    try:
        answer(session, 2)
    finally:
        session.close()
    assert json.loads(meta(tmp_path / "s")[READING_KEY]) == {"text_column": "text", "label_sep": "|",
                                                             "label_columns": ["labels"]}
    again = start(path, tmp_path / "s")  # no option: the recorded ones, not a refusal of the file
    try:
        assert sorted(again.texts.given) == [0, 1, 2, 3] and len(again.store.all()) == 2
    finally:
        again.close()
    out = tmp_path / "labeled.jsonl"
    assert main(["export", str(tmp_path / "s"), "-o", str(out)]) == 0
    capsys.readouterr()
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows if r["source"] == "given"] == ["t0", "t1", "t2", "t3"]

    with pytest.raises(ConfigError) as caught:
        start(path, tmp_path / "s", "--label-columns", *NAMES)
    message = str(caught.value)
    assert "\n" not in message and "--label-columns label0 label1 label2 label3 differs" in message
    assert "(--label-columns labels)" in message and "leave --label-columns out" in message
    assert main(["export", str(tmp_path / "s"), "-o", str(out), "--label-sep", ","]) == 2
    err = one_line_error(capsys)
    assert "--label-sep ',' differs" in err and "(--label-sep '|')" in err and "leave --label-sep out" in err
    assert main(["export", str(tmp_path / "s"), "-o", str(out), "--label-columns", "labels"]) == 0  # the same: fine


def test_a_session_from_before_the_rule_resumes_and_exports_with_the_label_columns_named(both_ways, tmp_path,
                                                                                         capsys):
    path, Y = both_ways
    session = start(path, tmp_path / "s", "--label-columns", "labels").start()
    try:
        answer(session, 2)
    finally:
        session.close()
    digest = as_before_the_rule(tmp_path / "s")
    out = tmp_path / "labeled.jsonl"

    assert main(["export", str(tmp_path / "s"), "-o", str(out)]) == 2
    err = one_line_error(capsys)
    assert "holds both a 'labels' list column" in err and "--label-columns labels" in err
    assert not out.exists()
    assert main(["export", str(tmp_path / "s"), "-o", str(out), "--label-columns", "labels"]) == 0
    capsys.readouterr()
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["id"]: [r[n] for n in NAMES] for r in rows if r["source"] == "given"} == \
        {f"t{i}": Y[i].tolist() for i in range(4)}
    assert sum(r["source"] == "person" for r in rows) == 2

    again = start(path, tmp_path / "s", "--label-columns", "labels")  # the same settings: its answers, its digest
    try:
        assert len(again.store.all()) == 2 and again.digest == digest
        assert "label_columns" not in again.settings()["session"]
    finally:
        again.close()
    assert json.loads(meta(tmp_path / "s")[READING_KEY])["label_columns"] == ["labels"]  # recorded from now on
    assert main(["export", str(tmp_path / "s"), "-o", str(out)]) == 0
    capsys.readouterr()
    resumed = start(path, tmp_path / "s")
    resumed.close()
    with pytest.raises(ConfigError, match=r"--label-columns label0 label1 label2 label3 differs .* "
                                          r"\(--label-columns labels\)"):
        start(path, tmp_path / "s", "--label-columns", *NAMES)


def test_label_columns_that_find_other_labeled_texts_than_the_session_did_are_refused(both_ways, tmp_path, capsys):
    path, _ = both_ways
    start(path, tmp_path / "s", "--label-columns", "labels").close()
    as_before_the_rule(tmp_path / "s")
    out = tmp_path / "labeled.jsonl"
    assert main(["export", str(tmp_path / "s"), "-o", str(out), "--label-columns", *NAMES]) == 2
    err = one_line_error(capsys)
    assert "--label-columns label0 label1 label2 label3 finds 6 texts" in err and "found 4" in err
    assert "pass --label-columns labels" in err and not out.exists()
    with pytest.raises(ConfigError, match="finds 6 texts .* found 4; pass --label-columns labels"):
        start(path, tmp_path / "s", "--label-columns", *NAMES)
    assert READING_KEY not in meta(tmp_path / "s")  # nothing recorded by a refused resume


def test_label_columns_named_for_a_file_with_one_shape_must_read_what_the_rule_read(tmp_path, capsys):
    """A file with 0/1 columns and a 'tags' list: the session read the 0/1 columns; 'tags' says otherwise."""
    path = tmp_path / "texts.jsonl"
    with open(path, "w") as f:
        for i in range(40):
            row = {"text": f"text {i} " + "word " * (i % 5), "tags": ["label1"] if i < 3 else None}
            if i < 3:
                row.update({"label0": 1, "label1": 0, "label2": 0, "label3": 0})
            f.write(json.dumps(row) + "\n")
    start(path, tmp_path / "s").close()
    as_session = json.loads((tmp_path / "s" / "config.json").read_text())
    assert "label_columns" not in as_session["config"]["session"]
    db = sqlite3.connect(tmp_path / "s" / DB_FILE)
    with db:
        db.execute("DELETE FROM meta WHERE key = ?", (READING_KEY,))  # as before sessions recorded it
    db.close()
    out = tmp_path / "labeled.jsonl"
    assert main(["export", str(tmp_path / "s"), "-o", str(out), "--label-columns", "tags"]) == 2
    err = one_line_error(capsys)
    assert "--label-columns tags reads other labels" in err and "leave --label-columns out" in err
    assert main(["export", str(tmp_path / "s"), "-o", str(out), "--label-columns", *NAMES]) == 0  # the same ones
    assert main(["export", str(tmp_path / "s"), "-o", str(out)]) == 0


def test_a_database_recording_another_reading_is_refused_and_an_old_one_gets_a_record(tmp_path):
    first = {"text_column": "text", "label_sep": "|", "label_columns": None}
    AnswerStore(tmp_path, "d", NAMES).open().close()  # as before sessions recorded it
    assert READING_KEY not in meta(tmp_path)
    AnswerStore(tmp_path, "d", NAMES, first).open().close()
    assert json.loads(meta(tmp_path)[READING_KEY]) == first
    with pytest.raises(ConfigError, match=r"records that its session reads its files with .*\"label_columns\": null"
                                          r".* not .*\"labels\"\]") as caught:
        AnswerStore(tmp_path, "d", NAMES, {**first, "label_columns": ["labels"]}).open()
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("flags, words", [
    (["--label-sep", ""], "--label-sep must be a character or string"),
    (["--text-column", " "], "--text-column must name a column"),
])
def test_an_empty_reading_option_is_one_line_before_the_session_is_read(tmp_path, capsys, flags, words):
    out = tmp_path / "labeled.jsonl"
    assert main(["export", str(tmp_path / "no-session"), "-o", str(out), *flags]) == 2
    assert words in one_line_error(capsys)


def test_session_rows_without_options_reads_a_recorded_session(both_ways, tmp_path):
    path, _ = both_ways
    start(path, tmp_path / "s", "--label-columns", *NAMES).close()
    rows, counts = session_rows(tmp_path / "s")
    assert counts == {"given": 6, "person": 0, "skipped": 0} and len(rows) == 6
