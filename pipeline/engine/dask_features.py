"""The feature matrix on a Dask cluster, equal to the local engine's to the last bit.

Per partition of customers the workers run the local builder's first step,
:func:`features.builder.build.build_customer_features`, and summarise it with
:func:`features.builder.build.market_reference` (a small per-month histogram). The
references are added up in a tree on the workers
(:func:`features.builder.build.combine_market_references`, exact integer counts), and the
one combined reference is handed to every partition, which adds its
market-relative columns with :func:`features.builder.build.apply_market_reference`.
Gathered and sorted by (as_of, customer_id), the result is the local matrix.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import pandas as pd

from features.builder.build import (
    MissingTableWarning,
    apply_market_reference,
    build_customer_features,
    combine_market_references,
    market_reference,
    warn_missing_inputs,
)
from pipeline.core.contract import Tables
from pipeline.core.params import Params
from pipeline.data.partitions import PartitionedTables, scatter_tables
from pipeline.engine.dask_cluster import partition_count

log = logging.getLogger(__name__)

REFERENCE_FAN_IN = 8
"""References added per task of the combining tree."""

T = TypeVar("T")


def build_feature_matrix_dask(
    tables_or_source: Tables | PartitionedTables | str | Path,
    as_of: Sequence[pd.Timestamp],
    params: Params,
    client,
    rejected_dir: Path | str | None = None,
) -> pd.DataFrame:
    """Build every feature on the cluster; the same frame as ``build_feature_matrix``.

    Args:
        tables_or_source: validated tables held by the client (split and scattered), tables
            already on the cluster, or a data folder / fsspec URL the workers read themselves.
        as_of: month ends (midnight).
        params: the run's params (``features``, ``rules``, ``engine``).
        client: a ``distributed.Client``.
        rejected_dir: quarantine folder when the workers read a data location.

    Returns:
        One row per (customer_id, as_of) of the accounts open at each as-of, sorted by
        (as_of, customer_id), columns and dtypes as the local builder's.
    """
    partitioned = partitioned_tables(tables_or_source, params, client, rejected_dir)
    warn_missing_inputs_once(partitioned, client)
    return with_rescatter(
        partitioned,
        client,
        params,
        lambda parts: gather_frames(feature_partitions(parts, as_of, params, client), client),
    )


def write_feature_dataset_dask(
    tables_or_source: Tables | PartitionedTables | str | Path,
    as_of: Sequence[pd.Timestamp],
    params: Params,
    client,
    out: str | Path,
    rejected_dir: Path | str | None = None,
) -> int:
    """Build every feature on the cluster and publish it as a dataset folder, never gathered.

    One ``part-NNNNN.parquet`` per partition (rows sorted by as_of, customer_id within a
    part), published with a ``_SUCCESS`` marker (pipeline/engine/publish.py): the
    output for data too large for one machine. Reading every part and sorting by
    (as_of, customer_id) gives the local matrix.

    Returns:
        The number of rows written.
    """
    from pipeline.data.publish import part_name, staged_dataset, write_part

    partitioned = partitioned_tables(tables_or_source, params, client, rejected_dir)
    warn_missing_inputs_once(partitioned, client)

    def step(parts: PartitionedTables) -> int:
        frames = feature_partitions(parts, as_of, params, client)
        with staged_dataset(str(out)) as staging:
            written = [
                client.submit(
                    write_part,
                    frame,
                    f"{staging.url}/{part_name(number)}",
                    retries=params.engine.retries,
                )
                for number, frame in enumerate(frames)
            ]
            rows = sum(client.gather(written))
            staging.summary = {"rows": rows, "parts": len(written)}
        return rows

    return with_rescatter(partitioned, client, params, step)


def partitioned_tables(
    tables_or_source: Tables | PartitionedTables | str | Path,
    params: Params,
    client,
    rejected_dir: Path | str | None = None,
) -> PartitionedTables:
    """Return the input as partitions on the cluster: scattered, as given, or read by workers."""
    if isinstance(tables_or_source, PartitionedTables):
        return tables_or_source
    n_partitions = partition_count(params.engine, client)
    if isinstance(tables_or_source, Tables):
        return scatter_tables(tables_or_source, client, n_partitions)
    from pipeline.data.partitioned import load_partitions

    return load_partitions(str(tables_or_source), params, client, n_partitions, rejected_dir)


def feature_partitions(
    partitioned: PartitionedTables, as_of: Sequence[pd.Timestamp], params: Params, client
) -> list:
    """Submit the feature build; return futures of each partition's complete feature frame."""
    retries = params.engine.retries
    months = list(as_of)
    customer_frames = [
        client.submit(_quiet_customer_features, part, months, params, retries=retries)
        for part in partitioned.parts
    ]
    references = [
        client.submit(market_reference, frame, retries=retries) for frame in customer_frames
    ]
    reference = combined_reference(references, client, retries)
    return [
        client.submit(apply_market_reference, frame, reference, params, retries=retries)
        for frame in customer_frames
    ]


def combined_reference(references: list, client, retries: int):
    """Add the partitions' references in a tree of tasks; return the future of the total."""
    while len(references) > 1:
        references = [
            client.submit(
                combine_market_references, references[i : i + REFERENCE_FAN_IN], retries=retries
            )
            for i in range(0, len(references), REFERENCE_FAN_IN)
        ]
    if not references:
        raise ValueError("no partition holds a customer")
    return references[0]


def gather_frames(frames: list, client) -> pd.DataFrame:
    """Gather partition frames and order them as the local engine does: (as_of, customer_id)."""
    parts = client.gather(frames)
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return frame.sort_values(["as_of", "customer_id"], kind="stable", ignore_index=True)


def with_rescatter(
    partitioned: PartitionedTables,
    client,
    params: Params,
    step: Callable[[PartitionedTables], T],
) -> T:
    """Run a step; when scattered partitions were lost with a worker, scatter again and rerun.

    Partitions read by the workers need no help: Dask reads lost pieces again. Tables
    scattered from the client cannot be recomputed, so the step is rerun with fresh copies,
    at most ``engine.retries`` times.
    """
    from distributed.client import FutureCancelledError

    attempts_left = params.engine.retries
    while True:
        try:
            return step(partitioned)
        except FutureCancelledError:
            if partitioned.local is None or attempts_left == 0:
                raise
            attempts_left -= 1
            log.warning("dask: scattered partitions were lost with a worker; scattering again")
            partitioned = scatter_tables(partitioned.local, client, partitioned.n_partitions)


def _quiet_customer_features(tables: Tables, as_of: list, params: Params) -> pd.DataFrame:
    # Missing-input warnings are the client's to show (once), not every worker's log.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_customer_features(tables, as_of, params)


def warn_missing_inputs_once(partitioned: PartitionedTables, client) -> None:
    """Warn on the client, once, as the local builder does about missing optional inputs.

    Every partition misses the same tables and columns, so the first one speaks for all.
    """
    if partitioned.local is not None:
        warn_missing_inputs(partitioned.local)
        return
    if not partitioned.parts:
        return
    for message in client.submit(_missing_input_messages, partitioned.parts[0]).result():
        warnings.warn(message, MissingTableWarning, stacklevel=2)


def _missing_input_messages(tables: Tables) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_missing_inputs(tables)
    return [str(w.message) for w in caught]
