"""Reuters-21578 loading: a hand-made SGML snippet everywhere, the real collection where present."""
from __future__ import annotations

import os
import tarfile
import warnings
from pathlib import Path

import numpy as np
import pytest

from al.datasets.corpus import Corpus
from al.datasets.reuters import load_reuters, parse_reuters_sgml
from al.errors import ConfigError, DataError

REUTERS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "reuters21578.tar.gz"
needs_reuters = pytest.mark.skipif(
    not REUTERS.exists(),
    reason=f"Reuters-21578 not found at {REUTERS}: put reuters21578.tar.gz in ../shared/data to run",
)

# Five records in the layout of the real files: a train document with entities and control
# characters, a brief train document (title only, extra CSECS attribute, a topic with no test
# document), an unprocessed test document (no title, no body), a NOT-USED document and a
# train document without topics.
SGML = """<!DOCTYPE lewis SYSTEM "lewis.dtd">
<REUTERS TOPICS="YES" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="5544" NEWID="1">
<DATE>26-FEB-1987 15:01:01.79</DATE>
<TOPICS><D>grain</D><D>wheat</D><D>grain</D></TOPICS>
<PLACES><D>usa</D></PLACES>
<UNKNOWN>&#5;&#5;&#5;C T</UNKNOWN>
<TEXT>&#2;
<TITLE>&lt;CARGILL&gt; SEES   WHEAT EXPORTS</TITLE>
<DATELINE>    CHICAGO, Feb 26 - </DATELINE><BODY>Exports rose 5 pct &amp; more,
traders said.
    Prices \x7fwere firm.
 Reuter
&#3;</BODY></TEXT>
</REUTERS>
<REUTERS TOPICS="YES" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" CSECS="540385847" OLDID="16519" NEWID="2">
<TOPICS><D>wheat</D><D>cocoa</D></TOPICS>
<TEXT TYPE="BRIEF">&#2;
******<TITLE>WHEAT PRICES UP
</TITLE>Blah blah blah.
&#3;
</TEXT>
</REUTERS>
<REUTERS TOPICS="YES" LEWISSPLIT="TEST" CGISPLIT="TRAINING-SET" OLDID="20000" NEWID="3">
<TOPICS><D>wheat</D><D>grain</D></TOPICS>
<TEXT TYPE="UNPROC">&#2;
Grain stocks........1,200 up.....50
 Reuter
&#3;</TEXT>
</REUTERS>
<REUTERS TOPICS="YES" LEWISSPLIT="NOT-USED" CGISPLIT="PUBLISHED-TESTSET" OLDID="20001" NEWID="4">
<TOPICS><D>wheat</D></TOPICS>
<TEXT><TITLE>UNUSED</TITLE><BODY>Not in ModApte.</BODY></TEXT>
</REUTERS>
<REUTERS TOPICS="YES" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="20002" NEWID="5">
<TOPICS></TOPICS>
<TEXT><TITLE>NO TOPICS</TITLE><BODY>No category.</BODY></TEXT>
</REUTERS>
"""
TEXTS = [
    "<CARGILL> SEES WHEAT EXPORTS\nExports rose 5 pct & more, traders said. Prices were firm. Reuter",
    "WHEAT PRICES UP",
    "Grain stocks........1,200 up.....50 Reuter",
]


def write_snippet(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "reut2-000.sgm").write_bytes(SGML.encode("latin-1"))
    return folder


def as_tarball(folder: Path, target: Path) -> Path:
    with tarfile.open(target, "w:gz") as tar:
        tar.add(folder, arcname="reuters21578")
    return target


@pytest.fixture
def snippet(tmp_path: Path) -> Path:
    return write_snippet(tmp_path / "flat")


def test_parse_records(snippet: Path) -> None:
    docs = list(parse_reuters_sgml((snippet / "reut2-000.sgm").read_text(encoding="latin-1")))
    assert [d.newid for d in docs] == [1, 2, 3, 4, 5]
    assert [d.split for d in docs] == ["train", "train", "test", None, "train"]
    assert [d.topics for d in docs] == [("grain", "wheat"), ("wheat", "cocoa"), ("wheat", "grain"), ("wheat",), ()]
    assert [d.text for d in docs[:3]] == TEXTS


@pytest.mark.parametrize("layout", ["flat", "nested", "tarball"])
def test_snippet_corpus(tmp_path: Path, layout: str) -> None:
    folder = write_snippet(tmp_path / "reuters21578")
    path = {"flat": folder, "nested": tmp_path, "tarball": as_tarball(folder, tmp_path / "r.tar.gz")}[layout]
    corpus = load_reuters(path, dev_fraction=0.5, seed=0)
    assert corpus.name == "reuters"
    assert corpus.texts.tolist() == TEXTS
    assert corpus.label_names == ("grain", "wheat")  # cocoa has no test document
    np.testing.assert_array_equal(corpus.Y.toarray(), [[1, 1], [0, 1], [1, 1]])
    assert sorted([*corpus.splits["train"], *corpus.splits["dev"]]) == [0, 1]
    assert len(corpus.splits["dev"]) == 1
    assert corpus.splits["test"].tolist() == [2]


def test_no_dev(snippet: Path) -> None:
    corpus = load_reuters(snippet, dev_fraction=0.0)
    assert corpus.splits["train"].tolist() == [0, 1]
    assert corpus.splits["dev"].tolist() == []


@pytest.mark.parametrize("dev_fraction", [-0.1, 1.0])
def test_bad_dev_fraction(snippet: Path, dev_fraction: float) -> None:
    with pytest.raises(ConfigError, match="dev_fraction"):
        load_reuters(snippet, dev_fraction=dev_fraction)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="expected a directory with reut2-.*sgm files or reuters21578.tar.gz"):
        load_reuters(tmp_path / "absent")


def test_directory_without_sgml(tmp_path: Path) -> None:
    (tmp_path / "README.txt").write_text("not the data")
    with pytest.raises(DataError, match="no reut2-.*sgm files"):
        load_reuters(tmp_path)


def test_unreadable_tarball(tmp_path: Path) -> None:
    path = tmp_path / "reuters21578.tar.gz"
    path.write_bytes(b"\x1f\x8b this is not a gzip stream")
    with pytest.raises(DataError, match="cannot read .* as a tarball"):
        load_reuters(path)


def test_tarball_without_sgml(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "README.txt").write_text("not the data")
    with pytest.raises(DataError, match="no reut2-.*sgm files"):
        load_reuters(as_tarball(tmp_path / "data", tmp_path / "r.tar.gz"))


def test_no_shared_category(tmp_path: Path) -> None:
    (tmp_path / "reut2-000.sgm").write_text(SGML.replace('LEWISSPLIT="TEST"', 'LEWISSPLIT="TRAIN"'), encoding="latin-1")
    with pytest.raises(DataError, match="has both a ModApte train and a test document"):
        load_reuters(tmp_path)


@pytest.fixture(scope="module")
def reuters() -> Corpus:
    return load_reuters(REUTERS)


def n_multi_label(corpus: Corpus) -> int:
    return int((np.asarray(corpus.Y.sum(axis=1)).ravel() > 1).sum())


@pytest.mark.reuters
@needs_reuters
def test_modapte_counts(reuters: Corpus) -> None:
    splits = {name: len(idx) for name, idx in reuters.splits.items()}
    assert splits == {"train": 6993, "dev": 777, "test": 3019}  # dev: 10% of 7,770 ModApte train
    assert reuters.n_labels == 90
    assert list(reuters.label_names) == sorted(reuters.label_names)
    assert np.sort(np.concatenate(list(reuters.splits.values()))).tolist() == list(range(len(reuters.texts)))


@pytest.mark.reuters
@needs_reuters
def test_known_facts(reuters: Corpus) -> None:
    counts = dict(zip(reuters.label_names, reuters.label_counts()))
    assert max(counts, key=counts.get) == "earn"
    assert counts["earn"] == 2877 + 1087  # ModApte train + test
    assert reuters.label_counts("test")[reuters.label_names.index("earn")] == 1087
    assert min(counts.values()) == 2  # e.g. castor-oil: one train, one test document
    # 1,628 documents carry more than one distinct label (counting the doubled 'trade' tag of
    # NEWID 19918 would give 1,629).
    assert n_multi_label(reuters) == 1628
    assert reuters.texts[0].startswith("BAHIA COCOA REVIEW\nShowers continued throughout the week")
    assert reuters.Y[0].indices.tolist() == [reuters.label_names.index("cocoa")]
    assert all(text and text.strip() == text for text in reuters.texts)
    assert not any("&lt;" in text or "\x03" in text for text in reuters.texts)


@pytest.mark.reuters
@needs_reuters
def test_extracted_directory_matches_tarball(tmp_path: Path, reuters: Corpus) -> None:
    with tarfile.open(REUTERS) as tar:
        tar.extractall(tmp_path, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    corpus = load_reuters(tmp_path)
    assert corpus.texts.tolist() == reuters.texts.tolist()
    assert corpus.label_names == reuters.label_names
    assert (corpus.Y != reuters.Y).nnz == 0
    for name in ("train", "dev", "test"):
        np.testing.assert_array_equal(corpus.splits[name], reuters.splits[name])


@pytest.mark.reuters
@needs_reuters
def test_dev_split_follows_seed(reuters: Corpus) -> None:
    other = load_reuters(REUTERS, dev_fraction=0.2, seed=1)
    assert len(other.splits["dev"]) == 1554
    assert not np.array_equal(other.splits["dev"][:777], reuters.splits["dev"])
    np.testing.assert_array_equal(other.splits["test"], reuters.splits["test"])


def test_parsed_once_per_content_then_read_from_the_cache(tmp_path: Path, monkeypatch) -> None:
    """A second load reads the parsed documents back; other SGML or a broken cache file is parsed anew."""
    import al.datasets.reuters as reuters

    folder = write_snippet(tmp_path / "data")
    parsed = []
    real = reuters.parse_reuters_sgml
    monkeypatch.setattr(reuters, "parse_reuters_sgml", lambda sgml: parsed.append(1) or real(sgml))
    first = load_reuters(folder, dev_fraction=0.5)
    again = load_reuters(as_tarball(folder, tmp_path / "r.tar.gz"), dev_fraction=0.5)  # same content: cached
    assert len(parsed) == 1
    assert again.texts.tolist() == first.texts.tolist() == TEXTS and again.label_names == first.label_names
    np.testing.assert_array_equal(again.Y.toarray(), first.Y.toarray())
    assert all(np.array_equal(again.splits[s], first.splits[s]) for s in first.splits)
    (folder / "reut2-000.sgm").write_bytes(SGML.replace("WHEAT PRICES UP", "WHEAT PRICES DOWN").encode("latin-1"))
    assert load_reuters(folder, dev_fraction=0.5).texts.tolist()[1] == "WHEAT PRICES DOWN" and len(parsed) == 2
    cache = Path(os.environ["AL_CACHE_DIR"]) / "corpora" / "reuters"
    for damage, said in (("{not json", "JSONDecodeError"), ("[]", "ValueError: it holds no document")):
        for cached in cache.glob("modapte-*.json"):
            cached.write_text(damage)
        with pytest.warns(UserWarning, match=rf"cache file .*modapte-\w+\.json cannot be read \({said}.*\); set aside "
                                             rf"as modapte-\w+\.json\.damaged, the SGML files are parsed again$"):
            assert load_reuters(folder, dev_fraction=0.5).texts.tolist()[1] == "WHEAT PRICES DOWN"
        assert len(parsed) == 3 + (damage == "[]")
        assert load_reuters(folder, dev_fraction=0.5).texts.tolist()[1] == "WHEAT PRICES DOWN"  # cached again
        assert len(parsed) == 3 + (damage == "[]")
        for aside in cache.glob("*.damaged"):
            aside.unlink()
    # SGML holding no ModApte document: refused each time, never cached (an empty entry read as damaged next time)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "reut2-000.sgm").write_bytes(b"<!DOCTYPE lewis SYSTEM \"lewis.dtd\">\n")
    for _ in range(2):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no damaged-cache warning on the second read
            with pytest.raises(DataError):
                load_reuters(empty, dev_fraction=0.5)
    assert not list(cache.glob("*.damaged"))
