"""Strategy registry: short names, ``module:Class`` paths and entry points.

Built-in strategies live in the top-level ``strategies`` package and register
themselves with :func:`register`; third-party packages register theirs under
the entry-point group ``al.strategies``.
"""
from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import entry_points
from typing import Callable, TypeVar

from al.errors import ConfigError
from al.strategy import Strategy

ENTRY_POINT_GROUP = "al.strategies"
_REGISTRY: dict[str, type[Strategy]] = {}
_builtins_loaded = False

S = TypeVar("S", bound=type[Strategy])


def register(name: str) -> Callable[[S], S]:
    """Class decorator: make a strategy available as ``--strategy name``."""

    def decorate(cls: S) -> S:
        if not (isinstance(cls, type) and issubclass(cls, Strategy)):
            raise TypeError(f"@register({name!r}) expects a Strategy subclass, got {cls!r}")
        existing = _REGISTRY.get(name)
        if existing is not None and existing is not cls:
            raise ConfigError(f"strategy name {name!r} is taken by {existing.__module__}.{existing.__qualname__}")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def _load_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    _builtins_loaded = True
    import strategies

    for module in pkgutil.iter_modules(strategies.__path__, prefix="strategies."):
        importlib.import_module(module.name)


def _entry_points() -> dict[str, object]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available() -> list[str]:
    """Every registered strategy name, built-in and from entry points, sorted."""
    _load_builtins()
    return sorted(set(_REGISTRY) | set(_entry_points()))


def get_strategy(spec: str) -> type[Strategy]:
    """The strategy class for ``spec``: a registered name or ``package.module:Class``.

    Raises
    ------
    ConfigError
        Unknown name (listing the known ones), unimportable module, or a class
        that is not a :class:`~al.strategy.Strategy`.
    """
    if ":" in spec:
        return _from_path(spec)
    _load_builtins()
    if spec in _REGISTRY:
        return _REGISTRY[spec]
    eps = _entry_points()
    if spec in eps:
        cls = eps[spec].load()  # type: ignore[attr-defined]
        return _check_class(cls, f"entry point {spec!r}")
    raise ConfigError(f"unknown strategy {spec!r}; known: {', '.join(available())}; or pass module:Class")


def _from_path(spec: str) -> type[Strategy]:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"strategy path {spec!r} must look like package.module:ClassName")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import module {module_name!r} for strategy {spec!r}: {exc}") from None
    cls = getattr(module, attr, None)
    if cls is None:
        raise ConfigError(f"module {module_name!r} has no attribute {attr!r}")
    return _check_class(cls, spec)


def _check_class(cls: object, where: str) -> type[Strategy]:
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise ConfigError(f"{where} is {cls!r}, not a subclass of al.strategy.Strategy")
    if not cls.name:
        cls.name = f"{cls.__module__}:{cls.__qualname__}"
    return cls
