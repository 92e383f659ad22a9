"""Window arithmetic on month-major panels: sums, lags, peaks, streaks, recency, slopes.

Private helpers of the feature modules. A :class:`Monthly` holds one quantity of
one chunk of customers as a dense ``[month x customer]`` float64 array on the
panel's month grid; every helper returns an ``[as_of x customer]`` array read at
the as-of months only, looking backward only.

Windows are differences of cumulative sums (one ``cumsum`` per quantity, two
row gathers per window), so all as-of months cost the same as one.

Edge rules shared by every feature:

- Account younger than a window (fewer months since its open month, the open
  month counted, than the window needs, e.g. 6 for warn_outflow, 4 for this
  month against the previous 3): the window is NaN, so its measure is NaN and
  its flag False.
- Zero or missing denominator: a ratio is NaN, never inf. A flag is False when
  its measure is NaN, except warn_outflow, which compares without dividing
  (outflow > 30% x assets), so an account emptied to zero assets is flagged.
- A month without any row adds 0 to sums of flows, trades and events; a month
  without a balance row holds NaN assets (not 0), so changes and losses
  reaching it are NaN and an empty-position run stops there.
- Missing optional table: its quantities are all NaN, so every feature computed
  from it is NaN and every flag on it False; the build warns once naming the
  table. Without balances, total assets are unknown and every customer counts
  as not large for warn_commission_drop (previous 3 months).
- Months before the panel's first month hold no rows: a window reaching there
  counts them as empty (the panel starts at the first month any row exists).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Clock:
    """Where the as-of months sit on the panel grid, and each account's age there.

    Attributes:
        positions: grid position of each as-of month, shape ``[as_of]``.
        history: months each account has existed at each as-of month, its open
            month included (1 in the open month), shape ``[as_of, customer]``.
    """

    positions: np.ndarray
    history: np.ndarray
    _young: dict[int, np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    @property
    def shape(self) -> tuple[int, int]:
        """Shape of every ``[as_of x customer]`` result."""
        return self.history.shape

    def nan_if_younger(self, months: int) -> np.ndarray:
        """Return 0 where accounts have existed at least ``months`` months, else NaN (add it)."""
        if months not in self._young:
            self._young[months] = np.where(self.history < months, np.nan, 0.0)
        return self._young[months]


@dataclass
class Monthly:
    """One monthly quantity of a chunk of customers; ``values`` None when its table is missing."""

    values: np.ndarray | None
    clock: Clock
    _prefix: np.ndarray | None = field(default=None, repr=False)
    _results: dict[tuple, np.ndarray] = field(default_factory=dict, repr=False)

    def remembered(self, key: tuple, compute) -> np.ndarray:
        """Return a window result computed once per chunk (read-only: features share it)."""
        if key not in self._results:
            result = compute()
            result.flags.writeable = False
            self._results[key] = result
        return self._results[key]

    @property
    def available(self) -> bool:
        """Whether the quantity's table was given."""
        return self.values is not None

    @property
    def prefix(self) -> np.ndarray:
        """Cumulative sums over months with a leading zero row: sum of months < m at row m."""
        if self._prefix is None:
            n_months, n = self.values.shape
            prefix = np.empty((n_months + 1, n))
            prefix[0] = 0.0
            # A loop over month rows is ~10x faster than np.cumsum(axis=0) on this layout.
            for month in range(n_months):
                np.add(prefix[month], self.values[month], out=prefix[month + 1])
            self._prefix = prefix
        return self._prefix

    def nan(self) -> np.ndarray:
        """Return an all-NaN ``[as_of x customer]`` array."""
        return np.full(self.clock.shape, np.nan)


def younger_than(clock: Clock, months: int) -> np.ndarray:
    """Return where accounts have existed fewer than ``months`` months at each as-of."""
    return clock.history < months


def window_sum(
    series: Monthly, months: int, lag: int = 0, *, allow_younger: bool = False
) -> np.ndarray:
    """Sum ``months`` months ending ``lag`` months before each as-of month (lag 0: the as-of month).

    NaN where the account is younger than ``months + lag`` months, unless
    ``allow_younger`` (then the months before the account opened count as empty).
    """
    if not series.available:
        return series.nan()

    def compute() -> np.ndarray:
        end = np.maximum(series.clock.positions + 1 - lag, 0)
        start = np.maximum(end - months, 0)
        total = series.prefix[end] - series.prefix[start]
        if not allow_younger:
            total += series.clock.nan_if_younger(months + lag)
        return total

    return series.remembered(("sum", months, lag, allow_younger), compute)


def value_at(series: Monthly, lag: int = 0) -> np.ndarray:
    """Value ``lag`` months before each as-of month; NaN before the account opened."""
    if not series.available:
        return series.nan()

    def compute() -> np.ndarray:
        rows = series.clock.positions - lag
        out = series.values[np.maximum(rows, 0)]
        out[rows < 0] = np.nan
        out += series.clock.nan_if_younger(lag + 1)
        return out

    return series.remembered(("at", lag), compute)


def _trailing(series: Monthly, months: int) -> np.ndarray:
    """Values of the ``months`` months to each as-of month, ``[as_of, lag, customer]``.

    Lags before the grid's first month repeat that month; callers mask them.
    """
    rows = series.clock.positions[:, None] - np.arange(months)[None, :]
    return series.values[np.maximum(rows, 0)]


def _before_grid(series: Monthly, months: int) -> np.ndarray:
    return (series.clock.positions - (months - 1) < 0)[:, None]


def window_max(series: Monthly, months: int) -> np.ndarray:
    """Largest non-missing value over ``months`` months to each as-of; NaN for younger accounts."""
    if not series.available:
        return series.nan()
    # A repeated first month cannot change a maximum, so no mask is needed for it.
    with np.errstate(invalid="ignore"):
        peak = np.fmax.reduce(_trailing(series, months), axis=1)
    return peak + series.clock.nan_if_younger(months)


def months_positive(series: Monthly, months: int) -> np.ndarray:
    """Count months with a value above zero over ``months`` months; NaN for younger accounts."""
    if not series.available:
        return series.nan()
    positive = Monthly((series.values > 0).astype(np.float64), series.clock)
    indicator = series.remembered(("positive",), lambda: positive.prefix)
    end = np.maximum(series.clock.positions + 1, 0)
    start = np.maximum(end - months, 0)
    return indicator[end] - indicator[start] + series.clock.nan_if_younger(months)


def months_since_positive(series: Monthly) -> np.ndarray:
    """Months from the last month with a value above zero to the as-of month; NaN if none."""
    if not series.available:
        return series.nan()
    return _months_since(series.values > 0, series.clock)


def trailing_streak(condition: np.ndarray, clock: Clock) -> np.ndarray:
    """Count consecutive months ending at each as-of month where ``condition`` holds."""
    since_break = _months_since(~condition, clock)
    # No break ever: the streak runs back to the grid's first month.
    return np.where(np.isnan(since_break), clock.positions[:, None] + 1.0, since_break)


def _months_since(event: np.ndarray, clock: Clock) -> np.ndarray:
    """Months from the last month where ``event`` holds to each as-of month; NaN if never."""
    n = event.shape[1]
    last = np.full(n, -1, dtype=np.int64)
    since = np.empty(clock.shape)
    as_of_at = {}
    for k, position in enumerate(clock.positions.tolist()):
        as_of_at.setdefault(position, []).append(k)
    for month in range(int(clock.positions.max()) + 1):
        np.copyto(last, month, where=event[month])
        for k in as_of_at.get(month, ()):
            since[k] = np.where(last < 0, np.nan, month - last)
    return since


def slope(series: Monthly, months: int) -> np.ndarray:
    """Least-squares slope per month over ``months`` months to each as-of; NaN for younger accounts.

    With month offsets x = -lag, the slope is sum((x - mean x) * y) / sum((x - mean x)^2).
    """
    if not series.available:
        return series.nan()
    centre = (months - 1) / 2.0
    spread = months * (months * months - 1) / 12.0
    weights = (centre - np.arange(months)) / spread
    total = np.einsum("kmn,m->kn", _trailing(series, months), weights)
    total += series.clock.nan_if_younger(months)
    return np.where(_before_grid(series, months), np.nan, total)


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Divide, with NaN where the denominator is zero or missing (never inf)."""
    return numerator / np.where(denominator == 0, np.nan, denominator)
