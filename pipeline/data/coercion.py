"""Structural checks and type coercion: the first step of validating a table.

Each contract column is turned into its type (ids and text as strings or
categories, dates as ``datetime64[us]``, money as ``float64``, whole numbers as
``Int64``). What can be coerced safely is: ISO date strings, numeric strings,
integers as floats, dates with a time of day in ``date`` columns (truncated to the
day), time zones (dropped, keeping the wall-clock time), blank text (missing).
A value that cannot be coerced is a row problem (``amount: not a number``); a
column in which not a single value can be read, a missing required column and an
empty required table are structural :class:`~pipeline.core.errors.DataContractError`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.calendar import MICROSECONDS_PER_DAY
from pipeline.core.contract import Column, TableSchema
from pipeline.core.errors import DataContractError
from pipeline.data.quarantine import RowProblems
from pipeline.data.validation import SLICE_ROWS

EARLIEST_DATE = pd.Timestamp("1900-01-01")
LATEST_DATE = pd.Timestamp("2200-01-01")
EMPTY_DTYPES = {
    "id": "str",
    "string": "category",
    "date": "datetime64[us]",
    "datetime": "datetime64[us]",
    "float": "float64",
    "int": "Int64",
    "bool": "boolean",
}
UTC_OFFSET = r"^(.*\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
"""A time of day followed by a UTC offset (``Z``, ``+08:00``, ``-0500``): the offset is dropped,
keeping the local wall-clock time the export recorded."""
KIND_NAMES = {
    "id": "an id",
    "string": "text",
    "date": "a date",
    "datetime": "a date",
    "float": "a number",
    "int": "an integer",
    "bool": "true or false",
}
TRUE_TEXT = ("true", "t", "yes", "y", "1")
FALSE_TEXT = ("false", "f", "no", "n", "0")
"""Text read as a flag (case and surrounding blanks ignored); anything else is not a flag."""


def check_structure(table: str, frame: pd.DataFrame, schema: TableSchema) -> None:
    """Fail on a missing required column or an empty required table.

    Raises:
        DataContractError: naming the table, the first missing column and the rule.
    """
    missing = [c for c in schema.required_columns if c not in frame.columns]
    if missing:
        raise DataContractError(
            table,
            missing[0],
            "required column missing",
            f"missing {missing}; columns present: {list(frame.columns)}",
        )
    if schema.required and len(frame) == 0:
        raise DataContractError(table, None, "empty table", "a required table has no rows")


def coerce_table(
    table: str, raw: pd.DataFrame, schema: TableSchema
) -> tuple[pd.DataFrame, RowProblems]:
    """Return the table with its contract columns in their types, and the rows that failed.

    Extra columns are kept as read. ``raw`` is not modified.

    Raises:
        DataContractError: a column in which not a single value can be read as its type.
    """
    problems = RowProblems(len(raw))
    typed = {
        column.name: coerce_column(table, column, raw[column.name], problems)
        for column in schema.columns
        if column.name in raw.columns
    }
    return raw.assign(**typed), problems


def coerce_column(
    table: str, column: Column, values: pd.Series, problems: RowProblems
) -> pd.Series:
    """Convert one column, recording unreadable, out-of-range and missing values."""
    values = _blank_as_missing(values)
    present = values.notna().to_numpy()
    if present.any():
        typed = CONVERTERS[column.kind](values)
    else:
        typed = pd.Series(index=values.index, dtype=EMPTY_DTYPES[column.kind])
    what = KIND_NAMES[column.kind]
    if typed is None:
        raise DataContractError(
            table, column.name, f"cannot be read as {what}", f"stored as {values.dtype}"
        )
    failed = typed.isna().to_numpy() & present
    if failed.any() and failed.sum() == present.sum():
        examples = ", ".join(repr(v) for v in values[failed].astype("str").unique()[:3])
        raise DataContractError(
            table, column.name, f"cannot be read as {what}", f"no value is {what}, e.g. {examples}"
        )
    problems.add(f"{column.name}: not {what}", failed)
    if column.kind in ("date", "datetime"):
        outside = ((typed < EARLIEST_DATE) | (typed >= LATEST_DATE)).to_numpy()
        problems.add(f"{column.name}: outside 1900-2199", outside)
        typed = typed.mask(outside)
    if not column.nullable:
        problems.add(f"{column.name}: missing", typed.isna().to_numpy() & ~present)
    return typed


def _blank_as_missing(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = values.cat.categories
        blank = categories[_is_blank(pd.Series(categories))]
        return values.cat.remove_categories(blank) if len(blank) else values
    if pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
        blank = _is_blank(values)
        return values.mask(blank) if blank.any() else values
    return values


def _is_blank(values: pd.Series) -> np.ndarray:
    """Return which values are empty or whitespace-only text."""
    text = pa.array(values.astype("str"))
    blank = pc.or_kleene(pc.utf8_is_space(text), pc.equal(text, ""))
    return blank.fill_null(False).to_numpy(zero_copy_only=False)


def _as_id(values: pd.Series) -> pd.Series | None:
    if isinstance(values.dtype, pd.CategoricalDtype):
        if pd.api.types.is_string_dtype(values.cat.categories.dtype):
            return values
        categories = _as_id(pd.Series(values.cat.categories))
        if categories is None:
            return None
        return values.cat.rename_categories(categories.to_numpy())
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return None
    if pd.api.types.is_float_dtype(values):
        whole = values.dropna()
        if not np.all(np.isfinite(whole) & (whole == np.round(whole))):
            return None
        return values.astype("Int64").astype("str")
    return values.astype("str")


def _as_text(values: pd.Series) -> pd.Series | None:
    text = _as_id(values)
    return None if text is None else text.astype("category")


def _as_float(values: pd.Series) -> pd.Series | None:
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return None
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.astype("float64")
    else:
        numbers = pd.to_numeric(values.astype("str"), errors="coerce").astype("float64")
    return numbers.mask(np.isinf(numbers.to_numpy()))


def _as_int(values: pd.Series) -> pd.Series | None:
    numbers = _as_float(values)
    if numbers is None:
        return None
    return numbers.mask(numbers != np.round(numbers)).astype("Int64")


def _as_bool(values: pd.Series) -> pd.Series | None:
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean")
    if pd.api.types.is_datetime64_any_dtype(values):
        return None
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.astype("float64")
        flags = pd.Series(pd.NA, index=values.index, dtype="boolean")
        flags[numbers == 1] = True
        flags[numbers == 0] = False
        return flags
    text = values.astype("str").str.strip().str.lower()
    flags = pd.Series(pd.NA, index=values.index, dtype="boolean")
    flags[text.isin(TRUE_TEXT).to_numpy() & values.notna().to_numpy()] = True
    flags[text.isin(FALSE_TEXT).to_numpy() & values.notna().to_numpy()] = False
    return flags


def _as_datetime(values: pd.Series) -> pd.Series | None:
    if pd.api.types.is_datetime64_any_dtype(values):
        return _naive_microseconds(values)
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return None
    # Dates repeat: parse each distinct text once, then spread by code.
    codes, uniques = pd.factorize(values.astype("str"))
    parsed = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[us]")
    if len(uniques):
        local = pd.Series(uniques).str.replace(UTC_OFFSET, r"\1", regex=True)
        try:
            distinct = pd.to_datetime(local, format="ISO8601", errors="coerce")
        except (ValueError, TypeError, OverflowError):
            return None
        found = codes >= 0
        parsed[found] = _naive_microseconds(distinct).to_numpy()[codes[found]]
    return pd.Series(parsed, index=values.index)


def _naive_microseconds(dates: pd.Series) -> pd.Series:
    if dates.dtype == "datetime64[us]":
        return dates  # nothing to change: not copied
    dates = _within_microsecond_range(dates)
    # A time zone is dropped, keeping the local wall-clock time.
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    return dates.astype("datetime64[us]")


def _within_microsecond_range(dates: pd.Series) -> pd.Series:
    """Move dates beyond 1900-2199 to just outside it, in their own unit and time zone.

    A date beyond datetime64[us] (after the year 294,247: a Parquet ``date32`` of year
    5,000,000) or at the end of its unit's range, where dropping the time zone would
    overflow, is then rejected as outside 1900-2199 like any other date out of range.
    """
    early = (EARLIEST_DATE - pd.Timedelta(days=1)).as_unit(dates.dt.unit)
    late = LATEST_DATE.as_unit(dates.dt.unit)
    tz = getattr(dates.dt, "tz", None)
    if tz is not None:
        early, late = early.tz_localize(tz), late.tz_localize(tz)
    return dates.clip(early, late)


def _as_date(values: pd.Series) -> pd.Series | None:
    parsed = _as_datetime(values)
    if parsed is None or not _has_time_of_day(parsed):
        return parsed
    return parsed.dt.normalize()


def _has_time_of_day(dates: pd.Series) -> bool:
    """Return whether any datetime64[us] value is not at midnight (looked at a slice at a time)."""
    values = dates.to_numpy()
    for start in range(0, len(values), SLICE_ROWS):
        part = values[start : start + SLICE_ROWS]
        if np.any((part.view(np.int64) % MICROSECONDS_PER_DAY != 0) & ~np.isnat(part)):
            return True
    return False


CONVERTERS = {
    "id": _as_id,
    "string": _as_text,
    "date": _as_date,
    "datetime": _as_datetime,
    "float": _as_float,
    "int": _as_int,
    "bool": _as_bool,
}
