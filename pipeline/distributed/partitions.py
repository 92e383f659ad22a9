"""Customers are the unit of distribution: every row of a customer lands in one partition.

A customer's partition is a keyed SipHash of its ``customer_id`` text (UTF-8)
modulo the number of partitions: the same on every machine, process and run,
unlike Python's salted ``hash``. Partitions are subsets of customers; within a
partition customers stay sorted by id and activity rows keep their input order,
so every feature builder sees exactly the rows the local engine gives it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pandas as pd

from pipeline.contract import ACTIVITY_TABLES, Tables

HASH_KEY = "churn-partitions"
"""SipHash key (16 bytes). Changing it moves customers between partitions, nothing else."""


def customer_partitions(customer_ids: pd.Series | np.ndarray, n_partitions: int) -> np.ndarray:
    """Return each id's partition, ``0 .. n_partitions - 1`` (int32); a missing id goes to 0.

    Args:
        customer_ids: ids as text (the loader's ``customer_id``).
        n_partitions: number of partitions (at least 1).
    """
    if n_partitions < 1:
        raise ValueError(f"n_partitions must be at least 1, not {n_partitions}")
    ids = pd.Series(customer_ids, copy=False).astype(object)
    text = ids.where(ids.notna(), "").to_numpy(dtype=object)
    hashes = pd.util.hash_array(text, hash_key=HASH_KEY, categorize=True)
    return (hashes % np.uint64(n_partitions)).astype(np.int32)


def split_tables(tables: Tables, n_partitions: int) -> Iterator[tuple[int, Tables]]:
    """Split validated tables by customer partition; yield ``(partition, tables)`` for non-empty ones.

    Each part is what the loader would return for that partition's customers alone:
    customers sorted by id, activity rows in input order with ``customer_idx`` renumbered
    to the part's customers, the same ``observation_end`` and missing tables. A text
    ``branch`` becomes a categorical over the whole table's branches, so every part
    builds the same branch categories.

    Args:
        tables: validated tables (pipeline.loader).
        n_partitions: number of partitions.
    """
    customers = _with_global_branches(tables.customers)
    partition_of = customer_partitions(customers["customer_id"], n_partitions)
    for partition in np.unique(partition_of):
        members = partition_of == partition
        yield int(partition), _part(tables, customers, members)


def _part(tables: Tables, customers: pd.DataFrame, members: np.ndarray) -> Tables:
    local_idx = np.cumsum(members, dtype=np.int64) - 1
    part_customers = customers[members].reset_index(drop=True)
    id_dtype = pd.CategoricalDtype(pd.Index(part_customers["customer_id"]))
    activity = {
        name: _part_activity(tables.table(name), members, local_idx, id_dtype)
        for name in ACTIVITY_TABLES
        if tables.table(name) is not None
    }
    return dataclasses.replace(tables, customers=part_customers, **activity)


def _part_activity(
    frame: pd.DataFrame, members: np.ndarray, local_idx: np.ndarray, id_dtype: pd.CategoricalDtype
) -> pd.DataFrame:
    """Keep the rows of the part's customers (input order); renumber their customer_idx."""
    customer_idx = frame["customer_idx"].to_numpy()
    rows = members[customer_idx]
    codes = local_idx[customer_idx[rows]].astype(np.int32)
    customer_id = pd.Categorical.from_codes(codes, dtype=id_dtype, validate=False)
    return frame[rows].assign(customer_id=customer_id, customer_idx=codes).reset_index(drop=True)


def _with_global_branches(customers: pd.DataFrame) -> pd.DataFrame:
    if "branch" not in customers or isinstance(customers["branch"].dtype, pd.CategoricalDtype):
        return customers
    return customers.assign(branch=customers["branch"].astype("category"))
