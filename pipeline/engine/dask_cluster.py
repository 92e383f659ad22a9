"""The Dask cluster a run uses: a scheduler's address, or a LocalCluster started for the run.

Scripts that start a LocalCluster must do so under ``if __name__ == "__main__":``
(worker processes re-import the main module; "Nanny failed to start" otherwise).
The `churn` command is such an entry point.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from pipeline.core.errors import ChurnError
from pipeline.core.params import EngineParams

log = logging.getLogger(__name__)

PARTITIONS_PER_WORKER = 4
"""Customer partitions per worker when ``engine.partitions`` is null."""


@contextlib.contextmanager
def dask_client(engine: EngineParams) -> Iterator:
    """Yield a ``distributed.Client``; close on exit whatever this function started.

    Args:
        engine: params.yaml ``engine:``. With ``scheduler_address`` the client connects to
            that scheduler (and leaves it running); without it a LocalCluster of
            ``n_workers`` processes x ``threads_per_worker`` threads, ``worker_memory`` each,
            is started and stopped with the client.

    Raises:
        ChurnError: dask.distributed is not installed, or the scheduler cannot be reached.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ChurnError(
            "engine.kind dask needs dask.distributed: pip install 'brokerage-churn[dask]'"
        ) from None
    if engine.scheduler_address:
        try:
            client = Client(engine.scheduler_address, timeout="30s")
        except OSError as exc:
            raise ChurnError(
                f"cannot reach the Dask scheduler at {engine.scheduler_address}: {exc}"
            ) from None
        log.info("dask: connected to %s (%d workers)", engine.scheduler_address, workers(client))
        with client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=engine.n_workers,
            threads_per_worker=engine.threads_per_worker,
            processes=True,
            memory_limit=engine.worker_memory,
            # Any free port, and no dashboard: runs side by side must not fight for 8787.
            dashboard_address=":0",
            scheduler_kwargs={"dashboard": False},
        ) as cluster,
        Client(cluster) as client,
    ):
        log.info(
            "dask: LocalCluster of %d workers x %d threads",
            engine.n_workers,
            engine.threads_per_worker,
        )
        yield client


def workers(client) -> int:
    """Return the number of workers the scheduler knows now."""
    return len(client.scheduler_info()["workers"])


def partition_count(engine: EngineParams, client) -> int:
    """Return ``engine.partitions``, else :data:`PARTITIONS_PER_WORKER` per worker."""
    if engine.partitions is not None:
        return engine.partitions
    return PARTITIONS_PER_WORKER * max(workers(client), 1)
