"""Row rules of the data contract (docs/data-contract.md), checked vectorised.

They run on tables already coerced by :mod:`pipeline.data.coercion`. Each rule adds
the rows it rejects to a :class:`~pipeline.data.quarantine.RowProblems` under a reason
such as ``amount: must be > 0``; no function here drops a row.
Values are compared at day level (a trade at 15:00 on the closing day is on that
day), and rules that need the row's customer run only where the customer is known
and kept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.calendar import MICROSECONDS_PER_DAY, is_month_end
from pipeline.core.contract import Column, TableSchema
from pipeline.core.sections import ValidationParams
from pipeline.data.quarantine import AFTER_END, RowProblems

NO_DAY = np.iinfo(np.int64).max
SLICE_ROWS = 1 << 20
"""Rows looked at a time by the rules and summaries that need whole-column temporaries
(here, in pipeline/data/coercion.py and observation.py)."""
UNKNOWN_CUSTOMER = "customer_id: unknown customer"
REJECTED_CUSTOMER = "customer_id: customer rejected"


def check_columns(frame: pd.DataFrame, schema: TableSchema, problems: RowProblems) -> None:
    """Reject values outside their column's enumeration or range."""
    for column in schema.columns:
        if column.name not in frame:
            continue
        values = frame[column.name]
        if column.allowed is not None:
            problems.add(_not_allowed_reason(column), _outside_enumeration(values, column.allowed))
        if column.minimum is not None:
            problems.add(_range_reason(column), _below_minimum(values, column))


def _not_allowed_reason(column: Column) -> str:
    return f"{column.name}: not one of {', '.join(column.allowed or ())}"


def _range_reason(column: Column) -> str:
    sign = ">=" if column.minimum_inclusive else ">"
    return f"{column.name}: must be {sign} {column.minimum:g}"


def _outside_enumeration(values: pd.Series, allowed: tuple[str, ...]) -> np.ndarray:
    if not isinstance(values.dtype, pd.CategoricalDtype):
        return (values.notna() & ~values.isin(allowed)).to_numpy()
    bad_codes = np.flatnonzero(~values.cat.categories.isin(allowed))
    return np.isin(values.cat.codes.to_numpy(), bad_codes)


def _below_minimum(values: pd.Series, column: Column) -> np.ndarray:
    numbers = values.to_numpy(dtype=float, na_value=np.nan)
    if column.minimum_inclusive:
        return numbers < column.minimum
    return numbers <= column.minimum


MONEY_COLUMNS = {
    "trades": ("amount", "commission"),
    "transfers": ("amount",),
    "balances": ("cash", "market_value"),
}
"""The money columns of each table, bounded above by ``validation.max_money``."""


def check_ranges(
    table: str, frame: pd.DataFrame, bounds: ValidationParams, problems: RowProblems
) -> None:
    """Reject absurd values (bounds from params.yaml ``validation:``).

    Money above ``max_money``, a commission above its trade's amount, a birth year
    before ``birth_year_min`` or less than ``min_customer_age`` years before opening.
    """
    for column in MONEY_COLUMNS.get(table, ()):
        if column in frame:
            values = frame[column].to_numpy(dtype=float, na_value=np.nan)
            problems.add(f"{column}: above validation.max_money", values > bounds.max_money)
    if table == "trades":
        amount = frame["amount"].to_numpy(dtype=float, na_value=np.nan)
        commission = frame["commission"].to_numpy(dtype=float, na_value=np.nan)
        # Compared only where the amount itself is valid: a faulty amount is its own reason.
        problems.add("commission: above amount", (amount > 0) & (commission > amount))
    if table == "customers" and "birth_year" in frame:
        year = frame["birth_year"].to_numpy(dtype=float, na_value=np.nan)
        opened = frame["open_date"].dt.year.to_numpy(dtype=float, na_value=np.nan)
        problems.add("birth_year: before validation.birth_year_min", year < bounds.birth_year_min)
        problems.add(
            "birth_year: less than validation.min_customer_age years before open_date",
            year > opened - bounds.min_customer_age,
        )


def check_customers(customers: pd.DataFrame, problems: RowProblems) -> None:
    """Reject every row of a duplicated customer_id, and closings before openings."""
    ids = customers["customer_id"]
    problems.add("customer_id: duplicate", ids.duplicated(keep=False) & ids.notna())
    problems.add("closed_date: before open_date", customers["closed_date"] < customers["open_date"])


def customer_positions(ids: pd.Series, spine: pd.Series) -> np.ndarray:
    """Return each id's row position in ``spine`` (the kept customer ids), -1 when absent.

    One Arrow hash lookup over the whole column; categorical ids are looked up once
    per category.
    """
    value_set = pa.array(spine.astype("str"))
    if isinstance(ids.dtype, pd.CategoricalDtype):
        per_category = _positions(pa.array(ids.cat.categories), value_set)
        # Code -1 (a missing id) picks the appended -1.
        return np.append(per_category, np.int32(-1))[ids.cat.codes.to_numpy()]
    return _positions(pa.array(ids), value_set)


def _positions(values: pa.Array | pa.ChunkedArray, value_set: pa.Array) -> np.ndarray:
    positions = pc.index_in(values, value_set=value_set.cast(values.type))
    return positions.fill_null(-1).to_numpy().astype(np.int32, copy=False)


def check_customer_reference(
    ids: pd.Series, positions: np.ndarray, rejected_ids: pd.Series, problems: RowProblems
) -> None:
    """Reject rows whose customer is not in customers, or was itself quarantined."""
    absent = np.flatnonzero((positions < 0) & ids.notna().to_numpy())
    was_rejected = ids.iloc[absent].astype("str").isin(rejected_ids.astype("str")).to_numpy()
    problems.add(REJECTED_CUSTOMER, absent[was_rejected])
    problems.add(UNKNOWN_CUSTOMER, absent[~was_rejected])


def days(dates: pd.Series | np.ndarray) -> np.ndarray:
    """Return whole days since 1970-01-01 (floored, so any time of day stays on its day)."""
    micros = np.asarray(dates, dtype="datetime64[us]").view(np.int64)
    return micros // MICROSECONDS_PER_DAY


def open_and_close_days(customers: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return each customer's opening day and closing day (``NO_DAY`` while open)."""
    closed = days(customers["closed_date"])
    closed[customers["closed_date"].isna().to_numpy()] = NO_DAY
    return days(customers["open_date"]), closed


def check_activity_dates(
    frame: pd.DataFrame,
    date_column: str,
    positions: np.ndarray,
    customer_days: tuple[np.ndarray, np.ndarray],
    problems: RowProblems,
) -> None:
    """Reject rows dated on a day before the account opened or after it closed.

    A slice of rows at a time: the working memory is a slice's, not the table's.
    """
    ticks = frame[date_column].to_numpy(dtype="datetime64[us]")
    open_day, close_day = customer_days
    before, after = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    for start in range(0, len(ticks), SLICE_ROWS):
        rows = slice(start, start + SLICE_ROWS)
        dated = np.flatnonzero((positions[rows] >= 0) & ~np.isnat(ticks[rows]))
        customer, day = positions[rows][dated], days(ticks[rows][dated])
        before.append(start + dated[day < open_day[customer]])
        after.append(start + dated[day > close_day[customer]])
    problems.add(f"{date_column}: before open_date", np.concatenate(before))
    problems.add(f"{date_column}: after closed_date", np.concatenate(after))


def check_after_observation_end(
    frame: pd.DataFrame,
    date_column: str,
    positions: np.ndarray,
    end: pd.Timestamp,
    problems: RowProblems,
) -> None:
    """Reject rows dated on a day after the observation end: the data do not cover it.

    Only rows that break no other rule get this reason: a faulty row is reported for
    its faults (and it did not count toward the end either).
    """
    dated = frame[date_column].notna().to_numpy() & ~problems.rejected_mask()
    day = days(frame[date_column])
    end_day = days(pd.Series([end]))[0]
    problems.add(f"{date_column}: {AFTER_END}", dated & (day > end_day))


def check_balances(balances: pd.DataFrame, positions: np.ndarray, problems: RowProblems) -> None:
    """Reject month_end values that are not month ends, and every row of a repeated month."""
    month_end = balances["month_end"]
    problems.add("month_end: not a month end", month_end.notna() & ~is_month_end(month_end))
    keyed = np.flatnonzero((positions >= 0) & month_end.notna().to_numpy())
    customer = positions[keyed].astype(np.int64)
    day = days(month_end.iloc[keyed]) + 25_567  # days since 1900: fits in 18 bits
    key = (customer << 18) | day
    if _strictly_increasing(key) or _strictly_increasing((day << 32) | customer):
        return  # sorted by customer then month, or by month then customer: all distinct
    ordered = np.sort(key)
    repeated_keys = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    if repeated_keys.size:
        problems.add("customer_id+month_end: duplicate", keyed[np.isin(key, repeated_keys)])


def _strictly_increasing(values: np.ndarray) -> bool:
    return bool(np.all(values[1:] > values[:-1]))
