"""The installed commands (``al``, ``al-simulate``, ...): each command's ``main`` run as ``python -m`` runs it.

Through :func:`al.cli.exit_with`, so that a reader of the output that went away (``al grid g.yaml --dry-run |
head``) is no traceback, and a closed pipe that stopped a command's work exits 141 there too.
"""
from __future__ import annotations

import importlib
from typing import NoReturn

from al.cli import exit_with


def _run(module: str) -> NoReturn:
    exit_with(importlib.import_module(module).main)


def al() -> NoReturn:
    _run("al.__main__")


def simulate() -> NoReturn:
    _run("al.simulate")


def plot() -> NoReturn:
    _run("al.plot")


def grid() -> NoReturn:
    _run("al.grid")


def report() -> NoReturn:
    _run("al.report")


def analyze() -> NoReturn:
    _run("al.analyze")


def annotate() -> NoReturn:
    _run("al.annotate.__main__")


def cache() -> NoReturn:
    _run("al.cache")


def testing() -> NoReturn:
    _run("al.testing.__main__")
