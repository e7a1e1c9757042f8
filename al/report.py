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
query over the rounds that queried). All of it as
``report.md`` and ``report.html`` (with the PNGs) and ``summary.json``.
Incomplete runs are listed, not silently averaged in; a setting without a run
of the baseline is named on stderr.

The command line only; the report itself is
:func:`al.analysis.strategy_report.build_report`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from al.cli import ArgumentParser, output_dir
from al.analysis.comparison import BOOTSTRAP_SEED, RESAMPLES
from al.analysis.strategy_report import baseline_notes, build_report, problems
from al.errors import ALError


def main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m al.report", description=__doc__.split("\n\n")[0],
                            formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("runs_dir", help="directory holding run directories (e.g. a grid's out)")
    parser.add_argument("-o", "--output", default="report", help="report directory")
    parser.add_argument("--baseline", default=None,
                        help="strategy every other is tested against (a row label, e.g. class_embedding@cea); "
                        "default: random, where the runs have it")
    parser.add_argument("--resamples", type=int, default=RESAMPLES, help="bootstrap resamples of seeds")
    parser.add_argument("--bootstrap-seed", type=int, default=BOOTSTRAP_SEED,
                        help="seed of the bootstrap's generator (recorded in summary.json)")
    args = parser.parse_args(argv)
    made = not Path(args.output).exists()
    try:
        if not Path(args.runs_dir).is_dir():
            state = "is a file" if Path(args.runs_dir).exists() else "does not exist"
            raise ALError(f"{args.runs_dir} {state}; give the directory holding the runs (a grid's out, e.g. "
                          f"runs/quick)")
        output_dir(args.output, "-o")
        summary = build_report(Path(args.runs_dir), Path(args.output), args.baseline, args.resamples,
                               args.bootstrap_seed)
    except ALError as exc:
        if made and Path(args.output).is_dir() and not any(Path(args.output).iterdir()):
            Path(args.output).rmdir()  # no empty report directory left behind
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in problems(summary) + baseline_notes(summary):
        print(line, file=sys.stderr)
    print(f"wrote {Path(args.output) / 'report.md'} and report.html ({len(summary['settings'])} settings)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
