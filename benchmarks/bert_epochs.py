"""Seconds per training epoch of the ``bert`` classifier, and its learning rate against ``pos_weight``.

    python benchmarks/bert_epochs.py                       # both tables, about 15 min on 2 cores
    python benchmarks/bert_epochs.py --sizes 100 --learning-rates 1e-4   # a check, about 2 min

Remakes section 1's BERT tables of ``benchmarks/RESULTS.md`` with today's code, on the
default data (Disaster Response reduced to 5 + 5 labels, as ``python -m al.simulate`` reads
it) and the default model (all-MiniLM-L6-v2, max length 128, batch 16), on the CPU:

* **seconds per epoch** at each ``--sizes`` labeled texts (the first n of one seeded
  permutation of the pool, so each set holds the smaller ones): a fit of ``--epochs``
  epochs without dev data, less a fit of none (loading the model and tokenising, paid
  once per fit), over the epochs; then a dev pass and a test prediction, in texts a second;
* **learning rate against** ``pos_weight``: each pair fits ``--check-epochs`` epochs on
  ``--check-size`` texts of the same permutation, without dev data (every epoch runs;
  threshold 0.5), and gives the test split's macro-F1 and how many labels it predicted
  at least once (``pos_weight=None`` at a low rate predicts few of them: the collapse the
  project's data notes report, where a peer's classifier predicted no positive label at all).

Each fit is seeded (``seed=0``): the macro-F1 column is the same on a rerun on one machine;
the seconds are the machine's.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from al.cli import ArgumentParser  # noqa: E402
from benchmarks.machine import describe  # noqa: E402


def fit_seconds(classifier_kwargs: dict, texts: list[str], Y) -> float:
    """Wall seconds of one ``BertClassifier(**classifier_kwargs).fit(texts, Y)`` without dev data."""
    from al.classifiers.bert import BertClassifier

    start = time.perf_counter()
    BertClassifier(**classifier_kwargs).fit(texts, Y)
    return time.perf_counter() - start


def main() -> int:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 300, 600],
                        help="labeled texts of the seconds-per-epoch table (default: 100 300 600; none: skip it)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs timed per size (default: 2)")
    parser.add_argument("--learning-rates", type=float, nargs="*", default=[2e-5, 5e-5, 1e-4],
                        help="learning rates of the check (default: 2e-5 5e-5 1e-4; none: skip it)")
    parser.add_argument("--check-size", type=int, default=300, help="labeled texts of the check (default: 300)")
    parser.add_argument("--check-epochs", type=int, default=5, help="epochs of the check (default: 5)")
    args = parser.parse_args()
    for name in ("epochs", "check_size", "check_epochs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if any(n < 1 for n in args.sizes):
        parser.error(f"--sizes must be at least 1 each, got {args.sizes}")

    import torch

    from al.classifiers.bert import BertClassifier
    from al.config import SimulationConfig
    from al.metrics import macro_f1
    from al.simulate import load_config_corpus

    corpus = load_config_corpus(SimulationConfig())
    pool, dev, test = (corpus.splits[s] for s in ("train", "dev", "test"))
    largest = max([*args.sizes, args.check_size] if args.learning_rates else args.sizes or [0])
    if largest > len(pool):
        parser.error(f"a size of {largest} is more than the pool's {len(pool):,} texts; give at most {len(pool)}")
    order = np.random.default_rng(0).permutation(pool)
    texts = corpus.texts
    common = {"device": "cpu", "show_progress": False, "seed": 0}
    print(f"machine: {describe()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads, "
          f"Python {platform.python_version()}, torch {torch.__version__}; date: {date.today()}")
    print(f"data: {corpus.name}, {len(corpus.label_names)} labels, pool {len(pool):,}, dev {len(dev):,}, "
          f"test {len(test):,}; model: {BertClassifier().model}, max length 128, batch 16, CPU\n")

    if args.sizes:
        print("| labeled texts | s / epoch | once per fit s | dev texts / s | test texts / s |")
        print("|---|---:|---:|---:|---:|")
        for n in args.sizes:
            picked = order[:n]
            X, Y = [str(t) for t in texts[picked]], corpus.Y[picked]
            once = fit_seconds({**common, "max_epochs": 0}, X, Y)
            whole = fit_seconds({**common, "max_epochs": args.epochs}, X, Y)
            fitted = BertClassifier(**common, max_epochs=1).fit(X, Y)
            rates = []
            for split in (dev, test):
                start = time.perf_counter()
                fitted.predict_proba([str(t) for t in texts[split]])
                rates.append(len(split) / (time.perf_counter() - start))
            print(f"| {n} | {(whole - once) / args.epochs:.1f} | {once:.1f} | {rates[0]:.0f} | {rates[1]:.0f} |",
                  flush=True)
        print()

    if args.learning_rates:
        picked = order[:args.check_size]
        X, Y = [str(t) for t in texts[picked]], corpus.Y[picked]
        X_test, Y_test = [str(t) for t in texts[test]], corpus.Y[test]
        print(f"{args.check_size} labeled texts, {args.check_epochs} epoch(s), no dev data, threshold 0.5; "
              f"test macro-F1 over {len(corpus.label_names)} labels:\n")
        print("| learning rate | pos_weight | macro-F1 | labels predicted | fit s |")
        print("|---|---|---:|---:|---:|")
        for rate in args.learning_rates:
            for weight in (None, "auto"):
                start = time.perf_counter()
                fitted = BertClassifier(**common, max_epochs=args.check_epochs, learning_rate=rate,
                                        pos_weight=weight).fit(X, Y)
                seconds = time.perf_counter() - start
                predicted = fitted.predict(X_test)
                print(f"| {rate:g} | {weight or 'none'} | {macro_f1(Y_test, predicted):.3f} | "
                      f"{int((predicted.sum(axis=0) > 0).sum())} of {Y_test.shape[1]} | {seconds:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
