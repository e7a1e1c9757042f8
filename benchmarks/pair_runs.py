"""Pair each run of a grid with its twin on another value of one grid axis: picks shared, area and final deltas.

    python benchmarks/pair_runs.py /tmp/embed-bf16 --axis embed_precision --a fp32 --b bf16

Run directories of a grid are named ``key-value__key-value__...`` (``al.grid``);
two runs are twins when their names differ only in ``AXIS-A`` against
``AXIS-B``. For each setting (the name without the axis and the seed) and seed:
how many of round 0's picks the two share, in how many rounds they picked the
same set, and B − A of the normalised area under the macro-F1 curve and of the
final macro-F1. Prints a markdown table, one row per setting, seeds in order.
"""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from al.analysis.comparison import normalized_area  # noqa: E402
from al.records import read_rounds  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("grid_out", type=Path, help="the grid's output directory")
    parser.add_argument("--axis", required=True, help="the grid key whose two values are compared")
    parser.add_argument("--a", required=True, help="the reference value")
    parser.add_argument("--b", required=True, help="the value compared with it")
    args = parser.parse_args()
    rows: dict[str, list[tuple[str, int, int, int, float, float]]] = defaultdict(list)
    for run_a in sorted(args.grid_out.glob(f"*{args.axis}-{args.a}*")):
        run_b = run_a.with_name(run_a.name.replace(f"{args.axis}-{args.a}", f"{args.axis}-{args.b}"))
        a, b = read_rounds(run_a), read_rounds(run_b)
        if not a or not b:
            print(f"skipped {run_a.name}: its twin {run_b.name} has no rounds", file=sys.stderr)
            continue
        parts = [p for p in run_a.name.split("__") if not p.startswith(f"{args.axis}-")]
        seed = next((p for p in parts if p.startswith("seed-")), "seed-?")
        setting = "__".join(p for p in parts if p != seed)
        shared = len(set(a[0]["picked"]) & set(b[0]["picked"]))
        same = sum(sorted(x["picked"]) == sorted(y["picked"]) for x, y in zip(a[:-1], b[:-1]))
        area = [normalized_area([r["n_labeled"] for r in rs], [r["macro_f1"] for r in rs]) for rs in (a, b)]
        rows[setting].append((seed, shared, same, len(a) - 1, area[1] - area[0], b[-1]["macro_f1"] - a[-1]["macro_f1"]))
    print(f"| setting | round-0 picks shared | rounds with the same picks | area, {args.b} − {args.a} "
          f"| final macro-F1, {args.b} − {args.a} |\n|---|---|---|---|---|")
    for setting, seeds in rows.items():
        seeds.sort()
        print(f"| {setting} | {', '.join(str(s[1]) for s in seeds)} | {', '.join(f'{s[2]}/{s[3]}' for s in seeds)} | "
              f"{', '.join(f'{s[4]:+.4f}' for s in seeds)} | {', '.join(f'{s[5]:+.4f}' for s in seeds)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
