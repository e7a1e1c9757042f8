"""The annotation session through its HTTP API (FastAPI's TestClient), with hash embeddings instead of a model.

A scripted person answers with the synthetic corpus's gold labels; the loop,
the database, the records and the export are the real ones.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import threading
import time

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from al.annotate.__main__ import build_parser, build_session, main  # noqa: E402
from al.annotate.app import create_app  # noqa: E402
from al.annotate.export import export_session  # noqa: E402
from al.annotate.store import DB_FILE  # noqa: E402
from al.errors import ConfigError, DataError  # noqa: E402
from al.records import read_config, read_rounds  # noqa: E402
from tests.conftest import hash_embed, synthetic_corpus  # noqa: E402
from tests.unit.annotate_cli import LOOP, flags, opened, pool, serve_nothing, serve_nothing_now  # noqa: E402,F401


def open_session(pool, out, *extra, start=True):
    path, _, labels = pool
    args = build_parser().parse_args(["--data", str(path), "--labels", *labels, "--out", str(out), *LOOP, *extra])
    session = build_session(args, embed=hash_embed)
    if start:
        session.start()
    return session, TestClient(create_app(session), base_url="http://127.0.0.1")


class Person:
    """Answers each text with its gold labels; skips the ids in ``skip``."""

    def __init__(self, client, pool, skip=()):
        self.client = client
        self.Y = pool[1]
        self.labels = pool[2]
        self.skip = set(skip)
        self.answered: list[str] = []

    def gold(self, text_id):
        return [name for j, name in enumerate(self.labels) if self.Y[int(text_id[1:]), j]]

    def next_text(self, timeout=30.0):
        state = self.client.get("/api/state", params={"wait": timeout}).json()
        return state, state["text"]

    def answer(self, n=None):
        """Answer ``n`` texts (all, until the session is done, when None); returns the last state."""
        done = 0
        while n is None or done < n:
            state, text = self.next_text()
            if state["phase"] in ("done", "failed"):
                return state
            assert text is not None, state
            skipped = text["id"] in self.skip
            response = self.client.post("/api/answer", json={
                "id": text["id"], "labels": [] if skipped else self.gold(text["id"]), "skipped": skipped,
                "seconds": 2.0})
            assert response.status_code == 200, response.text
            self.answered.append(text["id"])
            done += 1
        return self.client.get("/api/state").json()


def stripped(rounds):
    def clean(r):
        out = {k: v for k, v in r.items() if not k.startswith("seconds") and k not in ("resumed", "answers")}
        return out
    return [clean(r) for r in rounds]


def test_a_person_labels_a_whole_session_and_the_records_read_like_a_run(pool, tmp_path):
    session, client = open_session(pool, tmp_path / "s", "--folds", "5", "--budget", "30")
    try:
        state = Person(client, pool).answer()
    finally:
        session.close()
    assert state["phase"] == "done" and state["n_labeled"] == 30 and state["shown"] == 30
    assert state["last_compute_seconds"] is not None
    # while the loop trains, the page says so and how long it took last round
    session.finished = False
    computing = session.state()
    assert computing["phase"] == "computing" and computing["text"] is None
    assert "training the classifier on the 30 labeled texts and measuring it (the budget is spent: no text " \
           "follows)" in computing["message"]  # it said "and choosing the next ones"
    took = f"last time this took {state['last_compute_seconds']:.1f} s"  # training, evaluation and the query
    assert took in computing["message"]
    assert computing["computing_seconds"] is not None and computing["computing_seconds"] >= 0
    assert state["computing_seconds"] is None  # only while the loop computes
    rounds = read_rounds(tmp_path / "s")
    assert [r["n_labeled"] for r in rounds] == [10, 15, 20, 25, 30]
    assert all(r["evaluation"].startswith("cross-validation: 5 folds") for r in rounds)
    assert all(0.0 <= r["macro_f1"] <= 1.0 for r in rounds)
    assert [len(r["answers"]) for r in rounds] == [15, 5, 5, 5, 0]  # round 0: the start and its batch
    assert all(a["seconds"] == 2.0 for r in rounds for a in r["answers"])
    assert rounds[0]["seconds_person"] == 30.0
    assert rounds[0]["stopping"]["kappa"] is None and rounds[1]["stopping"]["kappa"] is not None
    # the labels the loop counted are the person's answers
    Y, names = pool[1], pool[2]
    labeled = rounds[0]["initial"] + [i for r in rounds for i in r["picked"]]
    assert list(rounds[-1]["labeled_counts"].values()) == Y[labeled].sum(axis=0).tolist()
    assert state["label_counts"] == dict(zip(names, Y[labeled].sum(axis=0).tolist()))

    from al.analysis.curves import load_runs

    (run,) = load_runs([tmp_path / "s"])  # what al.plot and al.report read
    assert run.strategy == "class_embedding" and len(run.rounds) == 5
    from al.report import main as report

    assert report([str(tmp_path), "-o", str(tmp_path / "report")]) == 0
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert len(summary["settings"]) == 1


def test_a_person_who_finds_no_label_in_the_first_texts_goes_on_labeling(pool, tmp_path):
    """Every text of the start answered with no label left class_embedding no centroid: the session stopped, and the
    same command stopped again for ever (an answer changed since counts from the next round). Its picks are drawn at
    random until a label has a labeled text, and the session goes on."""
    session, client = open_session(pool, tmp_path / "s", "--budget", "30")
    try:
        person = Person(client, pool)
        person.gold = lambda text_id: [] if len(person.answered) < 15 else Person.gold(person, text_id)
        state = person.answer()
    finally:
        session.close()
    assert state["phase"] == "done" and state["n_labeled"] == 30, state
    rounds = read_rounds(tmp_path / "s")
    assert rounds[0]["strategy_info"]["fallback"].startswith("random: no labeled text carries any label yet")
    assert not rounds[0]["strategy_info"]["targets"] and len(rounds[0]["picked"]) == 5
    assert "fallback" not in rounds[-2]["strategy_info"] and rounds[-2]["strategy_info"]["targets"]  # by centroids


def test_quiet_prints_the_address_alone_and_silences_progress_while_it_serves(pool, tmp_path, capsys, monkeypatch,
                                                                              serve_nothing):
    """--quiet ("print the address only") left the process's progress on: a query's "so far" lines came through."""
    import uvicorn

    import al.progress
    from al.progress import is_quiet

    monkeypatch.setattr(al.progress, "_quiet", False)
    seen = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: seen.append(is_quiet()))
    assert main(flags(pool, tmp_path / "s", "--quiet")) == 0
    assert seen == [True] and not is_quiet()  # quiet while it served, as it was after
    out, err = capsys.readouterr()
    assert re.fullmatch(r"annotate at http://127\.0\.0\.1:\d+/\n", out) and err == ""
    assert main(flags(pool, tmp_path / "s")) == 0
    assert seen == [True, False] and "Ctrl-C stops" in capsys.readouterr().err


def test_the_loop_waiting_for_a_person_s_answers_is_a_person_s_time(pool, tmp_path):
    """The loop waiting in HumanAnnotator.labels is a person's time (al.progress.waiting_on_a_person), which a
    query's heartbeat leaves out: class_embedding asks there as it picks (here, the first batch's wait)."""
    import time

    import al.progress

    session = opened(pool, tmp_path / "s").start()
    client = TestClient(create_app(session), base_url="http://127.0.0.1")
    try:
        assert client.get("/api/state", params={"wait": 30}).json()["text"] is not None
        deadline = time.monotonic() + 30
        while not al.progress._waits and time.monotonic() < deadline:  # the loop asks for the first texts
            time.sleep(0.05)
        assert al.progress._waits == 1
    finally:
        session.close()
    assert al.progress._waits == 0


def test_each_answer_is_committed_before_the_response(pool, tmp_path):
    session, client = open_session(pool, tmp_path / "s")
    try:
        Person(client, pool).answer(3)
        # another connection, as a restarted process would open it, sees all three
        db = sqlite3.connect(tmp_path / "s" / DB_FILE)
        assert db.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == 3
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        db.close()
        assert session.store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: fsync at every commit
    finally:
        session.close()


def test_an_unknown_label_is_refused_and_nothing_is_stored(pool, tmp_path):
    session, client = open_session(pool, tmp_path / "s")
    try:
        _, text = Person(client, pool).next_text()
        response = client.post("/api/answer", json={"id": text["id"], "labels": ["label0", "labl1"]})
        assert response.status_code == 422
        detail = response.json()["detail"]
        assert "unknown label(s) 'labl1'" in detail and "label0, label1, label2, label3" in detail
        assert "\n" not in detail
        assert session.store.all() == []
        assert client.get("/api/state").json()["text"]["id"] == text["id"]  # still waiting for it
    finally:
        session.close()


def test_an_answer_without_labels_is_refused_unless_it_skips(pool, tmp_path):
    """A body that forgot "labels" was stored as none of the labels: negatives for every label, trained on."""
    session, client = open_session(pool, tmp_path / "s")
    try:
        _, text = Person(client, pool).next_text()
        for body in ({"id": text["id"]}, {"id": text["id"], "skipped": False}, {"id": text["id"], "skipped": "no"}):
            response = client.post("/api/answer", json=body)
            assert response.status_code == 422, (body, response.text)
            assert session.store.all() == []
        for body in ({"id": text["id"]}, {"id": text["id"], "labels": None}):
            assert "labels is missing or null: send [] for none of the labels" in client.post(
                "/api/answer", json=body).json()["detail"]
        assert "skipped: Input should be a valid boolean" in client.post(
            "/api/answer", json={"id": text["id"], "labels": [], "skipped": "no"}).json()["detail"]
        skipped = client.post("/api/answer", json={"id": text["id"], "skipped": True})  # a skip needs no labels
        assert skipped.status_code == 200 and skipped.json()["answer"]["skipped"] is True
        edit = client.put("/api/answers", json={"id": text["id"]})
        assert edit.status_code == 422 and "labels is missing" in edit.json()["detail"]
        edit = client.put("/api/answers", json={"id": text["id"], "labels": [], "expected": {"skipped": False}})
        assert edit.status_code == 422 and "expected: labels is missing or null: the labels of the answer as you " \
                                           "last saw it, [] for none" in edit.json()["detail"]
    finally:
        session.close()


@pytest.mark.parametrize("body, status, words", [
    ({"labels": ["label0"]}, 422, "id: Field required"),
    ({"id": "t1", "labels": "label0"}, 422, "labels"),
    ({"id": "t1", "labels": [], "colour": "red"}, 422, "colour"),
    ({"id": "nope", "labels": []}, 404, "no text with id 'nope'"),
    ({"id": "x" * 60_000, "labels": []}, 404, f"no text with id '{'x' * 100}'... (60,000 characters) in this session"),
])
def test_malformed_answers_get_a_one_line_reason(pool, tmp_path, body, status, words):
    session, client = open_session(pool, tmp_path / "s")
    try:
        Person(client, pool).next_text()
        response = client.post("/api/answer", json=body)
        assert response.status_code == status
        assert words in response.json()["detail"] and "\n" not in response.json()["detail"]
        assert session.store.all() == []
    finally:
        session.close()


def test_a_text_that_is_not_pending_is_refused(pool, tmp_path):
    session, client = open_session(pool, tmp_path / "s")
    person = Person(client, pool)
    try:
        person.answer(2)
        again = client.post("/api/answer", json={"id": person.answered[0], "labels": []})
        assert again.status_code == 409 and again.json()["detail"] == (
            f"text {person.answered[0]!r} is not waiting for an answer (answered already, perhaps in another tab); "
            f"the next text is at /api/state")
        state = client.get("/api/state").json()
        current = state["text"]["id"]
        not_asked = next(f"t{i}" for i in range(200)
                         if f"t{i}" not in person.answered and f"t{i}" != current and i not in session.start_indices())
        response = client.post("/api/answer", json={"id": not_asked, "labels": []})
        # not "answered already": the page keeps the ticks of an answer refused so, by its reason
        assert response.status_code == 409 and response.json() == {
            "detail": f"text {not_asked!r} is not waiting for an answer yet (not in the batch this round asks); send "
                      f"it once /api/state shows it", "reason": "not_asked"}
        assert "reason" not in again.json()  # answered already: nothing to keep
        assert len(session.store.all()) == 2
        assert session.store.get(int(person.answered[0][1:])).labels == tuple(person.gold(person.answered[0]))
    finally:
        session.close()


def test_an_answer_sent_while_nothing_is_asked_says_the_session_computes(pool, tmp_path):
    """A restarted server computes its round before it asks: an answer sent meanwhile (a page that kept the text)
    is 'not asked yet', with the reason the page keeps its ticks by."""
    session, client = open_session(pool, tmp_path / "s", start=False)  # nothing asked yet
    try:
        response = client.post("/api/answer", json={"id": "t3", "labels": []})
        assert response.status_code == 409 and response.json() == {
            "detail": "text 't3' is not waiting for an answer yet (not asked yet: the session is computing, as a "
                      "restarted server does before it asks again); send it once /api/state shows it",
            "reason": "not_asked"}
    finally:
        session.close()


def test_the_same_answer_sent_again_is_taken_once(pool, tmp_path):
    """A server killed after saving an answer and before replying: the page sends it again to the restarted one,
    which took it as "not waiting for an answer", and the page said the answer was not saved."""
    session, client = open_session(pool, tmp_path / "s")
    try:
        text = client.get("/api/state", params={"wait": 30}).json()["text"]
        body = {"id": text["id"], "labels": ["label2", "label1"], "seconds": 2.0}
        assert client.post("/api/answer", json=body).status_code == 200
        again = client.post("/api/answer", json={**body, "labels": ["label1", "label2"]})  # another order: the same
        assert again.status_code == 200, again.text
        assert [(a.labels, a.skipped) for a in session.store.all()] == [(("label1", "label2"), False)]
        other = client.post("/api/answer", json={**body, "labels": ["label1"]})
        assert other.status_code == 409 and "not waiting for an answer" in other.json()["detail"]
        skipped = client.post("/api/answer", json={**body, "skipped": True})
        assert skipped.status_code == 409
    finally:
        session.close()


def test_a_second_tab_answering_the_same_text_is_refused_and_the_first_answer_kept(pool, tmp_path):
    session, first = open_session(pool, tmp_path / "s")
    second = TestClient(first.app, base_url="http://127.0.0.1")
    try:
        text = first.get("/api/state", params={"wait": 30}).json()["text"]
        assert second.get("/api/state").json()["text"]["id"] == text["id"]  # both tabs show it
        assert first.post("/api/answer", json={"id": text["id"], "labels": ["label1"]}).status_code == 200
        late = second.post("/api/answer", json={"id": text["id"], "labels": ["label2"]})
        assert late.status_code == 409 and "perhaps in another tab" in late.json()["detail"]
        assert session.store.get(int(text["id"][1:])).labels == ("label1",)
        assert second.get("/api/state").json()["text"]["id"] != text["id"]  # the second tab moves on
    finally:
        session.close()


def test_a_skipped_text_is_not_labeled_and_never_comes_back(pool, tmp_path):
    session, client = open_session(pool, tmp_path / "s")
    try:
        state = client.get("/api/state", params={"wait": 30}).json()
        skipped = state["text"]["id"]
        state = Person(client, pool, skip={skipped}).answer()
    finally:
        session.close()
    assert state["phase"] == "done" and state["n_skipped"] == 1 and state["n_labeled"] == 19
    rounds = read_rounds(tmp_path / "s")
    assert rounds[0]["skipped"] == [int(skipped[1:])]
    assert rounds[0]["n_labeled"] == 9  # the start had ten texts, one skipped
    shown = rounds[0]["initial"] + [i for r in rounds for i in r["picked"]]
    assert shown.count(int(skipped[1:])) == 1


def test_an_edited_answer_is_what_the_loop_reads_from_then_on(pool, tmp_path):
    session, client = open_session(pool, tmp_path / "s")
    person = Person(client, pool)
    try:
        person.answer(10)  # the start, all answered: round 0 trains on them
        first = person.answered[0]
        response = client.put("/api/answers", json={"id": first, "labels": ["label3", "label0"]})
        assert response.status_code == 200
        assert response.json()["answer"]["labels"] == ["label0", "label3"]  # the session's order
        missing = client.put("/api/answers", json={"id": "t199999", "labels": []})  # no such text
        assert missing.status_code == 404 and missing.json()["detail"] == (
            "no text with id 't199999' in this session; ask /api/answers for the answers to change")
        assert client.put("/api/answers", json={"id": first, "labels": ["nope"]}).status_code == 422
        person.answer()
    finally:
        session.close()
    Y, names = pool[1].copy(), pool[2]
    Y[int(first[1:])] = [1, 0, 0, 1]
    rounds = read_rounds(tmp_path / "s")
    labeled = rounds[0]["initial"] + rounds[0]["picked"]
    assert list(rounds[1]["labeled_counts"].values()) == Y[labeled].sum(axis=0).tolist()
    listed = client.get("/api/answers").json()
    assert listed["labels"] == list(names)
    edited = next(a for a in listed["answers"] if a["id"] == first)
    assert edited["labels"] == ["label0", "label3"] and edited["edited_at"] is not None and edited["text"]


def test_the_loop_can_read_the_labels_an_earlier_round_read(pool, tmp_path):
    """``at_round(r)``: labels and skips as round r read them (a resumed run refitting a warm-started classifier
    on its finished rounds); the current round is left as it is for answers and edits."""
    session, client = open_session(pool, tmp_path / "s")
    person = Person(client, pool)
    try:
        person.answer(10)  # round 0's texts
        first = person.answered[0]
        assert client.put("/api/answers", json={"id": first, "labels": [], "skipped": True}).status_code == 200
        person.answer()  # the edit counts from round 1 on
    finally:
        session.close()
    annotator, index = session.annotator, np.array([int(first[1:])])
    now = annotator.round
    assert now >= 1 and annotator.skipped(index).tolist() == [True]
    assert annotator.labels(index).toarray().tolist() == [[0, 0, 0, 0]]
    with annotator.at_round(0):
        assert annotator.skipped(index).tolist() == [False] and annotator.round == now
        assert annotator.labels(index).toarray().tolist() == [pool[1][index[0]].tolist()]
    with annotator.at_round(1):
        assert annotator.skipped(index).tolist() == [True]
    assert annotator.skipped(index).tolist() == [True]


def test_the_last_answer_is_offered_back_for_undo(pool, tmp_path):
    session, client = open_session(pool, tmp_path / "s")
    person = Person(client, pool)
    try:
        state = person.answer(2)
        assert state["last_answer"]["id"] == person.answered[-1]
        assert state["last_answer"]["text"] == session.texts.texts[int(person.answered[-1][1:])]
    finally:
        session.close()


def test_a_session_stopped_mid_batch_resumes_where_it_was_with_every_answer(pool, tmp_path):
    whole, client = open_session(pool, tmp_path / "whole")
    try:
        Person(client, pool).answer()
    finally:
        whole.close()

    first, client = open_session(pool, tmp_path / "s")
    person = Person(client, pool)
    try:
        person.answer(13)  # the start (10) and 3 of round 0's batch
        waiting = client.get("/api/state").json()["text"]["id"]
    finally:
        first.close()
    assert read_rounds(tmp_path / "s") == []  # round 0 is not finished

    again, client = open_session(pool, tmp_path / "s")
    try:
        state = client.get("/api/state", params={"wait": 30}).json()
        assert state["text"]["id"] == waiting  # the first text without an answer
        assert state["n_labeled"] == 13 and len(again.store.all()) == 13
        Person(client, pool).answer()
    finally:
        again.close()
    resumed = read_rounds(tmp_path / "s")
    assert stripped(resumed) == stripped(read_rounds(tmp_path / "whole"))
    assert len(resumed[0]["answers"]) == 15  # answers given before the stop are in the round's record


def test_a_change_made_mid_round_counts_from_the_next_round_so_a_restart_replays_the_round(pool, tmp_path):
    first, client = open_session(pool, tmp_path / "s")
    person = Person(client, pool)
    try:
        person.answer(12)  # the start (10) and 2 of round 0's batch
        for text_id in person.answered[:6]:  # the start's labels, turned upside down while round 0 runs
            assert client.put("/api/answers", json={"id": text_id, "labels": ["label3"]}).status_code == 200
        person.answer(1)
    finally:
        first.close()
    again, client = open_session(pool, tmp_path / "s")
    try:
        resumed = Person(client, pool)
        resumed.answer()
    finally:
        again.close()
    rounds = read_rounds(tmp_path / "s")
    shown = set(rounds[0]["initial"]) | {i for r in rounds for i in r["picked"]}
    answered = {a.pool_index for a in again.store.all()}
    assert answered <= shown  # no answer was stranded by a replay that picked other texts
    Y = pool[1].copy()
    for text_id in person.answered[:6]:
        Y[int(text_id[1:])] = [0, 0, 0, 1]
    labeled = rounds[0]["initial"] + rounds[0]["picked"]
    assert list(rounds[0]["labeled_counts"].values()) == pool[1][rounds[0]["initial"]].sum(axis=0).tolist()
    assert list(rounds[1]["labeled_counts"].values()) == Y[labeled].sum(axis=0).tolist()


def test_two_servers_never_serve_one_session(pool, tmp_path):
    first, _ = open_session(pool, tmp_path / "s", start=False)
    try:
        with pytest.raises(ConfigError, match=rf"is being served already \(by process {os.getpid()} on "
                                              rf"{re.escape(os.uname().nodename)}\); use that page"):
            open_session(pool, tmp_path / "s", start=False)
        first.note_address("http://127.0.0.1:8765/")  # once serving: the page to use is named (never a token)
        with pytest.raises(ConfigError) as caught:
            open_session(pool, tmp_path / "s", start=False)
        assert str(caught.value) == (f"{tmp_path / 's'} is being served already at http://127.0.0.1:8765/ (by process "
                                     f"{os.getpid()} on {os.uname().nodename}); use that page, or stop that server "
                                     f"first")
        from al.annotate.session import _served

        assert _served(tmp_path / "s")  # the address line leaves the holder's line as it was read
    finally:
        first.close()
    again, _ = open_session(pool, tmp_path / "s", start=False)  # free once the first has closed
    again.close()


def test_a_database_of_another_session_is_refused(pool, tmp_path, capsys):
    session, client = open_session(pool, tmp_path / "s")
    try:
        Person(client, pool).answer(2)
    finally:
        session.close()
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(tmp_path / "s" / DB_FILE, other / DB_FILE)
    path, Y, labels = pool
    args = build_parser().parse_args(["--data", str(path), "--labels", *labels[:3], "--out", str(other), *LOOP])
    with pytest.raises(ConfigError, match="holds the answers of a session with other settings") as caught:
        build_session(args, embed=hash_embed)
    assert "\n" not in str(caught.value)
    # the command line says so in one line and exits 2 (it fails before it serves)
    assert main(["--data", str(path), "--labels", *labels[:3], "--out", str(other), *LOOP, "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "other settings" in err and len(err.strip().splitlines()) == 1
    args = build_parser().parse_args(["--data", str(path), "--labels", *labels, "--out", str(tmp_path / "s"),
                                      *LOOP, "--seed", "3"])
    with pytest.raises(ConfigError, match="holds a session with other settings"):
        build_session(args, embed=hash_embed)
    assert len(sqlite3.connect(tmp_path / "s" / DB_FILE).execute("SELECT * FROM answers").fetchall()) == 2


@pytest.mark.parametrize("content, message", [
    ("", "is empty"),
    ("\n\n", "is empty"),
    ('{"id": 1, "text": "a"}\n{"id": 1, "text": "b"}\n', "texts.jsonl line 2: id '1' is on line 1 already"),
    ('{"id": "a", "text": "a"}\n{"id": " a", "text": "b"}\n',
     "texts.jsonl line 2: id 'a' (written ' a'; ids are read stripped of surrounding spaces) is on line 1 already"),
    ('{"text": "a", "labels": ["nope"]}\n', "'nope' are not among the session's labels"),
    ('{"body": "a"}\n', "no text column 'text'"),
])
def test_bad_data_files_fail_on_the_command_line_with_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "texts.jsonl"
    path.write_text(content)
    code = main(["--data", str(path), "--labels", "a", "b", "--out", str(tmp_path / "s"), "--port", "0"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1


def test_command_line_mistakes_name_the_flag_and_the_command(tmp_path, capsys, pool):
    start = ["--data", str(pool[0]), "--labels", "a", "b"]
    for argv, said in (
            ([*start, "--out", str(tmp_path / "s"), "--initial", "0"],
             "error: initial (--initial) must be a positive integer (a number of texts), got 0; give --initial 100, "
             "say, its default\n"),
            ([*start, "--out", " "], "error: --out must name the session's folder, got ' '; e.g. --out sessions/mine\n"),
            (["exprot", str(tmp_path / "s"), "-o", "x.jsonl"],
             "error: unknown command 'exprot' (did you mean export?); python -m al.annotate --data FILE --labels A B "
             "--out DIR starts or resumes a session, python -m al.annotate export DIR -o FILE exports one\n")):
        assert main(argv) == 2
        assert capsys.readouterr().err == said
    assert not (tmp_path / "s").exists()


def test_bad_labels_fail_on_the_command_line(tmp_path, capsys, pool):
    code = main(["--data", str(pool[0]), "--labels", "a", "a", "--out", str(tmp_path / "s")])
    assert code == 2 and "more than once" in capsys.readouterr().err
    code = main(["--data", str(pool[0]), "--out", str(tmp_path / "s")])
    assert code == 2 and "--labels A B C or with --label-file" in capsys.readouterr().err
    (tmp_path / "labels.txt").write_text("# the labels\nlabel0\n\nlabel1\n")
    from al.annotate.data import check_label_names, read_label_file

    assert read_label_file(tmp_path / "labels.txt") == ("label0", "label1")
    code = main(["--data", str(pool[0]), "--labels", "a", "--label-file", str(tmp_path / "labels.txt"), "--out",
                 str(tmp_path / "s")])  # both: it said "give the labels ...", as if none were given
    assert code == 2 and capsys.readouterr().err == (f"error: --labels and --label-file were both given (--labels a, "
                                                     f"--label-file {tmp_path / 'labels.txt'}); keep one of them\n")
    assert not (tmp_path / "s").exists()
    # taken as given (a label may hold a comma or differ in case), and said
    with pytest.warns(UserWarning, match=r"^--labels names one label, 'food,water, shelter'; for 3 labels give them "
                                         r"apart, e.g. --labels food water shelter$"):
        assert check_label_names(["food,water, shelter"]) == ("food,water, shelter",)
    (tmp_path / "one.txt").write_text("food;water\n")
    with pytest.warns(UserWarning, match="for 2 labels give them apart, e.g. one per line$"):
        read_label_file(tmp_path / "one.txt")
    with pytest.warns(UserWarning, match=r"^--labels: 'Food' and 'food' differ in case alone, so they are 2 labels"):
        assert check_label_names(["Food", "water", "food"]) == ("Food", "water", "food")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_label_names(["Arts, Culture", "Sports"]) == ("Arts, Culture", "Sports")  # one of several


def test_labels_given_in_the_file_start_the_session_and_are_never_asked(tmp_path):
    corpus = synthetic_corpus(200)
    Y = corpus.Y.toarray()
    path = tmp_path / "texts.jsonl"
    with open(path, "w") as f:
        for i, text in enumerate(corpus.texts):
            row = {"id": f"t{i}", "text": text}
            if i < 6:
                row["labels"] = [corpus.label_names[j] for j in np.flatnonzero(Y[i])]
            f.write(json.dumps(row) + "\n")
    session, client = open_session((path, Y, corpus.label_names), tmp_path / "s")
    try:
        assert set(range(6)) <= set(session.start_indices().tolist())
        person = Person(client, (path, Y, corpus.label_names))
        state, _ = person.next_text()  # --initial 10: 4 left to ask after the 6 given ("the 10 initial" misread)
        assert state["message"] == ("text 1 of 9 in this round's batch (the 4 of the 10 initial texts not labeled "
                                    "in the file, then the first 5 picked)"), state["message"]
        person.answer()
    finally:
        session.close()
    assert not {f"t{i}" for i in range(6)} & set(person.answered)
    assert len(person.answered) == 14  # 20 shown, 6 given
    rows, counts = export_and_read(tmp_path / "s", tmp_path / "out.jsonl")
    assert counts == {"given": 6, "person": 14, "skipped": 0}
    assert [r["source"] for r in rows[:6]] == ["given"] * 6


def export_and_read(session_dir, output):
    counts = export_session(session_dir, output).counts
    return [json.loads(line) for line in output.read_text().splitlines()], counts


def test_export_of_a_session_with_no_labeled_text_warns_that_its_file_is_empty(pool, tmp_path, capsys):
    """An export with nothing in it wrote an empty file, exit 0, and 'wrote 0 labeled texts' alone."""
    session, _ = open_session(pool, tmp_path / "s")
    session.close()
    out = tmp_path / "labeled.jsonl"
    assert main(["export", str(tmp_path / "s"), "-o", str(out)]) == 0
    assert capsys.readouterr().err.startswith(f"warning: the session {tmp_path / 's'} holds no labeled text yet (no "
                                              f"labeled answer, none labeled in the data file): {out} is empty\n"
                                              f"wrote 0 labeled texts to ")
    assert out.read_text() == ""


def test_export_writes_what_dataset_jsonl_loads(pool, tmp_path, capsys):
    session, client = open_session(pool, tmp_path / "s")
    try:
        Person(client, pool, skip={"t0"}).answer()
    finally:
        session.close()
    out = tmp_path / "labeled.jsonl"
    before = sorted(p.name for p in (tmp_path / "s").iterdir())
    assert main(["export", str(tmp_path / "s"), "-o", str(out)]) == 0
    assert "labeled texts" in capsys.readouterr().err
    # the session folder as it was: no empty answers.sqlite-wal / -shm left by the export's read-only connection
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == before and f"{DB_FILE}-wal" not in before
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    Y, names = pool[1], pool[2]
    answered = {a.text_id for a in session.store.all() if not a.skipped}
    assert {r["id"] for r in rows} == answered
    for r in rows:
        assert [r[name] for name in names] == Y[int(r["id"][1:])].tolist()

    from al.datasets import load_dataset

    corpus = load_dataset("jsonl", out)
    assert corpus.label_names == tuple(names) and len(corpus.texts) == len(rows)
    by_text = {r["text"]: [r[n] for n in names] for r in rows}
    assert all(by_text[t] == y for t, y in zip(corpus.texts, corpus.Y.toarray().tolist()))

    # replayed as a simulation: the human labels are now the gold labels
    from al.classifiers.linear import LogisticRegressionClassifier
    from al.engine import Simulation
    from strategies.random_sampling import RandomSampling

    replay = Simulation(corpus, RandomSampling(), lambda s: LogisticRegressionClassifier(seed=s), hash_embed,
                        initial=4, step=4, budget=12).run()
    assert [r["n_labeled"] for r in replay] == [4, 8, 12]
    assert main(["export", str(tmp_path / "nothing"), "-o", str(out)]) == 2
    assert f"{tmp_path / 'nothing'} does not exist; " in capsys.readouterr().err


def test_a_dev_file_measures_every_round(pool, tmp_path):
    corpus = synthetic_corpus(120, seed=5)
    dev = tmp_path / "dev.jsonl"
    with open(dev, "w") as f:
        for text, y in zip(corpus.texts, corpus.Y.toarray()):
            f.write(json.dumps({"text": text, **dict(zip(corpus.label_names, y.tolist()))}) + "\n")
    session, client = open_session(pool, tmp_path / "s", "--dev", str(dev))
    try:
        Person(client, pool).answer()
    finally:
        session.close()
    rounds = read_rounds(tmp_path / "s")
    assert all(r["evaluation"] == "dev file dev.jsonl (120 texts)" for r in rounds)
    assert rounds[-1]["macro_f1"] > 0.5  # label words make the synthetic task easy


def test_a_dev_file_changed_since_the_session_began_is_said_so_not_other_settings(pool, tmp_path):
    """A dev file cut by a line was 'other settings (session.dev_sha256: ...); pass another --out': advice to leave
    the session's answers behind."""
    corpus = synthetic_corpus(120, seed=5)
    dev = tmp_path / "dev.jsonl"
    lines = [json.dumps({"text": text, **dict(zip(corpus.label_names, y.tolist()))}) + "\n"
             for text, y in zip(corpus.texts, corpus.Y.toarray())]
    dev.write_text("".join(lines))
    session, client = open_session(pool, tmp_path / "s", "--dev", str(dev))
    try:
        Person(client, pool).answer(12)
    finally:
        session.close()
    moved = tmp_path / "elsewhere.jsonl"
    shutil.copy(dev, moved)  # the same bytes at another path: the same session
    session, _ = open_session(pool, tmp_path / "s", "--dev", str(moved))
    session.close()
    moved.write_text("".join(lines[:-1]))
    with pytest.raises(ConfigError, match=rf"^dev file {re.escape(str(moved))} changed since the session began \(other "
                                          rf"bytes\), and its rounds were scored on it; restore it \(its bytes, at any "
                                          rf"path\) to resume, or export the answers so far with `python -m "
                                          rf"al\.annotate export .* -o FILE` for a new session$"):
        open_session(pool, tmp_path / "s", "--dev", str(moved))


def test_dev_texts_that_are_also_in_the_pool_are_warned_of(pool, tmp_path, capsys):
    """The session's own export given as --dev started without a word: its scores then read texts trained on."""
    path, Y, labels = pool
    pool_texts = [json.loads(line)["text"] for line in path.read_text().splitlines()]
    others = synthetic_corpus(120, seed=5).texts
    dev = tmp_path / "dev.jsonl"
    rows = [(f" {t.replace(' ', '  ', 1)} ", y) for t, y in zip(pool_texts[:30], Y[:30])]  # spaced otherwise
    rows += [(t, y) for t, y in zip([t for t in others if t not in set(pool_texts)][:10], Y[:10])]
    dev.write_text("".join(json.dumps({"text": t, **dict(zip(labels, y.tolist()))}) + "\n" for t, y in rows))
    open_session(pool, tmp_path / "s", "--dev", str(dev), start=False)[0].close()
    assert capsys.readouterr().err == (
        f"warning: 30 of the 40 texts of --dev {dev} are also in {path}: a text labeled in the session is then "
        f"scored on after it is trained on, so each round's dev scores read high; give dev texts the pool does not "
        f"hold\n")
    dev.write_text("".join(json.dumps({"text": t, **dict(zip(labels, y.tolist()))}) + "\n" for t, y in rows[30:]))
    open_session(pool, tmp_path / "t", "--dev", str(dev), start=False)[0].close()
    assert "warning" not in capsys.readouterr().err


def test_texts_that_repeat_an_earlier_one_are_warned_of(pool, tmp_path, capsys):
    """A file with a text twice started without a word: the text could be asked twice and labeled two ways."""
    path, _, _ = pool
    lines = path.read_text().splitlines()
    open_session(pool, tmp_path / "s", start=False)[0].close()
    assert "warning" not in capsys.readouterr().err
    rows = [json.loads(line) for line in lines]
    rows[7]["text"] = "  " + rows[6]["text"].replace(" ", "  ") + " "  # spaced otherwise: the same text
    rows[9]["text"], rows[12]["text"] = rows[3]["text"], rows[3]["text"]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    session, client = open_session(pool, tmp_path / "t")
    try:
        Person(client, pool).answer(3)
    finally:
        session.close()
    repeats = (f"warning: 3 texts of {path} repeat an earlier one (e.g. id 't7' repeats 't6'): each copy is a text of "
               f"its own; ")
    assert capsys.readouterr().err == f"{repeats}remove the repeats from the file to label each text once\n"
    open_session(pool, tmp_path / "t", start=False)[0].close()  # resumed with answers: the file cannot change
    assert capsys.readouterr().err == (f"{repeats}the session holds answers, so its file cannot change: a file without "
                                       f"the repeats needs another --out\n")


def test_a_token_guards_every_request_on_a_non_loopback_server(pool, tmp_path):
    session, _ = open_session(pool, tmp_path / "s", start=False)
    try:
        app = create_app(session, token="s3cret", loopback=False)
        client = TestClient(app, base_url="http://192.0.2.7:8765")
        for path in ("/", "/api/state", "/static/annotate.js", "/api/answers"):
            response = client.get(path)
            assert response.status_code == 401 and "wrong token" in response.json()["detail"]
        assert client.post("/api/answer", json={"id": "t0", "labels": []}).status_code == 401
        assert client.get("/api/state", headers={"X-Token": "s3cre"}).status_code == 401
        # a browser opening the page without the token reads the refusal as a page, not as a JSON object
        page = client.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert page.status_code == 401 and page.headers["content-type"].startswith("text/html")
        assert "<p>Missing or wrong token; open the address printed at start (it ends in ?token=...).</p>" in page.text
        api = client.get("/api/state", headers={"Accept": "text/html,*/*"})  # the page's own calls: JSON as before
        assert api.status_code == 401 and "wrong token" in api.json()["detail"]
        assert client.get("/api/state", headers={"X-Token": "s3cret"}).status_code == 200
        assert client.get("/api/state", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        redirect = client.get("/?token=s3cret", follow_redirects=False)
        assert redirect.status_code == 303 and redirect.headers["location"] == "/"
        assert "httponly" in redirect.headers["set-cookie"].lower()
        assert client.get("/api/state").status_code == 200  # the cookie now
    finally:
        session.close()


def test_without_the_token_nothing_is_said_of_routes_and_its_redirect_stays_on_the_server(pool, tmp_path):
    """A request without the token learnt what a route takes (415, 411, 403 for an Origin) before its 401; the
    token's redirect from //evil.example/?token=... sent the browser to //evil.example/, another site."""
    session, _ = open_session(pool, tmp_path / "s", start=False)
    try:
        client = TestClient(create_app(session, token="s3cret", loopback=False), base_url="http://192.0.2.7:8765")
        for headers in ({"Content-Type": "text/plain"}, {"Origin": "http://evil.example"}, {}):
            response = client.post("/api/answer", content=b"{}", headers=headers)
            assert response.status_code == 401 and "wrong token" in response.json()["detail"], headers
        response = client.post("/api/answer", content=b"x", headers={"Content-Type": "text/plain", "X-Token": "s3cret"})
        assert response.status_code == 415  # with the token: what a change must be
        for path in ("//evil.example/", "/%2f%2fevil.example/", "///evil.example/x"):
            redirect = client.get(f"http://192.0.2.7:8765{path}?token=s3cret&a=1", follow_redirects=False)
            location = redirect.headers["location"]
            assert redirect.status_code == 303 and location.startswith("/") and not location.startswith("//"), path
            assert location.endswith("?a=1")
        assert "default-src 'self'" in client.get("/", headers={"X-Token": "s3cret"}).headers["Content-Security-Policy"]
    finally:
        session.close()


def test_a_loopback_server_refuses_other_host_names(pool, tmp_path):
    """Only localhost and loopback IP addresses: a DNS name that merely starts like one may rebind to it."""
    session, client = open_session(pool, tmp_path / "s", start=False)
    try:
        for host in ("127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "[::1]"):
            assert TestClient(client.app, base_url=f"http://{host}:8765").get("/api/state").status_code == 200, host
        for host in ("evil.example", "127.attacker.example", "127.0.0.1.nip.io", "localhost.evil.example",
                     "10.0.0.1"):
            response = TestClient(client.app, base_url=f"http://{host}:8765").get("/api/state")
            assert response.status_code == 403 and "loopback" in response.json()["detail"], host
    finally:
        session.close()


def test_only_the_server_s_own_page_may_change_answers(pool, tmp_path):
    """Another site in the same browser can send simple cross-origin POSTs (no preflight): they are refused by
    their Origin, by a body that is not JSON, or by their size; and no page may frame this one."""
    session, client = open_session(pool, tmp_path / "s")
    try:
        text_id = client.get("/api/state", params={"wait": 30}).json()["text"]["id"]
        body = json.dumps({"id": text_id, "labels": []})
        json_type = {"Content-Type": "application/json"}
        cross = client.post("/api/answer", content=body, headers={**json_type, "Origin": "http://evil.example"})
        assert cross.status_code == 403 and "another page" in cross.json()["detail"]
        assert client.put("/api/answers", content=body,
                          headers={**json_type, "Origin": "null"}).status_code == 403
        plain = client.post("/api/answer", content=body, headers={"Content-Type": "text/plain"})
        assert plain.status_code == 415 and "application/json" in plain.json()["detail"]
        assert client.post("/api/answer", content=body).status_code == 415  # no type at all (a Blob's)
        flood = json.dumps({"id": text_id, "labels": ["x" * 70_000]})
        assert client.post("/api/answer", content=flood, headers=json_type).status_code == 413
        chunked = client.post("/api/answer", content=iter([body.encode()]), headers=json_type)
        assert chunked.status_code == 411 and "no length" in chunked.json()["detail"]
        assert text_id not in {a["id"] for a in client.get("/api/answers").json()["answers"]}
        own = client.post("/api/answer", content=body, headers={**json_type, "Origin": "http://127.0.0.1"})
        assert own.status_code == 200, own.text
        proxied = TestClient(create_app(session, origins=["https://Label.example.org:443/", "http://lab.example:8080"]),
                             base_url="http://127.0.0.1")

        def edit_from(origin):
            return proxied.put("/api/answers", content=json.dumps({"id": text_id, "labels": []}),
                               headers={**json_type, "Origin": origin})

        assert edit_from("https://label.example.org").status_code == 200  # a reverse proxy named with --origin
        assert edit_from("http://lab.example:8080").status_code == 200  # its port kept, the default one dropped
        assert edit_from("http://label.example.org").status_code == 403
        assert edit_from("http://lab.example").status_code == 403
        behind = TestClient(create_app(session, origins=["https://label.example.org"], port=8765),
                            base_url="https://label.example.org")  # a proxy that passes the public Host on (Caddy)
        assert behind.get("/api/state").status_code == 200
        rebound = TestClient(create_app(session, origins=["https://label.example.org"], port=8765),
                             base_url="http://attacker.example")  # a name rebound to this address: its own Host
        refused = rebound.get("/api/state")
        assert refused.status_code == 403 and refused.json()["detail"].endswith(
            "(behind a proxy for https://label.example.org: have it pass that public Host on, or the server's own, "
            "e.g. nginx's proxy_set_header Host 127.0.0.1:8765)")
        page = client.get("/")
        assert page.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    finally:
        session.close()


def test_a_short_token_or_a_port_out_of_range_is_refused_before_the_session_is_made(pool, tmp_path, capsys):
    path, _, labels = pool
    for flag, value, message in (("--token", "", "at least 16 characters, got 0"),
                                 ("--token", "short", "at least 16 characters, got 5"),
                                 ("--origin", "label.example.org", "--origin must be a page's address such as"),
                                 ("--origin", "https://x.org/?a=1", "--origin must be a page's address such as"),
                                 ("--origin", "https://u@x.org", "--origin must be a page's address such as"),
                                 ("--port", "99999", "--port must be 0 to 65535, got 99999")):
        out = tmp_path / f"s{flag}{value}"
        code = main(["--data", str(path), "--labels", *labels, "--out", str(out), "--host", "0.0.0.0",
                     flag, value, *LOOP])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and message in err, err
        assert not out.exists()
    session, _ = open_session(pool, tmp_path / "s", start=False)
    try:
        with pytest.raises(ValueError, match="empty token"):
            create_app(session, token="", loopback=False)
    finally:
        session.close()


def test_the_page_serves_its_own_assets_and_names_every_label(pool, tmp_path):
    from al.annotate.app import name_parts

    (tmp_path / "guide.txt").write_text("Label what the message asks for.")
    session, client = open_session(pool, tmp_path / "s", "--guidelines", str(tmp_path / "guide.txt"), start=False)
    try:
        page = client.get("/").text
        for j, name in enumerate(pool[2]):
            assert f'value="{name}"' in page and f'data-key="{j + 1}"' in page
            assert f'<span class="label-name">{"<wbr>".join(name_parts(name))}</span>' in page
        assert "Label what the message asks for." in page
        assert 'aria-live="polite"' in page
        for src in ("/static/annotate.js", "/static/annotate.css", "/static/answers.js"):
            assert src.rsplit("/", 1)[1] in page or src.endswith("answers.js")
            assert client.get(src).status_code == 200
        assert "http://" not in page.replace("http://127.0.0.1:PORT/", "")  # nothing from elsewhere
        assert client.get("/answers").status_code == 200
        missing = client.get("/nope")
        assert missing.status_code == 404 and missing.json() == {"detail": "Not Found"}
    finally:
        session.close()


def test_a_guidelines_file_of_megabytes_is_refused(pool, tmp_path, capsys):
    """A 2 MB guidelines file went into every page load."""
    path, _, labels = pool
    guide = tmp_path / "guide.txt"
    guide.write_text("Tick what the message asks for. " * 3000)
    assert main(["--data", str(path), "--labels", *labels, "--out", str(tmp_path / "s"), "--guidelines", str(guide),
                 *LOOP]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: guidelines file {guide} holds 95,999 bytes; expected a short text shown above each text "
                   f"(at most 64 KiB): give a summary, and a link to the full guide in it\n"), err
    assert not (tmp_path / "s").exists()


def test_a_long_label_name_wraps_at_its_underscores_not_mid_word():
    """'medical_help' broke as 'medical_he' / 'lp' in a narrow column."""
    from al.annotate.app import name_parts

    assert name_parts("medical_help") == ["medical_", "help"]
    assert name_parts("aid-related/other.x") == ["aid-", "related/", "other.", "x"]
    assert name_parts("food") == ["food"] and "".join(name_parts("_a__b_")) == "_a__b_"


def test_a_threshold_tuned_on_dev_is_refused(pool, tmp_path):
    path, _, labels = pool
    args = build_parser().parse_args(["--data", str(path), "--labels", *labels, "--out", str(tmp_path / "s"), *LOOP,
                                      "--classifier-param", "threshold=dev"])
    with pytest.raises(ConfigError, match="reads a dev split"):
        build_session(args, embed=hash_embed)


def test_a_budget_larger_than_the_pool_is_refused(pool, tmp_path):
    path, _, labels = pool
    args = build_parser().parse_args(["--data", str(path), "--labels", *labels, "--out", str(tmp_path / "s"),
                                      "--initial", "10", "--budget", "500"])
    with pytest.raises(DataError, match="larger than the pool \\(200 texts of .*texts.jsonl\\)"):
        build_session(args, embed=hash_embed)
    assert not (tmp_path / "s").exists()  # nothing written: the corrected command starts afresh
    args = build_parser().parse_args(["--data", str(path), "--labels", *labels, "--out", str(tmp_path / "s"),
                                      "--initial", "10", "--budget", "50"])
    build_session(args, embed=hash_embed).close()


@pytest.mark.parametrize("initial, budget, n_pool, n_given, error, message", [
    (100, 30, 1000, 0, ConfigError, "--budget (30) must be larger than --initial (100): a session's budget counts "
     "every text shown, the initial ones and skips included; lower --initial below 30 or raise --budget above 100 "
     "(at most 1000: the pool)"),
    (100, 600, 60, 0, DataError, "--budget (600) and --initial (100) are larger than the pool (60 texts of "
     "t.jsonl); lower --budget to 60 and --initial below 60"),
    (100, 30, 60, 0, ConfigError, "--budget (30) must be larger than --initial (100): a session's budget counts "
     "every text shown, the initial ones and skips included; --initial (100) is larger than the pool (60 texts of "
     "t.jsonl); lower --initial below 30"),
    (10, 500, 200, 0, DataError, "--budget (500) is larger than the pool (200 texts of t.jsonl); lower --budget to "
     "at most 200"),
    (4, 50, 200, 6, ConfigError, "6 texts of t.jsonl carry labels already, more than --initial (4); raise --initial "
     "to 6"),
    (4, 5, 200, 6, ConfigError, "6 texts of t.jsonl carry labels already, more than --initial (4); raise --initial "
     "to 6 and --budget above 6 (at most 200: the pool)"),
    (20, 10, 30, 8, ConfigError, "--budget (10) must be larger than --initial (20): a session's budget counts every "
     "text shown, the initial ones and skips included; lower --initial to 8-9 or raise --budget above 20 (at most "
     "30: the pool)"),
    (10, 30, 5, 5, DataError, "--budget (30) and --initial (10) are larger than the pool (5 texts of t.jsonl); add "
     "texts without labels to t.jsonl: a session needs one to ask about"),
    # every row labeled: 0/1 columns of 0s are answers (none of the labels); how to leave a text unlabeled is said
    (10, 50, 100, 100, ConfigError, "100 texts of t.jsonl carry labels already (every text: 0 in every label cell, "
     "or an empty labels list, is an answer, none of the labels; a text to ask about gives no labels: empty label "
     "cells in a CSV, null or no key in JSON lines), more than --initial (10); add texts without labels to t.jsonl: "
     "a session needs one to ask about"),
])
def test_initial_budget_and_pool_are_checked_together_and_every_conflict_named(initial, budget, n_pool, n_given,
                                                                               error, message):
    """A session's budget counts the texts shown; every conflict of --initial, --budget and the data file is in
    the one line, with changes that fix them all."""
    from al.annotate.session import check_sizes

    with pytest.raises(error) as caught:
        check_sizes(initial, budget, n_pool, n_given, "t.jsonl")
    assert str(caught.value) == message and type(caught.value) is error
    check_sizes(10, 30, 200, 0, "t.jsonl")  # fits: nothing raised
    check_sizes(6, 7, 7, 6, "t.jsonl")


def test_the_command_line_names_every_size_conflict_at_once_and_writes_nothing(tmp_path, capsys):
    corpus = synthetic_corpus(60)
    path = tmp_path / "texts.jsonl"
    path.write_text("".join(json.dumps({"id": f"t{i}", "text": t}) + "\n" for i, t in enumerate(corpus.texts)))
    start = ["--data", str(path), "--labels", *corpus.label_names, "--out", str(tmp_path / "s"), "--port", "0"]
    for sizes, words in ((["--budget", "30"], ["--budget (30) must be larger than --initial (100)",
                                               "counts every text shown", "lower --initial below 30"]),
                         (["--budget", "600"], ["--budget (600) and --initial (100) are larger than the pool (60 texts",
                                                "lower --budget to 60 and --initial below 60"])):
        assert main([*start, *sizes]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and all(w in err for w in words), err
        assert "labeled-set size at the end" not in err  # a simulation's budget, not a session's
        assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("initial, step, budget, plan", [
    (10, 50, 30, "1 batch of 20 (--step 50 capped by the budget, cut short: once any of it is answered, a larger "
                 "--budget cannot extend the session; --budget 60 ends on whole batches) after the 10 initial texts, 30 in all"),
    (100, 50, 600, "10 batches of 50 after the 100 initial texts, 600 in all"),
    (100, 50, 620, "10 batches of 50 and a last of 20 (cut short: once any of it is answered, a larger --budget "
                   "cannot extend the session; --budget 600 or 650 ends on whole batches) after the 100 initial texts, 620 "
                   "in all"),
    (10, 5, 15, "1 batch of 5 after the 10 initial texts, 15 in all"),
])
def test_the_start_says_the_batches_a_session_asks(initial, step, budget, plan):
    """As in al.simulate the last batch shrinks to fit the budget; a step beyond it is said to be capped."""
    from al.annotate.session import batch_plan
    from al.config import n_rounds

    assert batch_plan(initial, step, budget) == plan
    assert n_rounds(initial, step, budget) - 1 == int(plan.split()[0]) + ("a last" in plan)  # batches = rounds - 1


def test_a_complete_session_whose_last_batch_was_cut_short_is_not_said_to_take_a_larger_budget():
    """"complete: ... (a larger --budget asks more)", where every larger budget was then refused."""
    from al.annotate.session import more_budget

    assert more_budget(10, 5, 20) == "a larger --budget asks more"
    assert more_budget(6, 4, 20) == ("its last batch was cut short to fit --budget 20, so a larger --budget cannot "
                                     "extend it: start another session with --out")


def test_a_busy_port_leaves_no_session_so_the_corrected_command_starts(pool, tmp_path, monkeypatch, capsys):
    """The port is bound before the session directory is made: a start refused for its port writes nothing, and
    the corrected command, other settings and all, starts there; the address names the port the system chose."""
    import socket

    import uvicorn

    import al.annotate.__main__ as cli

    real_prepare = cli.prepare_session
    monkeypatch.setattr(cli, "prepare_session", lambda args: real_prepare(args, embed=hash_embed))
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)
    path, _, labels = pool
    out = tmp_path / "aid2"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        taken = busy.getsockname()[1]
        assert main(["--data", str(path), "--labels", *labels, "--out", str(out), "--port", str(taken), *LOOP]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: cannot listen on 127.0.0.1:{taken} (") and err.count("\n") == 1, err
        assert "pass another --port, or --port 0" in err
        assert not out.exists()
        assert main(["--data", str(path), "--labels", *labels[:2], "--out", str(out), "--port", "0", *LOOP]) == 0
    captured = capsys.readouterr()
    port = int(re.fullmatch(r"annotate at http://127\.0\.0\.1:(\d+)/\n", captured.out).group(1))
    assert port not in (0, taken) and "other settings" not in captured.err
    assert json.loads((out / "config.json").read_text())["config"]["labels"] == list(labels[:2])


def test_a_loopback_server_names_its_own_port_when_it_refuses_a_host(pool, tmp_path):
    session, _ = open_session(pool, tmp_path / "s", start=False)
    try:
        for app, base, address in ((create_app(session, port=54321), "http://evil.example:8765",
                                    "http://127.0.0.1:54321/"),
                                   (create_app(session), "http://evil.example:8123", "http://127.0.0.1:8123/")):
            detail = TestClient(app, base_url=base).get("/api/state").json()["detail"]
            assert detail.endswith(f"open {address}") and "PORT" not in detail and "'evil.example:" in detail, detail
    finally:
        session.close()


def test_the_session_modules_stay_light():
    import subprocess
    import sys

    from tests.conftest import REPO

    code = ("import sys, al, al.stopping, al.annotate.__main__, al.annotate.session, al.annotate.export\n"
            "print(sorted(m for m in ('torch', 'transformers', 'fastapi', 'uvicorn', 'jinja2') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_blank_label_list_is_warned_of_as_none_of_the_labels(tmp_path):
    """JSON's "" is not a CSV's empty cell (asked): read as [] as before (sessions resume the same), said aloud."""
    from al.annotate.data import read_session_texts

    path = tmp_path / "t.jsonl"
    rows = [{"id": "a", "text": "need rice", "labels": "food"}, {"id": "b", "text": "roads", "labels": ""},
            {"id": "c", "text": "calm"}, {"id": "d", "text": "dry", "labels": " "}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with pytest.warns(UserWarning, match=r"t.jsonl line 2 and 1 more row\(s\): the 'labels' cell is blank \(''\), "
                                         r"read as labeled with none of the labels \(as \[\] is\); write null or "
                                         r"leave the key out to have the text asked$"):
        texts = read_session_texts(path, ["food", "water"])
    assert {i: row.tolist() for i, row in texts.given.items()} == {0: [1, 0], 1: [0, 0], 3: [0, 0]}
    csv = tmp_path / "t.csv"  # a CSV cell of spaces alone is text too (an empty one is asked): its own advice
    csv.write_text("id,text,labels\na,need rice,food\nb,roads,  \nc,calm,\n")
    with pytest.warns(UserWarning, match=r"t.csv line 3: the 'labels' cell is blank \('  '\), read as labeled with "
                                         r"none of the labels \(as \[\] is\); leave the cell empty to have the text "
                                         r"asked$"):
        texts = read_session_texts(csv, ["food", "water"])
    assert {i: row.tolist() for i, row in texts.given.items()} == {0: [1, 0], 1: [0, 0]}


def test_a_csv_file_with_label_columns_filled_for_some_rows(tmp_path):
    from al.annotate.data import read_session_texts

    path = tmp_path / "texts.csv"
    path.write_text("id,text,food,water\n"
                    "a1,need rice,1,0\n"
                    "a2,\"no water, no food\",1,1\n"
                    "a3,roads closed,,\n"
                    "a4,a quiet day,0,0\n")
    texts = read_session_texts(path, ["food", "water"])
    assert texts.ids == ["a1", "a2", "a3", "a4"] and texts.texts[1] == "no water, no food"
    assert {i: row.tolist() for i, row in texts.given.items()} == {0: [1, 0], 1: [1, 1], 3: [0, 0]}

    listed = tmp_path / "listed.csv"
    listed.write_text("text,labels\nneed rice,food\nboth,food|water\nnothing yet,\n")
    texts = read_session_texts(listed, ["food", "water"])
    assert texts.ids == ["0", "1", "2"]
    assert {i: row.tolist() for i, row in texts.given.items()} == {0: [1, 0], 1: [1, 1]}

    partial = tmp_path / "partial.csv"
    partial.write_text("text,food,water\nneed rice,1,\n")
    with pytest.raises(DataError, match="partial.csv line 2: some label columns are filled and some empty"):
        read_session_texts(partial, ["food", "water"])
    bad = tmp_path / "bad.csv"
    bad.write_text("text,food,water\nneed rice,2,0\n")
    with pytest.raises(DataError, match="expected 0 or 1"):
        read_session_texts(bad, ["food", "water"])
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="is empty"):
        read_session_texts(empty, ["food"])


def test_cross_validation_predicts_every_labeled_text_out_of_fold():
    import scipy.sparse as sp

    from al.annotate.session import cross_validated_metrics
    from al.classifiers.linear import LogisticRegressionClassifier

    corpus = synthetic_corpus(120)
    X, Y = hash_embed(corpus.texts.tolist()), corpus.Y[:80]
    seen = []

    class Recording(LogisticRegressionClassifier):
        def fit(self, X_train, Y_train, *rest):
            seen.append(len(X_train))
            return super().fit(X_train, Y_train, *rest)

    metrics = cross_validated_metrics(lambda s: Recording(seed=s), X[:80], Y, corpus.label_names, 4, 0)
    assert seen == [60, 60, 60, 60]  # each fold held out once: 80 texts, 4 folds of 20
    assert metrics["evaluation"] == "cross-validation: 4 folds over the 80 labeled texts"
    assert metrics["macro_f1"] > 0.6  # label words make the synthetic task easy
    again = cross_validated_metrics(lambda s: Recording(seed=s), X[:80], Y, corpus.label_names, 4, 0)
    assert again == metrics  # seeded folds
    alone = cross_validated_metrics(lambda s: Recording(seed=s), X[:1], sp.csr_matrix(Y[:1]), corpus.label_names, 4, 0)
    assert alone["macro_f1"] is None and alone["evaluation"] == "none (only 1 labeled text)"
    # no label given to any text yet: every label's F1 is 0 whatever is predicted, so nothing is measured (it said
    # 0.000)
    seen.clear()
    unlabeled = cross_validated_metrics(lambda s: Recording(seed=s), X[:80], sp.csr_matrix(Y.shape, dtype=np.int8),
                                        corpus.label_names, 4, 0)
    assert unlabeled == {"macro_f1": None, "micro_f1": None, "evaluation": "none (no labeled text has a label yet)"}
    assert seen == []  # no classifier fitted


def test_a_session_from_before_embed_precision_keeps_its_digest_and_bf16_gets_another():
    import hashlib

    from al.annotate.session import settings_digest
    from al.config import SimulationConfig, result_settings

    resolved = SimulationConfig(strategy="random").resolved()
    before = result_settings({k: v for k, v in resolved.items() if k != "embed_precision"})
    text = json.dumps(before, sort_keys=True, separators=(",", ":"), default=str)
    assert settings_digest(resolved) == hashlib.sha256(text.encode()).hexdigest()[:16]  # the digest it stored
    assert settings_digest({**resolved, "embed_precision": "bf16"}) != settings_digest(resolved)


def test_a_session_from_before_embed_precision_resumes_in_fp32_and_names_the_change_to_bf16(pool, tmp_path):
    session, client = open_session(pool, tmp_path / "s")
    try:
        Person(client, pool).answer(2)
    finally:
        session.close()
    config_file = tmp_path / "s" / "config.json"
    stored = json.loads(config_file.read_text())
    del stored["config"]["embed_precision"]  # as a session from before the setting wrote it
    config_file.write_text(json.dumps(stored))
    path, _, labels = pool
    args = build_parser().parse_args(["--data", str(path), "--labels", *labels, "--out", str(tmp_path / "s"),
                                      *LOOP, "--embed-precision", "bf16"])
    with pytest.raises(ConfigError, match="embed_precision: 'fp32' -> 'bf16'"):
        build_session(args, embed=hash_embed)
    again, client = open_session(pool, tmp_path / "s")  # the same settings: it resumes with its answers
    try:
        assert len(again.store.all()) == 2
    finally:
        again.close()


def test_a_session_stored_before_a_classifier_param_existed_resumes_with_its_answers(pool, tmp_path):
    """As for runs: a param added since reads as its default, and the session keeps the digest it stored."""
    import sqlite3

    from al.annotate.session import settings_digest

    session, client = open_session(pool, tmp_path / "s")
    try:
        Person(client, pool).answer(2)
        database = session.store.path
    finally:
        session.close()
    config_file = tmp_path / "s" / "config.json"
    stored = json.loads(config_file.read_text())
    del stored["config"]["classifier"]["params"]["max_iter"]  # as a session from before logreg took max_iter
    old_digest = settings_digest(stored["config"])
    stored["session"]["settings_digest"] = old_digest
    config_file.write_text(json.dumps(stored))
    with sqlite3.connect(database) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'settings_digest'", (old_digest,))
    again, client = open_session(pool, tmp_path / "s")
    try:
        assert len(again.store.all()) == 2 and again.digest == old_digest
    finally:
        again.close()
    with pytest.raises(ConfigError, match="classifier.params.C: 1.0 -> 0.5"):
        open_session(pool, tmp_path / "s", "--classifier-param", "C=0.5")


@pytest.mark.parametrize("how", ["file", "flag"])
def test_threads_limit_the_session_s_process(pool, tmp_path, monkeypatch, how):
    """``--threads 1``, or ``threads: 1`` in --config, runs the session on one torch thread, as
    ``al.simulate --threads 1`` does; a bad count is refused before anything loads."""
    import os

    torch = pytest.importorskip("torch")

    from threadpoolctl import threadpool_limits

    from al.device import torch_threads

    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # restored after the test
        monkeypatch.setenv(variable, os.environ.get(variable, ""))
    settings = tmp_path / "loop.yaml"
    settings.write_text("threads: 1\n")
    argv = ("--config", str(settings)) if how == "file" else ("--threads", "1")
    with threadpool_limits(limits=None), torch_threads(2):
        session, _ = open_session(pool, tmp_path / "s", *argv, start=False)
        try:
            assert torch.get_num_threads() == 1 and os.environ["OMP_NUM_THREADS"] == "1"
        finally:
            session.close()
        with pytest.raises(ConfigError, match="threads must be a positive integer .*got 0"):  # with or without its hint
            open_session(pool, tmp_path / "t", "--threads", "0", start=False)
        assert torch.get_num_threads() == 1


def test_a_round_s_record_says_what_that_round_read_of_its_answers(tmp_path):
    """An answer edited into a skip while its round runs counts as a skip from the next round on: the round's
    record lists it as an answer (not a skip), as its labeled set does, and a replay of the round writes the same."""
    from al.annotate.session import SessionRecords
    from al.annotate.store import AnswerStore

    store = AnswerStore(tmp_path, "digest", ["a", "b"]).open()
    try:
        store.add(3, "t3", ["a"], False, 1.5, 0)
        store.edit(3, [], True, 1)  # made during round 0: read from round 1 on
        store.add(4, "t4", [], True, 2.0, 1)
        records = SessionRecords(tmp_path / "run", store)
        records.start({"seed": 0}, {})
        records.append({"round": 0})
        records.append({"round": 1})
        first, second = records.rounds
        assert first["answers"] == [{"id": "t3", "index": 3, "seconds": 1.5, "skipped": False}]
        assert second["answers"] == [{"id": "t4", "index": 4, "seconds": 2.0, "skipped": True}]
        assert first["seconds_person"] == 1.5
    finally:
        store.close()


def test_a_label_file_or_guidelines_that_cannot_be_read_get_one_line(pool, tmp_path):
    (tmp_path / "labels.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    path, _, labels = pool
    args = build_parser().parse_args(["--data", str(path), "--label-file", str(tmp_path / "labels.txt"),
                                      "--out", str(tmp_path / "s"), *LOOP])
    with pytest.raises(ConfigError, match=r"label file .*labels.txt is not UTF-8 text \(byte 0xe9 at offset 3\)"):
        build_session(args, embed=hash_embed)
    with pytest.raises(ConfigError, match="guidelines file .* is a directory; expected a short text"):
        open_session(pool, tmp_path / "t", "--guidelines", str(tmp_path), start=False)


def test_a_missing_dev_file_or_a_directory_as_data_is_named_as_such(pool, tmp_path):
    with pytest.raises(DataError, match="dev file .*nope.csv does not exist; expected a .csv, .tsv or .jsonl file"):
        open_session(pool, tmp_path / "s", "--dev", str(tmp_path / "nope.csv"), start=False)
    args = build_parser().parse_args(["--data", str(tmp_path), "--labels", "a", "--out", str(tmp_path / "t"), *LOOP])
    with pytest.raises(ConfigError, match="data file .* is a directory; expected a .csv, .tsv or .jsonl file of texts"):
        build_session(args, embed=hash_embed)


@pytest.mark.parametrize("extra, token", [((), False), (("--origin", "https://label.example.org"), True)])
def test_a_loopback_server_behind_a_named_proxy_needs_a_token(pool, tmp_path, monkeypatch, capsys, extra, token):
    """--origin opens the server to a proxy's public page, so it is no longer this machine alone: a token."""
    import uvicorn

    import al.annotate.__main__ as cli

    real_build = cli.prepare_session
    monkeypatch.setattr(cli, "prepare_session", lambda args: real_build(args, embed=hash_embed))
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)  # serve nothing, return at once
    path, _, labels = pool
    assert main(["--data", str(path), "--labels", *labels, "--out", str(tmp_path / "s"), "--port", "0",
                 *extra, *LOOP]) == 0
    address = capsys.readouterr().out
    assert address.startswith("annotate at http://127.0.0.1:") and ("?token=" in address) == token


def test_a_blank_id_is_refused_with_its_row_and_source_is_no_label_name(tmp_path):
    from al.annotate.data import RESERVED, read_session_texts

    path = tmp_path / "texts.csv"
    path.write_text("id,text\n,first text\nT2,second text\n")
    with pytest.raises(DataError, match=r"texts.csv line 2: blank id; give every text an id"):
        read_session_texts(path, ["food"])
    path.write_text("id,text\n001,first text\n002,second text\n")
    assert read_session_texts(path, ["food"]).ids == ["001", "002"]  # as written, zeros kept
    assert "source" in RESERVED  # the export writes it beside the labels


# ---------------------------------------------------------------- export writes nowhere it would destroy


def test_export_from_another_folder_finds_a_data_file_given_by_a_relative_path(pool, tmp_path, monkeypatch, capsys):
    """A session started with --data texts.jsonl in its folder could be exported from that folder only."""
    path = pool[0]
    monkeypatch.chdir(path.parent)
    session, client = open_session((path.relative_to(path.parent), *pool[1:]), tmp_path / "s")
    try:
        Person(client, pool).answer(15)
    finally:
        session.close()
    assert read_config(tmp_path / "s")["config"]["data_path"] == "texts.jsonl"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    (elsewhere / "texts.jsonl").write_text(path.read_text()[:-200])  # another file of that name here: not read
    assert main(["export", str(tmp_path / "s"), "-o", "labeled.jsonl"]) == 0
    assert len((elsewhere / "labeled.jsonl").read_text().splitlines()) == 15
    assert "warning" not in capsys.readouterr().err  # it said the session's file had changed
    (elsewhere / "texts.jsonl").unlink()
    path.rename(tmp_path / "moved.jsonl")  # moved: neither path holds it; --data says where it is now
    assert main(["export", str(tmp_path / "s"), "-o", "again.jsonl"]) == 2
    assert capsys.readouterr().err == (f"error: the session's data file {path} is not there (nor is texts.jsonl from "
                                       f"here); pass --data FILE where it is now\n")
    assert main(["export", str(tmp_path / "s"), "-o", "again.jsonl", "--data", str(tmp_path / "moved.jsonl")]) == 0


def test_export_never_writes_over_the_session_s_own_files_or_its_data_or_dev_file(pool, tmp_path, capsys, monkeypatch):
    dev = tmp_path / "dev.jsonl"
    corpus = synthetic_corpus(30, seed=5)
    with open(dev, "w") as f:
        for text, y in zip(corpus.texts, corpus.Y.toarray()):
            f.write(json.dumps({"text": text, **dict(zip(corpus.label_names, y.tolist()))}) + "\n")
    session, client = open_session(pool, tmp_path / "s", "--dev", str(dev))
    try:
        Person(client, pool).answer(2)
    finally:
        session.close()
    (tmp_path / "link.jsonl").symlink_to(pool[0])
    (tmp_path / "db-link").symlink_to(tmp_path / "s" / DB_FILE)
    before = {p: p.read_bytes() for p in (pool[0], dev, tmp_path / "s" / DB_FILE, tmp_path / "s" / "config.json")}
    for target, words in ((tmp_path / "s" / DB_FILE, "inside the session directory"),
                          (tmp_path / "s" / "config.json", "inside the session directory"),
                          (tmp_path / "s" / "labeled.jsonl", "inside the session directory"),
                          (tmp_path / "db-link", "inside the session directory"),
                          (pool[0], "the session's data file"),
                          (tmp_path / "link.jsonl", "the session's data file"),
                          (dev, "the session's dev file")):
        assert main(["export", str(tmp_path / "s"), "-o", str(target)]) == 2, target
        err = capsys.readouterr().err
        # an example beside the session's folder, never in it (that one from the folder itself had looped)
        example = f"-o {tmp_path / 'labeled.jsonl'}" if "inside" in words else "-o labeled.jsonl"
        assert err.count("\n") == 1 and words in err and example in err, err
    assert {p: p.read_bytes() for p in before} == before
    assert not (tmp_path / "s" / "labeled.jsonl").exists()
    monkeypatch.chdir(tmp_path / "s")  # from the session's own folder: the example is beside it
    assert main(["export", ".", "-o", "labeled.jsonl"]) == 2
    beside = os.path.join("..", "labeled.jsonl")
    assert capsys.readouterr().err.endswith(f"write the export elsewhere, e.g. -o {beside}\n")
    assert main(["export", str(tmp_path / "s"), "-o", str(tmp_path / "labeled.jsonl")]) == 0
    assert len((tmp_path / "labeled.jsonl").read_text().splitlines()) == 2


def test_export_reads_a_session_whose_path_holds_uri_characters(pool, tmp_path, monkeypatch, capsys):
    """'#', '?' and '%' in the path are the file's name, not a URI's fragment, query or escape."""
    monkeypatch.chdir(tmp_path)
    name = "s#1?mode=rwc%41"
    session, client = open_session(pool, name)
    try:
        Person(client, pool).answer(3)
    finally:
        session.close()
    before = sorted(p.name for p in tmp_path.iterdir())
    code, err = main(["export", name, "-o", "out.jsonl"]), capsys.readouterr().err
    assert code == 0 and err.startswith("wrote 3 labeled texts"), err
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*before, "out.jsonl"])  # no stray database made
    code, err = main(["export", name, "-o", "out.jsonl"]), capsys.readouterr().err  # again: the file is replaced
    assert code == 0 and err.startswith("wrote 3 labeled texts to out.jsonl, replacing the file there ("), err

    def refuse(*args, **kwargs):
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(sqlite3, "connect", refuse)
    assert main(["export", name, "-o", "out.jsonl"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot open" in err and "unable to open database file" in err


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc, where no file can be made")
def test_export_to_a_place_that_cannot_be_written_is_one_line(pool, tmp_path, capsys):
    session, client = open_session(pool, tmp_path / "s")
    try:
        Person(client, pool).answer(1)
    finally:
        session.close()
    assert main(["export", str(tmp_path / "s"), "-o", "/proc/labeled.jsonl"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: -o /proc/labeled.jsonl cannot be written: "), err


# ---------------------------------------------------------------- ids as the data file has them


def write_odd_ids(path, n=20):
    """``n`` synthetic texts whose ids a URL path cannot carry (``.``, ``..``, ``d/6``), URI characters, and
    ids longer than 512 characters; returns the ids and the gold labels."""
    corpus = synthetic_corpus(n)
    ids = [".", "..", "d/6", "a?b#c%41", "..%2F..", *(("x" * 600) + str(i) for i in range(5, n))]
    with open(path, "w") as f:
        for text_id, text in zip(ids, corpus.texts):
            f.write(json.dumps({"id": text_id, "text": text}) + "\n")
    return ids, corpus.Y.toarray(), corpus.label_names


def test_every_id_the_data_file_allows_can_be_answered_and_changed(tmp_path):
    path = tmp_path / "odd.jsonl"
    ids, Y, names = write_odd_ids(path)
    args = build_parser().parse_args(["--data", str(path), "--labels", *names, "--out", str(tmp_path / "s"), *LOOP])
    session = build_session(args, embed=hash_embed).start()
    client = TestClient(create_app(session), base_url="http://127.0.0.1")
    try:
        for _ in range(len(ids)):  # the budget is the pool: every text is asked
            state = client.get("/api/state", params={"wait": 30}).json()
            text_id = state["text"]["id"]
            skipped = text_id == ".."
            answer = client.post("/api/answer", json={"id": text_id, "skipped": skipped,
                                                      "labels": [n for j, n in enumerate(names)
                                                                 if Y[ids.index(text_id), j]]})
            assert answer.status_code == 200, (text_id[:20], answer.text)
        for text_id in ids[:6]:
            edit = client.put("/api/answers", json={"id": text_id, "labels": [names[0]]})
            assert edit.status_code == 200, (text_id[:20], edit.text)
            assert edit.json()["answer"]["id"] == text_id and edit.json()["answer"]["labels"] == [names[0]]
        assert client.put("/api/answers", json={"labels": []}).status_code == 422  # the id is the body's
    finally:
        session.close()
    rows = {r["id"]: r for r in export_and_read(tmp_path / "s", tmp_path / "out.jsonl")[0]}
    assert set(rows) == set(ids)  # ".." was skipped, then changed to a label: exported
    assert all(rows[text_id][names[0]] == 1 for text_id in ids[:6])


def test_an_id_too_long_to_answer_is_refused_at_start_with_its_line(tmp_path, capsys):
    from al.annotate.data import MAX_ID_LENGTH

    path = tmp_path / "texts.csv"
    path.write_text(f"id,text\nshort,first text\n{'y' * (MAX_ID_LENGTH + 1)},second text\n")
    code = main(["--data", str(path), "--labels", "a", "b", "--out", str(tmp_path / "s"), *LOOP])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert f"texts.csv line 3: id is {MAX_ID_LENGTH + 1} characters long; an id may have at most" in err
    assert not (tmp_path / "s").exists()


def test_the_pages_send_the_id_of_a_change_in_the_body():
    """A path cannot carry every id (``/`` is decoded before routing, ``.`` and ``..`` collapse)."""
    from al.annotate.app import HERE

    for name in ("annotate.js", "answers.js"):
        script = (HERE / "static" / name).read_text()
        assert '"/api/answers/"' not in script and re.search(r'call\("PUT", "/api/answers",\s*\{ id: ', script), name


# ---------------------------------------------------------------- stopping in order, resuming clean


def test_sigterm_stops_the_server_as_ctrl_c_does(pool, tmp_path):
    """A real server on a free loopback port: SIGTERM (what systemd and docker send) closes the database and
    says where the answers are."""
    import subprocess
    import sys

    import httpx

    from tests.conftest import REPO

    path, Y, labels = pool
    script = ("import sys; import al.annotate.__main__ as cli; from tests.conftest import hash_embed; "
              "build = cli.prepare_session; cli.prepare_session = lambda args: build(args, embed=hash_embed); "
              "sys.exit(cli.main(sys.argv[1:]))")
    out = tmp_path / "s"
    process = subprocess.Popen([sys.executable, "-c", script, "--data", str(path), "--labels", *labels,
                                "--out", str(out), "--host", "127.0.0.1", "--port", "0", *LOOP],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("annotate at http://127.0.0.1:"), (line, process.stderr.read())
        with httpx.Client(base_url=line.split()[-1], timeout=60) as client:
            refused = client.get("/api/state", headers={"Host": "evil.example"})  # it names its real port
            assert refused.status_code == 403 and refused.json()["detail"].endswith(f"open {line.split()[-1]}")
            for _ in range(2):
                text_id = client.get("/api/state", params={"wait": 30}).json()["text"]["id"]
                gold = [name for j, name in enumerate(labels) if Y[int(text_id[1:]), j]]
                assert client.post("/api/answer", json={"id": text_id, "labels": gold}).status_code == 200
            assert (out / f"{DB_FILE}-wal").exists()  # the answers are in the write-ahead log so far
            process.send_signal(signal.SIGTERM)  # the page's connection still open
            code = process.wait(30)
        err = process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
    assert code == 0, err
    assert f"stopped; every answer is in {out / DB_FILE}; the same command resumes" in err, err
    assert "Traceback" not in err
    assert not (out / f"{DB_FILE}-wal").exists() and not (out / f"{DB_FILE}-shm").exists()  # closed: checkpointed
    db = sqlite3.connect(out / DB_FILE)
    assert db.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == 2
    db.close()


def test_a_resumed_session_removes_what_a_killed_write_left_at_once(pool, tmp_path):
    session, client = open_session(pool, tmp_path / "s", start=False)
    session.close()
    leftovers = [tmp_path / "s" / ".rounds.jsonl.ab12.tmp", tmp_path / "s" / ".config.json.cd34.tmp"]
    others = [tmp_path / "s" / ".curve.png.ef56.tmp", tmp_path / "s" / "notes.tmp"]  # not the session's own files
    for path in leftovers + others:
        path.write_text("half")  # seconds old, not a day: the lock says no writer is alive
    again, _ = open_session(pool, tmp_path / "s", start=False)
    again.close()
    assert not any(p.exists() for p in leftovers) and all(p.exists() for p in others)


# ---------------------------------------------------------------- what the page advises


def test_the_budget_advice_counts_skipped_texts_as_shown(pool, tmp_path):
    session, client = open_session(pool, tmp_path / "s")
    try:
        first = client.get("/api/state", params={"wait": 30}).json()["text"]["id"]
        person = Person(client, pool, skip={first})
        person.answer(1)
        second = client.get("/api/state", params={"wait": 30}).json()["text"]["id"]
        person.skip.add(second)
        state = person.answer()
    finally:
        session.close()
    assert state["phase"] == "done" and state["n_skipped"] == 2 and state["shown"] == 20
    said = {a["criterion"]: a for a in state["advice"]}
    assert said["labeled_budget"] == {"criterion": "labeled_budget", "stop": True,
                                      "detail": "18 labeled and 2 skipped of 20 texts when round 3 ended"}
    assert state["advice_round"] == 3  # the page dates the advice by it


def test_the_budget_advice_reads_the_texts_each_round_was_shown():
    from al.annotate.session import session_advice

    rounds = [{"round": 0, "n_labeled": 9, "initial": list(range(10)), "picked": [10, 11, 12, 13, 14],
               "skipped": [3]},
              {"round": 1, "n_labeled": 13, "picked": [15, 16], "skipped": [12]},
              {"round": 2, "n_labeled": 15, "picked": []}]
    said = {a["criterion"]: a for a in session_advice(rounds[:2], budget=17)}
    assert said["labeled_budget"]["stop"] is False
    assert said["labeled_budget"]["detail"] == "13 labeled and 2 skipped of 17 texts when round 2 ended"
    said = {a["criterion"]: a for a in session_advice(rounds, budget=17)}
    assert said["labeled_budget"]["stop"] is True and set(said) == {"stabilizing_predictions", "max_uncertainty",
                                                                    "labeled_budget"}
    said = {a["criterion"]: a for a in session_advice([{"round": 0, "n_labeled": 10, "initial": list(range(10)),
                                                        "picked": []}], budget=10)}
    assert said["labeled_budget"] == {"criterion": "labeled_budget", "stop": True,
                                      "detail": "10 of 10 labeled when round 1 ended"}


def test_max_uncertainty_advises_no_stop_while_a_label_is_one_sided():
    from al.annotate.session import session_advice

    rounds = [{"round": 0, "n_labeled": 10, "initial": list(range(10)), "picked": [10],
               "stopping": {"kappa": None, "max_uncertainty": 0.0}, "labeled_counts": {"food": 3, "water": 4}}]
    said = {a["criterion"]: a for a in session_advice(rounds, budget=20)}
    assert said["max_uncertainty"]["stop"] is True  # 0.0 < 0.1: the criterion alone fires
    # as the last round trained: food on every labeled text, water on none (whatever was answered since)
    rounds[0]["labeled_counts"] = {"food": 10, "water": 0, "shelter": 4}
    said = {a["criterion"]: a for a in session_advice(rounds, budget=20)}
    assert said["max_uncertainty"] == {
        "criterion": "max_uncertainty", "stop": False,
        "detail": "not yet telling: food, water are on every labeled text or on none, and the classifier is sure "
                  "of such a label whatever the text"}
    rounds[0]["labeled_counts"] = dict.fromkeys("abcde", 0)
    said = {a["criterion"]: a for a in session_advice(rounds, budget=20)}
    assert said["max_uncertainty"]["detail"].startswith("not yet telling: a, b, c and 2 more are on every")


# ---------------------------------------------------------------- the token


def test_the_token_cookie_is_the_port_s_own(pool, tmp_path):
    """A cookie is the host's whatever the port: two servers on one host each read and set their own."""
    session, _ = open_session(pool, tmp_path / "s", start=False)
    try:
        token, other = "a" * 20, "b" * 20
        client = TestClient(create_app(session, token=token, loopback=False, port=8765),
                            base_url="http://192.0.2.7:8765")
        redirect = client.get(f"/?token={token}", follow_redirects=False)
        assert redirect.headers["set-cookie"].startswith(f"al_token_8765={token};")
        client.cookies.clear()
        client.cookies.set("al_token_8766", other)  # the other server's, sent along to this one
        assert client.get("/api/state").status_code == 401
        client.cookies.set("al_token_8765", token)
        assert client.get("/api/state").status_code == 200
    finally:
        session.close()


def test_the_token_may_come_from_the_environment(pool, tmp_path, monkeypatch, capsys):
    """AL_ANNOTATE_TOKEN keeps the token out of the process list; --token wins over it."""
    import uvicorn

    import al.annotate.__main__ as cli
    import al.annotate.app as app_module

    real_build, real_app, made = cli.prepare_session, app_module.create_app, []
    monkeypatch.setattr(cli, "prepare_session", lambda args: real_build(args, embed=hash_embed))
    monkeypatch.setattr(app_module, "create_app", lambda *a, **kw: made.append(kw) or real_app(*a, **kw))
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)
    path, _, labels = pool
    start = ["--data", str(path), "--labels", *labels, "--out", str(tmp_path / "s"), "--host", "0.0.0.0",
             "--port", "0", *LOOP]
    monkeypatch.setenv("AL_ANNOTATE_TOKEN", "from-the-environment")
    assert main(start) == 0
    address = capsys.readouterr().out
    assert address.endswith("?token=from-the-environment\n") and made[-1]["token"] == "from-the-environment"
    assert made[-1]["port"] == int(address.split(":")[2].split("/")[0])  # the cookie is named for it
    assert main([*start, "--token", "from-the-flag-1234"]) == 0
    assert capsys.readouterr().out.endswith("?token=from-the-flag-1234\n")
    monkeypatch.setenv("AL_ANNOTATE_TOKEN", "short")
    assert main(start) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "AL_ANNOTATE_TOKEN must be at least 16 characters, got 5" in err
    assert "AL_ANNOTATE_TOKEN" in build_parser().format_help()


@pytest.mark.parametrize("name, example", [("labeled.csv", "labeled.jsonl"), ("labeled", "labeled.jsonl"),
                                           ("labeled.txt", "labeled.jsonl"),
                                           ("s1-labeled.jsonl.", "s1-labeled.jsonl"),  # a full stop copied too
                                           ("s1.ndjson.", "s1.ndjson")])
def test_export_refuses_a_name_that_is_not_json_lines_before_reading_the_session(tmp_path, capsys, name, example):
    assert main(["export", str(tmp_path / "no-session"), "-o", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"expected one of .jsonl, .ndjson, .json (e.g. -o {tmp_path / example})" in err, err
    assert not (tmp_path / name).exists()
    assert main(["export", str(tmp_path / "no-session"), "-o", "/dev/stdout"]) == 2  # not /dev/stdout.jsonl
    assert capsys.readouterr().err.endswith("expected one of .jsonl, .ndjson, .json (e.g. -o out.jsonl)\n")


def test_export_to_standard_output_is_refused_as_such(tmp_path, capsys, monkeypatch):
    """-o - read as a file named '-' with no extension, and its advice was -o -.jsonl."""
    monkeypatch.chdir(tmp_path)
    assert main(["export", str(tmp_path / "no-session"), "-o", "-"]) == 2
    assert capsys.readouterr().err == ("error: -o - (standard output) is not written to: the output is a file; give "
                                       "its path, e.g. -o out.jsonl\n")
    assert main(["export", str(tmp_path / "no-session"), "-o", ""]) == 2  # it was '-o . is a directory'
    assert capsys.readouterr().err == "error: -o is empty; give a file path, e.g. -o out.jsonl\n"


def test_the_first_texts_are_on_the_page_while_the_pool_is_embedded(pool, tmp_path):
    """The start is a seeded draw that needs no embedding: the person answers it while the pool is embedded,
    and the session's records are those of one whose person waited for the embedding."""

    from al.classifiers.linear import LogisticRegressionClassifier

    path, _, labels = pool
    embedded, release = threading.Event(), threading.Event()

    def slow_embed(texts):
        assert release.wait(60), "the test never released the embedding"
        embedded.set()
        return hash_embed(texts)

    args = build_parser().parse_args(["--data", str(path), "--labels", *labels, "--out", str(tmp_path / "ahead"),
                                      *LOOP])
    session = build_session(args, embed=slow_embed).start()
    client = TestClient(create_app(session), base_url="http://127.0.0.1")
    try:
        person = Person(client, pool)
        first = client.get("/api/state", params={"wait": 10}).json()
        assert first["phase"] == "answering" and first["text"] is not None
        person.answer(10)  # the whole start, the embedding still held back
        assert not embedded.is_set()
        waiting = client.get("/api/state").json()
        assert waiting["phase"] == "starting" and "preparing: embedding 200 texts" in waiting["message"]
        fitting, fitted = threading.Event(), threading.Event()
        real_fit = LogisticRegressionClassifier.fit

        def held_fit(self, *args, **kwargs):  # the first classifier's fit, held until the page is read
            fitting.set()
            assert fitted.wait(60), "the test never released the fit"
            return real_fit(self, *args, **kwargs)

        LogisticRegressionClassifier.fit = held_fit
        try:
            release.set()
            assert fitting.wait(30)
            training = client.get("/api/state").json()  # embedded: the page says what the loop does now
        finally:
            fitted.set()
            LogisticRegressionClassifier.fit = real_fit
        assert training["phase"] == "computing", training
        assert "training the classifier on the 10 labeled texts and choosing the next ones" in training["message"]
        state, text = person.next_text()  # the first picks: the loop measured how long it computed them
        assert text is not None and session.annotator.last_compute_seconds is not None
        assert person.answer()["phase"] == "done"
    finally:
        release.set()
        session.close()

    waited, client = open_session(pool, tmp_path / "waited")
    try:
        assert Person(client, pool).answer()["phase"] == "done"
    finally:
        waited.close()
    ahead, waited_rounds = read_rounds(tmp_path / "ahead"), read_rounds(tmp_path / "waited")
    assert stripped(ahead) == stripped(waited_rounds)
    # every answer counted in the same round: the start's in round 0, as when the person waited
    assert [[a["id"] for a in r["answers"]] for r in ahead] == [[a["id"] for a in r["answers"]] for r in waited_rounds]
    assert person.answered[:10] == [f"t{i}" for i in read_rounds(tmp_path / "ahead")[0]["initial"]]


def test_a_correction_made_while_the_pool_is_embedded_counts_from_round_0(pool, tmp_path):
    """Nothing has read the first answers yet, so round 0 trains on the corrected one; after that, a correction
    counts from the next round (test_an_edited_answer_is_what_the_loop_reads_from_then_on)."""
    path, _, labels = pool
    release = threading.Event()

    def slow_embed(texts):
        assert release.wait(60), "the test never released the embedding"
        return hash_embed(texts)

    args = build_parser().parse_args(["--data", str(path), "--labels", *labels, "--out", str(tmp_path / "s"), *LOOP])
    session = build_session(args, embed=slow_embed).start()
    client = TestClient(create_app(session), base_url="http://127.0.0.1")
    try:
        person = Person(client, pool)
        person.answer(10)
        corrected = person.answered[0]
        assert client.put("/api/answers", json={"id": corrected, "labels": ["label0", "label3"]}).status_code == 200
        release.set()
        assert person.answer()["phase"] == "done"
    finally:
        release.set()
        session.close()
    Y = pool[1].copy()
    Y[int(corrected[1:])] = [1, 0, 0, 1]
    rounds = read_rounds(tmp_path / "s")
    assert list(rounds[0]["labeled_counts"].values()) == Y[rounds[0]["initial"]].sum(axis=0).tolist()
    assert pool[1][int(corrected[1:])].tolist() != [1, 0, 0, 1]  # the correction changed what round 0 read


def answered_session(pool, out, *extra, n=None):
    """Open a session in ``out`` (``extra`` flags), answer ``n`` texts (all, when None) with their gold labels,
    close it; the last state."""
    session, client = open_session(pool, out, *extra)
    try:
        return Person(client, pool).answer(n)
    finally:
        session.close()


def test_a_finished_session_given_a_larger_budget_goes_on_as_one_of_that_budget_would(pool, tmp_path):
    """A person who labeled 20 texts could not go on to 30 in the same session: another budget was refused."""
    answered_session(pool, tmp_path / "whole", "--budget", "30")
    assert answered_session(pool, tmp_path / "s")["phase"] == "done"  # --budget 20: 10, then batches of 5 and 5
    assert [len(r["picked"]) for r in read_rounds(tmp_path / "s")] == [5, 5, 0]
    state = answered_session(pool, tmp_path / "s", "--budget", "30")
    assert state["phase"] == "done" and state["n_labeled"] == 30
    assert stripped(read_rounds(tmp_path / "s")) == stripped(read_rounds(tmp_path / "whole"))
    assert read_config(tmp_path / "s")["resumes"][-1]["changed"] == {"budget": [20, 30]}


def test_an_extended_session_shows_its_stored_last_round_until_it_is_computed_again(pool, tmp_path):
    """--budget 20 done, then 30: the page showed round 1's macro-F1 and advice (15 labeled) where it had shown round
    2's (20 labeled), until the extension had computed round 2 again."""
    done = answered_session(pool, tmp_path / "s")
    assert done["metrics"]["n_labeled"] == 20
    release = threading.Event()

    def slow_embed(texts):
        assert release.wait(60), "the test never released the embedding"
        return hash_embed(texts)

    path, _, labels = pool
    args = build_parser().parse_args(["--data", str(path), "--labels", *labels, "--out", str(tmp_path / "s"), *LOOP,
                                      "--budget", "30"])
    session = build_session(args, embed=slow_embed).start()
    try:
        state = session.state()
        assert state["metrics"] == done["metrics"]  # round 2 as stored, not round 1
        budget = {"criterion": "labeled_budget", "stop": False, "detail": "20 of 30 labeled when round 3 ended"}
        assert state["advice"] == [a if a["criterion"] != "labeled_budget" else budget for a in done["advice"]]
        release.set()
        client = TestClient(create_app(session), base_url="http://127.0.0.1")
        Person(client, pool).answer(5)  # round 2's new batch: its record is written once it is answered
        deadline = time.monotonic() + 30  # by the loop's thread, after the last answer's response
        while not read_rounds(tmp_path / "s")[2]["picked"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(read_rounds(tmp_path / "s")[2]["picked"]) == 5  # round 2 computed again, now with a batch
        assert session.state()["metrics"]["n_labeled"] in (20, 25)  # the records' own from here on
    finally:
        release.set()
        session.close()


def test_an_extension_stopped_in_its_new_batch_goes_on_and_is_not_lost_to_the_budget_before_it(pool, tmp_path):
    """--budget 20 done, then 30: two answers in the new batch, stopped. The same command was refused ("its batch
    shrank to fit --budget 20"), config.json still saying 20; --budget 20 then asked nothing, the answers lost."""
    answered_session(pool, tmp_path / "whole", "--budget", "30")
    answered_session(pool, tmp_path / "s")  # --budget 20: done
    answered_session(pool, tmp_path / "s", "--budget", "30", n=2)  # stopped in round 3's batch
    assert read_config(tmp_path / "s")["config"]["budget"] == 20  # no round of the extension written yet
    before = {p.name: p.read_bytes() for p in (tmp_path / "s").iterdir() if p.is_file() and p.suffix != ".sqlite"}
    # the budget before the extension asks another batch (none) where two answers are: refused, nothing changed
    with pytest.raises(ConfigError, match=r"its batch of round 3 was asked under --budget 30 and holds 2 answers; a "
                                          r"budget of 20 would ask another batch there and drop them: give --budget "
                                          r"30 to go on, or start another session"):
        open_session(pool, tmp_path / "s", start=False)
    with pytest.raises(ConfigError, match=r"round 3 was asked under --budget 30 .* give --budget 30 to go on"):
        open_session(pool, tmp_path / "s", "--budget", "22", start=False)  # a batch of 2 there, not 5
    assert {p.name: p.read_bytes() for p in (tmp_path / "s").iterdir() if p.name in before} == before
    state = answered_session(pool, tmp_path / "s", "--budget", "30")  # the same command goes on from them
    assert state["phase"] == "done" and state["n_labeled"] == 30
    assert stripped(read_rounds(tmp_path / "s")) == stripped(read_rounds(tmp_path / "whole"))
    # a larger budget whose batches holding answers stay the same goes on too (round 3's batch: 5 under both)
    answered_session(pool, tmp_path / "t")
    answered_session(pool, tmp_path / "t", "--budget", "30", n=2)
    assert answered_session(pool, tmp_path / "t", "--budget", "35")["n_labeled"] == 35
    # such answers in a session of a version that did not note the budget: not known which batch, refused as such
    answered_session(pool, tmp_path / "u")
    answered_session(pool, tmp_path / "u", "--budget", "30", n=2)
    with sqlite3.connect(tmp_path / "u" / "answers.sqlite") as db:
        db.execute("DELETE FROM meta WHERE key = 'budget'")
    with pytest.raises(ConfigError, match=r"its round 3 holds 2 answers given under a budget above 20 that was not "
                                          r"recorded .* so which batch they answered is not known; start another"):
        open_session(pool, tmp_path / "u", "--budget", "30", start=False)
    # ... and under the budget config.json holds, where its last round asks nothing (the answers went unread)
    with pytest.raises(ConfigError, match=r"its round 3 holds 2 answers given under a budget above 20 that was not "):
        open_session(pool, tmp_path / "u", start=False)


def test_answers_to_the_start_alone_hold_no_budget_back(pool, tmp_path):
    """--budget 12 (a first batch of 2 picks after the 10 start texts), 3 start texts answered: --budget 20 was
    refused as a batch that shrank, yet the seeded start is the same under any budget."""
    answered_session(pool, tmp_path / "s", "--budget", "12", n=3)
    more, _ = open_session(pool, tmp_path / "s", "--budget", "20", start=False)
    more.close()
    answered_session(pool, tmp_path / "t", "--budget", "12", n=11)  # the start and one of the 2 picks: refused
    with pytest.raises(ConfigError, match=r"its batch of round 1 shrank to fit --budget 12 and holds 1 answer; "):
        open_session(pool, tmp_path / "t", "--budget", "20", start=False)


def test_a_session_resumed_on_its_strategy_file_edited_is_told_and_records_it(pool, tmp_path, monkeypatch):
    """A user's strategy fixed after a session stopped: the session went on without the note a run gives, and its
    config.json held no strategy_source for al.report to note."""
    import sys
    import warnings

    folder = tmp_path / "code"
    folder.mkdir()
    source = ("import numpy as np\nfrom al.strategy import Strategy\n\n\nclass First(Strategy):\n"
              "    def query(self, state, n):\n        return np.sort(state.indices_unlabeled)[:n]\n")
    (folder / "session_strategy.py").write_text(source)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, "session_strategy", raising=False)
    answered_session(pool, tmp_path / "s", "--strategy", "session_strategy:First", n=16)  # round 0 done, 1 more
    assert len(read_rounds(tmp_path / "s")) == 1
    stored = read_config(tmp_path / "s")["strategy_source"]
    assert stored["file"] == str((folder / "session_strategy.py").resolve()) and stored["digest"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # unchanged: no note
        open_session(pool, tmp_path / "s", "--strategy", "session_strategy:First", start=False)[0].close()
    (folder / "session_strategy.py").write_text(source + "# fixed\n")
    with pytest.warns(UserWarning, match=r"session_strategy.py changed since .*s last ran: the rounds recorded "
                                         r"there come from the code as it was then; start another session with --out"):
        answered_session(pool, tmp_path / "s", "--strategy", "session_strategy:First")
    digests = read_config(tmp_path / "s")["resumes"][-1]["strategy_source"]
    assert digests[0] == stored["digest"] and digests[1] != stored["digest"]  # for al.report's note


def test_a_session_given_a_larger_budget_says_so_as_it_starts(pool, tmp_path, capsys, monkeypatch):
    """--budget 70 on a session of 60 went on without a word, where al.simulate says "extending to budget"."""
    answered_session(pool, tmp_path / "s")  # --budget 20: done
    serve_nothing_now(monkeypatch)  # then main with hash embeddings, and a server that returns at once
    capsys.readouterr()
    assert main(flags(pool, tmp_path / "s", "--budget", "30")) == 0
    first = capsys.readouterr().err.splitlines()[0]
    # its last round (20 labeled, no batch) is computed again under the larger budget, with a batch
    assert first.startswith("extending to budget 30 (was 20): resuming after batch 2 of 4: 20 answers so far, "), first
    assert main(flags(pool, tmp_path / "s")) == 0  # --budget 20 again: no round was computed for 30, no extension
    err = capsys.readouterr().err.splitlines()
    # it asks nothing more: not "resuming after batch 2 of 2"
    assert err[0].startswith("opening the complete session (2 batches): 20 answers, 200 texts of "), err[0]
    # complete: said in the terminal, not on the page alone (it served the answers without a word)
    assert err[1] == (f"complete: the budget is spent: 20 texts labeled. Export them with: python -m al.annotate "
                      f"export {tmp_path / 's'} -o s-labeled.jsonl (a larger --budget asks more)")
    # and stopped, it is not said to resume (it had said "the same command resumes", and so had its start)
    assert "Ctrl-C stops" in err and not any("resumes where you left off" in line for line in err), err
    assert err[-1] == (f"stopped; every answer is in {tmp_path / 's' / DB_FILE}; the session is complete; a larger "
                       f"--budget asks more")
    # an extension to 30 stopped before its first round (config.json still says 20), then 35: both budgets said
    assert main(flags(pool, tmp_path / "s", "--budget", "30")) == 0
    assert main(flags(pool, tmp_path / "s", "--budget", "35")) == 0
    err = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in err if line.startswith("extending")] == [
        "extending to budget 30 (was 20)", "extending to budget 35 (was 20; last started with --budget 30)"], err


def test_a_first_batch_of_one_start_text_and_the_first_picks_says_text_once(pool, tmp_path):
    """'(the 1 initial texts, then the first 5 picked)'."""
    session, client = open_session(pool, tmp_path / "s", "--initial", "1", "--strategy", "random")
    try:
        state, _ = Person(client, pool).next_text()
        assert state["message"] == "text 1 of 6 in this round's batch (the 1 initial text, then the first 5 picked)"
    finally:
        session.close()


def test_the_end_of_the_budget_is_said_in_the_terminal_once(pool, tmp_path):
    """The page said the budget was spent; the terminal that started the session said nothing."""
    said = []
    session, client = open_session(pool, tmp_path / "s", start=False)
    session.say = said.append
    session.start()
    try:
        state = Person(client, pool).answer()
    finally:
        session.close()
    assert said == [f"done: the budget is spent: 20 texts labeled. Export them with: python -m al.annotate export "
                    f"{tmp_path / 's'} -o s-labeled.jsonl (the page stays up until Ctrl-C)"]  # its folder's name
    assert state["message"] == said[0][len("done: "):-len(" (the page stays up until Ctrl-C)")]  # the page's words


def test_a_larger_budget_is_refused_where_it_would_pick_an_answered_shrunk_batch_anew(pool, tmp_path):
    """--budget 18 ends with a batch of 3 (10, 15, 18): a budget of 30 would pick 5 there instead, and the three
    answers given would be dropped."""
    answered_session(pool, tmp_path / "s", "--budget", "18")
    before = {p.name: p.read_bytes() for p in (tmp_path / "s").iterdir() if p.is_file()}
    with pytest.raises(ConfigError, match=r"its batch of round 2 shrank to fit --budget 18 and holds 3 answers; a "
                                          r"budget of 30 would pick that batch anew and drop them: keep --budget 18"):
        open_session(pool, tmp_path / "s", "--budget", "30", start=False)
    assert {p.name: p.read_bytes() for p in (tmp_path / "s").iterdir() if p.is_file() and p.name in before} == before


def test_a_session_stopped_mid_round_goes_on_under_a_larger_budget_when_its_batch_stays_the_same(pool, tmp_path):
    """Round 0 in progress (3 answers, its batch of 5 the same under either budget): the answers are kept."""
    answered_session(pool, tmp_path / "whole", "--budget", "25")
    answered_session(pool, tmp_path / "s", n=3)
    assert read_rounds(tmp_path / "s") == []
    more, client = open_session(pool, tmp_path / "s", "--budget", "25")
    try:
        assert len(more.store.all()) == 3
        Person(client, pool).answer()
    finally:
        more.close()
    assert stripped(read_rounds(tmp_path / "s")) == stripped(read_rounds(tmp_path / "whole"))


def test_the_page_counts_the_batches_a_person_answers_not_the_rounds(pool, tmp_path):
    """--budget 20 from 10 in steps of 5 is 3 rounds, the last one measuring only: the page said "Round 1 of 3" ...
    "Round 2 of 3" for the two batches, and "Round 3 of 3" with nothing left to ask."""
    session, client = open_session(pool, tmp_path / "s")
    try:
        person = Person(client, pool)
        state, _ = person.next_text()
        assert (state["batch_number"], state["n_batches"], state["batch"]["asked"]) == (1, 2, 15)  # 10 initial + 5
        state = person.answer(15)
        state, _ = person.next_text()
        assert (state["batch_number"], state["n_batches"], state["batch"]["asked"]) == (2, 2, 5)
        state = person.answer()
        assert (state["phase"], state["batch_number"], state["n_batches"]) == ("done", 2, 2)
        page = client.get("/").text
        assert '<dt>Batch</dt><dd><span id="batch-number">1</span> of <span id="n-batches">2</span></dd>' in page
    finally:
        session.close()


@pytest.mark.parametrize("to_embed, said", [
    (None, "preparing: embedding 200 texts (cached after the first start) and training the first classifier"),
    ((174, 200), "preparing: embedding 174 of the 200 texts (26 cached) and training the first classifier"),
    ((200, 200), "preparing: embedding 200 texts (cached after the first start) and training the first classifier"),
    ((0, 200), "preparing: reading the 200 texts' cached embeddings and training the first classifier"),
])
def test_a_starting_session_says_how_many_texts_it_embeds(pool, tmp_path, to_embed, said):
    """The page said "embedding 401 texts" where 227 of them were cached and 174 were embedded."""
    session, client = open_session(pool, tmp_path / "s", start=False)
    try:
        session._to_embed = to_embed  # as the session's embedder counts the pool's texts on its first call
        state = client.get("/api/state").json()
        assert (state["phase"], state["message"]) == ("starting", said)
    finally:
        session.close()


def test_a_read_only_look_at_a_served_database_leaves_its_files_to_the_server(tmp_path):
    """The -wal and -shm files of a database a server holds open are the server's: a read (an export while it runs)
    removes neither, and the server goes on writing."""
    from al.annotate.store import connect_read_only

    path = tmp_path / DB_FILE
    server = sqlite3.connect(path)
    server.execute("PRAGMA journal_mode=WAL")
    server.execute("CREATE TABLE t (x)")
    server.execute("INSERT INTO t VALUES (1)")
    server.commit()
    look = connect_read_only(path)
    assert look.execute("SELECT x FROM t").fetchall() == [(1,)]
    look.close()
    assert (tmp_path / f"{DB_FILE}-wal").exists() and (tmp_path / f"{DB_FILE}-shm").exists()
    server.execute("INSERT INTO t VALUES (2)")
    server.commit()
    server.close()  # the last connection: SQLite removes both
    assert sorted(p.name for p in tmp_path.iterdir()) == [DB_FILE]
    look = connect_read_only(path)
    assert look.execute("SELECT x FROM t").fetchall() == [(1,), (2,)]
    look.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [DB_FILE]  # nothing made by the look stays
