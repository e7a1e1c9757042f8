"""``python -m al.report RUNS_DIR -o REPORT_DIR``: which strategy, by how much, how sure.

Writes, per setting (data set + classifier; runs that differ in any other
setting but strategy and seed, a budget or an initial-set rule, are another
setting, never paired): macro- and micro-F1 curves (mean ±
sample std over seeds, ddof = 1; one seed: the mean alone); the normalised area
under the macro-F1 curve per strategy and seed; final and area values with a
paired Wilcoxon signed-rank test of each strategy against random over shared
seeds; per comparison the seeds paired (n), the exact Wilcoxon p, Holm's
adjusted p over the strategies of the table, and a percentile-bootstrap 95 %
interval of the mean paired difference (fixed generator seed: the same runs give
the same report; below 10 seeds a caution that such an interval is too narrow);
the main table's p Holm-adjusted as well; per strategy the labeled texts needed
to reach 95 % of the baseline's final macro-F1 (median over all seeds, one that
never reached it counting as infinitely many: "not reached" unless more than
half did; and k of n seeds); per-label F1 at the end, frequent vs rare labels;
the labels each strategy's picks carried (per 100 picks, against the pool's
chance rate) and, for runs with diagnostics, centroid proximity and margins in
the space the strategy read; compute per round (train / query / evaluate seconds;
query over the rounds that queried), and the once-per-pool tasks a grid ran apart
from its runs (its ``preparations.jsonl``). All of it as
``report.md`` and ``report.html`` (with the PNGs) and ``summary.json``.
Incomplete runs are listed, not silently averaged in; a setting without a run
of the baseline is named on stderr.

The command line only; the report itself is
:func:`al.analysis.strategy_report.build_report`.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Sequence

from al.cli import ArgumentParser, DefaultsHelpFormatter, output_dir
from al.analysis.comparison import BOOTSTRAP_SEED, MAX_RESAMPLES, MIN_RESAMPLES, RESAMPLES, SEED_LIMIT
from al.analysis.curves import counted
from al.analysis.strategy_report import (
    baseline_notes, build_report, check_report_dir, problems, report_figures, seed_notes,
)
from al.errors import ALError, ConfigError


def main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m al.report", formatter_class=DefaultsHelpFormatter,
                            description=__doc__.split("\n\n")[0].replace("``", ""),  # the docstring's markup aside
                            epilog="exit status: 0 when the report is written (a line for each run left out); 2 "
                            "when the input was refused (one line says why); 130 on Ctrl-C (nothing written)")
    parser.add_argument("runs_dir", help="directory holding run directories (e.g. a grid's out)")
    parser.add_argument("-o", "--output", default="report", help="report directory")
    parser.add_argument("--baseline", default=argparse.SUPPRESS,
                        help="strategy every other is tested against (a row label, e.g. class_embedding@cea, or a "
                        "strategy's name where one row of it alone is there); "
                        "default: random, where the runs have it")
    parser.add_argument("--resamples", type=int, default=RESAMPLES,
                        help=f"bootstrap resamples of seeds ({MIN_RESAMPLES:,} to {MAX_RESAMPLES:,})")
    parser.add_argument("--bootstrap-seed", type=int, default=BOOTSTRAP_SEED,
                        help="seed of the bootstrap's generator, 0 to 2**32 - 1 (recorded in summary.json)")
    args = parser.parse_args(argv)
    made = not Path(args.output).exists()
    try:
        check_bootstrap(args.resamples, args.bootstrap_seed)
        if not Path(args.runs_dir).is_dir():
            state = "is a file" if Path(args.runs_dir).exists() else "does not exist"
            raise ALError(f"{args.runs_dir} {state}; give the directory holding the runs (a grid's out, e.g. "
                          f"runs/quick)")
        out = output_dir(args.output, "-o")
        earlier = check_report_dir(out)  # its summary, read once: the figures it had
        summary = build_report(Path(args.runs_dir), out, getattr(args, "baseline", None), args.resamples,
                               args.bootstrap_seed)
        # the figures of settings the earlier report had and this one has not would mislead
        stale = [name for name in sorted(report_figures(earlier) - report_figures(summary)) if (out / name).is_file()]
        for name in stale:
            (out / name).unlink()
    except ALError as exc:
        if made and Path(args.output).is_dir() and not any(Path(args.output).iterdir()):
            Path(args.output).rmdir()  # no empty report directory left behind
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if made:  # a half-written report this command began: nothing of it is left
            shutil.rmtree(args.output, ignore_errors=True)
        print("interrupted; nothing written, run the same command again for the report", file=sys.stderr)
        return 130
    for line in problems(summary) + baseline_notes(summary) + seed_notes(summary):
        print(line, file=sys.stderr)
    if stale:
        print(f"removed {counted(len(stale), 'figure')} of the earlier report in {out} ({', '.join(stale)})",
              file=sys.stderr)
    settings = counted(len(summary["settings"]), "setting")
    n_figures = sum((out / name).is_file() for name in report_figures(summary))
    files = (f"report.html, summary.json and {counted(n_figures, 'figure')}" if n_figures
             else "report.html and summary.json")
    print(f"wrote {Path(args.output) / 'report.md'}, {files} ({settings})", file=sys.stderr)
    return 0


def check_bootstrap(resamples: int, seed: int) -> None:
    """One-line :class:`ConfigError` unless ``resamples`` is :data:`MIN_RESAMPLES` to :data:`MAX_RESAMPLES` and
    ``seed`` a generator's."""
    if not MIN_RESAMPLES <= resamples <= MAX_RESAMPLES:
        why = ("fewer leave a 95 % interval's tails too few resamples to read" if resamples < MIN_RESAMPLES else
               "more changes no digit of a 95 % interval")
        raise ConfigError(f"--resamples must be {MIN_RESAMPLES:,} to {MAX_RESAMPLES:,} ({why}), got {resamples:,}; "
                          f"the default is {RESAMPLES:,}")
    if not 0 <= seed < SEED_LIMIT:
        raise ConfigError(f"--bootstrap-seed must be 0 to 2**32 - 1 ({SEED_LIMIT - 1}), got {seed}; the default "
                          f"is {BOOTSTRAP_SEED}")


if __name__ == "__main__":
    from al.cli import exit_with

    exit_with(main)
