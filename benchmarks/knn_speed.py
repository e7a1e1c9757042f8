"""Speed of the kNN classifier: predicting the pool, choosing k on dev, adding a round's texts.

    python benchmarks/knn_speed.py                 # about 5 s on 2 cores (RESULTS.md section 16: 4.96 s wall)
    python benchmarks/knn_speed.py --labeled 600 --queries 11000 --dev 2000 --repeat 5

Synthetic L2-normalised 384-dimensional vectors, 10 labels (each on 20 % of the texts).
Prints the best and median of ``--repeat`` runs of

* ``predict_proba`` for ``--queries`` texts against ``--labeled`` indexed vectors, at k = 10 and 100;
* ``fit`` with ``k="dev"``: one search of min(100, labeled) neighbours for ``--dev`` texts and
  every k scored from it (the index build is included; it is a copy of the vectors);
* a warm ``fit`` that adds 50 rows to the index (k fixed, so no dev search).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from al.classifiers.knn import KNNClassifier  # noqa: E402
from al.cli import ArgumentParser  # noqa: E402
from benchmarks.machine import describe  # noqa: E402


def timed(call, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> None:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labeled", type=int, default=600)
    parser.add_argument("--queries", type=int, default=11000)
    parser.add_argument("--dev", type=int, default=2000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--labels", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for name in ("labeled", "queries", "dev", "dim", "labels", "repeat"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}; give a positive count (default "
                         f"{parser.get_default(name)})")

    rng = np.random.default_rng(0)

    def vectors(n: int) -> np.ndarray:
        x = rng.standard_normal((n, args.dim)).astype(np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    def labels(n: int) -> sp.csr_matrix:
        return sp.csr_matrix((rng.random((n, args.labels)) < 0.2).astype(np.int8))

    X, Y = vectors(args.labeled + 50), labels(args.labeled + 50)
    X_dev, Y_dev, queries = vectors(args.dev), labels(args.dev), vectors(args.queries)
    n = args.labeled
    print(f"{describe()}, {os.cpu_count()} CPUs, {date.today()}; "
          f"|L|={n}, dim={args.dim}, {args.labels} labels, best / median of {args.repeat}")
    for weights in ("uniform", "similarity"):
        for k in (10, 100):
            classifier = KNNClassifier(k=k, weights=weights).fit(X[:n], Y[:n])
            best, median = timed(lambda: classifier.predict_proba(queries), args.repeat)
            print(f"predict_proba  {args.queries} queries  k={k:<3} {weights:<10}  {best:.3f} s / {median:.3f} s")
        chosen = KNNClassifier(k="dev", weights=weights)
        best, median = timed(lambda: chosen.fit(X[:n], Y[:n], X_dev, Y_dev), args.repeat)
        print(f"fit k=dev      {args.dev} dev texts  -> k={chosen.k_:<3} {weights:<10}  {best:.3f} s / {median:.3f} s")

    classifier, seconds = KNNClassifier(k=10), []
    for _ in range(args.repeat):
        classifier.fit(X[:n], Y[:n])
        start = time.perf_counter()
        classifier.fit(X, Y)
        seconds.append(time.perf_counter() - start)
        assert classifier.info()["index"] == "added 50"
    print(f"fit adding 50 rows to {n} (k=10)               {min(seconds):.4f} s / {statistics.median(seconds):.4f} s")

if __name__ == "__main__":
    main()
