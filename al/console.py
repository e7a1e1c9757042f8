"""The installed commands (``al``, ``al-simulate``, ...): each command's ``main`` run as ``python -m`` runs it.

Through :func:`al.cli.exit_with`, so that a reader of the output that went away (``al grid g.yaml --dry-run |
head``) is no traceback, and a closed pipe that stopped a command's work exits 141 there too.
"""
from __future__ import annotations

import importlib
from typing import Callable, NoReturn

from al.cli import exit_with


def _run(module: str) -> NoReturn:
    exit_with(importlib.import_module(module).main)


def _command(module: str) -> Callable[[], NoReturn]:
    """The entry point of the command whose ``main`` is in ``module`` (imported when it runs, not before)."""
    def run() -> NoReturn:
        _run(module)

    return run


al = _command("al.__main__")
simulate = _command("al.simulate")
plot = _command("al.plot")
grid = _command("al.grid")
report = _command("al.report")
analyze = _command("al.analyze")
annotate = _command("al.annotate.__main__")
cache = _command("al.cache")
testing = _command("al.testing.__main__")
