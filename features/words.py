"""Business words for feature values: how the scoring job says a driver to an advisor."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

_FORMATS: dict[str, Callable[[float], str]] = {
    "count": lambda v: f"{v:,.0f}",
    "cny": lambda v: f"CNY {v:,.0f}",
    "cny_per_month": lambda v: f"CNY {v:+,.0f} per month",
    "per_month": lambda v: f"{v:+.1f} per month",
    "share_of_assets": lambda v: f"{v:.0%} of assets",
    "share": lambda v: f"{v:.0%}",
    "change": lambda v: f"{v:+.0%}",
    "ratio": lambda v: f"{v:.2f}x",
    "rate": lambda v: f"{v * 1000:.2f} per mille",
    "days": lambda v: f"{v:.0f} days",
    "months": lambda v: f"{v:.0f} months",
    "years": lambda v: f"{v:.0f} years",
    "percentile": lambda v: f"percentile {100 * v:.0f}",
    "score": lambda v: f"{v:.0f}/100",
}
UNITS: tuple[str, ...] = (*_FORMATS, "flag", "category")
"""Every unit a feature may declare."""


def describe_value(label: str, unit: str, value: Any) -> str:
    """Return ``"<label> = <value in its unit>"``; missing values read "unknown".

    Raises:
        ValueError: an unknown unit.
    """
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}; known: {UNITS}")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"{label} = unknown"
    if unit == "flag":
        return f"{label}: {'yes' if bool(value) else 'no'}"
    if unit == "category":
        return f"{label} = {value}"
    return f"{label} = {_FORMATS[unit](float(value))}"
