"""What the tests of ``python -m al.annotate``'s command line share: a pool file, its flags, a server that serves
nothing, and a session opened with hash embeddings instead of a model."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from al.annotate.__main__ import build_parser, prepare_session  # noqa: E402
from al.annotate.app import create_app  # noqa: E402
from tests.conftest import hash_embed, synthetic_corpus  # noqa: E402

LOOP = ["--initial", "10", "--step", "5", "--budget", "20", "--strategy", "class_embedding", "--folds", "2"]


@pytest.fixture
def pool(tmp_path):
    """200 synthetic texts with ids t0..t199 (no labels given), their gold labels and label names."""
    corpus = synthetic_corpus(200)
    path = tmp_path / "texts.jsonl"
    path.write_text("".join(json.dumps({"id": f"t{i}", "text": t}) + "\n" for i, t in enumerate(corpus.texts)))
    return path, corpus.Y.toarray(), list(corpus.label_names)


@pytest.fixture
def serve_nothing(monkeypatch):
    """``main`` with hash embeddings and a server that returns at once (as if stopped by Ctrl-C)."""
    serve_nothing_now(monkeypatch)


def serve_nothing_now(monkeypatch) -> None:
    """:func:`serve_nothing` from here on in a test (one that first opens sessions of its own)."""
    import uvicorn

    import al.annotate.__main__ as cli

    real_prepare = cli.prepare_session
    monkeypatch.setattr(cli, "prepare_session", lambda args: real_prepare(args, embed=hash_embed))
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)


def flags(pool, out, *extra, data=None):
    """The start command's flags for ``pool`` (or the file ``data``) into ``out``, on a free port."""
    path, _, labels = pool
    return ["--data", str(data or path), "--labels", *labels, "--out", str(out), "--port", "0", *LOOP, *extra]


def opened(pool, out, *extra, embed=hash_embed):
    """A session prepared from ``flags`` and opened (its loop not started)."""
    return prepare_session(build_parser().parse_args(flags(pool, out, *extra)), embed=embed).open()


def answer(pool, out, n):
    """Start a session in ``out``, answer ``n`` texts with their gold labels, stop it; the ids answered."""
    _, Y, labels = pool
    session = opened(pool, out).start()
    client = TestClient(create_app(session), base_url="http://127.0.0.1")
    answered = []
    try:
        for _ in range(n):
            text = client.get("/api/state", params={"wait": 30}).json()["text"]
            gold = [name for j, name in enumerate(labels) if Y[int(text["id"][1:]), j]]
            assert client.post("/api/answer", json={"id": text["id"], "labels": gold}).status_code == 200
            answered.append(text["id"])
    finally:
        session.close()
    return answered
