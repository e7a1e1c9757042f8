"""Learning curves from run directories: mean ± sample std over seeds, one line per strategy.

The spread over seeds is the *sample* standard deviation (``ddof = 1``): the
seeds are a sample of the runs one could make. With a single seed it is
undefined, and the mean is shown alone.
"""
from __future__ import annotations

import io
import json
import os
import re
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import fill
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from al.errors import DataError, and_more, did_you_mean
from al.io import write_bytes_atomic
from al.progress import counted  # noqa: F401 - re-exported: the reports' and plots' wording
from al.records import CONFIG_FILE, LOCK_FILE, ROUNDS_FILE, read_config, read_rounds

#: How every table, legend and text states the spread.
SPREAD = "mean ± sample std over seeds (ddof = 1; one seed: the mean alone)"
#: The strategy every comparison is made against by default; figures and tables put its line first.
BASELINE = "random"


def legend_entry(text: str) -> str:
    """``text`` as a legend shows it: matplotlib leaves out an entry whose label starts with ``_`` (a strategy
    ``__main__:Mine`` of a script's own, a label ``_other``), so such a one starts with a zero-width space."""
    return f"\u200b{text}" if text.startswith("_") else text


def mean_std(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (``ddof = 1``) of per-seed values.

    Returns
    -------
    (mean, std) with ``std`` None for fewer than two values (undefined, not 0
    and not NaN). The mean of no values is NaN.
    """
    v = np.asarray(values, dtype=np.float64)
    if len(v) == 0:
        return float("nan"), None
    return float(v.mean()), (float(v.std(ddof=1)) if len(v) > 1 else None)


def format_mean_std(values: Sequence[float], digits: int = 4) -> str:
    """``"0.4000 ± 0.1000"`` (sample std, ddof = 1); ``"0.4000"`` for one value; ``"–"`` for none."""
    if len(values) == 0:
        return "–"
    mean, std = mean_std(values)
    return f"{mean:.{digits}f}" if std is None else f"{mean:.{digits}f} ± {std:.{digits}f}"


def plain_numbers(value: Any) -> Any:
    """``value`` with each whole float as an int (``1.0`` -> ``1``), inside lists, tuples and mappings too.

    ``C: 1`` and ``C: 1.0`` give a component the same number: written as text for
    labels and conditions, they must read alike.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: plain_numbers(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain_numbers(v) for v in value)
    return value


def component_label(name: Any, params: Mapping[str, Any]) -> str:
    """A component as text: ``dal(sub_batches=5)``, params in name order, whole floats as ints
    (:func:`plain_numbers`); the name alone without params."""
    return str(name) + (f"({', '.join(f'{k}={plain_numbers(v)}' for k, v in sorted(params.items()))})"
                        if params else "")


def beyond_defaults(key: str, component: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """The params of a run's ``key`` component (``strategy``, ``classifier``, ``space``) as given, less those given
    at their constructor's default: one simulation, which its seeds pair with the runs that left them out
    (``al.simulate`` takes them as one run too). Params of a component that cannot be loaded stay as given."""
    params = component.get("params") or {}
    if not isinstance(params, Mapping) or not params:
        return dict(params) if isinstance(params, Mapping) else {}
    defaults = _defaults(key, str(component["name"]), config.get("model"), config.get("space_scope"))
    return {k: v for k, v in params.items() if k not in defaults or value_text(defaults[k]) != value_text(v)}


#: Components' params at their defaults by (key, name, model, scope), for :func:`beyond_defaults`: a report reads
#: every run's labels several times. Only components that could be loaded are kept (a user's module found later).
_DEFAULTS: dict[tuple[str, str, str, str], dict[str, Any]] = {}


def _defaults(key: str, name: str, model: Any, space_scope: Any) -> dict[str, Any]:
    """A component's params at their defaults, as a run completes them (:func:`al.config.completed_params`);
    {} where it cannot be loaded."""
    from al.config import completed_params

    cache_key = (key, name, repr(model), repr(space_scope))
    if cache_key not in _DEFAULTS:
        bare = {key: {"name": name, "params": {}}, "model": model, "space_scope": space_scope}
        defaults = dict(completed_params(bare)[key].get("params") or {})
        if not defaults:
            return defaults
        _DEFAULTS[cache_key] = defaults
    return _DEFAULTS[cache_key]


def value_text(value: Any) -> str:
    """A setting's or param's value as text, whole floats as ints (:func:`plain_numbers`): ``C=1`` is ``C=1.0``."""
    value = plain_numbers(value)
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list, tuple)) else str(value)


@dataclass(frozen=True)
class Run:
    """One run directory's config and finished rounds."""

    path: Path
    config: dict
    rounds: list[dict]
    meta: dict = field(default_factory=dict)  # the rest of config.json: version, corpus

    def __repr__(self) -> str:
        """``Run('runs/x', random, seed 0, 11 rounds, macro-F1 0.4853)``: not every round's record."""
        last = self.rounds[-1].get("macro_f1") if self.rounds else None
        f1 = f", macro-F1 {last:.4f}" if isinstance(last, (int, float)) else ""
        return (f"Run({str(self.path)!r}, {self.strategy}, seed {self.config.get('seed', '?')}, "
                f"{len(self.rounds)} rounds{f1})")

    def setting(self, name: str) -> str:
        """A setting as text; a component as its label (``dal(sub_batches=5)``), with the params as given less
        those given at their defaults (:func:`beyond_defaults`: ``cvirs(threshold=0.5)`` is ``cvirs``)."""
        value = self.meta.get("given", {}).get(name, self.config.get(name, "?"))
        if isinstance(value, dict) and "name" in value:
            return component_label(value["name"], beyond_defaults(name, value, self.config))
        return str(value)

    @property
    def strategy(self) -> str:
        """The strategy's label, and the space it read when not the pretrained one: ``class_embedding@cea``
        (``@cea-encoder`` for the encoder scope, ``/every2`` when re-fit every 2 rounds)."""
        space = self.space_label()
        return self.setting("strategy") if space == "pretrained" else f"{self.setting('strategy')}@{space}"

    def space_label(self) -> str:
        """The space the run read, with what comes with it: ``cea``, ``cea-encoder/every2 (strategy only)``;
        ``pretrained`` for none fitted."""
        space = self.config.get("space")
        if not isinstance(space, dict) or space.get("name", "pretrained") == "pretrained":
            return "pretrained"
        scope = "" if self.config.get("space_scope") == "head" else f"-{self.config.get('space_scope')}"
        every = self.config.get("space_every") or 1
        reader = self.config.get("space_for") or "all"
        return (f"{self.setting('space')}{scope}" + (f"/every{every}" if every != 1 else "")
                + ("" if reader == "all" else f" ({reader} only)"))

    @property
    def seed(self) -> int:
        return int(self.config.get("seed", 0))


def find_files(root: Path, name: str) -> list[Path]:
    """Files called ``name`` at or below ``root``, through links to directories too.

    Paths are as reached from ``root`` (a run linked in is found under the
    link's name). A directory reached twice (two links to it, or a link back
    up the tree) is read the first time only, walking in sorted order.
    """
    found, seen = [], set()
    for top, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(top)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs.sort()
        if name in files:
            found.append(Path(top) / name)
    return sorted(found)


def find_run_dirs(paths: Iterable[str | Path]) -> list[Path]:
    """Run directories given, and those below the given directories (:func:`find_files`): a run written at the
    top of a folder of runs (before al.simulate refused that) hides none of them."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise DataError(f"{path} does not exist; expected a run directory (with {ROUNDS_FILE}) or a parent of some")
        below = sorted(p.parent for p in find_files(path, ROUNDS_FILE))  # the path itself too, if a run
        if not below:
            if path.is_file():
                raise DataError(f"{path} is a file; give the directory holding the runs (a grid's out, e.g. "
                                f"runs/quick), or a run's own (its --out)")
            if (path / CONFIG_FILE).is_file() or find_files(path, CONFIG_FILE):
                raise DataError(f"no run under {path} has finished a round yet ({ROUNDS_FILE} comes with the first); "
                                f"wait for one, or resume the runs with the command that started them")
            raise DataError(f"{path} holds no run ({CONFIG_FILE} and {ROUNDS_FILE}); give a directory al.simulate "
                            f"or al.grid wrote (its --out), or one above such directories")
        found.extend(below)
    return sorted(set(found))


def unstarted_runs(paths: Iterable[str | Path]) -> list[Path]:
    """Run directories at or below ``paths`` that finished no round yet (a ``config.json`` or ``.lock``, no
    rounds): a run killed in its first round, or one that could not start; :func:`load_runs` leaves them out."""
    started = {f.parent for p in map(Path, paths) if p.is_dir() for name in (CONFIG_FILE, LOCK_FILE)
               for f in find_files(p, name)}
    return sorted(d for d in started if _no_rounds(d))


def _no_rounds(run_dir: Path) -> bool:
    """Whether ``run_dir`` recorded no round; records that cannot be read are :func:`load_runs`' to name."""
    try:
        return not read_rounds(run_dir)
    except DataError:
        return False


def load_runs(paths: Iterable[str | Path], damaged: list[tuple[Path, str]] | None = None) -> list[Run]:
    """Every run directory given or below those given (:func:`find_run_dirs`) that finished a round.

    ``damaged``: where given, a run whose records cannot be read is added to it (its path, why) and left out,
    instead of stopping the whole read.

    Raises
    ------
    DataError
        If none did, or (without ``damaged``) a run has rounds but no config, records that cannot be read, or a
        stored seed that is not an integer.
    """
    if isinstance(paths, (str, os.PathLike)):  # one directory: not the characters of its name
        paths = [paths]
    runs, empty = [], []
    for path in find_run_dirs(paths):
        try:
            run = _load_run(path)
        except DataError as exc:
            if damaged is None:
                raise
            damaged.append((path, str(exc)))
            continue
        if run is not None:
            runs.append(run)
        else:
            empty.append(path)
    if not runs and damaged:
        raise DataError(f"no run could be read: {damaged[0][1]}" + (f" (and {len(damaged) - 1} more damaged)"
                                                                     if len(damaged) > 1 else ""))
    if not runs:
        its = f"its {ROUNDS_FILE} is empty" if len(empty) == 1 else f"their {ROUNDS_FILE} files are empty"
        raise DataError(f"no finished round in {', '.join(map(str, empty[:3]))}{and_more(len(empty), 3)}: {its}; "
                        f"wait for a run still in its first round, resume a stopped one with the command that "
                        f"started it, or give runs that finished a round")
    return runs


def _load_run(path: Path) -> Run | None:
    """The run in ``path``; None if it finished no round.

    Raises
    ------
    DataError
        If it has rounds but no config, records that cannot be read, or a stored seed that is not an integer.
    """
    stored = read_config(path) or {}
    config = stored.pop("config", None)
    if config is None:
        raise DataError(f"{path} has {ROUNDS_FILE} but no {CONFIG_FILE}; expected both as al.simulate writes "
                        f"them: restore its {CONFIG_FILE}, or leave that directory out")
    seed = config.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise DataError(f"{path}: stored seed {seed!r} is not an integer; expected the seed al.simulate writes "
                        f"(is {CONFIG_FILE} from al.simulate?)")
    config.setdefault("embed_precision", "fp32")  # runs from before the setting embedded in fp32
    rounds = read_rounds(path)
    return Run(path, config, rounds, stored) if rounds else None


def lookup(record: dict[str, Any], metric: str) -> tuple[bool, Any]:
    """Whether ``record`` holds ``metric``, and its value: a key, or a dotted path into its mappings
    (``per_label_f1.food``, ``diagnostics.summary.mean_ratio``); a key that holds dots itself (a label ``U.S.``)
    is matched whole, the longest first."""
    if metric in record:
        return True, record[metric]
    parts = metric.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:cut])
        if isinstance(record.get(head), dict):
            found, value = lookup(record[head], ".".join(parts[cut:]))
            if found:
                return True, value
    return False, None


def nested_metrics(run: Run) -> dict[str, list[str]]:
    """The numbers inside the mappings ``run``'s rounds record, by the path of the mapping that holds them:
    ``{"per_label_f1": ["per_label_f1.food", ...], ...}``."""
    groups: dict[str, set[str]] = defaultdict(set)

    def walk(value: Any, path: str) -> None:
        for key, inner in value.items():
            if isinstance(inner, dict):
                walk(inner, f"{path}.{key}")
            elif _is_number(inner) or inner is None:
                groups[path].add(f"{path}.{key}")

    for r in run.rounds:
        for key, value in r.items():
            if isinstance(value, dict):
                walk(value, key)
    return {group: sorted(paths) for group, paths in groups.items()}


def _nested_hint(run: Run) -> str:
    """``; or a number inside a mapping, per_label_f1.NAME, ... (e.g. per_label_f1.food)`` where the rounds record
    such mappings."""
    nested = nested_metrics(run)
    if not nested:
        return ""
    groups = sorted(nested, key=lambda g: (g != "per_label_f1", g.count("."), g))
    shown = ", ".join(f"{g}.NAME" for g in groups[:3]) + and_more(len(groups), 3)
    return f"; or a number inside a mapping, {shown} (e.g. {nested[groups[0]][0]})"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def numeric_metrics(run: Run) -> list[str]:
    """The metrics a run's rounds record as numbers (``macro_f1``, ``micro_f1``, ...), timings aside."""
    return sorted({k for r in run.rounds for k, v in r.items() if isinstance(v, float) and not k.startswith("seconds")})


#: Metric groups a run records only when made with the flag of the same name (``diagnostics.summary.mean_ratio``).
FLAG_METRICS = frozenset({"diagnostics"})

#: What every round records that is no metric: the x axis (``n_labeled``) and the round's number.
NOT_METRICS = {"n_labeled": "the x axis, labeled texts", "round": "the round's number"}

#: Timings a run records on the first round each process runs (round 0, or a resume's first), not every round.
ONCE_PER_PROCESS = frozenset({"seconds_embed", "seconds_replay", "seconds_prepare"})


def recorded(run: Run) -> list[str]:
    """The numeric metrics, then the timings, that any round of ``run`` records (what al.plot can draw)."""
    return numeric_metrics(run) + sorted({k for x in run.rounds for k in x if k.startswith("seconds_")})


def every_round(run: Run) -> list[str]:
    """Those of :func:`recorded` that every round of ``run`` records."""
    return [k for k in recorded(run) if all(k in r for r in run.rounds)]


def queried(run: Run) -> list[dict[str, Any]]:
    """The rounds of ``run`` that asked the strategy: those whose ``picked`` is not empty.

    The last round of a run that reached its budget picks nothing, and its
    ``seconds_query`` (about 0) is no query's time. A record without
    ``picked`` counts as a query unless it is the run's last round.
    """
    last = len(run.rounds) - 1
    return [r for i, r in enumerate(run.rounds) if (r["picked"] if "picked" in r else i != last)]


def records_metric(run: Run, metric: str) -> bool:
    """Whether any round of ``run`` holds ``metric`` (a top-level key, or ``GROUP.NAME`` inside a mapping)."""
    return any(lookup(r, metric)[0] for r in run.rounds)


def unrecorded(run: Run, metric: str) -> str:
    """Why no round of ``run`` records ``metric``, what it records instead: ``no metric 'macro_f2' (did you mean
    macro_f1?); metrics every round records: ...``, or, for a name its mapping lacks, ``no 'per_label_f1.foo':
    per_label_f1 holds ...``."""
    nested = nested_metrics(run)
    group = max((g for g in nested if metric.startswith(f"{g}.")), key=len, default=None)
    if group is not None:  # per_label_f1.hazmat: a name its mapping does not hold; name them all
        names = [path.removeprefix(f"{group}.") for path in nested[group]]
        return (f"no {metric!r}: {group} holds {', '.join(names[:12])}{and_more(len(names), 12)}"
                f"{did_you_mean([metric.removeprefix(f'{group}.')], names)}; give one of them")
    inside = [path for paths in nested.values() for path in paths]
    group = metric.split(".")[0]
    made_without = (f" (a run records it when made with --{group})"
                    if group in FLAG_METRICS and "." in metric and not any(group in r for r in run.rounds) else "")
    return (f"no metric {metric!r}{made_without}{did_you_mean([metric], recorded(run) + inside)}; metrics every "
            f"round records: {', '.join(every_round(run))}" + _nested_hint(run))


def points(run: Run, metric: str) -> tuple[list[int], list[float]]:
    """A run's labeled-set sizes and its ``metric`` at each, rounds where ``metric`` is null left out.

    An annotation session records ``macro_f1: null`` while at most one text is
    labeled (there is nothing to evaluate on): such rounds have no point. For
    ``seconds_query`` and what a strategy records of its query (``strategy_info.NAME``), the rounds that asked
    the strategy alone (:func:`queried`): a run's last round picks nothing, its 0 s is no query's time and its
    ``strategy_info`` is empty.

    Raises
    ------
    DataError
        If a round lacks ``metric`` or its size ``n_labeled``, or ``metric`` is
        not a number (``per_label_f1``, ``picked``).
    """
    sizes, values, warned = [], [], False
    for r in (queried(run) if metric == "seconds_query" or metric.startswith("strategy_info.") else run.rounds):
        found, value = lookup(r, metric)
        if not found:
            if records_metric(run, metric):  # a timing of a process's first round
                once = " (recorded on a process's first round alone)" if metric in ONCE_PER_PROCESS else ""
                raise DataError(f"{run.path}: round {r.get('round')} has no {metric!r}, which other rounds record"
                                f"{once}; plot a metric every round records: {', '.join(every_round(run))}")
            raise DataError(f"{run.path}: round {r.get('round')} has {unrecorded(run, metric)}")
        if value is None:
            # null by design: kappa compares a round's predictions with the round before (none before the first);
            # max_uncertainty has no text to read on a spent pool, or no uncertainty in 0/1 probabilities; a
            # --diagnostics figure is null where undefined (a label with no centroid yet, none of its texts unlabeled)
            by_design = ((metric == "stopping.kappa" and r is run.rounds[0]) or metric == "stopping.max_uncertainty"
                         or metric.startswith("diagnostics."))
            if not by_design and not str(r.get("evaluation", "")).startswith("none") and not warned:
                warned = True  # a session's round with one labeled text records its reason: no warning
                warnings.warn(f"{run.path}: round {r.get('round')} records {metric} null and no reason for it (an "
                              f"edited or damaged record?); that round has no point, and curves and areas read the "
                              f"others", stacklevel=2)
            continue
        if not _is_number(value):
            raise DataError(f"{run.path}: {metric} is no number (round {r.get('round')} holds a "
                            f"{type(value).__name__}); give a numeric metric: {', '.join(every_round(run))}"
                            + _nested_hint(run))
        if not _is_number(r.get("n_labeled")):
            raise DataError(f"{run.path}: round {r.get('round')} has no labeled-set size (n_labeled); expected the "
                            f"records al.simulate writes (is {ROUNDS_FILE} from al.simulate?)")
        sizes.append(int(r["n_labeled"]))
        values.append(float(value))
    return sizes, values


@dataclass(frozen=True)
class Curve:
    """A strategy's curve: per labeled-set size, mean and sample std (ddof = 1) over its runs.

    ``std`` is NaN at sizes with a single run (undefined); ``n_runs`` says how many.
    """

    strategy: str
    sizes: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    n_runs: np.ndarray


def curves(runs: Sequence[Run], metric: str = "macro_f1", group_by: str = "strategy",
           labels: Mapping[Path, str] | None = None, first: str = BASELINE) -> list[Curve]:
    """Aggregate runs into mean ± sample std (ddof = 1) per size, one curve per group.

    Rounds whose ``metric`` is null have no point (:func:`points`). Which runs
    are complete is the caller's to decide (``al.plot`` leaves out the others,
    :func:`al.analysis.comparison.complete_runs`).

    Parameters
    ----------
    runs : the runs to aggregate
    metric : a numeric per-round metric (``macro_f1``, ``micro_f1``, ...)
    group_by : a config key whose values are the groups; ``"strategy"`` groups by
        the row labels of :func:`al.analysis.comparison.run_labels` (:attr:`Run.strategy`,
        which names the embedding space too: ``class_embedding@cea``)
    labels : each run's group by its path, overriding ``group_by`` (the report's row labels);
        None: :func:`al.analysis.comparison.line_labels`, which refuses to put runs of
        different settings (data sets, budgets, ...), or the same simulation twice, on one line,
        and runs that ``al.report`` puts in different settings on lines of one figure
    first : the group whose curve comes first (the baseline, as reports order their rows); the others by name

    Raises
    ------
    DataError
        If ``group_by`` is no setting of the runs, runs of different settings would share a
        line or one figure (:func:`al.analysis.comparison.lines_of_one_setting`), two runs on a
        line are the same simulation (one setting and seed), or ``metric`` is missing or not a number.
    """
    if labels is None:
        from al.analysis.comparison import line_labels  # comparison reads runs through this module

        labels = line_labels(runs, group_by)
    grouped: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        for size, value in zip(*points(run, metric)):
            grouped[labels[run.path]][size].append(value)
    out = []
    for key in sorted(grouped, key=lambda name: (name != first, natural_key(name))):
        sizes = np.array(sorted(grouped[key]))
        values = [grouped[key][s] for s in sizes]
        stats = [mean_std(v) for v in values]
        out.append(Curve(key, sizes, np.array([m for m, _ in stats]),
                         np.array([np.nan if s is None else s for _, s in stats]), np.array([len(v) for v in values])))
    return out


def natural_key(text: str) -> tuple[tuple[int, float, str], ...]:
    """``text`` as its runs of digits and the rest, the numbers compared as numbers: ``pool_size=500`` before
    ``pool_size=1000``, ``seed 2`` before ``seed 10`` (a number before text where the two meet)."""
    return tuple((0, float(part), "") if re.fullmatch(r"\d+(?:\.\d+)?", part) else (1, 0.0, part)
                 for part in re.split(r"(\d+(?:\.\d+)?)", text) if part)


def format_curves(curve_list: Sequence[Curve], metric: str = "macro_f1") -> str:
    """A plain-text table: one row per labeled-set size, one column per strategy.

    Cells are ``mean ± sample std``; a size with a single run shows its value alone.
    """
    sizes = sorted({int(s) for c in curve_list for s in c.sizes})
    width = max(len("0.000 ± 0.000") + 2, *(len(c.strategy) + 2 for c in curve_list))
    alone = all(int(np.max(c.n_runs, initial=0)) <= 1 for c in curve_list)  # --group-by seed: one run a column
    header = f"{metric}: one run each, no spread" if alone else f"{metric}: {SPREAD}"
    lines = [header, f"{'labeled':>8}" + "".join(f"{c.strategy:>{width}}" for c in curve_list)]
    for size in sizes:
        cells = []
        for c in curve_list:
            hit = np.flatnonzero(c.sizes == size)
            if not len(hit):
                cells.append(" " * width)
                continue
            i = hit[0]
            text = f"{c.mean[i]:.3f}" if c.n_runs[i] < 2 else f"{c.mean[i]:.3f} ± {c.std[i]:.3f}"
            cells.append(text.rjust(width))
        lines.append(f"{size:>8}" + "".join(cells))
    return "\n".join(lines)


def axis_label(metric: str) -> str:
    """How a figure names ``metric``: ``macro-F1``, ``seconds (query)``, ``F1 of food``; another dotted path as
    typed (``diagnostics.summary.mean_ratio``: its keys and label names are not renamed)."""
    if metric.startswith("seconds_"):
        return f"seconds ({metric.removeprefix('seconds_')})"
    if metric.startswith("per_label_f1."):
        return f"F1 of {metric.removeprefix('per_label_f1.')}"
    if "." in metric:
        return metric
    return metric.replace("_", "-").replace("f1", "F1")


#: The colour of the ``random`` line in every figure, whatever else it shows: the reference a reader looks for first.
RANDOM_COLOR = "black"


def line_colors(names: Iterable[str]) -> dict[str, Any]:
    """One colour per line name: ``random`` black (:data:`RANDOM_COLOR`) in every figure, every other name by
    its place among the others sorted. A report gives every figure the names of all its settings, so a strategy
    keeps its colour from figure to figure (tab10; tab20 above 10 names)."""
    import matplotlib

    names = set(names)
    others = sorted(names - {BASELINE})
    palette = matplotlib.colormaps["tab10" if len(others) <= 10 else "tab20"].colors
    return {**({BASELINE: RANDOM_COLOR} if BASELINE in names else {}),
            **{name: palette[i % len(palette)] for i, name in enumerate(others)}}


#: Characters of a figure's title per line (an 8-inch figure whose legend sits beside the axes).
TITLE_WIDTH = 70
#: Characters of a legend entry per line: a long setting's name takes lines, not the axes' width.
LEGEND_WIDTH = 40


def wrapped(title: str, width: int = TITLE_WIDTH) -> str:
    """``title`` in lines of at most ``width`` characters, its own line breaks kept, never inside a word or a
    name (``all-MiniLM-L6-v2`` stays whole)."""
    return "\n".join(fill(line, width, break_on_hyphens=False, break_long_words=False) or line
                     for line in title.splitlines())


def is_score(metric: str) -> bool:
    """Whether ``metric`` is a score in [0, 1]: an F1, precision or recall (``macro_f1``, ``per_label_f1.food``)."""
    return any(part in metric.split(".")[0] for part in ("f1", "precision", "recall"))


def render_curves(curve_list: Sequence[Curve], metric: str = "macro_f1", title: str | None = None,
                  fmt: str = "png", colors: Mapping[str, Any] | None = None) -> bytes:
    """The curves with a ±1 sample-std band (ddof = 1), as the bytes of an image in format ``fmt``.

    The band is drawn where a size has at least two runs; the legend, beside
    the axes (it hides no band), says what it is, and how many runs each line
    averages. ``colors``: each line's colour by its name (:func:`line_colors`;
    default: those of the lines drawn).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = line_colors(c.strategy for c in curve_list) if colors is None else colors
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=150)
    banded = False
    for i, c in enumerate(curve_list):
        # a line drawn over an earlier one of the same values hides it whole: its legend entry says whose it is
        twin = next((d.strategy for d in curve_list[:i] if np.array_equal(d.sizes, c.sizes)
                     and np.array_equal(d.mean, c.mean)), None)
        drawn_over = f"; the same curve as {twin}, drawn over it" if twin is not None else ""
        runs = counted(int(c.n_runs.max()), "run").replace(" ", "\N{NO-BREAK SPACE}")  # one piece when wrapped
        line, = ax.plot(c.sizes, c.mean, marker="o", markersize=3, color=colors.get(c.strategy),
                        label=legend_entry(wrapped(f"{c.strategy} ({runs}{drawn_over})", LEGEND_WIDTH)))
        several = c.n_runs > 1
        if several.any():
            std = np.where(several, c.std, 0.0)
            low, high = c.mean - std, c.mean + std
            if metric.startswith("seconds_"):  # a time is never below 0 s
                low = np.maximum(low, 0.0)
            if is_score(metric):  # an F1, precision or recall lies in [0, 1]: so does its band
                low, high = np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)
            ax.fill_between(c.sizes, low, high, where=several, color=line.get_color(), alpha=0.2)
            banded = True
    label = axis_label(metric)
    ax.set_xlabel("labeled texts")
    ax.set_ylabel(label)
    ax.set_title(wrapped(title or f"{label} by labeled-set size"))  # a long setting: lines, not cut off
    ax.grid(alpha=0.3)
    kept_in = "\n(cut at 0 and 1)" if is_score(metric) else "\n(cut at 0 s)" if metric.startswith("seconds_") else ""
    ax.legend(title=f"line: mean\nband: ± sample std (ddof = 1){kept_in}" if banded else "one run each: no spread",
              title_fontsize="small", fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0),
              borderaxespad=0.0)
    buffer = io.BytesIO()
    try:  # the axes keep their size (no tight_layout, which shrank them for a wide legend); the image grows to it
        fig.savefig(buffer, format=fmt, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buffer.getvalue()


def plot_curves(
    curve_list: Sequence[Curve], path: str | Path, metric: str = "macro_f1", title: str | None = None
) -> Path:
    """Draw the curves (:func:`render_curves`) into ``path``, atomically, as a PNG or the format its suffix names."""
    path = Path(path)
    write_bytes_atomic(path, render_curves(curve_list, metric, title, path.suffix[1:] or "png"))
    return path
