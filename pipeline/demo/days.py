"""Calendar days of the simulated months: trading days and dated rows.

Dates are held as integer days since 1970-01-01 (what Arrow's date32 stores),
so whole months of rows get their dates from one vectorised draw. Trading days
are Monday to Friday; exchange holidays are ignored, which no indicator cares
about.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# 1970-01-01 was a Thursday; with Monday = 0 a day's weekday is (day + 3) % 7.
_EPOCH_WEEKDAY = 3


@dataclass(frozen=True)
class MonthCalendar:
    """The simulated months, in order.

    Attributes:
        first_day: epoch day of each month's first calendar day.
        n_days: calendar days in each month.
        trading_days: per month, the day-of-month numbers (1-based) that are weekdays.
    """

    first_day: np.ndarray
    n_days: np.ndarray
    trading_days: tuple[np.ndarray, ...]

    @property
    def months(self) -> int:
        """Number of simulated months."""
        return len(self.first_day)

    @property
    def month_end(self) -> np.ndarray:
        """Epoch day of each month's last calendar day."""
        return self.first_day + self.n_days - 1


def month_calendar(first_month: np.datetime64, months: int) -> MonthCalendar:
    """Return the calendar of ``months`` consecutive months from ``first_month``."""
    starts = np.datetime64(first_month, "M") + np.arange(months + 1)
    first_day = starts.astype("datetime64[D]").astype(np.int64)
    n_days = np.diff(first_day)
    first_day = first_day[:-1]
    trading = tuple(
        day_numbers[is_weekday(start + day_numbers - 1)]
        for start, n in zip(first_day, n_days, strict=True)
        for day_numbers in [np.arange(1, n + 1)]
    )
    return MonthCalendar(first_day=first_day, n_days=n_days, trading_days=trading)


def is_weekday(epoch_days: np.ndarray) -> np.ndarray:
    """Return whether each epoch day is a Monday to Friday."""
    return (np.asarray(epoch_days) + _EPOCH_WEEKDAY) % 7 < 5


def weekdays_before(first_day: int, days_back: np.ndarray) -> np.ndarray:
    """Return, for each distance in calendar days, a weekday about that far before ``first_day``.

    Distances are converted to a count of weekdays, so every weekday is equally
    likely (no pile-up on Fridays as when weekends are moved to a neighbour).
    """
    span = int(np.max(days_back, initial=0)) + 8
    candidates = first_day - 1 - np.arange(span)
    weekdays = candidates[is_weekday(candidates)]
    return weekdays[(np.asarray(days_back) * 5 / 7).astype(np.int64)]


def trading_days_between(calendar: MonthCalendar, month: int, lo: np.ndarray, hi: np.ndarray):
    """Return how many trading days of ``month`` fall in each [lo, hi] day-of-month window."""
    days = calendar.trading_days[month]
    return np.searchsorted(days, hi, side="right") - np.searchsorted(days, lo, side="left")


def draw_trading_days(
    rng: np.random.Generator, calendar: MonthCalendar, month: int, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Draw one trading day (epoch day) per row inside its [lo, hi] day-of-month window.

    Every window must hold at least one trading day (callers zero the counts of
    windows that hold none, see :func:`trading_days_between`).
    """
    days = calendar.trading_days[month]
    first = np.searchsorted(days, lo, side="left")
    span = np.searchsorted(days, hi, side="right") - first
    pick = first + (rng.random(len(lo)) * span).astype(np.int64)
    return calendar.first_day[month] + days[pick] - 1


def draw_calendar_days(
    rng: np.random.Generator, calendar: MonthCalendar, month: int, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Draw one calendar day (epoch day) per row inside its [lo, hi] day-of-month window."""
    pick = lo + (rng.random(len(lo)) * (hi - lo + 1)).astype(np.int64)
    return calendar.first_day[month] + pick - 1


def seconds_in_hours(rng: np.random.Generator, n: int, first_hour: int, last_hour: int):
    """Draw ``n`` times of day, in seconds after midnight, between two whole hours."""
    return (first_hour * 3600 + rng.random(n) * (last_hour - first_hour) * 3600).astype(np.int64)
