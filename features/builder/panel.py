"""The monthly panel's plan: the as-of months, the month grid, the cut-off and who is open.

This module is THE one place that enforces the as-of cut-off: rows dated after
the last requested as-of month end (the whole of that day included) never reach
the panel, and every window (features/builder/windows.py) reads backward from each
as-of month only, so features at T see only rows dated on or before T.

The month grid runs from the first month any activity row exists (or the first
as-of month, if earlier) through the last as-of month. The quantities scattered
onto it per chunk of customers are in features/builder/quantities.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.builder.rows import DATE_COLUMNS
from pipeline.core.calendar import month_index
from pipeline.core.contract import Tables
from pipeline.core.errors import DataContractError


@dataclass(frozen=True)
class AsOfPlan:
    """The as-of months, the month grid, the cut-off and who is open when."""

    as_of: pd.DatetimeIndex
    first_month: int
    n_months: int
    positions: np.ndarray
    cutoff_day: int
    first_day: int
    day_position: np.ndarray
    month_start: np.ndarray
    is_open: np.ndarray
    history: np.ndarray

    def day_offsets(self, dates: np.ndarray) -> np.ndarray:
        """Return the days from the grid's first day to each row date (time of day ignored)."""
        ticks_per_day = np.timedelta64(1, "D") // np.timedelta64(1, np.datetime_data(dates.dtype))
        return dates.view(np.int64) // ticks_per_day - self.first_day

    def days_of_month(self, dates: np.ndarray) -> np.ndarray:
        """Return each row date's day of its month, 0 for the first (rows within the cut-off)."""
        offsets = np.arange(len(self.day_position) - 1)
        return (offsets - self.month_start[self.day_position[:-1]])[self.day_offsets(dates)]

    def grid_positions(self, dates: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Map row dates to grid positions, dropping rows after the cut-off (the only place).

        Args:
            dates: ``datetime64`` row dates (any unit; time of day ignored).

        Returns:
            The grid position of each row, -1 for a row dated after the last as-of
            month end, and the mask of kept rows (None when every row is kept).
        """
        ticks_per_day = np.timedelta64(1, "D") // np.timedelta64(1, np.datetime_data(dates.dtype))
        offset = dates.view(np.int64) // ticks_per_day - self.first_day
        # day_position ends with one -1 entry standing for every day after the cut-off.
        np.minimum(offset, len(self.day_position) - 1, out=offset)
        positions = self.day_position[offset]
        keep = positions >= 0
        return positions, (None if keep.all() else keep)


def as_of_index(as_of: Sequence[pd.Timestamp]) -> pd.DatetimeIndex:
    """Return the distinct as-of month ends in order, as ``datetime64[us]``.

    Raises:
        ValueError: no as-of date, or one that is not a month end at midnight.
    """
    index = pd.DatetimeIndex(pd.to_datetime(list(as_of))).as_unit("us")
    if len(index) == 0:
        raise ValueError("at least one as-of month end is needed")
    bad = index[~(index.is_month_end & (index == index.normalize()))]
    if len(bad):
        raise ValueError(f"as-of dates must be month ends at midnight; got {list(bad.date)}")
    return index.unique().sort_values()


def plan_as_of(tables: Tables, as_of: Sequence[pd.Timestamp]) -> AsOfPlan:
    """Lay out the month grid and the population for a set of as-of month ends."""
    index = as_of_index(as_of)
    as_of_month = month_index(index).astype(np.int64)
    data_first = _first_data_day(tables)
    first_month = int(as_of_month[0])
    if data_first is not None:
        first_month = min(first_month, int(month_index(np.array([data_first]))[0]))
    first_day = _epoch_day(_month_start(first_month))
    cutoff_day = _epoch_day(index[-1])
    days = np.arange(first_day, cutoff_day + 1).astype("datetime64[D]")
    day_position = np.append(month_index(days) - first_month, -1).astype(np.int64)
    is_open, history = _population(tables.customers, index, as_of_month)
    return AsOfPlan(
        as_of=index,
        first_month=first_month,
        n_months=int(as_of_month[-1]) - first_month + 1,
        positions=(as_of_month - first_month).astype(np.int64),
        cutoff_day=cutoff_day,
        first_day=first_day,
        day_position=day_position,
        month_start=np.flatnonzero(np.diff(day_position[:-1], prepend=-1)),
        is_open=is_open,
        history=history,
    )


def _population(customers: pd.DataFrame, index: pd.DatetimeIndex, as_of_month: np.ndarray):
    """Accounts open at each as-of (open_date <= T, closed_date null or > T) and their age."""
    opened = customers["open_date"].to_numpy(dtype="datetime64[us]")
    closed = customers["closed_date"].to_numpy(dtype="datetime64[us]")
    ends = index.to_numpy()[:, None]
    is_open = (opened[None, :] <= ends) & (np.isnat(closed)[None, :] | (closed[None, :] > ends))
    open_month = month_index(opened).astype(np.int64)
    history = (as_of_month[:, None] - open_month[None, :] + 1).astype(np.int32)
    return is_open, history


def _first_data_day(tables: Tables) -> np.datetime64 | None:
    firsts = []
    for name, column in DATE_COLUMNS.items():
        frame = tables.table(name)
        if frame is not None and len(frame):
            dates = frame[column].to_numpy()
            if np.isnat(dates).any():
                raise DataContractError(name, column, "not null", "a row has no date")
            firsts.append(dates.min().astype("datetime64[D]"))
    return min(firsts) if firsts else None


def _month_start(month: int) -> np.datetime64:
    return np.datetime64(month - 1970 * 12, "M").astype("datetime64[D]")


def _epoch_day(value) -> int:
    return int(np.datetime64(value, "D").astype(np.int64))
