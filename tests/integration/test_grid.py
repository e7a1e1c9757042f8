"""Grids of real simulations (all-MiniLM-L6-v2 on ~200 texts): workers, Ray, two commands at once."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from al.grid import expand_grid, main, plan_preparation, run_ray
from al.records import read_rounds
from tests.integration.conftest import LABELS

pytestmark = pytest.mark.integration


def grid_file(tmp_path, small_jsonl, strategies=("random", "class_embedding"), seeds=(0, 1)):
    spec = {
        "out": str(tmp_path / "runs"),
        "settings": {"dataset": "jsonl", "data_path": str(small_jsonl), "labels": LABELS,
                     "initial": 20, "step": 20, "budget": 60},
        "grid": {"strategy": list(strategies), "seed": list(seeds)},
    }
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path, spec


def assert_complete(spec, expected_runs):
    root, runs = expand_grid(spec)
    assert len(runs) == expected_runs
    for r in runs:
        rounds = read_rounds(root / r.name)
        assert [x["round"] for x in rounds] == [0, 1, 2], r.name  # each round exactly once, in order


def test_two_workers_then_everything_is_skipped(tmp_path, small_jsonl, capsys):
    path, spec = grid_file(tmp_path, small_jsonl)
    assert main([str(path), "--workers", "2"]) == 0
    assert_complete(spec, 4)
    assert "4 done" in capsys.readouterr().err
    assert main([str(path), "--workers", "2"]) == 0
    assert "4 complete" in capsys.readouterr().err


def test_ray_local_cluster(tmp_path, small_jsonl):
    ray = pytest.importorskip("ray")
    path, spec = grid_file(tmp_path, small_jsonl, strategies=("random", "cvirs"), seeds=(0,))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        _, runs = expand_grid(spec)
        preparations = plan_preparation(runs)
        results = [(type(item).__name__, result["status"]) for item, result in run_ray(runs, None, preparations)]
    finally:
        ray.shutdown()
    assert [p.part for p in preparations] == ["embeddings"]  # the pool's one pass, as a task of its own
    assert sorted(results) == [("GridRun", "done"), ("GridRun", "done"), ("Preparation", "prepared")]
    assert_complete(spec, 2)


@pytest.mark.parametrize("kills", [1, 2], ids=["once", "twice"])
def test_a_ray_worker_killed_under_a_run_sends_it_back_once_then_fails_it(tmp_path, small_jsonl, kills):
    """A Ray worker killed under a run (the OOM killer, a lost node) ended the grid with WorkerCrashedError's
    traceback after Ray's own retries; now the run comes back lost, runs again once, and is failed the second
    time, as with local workers."""
    ray = pytest.importorskip("ray")
    path, spec = grid_file(tmp_path, small_jsonl, strategies=("random",), seeds=(0,))
    flags = tmp_path / "flags"
    flags.mkdir()
    spec["grid"]["strategy"] = [{"name": "tests.integration.slow_strategy:KillsItsProcess",
                                 "params": {"flag_dir": str(flags), "kills": kills}}]
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(sys.path)}})
    try:
        _, runs = expand_grid(spec)
        results = [result for _, result in run_ray(runs, None)]
    finally:
        ray.shutdown()
    assert len(list(flags.iterdir())) == kills
    [result] = results
    if kills == 1:
        assert result["status"] == "done", result
        # killed in its first query, before any round was written: it ran again from the start
        assert any("a Ray worker process or its machine ended abruptly" in w and "it ran again from the start (no "
                   "round of it had finished)" in w for w in result["warnings"]), result
        assert_complete(spec, 1)
    else:
        assert result["status"] == "failed", result
        assert "ended abruptly" in result["message"] and "(WorkerCrashedError), twice; what it finished is kept: " \
               "the same grid command resumes it (on machines with more memory if it ran out)" in result["message"]


def test_two_grid_commands_on_one_directory(tmp_path, small_jsonl):
    path, spec = grid_file(tmp_path, small_jsonl, strategies=("random", "class_embedding", "cvirs"), seeds=(0, 1))
    command = [sys.executable, "-m", "al.grid", str(path)]
    first = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    logs = [p.communicate(timeout=600)[1] for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], logs
    ran = [line.split()[2] for log in logs for line in log.splitlines() if "] done" in line]
    assert sorted(ran) == sorted(set(ran))  # no simulation ran twice
    assert_complete(spec, 6)
    # whatever one command skipped as busy, a rerun finds complete
    assert main([str(path)]) == 0


def hold_locks_until_told(lock_paths, held, release):
    from contextlib import ExitStack
    from pathlib import Path

    from al.cache import cache_lock

    with ExitStack() as stack:
        for path in lock_paths:
            stack.enter_context(cache_lock(Path(path)))
        held.set()
        release.wait(120)


def test_a_run_deferred_at_a_busy_cache_keeps_nothing_and_later_gives_a_lone_runs_records(
        tmp_path, small_jsonl, monkeypatch):
    """While another process fills the pool's embedding cache, a deferring run returns at once; then it runs as usual."""
    import multiprocessing
    from pathlib import Path

    from al.grid import run_one

    _, spec = grid_file(tmp_path, small_jsonl, strategies=("class_embedding",), seeds=(0,))
    config = {**spec["settings"], "strategy": "class_embedding", "seed": 0}
    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "cache-lone"))
    lone = run_one({**config, "out": str(tmp_path / "lone")})
    assert lone["status"] == "done"
    embedding_locks = list((tmp_path / "cache-lone" / "embeddings").glob("*/.lock-*"))  # named by the texts
    assert embedding_locks

    grid_cache = tmp_path / "cache-grid"  # empty: the run must embed the corpus, and another process is at it
    busy_locks = [str(grid_cache / lock.relative_to(tmp_path / "cache-lone")) for lock in embedding_locks]
    Path(busy_locks[0]).parent.mkdir(parents=True)
    monkeypatch.setenv("AL_CACHE_DIR", str(grid_cache))
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    holder = context.Process(target=hold_locks_until_told, args=(busy_locks, held, release))
    holder.start()
    try:
        assert held.wait(120)
        deferred = run_one({**config, "out": str(tmp_path / "grid")}, defer_busy_caches=True)
        assert deferred["status"] == "deferred" and "another process is filling" in deferred["message"]
        assert read_rounds(tmp_path / "grid") == []
        assert not list(grid_cache.glob("embeddings/*/shard-*.npz"))  # it computed nothing
    finally:
        release.set()
        holder.join(timeout=120)
    again = run_one({**config, "out": str(tmp_path / "grid")}, defer_busy_caches=True)
    assert again["status"] == "done"

    def strip_times(rounds):
        return [{k: v for k, v in r.items() if not k.startswith("seconds")} for r in rounds]

    assert strip_times(read_rounds(tmp_path / "grid")) == strip_times(read_rounds(tmp_path / "lone"))


def test_pool_work_runs_first_as_its_own_tasks_and_the_records_are_a_lone_run_s(tmp_path, small_jsonl, capsys,
                                                                                  monkeypatch):
    """With two workers the grid embeds the pool and does ALPS's pool work ahead; every record is a lone run's."""
    from al.grid import run_one

    alps = {"name": "alps", "params": {"fit_steps": 4}}
    path, spec = grid_file(tmp_path, small_jsonl, strategies=("random", alps), seeds=(0,))
    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "cache-grid"))
    assert main([str(path), "--workers", "2"]) == 0
    err = capsys.readouterr().err
    assert ("first 2 once-per-pool tasks the runs share: small.jsonl: alps(fit_steps=4)'s pool work; "
            "small.jsonl: embeddings (all-MiniLM-L6-v2, fp32)") in err
    prepared = sorted(line.split("  (")[0] for line in err.splitlines() if line.startswith("[prepare]"))
    assert prepared == ["[prepare] prepared small.jsonl: alps(fit_steps=4)'s pool work",
                        "[prepare] prepared small.jsonl: embeddings (all-MiniLM-L6-v2, fp32)"]  # side by side
    assert "2 done" in err
    assert len(list((tmp_path / "cache-grid" / "alps" / "heads").rglob("*.pt"))) == 1
    warned = [line for line in err.splitlines() if line.startswith("warning: ALPS:")]
    assert len(warned) == 3 and "fitting it now" in warned[0]  # the preparation's, a line each
    assert "ended at masked-LM loss" in warned[1]
    assert "loaded from the cache" in warned[2]  # the run found the head prepared for it

    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "cache-lone"))
    root, runs = expand_grid(spec)
    for r in runs:
        lone = run_one({**r.config.to_dict(), "out": str(tmp_path / "lone" / r.name)})
        assert lone["status"] == "done"
        assert strip_times(read_rounds(tmp_path / "lone" / r.name)) == strip_times(read_rounds(root / r.name)), r.name


def strip_times(rounds):
    return [{k: v for k, v in r.items() if not k.startswith("seconds")} for r in rounds]


def test_an_alps_preparation_gives_the_pool_s_vectors_and_the_embedding_one_computes_only_the_rest(
        tmp_path, small_jsonl, monkeypatch):
    """The grid's ALPS task offers its pass to the runs' embedder (as a cold ALPS run does): an embedding task that
    starts after it embeds the test split and the pool's texts over 128 tokens alone, and the cache holds a plain
    pass's bits."""
    import numpy as np

    from al.embedders import SentenceEmbedder
    from al.grid import prepare_one
    from al.simulate import load_config_corpus

    alps = {"name": "alps", "params": {"fit_steps": 3}}
    _, spec = grid_file(tmp_path, small_jsonl, strategies=("random", alps), seeds=(0,))
    monkeypatch.setenv("AL_CACHE_DIR", str(tmp_path / "cache"))
    strategy_work, embeddings = plan_preparation(expand_grid(spec)[1])
    assert (strategy_work.part, embeddings.part) == ("strategy", "embeddings")
    encoded = []
    real_encode = SentenceEmbedder._encode
    monkeypatch.setattr(SentenceEmbedder, "_encode",
                        lambda self, t, **kw: encoded.append(len(t)) or real_encode(self, t, **kw))
    assert prepare_one(strategy_work.config.to_dict(), "strategy")["status"] == "prepared"
    checked = sum(encoded)  # the embedder's own pass over each pass shape's first texts: the bit check
    assert prepare_one(embeddings.config.to_dict(), "embeddings", embeddings.splits)["status"] == "prepared"

    corpus = load_config_corpus(embeddings.config)  # the texts as the runs read them (stripped)
    pool = corpus.texts[corpus.splits["train"]].tolist()
    tokenizer = SentenceEmbedder()._load().tokenizer
    long_pool = sum(len(ids) > 128 for ids in tokenizer(pool)["input_ids"])
    assert encoded[len(encoded) - 1] == len(corpus.splits["test"]) + long_pool  # the rest, in one pass
    assert checked < len(pool)
    encoded.clear()
    np.testing.assert_array_equal(SentenceEmbedder().encode(pool), SentenceEmbedder(cache=False).encode(pool))
    assert encoded == [len(pool)]  # the cached vectors were read, and a plain pass gave the same bits


@pytest.mark.parametrize("sig, status, said", [(2, 130, "interrupted"), (15, 143, "terminated")],
                         ids=["sigint", "sigterm"])
def test_a_signal_to_the_grid_alone_stops_its_workers_at_once(tmp_path, small_jsonl, sig, status, said):
    """SIGINT or SIGTERM sent to the grid's process only (kill PID, a supervisor, CI), not to its process group as a
    terminal's Ctrl-C is: the workers stop with it, within seconds, not after the simulations in flight (a review
    saw 36 s; a fine-tuned run's would be hours). What a run finished is kept (resuming: test_interrupt.py)."""
    import os
    import signal
    import time
    from pathlib import Path

    path, spec = grid_file(tmp_path, small_jsonl)
    spec["settings"]["strategy"] = {"name": "tests.integration.slow_strategy:SlowRandom", "params": {"seconds": 600}}
    spec["grid"] = {"seed": [0, 1]}
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen([sys.executable, "-m", "al.grid", str(path), "--workers", "2"], cwd=root,
                               stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"},
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 240  # both runs begun; a few seconds later each is in its 600 s query
        while not all((tmp_path / "runs" / f"seed-{s}" / "config.json").is_file() for s in (0, 1)):
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, "the runs did not begin"
            time.sleep(0.2)
        time.sleep(5.0)
        workers = [int(p) for p in subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True,
                                                  text=True).stdout.split()]
        began = time.monotonic()
        process.send_signal(sig)
        assert process.wait(timeout=60) == status
        assert time.monotonic() - began < 20
        err = process.stderr.read()
        assert f"{said}; run the same command again to resume" in err and "leaked" not in err, err
        time.sleep(1.0)
        assert [pid for pid in workers if os.path.exists(f"/proc/{pid}") and
                open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"] == []
    finally:
        if process.poll() is None:
            process.kill()
    assert all((tmp_path / "runs" / f"seed-{s}" / "config.json").is_file() for s in (0, 1))  # the runs are there


@pytest.mark.parametrize("kills, status", [(1, 0), (2, 2)], ids=["once", "twice"])
def test_a_worker_killed_under_a_run_sends_it_back_once_then_fails_it_and_the_grid_goes_on(
        tmp_path, small_jsonl, capsys, kills, status):
    """A worker killed outright (the OOM killer) broke the pool: a traceback, exit 1, and the other runs neither
    run nor reported. Now the runs in flight go back in the queue and resume; a run lost twice is failed."""
    path, spec = grid_file(tmp_path, small_jsonl, strategies=("random", "cvirs"), seeds=(0,))
    flags = tmp_path / "flags"
    flags.mkdir()
    killer = {"name": "tests.integration.slow_strategy:KillsItsProcess", "params": {"flag_dir": str(flags),
                                                                                 "kills": kills}}
    spec["grid"]["strategy"] = [killer, "random"]
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    assert main([str(path), "--workers", "2"]) == status
    err = capsys.readouterr().err
    assert len(list(flags.iterdir())) == kills
    assert "Traceback" not in err and "BrokenProcessPool" not in err
    assert sum(f"[{i}/2]" in err for i in (1, 2)) == 2  # each run reported
    if kills == 1:
        # killed in its first query, before any round was written: it ran again from the start
        assert "a grid worker process ended abruptly" in err and \
            "it ran again from the start (no round of it had finished)" in err, err
        assert_complete(spec, 2)  # the other run, lost with it if it was in flight, resumed too
        assert main([str(path), "--workers", "2"]) == 0
    else:
        assert "failed" in err and "ended abruptly (killed, by the out-of-memory killer perhaps; the pool of " \
               "workers ends with any of them) while this task was in flight, twice; what it finished is kept: the " \
               "same grid command resumes it" in err
