"""Do two grids agree? Records round by round, and optionally two caches' vectors.

    python benchmarks/compare_runs.py runs/quick-w1 runs/quick-w2
    python benchmarks/compare_runs.py runs/quick-w2 runs/quick-cold-w2 \
        --caches ~/.cache/al /tmp/cold-cache

For each run directory present in both grids, prints whether every round has the same
picks and scores (timings are ignored) or the first round that differs. With
``--caches``, compares the vectors stored under both caches' ``embeddings/``, the
ALPS heads under ``alps/heads/`` and ALPS's vectors under ``alps/surprisal/``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from al.records import read_config, read_rounds  # noqa: E402

COMPARED = ("picked", "macro_f1", "micro_f1", "per_label_f1", "labeled_counts")


def first_difference(a: Path, b: Path) -> int | None:
    """Round number of the first record that differs in ``COMPARED`` fields, or None."""
    for x, y in zip(read_rounds(a), read_rounds(b)):
        if any(x.get(key) != y.get(key) for key in COMPARED):
            return x["round"]
    return None


def shard_vectors(directory: Path) -> dict[bytes, np.ndarray]:
    vectors = {}
    for path in directory.glob("shard-*.npz"):
        with np.load(path) as shard:
            vectors.update(zip(shard["keys"].tolist(), shard["vectors"]))
    return vectors


def compare_shards(what: str, left_dir: Path, right_dir: Path) -> None:
    """Print how many texts two shard directories share and how many of their vectors differ."""
    left, right = shard_vectors(left_dir), shard_vectors(right_dir)
    shared = [k for k in right if k in left]
    if shared:
        gaps = np.array([np.abs(left[k] - right[k]).max() for k in shared])
        print(f"{what}: {len(shared)} texts in both, {100 * (gaps > 0).mean():.1f} % differ, max |diff| {gaps.max():.2g}")


def compare_caches(a: Path, b: Path) -> None:
    for model_dir in sorted((b / "embeddings").iterdir()):
        compare_shards(f"embeddings {model_dir.name}", a / "embeddings" / model_dir.name, model_dir)
    import torch

    for head in sorted((b / "alps" / "heads").glob("*/*.pt")):
        other = a / "alps" / "heads" / head.parent.name / head.name
        if other.is_file():
            x, y = torch.load(other, weights_only=True), torch.load(head, weights_only=True)
            gap = max((x[k] - y[k]).abs().max().item() for k in x)
            print(f"ALPS head {head.parent.name}/{head.name}: max |diff| {gap:.2g}")
    for vectors in sorted((b / "alps" / "surprisal").glob("*/")):
        compare_shards(f"ALPS vectors {vectors.name}", a / "alps" / "surprisal" / vectors.name, vectors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--caches", nargs=2, type=Path, metavar=("CACHE_A", "CACHE_B"))
    args = parser.parse_args()
    runs = sorted(p.name for p in args.a.iterdir() if (args.b / p.name / "rounds.jsonl").is_file())
    same = 0
    for name in runs:
        round_ = first_difference(args.a / name, args.b / name)
        same += round_ is None
        digests = [(read_config(d / name) or {}).get("embeddings_digest") for d in (args.a, args.b)]
        embeddings = "" if None in digests else \
            ", embeddings digest equal" if digests[0] == digests[1] else f", embeddings digests {digests}"
        print(f"{name}: {'same' if round_ is None else f'differs from round {round_} on'}{embeddings}")
    print(f"{same} of {len(runs)} runs identical")
    if args.caches:
        compare_caches(*(p.expanduser() for p in args.caches))


if __name__ == "__main__":
    main()
