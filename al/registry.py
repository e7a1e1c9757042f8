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
_PREFIXES: dict[str, Callable[[str], type[Strategy]]] = {}
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


def register_prefix(prefix: str) -> Callable[[Callable[[str], type[Strategy]]], Callable[[str], type[Strategy]]]:
    """Decorator for a factory that serves a family ``prefix:NAME`` (e.g. ``smalltext:BreakingTies``).

    The factory takes ``NAME`` and returns a Strategy class, raising
    :class:`ConfigError` for names it does not know.
    """

    def decorate(factory: Callable[[str], type[Strategy]]) -> Callable[[str], type[Strategy]]:
        _PREFIXES[prefix] = factory
        return factory

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
    """Every registered strategy name, built-in and from entry points, sorted (families as ``prefix:*``)."""
    _load_builtins()
    return sorted(set(_REGISTRY) | set(_entry_points()) | {f"{p}:*" for p in _PREFIXES})


def get_strategy(spec: str) -> type[Strategy]:
    """The strategy class for ``spec``: a registered name, ``prefix:NAME`` of a
    registered family, or ``package.module:Class``.

    Raises
    ------
    ConfigError
        Unknown name (listing the known ones), unimportable module, or a class
        that is not a :class:`~al.strategy.Strategy`.
    """
    _load_builtins()
    prefix, sep, name = spec.partition(":")
    if sep and prefix in _PREFIXES:
        cls = _check_class(_PREFIXES[prefix](name), spec)
        return cls
    if sep:
        return _from_path(spec)
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
