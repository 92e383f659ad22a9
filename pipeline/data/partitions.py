"""Customers are the unit of distribution: every row of a customer lands in one partition.

A customer's partition is a 64-bit hash of its ``customer_id`` text (UTF-8 bytes,
pipeline/data/hashing.py) modulo the number of partitions: the same on every
machine, process and run, unlike Python's salted ``hash``. Partitions are subsets
of customers; within a partition customers stay sorted by id and activity rows
keep their input order, so every feature builder sees exactly the rows the local engine gives it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.core.contract import ACTIVITY_TABLES, Tables
from pipeline.core.executor import Executor
from pipeline.data.hashing import text_hashes
from pipeline.data.quarantine import LoadReport


@dataclass
class PartitionedTables:
    """Validated tables partitioned by customer, one executor handle of :class:`Tables` each.

    Attributes:
        parts: handles of the non-empty partitions' tables, by partition number.
        n_partitions: the number of partitions customers were hashed into.
        observation_end: the whole data's observation end.
        report: the load report when the tables were read from files, else None.
        local: the tables held here when they were partitioned from memory, else None.
    """

    parts: list
    n_partitions: int
    observation_end: pd.Timestamp | None
    report: LoadReport | None = None
    local: Tables | None = field(default=None, repr=False)


def partition_tables(tables: Tables, executor: Executor, n_partitions: int) -> PartitionedTables:
    """Split tables held here into partitions and hand each to the executor.

    One partition is the tables themselves. On a cluster, data handed over lives only
    on the workers: a lost worker loses its partitions, and the step that needed them
    fails (the Dask engine then partitions again and reruns the step).
    """
    if n_partitions == 1:
        parts = executor.scatter([tables])
    else:
        parts = executor.scatter([part for _, part in split_tables(tables, n_partitions)])
    return PartitionedTables(parts, n_partitions, tables.observation_end, None, tables)


def customer_partitions(customer_ids, n_partitions: int) -> np.ndarray:
    """Return each id's partition, ``0 .. n_partitions - 1`` (int32); a missing id goes with "".

    Args:
        customer_ids: ids as text (the loader's ``customer_id``): a Series, an array of
            strings or an Arrow array.
        n_partitions: number of partitions (at least 1).
    """
    if n_partitions < 1:
        raise ValueError(f"n_partitions must be at least 1, not {n_partitions}")
    return (text_hashes(customer_ids) % np.uint64(n_partitions)).astype(np.int32)


def partition_order(partition: np.ndarray, n_partitions: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the row order grouping rows by partition (input order kept within each) and bounds.

    Rows of partition ``p`` are ``order[bounds[p]:bounds[p + 1]]``.
    """
    keys = partition.astype(np.uint16) if n_partitions <= 1 << 16 else partition
    # numpy's stable sort of 16-bit keys is a radix sort: linear and order-preserving.
    order = np.argsort(keys, kind="stable")
    bounds = np.zeros(n_partitions + 1, dtype=np.int64)
    np.cumsum(np.bincount(partition, minlength=n_partitions), out=bounds[1:])
    return order, bounds


def split_tables(tables: Tables, n_partitions: int) -> Iterator[tuple[int, Tables]]:
    """Split validated tables by customer partition; yield ``(partition, tables)`` if not empty.

    Each part is what the loader would return for that partition's customers alone:
    customers sorted by id, activity rows in input order with ``customer_idx`` renumbered
    to the part's customers, the same ``observation_end`` and missing tables. A text
    ``branch`` becomes a categorical over the whole table's branches, so every part
    builds the same branch categories.

    Args:
        tables: validated tables (pipeline.data.loader).
        n_partitions: number of partitions.
    """
    customers = _with_global_branches(tables.customers)
    partition_of = customer_partitions(customers["customer_id"], n_partitions)
    order, bounds = partition_order(partition_of, n_partitions)
    # Customers are sorted by id, so each partition's customers stay sorted.
    local_idx = np.empty(len(customers), dtype=np.int32)
    local_idx[order] = np.arange(len(customers)) - np.repeat(bounds[:-1], np.diff(bounds))
    activity = {
        name: _grouped_activity(tables.table(name), partition_of, n_partitions)
        for name in ACTIVITY_TABLES
        if tables.table(name) is not None
    }
    for partition in np.flatnonzero(np.diff(bounds)):
        members = order[bounds[partition] : bounds[partition + 1]]
        part_customers = customers.take(members).reset_index(drop=True)
        id_dtype = pd.CategoricalDtype(pd.Index(part_customers["customer_id"]))
        rows = {
            name: _part_activity(frame, row_bounds, partition, local_idx, id_dtype)
            for name, (frame, row_bounds) in activity.items()
        }
        yield int(partition), dataclasses.replace(tables, customers=part_customers, **rows)


def _grouped_activity(frame: pd.DataFrame, partition_of: np.ndarray, n_partitions: int):
    """Return the table's rows grouped by partition (input order within each) and the bounds."""
    order, bounds = partition_order(partition_of[frame["customer_idx"].to_numpy()], n_partitions)
    return frame.take(order), bounds


def _part_activity(
    grouped: pd.DataFrame,
    bounds: np.ndarray,
    partition: int,
    local_idx: np.ndarray,
    id_dtype: pd.CategoricalDtype,
) -> pd.DataFrame:
    """Return one partition's rows with customer_idx renumbered to its own customers."""
    rows = grouped.iloc[bounds[partition] : bounds[partition + 1]]
    codes = local_idx[rows["customer_idx"].to_numpy()]
    customer_id = pd.Categorical.from_codes(codes, dtype=id_dtype, validate=False)
    return rows.assign(customer_id=customer_id, customer_idx=codes).reset_index(drop=True)


def _with_global_branches(customers: pd.DataFrame) -> pd.DataFrame:
    if "branch" not in customers or isinstance(customers["branch"].dtype, pd.CategoricalDtype):
        return customers
    return customers.assign(branch=customers["branch"].astype("category"))
