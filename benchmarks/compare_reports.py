"""How far did a grid's numbers move? Two ``al.report`` summaries, strategy by strategy.

    python benchmarks/compare_reports.py OLD/summary.json NEW/summary.json

Prints, per setting and strategy that both reports hold, the mean final macro-F1 and area of
each report with its seed count, and the largest per-seed change of the area over the seeds
both hold (the summaries keep the area per seed, rounded to 4 places). Means over other seeds
are not comparable: where the seeds differ, the row says so. The rows only one report holds
are listed after the table.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from al.cli import ArgumentParser  # noqa: E402


def rows(summary: dict) -> dict[tuple[str, str], dict]:
    out = {}
    for setting, section in summary["settings"].items():
        for row in section.get("strategies", section.get("rows", [])):
            out[(setting, row["strategy"])] = row
    return out


def mean(text: str) -> float:
    return float(text.split("±")[0])


def main() -> int:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    args = parser.parse_args()
    summaries = []
    for path in (args.old, args.new):
        if not path.is_file():
            print(f"error: {path} is no file; give the summary.json that python -m al.report wrote in its output "
                  f"folder", file=sys.stderr)
            return 2
        try:
            summaries.append(rows(json.loads(path.read_text())))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            print(f"error: {path} is no al.report summary ({type(exc).__name__}: {exc}); give the summary.json "
                  f"that python -m al.report wrote in its output folder", file=sys.stderr)
            return 2
    old, new = summaries
    print("| setting | strategy | seeds old -> new | final macro-F1 old -> new | area old -> new | largest per-seed "
          "area change (shared seeds) |")
    print("|---|---|---|---|---|---|")
    for key in sorted(set(old) & set(new)):
        a, b = old[key], new[key]
        seeds = set(a["area_by_seed"]) & set(b["area_by_seed"])
        gap = f"{max(abs(a['area_by_seed'][s] - b['area_by_seed'][s]) for s in seeds):.4f} ({len(seeds)})" \
            if seeds else "no seed in both"
        counts = f"{len(a['area_by_seed'])} -> {len(b['area_by_seed'])}" + \
            ("" if set(a["area_by_seed"]) == set(b["area_by_seed"]) else " (other seeds)")
        print(f"| {key[0]} | {key[1]} | {counts} | {mean(a['final_macro_f1']):.4f} -> {mean(b['final_macro_f1']):.4f} "
              f"| {mean(a['area_macro_f1']):.4f} -> {mean(b['area_macro_f1']):.4f} | {gap} |")
    for name, only in (("old", sorted(set(old) - set(new))), ("new", sorted(set(new) - set(old)))):
        if only:
            print(f"\nonly in the {name} report ({len(only)}): " + "; ".join(f"{s} / {r}" for s, r in only))
    if not set(old) & set(new):
        print("\nno setting and strategy is in both reports: a setting is named by its data, labels and "
              "classifier, so reports of grids on other data or labels share none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
