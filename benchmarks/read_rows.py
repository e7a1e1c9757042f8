"""How long reading a user's data file takes: ``al.datasets.tabular.read_rows`` against a plain read.

Writes a JSON-lines file and a CSV file of ``--rows`` rows (a text of about 100
characters, a ``labels`` list of 1 to 3 names, a ``split``) and times, in turn,
``read_rows`` (every check: line numbers, keys given twice, header names) and
the plainest read of the same file (``json.loads`` per line, or
``pandas.read_csv``, then one DataFrame), ``--repeats`` times each in this
process; prints the medians and their ratio.

    python benchmarks/read_rows.py                 # 100,000 rows, 3 repeats
    python benchmarks/read_rows.py --rows 20000 --repeats 5

On 2 cores the default takes under a minute (RESULTS.md section 15: four runs of it in 19:24-19:26 UTC).
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Callable

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from al.cli import ArgumentParser  # noqa: E402
from al.datasets.tabular import read_rows  # noqa: E402
from benchmarks.machine import describe  # noqa: E402

WORDS = "water food shelter medical help need please people area flood storm rain road bridge power".split()
LABELS = ["food", "water", "shelter", "medical", "infrastructure", "weather"]


def write_files(folder: Path, n_rows: int, seed: int = 0) -> tuple[Path, Path]:
    """The same rows as ``rows.jsonl`` and ``rows.csv`` (labels joined by ``|``) under ``folder``."""
    rng = random.Random(seed)
    rows = [{"text": " ".join(rng.choice(WORDS) for _ in range(40))[:100],
             "labels": rng.sample(LABELS, rng.randint(1, 3)),
             "split": rng.choice(["train"] * 8 + ["dev", "test"])} for _ in range(n_rows)]
    jsonl, csv = folder / "rows.jsonl", folder / "rows.csv"
    jsonl.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    pd.DataFrame([{**row, "labels": "|".join(row["labels"])} for row in rows]).to_csv(csv, index=False)
    return jsonl, csv


def plain_jsonl(path: Path) -> pd.DataFrame:
    with open(path, encoding="utf-8-sig") as f:
        return pd.DataFrame([json.loads(line) for line in f if line.strip()])


def median_seconds(read: Callable[[Path], object], path: Path, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        read(path)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for name in ("rows", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}; give a positive count (default "
                         f"{parser.get_default(name)})")
    with tempfile.TemporaryDirectory() as folder:
        jsonl, csv = write_files(Path(folder), args.rows)
        print(f"`python benchmarks/read_rows.py {' '.join(sys.argv[1:])}` on {date.today()}, {describe()}")
        print(f"{args.rows:,} rows; median of {args.repeats} reads each, in turn, in one process")
        for name, path, plain in (("JSON lines", jsonl, plain_jsonl),
                                  ("CSV", csv, lambda p: pd.read_csv(p, keep_default_na=False, na_values=[""]))):
            ours = median_seconds(read_rows, path, args.repeats)
            theirs = median_seconds(plain, path, args.repeats)
            print(f"{name:<10}  read_rows {ours:6.3f} s   plain read {theirs:6.3f} s   ratio {ours / theirs:4.2f}")


if __name__ == "__main__":
    main()
