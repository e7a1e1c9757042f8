"""Simulation settings: CLI flags or a YAML file -> one frozen dataclass, validated early."""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from al.errors import ConfigError

THRESHOLDS = ("fixed", "dev")


@dataclass(frozen=True)
class SimulationConfig:
    """Everything that determines a simulation's result (``out`` and ``device`` aside).

    Defaults are the fast setting: logistic regression on cached
    all-MiniLM-L6-v2 embeddings. The paper's setting is ``classifier="bert"``,
    ``classifier_model="bert-base-uncased"``, ``model="all-mpnet-base-v2"``.
    """

    strategy: str = "class_embedding"
    strategy_params: Mapping[str, Any] = field(default_factory=dict)
    dataset: str = "disaster"
    data_path: str | None = None
    labels: tuple[str, ...] | None = None
    n_frequent: int = 5
    n_rare: int = 5
    data_options: Mapping[str, Any] = field(default_factory=dict)
    pool_size: int | None = None
    model: str = "all-MiniLM-L6-v2"
    classifier: str = "logreg"
    classifier_model: str | None = None
    threshold: str = "fixed"
    max_length: int = 128
    epochs: int = 15
    batch_size: int = 16
    learning_rate: float | None = None
    warm_start: bool = False
    initial: int = 100
    step: int = 50
    budget: int = 600
    seed: int = 0
    diagnostics: bool = False
    device: str = "auto"
    out: str | None = None

    def __post_init__(self) -> None:
        if self.labels is not None:
            object.__setattr__(self, "labels", tuple(self.labels))

    @property
    def n_rounds(self) -> int:
        """Training rounds: one per evaluation at initial, initial + step, ..., budget."""
        return 1 + -(-(self.budget - self.initial) // self.step)

    @property
    def run_dir(self) -> Path:
        """``out``, or ``runs/<dataset>-<strategy>-<classifier>-seed<seed>``."""
        if self.out:
            return Path(self.out)
        strategy = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.strategy)
        return Path("runs") / f"{self.dataset}-{strategy}-{self.classifier}-seed{self.seed}"

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["labels"] = list(self.labels) if self.labels is not None else None
        out["strategy_params"] = dict(self.strategy_params)
        out["data_options"] = dict(self.data_options)
        return out

    def validate(self) -> "SimulationConfig":
        """Check every setting that can be checked without loading data or models.

        Raises
        ------
        ConfigError
            On the first bad setting, saying what was expected and what came.
        """
        from al.classifiers import CLASSIFIERS
        from al.datasets import DATASETS
        from al.registry import get_strategy

        get_strategy(self.strategy)
        if self.dataset not in DATASETS:
            raise ConfigError(f"unknown dataset {self.dataset!r}; known: {', '.join(sorted(DATASETS))}")
        if self.classifier not in CLASSIFIERS:
            raise ConfigError(f"unknown classifier {self.classifier!r}; known: {', '.join(sorted(CLASSIFIERS))}")
        for name in ("initial", "step", "budget", "epochs", "batch_size", "max_length"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if self.budget <= self.initial:
            raise ConfigError(
                f"budget ({self.budget}) must be larger than the initial labeled set ({self.initial}): "
                f"the budget is the labeled-set size at the end"
            )
        for name in ("n_frequent", "n_rare"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name} must be a non-negative integer, got {value!r}")
        if not self.labels and self.n_frequent + self.n_rare == 0:
            raise ConfigError("no labels asked for: give --labels, or --frequent/--rare above 0")
        if self.pool_size is not None and (not isinstance(self.pool_size, int) or self.pool_size <= 0):
            raise ConfigError(f"pool_size must be a positive integer or None, got {self.pool_size!r}")
        if self.threshold not in THRESHOLDS:
            raise ConfigError(f"threshold must be one of {', '.join(THRESHOLDS)}, got {self.threshold!r}")
        if self.learning_rate is not None and not (0 < self.learning_rate < 1):
            raise ConfigError(f"learning_rate must be in (0, 1), got {self.learning_rate!r}")
        if not (self.device in ("auto", "cpu") or re.fullmatch(r"cuda(:\d+)?", self.device)):
            raise ConfigError(f"device must be auto, cpu, cuda or cuda:N, got {self.device!r}")
        if self.data_path is not None and not Path(self.data_path).expanduser().exists():
            raise ConfigError(f"data path {self.data_path} does not exist")
        return self


def config_fields() -> list[str]:
    return [f.name for f in fields(SimulationConfig)]


def from_mapping(values: Mapping[str, Any], source: str = "config") -> SimulationConfig:
    """A config from a mapping (YAML), rejecting unknown keys."""
    known = set(config_fields())
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"{source}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return SimulationConfig(**values)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML file."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of settings, got {type(data).__name__}")
    return data
