"""Checks of a component's keyword parameters, for constructors that check what they store.

Each check returns the value unchanged or raises a one-line
:class:`~al.errors.ConfigError` naming the owner (``"dal"``), the parameter,
what it must be and what came, so that a run refuses a bad value while its
settings are validated, before any data or model loads (see
:meth:`al.config.SimulationConfig.validate`), and not in its first query.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

from al.errors import ConfigError, spelled


#: How to fix a refused value, the end of every check's message.
FIX = "give one such, or leave it out for its default"


def integer(owner: str, name: str, value: Any, at_least: int = 1, why: str = "") -> Any:
    """``value`` if it is an integer (not a bool) of at least ``at_least``, else a ConfigError; ``why``: the
    reason for the bound, said after it (``"AM draws one positive, then negatives"``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < at_least:
        expected = "a positive integer" if at_least == 1 else f"an integer of at least {at_least}"
        raise ConfigError(f"{owner} {name} must be {expected}{f' ({why})' if why else ''}, got {spelled(value)}; {FIX}")
    return value


def number(owner: str, name: str, value: Any, low: float, high: float = math.inf, *,
           low_open: bool = False, high_open: bool = False) -> Any:
    """``value`` if it is a finite real number (not a bool) in the interval from ``low`` to ``high``, else a
    ConfigError.

    ``low_open`` / ``high_open``: the bound itself is outside the interval.
    ``high`` defaults to no upper bound (infinity itself is refused, as NaN is).
    """
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        upper = ", inf)" if math.isinf(high) else f", {high:g}{')' if high_open else ']'}"
        interval = f"{'(' if low_open else '['}{low:g}{upper}"
        raise ConfigError(f"{owner} {name} must be a number in {interval}, got {spelled(value)}; {FIX}")
    return value
