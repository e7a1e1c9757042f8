"""Texts per second of the canonical sentence encoder against sentence-transformers' own ``encode``.

    python benchmarks/embed_speed.py                       # 2,000 Disaster Response pool texts, 3 rounds
    python benchmarks/embed_speed.py --n 500 --batch-sizes 64 256 --rounds 2

The old path is ``SentenceTransformer.encode(texts, batch_size=64)`` (sorted by
length, each batch padded to its longest text); the new one is
:class:`al.embedders.SentenceEmbedder` without its cache (canonical batches,
see :func:`al.embedders.canonical_batches`). The paths alternate round by
round, so load from other processes on the machine hits both alike; the best
and the median of the rounds are printed, with the padded tokens each path
ran. One model load serves all.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from al.cli import ArgumentParser  # noqa: E402
from al.datasets import load_corpus  # noqa: E402
from al.embedders import SentenceEmbedder, canonical_batches  # noqa: E402
from benchmarks.machine import describe  # noqa: E402


def padded_tokens_old(lengths: np.ndarray, batch_size: int = 64) -> int:
    """Tokens sentence-transformers runs: longest first, each batch padded to its longest."""
    s = np.sort(lengths)[::-1]
    return int(sum(len(s[i : i + batch_size]) * s[i] for i in range(0, len(s), batch_size)))


def main() -> None:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="pool texts to encode (the first n)")
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[64, 128, 256])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for name, value in (("n", args.n), ("rounds", args.rounds), ("batch-sizes", min(args.batch_sizes))):
        if value < 1:
            parser.error(f"--{name} must be at least 1, got {value}; give positive counts (see --help for the "
                         f"defaults)")
    import torch

    print(f"machine: {describe()}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}, "
          f"Python {platform.python_version()}; date: {date.today()}")
    print(f"command: python benchmarks/embed_speed.py {' '.join(sys.argv[1:])}")
    corpus = load_corpus("disaster", None, n_frequent=5, n_rare=5, seed=0)
    texts = corpus.texts[corpus.splits["train"]][: args.n].tolist()

    new = {b: SentenceEmbedder(batch_size=b, cache=False, device="cpu") for b in args.batch_sizes}
    first = new[args.batch_sizes[0]]
    encoder = first._load()
    for embedder in new.values():
        embedder._encoder = encoder
    lengths = np.array([len(ids) for ids in encoder.tokenizer(texts, truncation=True,
                                                               max_length=encoder.max_seq_length)["input_ids"]])
    print(f"{len(texts)} texts, {lengths.sum()} real tokens (mean {lengths.mean():.1f}, max {lengths.max()})")

    def old() -> np.ndarray:
        return encoder.encode(texts, batch_size=64, convert_to_numpy=True, normalize_embeddings=True)

    paths = {"sentence-transformers encode (batch 64)": (old, padded_tokens_old(lengths))}
    for b, embedder in new.items():
        tokens = sum(batch.n_rows * batch.length for batch in canonical_batches(lengths, encoder.max_seq_length, b))
        paths[f"canonical, batch_size={b}"] = ((lambda e=embedder: e._encode(texts)), tokens)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        old()  # warm-up
    seconds: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(args.rounds):
        for name, (run, _) in paths.items():
            start = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - start)
    print("\n| path | padded tokens | best texts/s | median texts/s |\n|---|---|---|---|")
    for name, (_, tokens) in paths.items():
        best, median = min(seconds[name]), statistics.median(seconds[name])
        print(f"| {name} | {tokens} | {len(texts) / best:.1f} | {len(texts) / median:.1f} |")


if __name__ == "__main__":
    main()
