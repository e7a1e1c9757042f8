"""Grid files: expansion, validation before anything runs, locking."""
from __future__ import annotations

import fcntl
from pathlib import Path

import pytest

from al.errors import ConfigError
from al.grid import LOCK_FILE, expand_grid, main, run_one

SPEC = {
    "out": "runs/x",
    "settings": {"classifier": "logreg", "budget": 200},
    "grid": {
        "data": [{"name": "disaster", "dataset": "disaster"},
                 {"name": "reuters", "dataset": "reuters", "data_path": "/no/such/reuters.tar.gz"}],
        "strategy": ["random", "cvirs", "not_implemented_yet"],
        "seed": [0, 1],
    },
}


def test_expansion_is_the_product(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root, runs = expand_grid(SPEC)
    assert root == tmp_path / "runs" / "x"
    assert len(runs) == 2 * 3 * 2
    names = {r.name for r in runs}
    assert "data-disaster__strategy-cvirs__seed-1" in names
    run = next(r for r in runs if r.name == "data-disaster__strategy-cvirs__seed-1")
    assert (run.config.strategy.name, run.config.seed, run.config.budget) == ("cvirs", 1, 200)
    assert Path(run.config.out) == root / run.name
    problems = {r.name: r.problem for r in runs if r.problem}
    # unknown strategies and missing data are reported before anything runs, not skipped silently
    assert "unknown strategy 'not_implemented_yet'" in problems["data-disaster__strategy-not_implemented_yet__seed-0"]
    assert "does not exist" in problems["data-reuters__strategy-random__seed-0"]
    assert len(problems) == 2 + 6  # disaster x not_implemented_yet x 2 seeds, and every reuters run


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"settings": {}}, "missing `out`"),
        ({"out": "x", "grid": {"strategy": []}}, "non-empty list"),
        ({"out": "x", "grid": {"strategee": ["random"]}}, "grid.strategee is not a setting"),
        ({"out": "x", "grid": {"data": [{"dataset": "disaster"}]}}, "needs a `name`"),
        ({"out": "x", "settings": {"budgett": 3}}, "unknown setting"),
        ({"out": "x", "extra": 1}, "unknown top-level key"),
    ],
)
def test_bad_grid_files(spec, message):
    with pytest.raises(ConfigError, match=message):
        expand_grid(spec)


def test_a_locked_run_is_busy_and_a_finished_one_complete(tmp_path):
    from al.records import RunRecords

    config = {"strategy": "random", "initial": 100, "step": 50, "budget": 150, "out": str(tmp_path / "r")}
    (tmp_path / "r").mkdir()
    with open(tmp_path / "r" / LOCK_FILE, "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another grid process is running it
        assert run_one(config)["status"] == "busy"
    records = RunRecords(tmp_path / "r")
    records.start(config, {})
    for i in range(2):
        records.append({"round": i, "n_labeled": 100 + 50 * i, "macro_f1": 0.5, "picked": []})
    result = run_one(config)
    assert result["status"] == "complete" and result["rounds"] == 2


def test_dry_run_lists_and_reports(tmp_path, capsys):
    import yaml

    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump({**SPEC, "out": str(tmp_path / "runs")}, sort_keys=False))
    assert main([str(path), "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.split()) == 12
    assert "not run: data-disaster__strategy-not_implemented_yet__seed-0: unknown strategy" in captured.err


def _csv(path: Path, n: int = 60, flip: int = 30) -> Path:
    lines = ["text,a,b,split"] + [f"pool {i},{int(i < flip)},{int(i % 3 == 0)},train" for i in range(n)]
    lines += [f"dev {i},{int(i < 10)},{int(i % 2)},dev" for i in range(20)]
    lines += [f"test {i},{int(i < 10)},{int(i % 2)},test" for i in range(20)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_worker_parses_a_corpus_once_and_again_when_its_file_changes(tmp_path, monkeypatch):
    """Simulations in one process share the parsed corpus (read-only); an edited file is parsed anew."""
    import al.datasets
    from al.config import SimulationConfig
    from al.simulate import load_config_corpus

    monkeypatch.setattr("al.simulate._LOADED_CORPORA", {})
    parsed = []
    real = al.datasets.load_corpus
    monkeypatch.setattr(al.datasets, "load_corpus", lambda *a, **k: parsed.append(a) or real(*a, **k))
    path = _csv(tmp_path / "data.csv")
    config = SimulationConfig(dataset="csv", data_path=str(path), labels=("a", "b"), seed=0)
    first = load_config_corpus(config)
    assert load_config_corpus(SimulationConfig(dataset="csv", data_path=str(path), labels=("a", "b"), seed=3)) is first
    assert len(parsed) == 1
    with pytest.raises(ValueError, match="read-only"):
        first.texts[0] = "changed"
    with pytest.raises(ValueError, match="read-only"):
        first.splits["train"][0] = 1
    assert load_config_corpus(SimulationConfig(dataset="csv", data_path=str(path), labels=("a",))) is not first
    _csv(path, flip=20)  # same size, other labels
    again = load_config_corpus(config)
    assert len(parsed) == 3 and again is not first
    assert again.label_counts("train").tolist() != first.label_counts("train").tolist()


def test_one_embedding_cache_per_directory_per_process(tmp_path):
    """A worker reads each shard once; shards another process adds are still found."""
    import numpy as np

    from al.embedders import EmbeddingCache

    shared = EmbeddingCache.open(tmp_path / "emb")
    assert EmbeddingCache.open(tmp_path / "emb") is shared
    assert EmbeddingCache.open(tmp_path / "other") is not shared
    keys = np.array([b"k1", b"k2"], dtype="S16")
    EmbeddingCache(tmp_path / "emb").add(keys, np.eye(2, dtype=np.float32))  # as another process would
    found, vectors = shared.lookup(keys)
    assert found.all() and np.array_equal(vectors, np.eye(2, dtype=np.float32))
