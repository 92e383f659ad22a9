"""Where observation ends: the last month end the data describe.

Label windows that end after it are incomplete and never counted as "stayed".
"""

from __future__ import annotations

import pandas as pd

from pipeline.core.calendar import month_param
from pipeline.core.contract import ACTIVITY_TABLES, SCHEMAS, Tables
from pipeline.core.errors import ChurnError


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
        return month_param("data.observation_end", configured)
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
