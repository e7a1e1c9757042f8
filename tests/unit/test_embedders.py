"""The one model cache key (no model)."""
from __future__ import annotations

from al.embedders import SentenceEmbedder
from al.embedders.surprisal import MLMSurprisal
from al.models import model_key


def test_one_model_key_for_both_embedders(tmp_path):
    assert model_key("sentence-transformers/all-MiniLM-L6-v2") == model_key("all-MiniLM-L6-v2") == "all-MiniLM-L6-v2"
    assert model_key("someone/some-model") == "someone__some-model"
    local = tmp_path / "my-model"
    local.mkdir()
    key = model_key(str(local))
    assert key.startswith("path-") and len(key) == len("path-") + 12
    assert model_key(str(local) + "/") == key
    other = tmp_path / "other"
    other.mkdir()
    assert model_key(str(other)) != key
    for model in ("all-MiniLM-L6-v2", str(local)):
        assert SentenceEmbedder(model).cache_key.startswith(model_key(model) + "-")
        assert MLMSurprisal(model).model_key == model_key(model)
