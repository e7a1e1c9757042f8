"""``python -m al.simulate``: run one active-learning simulation.

Examples
--------
    python -m al.simulate --strategy class_embedding --budget 600
    python -m al.simulate --strategy random --seed 1 --out runs/random-1
    python -m al.simulate --dataset reuters --data-path ../shared/data/reuters21578.tar.gz --describe
    python -m al.simulate --classifier bert --classifier-model bert-base-uncased --model all-mpnet-base-v2
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Sequence

from al import __version__
from al.config import SimulationConfig, from_mapping, load_yaml
from al.errors import ALError

DATA_SEED = 0  # the corpus (dev carving, pool subsample) is the same for every run seed


def build_parser() -> argparse.ArgumentParser:
    d = SimulationConfig()
    p = argparse.ArgumentParser(
        prog="python -m al.simulate",
        description="Simulate active learning for multi-label text classification: start from a random "
        "labeled set, train, let a strategy pick the next texts, reveal their gold labels, repeat until "
        "the budget is spent; record macro-F1 and more after every round.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    g = p.add_argument_group("strategy")
    g.add_argument("--strategy", default=d.strategy,
                   help="registered name (see --list-strategies) or package.module:Class")
    g.add_argument("--strategy-param", action="append", default=[], metavar="KEY=VALUE",
                   help="keyword argument for the strategy's constructor (repeatable; VALUE parsed as YAML)")
    g.add_argument("--list-strategies", action="store_true", help="print the known strategies and exit")
    g = p.add_argument_group("data")
    g.add_argument("--dataset", default=d.dataset, help="disaster (embedded default), reuters, csv or jsonl")
    g.add_argument("--data-path", default=None,
                   help="reuters: directory of reut2-*.sgm or reuters21578.tar.gz; csv/jsonl: the file; "
                   "disaster: optional CSV (default: the installed package's)")
    g.add_argument("--labels", nargs="+", default=None, metavar="LABEL",
                   help="keep exactly these labels (default: --frequent most and --rare least frequent)")
    g.add_argument("--frequent", type=int, default=d.n_frequent, help="frequent labels to keep")
    g.add_argument("--rare", type=int, default=d.n_rare,
                   help="rare labels to keep: the least frequent labels with >= 20 pool and >= 10 dev/test texts")
    g.add_argument("--text-column", default=None, help="csv/jsonl: the text column (default 'text')")
    g.add_argument("--label-columns", nargs="+", default=None,
                   help="csv/jsonl: 0/1 label columns, or one column listing labels (default: every 0/1 column)")
    g.add_argument("--pool-size", type=int, default=None, help="subsample the pool to this many texts")
    g.add_argument("--describe", action="store_true", help="print the corpus summary and exit")
    g = p.add_argument_group("models")
    g.add_argument("--model", default=d.model,
                   help="sentence-embedding model (name or local directory) for strategies and the logreg classifier")
    g.add_argument("--classifier", default=d.classifier,
                   help="logreg (fast: logistic regression on cached embeddings) or bert (fine-tuned, the paper's)")
    g.add_argument("--classifier-model", default=None,
                   help="bert: encoder to fine-tune (default: --model; the paper: bert-base-uncased)")
    g.add_argument("--threshold", default=d.threshold, choices=["fixed", "dev"],
                   help="decision threshold: 0.5, or per label tuned on the dev split")
    g.add_argument("--epochs", type=int, default=d.epochs, help="bert: most epochs (early stopping on dev macro-F1)")
    g.add_argument("--batch-size", type=int, default=d.batch_size, help="bert: training batch size")
    g.add_argument("--learning-rate", type=float, default=None, help="bert: AdamW learning rate (default: the classifier's)")
    g.add_argument("--max-length", type=int, default=d.max_length, help="bert: max tokens per text")
    g.add_argument("--warm-start", action="store_true", help="bert: continue from last round's weights")
    g = p.add_argument_group("loop")
    g.add_argument("--initial", type=int, default=d.initial, help="random labeled texts to start from")
    g.add_argument("--step", type=int, default=d.step, help="texts queried per round")
    g.add_argument("--budget", type=int, default=d.budget, help="labeled-set size at the end")
    g.add_argument("--seed", type=int, default=d.seed, help="seed of every random choice")
    g = p.add_argument_group("run")
    g.add_argument("--out", default=None,
                   help="run directory (default runs/<dataset>-<strategy>-<classifier>-seed<seed>); "
                   "an existing one with the same settings is resumed")
    g.add_argument("--device", default=d.device, help="auto, cpu, cuda or cuda:N")
    g.add_argument("--config", default=None, metavar="YAML",
                   help="read settings from a YAML file (keys as in al.config.SimulationConfig); flags given "
                   "explicitly override it")
    g.add_argument("--diagnostics", action="store_true",
                   help="record embedding-space diagnostics every round (centroid proximity, distance margins, "
                   "clustering quality of the labeled set; uses unlabeled gold labels for measurement only)")
    g.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--version", action="version", version=f"al {__version__}")
    return p


_FLAG_TO_FIELD = {"frequent": "n_frequent", "rare": "n_rare"}


def config_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> SimulationConfig:
    """Flags (and the YAML file, if any) -> a config; explicit flags win over the file."""
    import yaml

    from al.config import config_fields

    values: dict[str, Any] = load_yaml(args.config) if args.config else {}
    defaults = vars(parser.parse_args([]))
    explicit = {k for k, v in vars(args).items() if v != defaults.get(k)}
    fields = set(config_fields())
    for flag, value in vars(args).items():
        name = _FLAG_TO_FIELD.get(flag, flag)
        if name in fields and (flag in explicit or name not in values):
            values[name] = value
    params = dict(values.get("strategy_params") or {})
    for item in args.strategy_param:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ALError(f"--strategy-param expects KEY=VALUE, got {item!r}")
        params[key] = yaml.safe_load(raw)
    values["strategy_params"] = params
    options = dict(values.get("data_options") or {})
    if args.text_column:
        options["text_column"] = args.text_column
    if args.label_columns:
        options["label_columns"] = list(args.label_columns)
    values["data_options"] = options
    return from_mapping(values, source=args.config or "flags")


def classifier_params(config: SimulationConfig) -> dict[str, Any]:
    """Constructor arguments of the configured classifier (seed added per round)."""
    if config.classifier == "bert":
        params: dict[str, Any] = {
            "model": config.classifier_model or config.model,
            "max_length": config.max_length,
            "batch_size": config.batch_size,
            "max_epochs": config.epochs,
            "threshold": config.threshold,
            "warm_start": config.warm_start,
            "device": config.device,
        }
        if config.learning_rate is not None:
            params["learning_rate"] = config.learning_rate
        return params
    return {"threshold": config.threshold}


def load_config_corpus(config: SimulationConfig):
    """The reduced (and optionally subsampled) corpus a config describes."""
    from al.datasets import load_corpus
    from al.datasets.reduction import subsample_pool

    corpus = load_corpus(
        config.dataset, config.data_path, labels=list(config.labels) if config.labels else None,
        n_frequent=config.n_frequent, n_rare=config.n_rare, seed=DATA_SEED, **dict(config.data_options),
    )
    if config.pool_size is not None:
        corpus = subsample_pool(corpus, config.pool_size, seed=DATA_SEED)
    return corpus


def build_simulation(config: SimulationConfig, records=None, on_round=None):
    """Corpus, strategy, classifier factory and embedder for ``config``; no model is loaded yet."""
    from al.classifiers import make_classifier
    from al.embedders import SentenceEmbedder
    from al.engine import Simulation
    from al.registry import get_strategy

    corpus = load_config_corpus(config)
    strategy_cls = get_strategy(config.strategy)
    try:
        strategy = strategy_cls(**dict(config.strategy_params))
    except TypeError as exc:
        raise ALError(f"strategy {config.strategy!r} rejects its parameters {dict(config.strategy_params)}: {exc}") from None
    params = classifier_params(config)
    embedder = SentenceEmbedder(config.model, device=config.device, show_progress=False)
    return corpus, Simulation(
        corpus=corpus,
        strategy=strategy,
        make_classifier=lambda seed: make_classifier(config.classifier, seed=seed, **params),
        embed=embedder.encode,
        initial=config.initial,
        step=config.step,
        budget=config.budget,
        seed=config.seed,
        records=records,
        on_round=on_round,
        reuse_classifier=config.warm_start and config.classifier == "bert",
        diagnostics=config.diagnostics,
    )


def format_round(record: dict[str, Any], n_rounds: int) -> str:
    return (
        f"round {record['round'] + 1:>2}/{n_rounds}  labeled {record['n_labeled']:>5}  "
        f"macro-F1 {record['macro_f1']:.3f}  micro-F1 {record['micro_f1']:.3f}  "
        f"train {record['seconds_train']:.1f}s  query {record['seconds_query']:.1f}s  "
        f"eval {record['seconds_evaluate']:.1f}s"
    )


def curve_table(rounds: Sequence[dict[str, Any]]) -> str:
    lines = [f"{'labeled':>8} {'macro-F1':>9} {'micro-F1':>9}"]
    lines += [f"{r['n_labeled']:>8} {r['macro_f1']:>9.4f} {r['micro_f1']:>9.4f}" for r in rounds]
    return "\n".join(lines)


def run(config: SimulationConfig, quiet: bool = False) -> list[dict[str, Any]]:
    """Validate, build, resume or start, and run; returns every round's record."""
    from al.records import RunRecords

    from al.models import resolve_model

    config.validate()
    out = config.run_dir
    records = RunRecords(out)
    # resolve model names now: a typo must fail before anything is written
    resolve_model(config.model)
    if config.classifier == "bert":
        resolve_model(config.classifier_model or config.model)

    def progress(record: dict[str, Any]) -> None:
        if not quiet:
            print(format_round(record, config.n_rounds), file=sys.stderr, flush=True)

    corpus, simulation = build_simulation(config, records, progress)
    meta = {
        "version": __version__,
        "corpus": {
            "name": corpus.name,
            "label_names": list(corpus.label_names),
            "split_sizes": {s: int(len(i)) for s, i in corpus.splits.items()},
            "pool_label_counts": corpus.label_counts("train").tolist(),
            # label reduction returns frequent labels first, then rare ones
            "label_groups": None if config.labels else {
                "frequent": list(corpus.label_names[: config.n_frequent]),
                "rare": list(corpus.label_names[config.n_frequent :]),
            },
        },
    }
    existing = records.start(config.to_dict(), meta)
    if not quiet:
        state = f"resuming after round {len(existing)}" if existing else "starting"
        print(f"{state}: {config.strategy} on {corpus.name} ({len(corpus.splits['train'])} pool texts, "
              f"{corpus.n_labels} labels), {config.classifier} classifier -> {out}", file=sys.stderr, flush=True)
    if len(existing) >= config.n_rounds:
        if not quiet:
            print(f"{out} is complete ({len(existing)} rounds); nothing to do", file=sys.stderr)
        return existing
    return simulation.run(existing)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        if args.list_strategies:
            from al.registry import available

            print("\n".join(available()))
            return 0
        config = config_from_args(args, parser)
        if args.describe:
            config.validate()
            print(load_config_corpus(config).describe())
            return 0
        rounds = run(config, quiet=args.quiet)
    except ALError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume from the last finished round", file=sys.stderr)
        return 130
    print(curve_table(rounds))
    print(f"records: {config.run_dir / 'rounds.jsonl'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
