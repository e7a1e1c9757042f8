"""Simulation settings: CLI flags or a YAML file -> one frozen dataclass, validated early.

Defaults live here and nowhere else. A setting file or a command line names
only what differs from them; :func:`merge_settings` lays the flags actually
given over the file's mapping, so a flag equal to its default still wins.

Each pluggable part is a :class:`Component` (``{name, params}``): the
strategy and the classifier. Their params are bound to the constructor's
signature in :meth:`SimulationConfig.validate`, before data or models load.

The flat form of earlier versions (``strategy_params``, ``threshold``,
``epochs``, ``batch_size``, ``learning_rate``, ``max_length``,
``warm_start``, ``classifier_model``) is still read: :func:`normalise_mapping`
maps it onto the nested form and returns one deprecation line saying how to
write it now.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import numbers
import os
import re
import sys
import unicodedata
import warnings
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import AbstractSet as Set, Any, Callable, Iterable, Mapping, Sequence

from al.errors import (ALError, ClassifierNeededError, ConfigError, DataError, SpaceReadersError, closest, did_you_mean,
                       exception_text, is_al, spelled)

PRETRAINED = "pretrained"
#: Settings read only with a fitted space (its scope, period and target); null in a pretrained run's record.
FITTED_SPACE_SETTINGS = ("space_scope", "space_every", "space_for")
#: Settings that take a whole number.
INTEGER_SETTINGS = ("n_frequent", "n_rare", "pool_size", "space_every", "initial", "step", "budget", "seed", "threads")
INITIAL_STRATEGIES = ("random", "label_names", "kmeans")
#: Constructor arguments the engine sets itself: a seed per round, the run's device.
INJECTED_PARAMS = frozenset({"seed", "device"})
#: Constructor arguments that only change what is displayed, never results.
DISPLAY_PARAMS = frozenset({"show_progress"})
#: Settings that name a file: the same file is the same setting, however the path is spelt.
PATH_FIELDS = ("data_path", "label_descriptions")
#: Settings that are a :class:`Component` ``{name, params}``.
COMPONENTS = ("strategy", "classifier", "space")
SPACE_READERS = ("all", "strategy", "classifier")  # who reads a fitted space (``space_for``)
#: Seeds run from 0 to below this: numpy's legacy generators and scikit-learn take 32-bit seeds.
MAX_SEED = 2**32
#: Settings that are a word (a name, a choice), with an example of each for messages.
TEXT_SETTINGS: Mapping[str, str] = {
    "dataset": "disaster", "model": "all-MiniLM-L6-v2", "embed_precision": "fp32", "space_scope": "head",
    "space_for": "all", "initial_strategy": "random", "device": "auto",
}
#: Settings that name a file or directory, or are null, with an example of each for messages.
OPTIONAL_PATH_SETTINGS: Mapping[str, str] = {
    "data_path": "data/texts.csv", "label_descriptions": "labels.yaml", "out": "runs/my-run",
}
#: Settings that do not change a run's results: they may differ when a run is resumed.
NON_RESULT_SETTINGS = frozenset({"out", "device", "threads", "diagnostics", "stopping"})
#: Flat classifier settings of earlier versions -> the classifier parameter they were.
LEGACY_CLASSIFIER_KEYS: Mapping[str, str] = {
    "threshold": "threshold",
    "classifier_model": "model",
    "max_length": "max_length",
    "epochs": "max_epochs",
    "batch_size": "batch_size",
    "learning_rate": "learning_rate",
    "warm_start": "warm_start",
}
#: Their defaults in earlier versions: a stored flat config that holds these set nothing.
_LEGACY_DEFAULTS: Mapping[str, Any] = {
    "threshold": "fixed", "classifier_model": None, "max_length": 128, "epochs": 15, "batch_size": 16,
    "learning_rate": None, "warm_start": False,
}


def _plain(value: Any) -> Any:
    """``value`` with its numpy scalars as Python's own (``np.int64(5)`` -> 5, ``np.float32(0.5)`` -> 0.5): a
    param is recorded in JSON and checked as Python's numbers are, as the settings' own integers are."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, Mapping):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Component:
    """A pluggable part of a simulation: a registered name and its constructor's keyword params."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.params, Mapping):  # np.int64(5) from a sweep: Python's 5, in JSON and in checks
            object.__setattr__(self, "params", _plain(self.params))

    @classmethod
    def coerce(cls, value: Any, what: str) -> "Component":
        """``"name"``, ``{name, params}`` or a Component -> a Component; for a strategy, its class too, as the name
        or the mapping's ``name`` (kept as the name ``--strategy`` knows it by, :func:`al.registry.spec_of`).

        Raises
        ------
        ConfigError
            For any other shape, showing the expected one.
        """
        if isinstance(value, Component):
            return value
        strategy = what.endswith("strategy")
        if strategy and isinstance(value, Mapping) and isinstance(value.get("name"), type):
            value = {**value, "name": _spec_of(value["name"])}
        if isinstance(value, str) and value:
            return cls(value, {})
        if isinstance(value, type) and strategy:  # a class itself (Python): by the name it has
            return cls(_spec_of(value), {})
        if isinstance(value, Mapping):
            unknown = sorted(set(value) - {"name", "params"})
            if unknown or not isinstance(value.get("name"), str) or not value.get("name"):
                raise ConfigError(
                    f"{what} must be a name or a mapping {{name: ..., params: {{...}}}}, got {spelled(dict(value))}"
                    + ("" if unknown or value.get("name") else ": it names no component (name: ...)")
                    + (f": unknown key(s) {', '.join(map(repr, unknown))}"
                       f"{did_you_mean(map(str, unknown), ('name', 'params'))}" if unknown else "")
                )
            params = value.get("params") or {}
            if not isinstance(params, Mapping):
                raise ConfigError(f"{what}.params must be a mapping of keyword arguments, got {spelled(params)}")
            for key, param in params.items():
                if (glued := glued_key(param)) is not None:
                    raise ConfigError(f"{what}.params {key}: YAML reads {glued!r} as one key with no value; a colon "
                                      f"in a mapping needs a space after it: {{0: 1}}, not {{0:1}}")
            return cls(value["name"], dict(params))
        field = what.rsplit(": ", 1)[-1]
        several = (f"; a simulation runs one {field}: to compare several, list them in a grid file's axis (grid: "
                   f"{{{field}: [{', '.join(map(str, value))}]}}) and run python -m al.grid"
                   if isinstance(value, (list, tuple)) and len(value) > 1 else "")
        if strategy and not isinstance(value, (str, list, tuple, Mapping)) and hasattr(value, "query"):
            cls_name = type(value).__name__  # an instance: each run builds its own, seeded, from the class
            several = (f"; pass the class and its params, {{'name': {cls_name}, 'params': {{...}}}}: each run builds "
                       f"its own instance, given the run's seed")
        raise ConfigError(f"{what} must be a name{', a Strategy class' if strategy else ''} or a mapping "
                          f"{{name: ..., params: {{...}}}}, got {spelled(value)}{several}")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "params": dict(self.params)}

    def label(self, spell: Callable[[Any], str] = str) -> str:
        """``name`` or ``name(key=value, ...)``: how reports and run directories name it; ``spell`` writes each
        value (the console's :func:`console_spelling`: ``warm_start=true``)."""
        if not self.params:
            return self.name
        return f"{self.name}({', '.join(f'{k}={spell(v)}' for k, v in sorted(self.params.items()))})"


#: How a user's file has named its run's default folder, now first (:meth:`SimulationConfig.default_run_dir`'s
#: ``named_after_file``): its stem in every script's letters, in ASCII letters alone, not at all.
FOLDER_NAMINGS: tuple[bool | str, ...] = (True, "ascii", False)

#: The most bytes (UTF-8) of a file's stem in a run folder's name; a longer one is cut, with a digest of it whole.
MAX_STEM_BYTES = 100


def letters_kept(text: str, also: str = "") -> str:
    """``text`` NFC-normalised (a name macOS decomposed is the same), each character that is no letter, mark or
    digit of any script (and not in ``also``) a space: the part of a name a file or folder name keeps."""
    return "".join(c if c in also or unicodedata.category(c)[0] in "LMN" else " "
                   for c in unicodedata.normalize("NFC", text))


def file_stem_part(stem: str, ascii_only: bool = False) -> str:
    """A data file's stem as a run folder names it: its letters, marks and digits (any script's, NFC-normalised, so
    a name macOS decomposed is the same), ``_``, ``.`` and ``-``; each run of other characters one ``_``; cut to
    :data:`MAX_STEM_BYTES` with 8 hex digits of the whole stem after it. ``ascii_only``: as earlier versions named
    it, ASCII letters and digits alone, from the stem as given (``données`` -> ``donn_es``, uncut)."""
    if ascii_only:
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("._-")
    stem = unicodedata.normalize("NFC", stem)
    part = re.sub(r" +", "_", letters_kept(stem, also="_.-")).strip("._-")
    if len(part.encode()) > MAX_STEM_BYTES:  # a file system takes 255 bytes a name: the rest of it needs room
        cut = part.encode()[:MAX_STEM_BYTES].decode(errors="ignore").rstrip("._-")
        part = f"{cut}-{hashlib.sha1(stem.encode()).hexdigest()[:8]}"
    return part


def glued_key(value: Any) -> str | None:
    """The first key of a mapping in ``value`` that YAML made of ``0:1`` (a key holding a colon, with no value):
    ``{0:1}`` is ``{"0:1": None}``, not ``{0: 1}``; None where there is none."""
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and ":" in k and v is None:
                return k
            if (inner := glued_key(v)) is not None:
                return inner
    elif isinstance(value, list):
        for v in value:
            if (inner := glued_key(v)) is not None:
                return inner
    return None


def console_spelling(value: Any) -> str:
    """A param's value on the console, as a command line or YAML file gives it: ``true``, ``false``, ``null``;
    any other value as ``str`` gives it (``dev``, ``0.3``)."""
    return spelled(value) if value is None or isinstance(value, bool) else str(value)


#: The longest params part of a run directory's name; a longer one is a digest of the params.
MAX_PARAMS_IN_NAME = 60


def not_default_params(component: Component, component_class: Callable[[], type],
                       classifier: bool = False) -> dict[str, Any]:
    """The params of ``component`` that differ from its constructor's defaults (a run's ``config.json`` gives them
    all), ``show_progress`` and the like aside, which change no result; a classifier's threshold ``"fixed"`` is 0.5
    (:func:`canonical`). All of them where the class cannot be found (refused where it is run)."""
    if not component.params:
        return {}
    try:
        defaults = default_params(component_class())
    except ALError:
        defaults = {}

    def same(key: str, value: Any) -> Any:  # one spelling of what it does
        return 0.5 if classifier and key == "threshold" and value == "fixed" else _json_ready(value)

    return {key: value for key, value in component.params.items() if key not in DISPLAY_PARAMS
            and (key not in defaults or same(key, value) != same(key, defaults[key]))}


def _folder_part(component: Component, component_class: Callable[[], type], with_params: bool = True,
                 classifier: bool = False) -> str:
    """A component's part of a default run directory's name: its name, then the params given that differ from its
    constructor's defaults (a run's ``config.json`` gives them all; ``show_progress`` and the like aside, which
    change no result), ``_k=v`` each (sorted; characters other than
    letters, digits and ``_.=,-`` as ``_``), or ``_params-<digest>`` where they would be longer than
    :data:`MAX_PARAMS_IN_NAME`."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", component.name)
    given = {key: int(value) if isinstance(value, float) and value.is_integer() else value  # 1.0 spelt as 1
             for key, value in (not_default_params(component, component_class, classifier) if with_params
                                else {}).items()}
    if not given:
        return name
    spelt = "_".join(f"{key}={json.dumps(value, sort_keys=True, default=str).strip(chr(34))}"
                     for key, value in sorted(given.items()))
    params = re.sub(r"[^A-Za-z0-9_.=,-]+", "_", spelt).strip("_")
    if len(params) > MAX_PARAMS_IN_NAME:
        digest = hashlib.sha256(json.dumps(given, sort_keys=True, default=str).encode()).hexdigest()
        params = f"params-{digest[:10]}"
    return f"{name}_{params}"


@dataclass(frozen=True)
class SimulationConfig:
    """Everything that determines a simulation's result (``out``, ``device``, ``threads``, ``diagnostics`` and
    ``stopping`` aside).

    Defaults are the fast setting: logistic regression on cached
    all-MiniLM-L6-v2 embeddings. The paper's setting is
    ``classifier={"name": "bert", "params": {"model": "bert-base-uncased"}}``,
    ``model="all-mpnet-base-v2"``.

    Parameters
    ----------
    strategy, classifier : Component, or a name, or a mapping ``{name, params}``
        The query strategy and the classifier trained every round; params are
        their constructors' keyword arguments (``seed`` and ``device`` are set
        by the run). A classifier that takes ``model`` and is given none
        fine-tunes ``model`` below. A strategy may be its class too, kept as the
        name ``--strategy`` knows it by (:func:`al.registry.spec_of`).
    dataset : str
        ``disaster`` (packaged), ``reuters``, or ``csv`` / ``jsonl`` for a file of
        one's own (:func:`al.datasets.load_corpus`).
    data_path : str or path, or None
        The data file (or Reuters' directory or ``.tar.gz``); None for ``disaster``.
    data_options : mapping
        How a file of one's own is read: ``text_column``, ``label_columns``,
        ``label_sep``, ``split_column`` (README, "Data").
    labels : list of str, or None
        Keep exactly these labels (one name given as a string is a one-label
        list); None keeps the ``n_frequent`` most and ``n_rare`` least frequent.
    n_frequent, n_rare : int
        How many of the most and least frequent eligible labels are kept
        (:func:`al.datasets.reduction.reduce_labels`); 5 + 5, as in the paper.
    pool_size : int or None
        A seeded sample of this many pool texts; None: the whole pool.
    model : str
        Sentence-embedding model (strategies' ``embeddings``, the logreg classifier).
    embed_precision : {"fp32", "bf16"}
        Arithmetic of the sentence embeddings: fp32, or bfloat16 autocast (about
        1.6-1.7x faster on a CPU with native bf16, other vectors with their own
        cache; :class:`al.embedders.SentenceEmbedder`). ALPS's surprisal pass,
        fitted spaces and fine-tuned classifiers keep their own settings.
    space : Component
        The embedding space strategies and embedding classifiers read:
        ``pretrained`` (the model as it is) or a task-specific one fitted on
        the labeled set (``cea``, ``snnl``, ``aan``, ``am``, ``clld``; see
        :mod:`al.spaces`); params are the scope's constructor arguments
        (:class:`al.spaces.head.HeadSpace`, :class:`al.spaces.encoder.EncoderSpace`).
    space_scope : {"head", "encoder"}
        A projection of the frozen embeddings, or the fine-tuned encoder.
    space_every : int
        Re-fit the space every this many rounds.
    space_for : {"all", "strategy", "classifier"}
        Who reads the fitted space: the strategy and an embedding classifier
        (``all``), the strategy alone (the classifier keeps the pretrained
        vectors, so only the picks change), or the classifier alone (the
        strategy keeps the pretrained vectors; CEA + kNN as in seed 000).
    initial_strategy : {"random", "label_names", "kmeans"}
        How the first ``initial`` texts are chosen (:mod:`al.initial`): at
        random (the paper), round-robin over labels nearest the embedded label
        names (or ``label_descriptions``, a YAML file label -> text), or the
        texts nearest the k-means centres of the pool. Every strategy of one
        seed gets the same start.
    seed : int
        From 0 to ``MAX_SEED - 1`` (32 bits, as numpy and scikit-learn take them).
    diagnostics : bool
        Record embedding-space diagnostics every round (:mod:`al.observers`).
    stopping : bool
        Record what the stopping criteria read every round (:mod:`al.stopping`:
        one pass of the classifier over the stop set; about 15 % of a
        fine-tuned run's time). Neither changes picks or scores.
    device : str
        ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
    threads : int or None
        ``python -m al.simulate`` runs its process on at most this many torch,
        BLAS and OpenMP threads (:func:`al.device.limit_threads`); None leaves
        the process's own. A grid refuses it: each worker gets its share of
        the cores. :func:`al.simulate.run` itself never changes the calling
        process's threads. Neither ``device`` nor
        ``threads`` is part of what a run computes, but both can change the
        last bits of a fine-tuning's (``bert``, encoder-scope spaces):
        ``threads`` set to a grid worker's share gives a lone run that
        worker's records (:func:`al.simulate.run` warns where it differs from
        the process's).
    initial, step, budget : int
        The first labeled set's size, the texts each round adds, and the
        labeled texts at which the run ends (100, 50, 600: 11 rounds).
    label_descriptions : str or None
        A YAML file label -> text for ``initial_strategy="label_names"``.
    out : str or None
        The run directory; None: ``runs/<dataset>-<strategy>-...-seed<seed>``
        under the current directory (:attr:`run_dir`).
    """

    strategy: Component = field(default_factory=lambda: Component("class_embedding"))
    dataset: str = "disaster"
    data_path: str | None = None
    labels: tuple[str, ...] | None = None
    n_frequent: int = 5
    n_rare: int = 5
    data_options: Mapping[str, Any] = field(default_factory=dict)
    pool_size: int | None = None
    model: str = "all-MiniLM-L6-v2"
    embed_precision: str = "fp32"
    classifier: Component = field(default_factory=lambda: Component("logreg"))
    space: Component = field(default_factory=lambda: Component("pretrained"))
    space_scope: str = "head"
    space_every: int = 1
    space_for: str = "all"
    initial: int = 100
    initial_strategy: str = "random"
    label_descriptions: str | None = None
    step: int = 50
    budget: int = 600
    seed: int = 0
    diagnostics: bool = False
    stopping: bool = True
    device: str = "auto"
    threads: int | None = None
    out: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "strategy", Component.coerce(self.strategy, "strategy"))
        object.__setattr__(self, "classifier", Component.coerce(self.classifier, "classifier"))
        object.__setattr__(self, "space", Component.coerce(self.space, "space"))
        for name in (*OPTIONAL_PATH_SETTINGS, "model"):  # a model may be a local directory
            if isinstance(getattr(self, name), os.PathLike):
                object.__setattr__(self, name, os.fspath(getattr(self, name)))
        for name in INTEGER_SETTINGS:  # numpy's integers (a sweep over np.arange) are integers
            value = getattr(self, name)
            if isinstance(value, numbers.Integral) and not isinstance(value, (bool, int)):
                object.__setattr__(self, name, int(value))
        if self.space.name == PRETRAINED:  # a run's config.json records them as null there: read by nothing
            for name in FITTED_SPACE_SETTINGS:
                if getattr(self, name) is None:
                    object.__setattr__(self, name, SimulationConfig.__dataclass_fields__[name].default)
        labels = self.labels
        if isinstance(labels, str):  # one label, as ``--labels food`` gives it
            object.__setattr__(self, "labels", (labels,))
        elif labels is not None and not isinstance(labels, Mapping) and _iterable(labels):
            if isinstance(labels, (set, frozenset)):  # a set's order is its hashes', another in each process
                labels = sorted(labels, key=str)
            object.__setattr__(self, "labels", tuple(_plain(label) for label in labels))  # np.str_ -> str
        # anything else stays as given: validate() refuses it in one line

    @property
    def n_rounds(self) -> int:
        """Training rounds: one per evaluation at initial, initial + step, ..., budget."""
        return n_rounds(self.initial, self.step, self.budget)

    def continued_rounds(self, rounds: Sequence[Mapping[str, Any]]) -> int:
        """How many of a run directory's finished ``rounds`` this run continues from (:func:`rounds_continued`:
        all, unless its budget was raised)."""
        return rounds_continued(self.initial, self.step, self.budget, rounds)

    @property
    def run_dir(self) -> Path:
        """``out``, or ``runs/<dataset>-<strategy>[-<space>-<scope>[-for-<space_for>]]-<classifier>-seed<seed>``
        (the space's part only for a fitted space, its ``-for-`` part only where it serves less than all; a user's
        file gives ``<dataset>`` as ``csv-<file stem>`` or ``jsonl-<file stem>``, so two files do not share one; a
        strategy or classifier given params other than its defaults is named with them, ``cvirs_threshold=0.3``, so
        two variants do not share one)."""
        return Path(self.out).expanduser() if self.out else self.default_run_dir()

    def default_run_dir(self, named_after_file: bool | str = True, with_params: bool = True) -> Path:
        """:attr:`run_dir` without ``out``; as earlier versions named it: ``named_after_file`` False, a run on a
        user's file ``runs/csv-<strategy>-...`` for every file; ``"ascii"``, named after the file's stem in ASCII
        letters alone (``données é.csv`` and ``données è.csv`` both ``csv-donn_es``, every ``日本語.csv`` and
        ``数据.csv`` ``csv-data``); ``with_params`` False, the components by name alone."""
        from al.datasets import USER_FILE_DATASETS

        strategy = _folder_part(self.strategy, self.strategy_class, with_params)
        space = "" if self.space.name == PRETRAINED else f"-{self.space.name}-{self.space_scope}"
        if space and self.space_for != "all":
            space += f"-for-{self.space_for}"
        dataset = self.dataset
        if named_after_file and dataset in USER_FILE_DATASETS and self.data_path:
            dataset += f"-{file_stem_part(Path(self.data_path).stem, ascii_only=named_after_file == 'ascii') or 'data'}"
        classifier = _folder_part(self.classifier, self.classifier_class, with_params, classifier=True)
        return Path("runs") / f"{dataset}-{strategy}{space}-{classifier}-seed{self.seed}"

    def shown(self, which: str) -> str:
        """How the console names component ``which`` (``strategy``, ``classifier``): its label with the params
        that differ from its defaults (:func:`not_default_params`), so a run read from a ``config.json``, which
        gives every param, is named as the command that made it was."""
        component = getattr(self, which)
        params = not_default_params(component, getattr(self, f"{which}_class"), classifier=which == "classifier")
        return Component(component.name, params).label(console_spelling)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: components as ``{name, params}`` with the params as given."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["strategy"] = self.strategy.to_dict()
        out["classifier"] = self.classifier.to_dict()
        out["space"] = self.space.to_dict()
        out["labels"] = list(self.labels) if self.labels is not None else None
        out["data_options"] = dict(self.data_options)
        return out

    # ------------------------------------------------------------ components

    def strategy_class(self) -> type:
        from al.registry import get_strategy

        return get_strategy(self.strategy.name)

    def classifier_class(self) -> type:
        from al.classifiers import classifier_class

        return classifier_class(self.classifier.name)

    def classifier_kwargs(self) -> dict[str, Any]:
        """Constructor arguments of the classifier, the per-round ``seed`` aside.

        The run's ``device`` is passed to a classifier that takes one, and
        ``model`` (the sentence-embedding model) to one that takes a model and
        was given none.
        """
        accepted = _parameters(self.classifier_class())
        kwargs = dict(self.classifier.params)
        if "device" in accepted:
            kwargs["device"] = self.device
        if "model" in accepted and "model" not in kwargs:
            kwargs["model"] = self.model
        return kwargs

    def strategy_kwargs(self) -> dict[str, Any]:
        """Constructor arguments of the strategy: its params, and the run's settings of its ``run_params``
        that its constructor names; without ``run_params``, ``seed`` (the run's ``--seed``) and ``device``.
        ALPS, which runs its own encoder, names ``device`` and ``embed_precision`` (its ``seed`` is a fixed
        default)."""
        cls = self.strategy_class()
        accepted = _parameters(cls)  # None: a **kwargs constructor
        kwargs = dict(self.strategy.params)
        declared = getattr(cls, "run_params", {}) or {}
        run_set = declared or {k: k for k in sorted(INJECTED_PARAMS)}
        for param, setting in run_set.items():
            # what a class declares in run_params it gets, **kwargs or not; seed and device only when named
            if (param in accepted) if accepted is not None else bool(declared):
                kwargs[param] = getattr(self, setting)
        return kwargs

    def make_strategy(self) -> Any:
        """A new strategy instance from ``strategy``."""
        return construct(self.strategy_class(), self.strategy_kwargs(), f"strategy {self.strategy.name!r}")

    def space_class(self) -> type | None:
        """The class that fits the space (by ``space_scope``), or None for the pretrained space."""
        from al.spaces import space_class

        return None if self.space.name == PRETRAINED else space_class(self.space_scope)

    def space_kwargs(self) -> dict[str, Any]:
        """Constructor arguments of the space: its objective, its params, the run's model and device, and
        the settings it names in ``run_params`` (encoder scope re-embeds in the run's ``embed_precision``)."""
        cls = self.space_class()
        accepted = _parameters(cls) or {}
        kwargs = {"objective": self.space.name, **self.space.params}
        if "device" in accepted:
            kwargs["device"] = self.device
        for param, setting in getattr(cls, "run_params", {}).items():
            kwargs[param] = getattr(self, setting)
        if "model" in accepted and "model" not in kwargs:
            kwargs["model"] = self.model
        return kwargs

    def make_space(self) -> Any:
        """A new space (:mod:`al.spaces`), or None for the pretrained one."""
        cls = self.space_class()
        if cls is None:
            return None
        return construct(cls, self.space_kwargs(), f"space {self.space.name!r} ({self.space_scope} scope)", "check")

    def make_classifier_factory(self) -> Callable[[int], Any]:
        """``seed -> classifier``: a new, unfitted classifier per call."""
        cls, kwargs = self.classifier_class(), self.classifier_kwargs()
        where = f"classifier {self.classifier.name!r}"
        return lambda seed: construct(cls, {**kwargs, "seed": seed}, where, "_check_params")  # values: before data

    def resolved(self) -> dict[str, Any]:
        """Every setting with the components' params completed by their constructors' defaults.

        Two configs with equal ``resolved()`` (the keys of
        :data:`NON_RESULT_SETTINGS` aside) give the same run.
        """
        out = self.to_dict()
        out["strategy"]["params"] = _resolved_params(self.strategy_class(), self.strategy.params)
        kwargs = {k: v for k, v in self.classifier_kwargs().items() if k != "device"}
        out["classifier"]["params"] = _resolved_params(self.classifier_class(), kwargs)
        if self.space.name == PRETRAINED:  # scope and period mean nothing without a fit
            out["space_scope"] = out["space_every"] = out["space_for"] = None
        else:
            run_set = _run_set(self.space_class())  # the run's settings (device, precision) are recorded as such
            space_kwargs = {k: v for k, v in self.space_kwargs().items() if k not in run_set and k != "objective"}
            from al.spaces.training import recorded_params

            resolved = _resolved_params(self.space_class(), space_kwargs)
            out["space"]["params"] = recorded_params(self.space.name,
                                                     {k: v for k, v in resolved.items() if k != "objective"})
        return out

    # ------------------------------------------------------------ validation

    def validate(self) -> "SimulationConfig":
        """Check every setting that can be checked without loading data or models.

        Builds the strategy and one classifier (constructors only store their
        params), so a misspelled parameter fails here with the accepted names.

        Raises
        ------
        ConfigError
            On the first bad setting (:meth:`problems` gives them all), saying
            what was expected and what came; called from one's own code, in
            its keywords (``budget=600``, ``got None``), as :func:`al.simulate.run`
            says them.
        """
        caller = sys._getframe(1)
        if not is_al(caller.f_code.co_filename):  # a user's call: their words, not the command line's
            from al.simulate import in_python_terms

            with in_python_terms(caller.f_code.co_filename, caller.f_lineno):
                return self._validated()
        return self._validated()

    def _validated(self) -> "SimulationConfig":
        """:meth:`validate`, in the command line's words."""
        problems = self._problems()
        if problems:
            raise problems[0]
        return self

    def problems(self) -> list[ALError]:
        """Every bad setting :meth:`validate` refuses, in its order (called from one's own code, in its keywords, as
        :meth:`validate` says them: ``budget=600``; from al's commands, in their flags); see :meth:`_problems`."""
        found = self._problems()
        caller = sys._getframe(1)
        if not is_al(caller.f_code.co_filename):  # a user's call: their words, not the command line's
            from al.simulate import in_file_terms

            for problem in found:
                problem.args = (in_file_terms(str(problem), python=True),)
        return found

    def _problems(self) -> list[ALError]:
        """Every bad setting :meth:`validate` refuses, in its order, in the command line's words: one per
        independent part (the data, the sizes, the seed, the strategy, the classifier ...), so a grid's dry run
        names all there is to fix in a cell, not the first alone. A part that reads another that failed is not
        checked (the strategy's query sizes after bad sizes; a constructor, which is given the run's device, after
        a bad device; after a bad seed it is given seed 0, its params' values being the seed's business in no
        built-in class). Errors that are no :class:`al.errors.ALError` (a bug in a plugin's constructor) are
        raised."""
        found: list[ALError] = []

        def part(check: Callable[[], Any], *needs: bool) -> bool:
            """Run ``check`` where every part it ``needs`` passed; whether it passed (False where not run)."""
            if not all(needs):
                return False
            try:
                check()
            except ALError as exc:  # a ConfigError; a DataError from the data file's split column
                found.append(exc)
                return False
            return True

        if not part(self._check_types):  # words, paths and label lists: the rest reads them
            return found
        dataset = part(self._check_dataset)
        options = part(self._check_data_options, dataset)
        each_size = [part(lambda name=name: self._check_size(name)) for name in ("initial", "step", "budget")]
        sizes = part(self._check_size_order, *each_size)  # a bad step and a bad budget: two problems
        initial = part(self._check_initial)
        seed = part(self._check_seed)
        labels = part(self._check_labels)
        switches = part(self._check_switches)
        pool_size = part(self._check_pool_size)
        compute = part(self._check_compute)
        data_file = part(self._check_data_file, dataset)
        data_file = part(self._check_split_column, dataset, options, data_file)  # the split column its file has
        basics = (dataset, options, sizes, initial, labels, switches, pool_size, data_file)
        strategy_ok = part(lambda: self._check_params(self.strategy, self.strategy_class(), "strategy"))
        classifier_ok = part(lambda: self._check_params(self.classifier, self.classifier_class(), "classifier"))
        space_ok = part(self._check_space, compute)  # builds the space, given the run's device
        built: dict[str, Any] = {}
        # the constructor is given the run's seed and device, and the settings the class's run_params name: after a
        # bad seed (said above) it is built with seed 0, so that its params' values are checked too
        made = self if seed else dataclasses.replace(self, seed=0)
        strategy_ok = part(lambda: built.update(strategy=made.make_strategy()), strategy_ok, compute,
                           *(basics if strategy_ok and self._reads_more_settings() else ()))
        part(lambda: built["strategy"].check_query_sizes(query_sizes(self.initial, self.step, self.budget), self.step),
             strategy_ok, sizes)
        classifier_ok = part(lambda: built.update(classifier=made.make_classifier_factory()(made.seed)), classifier_ok,
                             compute)
        readers_ok = part(lambda: self._check_classifier_methods(built["strategy"], built["classifier"]),
                          strategy_ok, classifier_ok)
        if self.space.name != PRETRAINED:  # what a grid's --dry-run and each cell check, before data loads
            part(lambda: check_space_readers(self.space_for, repr(built["strategy"].name or
                                                                  type(built["strategy"]).__name__),
                                             "embeddings" in built["strategy"].requires, built["classifier"].input,
                                             "representations" in built["strategy"].requires),
                 readers_ok, space_ok)
        return found

    def _reads_more_settings(self) -> bool:
        """Whether the strategy's ``run_params`` name a setting beyond the seed, device and precision (a user's
        strategy given the budget): its constructor then waits on every part of the settings."""
        declared = getattr(self.strategy_class(), "run_params", None) or {}
        return bool(set(declared.values()) - {"seed", "device", "embed_precision"})

    def _check_dataset(self) -> None:
        """The dataset's name."""
        from al.datasets import DATASETS, unknown_dataset

        if self.dataset not in DATASETS:
            raise ConfigError(unknown_dataset(self.dataset))

    def _check_data_options(self) -> None:
        """The data options a known dataset takes."""
        from al.datasets import check_data_options

        try:
            check_data_options(self.dataset, self.data_options)
        except DataError as exc:
            raise ConfigError(str(exc)) from None

    def _check_data_file(self) -> None:
        """The data path of a known dataset."""
        from al.datasets import check_data_path

        try:
            check_data_path(self.dataset, self.data_path)
        except DataError as exc:
            raise ConfigError(str(exc)) from None

    def _check_size(self, name: str) -> None:
        """``name`` (initial, step or budget): a positive integer."""
        def positive(value: Any) -> bool:
            return isinstance(value, int) and not isinstance(value, bool) and value > 0

        value = getattr(self, name)
        if not positive(value):
            default = next(f.default for f in fields(self) if f.name == name)
            if name == "initial" and positive(self.budget) and default >= self.budget:
                advice = (f"a number below --budget ({self.budget})" if self.budget > 1 else  # the default: refused
                          f"--initial {default} and a --budget above it")
            elif name == "budget" and positive(self.initial) and default <= self.initial:
                advice = f"a number above --initial ({self.initial})"
            else:
                advice = f"--{name} {default}, say, its default"
            raise ConfigError(f"{name} must be a positive integer (a number of texts), got {spelled(value)}; give "
                              f"{advice}")

    def _check_size_order(self) -> None:
        """The budget above the initial set (each a positive integer, :meth:`_check_size`)."""
        if self.budget <= self.initial:
            raise ConfigError(
                f"budget ({self.budget}) must be larger than the initial labeled set ({self.initial}): "
                f"the budget is the labeled-set size at the end; raise --budget or lower --initial"
            )

    def _check_initial(self) -> None:
        """How the first labeled set is chosen, and the label descriptions file its label_names start reads."""
        if self.initial_strategy not in INITIAL_STRATEGIES:
            raise ConfigError(f"initial_strategy must be one of {', '.join(INITIAL_STRATEGIES)}, "
                              f"got {spelled(self.initial_strategy)}")
        if self.label_descriptions is not None:
            if self.initial_strategy != "label_names":
                raise ConfigError("label_descriptions is read by --initial-strategy label_names only; "
                                  f"got initial_strategy {self.initial_strategy!r}: add --initial-strategy "
                                  f"label_names, or remove --label-descriptions")
            descriptions = Path(self.label_descriptions).expanduser()
            if not descriptions.is_file():
                what = ("is a directory" if descriptions.is_dir() else "is not a regular file" if descriptions.exists()
                        else "does not exist" + ("" if descriptions.is_absolute() else
                                                 f" (a relative path is read from the current directory: looked for "
                                                 f"{Path.cwd() / descriptions})"))
                raise ConfigError(f"label descriptions file {self.label_descriptions} {what}; "
                                  f"give a YAML file mapping label -> text (--label-descriptions)")

    def _check_seed(self) -> None:
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed < MAX_SEED:
            raise ConfigError(f"seed must be an integer from 0 to {MAX_SEED - 1} (numpy and scikit-learn take "
                              f"32-bit seeds), got {spelled(self.seed)}")

    def _check_labels(self) -> None:
        """n_frequent and n_rare, and some label asked for."""
        for name in ("n_frequent", "n_rare"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{name} must be a non-negative integer, got {spelled(value)}; give 0 or more")
        if not self.labels and self.n_frequent + self.n_rare == 0:
            raise ConfigError("no labels asked for: give --labels, or --frequent/--rare above 0")
        twice = sorted({label for label in self.labels or () if list(self.labels).count(label) > 1})
        if twice:  # before any data loads (a grid's dry run, a Python caller's validate)
            raise ConfigError(f"--labels lists {', '.join(map(repr, twice))} more than once: {list(self.labels)}; "
                              f"name each label once")

    def _check_pool_size(self) -> None:
        if self.pool_size is not None and (not isinstance(self.pool_size, int) or isinstance(self.pool_size, bool)
                                           or self.pool_size <= 0):
            raise ConfigError(f"pool_size must be a positive integer, or left out (null) for the whole pool, got "
                              f"{spelled(self.pool_size)}")

    def _check_switches(self) -> None:
        """diagnostics and stopping."""
        for name in ("diagnostics", "stopping"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false, got {spelled(getattr(self, name))}; "
                                  f"{_WRITE['bool']}")

    def _check_compute(self) -> None:
        """embed_precision, threads and device."""
        from al.embedders import PRECISIONS

        if self.embed_precision not in PRECISIONS:
            raise ConfigError(f"embed_precision must be one of {', '.join(PRECISIONS)}, got "
                              f"{spelled(self.embed_precision)}")
        if self.threads is not None and (not isinstance(self.threads, int) or isinstance(self.threads, bool)
                                         or self.threads < 1):
            raise ConfigError(f"threads must be a positive integer (or left out: the process's own), got "
                              f"{spelled(self.threads)}; e.g. --threads 1")
        if not isinstance(self.device, str) or not (
            self.device in ("auto", "cpu") or re.fullmatch(r"cuda(:\d+)?", self.device)
        ):
            raise ConfigError(f"device must be auto, cpu, cuda or cuda:N, got {spelled(self.device)}")

    def _check_classifier_methods(self, strategy: Any, classifier: Any) -> None:
        """The classifier has the methods the strategy calls (``classifier_methods``)."""
        missing = [m for m in getattr(strategy, "classifier_methods", ()) if not callable(getattr(classifier, m, None))]
        if missing:
            from al.classifiers import CLASSIFIERS, classifier_class

            classes = {name: classifier_class(name) for name in CLASSIFIERS}
            able = [name for name, cls in classes.items() if all(callable(getattr(cls, m, None)) for m in missing)]
            # on no classifier of al's: a misspelt classifier_methods entry (or a classifier still to write)
            unknown = [m for m in missing if not any(callable(getattr(cls, m, None)) for cls in classes.values())]
            nowhere = ""
            if able:
                advice = f"use --classifier {' or '.join(able)}, or another strategy"
            else:
                methods = sorted({m for cls in classes.values() for m in dir(cls)
                                  if not m.startswith("_") and callable(getattr(cls, m))})
                meant = [f"{m} -> {guess}" for m in unknown if (guess := closest(m, methods)) is not None]
                nowhere = (f"no classifier of al's has {', '.join(unknown)}"
                           f"{' (did you mean ' + ', '.join(meant) + '?)' if meant else ''}")
                advice = f"{nowhere}: fix the strategy's classifier_methods, or use another strategy"
            needs = (f"strategy {self.strategy.name!r} needs a classifier with {', '.join(missing)}, which "
                     f"classifier {self.classifier.name!r} lacks")
            raise ClassifierNeededError(f"{needs}; {advice}", needs=needs, able=able, nowhere=nowhere)

    def _check_split_column(self) -> None:
        """A ``split_column`` given (``split`` too) must be a column of the data file: of a CSV file's header, or
        a key of some object of a JSON-lines file (read up to the first object that holds it)."""
        from al.datasets import TABLE_FORMATS

        column = self.data_options.get("split_column")
        path = Path(self.data_path).expanduser() if self.data_path else None
        if column is None or path is None or not path.is_file():
            return
        from al.datasets.tabular import absent_split_column, csv_header, jsonl_keys_without

        suffix = path.suffix.lower()
        if suffix in TABLE_FORMATS["csv"]:
            names = csv_header(path)
            names = names if names is not None and column not in names else None
        else:
            names = jsonl_keys_without(path, column) if suffix in TABLE_FORMATS["jsonl"] else None
        if names is not None:
            raise ConfigError(str(absent_split_column(self.data_path, column, names)))

    def _check_types(self) -> None:
        """The settings that are words, paths and label lists, each of its type, before any value is read."""
        for name, example in TEXT_SETTINGS.items():
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{name} must be a string such as {example}, got {spelled(value)} "
                                  f"({type(value).__name__}); give one word (quote it in YAML)")
        for name, example in OPTIONAL_PATH_SETTINGS.items():
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                if isinstance(value, str):  # '' from a flag or a file: no path at all
                    raise ConfigError(f"{name} must name a path such as {example}, got an empty one ({value!r}); "
                                      f"give a path, or leave it out for the default")
                if type(value).__name__ in ("DataFrame", "Series") and name == "data_path":  # pandas, from Python
                    raise ConfigError(f"data_path must be a path such as {example} (a string), got a pandas "
                                      f"{type(value).__name__}; write it to a file first, df.to_csv('texts.csv', "
                                      f"index=False), and give data_path='texts.csv' with dataset='csv'")
                shown = spelled(value)
                shown = shown if len(shown) <= 80 else f"{shown[:60]}..."  # an object's whole repr is no message
                raise ConfigError(f"{name} must be a path such as {example} (a string) or null, got {shown} "
                                  f"({type(value).__name__}); quote it in YAML if it reads as a number")
        labels = self.labels
        if labels is not None and (not isinstance(labels, tuple)
                                   or not all(isinstance(label, str) and label.strip() for label in labels)):
            shown = list(labels) if isinstance(labels, tuple) else labels
            raise ConfigError(f"labels must be a list of label names such as [food, water] (or one name), got "
                              f"{spelled(shown)}; quote a name that YAML reads as a number, true/false or null")

    def _check_space(self) -> None:
        from al.spaces import SCOPES, check_space_name

        check_space_name(self.space.name)
        if self.space_scope not in SCOPES:
            raise ConfigError(f"space_scope must be one of {', '.join(SCOPES)}, got {spelled(self.space_scope)}")
        every = self.space_every
        if not isinstance(every, int) or isinstance(every, bool) or every <= 0:
            raise ConfigError(f"space_every must be a positive integer, got {spelled(every)}; give 1 to fit the "
                              f"space every round, or N for every N rounds")
        if self.space_for not in SPACE_READERS:
            raise ConfigError(f"space_for must be one of {', '.join(SPACE_READERS)}, got {spelled(self.space_for)}")
        if self.space.name == PRETRAINED:
            if self.space.params:
                raise ConfigError(f"the pretrained space takes no params, got {dict(self.space.params)}; "
                                  f"choose a task-specific space (--space cea, snnl, aan, am, clld) or drop them")
            return
        if "objective" in self.space.params:
            raise ConfigError("the space's objective is its name (--space NAME), not a space parameter; remove it")
        from al.spaces import space_class
        from al.spaces.training import _ALL_OBJECTIVE_PARAMS, OBJECTIVE_PARAMS, check_objective_params

        other = next(scope for scope in ("head", "encoder") if scope != self.space_scope)
        others = _ALL_OBJECTIVE_PARAMS - set(OBJECTIVE_PARAMS.get(self.space.name, ()))  # another objective's
        self._check_params(self.space, self.space_class(), "space", unlisted=others,
                           elsewhere=(f"the {other} scope: --space-scope {other}", space_class(other)))
        check_objective_params(self.space.name, dict(self.space.params))
        self.make_space()

    @staticmethod
    def _check_params(component: Component, cls: type, what: str, unlisted: Set[str] = frozenset(),
                      elsewhere: tuple[str, type] | None = None) -> None:
        """Refuse params ``cls`` does not take, or that the run sets; ``unlisted``: params it takes that the
        message does not offer (another objective's); ``elsewhere``: (where, class) that takes other params (a
        space's other scope), named where it takes every unknown one."""
        accepted = _parameters(cls)
        if accepted is None:  # **kwargs: the constructor checks them itself; a name near one it names is misspelt
            named = set(_named_parameters(cls)) - set(_run_set(cls))
            for key in sorted(set(component.params) - named):
                if (meant := closest(key, sorted(named), cutoff=0.75)) is not None:
                    warnings.warn(f"{what} {component.name!r}: param {key!r} goes to its **{_var_keyword(cls)}, "
                                  f"not to its parameter {meant!r}: misspelt? (write {meant}=...)", stacklevel=2)
            return
        given = set(component.params)
        run_set = _run_set(cls)
        injected = sorted(given & set(run_set) & set(accepted))
        declared = getattr(cls, "run_params", None)  # a strategy that declares them gets those alone (ALPS)
        fixed = [k for k in injected if what == "strategy" and declared and k not in declared]
        if fixed:
            raise ConfigError(
                f"{what} {component.name!r}: {', '.join(fixed)} is fixed at its default "
                f"({', '.join(f'{k}={accepted[k].default!r}' for k in fixed)}), and the run's "
                f"{' and '.join('--' + k for k in fixed)} does not reach it (what it computes is cached once per "
                f"pool, for every run); remove it from the {what}'s params"
            )
        if injected:
            settings = ", ".join(f"{run_set[k]} (--{run_set[k].replace('_', '-')})" for k in injected)
            raise ConfigError(
                f"{what} {component.name!r}: {', '.join(injected)} is set by the run's {settings}, "
                f"not as a {what} parameter; remove it from the {what}'s params"
            )
        unknown = sorted(given - set(accepted))
        if unknown:
            offered = set(accepted) - set(run_set) - {"objective"} - set(unlisted)
            names = ", ".join(sorted(offered)) or "none"
            there = ""
            if elsewhere is not None and set(unknown) <= set(_parameters(elsewhere[1]) or {}) - set(unlisted):
                there = f" ({'it' if len(unknown) == 1 else 'they'} belong{'s' if len(unknown) == 1 else ''} to " \
                        f"{elsewhere[0]})"
            guess = "" if there else did_you_mean(unknown, offered)
            raise ConfigError(
                f"{what} {component.name!r} has no parameter {', '.join(map(repr, unknown))}{there}{guess}; "
                f"accepted: {names}"
            )


def n_rounds(initial: int, step: int, budget: int) -> int:
    """Rounds of a run: one per evaluation at ``initial``, ``initial + step``, ..., ``budget``.

    The last step shrinks to fit the budget, so ``n_rounds(100, 50, 620) == 12``
    (100, 150, ..., 600, 620). Every count of rounds (the config, the loop, the
    report's "complete run" check) uses this function.

    Parameters
    ----------
    initial : int
        Size of the random initial labeled set (the first evaluation).
    step : int
        Texts queried per round, positive.
    budget : int
        Labeled-set size at the end, larger than ``initial``.

    Raises
    ------
    ConfigError
        If ``step`` is not positive or ``budget`` is not larger than ``initial``.
    """
    if step <= 0 or budget <= initial:
        raise ConfigError(
            f"need step > 0 and budget > initial to count rounds, got initial={initial}, step={step}, "
            f"budget={budget}"
        )
    return 1 + -(-(budget - initial) // step)


def rounds_continued(initial: int, step: int, budget: int, rounds: Sequence[Mapping[str, Any]]) -> int:
    """How many of a run's finished ``rounds`` a run of ``budget`` continues from: those that picked what it picks.

    Round ``r`` picks ``min(step, budget - shown)`` texts, ``shown`` being the
    initial ones and every earlier pick. A run stored with a smaller budget
    shares its rounds up to the first one that picked fewer (its last round
    picks none, and a last step that shrank to fit the old budget picks fewer
    than ``step``): from there on the larger budget is computed anew, so that
    an extended run is the run a fresh one of ``budget`` would be. Rounds
    recorded with this budget are all kept.

    >>> rounds_continued(100, 50, 300, [{"picked": [0] * 50}, {"picked": [0] * 50}, {"picked": []}])
    2
    """
    shown = initial
    for index, record in enumerate(rounds):
        due = max(0, min(step, budget - shown))
        if len(record.get("picked") or ()) != due:
            return index
        shown += due
    return len(rounds)


def query_sizes(initial: int, step: int, budget: int) -> list[int]:
    """The distinct numbers of texts a run's queries ask for, largest first: ``step``, and a last step shrunk to fit
    the budget, e.g. ``query_sizes(100, 50, 620) == [50, 20]``."""
    return sorted({min(step, budget - labeled) for labeled in range(initial, budget, step)}, reverse=True)


def _iterable(value: Any) -> bool:
    try:
        iter(value)
    except TypeError:
        return False
    return True


def _spec_of(cls: type) -> str:
    """:func:`al.registry.spec_of` (imported when a class is given: the registry imports the strategies' base)."""
    from al.registry import spec_of

    return spec_of(cls)


def _parameters(cls: type) -> dict[str, inspect.Parameter] | None:
    """Keyword parameters of ``cls``'s constructor (a class that passes ``**kwargs`` on says its own with a
    ``wrapped_parameters`` classmethod: a peer library's strategy); None when it takes ``**kwargs`` otherwise."""
    if callable(getattr(cls, "wrapped_parameters", None)) or _var_keyword(cls) is None:
        return _named_parameters(cls)
    return None


def _named_parameters(cls: type) -> dict[str, inspect.Parameter]:
    """The parameters ``cls``'s constructor names (or its ``wrapped_parameters``), ``**kwargs`` or not."""
    wrapped = getattr(cls, "wrapped_parameters", None)
    if callable(wrapped):
        return dict(wrapped())
    params = dict(inspect.signature(cls.__init__).parameters)
    params.pop("self", None)
    return {k: p for k, p in params.items()
            if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)}


def _var_keyword(cls: type) -> str | None:
    """The name of the ``**kwargs`` ``cls``'s constructor takes, or None."""
    return next((p.name for p in inspect.signature(cls.__init__).parameters.values()
                 if p.kind is inspect.Parameter.VAR_KEYWORD), None)


def _run_set(cls: type) -> dict[str, str]:
    """Constructor parameters of ``cls`` the run sets from its own settings: parameter -> setting.

    ``seed`` and ``device`` for every component; a strategy or space adds its ``run_params``
    (ALPS and encoder scope: ``precision`` from ``embed_precision``). They are never component
    params, so stored runs keep the params they had.
    """
    return {**{k: k for k in INJECTED_PARAMS}, **getattr(cls, "run_params", {})}


def _resolved_params(cls: type, given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` completed with the constructor's defaults (JSON-ready; what the run sets left out)."""
    accepted = _parameters(cls) or {}
    run_set = _run_set(cls)
    out = {k: p.default for k, p in accepted.items()
           if k not in run_set and p.default is not inspect.Parameter.empty}
    out.update(given)
    out = {k: v for k, v in out.items() if k not in DISPLAY_PARAMS}
    return {k: _json_ready(v) for k, v in sorted(out.items())}


def required_params(cls: type) -> list[str]:
    """The params a component of ``cls`` must be given: its constructor's, without a default, the run's own aside."""
    run_set = _run_set(cls)
    return [k for k, p in (_parameters(cls) or {}).items()
            if k not in run_set and p.default is inspect.Parameter.empty]


def default_params(cls: type) -> dict[str, Any]:
    """The params a component of ``cls`` can be given, at their defaults (what ``--list-strategies`` shows).

    A param annotated as a ``Callable`` (ALPS's injected ``surprisal``) is left
    out: a function has no command-line or grid-file form; unless its default
    is a name (modAL's ``metric: Union[str, Callable] = "euclidean"``).
    """
    functions = {k for k, p in (_parameters(cls) or {}).items()
                 if "Callable" in str(p.annotation) and not isinstance(p.default, str)}
    return {k: v for k, v in _resolved_params(cls, {}).items() if k not in functions}


def _json_ready(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return repr(value)


def construct(cls: type, kwargs: Mapping[str, Any], where: str, own_check: str | None = None) -> Any:
    """``cls(**kwargs)``; what goes wrong is a one-line ConfigError naming ``where``.

    Parameters that do not bind to the signature are told apart from an
    error raised inside the constructor (a bad value, a bug), which is
    reported with its type and the line that raised it. A true/false
    parameter given anything else is refused before the constructor, an
    integer or number one given another kind after it and after the method
    ``own_check`` (the component's value checks, which know the ranges), where
    the component has one (:func:`check_constructor_params`).
    """
    missing = sorted(getattr(cls, "__abstractmethods__", ()))
    if missing:
        import difflib

        own = [k for k in vars(cls) if not k.startswith("_")]
        near = [k for k in own if difflib.get_close_matches(k, missing, n=1, cutoff=0.7)]
        raise ConfigError(f"{where} ({cls.__module__}.{cls.__qualname__}) does not implement "
                          f"{', '.join(missing)}; define {'it' if len(missing) == 1 else 'them'} in the class"
                          + (f" (it defines {', '.join(near)}: misspelt?)" if near else ""))
    try:
        inspect.signature(cls).bind(**kwargs)
    except TypeError as exc:
        accepted = _parameters(cls)
        names = ", ".join(sorted(set(accepted or {}) - set(_run_set(cls)))) if accepted is not None else "see its docs"
        missing = re.search(r"missing a required argument: '(\w+)'", str(exc))
        kind = where.split(" ", 1)[0]
        give = (f"; give it with --{kind}-param {missing[1]}=VALUE (in YAML: {kind}: {{name: ..., params: "
                f"{{{missing[1]}: VALUE}}}})" if missing and kind in COMPONENTS else "")
        raise ConfigError(f"{where} rejects its parameters {kwargs}: {exc}; accepted: {names}{give}") from None
    except ValueError:  # no signature to read (a builtin): the call itself says
        pass
    check_constructor_params(cls, kwargs, where, kinds=("bool",))  # "no" is truthy: before the constructor
    try:
        made = cls(**kwargs)
    except ConfigError as exc:  # its own check, which knows the range
        raise _with_component(exc, where) from None
    except ALError:
        raise
    except Exception as exc:  # noqa: BLE001 - a constructor's own error is reported in one line
        check_constructor_params(cls, kwargs, where)  # a value of another kind, said plainly where one broke it
        raise ConfigError(f"{where} could not be constructed with {kwargs}: {exception_text(exc)}"
                          f"{_raised_at(exc)}") from exc
    try:
        if own_check is not None and callable(getattr(made, own_check, None)):
            getattr(made, own_check)()
    except ConfigError as exc:
        raise _with_component(exc, where) from None
    except ALError:
        raise
    except Exception as exc:  # noqa: BLE001 - its check broke on a value of another kind ("abc" > 0), or a bug
        check_constructor_params(cls, kwargs, where)
        raise ConfigError(f"{where} could not check its parameters {kwargs}: {exception_text(exc)}"
                          f"{_raised_at(exc)}") from exc
    check_constructor_params(cls, kwargs, where)  # what the constructor took without a word (k=2.5 for k: int)
    return made


def _with_component(exc: ConfigError, where: str) -> ConfigError:
    """A component's own refusal of a value (``k must be a positive integer or 'dev', got 0``) with the component
    it is of (``classifier 'knn': k must ...``), as a settings file or a grid cell reads it; as it is where it names
    the component already (``logreg C must ...``, ``space 'cea' epochs must ...`` of ``space 'cea' (head scope)``)."""
    name = where.split("'")[1] if where.count("'") >= 2 else where
    if str(exc).startswith((where, where.split(" (")[0], f"{name} ")):
        return exc
    try:
        wrapped = type(exc)(f"{where}: {exc}")  # its kind kept (ClassifierNeededError ...)
    except TypeError:  # a kind that takes other arguments
        return ConfigError(f"{where}: {exc}")
    wrapped.__dict__.update(exc.__dict__)  # and what it carries (ClassifierNeededError's needs and able)
    return wrapped


#: The kinds of value :func:`check_param_types` holds a parameter to, by its annotation (``bool`` also by a bool
#: default where it has none).
_KINDS = ("bool", "int", "float", "str")


def check_constructor_params(cls: type, kwargs: Mapping[str, Any], where: str,
                             kinds: Sequence[str] = _KINDS) -> None:
    """:func:`check_param_types` on the parameters ``cls``'s constructor names (under ``**kwargs`` too)."""
    check_param_types(_named_parameters(cls).values(), kwargs, where, kinds)


def _annotated_kind(param: inspect.Parameter) -> tuple[str, bool] | None:
    """(``"bool"``, ``"int"``, ``"float"`` or ``"str"``, whether None is allowed too) for a parameter annotated so
    (spaces and a ``typing.`` or ``t.`` prefix aside; ``X | None``, ``Optional[X]``, ``Union[X, None]``, or ``X`` with a default
    of None), or unannotated with a bool default, or with a number's (``"float"``, None allowed); else None
    (anything goes)."""
    annotation = param.annotation
    if annotation is param.empty:
        if isinstance(param.default, bool):
            return "bool", False
        if isinstance(param.default, (int, float)):  # k=3: a number (2.5 too: the default says no more), or null
            return "float", True
        return None
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", None) \
        if isinstance(annotation, type) else str(annotation)
    text = re.sub(r"\b(?:typing|t)\.", "", (text or "").replace(" ", "").strip("'\""))  # quoted: postponed annotations
    for kind in _KINDS:
        if text == kind:
            return kind, param.default is None
        if text in (f"{kind}|None", f"None|{kind}", f"Optional[{kind}]", f"Union[{kind},None]",
                    f"Union[{kind},NoneType]"):
            return kind, True
    return None


def _is_kind(value: Any, kind: str) -> bool:
    """Whether ``value`` is of ``kind``: a bool for ``bool``; an integer, not a bool, for ``int``; a real number,
    not a bool, for ``float`` (an integer is one: ``learning_rate=1``); for ``str``, anything but what YAML reads
    from text left unquoted (a bool, a number, a date): a dict, a list or a path may be what a ``str`` param takes
    too (logreg's ``class_weight`` per class), and its own check says."""
    import datetime
    import numbers

    import numpy as np

    if kind == "str":
        return not isinstance(value, (bool, np.bool_, numbers.Number, datetime.date))
    if isinstance(value, (bool, np.bool_)):
        return kind == "bool"
    return isinstance(value, numbers.Integral) if kind == "int" else \
        isinstance(value, numbers.Real) if kind == "float" else False


#: How each kind is written, for a refusal.
_WRITE = {"bool": "write true or false (yes, no, on and off are read as text)",
          "int": "write a whole number such as 5 (1e3 and 2.0 are read as fractions)",
          "float": "write a number such as 0.5 or 1e-3"}


def check_param_types(params: Iterable[inspect.Parameter], given: Mapping[str, Any], where: str,
                      kinds: Sequence[str] = _KINDS) -> None:
    """Refuse a value of another kind for a parameter annotated ``bool``, ``int``, ``float`` or ``str``
    (``_annotated_kind``; for ``str``, a bool, number or date: :func:`_is_kind`).

    A YAML ``no`` or ``off`` is text (:func:`yaml_loader`), and text is truthy:
    ``warm_start: no`` must not turn warm starts on; ``k=2.5`` or ``k=abc`` must
    not reach a ``k: int`` as a fraction or text. A parameter unannotated takes
    what it is given, but one whose default is a bool takes true or false, and
    one whose default is a number takes a number or null.
    Wrappers of other libraries' callables (:mod:`strategies.adapters`) pass
    those callables' parameters. ``kinds``: the kinds checked (a constructor's
    own checks, which know the ranges, go between ``bool`` and the others). Every such parameter is named, in
    one line: a second was found only once the first was mended.
    """
    wrong = []
    for param in params:
        found = _annotated_kind(param) if param.name in given else None
        value = given.get(param.name)
        if found is None or found[0] not in kinds or _is_kind(value, found[0]) or (found[1] and value is None):
            continue
        kind, optional = found
        expected = {"bool": "true or false", "int": "an integer", "float": "a number", "str": "text"}[kind]
        write = _WRITE.get(kind, "") if kind != "int" or isinstance(value, float) else _WRITE[kind].split(" (")[0]
        if param.annotation is param.empty and isinstance(param.default, (int, float)) and kind == "float":
            write = f"write a number such as {param.default!r} (its default)"  # an integer's default: not 0.5
        if kind == "str":  # 3, true or 2020-01-01 unquoted: YAML's number, bool or date
            flag = where.split(" ", 1)[0] if where.split(" ", 1)[0] in COMPONENTS else "strategy"
            text = json.dumps(value) if isinstance(value, bool) else str(value)  # as typed: true, not True
            write = (f"quote it ({param.name}: '{text}' in YAML, --{flag}-param {param.name}='\"{text}\"' in a "
                     f"shell): unquoted, it is read as a number, true/false or a date")
        wrong.append(f"param {param.name} must be {expected}{' or null' if optional else ''}, got {spelled(value)}; "
                     f"{write}")
    if wrong:
        raise ConfigError(f"{where} {'; and '.join(wrong)}")


def _raised_at(exc: BaseException) -> str:
    """`` (at path/file.py:12)``: the innermost line of ``exc``'s traceback."""
    tb = exc.__traceback__
    if tb is None:
        return ""
    while tb.tb_next is not None:
        tb = tb.tb_next
    return f" (at {tb.tb_frame.f_code.co_filename}:{tb.tb_lineno})"


# ---------------------------------------------------------------- mappings


def check_space_readers(space_for: str, strategy_name: str, strategy_reads: bool, classifier_input: str,
                        strategy_reads_representations: bool = False) -> None:
    """Refuse a task-specific space that nothing chosen to read it reads (``space_for``: see :data:`SPACE_READERS`).

    ``strategy_reads``: whether the strategy declares ``embeddings``;
    ``classifier_input``: what the classifier reads (``"embeddings"``, ``"texts"``...);
    ``strategy_reads_representations``: whether it declares ``representations`` (DAL, coreset), which are the
    fitted space's through an embedding classifier that reads it.
    """
    if not strategy_reads and classifier_input != "embeddings":
        raise SpaceReadersError(
            f"a task-specific space changes embeddings, but neither strategy {strategy_name} nor the "
            f"classifier reads them; use --space pretrained, or a strategy or classifier that reads embeddings"
        )
    if space_for == "strategy" and not strategy_reads:
        through = (" (it reads the classifier's representations, which are the fitted space's only with --space-for "
                   "all or classifier)" if strategy_reads_representations and classifier_input == "embeddings" else "")
        raise SpaceReadersError(f"--space-for strategy, but strategy {strategy_name} reads no embeddings view"
                                f"{through}; use --space-for all or classifier, or a strategy that reads embeddings")
    if space_for == "classifier" and classifier_input != "embeddings":
        raise ConfigError(f"--space-for classifier, but the classifier reads {classifier_input}, "
                          f"not embeddings; use --space-for all or strategy, or an embedding classifier")


def config_fields() -> list[str]:
    return [f.name for f in fields(SimulationConfig)]


def normalise_mapping(values: Mapping[str, Any], source: str = "config", *, stored: bool = False
                      ) -> tuple[dict[str, Any], list[str]]:
    """Map the flat settings of earlier versions onto ``strategy``/``classifier`` ``{name, params}``.

    Parameters
    ----------
    values : mapping of settings (a YAML file, a grid cell, a stored config.json)
    source : where they come from, for messages
    stored : a run's stored config: flat keys at their old defaults set nothing,
        and classifier keys a non-bert classifier never took are dropped.

    Returns
    -------
    The nested mapping, and the deprecation lines to show (none when nothing was flat).
    """
    values = dict(values)
    notes: list[str] = []
    strategy = values.get("strategy", SimulationConfig.__dataclass_fields__["strategy"].default_factory())
    strategy = Component.coerce(strategy, f"{source}: strategy").to_dict()
    if "strategy_params" in values:
        flat = dict(values.pop("strategy_params") or {})
        if flat:
            strategy["params"] = {**flat, **strategy["params"]}
            notes.append(f"{source}: strategy_params is deprecated; write strategy: "
                         f"{{name: {strategy['name']}, params: {_inline(flat)}}}")
    if "strategy" in values or strategy["params"]:
        values["strategy"] = strategy
    legacy = {k: values.pop(k) for k in list(values) if k in LEGACY_CLASSIFIER_KEYS}
    if legacy:
        classifier = Component.coerce(values.get("classifier", "logreg"), f"{source}: classifier").to_dict()
        if stored:
            legacy = {k: v for k, v in legacy.items() if v != _LEGACY_DEFAULTS[k]}
            if classifier["name"] != "bert":
                legacy = {k: v for k, v in legacy.items() if k == "threshold"}
        mapped = {LEGACY_CLASSIFIER_KEYS[k]: v for k, v in legacy.items()}
        bert_only = sorted(k for k in legacy if k != "threshold")
        if bert_only and classifier["name"] != "bert" and not stored:  # read by nothing: said as whose it is
            bert = {LEGACY_CLASSIFIER_KEYS[k]: legacy[k] for k in bert_only}
            them = "it" if len(bert_only) == 1 else "them"
            raise ConfigError(f"{source}: {', '.join(bert_only)} at the top level {'is' if them == 'it' else 'are'} "
                              f"the bert classifier's (deprecated there), and {source} names no bert classifier "
                              f"beside {them} (classifier {classifier['name']}); write classifier: {{name: bert, "
                              f"params: {_inline(bert)}}} there, or leave {them} out")
        classifier["params"] = {**mapped, **classifier["params"]}
        values["classifier"] = classifier
        if mapped and not stored:
            notes.append(
                f"{source}: {', '.join(sorted(legacy))} at the top level {'is' if len(legacy) == 1 else 'are'} "
                f"deprecated; write classifier: {{name: {classifier['name']}, params: {_inline(classifier['params'])}}}"
            )
    return values, notes


def component_hint(unknown: Sequence[str]) -> str:
    """``; a space's params go inside it: ...`` for an unknown ``space_params`` or ``space_param`` key (the flag's
    name, ``--space-param``), or a classifier's or strategy's."""
    for key in unknown:
        if (component := _component_of_params(key)) is not None:
            return f"; a {component}'s params go inside it: {component}: {{name: NAME, params: {{...}}}}"
    return ""


def _component_of_params(key: str) -> str | None:
    """The component whose params an unknown key ``space_params`` / ``space_param`` means, or None."""
    component = key.rsplit("_", 1)[0] if key.endswith(("_params", "_param")) else None
    return component if component in COMPONENTS else None


def unknown_settings_hint(unknown: Sequence[str], known: Iterable[str]) -> str:
    """A did-you-mean for misspelt settings and :func:`component_hint` for params put beside their component
    (``space_param`` is no misspelt ``space_for``)."""
    return did_you_mean([k for k in unknown if _component_of_params(k) is None], known) + component_hint(unknown)


def _inline(params: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in params.items()) + "}"


def from_mapping(values: Mapping[str, Any], source: str = "config") -> SimulationConfig:
    """A config from a nested mapping (see :func:`normalise_mapping` for flat ones), rejecting unknown keys."""
    from al.datasets import TABLE_OPTIONS

    known = set(config_fields())
    unknown = sorted(set(values) - known)
    options = [k for k in unknown if k in TABLE_OPTIONS]
    if options:
        raise ConfigError(f"{source}: {', '.join(map(repr, options))} is an option of the data file; write it under "
                          f"data_options, e.g. data_options: {{{options[0]}: ...}}")
    if {"grid", "settings"} & set(unknown):
        has = " and ".join(k for k in ("settings", "grid") if k in unknown)
        raise ConfigError(f"{source} is a grid file (it has {has}), not one simulation's settings; run it with "
                          f"python -m al.grid {source}")
    if unknown:
        raise ConfigError(f"{source}: unknown setting(s) {', '.join(map(repr, unknown))}"
                          f"{unknown_settings_hint(unknown, known)}; known: {', '.join(sorted(known))}")
    return SimulationConfig(**values)


def merge_settings(base: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` (flags actually present) laid over ``base`` (a file's settings).

    A component whose name ``given`` changes drops the params ``base`` had
    for the old name; params in ``given`` are added to the component's.
    """
    out = dict(base)
    for key, value in given.items():
        if key in COMPONENTS:
            old = Component.coerce(out[key], key) if key in out else None
            new = Component.coerce(value, key)
            keep = dict(old.params) if old is not None and old.name == new.name else {}
            out[key] = {"name": new.name, "params": {**keep, **new.params}}
        elif key in ("strategy_params", "classifier_params", "space_params"):
            target = key.split("_")[0]
            comp = Component.coerce(out.get(target, SimulationConfig.__dataclass_fields__[target].default_factory()),
                                    target)
            out[target] = {"name": comp.name, "params": {**comp.params, **value}}
        elif key == "data_options":
            out[key] = {**dict(out.get(key) or {}), **value}
        else:
            out[key] = value
    return out


def result_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of a resolved config dict that change a run's results."""
    return {k: v for k, v in config.items() if k not in NON_RESULT_SETTINGS}


#: The settings of the automatic label pick, read by no run that names its labels.
_FREQUENCY_COUNTS = ("n_frequent", "n_rare")


def changed_settings(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The result settings of a stored run (``old``) that differ in ``new``, both resolved dicts.

    A setting ``old`` lacks was added later (that run used its default) and is
    not compared; so is a data option (``data_options``) at its default, given
    or not. A path setting (:data:`PATH_FIELDS`) is the same when both name
    one existing file, however spelt (relative, absolute, through a link); a
    classifier threshold ``"fixed"`` is 0.5 (:func:`canonical`). Where both
    name their labels, the counts of the automatic pick (``n_frequent``,
    ``n_rare``), which neither read, are not compared.
    """
    old, new = given_data_options(result_settings(old)), given_data_options(result_settings(new))
    unread = _FREQUENCY_COUNTS if old.get("labels") and new.get("labels") else ()
    return sorted(k for k in old if k not in unread and canonical(k, old.get(k)) != canonical(k, new.get(k))
                  and not (k in PATH_FIELDS and _same_file(old.get(k), new.get(k))))



def canonical(key: str, value: Any) -> Any:
    """``value`` of setting ``key`` in one spelling of what it does: a classifier's threshold ``"fixed"`` is 0.5
    (knn's default is written 0.5, logreg's and bert's ``"fixed"``: --threshold fixed is the same run)."""
    if key == "classifier" and isinstance(value, Mapping) and isinstance(value.get("params"), Mapping) \
            and value["params"].get("threshold") == "fixed":
        return {**value, "params": {**value["params"], "threshold": 0.5}}
    return value


def given_data_options(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with the data options at their defaults left out (``--label-sep '|'`` is no option given)."""
    from al.datasets import DATA_OPTIONS

    options = config.get("data_options")
    if not isinstance(options, Mapping):
        return config
    defaults = DATA_OPTIONS.get(config.get("dataset"), {})
    return {**config, "data_options": {k: v for k, v in options.items() if k not in defaults or defaults[k] != v}}


def _same_file(a: Any, b: Any) -> bool:
    try:
        return isinstance(a, str) and isinstance(b, str) and os.path.samefile(Path(a).expanduser(),
                                                                              Path(b).expanduser())
    except OSError:  # either is missing: not known to be the same
        return False


def completed_params(config: Mapping[str, Any]) -> dict[str, Any]:
    """A stored resolved config with the components' params completed by their constructors' defaults.

    A parameter added to a strategy, classifier or space after a run was stored
    (DAL's ``warm_start``) is absent from its ``config.json``: that run used the
    default, which is the new parameter's default by this project's rule (a
    variant is off by default). A component that no longer exists stays as stored.
    """
    out = dict(config)
    for key in ("strategy", "classifier", "space"):
        component = out.get(key)
        if not isinstance(component, Mapping) or not isinstance(component.get("params", {}), Mapping):
            continue
        stored = dict(component.get("params") or {})
        try:
            cls = _component_class(key, component.get("name"), out.get("space_scope"))
        except ALError:
            continue
        if cls is None:  # the pretrained space has no params
            continue
        accepted = _parameters(cls) or {}
        defaults = {k: _json_ready(p.default) for k, p in accepted.items()
                    if k not in _run_set(cls) and k not in DISPLAY_PARAMS and k not in stored
                    and p.default is not inspect.Parameter.empty}
        if key != "strategy" and "model" in defaults and isinstance(out.get("model"), str):
            defaults["model"] = out["model"]  # as the run passes its model to a classifier or space given none
        params = {**defaults, **stored}
        if key == "space":
            from al.spaces.training import recorded_params

            params = recorded_params(component["name"], {k: v for k, v in params.items() if k != "objective"})
        out[key] = {**component, "params": dict(sorted(params.items()))}
    return out


def _component_class(key: str, name: Any, space_scope: Any) -> type | None:
    """The class behind a stored component (None for the pretrained space)."""
    if not isinstance(name, str):
        raise ConfigError(f"stored {key} has no name")
    if key == "strategy":
        from al.registry import get_strategy

        return get_strategy(name)
    if key == "classifier":
        from al.classifiers import classifier_class

        return classifier_class(name)
    if name == PRETRAINED or not isinstance(space_scope, str):
        return None
    from al.spaces import space_class

    return space_class(space_scope)


@functools.cache
def yaml_loader() -> type:
    """PyYAML's safe loader with YAML 1.2's scalars where 1.1 surprises.

    ``2e-5`` reads as a float (1.1: a string). Only ``true`` and ``false`` (any
    of ``true``, ``True``, ``TRUE``) read as booleans: ``no``, ``yes``, ``on``
    and ``off`` stay strings (1.1: booleans), so ``mixed_precision: no`` means
    the documented choice ``"no"``, and a true/false setting given ``no`` is
    refused by its check rather than taken for ``False``.

    A key given twice in one mapping is refused (a :class:`ConfigError` naming
    the key and both lines) rather than the last one silently winning; keys a
    merge (``<<: *base``) brings in may still be overridden.
    """
    import yaml

    class Loader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            if isinstance(node, yaml.MappingNode):
                seen: dict[tuple[str, str], Any] = {}
                for key_node, _ in node.value:
                    if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                        continue
                    earlier = seen.setdefault((key_node.tag, key_node.value), key_node)
                    if earlier is not key_node:
                        lines = sorted({earlier.start_mark.line + 1, key_node.start_mark.line + 1})
                        where = f"line{'s' if len(lines) > 1 else ''} {' and '.join(map(str, lines))}"
                        raise ConfigError(f"key {key_node.value!r} is given twice ({where}); keep one of them")
            return super().construct_mapping(node, deep=deep)

    return yaml12_scalars(Loader)


def yaml12_scalars(loader: type) -> type:
    """``loader`` (a subclass of PyYAML's SafeLoader) reading booleans and numbers as YAML 1.2 does.

    Only ``true`` and ``false`` are booleans: YAML 1.1's ``yes``, ``no``, ``on``
    and ``off`` are read as text. Integers are decimal (``1_000`` allowed),
    ``0o17`` or ``0x1f``: ``010`` is ten (1.1: octal 8), and ``1:30``,
    ``1:30.5`` and ``0b11`` are text (1.1: 90, 90.5 and 3). ``2e-5`` and
    ``1e3`` are floats (1.1: text). The resolvers are ``loader``'s own copy:
    SafeLoader's are left alone.
    """
    import yaml

    replaced = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
    loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in replaced]
        for first, resolvers in loader.yaml_implicit_resolvers.items()
    }
    loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                 list("tTfF"))
    integer = re.compile(r"^(?:[-+]?[0-9](?:_?[0-9])*|0o[0-7]+|0x[0-9a-fA-F]+)$")
    loader.add_implicit_resolver("tag:yaml.org,2002:int", integer, list("-+0123456789"))
    real = re.compile(r"^(?:[-+]?(?:\.[0-9][0-9_]*|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
                      r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")  # 2e-5 too (1.1: text); 1:30.5 is text
    loader.add_implicit_resolver("tag:yaml.org,2002:float", real, list("-+0123456789."))

    def construct_integer(constructor: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
        text = constructor.construct_scalar(node)
        base = {"0o": 8, "0x": 16}.get(text[:2], 10)
        try:
            return int(text[2:] if base != 10 else text, base)
        except ValueError:  # tagged !!int, but no integer: a YAML error, with its line
            raise yaml.constructor.ConstructorError(None, None, f"!!int {text!r} is no integer",
                                                    node.start_mark) from None

    loader.add_constructor("tag:yaml.org,2002:int", construct_integer)
    return loader


def parse_yaml(text: str) -> Any:
    """``text`` as YAML, numbers such as ``2e-5`` read as floats; raises ``yaml.YAMLError``."""
    import yaml

    return yaml.load(text, Loader=yaml_loader())  # noqa: S506 - a SafeLoader subclass


def load_yaml(path: str | Path, what: str = "config file", expected: str = "a YAML file of settings") -> dict[str, Any]:
    """The mapping in a YAML file; ``what`` and ``expected`` name it in a refusal (a grid file, not settings)."""
    import yaml

    from al.io import read_text

    path = Path(path)
    text = read_text(path, what, expected)
    try:
        data = parse_yaml(text)
    except ConfigError as exc:  # a key given twice
        raise ConfigError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or (first[0] if first else "parse error")
        raise ConfigError(f"{path} is not valid YAML{where}: {problem}; fix the file's syntax") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        example = "out: runs/NAME" if what == "grid file" else "budget: 600"
        held = "a list of - items" if isinstance(data, list) else f"one {type(data).__name__} value"
        raise ConfigError(f"{path} must hold a mapping of settings, got {type(data).__name__}; expected {expected}, "
                          f"written as key: value lines ({example}), not {held}")
    return data


def replace(config: SimulationConfig, **changes: Any) -> SimulationConfig:
    return dataclasses.replace(config, **changes)
