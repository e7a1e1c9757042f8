"""``python -m al.analyze``: are class centroids of sentence embeddings near texts of their class?

Embeds the pool, then for each labeled-set size draws a random labeled set and
measures centroid proximity (the paper's Table 2), own- vs other-centroid
distances (Figures 3-4), a 2-D PCA (Figures 5-6) and embedding-space quality
(soft nearest neighbour loss, clustering scores). Writes ``analysis.json``,
PNG figures and ``summary.md`` (see :mod:`al.analysis.report`).

Examples
--------
    python -m al.analyze
    python -m al.analyze --sizes 100 200 500 1500 --k 100 --out /tmp/analysis
    python -m al.analyze --labels food water shelter medical_help --pool-size 2000 --sizes 50 100
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path
from typing import Sequence

from al import __version__
from al.errors import ALError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m al.analyze",
        description="Analyse class embeddings (centroids of sentence embeddings) on a pool: for each labeled-set "
        "size, how many of the k unlabeled texts nearest each centroid carry its label (vs chance), how far "
        "labeled texts lie from their own and the other centroids, a 2-D PCA, and embedding-space quality "
        "(soft nearest neighbour loss, silhouette, Davies-Bouldin, Calinski-Harabasz, k-means NMI/ARI/accuracy).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    g = p.add_argument_group("data")
    g.add_argument("--dataset", default="disaster", help="disaster (embedded default), reuters, csv or jsonl")
    g.add_argument("--data-path", default=None,
                   help="reuters: directory of reut2-*.sgm or reuters21578.tar.gz; csv/jsonl: the file")
    g.add_argument("--labels", nargs="+", default=None, metavar="LABEL",
                   help="keep exactly these labels (default: --frequent most and --rare least frequent)")
    g.add_argument("--frequent", type=int, default=5, help="frequent labels to keep")
    g.add_argument("--rare", type=int, default=5, help="rare labels to keep")
    g.add_argument("--pool-size", type=int, default=None, help="subsample the pool to this many texts")
    g = p.add_argument_group("analysis")
    g.add_argument("--model", default="all-MiniLM-L6-v2", help="sentence-embedding model: name or local directory")
    g.add_argument("--sizes", nargs="+", type=int, default=[100, 200, 500, 1500], metavar="N",
                   help="labeled-set sizes (each below the pool size)")
    g.add_argument("--k", type=int, default=100, help="unlabeled texts searched around each class centroid")
    g.add_argument("--seed", type=int, default=0, help="seeds the labeled samples and k-means")
    g.add_argument("--out", default=None, help="output directory (default analysis/<dataset>-<model>)")
    g.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (for embedding)")
    g.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--version", action="version", version=f"al {__version__}")
    return p


def default_out(dataset: str, model: str) -> Path:
    name = Path(model).name if Path(model).expanduser().is_dir() else model.split("/")[-1]
    return Path("analysis") / re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{dataset}-{name}")


def run(args: argparse.Namespace) -> tuple[dict, Path]:
    """Validate, load, embed, analyse, write; returns the result and the output directory."""
    from al.analysis.embedding_analysis import analyze_pool, check_sizes
    from al.config import SimulationConfig
    from al.embedders import SentenceEmbedder
    from al.models import resolve_model
    from al.simulate import load_config_corpus

    def say(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    config = SimulationConfig(
        dataset=args.dataset, data_path=args.data_path, labels=tuple(args.labels) if args.labels else None,
        n_frequent=args.frequent, n_rare=args.rare, pool_size=args.pool_size, model=args.model, device=args.device,
    ).validate()
    check_sizes(args.sizes, sys.maxsize, args.k)  # sign and emptiness, before anything loads
    resolve_model(args.model)
    out = Path(args.out) if args.out else default_out(args.dataset, args.model)

    t = time.perf_counter()
    corpus = load_config_corpus(config)
    pool = corpus.splits["train"]
    check_sizes(args.sizes, len(pool), args.k)
    seconds = {"load": round(time.perf_counter() - t, 3)}
    say(f"{corpus.name}: {len(pool)} pool texts, {corpus.n_labels} labels; embedding with {args.model}")

    t = time.perf_counter()
    embeddings = SentenceEmbedder(args.model, device=args.device).encode(corpus.texts[pool].tolist())
    seconds["embed"] = round(time.perf_counter() - t, 3)
    say(f"embedded in {seconds['embed']:.1f} s; analysing sizes {' '.join(map(str, sorted(set(args.sizes))))}")

    meta = {"version": __version__, "dataset": corpus.name, "model": args.model, "seconds": seconds}
    result = analyze_pool(embeddings, corpus.Y[pool], corpus.label_names, args.sizes, k=args.k, seed=args.seed,
                          out=out, meta=meta)
    return result, out


def format_proximity(result: dict) -> str:
    """Plain text: per size and label, observed / chance."""
    names = result["label_names"]
    width = max(12, *(len(n) + 2 for n in names))
    lines = [f"texts with label j among the {result['k']} unlabeled texts nearest centroid j: observed / chance",
             f"{'|L|':>6}" + "".join(f"{n:>{width}}" for n in names)]
    for e in result["sizes"]:
        cells = [("-" if p["observed"] is None else f"{p['observed']} / {p['expected']:.1f}").rjust(width)
                 for p in (e["proximity"][n] for n in names)]
        lines.append(f"{e['size']:>6}" + "".join(cells))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        result, out = run(args)
    except ALError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_proximity(result))
    print(f"wrote {out}/analysis.json, summary.md and {1 + 2 * len(result['sizes'])} figures", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
