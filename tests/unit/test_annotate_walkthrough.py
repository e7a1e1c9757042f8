"""What a walkthrough of ``python -m al.annotate`` found: a data file changed under a session, a stop while the pool
is embedded, the start line, classifiers that read a dev split, a wildcard host, the HTTP errors, ids that are not
strings, someone else's config.json, and an export into a missing folder."""
from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from al.annotate.__main__ import build_parser, main, prepare_session  # noqa: E402
from al.annotate.app import create_app  # noqa: E402
from al.annotate.data import read_session_texts  # noqa: E402
from al.annotate.export import session_rows  # noqa: E402
from al.annotate.session import holds_nothing  # noqa: E402
from al.annotate.store import DB_FILE  # noqa: E402
from al.errors import ConfigError, DataError  # noqa: E402
from tests.conftest import hash_embed, synthetic_corpus  # noqa: E402
from tests.unit.annotate_cli import answer, flags, opened, pool, serve_nothing  # noqa: E402,F401


def exported(session_dir, output, capsys, *extra):
    assert main(["export", str(session_dir), "-o", str(output), *extra]) == 0
    err = capsys.readouterr().err
    return {r["id"]: r for r in map(json.loads, output.read_text().splitlines())}, err


def lines_of(path):
    return path.read_text().splitlines(keepends=True)


# ------------------------------------------------------------ 1. a data file changed since the session began

def test_a_changed_file_labeling_other_texts_adds_none_of_its_labels_to_the_export(pool, tmp_path, capsys):
    """--data naming a file that labels texts itself where the session's did not (a superset file): only the
    session's answers are exported, and the line says why (2,311 rows "given" came with them before)."""
    path, Y, labels = pool
    answered = answer(pool, tmp_path / "s", 12)
    other = tmp_path / "labeled.jsonl"
    rows = [json.loads(line) for line in lines_of(path)]
    other.write_text("".join(json.dumps({**r, **({} if r["id"] in answered else {"labels": [labels[0]]})}) + "\n"
                             for r in rows))
    got, err = exported(tmp_path / "s", tmp_path / "out.jsonl", capsys, "--data", str(other))
    assert set(got) == set(answered) and {r["source"] for r in got.values()} == {"person"}
    warning = err.strip().splitlines()[0]
    assert warning.endswith(f"; the file labels {len(rows) - 12} texts itself where the session began with 0, so none "
                            f"of the file's own labels was exported, only the session's answers (read the file "
                            f"itself for its labels)"), err


def test_every_answer_is_exported_after_the_data_file_changed(pool, tmp_path, capsys):
    path, Y, labels = pool
    answered = answer(pool, tmp_path / "s", 12)
    before, err = exported(tmp_path / "s", tmp_path / "before.jsonl", capsys)
    assert "warning" not in err and set(before) == set(answered)

    with open(path, "a") as f:  # a row appended: every answer still has its id and text in the file
        f.write(json.dumps({"id": "new", "text": "a text added later"}) + "\n")
    after, err = exported(tmp_path / "s", tmp_path / "appended.jsonl", capsys)
    assert after == before
    warning, wrote = err.strip().splitlines()
    assert warning == (f"warning: {path} changed since the session began (other bytes); every answer still has "
                       f"its id and text there, so all are exported as usual (none needed the database's copy of "
                       f"its text)"), err
    assert wrote.startswith("wrote 12 labeled texts")

    rows = lines_of(path)  # an answered text edited, another answered row removed, the rows shuffled
    edited, removed = int(answered[0][1:]), int(answered[1][1:])
    rows[edited] = json.dumps({"id": answered[0], "text": "another text now"}) + "\n"
    del rows[removed]
    path.write_text("".join(reversed(rows)))
    after, err = exported(tmp_path / "s", tmp_path / "changed.jsonl", capsys)
    assert set(after) == set(answered)  # nothing lost
    for text_id in answered:  # with the text the session showed, and the person's labels
        assert after[text_id]["text"] == before[text_id]["text"]
        assert [after[text_id][name] for name in labels] == Y[int(text_id[1:])].tolist()
    warning = err.strip().splitlines()[0]
    assert warning.startswith(f"warning: {path} changed since the session began (other bytes); 2 answers were "
                              f"exported from the session's database"), err
    assert "without" not in warning and len(err.strip().splitlines()) == 2
    exported_rows = session_rows(tmp_path / "s")
    assert (exported_rows.from_database, exported_rows.without_text) == (2, 0)
    assert [r["id"] for r in exported_rows.rows[-2:]] == sorted(answered[:2], key=lambda i: int(i[1:]))


def test_a_data_file_that_cannot_be_read_any_more_still_exports_every_answer(pool, tmp_path, capsys):
    path, Y, labels = pool
    answered = answer(pool, tmp_path / "s", 5)
    before, _ = exported(tmp_path / "s", tmp_path / "before.jsonl", capsys)
    path.write_text("not json at all\n")
    after, err = exported(tmp_path / "s", tmp_path / "after.jsonl", capsys)
    assert after == before and set(after) == set(answered)  # the texts the database kept
    warning = err.strip().splitlines()[0]
    assert warning.startswith(f"warning: {path} changed since the session began (other bytes) and cannot be read as "
                              f"the session read it ({path} line 1 is not JSON"), warning
    assert "; 5 answers were exported from the session's database" in warning


def drop_texts(session_dir):
    """The database as sessions stored it before answers kept their text."""
    db = sqlite3.connect(session_dir / DB_FILE)
    db.execute("ALTER TABLE answers DROP COLUMN text")
    db.commit()
    db.close()


def test_answers_stored_before_texts_were_kept_export_from_a_changed_file(pool, tmp_path, capsys):
    path, Y, labels = pool
    answered = answer(pool, tmp_path / "s", 12)
    drop_texts(tmp_path / "s")
    before, _ = exported(tmp_path / "s", tmp_path / "before.jsonl", capsys)

    original = path.read_text()
    path.write_text(original + json.dumps({"id": "new", "text": "added"}) + "\n")  # the file the session began with
    after, err = exported(tmp_path / "s", tmp_path / "appended.jsonl", capsys)  # ... and more: texts known
    assert after == before and "so all are exported as usual" in err, err

    rows = lines_of(path)
    rows[int(answered[0][1:])] = json.dumps({"id": answered[0], "text": "edited"}) + "\n"
    path.write_text("".join(rows))
    after, err = exported(tmp_path / "s", tmp_path / "edited.jsonl", capsys)
    assert set(after) == set(answered)
    assert all(after[i]["text"] is None and after[i]["source"] == "person" for i in answered)
    assert all([after[i][name] for name in labels] == Y[int(i[1:])].tolist() for i in answered)
    warning = err.strip().splitlines()[0]
    assert "12 answers were exported from the session's database" in warning
    assert "12 of them without their text" in warning and "restore that file" in warning, warning

    path.write_text(original)  # resumed on its own file, the session keeps the texts of its old answers
    opened(pool, tmp_path / "s").close()
    db = sqlite3.connect(tmp_path / "s" / DB_FILE)
    kept = dict(db.execute("SELECT text_id, text FROM answers").fetchall())
    db.close()
    assert kept == {i: read_session_texts(path, labels).texts[int(i[1:])] for i in answered}


def test_a_session_resumes_only_on_its_own_file_and_says_so_in_plain_words(pool, tmp_path, capsys, serve_nothing):
    path = pool[0]
    answer(pool, tmp_path / "s", 3)
    original = path.read_text()
    path.write_text(original + json.dumps({"id": "new", "text": "added"}) + "\n")
    capsys.readouterr()
    assert main(flags(pool, tmp_path / "s")) == 2
    err = capsys.readouterr().err
    assert err == (f"error: {path} changed since the session began (other bytes); restore that file to resume, or "
                   f"export the answers so far with `python -m al.annotate export {tmp_path / 's'} -o FILE`\n"), err
    path.write_text(original)
    assert main(flags(pool, tmp_path / "s")) == 0

    opened(pool, tmp_path / "empty").close()  # a session holding no answer: removing it loses nothing
    path.write_text(original + json.dumps({"id": "new", "text": "added"}) + "\n")
    capsys.readouterr()
    assert main(flags(pool, tmp_path / "empty")) == 2
    err = capsys.readouterr().err
    assert err == (f"error: {path} changed since the session began (other bytes); it holds no answers (no text "
                   f"answered, no round finished), so removing {tmp_path / 'empty'} loses nothing; or restore that "
                   f"file to resume\n"), err


def test_a_session_resumes_on_its_file_given_by_another_path(pool, tmp_path, capsys, serve_nothing, monkeypatch):
    """Given from another folder, or as a copy, the same bytes were refused as other settings (data_path), with
    the advice to pass another --out: to leave the answers behind."""
    path = pool[0]
    answer(pool, tmp_path / "s", 3)
    monkeypatch.chdir(tmp_path)
    assert main(flags(pool, tmp_path / "s", data="texts.jsonl")) == 0  # relative, from the file's folder
    copy = tmp_path / "copy" / "same.jsonl"
    copy.parent.mkdir()
    copy.write_bytes(path.read_bytes())
    monkeypatch.chdir(copy.parent)
    assert main(flags(pool, tmp_path / "s", data="same.jsonl")) == 0  # a copy, from elsewhere
    capsys.readouterr()
    copy.write_text(path.read_text() + json.dumps({"id": "new", "text": "added"}) + "\n")
    assert main(flags(pool, tmp_path / "s", data=copy)) == 2
    recorded = json.loads((tmp_path / "s" / "config.json").read_text())["config"]["data_path"]  # as last given
    assert recorded in ("texts.jsonl", "same.jsonl", str(path))
    assert capsys.readouterr().err == (
        f"error: {copy} is not the session's data file, {recorded} (other bytes); give that file (its bytes, "
        f"at any path) to resume, or export the answers so far with `python -m al.annotate export {tmp_path / 's'} "
        f"-o FILE`\n")
    copy.write_bytes(path.read_bytes())
    rows, _ = exported(tmp_path / "s", tmp_path / "out.jsonl", capsys, "--data", str(copy))
    assert len(rows) == 3 and all(r["source"] == "person" for r in rows.values())


def test_export_reads_a_moved_data_file_given_with_data(pool, tmp_path, capsys):
    path = pool[0]
    answered = answer(pool, tmp_path / "s", 4)
    before, _ = exported(tmp_path / "s", tmp_path / "before.jsonl", capsys)
    moved = tmp_path / "elsewhere.jsonl"
    path.rename(moved)
    assert main(["export", str(tmp_path / "s"), "-o", str(tmp_path / "x.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: the session's data file {path} is not there") and "--data FILE" in err, err
    after, err = exported(tmp_path / "s", tmp_path / "after.jsonl", capsys, "--data", str(moved))
    assert after == before and set(after) == set(answered) and "warning" not in err
    assert main(["export", str(tmp_path / "s"), "-o", str(tmp_path / "x.jsonl"), "--data",
                 str(tmp_path / "nope.jsonl")]) == 2
    assert "--data " in capsys.readouterr().err
    assert main(["export", str(tmp_path / "s"), "-o", str(moved), "--data", str(moved)]) == 2  # never written over
    assert "which export would replace" in capsys.readouterr().err


# ------------------------------------------------------------ 2. stopped while the pool is embedded

def test_a_stop_while_the_pool_is_embedded_is_quiet_and_prompt(pool, tmp_path, capfd):
    """The loop's thread still embedding when the session closes: what stops it (here the error a thread pool
    raises once the interpreter shuts down) is not reported, and close does not wait for it."""
    called, release = threading.Event(), threading.Event()

    def embed(texts):
        called.set()
        release.wait(30)
        raise RuntimeError("cannot schedule new futures after interpreter shutdown")

    session = opened(pool, tmp_path / "s", embed=embed).start()
    assert called.wait(30)
    closing = threading.Thread(target=session.close, kwargs={"timeout": 5})
    closing.start()
    time.sleep(0.2)
    release.set()  # the embedding fails as the session closes
    closing.join(10)
    session._thread.join(10)
    assert not session._thread.is_alive() and session.error is None
    assert "Traceback" not in capfd.readouterr().err


def test_a_session_s_embedder_stops_between_passes_when_it_closes(pool, tmp_path, monkeypatch):
    import al.embedders as embedders

    made = {}

    class Embedder:
        def __init__(self, model, **kwargs):
            made.update(kwargs)

        def encode(self, texts):
            with embedders.encoder_passes(lambda b: time.sleep(0.05) or b, iter(range(600)), device="cpu",
                                          threads=1, stop=made["stop"]) as passes:
                for _ in passes:
                    made["passes"] = made.get("passes", 0) + 1
            raise AssertionError("never stopped")

    monkeypatch.setattr(embedders, "SentenceEmbedder", Embedder)
    session = prepare_session(build_parser().parse_args(flags(pool, tmp_path / "s")), embed=hash_embed)
    session.embed = None  # the session's own embedder (no model is resolved: the settings are checked already)
    session.open().start()
    try:
        deadline = time.monotonic() + 30
        while made.get("passes", 0) < 3 and session.error is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert made.get("passes", 0) >= 3, session.error
    finally:
        started = time.monotonic()
        session.close(timeout=5)
    assert time.monotonic() - started < 2 and not session._thread.is_alive()
    assert session.error is None and made["stop"].is_set()
    # its pass shows its progress on the terminal (578 s for a large pool had printed nothing); --quiet silences it
    assert made["show_progress"] is True


def test_no_new_pass_starts_once_the_stop_is_set():
    from al.embedders import EncodingStopped, computed_ahead

    stop, calls = threading.Event(), []
    with pytest.raises(EncodingStopped):
        for item, result in computed_ahead(lambda x: calls.append(x) or x, iter(range(1000)), workers=2, stop=stop):
            if item == 3:
                stop.set()
                submitted = len(calls)
    time.sleep(0.1)
    assert len(calls) == submitted <= 3 + 2 * 2 + 1  # what was submitted before the stop, nothing after


# ------------------------------------------------------------ 3. and 6. the start line

def test_a_resumed_session_counts_its_answers_before_any_round_ended(pool, tmp_path, capsys, serve_nothing):
    answer(pool, tmp_path / "s", 3)
    capsys.readouterr()
    assert main(flags(pool, tmp_path / "s")) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"resuming: 3 answers so far, 200 texts of {pool[0]}, labels "), err


def test_the_start_line_says_how_many_texts_the_file_labels(tmp_path, capsys, serve_nothing):
    corpus = synthetic_corpus(200)
    Y = corpus.Y.toarray()
    path = tmp_path / "texts.jsonl"
    path.write_text("".join(json.dumps({"id": f"t{i}", "text": t, **({"labels": [
        corpus.label_names[j] for j in np.flatnonzero(Y[i])]} if i < 6 else {})}) + "\n"
        for i, t in enumerate(corpus.texts)))
    assert main(flags((path, Y, list(corpus.label_names)), tmp_path / "s")) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"starting: 200 texts of {path} (6 labeled in the file, counted in the budget), "), err


# ------------------------------------------------------------ 4. classifiers that read a dev split

@pytest.mark.parametrize("extra, words", [
    (("--classifier", "knn", "--classifier-param", "threshold=fixed"),
     "classifier knn reads a dev split through k=dev (its default), and a session has none (--dev only measures "
     "each round); pass --classifier-param k=10"),
    (("--classifier", "knn", "--classifier-param", "k=dev", "--classifier-param", "threshold=dev"),
     "classifier knn reads a dev split through k=dev, threshold=dev, and a session has none (--dev only measures "
     "each round); pass --classifier-param k=10 --classifier-param threshold=fixed"),
    (("--classifier-param", "threshold=dev"),
     "classifier logreg reads a dev split through threshold=dev, and a session has none (--dev only measures each "
     "round); pass --classifier-param threshold=fixed"),
], ids=["knn-default-k", "knn-both", "logreg"])
def test_a_classifier_reading_a_dev_split_is_refused_naming_what_reads_it(pool, tmp_path, extra, words):
    with pytest.raises(ConfigError) as caught:
        prepare_session(build_parser().parse_args(flags(pool, tmp_path / "s", *extra)), embed=hash_embed)
    assert str(caught.value) == words


@pytest.mark.parametrize("threshold", ["fixed", "dev"])
def test_bert_is_refused_as_a_classifier_that_cannot_train_in_a_session(pool, tmp_path, threshold):
    pytest.importorskip("transformers")
    args = build_parser().parse_args(flags(pool, tmp_path / "s", "--classifier", "bert", "--classifier-param",
                                           f"threshold={threshold}"))
    with pytest.raises(ConfigError) as caught:
        prepare_session(args, embed=hash_embed)
    message = str(caught.value)
    assert "reads a dev split in every fit, whatever its params" in message
    assert "so bert cannot be used in a session" in message and "threshold=fixed" not in message, message


def test_a_strategy_needing_bert_s_dropout_is_refused_without_offering_bert(pool, tmp_path):
    """--strategy bald said "use --classifier bert", which the session then refused."""
    args = build_parser().parse_args(flags(pool, tmp_path / "s", "--strategy", "bald"))
    with pytest.raises(ConfigError) as caught:
        prepare_session(args, embed=hash_embed)
    assert str(caught.value) == (
        "strategy 'bald' needs a classifier with predict_proba_dropout, which classifier 'logreg' lacks; only bert has "
        "it, and it reads a dev split in every fit, which a session has none of (--dev only measures each round): "
        "choose another strategy")


def test_a_classifier_that_reads_no_dev_split_is_taken(pool, tmp_path):
    prepare_session(build_parser().parse_args(flags(pool, tmp_path / "s", "--classifier", "knn",
                                                    "--classifier-param", "k=10")), embed=hash_embed)


# ------------------------------------------------------------ 5. a wildcard host

@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_a_wildcard_host_prints_the_machine_s_name_and_the_token(pool, tmp_path, capsys, serve_nothing, monkeypatch,
                                                                 host):
    import al.annotate.__main__ as cli

    def listen(host, port):  # tests bind the loopback address only
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        return sock

    monkeypatch.setattr(cli, "listen", listen)
    monkeypatch.setattr(socket, "gethostname", lambda: "labelbox")
    assert main(flags(pool, tmp_path / "s", "--host", host)) == 0
    out = capsys.readouterr().out
    assert out.startswith("annotate at http://labelbox:") and "?token=" in out and host not in out, out


# ------------------------------------------------------------ 7. HTTP errors

def test_http_errors_say_what_was_wrong(pool, tmp_path):
    session = opened(pool, tmp_path / "s").start()
    client = TestClient(create_app(session), base_url="http://127.0.0.1")
    try:
        client.get("/api/state", params={"wait": 30})
        for method, path in (("DELETE", "/api/answers"), ("POST", "/api/state"), ("PATCH", "/api/answer"),
                             ("POST", "/static/annotate.js")):
            response = client.request(method, path)
            assert response.status_code == 405, (method, path, response.text)
            allowed = response.headers["allow"]
            assert response.json()["detail"] == f"{method} is not a method of {path}; it takes {allowed}"
        assert client.delete("/api/answers").headers["allow"] == "GET, HEAD, PUT"
        for path in ("/", "/answers", "/api/state", "/api/answers", "/static/annotate.js"):  # uptime checks, curl -I
            head = client.head(path)
            assert head.status_code == 200 and head.content == b"", (path, head.status_code)
        assert client.post("/static/annotate.js").headers["allow"] == "GET, HEAD"
        assert client.delete("/nowhere").status_code == 404

        response = client.get("/api/state", params={"wait": "abc"})
        assert response.status_code == 422
        detail = response.json()["detail"]
        assert detail.startswith("query parameter wait='abc' is not valid (") and "JSON" not in detail, detail

        response = client.post("/api/answer", content=b'{"id": "t1", "labels": [}',
                               headers={"Content-Type": "application/json"})
        assert response.status_code == 422
        detail = response.json()["detail"]
        assert detail.startswith("the body is not valid JSON: ") and "JSON decode error" not in detail, detail

        for method, path in (("POST", "/api/answer"), ("PUT", "/api/answers")):
            response = client.request(method, path, json={"id": "nope", "labels": []})
            assert response.status_code == 404
            assert response.json()["detail"].startswith("no text with id 'nope' in this session")
        assert session.store.all() == []
    finally:
        session.close()


# ------------------------------------------------------------ 8. ids that are not strings

@pytest.mark.parametrize("ids, line, kind", [
    ([True, False], 1, "a boolean"),
    (["a", {"a": 1}], 2, "an object"),
    ([1, [1, 2]], 2, "a list"),
    ([1, 2.5], 2, "a number with a fraction or an exponent"),
    ([1, 2.0], 2, "a number with a fraction or an exponent"),
    (["a", 2.0], 2, "a number with a fraction or an exponent"),
], ids=["boolean", "object", "list", "fraction", "integral-float", "float-beside-string"])
def test_an_id_that_is_neither_a_string_nor_an_integer_is_refused_naming_its_line(tmp_path, capsys, ids, line, kind):
    path = tmp_path / "texts.jsonl"
    path.write_text("".join(json.dumps({"id": v, "text": f"text {i}"}) + "\n" for i, v in enumerate(ids)))
    with pytest.raises(DataError, match=f"^{path} line {line}: id is {kind} ") as caught:
        read_session_texts(path, ["a", "b"])
    assert "\n" not in str(caught.value) and "expected a string or an integer" in str(caught.value)
    assert main(["--data", str(path), "--labels", "a", "b", "--out", str(tmp_path / "s"), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path} line {line}: id is {kind}") and len(err.strip().splitlines()) == 1


def test_integer_ids_are_their_decimal_strings(tmp_path):
    path = tmp_path / "texts.jsonl"
    big = 2**70
    path.write_text("".join(json.dumps({"id": v, "text": f"text {i}"}) + "\n" for i, v in enumerate([7, big, "x"])))
    assert read_session_texts(path, ["a"]).ids == ["7", str(big), "x"]
    path.write_text("".join(json.dumps({"id": v, "text": f"text {i}"}) + "\n" for i, v in enumerate([17, 3])))
    assert read_session_texts(path, ["a"]).ids == ["17", "3"]


# ------------------------------------------------------------ 9. someone else's config.json

@pytest.mark.parametrize("stored", [{"config": {}}, {"config": {"session": {}}}], ids=["empty", "no-digest"])
def test_a_folder_with_someone_else_s_config_is_never_said_to_lose_nothing(pool, tmp_path, capsys, serve_nothing,
                                                                          stored):
    out = tmp_path / "theirs"
    out.mkdir()
    (out / "config.json").write_text(json.dumps(stored))
    assert not holds_nothing(out)
    capsys.readouterr()
    assert main(flags(pool, out)) == 2
    err = capsys.readouterr().err
    assert err == (f"error: {out} holds a config.json that no annotation session wrote (a simulation's run, or "
                   f"another program's file); pass another --out for a new session\n"), err
    assert json.loads((out / "config.json").read_text()) == stored  # left as it was


# ------------------------------------------------------------ 10. an export into a missing folder

def test_export_refuses_a_missing_folder_and_makes_none(pool, tmp_path, capsys):
    answer(pool, tmp_path / "s", 2)
    target = tmp_path / "missing" / "deeper" / "x.jsonl"
    assert main(["export", str(tmp_path / "s"), "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: the folder of -o {target} ({target.parent}) does not exist; create it first (mkdir -p "
                   f"{target.parent}), or write the export elsewhere\n"), err
    assert not (tmp_path / "missing").exists()


def test_a_new_session_never_goes_among_a_folder_s_other_files(pool, tmp_path, capsys, serve_nothing, monkeypatch):
    """--out . (or a home-like folder) took the folder: config.json, answers.sqlite and .lock beside the user's files,
    and exporting from there pointed the export back into it."""
    home = tmp_path / "home"
    (home / "docs").mkdir(parents=True)
    (home / "important.txt").write_text("mine")
    (home / ".hidden").write_text("")  # hidden files do not count
    assert main(flags(pool, home)) == 2
    assert capsys.readouterr().err == (
        f"error: --out {home} holds files no session wrote (docs, important.txt), which the session would mix with or "
        f"replace; give a new or empty directory, or one an earlier al.annotate wrote (its session is then resumed)\n")
    monkeypatch.chdir(home)
    assert main(flags(pool, ".")) == 2
    assert capsys.readouterr().err.startswith("error: --out . holds files no session wrote (docs, important.txt)")
    assert sorted(p.name for p in home.iterdir()) == [".hidden", "docs", "important.txt"]  # nothing written
    (tmp_path / "empty").mkdir()
    assert main(flags(pool, tmp_path / "empty")) == 0  # an empty folder is taken
    answer(pool, tmp_path / "s", 3)
    (tmp_path / "s" / "notes.txt").write_text("a note of the person's")  # a session's own folder: resumed
    assert main(flags(pool, tmp_path / "s")) == 0


def test_a_config_file_s_labels_are_read_and_its_data_settings_said_to_be_left_out(pool, tmp_path, capsys,
                                                                                  serve_nothing):
    """A simulation's YAML given to a session: pool_size, dataset and n_frequent were dropped without a word, and its
    labels refused with 'give the labels with --labels A B C or with --label-file FILE'."""
    from al.annotate.__main__ import config_from_args

    path, _, labels = pool
    yaml_file = tmp_path / "loop.yaml"
    yaml_file.write_text(f"labels: [{', '.join(labels)}]\npool_size: 50\ndataset: reuters\nn_frequent: 3\n"
                         f"seed: 3\n")
    without_labels = [a for a in flags(pool, tmp_path / "s") if a not in labels and a != "--labels"]
    config = config_from_args(build_parser().parse_args([*without_labels, "--config", str(yaml_file)]))
    assert config.labels == tuple(labels) and config.seed == 3 and config.pool_size is None
    assert capsys.readouterr().err == (f"warning: {yaml_file} sets dataset, pool_size, n_frequent, which a session "
                                       f"does not read from a config file (its texts are --data, read whole, and its "
                                       f"folder --out); left out\n")
    config = config_from_args(build_parser().parse_args([*flags(pool, tmp_path / "s"), "--config", str(yaml_file)]))
    assert config.labels == tuple(labels)  # --labels given: the flag's
    yaml_file.write_text(f"labels: {labels[0]}\n")  # one label, as al.simulate reads it
    config = config_from_args(build_parser().parse_args([*without_labels, "--config", str(yaml_file)]))
    assert config.labels == (labels[0],)
    yaml_file.write_text("labels: {food: 1}\n")
    with pytest.raises(ConfigError, match=r"labels in .*loop\.yaml must be a list of names, got \{'food': 1\}"):
        config_from_args(build_parser().parse_args([*without_labels, "--config", str(yaml_file)]))
    yaml_file.write_text("seed: 3\n")
    with pytest.raises(ConfigError, match=r"or as labels: \[A, B, C\] in a --config file$"):
        config_from_args(build_parser().parse_args([*without_labels, "--config", str(yaml_file)]))


def test_too_few_folds_say_what_to_give(pool, tmp_path, capsys, serve_nothing):
    assert main(flags(pool, tmp_path / "s", "--folds", "1")) == 2
    assert capsys.readouterr().err == ("error: --folds must be at least 2, got 1: cross-validation holds out one fold "
                                       "of K; give --folds 2 or more (5 when left out), or measure on labeled texts "
                                       "of your own with --dev FILE\n")
    assert not (tmp_path / "s").exists()
