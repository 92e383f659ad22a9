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
(a folder every worker can write), ``source_row`` counting within the partition.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

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
from pipeline.data.quarantine import LoadReport, RowProblems, TableReport, check_rejected_share
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
) -> PartitionedTables:
    """Read, partition and validate a data location on the cluster.

    Args:
        data_url: a folder or fsspec URL in the loader's layout, readable by every worker.
        params: the run's params (``validation``, ``data.observation_end``, ``engine.retries``).
        executor: where the partitions are read and checked (the Dask engine's workers).
        n_partitions: number of customer partitions.
        rejected_dir: folder for the partitions' quarantine files; None writes none.

    Returns:
        The partitions (handles of :class:`Tables`), their ``observation_end`` and the
        combined load report.

    Raises:
        DataContractError: as :func:`pipeline.data.loader.load_tables`, for the whole data.
    """
    sources = table_sources(data_url)
    routed = {name: _routed(source, n_partitions, executor) for name, source in sources.items()}
    branches = executor.submit(_branch_categories, routed["customers"]["branches"])
    checked = [
        executor.submit(
            checked_partition,
            partition,
            {name: table["rows"][partition] for name, table in routed.items()},
            params.validation,
        )
        for partition in range(n_partitions)
    ]
    months = [m for m in executor.gather([executor.submit(_months, c) for c in checked]) if m]
    if not months:
        raise DataContractError("customers", None, "empty table", "a required table has no rows")
    total = ActivityMonths()
    for part in months:
        total.merge(part)
    decided = decide_observation_end(
        total, params.data.observation_end, params.data.min_activity_share
    )
    loads = [
        executor.submit(
            finished_partition, c, decided, branches, _partition_folder(rejected_dir, number)
        )
        for number, c in enumerate(checked)
    ]
    reports = executor.gather([executor.submit(_report_of, load) for load in loads])
    report = combined_report(reports, sources, rejected_dir)
    check_rejected_share(report.tables, params.validation.max_rejected_share)
    report.observation_end, report.observation_rule = decided.end, decided.rule
    report.warnings += shadowed_warnings(sources) + unread_warnings(data_url)
    parts = [
        executor.submit(_tables_of, load)
        for load, part_report in zip(loads, reports, strict=True)
        if part_report.observation_end is not None
    ]
    return PartitionedTables(parts, n_partitions, decided.end, report)


def _routed(source: TableSource, n_partitions: int, executor: Executor) -> dict[str, list]:
    """Submit one read-and-route task per piece of a table.

    Returns:
        ``{"rows": handles [partition][piece] of the piece's rows in that partition,
        "branches": handles of each piece's branch values}``.
    """
    schema = table_arrow_schema(source)
    pieces = [
        executor.submit(routed_piece, source, unit, schema, n_partitions)
        for unit in read_units(source)
    ]
    rows = [
        [executor.submit(_partition_rows, piece, partition) for piece in pieces]
        for partition in range(n_partitions)
    ]
    branches = [executor.submit(operator.itemgetter("branches"), piece) for piece in pieces]
    return {"rows": rows, "branches": branches}


def routed_piece(
    source: TableSource, unit: ReadUnit, schema, n_partitions: int
) -> dict[str, object]:
    """Read one piece and split its rows by customer partition, keeping their order.

    Returns:
        ``{"rows": [frame per partition], "branches": branch values}`` (branches of customers).
    """
    frame = read_unit(source, unit, schema)
    ids = _customer_ids(source.table, frame)
    order, bounds = partition_order(customer_partitions(ids, n_partitions), n_partitions)
    grouped = frame.take(order)
    rows = [
        grouped.iloc[bounds[p] : bounds[p + 1]].reset_index(drop=True) for p in range(n_partitions)
    ]
    return {"rows": rows, "branches": _branches(source.table, frame)}


def _partition_rows(piece: dict[str, object], partition: int) -> pd.DataFrame:
    return piece["rows"][partition]


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
    partition: int, pieces: Mapping[str, list[pd.DataFrame]], rules: ValidationParams
) -> CheckedFrames | dict[str, pd.DataFrame]:
    """Concatenate a partition's rows of every table and check them as the loader does.

    Returns:
        The checked frames, or the frames themselves when the partition holds no
        customer (every activity row of it then refers to an unknown customer).

    Raises:
        DataContractError: the partition holds customers but no trades (the loader refuses
            an empty required table): use fewer partitions for so little data.
    """
    frames = {name: concat_pieces(list(rows)) for name, rows in pieces.items()}
    if len(frames["customers"]) == 0:
        return frames
    if len(frames["trades"]) == 0:
        raise DataContractError(
            "trades",
            None,
            "empty table",
            f"customer partition {partition} holds {len(frames['customers'])} customers but no "
            "trades rows; with so little data set engine.partitions lower",
        )
    return check_frames(frames, {name: "in memory" for name in frames}, rules)


def finished_partition(
    checked: CheckedFrames | dict[str, pd.DataFrame],
    decided: ObservationEnd,
    branches: list[str],
    rejected_dir: Path | None,
) -> PartitionLoad:
    """Quarantine a checked partition's rows (those after the whole data's end included)."""
    if not isinstance(checked, CheckedFrames):
        return PartitionLoad(None, _orphan_report(checked))
    loaded = finish_frames(checked, decided, rejected_dir)
    customers = loaded.tables.customers
    if "branch" in customers:
        branch = customers["branch"].astype(pd.CategoricalDtype(branches))
        customers = customers.assign(branch=branch)
    tables = dataclasses.replace(loaded.tables, customers=customers)
    return PartitionLoad(tables, loaded.report)


def _orphan_report(frames: Mapping[str, pd.DataFrame]) -> LoadReport:
    """Report a partition without customers: every activity row refers to an unknown one."""
    report = LoadReport()
    for name, frame in frames.items():
        rejected = len(frame) if name != "customers" else 0
        rules = {UNKNOWN_CUSTOMER: rejected} if rejected else {}
        report.tables[name] = TableReport(name, "in memory", len(frame), rules, rejected)
    return report


def combined_report(
    reports: list[LoadReport], sources: Mapping[str, TableSource], rejected_dir
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
        rejected = sum(p.rows_rejected for p in parts)
        where = Path(rejected_dir) if rejected and rejected_dir is not None else None
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


def _months(checked: CheckedFrames | dict) -> ActivityMonths | None:
    return checked.months if isinstance(checked, CheckedFrames) else None


def _report_of(load: PartitionLoad) -> LoadReport:
    return load.report


def _tables_of(load: PartitionLoad) -> Tables:
    return load.tables


def _partition_folder(rejected_dir: Path | str | None, partition: int) -> Path | None:
    return None if rejected_dir is None else Path(rejected_dir) / f"part-{partition:05d}"
