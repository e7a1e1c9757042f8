"""Do other CPU kernels give other sentence vectors? The same texts under forced kernel choices.

    python benchmarks/kernel_bits.py [--n 400]

Embeds the first ``n`` Disaster Response texts (no cache) in a fresh process
per setting: this CPU's own kernels, ATen held to its default (non-vector)
kernels (``ATEN_CPU_CAPABILITY=default``), oneDNN held to SSE4.1
(``ONEDNN_MAX_CPU_ISA=SSE41``) and MKL held to SSE4.2
(``MKL_ENABLE_INSTRUCTIONS=SSE4_2``), and prints the share of vectors that
differ from the first setting's, the largest difference, and each setting's
:func:`al.device.arithmetic_key`. A setting whose vectors differ must have
another key, or a cache shared by unlike machines would change a run's records.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from al.cli import ArgumentParser  # noqa: E402
from benchmarks.machine import describe  # noqa: E402

SETTINGS = {
    "this CPU": {},
    "ATEN_CPU_CAPABILITY=default": {"ATEN_CPU_CAPABILITY": "default"},
    "ONEDNN_MAX_CPU_ISA=SSE41": {"ONEDNN_MAX_CPU_ISA": "SSE41"},
    "MKL_ENABLE_INSTRUCTIONS=SSE4_2": {"MKL_ENABLE_INSTRUCTIONS": "SSE4_2"},
}
CHILD = """
import sys, numpy as np
from al.datasets import load_dataset
from al.device import arithmetic_key
from al.embedders import SentenceEmbedder
texts = list(load_dataset("disaster").texts[: int(sys.argv[2])])
np.save(sys.argv[1], SentenceEmbedder(cache=False, show_progress=False).encode(texts))
print(arithmetic_key("cpu"))
"""


def main() -> None:
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=400, help="texts to embed")
    args = parser.parse_args()
    if args.n < 1:
        parser.error(f"--n must be at least 1, got {args.n}; give a positive count (default 400)")
    rows, first = [], None
    with tempfile.TemporaryDirectory() as tmp:
        for name, variables in SETTINGS.items():
            out = Path(tmp) / "x.npy"
            done = subprocess.run([sys.executable, "-c", CHILD, str(out), str(args.n)], capture_output=True,
                                  text=True, env={**os.environ, **variables}, check=True)
            X = np.load(out)
            first = X if first is None else first
            differ = (X != first).any(axis=1).mean()
            rows.append((name, differ, float(np.abs(X - first).max()), done.stdout.strip().splitlines()[-1]))
    print(f"`python benchmarks/kernel_bits.py {' '.join(sys.argv[1:])}` on {date.today()}, {describe()}; "
          f"{args.n} texts")
    print("| setting | vectors differing from this CPU's | max abs diff | kernels key |\n|---|---:|---:|---|")
    for name, differ, largest, key in rows:
        print(f"| {name} | {differ:.1%} | {largest:.2g} | `{key}` |")


if __name__ == "__main__":
    main()
