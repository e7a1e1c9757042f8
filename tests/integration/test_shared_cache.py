"""Two processes sharing a cache do once-per-pool work once (real MiniLM, 120 messages).

Both processes look in the cache before either has written to it, so without the
cache lock both would encode the pool (and both would fit the ALPS head).
"""
from __future__ import annotations

import multiprocessing
import os
import warnings

import numpy as np
import pytest

pytestmark = pytest.mark.integration
N_TEXTS = 120


@pytest.fixture(scope="module")
def texts(disaster_messages):
    return disaster_messages(N_TEXTS, random_state=1)


def embed_in_child(cache: str, texts: list[str]) -> tuple[int, np.ndarray]:
    os.environ["AL_CACHE_DIR"] = cache
    from al.embedders import SentenceEmbedder

    embedder = SentenceEmbedder()
    vectors = embedder.encode(texts)
    return embedder.n_encoded_, vectors


def surprisal_in_child(cache: str, texts: list[str]) -> tuple[list[str], np.ndarray]:
    os.environ["AL_CACHE_DIR"] = cache
    from al.embedders.surprisal import MLMSurprisal

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vectors = MLMSurprisal(mlm_head="fit", fit_steps=5)(texts)
    return [str(w.message) for w in caught if "ALPS" in str(w.message)], vectors


def in_two_processes(function, cache, texts):
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        return pool.starmap(function, [(str(cache), texts)] * 2)


def test_two_processes_encode_a_pool_once(texts, tmp_path):
    (n_a, a), (n_b, b) = in_two_processes(embed_in_child, tmp_path, texts)
    assert sorted([n_a, n_b]) == [0, N_TEXTS]
    np.testing.assert_array_equal(a, b)
    assert len(list((tmp_path / "embeddings").glob("*/shard-*.npz"))) == 1


def test_two_processes_fit_one_alps_head_and_compute_surprisal_once(texts, tmp_path):
    (said_a, a), (said_b, b) = in_two_processes(surprisal_in_child, tmp_path, texts)
    def told(said: list[str]) -> list[str]:
        return ["fitting" if "fitting it now" in m else "loss" if "masked-LM loss" in m
                else "loaded" if "loaded from the cache" in m else m for m in said]

    # one fitted (said so before the fit, its loss after), the other waited and loaded it
    assert sorted([told(said_a), told(said_b)]) == [["fitting", "loss"], ["loaded"]]
    np.testing.assert_array_equal(a, b)
    assert len(list((tmp_path / "alps" / "heads").glob("*/*.pt"))) == 1
    assert len(list((tmp_path / "alps" / "surprisal").glob("*/shard-*.npz"))) == 1
