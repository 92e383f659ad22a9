"""The figures a play may cite, put in words per account: traded value, rates, assets.

A play in the retention playbook (pipeline/scoring/playbook.py) may cite any of
:data:`PLAY_FIGURES` as ``{name}``; each is computed from the account's own
features and said in words only when its play cites it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

PLAY_FIGURES = (
    "traded_12m_cny",
    "own_rate",
    "rival_rate",
    "yearly_difference_cny",
    "total_assets_cny",
)
"""The figures a play may cite as ``{name}``, computed from the account's own features."""


def play_figures(frame: pd.DataFrame, rival_commission_rate: float) -> list[Mapping[str, str]]:
    """Return each account's figures a play may cite, as words (:data:`PLAY_FIGURES`).

    The yearly difference is the customer's own traded value of the last 12 months
    times the gap between his commission rate (commission / traded value) and the
    rival's rate: CNY 100,000 a year at 0.25% against 0.2% is CNY 50. A figure is
    put in words when a play cites it (most plays cite none).
    """
    traded = np.nan_to_num(frame["traded_amount_12m"].to_numpy(np.float64))
    commission = np.nan_to_num(frame["commission_12m"].to_numpy(np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        own = np.where(traded > 0, commission / traded, np.nan)
    difference = np.where(traded > 0, commission - rival_commission_rate * traded, 0.0)
    values = {
        "traded_12m_cny": traded,
        "own_rate": own,
        "rival_rate": np.full(len(frame), rival_commission_rate),
        "yearly_difference_cny": difference,
        "total_assets_cny": frame["total_assets"].to_numpy(np.float64),
    }
    return [_Figures(values, row) for row in range(len(frame))]


def _figure_words(name: str, value: float) -> str:
    """Say one figure of :data:`PLAY_FIGURES` in words."""
    if name == "own_rate":
        return "unknown (no trades)" if np.isnan(value) else f"{100 * value:.3g}%"
    if name == "rival_rate":
        return f"{100 * value:.3g}%"
    if name == "total_assets_cny" and np.isnan(value):
        return "unknown"
    return f"{value:,.0f}"


class _Figures(Mapping):
    """One account's figures, each put in words when read."""

    __slots__ = ("_row", "_values")

    def __init__(self, values: Mapping[str, np.ndarray], row: int):
        self._values, self._row = values, row

    def __getitem__(self, name: str) -> str:
        return _figure_words(name, float(self._values[name][self._row]))

    def __iter__(self):
        return iter(PLAY_FIGURES)

    def __len__(self) -> int:
        return len(PLAY_FIGURES)
