"""Business words for feature values: how the scoring job says a driver to an advisor."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

MULTIPLE_CAP = 10.0
"""Beyond ten times its base a figure is said as "more than 10x": a reason is read
by a retention manager, and "-1000% of assets" (a tiny balance against a large
flow) says nothing more than that the flow dwarfs the assets."""


def _share(value: float, base: str = "") -> str:
    """Say a share as a percentage up to 100%, as a multiple above, capped at 10x."""
    percent_of, times = (f" of {base}", f" {base}") if base else ("", "")
    if abs(value) <= 1:
        return f"{value:.0%}{percent_of}"
    if abs(value) <= MULTIPLE_CAP:
        return f"{value:.1f}x{times}"
    bound = "more than" if value > 0 else "less than"
    return f"{bound} {math.copysign(MULTIPLE_CAP, value):.0f}x{times}"


def _change(value: float) -> str:
    """Say a relative change as a signed percentage, capped at +1000%."""
    if value > MULTIPLE_CAP:
        return f"more than +{MULTIPLE_CAP:.0%}"
    return f"{value:+.0%}"


def _ratio(value: float) -> str:
    """Say a ratio as a multiple, capped at 10x the cap (ratios of 1 are common)."""
    cap = MULTIPLE_CAP * MULTIPLE_CAP
    return f"more than {cap:.0f}x" if value > cap else f"{value:.2f}x"


_FORMATS: dict[str, Callable[[float], str]] = {
    "count": lambda v: f"{v:,.0f}",
    "cny": lambda v: f"CNY {v:,.0f}",
    "cny_per_month": lambda v: f"CNY {v:+,.0f} per month",
    "per_month": lambda v: f"{v:+.1f} per month",
    "share_of_assets": lambda v: _share(v, "assets"),
    "share": _share,
    "change": _change,
    "ratio": _ratio,
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
