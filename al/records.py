"""Run directories: the resolved config and one JSON line per finished round.

Layout of a run directory::

    config.json    resolved settings, package version, corpus summary
    rounds.jsonl   one object per finished round (see ``al.engine``)

Both files are replaced atomically (:func:`al.io.write_atomic`: a temporary
file, fsync, rename), so a run killed at any moment leaves the last finished
round on disk, and a new start with the same directory continues from there.
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
