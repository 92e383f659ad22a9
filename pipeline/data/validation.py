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

from pipeline.core.calendar import is_month_end
from pipeline.core.contract import Column, TableSchema
from pipeline.core.sections import ValidationParams
from pipeline.data.quarantine import AFTER_END, RowProblems

MICROSECONDS_PER_DAY = 86_400_000_000
NO_DAY = np.iinfo(np.int64).max
MOST_BUCKETS = 1 << 24  # 16M counts (134 MB): for tables of up to 8M rows
HASH_SLICE_ROWS = 1 << 20  # rows hashed at a time
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
DUPLICATE_ROW = "duplicate row"
DEDUPLICATED = ("trades", "transfers", "events")


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


def repeated_rows(
    table: str, frame: pd.DataFrame, schema: TableSchema, positions: np.ndarray | None = None
) -> np.ndarray:
    """Return which rows of trades, transfers or events repeat an earlier row exactly.

    ``positions`` (each row's customer position, from :func:`customer_positions`) saves
    hashing the ids again.
    """
    if table not in DEDUPLICATED or len(frame) < 2:
        return np.zeros(len(frame), dtype=bool)
    columns = [c.name for c in schema.columns if c.name in frame]
    known = {} if positions is None else {"customer_id": positions}
    # Equal rows have equal hashes: the values are compared only where a hash recurs.
    candidates = recurring(row_hashes(frame, columns, known))
    repeated = np.zeros(len(frame), dtype=bool)
    if candidates.any():
        repeated[candidates] = frame.loc[candidates, columns].duplicated(keep="first").to_numpy()
    return repeated


def row_hashes(
    frame: pd.DataFrame, columns: list[str], known: dict[str, np.ndarray] | None = None
) -> np.ndarray:
    """Return a 64-bit hash per row of ``columns``: rows equal in those columns hash equal.

    Each column becomes integers first (category codes, date ticks, float bits with
    -0.0 and NaN made one value, codes of other values; ``known`` gives a column's
    integers outright, equal for equal values), then the columns are mixed. Rows
    are hashed a slice at a time, so the working memory is a slice's, not a table's.
    """
    known = dict(known or {})
    for column in columns:
        if column not in known and not _sliceable(frame[column]):
            known[column] = pd.factorize(frame[column])[0]  # codes need the whole column
    hashed = np.empty(len(frame), dtype=np.uint64)
    for start in range(0, len(frame), HASH_SLICE_ROWS):
        rows = slice(start, start + HASH_SLICE_ROWS)
        part = np.zeros(len(hashed[rows]), dtype=np.uint64)
        for column in columns:
            integers = (
                known[column][rows].astype(np.uint64)
                if column in known
                else _column_integers(frame[column].iloc[rows])
            )
            np.multiply(part, np.uint64(0x100000001B3), out=part)
            np.bitwise_xor(part, integers, out=part)
            _mix_in_place(part)
        hashed[rows] = part
    return hashed


def recurring(hashes: np.ndarray) -> np.ndarray:
    """Return which hashes occur more than once.

    Up to :data:`MOST_BUCKETS` hashes, two cheap counts first: a hash whose low or
    high bits fall in a bucket (of twice as many as there are hashes) that no other
    hash shares is unique; only the others go through a hash table. Beyond that
    the buckets would be crowded, and every hash goes through the table.
    """
    maybe = np.ones(len(hashes), dtype=bool)
    bits = max(int(2 * len(hashes) - 1).bit_length(), 10)
    if bits <= MOST_BUCKETS.bit_length() - 1:
        buckets = np.empty(len(hashes), dtype=np.intp)
        as_bits = buckets.view(np.uint64)
        mask = np.uint64((1 << bits) - 1)
        for shift in (np.uint64(0), np.uint64(64 - bits)):
            np.right_shift(hashes, shift, out=as_bits)
            np.bitwise_and(as_bits, mask, out=as_bits)
            counts = np.bincount(buckets, minlength=1 << bits)
            for start in range(0, len(hashes), HASH_SLICE_ROWS):
                rows = slice(start, start + HASH_SLICE_ROWS)
                maybe[rows] &= counts[buckets[rows]] > 1
            del counts  # before the next count: two would be held at once
        del buckets, as_bits
    found = np.zeros(len(hashes), dtype=bool)
    rows = np.flatnonzero(maybe)
    found[rows] = pd.Series(hashes[rows]).duplicated(keep=False).to_numpy()
    return found


def _sliceable(values: pd.Series) -> bool:
    """Return whether a slice of the column gives the same integers as the whole column."""
    return (
        isinstance(values.dtype, pd.CategoricalDtype)
        or pd.api.types.is_datetime64_dtype(values.dtype)
        or values.dtype == np.float64
    )


def _column_integers(values: pd.Series) -> np.ndarray:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy().astype(np.uint64)
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values.to_numpy(dtype="datetime64[us]").view(np.uint64)
    if values.dtype == np.float64:
        numbers = values.to_numpy() + 0.0  # -0.0 becomes 0.0
        numbers[np.isnan(numbers)] = np.nan
        return numbers.view(np.uint64)
    return pd.factorize(values)[0].astype(np.uint64)


def _mix_in_place(values: np.ndarray) -> None:
    """Scramble 64-bit values (the splitmix64 finaliser), so column order matters."""
    shifted = np.empty_like(values)
    for shift, factor in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB), (31, None)):
        np.right_shift(values, np.uint64(shift), out=shifted)
        np.bitwise_xor(values, shifted, out=values)
        if factor is not None:
            np.multiply(values, np.uint64(factor), out=values)


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
    return positions.fill_null(-1).to_numpy().astype(np.int32)


def check_customer_reference(
    ids: pd.Series, positions: np.ndarray, rejected_ids: pd.Series, problems: RowProblems
) -> None:
    """Reject rows whose customer is not in customers, or was itself quarantined."""
    absent = np.flatnonzero((positions < 0) & ids.notna().to_numpy())
    was_rejected = ids.iloc[absent].astype("str").isin(rejected_ids.astype("str")).to_numpy()
    problems.add(REJECTED_CUSTOMER, absent[was_rejected])
    problems.add(UNKNOWN_CUSTOMER, absent[~was_rejected])


def days(dates: pd.Series) -> np.ndarray:
    """Return whole days since 1970-01-01 (floored, so any time of day stays on its day)."""
    micros = dates.to_numpy(dtype="datetime64[us]").view(np.int64)
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
    """Reject rows dated on a day before the account opened or after it closed."""
    dated = (positions >= 0) & frame[date_column].notna().to_numpy()
    at = np.where(dated, positions, 0)
    day = days(frame[date_column])
    open_day, close_day = customer_days
    problems.add(f"{date_column}: before open_date", dated & (day < open_day[at]))
    problems.add(f"{date_column}: after closed_date", dated & (day > close_day[at]))


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
