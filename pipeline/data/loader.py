"""The one entry every command reads its data through: files -> checked :class:`Tables`.

:func:`load_tables` reads ``<table>.parquet``, a folder ``<table>/`` of Parquet
files, or ``<table>.csv``; :func:`tables_from_frames` takes DataFrames already in
memory. Both coerce types and apply the contract's row rules
(:mod:`pipeline.data.validation`), quarantine rejected rows (:mod:`pipeline.data.quarantine`)
and assemble the tables every stage receives. See docs/data-contract.md.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from pipeline.cohorts.snapshots import observation_end, observation_end_warnings
from pipeline.core.contract import ACTIVITY_TABLES, SCHEMAS, Tables, TableSchema
from pipeline.core.errors import ChurnError, DataContractError
from pipeline.core.params import Params
from pipeline.data import coercion, validation
from pipeline.data.quarantine import (
    LoadReport,
    RowProblems,
    check_rejected_share,
    quarantine_tables,
)
from pipeline.tracking.mlflow_store import is_url

SWITCHED_OFF = {
    "transfers": "fund-flow indicators (outflow share, transfers out) switch off and the "
    "dormancy label counts trades only",
    "balances": "asset indicators (total assets, empty positions, big losses, value tiers) "
    "and the asset_drain label switch off",
    "events": "service indicators (complaints, fee-cut requests, contacts) switch off",
}


@dataclass(frozen=True)
class LoadResult:
    """Checked tables and what loading did to them."""

    tables: Tables
    report: LoadReport


def load_tables(
    data_dir: Path | str, params: Params, rejected_dir: Path | str | None
) -> LoadResult:
    """Read, check and assemble the input tables of a data folder.

    Args:
        data_dir: folder holding ``<table>.parquet``, ``<table>/`` or ``<table>.csv``.
        params: the run's params (``validation`` and ``data.observation_end`` are used).
        rejected_dir: folder for ``<table>.parquet`` quarantine files; None writes none.

    Returns:
        The tables and the load report.

    Raises:
        DataContractError: a required table or column is missing, a column cannot
            be read as its type, a required table is empty, or too many rows of a
            table were rejected (the quarantine files are written first).
    """
    started = time.perf_counter()
    if is_url(data_dir):  # object storage, memory://...: read through fsspec, same checks
        from pipeline.data.reader import read_tables_at

        raw, sources = read_tables_at(str(data_dir))
        return _checked(raw, sources, params, rejected_dir, started)
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ChurnError(f"data folder not found: {data_dir}")
    if rejected_dir is not None and Path(rejected_dir).resolve() == data_dir.resolve():
        raise ChurnError(f"the quarantine folder must not be the data folder ({data_dir})")
    paths = _table_files(data_dir)
    raw = {name: read_table_file(name, path, SCHEMAS[name]) for name, path in paths.items()}
    sources = {name: str(path) for name, path in paths.items()}
    return _checked(raw, sources, params, rejected_dir, started)


def _table_files(data_dir: Path) -> dict[str, Path]:
    """Return the file (or folder) of each table present; fail on a missing required one."""
    paths = {}
    for name, schema in SCHEMAS.items():
        path = find_table_file(data_dir, name)
        if path is not None:
            paths[name] = path
        elif schema.required:
            raise DataContractError(
                name,
                None,
                "required table missing",
                f"no {name}.parquet, {name}/ or {name}.csv in {data_dir}",
            )
    return paths


def tables_from_frames(
    frames: Mapping[str, pd.DataFrame | None],
    params: Params | None = None,
    rejected_dir: Path | str | None = None,
) -> LoadResult:
    """Check and assemble tables held in memory, exactly as :func:`load_tables` does.

    The frames are not modified. Minimal frames are enough, e.g. customers with
    ``customer_id, open_date, closed_date`` and trades with ``customer_id,
    trade_date, amount, commission``; dates may be ISO strings.

    Args:
        frames: DataFrames by contract table name; absent or None optional tables are missing.
        params: the run's params; None uses the defaults.
        rejected_dir: folder for quarantine files; None writes none.

    Raises:
        ChurnError: a frame name that is not a contract table.
        DataContractError: as for :func:`load_tables`.
    """
    started = time.perf_counter()
    unknown = sorted(set(frames) - set(SCHEMAS))
    if unknown:
        raise ChurnError(f"unknown tables {unknown}; the contract's tables are {list(SCHEMAS)}")
    raw = {
        name: frames[name].reset_index(drop=True)
        for name in SCHEMAS
        if frames.get(name) is not None
    }
    for name, schema in SCHEMAS.items():
        if schema.required and name not in raw:
            raise DataContractError(name, None, "required table missing", "no such frame given")
    sources = {name: "in memory" for name in raw}
    return _checked(raw, sources, params or Params(), rejected_dir, started)


def _checked(
    raw: dict[str, pd.DataFrame],
    sources: dict[str, str],
    params: Params,
    rejected_dir: Path | str | None,
    started: float,
) -> LoadResult:
    """Coerce, apply the row rules, quarantine, fail on too many rejects, assemble."""
    for name, frame in raw.items():
        coercion.check_structure(name, frame, SCHEMAS[name])
    typed = {name: coercion.coerce_table(name, raw[name], SCHEMAS[name]) for name in raw}
    customers, rejected_ids = _customer_spine(*typed["customers"])
    customer_days = validation.open_and_close_days(customers)
    positions = {
        name: _check_activity(name, *typed[name], customers, rejected_ids, customer_days)
        for name in ACTIVITY_TABLES
        if name in typed
    }
    problems = {name: table_problems for name, (_, table_problems) in typed.items()}
    report = quarantine_tables(raw, problems, sources, rejected_dir, tuple(SCHEMAS))
    check_rejected_share(report.tables, params.validation.max_rejected_share)
    tables = _assemble(customers, typed, positions)
    tables = dataclasses.replace(
        tables, observation_end=observation_end(tables, params.data.observation_end)
    )
    report.warnings = [
        f"optional table {name} is missing: {SWITCHED_OFF[name]}" for name in tables.missing_tables
    ]
    if params.data.observation_end is not None:
        report.warnings += observation_end_warnings(tables)
    report.observation_end = tables.observation_end
    report.seconds = time.perf_counter() - started
    return LoadResult(tables, report)


def _customer_spine(frame: pd.DataFrame, problems: RowProblems) -> tuple[pd.DataFrame, pd.Series]:
    """Return the kept customers sorted by customer_id, and the ids of rejected customers."""
    validation.check_columns(frame, SCHEMAS["customers"], problems)
    validation.check_customers(frame, problems)
    rejected = problems.rejected_mask()
    ids = frame["customer_id"].astype("str")
    kept = frame[~rejected].assign(customer_id=ids[~rejected])
    kept = kept.sort_values("customer_id", kind="stable").reset_index(drop=True)
    return kept, ids[rejected].dropna()


def _check_activity(
    name: str,
    frame: pd.DataFrame,
    problems: RowProblems,
    customers: pd.DataFrame,
    rejected_ids: pd.Series,
    customer_days: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """Apply an activity table's row rules; return each row's customer position (-1: none)."""
    schema = SCHEMAS[name]
    validation.check_columns(frame, schema, problems)
    positions = validation.customer_positions(frame["customer_id"], customers["customer_id"])
    validation.check_customer_reference(frame["customer_id"], positions, rejected_ids, problems)
    validation.check_activity_dates(frame, schema.date_column, positions, customer_days, problems)
    if name == "balances":
        validation.check_balances(frame, positions, problems)
    return positions


def _assemble(
    customers: pd.DataFrame,
    typed: dict[str, tuple[pd.DataFrame, RowProblems]],
    positions: dict[str, np.ndarray],
) -> Tables:
    id_dtype = pd.CategoricalDtype(pd.Index(customers["customer_id"]))
    activity = {name: _kept_activity(*typed[name], positions[name], id_dtype) for name in positions}
    missing = tuple(name for name in ACTIVITY_TABLES if name not in activity)
    return Tables(customers=customers, **activity, missing_tables=missing)


def _kept_activity(
    frame: pd.DataFrame,
    problems: RowProblems,
    positions: np.ndarray,
    id_dtype: pd.CategoricalDtype,
) -> pd.DataFrame:
    """Drop the quarantined rows; key the rest by their customer's position.

    ``customer_id`` becomes a categorical over the customers' ids whose codes are
    ``customer_idx``: the same values at a fraction of the memory of strings.
    """
    if problems.counts():
        kept = ~problems.rejected_mask()
        frame, positions = frame[kept], positions[kept]
    customer_idx = positions.astype(np.int32)
    customer_id = pd.Categorical.from_codes(customer_idx, dtype=id_dtype, validate=False)
    frame = frame.assign(customer_id=customer_id, customer_idx=customer_idx)
    return frame.reset_index(drop=True)


def find_table_file(data_dir: Path, table: str) -> Path | None:
    """Return ``<table>.parquet`` (file or folder), else ``<table>/``, else ``<table>.csv``."""
    for candidate in (data_dir / f"{table}.parquet", data_dir / table, data_dir / f"{table}.csv"):
        if candidate.exists():
            return candidate
    return None


def read_table_file(table: str, path: Path, schema: TableSchema) -> pd.DataFrame:
    """Read one table as stored; optional text columns dictionary-encoded (categorical).

    Ids stay plain strings: at a million customers most ids recur in every
    row group, so per-group dictionaries would cost more than they save.

    Raises:
        DataContractError: the file cannot be read at all.
    """
    text_columns = [c.name for c in schema.columns if c.kind == "string"]
    id_columns = [c.name for c in schema.columns if c.kind == "id"]
    try:
        if path.is_file() and path.suffix.lower() == ".csv":
            arrow = _read_csv(path, text_columns, id_columns)
        else:
            arrow = _read_parquet(table, path, text_columns, id_columns)
        frame = arrow.to_pandas(date_as_object=False)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataContractError(table, None, "unreadable file", f"{path}: {exc}") from None
    return frame.reset_index(drop=True)


def _read_csv(path: Path, text_columns: list[str], id_columns: list[str]) -> pa.Table:
    # Ids are read as text so leading zeros survive; empty fields are missing values.
    types = {name: pa.dictionary(pa.int32(), pa.string()) for name in text_columns}
    types |= {name: pa.string() for name in id_columns}
    options = pacsv.ConvertOptions(column_types=types, strings_can_be_null=True)
    return pacsv.read_csv(path, convert_options=options)


def _read_parquet(
    table: str, path: Path, text_columns: list[str], id_columns: list[str]
) -> pa.Table:
    files = _parquet_files(path)
    if not files:
        raise DataContractError(table, None, "unreadable file", f"{path} holds no .parquet files")
    schema = pa.unify_schemas([pq.read_schema(f) for f in files], promote_options="permissive")
    fmt = ds.ParquetFileFormat(read_options=ds.ParquetReadOptions(dictionary_columns=text_columns))
    dataset = ds.dataset(
        [str(f) for f in files],
        schema=_reading_schema(schema, text_columns, id_columns),
        format=fmt,
    )
    return dataset.to_table()


def _parquet_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    # Files whose names start with "." or "_" are temporary or markers (_SUCCESS).
    return sorted(p for p in path.glob("*.parquet") if p.is_file() and p.name[0] not in "._")


def _reading_schema(schema: pa.Schema, text_columns: list[str], id_columns: list[str]) -> pa.Schema:
    """Read optional text dictionary-encoded and ids as plain strings, whatever the files hold."""
    for i, field in enumerate(schema):
        value_type = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        if not (pa.types.is_string(value_type) or pa.types.is_large_string(value_type)):
            continue
        if field.name in text_columns:
            schema = schema.set(i, field.with_type(pa.dictionary(pa.int32(), pa.string())))
        elif field.name in id_columns:
            schema = schema.set(i, field.with_type(pa.string()))
    return schema.remove_metadata()
