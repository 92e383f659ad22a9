"""Load a data location in partitions: read in pieces, route rows to partitions, validate.

Run on a cluster (the Dask engine) or one call at a time with the partitions on
disk (the local engine, pipeline/engine/spill.py). The shuffle happens here, once
per run: every read task reads one piece of a table and splits its rows by
customer partition (pipeline/data/routing.py), keeping their order; every
partition task concatenates its rows from all pieces in storage order and runs
the loader's own checks (pipeline/data/partition_checks.py). A
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

from collections.abc import Mapping
from pathlib import Path

from pipeline.core.errors import DataContractError
from pipeline.core.executor import Executor
from pipeline.core.params import Params
from pipeline.data.loader import shadowed_warnings, unread_warnings
from pipeline.data.observation import (
    ActivityMonths,
    decide_observation_end,
    observation_end_warnings,
)
from pipeline.data.partition_checks import (
    checked_partition,
    combined_report,
    finished_partition,
)
from pipeline.data.partitions import PartitionedTables
from pipeline.data.quarantine import check_rejected_share
from pipeline.data.reader import table_sources
from pipeline.data.routing import branch_categories, routed_table


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
    routed = {
        name: routed_table(source, n_partitions, executor) for name, source in sources.items()
    }
    branches = executor.submit(branch_categories, routed["customers"]["branches"])
    counts = {name: table["counts"] for name, table in routed.items()}
    # Per partition: its routed slices, its checked frames and, apart, its active months.
    # The slices are kept until the partition is finished (its quarantine writes their rows
    # as read); the checked frames hold the typed rows only.
    pieces, checked, active = [], [], []
    for partition in range(n_partitions):
        pieces.append({name: _taken(table["rows"], partition) for name, table in routed.items()})
        frames, months = executor.submit_parts(
            checked_partition, 2, partition, pieces[-1], params.validation, counts
        )
        checked.append(frames)
        active.append(months)
    months = [m for m in executor.gather(active) if m]
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
                finished_partition,
                2,
                _taken(checked, number),
                _taken(pieces, number),
                decided,
                branches,
                folder,
            )
        )
    reports = executor.gather([report for _, report in loads])
    report = combined_report(reports, sources, rejected_dir, quarantine_files)
    check_rejected_share(report.tables, params.validation.max_rejected_share)
    report.observation_end, report.observation_rule = decided.end, decided.rule
    report.warnings += observation_end_warnings(
        decided, total, report.closed_after, report.opened_after
    )
    report.warnings += shadowed_warnings(sources) + unread_warnings(data_url)
    parts = [
        tables
        for (tables, _), part_report in zip(loads, reports, strict=True)
        if part_report.observation_end is not None
    ]
    return PartitionedTables(parts, n_partitions, decided.end, report)


def _taken(handles: list, number: int):
    """Return a handle and drop it from its list (nothing else needs it)."""
    handle, handles[number] = handles[number], None
    return handle


def _partition_folder(rejected_dir: Path | str | None, partition: int) -> Path | None:
    return None if rejected_dir is None else Path(rejected_dir) / f"part-{partition:05d}"
