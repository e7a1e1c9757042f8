"""What a start is told about a data file whose labels are joined by another separator, and about session
directories that hold nothing of value (stopped before any answer, or left by a start refused for a busy port)."""
from __future__ import annotations

import json
import shutil
import warnings

import pytest

pytest.importorskip("fastapi")

from al.annotate.__main__ import build_parser, main, prepare_session  # noqa: E402
from al.annotate.data import read_session_texts  # noqa: E402
from al.annotate.store import DB_FILE  # noqa: E402
from al.errors import DataError  # noqa: E402
from tests.conftest import hash_embed, synthetic_corpus  # noqa: E402
from tests.unit.annotate_cli import serve_nothing  # noqa: E402,F401

LOOP = ["--initial", "10", "--step", "5", "--budget", "20", "--strategy", "class_embedding", "--folds", "2"]
LABELS = ["food", "shelter", "water"]
EMPTY = ("it holds no answers (no text answered, no round finished), so removing that directory loses nothing; or "
         "pass another --out")


# ------------------------------------------------------------ labels joined by another separator


def test_a_label_holding_the_separator_is_named_and_a_json_list_reads_it(tmp_path, capsys):
    """--labels 'a|b' c was accepted, and a cell "a|b" then read as 'a', 'b', 'not among the session's labels'."""
    path = tmp_path / "t.jsonl"
    path.write_text('{"text": "x", "labels": "a|b"}\n{"text": "y"}\n{"text": "z"}\n')
    assert main(["--data", str(path), "--labels", "a|b", "c", "--out", str(tmp_path / "s"), "--port", "0",
                 "--initial", "1", "--budget", "2"]) == 2
    assert capsys.readouterr().err == (
        f"error: {path} line 1: label(s) 'a', 'b' are not among the session's labels (a|b, c); the label 'a|b' holds "
        f"the separator '|' (--label-sep), so a cell split at it cannot name that label; give another --label-sep, "
        f"or the cell as a JSON list ([\"a|b\"])\n")
    path.write_text('{"text": "x", "labels": ["a|b"]}\n{"text": "y"}\n{"text": "z"}\n')  # as it says
    read = read_session_texts(path, ["a|b", "c"])
    assert read.given[0].tolist() == [1, 0]
    path.write_text('{"text": "x", "labels": "a|b"}\n{"text": "y"}\n{"text": "z"}\n')
    read = read_session_texts(path, ["a|b", "c"], label_sep=";")  # or another separator
    assert read.given[0].tolist() == [1, 0]
    path.write_text('{"text": "x", "labels": "c|dd"}\n{"text": "y"}\n{"text": "z"}\n')  # a piece of no such label
    assert main(["--data", str(path), "--labels", "a|b", "c", "d", "--out", str(tmp_path / "s"), "--port", "0",
                 "--initial", "1", "--budget", "2"]) == 2
    err = capsys.readouterr().err
    assert "'dd' are not among the session's labels (a|b, c, d) (did you mean d?)" in err and "a|b" not in \
        err.split("labels (a|b, c, d)")[1], err

@pytest.mark.parametrize("name, content, sep, flag", [
    ("t.csv", 'text,labels\nbread and a tent,"food,shelter"\nclean water,water\n', ",", "--label-sep ,"),
    ("t.jsonl", '{"text": "a", "labels": "water"}\n{"text": "b", "labels": "food; shelter"}\n', ";",
     "--label-sep ';'"),
    ("t.csv", 'text,labels\nbread and a tent,"food\tshelter"\n', "\t", "--label-sep $'\\t'"),
    ("t.csv", 'text,labels\nbread and a tent,"food,sheltr"\n', ",", "--label-sep ,"),  # mostly known: a typo besides
], ids=["comma", "semicolon", "tab", "comma-and-typo"])
def test_labels_joined_by_another_separator_name_the_label_sep_to_pass(tmp_path, capsys, name, content, sep, flag):
    path = tmp_path / name
    path.write_text(content)
    assert main(["--data", str(path), "--labels", *LABELS, "--out", str(tmp_path / "s"), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert "are not among the session's labels (food, shelter, water); the row's labels look joined by" in err
    assert err.rstrip().endswith(f"but labels are split at '|': pass {flag} (or fix the row)"), err
    assert "did you mean" not in err  # 'food,shelter' is not a misspelt 'shelter'
    assert not (tmp_path / "s").exists()
    if "sheltr" not in content:  # the separator named reads the file
        read = read_session_texts(path, LABELS, label_sep=sep)
        assert [LABELS[j] for j in read.given[read.texts.index("bread and a tent" if name == "t.csv" else "b")]
                .nonzero()[0]] == ["food", "shelter"]


def test_a_label_sep_over_zero_one_columns_is_said_to_be_read_by_nothing(tmp_path):
    """al.simulate refuses it; a session warns (refusing would stop the resume of a session that recorded one)."""
    path = tmp_path / "t.csv"
    path.write_text("text,food,shelter,water\nbread,1,0,0\ntent,0,1,0\nrain\n")
    with pytest.warns(UserWarning, match=f"^--label-sep ',' is read by nothing: {path}'s labels are 0/1 columns "
                                         f"\\(food, shelter, water\\), not a column listing them$"):
        read = read_session_texts(path, LABELS, label_sep=",")
    assert sorted(read.given) == [0, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_session_texts(path, LABELS)  # the default separator: nothing to say


@pytest.mark.parametrize("cell", ['"Smith, John"', '"[""food,shelter""]"', "snacks"], ids=["names", "json", "plain"])
def test_an_unknown_label_that_does_not_split_into_labels_gets_no_separator_hint(tmp_path, cell):
    """A comma inside a name that splits into no label, or inside a JSON list (never split), names no --label-sep."""
    path = tmp_path / "t.csv"
    path.write_text(f"text,labels\na,{cell}\n")
    with pytest.raises(DataError, match="fix the row or add the label$") as caught:
        read_session_texts(path, LABELS)
    assert "--label-sep" not in str(caught.value)


def test_a_dev_file_s_labels_joined_by_another_separator_get_the_same_hint(tmp_path, capsys):
    texts = tmp_path / "texts.jsonl"
    texts.write_text("".join(json.dumps({"text": f"text {i}"}) + "\n" for i in range(30)))
    dev = tmp_path / "dev.csv"
    dev.write_text('text,labels\nbread,"food,water"\n')
    assert main(["--data", str(texts), "--labels", *LABELS, "--dev", str(dev), "--out", str(tmp_path / "s"),
                 "--port", "0", *LOOP]) == 2
    err = capsys.readouterr().err
    assert "dev.csv line 2:" in err and err.rstrip().endswith("pass --label-sep , (or fix the row)"), err


# ------------------------------------------------------------ session directories holding nothing of value

@pytest.fixture
def pool(tmp_path):
    corpus = synthetic_corpus(200)
    path = tmp_path / "texts.jsonl"
    with open(path, "w") as f:
        for i, text in enumerate(corpus.texts):
            f.write(json.dumps({"id": f"t{i}", "text": text}) + "\n")
    return path, list(corpus.label_names)


def start(pool, out, *extra):
    path, labels = pool
    return ["--data", str(path), "--labels", *labels, "--out", str(out), "--port", "0", *LOOP, *extra]


def stopped_before_any_answer(pool, out):
    """A session started (its loop waiting for round 0's answers) and stopped before anyone answered."""
    session = prepare_session(build_parser().parse_args(start(pool, out)), embed=hash_embed).open()
    session.start()
    try:
        assert session.state(wait=30)["text"] is not None  # round 0 asks: its initial batch is picked
    finally:
        session.close()


def left_by_a_busy_port(pool, out):
    """What a start refused for a busy port left before b69c28e: that code opened the session (lock, database,
    config.json), then failed to bind the port and exited without closing it; the files as they lie then."""
    session = prepare_session(build_parser().parse_args(start(pool, out)), embed=hash_embed).open()
    snapshot = out.parent / "snapshot"
    shutil.copytree(out, snapshot)
    session.close()
    shutil.rmtree(out)
    shutil.copytree(snapshot, out)
    shutil.rmtree(snapshot)
    assert {DB_FILE, "config.json", ".lock"} <= {p.name for p in out.iterdir()}
    assert "rounds.jsonl" not in {p.name for p in out.iterdir()}


def kept(out):
    """The session's files there (SQLite's aside where a reader makes them: the shared-memory index, an empty log)."""
    return {p.name: p.read_bytes() for p in out.iterdir()
            if p.is_file() and not p.name.endswith("-shm") and not (p.name.endswith("-wal") and not p.stat().st_size)}


LEFTOVERS = {"stopped before any answer": stopped_before_any_answer, "left by a busy port": left_by_a_busy_port}


@pytest.mark.parametrize("make", LEFTOVERS.values(), ids=LEFTOVERS.keys())
@pytest.mark.parametrize("other, details", [
    (("--seed", "3"), "(seed: 0 -> 3)"),
    (("--label-sep", ","), None),
], ids=["seed", "label-sep"])
def test_a_session_holding_nothing_is_refused_for_other_settings_saying_removing_it_loses_nothing(
        pool, tmp_path, capsys, serve_nothing, make, other, details):
    out = tmp_path / "s"
    make(pool, out)
    before = kept(out)
    capsys.readouterr()
    assert main(start(pool, out, *other)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    if details is None:  # how it reads its files is checked first
        assert err.startswith(f"error: --label-sep ',' differs from how session {out} reads its files"), err
        assert err.rstrip().endswith(f" out to read them as it does; {EMPTY}"), err
    else:
        assert err.rstrip() == f"error: {out} holds a session with other settings {details}; {EMPTY}"
    assert kept(out) == before  # nothing removed or written


@pytest.mark.parametrize("make", LEFTOVERS.values(), ids=LEFTOVERS.keys())
def test_a_session_holding_nothing_resumes_with_the_same_settings(pool, tmp_path, capsys, serve_nothing, make):
    out = tmp_path / "s"
    make(pool, out)
    capsys.readouterr()
    assert main(start(pool, out)) == 0
    err = capsys.readouterr().err
    assert "error" not in err and err.startswith("starting: 200 texts of") and f"-> {out}\n" in err, err


def test_a_database_alone_holding_no_answers_is_refused_saying_so(pool, tmp_path, capsys, serve_nothing):
    """A directory holding a database of other settings and no answers, without its config.json."""
    stopped_before_any_answer(pool, tmp_path / "s")
    out = tmp_path / "db-only"
    out.mkdir()
    shutil.copy(tmp_path / "s" / DB_FILE, out / DB_FILE)
    capsys.readouterr()
    assert main(start(pool, out, "--seed", "3")) == 2
    err = capsys.readouterr().err.rstrip()
    assert err.startswith(f"error: {out / DB_FILE} is the database of a session with other settings (labels "
                          f"label0, label1, label2, label3; settings digest "), err
    assert err.endswith(f"that holds no answers, so removing {DB_FILE} loses nothing; or pass another --out"), err
    assert main(start(pool, out)) == 0  # the settings it was made for


@pytest.mark.parametrize("what", ["an answer", "a finished round", "a file of the user's", "a server"])
def test_a_session_holding_something_is_never_said_to_lose_nothing(pool, tmp_path, capsys, serve_nothing, what):
    from fastapi.testclient import TestClient

    from al.annotate.app import create_app

    out = tmp_path / "s"
    if what == "an answer":
        session = prepare_session(build_parser().parse_args(start(pool, out)), embed=hash_embed).open().start()
        client = TestClient(create_app(session), base_url="http://127.0.0.1")
        text = client.get("/api/state", params={"wait": 30}).json()["text"]
        assert client.post("/api/answer", json={"id": text["id"], "labels": [], "skipped": True}).status_code == 200
        session.close()
    else:
        stopped_before_any_answer(pool, out)
    if what == "a finished round":  # as round 0 of texts all labeled in the file, which asks no one
        (out / "rounds.jsonl").write_text('{"round": 0}\n')
    if what == "a file of the user's":
        (out / "notes.txt").write_text("mine")
    served = prepare_session(build_parser().parse_args(start(pool, out)), embed=hash_embed).open() \
        if what == "a server" else None
    try:
        capsys.readouterr()
        assert main(start(pool, out, "--label-sep", ",")) == 2
        err = capsys.readouterr().err
        assert "loses nothing" not in err and "or pass another --out for a new session" in err, err
        if served is None:
            assert main(start(pool, out, "--seed", "3")) == 2
            err = capsys.readouterr().err
            assert "loses nothing" not in err and "holds a session with other settings (seed: 0 -> 3)" in err, err
    finally:
        if served is not None:
            served.close()


def test_a_session_is_taken_as_served_while_its_lock_names_a_live_process(tmp_path):
    """Read from the lock file, never by taking the lock (that could turn away a server starting then)."""
    import os
    import subprocess
    import sys

    from al.annotate.session import LOCK_FILE, _served

    node = os.uname().nodename
    assert not _served(tmp_path)  # no lock file
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / LOCK_FILE).write_text(f"{node} pid {child.pid}\n")
        assert _served(tmp_path)
    finally:
        child.kill()
        child.wait()
    assert not _served(tmp_path)  # that process is gone: a stale lock
    (tmp_path / LOCK_FILE).write_text(f"another-machine pid {child.pid}\n")
    assert _served(tmp_path)  # a shared disk's: cannot tell
    (tmp_path / LOCK_FILE).write_text("something else\n")
    assert _served(tmp_path)


def test_no_separator_is_suggested_that_would_misread_the_file_s_other_rows(tmp_path):
    """Rows joined by '|' and one by ',': passing --label-sep , would refuse the others, so: fix the row."""
    path = tmp_path / "t.csv"
    path.write_text("text,labels\nbread,food|water\ntent,shelter\nbread and a tent,\"food,shelter\"\n")
    with pytest.raises(DataError, match=r"line 4: .*fix the row or add the label$") as caught:
        read_session_texts(str(path), LABELS)
    assert "--label-sep" not in str(caught.value)
