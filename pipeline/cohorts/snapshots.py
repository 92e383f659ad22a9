"""The snapshot calendar: which as-of month ends are stacked for training.

Training stacks one row per open account and as-of month end T. The months run
from ``snapshots.first_as_of`` (default: once ``min_history_months`` of activity
data exist) to ``snapshots.last_as_of`` (default: the last T whose label window
(T, T+H] ends on or before ``observation_end``), every ``every_months``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.core.calendar import (
    add_months,
    month_end_of_index,
    month_index,
    month_param,
    to_month_end,
)
from pipeline.core.contract import INDICATOR_TABLES, SCHEMAS, Tables
from pipeline.core.errors import (
    ChurnError,
    IncompleteLabelWindowError,
    ParamsError,
    TooFewMonthsError,
)
from pipeline.core.params import LabelParams, SnapshotParams


@dataclass(frozen=True)
class DataSpan:
    """The months the data cover: the first month with activity and the observation end."""

    first_month: int
    observation_end: pd.Timestamp | None


def data_span(tables: Tables) -> DataSpan:
    """Return the span of loaded tables (:func:`first_data_month` and their observation end)."""
    return DataSpan(first_data_month(tables), tables.observation_end)


def first_data_month(tables: Tables) -> int:
    """Return the month index of the earliest activity row (of any activity table).

    Opening dates are not used: long-standing accounts opened years before the
    export starts, and months before the export have no history to learn from.
    Without any activity row the earliest opening month is used.
    """
    return first_month_of([first_dates(tables)])


def first_dates(tables: Tables) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """Return the earliest activity date and the earliest opening date (None when absent)."""
    firsts = []
    for name in INDICATOR_TABLES:
        table = tables.table(name)
        if table is not None and len(table):
            firsts.append(table[SCHEMAS[name].date_column].min())
    opened = tables.customers["open_date"].min() if len(tables.customers) else None
    return (min(firsts) if firsts else None), opened


def first_month_of(dates: list[tuple[pd.Timestamp | None, pd.Timestamp | None]]) -> int:
    """Combine :func:`first_dates` of partitions: the first activity month, else opening month."""
    activity = [first for first, _ in dates if first is not None]
    opened = [first for _, first in dates if first is not None]
    earliest = min(activity) if activity else min(opened)
    return int(month_index(pd.DatetimeIndex([earliest]))[0])


def last_complete_as_of(tables: Tables | DataSpan, label: LabelParams) -> pd.Timestamp:
    """Return the last as-of month end whose label window ends on or before observation_end."""
    if tables.observation_end is None:
        raise ChurnError("the tables carry no observation_end; load them with pipeline.data.loader")
    return add_months(tables.observation_end, -label.horizon_months)


def snapshot_months(
    tables: Tables | DataSpan, snapshots: SnapshotParams, label: LabelParams
) -> list[pd.Timestamp]:
    """Return the as-of month ends to stack, oldest first.

    Months are counted back from the last one in steps of ``every_months``, so the
    most recent complete month is always included.

    Args:
        tables: loaded tables with their ``observation_end``, or their :class:`DataSpan`.
        snapshots: ``first_as_of``, ``last_as_of``, ``min_history_months``, ``every_months``.
        label: ``horizon_months`` decides which windows are complete.

    Raises:
        IncompleteLabelWindowError: ``last_as_of`` has a label window past observation_end.
        TooFewMonthsError: the range is empty.
        ParamsError: a configured month is not a month.
    """
    span = tables if isinstance(tables, DataSpan) else data_span(tables)
    complete = last_complete_as_of(span, label)
    first = default_first_as_of(span, snapshots.min_history_months)
    if snapshots.first_as_of is not None:
        first = month_param("snapshots.first_as_of", snapshots.first_as_of)
        data_start = month_end_of_index(span.first_month)[0]
        if first < data_start:
            raise ParamsError(
                f"snapshots.first_as_of {first.date()} is before the first month with "
                f"activity data ({data_start.date()}): those months hold no history"
            )
    last = complete
    if snapshots.last_as_of is not None:
        last = month_param("snapshots.last_as_of", snapshots.last_as_of)
        if last > complete:
            raise IncompleteLabelWindowError(
                f"snapshots.last_as_of {last.date()}: its {label.horizon_months}-month label "
                f"window ends {add_months(last, label.horizon_months).date()}, after "
                f"observation_end {span.observation_end.date()}; the last as-of with a "
                f"complete window is {complete.date()}"
            )
    if first > last:
        raise TooFewMonthsError(
            f"no snapshot months: the first as-of {first.date()} is after the last "
            f"{last.date()} (min_history_months={snapshots.min_history_months}, "
            f"horizon_months={label.horizon_months}, observation_end "
            f"{span.observation_end.date()}): the data cover too few months"
        )
    first_index, last_index = month_index(pd.DatetimeIndex([first, last]))
    indices = np.arange(last_index, first_index - 1, -snapshots.every_months)[::-1]
    return list(month_end_of_index(indices))


def check_as_of_within(as_of: list[pd.Timestamp], span: DataSpan) -> None:
    """Refuse as-of month ends before the first month with activity or after observation_end.

    Raises:
        ChurnError: naming the month and the data's range.
    """
    start = month_end_of_index(span.first_month)[0]
    for month in as_of:
        if month > span.observation_end:
            raise ChurnError(
                f"--as-of {month.date()} is after the data's observation_end "
                f"{span.observation_end.date()}: the data cannot describe that month"
            )
        if month < start:
            raise ChurnError(
                f"--as-of {month.date()} is before the first month with activity data "
                f"({start.date()}): the data cannot describe that month"
            )


LATEST = "latest"
"""The --as-of keyword for the data's last complete month end."""


def parse_as_of(text: str) -> pd.Timestamp | None:
    """Return the month end an --as-of text names; None for ``latest`` (known once loaded).

    Raises:
        ChurnError: a text that is neither ``latest`` nor a month end.
    """
    if text.strip().lower() == LATEST:
        return None
    try:
        return to_month_end(text)
    except ValueError as exc:
        raise ChurnError(f"--as-of: {exc}") from None


def latest_month_end(span: DataSpan) -> pd.Timestamp:
    """Return the last month end the data cover to its end.

    That is the observation end when it falls on a month end, else the end of the
    month before it.

    Raises:
        ChurnError: the data hold no activity to date them by.
    """
    if span.observation_end is None:
        raise ChurnError("--as-of latest: the data hold no activity to date them by")
    end = span.observation_end.normalize()
    month_end = to_month_end(f"{end:%Y-%m}")
    return month_end if month_end == end else add_months(month_end, -1)


def resolve_as_of(texts: list[str], span: DataSpan) -> list[pd.Timestamp]:
    """Return the as-of month ends asked for, ``latest`` resolved against the data's span.

    Raises:
        ChurnError: as :func:`parse_as_of` and :func:`latest_month_end`.
    """
    months = [parse_as_of(text) for text in texts]
    return [latest_month_end(span) if month is None else month for month in months]


def default_first_as_of(tables: Tables | DataSpan, min_history_months: int) -> pd.Timestamp:
    """Return the first month end with ``min_history_months`` months of activity data.

    The first data month counts as one month, even when it starts mid-month.
    """
    span = tables if isinstance(tables, DataSpan) else data_span(tables)
    first = span.first_month + max(min_history_months - 1, 0)
    return month_end_of_index(first)[0]
