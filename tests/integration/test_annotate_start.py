"""A session's start with the real MiniLM: what the page says it embeds is what the cache lacks."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("fastapi")

from al.annotate.__main__ import build_parser, build_session  # noqa: E402

pytestmark = pytest.mark.integration


def _session(tmp_path, texts, *extra):
    data = tmp_path / "texts.jsonl"
    data.write_text("".join(json.dumps({"id": f"t{i}", "text": t}) + "\n" for i, t in enumerate(texts)))
    args = build_parser().parse_args(["--data", str(data), "--labels", "food", "water", "--out", str(tmp_path / "s"),
                                      "--initial", "4", "--step", "3", "--budget", "10", "--folds", "2", *extra])
    return build_session(args)


def test_the_page_counts_the_texts_the_cache_lacks(tmp_path, disaster_messages):
    """It said "embedding 401 texts" where 227 of them were cached and 174 were embedded."""
    from al.embedders import SentenceEmbedder

    texts = disaster_messages(30, random_state=3)
    session = _session(tmp_path, texts)
    try:
        pool = session.simulation.corpus.texts.tolist()  # as the session reads them (stripped)
        SentenceEmbedder("sentence-transformers/all-MiniLM-L6-v2").encode(pool[:12])  # an earlier run's vectors
        assert session._preparing() == "embedding 30 texts (cached after the first start)"  # not counted yet
        session._count_to_embed()  # as the loop starts
        assert session._preparing() == "embedding 18 of the 30 texts (12 cached)"
        assert session.simulation.embed(pool).shape == (30, 384)
        session._count_to_embed()  # counted once: what the start embeds
        assert session._to_embed == (18, 30)
    finally:
        session.close()


def test_a_session_offers_its_embedder_to_alps_s_encoder_pass(tmp_path, disaster_messages):
    """The count's first version wrapped the embedder in a function: the engine, which finds the embedder through the
    bound method, no longer let ALPS's surprisal pass give the pool's vectors, and the pool was encoded twice."""
    from al.embedders import SentenceEmbedder

    session = _session(tmp_path, disaster_messages(30, random_state=4), "--strategy", "alps")
    try:
        assert isinstance(session.simulation.embed.__self__, SentenceEmbedder)
        assert session.simulation.offer_encoder_pass() is True
    finally:
        session.close()
