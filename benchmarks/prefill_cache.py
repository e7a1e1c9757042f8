"""Fill an embedding cache in another history than a grid would: shuffled texts, random batch sizes.

    AL_CACHE_DIR=/tmp/other-cache python benchmarks/prefill_cache.py simulations/quick.yaml

For every data setting of the grid file, the corpus texts are encoded in a random order, in
calls of 1 to 300 texts, so each text meets other company (and other padding, with
non-canonical encoding) than in the grid's own pass. A grid run afterwards on this cache must
give the same records as one on a cache it filled itself (``benchmarks/compare_runs.py``).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from al.cli import ArgumentParser  # noqa: E402
from al.config import load_yaml  # noqa: E402
from al.embedders import SentenceEmbedder  # noqa: E402
from al.errors import ALError  # noqa: E402
from al.grid import expand_grid  # noqa: E402
from al.simulate import load_config_corpus  # noqa: E402


def main() -> int:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("grid", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.seed < 0:
        parser.error(f"--seed must be 0 or more, got {args.seed}; give e.g. --seed 1")
    try:
        _, runs = expand_grid(load_yaml(args.grid), str(args.grid))
    except ALError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    seen: set[tuple] = set()
    for run in runs:
        c = run.config
        key = (c.dataset, c.data_path, c.labels, c.n_frequent, c.n_rare, c.model, c.embed_precision, c.device)
        if key in seen:
            continue
        seen.add(key)
        texts = load_config_corpus(c).texts.tolist()
        order = rng.permutation(len(texts))
        embedder = SentenceEmbedder(c.model, precision=c.embed_precision, device=c.device)
        start, t = 0, time.perf_counter()
        while start < len(order):
            size = int(rng.integers(1, 301))
            embedder.encode([texts[i] for i in order[start : start + size]])
            start += size
        print(f"{c.dataset}: {len(texts)} texts in shuffled calls, {embedder.n_encoded_} encoded, "
              f"{time.perf_counter() - t:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
