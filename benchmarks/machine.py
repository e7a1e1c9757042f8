"""Where a benchmark ran, in the words its header prints: the CPU's name and widest vector unit, and the commit.

Results turn on the CPU (an EPYC with AVX2 against a Xeon with AVX-512 and AMX, RESULTS.md
sections 12.10 and 12.16) and on the code measured, so a header that says ``x86_64`` alone
cannot be told from another machine's. ``describe()`` reads ``/proc/cpuinfo`` (no torch
import) and ``git``; a checkout with uncommitted changes to tracked files is marked so.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cpu_name() -> str:
    """``Intel(R) Xeon(R) Processor (family 6 model 207, avx512, amx)``: the model name, the family and model
    numbers where the CPU gives them (a virtual machine's generic name reads alike on two Xeons of other speeds),
    the widest vector unit (:func:`al.device.cpu_tag`) and AMX where the CPU has it (bf16 matrix units: RESULTS.md
    12.7)."""
    from al.device import cpu_description, cpu_tag

    description = cpu_description()
    name = (description.get("model name") or description.get("machdep.cpu.brand_string")
            or description.get("processor") or description.get("machine") or "unknown CPU")
    parts = [cpu_tag(description)]
    if description.get("model"):
        parts.insert(0, f"family {description.get('cpu family', '?')} model {description['model']}")
    if "amx_tile" in description.get("simd", "").split():
        parts.append("amx")
    return f"{name} ({', '.join(parts)})"


def commit() -> str:
    """``commit 6ed0cfc``, ``commit 6ed0cfc with changes`` (tracked files edited), or ``no git checkout``."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=10,
                              check=True).stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "no git checkout"
    return f"commit {head}" + (" with changes" if changed else "")


def describe() -> str:
    """:func:`cpu_name` and :func:`commit`, one phrase for a results header."""
    return f"{cpu_name()}, {commit()}"


if __name__ == "__main__":  # what a results header of this machine says (the benchmarks import describe())
    import sys

    if sys.argv[1:]:
        print(f"usage: python benchmarks/machine.py (no options): prints what a results header says of this machine "
              f"and checkout, e.g. {describe()}")
    else:
        print(describe())
