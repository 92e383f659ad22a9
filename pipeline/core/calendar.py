"""Month arithmetic: as-of dates are month ends, months are integer indices.

A month index is ``year * 12 + month - 1``; it makes windows plain integer
differences and lets tables be scattered into dense month x customer arrays.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from pipeline.core.errors import ParamsError

MICROSECONDS_PER_DAY = 86_400_000_000


def month_index(dates: pd.Series | pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    """Return the integer month index of each date (time of day is ignored)."""
    months = np.asarray(dates, dtype="datetime64[ns]").astype("datetime64[M]")
    return (months.astype(np.int64) + 1970 * 12).astype(np.int32)


def month_end_of_index(index: np.ndarray | int) -> pd.DatetimeIndex:
    """Return the month-end dates (midnight) of month indices."""
    idx = np.atleast_1d(np.asarray(index, dtype=np.int64))
    periods = pd.PeriodIndex.from_ordinals(idx - (1970 * 12), freq="M")
    return periods.to_timestamp(how="end").normalize()


MONTH_TEXT = re.compile(r"\d{4}-\d{2}(-\d{2})?")
"""The month formats accepted on the command line and in params: YYYY-MM or YYYY-MM-DD."""


def to_month_end(value: str | pd.Timestamp) -> pd.Timestamp:
    """Parse '2024-06', '2024-06-30' or a timestamp into that month's end date.

    Raises:
        ValueError: when a full date is given that is not the last day of its month.
    """
    if isinstance(value, str) and not MONTH_TEXT.fullmatch(value.strip()):
        raise ValueError(
            f"{value!r} is not a month: write YYYY-MM (2024-06) or its last day (2024-06-30)"
        )
    text = str(value).strip()
    ts = pd.Timestamp(text)
    end = (ts + pd.offsets.MonthEnd(0)).normalize()
    if len(text) > 7 and ts.normalize() != end:
        raise ValueError(f"{text} is not a month end (did you mean {end.date()}?)")
    return end


def add_months(month_end: pd.Timestamp, months: int) -> pd.Timestamp:
    """Return the month end ``months`` after (or before) a month end."""
    return (month_end + pd.offsets.MonthEnd(months)).normalize()


def is_month_end(dates: pd.Series) -> pd.Series:
    """Return whether each date is the last calendar day of its month."""
    return dates.dt.is_month_end & (dates == dates.dt.normalize())


def month_param(key: str, value: str) -> pd.Timestamp:
    """Return a params value as a month end, or a ParamsError naming the key.

    Raises:
        ParamsError: the value is not a month.
    """
    try:
        return to_month_end(value)
    except ValueError as exc:
        raise ParamsError(f"{key}: {exc}") from None
