"""The Dask engine: partitions of customers as tasks on a LocalCluster or a scheduler's cluster.

The workers read the input files in pieces and route each customer's rows to
its partition (pipeline/data/partitioned.py); every function of a command's
work runs as a task with ``engine.retries`` retries, and results travel back
only where a reduction needs them. Tables partitioned from this process live
only on the workers: when a worker is lost, :meth:`DaskEngine.run` partitions
them again and reruns the step. See docs/scaling.md.
"""

from __future__ import annotations

import contextlib
import logging
import operator
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from distributed.client import FutureCancelledError

from pipeline.core.contract import Tables
from pipeline.core.errors import ChurnError
from pipeline.core.params import EngineParams, Params
from pipeline.data.locations import same_folder
from pipeline.data.partitioned import load_partitions
from pipeline.data.partitions import PartitionedTables, partition_tables
from pipeline.engine.dask_cluster import dask_client, partition_count
from pipeline.engine.dask_training import fit_lightgbm_dask

log = logging.getLogger(__name__)

T = TypeVar("T")


class DaskExecutor:
    """Submits every function as a task of a ``distributed.Client``."""

    in_process = False

    def __init__(self, client, retries: int = 0, gather_max_rows: int | None = None):
        """Wrap a client.

        Args:
            client: a ``distributed.Client``.
            retries: reruns of a failed task (``engine.retries``).
            gather_max_rows: most training rows gathered to the client
                (``engine.gather_max_rows``); above it LightGBM trains on the workers.
        """
        self.client = client
        self.retries = retries
        self.gather_max_rows = gather_max_rows

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any):
        """Submit a task (never deduplicated: the same file may hold other rows next time)."""
        return self.client.submit(fn, *args, retries=self.retries, pure=False, **kwargs)

    def submit_parts(self, fn: Callable[..., Any], n_parts: int, *args: Any, **kwargs: Any):
        """Submit ``fn`` and one small task per part it returns (the parts stay on the workers)."""
        whole = self.submit(fn, *args, **kwargs)
        return [self.submit(operator.getitem, whole, part) for part in range(n_parts)]

    def share(self, value: Any):
        """Return a future of ``value`` that Dask recomputes if its worker is lost.

        Unlike ``client.scatter``, the value travels once inside a task, so the scheduler
        can run that task again; dependants fetch it from the worker holding it.
        """
        return self.client.submit(_same, value, pure=False)

    def scatter(self, values: Sequence[Any]) -> list:
        """Send large values to the workers (lost with their worker; see DaskEngine.run)."""
        return [self.client.scatter(value, hash=False) for value in values]

    def gather(self, handles: Sequence[Any]) -> list[Any]:
        """Return the results of ``handles``, in order."""
        return self.client.gather(list(handles))

    def results(self, handles: Sequence[Any]) -> Iterator[Any]:
        """Yield results one at a time, in order, while the later ones still compute."""
        for handle in handles:
            yield handle.result()

    def fit_lightgbm(self, cohorts, columns: Sequence[str], model):
        """Train LightGBM on the workers with ``lightgbm.dask`` (dask_training.py)."""
        return fit_lightgbm_dask(cohorts, columns, model, self)


class DaskEngine:
    """Reads, partitions and runs on a Dask cluster (``engine.kind: dask``)."""

    def __init__(self, client, engine: EngineParams):
        """Use a connected client with the settings of params.yaml ``engine:``."""
        self.client = client
        self.settings = engine
        self.executor = DaskExecutor(client, engine.retries, engine.gather_max_rows)
        self.n_partitions = partition_count(engine, client)

    def load(
        self, data: Path | str, params: Params, rejected_dir: Path | str | None
    ) -> PartitionedTables:
        """Have the workers read, route and check the tables (pipeline/data/partitioned.py)."""
        if rejected_dir is not None and same_folder(rejected_dir, data):
            raise ChurnError(f"the quarantine folder must not be the data folder ({data})")
        return load_partitions(str(data), params, self.executor, self.n_partitions, rejected_dir)

    def partition(self, tables: Tables) -> PartitionedTables:
        """Hash-partition tables held here by customer and send the parts to the workers."""
        return partition_tables(tables, self.executor, self.n_partitions)

    def run(self, step: Callable[[PartitionedTables], T], partitioned: PartitionedTables) -> T:
        """Run a step; when partitions sent from here were lost with a worker, send and rerun.

        Partitions the workers read need no help: Dask reads lost pieces again. Tables
        sent from this process cannot be recomputed, so the step is rerun with fresh
        copies, at most ``engine.retries`` times.
        """
        attempts_left = self.settings.retries
        while True:
            try:
                return step(partitioned)
            except FutureCancelledError:
                if partitioned.local is None or attempts_left == 0:
                    raise
                attempts_left -= 1
                log.warning("dask: partitions were lost with a worker; partitioning again")
                partitioned = self.partition(partitioned.local)


@contextlib.contextmanager
def dask_engine(engine: EngineParams) -> Iterator[DaskEngine]:
    """Yield a :class:`DaskEngine` on the cluster params.yaml ``engine:`` names."""
    with dask_client(engine) as client:
        yield DaskEngine(client, engine)


def _same(value):
    return value
