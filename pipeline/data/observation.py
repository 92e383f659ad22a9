"""Where observation ends: the last month end the data describe, robust to stray dates.

Label windows that end after it are incomplete and never counted as "stayed",
so a single row dated in the future must not move it. Unless
``data.observation_end`` fixes it, the end is found from the activity tables
only (trades, transfers, balances, events; never opening or closing dates):

1. per month, the accounts with any activity row (:class:`ActivityMonths`, which
   partitions of customers add up exactly);
2. the last month whose active accounts reach ``data.min_activity_share`` of the
   median of the active months in the twelve months before it (of all months
   before it when those twelve hold none): a month with a handful of rows after
   months of thousands is a stray, not the data's end;
3. within the months up to that one, the latest month end on or before the
   latest dated day (a month counts once the data reach its last day).

Rows dated in the months left out as strays, or after a configured end, are
quarantined ("after observation_end") and never used; rows of a last, partial
month are kept (no as-of month reads them); a ``closed_date`` after the end
means the account is open at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.core.calendar import month_end_of_index, month_index, month_param
from pipeline.core.contract import INDICATOR_TABLES, SCHEMAS, Tables
from pipeline.core.errors import ChurnError
from pipeline.data.validation import SLICE_ROWS, days

RECENT_MONTHS = 12
"""Months before a candidate end whose activity sets the level it must reach."""


@dataclass
class ActivityMonths:
    """Per month index: accounts with any activity row, and the latest dated day."""

    active: dict[int, int] = field(default_factory=dict)
    latest_day: dict[int, pd.Timestamp] = field(default_factory=dict)

    def merge(self, other: ActivityMonths) -> ActivityMonths:
        """Add another partition's months (its accounts are other accounts)."""
        for month, count in other.active.items():
            self.active[month] = self.active.get(month, 0) + count
        for month, day in other.latest_day.items():
            mine = self.latest_day.get(month)
            self.latest_day[month] = day if mine is None or day > mine else mine
        return self


def activity_months(dated: list[tuple[np.ndarray, pd.Series]]) -> ActivityMonths:
    """Summarise activity rows as active accounts and latest day per month.

    One table at a time, a slice of rows at a time, onto one bitmap of months x
    customers (or, for a span too long for a bitmap, distinct pairs) and one of
    the days dated, so the working set is one slice's, whatever the tables' size.

    Args:
        dated: per activity table, each row's customer position (-1: a row that does
            not count, e.g. one already rejected) and its date (missing: not counted).
    """
    spans = [_day_span(positions, dates) for positions, dates in dated]
    present = [span for span in spans if span is not None]
    if not present:
        return ActivityMonths()
    first = min(span[0] for span in present)
    months = _months_of_days(np.arange(first, max(span[1] for span in present) + 1))
    n_months = int(months[-1] - months[0]) + 1
    n_customers = max(int(positions.max()) + 1 for positions, _ in dated if len(positions))
    counter = _DistinctPairs(n_months, n_customers)
    day_seen = np.zeros(len(months), dtype=bool)
    for (positions, dates), span in zip(dated, spans, strict=True):
        if span is None:
            continue
        for customer, day in _counted_slices(positions, dates):
            day_seen[day - first] = True
            counter.add(months[day - first] - months[0], customer)
    active = counter.counts()
    seen = np.flatnonzero(day_seen)
    latest = np.full(n_months, np.iinfo(np.int64).min)
    np.maximum.at(latest, months[seen] - months[0], seen + first)  # one entry per day dated
    return ActivityMonths(
        {int(months[0] + m): int(active[m]) for m in np.flatnonzero(active)},
        {
            int(months[0] + m): pd.Timestamp(np.datetime64(int(latest[m]), "D")).as_unit("us")
            for m in np.flatnonzero(active)
        },
    )


def _counted_slices(positions: np.ndarray, dates: pd.Series):
    """Yield the customer position and day of each counted row, a slice of rows at a time."""
    ticks = dates.to_numpy(dtype="datetime64[us]")
    for start in range(0, len(ticks), SLICE_ROWS):
        rows = slice(start, start + SLICE_ROWS)
        counted = (positions[rows] >= 0) & ~np.isnat(ticks[rows])
        yield positions[rows][counted], days(ticks[rows][counted])


def _day_span(positions: np.ndarray, dates: pd.Series) -> tuple[int, int] | None:
    """Return the first and last day the counted rows fall on, None when none is counted."""
    ends = [(day.min(), day.max()) for _, day in _counted_slices(positions, dates) if len(day)]
    if not ends:
        return None
    return int(min(first for first, _ in ends)), int(max(last for _, last in ends))


def _months_of_days(days: np.ndarray) -> np.ndarray:
    """Return the month index of each day (days since 1970), as ``month_index`` does."""
    return month_index(days.astype("datetime64[D]")).astype(np.int64)


GRID_CELLS = 1 << 28
"""Months x customers up to which distinct accounts are counted on a bitmap (256 MB)."""


class _DistinctPairs:
    """Distinct (month, customer) pairs, added table by table; counted per month."""

    def __init__(self, n_months: int, n_customers: int):
        self.n_months, self.n_customers = n_months, n_customers
        on_grid = n_months * n_customers <= GRID_CELLS
        self.seen = np.zeros(n_months * n_customers, dtype=bool) if on_grid else None
        self.keys: list[np.ndarray] = []

    def add(self, month: np.ndarray, customer: np.ndarray) -> None:
        key = month * self.n_customers + customer.astype(np.int64)
        if self.seen is not None:
            self.seen[key] = True
        else:
            self.keys.append(np.unique(key))

    def counts(self) -> np.ndarray:
        if self.seen is not None:
            return self.seen.reshape(self.n_months, self.n_customers).sum(axis=1)
        pairs = np.unique(np.concatenate(self.keys)) if self.keys else np.empty(0, np.int64)
        return np.bincount(pairs // self.n_customers, minlength=self.n_months)


@dataclass(frozen=True)
class ObservationEnd:
    """The observation end, the rule that set it, and the months it left out as strays."""

    end: pd.Timestamp
    rule: str
    stray_months: tuple[pd.Timestamp, ...] = ()
    cutoff: pd.Timestamp | None = None
    """Rows dated after this day are quarantined: the configured end, or else the last day
    of the last month with real activity (rows of a last, partial month are kept, unused)."""

    @property
    def quarantine_after(self) -> pd.Timestamp:
        """The last day whose rows are kept."""
        return self.cutoff if self.cutoff is not None else self.end


def decide_observation_end(
    months: ActivityMonths, configured: str | None, min_share: float
) -> ObservationEnd:
    """Return the observation end (see the module docstring) and how it was set.

    Raises:
        ParamsError: ``configured`` is a date that is not a month end.
        ChurnError: nothing is dated, so nothing can be inferred.
    """
    if configured is not None:
        end = month_param("data.observation_end", configured)
        return ObservationEnd(end, "data.observation_end in params")
    if not months.active:
        raise ChurnError("no dated activity rows in any table: set data.observation_end")
    ordered = sorted(months.active)
    last = next(
        (m for m in reversed(ordered) if _reaches_level(months.active, ordered, m, min_share)),
        ordered[-1],
    )
    strays = tuple(month_end_of_index(np.array([m for m in ordered if m > last])))
    latest = max(day for month, day in months.latest_day.items() if month <= last)
    end = pd.offsets.MonthEnd().rollback(latest).normalize()
    rule = (
        "the last month whose active accounts reach data.min_activity_share "
        f"({min_share:g}) of the recent months' median"
    )
    if strays:
        rule += f"; {len(strays)} later month(s) with stray activity left out"
    return ObservationEnd(end, rule, strays, month_end_of_index(np.array([last]))[0])


def _reaches_level(
    active: dict[int, int], ordered: list[int], month: int, min_share: float
) -> bool:
    before = [m for m in ordered if m < month]
    recent = [active[m] for m in before if m >= month - RECENT_MONTHS] or [
        active[m] for m in before
    ]
    return not recent or active[month] >= min_share * float(np.median(recent))


def observation_end(tables: Tables, configured: str | None = None, min_share: float = 0.2):
    """Return the observation end of loaded tables (their own ``observation_end`` is ignored)."""
    dated = [
        (table["customer_idx"].to_numpy(), table[SCHEMAS[name].date_column])
        for name in INDICATOR_TABLES
        if (table := tables.table(name)) is not None
    ]
    return decide_observation_end(activity_months(dated), configured, min_share).end


def latest_activity_day(months: ActivityMonths) -> pd.Timestamp | None:
    """Return the latest dated activity day, None when nothing is dated."""
    return max(months.latest_day.values(), default=None)


def observation_end_warnings(
    decided: ObservationEnd, months: ActivityMonths, closed_after: int, opened_after: int
) -> list[str]:
    """Warn about a configured end after every row, and about dates beyond the end."""
    warnings = []
    latest = latest_activity_day(months)
    if latest is not None and decided.end > latest:
        warnings.append(
            f"data.observation_end {decided.end.date()} is after the latest dated row "
            f"({latest.date()}): label windows up to it count as complete"
        )
    if closed_after:
        warnings.append(
            f"{closed_after:,} accounts have a closed_date after observation_end "
            f"{decided.end.date()}: they are open at the end"
        )
    if opened_after:
        warnings.append(
            f"{opened_after:,} accounts open after observation_end {decided.end.date()}: "
            "no as-of month includes them"
        )
    return warnings
