"""A partition checked and finished as the loader does; the partitions' reports merged.

The partitions' reports and quarantine files are put together as one load's.

Each partition's rows (pipeline/data/routing.py) are concatenated in storage order and
checked by the loader's own code (:func:`pipeline.data.loader.check_frames`); once the
whole data's observation end is known, each is finished (rows after it quarantined) and
its tables assembled. While a partition waits for that end it keeps its typed frames
only, without the activity tables' ids (its customer positions say them): the rows as
read, which only the quarantine needs, are concatenated again from the routed slices at
the finish, so an executor keeping results on disk writes a partition's rows once more,
not twice. Counts add up over partitions; rules are listed in the one-partition load's
order.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.core.atomic import atomic_write_parquet
from pipeline.core.contract import Tables
from pipeline.core.errors import DataContractError
from pipeline.core.params import ValidationParams
from pipeline.data.arrow_frames import concat_pieces
from pipeline.data.loader import CheckedFrames, check_frames, finish_frames
from pipeline.data.observation import ActivityMonths, ObservationEnd
from pipeline.data.quarantine import (
    LoadReport,
    RowProblems,
    TableReport,
    by_count,
    quarantine_tables,
)
from pipeline.data.reader import TableSource
from pipeline.data.routing import table_source_rows
from pipeline.data.validation import UNKNOWN_CUSTOMER


def checked_partition(
    partition: int,
    pieces: Mapping[str, list[tuple[pd.DataFrame, np.ndarray]]],
    rules: ValidationParams,
    counts: Mapping[str, list[int]] | None = None,
) -> tuple[CheckedFrames | OrphanRows, ActivityMonths | None]:
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
        holds no customer (every activity row of it then refers to an unknown customer);
        and apart, so the observation end is decided without reading the frames back,
        the partition's active months (None without customers).

    Raises:
        DataContractError: the partition holds customers but no trades (the loader refuses
            an empty required table): use fewer partitions for so little data.
    """
    frames = partition_frames(pieces)
    source_rows = (
        None
        if counts is None
        else {name: table_source_rows(rows, counts[name]) for name, rows in pieces.items()}
    )
    if len(frames["customers"]) == 0:
        return OrphanRows(frames, source_rows), None
    if len(frames["trades"]) == 0:
        raise DataContractError(
            "trades",
            None,
            "empty table",
            f"customer partition {partition} holds {len(frames['customers'])} customers but no "
            "trades rows; with so little data set engine.partitions lower",
        )
    checked = check_frames(frames, {name: "in memory" for name in frames}, rules, source_rows)
    return waiting_frames(checked), checked.months


def partition_frames(
    pieces: Mapping[str, list[tuple[pd.DataFrame, np.ndarray]]],
) -> dict[str, pd.DataFrame]:
    """Return a partition's rows of every table as read: its pieces' rows in storage order."""
    return {name: concat_pieces([frame for frame, _ in rows]) for name, rows in pieces.items()}


def waiting_frames(checked: CheckedFrames) -> CheckedFrames:
    """Return what a checked partition keeps until the observation end is known.

    Neither its rows as read (read again from the routed slices at the finish) nor the
    activity tables' typed ``customer_id``: their customer positions say it, and the
    assembled tables take it from them (pipeline/data/assembly.py).
    """
    typed = {
        name: (frame if name == "customers" else frame.drop(columns="customer_id"), problems)
        for name, (frame, problems) in checked.typed.items()
    }
    return dataclasses.replace(checked, raw={}, typed=typed)


def finished_partition(
    checked: CheckedFrames | OrphanRows,
    pieces: Mapping[str, list[tuple[pd.DataFrame, np.ndarray]]],
    decided: ObservationEnd,
    branches: list[str],
    rejected_dir: Path | None,
) -> tuple[Tables | None, LoadReport]:
    """Quarantine a checked partition's rows (those after the whole data's end included).

    Args:
        checked: the partition's checked frames as :func:`checked_partition` keeps them.
        pieces: the routed slices it was checked from, whose rows the quarantine writes.
        decided: the whole data's observation end.
        branches: every branch of the whole data (the categories of ``customers.branch``).
        rejected_dir: folder for the partition's quarantine files; None writes none.

    Returns:
        The partition's tables (None when it holds no customer) and its load report,
        apart, so an executor can keep the large tables and the small report apart.
    """
    if not isinstance(checked, CheckedFrames):
        return None, _orphan_report(checked, rejected_dir)
    raw = partition_frames(pieces)
    typed = _with_customer_ids(checked.typed, raw)
    loaded = finish_frames(
        dataclasses.replace(checked, raw=raw, typed=typed), decided, rejected_dir, whole=False
    )
    customers = loaded.tables.customers
    if "branch" in customers:
        branch = customers["branch"].astype(pd.CategoricalDtype(branches))
        customers = customers.assign(branch=branch)
    return dataclasses.replace(loaded.tables, customers=customers), loaded.report


def _with_customer_ids(
    typed: Mapping[str, tuple[pd.DataFrame, RowProblems]], raw: Mapping[str, pd.DataFrame]
) -> dict[str, tuple[pd.DataFrame, RowProblems]]:
    """Put the activity tables' ``customer_id`` back in the column it was read in.

    Its values are the ids as read: the assembly replaces them by the customer positions'.
    """
    restored = {}
    for name, (frame, problems) in typed.items():
        if "customer_id" not in frame:
            frame = frame.copy(deep=False)
            column = raw[name].columns.get_loc("customer_id")
            frame.insert(column, "customer_id", raw[name]["customer_id"])
        restored[name] = (frame, problems)
    return restored


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

    Warnings are those every partition gave (missing optional tables); the caller adds
    the observation end's, from the whole data (pipeline/data/partitioned.py).
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
    combined.closed_after = sum(r.closed_after for r in reports)
    combined.opened_after = sum(r.opened_after for r in reports)
    return combined


def merge_partition_quarantine(
    staging: Path, rejected_dir: Path, tables: Sequence[str]
) -> dict[str, Path]:
    """Merge the partitions' quarantine files into one file per table, in input row order.

    The partitions wrote ``<staging>/part-NNNNN/<table>.parquet`` with ``source_row``
    counted in the whole table, so the merged file equals the one-partition loader's.
    Tables without rejected rows get no file (a stale one is removed), as there; the
    staging folder is removed.

    Returns:
        The quarantine file of each table that has one.
    """
    written = {}
    for table in tables:
        parts = sorted(staging.glob(f"part-*/{table}.parquet"))
        target = rejected_dir / f"{table}.parquet"
        if not parts:
            target.unlink(missing_ok=True)
            continue
        merged = concat_pieces([pd.read_parquet(part) for part in parts])
        merged = merged.sort_values("source_row", kind="stable").reset_index(drop=True)
        written[table] = atomic_write_parquet(merged, target)
    shutil.rmtree(staging, ignore_errors=True)
    return written
