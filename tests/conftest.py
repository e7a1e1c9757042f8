"""Shared fixtures: small corpora and a hash-based embedder (no model, milliseconds)."""
from __future__ import annotations

import configparser
import hashlib
from pathlib import Path

import numpy as np
import pytest

from al.datasets.corpus import Corpus, make_corpus

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
REUTERS_TARBALL = SHARED / "data" / "reuters21578.tar.gz"
ENTRY_POINT_GROUPS = ("al.strategies", "al.strategy_families")


def checkout_entry_points() -> dict[str, dict[str, str]]:
    """``{group: {name: "module:attr"}}`` of the strategy groups in this checkout's setup.cfg."""
    parser = configparser.ConfigParser()
    parser.read(REPO / "setup.cfg", encoding="utf-8")
    section = parser["options.entry_points"]
    out: dict[str, dict[str, str]] = {}
    for group in ENTRY_POINT_GROUPS:
        lines = [line.strip() for line in section.get(group, "").splitlines() if line.strip()]
        out[group] = {name.strip(): value.strip() for name, _, value in (line.partition("=") for line in lines)}
    return out


def hash_embed(texts, dim: int = 64) -> np.ndarray:
    """Bag of hashed words, L2-normalised: texts sharing words get similar vectors."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, text in enumerate(texts):
        for word in text.split():
            h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
            out[i, h % dim] += 1.0 if (h >> 16) & 1 else -1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms > 0, norms, 1.0)


def synthetic_corpus(n_texts: int = 400, n_labels: int = 4, seed: int = 0) -> Corpus:
    """Texts made of label words plus noise; label j is rarer as j grows."""
    rng = np.random.default_rng(seed)
    prevalence = np.linspace(0.45, 0.08, n_labels)
    Y = (rng.random((n_texts, n_labels)) < prevalence).astype(np.int8)
    empty = ~Y.any(axis=1)
    Y[empty, rng.integers(0, n_labels, empty.sum())] = 1
    texts = []
    for i in range(n_texts):
        words = [f"noise{rng.integers(50)}" for _ in range(6)]
        for j in np.flatnonzero(Y[i]):
            words += [f"lab{j}w{rng.integers(4)}" for _ in range(3)]
        rng.shuffle(words)
        texts.append(f"doc{i} " + " ".join(words))
    perm = rng.permutation(n_texts)
    n_test = n_dev = n_texts // 8
    splits = {"test": perm[:n_test], "dev": perm[n_test : n_test + n_dev], "train": perm[n_test + n_dev :]}
    return make_corpus("synthetic", texts, Y, [f"label{j}" for j in range(n_labels)], splits)


@pytest.fixture
def corpus() -> Corpus:
    return synthetic_corpus()


#: What a test session may leave in the checkout: bytecode, the test tools' own caches, an editable install.
SESSION_LITTER = ("__pycache__", ".pytest_cache", ".hypothesis", ".benchmarks")


def _checkout_outputs() -> set[str]:
    """The checkout's top-level entries and those of ``runs/``, where a command run in it writes by default."""
    found = {p.name for p in REPO.iterdir()}
    runs = REPO / "runs"
    if runs.is_dir():
        found |= {f"runs/{p.name}" for p in runs.iterdir()}
    return {name for name in found if name not in SESSION_LITTER and not name.endswith(".egg-info")}


@pytest.fixture(scope="session", autouse=True)
def checkout_left_as_found():
    """No test writes into the checkout: a run directory a test made there refused README command 1's next run,
    and one made by README command 1 first refused a test that ran in the checkout."""
    before = _checkout_outputs()
    yield
    new = sorted(_checkout_outputs() - before)
    if new:
        pytest.fail(f"tests wrote into the checkout {REPO}: {', '.join(new)}; a test that runs a command must "
                    f"run it in tmp_path (monkeypatch.chdir(tmp_path)) or give it --out", pytrace=False)


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own embedding/model cache directory."""
    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path_factory.mktemp("al-cache")))


@pytest.fixture(autouse=True)
def fresh_reads(monkeypatch):
    """Every test reads its data afresh (a test may patch a reader, or count what a load warns)."""
    import al.datasets

    monkeypatch.setattr(al.datasets, "_LAST_READ", {})
