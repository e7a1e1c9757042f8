"""``python -m al.cache``: what the cache holds, whether this machine reads it, and pruning by use and by kernels."""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from al.cache import LOCK_GRACE, cache_entries, cache_lock, main, mark_used, stale_locks
from al.device import arithmetic_key

DAY = 86400.0


def _age(path: Path, days: float) -> None:
    """Make everything at and under ``path`` look last touched ``days`` ago."""
    then = time.time() - days * DAY
    for item in [path, *(path.rglob("*") if path.is_dir() else [])]:
        os.utime(item, (then, then))


@pytest.fixture
def cache(monkeypatch, tmp_path):
    """A cache holding one entry of each kind: this CPU's vectors, an old-format and another machine's,
    a head of this CPU and one of another, a parsed corpus."""
    root = tmp_path / "cache"
    monkeypatch.setenv("AL_CACHE_DIR", str(root))
    here = f"-fp32-cpu-{arithmetic_key('cpu')}"
    m = "m@pkg-0123456789ab"
    entries = {
        "here": root / "embeddings" / f"{m}-lendefault-canonical1-b64{here}",
        "old": root / "embeddings" / f"{m}-lendefault-canonical1-b64",
        "bare name": root / "embeddings" / f"m-lendefault-canonical1-b64{here}",
        "local dir": root / "embeddings" / f"path-0123456789ab-lendefault-canonical1-b64{here}",
        "other": root / "embeddings" / f"{m}-lendefault-canonical1-b64-fp32-cpu-avx512-0123abcd",
        "surprisal": root / "alps" / "surprisal" / f"{m}-len128-seed0-fitv2-x-steps250-seed0-canonical1-b64{here}",
    }
    for path in entries.values():
        path.mkdir(parents=True)
        np.savez(path / "shard-0.npz", keys=np.zeros(2, dtype="S16"), vectors=np.zeros((2, 4), dtype=np.float32))
    heads = root / "alps" / "heads" / m
    heads.mkdir(parents=True)
    (root / "alps" / "heads" / "m").mkdir()
    entries["bare-name head"] = root / "alps" / "heads" / "m" / f"fitv2-x-steps250-seed0{here}.pt"
    entries["head"] = heads / f"fitv2-x-steps250-seed0{here}.pt"
    entries["other head"] = heads / "fitv2-x-steps250-seed0-bf16-cpu-emulated-avx2-89abcdef.pt"
    for name in ("head", "other head", "bare-name head"):
        entries[name].write_bytes(b"h" * 100)
        (heads / f".{entries[name].stem}.lock").touch()
    corpus = root / "corpora" / "reuters"
    corpus.mkdir(parents=True)
    entries["corpus"] = corpus / "modapte-00.json"
    entries["corpus"].write_text("[]")
    for path in entries.values():
        _age(path, 40)
    return root, entries


def test_the_listing_names_each_entry_its_size_and_whether_this_machine_reads_it(cache, capsys):
    root, entries = cache
    found = {e.path: e for e in cache_entries(root)}
    assert set(found) == set(entries.values())
    status = {name: found[path].status for name, path in entries.items()}
    assert status == {"here": "read here", "old": "old format", "bare name": "old format", "local dir": "read here",
                      "other": "other kernels", "surprisal": "read here", "head": "read here",
                      "other head": "other kernels", "bare-name head": "old format", "corpus": ""}
    assert found[entries["head"]].size == 100 and found[entries["corpus"]].kind == "corpus"
    assert time.time() - found[entries["old"]].last_used > 39 * DAY
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"read here: computed with this environment's kernels and library versions "
                          f"({arithmetic_key('cpu')}")
    assert "old format" in out and "embeddings/m@pkg-0123456789ab-lendefault-canonical1-b64\n" in out
    assert out.splitlines()[-1].startswith("10 entries, ") and out.splitlines()[-1].endswith(f" in {root}")


def test_prune_not_read_here_removes_old_formats_and_other_kernels_only(cache, capsys):
    root, entries = cache
    assert main(["prune", "--not-read-here", "--dry-run"]) == 0
    assert all(p.exists() for p in entries.values())  # a dry run removes nothing
    assert "would remove 5 entries" in capsys.readouterr().err
    assert main(["prune", "--not-read-here"]) == 0
    gone = {name for name, path in entries.items() if not path.exists()}
    assert gone == {"old", "bare name", "other", "other head", "bare-name head"}
    assert not (entries["other head"].parent / f".{entries['other head'].stem}.lock").exists()  # its lock went too


def test_prune_unused_for_keeps_what_a_run_read_since(cache, tmp_path):
    from al.embedders import EmbeddingCache

    root, entries = cache
    EmbeddingCache(entries["here"])  # opened by a run today: marks it used
    mark_used(entries["corpus"])
    assert main(["prune", "--unused-for", "30"]) == 0
    kept = {name for name, path in entries.items() if path.exists()}
    assert kept == {"here", "corpus"}


def test_a_prune_that_takes_or_removes_stale_locks_does_not_make_their_entries_look_used(cache, capsys):
    """Removing a stale lock changed its folder's time, which the listing read as a use: no later
    ``--unused-for`` removed the entry."""
    root, entries = cache
    (entries["old"] / ".lock-0123456789abcdef").touch()
    _age(entries["old"], 40)
    assert main(["prune", "--unused-for", "30", "--dry-run"]) == 0  # takes the stale lock, and keeps it
    lock = (entries["old"] / ".lock-0123456789abcdef").relative_to(root)
    assert f"would remove {lock} (a lock file nothing holds)" in capsys.readouterr().out.splitlines()  # counted: named
    assert main(["prune", "--damaged"]) == 0  # removes it
    captured = capsys.readouterr()
    assert "and 1 lock file" in captured.err and f"removed {lock} (a lock file nothing holds)" in captured.out
    assert not (entries["old"] / ".lock-0123456789abcdef").exists()
    assert time.time() - {e.path: e for e in cache_entries(root)}[entries["old"]].last_used > 39 * DAY
    assert main(["prune", "--unused-for", "30"]) == 0
    assert not entries["old"].exists()


def test_only_old_lock_files_that_nobody_holds_are_stale(tmp_path):
    folder = tmp_path / "embeddings" / "k"
    folder.mkdir(parents=True)
    held, old, fresh = folder / ".lock-held", folder / ".lock-old", folder / ".lock-fresh"
    for path in (held, old, fresh):
        path.touch()
    for path in (held, old):
        _age(path, 1)
    with cache_lock(held):
        assert stale_locks(tmp_path) == [old]
    assert sorted(stale_locks(tmp_path)) == sorted([held, old])
    assert sorted(stale_locks(tmp_path, now=time.time() + LOCK_GRACE + 1)) == sorted([held, old, fresh])
    with cache_lock(held):
        assert stale_locks(tmp_path, remove=True) == [old]  # removed while held by the prune, not the others
    assert not old.exists() and held.exists() and fresh.exists()


def test_a_process_waiting_for_a_lock_file_that_is_removed_takes_a_new_one(tmp_path):
    """A prune removes a lock file while another process waits for it: the waiter must not hold a removed file
    while a third process holds the new one (filelock opens the file anew on each try; cache_lock relies on it)."""
    import threading

    path = tmp_path / ".lock-x"
    seen = []

    def waiter():
        with cache_lock(path):
            seen.append(path.exists())

    with cache_lock(path):
        thread = threading.Thread(target=waiter)
        thread.start()
        time.sleep(0.3)  # the waiter is blocked on the file
        path.unlink()
    thread.join(10)
    assert seen == [True]  # it took the lock on the file now at the path


def test_an_entry_in_use_is_marked_again_as_a_long_run_goes_on(tmp_path, monkeypatch):
    import al.cache

    entry = tmp_path / "e"
    entry.mkdir()
    mark_used(entry)
    _age(entry, 3)
    mark_used(entry)  # within MARK_EVERY: not again
    assert time.time() - (entry / ".used").stat().st_mtime > 2 * DAY
    monkeypatch.setattr(al.cache, "MARK_EVERY", 0.0)
    mark_used(entry)
    assert time.time() - (entry / ".used").stat().st_mtime < 60


def test_damaged_files_are_listed_apart_and_pruned_with_damaged(cache, capsys):
    """A shard and a head that could not be read, set aside as NAME.damaged: listed as such (not in their entry's
    size), removed by --damaged alone, and with their entry when it goes."""
    root, entries = cache
    shard = entries["here"] / "shard-1.npz.damaged"
    shard.write_bytes(b"x" * 3000)
    head = entries["head"].with_name(entries["head"].name + ".damaged")
    head.write_bytes(b"y" * 70)
    other = entries["other"] / "shard-9.npz.damaged"
    other.write_bytes(b"z" * 10)
    other_head = entries["other head"].with_name(entries["other head"].name + ".damaged")
    other_head.write_bytes(b"w" * 10)
    found = {e.path: e for e in cache_entries(root)}
    assert {found[p].kind for p in (shard, head, other)} == {"damaged file"}
    assert {found[p].status for p in (shard, head, other)} == {"set aside"}
    assert found[entries["here"]].size == (entries["here"] / "shard-0.npz").stat().st_size  # the shard alone
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "damaged file" in out and "2.9 KiB" in out and out.splitlines()[-1].startswith("14 entries, ")
    assert main(["prune", "--not-read-here"]) == 0  # the other machine's entries go with their damaged copies
    assert not other.exists() and not other_head.exists() and shard.exists() and head.exists()
    assert "removed embeddings/m@pkg-0123456789ab-lendefault-canonical1-b64-fp32-cpu-avx512-0123abcd/shard-9.npz" \
           ".damaged (damaged file" in capsys.readouterr().out
    assert main(["prune", "--damaged"]) == 0
    assert not shard.exists() and not head.exists() and entries["here"].exists() and entries["head"].exists()


def test_sizes_are_in_binary_units_as_labelled():
    from al.cache import _megabytes

    assert (_megabytes(23_214_252), _megabytes(5_000), _megabytes(2**20)) == ("22.1 MiB", "4.9 KiB", "1.0 MiB")
    assert (_megabytes(5), _megabytes(0), _megabytes(100)) == ("5 B", "0 B", "0.1 KiB")  # not "0.0 KiB"


def test_temporaries_are_not_entries_and_a_linked_entry_is_removed_as_a_link(cache, tmp_path):
    root, entries = cache
    (entries["corpus"].parent / ".modapte-tmp123.json").write_text("[")
    elsewhere = tmp_path / "big-disk" / "vectors"
    elsewhere.mkdir(parents=True)
    (elsewhere / "shard-0.npz").write_bytes(b"x")
    link = root / "embeddings" / "m@pkg-0123456789ab-len128-canonical1-b64"  # old format, kept on another disk
    link.symlink_to(elsewhere, target_is_directory=True)
    paths = {e.path for e in cache_entries(root)}
    assert link in paths and not any(p.name.startswith(".") for p in paths)
    assert main(["prune", "--not-read-here"]) == 0
    assert not link.exists() and not link.is_symlink() and (elsewhere / "shard-0.npz").exists()


def test_a_missing_cache_still_checks_the_options_and_a_file_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "none"))
    with pytest.raises(SystemExit) as exc:
        main(["prune", "--unused-for", "-5"])
    assert exc.value.code == 2
    assert main([]) == 0 and "does not exist: nothing cached yet" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "file"))
    assert main([]) == 2
    assert capsys.readouterr().err == f"error: the cache {tmp_path / 'file'} is a file; expected a directory: set " \
                                      f"AL_CACHE_DIR to a directory\n"


@pytest.mark.parametrize("argv, message", [
    (["prune"], "prune needs a criterion: --unused-for DAYS, --not-read-here, --damaged, or more of them"),
    (["prune", "--unused-for", "-1"], "--unused-for must be a number of days >= 0; got -1"),
    (["prune", "--unused-for", "nan"], "--unused-for must be a number of days >= 0; got nan"),
])
def test_a_prune_without_a_sound_criterion_is_one_line_exit_2(cache, capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err and err.count("\n") == 1


@pytest.mark.parametrize("command", [["al.simulate", "--budget", "150"], ["al.analyze", "--sizes", "100"],
                                     ["al.annotate", "--data", "x.csv", "--labels", "a", "b"]])
def test_a_cache_that_is_a_file_is_refused_in_one_line_before_anything_is_written(tmp_path, command):
    import subprocess
    import sys

    (tmp_path / "afile").write_text("hi")
    env = {**os.environ, "AL_CACHE_DIR": str(tmp_path / "afile")}
    done = subprocess.run([sys.executable, "-m", *command, "--out", str(tmp_path / "out")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.splitlines()[-1] == (
        f"error: the cache {tmp_path / 'afile'} is a file; expected a directory: set AL_CACHE_DIR to a directory"
    ), done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()


def test_a_cache_directory_that_cannot_be_made_is_refused_in_one_line(tmp_path, monkeypatch):
    from al.cache import cache_dir, check_cache_root
    from al.errors import ConfigError

    (tmp_path / "afile").write_text("hi")
    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "afile" / "cache"))
    with pytest.raises(ConfigError, match=r"cannot make the cache directory .*afile/cache \(Not a directory: .*afile\); "
                                          r"set AL_CACHE_DIR to a directory you can write"):
        check_cache_root()
    with pytest.raises(ConfigError, match=r"cannot make .*afile/cache/embeddings \(Not a directory\); set AL_CACHE_DIR"):
        cache_dir("embeddings")
    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "new" / "cache"))
    check_cache_root()  # can be made: nothing is made yet
    assert not (tmp_path / "new").exists()


def test_a_tilde_in_the_cache_setting_is_the_home_directory(tmp_path, monkeypatch):
    """``AL_CACHE_DIR='~/alc'`` from a .env file (no shell to expand it) made a folder named '~' where the command ran,
    and every text was embedded again there."""
    from al.cache import cache_dir, cache_root

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AL_CACHE_DIR", "~/alc")
    assert cache_root() == tmp_path / "home" / "alc"
    assert cache_dir("embeddings") == tmp_path / "home" / "alc" / "embeddings"
    assert (tmp_path / "home" / "alc" / "embeddings").is_dir() and not (tmp_path / "~").exists()


def test_a_killed_writes_temporary_is_named_in_the_listing_and_a_day_old_one_is_pruned(cache, capsys):
    """A `.shard-*.tmp` a killed write left counted in its entry's size, was named nowhere, and no prune removed it;
    a day's runs leave a lock file each, and a prune named every one on a line of its own."""
    root, entries = cache
    left, live = entries["here"] / ".shard-0.npz.a1b2.tmp", entries["here"] / ".shard-1.npz.c3d4.tmp"
    left.write_bytes(b"x" * 2048)
    live.write_bytes(b"y" * 1024)
    _age(left, 2)
    for i in range(4):
        (entries["other"] / f".lock-{i:016x}").touch()
    _age(entries["other"], 40)
    assert main(["list"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "temporaries: 2 (3.0 KiB), writes in progress or left by killed ones; 1 a day old, which prune "
        "removes")
    assert main(["prune", "--damaged"]) == 0
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    assert f"removed {left.relative_to(root)} (a temporary a killed write left)" in out
    assert not left.exists() and live.exists()  # a write in progress is left to its writer
    # four: one line, counted, with the folder they are in (the fixture's heads' locks are new: kept)
    assert [line for line in out if "lock" in line] == [
        f"removed 4 lock files nothing holds in 1 folder ({entries['other'].relative_to(root)})"]
    assert "removed 0 entries (0 B), 1 temporary (2.0 KiB) and 4 lock files; " in captured.err


def test_a_temporary_folder_is_one_temporary_aged_by_its_newest_file(cache, capsys):
    """A model's unpacking folder (.NAME.XXXX.tmp) was walked into, its own temporaries counted a second time, and
    aged by the folder's own time, which a write deep inside does not change: prune could remove a live write."""
    from al.cache import STALE_SECONDS, temporaries

    root, _ = cache
    unpacking = root / "models" / ".m.1a2b.tmp"
    (unpacking / "sub").mkdir(parents=True)
    (unpacking / "sub" / ".part.tmp").write_bytes(b"p" * 1000)
    (unpacking / "weights.bin").write_bytes(b"w" * 3000)
    _age(unpacking, 2)
    os.utime(unpacking / "weights.bin")  # written a moment ago, deep down: the folder's time unchanged
    assert [(path, size) for path, size, _ in temporaries(root)] == [(unpacking, 4000)]  # one, counted once
    assert temporaries(root, older_than=STALE_SECONDS) == []  # live: its newest file is new
    assert main(["prune", "--damaged"]) == 0
    assert unpacking.is_dir()
    _age(unpacking, 2)
    assert main(["prune", "--damaged"]) == 0
    assert not unpacking.exists()
    assert "removed models/.m.1a2b.tmp (a temporary a killed write left)" in capsys.readouterr().out
