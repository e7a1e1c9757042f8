"""What a review of ``python -m al.annotate`` found unsafe or misleading: an export over another run's files, a
start-up race on a new --out, someone else's config.json, a GPU that is not there, an empty or unknown --host, messages
that named the wrong cause, and early refusals without the security headers."""
from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import socket
import time

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

import al.annotate.__main__ as cli  # noqa: E402
from al.annotate.__main__ import listen, main  # noqa: E402
from al.annotate.app import SECURITY_HEADERS, create_app  # noqa: E402
from al.annotate.session import LOCK_FILE, Session  # noqa: E402
from al.annotate.store import DB_FILE  # noqa: E402
from al.errors import ConfigError  # noqa: E402
from tests.unit.annotate_cli import answer, flags, opened, pool, serve_nothing  # noqa: E402,F401


def one_line(capsys):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err


# ------------------------------------------------------------ 1. export over another run's or session's files

def test_export_never_writes_over_another_run_s_or_session_s_files(pool, tmp_path, capsys):
    answer(pool, tmp_path / "s1", 2)
    shutil.copytree(tmp_path / "s1", tmp_path / "s2")  # another session
    run = tmp_path / "run"  # a simulation's run
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"config": {"strategy": {"name": "random"}}, "version": "0"}))
    (run / "rounds.jsonl").write_text('{"round": 0}\n')
    plain = tmp_path / "plain"  # no run (a config.json of another program), but files named as al's records
    plain.mkdir()
    for name in ("config.json", f"{DB_FILE}-wal"):
        (plain / name).write_text("{}\n")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "rounds.jsonl").write_text("{}\n")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "link.jsonl").symlink_to(tmp_path / "s2" / "config.json")
    files = [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_symlink()]
    before = {p: p.read_bytes() for p in files}
    for target, words in ((tmp_path / "s2" / "config.json", "named as al's config.json"),
                          (tmp_path / "s2" / DB_FILE, f"named as al's {DB_FILE}"),
                          (tmp_path / "s2" / "new.jsonl", f"which holds a run or session of al (its {DB_FILE})"),
                          (run / "rounds.jsonl", "named as al's rounds.jsonl"),
                          (run / "new.jsonl", "which holds a run or session of al (its rounds.jsonl)"),
                          (plain / "config.json", "named as al's config.json"),
                          (tmp_path / "notes" / "rounds.jsonl", "named as al's rounds.jsonl"),
                          (plain / f"{DB_FILE}-wal", f"named as al's {DB_FILE}"),
                          (mine / "link.jsonl", "named as al's config.json")):
        assert main(["export", str(tmp_path / "s1"), "-o", str(target)]) == 2, target
        err = one_line(capsys)
        assert words in err and "-o labeled.jsonl" in err, err
    assert {p: p.read_bytes() for p in files} == before
    assert not (tmp_path / "s2" / "new.jsonl").exists() and not (run / "new.jsonl").exists()
    for folder in (mine, mine, plain):  # an export of one's own is written over, as before
        assert main(["export", str(tmp_path / "s1"), "-o", str(folder / "labeled.jsonl")]) == 0
        assert len((folder / "labeled.jsonl").read_text().splitlines()) == 2
    capsys.readouterr()


# ------------------------------------------------------------ 2. two servers starting on one new --out

def other_session_appears(monkeypatch, pool, tmp_path, *, hold_lock=False):
    """Between the moment ``open`` could see that ``--out`` is new and its lock, another server makes it: a session
    with an answer (copied from ``theirs``), its lock held too with ``hold_lock``. Returns the files held open."""
    answer(pool, tmp_path / "theirs", 1)
    real = Session._hold_lock
    held = []

    def racing(self):
        shutil.copytree(tmp_path / "theirs", self.directory)
        if hold_lock:
            lock = open(self.directory / LOCK_FILE, "a+")
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held.append(lock)
        return real(self)

    monkeypatch.setattr(Session, "_hold_lock", racing)
    return held


def test_a_start_never_removes_a_session_another_server_made_a_moment_before(pool, tmp_path, monkeypatch):
    other_session_appears(monkeypatch, pool, tmp_path)
    out = tmp_path / "new"
    with pytest.raises(ConfigError, match="holds a session with other settings"):
        opened(pool, out, "--step", "4")  # fails once it holds the lock: other settings
    assert (out / DB_FILE).is_file() and (out / "config.json").is_file()  # the other server's answers are there


def test_a_start_never_removes_a_session_another_server_holds(pool, tmp_path, monkeypatch):
    held = other_session_appears(monkeypatch, pool, tmp_path, hold_lock=True)
    out = tmp_path / "new"
    try:
        with pytest.raises(ConfigError, match="is being served already"):
            opened(pool, out)
        assert (out / DB_FILE).is_file() and (out / "config.json").is_file()
    finally:
        held[0].close()


def test_a_start_that_fails_removes_its_own_new_folder_before_it_lets_go_of_the_lock(pool, tmp_path, monkeypatch):
    import al.annotate.session as session_module

    locked_while_removed = []
    real_rmtree = shutil.rmtree

    def rmtree(path, *args, **kwargs):
        with open(path / LOCK_FILE) as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
                locked_while_removed.append(False)
            except BlockingIOError:
                locked_while_removed.append(True)
        real_rmtree(path, *args, **kwargs)

    def broken(self):
        raise RuntimeError("the loop cannot be built")

    monkeypatch.setattr(session_module.shutil, "rmtree", rmtree)
    monkeypatch.setattr(Session, "_simulation", broken)
    out = tmp_path / "new"
    with pytest.raises(RuntimeError):
        opened(pool, out)
    assert not out.exists() and locked_while_removed == [True]


def test_a_start_makes_its_folder_again_when_a_failed_start_removed_it_before_the_lock(pool, tmp_path, monkeypatch):
    """The other start made the folder (so this one's mkdir failed), failed, and removed it before this opened its
    lock: this start makes it again and goes on, with no traceback."""
    import builtins

    import al.annotate.session as session_module

    out = tmp_path / "new"
    removed = []

    def racing_open(path, *args, **kwargs):
        if os.path.basename(path) == LOCK_FILE and not removed:
            shutil.rmtree(out)  # the other start's clean-up, a moment before this open
            removed.append(path)
        return builtins.open(path, *args, **kwargs)

    out.mkdir()  # made by the other start
    monkeypatch.setattr(session_module, "open", racing_open, raising=False)
    session = opened(pool, out)
    session.close()
    assert removed and (out / "config.json").is_file()


# ------------------------------------------------------------ 3. someone else's config.json without a config

def test_a_config_json_without_a_config_is_one_line_on_start_and_export(pool, tmp_path, capsys, serve_nothing):
    out = tmp_path / "theirs"
    out.mkdir()
    (out / "config.json").write_text('{"a": 1}')
    assert main(flags(pool, out)) == 2
    err = one_line(capsys)
    assert f"{out} holds a config.json that no annotation session wrote" in err and "pass another --out" in err, err
    assert main(["export", str(out), "-o", str(tmp_path / "labeled.jsonl")]) == 2
    err = one_line(capsys)
    assert f"{out} holds a config.json that no annotation session wrote" in err, err
    assert (out / "config.json").read_text() == '{"a": 1}' and not (tmp_path / "labeled.jsonl").exists()
    assert [p.name for p in out.iterdir()] == ["config.json"]  # refused before anything is written there


# ------------------------------------------------------------ 4. a GPU that is not there; a session that failed

def test_device_cuda_without_a_gpu_is_refused_before_serving(pool, tmp_path, capsys, serve_nothing, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "s"
    assert main(flags(pool, out, "--device", "cuda")) == 2
    err = one_line(capsys)
    assert "device 'cuda' asked for, but no CUDA GPU is visible; use --device cpu or auto" in err, err
    assert not out.exists()
    assert capsys.readouterr().out == ""  # no address printed


def test_a_failed_session_shows_no_text_and_refuses_answers(pool, tmp_path, capsys):
    def embed(texts):
        raise RuntimeError("CUDA error: no kernel image")

    session = opened(pool, tmp_path / "s", embed=embed).start()
    client = TestClient(create_app(session), base_url="http://127.0.0.1")
    try:
        deadline = time.monotonic() + 30
        while (state := client.get("/api/state").json())["phase"] != "failed" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert state["phase"] == "failed" and state["text"] is None, state
        assert "The answers so far are kept; stop this server (Ctrl-C in its terminal)" in state["message"], state["message"]
        err = capsys.readouterr().err  # the terminal says it too, in one line after the traceback
        assert err.splitlines()[-1] == ("error: the session stopped: RuntimeError: CUDA error: no kernel image. The "
                                        "answers so far are kept; stop this server (Ctrl-C in its terminal), fix the "
                                        "cause, and run the same command again to go on"), err
        pending = session.annotator.current()  # asked while the pool was embedded, and still waiting
        assert pending is not None
        text_id = session.texts.ids[pending]
        response = client.post("/api/answer", json={"id": text_id, "labels": []})
        assert response.status_code == 409, response.text
        detail = response.json()["detail"]
        assert detail.startswith("the session stopped (RuntimeError: CUDA error: no kernel image), so no answer is "
                                 "taken") and "run the same command again" in detail, detail
        assert session.store.all() == []
    finally:
        session.close()


# ------------------------------------------------------------ 5, 6b. an empty or unknown --host

@pytest.mark.parametrize("host", ["", " ", "[]"])
def test_an_empty_host_is_refused(pool, tmp_path, capsys, serve_nothing, monkeypatch, host):
    def no_listening(host, port):
        raise AssertionError(f"listened on {host!r}")

    monkeypatch.setattr(cli, "listen", no_listening)
    assert main(flags(pool, tmp_path / "s", "--host", host)) == 2
    err = one_line(capsys)
    assert err.startswith(f"error: --host must name an address, got {host!r}; leave it out for 127.0.0.1"), err
    assert not (tmp_path / "s").exists()


class FailingSocket(socket.socket):
    """A socket whose bind fails as ``error`` says (no test listens anywhere but 127.0.0.1)."""

    error: OSError

    def bind(self, address):
        raise self.error


@pytest.mark.parametrize("error, words", [
    (socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
     "cannot listen on nosuch.invalid (Name or service not known): --host is a name that does not resolve; pass "
     "another --host, e.g. 127.0.0.1"),
    (OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address"),
     "cannot listen on nosuch.invalid (Cannot assign requested address): --host is no address of this machine; "
     "pass another --host"),
    (OSError(errno.EADDRINUSE, "Address already in use"),
     "cannot listen on nosuch.invalid:8765 (Address already in use); pass another --port"),
], ids=["unresolved", "not-here", "busy"])
def test_a_host_that_cannot_be_listened_on_names_host_and_a_busy_port_names_port(monkeypatch, error, words):
    monkeypatch.setattr(FailingSocket, "error", error, raising=False)
    monkeypatch.setattr(cli.socket, "socket", FailingSocket)
    with pytest.raises(ConfigError) as caught:
        listen("nosuch.invalid", 8765)
    assert str(caught.value).startswith(words), caught.value


# ------------------------------------------------------------ 6a, 6c. messages that named the wrong cause

@pytest.mark.parametrize("make", [False, True], ids=["missing", "empty"])
def test_export_into_a_folder_that_holds_no_session_says_so(tmp_path, capsys, make):
    folder = tmp_path / "nothing"
    if make:
        folder.mkdir()
    assert main(["export", str(folder), "-o", str(folder / "x.jsonl")]) == 2
    err = one_line(capsys)
    held = "holds no annotation session (config.json and answers.sqlite)" if make else "does not exist"
    assert err == f"error: {folder} {held}; pass the --out of python -m al.annotate\n", err


def test_export_of_a_misspelt_session_folder_names_the_session_beside_it(tmp_path, capsys):
    (tmp_path / "aid").mkdir()
    (tmp_path / "aid" / DB_FILE).write_bytes(b"")  # a session's database: what tells a session's folder
    (tmp_path / "other").mkdir()
    assert main(["export", str(tmp_path / "ai"), "-o", str(tmp_path / "x.jsonl")]) == 2
    assert one_line(capsys) == (f"error: {tmp_path / 'ai'} does not exist (did you mean {tmp_path / 'aid'}?); pass "
                                f"the --out of python -m al.annotate\n")
    assert main(["export", str(tmp_path / "zzz"), "-o", str(tmp_path / "x.jsonl")]) == 2
    assert one_line(capsys) == f"error: {tmp_path / 'zzz'} does not exist; pass the --out of python -m al.annotate\n"


def test_another_data_file_on_a_session_read_with_its_own_text_column_is_named_as_such(pool, tmp_path, capsys,
                                                                                       serve_nothing):
    path, _, labels = pool
    bodies = tmp_path / "bodies.jsonl"  # the texts in a column 'body'
    bodies.write_text("".join(json.dumps({"id": row["id"], "body": row["text"]}) + "\n"
                              for row in map(json.loads, path.read_text().splitlines())))
    out = tmp_path / "s"
    assert main(flags(pool, out, "--text-column", "body", data=bodies)) == 0
    capsys.readouterr()
    assert main(flags(pool, out)) == 2  # texts.jsonl, read with 'text'
    err = one_line(capsys)
    assert err.startswith(f"error: {path} is not the session's data file, {bodies} (other bytes); ")
    assert f"removing {out} loses nothing" in err and "text column" not in err, err


# ------------------------------------------------------------ 7. security headers on early refusals

def test_requests_refused_before_routing_carry_the_security_headers(pool, tmp_path):
    session = opened(pool, tmp_path / "s")
    try:
        loopback = TestClient(create_app(session), base_url="http://evil.example")
        guarded = TestClient(create_app(session, token="s3cret-s3cret-s3cret", loopback=False),
                             base_url="http://192.0.2.7:8765")
        own = TestClient(create_app(session), base_url="http://127.0.0.1")
        json_type = {"Content-Type": "application/json"}
        for response, status in (
                (loopback.get("/api/state"), 403),
                (loopback.get("/", headers={"Accept": "text/html"}), 403),  # the refusal as a page
                (guarded.get("/api/state"), 401),
                (guarded.get("/", headers={"Accept": "text/html"}), 401),
                (guarded.get("/?token=s3cret-s3cret-s3cret", follow_redirects=False), 303),
                (own.post("/api/answer", content=b"{}", headers={"Content-Type": "text/plain"}), 415),
                (own.post("/api/answer", content=b"{" * 70_000, headers=json_type), 413),
                (own.post("/api/answer", content=iter([b"{}"]), headers=json_type), 411),
                (own.post("/api/answer", content=b"{}", headers={**json_type, "Origin": "http://evil.example"}), 403),
        ):
            assert response.status_code == status, response.text
            assert {k: response.headers.get(k) for k in SECURITY_HEADERS} == SECURITY_HEADERS, status
    finally:
        session.close()


def test_a_refusal_shown_as_a_page_escapes_the_host_it_quotes(pool, tmp_path):
    """The Host header is the requester's: quoted in a page, it is text, never markup."""
    session = opened(pool, tmp_path / "s")
    try:
        client = TestClient(create_app(session), base_url="http://127.0.0.1")
        page = client.get("/", headers={"Accept": "text/html", "Host": "<script>alert(1)</script>"})
        assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
        assert "<script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    finally:
        session.close()


# ------------------------------------------------------------ two tabs changing one answer

def test_a_change_of_an_answer_changed_elsewhere_since_is_refused(pool, tmp_path):
    _, _, labels = pool
    session = opened(pool, tmp_path / "s").start()
    client = TestClient(create_app(session), base_url="http://127.0.0.1")
    try:
        text = client.get("/api/state", params={"wait": 30}).json()["text"]
        assert client.post("/api/answer", json={"id": text["id"], "labels": [labels[0]]}).status_code == 200
        seen = {"labels": [labels[0]], "skipped": False}  # what both tabs show
        first = client.put("/api/answers", json={"id": text["id"], "labels": [labels[1]], "expected": seen})
        assert first.status_code == 200, first.text
        second = client.put("/api/answers", json={"id": text["id"], "labels": [labels[2]], "expected": seen})
        assert second.status_code == 409, second.text
        assert second.json()["detail"] == (f"the answer to text {text['id']!r} was changed elsewhere (another tab?) "
                                           f"since this page showed it; it is now: {labels[1]}; reload to see it, "
                                           f"then change it again if need be")
        assert [a.labels for a in session.store.all()] == [(labels[1],)]  # the first change stands
        # the same labels in another order are the same answer; without "expected" a change is taken as before
        now = {"labels": [labels[1]], "skipped": False}
        assert client.put("/api/answers", json={"id": text["id"], "labels": labels[:2], "expected": now}
                          ).status_code == 200
        assert client.put("/api/answers", json={"id": text["id"], "labels": [], "skipped": True,
                                                "expected": {"labels": labels[1::-1]}}).status_code == 200
        assert client.put("/api/answers", json={"id": text["id"], "labels": [labels[0]]}).status_code == 200
        assert [(a.labels, a.skipped) for a in session.store.all()] == [((labels[0],), False)]
    finally:
        session.close()


def test_a_strategy_s_error_that_says_to_run_the_command_again_is_not_told_twice():
    from al.annotate.session import stopped_advice

    assert stopped_advice("strategy 'x' raised KeyError: 'k'; no round was recorded: fix it and run the same command "
                          "to go on") == "The answers so far are kept; stop this server (Ctrl-C in its terminal) before that"
    assert stopped_advice("RuntimeError: boom").startswith("The answers so far are kept; stop this server (Ctrl-C in its "
                                                          "terminal), fix the cause, and run the same command again")
