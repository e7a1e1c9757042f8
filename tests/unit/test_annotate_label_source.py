"""How a session reads its data file: recorded when it starts, reused by its resume and its export.

A file that gives labels both ways (a ``labels`` list column and 0/1 columns
named as the labels) must say which to read (``--label-columns``). A session
started before that rule recorded nothing: it read the union of the two (the
0/1 columns, the list overriding them row by row), and its resume and its
export read that again, with no option. Such sessions are made here by the
code of that time (:func:`old_sessions`), not imitated.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from al.annotate.__main__ import build_parser, build_session, main  # noqa: E402
from al.annotate.app import create_app  # noqa: E402
from al.annotate.data import (Reading, SessionFacts, old_session_reading, recorded_reading,  # noqa: E402
                              resolve_reading)
from al.annotate.export import session_rows  # noqa: E402
from al.annotate.store import DB_FILE, READING_KEY, AnswerStore  # noqa: E402
from al.errors import ConfigError, DataError  # noqa: E402
from al.records import read_rounds  # noqa: E402
from tests.conftest import REPO, hash_embed, synthetic_corpus  # noqa: E402

# row 10 of the JSON-lines pools holds "labels": "" on purpose (none of the labels); its warning is pinned elsewhere
pytestmark = pytest.mark.filterwarnings("ignore:.*the 'labels' cell is blank .*, read as labeled with none")

LOOP = ["--initial", "10", "--step", "5", "--budget", "20", "--strategy", "random", "--folds", "2"]
NAMES = [f"label{j}" for j in range(4)]
#: The parent of 3e0488b, which made a file giving labels both ways name which: sessions read the union before.
BEFORE_THE_RULE = "be9436853752e0f1a2a06c1539486a6055fbfef2"
UNION_READING = {"text_column": "text", "label_sep": "|", "label_columns": None, "legacy_union": True}

#: Run by the code of BEFORE_THE_RULE: start each session, answer (one skip) until round 0 is recorded, stop;
#: print what it read of each data file (row -> labels).
OLD_SESSIONS = """
import json, sys
import al
from fastapi.testclient import TestClient
from al.annotate.__main__ import build_parser, build_session
from al.annotate.app import create_app
from tests.conftest import hash_embed

specs, names, out = json.loads(sys.argv[1]), json.loads(sys.argv[2]), {"code": al.__file__}
for name, argv in specs.items():
    session = build_session(build_parser().parse_args(argv), embed=hash_embed).start()
    try:
        client = TestClient(create_app(session), base_url="http://127.0.0.1")
        k = 0
        while True:
            state = client.get("/api/state", params={"wait": 30}).json()
            if session.records.rounds:
                break
            assert state["text"] is not None, state
            response = client.post("/api/answer", json={"id": state["text"]["id"], "labels": [names[k % 4]],
                                                         "skipped": k == 1})
            assert response.status_code == 200, response.text
            k += 1
    finally:
        session.close()
    out[name] = {i: [n for n, v in zip(names, y) if v] for i, y in session.texts.given.items()}
print(json.dumps(out))
"""


def write_disjoint(path):
    """Rows labeled by the list alone (0-2), the columns alone (3-5), both (6-7: the list wins, [] included), a
    null list beside columns (8), a list joined by '|' (9), a blank list (10: labeled with none); 60 texts."""
    corpus = synthetic_corpus(60)
    Y = corpus.Y.toarray()
    listed = {6: ["label1"], 7: [], 8: None, 9: "label0|label3", 10: ""}
    with open(path, "w") as f:
        for i, text in enumerate(corpus.texts):
            row = {"id": f"t{i}", "text": text}
            if i < 3 or i in listed:
                row["labels"] = listed[i] if i in listed else [NAMES[j] for j in np.flatnonzero(Y[i])]
            if i in (3, 4, 5, 7, 8):
                row.update({name: int(Y[i, j]) for j, name in enumerate(NAMES)})
            if i == 6:
                row.update({"label0": 1, "label1": 0, "label2": 0, "label3": 0})
            f.write(json.dumps(row) + "\n")


def write_list_over_columns(path):
    """Rows 0-3 give labels both ways, the columns of rows 0-1 other than the list: the union is the list."""
    corpus = synthetic_corpus(60)
    Y = corpus.Y.toarray()
    with open(path, "w") as f:
        for i, text in enumerate(corpus.texts):
            row = {"id": f"t{i}", "text": text}
            if i < 4:
                row["labels"] = [NAMES[j] for j in np.flatnonzero(Y[i])]
                row.update({name: int(1 - Y[i, j] if i < 2 else Y[i, j]) for j, name in enumerate(NAMES)})
            f.write(json.dumps(row) + "\n")


def write_csv(path):
    """The same shapes in a CSV file: an empty cell is no list, '[]' a list of none, 'a|b' a joined one."""
    corpus = synthetic_corpus(60)
    Y = corpus.Y.toarray()
    cells = {0: "label0|label2", 1: '["label1"]', 2: "[]", 4: "", 5: "label3"}
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text", "labels", *NAMES])
        for i, text in enumerate(corpus.texts):
            columns = [int(v) for v in Y[i]] if i in (2, 3, 4, 5) else [""] * len(NAMES)
            writer.writerow([f"t{i}", text, cells.get(i, ""), *columns])


#: The old sessions: name -> (what writes its data file, the file's name, --initial: the texts labeled in it and 3)
OLD_FILES = {"disjoint": (write_disjoint, "texts.jsonl", 14),
             "list_over_columns": (write_list_over_columns, "texts.jsonl", 10),
             "csv": (write_csv, "texts.csv", 10)}


@pytest.fixture(scope="module")
def old_sessions(tmp_path_factory):
    """Sessions made by the code before the rule (BEFORE_THE_RULE, taken from this repository's history with
    ``git archive`` and run in a subprocess; removed once they are made), one per OLD_FILES entry, round 0 recorded.

    Returns name -> (data file, session directory, what that code read: row -> its labels, its loop flags).
    """
    root = tmp_path_factory.mktemp("before-the-rule")
    code = root / "code"
    code.mkdir()
    try:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", BEFORE_THE_RULE, "al", "strategies",
                                  "tests/__init__.py", "tests/conftest.py"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"the code before the label-source rule is not in this checkout's history ({exc})")
    specs, found = {}, {}
    for name, (write, file_name, initial) in OLD_FILES.items():
        (root / name).mkdir()
        write(root / name / file_name)
        loop = [*LOOP, "--initial", str(initial), "--budget", str(initial + 10)]
        specs[name] = ["--data", str(root / name / file_name), "--labels", *NAMES, "--out", str(root / name / "s"),
                       *loop]
        found[name] = (root / name / file_name, root / name / "s", loop)
    try:
        subprocess.run(["tar", "-x", "-C", str(code)], input=archive.stdout, check=True)
        run = subprocess.run([sys.executable, "-c", OLD_SESSIONS, json.dumps(specs), json.dumps(NAMES)], cwd=code,
                             capture_output=True, text=True, timeout=300,
                             env={**os.environ, "PYTHONPATH": str(code), "AL_CACHE_DIR": str(root / "cache")})
    finally:
        shutil.rmtree(code)
    assert run.returncode == 0, run.stderr[-3000:]
    made = json.loads(run.stdout.strip().splitlines()[-1])
    assert made.pop("code").startswith(str(code))  # the old code ran, not this checkout's
    return {name: (path, session_dir, {int(i): labels for i, labels in made[name].items()}, loop)
            for name, (path, session_dir, loop) in found.items()}


def old_session(old_sessions, name, tmp_path):
    """A copy of an old session, its data file left where it is: (data file, session directory, row -> the
    labels that code read, the loop flags it began with)."""
    path, template, given, loop = old_sessions[name]
    shutil.copytree(template, tmp_path / "s")
    return path, tmp_path / "s", given, loop


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


def answer_until(session, n_rounds):
    """Answer with no label until the session has recorded ``n_rounds`` rounds."""
    client = TestClient(create_app(session), base_url="http://127.0.0.1")
    while len(session.records.rounds) < n_rounds:
        state = client.get("/api/state", params={"wait": 30}).json()
        assert session.error is None, session.error
        if len(session.records.rounds) >= n_rounds:
            break
        assert state["text"] is not None, state
        response = client.post("/api/answer", json={"id": state["text"]["id"], "labels": [], "skipped": False})
        assert response.status_code == 200, response.text


def meta(session_dir):
    db = sqlite3.connect(session_dir / DB_FILE)
    try:
        return dict(db.execute("SELECT key, value FROM meta").fetchall())
    finally:
        db.close()


def exported(session_dir, out, *flags):
    """Export; returns the given rows as id -> labels (None when export failed)."""
    if main(["export", str(session_dir), "-o", str(out), *flags]) != 0:
        return None
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    return {r["id"]: [n for n in NAMES if r[n]] for r in rows if r["source"] == "given"}


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


#: Rows of each old file whose labels show how that code read a shape: the list over the columns (also when it
#: lists none), the columns under a null or empty list cell, a list joined by '|', a blank string.
SHAPES = {"disjoint": {6: ["label1"], 7: [], 8: ["label0"], 9: ["label0", "label3"], 10: []},
          "list_over_columns": {0: ["label1", "label2", "label3"], 1: ["label2"]},
          "csv": {0: ["label0", "label2"], 2: [], 4: ["label0"], 5: ["label3"]}}


def by_id(given):
    return {f"t{i}": labels for i, labels in given.items()}


@pytest.mark.parametrize("name", list(OLD_FILES))
def test_an_old_session_on_a_file_with_both_exports_what_it_read_with_no_option(old_sessions, tmp_path, capsys,
                                                                                 name):
    path, session_dir, given, _ = old_session(old_sessions, name, tmp_path)
    assert {i: given[i] for i in SHAPES[name]} == SHAPES[name]  # what that code read of each shape
    assert exported(session_dir, tmp_path / "labeled.jsonl") == by_id(given)
    assert READING_KEY not in meta(session_dir)  # export records nothing


def test_an_old_session_with_sources_on_other_rows_resumes_as_it_began(old_sessions, tmp_path, capsys):
    path, session_dir, given, loop = old_session(old_sessions, "disjoint", tmp_path)
    assert sorted(given) == list(range(11))  # the list's rows and the columns' rows: neither source alone
    config_before = (session_dir / "config.json").read_text()
    rounds_before = read_rounds(session_dir)
    session = start(path, session_dir, *loop)  # no option
    try:
        assert {i: [NAMES[j] for j in np.flatnonzero(y)] for i, y in session.texts.given.items()} == given
        assert session.digest == json.loads(config_before)["session"]["settings_digest"]
        session.start()
        answer_until(session, 2)
    finally:
        session.close()
    assert json.loads(meta(session_dir)[READING_KEY]) == UNION_READING  # recorded on the first resume
    after, before = (json.loads(text) for text in ((session_dir / "config.json").read_text(), config_before))
    assert after["config"]["session"] == before["config"]["session"]  # no label columns there: as it began
    assert after["session"]["settings_digest"] == before["session"]["settings_digest"]
    rounds = read_rounds(session_dir)
    assert len(rounds_before) == 1 and rounds[0] == rounds_before[0] and len(rounds) >= 2  # the loop went on
    assert exported(session_dir, tmp_path / "labeled.jsonl") == by_id(given)
    again = start(path, session_dir, *loop)
    again.close()
    with pytest.raises(ConfigError) as caught:  # recorded now: an option saying otherwise is refused
        start(path, session_dir, *loop, "--label-columns", "labels")
    message = str(caught.value)
    assert "\n" not in message and "--label-columns labels differs" in message
    assert "the 'labels' list overriding them row by row" in message and "leave --label-columns out" in message


@pytest.mark.parametrize("name, columns, words", [
    ("disjoint", ["labels"], "line 4 is unlabeled by the columns named but labeled"),
    ("disjoint", NAMES, "line 1 is unlabeled by the columns named but labeled"),
    ("list_over_columns", NAMES, "line 1 is labeled"),  # as many texts labeled as the session counted: not enough
])
def test_label_columns_reading_other_labels_than_an_old_session_read_are_refused(old_sessions, tmp_path, capsys,
                                                                                  name, columns, words):
    path, session_dir, given, loop = old_session(old_sessions, name, tmp_path)
    out = tmp_path / "labeled.jsonl"
    assert exported(session_dir, out, "--label-columns", *columns) is None
    err = one_line_error(capsys)
    assert f"--label-columns {' '.join(columns)} reads other labels" in err and words in err
    assert f"({len(given)} texts labeled: the 0/1 columns named as the labels, the 'labels' list overriding" in err
    assert "leave --label-columns out" in err and not out.exists()
    with pytest.raises(ConfigError, match=words):
        start(path, session_dir, *loop, "--label-columns", *columns)
    assert READING_KEY not in meta(session_dir)  # a refused resume records nothing


def test_label_columns_reading_what_an_old_session_read_are_accepted_and_recorded(old_sessions, tmp_path, capsys):
    path, session_dir, given, loop = old_session(old_sessions, "list_over_columns", tmp_path)
    assert exported(session_dir, tmp_path / "labeled.jsonl", "--label-columns", "labels") == by_id(given)
    start(path, session_dir, *loop, "--label-columns", "labels").close()
    assert json.loads(meta(session_dir)[READING_KEY])["label_columns"] == ["labels"]
    again = start(path, session_dir, *loop)
    try:
        assert sorted(again.texts.given) == sorted(given)
    finally:
        again.close()


def tamper_counts(session_dir, given):
    rounds = read_rounds(session_dir)
    rounds[0]["labeled_counts"]["label0"] += 1
    (session_dir / "rounds.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rounds))


def tamper_initial(session_dir, given):
    rounds = read_rounds(session_dir)
    rounds[0]["initial"].remove(max(given))
    (session_dir / "rounds.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rounds))


def tamper_answers(session_dir, given):
    db = sqlite3.connect(session_dir / DB_FILE)
    with db:
        db.execute("INSERT INTO answers (pool_index, seq, text_id, labels, skipped, round, answered_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)", (min(given), 999, f"t{min(given)}", "[]", 0, 0, "2026-01-01"))
    db.close()


@pytest.mark.parametrize("tamper, words", [
    (tamper_counts, "gives round 0 the label counts label0 "),
    (tamper_initial, "which round 0 did not start from"),
    (tamper_answers, "line 1, which a person answered in the session"),
])
def test_an_old_session_whose_records_disagree_with_the_union_is_refused(old_sessions, tmp_path, capsys, tamper,
                                                                         words):
    path, session_dir, given, _ = old_session(old_sessions, "disjoint", tmp_path)
    tamper(session_dir, given)
    assert exported(session_dir, tmp_path / "labeled.jsonl") is None
    err = one_line_error(capsys)
    assert f"session {session_dir} recorded no label columns, and {path} gives labels both ways" in err
    assert words in err and "pass --label-columns naming the columns it read its labels from" in err


def test_where_the_union_disagrees_with_a_session_the_columns_that_agree_are_named(tmp_path):
    """Not a session of the code before the rule (that one always agrees): the columns must agree instead."""
    path = tmp_path / "texts.jsonl"
    write_disjoint(path)
    facts = SessionFacts(n_given=7)  # the list's rows
    with pytest.raises(ConfigError) as caught:
        old_session_reading(path, NAMES, Reading(), facts, "session s")
    message = str(caught.value)
    assert "\n" not in message and "session s recorded no label columns, and" in message
    assert "it finds 11 texts labeled, but the session counted 7 when it began; pass --label-columns labels" in message
    assert old_session_reading(path, NAMES, Reading(label_columns=("labels",)), facts, "session s") == \
        Reading(label_columns=("labels",))
    with pytest.raises(ConfigError, match=r"^--label-columns label0 label1 label2 label3 finds 6 texts labeled, but "
                                          r"the session counted 7 when it began \(session s, .*\); pass "
                                          r"--label-columns labels$"):
        old_session_reading(path, NAMES, Reading(label_columns=tuple(NAMES)), facts, "session s")


@pytest.mark.parametrize("value, legacy", [
    ('{"text_column": "text", "label_sep": "|", "label_columns": null, "legacy_union": true}', True),
    ('{"text_column": "text", "label_sep": "|", "label_columns": null}', False),
    ('{"text_column": "text", "label_sep": "|", "label_columns": ["labels"], "legacy_union": true}', None),
    ('{"text_column": "text", "label_sep": "|", "label_columns": null, "legacy_union": "yes"}', None),
])
def test_a_recorded_union_reads_back_and_a_damaged_one_is_one_line(value, legacy):
    if legacy is None:
        with pytest.raises(ConfigError, match=r"^session s records how it reads its files as .*; expected a JSON "
                                              r"object .*legacy_union: true with no label_columns.*; restore"):
            recorded_reading({}, {READING_KEY: value}, "session s")
        return
    reading = resolve_reading(recorded_reading({}, {READING_KEY: value}, "session s"), {})
    assert reading.legacy_union is legacy and json.dumps(reading.to_dict(), sort_keys=True) == \
        json.dumps(json.loads(value), sort_keys=True)  # what the store compares: the record as written


def test_a_new_session_on_a_file_with_both_must_still_name_the_source(tmp_path):
    path = tmp_path / "texts.jsonl"
    write_disjoint(path)
    with pytest.raises(DataError, match=r"holds both a 'labels' list column and 0/1 label column\(s\) .*; say "
                                        r"which hold the labels: --label-columns labels, or --label-columns label0"):
        start(path, tmp_path / "new", "--initial", "14", "--budget", "24")
    assert not (tmp_path / "new").exists()
    session = start(path, tmp_path / "new", "--initial", "14", "--budget", "24", "--label-columns", "labels")
    try:
        assert sorted(session.texts.given) == [0, 1, 2, 6, 7, 9, 10]
        assert "legacy_union" not in json.loads(meta(tmp_path / "new")[READING_KEY])
    finally:
        session.close()


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
    exported = session_rows(tmp_path / "s")
    rows, counts = exported.rows, exported.counts
    assert counts == {"given": 6, "person": 0, "skipped": 0} and len(rows) == 6


def test_a_label_with_no_column_whose_name_is_close_to_a_column_s_is_guessed(tmp_path):
    """--labels fod water on a file with food and water columns: the error named no column to use instead."""
    from al.annotate.data import read_session_texts

    path = tmp_path / "texts.csv"
    path.write_text("text,food,water\n" + "".join(f"text {i},{i % 2},{int(i % 3 == 0)}\n" for i in range(4)))
    with pytest.raises(DataError) as refused:
        read_session_texts(path, ["fod", "water"])
    assert str(refused.value) == (f"{path} has label columns for water but not for fod (did you mean food?); give "
                                  f"every label a column, or use one 'labels' column")
    with pytest.raises(DataError, match=r"but not for Food \(did you mean food\?\); "):
        read_session_texts(path, ["Food", "water"])
    with pytest.raises(DataError) as refused:  # the text column is no label column to guess
        read_session_texts(path, ["txt", "water"])
    assert "did you mean" not in str(refused.value)
    with pytest.warns(UserWarning) as said:  # no label has a column: nothing is labeled in the file, and it says so
        texts = read_session_texts(path, ["fod"])
    assert not texts.given
    assert [str(w.message) for w in said] == [f"{path} has no column named as a label (fod), so none of its texts is "
                                              f"labeled in the file (did you mean food?); name the labels as its 0/1 "
                                              f"columns to read them"]
