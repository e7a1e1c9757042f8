"""``python -m al.grid simulations/NAME.yaml``: run a product of simulations.

A grid file::

    out: runs/quick            # one run directory per simulation below this
    settings:                  # shared by every simulation (SimulationConfig fields)
      classifier: {name: logreg, params: {threshold: dev}}
      budget: 600
    grid:                      # every combination of these
      data:                    # a list of mappings: each sets several fields; `name` labels it
        - {name: disaster, dataset: disaster}
        - {name: reuters, dataset: reuters, data_path: ../shared/data/reuters21578.tar.gz}
      strategy: [random, class_embedding, {name: dal, params: {sub_batches: 5}}]   # values of one field
      seed: [0, 1, 2]

Simulations run in worker processes (``--workers N``) or as Ray tasks on an
existing cluster (``--ray ADDRESS`` or ``--ray auto``), each exactly as
``python -m al.simulate`` would run it. Finished runs are skipped and
interrupted ones resume from their last round. Each run holds an exclusive
lock on ``RUN_DIR/.lock`` while it works, so two grid commands pointed at one
directory never run the same simulation at once; the second one reports it as
busy. A setting that cannot run (an unknown strategy, a missing data file) is
reported before anything starts, and the rest of the grid still runs; so is a
run whose directory holds one with other result settings or data (the grid
file was edited and run again into the same ``out``): it fails at once
(:func:`refusal`), and nothing is prepared for it.

Workers share the cache: the first run that needs a pool's embeddings (or an
ALPS head) computes them under a lock. With more than one worker (or on Ray),
the grid first runs each distinct once-per-pool computation its unfinished runs share
as a task of its own, costliest first (:func:`plan_preparation`): a strategy's
pool work (ALPS's head fit and masked-LM pass) and each pool's embedding pass
then run side by side instead of one after the other inside one run, and each
run starts after the tasks it reads. Their seconds are in no run's records:
each task that ends, or is stopped (Ctrl-C, SIGTERM: ``stopped``), adds a line to
``OUT/preparations.jsonl`` (what it was, how it ended, its seconds, the runs that read it), which
``al.report`` lists.
A worker whose next run needs what another run is computing does not wait for
it while other runs are left to start: that run is set aside and taken up
again when the other one ends (:func:`dispatch`). Records do not depend on the
order.

Exit status: 0 when every simulation has all its rounds (done now, resumed or
complete before) or is ``busy`` (another command is running it: two grid
commands on one directory share its runs, and each ends 0); 2 when any could
not run or failed (``not run``, ``failed``: each line says why, and the same
command takes up what is left once it is fixed) or the grid file, ``--out`` or
``--ray`` is refused; 1 only for an internal error (a traceback); 130 on Ctrl-C, 143 on SIGTERM.

While it works, the grid says what each worker is on (:class:`Heartbeat`):
each simulation in flight with its finished rounds, on the progress bar of a
terminal, or in a log as a ``working: ...`` line whenever the grid has printed
nothing for ``HEARTBEAT_SECONDS``.
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import re
import signal
import statistics
import sys
import threading
import time
import warnings
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Hashable, Iterator, Mapping, Sequence, TextIO

from al.cli import ArgumentParser, DefaultsHelpFormatter, Terminated, output_dir, sigterm_stops, stopped, work_cut_short
from al.config import (
    COMPONENTS, NON_RESULT_SETTINGS, canonical,
    PATH_FIELDS, Component, SimulationConfig, config_fields, from_mapping, load_yaml, merge_settings,
    normalise_mapping, replace, unknown_settings_hint,
)
from al.errors import (ALError, ConfigError, RunBusyError, SpaceReadersError, and_more, did_you_mean, exception_text,
                       raised_at, spelled)
from al.progress import counted, draws_bars, duration, heartbeat, progress, quiet_while, set_quiet, time_so_far
from al.records import LOCK_FILE  # noqa: F401 - re-exported: a run directory's lock (al.records.run_lock)
from al.records import CONFIG_FILE, PREPARATIONS_FILE, ROUNDS_FILE, append_preparation
from al.simulate import in_file_terms

COMPONENT_FIELDS = COMPONENTS
SHOWN_RUNS = 3  # runs named on a line of what stops several (the rest counted)


@dataclass(frozen=True)
class GridRun:
    """One cell of the grid: its directory name, config, and every reason it cannot run
    (:meth:`al.config.SimulationConfig.problems`; none: it can)."""

    name: str
    config: SimulationConfig
    problems: tuple[str, ...] = ()
    #: Whether the grid file names the cell's labels or the counts of its automatic pick: where it names none, a
    #: user's file with fewer eligible labels than the default pick keeps them all (:func:`keep_all_labels`).
    pick_given: bool = True

    @property
    def problem(self) -> str | None:
        """The first reason it cannot run, or None."""
        return self.problems[0] if self.problems else None


@dataclass(frozen=True)
class Preparation:
    """Once-per-pool work a grid runs ahead of its simulations (:meth:`al.engine.Simulation.prepare`).

    ``config`` is that of a run that reads it; ``part`` is ``"embeddings"`` or
    ``"strategy"``; ``size`` counts the characters of the texts it reads;
    ``splits``: the splits an embedding pass embeds; ``readers``: the names
    of the runs that read what it computes, which start after it ends.
    """

    name: str
    config: SimulationConfig
    part: str
    size: int
    splits: tuple[str, ...] = ()
    readers: frozenset[str] = frozenset()


def expand_grid(spec: dict[str, Any], source: str = "grid", notes: list[str] | None = None
                ) -> tuple[Path, list[GridRun]]:
    """The run directory root and every simulation of a grid file's mapping.

    Flat settings of earlier versions are mapped (see :func:`al.config.normalise_mapping`);
    their deprecation lines are appended to ``notes``.
    """
    notes = [] if notes is None else notes
    top = ("out", "settings", "grid", "description")
    unknown = sorted(set(spec) - set(top), key=str)
    if unknown and "grid" not in spec and set(map(str, unknown)) <= set(config_fields()):
        raise ConfigError(f"{source} holds one simulation's settings ({', '.join(map(str, unknown[:4]))}"
                          f"{and_more(len(unknown), 4)}), not a grid; run it with python -m al.simulate --config "
                          f"{source}, or put them under `settings:` beside `out:` and a `grid:` of what varies")
    if unknown:
        settings = [str(k) for k in unknown if str(k) in config_fields()]
        where = (f" ({', '.join(settings)} {'is a setting' if len(settings) == 1 else 'are settings'}: put "
                 f"{'it' if len(settings) == 1 else 'them'} under `settings:`, or list values under `grid:`)"
                 if settings else "")
        raise ConfigError(f"{source}: unknown top-level key(s) {unknown}{did_you_mean([str(k) for k in unknown], top)}"
                          f"{where}; expected out, settings, grid, description")
    if "out" not in spec:
        raise ConfigError(f"{source}: missing `out`, the directory that will hold one run directory per simulation; "
                          f"add out: runs/NAME to the file, or give --out")
    for key, example in (("settings", "{budget: 600}"), ("grid", "{strategy: [random, cvirs]}")):
        if spec.get(key) is not None and not isinstance(spec[key], dict):
            raise ConfigError(f"{source}: `{key}` must be a mapping such as {example}, got {spelled(spec[key])}")
    if not isinstance(spec["out"], str) or not spec["out"].strip():
        raise ConfigError(f"{source}: `out` must be a directory path, got {spelled(spec['out'])}")
    root = Path(spec["out"]).expanduser().resolve()
    settings, settings_notes = normalise_mapping(dict(spec.get("settings") or {}), f"{source}: settings")
    notes += settings_notes
    axes = []
    for key, values in (spec.get("grid") or {}).items():
        if not isinstance(values, list) or not values:
            example = f"; e.g. {key}: [{values}]" if isinstance(values, (str, int, float)) else ""  # one value
            raise ConfigError(f"{source}: grid.{key} must be a non-empty list, got {spelled(values)}{example} (a "
                              f"value every simulation shares goes in settings)")
        axes.append([(key, _label(key, v, source), _fields(key, v, source)) for v in values])
    for key in settings:  # a plain setting every value of an axis replaces (components and mappings merge)
        if key in COMPONENT_FIELDS or key in ("data_options", "strategy_params", "classifier_params", "space_params"):
            continue
        axis = next((axis for axis in axes if all(key in updates for _, _, updates in axis)), None)
        if axis is not None:
            name = axis[0][0]
            values = "" if name == key else f", or from the values of grid.{name} that set it"
            raise ConfigError(f"{source}: settings.{key} is read by nothing: every value of grid.{name} sets {key}; "
                              f"remove it from settings{values}")
    runs = []
    fields = set(config_fields())
    unknown_said: str | None = None  # the first cell's unknown settings, refused after the rest are read
    for combo in itertools.product(*axes) if axes else [()]:
        values = dict(settings)
        for _, _, updates in combo:
            values = merge_settings(values, updates)
        values, cell_notes = normalise_mapping(values, source)
        notes += [n for n in cell_notes if n not in notes]
        name = "__".join(f"{key}-{label}" for key, label, _ in combo) or "run"
        for field in PATH_FIELDS:
            if isinstance(values.get(field), (str, os.PathLike)) and values[field]:  # other types: validate says
                given = Path(values[field]).expanduser()
                values[field] = str(given.resolve())
                beside = Path(source).parent / given
                if not given.is_absolute() and not given.exists() and beside.exists() and Path(source).is_file():
                    note = (f"{field} {str(given)!r} is read from the current directory ({Path.cwd()}), which does "
                            f"not hold it; the grid file's folder does ({beside.resolve()}): run from there, or give "
                            f"the path from here or in full")
                    notes += [note] if note not in notes else []
                elif not given.is_absolute() and not given.exists():
                    note = (f"{field} {str(given)!r} is read from the current directory ({Path.cwd()}), which does "
                            f"not hold it: run the grid from the folder its relative paths start from (the "
                            f"checkout's root for simulations/), or give the path in full")
                    notes += [note] if note not in notes else []
        if values.get("out") is not None:  # it would be overwritten below: read by nothing
            raise ConfigError(f"{source}: out in {_given_in(['out'], combo)} is read by nothing: each run of a grid "
                              f"goes to its cell's folder below the file's top-level out (or --out); remove it, or "
                              f"move it to the top level")
        values["out"] = str(root / name)
        unknown_fields = sorted(set(values) - fields)
        if unknown_fields:  # said once every cell is read: with what else the cells would refuse (a misspelt value)
            unknown_said = unknown_said or (f"{source}: unknown setting(s) {unknown_fields} in "
                                            f"{_given_in(unknown_fields, combo)}"
                                            f"{unknown_settings_hint(unknown_fields, fields)}")
            values = {key: value for key, value in values.items() if key in fields}
        if any(run.name == name for run in runs):
            raise ConfigError(f"{source}: two cells are both named {name} and would share one run directory; "
                              f"list each value of an axis once (or give each mapping its own `name`)")
        if values.get("threads") is not None:
            raise ConfigError(f"{source}: threads is set by --workers in a grid (with several workers each gets "
                              f"cores / workers threads; one worker runs in this process); remove it from "
                              f"{_given_in(['threads'], combo)}")
        config = from_mapping(values, source)
        problems = tuple(dict.fromkeys(in_file_terms(str(exc)) + _pairing_hint(exc, combo)
                                       for exc in config.problems()))
        pick_given = any(values.get(key) not in (None, [], "") for key in ("labels", "n_frequent", "n_rare"))
        runs.append(GridRun(name, config, problems, pick_given))
    if unknown_said is not None:  # with the misspelt names the cells hold (not what the keys left out would change)
        also = list(dict.fromkeys(problem for run in runs for problem in run.problems
                                  if problem.startswith("unknown ")))
        raise ConfigError(unknown_said + (f"; and the cells would refuse: {'; '.join(also[:3])}"
                                     f"{and_more(len(also), 3)}" if also else ""))
    return root, runs


def keep_all_labels(runs: Sequence[GridRun]) -> tuple[list[GridRun], list[str]]:
    """``runs``, each cell on a user's file whose grid file names no labels nor counts (:attr:`GridRun.pick_given`)
    keeping every eligible label where the file has fewer than the default pick asks for, as ``al.simulate`` keeps
    them (:func:`al.simulate.every_label_kept`); and a note for each file so read, in the grid file's terms.

    Each file's corpus is read once here; one that cannot be read, or picked from otherwise, is left to the run
    (and to ``--dry-run``), which says why.
    """
    from al.datasets import USER_FILE_DATASETS
    from al.errors import LabelPickError
    from al.simulate import every_label_kept, load_config_corpus

    kept: dict[str, tuple[int, int] | None] = {}  # the data settings of a cell -> the counts that keep every label
    out, notes = [], []
    for r in runs:
        config = r.config
        if r.pick_given or r.problem is not None or config.dataset not in USER_FILE_DATASETS:
            out.append(r)
            continue
        key = json.dumps({k: v for k, v in config.resolved().items() if k in DATA_SETTINGS}, sort_keys=True,
                         default=str)
        if key not in kept:
            kept[key] = None
            try:
                load_config_corpus(config)
            except LabelPickError as exc:
                if (every := every_label_kept(config, exc)) is not None:
                    kept[key] = (every[0].n_frequent, every[0].n_rare)
                    note = in_file_terms(every[1])
                    notes += [note] if note not in notes else []
            except ALError:  # the run (and a dry run) says what is wrong with the data
                pass
        counts = kept[key]
        out.append(r if counts is None else
                   GridRun(r.name, replace(config, n_frequent=counts[0], n_rare=counts[1]), r.problems, r.pick_given))
    return out, notes


def _pairing_hint(exc: Exception, combo: Sequence[tuple[str, str, dict[str, Any]]]) -> str:
    """For a space nothing in the cell reads, where the strategy and the space come from two axes crossed: how to
    pair them in one axis of mappings instead, so each strategy meets only the spaces it reads."""
    if not isinstance(exc, SpaceReadersError):
        return ""
    from_axis = {field: axis for axis, _, updates in combo for field in updates}
    if from_axis.get("strategy") in (None, from_axis.get("space")) or "space" not in from_axis:
        return ""
    return (f" (axes {from_axis['strategy']} and {from_axis['space']} cross every strategy with every space: pair "
            f"them in one axis of mappings, e.g. arm: [{{name: random, strategy: random}}, {{name: ce-cea, strategy: "
            f"class_embedding, space: cea}}], as simulations/spaces.yaml does)")


def _given_in(fields: Sequence[str], combo: Sequence[tuple[str, str, dict[str, Any]]]) -> str:
    """Where a grid file gives ``fields``: ``settings``, or the values of the cell's axes (``combo``) that set them."""
    return ", ".join(dict.fromkeys(next((f"grid.{axis} value {label!r}" for axis, label, updates in combo
                                         if field in updates), "settings") for field in fields))


def _label(key: str, value: Any, source: str) -> str:
    if key in COMPONENT_FIELDS:
        return _slug(Component.coerce(value, f"{source}: grid.{key}").label())
    if isinstance(value, dict):
        if "name" not in value:
            raise ConfigError(f"{source}: each mapping in grid.{key} needs a `name` (it names the run directory)")
        name = "" if value["name"] is None else str(value["name"])  # name: (nothing) reads as null
        if not name.strip() or any(c in name for c in "/\\"):  # folders below the cell's (or on Windows)
            fix = re.sub(r"[/\\]+", "_", name).strip() or key
            raise ConfigError(f"{source}: grid.{key} name {name!r} is no folder name for the cell's run directory "
                              f"(a '/' makes folders below it, an empty one names nothing); give one, e.g. name: "
                              f"{fix}")
        return name
    return str(value).replace("/", "_").replace(":", "_")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=,-]+", "_", text).strip("_")


def _fields(key: str, value: Any, source: str) -> dict[str, Any]:
    if key in COMPONENT_FIELDS:
        return {key: Component.coerce(value, f"{source}: grid.{key}").to_dict()}
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k != "name"}
    if key not in set(config_fields()):
        raise ConfigError(f"{source}: grid.{key} is not a setting{did_you_mean([key], config_fields())}; use a list of mappings with `name` "
                          f"to set several")
    return {key: value}


@contextmanager
def _in_worker(defer_busy_caches: bool) -> Iterator[list[warnings.WarningMessage]]:
    """How a grid task runs: no progress bars, busy caches deferred if asked, warnings recorded.

    Entering ``catch_warnings`` resets Python's once-per-place registry, so each
    task records its own warnings as a lone run would show them.
    """
    from al.cache import deferring_busy_locks

    # parallel workers' progress would interleave; the grid reports per task (then as it was: a grid run in this
    # process, one worker or the Python API, leaves no trace)
    with quiet_while(True), deferring_busy_locks() if defer_busy_caches else nullcontext(), \
            warnings.catch_warnings(record=True) as caught:
        yield caught


def run_one(config_values: dict[str, Any], defer_busy_caches: bool = False) -> dict[str, Any]:
    """Run (or resume, or skip) one simulation under an exclusive lock; never raises ALError.

    With ``defer_busy_caches``, a simulation that needs a cache another process
    is filling stops there and comes back ``deferred`` (its finished rounds are
    kept; run again, it resumes) instead of waiting for that process.
    """
    from al.cache import CacheBusy
    from al.records import RunRecords, read_rounds, run_lock
    from al.simulate import compare_stored, run_as_command, source_changed, strategy_source

    config = SimulationConfig(**config_values)
    run_dir = config.run_dir
    start = time.perf_counter()

    def complete() -> dict[str, Any] | None:
        """A finished run's result: complete, or failed if it holds other settings or data (an edited grid file),
        or records that cannot be read (a damaged ``rounds.jsonl``)."""
        try:
            done = read_rounds(run_dir)
        except ALError as exc:
            return {"status": "failed", "out": str(run_dir), "seconds": 0.0, "message": str(exc)}
        if config.continued_rounds(done) < config.n_rounds:  # rounds left, or a budget raised since
            return None
        try:  # reads only (archives may be read-only); data that moved with its runs is known by its digest,
            stored = compare_stored(config, RunRecords(run_dir))  # a data file re-saved with other bytes by its corpus
            changed = source_changed(stored, strategy_source(config), run_dir)  # a user's strategy edited since
        except ALError as exc:
            return {"status": "failed", "out": str(run_dir), "seconds": 0.0, "message": str(exc)}
        return {"status": "complete", "out": str(run_dir), "rounds": len(done), "seconds": 0.0,
                "macro_f1": done[-1]["macro_f1"], "warnings": [changed] if changed else []}

    if (finished := complete()) is not None:
        return finished
    loading: list[warnings.WarningMessage] = []  # what reading the corpus here warns of: the run's warnings
    if not run_dir.exists():  # a new run whose data cannot give what it asks leaves no folder behind
        from al.engine import check_pool_sizes
        from al.simulate import load_config_corpus

        try:  # the corpus is kept in this process: the run reads it from there (and warns of it no more)
            with _in_worker(defer_busy_caches) as loading:
                check_pool_sizes(config.initial, config.budget, len(load_config_corpus(config).splits["train"]),
                                 config.pool_size)
        except ALError as exc:
            return {"status": "failed", "out": str(run_dir), "seconds": time.perf_counter() - start,
                    "message": str(exc), "warnings": _messages(loading)}
        except Exception:  # noqa: BLE001 - anything else the run meets, and reports, itself
            pass
    with ExitStack() as held:
        try:
            held.enter_context(run_lock(run_dir))  # the run inside takes it again: re-entrant in this process
        except RunBusyError:
            return {"status": "busy", "out": str(run_dir), "seconds": 0.0,
                    "message": "another process holds its lock"}
        except ALError as exc:  # a directory that cannot be made or written
            return {"status": "failed", "out": str(run_dir), "seconds": 0.0, "message": str(exc)}
        if (finished := complete()) is not None:  # finished by another process since the first look
            return finished
        done = read_rounds(run_dir)
        extended = bool(done) and stored_budget(config) is not None  # read before the run writes its own
        try:
            with _in_worker(defer_busy_caches) as caught:
                rounds = run_as_command(config, quiet=True)
        except ALError as exc:
            return {"status": "failed", "out": str(run_dir), "seconds": time.perf_counter() - start,
                    "message": str(exc), "warnings": _messages([*loading, *caught])}
        except CacheBusy as exc:
            return {"status": "deferred", "out": str(run_dir), "seconds": time.perf_counter() - start,
                    "message": str(exc)}
        except Exception as exc:  # noqa: BLE001 - a bug in one run's code (a plugin's) must not stop the others
            return {"status": "failed", "out": str(run_dir), "seconds": time.perf_counter() - start,
                    "message": _code_error(exc), "warnings": _messages([*loading, *caught])}
    status = "extended" if extended else "resumed" if done else "done"
    return {"status": status, "out": str(run_dir), "rounds": len(rounds), "seconds": time.perf_counter() - start,
            "round_seconds": round_seconds(rounds[config.continued_rounds(done):]),
            "macro_f1": rounds[-1]["macro_f1"], "warnings": _messages([*loading, *caught])}


#: A round's own seconds in its record (a classifier's parts, ``seconds_train_dev``, are within ``seconds_train``;
#: ``seconds_embed``, ``seconds_prepare`` and ``seconds_replay`` are a process's, once).
ROUND_SECONDS = ("seconds_space", "seconds_train", "seconds_evaluate", "seconds_query", "seconds_stopping",
                 "seconds_diagnostics")


def round_seconds(records: Sequence[Mapping[str, Any]]) -> float:
    """The seconds ``records``' rounds took themselves: a run's time less what it paid once (loading, embedding)."""
    return float(sum(r.get(key) or 0.0 for r in records for key in ROUND_SECONDS))


def _preparing(config: SimulationConfig) -> SimulationConfig:
    """The config a preparation builds its simulation from: a random start (a chosen one is the run's to embed)."""
    return replace(config, initial_strategy="random", label_descriptions=None)


def prepare_one(config_values: dict[str, Any], part: str, splits: Sequence[str] = (),
                defer_busy_caches: bool = False) -> dict[str, Any]:
    """Compute one :class:`Preparation` into the caches; never raises ALError (see :func:`run_one`).

    Nothing is recorded. Its warnings come back as a run's do (an ALPS head's
    fitting loss, a precision the CPU only emulates): the runs that read what
    it computed then load it from the cache.
    """
    from al.cache import CacheBusy
    from al.simulate import build_simulation

    start = time.perf_counter()
    try:
        with _in_worker(defer_busy_caches) as caught:
            _, simulation = build_simulation(_preparing(SimulationConfig(**config_values)))
            simulation.prepare(part, splits if part == "embeddings" else None)
    except ALError as exc:
        return {"status": "failed", "seconds": time.perf_counter() - start, "message": str(exc),
                "warnings": _messages(caught)}
    except CacheBusy as exc:
        return {"status": "deferred", "seconds": time.perf_counter() - start, "message": str(exc)}
    except Exception as exc:  # noqa: BLE001 - a bug in a strategy's prepare: the runs meet it and say so
        return {"status": "failed", "seconds": time.perf_counter() - start, "message": _code_error(exc),
                "warnings": _messages(caught)}
    return {"status": "prepared", "seconds": time.perf_counter() - start, "warnings": _messages(caught)}


def in_file_terms_of(result: dict[str, Any]) -> dict[str, Any]:
    """A run's or preparation's result with its message and warnings naming settings as the grid file does
    (:func:`al.simulate.in_file_terms`): "lower budget", not "lower --budget"."""
    told = {}
    if result.get("message"):
        told["message"] = in_file_terms(result["message"])
    if result.get("warnings"):
        told["warnings"] = [in_file_terms(w) for w in result["warnings"]]
    return {**result, **told}


def _code_error(exc: Exception) -> str:
    """One line for an exception that is no al error (a bug in a plugin's code): its type, text and line."""
    return f"{exception_text(exc)}{raised_at(exc)}"


def _messages(caught: Sequence[warnings.WarningMessage]) -> list[str]:
    """The distinct messages of caught warnings, in order."""
    return list(dict.fromkeys(str(w.message) for w in caught))


def refusal(config: SimulationConfig) -> str | None:
    """Why ``config``'s run directory will refuse it, or None: it holds a run with other result settings or data,
    or records that cannot be read (a damaged ``config.json`` or ``rounds.jsonl``).

    The comparison the run itself makes (:func:`al.simulate.compare_stored`),
    reading only: settings and the data file's digest first; the corpus is
    loaded only where they leave it to its digest (other ``data_options``, a
    data file re-saved with other bytes), so a partial run of the same
    settings, or one whose file was re-saved with the same corpus, is no
    refusal. Anything else that goes wrong here is not one either: the run
    meets it and says so, as it did before this look.
    """
    from al.records import RunRecords, read_config, read_rounds
    from al.simulate import compare_stored

    if not config.run_dir.exists():  # nothing stored (a grid's first start): nothing to compare
        return None
    try:
        read_config(config.run_dir)
        read_rounds(config.run_dir)
    except ALError as exc:  # damaged records: the run stops on them at once
        return str(exc)
    try:
        compare_stored(config, RunRecords(config.run_dir))
    except ConfigError as exc:  # other settings or data
        return str(exc)
    except Exception:  # noqa: BLE001 -- not a refusal (data that cannot be read...): the run meets it and says so
        return None
    return None


def missing_model(config: SimulationConfig, seen: dict[str, str | None]) -> str | None:
    """Why ``config``'s run cannot load its first model that cannot load here, or None (:func:`missing_models`)."""
    return next(iter(missing_models(config, seen)), None)


def same_simulations(runs: Sequence[GridRun]) -> list[str]:
    """``A and B are the same simulation (...)`` for each pair of cells whose settings are equal once every
    component's defaults are filled in (``cvirs`` and ``cvirs`` given ``threshold: 0.5``, its default), where
    they differ only in where the run goes and how it runs (:data:`~al.config.NON_RESULT_SETTINGS`)."""
    seen: dict[str, str] = {}
    pairs = []
    for run in runs:
        if run.problem is not None:  # said as its own problem; unresolvable
            continue
        try:
            resolved = run.config.resolved()
        except ALError:  # a problem the run says when it starts
            continue
        key = json.dumps({k: canonical(k, v) for k, v in resolved.items() if k not in NON_RESULT_SETTINGS},
                         sort_keys=True, default=str)  # a threshold "fixed" is 0.5, as the runs' settings compare
        if key in seen:
            pairs.append(f"cells {seen[key]} and {run.name} are the same simulation (their settings are equal "
                         f"once every component's defaults are filled in)")
        else:
            seen[key] = run.name
    return pairs


def edited_since(config: SimulationConfig) -> str | None:
    """What the grid would warn of ``config``'s run directory: a user's strategy file edited since it last ran there
    (:func:`al.simulate.source_changed`), with ``{runs}`` where its directory is named; None where nothing is, or
    the records cannot be read (the dry run names that)."""
    from al.records import read_config
    from al.simulate import source_changed, strategy_source

    try:
        note = source_changed(read_config(config.run_dir), strategy_source(config), "{runs}")
    except ALError:
        return None
    return note


def missing_models(config: SimulationConfig, seen: dict[str, str | None]) -> list[str]:
    """Why ``config``'s run cannot load each of its models that cannot load here (:func:`al.simulate.run_models`),
    in the run's order; ``seen`` keeps each model's answer, so a grid resolves each name once."""
    from al.models import resolve_model
    from al.simulate import run_models, where_model

    problems = ((where, _once(seen, model, lambda: resolve_model(model))) for model, where in run_models(config))
    return [where_model(where, problem) for where, problem in problems if problem is not None]


def _once(seen: dict[Any, str | None], key: Any, check: Callable[[], object]) -> str | None:
    """``check()``'s refusal (an :class:`ALError`'s line) or None, kept in ``seen`` under ``key``: asked once."""
    if key not in seen:
        try:
            check()
            seen[key] = None
        except ALError as exc:
            seen[key] = str(exc)
    return seen[key]


def unreadable_corpus(config: SimulationConfig, seen: dict[Any, str | int]) -> str | None:
    """Why ``config``'s corpus cannot be read and reduced as it asks (too few labels for ``n_frequent`` +
    ``n_rare``, a label it names that the data lacks, a ``pool_size`` beyond the pool...), cannot hold its
    ``initial`` and ``budget``, or its label descriptions file names a label the data lacks, or None; ``seen``
    keeps each corpus's refusal or pool size, so a dry run reads each once."""
    from al.engine import check_pool_sizes
    from al.simulate import check_classifier_labels, corpus_identity, has_label_check, load_config_corpus

    try:
        identity = corpus_identity(config)
        if identity not in seen:
            try:
                seen[identity] = len(load_config_corpus(config).splits["train"])
            except ALError as exc:
                seen[identity] = str(exc)
        if isinstance(seen[identity], str):
            return str(seen[identity])
        check_pool_sizes(config.initial, config.budget, int(seen[identity]), config.pool_size)
        if has_label_check(config):  # bert's aux_confusable: the corpus kept from the read above
            check_classifier_labels(config, load_config_corpus(config).label_names)
        if config.initial_strategy == "label_names" and config.label_descriptions:  # read before the pool embeds
            from al.initial import load_label_descriptions

            corpus = load_config_corpus(config)  # kept from the read above
            with warnings.catch_warnings():  # a file describing some labels only: the run itself says so
                warnings.simplefilter("ignore", UserWarning)
                load_label_descriptions(config.label_descriptions, corpus.label_names, corpus.left_out_labels)
    except ALError as exc:
        return str(exc)
    return None


#: The settings that read and reduce a corpus and size a run on it (:func:`unreadable_data`).
DATA_SETTINGS = ("dataset", "data_path", "labels", "n_frequent", "n_rare", "data_options", "pool_size", "initial",
                 "step", "budget", "initial_strategy", "label_descriptions")


def unreadable_data(config: SimulationConfig, seen: dict[Any, str | int]) -> str | None:
    """:func:`unreadable_corpus` of a cell that other settings refuse, its data settings alone (the others at their
    defaults; a bad ``step`` too, which neither the corpus nor the pool's size reads); None where those are not
    sound themselves (their own problems are said)."""
    import dataclasses

    given = {key: getattr(config, key) for key in DATA_SETTINGS}
    for probe in (dataclasses.replace(SimulationConfig(), **given),
                  dataclasses.replace(SimulationConfig(), **{k: v for k, v in given.items() if k != "step"})):
        try:
            if not probe.problems():
                return unreadable_corpus(probe, seen)
        except Exception:  # noqa: BLE001 - values the checks cannot read: said as the cell's own problems
            return None
    return None


def plan_preparation(runs: Sequence[GridRun], refusals_checked: bool = False) -> list[Preparation]:
    """The once-per-pool work the unfinished runs share, one task each, costliest first.

    Per corpus and embedding setting (model, precision, device), one
    embedding pass over the union of the splits its runs embed before their
    first round (:meth:`al.engine.Simulation.embedded_splits`, and the pool for
    a start chosen from embeddings), so that every run then finds its texts
    cached; per corpus and strategy setting that prepares its pool
    (:meth:`al.strategy.Strategy.prepare`), that work. Strategies' work goes
    first (ALPS's head fit and masked-LM pass cost more than an embedding
    pass), then embeddings; within each, more text first. A strategy's pass
    that can give the pool's sentence vectors too does
    (:meth:`al.engine.Simulation.offer_encoder_pass`: ALPS's surprisal pass,
    for texts of at most 128 tokens): an embedding pass that starts after it
    computes only the rest. None waits for the other: on two workers an
    embedding pass that waited for the ALPS pass made a cold quick grid
    slower, Reuters' texts being mostly longer (benchmarks/RESULTS.md,
    section 12.19). Every run starts after the preparations it reads
    (``readers``), so none computes them a second time meanwhile. Each run's
    simulation is built here, without a model (about 1 s for 60 runs); a run
    that cannot be built is left to report why itself.
    A run its directory will refuse (:func:`refusal`: an edited grid file
    rerun into the same ``out``) reads none of it and is left out
    (``refusals_checked``: the caller left such runs out already).
    """
    from al.records import read_rounds
    from al.simulate import build_simulation, corpus_identity

    embeddings: dict[tuple, tuple[SimulationConfig, Any, set[str]]] = {}  # key -> first config, corpus, splits
    plans: dict[tuple, Preparation] = {}
    readers: dict[tuple, set[str]] = {}  # key -> the runs that read it
    for r in runs:
        config = r.config
        try:
            if r.problem is not None or config.continued_rounds(read_rounds(config.run_dir)) >= config.n_rounds \
                    or (not refusals_checked and refusal(config) is not None):
                continue
            corpus, simulation = build_simulation(_preparing(config))
            identity = corpus_identity(config)
        except Exception:  # noqa: BLE001 -- planning only saves time; the run itself reports what is wrong
            continue
        splits = set(simulation.embedded_splits()) | ({"train"} if config.initial_strategy != "random" else set())
        embedding_key = ("embeddings", identity, config.model, config.embed_precision, config.device)
        if splits:
            embeddings.setdefault(embedding_key, (config, corpus, set()))[2].update(splits)
            readers.setdefault(embedding_key, set()).add(r.name)
        strategy = simulation.strategy
        if strategy.prepares_pool():
            work = strategy.prepare_key()
            if work is None:  # every parameter as given, and the run's settings the strategy reads
                run_set = tuple((setting, getattr(config, setting)) for setting in type(strategy).run_params.values())
                work = (json.dumps(config.strategy.to_dict(), sort_keys=True, default=str), run_set)
            key = ("strategy", identity, f"{type(strategy).__module__}.{type(strategy).__qualname__}", work)
            readers.setdefault(key, set()).add(r.name)
            if key not in plans:
                plans[key] = Preparation(f"{_data_named(config, corpus)}: {config.strategy.label()}'s pool work",
                                         config, "strategy", sum(map(len, corpus.texts[corpus.splits["train"]])))
    for key, (config, corpus, union) in embeddings.items():
        ordered = tuple(s for s in ("train", "test", "dev") if s in union)
        size = sum(len(text) for s in ordered for text in corpus.texts[corpus.splits[s]])
        plans[key] = Preparation(f"{_data_named(config, corpus)}: embeddings ({config.model}, "
                                 f"{config.embed_precision})", config, "embeddings", size, ordered)
    plans = {key: dataclasses.replace(p, readers=frozenset(readers[key])) for key, p in plans.items()}
    return sorted(plans.values(), key=lambda p: (p.part != "strategy", -p.size))


def _data_named(config: SimulationConfig, corpus: Any) -> str:
    """How a once-per-pool task names its data: a file of one's own by its name (``topics.csv`` and
    ``topics.jsonl`` are two tasks), a packaged data set by its corpus's."""
    from al.datasets import USER_FILE_DATASETS

    return Path(config.data_path).name if config.dataset in USER_FILE_DATASETS and config.data_path else corpus.name


def prerequisites(preparations: Sequence[Preparation]) -> Callable[[Any], tuple[Preparation, ...]]:
    """:func:`dispatch`'s ``waits_for``: for a run, the preparations it reads (those whose ``readers`` name it)."""
    by_run: dict[str, list[Preparation]] = {}
    for p in preparations:
        for name in p.readers:
            by_run.setdefault(name, []).append(p)

    def waits_for(item: Any) -> tuple[Preparation, ...]:
        return () if isinstance(item, Preparation) else tuple(by_run.get(item.name, ()))

    return waits_for


def _task(item: GridRun | Preparation, defer: bool) -> tuple[Any, ...]:
    """The worker function for a run or a preparation, followed by its arguments."""
    if isinstance(item, Preparation):
        return prepare_one, item.config.to_dict(), item.part, item.splits, defer
    return run_one, item.config.to_dict(), defer


#: Whether this worker process is running a task (:func:`in_pool`), which SIGTERM then stops with its work kept.
_TASK_RUNNING = False


def in_pool(function: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """``function(*args)`` in a pool worker: SIGTERM stops it as Ctrl-C stops a lone run, keeping what it finished
    (an embedding's vectors, its rounds), then ends the worker (:func:`_stop_worker`)."""
    global _TASK_RUNNING
    try:
        _TASK_RUNNING = True
        try:
            return function(*args)
        finally:
            _TASK_RUNNING = False
    except Terminated:  # in the task, or as it ended (the signal between its return and the flag's reset): a
        # Terminated that left this frame was taken for the task's result, and the worker, its SIGTERM now ignored,
        # waited for the next task of a grid that was gone
        os._exit(128 + signal.SIGTERM)  # what it finished is on disk: the same grid command resumes it


def _stop_worker(signum: int, frame: object) -> None:
    """A pool worker's SIGTERM: a task stops where it is (:class:`Terminated`, caught by :func:`in_pool`), an idle
    worker ends at once. Once: the saving that follows is not cut short by the next (its parent's end)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if not _TASK_RUNNING:
        os._exit(128 + signum)
    raise Terminated


def _init_worker(threads: int, parent: int | None = None) -> None:
    """A grid worker's share of the cores: torch, BLAS and OpenMP pools each get at most ``threads``
    (:func:`al.device.limit_threads`; ``python -m al.simulate --threads`` gives a lone run the same).

    With ``parent`` (the grid's pid), the worker ends when the grid process does, even when it is killed
    outright (:func:`exit_with_parent`).
    """
    from al.device import limit_threads

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C reaches the grid, which stops its workers
    signal.signal(signal.SIGTERM, _stop_worker)
    if parent is not None:
        exit_with_parent(parent)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    limit_threads(threads)
    set_quiet(True)  # a worker process's progress would interleave with the others': the grid reports per task


def exit_with_parent(parent: int, poll: float = 1.0) -> None:
    """End this process (SIGTERM) when process ``parent`` ends, however it ends (``kill -9`` too).

    A worker pool's own shutdown needs its parent alive; a killed grid would
    leave its workers idle for ever. On Linux the kernel sends the signal
    (``prctl(PR_SET_PDEATHSIG)``); elsewhere a daemon thread polls the parent's
    pid every ``poll`` seconds. A parent gone before this call (the worker was
    adopted already) ends the worker at once.
    """
    if _parent_death_signal(signal.SIGTERM):
        if os.getppid() != parent:  # died before the request was in place: no signal will come
            os.kill(os.getpid(), signal.SIGTERM)
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _parent_death_signal(signum: int) -> bool:
    """Ask Linux to send ``signum`` to this process when its parent ends; False where that cannot be asked."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    PR_SET_PDEATHSIG = 1
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, as Slurm or taskset set it), else the machine's."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity on this platform (macOS)
        return os.cpu_count() or 1


#: The status of a task whose worker process died under it (:func:`run_local`); :func:`dispatch` runs it again once.
LOST = "lost"
WORKER_LOST = ("a grid worker process ended abruptly (killed, by the out-of-memory killer perhaps; the pool of "
               "workers ends with any of them) while this task was in flight")


def dispatch(
    runs: Sequence[Any],
    capacity: int,
    start: Callable[[Any, bool], Hashable],
    wait_any: Callable[[list[Hashable]], list[tuple[Hashable, dict[str, Any]]]],
    watch: InFlight | None = None,
    waits_for: Callable[[Any], Sequence[Any]] | None = None,
    lost_alone: bool = False,
) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Keep at most ``capacity`` simulations in flight, in grid order; yield (run, result) as each ends.

    ``runs`` may begin with :class:`Preparation` tasks; they are dispatched like runs.
    ``waits_for(task)``: the tasks of ``runs`` that must end (done, failed or
    any other result but ``deferred``) before ``task`` starts
    (:func:`prerequisites`); meanwhile the next task in order whose
    prerequisites have all ended starts, and a worker with none left waits.
    Default: none.

    ``start(run, defer_busy_caches)`` starts :func:`run_one` (:func:`prepare_one`
    for a preparation) and returns a handle;
    ``wait_any(handles)`` blocks until at least one ends and returns (handle,
    result) pairs. A simulation started while others wait to start does not
    idle on a cache lock held elsewhere (another run embedding the same pool or
    fitting the same ALPS head): it comes back ``deferred`` and is set aside
    until one of the runs in flight when it was deferred ends (the holder is
    one of them), and a worker takes the next simulation meanwhile. When
    nothing else is left to start, a set-aside run starts and waits for the
    lock, as a lone run does. Records are those of a lone run: a deferred run
    resumes from its finished rounds. ``watch``, if given, holds what is in
    flight (:class:`InFlight`, which :class:`Heartbeat` reports).

    A task that comes back :data:`LOST` (its worker died under it, and with it
    every task in flight) goes back to the front of the queue and resumes from
    its finished rounds, its result then carrying a warning; lost a second
    time, it is failed (a task that kills its worker, by memory most often,
    would kill the next one too), its message ending in the result's
    ``advice`` (default: fewer ``--workers``). ``lost_alone``: a worker's death takes every task in flight
    with it (a process pool breaks whole), so a task lost once runs again alone, nothing beside it: lost a
    second time, the loss is its own, not a neighbour's that ran out of memory.
    """
    watch = watch if watch is not None else InFlight()
    queue = deque(runs)
    aside: list[tuple[Any, set[Hashable]]] = []  # deferred runs and the handles in flight when they were
    running: dict[Hashable, Any] = {}
    unended = {id(r) for r in queue}  # by identity: a task may be unhashable, and two tasks may be equal
    lost: dict[int, str] = {}  # tasks lost once with their worker -> how
    alone: set[int] = set()  # tasks lost once that have not ended again: each runs alone (lost_alone)

    def ready(task: Any) -> bool:
        """Whether every task ``task`` waits for has ended."""
        return waits_for is None or not any(id(other) in unended for other in waits_for(task))

    while queue or aside or running:
        while len(running) < capacity and (queue or aside):
            if any(id(task) in alone for task in running.values()):
                break  # a task lost once runs alone
            at = next((i for i, task in enumerate(queue) if ready(task)), None)
            if at is not None and id(queue[at]) in alone and running:
                break  # it starts once the tasks in flight have ended
            if at is not None:
                r = queue[at]
                del queue[at]  # by position: an equal task further on is another one
                # defer only when there is something else to start, and never a task that runs alone
                running[start(r, any(map(ready, queue)) and id(r) not in alone)] = r
            elif aside:
                r, _ = aside.pop(0)
                running[start(r, False)] = r
            elif running:  # every task left waits for one in flight
                break
            else:  # waits for nothing that will end (a cycle): start it rather than wait for ever
                r = queue.popleft()
                running[start(r, False)] = r
            watch.began(r)
        for handle, result in wait_any(list(running)):
            r = running.pop(handle)
            watch.ended(r)
            if result["status"] == LOST and id(r) not in lost:
                lost[id(r)] = result["message"]
                if lost_alone:
                    alone.add(id(r))
                queue.appendleft(r)
                continue
            if result["status"] == LOST:
                out = getattr(getattr(r, "config", None), "run_dir", "")
                advice = result.pop("advice", "with fewer --workers if memory ran out")
                result = {**result, "out": str(out), "status": "failed",
                          "message": f"{result['message']}, twice; what it finished is kept: the same grid command "
                                     f"resumes it ({advice})"}
            elif id(r) in lost and result["status"] != "deferred":
                again = {"failed": "it ran again and failed", "busy": "another command runs it now",
                         "complete": "another command finished it meanwhile",
                         "done": "it ran again from the start (no round of it had finished)"}.get(
                    result["status"], "it ran again and resumed from its finished rounds")
                how = lost[id(r)]
                if not isinstance(r, GridRun):  # a preparation has no rounds: it computes what its cache lacks
                    again = "it ran again and failed" if result["status"] == "failed" else "it ran again"
                elif (out := getattr(getattr(r, "config", None), "run_dir", None)) is not None:
                    # named: each run lost is said (the grid says a warning once, the runs alike counted after)
                    how = how.replace("while this task was", f"while the run of {out} was")
                result = {**result, "warnings": [*result.get("warnings", ()), f"{how}; {again}"]}
            if result["status"] == "deferred":
                aside.append((r, set(running)))
                continue
            alone.discard(id(r))
            unended.discard(id(r))
            released = [handle in blockers or not blockers for _, blockers in aside]
            back = [a for (a, _), go in zip(aside, released) if go]
            aside = [entry for entry, go in zip(aside, released) if not go]
            queue.extendleft(reversed(back))  # their cache may be filled now: before the rest, in grid order
            yield r, result


def run_local(runs: Sequence[GridRun], workers: int, preparations: Sequence[Preparation] = (),
              watch: InFlight | None = None) -> Iterator[tuple[GridRun | Preparation, dict[str, Any]]]:
    """Yield (run, result) as simulations finish, ``workers`` at a time (see :func:`dispatch`).

    ``preparations`` go first (a lone worker skips them: its runs compute the same in turn).
    ``watch`` holds what is in flight (:class:`InFlight`).
    """
    watch = watch if watch is not None else InFlight()
    if workers <= 1:  # in this process: BLAS and OpenMP settings stay the user's; torch's as before
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            import torch

            torch.set_num_threads(os.cpu_count() or 1)
        except ImportError:
            pass
        for r in runs:
            watch.began(r)
            try:
                result = run_one(r.config.to_dict())
            finally:
                watch.ended(r)
            yield r, result
        return
    import multiprocessing
    from concurrent.futures.process import BrokenProcessPool

    threads = max(1, available_cores() // workers)

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(threads, os.getpid()))

    pools = [new_pool()]  # the last one takes new tasks; one whose worker died is replaced

    def start(r: GridRun | Preparation, defer: bool) -> Hashable:
        try:
            return pools[-1].submit(in_pool, *_task(r, defer))
        except BrokenProcessPool:
            pools[-1].shutdown(wait=False, cancel_futures=True)
            pools.append(new_pool())
            return pools[-1].submit(in_pool, *_task(r, defer))

    def wait_any(futures: list[Hashable]) -> list[tuple[Hashable, dict[str, Any]]]:
        done, _ = wait(futures, return_when=FIRST_COMPLETED)  # type: ignore[arg-type]
        ended = []
        for f in done:
            try:
                ended.append((f, f.result()))  # type: ignore[attr-defined]
            except BrokenProcessPool:  # a worker was killed (the OOM killer, kill): every task in flight is lost
                ended.append((f, {"status": LOST, "seconds": 0.0, "message": WORKER_LOST}))
        return ended

    try:
        yield from dispatch([*preparations, *runs], workers, start, wait_any, watch, prerequisites(preparations),
                            lost_alone=True)
    except BaseException:  # Ctrl-C or SIGTERM on this process alone, or the caller gone: the workers stop now
        for pool in pools:
            stop_workers(pool)
        raise
    finally:
        for pool in pools:
            pool.shutdown(wait=True)


#: Seconds stopped workers have to save what they finished (an embedding's vectors) before they are killed.
STOP_GRACE = 20.0


def stop_workers(pool: ProcessPoolExecutor, grace: float = STOP_GRACE) -> None:
    """End ``pool``'s worker processes (within ``grace`` seconds) and drop what waits, so that leaving the pool
    does not wait for the simulations in flight (each resumes from its last finished round, as after any kill).

    SIGTERM first: a task stops where it is and keeps what it finished, as a lone run on Ctrl-C does
    (:func:`in_pool`); a worker still alive after ``grace`` seconds is killed.
    """
    processes = [p for p in list((getattr(pool, "_processes", None) or {}).values()) if p.is_alive()]
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def run_ray(runs: Sequence[GridRun], address: str | None, preparations: Sequence[Preparation] = (),
            watch: InFlight | None = None) -> Iterator[tuple[GridRun | Preparation, dict[str, Any]]]:
    """Yield (run, result) as Ray tasks finish; connects to ``address`` unless Ray is already up.

    Every run is submitted once the preparations it reads have ended, as Ray
    schedules (and an autoscaling cluster grows) by the tasks waiting; a run
    that finds a cache being filled is submitted again after another ends
    (:func:`dispatch`). Preparations are submitted at once. A cluster that
    grows by the tasks waiting does not see the runs held back meanwhile.
    ``watch`` holds what is submitted and not yet back (:class:`InFlight`; on
    a cluster some of it may still wait for a CPU).
    """
    ray = connect_ray(address)
    # no retries of Ray's own: a task whose worker or node died comes back LOST, and dispatch runs it again once
    remote = {f: ray.remote(num_cpus=1, max_retries=0)(f) for f in (run_one, prepare_one)}
    lost_with_worker = ray_worker_losses(ray)
    raylet_gone = getattr(ray.exceptions, "LocalRayletDiedError", ())  # () catches nothing

    in_flight: set[Hashable] = set()  # submitted, not back: what a stop cancels
    submitted: dict[Hashable, float] = {}  # when: a task lost says how long it was in flight, its own clock gone

    def start(r: GridRun | Preparation, defer: bool) -> Hashable:
        function, *arguments = _task(r, defer)
        ref = remote[function].remote(*arguments)
        in_flight.add(ref)
        submitted[ref] = time.perf_counter()
        return ref

    def wait_any(refs: list[Hashable]) -> list[tuple[Hashable, dict[str, Any]]]:
        ready, _ = ray.wait(refs, num_returns=1)
        in_flight.difference_update(ready)
        ended = []
        for ref in ready:
            seconds = time.perf_counter() - submitted.pop(ref)  # since submitted: a wait for a CPU included
            try:
                ended.append((ref, ray.get(ref)))
            except raylet_gone as exc:  # this machine's Ray is gone (ray stop, a crash): no run can go on here
                in_flight.clear()  # nothing left to stop, nor to send a task to: the grid ends, one line for all
                raise RayClusterGone(RAY_CLUSTER_GONE.format(error=type(exc).__name__)) from None
            except lost_with_worker as exc:  # killed (the OOM killer), its node gone (a preempted machine)
                ended.append((ref, {"status": LOST, "seconds": seconds, "message": f"{RAY_WORKER_LOST} "
                                    f"({type(exc).__name__})", "advice": "on machines with more memory if it ran out"}))
        return ended

    items = [*preparations, *runs]
    try:
        yield from dispatch(items, len(items), start, wait_any, watch, prerequisites(preparations))
    except BaseException:  # Ctrl-C or SIGTERM, or the caller gone: the tasks stop now, keeping what they finished
        stop_ray_tasks(ray, list(in_flight))
        raise


def stop_ray_tasks(ray: Any, refs: Sequence[Hashable], grace: float = STOP_GRACE) -> None:
    """Stop the Ray tasks ``refs`` as :func:`stop_workers` stops a pool's: each is interrupted where it is (Ray's
    cancel raises KeyboardInterrupt in the task, which keeps what it finished, an embedding pass's vectors, as a
    lone run on Ctrl-C does); those not ended within ``grace`` seconds are killed with their workers."""
    if not refs or not ray.is_initialized():  # the connection closed already: asking would start another Ray
        return
    try:
        one = len(refs) == 1
        print(f"stopping: {counted(len(refs), 'task')} sent to Ray (running, or waiting for a CPU) "
              f"{'has' if one else 'have'} up to {grace:.0f} s to keep what {'it' if one else 'they'} finished",
              file=sys.stderr, flush=True)
    except (OSError, ValueError):  # the output's reader gone (a closed pipe): the tasks stop all the same
        pass
    for ref in refs:
        try:
            ray.cancel(ref, force=False)
        except Exception:  # noqa: BLE001 - ended meanwhile, or the cluster gone: nothing left to stop
            pass
    try:
        _, left = ray.wait(list(refs), num_returns=len(refs), timeout=grace)
    except Exception:  # noqa: BLE001 - the cluster gone under it
        return
    for ref in left:
        try:
            ray.cancel(ref, force=True)
        except Exception:  # noqa: BLE001
            pass


class RayClusterGone(ALError):
    """This machine's Ray ended under a grid's tasks (:func:`run_ray`): no run can go on, and the grid ends."""


#: What a grid whose machine's Ray ended under it says (:class:`RayClusterGone`): the cluster stopped, not a worker.
RAY_CLUSTER_GONE = ("this machine's Ray (its raylet) ended under the grid's tasks ({error}): the cluster was stopped "
                    "(ray stop) or crashed; what the runs finished is kept: start the cluster again and run the same "
                    "grid command to resume them")
#: What a run lost with its Ray worker or node is told (:func:`run_ray`).
RAY_WORKER_LOST = ("a Ray worker process or its machine ended abruptly (killed, by the out-of-memory killer perhaps, or "
                   "the node lost) while this task was in flight")


def ray_worker_losses(ray: Any) -> tuple[type[BaseException], ...]:
    """The errors ``ray.get`` raises for a task whose worker process or node died under it (not the task's own)."""
    names = ("WorkerCrashedError", "NodeDiedError", "OutOfMemoryError", "LocalRayletDiedError", "ObjectLostError")
    return tuple(getattr(ray.exceptions, name) for name in names if hasattr(ray.exceptions, name))


#: Seconds :func:`connect_ray` waits for a TCP connection to a cluster's address before it gives up.
RAY_PROBE_TIMEOUT = 5.0


#: The opening an HTTP/2 client sends: the connection preface and an empty SETTINGS frame (RFC 9113, 3.4).
_HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])


def answers_http2(host: str, port: int, timeout: float) -> bool | None:
    """Whether the server at ``host:port`` answers an HTTP/2 opening as gRPC servers (a Ray head's GCS, a Ray
    Client server) do, with a SETTINGS frame: True; another answer, or the connection closed: False; no answer
    within ``timeout``: None (unknown).

    Raises
    ------
    OSError
        Nothing accepts a connection there (``socket.timeout`` if nothing answers in ``timeout``).
    """
    import socket

    with socket.create_connection((host, port), timeout=timeout) as connection:
        connection.settimeout(timeout)
        try:
            connection.sendall(_HTTP2_PREFACE)
            head = b""
            while len(head) < 9:
                chunk = connection.recv(9 - len(head))
                if not chunk:
                    return False
                head += chunk
        except socket.timeout:
            return None
        except OSError:  # reset on reading the preface: not an HTTP/2 server
            return False
    return head[3] == 4  # a frame header: 3 bytes of length, then the type (4: SETTINGS)


#: How to fix a ``--ray`` address that is refused.
RAY_HINT = ("expected the address of a running Ray cluster's head (HOST:PORT, e.g. 10.0.0.5:6379, or auto for one "
            "`ray start --head` started on this machine); start one, or leave out --ray to run here")


def connect_ray(address: str | None, probe_timeout: float = RAY_PROBE_TIMEOUT, quiet: bool = False) -> Any:
    """The ``ray`` module, connected to the cluster at ``address`` (unless Ray is up already).

    A ``HOST:PORT`` (or ``ray://HOST:PORT``) address is first probed with a TCP
    connection of at most ``probe_timeout`` seconds and an HTTP/2 opening
    (:func:`answers_http2`): where nothing listens, or a server that is not a
    gRPC one (a web server, the dashboard's port), Ray itself would retry for
    a minute and more, logging as it goes. Ray's own
    failure to connect (``auto`` with no cluster here, a port that is no Ray
    head's, a cluster that refuses this command's authentication token) is one
    :class:`ConfigError` line too: what Ray's core logs on file descriptor 2
    meanwhile (a line a second) is held, shown once connected. ``quiet``: no
    "connecting ... so far" lines. ``address`` None starts a cluster of this
    process's own, as :func:`ray.init` does, nothing held.
    """
    import logging

    ray = check_ray(address, probe_timeout)
    if ray.is_initialized():
        return ray
    logged: list[str] = []
    joined = os.environ.get("RAY_ADDRESS") if address is None else None  # ray.init() joins the cluster it names
    doing = (f"connecting to the Ray cluster at {joined} (RAY_ADDRESS)" if joined else
             "starting a Ray cluster on this machine" if address is None else
             f"connecting to the Ray cluster at {ray_target(address)}")
    remote = bool(address or joined)  # workers that may run on other machines: they need this command's imports
    beat = nullcontext() if quiet else heartbeat(doing, *RAY_CONNECT_HEARTBEAT)
    main_thread = threading.current_thread() is threading.main_thread()
    sigterm = signal.getsignal(signal.SIGTERM) if main_thread else None
    try:
        with (fd_stderr_held(logged) if remote else nullcontext()), beat, ray_notice_dropped():
            ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING,
                     runtime_env=import_path_env() if remote else None)
    except SystemExit as exc:  # SIGTERM while it connects: ray.init's own handler exits with the signal's number
        if exc.code == signal.SIGTERM and sigterm is not None and sigterm is not signal.SIG_DFL:
            raise Terminated from None  # this command's handler was in place: stop as it would have
        raise
    except Exception as exc:  # noqa: BLE001 -- Ray raises ConnectionError, RuntimeError, TimeoutError...
        refusal = getattr(getattr(ray, "exceptions", None), "AuthenticationError", ())  # RAY_AUTH_MODE=token, none
        said = " ".join(str(exc).split())
        if isinstance(exc, refusal) or RAY_AUTH_REFUSED in said or RAY_AUTH_REFUSED in "".join(logged):
            raise ConfigError(ray_auth_advice(address)) from None
        last = next((line.strip() for line in reversed("".join(logged).splitlines()) if line.strip()), "")
        last = f"; Ray's last log line: {' '.join(last.split())[:300]}" if last and last not in said else ""
        raise ConfigError(f"--ray {address}: cannot connect ({said}{last}); {RAY_HINT}") from None
    finally:
        if sigterm is not None:  # ray.init puts in its handler (sys.exit): this command's goes back
            signal.signal(signal.SIGTERM, sigterm)
    sys.stderr.write("".join(logged))  # connected: what Ray's core said (a warning) is the user's to read
    return ray


#: Ray's logger of its token setup, whose notice on every connection ("Token authentication is enabled ... Set
#: RAY_AUTH_MODE=disabled to opt out") says nothing to act on and invites turning the cluster's security off.
RAY_TOKEN_LOGGER = "ray._private.authentication.authentication_token_setup"


@contextmanager
def ray_notice_dropped() -> Iterator[None]:
    """Inside the block, Ray's "token authentication is enabled" notice is not shown (:data:`RAY_TOKEN_LOGGER`);
    its other records are."""
    import logging

    class NoTokenNotice(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return "Token authentication is enabled" not in record.getMessage()

    logger, dropped = logging.getLogger(RAY_TOKEN_LOGGER), NoTokenNotice()
    logger.addFilter(dropped)
    try:
        yield
    finally:
        logger.removeFilter(dropped)


def no_cpu_note(ray: Any) -> str | None:
    """What to say of a cluster that offers no CPU (a head started with ``--num-cpus 0`` and no worker node yet),
    where every task would wait, the grid saying it works: None where it has one, or cannot be asked."""
    try:
        cpus = float(ray.cluster_resources().get("CPU", 0))
    except Exception:  # noqa: BLE001 - an older or other Ray: the tasks will tell
        return None
    if cpus >= 1:
        return None
    return ("the Ray cluster offers no CPU now (a head started with --num-cpus 0, and no worker node has joined): "
            "every run waits until a node with CPUs joins, one its autoscaler adds or one you start (ray start "
            "--address HEAD:PORT); without either, stop this and start the head with CPUs")


def ray_connected() -> bool:
    """Whether this process is connected to a Ray cluster already (Ray imported and initialised)."""
    ray = sys.modules.get("ray")
    return ray is not None and ray.is_initialized()


def shutdown_ray_undisturbed(ray: Any = None) -> None:
    """Close this process's Ray connection (``ray``: the module, by default the one imported) with Ctrl-C held off
    meanwhile: a second Ctrl-C landing in Ray's own shutdown at exit printed its traceback and once aborted the
    process (``munmap_chunk()``). SIGTERM ends the process at once meanwhile (a shutdown that hangs on a cluster
    gone can still be stopped)."""
    ray = ray if ray is not None else sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return
    held = threading.current_thread() is threading.main_thread()
    previous = {signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN),
                signal.SIGTERM: signal.signal(signal.SIGTERM, signal.SIG_DFL)} if held else {}
    try:
        ray.shutdown()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


#: Seconds before the first "connecting ... so far" line, and between such lines.
RAY_CONNECT_HEARTBEAT = (3.0, 5.0)
#: What Ray's core logs when a cluster refuses a connection for its authentication token.
RAY_AUTH_REFUSED = "InvalidAuthToken"


def ray_target(address: str | None) -> str | None:
    """``address`` as the user should read it: ``auto (RAY_ADDRESS=HOST:PORT)`` where Ray's auto reads a head's
    address from ``RAY_ADDRESS`` first."""
    named = os.environ.get("RAY_ADDRESS", "").strip() if address == "auto" else ""
    return f"{address} (RAY_ADDRESS={named})" if named not in ("", "auto") else address


def ray_auth_advice(address: str | None) -> str:
    """One line for a cluster that refused this command's connection for its authentication token: none was sent
    (Ray sends one to a HOST:PORT only under ``RAY_AUTH_MODE=token``; for ``auto``, one it finds, unless
    ``RAY_AUTH_MODE=disabled``), or it was not the cluster's."""
    where = "Ray reads the token from ~/.ray/auth_token, the file RAY_AUTH_TOKEN_PATH names, or RAY_AUTH_TOKEN"
    mode = os.environ.get("RAY_AUTH_MODE", "").lower()
    if mode == "disabled":
        return (f"--ray {address}: the cluster asks for Ray's authentication token, and RAY_AUTH_MODE=disabled sends "
                f"none; set RAY_AUTH_MODE=token ({where})")
    named = os.environ.get("RAY_ADDRESS", "").strip()  # what auto reads first: a HOST:PORT there is one given
    if mode != "token" and (address not in (None, "auto") or named not in ("", "auto")):
        given = ("an address given as HOST:PORT" if address not in (None, "auto")
                 else f"a HOST:PORT, as --ray auto reads RAY_ADDRESS={named},")
        return (f"--ray {address}: the cluster asks for Ray's authentication token, and Ray sends none to {given} "
                f"unless RAY_AUTH_MODE=token is set; run `RAY_AUTH_MODE=token python -m al.grid ...` ({where}), or "
                f"give --ray auto{' with RAY_ADDRESS unset' if named else ''} for a cluster started on this machine")
    named_file = os.environ.get("RAY_AUTH_TOKEN_PATH", "").strip()
    if named_file and not os.environ.get("RAY_AUTH_TOKEN") and not os.path.isfile(os.path.expanduser(named_file)):
        return (f"--ray {address}: the cluster asks for Ray's authentication token, and RAY_AUTH_TOKEN_PATH names "
                f"{named_file}, which is no file here; write the head's token there (`ray get-auth-token` on the "
                f"head prints it), or point RAY_AUTH_TOKEN_PATH at the file that holds it")
    return (f"--ray {address}: the cluster refused the authentication token this command sent, or found none; give "
            f"it the token of the cluster's head ({where}; `ray get-auth-token` on the head prints it)")


@contextmanager
def fd_stderr_held(into: list[str]) -> Iterator[None]:
    """Run the block with file descriptor 2 written to a temporary file (what a library's C++ core logs there,
    past ``sys.stderr``); its text is added to ``into`` after the block, whatever it raised. Where ``sys.stderr``
    is file descriptor 2, it goes on to the terminal meanwhile (a heartbeat's lines); where it is not (a
    notebook, a capture), it is left as it is. Nothing is held where file descriptor 2 cannot be copied."""
    import tempfile
    from contextlib import redirect_stderr

    try:
        on_fd2 = sys.stderr is not None and sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):  # a stream that is no file (io.StringIO, a capture)
        on_fd2 = False
    if sys.stderr is not None:
        sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 (2>&-): nothing to hold
        yield
        return
    try:
        with tempfile.TemporaryFile() as held, ExitStack() as stack:
            if on_fd2:
                encoding = getattr(sys.stderr, "encoding", None) or "utf-8"
                terminal = stack.enter_context(open(os.dup(saved), "w", buffering=1, encoding=encoding,
                                                    errors="backslashreplace"))
                stack.enter_context(redirect_stderr(terminal))
            try:
                os.dup2(held.fileno(), 2)
                yield
            finally:
                if sys.stderr is not None:
                    sys.stderr.flush()
                os.dup2(saved, 2)
                held.seek(0)
                into.append(held.read().decode("utf-8", errors="replace"))
    finally:
        os.close(saved)


#: Settings of this command's environment its Ray workers get too (where set): the cache they read and fill
#: (al.cache; a path on a shared disk for a cluster of several machines). Where models come from (HF_HOME, the
#: hub's offline flags) stays each machine's own: a path on this machine's disk may not exist on another.
FORWARDED_ENV = ("AL_CACHE_DIR",)


def import_path_env() -> dict[str, Any]:
    """A Ray job's ``runtime_env`` under which its workers import what this process imports and read the caches it
    reads: a cluster's workers start in the environment ``ray start`` had, without this command's ``PYTHONPATH``
    or folder, where a user's strategy module (``mine:Mine``) is found, nor its ``AL_CACHE_DIR``
    (:data:`FORWARDED_ENV`). The paths go before the workers' own ``PYTHONPATH``, in this command's order (its
    folder first, as ``python -m`` has it); on a machine of the cluster that lacks them, they are passed over."""
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    paths = [os.getcwd()] + [os.path.abspath(p) for p in paths]  # python -m puts its folder first
    forwarded = {name: os.path.abspath(os.path.expanduser(os.environ[name])) for name in FORWARDED_ENV
                 if os.environ.get(name)}
    return {"env_vars": {"PYTHONPATH": os.pathsep.join([*dict.fromkeys(paths), "${PYTHONPATH}"]), **forwarded}}


def check_ray(address: str | None, probe_timeout: float = RAY_PROBE_TIMEOUT) -> Any:
    """The ``ray`` module, once Ray imports and a ``HOST:PORT`` ``address`` answers as a Ray head's would
    (:func:`connect_ray`; ``auto`` is for Ray to find, when it connects). Connects to nothing.

    Raises
    ------
    ConfigError
        Ray is not installed, nothing listens at the address, or what listens is no gRPC server.
    """
    import socket

    try:
        import ray
    except ImportError:
        raise ConfigError("--ray needs Ray: pip install 'ray>=2.9'") from None
    if ray.is_initialized():
        return ray
    pattern = r"(?:ray://)?\[?([^\[\]/]+?)\]?:(\d{1,5})"
    target = re.fullmatch(pattern, address or "")
    named = address  # how a refusal names the address: auto with the one it found, and where from
    if target is None and address:  # auto (RAY_ADDRESS, or the cluster `ray start` left on this machine), or wrong
        try:
            from ray._private.services import canonicalize_bootstrap_address
        except ImportError:  # another Ray's layout: connecting will tell
            return ray
        given = os.environ.get("RAY_ADDRESS", "") if address == "auto" else ""
        try:  # a Ray Client address (ray://...) in RAY_ADDRESS is Ray's to connect to, as given
            found = given if "://" in given else canonicalize_bootstrap_address(address)
        except Exception as exc:  # noqa: BLE001 - Ray's own refusal (ValueError, ConnectionError), in one line
            reason = str(exc).splitlines()[0].split(". Please")[0].rstrip(".")
            raise ConfigError(f"--ray {address}: {reason}; {RAY_HINT}") from None
        target = re.fullmatch(pattern, found or "")
        if found and address == "auto":
            named = target_named if (target_named := ray_target(address)) != address else f"auto ({found})"
    if target and not 0 < int(target[2]) <= 65535:  # the socket would wrap it round (99999 is port 34463)
        raise ConfigError(f"--ray {named}: port {int(target[2])} is out of range (1 to 65535); give the head's port, "
                          f"6379 unless `ray start --head --port` said another")
    if target:
        try:
            speaks_grpc = answers_http2(target[1], int(target[2]), probe_timeout)
        except OSError as exc:
            reason = "no answer" if isinstance(exc, socket.timeout) else (exc.strerror or type(exc).__name__).lower()
            raise ConfigError(f"--ray {named}: nothing listens there ({reason}); {RAY_HINT}") from None
        if speaks_grpc is False:  # Ray would retry for a minute before saying so
            raise ConfigError(f"--ray {named}: something listens there but it is not a Ray head (it does not answer "
                              f"as a gRPC server does; the dashboard's port, 8265, takes jobs, not --ray); {RAY_HINT}")
    return ray


class InFlight:
    """The grid's tasks in flight, each with when it began (thread-safe: :class:`Heartbeat` reads it).

    In worker processes a task in flight is running; on Ray it is submitted
    and may still wait for a CPU.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: dict[int, tuple[Any, float]] = {}

    def began(self, item: Any) -> None:
        with self._lock:
            self._since[id(item)] = (item, time.monotonic())

    def ended(self, item: Any) -> None:
        with self._lock:
            self._since.pop(id(item), None)

    def snapshot(self) -> list[tuple[Any, float]]:
        """(task, seconds since it began), the longest in flight first."""
        now = time.monotonic()
        with self._lock:
            entries = sorted(self._since.values(), key=lambda entry: entry[1])
        return [(item, now - since) for item, since in entries]


def readiness(configs: Sequence[SimulationConfig]) -> str:
    """``ready: 2 new, 1 to resume (after 3 of 11 rounds), 4 to extend (budget 250 -> 300), 1 complete``: where
    the runs of ``configs`` stand, for a dry run (a grid run again after it finished runs nothing). Runs to resume
    after as many rounds say ``(after 2 of 11 rounds each)``; after unlike counts, ``(after 2 to 5 of 11 rounds)``."""
    kept = [kept_rounds(config) for config in configs]
    unread = sum(rounds is None for rounds in kept)  # on a cluster, another machine's directory
    new = sum(rounds == 0 for rounds in kept)
    partial = [(rounds, config) for rounds, config in zip(kept, configs)
               if rounds is not None and 0 < rounds < config.n_rounds]
    raised = [(stored_budget(config), config.budget) for _, config in partial]
    resume = [(rounds, config.n_rounds) for (rounds, config), (old, _) in zip(partial, raised) if old is None]
    extend = sorted({(old, new) for old, new in raised if old is not None})
    n_extend = len(partial) - len(resume)
    complete = len(configs) - unread - new - len(partial)
    done, totals = sorted({rounds for rounds, _ in resume}), sorted({total for _, total in resume})
    if not resume:
        after = ""
    elif len(totals) == 1:  # one run length: "after 2 of 11 rounds", "after 2 to 5 of 11 rounds"
        reached = str(done[0]) if len(done) == 1 else f"{done[0]} to {done[-1]}"
        after = f" (after {reached} of {totals[0]} rounds{' each' if len(resume) > 1 and len(done) == 1 else ''})"
    elif len(done) == 1:  # runs of other lengths stopped after as many rounds
        after = f" (after {counted(done[0], 'finished round')} each)"
    else:
        after = f" (after {done[0]} to {done[-1]} finished rounds)"
    budgets = f" (budget {extend[0][0]} -> {extend[0][1]})" if len(extend) == 1 else " (budgets raised)"
    parts = [f"{new} new" if new else "", f"{len(resume)} to resume{after}" if resume else "",
             f"{n_extend} to extend{budgets}" if n_extend else "",
             f"{complete} complete" + (" (nothing to run)" if complete == len(configs) else "") if complete else "",
             f"{unread} whose records cannot be read here" if unread else ""]
    return "ready: " + ", ".join(part for part in parts if part)


def has_rounds_left(config: SimulationConfig) -> bool:
    """Whether ``config``'s run has rounds left to run: its directory, if any, holds fewer, or holds them for a
    smaller budget (:func:`kept_rounds`); unreadable: taken as so."""
    return (kept_rounds(config) or 0) < config.n_rounds


def kept_rounds(config: SimulationConfig) -> int | None:
    """The rounds of ``config``'s run directory its run keeps: all, but those a raised budget computes again
    (:meth:`SimulationConfig.continued_rounds`); 0 for none, None if they cannot be read."""
    from al.records import read_rounds

    if not finished_rounds(config.run_dir):  # none, or unreadable (on a cluster, another machine's)
        return finished_rounds(config.run_dir)
    try:
        return config.continued_rounds(read_rounds(config.run_dir))
    except (ALError, OSError):  # damaged: the run says what is wrong
        return None


def stored_budget(config: SimulationConfig) -> int | None:
    """The budget ``config``'s run directory holds rounds of where it is below ``config``'s (the grid's budget was
    raised: the run is extended); None otherwise, or where the directory cannot be read."""
    from al.records import read_config

    try:
        stored = (read_config(config.run_dir) or {}).get("config", {}).get("budget")
    except (ALError, OSError, AttributeError):
        return None
    return stored if isinstance(stored, int) and not isinstance(stored, bool) and stored < config.budget else None


def finished_rounds(run_dir: Path) -> int | None:
    """Rounds recorded in ``run_dir/rounds.jsonl`` (lines counted, not parsed); None if it cannot be read."""
    try:
        with open(run_dir / ROUNDS_FILE, "rb") as f:
            return sum(1 for line in f if line.strip())
    except FileNotFoundError:
        return 0
    except OSError:  # on a cluster the run directory may be on another machine
        return None


def working_line(tasks: Sequence[tuple[Any, float]], timed: bool = True, short: bool = False) -> str:
    """What is in flight: ``NAME (3 of 11 rounds, 2 min); PREPARATION (40 s)``.

    ``timed=False`` (Ray: a submitted task may still be waiting) leaves out the
    times and names only the tasks that show work done (a run with a round
    recorded) or are preparations, counting the rest. ``short``: ``NAME 3/11``
    for a progress bar's postfix.
    """
    parts, waiting = [], 0
    for item, seconds in tasks:
        details = []
        if isinstance(item, GridRun):
            done = kept_rounds(item.config)
            if not timed and not done:
                waiting += 1
                continue
            if done is not None:
                details.append(f"{done}/{item.config.n_rounds}" if short else
                               f"{done} of {item.config.n_rounds} rounds")
        if timed and not short:
            details.append(duration(seconds))
        if short:
            parts.append(" ".join([item.name, *details]))
        else:
            parts.append(f"{item.name} ({', '.join(details)})" if details else item.name)
    if waiting:
        parts.append(f"{waiting} more submitted")
    return "; ".join(parts)


#: Seconds of a grid's silence after which a log (not a terminal) gets a ``working: ...`` line.
HEARTBEAT_SECONDS = 30.0


class Heartbeat:
    """While a grid works, what it is working on, so that a long run is never silent.

    On a terminal the grid's progress bar carries it (``NAME 3/11`` per task,
    refreshed every ``tick`` seconds, with the bar's clock); elsewhere (a log
    file, a CI job) a line ``working: NAME (3 of 11 rounds, 2 min); ...``
    whenever the grid has printed nothing for ``interval`` seconds. Lines the
    grid prints go through :meth:`say`, which starts that count again.

    Parameters
    ----------
    watch : InFlight
    bar : the grid's progress display (a tqdm bar on a terminal)
    interval, tick : float, seconds (default ``HEARTBEAT_SECONDS``, and 1 s or a quarter of that)
    timed : bool
        False on Ray (see :func:`working_line`): the line says the grid's time instead (``working, 4 min so far:``).
    kept : mapping of run name to the rounds its directory keeps as it starts (:func:`kept_rounds`)
    """

    def __init__(self, watch: InFlight, bar: Any, interval: float | None = None, tick: float | None = None,
                 timed: bool = True, kept: Mapping[str, int] | None = None) -> None:
        self.watch, self.bar, self.timed, self.kept = watch, bar, timed, dict(kept or {})
        self.interval = HEARTBEAT_SECONDS if interval is None else interval
        self.tick = min(1.0, self.interval / 4) if tick is None else tick
        self.began = self.last_said = time.monotonic()
        self._started: set[str] = set()  # the runs seen in flight (a resumed one is said once, as it starts)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="grid-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    def say(self, line: str) -> None:
        """:func:`say` ``line``, and count the grid's silence from now."""
        say(line, self.bar)
        self.last_said = time.monotonic()

    def _beat(self) -> None:
        while not self._stop.wait(self.tick):
            self.beat()

    def beat(self, now: float | None = None) -> None:
        """One tick (``now``: ``time.monotonic()``): the bar's postfix, or a line if the grid was silent long enough;
        in a log, a line for each run that starts from rounds kept (``kept``: a stopped grid's, or a raised budget's;
        ``continuing NAME after 4 of 9 rounds``), whose own line comes only once it ends."""
        tasks = self.watch.snapshot()
        now = time.monotonic() if now is None else now
        if hasattr(self.bar, "set_postfix_str"):
            self.bar.set_postfix_str(working_line(tasks, self.timed, short=True), refresh=True)
            return
        for item, _ in tasks:  # on Ray a submitted run may wait for a CPU: it is not said to start
            if self.timed and isinstance(item, GridRun) and item.name not in self._started:
                self._started.add(item.name)
                if 0 < (kept := self.kept.get(item.name, 0)) < item.config.n_rounds:
                    self.say(f"continuing {item.name} after {kept} of {item.config.n_rounds} rounds")
                    self.last_said = now
        if tasks and now - self.last_said >= self.interval:
            # untimed (Ray) tasks say no time of their own: the grid's says it has not stalled
            so_far = "" if self.timed else f", {time_so_far(now - self.began)} so far"
            self.say(f"working{so_far}: {working_line(tasks, self.timed)}")
            self.last_said = now


#: Statuses of a run that did its work now (its seconds are a run's): the pace of the grid is theirs.
WORKED = frozenset({"done", "resumed", "extended"})


def run_kind(config: SimulationConfig) -> tuple:
    """What sets a run's pace per round (:func:`time_left`): its strategy, classifier, space, model and data."""
    return (config.strategy.label(), config.classifier.label(), config.space.label(), config.space_scope,
            config.model, config.embed_precision, config.dataset, config.data_path, config.pool_size)


def time_left(worked: Sequence[tuple[float, int] | tuple[float, int, float]], rounds_left: Sequence[int],
              elapsed: float, in_flight: Sequence[float] = (), worked_kinds: Sequence[Hashable] | None = None,
              left_kinds: Sequence[Hashable] | None = None, begun: Sequence[bool] | None = None) -> float | None:
    """Seconds until the runs still to do are done, at the pace per round of those that did work; None before one did.

    A round takes the seconds of the runs that did work over the rounds they
    ran (a resumed run ran only the rounds it had left); where a run's ``worked`` entry gives its rounds' own
    seconds too (:func:`round_seconds`), a round takes those, and each run still to do that has not ``begun``
    (all, without ``begun``) pays once the median of what the others paid beside their rounds (loading the data
    and the model: a resumed run that ran one round in 5 s, 4 of them loading, is no pace of 5 s a round). With
    ``worked_kinds`` and ``left_kinds`` (each run's
    :func:`run_kind`, in the order of ``worked`` and ``rounds_left``), a run still to do takes the pace of the
    runs of its kind, where one did work (a grid's random runs are no pace for its DAL runs), else that of all
    of them. The runs share the
    workers as they did so far (busy seconds over ``elapsed``, at least one
    at once), and the grid takes at least as long as the run with the most
    rounds left. Runs found complete, busy or refused take no time and set
    no pace. Preparations set none either (they are done once); while one
    holds a worker, fewer runs go at once, and the estimate sees that.

    Parameters
    ----------
    worked : ``(seconds, rounds run)`` of each run that did work now (done or resumed)
    rounds_left : the rounds each run still to do has left (one in flight: those it has not finished yet)
    elapsed : wall-clock seconds since the first of the ``worked`` runs began
    in_flight : seconds each run in flight has been running; none on Ray, where a submitted run may still wait
        for a CPU
    """
    rounds = sum(entry[1] for entry in worked)
    if rounds <= 0 or not any(n > 0 for n in rounds_left):
        return None
    busy = sum(entry[0] for entry in worked)
    own = [min(entry[2], entry[0]) if len(entry) > 2 else entry[0] for entry in worked]  # the rounds' own seconds
    once = [entry[0] - seconds for entry, seconds in zip(worked, own)]  # what each paid beside its rounds
    per_round, per_run = sum(own) / rounds, statistics.median(once)
    kind_seconds: dict[Hashable, float] = {}
    kind_rounds: dict[Hashable, int] = {}
    kind_once: dict[Hashable, list[float]] = {}
    if worked_kinds is not None and left_kinds is not None:
        for (entry, seconds, paid), kind in zip(zip(worked, own, once), worked_kinds):
            kind_seconds[kind] = kind_seconds.get(kind, 0.0) + seconds
            kind_rounds[kind] = kind_rounds.get(kind, 0) + entry[1]
            kind_once.setdefault(kind, []).append(paid)
    pace = {kind: kind_seconds[kind] / n for kind, n in kind_rounds.items() if n > 0}
    setup = {kind: statistics.median(paid) for kind, paid in kind_once.items()}
    spent = sum(min(seconds, elapsed) for seconds in in_flight)  # only time within the clocked window
    at_once = max(1.0, (busy + spent) / elapsed) if elapsed > 0 else 1.0
    kinds = left_kinds if left_kinds is not None and worked_kinds is not None else [None] * len(rounds_left)
    started = begun if begun is not None else [False] * len(rounds_left)
    left = [max(n, 0) * pace.get(kind, per_round) + (0.0 if n <= 0 or going else setup.get(kind, per_run))
            for n, kind, going in zip(rounds_left, kinds, started)]
    return max(sum(left) / at_once, max(left))


def run_line(i: int, n: int, name: str, result: dict[str, Any], left: float | None = None, untimed: int = 0,
             to_run: int | None = None) -> str:
    """``[i/n] status name  macro-F1 x  (s s, about t left)``: one line per finished simulation.

    ``left``: :func:`time_left` of the runs still to do of kinds that set a pace (None: no estimate);
    ``untimed``: runs still to do of a kind none has set the pace of yet, given no time (another strategy's pace
    says nothing of DAL's), said apart: ``about 2 min left for the runs of timed settings, and 3 runs of settings
    not timed yet``; ``to_run``: the runs still to do (all of them untimed: ``time left not known ...``).
    """
    detail = f"macro-F1 {result['macro_f1']:.4f}" if "macro_f1" in result else result.get("message", "")
    if untimed and untimed == to_run:
        estimate = (f", time left not known until one of the {counted(untimed, 'run')} left ends: none of their "
                    f"settings has been timed" if untimed > 1 else
                    ", time left not known until the run left ends: its settings have not been timed")
    elif untimed:
        timed = ("the runs of timed settings are about done" if left is not None and duration(left) == "0 s" else
                 f"about {duration(left)} left for the runs of timed settings")  # not "about 0 s left"
        estimate = f", {timed}, and {counted(untimed, 'run')} of settings not timed yet" if left is not None else ""
    else:
        estimate = ("" if left is None else ", about done" if duration(left) == "0 s" else
                    f", about {duration(left)} left")
    return f"[{i}/{n}] {result['status']:<8} {name}  {detail}  ({result['seconds']:.0f} s{estimate})"


_SAY = threading.Lock()  # the grid's thread and its heartbeat's: whole lines, never two run together


def say(line: str, bar: Any) -> None:
    """A line on stderr, above the terminal's progress bar if there is one; whole, whichever thread says it."""
    write = getattr(bar, "write", None)
    with _SAY:
        if write is not None:
            write(line, file=sys.stderr)
        else:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()


def main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(
        prog="python -m al.grid",
        description="Run every simulation of a grid file: in parallel here, or as Ray tasks on a cluster. "
        "Finished runs are skipped, interrupted ones resumed.",
        epilog="exit status: 0 when every simulation finished (or is busy in another grid command on the same "
        "directory); 2 when any could not run or failed (each line says why), the input was refused, or a Ray "
        "grid's cluster ended under it; 1 for an "
        "internal error; 130 on Ctrl-C, 143 on SIGTERM",
        formatter_class=DefaultsHelpFormatter,
    )
    parser.add_argument("grid", help="YAML grid file (see simulations/)")
    parser.add_argument("--workers", type=int, default=argparse.SUPPRESS,
                        help="simulations at once on this machine (default: 1)")
    parser.add_argument("--ray", default=None, metavar="ADDRESS",
                        help="run as Ray tasks on the cluster at ADDRESS: 'auto' for one started on this machine "
                        "(ray start --head), else HOST:PORT (with RAY_AUTH_MODE=token where the cluster asks for "
                        "Ray's token)")
    parser.add_argument("--out", default=None, help="override the grid file's `out`")
    parser.add_argument("--dry-run", action="store_true",
                        help="list the simulations and exit: 2 if any cannot run or its directory will refuse it")
    parser.add_argument("--quiet", action="store_true", help="only the closing line, warnings and errors")
    args = parser.parse_args(argv)
    if args.ray is not None and not args.ray.strip():  # --ray "$HEAD" with HEAD unset ran here without a word
        parser.error("--ray got an empty address (an unset shell variable?); give the cluster's head as HOST:PORT, or "
                     "auto for one started on this machine, or leave out --ray to run here")
    if args.ray and "workers" in args:
        parser.error(f"--workers {args.workers} sets the simulations at once on this machine, and --ray runs them on "
                     f"the cluster, one task per CPU it has free; leave out --workers, or --ray")
    args.workers = getattr(args, "workers", 1)
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    gone: list[bool] = []  # a dry run's output pipe closed: its checks go on, unsaid, to the status they come to

    def say(line: str, file: TextIO | None = None) -> None:
        """``print``; in a dry run, a closed output pipe (``--dry-run 2>&1 | head -1``) stops the printing alone,
        not the checks, whose status the command exits with: a script that reads one line learns of a problem."""
        if gone:
            return
        try:
            print(line, file=sys.stderr if file is None else file)
        except BrokenPipeError:
            if not args.dry_run:
                raise
            gone.append(True)

    try:
        spec = load_yaml(args.grid, "grid file", "a YAML grid file (out, settings, grid; see simulations/)")
        if args.out:
            spec["out"] = args.out
        notes: list[str] = []
        root, runs = expand_grid(spec, args.grid, notes)
        runs, kept_notes = keep_all_labels(runs)
        for note in kept_notes:  # --quiet too: it says what the runs read, as al.simulate says it
            say(f"note: {note}")
        if pairs := same_simulations(runs):
            raise ConfigError(f"{args.grid}: {'; '.join(pairs[:SHOWN_RUNS])}{and_more(len(pairs), SHOWN_RUNS)}; "
                              f"each would be run twice, and al.report and al.plot refuse a folder holding both: list "
                              f"it once")
        output_dir(root, "the grid's out")
        if (held := next((name for name in (CONFIG_FILE, ROUNDS_FILE) if (root / name).is_file()), None)) is not None:
            raise ConfigError(f"the grid's out {root} is a run directory (it holds {held}), where the grid's runs "
                              f"would be hidden below that run from al.report and al.plot; give a directory for the "
                              f"grid's runs (a new one, or one a grid wrote)")
        if args.workers > (cores := available_cores()) and not args.ray:
            notes.append(f"--workers {args.workers} runs up to {args.workers} simulations at once on {cores} core"
                         f"{'s' if cores > 1 else ''}: they take turns on them, one thread each, and each holds its "
                         f"own model and data in memory; --workers {cores} keeps every core busy")
        for note in notes:
            say(f"warning: {note}")
        if not args.ray and any(has_rounds_left(r.config) for r in runs if r.problem is None):  # finished: no cache
            from al.cache import check_cache_root

            check_cache_root()  # on a cluster the cache is each worker's
    except ALError as exc:
        say(f"error: {exc}")
        return 2
    runnable = [r for r in runs if r.problem is None]
    if not args.quiet or args.dry_run:
        say(f"{counted(len(runs), 'simulation')} in {args.grid} -> {root}")
    not_run = [(r.name, problem) for r in runs for problem in r.problems]
    corpora: dict[Any, str | int] = {}  # each corpus read once by the dry run
    if args.dry_run:  # what a cell's data would refuse too, where its data settings are sound: one dry run says all
        for r in runs:
            if r.problem is not None and (problem := unreadable_data(r.config, corpora)) is not None:
                not_run.append((r.name, in_file_terms(problem)))  # its own problems: none of the data settings
    for line in problem_lines("not run", not_run):
        say(line)
    models: dict[str, str | None] = {}  # on a Ray cluster the models are the workers' to have: not looked for here

    def will_fail(config: SimulationConfig) -> str | None:
        """What the run would say at once: its directory refuses it (an edited grid file rerun into the same
        out), or, with rounds left to run, a model it names cannot be loaded here (a finished run loads none)."""
        if (message := refusal(config)) is not None or args.ray:
            return message
        return missing_model(config, models) if has_rounds_left(config) else None

    if args.dry_run:
        unreachable = False  # the cluster: said, and the runs' own problems after it
        try:
            with sigterm_stops():  # SIGTERM while Ray connects stops as Ctrl-C does
                if args.ray:  # connected once, as the grid would (a cluster that refuses this command's token...)
                    up_before = ray_connected()
                    ray = connect_ray(args.ray, quiet=args.quiet)  # its address probed first
                    if not up_before:
                        shutdown_ray_undisturbed(ray)
        except ALError as exc:
            say(f"error: {exc}")
            unreachable = True
        except KeyboardInterrupt as stop:
            return stopped(stop, "nothing was run")
        refused: list[tuple[str, str]] = []
        edited: dict[str, list[str]] = {}  # a user's strategy file edited since runs of it ran -> those runs
        for r in runnable:  # every problem of a run, so one dry run shows all there is to fix
            if (note := edited_since(r.config)) is not None:
                edited.setdefault(note, []).append(r.name)
            problems = [its_directory(refusal(r.config), r.config.run_dir)]
            if has_rounds_left(r.config):
                problems += [] if args.ray else missing_models(r.config, models)
                if not args.ray and r.config.device.startswith("cuda"):  # a GPU this machine lacks: as the run says
                    from al.device import resolve_device

                    problems.append(_once(models, ("device", r.config.device),
                                          lambda device=r.config.device: resolve_device(device)))
                if not args.ray and hasattr(space := r.config.make_space(), "check_model"):  # max_length, as run says
                    problems.append(_once(models, ("space", json.dumps(r.config.space_kwargs(), sort_keys=True,
                                                                       default=str)), space.check_model))
                problems.append(unreadable_corpus(r.config, corpora))  # read here (a run would read it first)
            refused += [(r.name, in_file_terms(message)) for message in dict.fromkeys(problems) if message is not None]
        failing = {name for name, _ in refused}
        status = 2 if unreachable else exit_status({"failed": len(failing)} if failing else {},
                                                   len(runs) - len(runnable))  # as the grid would
        for note, names in edited.items():  # as the grid warns of it
            runs_named = (f"{counted(len(names), 'run')} ({', '.join(names[:SHOWN_RUNS])}"
                          f"{and_more(len(names), SHOWN_RUNS)})")
            say(f"warning: {note.replace('{runs}', runs_named)}")
        for line in problem_lines("will fail", refused):
            say(line)
        ready = [r.config for r in runnable if r.name not in failing]
        if ready and not unreachable and not args.quiet:
            say(f"  {readiness(ready)}")
        say("\n".join(r.name for r in runs), sys.stdout)
        return status
    if not runnable:
        print(f"error: none of the {len(runs)} simulations can run (each 'not run' line above says why); fix "
              f"{args.grid}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    counts: dict[str, int] = {}
    warned: dict[str, list[str]] = {}  # each warning said, with its run's directory as "its directory": the runs
    # it was said of again, unsaid until the end

    def warn(messages: Sequence[str], beat: Heartbeat, run: GridRun | None = None) -> None:
        for message in messages:  # each distinct one once per grid, on one line
            alike = message.replace(str(run.config.run_dir), "its directory") if run is not None else message
            if alike not in warned:  # --quiet too: a warning is not progress
                warned[alike] = []
                beat.say(f"warning: {' '.join(message.split())}")
            elif run is not None and alike != message:
                warned[alike].append(run.name)

    def warned_again() -> None:
        """One line for each warning said of other runs too (an edited strategy's file, of every run of it)."""
        for alike, names in warned.items():
            if names:
                print(f"warning: the same for {counted(len(names), 'more run')} ({', '.join(names[:SHOWN_RUNS])}"
                      f"{and_more(len(names), SHOWN_RUNS)}): {' '.join(alike.split())}", file=sys.stderr)

    sigterm = ExitStack()
    sigterm.enter_context(sigterm_stops())  # SIGTERM stops the grid and its workers as Ctrl-C does
    if args.ray and not ray_connected():  # this command's connection: it closes it, undisturbed, when it ends
        sigterm.callback(shutdown_ray_undisturbed)
    try:
        if args.ray:  # before any work: a cluster that is not there is one line
            if (idle := no_cpu_note(connect_ray(args.ray, quiet=args.quiet))) is not None:
                print(f"warning: {idle}", file=sys.stderr)
    except ALError as exc:
        sigterm.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:  # while Ray connects (up to 20 s of its retries), Ctrl-C or SIGTERM
        code = stopped(stop, "nothing was run")
        sigterm.close()
        return code
    results: Iterator[tuple[GridRun | Preparation, dict[str, Any]]] = iter(())

    def close_tasks() -> None:
        """Stop the tasks in flight now (a stop between two results, an error), keeping what they finished."""
        try:
            getattr(results, "close", lambda: None)()
        except KeyboardInterrupt:  # a second Ctrl-C while they stop: no more waiting for them
            pass

    watch = InFlight()
    gone: str | None = None  # why a Ray grid ended before its runs (RayClusterGone)
    i = 0  # the runs said so far
    try:
        # a run its directory refuses (an edited grid file rerun into the same out) fails now, not after the
        # preparations or the runs before it, and nothing is prepared for it; the run itself still checks
        # what reading the corpora here warns of (planning the preparations builds the runs) is said as the runs'
        # warnings are, once per grid: a task's or run's same warning is not said again
        with warnings.catch_warnings(record=True) as planning:
            refused = {r.name: message for r in runnable if (message := will_fail(r.config)) is not None}
            to_run = [r for r in runnable if r.name not in refused]
            parallel = bool(args.ray) or args.workers > 1
            preparations = plan_preparation(to_run, refusals_checked=True) if parallel and to_run else []
        if preparations and not args.quiet:
            tasks = "the once-per-pool task" if len(preparations) == 1 else \
                f"{len(preparations)} once-per-pool tasks"
            print(f"first {tasks} the runs share: "
                  f"{'; '.join(p.name for p in preparations)}", file=sys.stderr)
        if to_run:
            results = run_ray(to_run, args.ray, preparations, watch=watch) if args.ray \
                else run_local(to_run, args.workers, preparations, watch=watch)
        # the estimate of time left (time_left): the pace of the runs that work, the count of those with work left
        before = {r.name: kept_rounds(r.config) or 0 for r in to_run}
        to_do = {r.name: r for r in to_run if has_rounds_left(r.config)}
        worked: list[tuple[float, int, float]] = []  # (seconds, rounds run, their own seconds) of each
        worked_kinds: list[tuple] = []  # each worked run's run_kind: the pace of the runs of its kind
        runs_began = 0.0  # when the first of them began
        with progress(len(runnable), "grid", unit="runs", delay=0.0, enabled=draws_bars()) as bar, \
                Heartbeat(watch, bar, timed=not args.ray, kept=before) if not args.quiet else \
                nullcontext(Heartbeat(watch, bar)) \
                as beat:
            warn(_messages(planning), beat)
            # the runs refused at once: one line per distinct why, as the dry run says them (a lowered budget
            # refuses every run of the grid alike), counted as failed runs
            for line in problem_lines("failed", [(r.name, in_file_terms(its_directory(refused[r.name],
                                                                                    r.config.run_dir)))
                                                 for r in runnable if r.name in refused]):
                beat.say(line)
            if refused:
                counts["failed"] = len(refused)
                bar.update(len(refused))
            i = len(refused)
            first_said: dict[str, tuple[int, str]] = {}  # a failure's message -> the task that said it first, named
            for r, result in results:
                result = in_file_terms_of(result)
                failed_as = None  # the task that failed alike before (a model missing on a Ray worker: every run)
                shown = not args.quiet or not isinstance(r, Preparation)  # a failed run's line is said under --quiet
                if result["status"] == "failed" and result.get("message") and shown:
                    named = f"the once-per-pool task {r.name!r}" if isinstance(r, Preparation) else r.name
                    first, failed_as = first_said.setdefault(result["message"], (id(r), named))
                    failed_as = None if first == id(r) else failed_as
                if isinstance(r, Preparation):
                    if not args.quiet:  # a failed one is computed by its runs, which report their own errors
                        detail = (f"the same failure as {failed_as}" if failed_as else result["message"]) \
                            if result["status"] == "failed" else f"({result['seconds']:.0f} s)"
                        beat.say(f"[prepare] {result['status']:<8} {r.name}  {detail}")
                    warn(result.get("warnings", ()), beat)
                    if (problem := log_preparation(root, r, result)) is not None:
                        warn([problem], beat)
                    continue
                i += 1
                now = time.perf_counter()
                to_do.pop(r.name, None)
                ran = result.get("rounds", 0) - before.get(r.name, 0)
                if result["status"] in WORKED and ran > 0:
                    runs_began = min(now - result["seconds"], runs_began) if worked else now - result["seconds"]
                    worked.append((result["seconds"], ran, result.get("round_seconds", result["seconds"])))
                    worked_kinds.append(run_kind(r.config))
                counts[result["status"]] = counts.get(result["status"], 0) + 1
                if not args.quiet or result["status"] == "failed":
                    flying = {} if args.ray else {item.name: seconds for item, seconds in watch.snapshot()
                                                  if isinstance(item, GridRun) and item.name in to_do}
                    rounds_left = [t.config.n_rounds - ((kept_rounds(t.config) if name in flying else None)
                                                        or before[name]) for name, t in to_do.items()]
                    left_kinds = [run_kind(t.config) for t in to_do.values()]
                    timed = [n if kind in worked_kinds else 0 for kind, n in zip(left_kinds, rounds_left)]
                    left = time_left(worked, timed, now - runs_began, list(flying.values()), worked_kinds,
                                     left_kinds, [name in flying for name in to_do])
                    untimed = sum(kind not in worked_kinds for kind, n in zip(left_kinds, rounds_left) if n > 0) \
                        if worked else 0  # before any run worked, no pace at all: no estimate, as said
                    said = {**result, "message": f"the same failure as {failed_as}"} if failed_as else result
                    beat.say(run_line(i, len(runnable), r.name, said, left, untimed, sum(n > 0 for n in rounds_left)))
                warn(result.get("warnings", ()), beat, r)
                bar.update(1)
    except RayClusterGone as exc:  # no run can go on: one line for the tasks in flight, not one per run
        gone = str(exc)
        log_stopped_preparations(root, watch, "this machine's Ray ended")
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (Terminated)
        # a stop between two results: the tasks in flight stop now, as they do on one inside the wait for them
        # (a Ray grid's, before the cluster connection closes under them)
        stopped_tasks = watch.snapshot()  # taken before they stop: closing them ends them
        close_tasks()
        log_stopped_preparations(root, stopped_tasks, "Ctrl-C or SIGTERM")
        warned_again()  # before the line that says how to go on
        return stopped(stop, "run the same command again to resume")
    except BrokenPipeError:  # the output's reader went away while runs were left: they stop here, as on Ctrl-C
        work_cut_short()
        raise
    finally:
        close_tasks()  # whatever ended the grid, before the Ray connection closes under the tasks
        sigterm.close()
    warned_again()
    if gone is not None:
        print(f"error: {gone}", file=sys.stderr)
    not_run = len(runs) - len(runnable)
    unfinished = len(runnable) - i if gone is not None else 0
    summary = ", ".join([*(f"{n} {s}" for s, n in sorted(counts.items())), *([f"{not_run} not run"] if not_run else []),
                         *([f"{unfinished} not finished"] if unfinished else [])])
    print(f"{summary} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return 2 if gone is not None else exit_status(counts, not_run)


def log_stopped_preparations(root: Path, in_flight: InFlight | Sequence[tuple[Any, float]], why: str) -> None:
    """A ``stopped`` line in the grid's preparations.jsonl for each once-per-pool task of ``in_flight`` (an
    :class:`InFlight`, or its snapshot taken before the tasks stopped): what it finished is kept, the next
    command ends it."""
    tasks = in_flight.snapshot() if isinstance(in_flight, InFlight) else in_flight
    for item, seconds in tasks:
        if isinstance(item, Preparation):
            log_preparation(root, item, {"status": "stopped", "seconds": seconds, "message": (
                f"stopped before its end ({why}); what it finished is kept (the vectors embedded are cached) and "
                f"the next grid command does the rest")})


def its_directory(message: str | None, run_dir: Path) -> str | None:
    """``message`` with the run's own directory, where it opens it, said as "its directory", and a lone run's way to
    resume it (its settings again, with its --out) as the grid's: each run's refusal then reads alike, and
    :func:`problem_lines` gives sixty runs of a lowered budget, or of a changed setting, one line, not sixty."""
    if message is None or not message.startswith(f"{run_dir} "):
        return message
    from al.records import resume_with_settings

    message = message.replace(resume_with_settings(run_dir),  # a lone run's way, not a grid's
                              "give the grid file the settings it was made with again (before each ->) to resume it, "
                              "or ")
    return "its directory" + message[len(str(run_dir)):]


def problem_lines(kind: str, problems: Sequence[tuple[str, str]], shown: int = SHOWN_RUNS) -> list[str]:
    """``  not run: NAME: why`` lines for (run name, why) pairs, one line per distinct why in the order first
    met, naming the first ``shown`` of the runs it stops: a misspelt value shared by sixty cells is one line."""
    names: dict[str, list[str]] = {}
    for name, message in problems:
        names.setdefault(message, []).append(name)
    return [f"  {kind}: {', '.join(runs[:shown])}{and_more(len(runs), shown)}: {message}"
            for message, runs in names.items()]


def log_preparation(root: Path, task: Preparation, result: dict[str, Any]) -> str | None:
    """Add ``task``'s end to the grid's ``preparations.jsonl`` (:func:`al.records.append_preparation`), which
    ``al.report`` lists: its seconds are in no run's records. What went wrong, in one line, or None; the grid goes
    on either way."""
    entry = {"task": task.name, "part": task.part, "status": result["status"],
             "seconds": round(float(result.get("seconds", 0.0)), 3),
             "ended": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": sorted(task.readers)}
    if result.get("message"):
        entry["message"] = result["message"]
    try:
        root.mkdir(parents=True, exist_ok=True)  # the tasks end before any run has made its directory there
        append_preparation(root, entry)
    except OSError as exc:
        return (f"cannot add to {root / PREPARATIONS_FILE} ({exc.strerror or exc}); the grid goes on, but its "
                f"report will not list this grid's once-per-pool tasks: make {root} writable (and that path a file) "
                f"before the next grid command")
    return None


#: Statuses of a finished cell: the run has all its rounds.
FINISHED = frozenset({"done", "resumed", "extended", "complete"})


def exit_status(counts: dict[str, int], not_run: int) -> int:
    """The grid's exit status: 0 when every cell finished or is busy in another command, else 2.

    See the module's "Exit status". A cell that could not run or failed did so
    for a reason its line names and the user can act on; a busy one is another
    command's (two grid commands on one directory split its runs between
    them); an internal error ends the command itself with a traceback and
    status 1.
    """
    return 2 if not_run or any(n for status, n in counts.items() if status not in FINISHED | {"busy"}) else 0


if __name__ == "__main__":
    from al.cli import exit_with

    exit_with(main)
