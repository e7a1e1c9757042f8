"""Does a named start beat a random one? Paired tests at fixed labeled-set sizes for the cold-start grid.

    python benchmarks/cold_start_table.py runs/cold-start --sizes 100 300 -o benchmarks/cold-start-report/at-sizes.md

For each data set, query strategy and labeled-set size: the macro-F1 of each
start (``label_names``, ``kmeans``) against the ``random`` start of the same
strategy and seed; the mean paired difference, its percentile-bootstrap 95 %
interval, the exact Wilcoxon p and Holm's adjusted p over the comparisons of
one table (one data set and size). The statistics are the report's own
(:mod:`al.analysis.comparison`); ``al.report`` compares areas and final values,
this adds the sizes the question names.
"""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from al.analysis.comparison import bootstrap_ci, holm, paired_test  # noqa: E402
from al.analysis.curves import load_runs  # noqa: E402
from al.cli import ArgumentParser, output_file  # noqa: E402
from al.errors import ALError  # noqa: E402
from al.io import write_atomic  # noqa: E402

BASELINE = "random"


def main() -> int:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs_dir")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300])
    parser.add_argument("-o", "--output", help="Markdown file to write (default: print only)")
    args = parser.parse_args()
    if min(args.sizes) < 1:
        parser.error(f"--sizes must be labeled-set sizes of at least 1, got {min(args.sizes)}; give e.g. --sizes "
                     f"100 300")

    # (data set, strategy, start) -> seed -> {labeled-set size: macro-F1}
    values: dict[tuple[str, str, str], dict[int, dict[int, float]]] = defaultdict(dict)
    try:
        if args.output:
            output_file(args.output, "-o")
        for run in load_runs([args.runs_dir]):
            key = (str(run.config["dataset"]), run.setting("strategy"),
                   str(run.config.get("initial_strategy", "random")))
            values[key][run.seed] = {int(r["n_labeled"]): float(r["macro_f1"]) for r in run.rounds}
    except ALError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    starts = sorted({k[2] for k in values} - {BASELINE})
    if not starts or BASELINE not in {k[2] for k in values}:
        held = f"only from {', '.join(starts)}" if starts else "only at random"
        print(f"error: the runs under {args.runs_dir} start {held}; expected runs of a {BASELINE} start and another "
              f"(initial_strategy label_names or kmeans), as simulations/cold-start.yaml makes", file=sys.stderr)
        return 2

    lines = ["# Cold starts at fixed labeled-set sizes", "",
             f"`python benchmarks/cold_start_table.py {args.runs_dir} --sizes {' '.join(map(str, args.sizes))}`. "
             f"Macro-F1 of each start minus the {BASELINE} start's, same strategy and seed; mean over the paired "
             "seeds [percentile-bootstrap 95 % CI], exact two-sided Wilcoxon p, Holm over the comparisons of one "
             "table, seeds won.", ""]
    for dataset in sorted({k[0] for k in values}):
        for size in args.sizes:
            rows = []
            for strategy in sorted({k[1] for k in values if k[0] == dataset}):
                base = values.get((dataset, strategy, BASELINE), {})
                for start in sorted({k[2] for k in values if k[:2] == (dataset, strategy)} - {BASELINE}):
                    runs = values[(dataset, strategy, start)]
                    seeds = sorted(s for s in runs if s in base and size in runs[s] and size in base[s])
                    if not seeds:
                        continue
                    mine, theirs = [runs[s][size] for s in seeds], [base[s][size] for s in seeds]
                    test = paired_test(mine, theirs)
                    ci = bootstrap_ci([a - b for a, b in zip(mine, theirs)])
                    rows.append({"strategy": strategy, "start": start, "n": len(seeds),
                                 "start_mean": sum(mine) / len(mine), "random_mean": sum(theirs) / len(theirs),
                                 "diff": test.mean_difference, "ci": ci, "p": test.p_value, "wins": test.wins})
            adjusted = holm([r["p"] if r["p"] is not None else 1.0 for r in rows]) if rows else []
            if not rows:
                held = sorted({n for key, seeds in values.items() if key[0] == dataset
                               for sizes in seeds.values() for n in sizes})
                lines += [f"## {dataset}, {size} labeled texts", "",
                          f"No run of another start has a {BASELINE}-start twin (same strategy and seed) with both "
                          f"measured at {size} labeled texts (the sizes this data set's runs reach: "
                          f"{', '.join(map(str, held))}).", ""]
                continue
            lines += [f"## {dataset}, {size} labeled texts", "",
                      "| strategy | start | seeds | macro-F1 (start) | macro-F1 (random start) | difference [95 % CI] "
                      "| p | p (Holm) | seeds won |", "|---|---|---:|---:|---:|---|---:|---:|---:|"]
            for row, p_holm in zip(rows, adjusted):
                ci = "too few seeds" if row["ci"] is None else f"[{row['ci'][0]:+.4f}, {row['ci'][1]:+.4f}]"
                p = "–" if row["p"] is None else f"{row['p']:.3g}"
                lines.append(f"| {row['strategy']} | {row['start']} | {row['n']} | {row['start_mean']:.4f} | "
                             f"{row['random_mean']:.4f} | {row['diff']:+.4f} {ci} | {p} | {p_holm:.3g} | "
                             f"{row['wins']}/{row['n']} |")
            lines += ["", f"Holm over the {len(rows)} comparisons of this table.", ""]
    text = "\n".join(lines)
    print(text)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        write_atomic(Path(args.output), text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
