"""Window arithmetic on month-major panels: sums, lags, peaks, streaks, recency, slopes.

Private helpers of the feature modules. A :class:`Monthly` holds one quantity of
one chunk of customers as a dense ``[month x customer]`` float64 array on the
panel's month grid; every helper returns an ``[as_of x customer]`` array read at
the as-of months only, looking backward only.

Windows are differences of cumulative sums (one ``cumsum`` per quantity, two
row gathers per window), so all as-of months cost the same as one.

Edge rules shared by every feature:

- Account younger than a window: the window covers the months the account has
  existed (its open month counted) and the panel covers, never months before
  it opened. Counts and sums add those months (no row can predate the opening:
  the loader quarantines such rows), so ``trades_12m`` of a 2-month-old account
  is its trades of those 2 months. Averages divide by the months available,
  so "the previous 3-month average" of an account with 2 previous months is the
  mean of those 2; a ratio to an average over a window holding no month of the
  account's life (the previous 3 months of a 1-month-old account) is NaN.
  Slopes fit the months available, NaN below 2. A value read at one month
  before the account opened (assets 3 months ago of a 2-month-old account) is
  NaN. Indicators follow their measures: for a young account they compare with
  the months it has, e.g. warn_trade_drop with the mean of its previous months.
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
- Months before the panel's first month hold no rows: a sum reaching there
  counts them as empty, and averages and slopes leave them out (the panel
  starts at the first month any row exists).
- Day-level quantities (last trade day, gaps between trade days) are epoch
  days of the rows' dates; a quantity over all history reads every month of
  the panel up to the as-of month.
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
    _covered: dict[tuple, np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    @property
    def shape(self) -> tuple[int, int]:
        """Shape of every ``[as_of x customer]`` result."""
        return self.history.shape

    def nan_if_younger(self, months: int) -> np.ndarray:
        """Return 0 where accounts have existed at least ``months`` months, else NaN (add it)."""
        if months not in self._young:
            self._young[months] = np.where(self.history < months, np.nan, 0.0)
        return self._young[months]

    def months_in(self, months: int, lag: int = 0) -> np.ndarray:
        """Return how many of a window's months the account existed and the panel covers.

        The window is ``months`` months ending ``lag`` months before each as-of month.
        """
        key = (months, lag)
        if key not in self._covered:
            covered = np.minimum(self.history, self.positions[:, None] + 1)
            self._covered[key] = np.clip(covered - lag, 0, months).astype(np.float64)
        return self._covered[key]


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


def window_sum(series: Monthly, months: int, lag: int = 0) -> np.ndarray:
    """Sum ``months`` months ending ``lag`` months before each as-of month (lag 0: the as-of month).

    Over the months the account has existed: a younger account's sum covers its months only.
    """
    if not series.available:
        return series.nan()

    def compute() -> np.ndarray:
        end = np.maximum(series.clock.positions + 1 - lag, 0)
        start = np.maximum(end - months, 0)
        return series.prefix[end] - series.prefix[start]

    return series.remembered(("sum", months, lag), compute)


def window_mean(series: Monthly, months: int, lag: int = 0) -> np.ndarray:
    """Average per month over the window's months the account existed; NaN when none did."""
    if not series.available:
        return series.nan()
    available = series.clock.months_in(months, lag)
    return window_sum(series, months, lag) / np.where(available == 0, np.nan, available)


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


def window_max(series: Monthly, months: int) -> np.ndarray:
    """Largest non-missing value over ``months`` months to each as-of (NaN if none is known).

    Months before the account opened hold no value, so a younger account's peak is over its
    own months.
    """
    if not series.available:
        return series.nan()
    # A repeated first month cannot change a maximum, so no mask is needed for it.
    with np.errstate(invalid="ignore"):
        return np.fmax.reduce(_trailing(series, months), axis=1)


def months_positive(series: Monthly, months: int) -> np.ndarray:
    """Count months with a value above zero over ``months`` months (the account's months)."""
    if not series.available:
        return series.nan()
    positive = Monthly((series.values > 0).astype(np.float64), series.clock)
    indicator = series.remembered(("positive",), lambda: positive.prefix)
    end = np.maximum(series.clock.positions + 1, 0)
    start = np.maximum(end - months, 0)
    return indicator[end] - indicator[start]


def total_to_date(series: Monthly) -> np.ndarray:
    """Sum every month of the panel up to each as-of month."""
    if not series.available:
        return series.nan()
    return series.remembered(("total",), lambda: series.prefix[series.clock.positions + 1])


def latest_to_date(series: Monthly) -> np.ndarray:
    """Largest non-missing value of any month up to each as-of month; NaN if none."""
    return _running(series, np.fmax, "latest")


def earliest_to_date(series: Monthly) -> np.ndarray:
    """Smallest non-missing value of any month up to each as-of month; NaN if none."""
    return _running(series, np.fmin, "earliest")


def _running(series: Monthly, pick, name: str) -> np.ndarray:
    if not series.available:
        return series.nan()

    def compute() -> np.ndarray:
        running = series.values.copy()
        # A loop over month rows, as for prefix sums: faster than accumulate(axis=0) here.
        for month in range(1, len(running)):
            pick(running[month - 1], running[month], out=running[month])
        return running[series.clock.positions]

    return series.remembered((name,), compute)


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
    """Least-squares slope per month over ``months`` months to each as-of.

    Fitted on the m months of the window the account existed and the panel covers
    (:meth:`Clock.months_in`); NaN when m < 2. With month offsets x = -lag over
    lags 0..m-1, the slope is (m sum(xy) - sum(x) sum(y)) / (m sum(x^2) - sum(x)^2).
    """
    if not series.available:
        return series.nan()
    m = series.clock.months_in(months)
    lags = np.arange(months, dtype=np.float64)[None, :, None]
    inside = lags < m[:, None, :]
    values = np.where(inside, _trailing(series, months), 0.0)
    sum_y = values.sum(axis=1)
    sum_xy = -(values * lags).sum(axis=1)
    sum_x = -m * (m - 1) / 2.0
    sum_xx = (m - 1) * m * (2 * m - 1) / 6.0
    denominator = m * sum_xx - sum_x * sum_x
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(m >= 2, (m * sum_xy - sum_x * sum_y) / denominator, np.nan)


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Divide, with NaN where the denominator is zero or missing (never inf)."""
    return numerator / np.where(denominator == 0, np.nan, denominator)
