"""The feature matrix over partitions of customers: the same frame on every engine.

Per partition the executor runs the builder's first step,
:func:`features.builder.build.build_customer_features`, and summarises it with
:func:`features.builder.build.market_reference` (a small per-month histogram).
The references are added up in a tree of tasks
(:func:`features.builder.build.combine_market_references`, exact integer
counts), and the one combined reference goes to every partition, which adds its
market-relative columns with :func:`features.builder.build.apply_market_reference`.
Gathered and sorted by (as_of, customer_id), the result equals
``build_feature_matrix`` on the whole tables to the last bit, for one partition
in this process or many on a cluster.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

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
from pipeline.core.executor import Executor
from pipeline.core.params import Params
from pipeline.data.partitions import PartitionedTables
from pipeline.data.publish import part_name, staged_dataset, write_part

REFERENCE_FAN_IN = 8
"""References added per task of the combining tree."""


def feature_matrix(
    executor: Executor,
    partitioned: PartitionedTables,
    as_of: Sequence[pd.Timestamp],
    params: Params,
) -> pd.DataFrame:
    """Build every feature at each as-of month end; the frame ``build_feature_matrix`` gives.

    Args:
        executor: where the partitions run.
        partitioned: the validated tables, partitioned by customer.
        as_of: month ends (midnight).
        params: the run's params (``features``, ``rules``).

    Returns:
        One row per (customer_id, as_of) of the accounts open at each as-of, sorted by
        (as_of, customer_id), columns and dtypes as the builder's.
    """
    warn_missing_inputs_once(executor, partitioned)
    return gather_frames(executor, feature_partitions(executor, partitioned, as_of, params))


def write_feature_dataset(
    executor: Executor,
    partitioned: PartitionedTables,
    as_of: Sequence[pd.Timestamp],
    params: Params,
    out: str | Path,
) -> int:
    """Build every feature and publish it as a dataset folder, one part per partition.

    Parts arrive one at a time, so this machine never holds the whole matrix; each part
    is sorted by (as_of, customer_id), and reading every part and sorting the same way
    gives :func:`feature_matrix`. Published with a ``_SUCCESS`` marker last
    (pipeline/data/publish.py).

    Returns:
        The number of rows written.
    """
    warn_missing_inputs_once(executor, partitioned)
    frames = feature_partitions(executor, partitioned, as_of, params)
    with staged_dataset(str(out)) as staging:
        rows = 0
        for number, frame in enumerate(executor.results(frames)):
            rows += write_part(frame, f"{staging.url}/{part_name(number)}")
        staging.summary = {"rows": rows, "parts": len(frames)}
    return rows


def feature_partitions(
    executor: Executor,
    partitioned: PartitionedTables,
    as_of: Sequence[pd.Timestamp],
    params: Params,
) -> list:
    """Submit the feature build; return handles of each partition's complete feature frame."""
    months = list(as_of)
    customer_frames = [
        executor.submit(_quiet_customer_features, part, months, params)
        for part in partitioned.parts
    ]
    references = [executor.submit(market_reference, frame) for frame in customer_frames]
    reference = combined_reference(executor, references)
    return [
        executor.submit(apply_market_reference, frame, reference, params)
        for frame in customer_frames
    ]


def combined_reference(executor: Executor, references: list):
    """Add the partitions' references in a tree of tasks; return the handle of the total.

    Raises:
        ValueError: no partition holds a customer.
    """
    if not references:
        raise ValueError("no partition holds a customer")
    while len(references) > 1:
        references = [
            executor.submit(combine_market_references, references[i : i + REFERENCE_FAN_IN])
            for i in range(0, len(references), REFERENCE_FAN_IN)
        ]
    return references[0]


def gather_frames(executor: Executor, frames: list) -> pd.DataFrame:
    """Gather partition frames and order them as one build does: by (as_of, customer_id)."""
    parts = executor.gather(frames)
    if len(parts) == 1:
        return parts[0]  # one build is already in that order
    frame = pd.concat(parts, ignore_index=True)
    return frame.sort_values(["as_of", "customer_id"], kind="stable", ignore_index=True)


def warn_missing_inputs_once(executor: Executor, partitioned: PartitionedTables) -> None:
    """Warn here, once, about missing optional inputs, as the builder does.

    Every partition misses the same tables and columns, so the first one speaks for all;
    the partitions' own builds stay quiet.
    """
    if partitioned.local is not None:
        warn_missing_inputs(partitioned.local)
        return
    if not partitioned.parts:
        return
    messages = executor.gather([executor.submit(_missing_input_messages, partitioned.parts[0])])
    for message in messages[0]:
        warnings.warn(message, MissingTableWarning, stacklevel=2)


def _quiet_customer_features(tables: Tables, as_of: list, params: Params) -> pd.DataFrame:
    # Missing-input warnings are said once by the caller, not by every partition.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingTableWarning)
        return build_customer_features(tables, as_of, params)


def _missing_input_messages(tables: Tables) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_missing_inputs(tables)
    return [str(w.message) for w in caught]
