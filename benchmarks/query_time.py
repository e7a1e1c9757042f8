"""Query time of every strategy against pool size, on synthetic inputs.

    python benchmarks/query_time.py                      # pools of 10k and 100k
    python benchmarks/query_time.py --pools 10000 --strategies cvirs dal

Each strategy answers one query of n=50 with 600 labeled texts, 10 labels,
384-dimensional L2-normalised embeddings (also used as the classifier's
representation) and uniform random probabilities. Views are built before the
clock starts, and each strategy first answers one small query untimed (its
imports and the first use of torch, scikit-learn or faiss), so the time is the
strategy's own. ALPS is timed on given
surprisal vectors (its k-means selection); the one MLM pass over the pool is
a separate, once-per-pool cost (see RESULTS.md). BALD is timed on random
dropout samples (T = 10; drawing them is inside the clock, so the time bounds its
scoring and selection from above); the T forward passes of the bert classifier
that make real samples are the classifier's cost, not measured here.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import tracemalloc
from datetime import date
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from al.cli import ArgumentParser  # noqa: E402
from al.errors import ALError  # noqa: E402
from al.registry import get_strategy  # noqa: E402
from al.strategy import PoolState  # noqa: E402
from benchmarks.machine import describe  # noqa: E402

DEFAULT = ["random", "class_embedding", "cvirs", "least_confidence", "margin", "max_entropy", "dal", "alps",
           "smalltext:BreakingTies", "modal:margin_sampling", "badge", "coreset", "mmc", "adaptive", "binmin", "bald"]




class FixedThresholds:
    """What adapters read of a classifier: its thresholds; and, for BALD, given dropout samples."""

    def __init__(self, n_labels: int) -> None:
        self.thresholds_ = np.full(n_labels, 0.5, dtype=np.float32)

    def predict_proba_dropout(self, X: np.ndarray, n_samples: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return rng.random((n_samples, len(X), len(self.thresholds_)), dtype=np.float32)


#: Texts labeled in every synthetic pool.
N_LABELED = 600


def synthetic_state(n_pool: int, n_labeled: int = N_LABELED, n_labels: int = 10, dim: int = 384, seed: int = 0) -> PoolState:
    rng = np.random.default_rng(seed)
    emb = rng.normal(size=(n_pool, dim)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    proba = rng.random((n_pool, n_labels)).astype(np.float32)
    Y = (rng.random((n_pool, n_labels)) < 0.2).astype(np.int8)
    Y[np.arange(n_pool), rng.integers(0, n_labels, n_pool)] = 1
    Y = sp.csr_matrix(Y)
    labeled = np.sort(rng.choice(n_pool, n_labeled, replace=False))
    mask = np.ones(n_pool, bool)
    mask[labeled] = False
    views = {"embeddings": emb, "proba": proba, "representations": emb,
             "classifier": FixedThresholds(n_labels), "texts": [f"text {i}" for i in range(n_pool)], "inputs": emb}
    state = PoolState(labeled, np.flatnonzero(mask), Y[labeled], tuple(f"l{j}" for j in range(n_labels)),
                      np.random.default_rng(seed + 1), views={k: (lambda v=v: v) for k, v in views.items()},
                      oracle=lambda idx: Y[idx])
    for name in views:
        state.view(name)  # build before timing
    return state


def make(name: str, state: PoolState):
    if name == "alps":
        from strategies import alps

        surprisal = np.random.default_rng(0).random((state.n_pool, 128)).astype(np.float32)
        surprisal /= np.linalg.norm(surprisal, axis=1, keepdims=True)
        return alps.ALPS(surprisal=lambda texts: surprisal)
    return get_strategy(name)()


def main() -> int:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pools", nargs="+", type=int, default=[10_000, 100_000])
    parser.add_argument("--strategies", nargs="+", default=DEFAULT)
    parser.add_argument("-n", type=int, default=50)
    args = parser.parse_args()
    if args.n < 1:
        parser.error(f"-n must be at least 1, got {args.n}; give the query size, e.g. -n 50")
    if min(args.pools) < N_LABELED + args.n:
        parser.error(f"--pools sizes must be at least {N_LABELED + args.n} ({N_LABELED} labeled texts and -n "
                     f"{args.n} to pick), got {min(args.pools)}; give larger pools, e.g. --pools 10000")
    try:
        for name in args.strategies:
            get_strategy(name)
    except ALError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"machine: {describe()}, {os.cpu_count()} cores, Python {platform.python_version()}; date: {date.today()}")
    print(f"command: python benchmarks/query_time.py {' '.join(sys.argv[1:])}\n")
    print("| strategy | " + " | ".join(f"{p:,} pool: s (peak MiB)" for p in args.pools) + " |")
    print("|---|" + "---|" * len(args.pools))
    states = {p: synthetic_state(p) for p in args.pools}
    for name in args.strategies:
        cells = []
        for pool in args.pools:
            state = states[pool]
            strategy = make(name, state)
            if pool == args.pools[0]:  # a first query's imports and first use (torch, scikit-learn, faiss) untimed
                warm = synthetic_state(2_000)
                make(name, warm).query(warm, 5)
            tracemalloc.start()
            start = time.perf_counter()
            picked = strategy.query(state, args.n)
            seconds = time.perf_counter() - start
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            if len(set(np.asarray(picked).tolist())) != args.n:
                raise SystemExit(f"{name} returned {len(picked)} picks")
            cells.append(f"{seconds:.2f} ({peak:.0f})")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
