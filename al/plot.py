"""``python -m al.plot RUN_DIR... -o curves.png``: learning curves of finished runs.

Runs that have not finished every round, or have no value of the metric, are
named on stderr and left out; runs of different settings (data sets, budgets,
classifiers...) are never averaged into one line, nor drawn as lines of one
figure: where ``al.report`` would put them in different settings
(:func:`al.analysis.comparison.settings_of`), the figure is refused, naming
what differs and a run directory for each value, unless they differ in the
``--group-by`` setting alone (:func:`al.analysis.comparison.lines_of_one_setting`).
The same simulation twice (one setting and seed under two directories) is
refused, as ``al.report`` refuses it.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from al.cli import ArgumentParser, DefaultsHelpFormatter, output_file
from al.errors import ALError, DataError


def default_title(runs: Sequence[Any], metric: str) -> str:
    """The figure's title: the metric, and under it the data and the classifier the runs share, named as al.report
    names a setting (``mydata (5+5), logreg on all-MiniLM-L6-v2``; ``mydata (5+5), a pool of 2,000 texts
    (pool_size), ...`` for a pool subsample); a part the runs differ in (``--group-by``) is left out."""
    from al.analysis.curves import axis_label

    def shared(of: Callable[[Any], str | None]) -> str | None:
        values = {of(run) for run in runs}
        return values.pop() if len(values) == 1 else None

    def data(run: Any) -> str:
        """The data set and its labels as al.report names a setting: ``disaster (5+5)``, ``mine (labels=a,b)``."""
        from al.analysis.comparison import label_pick

        corpus, c = run.meta.get("corpus") or {}, run.config
        pool = c.get("pool_size")  # a subsample of the pool: curves on it are not the whole pool's
        sampled = f", a pool of {pool:,} texts (pool_size)" if isinstance(pool, int) and pool > 0 else ""
        return f"{corpus.get('name') or c.get('dataset', '?')} ({label_pick(c)}){sampled}"

    def encoder(run: Any) -> str | None:
        """The model the classifier reads: a fine-tuned classifier's own (its ``model`` param), else the run's."""
        classifier = run.config.get("classifier")
        params = (classifier.get("params") or {}) if isinstance(classifier, dict) else {}
        return params.get("model") or run.config.get("classifier_model") or run.config.get("model")

    def classifier_name(run: Any) -> str | None:
        classifier = run.config.get("classifier")
        return classifier.get("name") if isinstance(classifier, dict) else classifier

    classifier, model = shared(classifier_name), shared(encoder)
    reads = f"{classifier} on {model}" if classifier and model else classifier
    parts = [part for part in (shared(data), reads) if part]
    return f"{axis_label(metric)} by labeled-set size" + (f"\n{', '.join(parts)}" if parts else "")


def main(argv: Sequence[str] | None = None) -> int:
    p = ArgumentParser(
        prog="python -m al.plot",
        description="Plot a metric against labeled-set size: mean ± sample std over seeds (ddof = 1; "
        "one seed: the mean alone), one line per strategy. The runs of one figure must be of one setting, as "
        "al.report tells settings apart (it draws one figure per setting).",
        epilog="exit status: 0 when the figure is written (a line for each run left out); 2 when the input was "
        "refused (one line says why); 130 on Ctrl-C",
        formatter_class=DefaultsHelpFormatter,
    )
    p.add_argument("runs", nargs="+", help="run directories, or directories holding run directories")
    p.add_argument("-o", "--output", default="curves.png", help="image file to write")
    p.add_argument("--metric", default="macro_f1", help="a number each round records: macro_f1, micro_f1, "
                   "macro_precision, macro_recall, a timing (seconds_train, seconds_query, seconds_evaluate), or a "
                   "number inside a mapping by its dotted path: one label's F1 (per_label_f1.fire), a "
                   "--diagnostics figure (diagnostics.summary.mean_ratio)")
    p.add_argument("--group-by", default="strategy",
                   help="config key whose values become the lines; the runs must agree in every other setting, "
                   "the strategy included")
    p.add_argument("--partial", action="store_true",
                   help="draw runs that have not finished every round too, as far as they go (a run being written: "
                   "its curve so far); their sizes average fewer runs, as each line's run count says")
    p.add_argument("--title", default=None,
                   help="the figure's title (default: the metric, and under it the data and classifier the runs share)")
    args = p.parse_args(argv)
    try:
        from matplotlib.backend_bases import FigureCanvasBase

        from al.analysis.comparison import complete_runs, line_labels, partial_state, unequal_seeds
        from al.analysis.curves import (NOT_METRICS, counted, curves, every_round, format_curves, load_runs,
                                        plot_curves, points, records_metric, unrecorded, unstarted_runs)

        import shutil

        # .pgf needs LaTeX (xelatex, matplotlib's default) to write: offered only where it is installed
        formats = (".png", *sorted(f".{ext}" for ext in FigureCanvasBase.get_supported_filetypes()
                                   if ext != "png" and (ext != "pgf" or shutil.which("xelatex"))))
        if not Path(args.output).suffix and not Path(args.output).is_dir() and not args.output.endswith(("/", "\\")):
            args.output = f"{args.output}.png"  # as matplotlib does: a file name without an extension gets .png
        output_file(args.output, "-o", formats)
        damaged: list[tuple[Path, str]] = []
        runs, partial = complete_runs(load_runs(args.runs, damaged=damaged))
        missing = unstarted_runs(args.runs)
        notes = [f"missing: {path} (no finished round) — left out" for path in missing]
        notes += [f"damaged: {path} ({why}) — left out" for path, why in damaged]
        missing_note = f"; {len(missing)} with no finished round, e.g. {missing[0]}" if missing else ""
        fate = "drawn as far as it goes" if args.partial else "left out (--partial draws it)"
        notes += [f"partial: {run.path} ({done} of {expected} rounds, {partial_state(run)}) — {fate}"
                  for run, done, expected in partial]
        if args.partial:
            runs = sorted([*runs, *(run for run, _, _ in partial)], key=lambda run: run.path)
        if not runs:
            raise DataError(f"no run given is complete ({len(partial)} partial, e.g. {partial[0][0].path}: "
                            f"{partial[0][1]} of {partial[0][2]} rounds, {partial_state(partial[0][0])}"
                            f"{missing_note}); finish them (the command that started them resumes them) and plot "
                            f"again, or draw them as far as they go with --partial")
        if args.metric in NOT_METRICS:  # every round records them: drawn, a line of its own x axis
            raise DataError(f"--metric {args.metric} is no metric ({NOT_METRICS[args.metric]}); give one every round "
                            f"records: {', '.join(every_round(runs[0]))}")
        # a run that records it in no round (a --diagnostics metric, runs made without it) or null in every round
        unrecorded_by = {run.path for run in runs if not records_metric(run, args.metric)}
        if len(unrecorded_by) == len(runs):  # the metric's name is wrong, not one run's records
            raise DataError(f"{'the run given records' if len(runs) == 1 else 'the runs given record'} "
                            f"{unrecorded(runs[0], args.metric)}")
        null = {run.path for run in runs if run.path not in unrecorded_by and not points(run, args.metric)[0]}
        notes += [f"no {args.metric}: {path} ({'not recorded' if path in unrecorded_by else 'null in every round'})"
                  f" — left out" for path in sorted(unrecorded_by | null)]
        runs = [run for run in runs if run.path not in unrecorded_by | null]
        if not runs:
            why = [f"{len(unrecorded_by)} record none"] * bool(unrecorded_by) + [f"{len(null)} null in every round"]
            raise DataError(f"no {'run given' if args.partial else 'complete run'} has a value of {args.metric} "
                            f"({', '.join(why)}); give another --metric")
        lines = line_labels(runs, args.group_by)
        curve_list = curves(runs, args.metric, args.group_by, labels=lines)
        if args.group_by != "seed":
            seeds: dict[str, list[int]] = {}
            for run in runs:
                seeds.setdefault(lines[run.path], []).append(run.seed)
            if (note := unequal_seeds(seeds)) is not None:
                notes.append(f"note: {note}")
        path = plot_curves(curve_list, args.output, args.metric, args.title or default_title(runs, args.metric))
    except ALError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # the figure is written whole or not at all (al.io.write_atomic)
        print("interrupted; nothing written, run the same command again for the figure", file=sys.stderr)
        return 130
    print(format_curves(curve_list, args.metric))
    for note in notes:
        print(note, file=sys.stderr)
    print(f"wrote {path} ({counted(len(runs), 'run')})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    from al.cli import exit_with

    exit_with(main)
