"""The strategy comparison report: which strategy, by how much, how sure.

Reads run directories (as ``al.simulate`` and ``al.grid`` write them) and writes,
per setting (data set + classifier, and any other condition the runs differ in
besides strategy and seed: :func:`al.analysis.comparison.settings_of`): macro-
and micro-F1 curves (mean ± std over seeds); the normalised area under the
macro-F1 curve per strategy and seed; final and area values with a paired
Wilcoxon signed-rank test of each strategy against a baseline over shared
seeds; per-label F1 at the end, frequent vs rare labels; compute per round
(train / query / evaluate seconds, and fitting the space where runs record it).
Per comparison with the baseline (area under the macro-F1 curve, and final
macro-F1): the seeds paired, the mean paired difference with its
percentile-bootstrap 95 % interval, the Wilcoxon signed-rank statistic and its
exact two-sided p, and Holm's adjusted p over the strategies of the table (the
main table shows that adjusted p); per strategy, the labeled texts needed to
reach 95 % of the baseline's final macro-F1 (:attr:`~al.analysis.comparison.Reach.median`).
All of it as ``report.md`` and ``report.html`` (with the PNGs, written
once every table is built) and ``summary.json``. Incomplete runs (fewer rounds
than :func:`al.records.n_rounds` of their stored config) are listed, not
averaged in.

``python -m al.report`` is the command line over :func:`build_report`; the
statistics are in :mod:`al.analysis.comparison`.
"""
from __future__ import annotations

import hashlib
import html
import io
import json
import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Collection, Sequence

import numpy as np

from al.analysis.comparison import (
    BOOTSTRAP_SEED, DECIMALS, EXACT_MAX_N, LEVEL, MAX_RESAMPLES, METHODS, MIN_SEEDS_CI, REACH_FRACTION, RESAMPLES,
    OPTIONAL_SECONDS, SECONDS, SEED_LIMIT,
    Comparison, PairedTest, Reach, StrategySummary, as_written, compare, provenance_note, reach, reach_target,
    run_versions, held_values, setting_conditions, summarize, unequal_seeds,
)
from al.analysis.margins import MIN_MARGIN_TEXTS
from al.analysis.picks import DIAGNOSTIC_COLUMNS, diagnostics_rows, picks_rows
from al.analysis.curves import (
    BASELINE, SPREAD, Run, counted, curves, find_files, find_run_dirs, format_mean_std, line_colors, load_runs,
    mean_std, natural_key, render_curves, unstarted_runs, wrapped,
)
from al.config import letters_kept
from al.cli import check_own_folder
from al.records import being_written
from al.errors import ConfigError, DataError, did_you_mean
from al.io import write_atomic, write_bytes_atomic
from al.records import PREPARATIONS_FILE, read_preparations

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Longest figure-name stem (before ``-macro_f1.png``).
STEM_LENGTH = 80


def _slug(text: str) -> str:
    """``text`` as a file-name part: its letters, marks and digits, any script's (``données``, ``हिन्दी`` stay, as
    :func:`al.config.file_stem_part` keeps them in run folders), lowercase, each run of other characters one
    ``-``."""
    return re.sub(r" +", "-", letters_kept(text)).strip("-").lower()


def figure_stems(settings: Sequence[str]) -> dict[str, str]:
    """Each setting's figure-file stem: its slug cut to :data:`STEM_LENGTH`, unique among ``settings``.

    Where two settings' stems would be the same (long names that differ only
    past the cut, or names that differ only in punctuation), each of them keeps
    a readable prefix and ends in 10 hex digits of the blake2b hash of its full
    name, so no figure overwrites another's. A stem no other shares is the plain
    cut slug.
    """
    stems = {s: _slug(s)[:STEM_LENGTH] for s in settings}
    for _ in range(2):  # twice: a hashed stem could equal another setting's plain one
        count = Counter(stems.values())
        stems = {s: stem if count[stem] == 1 else
                 f"{_slug(s)[:STEM_LENGTH - 11].rstrip('-')}-{hashlib.blake2b(s.encode(), digest_size=5).hexdigest()}"
                 for s, stem in stems.items()}
    return stems


#: The metrics compared with the baseline, as (StrategySummary attribute, summary.json key, words).
COMPARED = (("area_macro", "area_macro_f1", "area under the macro-F1 curve"),
            ("final_macro", "final_macro_f1", "final macro-F1"))


#: Each setting's figures, as ``{stem}-{name}.png`` (:func:`figure_stems`).
FIGURE_NAMES = ("macro_f1", "micro_f1", "compute")


def earlier_report(out: Path) -> dict[str, Any] | None:
    """The ``summary.json`` an earlier report wrote in ``out`` (a mapping with its ``settings``, as every version
    wrote it), or None: no such file, or not a report's."""
    try:
        earlier = json.loads((out / "summary.json").read_text())
    except (OSError, ValueError):
        return None
    return earlier if isinstance(earlier, dict) and isinstance(earlier.get("settings"), dict) else None


def _report_figure(name: str) -> bool:
    """Whether a file named so is a setting's figure, as a report writes them first (:func:`report_figures`)."""
    return name.endswith(tuple(f"-{figure}.png" for figure in FIGURE_NAMES))


def check_report_dir(out: Path) -> dict[str, Any] | None:
    """Refuse, before any work, a report directory that holds files no report wrote: a new or empty directory,
    one an earlier report wrote (found by its ``summary.json``), whose report files are then replaced, or one
    holding only a report's figures (a report interrupted before its summary and pages). Hidden files
    (``.DS_Store``) do not count.

    Returns
    -------
    The earlier report's summary (:func:`earlier_report`), or None.

    Raises
    ------
    ConfigError
        One line naming a few of the files found.
    """
    if out.is_dir() and (earlier := earlier_report(out)) is not None:
        return earlier
    check_own_folder(out, "-o", "report", "al.report", _report_figure)
    return None


def report_figures(summary: dict[str, Any] | None) -> set[str]:
    """The figure files of the report whose ``summary.json`` is ``summary`` (its settings' stems); none for None."""
    stems = figure_stems(sorted((summary or {}).get("settings", {}))).values()
    return {f"{stem}-{name}.png" for stem in stems for name in FIGURE_NAMES}


def build_report(runs_dir: str | Path, out: str | Path, baseline: str | None = None, resamples: int = RESAMPLES,
                 bootstrap_seed: int = BOOTSTRAP_SEED) -> dict[str, Any]:
    """Read every run below ``runs_dir`` and write the comparison report into ``out``.

    Parameters
    ----------
    runs_dir : Path
        A directory holding run directories (e.g. a grid's ``out``).
    out : Path
        The report directory; created if needed.
    baseline : str or None
        The row label every other one is tested against (a strategy, ``class_embedding@cea`` for one in a
        task-specific space); None: ``random``, and no tests where no setting has random runs.
    resamples : int
        Bootstrap resamples of seeds per interval.
    bootstrap_seed : int
        Seed of the bootstrap's generator (recorded in ``summary.json``): the same runs give the same report
        bit for bit, apart from the once-per-pool section (the grid's log: its seconds and times).

    Returns
    -------
    dict
        The content of ``summary.json``: ``statistics`` (how every number below is computed), ``settings``
        (per setting: strategy rows, ``comparisons`` with the baseline per metric, ``reach``, per-label F1,
        compute), ``partial`` and ``empty`` runs, ``unevaluated`` ones (no macro-F1 in any round) and
        ``preparations`` (:func:`preparation_rows`) where there are any.

    Raises
    ------
    DataError
        If ``runs_dir`` holds no finished round, a stored config or record is unusable, two runs are the same
        simulation, or runs of one setting report F1 for different labels.
    ConfigError
        If ``baseline`` is given and is no strategy of any setting, ``resamples`` is not 1 to
        :data:`~al.analysis.comparison.MAX_RESAMPLES`, or ``bootstrap_seed`` not 0 to 2**32 - 1.
    """
    runs_dir, out = Path(runs_dir), Path(out)  # a str given from Python too
    if not 1 <= resamples <= MAX_RESAMPLES:
        raise ConfigError(f"resamples must be a positive integer up to {MAX_RESAMPLES:,}, got {resamples:,}")
    if not 0 <= bootstrap_seed < SEED_LIMIT:
        raise ConfigError(f"bootstrap_seed must be 0 to 2**32 - 1, got {bootstrap_seed}")
    out.mkdir(parents=True, exist_ok=True)
    empty = unstarted_runs([runs_dir])
    damaged: list[tuple[Path, str]] = []
    runs = load_runs(find_run_dirs([runs_dir]), damaged=damaged)
    table, partial, unevaluated = summarize(runs)
    if not table and unevaluated and not partial:
        raise DataError(f"no run under {runs_dir} has a macro-F1 (e.g. {unevaluated[0].path}: null in every round); "
                        f"expected evaluated rounds (an annotation session evaluates from 2 labeled texts on)")
    if not table:  # every run stopped short: a report would hold no table
        name = partial[0][0].path.relative_to(runs_dir) if partial else None
        name = partial[0][0].path.name if str(name) == "." else name  # the directory given is the run itself
        example = f", e.g. {name}: {partial[0][1]} of {partial[0][2]} rounds" if partial else ""
        raise DataError(f"no run under {runs_dir} is complete ({len(partial)} partial{example}); finish them (the "
                        f"command that started them resumes them) and report again")
    known = sorted({label for strategies in table.values() for label in strategies})
    explicit = baseline is not None
    baseline = baseline if explicit else BASELINE  # a report without random runs compares nothing
    if table and baseline not in known and explicit:
        # a strategy named without its params or space, where one row of it alone is there: walkstrats:Gap for
        # walkstrats:Gap(alpha=0.7), which the shell would have made quoted, dal for dal@cea, or dal@cea for
        # "dal@cea (strategy only)"
        rows_of = [label for label in known if label.startswith((f"{baseline}(", f"{baseline}@", f"{baseline} ("))]
        if len(rows_of) == 1:
            baseline = rows_of[0]
        elif rows_of:
            raise ConfigError(f"baseline {baseline!r} has {len(rows_of)} rows, of other params or spaces: "
                              f"{', '.join(rows_of)}; give one of them whole (quoted for the shell: "
                              f"--baseline '{rows_of[0]}')")
    if table and baseline not in known and explicit:
        raise ConfigError(f"baseline {baseline!r} is not a strategy of any setting in {runs_dir}"
                          f"{did_you_mean([baseline], known)}; expected one of: {', '.join(known)} (give it with "
                          f"--baseline)")
    row_label = {path: label for strategies in table.values() for label, s in strategies.items()
                 for path in s.paths.values()}  # each complete run's row label
    sections: list[dict[str, Any]] = []
    summary: dict[str, Any] = {"spread": SPREAD, "baseline": baseline,
                               "statistics": statistics_note(resamples, bootstrap_seed),
                               "settings": {}, "partial": [],
                               "empty": [str(d.relative_to(runs_dir)) for d in empty]}
    for run, done, expected in partial:
        summary["partial"].append({"run": str(run.path.relative_to(runs_dir)), "rounds": done, "expected": expected,
                                   "being_written": being_written(run.path)})
    if unevaluated:
        summary["unevaluated"] = [str(run.path.relative_to(runs_dir)) for run in unevaluated]
    if damaged:
        summary["damaged"] = [{"run": _relative(path, runs_dir), "why": why} for path, why in damaged]

    stems = figure_stems(sorted(table))
    colors = line_colors(known)  # a strategy keeps its colour in every setting's figures
    images: dict[str, bytes] = {}  # written once every table is built
    for setting, strategies in sorted(table.items(), key=lambda item: natural_key(item[0])):  # 500 before 1000
        slug = stems[setting]
        paths = {path for s in strategies.values() for path in s.paths.values()}
        setting_runs = [r for r in runs if r.path in paths]
        figures = {}
        for metric in ("macro_f1", "micro_f1"):
            figures[metric] = f"{slug}-{metric}.png"
            lines = curves(setting_runs, metric, labels=row_label, first=baseline)
            images[figures[metric]] = render_curves(lines, metric, title=f"{metric.replace('_f1', '-F1')}: {setting}",
                                                    colors=colors)
        compared = {attr: {c.strategy: c for c in compare(strategies, attr, baseline, resamples, bootstrap_seed)}
                    for attr, _, _ in COMPARED}

        def versus(name: str, attr: str) -> str:
            if name in compared[attr]:
                ran = {*getattr(strategies[name], attr), *getattr(strategies[baseline], attr)}  # this metric's
                return _vs_text(compared[attr][name], ran)
            return "baseline" if name == baseline else "no baseline"

        rows = []
        for name in sorted(strategies, key=lambda n: (n != baseline, n)):
            s = strategies[name]
            rows.append({
                "strategy": name, "seeds": sorted(s.final_macro),
                "final_macro_f1": format_mean_std(list(s.final_macro.values())),
                "final_micro_f1": format_mean_std(list(s.final_micro.values())),
                "area_macro_f1": format_mean_std(list(s.area_macro.values())),
                "vs_baseline_final": versus(name, "final_macro"),
                "vs_baseline_area": versus(name, "area_macro"),
                "area_by_seed": {str(k): round(v, 4) for k, v in sorted(s.area_macro.items())},
                "by_seed": {key: {str(k): float(v) for k, v in sorted(values.items())} for key, values in
                            (("final_macro_f1", s.final_macro), ("final_micro_f1", s.final_micro),
                             ("area_macro_f1", s.area_macro))},  # the numbers behind the "mean ± std" texts
                "mean_std": {key: dict(zip(("mean", "std"), map(_number, mean_std(list(values.values())))))
                             for key, values in (("final_macro_f1", s.final_macro), ("final_micro_f1", s.final_micro),
                                                 ("area_macro_f1", s.area_macro))},  # as numbers, unrounded
            })
        seeds_note = unequal_seeds({name: list(s.final_macro) for name, s in strategies.items()}, baseline)
        held = setting_conditions(setting_runs)
        versions = run_versions(setting_runs)
        mixed = provenance_note(setting_runs)
        run_dirs = {name: {str(seed): _relative(path, runs_dir) for seed, path in sorted(s.paths.items())}
                    for name, s in sorted(strategies.items())}
        groups = next((r.meta.get("corpus", {}).get("label_groups") for r in setting_runs), None)
        pool_share = _pool_share(setting_runs)
        groups_source = "the data set's frequent / rare pick"
        if not groups:
            groups, groups_source = frequency_groups(pool_share), "the pool: rare = the less frequent half"
        order = {row["strategy"]: i for i, row in enumerate(rows)}  # the main table's: the baseline first
        label_rows, label_columns = per_label_rows(strategies, groups, setting_runs)
        label_rows.sort(key=lambda row: order[row["strategy"]])
        compute_rows, compute_columns = compute_table(strategies)
        compute_rows.sort(key=lambda row: order[row["strategy"]])
        figures["compute"] = f"{slug}-compute.png"
        # drawn from the means unrounded: a part under half a millisecond is a sliver, not nothing
        drawn = sorted(compute_table(strategies, digits=None)[0], key=lambda row: order[row["strategy"]])
        images[figures["compute"]] = _compute_chart(drawn, compute_columns[1:], setting)  # the table's order
        comparisons = {key: _comparison_block(list(compared[attr].values()), baseline) for attr, key, _ in COMPARED}
        target = reach_target(strategies, baseline, REACH_FRACTION)
        reached = [] if target is None else sorted(reach(strategies, target),
                                                    key=lambda r: (r.strategy != baseline, r.strategy))
        reach_block = {"baseline": baseline, "fraction": REACH_FRACTION,
                       "target": target, "rows": [_reach_row(r) for r in reached],
                       # every run at or above the target in its first round: the table cannot tell strategies apart
                       "reached_before_any_query": bool(reached) and all(
                           size == strategies[r.strategy].macro_curve[seed][0][0]
                           for r in reached for seed, size in r.by_seed.items())}
        by_path = {r.path: r for r in setting_runs}
        runs_by = {name: [by_path[p] for p in s.paths.values() if p in by_path]
                   for name, s in sorted(strategies.items(), key=lambda item: (item[0] != baseline, item[0]))}
        stopping = stopping_rows(runs_by)
        rounds_by = {name: [r.rounds for r in members] for name, members in runs_by.items()}
        picks = picks_rows(rounds_by, groups, pool_share)
        space = diagnostics_rows(rounds_by, groups)
        sections.append({"setting": setting, "figures": figures, "rows": rows, "labels": label_rows,
                         "label_columns": label_columns, "groups": groups, "groups_source": groups_source,
                         "compute": compute_rows, "compute_columns": compute_columns,
                         "comparisons": comparisons, "reach": reach_block, "stopping": stopping, "picks": picks,
                         "space": space, "picks_columns": list(dict.fromkeys(k for row in picks for k in row)),
                         "unequal_seeds": seeds_note, "conditions": held, "versions": versions, "mixed": mixed})
        summary["settings"][setting] = {"conditions": held_values(setting_runs, held), "al_versions": versions,
                                        "runs": run_dirs,
                                        "strategies": rows, "per_label_f1": label_rows, "compute": compute_rows,
                                        "comparisons": comparisons, "reach": reach_block, "stopping": stopping,
                                        "picks_per_100": picks, "space_diagnostics": space}
        if seeds_note:
            summary["settings"][setting]["unequal_seeds"] = seeds_note
        if mixed:
            summary["settings"][setting]["mixed_provenance"] = mixed

    preparations = preparation_rows(runs_dir)
    if preparations:
        summary["preparations"] = preparations
    for name, image in images.items():
        write_bytes_atomic(out / name, image)
    write_atomic(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    write_atomic(out / "report.md", _markdown(sections, summary, baseline))
    write_atomic(out / "report.html", _html(sections, summary, baseline))
    return summary


def preparation_rows(runs_dir: Path) -> list[dict[str, Any]]:
    """Every once-per-pool task logged in a ``preparations.jsonl`` at or below ``runs_dir``, in order: ``grid`` (its
    directory, relative), ``task``, ``part``, ``status``, ``seconds``, ``ended``, ``runs`` (how many read it), their
    names, and a failed task's ``message``. A log that cannot be read is one row of status ``unreadable``."""

    def row(grid: str, entry: dict[str, Any]) -> dict[str, Any]:
        names = entry.get("runs") if isinstance(entry.get("runs"), list) else []
        return {"grid": grid, "task": str(entry.get("task", "?")), "part": str(entry.get("part", "")),
                "status": str(entry.get("status", "?")), "seconds": entry.get("seconds"),
                "ended": str(entry.get("ended", "")), "runs": len(names), "run_names": [str(n) for n in names],
                "message": str(entry.get("message") or "")}

    rows = []
    for path in find_files(runs_dir, PREPARATIONS_FILE):
        grid = str(path.parent.relative_to(runs_dir))
        try:
            entries = read_preparations(path.parent)
        except OSError as exc:
            entries = [{"task": str(path.relative_to(runs_dir)), "status": "unreadable", "seconds": None,
                        "message": f"{exc.strerror or exc}; make it readable and report again"}]
        rows += [row(grid, entry) for entry in entries]
    return rows


def _preparation_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The columns shown: ``grid`` only when the rows come from more than one grid directory, ``message`` only
    when a task has one (why it failed)."""
    return ((["grid"] if len({r["grid"] for r in rows}) > 1 else []) + PREPARATIONS_COLUMNS
            + (["message"] if any(r["message"] for r in rows) else []))


#: Decimal places of the per-label F1 table, every column shown so (0.000 beside 0.879).
LABEL_F1_PLACES = 3


def per_label_rows(strategies: dict[str, StrategySummary], groups: dict[str, list[str]] | None,
                   runs: Sequence[Run]) -> tuple[list[dict[str, Any]], list[str]]:
    """Per strategy, the mean over seeds of each label's final F1 (and of the frequent and the rare ones); the columns.

    Raises
    ------
    DataError
        If runs of the setting report F1 for different labels, or ``groups`` names a label none reports.
    """
    seen: dict[frozenset[str], Any] = {}
    for name in sorted(strategies):
        for seed, per in strategies[name].per_label.items():
            seen.setdefault(frozenset(per), strategies[name].paths[seed])
    if len(seen) > 1:
        (a, path_a), (b, path_b) = list(seen.items())[:2]
        raise DataError(f"runs of one setting report F1 for different labels: {path_a} for {', '.join(sorted(a))}, "
                        f"{path_b} for {', '.join(sorted(b))}; expected the same labels in every run of a setting "
                        f"(report runs of other data apart)")
    first = next((p for name in sorted(strategies) for p in strategies[name].per_label.values()), {})
    labels = list(first)
    missing = sorted((set(groups["frequent"]) | set(groups["rare"])) - set(labels)) if groups and labels else []
    if missing:
        source = next((r.path for r in runs if r.meta.get("corpus")), runs[0].path)  # where the groups came from
        raise DataError(f"{source}: its data set's frequent / rare labels include {', '.join(missing)}, for which no "
                        f"run of its setting reports F1 ({', '.join(labels)}); expected runs of one data set")
    rows = []
    for name in sorted(strategies):
        per_seed = list(strategies[name].per_label.values())
        mean = {label: float(np.mean([p[label] for p in per_seed])) for label in labels} if per_seed else {}
        row = {"strategy": name, **{label: round(v, LABEL_F1_PLACES) for label, v in mean.items()}}
        if groups and mean:
            row["frequent_mean"] = round(float(np.mean([mean[l] for l in groups["frequent"]])), LABEL_F1_PLACES)
            row["rare_mean"] = round(float(np.mean([mean[l] for l in groups["rare"]])), LABEL_F1_PLACES)
        rows.append(row)
    return rows, ["strategy", *labels, *(["frequent_mean", "rare_mean"] if groups and labels else [])]


def compute_table(strategies: dict[str, StrategySummary], digits: int | None = 3
                  ) -> tuple[list[dict[str, Any]], list[str]]:
    """Per strategy, the mean seconds per round of each part (``–`` where its runs record none), to ``digits``
    decimals (None: unrounded, as the compute figure draws them); the columns.

    ``space`` (fitting a task-specific space), ``stopping`` (the stopping signals' pass over the stop set) and
    ``diagnostics`` (``--diagnostics``) are columns when any run records them.
    """
    parts = [key for key in SECONDS if key not in OPTIONAL_SECONDS
             or any(s.seconds.get(key) for s in strategies.values())]
    def mean(values: Sequence[float]) -> float:
        value = float(np.mean(values))
        return value if digits is None else round(value, digits)

    rows = [{"strategy": name, **{key.replace("seconds_", ""): mean(strategies[name].seconds[key])
                                  if strategies[name].seconds.get(key) else "–" for key in parts}}
            for name in sorted(strategies)]
    return rows, ["strategy", *(key.replace("seconds_", "") for key in parts)]


def _compute_chart(rows: list[dict[str, Any]], parts: Sequence[str], setting: str) -> bytes:
    """A PNG of :func:`compute_figure`."""
    buffer = io.BytesIO()
    compute_figure(rows, parts, setting).savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


#: The compute figure's axis: each part a mean over the rounds that ran it (a run's last round queries nothing).
COMPUTE_AXIS = "mean seconds per round (query: over the rounds that queried)"
#: The compute figure's part colours: a qualitative map unlike the curves' tab10 / tab20, whose colours name strategies.
COMPUTE_PALETTE = "Set2"


def compute_figure(rows: list[dict[str, Any]], parts: Sequence[str], setting: str) -> "Figure":
    """Per strategy (a row each, so long names never overlap), the mean seconds per round of each part, stacked.

    A figure of its own (no pyplot: a notebook's backend and open figures are left alone), as wide as its
    longest row label needs; a long title is wrapped (:func:`~al.analysis.curves.wrapped`).
    """
    import matplotlib
    from matplotlib.figure import Figure

    names = [str(row["strategy"]) for row in rows]
    title = wrapped(f"compute per round: {setting}")
    longest = max([len(name) for name in names] + [0])
    width = max(7.0, 5.2 + 0.075 * longest)  # inches: labels, bars, legend; the title wraps
    fig = Figure(figsize=(width, 1.6 + 0.35 * len(rows)), dpi=150)  # as the curves' figures
    ax = fig.subplots()
    left = np.zeros(len(rows))
    # the parts' colours are none of the curves' (tab10, one per strategy): orange here is no strategy's time
    shades = matplotlib.colormaps[COMPUTE_PALETTE].colors
    for i, part in enumerate(parts):
        values = np.array([row[part] if isinstance(row[part], (int, float)) else 0.0 for row in rows])
        ax.barh(names, values, left=left, label=part, color=shades[i % len(shades)])
        left += values
    ax.invert_yaxis()  # the table's order, top to bottom
    ax.set_xlabel(COMPUTE_AXIS)
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)  # beside the bars
    fig.tight_layout()
    return fig


def frequency_groups(pool_share: dict[str, float] | None) -> dict[str, list[str]] | None:
    """Labels split by their share of the pool: the more frequent half (rounded up) and the rest, each most frequent
    first; None without shares or with fewer than two labels. For runs whose data set names no frequent / rare pick."""
    if not pool_share or len(pool_share) < 2:
        return None
    ranked = sorted(pool_share, key=lambda label: (-pool_share[label], label))
    half = -(-len(ranked) // 2)
    return {"frequent": ranked[:half], "rare": ranked[half:]}


def _pool_share(runs: list[Any]) -> dict[str, float] | None:
    """Per label, the share of pool texts carrying it (from the runs' stored corpus facts), or None."""
    corpus = next((r.meta.get("corpus") for r in runs if r.meta.get("corpus")), None) or {}
    counts, names = corpus.get("pool_label_counts"), corpus.get("label_names")
    n_pool = (corpus.get("split_sizes") or {}).get("train")
    if not counts or not names or not n_pool or len(counts) != len(names):
        return None
    return {name: count / n_pool for name, count in zip(names, counts)}


COMPUTE_NOTE = ("Mean seconds per round over every round of every seed; query: over the rounds that queried "
                "(a run's last round queries nothing); stopping: the stopping signals' pass over the stop set, "
                "diagnostics: --diagnostics, where runs record them. Once-per-pool work a grid ran as a task of its "
                "own is in no run's seconds: see 'Once-per-pool work outside the runs' where the grid logged it.")
PREPARATIONS_NOTE = ("Tasks a grid with more than one worker (or on Ray) ran apart from its runs, from its "
                     "preparations.jsonl: each pool's embedding pass and each strategy's pool work (ALPS's MLM head "
                     "fit and surprisal pass), once for all the runs that read it, before them. Their seconds are in no "
                     "run's compute above. Each grid command adds its own lines: a task that found its cache filled "
                     "(the grid run again, or another grid first) took only the seconds of loading.")
PREPARATIONS_COLUMNS = ["task", "status", "seconds", "ended", "runs"]
PICKS_NOTE = ("Label occurrences among the texts each strategy picked (round 0's random start left out), per 100 "
              "picked texts, mean over seeds; a text with two labels counts for both. *pool (chance)*: what a "
              "uniform draw from the pool picks. *rare_sum*: occurrences of the rare labels.")
SPACE_NOTE = ("From the diagnostics recorded every round (runs made with --diagnostics), in the space the strategy "
              "read: centroid proximity = texts carrying the label among the k (100) unlabeled texts nearest its "
              "centroid, over the count chance gives (1 = no better than a random draw), mean over the labels that "
              "have a centroid and unlabeled texts (rare: over the rare labels), then over seeds; a label without a "
              "labeled text (often a rare one in round 0) is left out, so first and last may average other labels. "
              "ceiling = the mean over the same labels of the most each ratio could be, min(k, the label's unlabeled "
              "texts) / chance: a rare label's is high, a frequent one's near 1, so a mean ratio is read against it. "
              f"margin = mean cosine distance to the other centroids minus to the own (positive: labeled texts nearer "
              f"their own centroid), over the labels with at least {MIN_MARGIN_TEXTS} labeled texts (a label's only "
              f"text is its centroid, at distance 0). first / last: round 0 and the last round.")


def statistics_note(resamples: int = RESAMPLES, bootstrap_seed: int = BOOTSTRAP_SEED) -> dict[str, Any]:
    """How the comparison numbers are computed: ``summary.json``'s ``statistics``, and the report's notes."""
    return {
        "pairing": "by seed: one seed is one initial labeled set for every strategy of a setting; only seeds "
                   "run by both the strategy and the baseline count (n)",
        "wilcoxon": {
            "alternative": "two-sided",
            "zero_method": "wilcox (zero differences dropped; the test rests on the n_test non-zero ones)",
            "rounding": f"differences rounded to {DECIMALS} decimals first, so float noise makes no rank "
                        f"and no zero",
            "methods": METHODS,
            "exact_max_n": EXACT_MAX_N,
        },
        "bootstrap": {"statistic": "mean paired difference", "interval": "percentile",
                      "quantiles": "numpy.quantile, linear interpolation", "level": LEVEL,
                      "resamples": resamples, "seed": bootstrap_seed,
                      "generator": f"numpy.random.default_rng({bootstrap_seed}), fresh per comparison",
                      "min_seeds": MIN_SEEDS_CI},
        "holm": "Holm-Bonferroni step-down over the m comparisons with the baseline in one table (one setting, "
                "one metric) that have a test",
        "reach": {"fraction": REACH_FRACTION,
                  "target": f"{REACH_FRACTION} x mean over seeds of the baseline's final macro-F1",
                  "per_run": "smallest n_labeled with macro-F1 >= target (a measured round, no interpolation)",
                  "summary": "median over all seeds, a seed that did not reach the target counting as +infinity "
                             "(null, 'not reached', unless more than half the seeds reached it), and how many "
                             "did (k of n)"},
        "few_seeds": f"below {FEW_SEEDS_CI} seeds a percentile-bootstrap interval undercovers; the comparison "
                     f"tables say so where they show one",
        "main_table": "vs baseline: mean paired difference, W, Holm's adjusted p (the same family as the "
                      "comparison table of that metric), wins",
        "compute": "mean seconds per round over every round of every seed; query: over the rounds that queried "
                   "(a run's last round queries nothing), with a strategy's work run ahead of the embedding "
                   "(seconds_prepare) in the round that records it; space, stopping and diagnostics where runs "
                   "record them; work a grid's preparation task did, or a cache held already, is in no run's "
                   "seconds",
    }


def _comparison_block(comparisons: list[Comparison], baseline: str) -> dict[str, Any]:
    rows = []
    for c in comparisons:
        t = c.test
        rows.append({
            "strategy": c.strategy, "n": t.n, "seeds": list(c.seeds),
            "difference_by_seed": {str(k): v for k, v in zip(c.seeds, c.differences)},
            "mean_difference": t.mean_difference if t.n else None,
            "ci_low": c.ci[0] if c.ci else None, "ci_high": c.ci[1] if c.ci else None,
            "ci": _ci_text(c), "wins": t.wins, "statistic": t.statistic, "p": t.p_value, "p_holm": c.p_holm,
            "n_test": t.n_test, "method": t.method, "test": _test_text(t),
        })
    return {"baseline": baseline, "m": sum(r["p"] is not None for r in rows), "rows": rows}


def _vs_text(c: Comparison, ran: Collection[int] = ()) -> str:
    """The main table's cell: mean paired difference, W, Holm's adjusted p (as in the comparison table), wins; and
    the seeds it pairs where the strategy or the baseline ran others (``ran``: the seeds either ran), since the
    row's means are over each line's own seeds and their gap is then not the difference."""
    t = c.test
    # "n=3: no test" had read as too few seeds where no difference was non-zero: the test's own text then
    text = t.text if c.p_holm is None else \
        f"{t.mean_difference:+.4f} (W={t.statistic:g}, p Holm={c.p_holm:.4g}, wins {t.wins}/{t.n})"
    if set(ran) - set(c.seeds) and text.endswith(")"):
        seeds = ", ".join(map(str, sorted(c.seeds)))
        text = f"{text[:-1]} over seed{'s' if len(c.seeds) > 1 else ''} {seeds} alone)"
    return text


def _ci_text(c: Comparison) -> str:
    if c.ci is None:
        return f"too few seeds (n={c.test.n})"
    return f"[{c.ci[0]:+.4f}, {c.ci[1]:+.4f}]"


def _test_text(t: PairedTest) -> str:
    if t.p_value is None:
        return METHODS[t.method] if t.n else "no shared seed"
    text = {"exact": "exact", "exact-ties": "exact (ties)", "normal": "normal approx."}[t.method]
    zeros = t.n - t.n_test
    return text + (f", {zeros} zero difference{'s' if zeros > 1 else ''} dropped (n_test={t.n_test})" if zeros else "")


def _reach_row(r: Reach) -> dict[str, Any]:
    return {"strategy": r.strategy, "median_labeled": r.median, "reached": r.reached, "seeds": len(r.by_seed),
            "by_seed": {str(k): v for k, v in r.by_seed.items()}, "labeled_texts": r.text,
            "seeds_reached": r.seeds_text}


def _num(value: float | None, digits: int = 4, sign: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}g}"


def _comparison_rows(block: dict[str, Any]) -> list[dict[str, str]]:
    """Display rows of one comparison table."""
    return [{"strategy": r["strategy"], "n": str(r["n"]), "mean Δ": _num(r["mean_difference"], sign=True),
             "95 % CI (bootstrap)": r["ci"], "wins": f"{r['wins']}/{r['n']}",
             "W": "–" if r["statistic"] is None else f"{r['statistic']:g}", "p": _num(r["p"]),
             "p (Holm)": _num(r["p_holm"]), "test": r["test"]} for r in block["rows"]]


#: Below this many seeds an interval shown carries :data:`FEW_SEEDS_NOTE`.
FEW_SEEDS_CI = 10
FEW_SEEDS_NOTE = (f"Caution: with fewer than {FEW_SEEDS_CI} seeds a percentile-bootstrap interval is too narrow "
                  f"(it resamples a handful of values; its coverage is below 95 %): read it as the spread of these "
                  f"seeds, not as a confidence interval.")
COMPARISON_COLUMNS = ["strategy", "n", "mean Δ", "95 % CI (bootstrap)", "wins", "W", "p", "p (Holm)", "test"]
REACH_COLUMNS = ["strategy", "labeled texts (median)", "seeds reached", "by seed"]


def _reach_rows(block: dict[str, Any]) -> list[dict[str, str]]:
    return [{"strategy": r["strategy"], "labeled texts (median)": r["labeled_texts"],
             "seeds reached": r["seeds_reached"],
             "by seed": ", ".join(f"{k}: {'–' if v is None else v}" for k, v in r["by_seed"].items())}
            for r in block["rows"]]


def _comparison_notes(sec: dict[str, Any], baseline: str) -> list[tuple[str, str, list[dict[str, str]], str]]:
    """Per compared metric: (title, text above the table, display rows, footnote)."""
    out = []
    for _, key, words in COMPARED:
        block = sec["comparisons"][key]
        if not block["rows"]:
            continue
        title = f"{words[0].upper() + words[1:]}: paired comparison with {baseline}"
        above = (f"Δ = strategy − {baseline} per seed; n = seeds run by both (pairs); wins = seeds where the "
                 f"strategy is higher; W = the smaller signed-rank sum, min(T+, T−); p = two-sided Wilcoxon p.")
        foot = (f"p (Holm): Holm–Bonferroni step-down adjustment over the m = {block['m']} "
                f"comparison{'s' if block['m'] != 1 else ''} with {baseline} in this table." if block["m"] else
                "p (Holm): none; no comparison in this table has a p value (a test needs at least 2 seeds whose "
                "difference is not zero).")
        if any(r["ci_low"] is not None and r["n"] < FEW_SEEDS_CI for r in block["rows"]):
            foot += f" {FEW_SEEDS_NOTE}"
        out.append((title, above, _comparison_rows(block), foot))
    return out


def _reach_title(sec: dict[str, Any], baseline: str) -> str:
    return f"Labeled texts to reach {REACH_FRACTION:.0%} of {baseline}'s final macro-F1".replace("%", " %")


def _reach_text(sec: dict[str, Any], baseline: str) -> str:
    block = sec["reach"]
    if block["target"] is None:
        return f"No complete run of the baseline {baseline!r} in this setting: no target."
    return (f"Target: {REACH_FRACTION} × {baseline}'s final macro-F1 (mean over seeds) = {block['target']:.4f}. "
            f"Per run, the smallest labeled-set size whose macro-F1 reaches it (a measured round, no "
            f"interpolation; – : not reached within the budget). The median is over all seeds, a seed that never "
            f"reached the target counting as infinitely many texts: it is a number only when more than half the "
            f"seeds reached it, else \"not reached\" (over an even number of seeds, the mean of the middle two, "
            f"which may lie between measured sizes); seeds reached: k of n."
            + (" Every run reached it in its first round, before any query: the target lies at or below the initial "
               "labeled set's macro-F1, so this table cannot tell the strategies apart here."
               if block.get("reached_before_any_query") else ""))


STOPPING_COLUMNS = ["strategy", "criterion", "stopped", "labeled_at_stop", "macro_f1_given_up", "labels_saved"]
STOPPING_NOTE = ("Per criterion, over the seeds whose records carry the stopping signals: how many runs it stopped "
                 "before the end, the median labeled-set size where it did, and the mean macro-F1 given up (final "
                 "minus at the stop; negative: the run ended worse) and labels saved over those runs. Stabilizing "
                 "predictions: Cohen's kappa of successive models on a fixed stop set, mean of the last 3 >= 0.99 "
                 "(Bloodgood and Vijay-Shanker 2009); max uncertainty: the pool's largest uncertainty below the "
                 "threshold of al.stopping. The labeled budget is not shown: a run's own budget is its end, so it "
                 "never stops one early.")


def stopping_rows(runs_by_strategy: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Per strategy and criterion (:func:`al.stopping.stop_rounds`), where its runs would have stopped."""
    from al.stopping import has_signals, stop_rounds

    rows = []
    for name, runs in runs_by_strategy.items():
        runs = [r for r in runs if has_signals(r.rounds)]
        if not runs:
            continue
        found = [stop_rounds(r.rounds) for r in runs]
        for criterion in ("stabilizing_predictions", "max_uncertainty"):
            fired = [f[criterion] for f, r in zip(found, runs)
                     if f[criterion]["stop_round"] is not None and f[criterion]["stop_round"] < len(r.rounds) - 1]
            rows.append({
                "strategy": name, "criterion": criterion, "stopped": f"{len(fired)} of {len(runs)}",
                "labeled_at_stop": int(np.median([f["n_labeled"] for f in fired])) if fired else "–",
                "macro_f1_given_up": round(float(np.mean([f["macro_f1_given_up"] for f in fired])), 4)
                if fired else "–",
                "labels_saved": round(float(np.mean([f["labels_saved"] for f in fired])), 1) if fired else "–",
            })
    return rows


def _decimals(value: Any) -> int | None:
    """Decimal places ``value`` shows as written (``0.22`` → 2), or None for what is not a plain float."""
    if not isinstance(value, float) or not np.isfinite(value):
        return None
    text = str(value)
    return None if "e" in text or "." not in text else len(text.split(".")[1])


def _display(rows: list[dict[str, Any]], columns: list[str], least: int = 0) -> list[list[str]]:
    """Cells of ``rows`` as text, each column's floats padded to the places its longest one shows, and to at least
    ``least`` (a table whose numbers are all rounded alike: F1 0.0 and 0.5 read 0.000 and 0.500 beside another
    column's 0.879), so that a rounded 0.22 reads 0.220 beside 0.846 (rows keep their numbers for the JSON)."""
    places = {c: max((d for r in rows if (d := _decimals(r.get(c))) is not None), default=None) for c in columns}
    places = {c: None if d is None else max(d, least) for c, d in places.items()}
    return [[f"{r[c]:.{places[c]}f}" if _decimals(r.get(c)) is not None else str(r.get(c, "")) for c in columns]
            for r in rows]


#: The main table's headers in words (``summary.json`` keeps the keys); ``{baseline}``: the baseline's row label.
HEADERS = {"final_macro_f1": "final macro-F1", "area_macro_f1": "area (macro-F1)", "final_micro_f1": "final micro-F1",
           "vs_baseline_final": "vs {baseline}, final", "vs_baseline_area": "vs {baseline}, area"}


def _headers(columns: list[str], baseline: str | None) -> list[str]:
    """``columns`` as a table heads them: :data:`HEADERS` in words where ``baseline`` is given, else the keys."""
    if baseline is None:
        return columns
    return [HEADERS.get(c, c).replace("{baseline}", baseline) for c in columns]


def _table_md(rows: list[dict[str, Any]], columns: list[str], least: int = 0, baseline: str | None = None) -> str:
    lines = ["| " + " | ".join(_headers(columns, baseline)) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cells) + " |" for cells in _display(rows, columns, least)]
    return "\n".join(lines)


MAIN_COLUMNS = ["strategy", "seeds", "final_macro_f1", "area_macro_f1", "final_micro_f1", "vs_baseline_final",
                "vs_baseline_area"]


def problems(summary: dict[str, Any]) -> list[str]:
    """One line per partial, empty, unevaluated or damaged run in ``summary``: what it is and that it is left
    out."""
    out = [f"partial: {p['run']} ({p['rounds']} of {p['expected']} rounds, "
           f"{'being written' if p.get('being_written') else 'stopped'}) — left out of the tables"
           for p in summary["partial"]]
    out += [f"missing: {e} (no finished round) — left out" for e in summary["empty"]]
    out += [f"no macro-F1: {e} (null in every round) — left out" for e in summary.get("unevaluated", [])]
    out += [f"damaged: {d['run']} ({d['why']}) — left out" for d in summary.get("damaged", [])]
    return out


def baseline_notes(summary: dict[str, Any]) -> list[str]:
    """One line per setting that has no run of the baseline, so none of its strategies is tested."""
    baseline = summary["baseline"]
    return [f"note: {setting} has no {baseline!r} run: its strategies are not tested (--baseline names another "
            f"row label)" for setting, sec in summary["settings"].items()
            if all(row["strategy"] != baseline for row in sec["strategies"])]


def seed_notes(summary: dict[str, Any]) -> list[str]:
    """One line per setting whose strategies ran different seeds (:func:`~al.analysis.comparison.unequal_seeds`),
    and one per setting whose runs came from other versions of al, read other pool vectors or ran an edited
    strategy file (:func:`~al.analysis.comparison.provenance_note`)."""
    return [f"note: in {setting}, {sec[key]}" for setting, sec in summary["settings"].items()
            for key in ("unequal_seeds", "mixed_provenance") if sec.get(key)]


def _number(value: float | None) -> float | None:
    """A mean or std for JSON: a float, or None where undefined (one seed's std)."""
    return None if value is None else float(value)


def _relative(path: Path, root: Path) -> str:
    """``path`` below ``root`` as text (``.``: the run given is the directory itself); absolute where it is not
    below it (a link followed out)."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _sentence(text: str) -> str:
    """``text`` as a sentence: a capital first letter and a full stop."""
    return f"{text[:1].upper()}{text[1:]}."


#: Conditions the held-fixed line names in words of their own: ``data`` is the digest of what was read.
HELD_NAMES = {"data": "data digest"}


def held_text(sec: dict[str, Any]) -> str:
    """One line of what a setting's runs held fixed, and the version(s) of al that ran them; settings left at
    nothing (``labels=None``: the automatic pick; ``pool_size=None``: the whole pool) are not listed."""
    def written(value: Any) -> Any:  # null and true as a settings file writes them, not Python's None and True
        return json.dumps(value) if value is None or isinstance(value, bool) else \
            as_written(value) if isinstance(value, str) else value

    held = ", ".join(f"{HELD_NAMES.get(key, key)}={written(value)}" for key, value in sec["conditions"].items()
                     if "." in key or str(value) not in ("None", "{}", "[]", ""))  # a component's null is said
    return f"Held fixed in every run of this setting: {held}; run by al {', '.join(sec['versions'])}."


def _method_lines(summary: dict[str, Any], baseline: str) -> list[str]:
    """The statistics, stated once at the top of the report (Markdown list items)."""
    boot = summary["statistics"]["bootstrap"]
    return [
        f"- Pairs: runs of one seed (one seed is one initial labeled set for every strategy); only seeds run by "
        f"both the strategy and {baseline} count, and each comparison states its n.",
        f"- Wilcoxon signed-rank test, two-sided, on the paired differences (rounded to {DECIMALS} decimals). "
        f"Zero differences are dropped (zero_method='wilcox'); the p-value is exact "
        f"(scipy.stats.wilcoxon, method='exact') when no two |differences| tie and at most {EXACT_MAX_N} are "
        f"non-zero, exact over all 2^n sign assignments of the mid-ranks when some tie, and the "
        f"tie-corrected normal approximation above {EXACT_MAX_N}. With n seeds the smallest possible p is "
        f"2/2^n (0.25 for 3, 0.031 for 6, 0.002 for 10); with one it is 1, so a single non-zero difference gets "
        f"no test (and no place in Holm's m).",
        f"- 95 % CI: percentile bootstrap of the mean paired difference, {counted(boot['resamples'], 'resample')} of "
        f"seeds with replacement from numpy.random.default_rng({boot['seed']}) (fresh per comparison); with "
        f"fewer than {boot['min_seeds']} seeds, no interval (\"too few seeds\").",
        f"- p (Holm): Holm–Bonferroni step-down over the comparisons with {baseline} in one table (one setting, "
        f"one metric); m is stated under each table.",
    ]


def _markdown(sections: list[dict[str, Any]], summary: dict[str, Any], baseline: str) -> str:
    parts = ["# Active-learning comparison", "",
             f"Values are mean ± sample standard deviation over seeds (ddof = 1); with a single seed the "
             f"mean is shown alone (the spread is undefined). *area* is the area under the macro-F1 curve "
             f"divided by the labeled-size range (the curve's mean height). *vs {baseline}*: mean paired "
             f"difference, Wilcoxon signed-rank statistic W, two-sided p Holm-adjusted over the strategies "
             f"compared with {baseline} in the setting (per metric; the unadjusted p is in the tables below), and "
             f"seeds won.", "", *_method_lines(summary, baseline), ""]
    incomplete = problems(summary)
    if incomplete:
        parts += ["## Incomplete runs", "", *[f"- {p}" for p in incomplete], ""]
    for sec in sections:
        parts += [f"## {sec['setting']}", "", held_text(sec), ""]
        if sec["mixed"]:
            parts += [f"**Note:** {_sentence(sec['mixed'])}", ""]
        parts += [f"![macro-F1]({sec['figures']['macro_f1']})",
                  f"![micro-F1]({sec['figures']['micro_f1']})", "",
                  _table_md(sec["rows"], MAIN_COLUMNS, baseline=baseline), ""]
        if sec["unequal_seeds"]:
            parts += [f"**Note:** {_sentence(sec['unequal_seeds'])}", ""]
        label_columns = sec["label_columns"]
        for title, above, rows, foot in _comparison_notes(sec, baseline):
            parts += [f"### {title}", "", above, "", _table_md(rows, COMPARISON_COLUMNS), "", foot, ""]
        parts += [f"### {_reach_title(sec, baseline)}", "", _reach_text(sec, baseline), ""]
        if sec["reach"]["rows"]:
            parts += [_table_md(_reach_rows(sec["reach"]), REACH_COLUMNS), ""]
        parts += ["### Per-label F1 at the end (mean over seeds)", ""]
        if sec["groups"]:
            parts += [f"Frequent: {', '.join(sec['groups']['frequent'])}; rare: {', '.join(sec['groups']['rare'])} "
                      f"(from {sec['groups_source']}).", ""]
        parts += [_table_md(sec["labels"], label_columns, least=LABEL_F1_PLACES), ""]
        if sec["picks"]:
            parts += ["### What the picks carried (label occurrences per 100 picked texts)", "", PICKS_NOTE, "",
                      _table_md(sec["picks"], sec["picks_columns"]), ""]
        if sec["space"]:
            parts += ["### The space each strategy read (centroid proximity and margins)", "", SPACE_NOTE, "",
                      _table_md(sec["space"], DIAGNOSTIC_COLUMNS), ""]
        parts += ["### Compute (mean seconds per round)", "", COMPUTE_NOTE, "",
                  f"![compute]({sec['figures']['compute']})", "", _table_md(sec["compute"], sec["compute_columns"]), ""]
        if sec["stopping"]:
            parts += ["### Where the stopping criteria would have stopped (al.stopping)", "", STOPPING_NOTE, "",
                      _table_md(sec["stopping"], STOPPING_COLUMNS), ""]
    if summary.get("preparations"):
        parts += ["## Once-per-pool work outside the runs", "", PREPARATIONS_NOTE, "",
                  _table_md(summary["preparations"], _preparation_columns(summary["preparations"])), ""]
    return "\n".join(parts)


def _table_html(rows: list[dict[str, Any]], columns: list[str], least: int = 0, baseline: str | None = None) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in _headers(columns, baseline))
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>"
                   for cells in _display(rows, columns, least))
    # a wide table (one column per label) scrolls in its own box, not past the page's column and window
    return f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def _prose(text: str) -> str:
    """Markdown prose as HTML: escaped, its ``*emphasis*`` and ```code``` as ``<em>`` and ``<code>``."""
    escaped = html.escape(text)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return re.sub(r"(?<![\w/*])\*([^*\s](?:[^*]*[^*\s])?)\*(?![\w*])", r"<em>\1</em>", escaped)


def _html(sections: list[dict[str, Any]], summary: dict[str, Any], baseline: str) -> str:
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Active-learning comparison</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;margin:1em 0}.scroll{overflow-x:auto}"
             "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}img{max-width:48%}</style>",
             "</head><body><h1>Active-learning comparison</h1>",
             f"<p>Mean ± sample std over seeds (ddof = 1; one seed: the mean alone); area = normalised area "
             f"under the macro-F1 curve; vs {baseline}: mean paired difference, Wilcoxon signed-rank W, two-sided "
             f"p Holm-adjusted over the strategies compared with {baseline} in the setting (per metric; the "
             f"unadjusted p is in the tables below), seeds won.</p>",
             "<ul>" + "".join(f"<li>{_prose(line[2:])}</li>" for line in _method_lines(summary, baseline))
             + "</ul>"]
    incomplete = problems(summary)
    if incomplete:
        parts.append("<h2>Incomplete runs</h2><ul>" + "".join(f"<li>{html.escape(p)}</li>" for p in incomplete) + "</ul>")
    for sec in sections:
        parts.append(f"<h2>{html.escape(sec['setting'])}</h2><p><small>{html.escape(held_text(sec))}</small></p>")
        if sec["mixed"]:
            parts.append(f"<p><strong>Note:</strong> {html.escape(_sentence(sec['mixed']))}</p>")
        parts.append("".join(f"<img src='{html.escape(sec['figures'][k])}' alt='{k}'>" for k in ("macro_f1", "micro_f1")))
        parts.append(_table_html(sec["rows"], MAIN_COLUMNS, baseline=baseline))
        if sec["unequal_seeds"]:
            parts.append(f"<p><strong>Note:</strong> {html.escape(_sentence(sec['unequal_seeds']))}</p>")
        for title, above, rows, foot in _comparison_notes(sec, baseline):
            parts.append(f"<h3>{html.escape(title)}</h3><p>{_prose(above)}</p>")
            parts.append(_table_html(rows, COMPARISON_COLUMNS))
            parts.append(f"<p><small>{_prose(foot)}</small></p>")
        parts.append(f"<h3>{html.escape(_reach_title(sec, baseline))}</h3>"
                     f"<p>{_prose(_reach_text(sec, baseline))}</p>")
        if sec["reach"]["rows"]:
            parts.append(_table_html(_reach_rows(sec["reach"]), REACH_COLUMNS))
        parts.append("<h3>Per-label F1 at the end</h3>")
        if sec["labels"]:
            parts.append(_table_html(sec["labels"], sec["label_columns"], least=LABEL_F1_PLACES))
        if sec["picks"]:
            parts.append(f"<h3>What the picks carried</h3><p>{_prose(PICKS_NOTE)}</p>")
            parts.append(_table_html(sec["picks"], sec["picks_columns"]))
        if sec["space"]:
            parts.append(f"<h3>The space each strategy read</h3><p>{_prose(SPACE_NOTE)}</p>")
            parts.append(_table_html(sec["space"], DIAGNOSTIC_COLUMNS))
        parts.append(f"<h3>Compute per round</h3><p>{_prose(COMPUTE_NOTE)}</p>"
                     f"<img src='{html.escape(sec['figures']['compute'])}' alt='compute'>")
        parts.append(_table_html(sec["compute"], sec["compute_columns"]))
        if sec["stopping"]:
            parts.append(f"<h3>Where the stopping criteria would have stopped</h3><p>{_prose(STOPPING_NOTE)}</p>")
            parts.append(_table_html(sec["stopping"], STOPPING_COLUMNS))
    if summary.get("preparations"):
        parts.append(f"<h2>Once-per-pool work outside the runs</h2><p>{_prose(PREPARATIONS_NOTE)}</p>")
        parts.append(_table_html(summary["preparations"], _preparation_columns(summary["preparations"])))
    parts.append("</body></html>")
    return "\n".join(parts)
