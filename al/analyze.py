"""``python -m al.analyze``: are class centroids of sentence embeddings near texts of their class?

Embeds the pool, then for each labeled-set size draws a random labeled set and
measures centroid proximity (the paper's Table 2), own- vs other-centroid
distances (Figures 3-4), a 2-D PCA (Figures 5-6) and embedding-space quality
(soft nearest neighbour loss, clustering scores). Writes ``analysis.json``,
PNG figures and ``summary.md`` (see :mod:`al.analysis.embedding_analysis`).

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


DEFAULT_SIZES = (100, 200, 500, 1500)
DEFAULT_K = 100
#: Options of this command that are corpus or model settings of :class:`al.config.SimulationConfig`.
CONFIG_OPTIONS = ("dataset", "data_path", "labels", "n_frequent", "n_rare", "pool_size", "model", "device")


def build_parser() -> argparse.ArgumentParser:
    """Options without defaults (``SUPPRESS``): corpus and model defaults live in :class:`SimulationConfig`."""
    from al.config import SimulationConfig

    p = argparse.ArgumentParser(
        prog="python -m al.analyze",
        description="Analyse class embeddings (centroids of sentence embeddings) on a pool: for each labeled-set "
        "size, how many of the k unlabeled texts nearest each centroid carry its label (vs chance), how far "
        "labeled texts lie from their own and the other centroids, a 2-D PCA, and embedding-space quality "
        "(soft nearest neighbour loss, silhouette, Davies-Bouldin, Calinski-Harabasz, k-means NMI/ARI/accuracy).",
        argument_default=argparse.SUPPRESS,
    )
    d = SimulationConfig()
    g = p.add_argument_group("data")
    g.add_argument("--dataset", help=f"disaster (embedded default), reuters, csv or jsonl (default: {d.dataset})")
    g.add_argument("--data-path", help="reuters: directory of reut2-*.sgm or reuters21578.tar.gz; csv/jsonl: the file")
    g.add_argument("--labels", nargs="+", metavar="LABEL",
                   help="keep exactly these labels (default: --frequent most and --rare least frequent)")
    g.add_argument("--frequent", type=int, dest="n_frequent", metavar="K", help=f"frequent labels to keep (default: {d.n_frequent})")
    g.add_argument("--rare", type=int, dest="n_rare", metavar="K", help=f"rare labels to keep (default: {d.n_rare})")
    g.add_argument("--pool-size", type=int, help="subsample the pool to this many texts (default: all)")
    g = p.add_argument_group("analysis")
    g.add_argument("--model", help=f"sentence-embedding model: name or local directory (default: {d.model})")
    g.add_argument("--sizes", nargs="+", type=int, metavar="N",
                   help=f"labeled-set sizes (each below the pool size) (default: {' '.join(map(str, DEFAULT_SIZES))})")
    g.add_argument("--k", type=int, help=f"unlabeled texts searched around each class centroid (default: {DEFAULT_K})")
    g.add_argument("--seed", type=int, help="seeds the labeled samples and k-means (default: 0)")
    g.add_argument("--out", help="output directory (default analysis/<dataset>-<model>)")
    g.add_argument("--device", help=f"auto, cpu, cuda or cuda:N, for embedding (default: {d.device})")
    g.add_argument("--quiet", action="store_true", help="no progress output")
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
        if not quiet:
            print(message, file=sys.stderr, flush=True)

    given = {k: getattr(args, k) for k in CONFIG_OPTIONS if k in args}
    config = SimulationConfig(**given).validate()
    sizes, k, seed = getattr(args, "sizes", list(DEFAULT_SIZES)), getattr(args, "k", DEFAULT_K), getattr(args, "seed", 0)
    quiet = "quiet" in args
    check_sizes(sizes, sys.maxsize, k)  # sign and emptiness, before anything loads
    resolve_model(config.model)
    out = Path(args.out) if "out" in args else default_out(config.dataset, config.model)

    t = time.perf_counter()
    corpus = load_config_corpus(config)
    pool = corpus.splits["train"]
    check_sizes(sizes, len(pool), k)
    seconds = {"load": round(time.perf_counter() - t, 3)}
    say(f"{corpus.name}: {len(pool)} pool texts, {corpus.n_labels} labels; embedding with {config.model}")

    t = time.perf_counter()
    embeddings = SentenceEmbedder(config.model, device=config.device).encode(corpus.texts[pool].tolist())
    seconds["embed"] = round(time.perf_counter() - t, 3)
    say(f"embedded in {seconds['embed']:.1f} s; analysing sizes {' '.join(map(str, sorted(set(sizes))))}")

    meta = {"version": __version__, "dataset": corpus.name, "model": config.model, "seconds": seconds}
    result = analyze_pool(embeddings, corpus.Y[pool], corpus.label_names, sizes, k=k, seed=seed,
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
    from al.progress import set_quiet

    args = build_parser().parse_args(argv)
    set_quiet("quiet" in args)
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
