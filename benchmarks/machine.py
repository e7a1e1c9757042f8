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
    """``Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz (avx512)``: the model name and :func:`al.device.cpu_tag`."""
    from al.device import cpu_description, cpu_tag

    description = cpu_description()
    name = (description.get("model name") or description.get("machdep.cpu.brand_string")
            or description.get("processor") or description.get("machine") or "unknown CPU")
    return f"{name} ({cpu_tag(description)})"


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
