"""Learning curves from run directories: mean ± sample std over seeds, one line per strategy.

The spread over seeds is the *sample* standard deviation (``ddof = 1``): the
seeds are a sample of the runs one could make. With a single seed it is
undefined, and the mean is shown alone.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from al.errors import DataError, did_you_mean
from al.records import CONFIG_FILE, ROUNDS_FILE, read_config, read_rounds

#: How every table, legend and text states the spread.
SPREAD = "mean ± sample std over seeds (ddof = 1; one seed: the mean alone)"


def mean_std(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (``ddof = 1``) of per-seed values.

    Returns
    -------
    (mean, std) with ``std`` None for fewer than two values (undefined, not 0
    and not NaN). The mean of no values is NaN.
    """
    v = np.asarray(values, dtype=np.float64)
    if len(v) == 0:
        return float("nan"), None
    return float(v.mean()), (float(v.std(ddof=1)) if len(v) > 1 else None)


def format_mean_std(values: Sequence[float], digits: int = 4) -> str:
    """``"0.4000 ± 0.1000"`` (sample std, ddof = 1); ``"0.4000"`` for one value; ``"–"`` for none."""
    if len(values) == 0:
        return "–"
    mean, std = mean_std(values)
    return f"{mean:.{digits}f}" if std is None else f"{mean:.{digits}f} ± {std:.{digits}f}"


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
        """The strategy's label, and the space it read when not the pretrained one: ``class_embedding@cea``
        (``@cea-encoder`` for the encoder scope, ``/every2`` when re-fit every 2 rounds)."""
        space = self.config.get("space")
        if not isinstance(space, dict) or space.get("name", "pretrained") == "pretrained":
            return self.setting("strategy")
        label = self.setting("space")
        scope = "" if self.config.get("space_scope") == "head" else f"-{self.config.get('space_scope')}"
        every = self.config.get("space_every") or 1
        reader = self.config.get("space_for") or "all"
        return (f"{self.setting('strategy')}@{label}{scope}" + (f"/every{every}" if every != 1 else "")
                + ("" if reader == "all" else f" ({reader} only)"))

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
            if (path / CONFIG_FILE).is_file() or any(path.rglob(CONFIG_FILE)):
                raise DataError(f"no run under {path} has finished a round yet ({ROUNDS_FILE} comes with the first); "
                                f"wait for one, or resume the runs with the command that started them")
            raise DataError(f"{path} holds no run ({CONFIG_FILE} and {ROUNDS_FILE}); give a directory al.simulate "
                            f"or al.grid wrote (its --out), or one above such directories")
        found.extend(below)
    return sorted(set(found))


def load_runs(paths: Iterable[str | Path]) -> list[Run]:
    runs = []
    for path in find_run_dirs(paths):
        stored = read_config(path) or {}
        config = stored.pop("config", None)
        if config is None:
            raise DataError(f"{path} has {ROUNDS_FILE} but no {CONFIG_FILE}")
        config.setdefault("embed_precision", "fp32")  # runs from before the setting embedded in fp32
        rounds = read_rounds(path)
        if rounds:
            runs.append(Run(path, config, rounds, stored))
    if not runs:
        raise DataError("no finished round in the given run directories")
    return runs


@dataclass(frozen=True)
class Curve:
    """A strategy's curve: per labeled-set size, mean and sample std (ddof = 1) over its runs.

    ``std`` is NaN at sizes with a single run (undefined); ``n_runs`` says how many.
    """

    strategy: str
    sizes: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    n_runs: np.ndarray


def curves(runs: Sequence[Run], metric: str = "macro_f1", group_by: str = "strategy",
           labels: Mapping[Path, str] | None = None) -> list[Curve]:
    """Aggregate runs into mean ± sample std (ddof = 1) per size, one curve per group.

    Parameters
    ----------
    runs : the runs to aggregate
    metric : a per-round metric (``macro_f1``, ``micro_f1``, ...)
    group_by : a config key whose values are the groups; ``"strategy"`` groups by
        :attr:`Run.strategy`, which names the embedding space too (``class_embedding@cea``)
    labels : each run's group by its path, overriding ``group_by`` (the report's row labels)
    """
    grouped: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    if labels is None and group_by != "strategy" and not any(group_by in run.config for run in runs):
        known = sorted({key for run in runs for key in run.config})
        raise DataError(f"--group-by {group_by!r} is no setting of these runs{did_you_mean([group_by], known)}; "
                        f"known: {', '.join(known)}")
    for run in runs:
        if labels is not None:
            key = labels[run.path]
        else:
            key = run.strategy if group_by == "strategy" else run.setting(group_by)
        for r in run.rounds:
            if metric not in r:
                numbers = sorted(k for k, v in r.items() if isinstance(v, float) and not k.startswith("seconds"))
                raise DataError(f"{run.path}: round {r.get('round')} has no metric {metric!r}; its metrics: "
                                f"{', '.join(numbers)}")
            grouped[key][int(r["n_labeled"])].append(float(r[metric]))
    out = []
    for key in sorted(grouped):
        sizes = np.array(sorted(grouped[key]))
        values = [grouped[key][s] for s in sizes]
        stats = [mean_std(v) for v in values]
        out.append(Curve(key, sizes, np.array([m for m, _ in stats]),
                         np.array([np.nan if s is None else s for _, s in stats]), np.array([len(v) for v in values])))
    return out


def format_curves(curve_list: Sequence[Curve], metric: str = "macro_f1") -> str:
    """A plain-text table: one row per labeled-set size, one column per strategy.

    Cells are ``mean ± sample std``; a size with a single run shows its value alone.
    """
    sizes = sorted({int(s) for c in curve_list for s in c.sizes})
    width = max(len("0.000 ± 0.000") + 2, *(len(c.strategy) + 2 for c in curve_list))
    lines = [f"{metric}: {SPREAD}", f"{'labeled':>8}" + "".join(f"{c.strategy:>{width}}" for c in curve_list)]
    for size in sizes:
        cells = []
        for c in curve_list:
            hit = np.flatnonzero(c.sizes == size)
            if not len(hit):
                cells.append(" " * width)
                continue
            i = hit[0]
            text = f"{c.mean[i]:.3f}" if c.n_runs[i] < 2 else f"{c.mean[i]:.3f} ± {c.std[i]:.3f}"
            cells.append(text.rjust(width))
        lines.append(f"{size:>8}" + "".join(cells))
    return "\n".join(lines)


def plot_curves(
    curve_list: Sequence[Curve], path: str | Path, metric: str = "macro_f1", title: str | None = None
) -> Path:
    """Draw the curves with a ±1 sample-std band (ddof = 1) and save a PNG (or any format matplotlib knows).

    The band is drawn where a size has at least two runs; the legend says what it is.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    banded = False
    for c in curve_list:
        seeds = int(c.n_runs.max())
        line, = ax.plot(c.sizes, c.mean, marker="o", markersize=3, label=f"{c.strategy} (n={seeds})")
        several = c.n_runs > 1
        if several.any():
            std = np.where(several, c.std, 0.0)
            ax.fill_between(c.sizes, c.mean - std, c.mean + std, where=several, color=line.get_color(), alpha=0.2)
            banded = True
    label = metric.replace("_", "-").replace("f1", "F1")
    ax.set_xlabel("labeled texts")
    ax.set_ylabel(label)
    ax.set_title(title or f"{label} by labeled-set size")
    ax.grid(alpha=0.3)
    ax.legend(title="line: mean; band: ± sample std (ddof = 1)" if banded else "one run each: no spread",
              title_fontsize="small")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
