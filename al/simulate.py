"""``python -m al.simulate``: run one active-learning simulation.

Examples
--------
    python -m al.simulate --strategy class_embedding --budget 600
    python -m al.simulate --strategy random --seed 1 --out runs/random-1
    python -m al.simulate --dataset reuters --data-path ../shared/data/reuters21578.tar.gz --describe
    python -m al.simulate --classifier bert --classifier-param model=bert-base-uncased --model all-mpnet-base-v2
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import json
import re
import os
import sys
import threading
import warnings
from pathlib import Path
from typing import Any, Collection, Iterator, Mapping, Sequence

from al import __version__
from al.cli import ArgumentParser, GivenOnce, add_data_options, sigterm_stops, stopped
from al.config import (
    FITTED_SPACE_SETTINGS, FOLDER_NAMINGS, SPACE_READERS, SimulationConfig, completed_params, config_fields,
    console_spelling, from_mapping, glued_key, load_yaml, merge_settings, normalise_mapping, parse_yaml,
    result_settings,
)
from al.errors import ALError, ConfigError, DataError, LabelPickError, and_more, is_al, spelled
from al.progress import counted, quiet_while

DATA_SEED = 0  # the corpus (dev carving, pool subsample) is the same for every run seed


def build_parser() -> argparse.ArgumentParser:
    """Every option; none has a default here (``SUPPRESS``): defaults live in :class:`SimulationConfig`,
    so only flags actually given reach :func:`config_from_args` and override the ``--config`` file."""
    from al.embedders import PRECISIONS

    d = SimulationConfig()
    p = ArgumentParser(
        prog="python -m al.simulate",
        description="Simulate active learning for multi-label text classification: start from a small "
        "labeled set (random unless --initial-strategy says otherwise), train, let a strategy pick the next texts, reveal their gold labels, repeat until "
        "the budget is spent; record macro-F1 and more after every round.",
        argument_default=argparse.SUPPRESS,
    )
    g = p.add_argument_group("strategy")
    g.add_argument("--strategy", help=f"registered name (see --list-strategies), a family's member such as "
                   f"smalltext:BreakingTies or modal:margin_sampling, or package.module:Class "
                   f"(default: {d.strategy.name})")
    g.add_argument("--strategy-param", action="append", metavar="KEY=VALUE",
                   help="keyword argument of the strategy's constructor (repeatable; VALUE parsed as YAML)")
    g.add_argument("--list-strategies", action="store_true", help="print the known strategies and exit")
    g = p.add_argument_group("data")
    add_data_options(g, d.dataset, d.n_frequent, d.n_rare, label_sep_yaml=True)
    g.add_argument("--describe", action="store_true", help="print the corpus summary and exit")
    g = p.add_argument_group("models")
    g.add_argument("--model", help="sentence-embedding model (name or local directory) for the strategies, the "
                   f"classifiers on embeddings (logreg, knn) and the task-specific spaces (default: {d.model})")
    g.add_argument("--embed-precision", choices=PRECISIONS,
                   help="sentence embeddings (and ALPS's masked LM) in fp32, or bf16 autocast: about 1.6-1.7x "
                   "faster on a CPU with AVX512-BF16 or AMX, other vectors with their own cache "
                   f"(default: {d.embed_precision})")
    g.add_argument("--classifier", help="logreg (fast: logistic regression on cached embeddings), knn (a vote "
                   "of the nearest labeled texts, FAISS) or bert (fine-tuned, the paper's) "
                   f"(default: {d.classifier.name})")
    g.add_argument("--classifier-param", action="append", metavar="KEY=VALUE",
                   help="keyword argument of the classifier's constructor (repeatable; VALUE parsed as YAML), "
                   "e.g. C=0.5 or class_weight=null (logreg); model=bert-base-uncased, max_epochs=5, "
                   "learning_rate=2e-5, max_length=64, warm_start=true, aux=snnl|aan|am|clld (bert's auxiliary "
                   "objectives: README, 'Auxiliary objectives'); a misspelt name is refused with the full list")
    g.add_argument("--threshold", choices=["fixed", "dev"],
                   help="the classifier's decision threshold: 0.5, or per label tuned on the dev split "
                   "(same as --classifier-param threshold=...; default: fixed)")
    for flag, kind in (("--classifier-model", str), ("--epochs", int), ("--batch-size", int),
                       ("--learning-rate", float), ("--max-length", int)):
        g.add_argument(flag, type=kind, help=argparse.SUPPRESS)  # deprecated: --classifier-param
    g.add_argument("--warm-start", action="store_true", help=argparse.SUPPRESS)
    g = p.add_argument_group("embedding space (al.spaces)")
    g.add_argument("--space", help="the space strategies and embedding classifiers read: pretrained, or one fitted "
                   "on the labeled set each round: cea (seed 000), snnl (002), aan or am (004), clld (003) "
                   f"(default: {d.space.name})")
    g.add_argument("--space-scope", choices=["head", "encoder"],
                   help="head: a projection trained on the frozen cached embeddings (seconds); encoder: fine-tune "
                   f"the sentence encoder and re-embed (the papers' setting) (default: {d.space_scope})")
    g.add_argument("--space-every", type=int, metavar="R",
                   help=f"re-fit the space every R rounds (default: {d.space_every})")
    g.add_argument("--space-for", choices=SPACE_READERS,
                   help="who reads the fitted space: the strategy and an embedding classifier, the strategy alone "
                   "(the classifier keeps the pretrained vectors), or the classifier alone "
                   f"(default: {d.space_for})")
    g.add_argument("--space-param", action="append", metavar="KEY=VALUE",
                   help="keyword argument of the space (repeatable), e.g. epochs=30, dim=128, positive=exact, "
                   "alpha=100 (snnl), aux_weight=1.0, negatives=4 (aan, am), delta=0.4 (am), lam=0.5 (the weight "
                   "of BCE), ldm=adaptive (clld); "
                   "the encoder scope takes model, epochs, learning_rate, batch_size, max_length, amp, not dim; "
                   "a misspelt name is refused with the full list")
    g = p.add_argument_group("loop")
    g.add_argument("--initial", type=int, help=f"labeled texts to start from, chosen by --initial-strategy (default: {d.initial})")
    g.add_argument("--initial-strategy", choices=["random", "label_names", "kmeans"],
                   help="how the initial texts are chosen: at random, round-robin over labels nearest each embedded "
                   "label name (or description), or nearest the k-means centres of the pool "
                   f"(default: {d.initial_strategy})")
    g.add_argument("--label-descriptions", metavar="YAML",
                   help="label_names start: a YAML file label -> text to embed instead of the label's name")
    g.add_argument("--step", type=int, help=f"texts queried per round (default: {d.step})")
    g.add_argument("--budget", type=int, help=f"labeled-set size at the end (default: {d.budget})")
    g.add_argument("--seed", type=int, help=f"seed of every random choice of the loop: the first labeled set, the "
                   f"strategy's and the classifier's draws; the data's splits and --pool-size's subsample are the same "
                   f"for every seed, so that seeds pair (default: {d.seed})")
    g = p.add_argument_group("run")
    g.add_argument("--out",
                   help="run directory (default runs/<dataset>-<strategy>-<classifier>-seed<seed>, with "
                   "-<space>-<scope> after the strategy for a fitted space, and -for-<space_for> after that "
                   "unless --space-for all; <dataset> is csv-<file stem> or "
                   "jsonl-<file stem> for your own file; a strategy's or classifier's params other than its "
                   "defaults follow its name, cvirs_threshold=0.3); an existing one with the same settings is resumed")
    g.add_argument("--device", help=f"auto, cpu, cuda or cuda:N (default: {d.device})")
    g.add_argument("--threads", type=int,
                   help="at most N torch, BLAS and OpenMP threads for this process (default: the process's own, "
                   "every core unless OMP_NUM_THREADS etc. say less). A fine-tuned classifier's last bits depend on "
                   "torch's thread count: pass a grid worker's share of the cores (cores / workers) to repeat its "
                   "run alone")
    g.add_argument("--config", metavar="YAML", action=GivenOnce,
                   help="read settings from a YAML file (keys as in al.config.SimulationConfig; strategy and "
                   "classifier as {name, params}); flags given on the command line override it")
    g.add_argument("--diagnostics", action=argparse.BooleanOptionalAction,
                   help="record embedding-space diagnostics every round (centroid proximity, distance margins, "
                   "clustering quality of the labeled set; uses unlabeled gold labels for measurement only; "
                   "default: off; --no-diagnostics undoes a --config file's)")
    g.add_argument("--stopping", action=argparse.BooleanOptionalAction,
                   help="record what the stopping criteria read (default: on; --no-stopping saves a pass of the "
                   "classifier over the stop set every round, about 15 %% of a fine-tuned run of the paper's size and "
                   "more of one on a few labeled texts, where training is short; picks and scores "
                   "are the same)")
    g.add_argument("--quiet", action="store_true", help="no progress lines: only the curve table, the stopping table and the records' path at the end")
    return p


#: Flags that are not settings of a simulation.
_NOT_SETTINGS = {"config", "list_strategies", "describe", "quiet", "strategy_param", "classifier_param", "space_param",
                 "text_column", "label_columns", "label_sep", "split_column", "threshold", "classifier_model", "epochs",
                 "batch_size",
                 "learning_rate", "max_length", "warm_start"}
_DEPRECATED_FLAGS = {"classifier_model": "model", "epochs": "max_epochs", "batch_size": "batch_size",
                     "learning_rate": "learning_rate", "max_length": "max_length", "warm_start": "warm_start"}
#: The settings ``--describe`` reads: those that make the corpus (:func:`load_config_corpus`).
_DESCRIBED_SETTINGS = ("dataset", "data_path", "labels", "n_frequent", "n_rare", "pool_size", "data_options")
#: Settings read only with a fitted space (``--space NAME``), and those read only without ``labels``.
_SPACE_SETTINGS = (*FITTED_SPACE_SETTINGS, "space_params")
_FREQUENCY_SETTINGS = ("n_frequent", "n_rare")


def parse_params(items: Sequence[str], flag: str) -> dict[str, Any]:
    """``["k=v", ...]`` -> ``{k: yaml(v)}``."""
    import yaml

    params: dict[str, Any] = {}
    given: dict[str, str] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"{flag} expects KEY=VALUE, got {spelled(item)}")
        if key in given:
            raise ConfigError(f"{flag} gives {key} twice ({given[key]} and {item}); give it once")
        given[key] = item
        try:
            params[key] = parse_yaml(raw)
        except yaml.YAMLError:
            raise ConfigError(f"{flag} {item!r}: VALUE is not a YAML scalar; quote it") from None
        except ConfigError as exc:  # a mapping naming a key twice
            raise ConfigError(f"{flag} {item!r}: {exc}") from None
        if (glued := glued_key(params[key])) is not None:
            fixed = re.sub(r",(?=\S)", ", ", re.sub(r":(?=[^\s/])", ": ", raw))
            raise ConfigError(f"{flag} {item!r}: YAML reads {glued!r} as one key with no value (a colon in a mapping "
                              f"needs a space after it); write {key}='{fixed}'")
    return params


def pick_given(args: argparse.Namespace) -> bool:
    """Whether the command line or ``--config``'s file names the labels or their counts (``n_frequent``, ``n_rare``),
    rather than leaving the default pick."""
    picked = ("labels", *_FREQUENCY_SETTINGS)
    return bool(set(picked) & set(vars(args))) or file_gives(args, picked)


def all_labels_kept(config: SimulationConfig, args: argparse.Namespace,
                    error: LabelPickError) -> tuple[SimulationConfig, str] | None:
    """``config`` keeping every eligible label, and a note saying so, where the default pick (``n_frequent`` +
    ``n_rare``, neither the command line nor ``--config``'s file naming labels or counts) asked for more labels than
    the corpus has eligible (``error.keep_all``); else None: the error stands.

    A rerun of the same command picks the same labels, so a run started so resumes.
    """
    if pick_given(args):
        return None
    return every_label_kept(config, error)


def every_label_kept(config: SimulationConfig, error: LabelPickError) -> tuple[SimulationConfig, str] | None:
    """``config`` keeping every eligible label of a corpus whose default pick ``error`` refused for having too few
    (``error.keep_all``), and the note that says so; else None. Only for a pick no one gave (:func:`all_labels_kept`;
    a grid's cell whose file gives none)."""
    if error.keep_all is None:
        return None
    from dataclasses import replace

    n_frequent, n_rare = error.keep_all
    n = n_frequent + n_rare
    source = Path(config.data_path).name if config.data_path else config.dataset
    note = (f"{source} has {n} eligible labels, fewer than the default {config.n_frequent} frequent + "
            f"{config.n_rare} rare: keeping all {n} ({n_frequent} frequent + {n_rare} rare, as --frequent {n_frequent} "
            f"--rare {n_rare}); --labels or --frequent/--rare pick others")
    return replace(config, n_frequent=n_frequent, n_rare=n_rare), note


def file_gives(args: argparse.Namespace, keys: Sequence[str]) -> bool:
    """Whether ``--config``'s file (a run's ``config.json`` too) gives one of ``keys`` a value (not null, not an
    empty list)."""
    if "config" not in args:
        return False
    try:
        raw = load_yaml(args.config)
    except ALError:
        return False
    if isinstance(raw, Mapping) and isinstance(raw.get("config"), Mapping):  # a run's config.json: its settings
        raw = raw["config"]
    return isinstance(raw, Mapping) and any(raw.get(key) not in (None, [], "") for key in keys)


def default_pick_read(config: SimulationConfig, args: argparse.Namespace, analysis: bool = False,
                      describe: bool = False) -> SimulationConfig:
    """``config``, or on a user's file with fewer eligible labels than the default pick asks for, ``config``
    keeping them all (:func:`all_labels_kept`, said, under ``--quiet`` too): decided before a run compares its
    settings with a stored run's, so the same command resumes (``describe``: for ``--describe``, which checks no
    model and reads no run). A corpus read with ``config``'s own counts is kept
    for the run (with others, the run reads it again); a stored run of the same counts is not read for it (a
    complete one reads no data)."""
    from al.datasets import USER_FILE_DATASETS
    from al.records import read_config

    config.validate()
    if config.dataset not in USER_FILE_DATASETS or config.labels:
        return config
    if not analysis and not describe:  # a run's (--describe reads the data settings alone)
        check_device_and_models(config)  # before the data loads, as the run checks them
        try:
            stored = (read_config(config.run_dir) or {}).get("config", {})
        except ALError:  # damaged, or another program's: the run says so
            stored = {}
        if (stored.get("n_frequent"), stored.get("n_rare")) == (config.n_frequent, config.n_rare):
            return config
    try:
        load_config_corpus(config, analysis=analysis)
    except LabelPickError as exc:
        if (kept := all_labels_kept(config, args, exc)) is None:
            if pick_given(args):
                raise
            asked = f"but {config.n_frequent} frequent + {config.n_rare} rare"  # the default: no user asked it
            raise LabelPickError(str(exc).replace(asked, f"but the default {config.n_frequent} frequent + "
                                                         f"{config.n_rare} rare", 1)) from None
        config, note = kept
        print(f"note: {note}", file=sys.stderr)  # --quiet too: it says what the run reads, as a warning would
    return config


def given_settings(args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    """The settings the command line actually gives (no defaults), and deprecation lines for old flags."""
    given = {k: v for k, v in vars(args).items() if k not in _NOT_SETTINGS}
    notes: list[str] = []
    if "strategy_param" in args:
        given["strategy_params"] = parse_params(args.strategy_param, "--strategy-param")
    if "space_param" in args:
        given["space_params"] = parse_params(args.space_param, "--space-param")
    classifier_params = {}
    if "threshold" in args:
        classifier_params["threshold"] = args.threshold
    old = {flag: getattr(args, flag) for flag in _DEPRECATED_FLAGS if flag in args}
    if old:
        mapped = {_DEPRECATED_FLAGS[f]: v for f, v in old.items()}
        classifier_params.update(mapped)
        flags = ", ".join("--" + f.replace("_", "-") for f in old)
        new = " ".join(f"--classifier-param {k}={json.dumps(v)}" for k, v in mapped.items())
        notes.append(f"{flags} {'is' if len(old) == 1 else 'are'} deprecated; use {new}")
    if "classifier_param" in args:
        explicit = parse_params(args.classifier_param, "--classifier-param")
        both = sorted(set(classifier_params) & set(explicit))
        if both:
            flags = {"threshold": "--threshold",
                     **{param: "--" + flag.replace("_", "-") for flag, param in _DEPRECATED_FLAGS.items()}}
            key = both[0]
            raise ConfigError(f"{flags[key]} {classifier_params[key]} and --classifier-param {key}={explicit[key]} "
                              f"both set the classifier's {key}; give one of them")
        classifier_params.update(explicit)
    if classifier_params:
        given["classifier_params"] = classifier_params
    options = {}
    if "text_column" in args:
        options["text_column"] = args.text_column
    if "label_columns" in args:
        options["label_columns"] = list(args.label_columns)
    if "label_sep" in args:
        options["label_sep"] = args.label_sep
    if "split_column" in args:
        options["split_column"] = args.split_column
    if options:
        given["data_options"] = options
    return given, notes


def config_from_args(args: argparse.Namespace, notes: list[str] | None = None) -> SimulationConfig:
    """The ``--config`` file's settings (if any) with the flags actually given laid over them."""
    notes = [] if notes is None else notes
    base: dict[str, Any] = {}
    source = "flags"
    run_config = False  # --config names a run's config.json
    if "config" in args:
        source = args.config
        loaded = load_yaml(args.config)
        if is_run_config(loaded):  # a run's config.json: its settings, to run it again (elsewhere with --out)
            base = settings_of_run(loaded)
            run_config = True
            recorded = base.get("data_path")
            if isinstance(recorded, str) and not Path(recorded).is_absolute() and not Path(recorded).exists() \
                    and "data_path" not in args:  # relative to where the run was started, as labeled_texts reads it
                start = run_started_in(Path(args.config).parent, loaded, base)
                if start is not None and (start / recorded).exists():
                    base["data_path"] = str(start / recorded)
                    notes.append(f"data_path {recorded} of {args.config} is not found from here ({Path.cwd()}): "
                                 f"read from the directory the run was started in, {start / recorded}")
        else:
            base, file_notes = normalise_mapping(loaded, args.config)
            notes += file_notes
            if not loaded:
                notes.append(f"{args.config} holds no settings: every setting is at its default")
    given, flag_notes = given_settings(args)
    notes += flag_notes + replaced_params(base, given, source)
    base, pick_notes = replaced_pick(base, given, source)
    notes += pick_notes
    settings = merge_settings(base, given)
    if run_config and "out" not in args:  # --out given, or the run's own default directory: where it goes is said
        try:
            default = from_mapping(settings, source).run_dir.resolve()
        except ALError:  # a bad setting: said when the settings are checked
            default = None
        if default is not None and default != Path(args.config).resolve().parent:
            notes.append(f"{args.config} is a run's config.json: its settings are read, all but out, so this run "
                         f"goes to the default directory; give --out {Path(args.config).parent} to resume that run, "
                         f"or another --out")
    _check_unread_settings(base, given, settings, source)
    return from_mapping(settings, source=source)


def replaced_pick(base: dict[str, Any], given: Mapping[str, Any], source: str) -> tuple[dict[str, Any], list[str]]:
    """``base`` without the label pick a flag replaces, and a note where the file's differed from the default:
    ``--labels`` replaces the file's ``n_frequent``/``n_rare``, ``--frequent``/``--rare`` its ``labels``. Flags win
    over the file, and what the run does not read is not recorded either (its ``config.json`` read again gives the
    same record)."""
    defaults = SimulationConfig()
    if given.get("labels"):
        replaced = [key for key in _FREQUENCY_SETTINGS if key in base]
    elif any(key in given for key in _FREQUENCY_SETTINGS):
        replaced = ["labels"] if "labels" in base else []
    else:
        return base, []
    shown = [f"{key} {base[key]!r}" for key in replaced if base[key] not in (None, [], getattr(defaults, key))]
    flags = "--labels replaces" if given.get("labels") else "--frequent/--rare replace"
    notes = [f"{flags} {source}'s {' and '.join(shown)} (not read, nor recorded)"] if shown else []
    return {key: value for key, value in base.items() if key not in replaced}, notes


def replaced_params(base: Mapping[str, Any], given: Mapping[str, Any], source: str) -> list[str]:
    """A note for each component the flags name anew (``--classifier knn`` over the file's ``logreg``) whose
    params in ``source`` are therefore not read (:func:`al.config.merge_settings` drops them)."""
    from al.config import COMPONENTS, Component, not_default_params

    notes = []
    for key in COMPONENTS:
        if key not in given or key not in base:
            continue
        try:
            old, new = Component.coerce(base[key], key), Component.coerce(given[key], key)
        except ALError:  # a bad shape: said when the settings are checked
            continue
        if old.name == new.name:
            continue
        # those set otherwise than the defaults (a run's config.json gives every one)
        of_class = {"strategy": lambda: SimulationConfig(strategy=old).strategy_class(),
                    "classifier": lambda: SimulationConfig(classifier=old).classifier_class(),
                    "space": _scope_decides}[key]
        set_otherwise = not_default_params(old, of_class, classifier=key == "classifier")
        if set_otherwise:
            shown = sorted(set_otherwise.items())
            params = ", ".join(f"{k}={v}" for k, v in shown[:5]) + and_more(len(shown), 5)
            notes.append(f"--{key} {new.name} replaces {source}'s {key} {old.name}, so its params ({params}) are not "
                         f"read; give --{key}-param KEY=VALUE for {new.name}'s own")
    return notes


def _scope_decides() -> type:
    """A space's class, which its scope decides, not its name: none known here, so every param given is named."""
    raise ConfigError("a space's class is its scope's")


def is_run_config(mapping: dict[str, Any]) -> bool:
    """Whether ``mapping`` is a run directory's ``config.json`` (its settings under ``config``, beside ``version``)."""
    return isinstance(mapping.get("config"), dict) and "version" in mapping


def settings_of_run(stored: dict[str, Any]) -> dict[str, Any]:
    """A run's ``config.json`` as a settings file: its resolved settings (:func:`stored_settings`), without
    ``out``, the nulls (a setting not given, or read by nothing: a pretrained space's ``space_scope``) and,
    with named labels, the frequent / rare counts, which a file would give as set."""
    settings = {k: v for k, v in stored_settings(stored).items()
                if k != "out" and k in SimulationConfig.__dataclass_fields__ and v is not None}
    if settings.get("labels"):  # named labels: the frequent / rare counts were read by nothing
        settings = {k: v for k, v in settings.items() if k not in ("n_frequent", "n_rare")}
    return settings


def started_in(run_dir: str | Path, out: str | None) -> Path | None:
    """The directory a run was started from, where its recorded ``out`` is relative: ``run_dir`` (resolved) less
    ``out``'s parts (``/work/runs/a`` for ``out: runs/a`` gives ``/work``); None where ``out`` is absolute or
    names another folder."""
    if not out or Path(out).is_absolute() or ".." in Path(out).parts:
        return None
    parts = [part for part in Path(out).parts if part != "."]
    resolved = Path(run_dir).resolve()
    if not parts or list(resolved.parts[-len(parts):]) != parts:
        return None
    return resolved.parents[len(parts) - 1]


def run_started_in(run_dir: str | Path, stored: dict[str, Any], settings: dict[str, Any]) -> Path | None:
    """The directory the run in ``run_dir`` (its ``config.json``, ``stored``, read as ``settings``) was started
    from: by its recorded ``out`` where relative (:func:`started_in`), or for the default folder (``out`` null)
    by the names a default folder has had; None where it cannot be told."""
    out = stored.get("config", {}).get("out")
    if out is None:  # the default folder, runs/NAME, relative to where it was started
        try:
            made = from_mapping(settings, f"{run_dir}/config.json")
        except ALError:
            return None
        outs = [str(made.default_run_dir(named, params)) for named in FOLDER_NAMINGS
                for params in (True, False)]
        out = next((o for o in outs if started_in(run_dir, o) is not None), None)
    return started_in(run_dir, out)


def labeled_texts(run_dir: str | Path, data_path: str | Path | None = None) -> list[dict[str, Any]]:
    """Every text a run labeled, in the order it came: the first labeled set, then each round's picks.

    Its errors and warnings name settings as ``SimulationConfig``'s keywords (as :func:`run`'s do).

    Each row: ``after_round``, None for the first set, else the round whose query picked the text (counted
    from 0, as ``round`` in rounds.jsonl); ``pool_index``, its index in the pool; ``text``; ``labels``, its
    gold labels; for a ``label_names`` start's texts, ``taken_by``, the label whose name took it
    (``initial_reasons``). The run's corpus is loaded again from its settings: ``data_path`` where given (the
    data file moved), else the file at its recorded path; a relative one not found from the current directory is
    looked for from the directory the run was started in (:func:`started_in`).

    Raises
    ------
    DataError
        The data file cannot be found, or the data read now is not the data the run read (its ``corpus_digest``).
    """
    caller = sys._getframe(1)
    with in_python_terms(caller.f_code.co_filename, caller.f_lineno):
        return _labeled_texts(run_dir, data_path)


def _labeled_texts(run_dir: str | Path, data_path: str | Path | None) -> list[dict[str, Any]]:
    """:func:`labeled_texts`, its messages naming the command's flags."""
    import numpy as np

    from al.records import read_config, read_rounds

    stored = read_config(Path(run_dir))
    if stored is None:
        raise DataError(f"{run_dir} holds no run ({Path(run_dir) / 'config.json'} is missing)")
    settings = settings_of_run(stored)
    recorded = settings.get("data_path")
    if data_path is not None:
        if not Path(data_path).is_file():
            raise DataError(f"data_path {data_path} is no file; give the path of the data file {run_dir} read "
                            f"({recorded} when it ran)")
        settings["data_path"] = str(data_path)
    elif recorded and not Path(recorded).is_absolute() and not Path(recorded).exists():
        start = run_started_in(run_dir, stored, settings)
        if start is None or not (start / recorded).exists():
            elsewhere = (f"nor from the directory the run was started in ({start})" if start is not None else
                         "and the directory the run was started in cannot be told from its out")
            raise DataError(f"{run_dir}'s data file {recorded} (data_path in its config.json, relative) is not found "
                            f"from {Path.cwd()}, {elsewhere}; pass its path now: labeled_texts(RUN_DIR, data_path=...)")
        settings["data_path"] = str(start / recorded)
    try:
        corpus = load_config_corpus(from_mapping(settings, f"{run_dir}/config.json"))
    except ALError as exc:  # another file than the run's (given or found) fails as that file, said as such
        read = settings.get("data_path")
        if read == recorded or stored.get("data_digest") in (None, data_file_digest(read)):
            raise
        raise DataError(f"{read} is not the data file {run_dir} read (its bytes differ from the run's data_digest), "
                        f"and it does not load with the run's settings: {exc}") from None
    if stored.get("corpus_digest") not in (None, corpus.digest()):
        raise DataError(f"the data read now is not what {run_dir} read (corpus digest {corpus.digest()}, the run's "
                        f"{stored['corpus_digest']}); restore its data file (data_path in its config.json)")
    pool = corpus.splits["train"]
    rows = []
    for record in read_rounds(Path(run_dir)):
        batches = ([(None, record["initial"])] if "initial" in record else []) + [(record["round"], record["picked"])]
        reasons = dict(zip(record.get("initial", ()), record.get("initial_reasons", ())))
        for after, indices in batches:
            for i in indices:
                rows.append({"after_round": after, "pool_index": int(i), "text": str(corpus.texts[pool[i]]),
                             "labels": [corpus.label_names[j] for j in np.flatnonzero(corpus.Y[pool[i]].toarray())],
                             **({"taken_by": reasons[i]} if after is None and i in reasons else {})})
    return rows


def resume_advice(config: SimulationConfig | None) -> str:
    """What the same command does after a stop: resume after the rounds its directory holds (counted as the
    console counts them; the round in flight starts again), or, with none finished yet, start the run again
    (vectors embedded so far are cached)."""
    from al.records import read_rounds

    try:
        done = config.continued_rounds(read_rounds(config.run_dir)) if config is not None else 0
    except (ALError, OSError):  # damaged records: the next run says so
        done = 0
    if done and config is not None and done >= config.n_rounds:  # stopped after its last round was written
        return f"its {done} rounds are all written: the same command finds it complete"
    if done:  # the round in flight is not kept: what it had trained or queried is computed again
        return f"run the same command again to resume after round {done}; round {done + 1} starts again"
    return "no round finished yet: the same command starts the run again (vectors embedded so far are kept)"


def beside_the_file(message: str, args: argparse.Namespace) -> str:
    """Where a ``--config`` file's relative ``data_path`` names no file from the working directory but one beside
    the settings file, that it is read from the working directory (``""`` otherwise): ``... (it is there beside
    walk/my.yaml: a relative path is read from the working directory, not the file's folder)``."""
    found = re.match(r"data path (.+?) does not exist \(a relative path", message)
    if not found or "data_path" not in file_set_options(args):
        return ""
    beside = Path(args.config).parent / found[1]
    if not beside.exists():
        return ""
    here = Path(os.path.relpath(beside.resolve()))  # sub/../mine.csv -> mine.csv, from the working directory
    shown = here if not here.as_posix().startswith("../../") else beside.resolve()
    found_as = (f"it is there beside {args.config}" if beside.resolve().parent == Path(args.config).resolve().parent
                else f"it is found from {args.config}'s folder")
    return (f" ({found_as}: a relative path in a settings file is read from the working "
            f"directory, not the file's folder; write data_path: {shown}, or an absolute path)")


def file_set_options(args: argparse.Namespace) -> frozenset[str]:
    """The options (flag destinations) whose settings ``--config``'s file gives and the command line does not:
    a message about them names them as the file does (:func:`in_file_terms`). Empty without a readable file."""
    if "config" not in args:
        return frozenset()
    try:
        raw = load_yaml(args.config)
    except ALError:
        return frozenset()
    if not isinstance(raw, Mapping):
        return frozenset()
    dests: set[str] = set()
    for key, value in raw.items():
        dests.add(str(key))
        if isinstance(value, Mapping):
            if key in ("strategy", "classifier", "space") and value.get("params"):
                dests.add(f"{key}_param")
            if key == "data_options":
                dests.update(map(str, value))
        if str(key).endswith("_params") and value:  # strategy_params: {...}, flat
            dests.add(str(key).removesuffix("s"))
    classifier = raw.get("classifier")
    nested = classifier.get("params") if isinstance(classifier, Mapping) else None
    if "threshold" in raw or any(isinstance(params, Mapping) and "threshold" in params
                                 for params in (raw.get("classifier_params"), nested)):
        dests.add("threshold")
    return frozenset(dests - set(vars(args)))


def flags_named(message: str, args: argparse.Namespace) -> str:
    """``message`` with the setting it opens with ("NAME must ...") named by its flag too, where a flag gave it:
    "initial must be ..." -> "initial (--initial) must be ..."; by its file, where ``--config``'s file gave it:
    "sim.yaml: initial must be ..."."""
    try:
        given, _ = given_settings(args)
    except ALError:
        return message
    old = next((flag for flag, param in _DEPRECATED_FLAGS.items()
                if flag in args and f"has no parameter {param!r}" in message), None)
    if old is not None:  # a deprecated flag of the bert classifier's, given to another
        flag = "--" + old.replace("_", "-")
        return f"{message} ({flag} sets the bert classifier's {_DEPRECATED_FLAGS[old]}; leave it out)"
    named = next((key for key in given if message.startswith(f"{key} must ")), None)
    if named is None and "config" in args:  # a value the settings file gives: the file named, as its keys are
        from_file = next((key for key in config_fields() if message.startswith(f"{key} must ")), None)
        if from_file is not None and file_gives(args, [from_file]):
            return f"{args.config}: {message}"
    return message if named is None else f"{named} ({_flag_of(named)}){message[len(named):]}"


def _flag_of(key: str) -> str:
    """The command-line flag of setting ``key`` as :func:`build_parser` names it (``n_frequent``: ``--frequent``,
    ``strategy_params``: ``--strategy-param``)."""
    dest = key.removesuffix("s") if key.endswith("_params") else key
    return _flags().get(dest, "--" + key.replace("_", "-"))


#: How a settings file writes what a flag sets, where it is not the flag's destination.
_FILE_KEYS = {"strategy_param": "strategy params", "classifier_param": "classifier params",
              "space_param": "space params", "threshold": "classifier params threshold", "stopping": "stopping: false",
              **{option: f"data_options {option}" for option in ("text_column", "label_columns", "label_sep",
                                                                   "split_column")},
              **{flag: f"classifier params {param}" for flag, param in _DEPRECATED_FLAGS.items()}}
#: Flags that set no setting of a file's (``--out`` of a grid's run is the grid's to name).
_NOT_FILE_FLAGS = frozenset({"config", "list_strategies", "describe", "quiet", "help", "version", "out"})
_DATA_OPTIONS = ("text_column", "label_columns", "label_sep", "split_column")
#: The settings of :data:`_FILE_KEYS` as a call from Python gives them (``SimulationConfig``'s keywords).
_PYTHON_KEYS = {"strategy_param": "strategy params", "classifier_param": "classifier params",
                "space_param": "space params", "threshold": "classifier params threshold",
                "stopping": "stopping=False",
                **{option: f'data_options["{option}"]' for option in _DATA_OPTIONS},
                **{flag: f"classifier params {param}" for flag, param in _DEPRECATED_FLAGS.items()}}
#: Flags that set no keyword of ``SimulationConfig``'s.
_NOT_PYTHON_FLAGS = frozenset({"config", "list_strategies", "describe", "quiet", "help", "version"})


def in_file_terms(message: str, only: Collection[str] | None = None, python: bool = False) -> str:
    """``message`` with each of this command's flags named as a grid or ``--config`` file sets it, for a
    message met by a run that a file describes: "lower --budget" -> "lower budget", "--frequent/--rare" ->
    "n_frequent/n_rare", "--strategy-param" -> "strategy params", "--label-sep" -> "data_options label_sep",
    "--space NAME" -> "space: NAME". Other text (and other commands' flags) is left as it is; with ``only``
    (option destinations, :func:`file_set_options`), the flags of those options alone.

    ``python``: as :class:`~al.config.SimulationConfig`'s keywords name them, for a message met by a
    :func:`run` called from Python: "--space NAME" -> "space=NAME", "--budget 600" -> "budget=600", "--classifier
    bert" -> "classifier bert" (a word after a flag is taken for its value only where it is surely one: a number,
    a placeholder), "another --out" -> "another out=", "--label-sep" -> 'data_options["label_sep"]', "run the
    same command again" -> "call run() again with the same config", and a value given as "got null" (or true,
    false) -> "got None" (True, False).
    """
    keys = _PYTHON_KEYS if python else _FILE_KEYS
    dests = {flag: dest for dest, flag in _flags().items()
             if dest not in (_NOT_PYTHON_FLAGS if python else _NOT_FILE_FLAGS) and (only is None or dest in only)}

    def key(match: re.Match) -> str:
        flag, value = match.group(1), match.group(2)
        if flag not in dests:
            return match.group(0)
        dest = dests[flag]
        name = keys.get(dest, dest)
        valued = value is not None and value.rstrip(":") not in _NOT_VALUES
        if python:  # a value only where it is surely one (a number, a placeholder): the word after may be prose
            if dest == "out":
                # an absolute path, or a folder there is (a run's, in a resume's advice): surely the folder, not prose
                # ("another --out runs the fixed code": a word alone is read as prose, whatever folders are there)
                if valued and (value.startswith("/") or "/" in value and Path(value).is_dir()):  # not a word
                    return f"out={value!r}"
                return ("out" if valued else "out=") + match.group(0)[len(flag):]
            if valued and dest not in keys and (value.isupper() or re.fullmatch(r"[\d.e+-]+", value)):
                return f"{name}={value}"
            return name + match.group(0)[len(flag):]
        if not valued or dest in keys or not (
                dest in _NAMED_SETTINGS or value.isupper() or re.fullmatch(r"[\d.e+-]+", value)):
            return name + match.group(0)[len(flag):]
        return f"{name}: {value}"

    told = re.sub(r"(?<![\w-])(--[a-z][a-z-]*)(?![\w-])(?: ([\w'\"{/][^\s,;)]*|-\d[^\s,;)]*))?", key, message)
    told = re.sub(r"(?<![\w-])(\w+(?: \w+)?) \(\1\)", r"\1", told)  # "--label-sep (data_options label_sep)": once
    if python:
        told = re.sub(r'(data_options\["(\w+)"\]) \(data_options \2\)', r"\1", told)
        told = re.sub(r"\brun the same command( again)?", "call run() again with the same config", told)
        told = re.sub(r"\bthe same command\b", "the same run() call", told)
        # a value as Python spells it (al.errors.spelled writes YAML's): "got null" -> "got None"
        python_value = {"null": "None", "true": "True", "false": "False"}
        told = re.sub(r"(\bgot |-> )(null|true|false)\b", lambda m: m[1] + python_value[m[2]], told)
        told = re.sub(r"(?<![\w'])(null|true|false)( -> )", lambda m: python_value[m[1]] + m[2], told)
    return told


#: Settings whose flag a message may follow with a name ("--classifier bert"): a file writes "classifier: bert".
_NAMED_SETTINGS = frozenset({"classifier", "strategy", "space", "dataset", "initial_strategy", "device",
                             "embed_precision", "space_scope", "space_for", "model", "data_path",
                             "label_descriptions"})
#: Words that follow a flag in a message without being its value ("--space and --space-for").
_NOT_VALUES = frozenset({"and", "or", "is", "are", "must", "to", "with", "takes", "in", "of", "for", "at", "as",
                         "beside", "here", "too", "alone", "only", "sets", "gives", "keeps", "over", "but", "if"})


def refuse_unread(flag: str, what: str, keys: Sequence[str]) -> None:
    """Refuse the options of settings ``keys`` that ``flag`` leaves unread (it ``what``), as everywhere: one line."""
    if keys:
        raise ConfigError(f"{flag} {what}, not {', '.join(_flag_of(key) for key in keys)}; leave "
                          f"{'it' if len(keys) == 1 else 'them'} out, or run without {flag}")


@functools.cache
def _flags() -> dict[str, str]:
    """Each option's destination -> its long flag; for an on/off option, the flag that turns its default
    (``SimulationConfig``'s) around: ``--no-stopping``, ``--diagnostics``."""
    defaults = SimulationConfig()
    return {action.dest: (f"--{'no-' if getattr(defaults, action.dest, False) else ''}{action.dest}"
                          if isinstance(action, argparse.BooleanOptionalAction) else action.option_strings[-1])
            for action in build_parser()._actions if action.option_strings}


def _check_unread_settings(base: dict[str, Any], given: dict[str, Any], settings: dict[str, Any], source: str) -> None:
    """Refuse settings the run would not read: space settings without a fitted space, ``--frequent``/``--rare``
    beside ``--labels``, whether given by flags or by the ``--config`` file. A flag that overrides the file's
    choice (``--space pretrained`` over its fitted space, ``--labels`` over its ``n_frequent``) is no conflict:
    flags win over the file. A grid does not call this: its cells share settings some of them do not read.

    Raises
    ------
    ConfigError
        Naming the settings that would be ignored and what to do.
    """
    def unread(keys: Sequence[str], overridden_by: str) -> list[str]:
        return [k for k in keys if k in given or (k in base and overridden_by not in given)]

    from al.config import PRETRAINED, Component

    space = Component.coerce(settings.get("space", PRETRAINED), f"{source}: space")
    extra = unread(_SPACE_SETTINGS, "space")
    if space.name == PRETRAINED and extra:
        names = ", ".join(f"{k.replace('_params', ' params')} ({_flag_of(k)})" for k in extra)
        one = len(extra) == 1 and not extra[0].endswith("_params")
        raise ConfigError(f"{names} {'is' if one else 'are'} read only with a fitted space, but the "
                          f"space is {PRETRAINED}; add --space NAME (cea, snnl, aan, am, clld) or drop "
                          f"{'it' if one else 'them'}")
    extra = unread(_FREQUENCY_SETTINGS, "labels")
    labels = settings.get("labels")
    if labels and extra:
        names = " and ".join(f"{k} ({_flag_of(k)})" for k in extra)
        shown = [labels] if isinstance(labels, str) else labels
        raise ConfigError(f"labels {shown!r} and {names} both choose the labels: --labels keeps exactly those, "
                          f"--frequent/--rare pick the most/least frequent; give one of them")


#: Corpora this process has loaded, by what defines them (see :func:`load_config_corpus`).
_LOADED_CORPORA: dict[tuple, Any] = {}
_KEEP_CORPORA = 4


def data_file_digest(path: str | None) -> str | None:
    """blake2b of a data file's bytes (:func:`al.io.file_digest`); None for no file or a directory."""
    from al.io import file_digest

    return file_digest(path)


def strategy_source(config: SimulationConfig) -> dict[str, str] | None:
    """``{"file", "digest"}`` of the file a strategy not shipped with ``al`` is defined in; None for a built-in one.

    Recorded with a run, so that a later command on the same ``--out`` can
    say that the code changed since (:func:`source_changed`): its settings
    alone would call the run the same.
    """
    import inspect

    cls = config.strategy_class()
    try:
        path = os.path.realpath(inspect.getsourcefile(cls) or "")
    except (TypeError, OSError):  # defined where no file is (an interactive session; a notebook's __main__)
        path = None
    project = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    if path and cls.__module__.split(".")[0] == "strategies" and path.startswith(os.path.join(project, "strategies",
                                                                                                 "")):
        return None
    digest = data_file_digest(path) if path else None
    if digest is None:  # a notebook's cell, standard input: the class's own code stands for its file
        return {"file": f"strategy {cls.__qualname__} (defined in {cls.__module__}, no file)",
                "digest": class_code_digest(cls)}
    return {"file": path, "digest": digest}


def class_code_digest(cls: type) -> str:
    """A blake2b digest of the code ``cls`` and its bases defined outside al give: each method's bytecode, names,
    constants, defaults and closure (through decorators, ``functools.wraps``), and each other attribute's value,
    not where the code stands (a notebook cell run again at another line gives the same digest, in any process;
    an edited ``query``, default or attribute another). A value of no plain kind counts by its type's name."""
    import hashlib
    import inspect

    def value_part(value: Any, depth: int = 0) -> Any:
        if depth > 8:  # a structure that refers to itself
            return "..."
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if isinstance(value, property):
            return ["property", *(value_part(f, depth + 1) for f in (value.fget, value.fset, value.fdel))]
        if inspect.isfunction(value) or inspect.ismethod(value):
            function = inspect.unwrap(getattr(value, "__func__", value))
            cells = []
            for cell in function.__closure__ or ():
                try:
                    contents = cell.cell_contents
                except ValueError:  # empty
                    contents = None
                cells.append(value_part(contents, depth + 1) if contents is not cls else "<the class>")
            return ["function", value_part(function.__code__, depth + 1), value_part(function.__defaults__, depth + 1),
                    value_part(function.__kwdefaults__, depth + 1), cells]
        if hasattr(value, "co_code"):
            return [value.co_code, value.co_names, value.co_varnames,
                    [value_part(c, depth + 1) for c in value.co_consts]]
        if isinstance(value, (str, bytes, int, float, complex, bool, type(None))):
            return repr(value)
        if isinstance(value, (frozenset, set)):  # its order is the process's string hashing's
            return ["set", *sorted(repr(value_part(v, depth + 1)) for v in value)]
        if isinstance(value, (tuple, list)):
            return [type(value).__name__, *(value_part(v, depth + 1) for v in value)]
        if isinstance(value, dict):
            return ["dict", *sorted((repr(value_part(k, depth + 1)), value_part(v, depth + 1))
                                    for k, v in value.items())]
        if isinstance(value, type) or callable(value):  # a class, a builtin (np.mean): by name, not address
            return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', type(value).__qualname__)}"
        return f"<{type(value).__module__}.{type(value).__qualname__}>"

    parts = []
    for klass in cls.__mro__:
        if klass.__module__.split(".")[0] in ("al", "strategies", "builtins"):
            continue
        for name, value in sorted(vars(klass).items()):
            if name in ("__dict__", "__weakref__", "__module__", "__qualname__", "__doc__", "__firstlineno__",
                        "__static_attributes__"):
                continue
            parts.append((klass.__qualname__, name, value_part(value)))
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def not_recorded(rounds: Sequence[Mapping[str, Any]], config: SimulationConfig) -> str:
    """`` (its rounds ran without --diagnostics ...)``: what a complete run asked for anew does not get, or ""
    (its ``rounds`` tell: a resume may have turned the setting on or off since they ran)."""
    if config.diagnostics and not any("diagnostics" in r for r in rounds):
        return (" (its rounds ran without --diagnostics, and a complete run records no more: give another --out to "
                "run it with them, or python -m al.analyze for the pool's diagnostics)")
    return ""


def source_changed(stored: dict[str, Any] | None, now: dict[str, str] | None, out: Any) -> str | None:
    """The note for a run directory whose strategy's file changed since it last ran there, or None."""
    before = (stored or {}).get("strategy_source")
    if not before or not now or before.get("digest") == now["digest"]:
        return None
    return (f"{now['file']} changed since {out} last ran: the rounds recorded there come from the code as it was "
            f"then; pass another --out to run the new code from the start")


def corpus_identity(config: SimulationConfig) -> tuple:
    """What a loaded corpus depends on: its settings and its file's digest (a directory's: its files' stats)."""
    path = config.data_path
    stamp: Any = data_file_digest(path)
    try:
        if stamp is None and path and os.path.isdir(path):
            stamp = tuple(sorted((e.name, e.stat().st_size, e.stat().st_mtime_ns) for e in os.scandir(path)))
    except OSError:
        stamp = None  # the loader says what is wrong
    return (config.dataset, config.data_path, stamp, tuple(config.labels or ()), config.n_frequent, config.n_rare,
            json.dumps(dict(config.data_options), sort_keys=True, default=str), config.pool_size)


def load_config_corpus(config: SimulationConfig, analysis: bool = False):
    """The reduced (and optionally subsampled) corpus a config describes (``analysis``: as ``python -m
    al.analyze`` reads it, the pool alone counting; :func:`al.datasets.reduction.reduce_labels`).

    Kept per process (the last few, by settings and the data file's digest): a grid
    worker runs many simulations on one corpus and parses it once. A
    :class:`~al.datasets.Corpus` is immutable; its arrays are made read-only
    so that no run can change what the next one reads.
    """
    from al.datasets import load_corpus
    from al.datasets.reduction import subsample_pool

    identity = (*corpus_identity(config), analysis)
    if identity in _LOADED_CORPORA:
        return _LOADED_CORPORA[identity]
    corpus = load_corpus(
        config.dataset, config.data_path, labels=list(config.labels) if config.labels else None,
        n_frequent=config.n_frequent, n_rare=config.n_rare, seed=DATA_SEED, analysis=analysis,
        **dict(config.data_options),
    )
    if config.pool_size is not None:
        n_pool = len(corpus.splits["train"])
        if config.pool_size > n_pool:
            raise DataError(f"--pool-size {config.pool_size} is larger than the pool of {corpus.name} ({n_pool} "
                            f"texts); give at most {n_pool}, or leave --pool-size out to use the whole pool")
        corpus = subsample_pool(corpus, config.pool_size, seed=DATA_SEED)
    for array in (corpus.texts, corpus.Y.data, corpus.Y.indices, corpus.Y.indptr, *corpus.splits.values()):
        array.flags.writeable = False
    while len(_LOADED_CORPORA) >= _KEEP_CORPORA:
        _LOADED_CORPORA.pop(next(iter(_LOADED_CORPORA)))
    _LOADED_CORPORA[identity] = corpus
    return corpus


def keep_space_precision(space: Any, rounds: Sequence[dict[str, Any]]) -> None:
    """A bf16 run stored before encoder-scope spaces followed ``embed_precision`` re-embedded in fp32: it
    resumes so (its first round's ``space`` record lacks ``embed_precision``), never mixing the two."""
    if (rounds and getattr(space, "scope", None) == "encoder" and getattr(space, "precision", "fp32") != "fp32"
            and "embed_precision" not in (rounds[0].get("space") or {})):
        space.precision = "fp32"


def has_label_check(config: SimulationConfig) -> bool:
    """Whether the run's classifier checks its params against the labels (:func:`check_classifier_labels`)."""
    from al.classifiers.base import Classifier

    return getattr(config.classifier_class(), "check_labels", Classifier.check_labels) is not Classifier.check_labels


def check_classifier_labels(config: SimulationConfig, label_names: Sequence[str]) -> None:
    """The classifier's params checked against the run's labels (:meth:`al.classifiers.base.Classifier.check_labels`;
    a classifier of a user's that is no subclass of it has none)."""
    if has_label_check(config):
        config.classifier_class().check_labels(config.classifier_kwargs(), label_names)


def build_simulation(config: SimulationConfig, records=None, on_round=None, quiet: bool = True):
    """Corpus and :class:`~al.engine.Simulation` for ``config``; no model is loaded yet."""
    from al.datasets.reduction import labels_without_pool_texts
    from al.embedders import SentenceEmbedder
    from al.engine import Simulation, check_pool_sizes

    corpus = load_config_corpus(config)
    check_pool_sizes(config.initial, config.budget, len(corpus.splits["train"]), config.pool_size)
    check_classifier_labels(config, corpus.label_names)  # bert's aux_confusable pairs: before any work
    if config.pool_size is not None and (absent := labels_without_pool_texts(corpus)):
        warnings.warn(f"--pool-size {config.pool_size} leaves {counted(len(absent), 'kept label')} of {corpus.name} "
                      f"without a pool text ({', '.join(absent[:3])}{and_more(len(absent), 3)}): no strategy can "
                      f"pick one, and each enters macro-F1 as 0 in every round; raise --pool-size"
                      f"{'' if config.labels else ', or name the labels to keep with --labels'}", stacklevel=2)
    observers = []
    if config.diagnostics:
        from al.observers import EmbeddingDiagnostics

        observers.append(diagnostics := EmbeddingDiagnostics(seed=config.seed))
        n_pool = len(corpus.splits["train"])
        if n_pool - config.budget <= diagnostics.k:  # the last round's unlabeled texts: the fewest
            sizes = [*range(config.initial, config.budget, config.step), config.budget]  # each round's labeled texts
            first = next(size for size in sizes if n_pool - size <= diagnostics.k)
            warnings.warn(f"--diagnostics searches the {diagnostics.k} unlabeled texts nearest each centroid, and from "
                          f"{first} labeled texts on the pool of {n_pool} holds "
                          f"no more than {diagnostics.k} unlabeled texts: there each proximity ratio is 1 by "
                          f"construction (its ceiling is 1), whatever the space", stacklevel=2)
    if config.stopping:
        from al.stopping import StoppingSignals

        # what the stopping criteria read (al.stopping); a fine-tuned classifier's uncertainty only on the stop set
        uncertainty_on = "stop_set" if config.classifier_class().input == "texts" else "pool"
        observers.append(StoppingSignals(seed=config.seed, records=records, uncertainty_on=uncertainty_on))
    embedder = SentenceEmbedder(config.model, device=config.device, show_progress=not quiet,
                                precision=config.embed_precision)
    return corpus, Simulation(
        corpus=corpus,
        strategy=config.make_strategy(),
        make_classifier=config.make_classifier_factory(),
        embed=embedder.encode,
        initial=config.initial,
        step=config.step,
        budget=config.budget,
        seed=config.seed,
        records=records,
        on_round=on_round,
        observers=observers,
        space=config.make_space(),
        space_every=config.space_every,
        space_for=config.space_for,
        start=(start := cold_start(config, corpus, embedder.encode)),
        start_reasons=start_reasons(config, corpus, start),
    )


def start_reasons(config: SimulationConfig, corpus: Any, start: Any) -> list[str] | None:
    """Why each text of a ``label_names`` start (:func:`cold_start`, in the order taken) was taken: the label whose
    name (or description) took it, labels taking turns (:func:`al.initial.label_name_start`); None otherwise."""
    if start is None or config.initial_strategy != "label_names":
        return None
    names = list(corpus.label_names)
    return [names[k % len(names)] for k in range(len(start))]


def cold_start(config: SimulationConfig, corpus: Any, embed: Any) -> Any:
    """The initial pool positions of ``config.initial_strategy`` (:mod:`al.initial`); None for a random start.

    ``label_names``: each label's name (or its text in ``label_descriptions``)
    is embedded with the run's model, then labels take turns taking the pool
    text nearest their vector. ``kmeans``: the texts nearest the centres of
    k-means (k = ``initial``, seeded by the run's seed) on the pool's
    embeddings. A resumed run keeps the start its records hold.
    """
    if config.initial_strategy == "random":
        return None
    from al.initial import kmeans_start, label_name_start, label_text, load_label_descriptions

    names = list(corpus.label_names)
    if config.initial_strategy == "label_names" and config.initial < len(names):  # turns in label order
        left, order = names[config.initial:], ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        warnings.warn(f"--initial {config.initial} gives a text to {config.initial} of the {len(names)} labels only: "
                      f"labels take turns in the run's label order ({'frequent first, ' if not config.labels else ''}"
                      f"{order}), and {', '.join(left[:3])}{and_more(len(left), 3)} get none; raise --initial to "
                      f"{len(names)} or more for a text of each", stacklevel=2)
    if config.initial_strategy == "label_names":  # the file is checked before the pool is embedded
        described = (load_label_descriptions(config.label_descriptions, names, corpus.left_out_labels)
                     if config.label_descriptions
                     else {name: label_text(name) for name in names})
    pool_embeddings = embed(corpus.texts[corpus.splits["train"]].tolist())
    if config.initial_strategy == "kmeans":
        return kmeans_start(pool_embeddings, config.initial, config.seed)
    return label_name_start(embed([described[name] for name in names]), pool_embeddings, config.initial)


def format_round(record: dict[str, Any], n_rounds: int) -> str:
    """A finished round's console line: its scores, then every part of its time the record holds (a process's
    first round: the embedding pass and a resume's replay first; ``query`` before ``eval``, which ran first, as
    earlier versions printed them; the stopping criteria's pass and ``--diagnostics`` last)."""
    dev = f" (dev {record['seconds_train_dev']:.1f}s)" if "seconds_train_dev" in record else ""
    ahead = f" (+{record['seconds_prepare']:.1f}s before the embedding)" if "seconds_prepare" in record else ""
    parts = [f"{name} {record[key]:.1f}s" for key, name in (("seconds_embed", "embed"), ("seconds_replay", "replay"),
                                                           ("seconds_space", "space")) if key in record]
    parts += [f"train {record['seconds_train']:.1f}s{dev}", f"query {record['seconds_query']:.1f}s{ahead}",
              f"eval {record['seconds_evaluate']:.1f}s"]
    parts += [f"{name} {record[key]:.1f}s" for key, name in (("seconds_stopping", "stop"),
                                                           ("seconds_diagnostics", "diagnostics")) if key in record]
    return (f"round {record['round'] + 1:>2}/{n_rounds}  labeled {record['n_labeled']:>5}  "
            f"macro-F1 {record['macro_f1']:.3f}  micro-F1 {record['micro_f1']:.3f}  " + "  ".join(parts))


def skipped_note(record: dict[str, Any], said: set[str], strategy: str) -> str | None:
    """A note for the labels the round's query skipped (``strategy_info.skipped_labels``: class_embedding's
    labels with no labeled text, hence no centroid) that no earlier note named, or None; ``said`` gains them.
    Such a label gets no pick, and its F1 stays where it is, until a text of it comes in with another's picks."""
    info = record.get("strategy_info") or {}
    if info.get("fallback") and record.get("picked"):  # no label had a centroid: the picks drawn at random
        if "\0fallback" in said:
            return None
        said.add("\0fallback")  # said once; a label skipped in a later round is said then (it is not marked here)
        return (f"note: {strategy} drew its {counted(len(record['picked']), 'pick')} at random: no labeled text "
                f"carries any label yet, so no label has a centroid; it picks by centroids once one does "
                f"(strategy_info.fallback)")
    skipped = info.get("skipped_labels") or []
    new = [str(label) for label in skipped if str(label) not in said]
    if not new or not record.get("picked"):
        return None
    said.update(new)
    one = len(new) == 1
    return (f"note: {strategy} picked nothing for {', '.join(new)}: no labeled text carries {'it' if one else 'them'}, "
            f"so {'it has' if one else 'they have'} no centroid; {'it gets' if one else 'they get'} no pick until "
            f"{'one of its texts comes' if one else 'texts of theirs come'} in with another label's picks "
            f"(strategy_info.skipped_labels)")


def curve_table(rounds: Sequence[dict[str, Any]]) -> str:
    lines = [f"{'labeled':>8} {'macro-F1':>9} {'micro-F1':>9}"]
    lines += [f"{r['n_labeled']:>8} {r['macro_f1']:>9.4f} {r['micro_f1']:>9.4f}" for r in rounds]
    return "\n".join(lines)


def stored_settings(stored: dict[str, Any]) -> dict[str, Any]:
    """The resolved settings of a run directory's ``config.json``, as this version would resolve them.

    Flat configs of earlier versions are mapped; settings and component params
    added since are filled with their defaults (see :func:`al.config.completed_params`),
    so they are compared too.
    """
    config = stored.get("config", {})
    if isinstance(config.get("strategy"), dict) and isinstance(config.get("classifier"), dict):
        if "space" not in config:  # runs from before spaces: the pretrained one
            config = {**config, "space": {"name": "pretrained", "params": {}}, "space_scope": None,
                      "space_every": None}
        if "space_for" not in config:  # runs from before space_for: everyone read the fitted space
            pretrained = config["space"].get("name", "pretrained") == "pretrained"
            config = {**config, "space_for": None if pretrained else "all"}
        if "initial_strategy" not in config:  # runs from before cold starts: a random start
            config = {**config, "initial_strategy": "random", "label_descriptions": None}
        if "embed_precision" not in config:  # runs from before embed_precision: fp32
            config = {**config, "embed_precision": "fp32"}
        # any other setting added since: that run used its default, so a resume that sets another is refused
        config = {**result_settings(SimulationConfig().resolved()), **config}
        return completed_params(config)  # params added to a component since: that run used their defaults
    values, _ = normalise_mapping(config, "stored config", stored=True)
    known = set(config_fields())
    try:
        return from_mapping({k: v for k, v in values.items() if k in known}, "stored config").resolved()
    except ALError:
        return config  # a strategy or classifier that no longer exists: compare as stored


def compare_stored(config: SimulationConfig, records: Any) -> dict[str, Any] | None:
    """Refuse a run directory that holds a run other than ``config``'s; reads, never writes.

    Settings and the data file's digest are compared first; what only the
    corpus can decide (:func:`al.records.left_to_corpus`: other
    ``data_options``, a data file re-saved with other bytes) is then decided
    by loading the corpus and comparing its digest with the stored one.

    Returns the stored ``config.json`` (None for a new run).

    Raises
    ------
    ConfigError
        The directory holds a run with other result settings or other data.
    DataError
        The corpus, needed to decide, cannot be loaded.
    """
    from al.records import left_to_corpus

    settings, data_digest = config.resolved(), data_file_digest(config.data_path)
    stored = records.compare(settings, stored_settings, data_digest)
    if stored is not None and left_to_corpus(stored, settings, stored_settings, data_digest):
        records.compare(settings, stored_settings, data_digest, load_config_corpus(config).digest())
    return stored


def zero_one_columns_found(config: SimulationConfig, table: Any = None) -> str | None:
    """``labels read from the 0/1 columns ...``: for ``--describe`` of a file of one's own whose label columns the
    rule found (none named), which those are, so that a 0/1 column of another kind (``needs_review``) is seen
    before it is learned as a label; None where the labels come from a list column or were named. ``table``: the
    file as :func:`al.datasets.tabular.read_rows` read it, where the caller has it (else read here)."""
    from al.datasets import USER_FILE_DATASETS
    from al.datasets.tabular import TABLE_OPTIONS, label_source, read_rows

    options = {**TABLE_OPTIONS, **dict(config.data_options)}
    if config.dataset not in USER_FILE_DATASETS or options.get("label_columns"):
        return None
    table = table if table is not None else read_rows(config.data_path)
    source = label_source(table, None, reserved={options["text_column"], options["split_column"] or "split", "id"})
    if source.is_list or not source.columns:
        return None
    return (f"labels read from the file's 0/1 columns: {', '.join(source.columns)} (every column of only 0 and 1 "
            f"but the text, split and id columns; a 0/1 column that is no label, such as a review flag, is left out "
            f"by naming the label columns with --label-columns)")


def splits_read(config: SimulationConfig, table: Any = None) -> str | None:
    """``splits from the file's column 'split'`` or ``splits by a hash of each text ...``: for ``--describe`` of a
    file of one's own, where its train/dev/test came from; None for a packaged data set (its own splits).
    ``table``: as :func:`zero_one_columns_found` takes it."""
    from al.datasets import USER_FILE_DATASETS
    from al.datasets.tabular import SPLIT_ALIASES, TABLE_OPTIONS, read_rows

    if config.dataset not in USER_FILE_DATASETS or not config.data_path:
        return None
    column = {**TABLE_OPTIONS, **dict(config.data_options)}.get("split_column") or "split"
    frame = (table if table is not None else read_rows(config.data_path)).frame
    if column in frame.columns:
        marked = {SPLIT_ALIASES.get(str(v).strip().lower()) for v in frame[column].dropna()}
        carved = "" if "dev" in marked else "; no dev rows: dev is a tenth of train, by a hash of each text"
        return f"splits from the file's column {column!r} (train, dev, test{carved})"
    return (f"splits by a hash of each text (about 80% train, 10% dev, 10% test; a text and its repeats stay "
            f"together), as the file has no {column!r} column: add one (train, dev, test) to choose them")


def separator_read(config: SimulationConfig) -> str | None:
    """``cells separated by semicolons ...``: for ``--describe`` of a CSV file read at another separator than its
    suffix's (:func:`al.datasets.tabular.column_separator_note`); None otherwise."""
    from al.datasets.tabular import column_separator_note

    if config.dataset != "csv" or not config.data_path:  # a csv run's file is a .csv or .tsv: loading refuses others
        return None
    return column_separator_note(Path(config.data_path))


def warn_duplicates(corpus: Any, quiet: bool) -> None:
    """One line when texts repeat: they are legitimate data and stay in the pool."""
    duplicated = corpus.n_duplicated_texts()
    if duplicated and not quiet:
        print(f"note: {counted(duplicated, 'text')} of {corpus.name} "
              f"{'repeats' if duplicated == 1 else 'repeat'} an earlier text (kept: duplicates are data)",
              file=sys.stderr, flush=True)


def run_models(config: SimulationConfig) -> list[tuple[str, str]]:
    """The models a run loads by name or path, each with where it is given ("" for --model): its sentence encoder,
    the classifier's own where it has one, a strategy's own, given in the params its class names in
    ``model_params`` (ALPS's masked LM, ``model=``; a param of another strategy named ``model`` is its own
    business), and a fitted space's own (``--space-param model=``, encoder scope)."""
    found = [(config.model, "")]
    classifier_model = config.classifier_kwargs().get("model")
    if isinstance(classifier_model, str) and "model" in config.classifier.params:
        found.append((classifier_model, f"classifier {config.classifier.name!r} param model"))
    elif isinstance(classifier_model, str):  # the run's --model, passed on to it
        found.append((classifier_model, ""))
    for param in getattr(config.strategy_class(), "model_params", ()):  # a strategy's own (ALPS's masked LM)
        if isinstance(value := config.strategy.params.get(param), str):
            found.append((value, f"strategy {config.strategy.name!r} param {param}"))
    if config.space_scope == "encoder" and isinstance(value := config.space.params.get("model"), str):  # its encoder
        found.append((value, f"space {config.space.name!r} ({config.space_scope} scope) param model"))
    return found


def where_model(where: str, message: str) -> str:
    """A model's refusal, naming the param that gave it (``strategy 'alps' param model: ...``) unless --model."""
    return f"{where}: {message}" if where else message


def older_default_run(config: SimulationConfig, data_digest: str | None,
                      settings: Mapping[str, Any] | None = None) -> Path | None:
    """The run directory an earlier version gave this run by default, where it holds a run of the same data and the
    default directory now holds none: ``runs/csv-<strategy>-...`` (not named after a user's file), or a name without
    the strategy's and the classifier's params, where it holds a run of the same ones (``settings``: this run's
    resolved settings, :meth:`~al.config.SimulationConfig.resolved`)."""
    from al.datasets import USER_FILE_DATASETS

    if config.out or config.run_dir.exists():
        return None
    from al.records import read_config

    user_file = config.dataset in USER_FILE_DATASETS and bool(config.data_path)
    with_params = config.run_dir != config.default_run_dir(with_params=False)  # named after params given
    olders = [config.default_run_dir(named, params) for named in (FOLDER_NAMINGS if user_file else (True,))
              for params in (True, False)]
    for older in dict.fromkeys(older for older in olders if older != config.run_dir):
        try:
            stored = read_config(older) or {}
        except ALError:  # damaged, or another program's: not this run's
            continue
        if not stored:
            continue
        try:  # as this version reads it (an earlier version's flat settings, params added since at their defaults)
            then = stored_settings(stored) if with_params else stored.get("config", {})
        except ALError:
            continue
        same_data = (bool(data_digest) and stored.get("data_digest") == data_digest if user_file
                     else then.get("dataset") == config.dataset)
        settings = settings if settings is not None or not with_params else config.resolved()
        if same_data and (not with_params or all(then.get(key) == settings[key] for key in ("strategy", "classifier"))):
            return older
    return None


def check_device_and_models(config: SimulationConfig) -> None:
    """Refuse a GPU that is not there, a model that cannot be loaded (a typo, one not installed) and a fitted
    space's setting its model cannot take, before any data loads or anything is written."""
    from al.models import resolve_model

    if config.device.startswith("cuda"):
        from al.device import resolve_device

        resolve_device(config.device)
    for model, where in run_models(config):
        try:
            resolve_model(model)
        except ALError as exc:
            if not where:
                raise
            raise ConfigError(where_model(where, str(exc))) from None
    if hasattr(space := config.make_space(), "check_model"):  # what the space's model cannot read (max_length)
        space.check_model()


def run(config: SimulationConfig, quiet: bool = False) -> list[dict[str, Any]]:
    """Run ``config``'s simulation from Python: validate, build, resume or start, and run; every round's record.

    The records are those ``config.run_dir`` holds (``out``, else ``runs/<dataset>-<strategy>-...`` under the
    current directory): a run found complete is not run again, and one stopped (Ctrl-C, a crash) goes on from
    its last finished round. Progress goes to stderr unless ``quiet``. The thread count is the caller's
    (``threads`` is recorded, not applied: :func:`al.device.limit_threads` applies it to a process).

    Errors and warnings name settings as ``SimulationConfig``'s keywords ("lower budget", ``out=``), where
    ``python -m al.simulate`` names its flags; a warning met inside al points at the line that called ``run``.

    Raises
    ------
    TypeError
        ``config`` is no :class:`~al.config.SimulationConfig`.
    al.errors.ALError
        A setting, the data, a model or a strategy cannot do what was asked (its subclasses say which); the run
        directory keeps every round finished before it, and the same call resumes from there once it is fixed.
    """
    if not isinstance(config, SimulationConfig):
        raise TypeError(f"run() takes a SimulationConfig, got {type(config).__name__} {config!r:.60}; build one "
                        f"with SimulationConfig(budget=600, ...) or al.config.from_mapping(settings)")
    caller = sys._getframe(1)
    with in_python_terms(caller.f_code.co_filename, caller.f_lineno):
        warn_unread_keywords(config)
        return run_as_command(config, quiet)


def warn_unread_keywords(config: SimulationConfig) -> None:
    """Warn of settings given other values than their defaults that ``config``'s run does not read: a space's
    beside the pretrained space, ``n_frequent``/``n_rare`` beside ``labels`` (the command refuses them; from Python,
    a loop over spaces or label sets may share them, as a grid's cells do)."""
    from al.config import PRETRAINED

    defaults = SimulationConfig()
    if config.space.name == PRETRAINED:
        unread = [f"{key}={getattr(config, key)!r}" for key in FITTED_SPACE_SETTINGS
                  if getattr(config, key) != getattr(defaults, key)]
        if unread:
            warnings.warn(f"{', '.join(unread)} {'is' if len(unread) == 1 else 'are'} read only with a fitted space, "
                          f"and this run's space is {PRETRAINED}: not read (nor recorded)", UserWarning, stacklevel=3)
    if config.labels and (unread := [f"{key}={getattr(config, key)!r}" for key in _FREQUENCY_SETTINGS
                                     if getattr(config, key) != getattr(defaults, key)]):
        warnings.warn(f"{' and '.join(unread)} not read: labels={list(config.labels)!r} keeps exactly those labels",
                      UserWarning, stacklevel=3)
    if config.labels is not None and not list(config.labels):  # the command line refuses --labels with no name
        warnings.warn(f"labels=[] names no label, so the automatic pick is used ({config.n_frequent} frequent + "
                      f"{config.n_rare} rare labels); give labels=None for it, or name the labels to keep",
                      UserWarning, stacklevel=3)
    if config.threads is not None and not isinstance(config.threads, bool) and isinstance(config.threads, int):
        import torch

        if (now := torch.get_num_threads()) != config.threads:
            warnings.warn(f"threads={config.threads} is recorded with the run, not applied: run() leaves this "
                          f"process's {now} torch threads as they are; call al.device.limit_threads({config.threads})"
                          f" first (it holds for the rest of the process)", UserWarning, stacklevel=3)


#: Where each thread's innermost Python call of :func:`run` or :func:`labeled_texts` is (file, line); empty outside.
_PYTHON_CALLERS = threading.local()
_HOOK_LOCK = threading.Lock()
_HOOK: dict[str, Any] = {"users": 0, "shown": None}  # how many calls are inside, the showwarning before the first


def _show_in_python_terms(message: Warning | str, category: type[Warning], name: str, line_no: int,
                          *rest: Any) -> None:
    """``warnings.showwarning`` while a Python call of al is inside: in that call's thread, a warning's words name
    keywords, and one raised in al's own code shows at the call's line; in any other thread, as it was."""
    shown = _HOOK["shown"] or warnings._showwarning_orig  # type: ignore[attr-defined]
    callers = getattr(_PYTHON_CALLERS, "stack", None)
    if not callers:
        return shown(message, category, name, line_no, *rest)
    reworded = copy.copy(message) if isinstance(message, Warning) else message
    if isinstance(reworded, Warning) and reworded.args and isinstance(reworded.args[0], str):
        reworded.args = (in_file_terms(reworded.args[0], python=True), *reworded.args[1:])
    if is_al(name):
        name, line_no = callers[-1]
        rest = rest[:1]  # the caller's line, read again from its file
    shown(reworded, category, name, line_no, *rest)


@contextlib.contextmanager
def in_python_terms(filename: str, lineno: int) -> Iterator[None]:
    """Inside: al's errors and warnings name settings as ``SimulationConfig``'s keywords (:func:`in_file_terms`
    with ``python``), and a warning raised in al's own code is shown at ``filename:lineno`` (the caller's).

    Only how warnings are shown changes (``warnings.showwarning``, installed by the first call in and restored by
    the last out, whatever thread), not the filters: a filter a library adds as it loads inside stays, and a filter
    of one's own matches al's words, with the flags."""
    stack = _PYTHON_CALLERS.__dict__.setdefault("stack", [])
    stack.append((filename, lineno))
    with _HOOK_LOCK:
        if _HOOK["users"] == 0:
            _HOOK["shown"] = warnings.showwarning
            warnings.showwarning = _show_in_python_terms
        _HOOK["users"] += 1
    try:
        yield
    except ALError as exc:
        exc.args = (in_file_terms(str(exc), python=True),)
        raise
    finally:
        stack.pop()
        with _HOOK_LOCK:
            _HOOK["users"] -= 1
            if _HOOK["users"] == 0:
                if warnings.showwarning is _show_in_python_terms:
                    warnings.showwarning = _HOOK["shown"]
                _HOOK["shown"] = None


def run_as_command(config: SimulationConfig, quiet: bool = False) -> list[dict[str, Any]]:
    """:func:`run` as ``python -m al.simulate`` and a grid's workers call it: messages name the command's flags."""
    from al.device import device_type
    from al.records import RunRecords, package_versions, read_rounds, run_lock

    config.validate()
    out = config.run_dir
    check_device_and_models(config)
    records = RunRecords(out)
    settings = config.resolved()
    data_digest = data_file_digest(config.data_path)
    if (moved := older_default_run(config, data_digest, settings)) is not None:
        from al.datasets import USER_FILE_DATASETS

        user_file = config.dataset in USER_FILE_DATASETS and bool(config.data_path)
        params = out != config.default_run_dir(with_params=False)
        by_name = [config.default_run_dir(named, False) for named in FOLDER_NAMINGS]  # params left out
        spelt_out = config.default_run_dir("ascii") != out  # the name holds letters ASCII lacks
        after = [what for what, named in (
            ("the file", user_file and moved in (config.default_run_dir(False), by_name[2])),
            ("the file's whole name", user_file and spelt_out and moved in (config.default_run_dir("ascii"),
                                                                            by_name[1])),
            ("the params given", params and moved in by_name)) if named]
        held = ("a run of this file" if user_file else "a run") + (" with these params" if params else "")
        warnings.warn(f"{moved} holds {held}, under the default name an earlier version gave it (now named after "
                      f"{' and '.join(after)}); this run starts in {out}: to resume that one instead, stop this and "
                      f"pass --out {moved}", UserWarning, stacklevel=2)
    stored = records.compare(settings, stored_settings, data_digest=data_digest)  # before any data loads
    source = strategy_source(config)
    finished = read_rounds(out) if stored is not None else []
    # only where rounds the run keeps came from the old code: none stored, or all computed again (a raised budget)
    if config.continued_rounds(finished) and (changed := source_changed(stored, source, out)) is not None:
        warnings.warn(changed, UserWarning, stacklevel=2)
    if stored is not None and config.continued_rounds(finished) >= config.n_rounds:  # all done
        compare_stored(config, records)  # other data options or bytes of the same corpus: decided on it now
        if not quiet:
            resaved = ""  # refused above where the corpus changed: other bytes here are the same texts and labels
            if None not in (stored.get("data_digest"), data_digest) and stored["data_digest"] != data_digest:
                resaved = (f"; {Path(config.data_path).name}'s bytes changed since it ran (its config.json keeps the "
                           f"data_digest it read), not its texts, labels or splits")
            print(f"{out} is complete ({len(finished)} rounds); nothing to do{not_recorded(finished, config)}"
                  f"{resaved}", file=sys.stderr)
        return finished
    from al.cache import check_cache_root

    check_cache_root()  # rounds left: a cache that cannot be used is one line before the run directory is written
    records.check_writable()  # a finished run is read only (archives may be read-only); one with rounds left is written
    if out.is_dir():
        with run_lock(out):  # another process writing it: say so now, before the data and the model load
            pass

    skipped_said: set[str] = set()  # labels a strategy skipped for want of a labeled text, said once each

    def progress(record: dict[str, Any]) -> None:
        if not quiet:
            print(format_round(record, config.n_rounds), file=sys.stderr, flush=True)
            if new := skipped_note(record, skipped_said, config.strategy.label(console_spelling)):
                print(new, file=sys.stderr, flush=True)

    corpus, simulation = build_simulation(config, records, progress, quiet=quiet)
    warn_duplicates(corpus, quiet)
    meta = {
        "version": __version__,
        "packages": package_versions(),  # what the numbers were computed with (those of the first rounds kept)
        "device_type": device_type(config.device),  # what --device auto chose: cpu or cuda
        "data_digest": data_digest,  # the data file's content: a run whose data moved is still known
        "corpus_digest": corpus.digest(),  # what it reads, packaged data included: a resume on other data is refused
        # the label descriptions' content: reports tell runs apart by it, not by how the path was spelt
        "label_descriptions_digest": data_file_digest(config.label_descriptions),
        "strategy_source": source,  # a user's strategy's file: its edits are noted on a later resume
        "given": {"strategy": config.strategy.to_dict(), "classifier": config.classifier.to_dict(),
                  "space": config.space.to_dict()},
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
    with run_lock(out):  # from here on this process writes the directory (bad input above leaves none behind)
        return _start_and_run(config, simulation, records, settings, meta, corpus, quiet)


def space_fits(config: SimulationConfig, simulation: Any) -> str:
    """How often a run fits its space, for the start line: ``re-fit every 2 rounds``, or ``fitted once ...`` where
    ``--space-every`` spans every round that fits one (the last round fits none unless something but the query reads
    the space)."""
    fitting = config.n_rounds - (0 if simulation._space_read_without_a_query else 1)
    if len(range(0, fitting, config.space_every)) == 1:
        last = "" if fitting == config.n_rounds else ": the last queries nothing"
        spans = f"--space-every {config.space_every} spans " if config.space_every > 1 else ""
        return f"fitted once, on round 1's labeled texts ({spans}the run's {counted(config.n_rounds, 'round')}{last})"
    return "re-fit every round" if config.space_every == 1 else f"re-fit every {config.space_every} rounds"


def _start_and_run(config: SimulationConfig, simulation: Any, records: Any, settings: dict[str, Any],
                   meta: dict[str, Any], corpus: Any, quiet: bool) -> list[dict[str, Any]]:
    """:func:`run` once built and holding the directory's lock: start or resume, and run."""
    out = config.run_dir
    existing = records.start(settings, meta, stored_settings=stored_settings,
                             continued=config.continued_rounds)
    keep_space_precision(simulation.space, existing)
    if not quiet:
        state, again = f"resuming after round {len(existing)}" if existing else "starting", ""
        if (raised := records.raised.get("budget")) is not None:
            sizes = [str(n) for n in records.dropped_labeled]  # by size: the console counts rounds from 1, records 0
            at = " and ".join([", ".join(sizes[:-1]), sizes[-1]] if len(sizes) > 1 else sizes)
            again = "" if not sizes else (f"; its stored round{'s' if len(sizes) > 1 else ''} at {at} labeled texts "
                                          f"{'are' if len(sizes) > 1 else 'is'} computed again")
            was = records.raised_on_stored.get("budget", raised)[0]  # the stored run's, whatever rounds it keeps
            state = f"extending to budget {raised[1]} (was {was}): {state}"
        readers = " and the ".join([", the ".join(simulation.space_readers[:-1]), simulation.space_readers[-1]]
                                   if len(simulation.space_readers) > 1 else simulation.space_readers)
        alone = " alone" if len(simulation.space_readers) == 1 else ""
        space = "" if config.space.name == "pretrained" else \
            f" in the {config.space.label(console_spelling)} space ({config.space_scope} scope, " \
            f"{space_fits(config, simulation)}, " \
            f"read by the {readers}{alone})"
        from al.datasets import USER_FILE_DATASETS
        from al.datasets.reduction import SHOWN_LABELS

        picked = ""  # a user's file whose labels the frequent / rare pick cut: said, as --describe says which
        if config.dataset in USER_FILE_DATASETS and config.labels is None:  # found, not named: which they are
            names = f": {', '.join(corpus.label_names[:SHOWN_LABELS])}{and_more(corpus.n_labels, SHOWN_LABELS)}"
            picked = names
            if corpus.left_out_labels:
                picked = (f" of the file's {corpus.n_labels + len(corpus.left_out_labels)} (the {config.n_frequent} "
                          f"most and {config.n_rare} least frequent eligible ones; --describe says why the others are "
                          f"left out){names}")
        print(f"{state}: {config.shown('strategy')}{space} on {corpus.name} ({len(corpus.splits['train'])} pool "
              f"texts, {corpus.n_labels} label{'' if corpus.n_labels == 1 else 's'}{picked}), "
              f"{config.shown('classifier')} classifier -> {out}{again}",
              file=sys.stderr, flush=True)
    if len(existing) >= config.n_rounds:
        if not quiet:
            print(f"{out} is complete ({len(existing)} rounds); nothing to do{not_recorded(existing, config)}",
                  file=sys.stderr)
        return existing
    return simulation.run()


def strategy_list() -> str:
    """``--list-strategies``: each strategy with its params at their defaults (``--strategy-param KEY=VALUE``).

    A strategy that cannot be loaded is listed with why; a family (``smalltext:*``) with how to name a member.
    """
    import json

    from al.config import _parameters, default_params, required_params
    from al.registry import available, family_names, get_strategy

    def described(name: str) -> str:
        """``name``'s params at their defaults, or why it cannot be loaded."""
        try:
            cls = get_strategy(name)
            params = default_params(cls)
        except ALError as exc:
            return not_loaded(exc)
        required = [k for k in required_params(cls) if k not in params]
        flags = {k for k, p in (_parameters(cls) or {}).items() if p.annotation in (bool, "bool")}
        params = {k: bool(v) if k in flags and v in (0, 1) else v for k, v in params.items()}  # modAL's `bool = 1`
        return " ".join([*(f"{k}=<required>" for k in required), *(f"{k}={json.dumps(v)}" for k, v in params.items())])

    lines = []
    for name in available():
        if not name.endswith(":*"):
            lines.append(f"{name:<18} {described(name)}".rstrip())
            continue
        try:
            names = family_names(name[:-2])
        except ALError as exc:
            lines.append(f"{name:<18} {not_loaded(exc)}")
            continue
        served = ", each below with its params" if names else " (see the family's documentation)"
        lines.append(f"{name:<18} a family: {name[:-1]}NAME names one of its strategies{served}")
        members = [name[:-1] + member for member in names or ()]
        width = max(map(len, members), default=0)
        lines += [f"  {member:<{width}}  {described(member)}".rstrip() for member in members]
    return "\n".join(lines)


def not_loaded(exc: ALError) -> str:
    """``cannot be loaded: module ...``: why a listed strategy or family cannot be loaded, without the
    ``strategy 'x' could not be loaded:`` its error opens with (the name starts the line already)."""
    return "cannot be loaded: " + re.sub(r"^strategy (?:family )?'[^']*' could not be loaded: ", "", str(exc))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with quiet_while("quiet" in args):  # then as it was: a main called in-process (a notebook, a test) leaves no trace
        return _main(args)


def _main(args: argparse.Namespace) -> int:
    """:func:`main` once its arguments are parsed."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    quiet = "quiet" in args
    try:
        if "list_strategies" in args:
            refuse_unread("--list-strategies", "prints the known strategies and reads no other option",
                          [key for key in vars(args) if key not in ("list_strategies", "quiet")])
            from al.progress import heartbeat

            with heartbeat("listing the strategies (small-text's and modAL's take seconds to import)", 2.0, 5.0):
                listed = strategy_list()
            print(listed)
            return 0
        if "describe" in args:  # before the settings are read together: their advice would name what it ignores
            refuse_unread("--describe", "prints the corpus and reads only the data settings",
                          [key for key in given_settings(args)[0] if key not in _DESCRIBED_SETTINGS])
        notes: list[str] = []
        config = config_from_args(args, notes)
        for note in notes:
            print(f"warning: {note}", file=sys.stderr)
        if "describe" in args:
            from al.datasets import USER_FILE_DATASETS, load_dataset
            from al.datasets.reduction import reduction_summary
            from al.datasets.tabular import read_rows

            config.validate()
            full = load_dataset(config.dataset, config.data_path, seed=DATA_SEED, **dict(config.data_options))
            try:
                read = default_pick_read(config, args, describe=True)
                corpus = load_config_corpus(read)
            except LabelPickError:  # every label's counts, to pick labels by, then why
                if config.labels is None or set(config.labels) <= set(full.label_names):  # not for a misspelt name:
                    print(f"{full.describe()}\n(every label of the corpus, before the label reduction, which "
                          f"failed:)")  # its error names the labels there are
                raise
            print(corpus.describe())
            picked = None if read.labels is not None else (read.n_frequent, read.n_rare)
            print(reduction_summary(full, corpus, picked)
                  + (f"; --pool-size keeps {config.pool_size:,} pool texts" if config.pool_size else ""))
            table = read_rows(config.data_path) if config.dataset in USER_FILE_DATASETS else None  # read once
            if (found := zero_one_columns_found(config, table)) is not None:
                print(found)
            if (splits := splits_read(config, table)) is not None:
                print(splits)
            if (separated := separator_read(config)) is not None:
                print(separated)
            if duplicated := corpus.n_duplicated_texts():
                print(f"repeated: {counted(duplicated, 'text')} {'repeats' if duplicated == 1 else 'repeat'} an "
                      f"earlier text (kept: duplicates are data)")
            return 0
        if config.threads is not None:  # this process is the run's own: the limit outlives the run
            from al.device import limit_threads

            config.validate()  # a bad value gets its one line before it reaches torch
            limit_threads(config.threads)
        with sigterm_stops():  # a kill's SIGTERM (a scheduler's, timeout's) stops it as Ctrl-C does, work kept
            config = default_pick_read(config, args)
            rounds = run_as_command(config, quiet=quiet)
    except ALError as exc:
        message = flags_named(str(exc), args)
        if "config" in args:  # a setting the file gives, named as the file writes it
            message = in_file_terms(message, only=file_set_options(args))
            message += beside_the_file(message, args)
        print(f"error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (Terminated)
        return stopped(stop, "run the same command again" if "describe" in args
                       else resume_advice(locals().get("config")))
    print(curve_table(rounds))
    from al.stopping import has_signals, stop_rounds, stop_table

    if has_signals(rounds):
        print("\nwhere each stopping criterion would have stopped (al.stopping; given up: the final macro-F1 minus "
              "the stop's, negative where stopping there scores higher; labels saved: the texts labeled after the "
              "stop):")
        print(stop_table(stop_rounds(rounds, max_labeled=config.budget)))
    elif any("stopping" in record for record in rounds):  # resumed across --no-stopping: a gap in the windows
        missing = [str(record.get("n_labeled", "?")) for record in rounds if "stopping" not in record]
        print(f"note: no stopping table: the rounds at {', '.join(missing[:8])}{and_more(len(missing), 8)} labeled "
              f"texts ran with --no-stopping, and the criteria read windows of successive rounds (kappa compares each "
              f"round's predictions with the last's); a run without --no-stopping from the start records them all",
              file=sys.stderr)
    print(f"records: {config.run_dir / 'rounds.jsonl'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    from al.cli import exit_with

    exit_with(main)
