"""The local engine: the tables read in this process, one partition, every function run here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pipeline.core.contract import Tables
from pipeline.core.executor import InProcessExecutor
from pipeline.core.params import Params
from pipeline.data.loader import load_tables
from pipeline.data.partitions import PartitionedTables, partition_tables

T = TypeVar("T")


class LocalEngine:
    """Runs every partition function at once in this process (``engine.kind: local``)."""

    def __init__(self):
        self.executor = InProcessExecutor()

    def load(
        self, data: Path | str, params: Params, rejected_dir: Path | str | None
    ) -> PartitionedTables:
        """Read and check the tables with :func:`pipeline.data.loader.load_tables`."""
        loaded = load_tables(data, params, rejected_dir)
        partitioned = self.partition(loaded.tables)
        partitioned.report = loaded.report
        return partitioned

    def partition(self, tables: Tables) -> PartitionedTables:
        """Return the tables as one partition."""
        return partition_tables(tables, self.executor, 1)

    def run(self, step: Callable[[PartitionedTables], T], partitioned: PartitionedTables) -> T:
        """Run the step; nothing here can be lost."""
        return step(partitioned)
