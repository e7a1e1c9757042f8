"""Cross-check: our MMC and Adaptive against libact 0.1.6's on the same probabilities.

libact is a reference here, never the implementation. It needs old numpy and
scipy, so it lives in its own virtual environment (see shared/ALGORITHMS.md):

    python -m venv /tmp/libact-venv
    /tmp/libact-venv/bin/pip install "numpy==1.26.*" "scipy==1.11.*" "scikit-learn==1.4.*" \\
        "Cython<3.1" "setuptools<70" six wheel joblib
    LIBACT_BUILD_HINTSVM=0 LIBACT_BUILD_VARIANCE_REDUCTION=0 \\
        /tmp/libact-venv/bin/pip install --no-build-isolation --no-deps libact==0.1.6
    /tmp/libact-venv/bin/python benchmarks/libact_crosscheck.py --rounds 200   # 12.8 s, 2 cores (RESULTS.md section 16)

Each round draws a random multi-label problem (features, labels, a labeled
set) and asks both implementations for one text:

* MMC: libact's multi-label model is replaced by the round's fixed per-label
  probabilities (its ``BinaryRelevance`` is patched to return them for the
  texts' ids), so both sides read the same p; libact fits its label-count
  regression (newton-cg) and we fit ours (lbfgs) on the same features.
* Adaptive: both sides use one-vs-rest logistic regression (C = 1, balanced
  class weights) on the features, with f = 2 p - 1. libact retrains it exactly
  for every candidate and keeps every text tied at a beta's maximum as a
  candidate; we keep ``ties_per_beta`` of the tied texts (larger u first, then
  the lower index) and retrain by one Newton step. The report says how often the picks agree and,
  when they do not, whether libact's pick was among our candidates.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from al.cli import ArgumentParser  # noqa: E402
from al.strategy import PoolState  # noqa: E402
from strategies.multilabel import (  # noqa: E402
    MMC, Adaptive, adaptive_candidates, cardinality_inconsistency, max_margin_uncertainty,
)


def problem(gen: np.random.Generator, n_pool: int, n_labeled: int, n_labels: int, dim: int):
    """Features X (n_pool, dim), gold Y (n_pool, n_labels), labeled positions."""
    centres = gen.normal(size=(n_labels, dim))
    Y = (gen.random((n_pool, n_labels)) < 0.3).astype(int)
    Y[np.arange(n_pool), gen.integers(0, n_labels, n_pool)] = 1
    X = Y @ centres + gen.normal(scale=1.5, size=(n_pool, dim))
    labeled = np.concatenate([[0], 1 + np.sort(gen.choice(n_pool - 1, n_labeled - 1, replace=False))])
    return X, Y, labeled  # text 0 labeled: libact's Adaptive reads the label count from the first entry


def targets(Y: np.ndarray, labeled: np.ndarray) -> np.ndarray:
    """libact's labels: an object array, a label row for labeled texts, None for the others."""
    out = np.empty(len(Y), dtype=object)
    for i in labeled:
        out[i] = Y[i]
    return out


def state_of(proba, X, Y, labeled) -> PoolState:
    unlabeled = np.setdiff1d(np.arange(len(X)), labeled)
    return PoolState(labeled, unlabeled, sp.csr_matrix(Y[labeled]), tuple(f"l{j}" for j in range(Y.shape[1])),
                     np.random.default_rng(0), views={"proba": lambda: proba, "representations": lambda: X})


def check_mmc(rounds: int, seed: int) -> tuple[int, int]:
    from libact.base.dataset import Dataset
    from libact.query_strategies.multilabel import MMC as LibactMMC
    import libact.query_strategies.multilabel.maximum_margin_reduction as mmr

    agree = 0
    for r in range(rounds):
        gen = np.random.default_rng([seed, r])
        n_pool, n_labels = 150, int(gen.integers(3, 7))
        _, Y, labeled = problem(gen, n_pool, 40, n_labels, 8)
        proba = gen.beta(0.6, 0.6, size=(n_pool, n_labels))  # spread towards 0 and 1, like real outputs

        class FixedBR:  # libact's BinaryRelevance, answering with this round's probabilities
            def __init__(self, *args, **kwargs):
                pass

            def train(self, dataset):
                return self

            def predict_proba(self, X):
                return proba[np.asarray(X)[:, 0].astype(int)]

        mmr.BinaryRelevance = FixedBR
        ids = np.arange(n_pool, dtype=float)[:, None]
        dataset = Dataset(ids, targets(Y, labeled))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = LibactMMC(dataset, random_state=0).make_query()
        ours = MMC().query(state_of(proba, ids, Y, labeled), 1)[0]
        agree += int(theirs == ours)
    return agree, rounds


def check_adaptive(rounds: int, seed: int, ties: list[int]) -> tuple[dict[int, int], dict[int, int], int]:
    from libact.base.dataset import Dataset
    from libact.base.interfaces import ContinuousModel
    from libact.models.multilabel import BinaryRelevance
    from libact.query_strategies.multilabel import AdaptiveActiveLearning
    from sklearn.linear_model import LogisticRegression

    class BalancedLR(ContinuousModel):
        """scikit-learn's balanced logistic regression, f = 2 p - 1 as the real-valued output."""

        def __init__(self):
            self.model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000, tol=1e-8)

        def train(self, dataset, *args, **kwargs):
            X, y = dataset.format_sklearn()
            self.model.fit(X, y)
            return self

        def predict(self, feature, *args, **kwargs):
            return self.model.predict(feature)

        def score(self, testing_dataset, *args, **kwargs):
            raise NotImplementedError

        def predict_real(self, feature, *args, **kwargs):
            p = self.model.predict_proba(feature)[:, 1]
            return np.stack([1 - 2 * p, 2 * p - 1], axis=1)

    agree = {t: 0 for t in ties}
    among = {t: 0 for t in ties}
    for r in range(rounds):
        gen = np.random.default_rng([seed, r])
        n_pool, n_labels = 120, int(gen.integers(3, 6))
        X, Y, labeled = problem(gen, n_pool, 40, n_labels, 6)
        unlabeled = np.setdiff1d(np.arange(n_pool), labeled)
        dataset = Dataset(X, targets(Y, labeled))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = AdaptiveActiveLearning(dataset, base_clf=BalancedLR(), random_state=0).make_query()
            br = BinaryRelevance(BalancedLR()).train(Dataset(X[labeled], Y[labeled]))
        proba = (br.predict_real(X) + 1) / 2
        u = max_margin_uncertainty(proba[unlabeled])
        c = cardinality_inconsistency(proba[unlabeled], Y[labeled].sum(axis=1).mean())
        for t in ties:
            ours = Adaptive(ties_per_beta=t).query(state_of(proba, X, Y, labeled), 1)[0]
            agree[t] += int(theirs == ours)
            proposed = np.concatenate(adaptive_candidates(u, c, [i / 10 for i in range(11)], unlabeled, t))
            among[t] += int(theirs in set(unlabeled[proposed].tolist()))
    return agree, among, rounds


def main() -> int:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ties", type=int, nargs="+", default=[1, 20], help="Adaptive's ties_per_beta values")
    args = parser.parse_args()
    if args.rounds < 1 or args.seed < 0 or min(args.ties) < 1:
        parser.error(f"expected --rounds and --ties of at least 1 and --seed of 0 or more, got --rounds {args.rounds} "
                     f"--seed {args.seed} --ties {' '.join(map(str, args.ties))}; give e.g. --rounds 200 --seed 0 "
                     f"--ties 1 20")
    try:
        import libact
    except ModuleNotFoundError:
        print(f"error: expected libact 0.1.6 in this Python ({sys.executable}), found none; it needs old numpy and "
              f"scipy, so install it in a virtual environment of its own (shared/ALGORITHMS.md, libact; the steps "
              f"are in this script's --help) and run the script with that environment's python", file=sys.stderr)
        return 2

    print(f"libact {getattr(libact, '__version__', '0.1.6')}; command: python benchmarks/libact_crosscheck.py "
          f"{' '.join(sys.argv[1:])}")
    start = time.perf_counter()
    agree, n = check_mmc(args.rounds, args.seed)
    print(f"MMC: same pick in {agree} of {n} rounds ({time.perf_counter() - start:.0f} s)", flush=True)
    start = time.perf_counter()
    agree, among, n = check_adaptive(args.rounds, args.seed, args.ties)
    for t in args.ties:
        print(f"Adaptive, ties_per_beta={t}: same pick in {agree[t]} of {n} rounds; libact's pick among our "
              f"candidates in {among[t]}")
    print(f"({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
