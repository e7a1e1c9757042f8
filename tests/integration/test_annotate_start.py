"""A session's start with the real MiniLM: what the page says it embeds is what the cache lacks."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("fastapi")

from al.annotate.__main__ import build_parser, build_session  # noqa: E402

pytestmark = pytest.mark.integration


def test_the_page_counts_the_texts_the_cache_lacks(tmp_path, disaster_messages):
    """It said "embedding 401 texts" where 227 of them were cached and 174 were embedded."""
    from al.embedders import SentenceEmbedder

    texts = disaster_messages(30, random_state=3)
    data = tmp_path / "texts.jsonl"
    data.write_text("".join(json.dumps({"id": f"t{i}", "text": t}) + "\n" for i, t in enumerate(texts)))
    SentenceEmbedder("sentence-transformers/all-MiniLM-L6-v2").encode(texts[:12])  # an earlier run's vectors
    args = build_parser().parse_args(["--data", str(data), "--labels", "food", "water", "--out", str(tmp_path / "s"),
                                      "--initial", "4", "--step", "3", "--budget", "10", "--folds", "2"])
    session = build_session(args)
    try:
        assert session._preparing() == "embedding 30 texts (cached after the first start)"  # not counted yet
        vectors = session.simulation.embed(texts)  # the pool, as the loop embeds it first
        assert vectors.shape == (30, 384)
        assert session._preparing() == "embedding 18 of the 30 texts (12 cached)"
        session.simulation.embed(texts[:2])  # a later call counts nothing
        assert session._to_embed == (18, 30)
    finally:
        session.close()
