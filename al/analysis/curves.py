"""Learning curves from run directories: mean ± std over seeds, one line per strategy."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from al.errors import DataError
from al.records import CONFIG_FILE, ROUNDS_FILE, read_config, read_rounds


@dataclass(frozen=True)
class Run:
    """One run directory's config and finished rounds."""

    path: Path
    config: dict
    rounds: list[dict]
    meta: dict = field(default_factory=dict)  # the rest of config.json: version, corpus

    def setting(self, name: str) -> str:
        """A setting as text; a component as its label (``dal(sub_batches=5)``), with the params as given."""
        value = self.meta.get("given", {}).get(name, self.config.get(name, "?"))
        if isinstance(value, dict) and "name" in value:
            params = value.get("params") or {}
            return value["name"] + (f"({', '.join(f'{k}={v}' for k, v in sorted(params.items()))})" if params else "")
        return str(value)

    @property
    def strategy(self) -> str:
        return self.setting("strategy")

    @property
    def seed(self) -> int:
        return int(self.config.get("seed", 0))


def find_run_dirs(paths: Iterable[str | Path]) -> list[Path]:
    """Run directories given directly, or found below the given directories."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise DataError(f"{path} does not exist; expected a run directory (with {ROUNDS_FILE}) or a parent of some")
        if (path / ROUNDS_FILE).is_file():
            found.append(path)
            continue
        below = sorted(p.parent for p in path.rglob(ROUNDS_FILE))
        if not below:
            raise DataError(f"{path} holds no {ROUNDS_FILE}; is it a run directory written by al.simulate?")
        found.extend(below)
    return sorted(set(found))


def load_runs(paths: Iterable[str | Path]) -> list[Run]:
    runs = []
    for path in find_run_dirs(paths):
        stored = read_config(path) or {}
        config = stored.pop("config", None)
        if config is None:
            raise DataError(f"{path} has {ROUNDS_FILE} but no {CONFIG_FILE}")
        rounds = read_rounds(path)
        if rounds:
            runs.append(Run(path, config, rounds, stored))
    if not runs:
        raise DataError("no finished round in the given run directories")
    return runs


@dataclass(frozen=True)
class Curve:
    """A strategy's curve: per labeled-set size, mean and std over its seeds."""

    strategy: str
    sizes: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    n_runs: np.ndarray


def curves(runs: Sequence[Run], metric: str = "macro_f1", group_by: str = "strategy") -> list[Curve]:
    """Aggregate runs by ``group_by`` (a config key) into mean ± std (population std) per size."""
    grouped: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        key = run.setting(group_by)
        for r in run.rounds:
            if metric not in r:
                raise DataError(f"{run.path}: round {r.get('round')} has no metric {metric!r}")
            grouped[key][int(r["n_labeled"])].append(float(r[metric]))
    out = []
    for key in sorted(grouped):
        sizes = np.array(sorted(grouped[key]))
        values = [grouped[key][s] for s in sizes]
        out.append(Curve(key, sizes, np.array([np.mean(v) for v in values]),
                         np.array([np.std(v) for v in values]), np.array([len(v) for v in values])))
    return out


def format_curves(curve_list: Sequence[Curve], metric: str = "macro_f1") -> str:
    """A plain-text table: one row per labeled-set size, one column per strategy."""
    sizes = sorted({int(s) for c in curve_list for s in c.sizes})
    width = max(12, *(len(c.strategy) + 2 for c in curve_list))
    lines = [f"{metric} (mean ± std over seeds)", f"{'labeled':>8}" + "".join(f"{c.strategy:>{width}}" for c in curve_list)]
    for size in sizes:
        cells = []
        for c in curve_list:
            hit = np.flatnonzero(c.sizes == size)
            cells.append(f"{c.mean[hit[0]]:.3f} ± {c.std[hit[0]]:.3f}".rjust(width) if len(hit) else " " * width)
        lines.append(f"{size:>8}" + "".join(cells))
    return "\n".join(lines)


def plot_curves(
    curve_list: Sequence[Curve], path: str | Path, metric: str = "macro_f1", title: str | None = None
) -> Path:
    """Draw the curves with a ±1 std band and save a PNG (or any format matplotlib knows)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for c in curve_list:
        seeds = int(c.n_runs.max())
        line, = ax.plot(c.sizes, c.mean, marker="o", markersize=3, label=f"{c.strategy} (n={seeds})")
        if seeds > 1:
            ax.fill_between(c.sizes, c.mean - c.std, c.mean + c.std, color=line.get_color(), alpha=0.2)
    label = metric.replace("_", "-").replace("f1", "F1")
    ax.set_xlabel("labeled texts")
    ax.set_ylabel(label)
    ax.set_title(title or f"{label} by labeled-set size (mean ± std over seeds)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
