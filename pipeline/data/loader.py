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

from pipeline.core.contract import ACTIVITY_TABLES, INDICATOR_TABLES, SCHEMAS, Tables
from pipeline.core.errors import ChurnError, DataContractError
from pipeline.core.params import Params, ValidationParams
from pipeline.data import coercion, validation
from pipeline.data.observation import (
    ActivityMonths,
    ObservationEnd,
    activity_months,
    decide_observation_end,
    observation_end_warnings,
)
from pipeline.data.quarantine import (
    LoadReport,
    RowProblems,
    check_rejected_share,
    quarantine_tables,
)
from pipeline.data.reader import (
    TableSource,
    is_url,
    read_source,
    table_sources,
    unread_entries,
)

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
    local = not is_url(data_dir)
    if local and not Path(data_dir).is_dir():
        raise ChurnError(f"data folder not found: {data_dir}")
    quarantine_in_data = (
        local
        and rejected_dir is not None
        and Path(rejected_dir).resolve() == Path(data_dir).resolve()
    )
    if quarantine_in_data:
        raise ChurnError(f"the quarantine folder must not be the data folder ({data_dir})")
    sources = table_sources(str(data_dir))
    raw = {name: read_source(source) for name, source in sources.items()}
    locations = {name: source.location for name, source in sources.items()}
    loaded = _checked(raw, locations, params, rejected_dir, started)
    loaded.report.warnings += shadowed_warnings(sources) + unread_warnings(str(data_dir))
    return loaded


def unread_warnings(data_url: str) -> list[str]:
    """Name the entries of the data folder that are not contract tables (not read)."""
    unread = unread_entries(data_url)
    if not unread:
        return []
    return [
        f"not a contract table, not read: {', '.join(unread[:10])}"
        + (f" and {len(unread) - 10} more" if len(unread) > 10 else "")
        + f" (the tables are {', '.join(SCHEMAS)})"
    ]


def shadowed_warnings(sources: Mapping[str, TableSource]) -> list[str]:
    """Name every copy of a table that was found and not read."""
    return [
        f"{name}: {', '.join(source.shadowed)} also found and NOT read; {source.location} is "
        "read (the contract prefers Parquet): remove the other copies if they differ"
        for name, source in sources.items()
        if source.shadowed
    ]


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
    """Check the frames, settle the observation end, quarantine, fail on too many rejects."""
    checked = check_frames(raw, sources, params.validation)
    decided = decide_observation_end(
        checked.months, params.data.observation_end, params.data.min_activity_share
    )
    loaded = finish_frames(checked, decided, rejected_dir)
    check_rejected_share(loaded.report.tables, params.validation.max_rejected_share)
    loaded.report.seconds = time.perf_counter() - started
    return loaded


@dataclass
class CheckedFrames:
    """Tables typed and checked against every row rule, before the observation end is known.

    The loader's first step, run per partition of customers on a cluster; the
    partitions' :attr:`months` add up to the whole data's (pipeline/data/observation.py).
    """

    raw: dict[str, pd.DataFrame]
    sources: dict[str, str]
    typed: dict[str, tuple[pd.DataFrame, RowProblems]]
    customers: pd.DataFrame
    positions: dict[str, np.ndarray]
    months: ActivityMonths


def check_frames(
    raw: dict[str, pd.DataFrame], sources: dict[str, str], rules: ValidationParams
) -> CheckedFrames:
    """Coerce every table and apply the contract's row rules (nothing is written).

    Raises:
        DataContractError: a required column is missing, a required table is empty, or a
            column cannot be read as its type.
    """
    for name, frame in raw.items():
        coercion.check_structure(name, frame, SCHEMAS[name])
    typed = {name: coercion.coerce_table(name, raw[name], SCHEMAS[name]) for name in raw}
    customers, rejected_ids = _customer_spine(*typed["customers"], rules)
    customer_days = validation.open_and_close_days(customers)
    positions = {
        name: _check_activity(name, *typed[name], customers, rejected_ids, customer_days, rules)
        for name in ACTIVITY_TABLES
        if name in typed
    }
    dated = [
        _kept_dates(name, *typed[name], positions[name])
        for name in positions
        if name in INDICATOR_TABLES
    ]
    return CheckedFrames(raw, sources, typed, customers, positions, activity_months(dated))


def finish_frames(
    checked: CheckedFrames, decided: ObservationEnd, rejected_dir: Path | str | None
) -> LoadResult:
    """Quarantine the rows dated after the observation end with the rest, and assemble.

    The rejected share is left to the caller (for the whole data, not one partition).
    """
    typed, customers = checked.typed, checked.customers
    for name, positions in checked.positions.items():
        frame, problems = typed[name]
        validation.check_after_observation_end(
            frame, SCHEMAS[name].date_column, positions, decided.quarantine_after, problems
        )
    problems = {name: table_problems for name, (_, table_problems) in typed.items()}
    report = quarantine_tables(checked.raw, problems, checked.sources, rejected_dir, tuple(SCHEMAS))
    tables = _assemble(customers, typed, checked.positions)
    tables = dataclasses.replace(tables, observation_end=decided.end)
    report.warnings = [
        f"optional table {name} is missing or empty: {SWITCHED_OFF[name]}"
        for name in tables.missing_tables
    ]
    report.warnings += observation_end_warnings(
        decided,
        checked.months,
        closed_after=int((customers["closed_date"] > decided.end).sum()),
        opened_after=int((customers["open_date"] > decided.end).sum()),
    )
    report.observation_end = decided.end
    report.observation_rule = decided.rule
    return LoadResult(tables, report)


def _kept_dates(
    name: str, frame: pd.DataFrame, problems: RowProblems, positions: np.ndarray
) -> tuple[np.ndarray, pd.Series]:
    """Return the customer positions and dates of the rows that passed every rule so far."""
    kept = (positions >= 0) & ~problems.rejected_mask()
    return positions[kept], frame[SCHEMAS[name].date_column][kept]


def _customer_spine(
    frame: pd.DataFrame, problems: RowProblems, rules: ValidationParams
) -> tuple[pd.DataFrame, pd.Series]:
    """Return the kept customers sorted by customer_id, and the ids of rejected customers."""
    validation.check_columns(frame, SCHEMAS["customers"], problems)
    validation.check_ranges("customers", frame, rules, problems)
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
    rules: ValidationParams,
) -> np.ndarray:
    """Apply an activity table's row rules; return each row's customer position (-1: none)."""
    schema = SCHEMAS[name]
    validation.check_columns(frame, schema, problems)
    validation.check_ranges(name, frame, rules, problems)
    positions = validation.customer_positions(frame["customer_id"], customers["customer_id"])
    repeated = validation.repeated_rows(name, frame, schema, positions)
    if rules.duplicate_rows == "quarantine":
        problems.add(validation.DUPLICATE_ROW, repeated)
    else:
        problems.note_repeated(int(repeated.sum()))
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
    missing = tuple(name for name in INDICATOR_TABLES if name not in activity)
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
