"""The data's calendar: where observation ends, and which as-of month ends are stacked.

Training stacks one row per open account and as-of month end T. The months run
from ``snapshots.first_as_of`` (default: once ``min_history_months`` of activity
data exist) to ``snapshots.last_as_of`` (default: the last T whose label window
(T, T+H] ends on or before ``observation_end``), every ``every_months``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.core.calendar import add_months, month_end_of_index, month_index, to_month_end
from pipeline.core.contract import ACTIVITY_TABLES, SCHEMAS, Tables
from pipeline.core.errors import ChurnError, IncompleteLabelWindowError, ParamsError
from pipeline.core.params import LabelParams, SnapshotParams


def observation_end(tables: Tables, configured: str | None = None) -> pd.Timestamp:
    """Return the last month end the data covers.

    Args:
        tables: the loaded tables (their ``observation_end`` is ignored).
        configured: ``data.observation_end`` (YYYY-MM or a month-end date); None
            infers it: the latest month end on or before the latest day of any
            date in any table (activity dates, ``month_end``, ``open_date``,
            ``closed_date``).

    Raises:
        ParamsError: ``configured`` is a date that is not a month end.
        ChurnError: nothing is dated, so nothing can be inferred.
    """
    if configured is not None:
        return _month_param("data.observation_end", configured)
    latest = latest_data_day(tables)
    if latest is None:
        raise ChurnError("no dated rows in any table: set data.observation_end")
    return pd.offsets.MonthEnd().rollback(latest).normalize()


def observation_end_warnings(tables: Tables) -> list[str]:
    """Warn when a configured observation_end lies after every dated row."""
    latest = latest_data_day(tables)
    if latest is None or tables.observation_end <= latest:
        return []
    return [
        f"data.observation_end {tables.observation_end.date()} is after the latest dated row "
        f"({latest.date()}): label windows up to it count as complete"
    ]


def latest_data_day(tables: Tables) -> pd.Timestamp | None:
    """Return the latest day (midnight) of any date in any table, None when nothing is dated."""
    columns = [tables.customers["open_date"], tables.customers["closed_date"]]
    for name in ACTIVITY_TABLES:
        table = tables.table(name)
        if table is not None:
            columns.append(table[SCHEMAS[name].date_column])
    latest = max((c.max() for c in columns if c.notna().any()), default=None)
    return None if latest is None else pd.Timestamp(latest).normalize()


def first_data_month(tables: Tables) -> int:
    """Return the month index of the earliest activity row (of any activity table).

    Opening dates are not used: long-standing accounts opened years before the
    export starts, and months before the export have no history to learn from.
    Without any activity row the earliest opening month is used.
    """
    firsts = []
    for name in ACTIVITY_TABLES:
        table = tables.table(name)
        if table is not None and len(table):
            firsts.append(table[SCHEMAS[name].date_column].min())
    if not firsts:
        firsts.append(tables.customers["open_date"].min())
    return int(month_index(pd.DatetimeIndex([min(firsts)]))[0])


def last_complete_as_of(tables: Tables, label: LabelParams) -> pd.Timestamp:
    """Return the last as-of month end whose label window ends on or before observation_end."""
    if tables.observation_end is None:
        raise ChurnError("the tables carry no observation_end; load them with pipeline.data.loader")
    return add_months(tables.observation_end, -label.horizon_months)


def snapshot_months(
    tables: Tables, snapshots: SnapshotParams, label: LabelParams
) -> list[pd.Timestamp]:
    """Return the as-of month ends to stack, oldest first.

    Months are counted back from the last one in steps of ``every_months``, so the
    most recent complete month is always included.

    Args:
        tables: loaded tables with their ``observation_end``.
        snapshots: ``first_as_of``, ``last_as_of``, ``min_history_months``, ``every_months``.
        label: ``horizon_months`` decides which windows are complete.

    Raises:
        IncompleteLabelWindowError: ``last_as_of`` has a label window past observation_end.
        ChurnError: the range is empty.
        ParamsError: a configured month is not a month.
    """
    complete = last_complete_as_of(tables, label)
    first = default_first_as_of(tables, snapshots.min_history_months)
    if snapshots.first_as_of is not None:
        first = _month_param("snapshots.first_as_of", snapshots.first_as_of)
    last = complete
    if snapshots.last_as_of is not None:
        last = _month_param("snapshots.last_as_of", snapshots.last_as_of)
        if last > complete:
            raise IncompleteLabelWindowError(
                f"snapshots.last_as_of {last.date()}: its {label.horizon_months}-month label "
                f"window ends {add_months(last, label.horizon_months).date()}, after "
                f"observation_end {tables.observation_end.date()}; the last as-of with a "
                f"complete window is {complete.date()}"
            )
    if first > last:
        raise ChurnError(
            f"no snapshot months: the first as-of {first.date()} is after the last "
            f"{last.date()} (min_history_months={snapshots.min_history_months}, "
            f"horizon_months={label.horizon_months}, observation_end "
            f"{tables.observation_end.date()}): the data cover too few months"
        )
    first_index, last_index = month_index(pd.DatetimeIndex([first, last]))
    indices = np.arange(last_index, first_index - 1, -snapshots.every_months)[::-1]
    return list(month_end_of_index(indices))


def default_first_as_of(tables: Tables, min_history_months: int) -> pd.Timestamp:
    """Return the first month end with ``min_history_months`` months of activity data.

    The first data month counts as one month, even when it starts mid-month.
    """
    first = first_data_month(tables) + max(min_history_months - 1, 0)
    return month_end_of_index(first)[0]


def _month_param(key: str, value: str) -> pd.Timestamp:
    try:
        return to_month_end(value)
    except ValueError as exc:
        raise ParamsError(f"{key}: {exc}") from None
