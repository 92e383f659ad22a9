"""Load a data location on the cluster: read in pieces, route rows to partitions, validate.

The shuffle of the distributed engine happens here, once per run: every read
task reads one piece of a table (pipeline/data/reader.py) and splits its rows
by customer partition (pipeline/data/partitions.py), keeping their order;
every partition task concatenates its rows from all pieces in storage order and
runs the loader's own checks (:func:`pipeline.data.loader.tables_from_frames`). A
partition therefore holds exactly the rows, in the order, that the local loader
gives its customers. Read tasks are ordinary tasks: when a worker is lost, Dask
reads its pieces again.

Whole-table rules are settled on the client from the partitions' reports: the
rejected share (``validation.max_rejected_share``) and ``observation_end`` (the
latest of the partitions'). Quarantined rows go to ``<rejected_dir>/part-NNNNN/``
(a folder every worker can write), ``source_row`` counting in the whole table
(pieces in storage order).
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.core.contract import SCHEMAS, Tables
from pipeline.core.errors import DataContractError
from pipeline.core.executor import Executor
from pipeline.core.params import Params, ValidationParams
from pipeline.data.coercion import coerce_column
from pipeline.data.loader import (
    CheckedFrames,
    check_frames,
    finish_frames,
    shadowed_warnings,
    unread_warnings,
)
from pipeline.data.observation import ActivityMonths, ObservationEnd, decide_observation_end
from pipeline.data.partitions import (
    PartitionedTables,
    customer_partitions,
    partition_order,
)
from pipeline.data.quarantine import (
    LoadReport,
    RowProblems,
    TableReport,
    by_count,
    check_rejected_share,
    quarantine_tables,
)
from pipeline.data.reader import (
    ReadUnit,
    TableSource,
    concat_pieces,
    read_unit,
    read_units,
    table_arrow_schema,
    table_sources,
)
from pipeline.data.validation import UNKNOWN_CUSTOMER


@dataclass(frozen=True)
class PartitionLoad:
    """One validated partition (None when it holds no customer) and its load report."""

    tables: Tables | None
    report: LoadReport


def load_partitions(
    data_url: str,
    params: Params,
    executor: Executor,
    n_partitions: int,
    rejected_dir: Path | str | None = None,
    quarantine_files: Mapping[str, Path] | None = None,
) -> PartitionedTables:
    """Read, partition and validate a data location on the cluster.

    Args:
        data_url: a folder or fsspec URL in the loader's layout, readable by every worker.
        params: the run's params (``validation``, ``data.observation_end``, ``engine.retries``).
        executor: where the partitions are read and checked (the Dask engine's workers).
        n_partitions: number of customer partitions.
        rejected_dir: folder for the partitions' quarantine files; None writes none.
        quarantine_files: the file the report names for each table's rejected rows, when
            the partitions' files are merged into one per table afterwards (the local
            engine); None names ``rejected_dir``.

    Returns:
        The partitions (handles of :class:`Tables`), their ``observation_end`` and the
        combined load report.

    Raises:
        DataContractError: as :func:`pipeline.data.loader.load_tables`, for the whole data.
    """
    sources = table_sources(data_url)
    routed = {name: _routed(source, n_partitions, executor) for name, source in sources.items()}
    branches = executor.submit(_branch_categories, routed["customers"]["branches"])
    counts = {name: table["counts"] for name, table in routed.items()}
    checked = []
    for partition in range(n_partitions):
        # Each partition's slices are let go once its check is submitted: an executor that
        # keeps results on disk removes their files then, not at the end of the load.
        pieces = {name: _taken(table["rows"], partition) for name, table in routed.items()}
        checked.append(
            executor.submit(checked_partition, partition, pieces, params.validation, counts)
        )
        del pieces
    months = [m for m in executor.gather([executor.submit(_months, c) for c in checked]) if m]
    if not months:
        raise DataContractError("customers", None, "empty table", "a required table has no rows")
    total = ActivityMonths()
    for part in months:
        total.merge(part)
    decided = decide_observation_end(
        total, params.data.observation_end, params.data.min_activity_share
    )
    loads = []  # [tables, report] per partition: the large tables and the small report apart
    for number in range(len(checked)):
        folder = _partition_folder(rejected_dir, number)
        loads.append(
            executor.submit_parts(
                _finished_parts, 2, _taken(checked, number), decided, branches, folder
            )
        )
    reports = executor.gather([report for _, report in loads])
    report = combined_report(reports, sources, rejected_dir, quarantine_files)
    check_rejected_share(report.tables, params.validation.max_rejected_share)
    report.observation_end, report.observation_rule = decided.end, decided.rule
    report.warnings += shadowed_warnings(sources) + unread_warnings(data_url)
    parts = [
        tables
        for (tables, _), part_report in zip(loads, reports, strict=True)
        if part_report.observation_end is not None
    ]
    return PartitionedTables(parts, n_partitions, decided.end, report)


def _routed(source: TableSource, n_partitions: int, executor: Executor) -> dict[str, list]:
    """Submit one read-and-route task per piece of a table.

    Returns:
        ``{"rows": handles [partition][piece] of the piece's rows in that partition with
        their rows' positions in the piece, "counts": handles of each piece's number of
        rows, "branches": handles of each piece's branch values}``.
    """
    schema = table_arrow_schema(source)
    # One handle per partition's rows of each piece, and one of the piece's row count and
    # branches: an executor keeping results on disk then writes each slice once.
    pieces = [
        executor.submit_parts(routed_piece, n_partitions + 1, source, unit, schema, n_partitions)
        for unit in read_units(source)
    ]
    rows = [[piece[partition] for piece in pieces] for partition in range(n_partitions)]
    about = [piece[n_partitions] for piece in pieces]
    counts = [executor.submit(operator.itemgetter("n_rows"), meta) for meta in about]
    branches = [executor.submit(operator.itemgetter("branches"), meta) for meta in about]
    return {"rows": rows, "counts": counts, "branches": branches}


def routed_piece(source: TableSource, unit: ReadUnit, schema, n_partitions: int) -> list:
    """Read one piece and split its rows by customer partition, keeping their order.

    Returns:
        ``(frame, positions in the piece)`` per partition, then ``{"n_rows": rows read,
        "branches": branch values}`` (branches of customers).
    """
    frame = read_unit(source, unit, schema)
    ids = _customer_ids(source.table, frame)
    order, bounds = partition_order(customer_partitions(ids, n_partitions), n_partitions)
    grouped = frame.take(order)
    rows = [
        (
            grouped.iloc[bounds[p] : bounds[p + 1]].reset_index(drop=True),
            order[bounds[p] : bounds[p + 1]],
        )
        for p in range(n_partitions)
    ]
    return [*rows, {"n_rows": len(frame), "branches": _branches(source.table, frame)}]


def _customer_ids(table: str, frame: pd.DataFrame) -> pd.Series:
    """Return the ids as the loader will read them (text), to route rows consistently."""
    column = next(c for c in SCHEMAS[table].columns if c.name == "customer_id")
    if "customer_id" not in frame:
        raise DataContractError(table, "customer_id", "required column missing", "no such column")
    return coerce_column(table, column, frame["customer_id"], RowProblems(len(frame)))


def _branches(table: str, frame: pd.DataFrame) -> tuple[str, ...]:
    if table != "customers" or "branch" not in frame:
        return ()
    column = next(c for c in SCHEMAS[table].columns if c.name == "branch")
    typed = coerce_column(table, column, frame["branch"], RowProblems(len(frame)))
    return tuple(str(v) for v in typed.cat.categories)


def _branch_categories(pieces: list[tuple[str, ...]]) -> list[str]:
    return sorted({value for piece in pieces for value in piece})


def checked_partition(
    partition: int,
    pieces: Mapping[str, list[tuple[pd.DataFrame, np.ndarray]]],
    rules: ValidationParams,
    counts: Mapping[str, list[int]] | None = None,
) -> CheckedFrames | OrphanRows:
    """Concatenate a partition's rows of every table and check them as the loader does.

    Args:
        partition: the partition's number (for messages).
        pieces: per table, each piece's rows in this partition and their positions in it.
        rules: ``validation:``.
        counts: per table, every piece's number of rows; the quarantine's ``source_row``
            then counts in the whole table's storage order, as the local loader's does
            (None: within the partition).

    Returns:
        The checked frames, or the frames and their source rows when the partition
        holds no customer (every activity row of it then refers to an unknown customer).

    Raises:
        DataContractError: the partition holds customers but no trades (the loader refuses
            an empty required table): use fewer partitions for so little data.
    """
    frames = {name: concat_pieces([frame for frame, _ in rows]) for name, rows in pieces.items()}
    source_rows = (
        None
        if counts is None
        else {name: table_source_rows(rows, counts[name]) for name, rows in pieces.items()}
    )
    if len(frames["customers"]) == 0:
        return OrphanRows(frames, source_rows)
    if len(frames["trades"]) == 0:
        raise DataContractError(
            "trades",
            None,
            "empty table",
            f"customer partition {partition} holds {len(frames['customers'])} customers but no "
            "trades rows; with so little data set engine.partitions lower",
        )
    return check_frames(frames, {name: "in memory" for name in frames}, rules, source_rows)


def table_source_rows(rows: list[tuple[pd.DataFrame, np.ndarray]], counts: list[int]) -> np.ndarray:
    """Return each of a partition's rows' position in the whole table (pieces in storage order)."""
    offsets = np.cumsum([0, *counts], dtype=np.int64)[:-1]
    parts = [offset + positions for (_, positions), offset in zip(rows, offsets, strict=True)]
    return np.concatenate(parts).astype(np.int64) if parts else np.empty(0, np.int64)


def finished_partition(
    checked: CheckedFrames | OrphanRows,
    decided: ObservationEnd,
    branches: list[str],
    rejected_dir: Path | None,
) -> PartitionLoad:
    """Quarantine a checked partition's rows (those after the whole data's end included)."""
    if not isinstance(checked, CheckedFrames):
        return PartitionLoad(None, _orphan_report(checked, rejected_dir))
    loaded = finish_frames(checked, decided, rejected_dir)
    customers = loaded.tables.customers
    if "branch" in customers:
        branch = customers["branch"].astype(pd.CategoricalDtype(branches))
        customers = customers.assign(branch=branch)
    tables = dataclasses.replace(loaded.tables, customers=customers)
    return PartitionLoad(tables, loaded.report)


@dataclass(frozen=True)
class OrphanRows:
    """A partition's rows when it holds no customer: every activity row refers to an unknown one."""

    frames: dict[str, pd.DataFrame]
    source_rows: dict[str, np.ndarray] | None


def _orphan_report(orphans: OrphanRows, rejected_dir: Path | None) -> LoadReport:
    """Quarantine and report a partition without customers as rows of unknown customers.

    Their other faults are not looked for: with no customer there is nothing to keep.
    """
    problems = {}
    for name, frame in orphans.frames.items():
        problems[name] = RowProblems(len(frame))
        if name != "customers" and len(frame):
            problems[name].add(UNKNOWN_CUSTOMER, np.ones(len(frame), dtype=bool))
    sources = {name: "in memory" for name in orphans.frames}
    return quarantine_tables(
        orphans.frames, problems, sources, rejected_dir, source_rows=orphans.source_rows
    )


def combined_report(
    reports: list[LoadReport],
    sources: Mapping[str, TableSource],
    rejected_dir,
    quarantine_files: Mapping[str, Path] | None = None,
) -> LoadReport:
    """Add up the partitions' reports table by table and rule by rule.

    Warnings are those every partition gave (missing optional tables).
    """
    combined = LoadReport()
    for name, source in sources.items():
        parts = [r.tables[name] for r in reports if name in r.tables]
        rules: dict[str, int] = {}
        for part in parts:
            for rule, count in part.rejected_by_rule.items():
                rules[rule] = rules.get(rule, 0) + count
        rules = by_count(rules)  # the one-partition load's order
        rejected = sum(p.rows_rejected for p in parts)
        where = None
        if rejected and rejected_dir is not None:
            where = quarantine_files[name] if quarantine_files else Path(rejected_dir)
        after_end = sum(p.rows_after_end for p in parts)
        repeated = sum(p.rows_repeated for p in parts)
        read = sum(p.rows_read for p in parts)
        combined.tables[name] = TableReport(
            name, source.location, read, rules, rejected, where, after_end, repeated
        )
    with_customers = [set(r.warnings) for r in reports if r.observation_end is not None]
    shared = set.intersection(*with_customers) if with_customers else set()
    first = next((r.warnings for r in reports if r.observation_end is not None), [])
    combined.warnings = [w for w in first if w in shared]
    combined.seconds = max((r.seconds for r in reports), default=0.0)
    return combined


def _months(checked: CheckedFrames | OrphanRows) -> ActivityMonths | None:
    return checked.months if isinstance(checked, CheckedFrames) else None


def _taken(handles: list, number: int):
    """Return a handle and drop it from its list (nothing else needs it)."""
    handle, handles[number] = handles[number], None
    return handle


def _finished_parts(*args) -> list:
    load = finished_partition(*args)
    return [load.tables, load.report]


def _partition_folder(rejected_dir: Path | str | None, partition: int) -> Path | None:
    return None if rejected_dir is None else Path(rejected_dir) / f"part-{partition:05d}"
