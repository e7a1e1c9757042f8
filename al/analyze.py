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
    python -m al.analyze --space cea --sizes 100 600      # pretrained vs a CEA space fitted on each labeled set
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import time
import warnings
from pathlib import Path
from typing import Sequence

from al import __version__
from al.cli import ArgumentParser, add_data_options, output_dir, sigterm_stops, stopped
from al.errors import ALError, ConfigError, and_more, did_you_mean


DEFAULT_SIZES = (100, 200, 500, 1500)
DEFAULT_K = 100
#: Options of this command that are corpus or model settings of :class:`al.config.SimulationConfig`.
CONFIG_OPTIONS = ("dataset", "data_path", "labels", "n_frequent", "n_rare", "pool_size", "model", "embed_precision", "device")


def build_parser() -> argparse.ArgumentParser:
    """Options without defaults (``SUPPRESS``): corpus and model defaults live in :class:`SimulationConfig`."""
    from al.config import SimulationConfig
    from al.embedders import PRECISIONS

    p = ArgumentParser(
        prog="python -m al.analyze",
        description="Analyse class embeddings (centroids of sentence embeddings) on a pool: for each labeled-set "
        "size, how many of the k unlabeled texts nearest each centroid carry its label (vs chance), how far "
        "labeled texts lie from their own and the other centroids, a 2-D PCA, and embedding-space quality "
        "(soft nearest neighbour loss, silhouette, Davies-Bouldin, Calinski-Harabasz, k-means NMI/ARI/accuracy).",
        argument_default=argparse.SUPPRESS,
    )
    d = SimulationConfig()
    g = p.add_argument_group("data")
    add_data_options(g, d.dataset, d.n_frequent, d.n_rare)
    g = p.add_argument_group("analysis")
    g.add_argument("--model", help=f"sentence-embedding model: name or local directory (default: {d.model})")
    g.add_argument("--embed-precision", choices=PRECISIONS,
                   help=f"fp32, or bf16 autocast (faster on CPUs with AVX512-BF16 or AMX) (default: {d.embed_precision})")
    g.add_argument("--sizes", nargs="+", type=int, metavar="N",
                   help=f"labeled-set sizes (each below the pool size) (default: {' '.join(map(str, DEFAULT_SIZES))})")
    g.add_argument("--k", type=int, help=f"unlabeled texts searched around each class centroid (default: {DEFAULT_K})")
    g.add_argument("--seed", type=int, help="seeds the labeled samples and k-means, 0 to 2**32 - 1 (default: 0)")
    g.add_argument("--out", help="output directory (default analysis/<dataset>-<model>, a csv/jsonl file's name for "
                   "<dataset>, then -<space>-<scope> "
                   "with --space and -bf16 with --embed-precision bf16)")
    g.add_argument("--device", help=f"auto, cpu, cuda or cuda:N, for embedding (default: {d.device})")
    g = p.add_argument_group("task-specific space (compared with the pretrained one)")
    g.add_argument("--space", metavar="NAME",
                   help="fit this space on each labeled set (cea, snnl, aan, am or clld) and report both spaces "
                   "side by side")
    g.add_argument("--space-scope", choices=["head", "encoder"],
                   help="head: a projection trained on the frozen cached embeddings (seconds); encoder: fine-tune "
                   f"the sentence encoder and re-embed (the papers' setting) (default: {d.space_scope})")
    g.add_argument("--space-param", action="append", metavar="KEY=VALUE",
                   help="keyword argument of the space (repeatable), as in al.simulate")
    g.add_argument("--held-out", type=int, metavar="N",
                   help="unlabeled texts whose quality is measured in both spaces (default: 2000)")
    g.add_argument("--quiet", action="store_true", help="no progress output")
    return p


def default_out(dataset: str, model: str, data_path: str | None = None, earlier: bool = False) -> Path:
    """``analysis/<data>-<model>``: the data set's name, or a user's file's (``mydata.csv``, ``données é.csv`` as
    ``données_é.csv``: its letters in any script, as :func:`al.config.file_stem_part` names a run's folder);
    ``earlier``: as earlier versions named it, in ASCII letters alone (``donn_es_.csv``)."""
    from al.config import file_stem_part

    name = Path(model).name if Path(model).expanduser().is_dir() else model.split("/")[-1]
    if earlier:
        data = Path(data_path).name if dataset in ("csv", "jsonl") and data_path else dataset
        return Path("analysis") / re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{data}-{name}")
    data = file_stem_part(Path(data_path).name) or "data" if dataset in ("csv", "jsonl") and data_path else dataset
    return Path("analysis") / f"{data}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}"


def written_figures(result: dict) -> set[str]:
    """The file names of the figures in ``result`` (its own, each size's, each size's in a fitted space)."""
    names = set(result.get("figures", {}).values())
    for entry in result.get("sizes", []):
        names |= set(entry.get("figures", {}).values())
        names |= set(entry.get("adapted", {}).get("figures", {}).values())
    return names


def same_file(earlier: str | None, path: str | None) -> bool:
    """Whether an earlier analysis's ``data_file`` is the file at ``path`` (by where it lies, not by its bytes)."""
    if not earlier or not path:
        return False
    try:
        return Path(earlier).resolve() == Path(path).resolve()
    except (OSError, RuntimeError):
        return False


def remove_stale_figures(out: Path, earlier: dict | None, written: set[str]) -> list[str]:
    """Remove the figures the ``earlier`` analysis in ``out`` wrote that this one did not; their names.

    Only files that analysis names as its figures: nothing else in the folder is touched.
    """
    stale = sorted(name for name in written_figures(earlier or {}) - written
                   if Path(name).name == name and name.endswith(".png"))
    for name in stale:
        (out / name).unlink(missing_ok=True)
    return stale


def run(args: argparse.Namespace) -> tuple[dict, Path]:
    """Validate, then load, embed, analyse, write (:func:`analyze`); returns the result and the output directory.

    An output directory this call made is removed again when the work stops on an error or Ctrl-C.
    """
    from al.analysis.embedding_analysis import check_analysis_dir, check_sizes, earlier_analysis
    from al.config import MAX_SEED, PRETRAINED, SimulationConfig
    from al.simulate import check_device_and_models, default_pick_read

    def say(message: str) -> None:
        if not quiet:
            print(message, file=sys.stderr, flush=True)

    given = {k: getattr(args, k) for k in CONFIG_OPTIONS if k in args}
    options = {k: getattr(args, k) for k in ("text_column", "label_columns", "label_sep", "split_column")
               if k in args}
    if options:  # as al.simulate passes them
        given["data_options"] = options
    if getattr(args, "space", None) == PRETRAINED and not {"space_param", "space_scope", "held_out"} & set(vars(args)):
        del args.space  # al.simulate's default spelt out: the pretrained space alone (what fits it: refused below)
    if getattr(args, "space", None) == PRETRAINED:  # with what fits a space
        flags = [f"--{k.replace('_', '-')}" for k in ("space_param", "space_scope", "held_out") if k in args]
        one = len(flags) == 1
        raise ConfigError(f"{' and '.join(flags)} {'is' if one else 'are'} read by a fitted space alone, and --space "
                          f"pretrained fits none; give --space NAME (cea, snnl, aan, am, clld), or drop "
                          f"{'it' if one else 'them'}")
    if "space" in args:
        from al.simulate import parse_params
        from al.spaces import OBJECTIVES

        if args.space not in OBJECTIVES:
            raise ConfigError(f"--space {args.space!r} names no fitted space{did_you_mean([args.space], OBJECTIVES)}; "
                              f"known: {', '.join(OBJECTIVES)} (leave --space out for the pretrained space alone)")
        params = parse_params(args.space_param, "--space-param") if "space_param" in args else {}
        given["space"] = {"name": args.space, "params": params}
        if "space_scope" in args:
            given["space_scope"] = args.space_scope
    elif "space_param" in args or "space_scope" in args or "held_out" in args:
        flags = [f"--{k.replace('_', '-')}" for k in ("space_param", "space_scope", "held_out") if k in args]
        one = len(flags) == 1
        raise ConfigError(f"{' and '.join(flags)} {'needs' if one else 'need'} --space NAME (cea, snnl, aan, am, "
                          f"clld): {'it is' if one else 'they are'} read by the fitted space alone; add --space or "
                          f"drop {'it' if one else 'them'}")
    for name, value, least in (("--seed", getattr(args, "seed", 0), 0), ("--held-out", getattr(args, "held_out", 1), 1)):
        if value < least:
            raise ConfigError(f"{name} must be at least {least}, got {value}")
    if getattr(args, "seed", 0) >= MAX_SEED:
        raise ConfigError(f"--seed must be 0 to 2**32 - 1 ({MAX_SEED - 1}), got {args.seed}; give a smaller one")
    config = SimulationConfig(**given).validate()
    sizes, k, seed = getattr(args, "sizes", list(DEFAULT_SIZES)), getattr(args, "k", DEFAULT_K), getattr(args, "seed", 0)
    quiet = "quiet" in args
    check_sizes(sizes, sys.maxsize, k)  # sign and emptiness, before anything loads
    check_device_and_models(config)  # a GPU, the model, a space's max_length: before the data loads, as a run does
    config = default_pick_read(config, args, analysis=True)
    def named(folder: Path) -> Path:
        """The default folder with the parts a space and a precision add."""
        if "space" in args:
            folder = folder.with_name(f"{folder.name}-{args.space}-{config.space_scope}")
        if config.embed_precision != "fp32":  # never over an fp32 analysis
            folder = folder.with_name(f"{folder.name}-{config.embed_precision}")
        return folder

    out = Path(args.out) if "out" in args else named(default_out(config.dataset, config.model, config.data_path))
    output_dir(args.out if "out" in args else out, "--out")  # as given: Path("") would read as "."
    check_analysis_dir(out)
    owner = None
    if "out" not in args:  # the default folder of a file's name holds one file's analysis
        from al.simulate import data_file_digest

        earlier = earlier_analysis(out) or {}
        digest = data_file_digest(config.data_path) if config.dataset in ("csv", "jsonl") else None
        elsewhere = earlier.get("data_file") is not None and not same_file(earlier.get("data_file"), config.data_path)
        if earlier.get("data_digest") not in (None, digest):
            if elsewhere:
                alike = ("of that name" if Path(earlier["data_file"]).name == Path(config.data_path).name else
                         "whose name gives the same folder")
                raise ConfigError(f"{out} holds the analysis of another file {alike} ({earlier.get('data_file')}); "
                                  f"pass --out for this one's")
            say(f"{config.data_path} changed since its analysis in {out}; analysing it again there")
        elif elsewhere and earlier.get("data_digest") == digest:  # a copy of the same bytes: analysed there, and
            owner = earlier["data_file"]  # the folder stays the first file's
    if "out" not in args and not out.exists():  # an analysis of this file in the folder earlier versions named
        earlier_out = named(default_out(config.dataset, config.model, config.data_path, earlier=True))
        if earlier_out != out and same_file((earlier_analysis(earlier_out) or {}).get("data_file"),
                                            config.data_path):
            say(f"note: an earlier analysis of {Path(config.data_path).name} is in {earlier_out} (named as earlier "
                f"versions named it); this one goes to {out}")
    made = not out.exists()
    try:
        return analyze(config, out, sizes, k, seed, args, say, data_file=owner), out
    except (ALError, KeyboardInterrupt):
        if made:  # a half-written analysis this command began: nothing of it is left
            shutil.rmtree(out, ignore_errors=True)
        raise


def fitting_sizes_advice(sizes: Sequence[int], n_pool: int, k: int) -> str:
    """Why none of the default ``sizes`` fits a pool of ``n_pool`` texts with ``k`` neighbours, and a --sizes and
    --k that do: k at most a fifth of the pool, sizes a quarter and a half of it (each leaving more than k)."""
    given = f"default sizes {' '.join(map(str, sizes))} each leave" if len(sizes) > 1 else \
        f"default size {sizes[0]} leaves"
    said = (f"the {given} --k {k} or fewer unlabeled texts in this pool of {n_pool} (the k nearest would be all of "
            f"them, and every ratio to chance 1)")
    def fitting(k_fit: int) -> list[int]:
        return sorted({size for size in (n_pool // 4, n_pool // 2) if 2 <= size < n_pool - k_fit})

    k_fit = k if fitting(k) else min(k, n_pool // 5)  # the --k given, where smaller sizes fit it
    fit = fitting(k_fit)
    if k_fit < 1 or not fit:
        return f"{said}; the pool is too small to analyse: give a file with more pool texts"
    sizes_given = f"--sizes {' '.join(map(str, fit))}"
    if k_fit == k:
        return f"{said}; give smaller ones, e.g. {sizes_given}"
    return f"{said}; give smaller ones with fewer neighbours, e.g. {sizes_given} --k {k_fit}"


def analyze(config, out: Path, sizes: Sequence[int], k: int, seed: int, args: argparse.Namespace, say,
            data_file: str | None = None) -> dict:
    """Load, embed, analyse and write into ``out`` (checked by :func:`run`); the result. ``data_file``: the file
    recorded as the one analysed (default: ``config.data_path``, resolved)."""
    from al.analysis.curves import counted
    from al.analysis.embedding_analysis import analyze_pool, check_sizes, earlier_analysis
    from al.embedders import SentenceEmbedder
    from al.simulate import load_config_corpus

    t = time.perf_counter()
    corpus = load_config_corpus(config, analysis=True)
    pool = corpus.splits["train"]
    if "sizes" not in args:  # the default sizes that fit this pool (the k nearest among texts left unlabeled)
        fitting = [size for size in sizes if size < len(pool) - k]
        if not fitting:
            raise ConfigError(fitting_sizes_advice(sizes, len(pool), k))
        if len(fitting) < len(sizes):
            left = [size for size in sizes if size not in fitting]
            warnings.warn(f"default size{'s' if len(left) > 1 else ''} {' '.join(map(str, left))} left out: "
                          f"{'they leave' if len(left) > 1 else 'it leaves'} --k {k} or fewer unlabeled texts in the "
                          f"pool of {len(pool)}; --sizes chooses others", UserWarning, stacklevel=2)
            sizes = fitting
    check_sizes(sizes, len(pool), k)
    if "space" in args and config.make_space().uses_dev and not len(corpus.splits["dev"]):
        raise ConfigError(f"space {args.space!r} with ldm=adaptive or confusable > 0 reads the dev split, and "
                          f"{corpus.name} has no dev text; use --space-param ldm=static --space-param confusable=0, "
                          f"or give the file dev texts (its split column)")
    data = data_description(config, corpus)
    seconds = {"load": round(time.perf_counter() - t, 3)}
    distinct = len(set(corpus.texts[pool].tolist()))
    if distinct < 2 and len(pool) > 1:  # every text at one point: no centroid, margin or cluster to tell apart
        column = (config.data_options or {}).get("text_column", "text")
        where = (f"; is {column!r} the column of the texts? give theirs with --text-column"
                 if config.dataset in ("csv", "jsonl") else "")
        source = Path(config.data_path).name if config.dataset in ("csv", "jsonl") else corpus.name
        raise ConfigError(f"{source}'s {len(pool):,} pool texts are one text repeated "
                          f"({corpus.texts[pool][0][:40]!r}): nothing to analyse{where}")
    repeats = f" ({distinct} distinct: a repeated text is embedded once and counts each time)" \
        if distinct < len(pool) else ""
    say(f"{corpus.name}: {len(pool)} pool texts{repeats}, {counted(corpus.n_labels, 'label')} "
        f"({', '.join(corpus.label_names)}); {data['left_out']}; embedding with {config.model}")
    earlier = earlier_analysis(out)  # what this one replaces: its labels now, its figures once written
    earlier_labels = (earlier or {}).get("label_names")
    if isinstance(earlier_labels, list) and earlier_labels != list(corpus.label_names):
        warnings.warn(f"{out} holds an analysis of other labels ({', '.join(map(str, earlier_labels[:6]))}"
                      f"{and_more(len(earlier_labels), 6)}), which this one replaces; pass "
                      f"{'another --out' if 'out' in args else '--out'} to keep both",
                      UserWarning, stacklevel=2)

    t = time.perf_counter()
    embedder = SentenceEmbedder(config.model, device=config.device, precision=config.embed_precision)
    pool_texts = corpus.texts[pool].tolist()
    embeddings = embedder.encode(pool_texts)
    seconds["embed"] = round(time.perf_counter() - t, 3)
    fresh, distinct = embedder.n_encoded_, len(set(pool_texts))
    how = ("vectors read from the cache" if not fresh else
           f"{counted(fresh, 'text')} embedded" + (f", {distinct - fresh} read from the cache" if fresh < distinct else ""))
    loading = " (the model's loading included)" if fresh else ""  # the embedding progress line counts the pass alone
    say(f"{how} in {seconds['embed']:.1f} s{loading}; analysing sizes {' '.join(map(str, sorted(set(sizes))))}")

    from al.simulate import data_file_digest

    meta = {"version": __version__, "dataset": corpus.name, "model": config.model,
            "embed_precision": config.embed_precision, "data": data, "seconds": seconds}
    if config.dataset in ("csv", "jsonl"):
        meta.update(data_file=data_file or str(Path(config.data_path).resolve()),
                    data_digest=data_file_digest(config.data_path))
    space_fn = None
    if "space" in args:
        meta["space_settings"] = {key: config.resolved()[key] for key in ("space", "space_scope")}
        space_fn = space_mapper(config, corpus, embeddings, say)
    result = analyze_pool(embeddings, corpus.Y[pool], corpus.label_names, sizes, k=k, seed=seed,
                          out=out, meta=meta, space=space_fn, space_name=getattr(args, "space", "adapted"),
                          held_out=getattr(args, "held_out", 2000))
    stale = remove_stale_figures(out, earlier, written_figures(result))
    if stale:
        say(f"removed {len(stale)} figure(s) of an earlier analysis in {out} ({', '.join(stale)})")
    return result


def data_description(config, corpus) -> dict:
    """What of the data file the analysis reads: the pool (the train split, as ``al.simulate``'s), the dev and
    test texts it leaves unread, and what the label reduction left out
    (:func:`al.datasets.reduction.reduction_summary`)."""
    from al.datasets import load_dataset
    from al.datasets.reduction import reduction_summary
    from al.simulate import DATA_SEED

    full = load_dataset(config.dataset, config.data_path, seed=DATA_SEED, **dict(config.data_options))
    left_out = reduction_summary(full, corpus)
    if config.pool_size is not None:
        left_out += f"; --pool-size keeps {len(corpus.splits['train']):,} pool texts"
    space = config.make_space()
    reads_dev = space is not None and space.uses_dev  # clld's adaptive or confusable label distances
    return {"pool_texts": int(len(corpus.splits["train"])), "dev_texts": int(len(corpus.splits["dev"])),
            "test_texts": int(len(corpus.splits["test"])), "left_out": left_out, "dev_read_by_space": reads_dev}


def space_mapper(config, corpus, embeddings, say):
    """``(labeled positions, their labels, seed) -> the pool in a space fitted on them`` for ``config.space``."""
    import numpy as np
    import scipy.sparse as sp

    from al.embedders import SentenceEmbedder

    space = config.make_space()
    embedder = SentenceEmbedder(config.model, device=config.device, precision=config.embed_precision)
    pool, dev = corpus.splits["train"], corpus.splits["dev"]
    pool_texts = corpus.texts[pool].tolist()

    def fit_and_map(labeled, Y_labeled, seed):  # -> (the pool in the space (n_pool, dim), what the fit reports)
        by_texts = space.input == "texts"
        inputs = [pool_texts[i] for i in labeled] if by_texts else embeddings[labeled]
        dev_inputs = Y_dev = None
        if space.uses_dev:
            dev_texts = corpus.texts[dev].tolist()
            dev_inputs = dev_texts if by_texts else embedder.encode(dev_texts)
            Y_dev = corpus.Y[dev]
        say(f"fitting the {config.space.name} space ({config.space_scope} scope) on {len(labeled)} labeled texts")
        fitted = space.fit(inputs, sp.csr_matrix(np.asarray(Y_labeled)), seed, dev_inputs, Y_dev)
        return fitted.transform(pool_texts if by_texts else embeddings), fitted.info()

    return fit_and_map


def format_proximity(result: dict) -> str:
    """Plain text: per size and label, observed / chance."""
    names = result["label_names"]
    width = max(18, *(len(n) + 2 for n in names))
    lines = [f"texts with label j among the k = {result['k']} unlabeled texts nearest centroid j: "
             f"observed / chance (the most possible: min(k, unlabeled texts with j))",
             f"{'|L|':>6}" + "".join(f"{n:>{width}}" for n in names)]
    for e in result["sizes"]:
        cells = [("-" if p["observed"] is None else f"{p['observed']} / {p['expected']:.1f} ({p['possible']})"
                  ).rjust(width) for p in (e["proximity"][n] for n in names)]
        lines.append(f"{e['size']:>6}" + "".join(cells))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m al.analyze`` with ``argv`` (default: the command line's); the exit code (2: an error, said in one
    line on stderr). From Python on vectors of one's own: :func:`al.analysis.embedding_analysis.analyze_pool`."""
    from al.progress import quiet_while

    args = build_parser().parse_args(argv)
    with quiet_while("quiet" in args):  # then as it was: a main called in-process leaves no trace
        return _main(args)


def _main(args: argparse.Namespace) -> int:
    """:func:`main` once its arguments are parsed."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        from al.cache import check_cache_root

        check_cache_root()
        with sigterm_stops(), warnings.catch_warnings():  # a kill's SIGTERM stops it as Ctrl-C does: the vectors
            # finished are kept; a test text also in train misleads nothing: the analysis reads no test text
            warnings.filterwarnings("ignore", message=r".*test text\(s\) also stand in the train or dev split")
            result, out = run(args)
    except ALError as exc:
        from al.simulate import flags_named

        print(f"error: {flags_named(str(exc), args)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (Terminated)
        return stopped(stop, "nothing written, run the same command again for the analysis")
    print(format_proximity(result))
    n_figures = 1 + 2 * len(result["sizes"])
    if result.get("space"):
        adapted = {**result, "sizes": [{**e["adapted"], "size": e["size"]} for e in result["sizes"]]}
        print(f"\nin the {result['space']} space fitted on each labeled set:")
        print(format_proximity(adapted))
        n_figures += 1 + 2 * len(result["sizes"])
    print(f"wrote {out}/analysis.json, summary.md and {n_figures} figures", file=sys.stderr)
    return 0


if __name__ == "__main__":
    from al.cli import exit_with

    exit_with(main)
