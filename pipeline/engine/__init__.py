"""Engines: where each command's partitions of customers run, and how they come back.

Every command's work is written once, against the executor of
pipeline/core/executor.py: feature matrices (pipeline/cohorts/matrix.py),
training cohorts (pipeline/cohorts/cohorts.py, pipeline/training/fit.py) and
scoring (pipeline/scoring/job.py). An engine supplies the executor and decides
only how the data become partitions and what happens when a partition is lost:

- the local engine (``engine.kind: local``, local.py) reads the tables in this
  process and runs one partition here, or, for a large book, keeps partitions on
  disk and works on them one at a time here (spill.py) or side by side in
  ``engine.n_workers`` worker processes (pool.py);
- the Dask engine (``engine.kind: dask``, dask_engine.py) has the workers read
  the files in pieces and hash-partition customers (pipeline/data/partitioned.py),
  runs the same functions as tasks on a LocalCluster or a scheduler's cluster, and
  trains LightGBM with ``lightgbm.dask`` when the cohorts are too large to gather.

:func:`open_engine` is the only place that reads ``engine.kind``. See
docs/architecture.md and docs/scaling.md.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, TypeVar

from pipeline.core.contract import Tables
from pipeline.core.errors import ChurnError
from pipeline.core.executor import Executor
from pipeline.core.params import EngineParams, Params
from pipeline.data.partitions import PartitionedTables
from pipeline.engine.local import LocalEngine

T = TypeVar("T")

__all__ = ["Engine", "LocalEngine", "open_engine"]


class Engine(Protocol):
    """Turns data into partitions and runs work on them with its executor."""

    executor: Executor

    def load(
        self, data: Path | str, params: Params, rejected_dir: Path | str | None
    ) -> PartitionedTables:
        """Read, check and partition a data folder or URL (the report rides along)."""

    def partition(self, tables: Tables) -> PartitionedTables:
        """Partition tables already held in this process."""

    def run(self, step: Callable[[PartitionedTables], T], partitioned: PartitionedTables) -> T:
        """Run a step over the partitions, partitioning again if some were lost."""


@contextlib.contextmanager
def open_engine(engine: EngineParams) -> Iterator[Engine]:
    """Yield the engine params.yaml ``engine:`` asks for; release what it started on exit.

    Raises:
        ChurnError: the Dask engine is asked for but dask.distributed is not installed,
            or its scheduler cannot be reached.
    """
    if engine.kind == "local":
        local = LocalEngine(
            engine.partitions, engine.partition_rows, engine.spill_dir, engine.n_workers
        )
        try:
            yield local
        finally:
            local.close()
        return
    try:  # imported only when asked for: dask is an optional extra
        from pipeline.engine.dask_engine import dask_engine
    except ImportError:
        raise ChurnError(
            "engine.kind dask needs dask.distributed: pip install 'brokerage-churn[dask]'"
        ) from None

    with dask_engine(engine) as opened:
        yield opened
