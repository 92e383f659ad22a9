"""The local engine: every function run in this process, on one partition or several on disk.

With ``engine.partitions`` null or 1 the tables are read whole
(:func:`pipeline.data.loader.load_tables`) and form one partition in memory.
With N above 1 the files are read in pieces, each customer's rows routed to one
of N partitions and checked there, exactly as the Dask engine's workers do
(pipeline/data/partitioned.py), with every large intermediate result on disk:
one call at a time in this process (pipeline/engine/spill.py), or side by side
in ``engine.n_workers`` worker processes (pipeline/engine/pool.py). Memory holds
one partition's working set per worker, so a book larger than memory can be
scored, and with null ``engine.partitions`` the partitions are cut so the
workers together hold about ``engine.partition_rows`` input rows. The
quarantine files are merged back into ``<rejected>/<table>.parquet`` with the
same rows, reasons and ``source_row`` as the one-partition load.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pyarrow as pa

from pipeline.core.contract import SCHEMAS, Tables
from pipeline.core.errors import ChurnError, DataContractError
from pipeline.core.executor import InProcessExecutor
from pipeline.core.params import Params
from pipeline.data.loader import check_folders, load_tables
from pipeline.data.partition_checks import merge_partition_quarantine
from pipeline.data.partitioned import load_partitions
from pipeline.data.partitions import PartitionedTables, partition_tables
from pipeline.data.reader import stored_rows, table_sources
from pipeline.engine.pool import PoolExecutor
from pipeline.engine.spill import SpillingExecutor, remove_stale_folders

T = TypeVar("T")


class LocalEngine:
    """Runs every partition function at once in this process (``engine.kind: local``)."""

    def __init__(
        self,
        n_partitions: int | None = 1,
        partition_rows: int | None = None,
        spill_dir: Path | str | None = None,
        workers: int = 1,
    ):
        """Run on one partition in memory, or on several kept on disk.

        Args:
            n_partitions: customer partitions (``engine.partitions``); None: one per
                ``partition_rows`` stored input rows, decided when the data are loaded.
            partition_rows: input rows per partition when ``n_partitions`` is None
                (``engine.partition_rows``; None: always one partition).
            spill_dir: where partitions wait (None: the system's temporary folder).
            workers: processes working on partitions side by side (``engine.n_workers``),
                at most one per partition and per available core; 1: all in this process.
        """
        self.partition_rows = partition_rows if n_partitions is None else None
        self.spill_dir = spill_dir
        self.max_workers = workers
        self.stale_removed: list[Path] = []  # spill folders left by killed runs, removed
        self.n_partitions = 1
        self.executor: InProcessExecutor | SpillingExecutor | PoolExecutor = InProcessExecutor()
        self._use(n_partitions or 1)

    @property
    def workers(self) -> int:
        """Processes working on the partitions (1: this one)."""
        return self.executor.workers if isinstance(self.executor, PoolExecutor) else 1

    def _use(self, n_partitions: int) -> None:
        workers = workers_for(n_partitions, self.max_workers)
        if n_partitions == self.n_partitions and workers == self.workers:
            return  # partitions of an earlier load stay readable
        self.close()
        self.n_partitions = n_partitions
        if n_partitions > 1:
            self.stale_removed += remove_stale_folders(self.spill_dir)
        if n_partitions == 1:
            self.executor = InProcessExecutor()
        elif workers == 1:
            self.executor = SpillingExecutor(self.spill_dir)
        else:
            self.executor = PoolExecutor(workers, self.spill_dir)

    def close(self) -> None:
        """Stop the workers; remove the partitions waiting on disk."""
        if not isinstance(self.executor, InProcessExecutor):
            self.executor.close()

    def load(
        self, data: Path | str, params: Params, rejected_dir: Path | str | None
    ) -> PartitionedTables:
        """Read and check the tables: whole, or routed to partitions on disk."""
        if self.partition_rows is not None:
            workers = usable_workers(self.max_workers)
            self._use(partitions_for(data, self.partition_rows, workers))
        if self.n_partitions == 1:
            loaded = load_tables(data, params, rejected_dir)
            partitioned = self.partition(loaded.tables)
            partitioned.report = loaded.report
            return partitioned
        return self._load_partitions(data, params, rejected_dir)

    def _load_partitions(
        self, data: Path | str, params: Params, rejected_dir: Path | str | None
    ) -> PartitionedTables:
        started = time.perf_counter()
        check_folders(data, rejected_dir)
        if rejected_dir is None:
            partitioned = load_partitions(str(data), params, self.executor, self.n_partitions)
            return self._reported(partitioned, started)
        folder = Path(rejected_dir)
        existed = folder.exists()
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".partitions-", dir=folder))
        files = {name: folder / f"{name}.parquet" for name in SCHEMAS}
        try:
            partitioned = load_partitions(
                str(data), params, self.executor, self.n_partitions, staging, files
            )
        except DataContractError:  # refused: the quarantine is written, as one-partition
            _publish_quarantine(staging, folder, existed)
            raise
        except BaseException:  # interrupted or failed: no partial quarantine is left
            shutil.rmtree(staging, ignore_errors=True)
            _remove_if_empty(folder, existed)
            raise
        _publish_quarantine(staging, folder, existed)
        return self._reported(partitioned, started)

    def _reported(self, partitioned: PartitionedTables, started: float) -> PartitionedTables:
        partitioned.report.seconds = time.perf_counter() - started
        at_a_time = (
            "one in memory at a time"
            if self.workers == 1
            else f"{self.workers} at a time in worker processes (engine.n_workers)"
        )
        stale = self.stale_removed
        partitioned.report.layout = (
            f"held as {self.n_partitions} customer partitions on disk in "
            f"{self.executor.folder.parent} (engine.partitions), {at_a_time}"
            + (f"; removed {len(stale)} spill folder(s) left by killed runs" if stale else "")
        )
        return partitioned

    def partition(self, tables: Tables) -> PartitionedTables:
        """Return the tables as the engine's partitions."""
        return partition_tables(tables, self.executor, self.n_partitions)

    def run(self, step: Callable[[PartitionedTables], T], partitioned: PartitionedTables) -> T:
        """Run the step; nothing here can be lost."""
        return step(partitioned)


def _publish_quarantine(staging: Path, folder: Path, existed: bool) -> None:
    """Merge the partitions' quarantine files into one per table; no rejected rows, no folder."""
    merge_partition_quarantine(staging, folder, tuple(SCHEMAS))
    _remove_if_empty(folder, existed)


def _remove_if_empty(folder: Path, existed: bool) -> None:
    if not existed and folder.exists() and not any(folder.iterdir()):
        folder.rmdir()  # nothing rejected: no folder, as the one-partition load


def workers_for(n_partitions: int, workers: int) -> int:
    """Return the worker processes for ``n_partitions``: one per partition and core at most."""
    return 1 if n_partitions == 1 else min(usable_workers(workers), n_partitions)


def usable_workers(workers: int) -> int:
    """Return ``workers`` (``engine.n_workers``) capped by the cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))  # its CPU affinity where the system has one
    else:
        cores = os.cpu_count() or 1
    return max(1, min(workers, cores))


def partitions_for(data: Path | str, partition_rows: int, workers: int = 1) -> int:
    """Return how many partitions hold ``partition_rows`` stored input rows at a time.

    Up to ``partition_rows`` rows the tables stay whole (one partition). Above, the
    ``workers`` processes together hold about ``partition_rows`` rows: each partition
    gets ``partition_rows / workers``, so more workers cost time, not memory.

    A folder that is not a readable data folder gets one: the one-partition load then
    refuses it with its own clear message.
    """
    try:
        rows = sum(stored_rows(source) for source in table_sources(str(data)).values())
    except (ChurnError, OSError, ValueError, pa.ArrowException):
        return 1
    if rows <= partition_rows:
        return 1
    return max(2, math.ceil(rows * workers / partition_rows))
