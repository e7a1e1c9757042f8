"""Time the README's main job with a cold and a warm embedding cache.

    python benchmarks/main_job.py                     # the default job (logreg on MiniLM embeddings)
    python benchmarks/main_job.py -- --classifier bert --budget 150   # any extra simulate flags

The default runs the job cold, then warm: about 3 min on 2 cores (RESULTS.md section 1: 161.7 s cold, 6.1 s warm);
the cold run alone is under a minute on a Xeon with AMX (section 17).

Prints one Markdown table row per run: wall time, seconds spent embedding, and the
sums of train / query / evaluate seconds over rounds, read from the run's records.
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from al.cli import ArgumentParser  # noqa: E402
from al.records import read_rounds  # noqa: E402
from benchmarks.machine import describe  # noqa: E402


def run(extra: list[str], cache: Path, out: Path) -> dict:
    command = [sys.executable, "-m", "al.simulate", "--strategy", "class_embedding", "--budget", "600",
               "--out", str(out), "--quiet", *extra]
    env = {**os.environ, "AL_CACHE_DIR": str(cache)}
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    rounds = read_rounds(out)
    return {
        "command": " ".join(["python -m al.simulate", *command[3:]]).replace(str(out), "OUT"),
        "wall": wall,
        "embed": rounds[0].get("seconds_embed", 0.0),
        "train": sum(r["seconds_train"] for r in rounds),
        "query": sum(r["seconds_query"] for r in rounds),
        "evaluate": sum(r["seconds_evaluate"] for r in rounds),
        "rounds": len(rounds),
        "final_macro_f1": rounds[-1]["macro_f1"],
    }


def main() -> int:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("extra", nargs="*", help="extra flags for al.simulate (after --)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        try:
            results = [("cold", run(args.extra, cache, Path(tmp) / "cold")),
                       ("warm", run(args.extra, cache, Path(tmp) / "warm"))]
        except subprocess.CalledProcessError as exc:  # al.simulate has said why on stderr
            return exc.returncode if exc.returncode > 0 else 1
    print(f"machine: {describe()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"date: {date.today()}")
    print(f"command: {results[0][1]['command']}\n")
    print("| cache | wall s | embed s | train s | query s | evaluate s | rounds | final macro-F1 |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in results:
        print(f"| {name} | {r['wall']:.1f} | {r['embed']:.1f} | {r['train']:.1f} | {r['query']:.1f} | "
              f"{r['evaluate']:.1f} | {r['rounds']} | {r['final_macro_f1']:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
