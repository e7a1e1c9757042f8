"""Run directories: the resolved config and one JSON line per finished round.

Layout of a run directory::

    config.json    resolved settings, package version, corpus summary
    rounds.jsonl   one object per finished round (see ``al.engine``)

Both files are replaced atomically (:func:`al.io.write_atomic`: a temporary
file, fsync, rename), so a run killed at any moment leaves the last finished
round on disk, and a new start with the same directory continues from there.
A run has :func:`n_rounds` rounds.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from al.errors import ConfigError
from al.io import write_atomic  # noqa: F401 - re-exported: older imports read it from here

CONFIG_FILE = "config.json"
ROUNDS_FILE = "rounds.jsonl"
#: Settings that may change between a run and its resumption.
RESUMABLE_DIFFERENCES = frozenset({"out", "device"})


def n_rounds(initial: int, step: int, budget: int) -> int:
    """Rounds of a run: one per evaluation at ``initial``, ``initial + step``, ..., ``budget``.

    The last step shrinks to fit the budget, so ``n_rounds(100, 50, 620) == 12``
    (100, 150, ..., 600, 620). Every count of rounds (the config, the loop, the
    report's "complete run" check) uses this function.

    Parameters
    ----------
    initial : int
        Size of the random initial labeled set (the first evaluation).
    step : int
        Texts queried per round, positive.
    budget : int
        Labeled-set size at the end, larger than ``initial``.

    Raises
    ------
    ConfigError
        If ``step`` is not positive or ``budget`` is not larger than ``initial``.
    """
    if step <= 0 or budget <= initial:
        raise ConfigError(
            f"need step > 0 and budget > initial to count rounds, got initial={initial}, step={step}, "
            f"budget={budget}"
        )
    return 1 + -(-(budget - initial) // step)


def read_rounds(directory: Path) -> list[dict[str, Any]]:
    """The finished rounds of a run directory, in order ([] if none)."""
    path = Path(directory) / ROUNDS_FILE
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_config(directory: Path) -> dict[str, Any] | None:
    path = Path(directory) / CONFIG_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


class RunRecords:
    """Writes and resumes one run directory."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.rounds: list[dict[str, Any]] = []

    def start(self, config: dict[str, Any], meta: dict[str, Any]) -> list[dict[str, Any]]:
        """Begin, or resume if the directory holds a run of the same config.

        Returns
        -------
        The rounds already finished.

        Raises
        ------
        ConfigError
            If the directory holds a run with other settings.
        """
        previous = read_config(self.directory)
        if previous is not None:
            old = previous.get("config", {})
            # a setting the stored run lacks was added later: that run used its default
            changed = sorted(
                k for k in old
                if k not in RESUMABLE_DIFFERENCES and old.get(k) != config.get(k)
            )
            if changed:
                details = "; ".join(f"{k}: {old.get(k)!r} -> {config.get(k)!r}" for k in changed[:5])
                raise ConfigError(
                    f"{self.directory} holds a run with other settings ({details}); "
                    f"pass another --out or remove that directory"
                )
            self.rounds = read_rounds(self.directory)
        write_atomic(self.directory / CONFIG_FILE, json.dumps({"config": config, **meta}, indent=2) + "\n")
        return list(self.rounds)

    def append(self, record: dict[str, Any]) -> None:
        """Add one finished round (rewrites ``rounds.jsonl`` atomically)."""
        self.rounds.append(record)
        write_atomic(self.directory / ROUNDS_FILE, _jsonl(self.rounds))


def _jsonl(records: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
