"""Sentence embeddings in fp32 against bf16 autocast: texts per second and how far the vectors move.

    python benchmarks/embed_precision.py                  # 2,000 texts of each pool, 3 rounds
    python benchmarks/embed_precision.py --n 500 --rounds 2

On 2 Xeon cores with native bf16 the default takes about 7 min (RESULTS.md section 12.7: at its median rates, the
3 rounds of each precision on both pools are about 410 s); longer where bf16 is emulated (section 18).

For the Disaster Response and the Reuters-21578 pools (the quick grid's two data
sets; Reuters is skipped when ``../shared/data/reuters21578.tar.gz`` is absent),
the first ``--n`` pool texts are encoded by :class:`al.embedders.SentenceEmbedder`
without its cache, ``precision="fp32"`` and ``"bf16"`` alternating round by round
(one model load serves both), on the torch threads the process has. Printed: the
median texts per second of each and their ratio; between the two sets of vectors
the cosine (minimum, 0.1 % quantile, median) and how many of each text's 10
nearest neighbours (cosine, the text itself left out) are the same; and whether
the bf16 vectors come out bit for bit the same on 1 and 2 threads.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from al.cli import ArgumentParser  # noqa: E402
from al.datasets import load_corpus  # noqa: E402
from al.device import cpu_has_native_bf16, torch_threads  # noqa: E402
from al.embedders import SentenceEmbedder, matrix_digest  # noqa: E402
from benchmarks.machine import describe  # noqa: E402


def neighbour_overlap(A: np.ndarray, B: np.ndarray, k: int = 10) -> float:
    """Mean share of each row's k nearest rows (cosine, itself left out) that A and B agree on."""
    def nearest(X: np.ndarray) -> np.ndarray:
        sims = X @ X.T
        np.fill_diagonal(sims, -np.inf)
        return np.argsort(-sims, axis=1, kind="stable")[:, :k]

    a, b = nearest(A), nearest(B)
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(a, b)]))


def main() -> None:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="pool texts to encode per data set (the first n)")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes of each precision (the median is shown)")
    parser.add_argument("--reuters", default=None,
                        help="Reuters-21578's reuters21578.tar.gz (default: ../shared/data/ beside the checkout, "
                        "skipped when absent there)")
    args = parser.parse_args()
    if args.reuters is not None and not Path(args.reuters).exists():
        parser.error(f"--reuters {args.reuters} does not exist; give the path of reuters21578.tar.gz, or leave "
                     f"--reuters out")
    reuters = Path(args.reuters) if args.reuters else ROOT.parent / "shared" / "data" / "reuters21578.tar.gz"
    for name in ("n", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}; give a positive count (default "
                         f"{parser.get_default(name)})")
    import torch

    print(f"machine: {describe()}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}, "
          f"native bf16: {cpu_has_native_bf16()}, Python {platform.python_version()}, torch {torch.__version__}; "
          f"date: {date.today()}")
    print(f"command: python benchmarks/embed_precision.py {' '.join(sys.argv[1:])}")
    pools = {"disaster": load_corpus("disaster", None, n_frequent=5, n_rare=5, seed=0)}
    if reuters.exists():
        pools["reuters"] = load_corpus("reuters", reuters, n_frequent=5, n_rare=5, seed=0)
    else:
        print(f"(Reuters skipped: {reuters} is absent)")
    embedders = {p: SentenceEmbedder(cache=False, device="cpu", precision=p, show_progress=False)
                 for p in ("fp32", "bf16")}
    encoder = embedders["fp32"]._load()
    embedders["bf16"]._encoder = encoder  # the same weights; bf16 is autocast around the same modules
    print("\n| pool | texts | fp32 texts/s | bf16 texts/s | speed-up | cosine min | cosine 0.1 % | cosine median "
          "| 10-NN shared | bf16 1 vs 2 threads |\n|---|---|---|---|---|---|---|---|---|---|")
    for name, corpus in pools.items():
        texts = corpus.texts[corpus.splits["train"]][: args.n].tolist()
        for embedder in embedders.values():
            embedder._encode(texts[:64])  # warm-up
        seconds: dict[str, list[float]] = {p: [] for p in embedders}
        vectors: dict[str, np.ndarray] = {}
        for _ in range(args.rounds):
            for precision, embedder in embedders.items():
                start = time.perf_counter()
                vectors[precision] = embedder._encode(texts)
                seconds[precision].append(time.perf_counter() - start)
        rate = {p: len(texts) / statistics.median(s) for p, s in seconds.items()}
        cosine = (vectors["fp32"] * vectors["bf16"]).sum(axis=1)
        checked = texts[:500]
        with torch_threads(1):
            one = embedders["bf16"]._encode(checked)
        with torch_threads(2):
            two = embedders["bf16"]._encode(checked)
        same = "same bits" if matrix_digest(one) == matrix_digest(two) else "DIFFER"
        print(f"| {name} | {len(texts)} | {rate['fp32']:.1f} | {rate['bf16']:.1f} | {rate['bf16'] / rate['fp32']:.2f} | "
              f"{cosine.min():.5f} | {np.quantile(cosine, 0.001):.5f} | {np.median(cosine):.6f} | "
              f"{neighbour_overlap(vectors['fp32'], vectors['bf16']):.3f} | {same} ({len(checked)} texts) |",
              flush=True)


if __name__ == "__main__":
    main()
