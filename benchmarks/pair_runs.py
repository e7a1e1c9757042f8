"""Pair each run of a grid with its twin on another value of one grid axis: picks shared, area and final deltas.

    python benchmarks/pair_runs.py /tmp/embed-bf16 --axis embed_precision --a fp32 --b bf16

Run directories of a grid are named ``key-value__key-value__...`` (``al.grid``);
two runs are twins when their names differ only in the part ``AXIS-A`` against
``AXIS-B`` (parts compared whole: ``step-5`` is not ``step-50``). For each
setting (the name without the axis and the seed) and seed, in the order of the
seed numbers: how many of round 0's picks the two share, in how many rounds
they picked the same set, and B − A of the normalised area under the macro-F1
curve and of the final macro-F1. A twin that is missing or has not finished
every round is named on stderr and left out. Prints a markdown table, one row
per setting.
"""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from al.analysis.comparison import expected_rounds, normalized_area  # noqa: E402
from al.cli import ArgumentParser  # noqa: E402
from al.errors import ALError, DataError  # noqa: E402
from al.records import read_config, read_rounds  # noqa: E402


def name_parts(name: str) -> dict[str, str] | None:
    """``{key: value}`` of a grid run's directory name ``key-value__key-value``; None for another name."""
    parts = [part.partition("-") for part in name.split("__")]
    if any(not key or not sep for key, sep, _ in parts):
        return None
    return {key: value for key, _, value in parts}


def unfinished(run: Path, rounds: list[dict]) -> str | None:
    """Why a run directory does not count (``has 2 of 3 rounds``), or None when it finished every round."""
    if not rounds:
        return "is missing" if not run.exists() else "has no finished round"
    expected = expected_rounds((read_config(run) or {}).get("config", {}))
    return f"has {len(rounds)} of {expected} rounds" if len(rounds) < expected else None


def twins(grid_out: Path, axis: str, a: str, b: str) -> tuple[dict[str, list[tuple[int, Path, Path]]], list[str]]:
    """Per setting, (seed, run A, run B) for each pair of twins that both finished; and one line per one left out."""
    pairs: dict[str, list[tuple[int, Path, Path]]] = defaultdict(list)
    skipped = []
    for run_a in sorted(p for p in grid_out.iterdir() if p.is_dir()):
        parts = name_parts(run_a.name)
        if parts is None or parts.get(axis) != a:
            continue
        run_b = run_a.with_name("__".join(f"{k}-{b if k == axis else v}" for k, v in parts.items()))
        why = {r.name: unfinished(r, read_rounds(r)) for r in (run_a, run_b)}
        if any(why.values()):
            skipped.append(f"skipped {run_a.name} against {run_b.name}: "
                           + "; ".join(f"{name} {w}" for name, w in why.items() if w))
            continue
        seed = parts.get("seed", str((read_config(run_a) or {}).get("config", {}).get("seed", "?")))
        if not seed.isdigit():
            raise DataError(f"{run_a}: seed {seed!r} is not a number; expected runs named by al.grid")
        setting = "__".join(f"{k}-{v}" for k, v in parts.items() if k not in (axis, "seed")) or "–"
        pairs[setting].append((int(seed), run_a, run_b))
    return pairs, skipped


def main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("grid_out", type=Path, help="the grid's output directory")
    parser.add_argument("--axis", required=True, help="the grid key whose two values are compared")
    parser.add_argument("--a", required=True, help="the reference value")
    parser.add_argument("--b", required=True, help="the value compared with it")
    args = parser.parse_args(argv)
    try:
        if not args.grid_out.is_dir():
            raise DataError(f"{args.grid_out} is no directory; give the grid's output directory (its `out`)")
        pairs, skipped = twins(args.grid_out, args.axis, args.a, args.b)
        if not pairs:
            named = [parts for p in args.grid_out.iterdir() if p.is_dir() and (parts := name_parts(p.name))]
            values = sorted({parts[args.axis] for parts in named if args.axis in parts})
            held = (f"the runs' {args.axis} values: {', '.join(values)}" if values else
                    f"no run name holds {args.axis}-…; their keys: "
                    f"{', '.join(sorted({k for parts in named for k in parts})) or 'none'}")
            first = f": {skipped[0].removeprefix('skipped ')}" if skipped else ""
            raise DataError(f"no finished pair of runs named {args.axis}-{args.a} and {args.axis}-{args.b} in "
                            f"{args.grid_out} ({len(skipped)} skipped{first}); {held}; check --axis, --a and --b")
        rows = {}
        for setting, seeds in pairs.items():
            cells = []
            for seed, run_a, run_b in sorted(seeds):
                a, b = read_rounds(run_a), read_rounds(run_b)
                shared = len(set(a[0].get("picked", [])) & set(b[0].get("picked", [])))
                same = sum(sorted(x.get("picked", [])) == sorted(y.get("picked", [])) for x, y in zip(a[:-1], b[:-1]))
                area = [normalized_area([r["n_labeled"] for r in rs], [r["macro_f1"] for r in rs]) for rs in (a, b)]
                cells.append((seed, shared, same, len(a) - 1, area[1] - area[0], b[-1]["macro_f1"] - a[-1]["macro_f1"]))
            rows[setting] = cells
    except ALError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in skipped:
        print(line, file=sys.stderr)
    print(f"| setting | seeds | round-0 picks shared | rounds with the same picks | area, {args.b} − {args.a} "
          f"| final macro-F1, {args.b} − {args.a} |\n|---|---|---|---|---|---|")
    for setting, cells in rows.items():
        print(f"| {setting} | {', '.join(str(s[0]) for s in cells)} | {', '.join(str(s[1]) for s in cells)} | "
              f"{', '.join(f'{s[2]}/{s[3]}' for s in cells)} | {', '.join(f'{s[4]:+.4f}' for s in cells)} | "
              f"{', '.join(f'{s[5]:+.4f}' for s in cells)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
