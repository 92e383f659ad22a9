"""Customer chunks: the validated tables cut into contiguous ranges of customers.

Customers are sorted by id, so a chunk is an id range. Each activity table's rows
are routed to their chunk once (:class:`features.builder.partition.RowPartition`, rows
keep their input order inside a chunk); a chunk's tables are then a copy of its
rows only, with ``customer_idx`` renumbered from 0. Building features on a chunk
gives exactly that chunk's rows of the whole build (features/builder/build.py), so the
scoring job's working set is bounded by the chunk size.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.builder.partition import RowPartition
from pipeline.core.contract import ACTIVITY_TABLES, Tables


@dataclass(frozen=True)
class CustomerChunks:
    """The tables of a run split into chunks of ``size`` consecutive customers."""

    tables: Tables
    size: int
    partitions: dict[str, RowPartition]

    @property
    def n_customers(self) -> int:
        """Customers in the whole run."""
        return len(self.tables.customers)

    @property
    def n_chunks(self) -> int:
        """Number of chunks (at least one)."""
        return max(1, -(-self.n_customers // self.size))

    def bounds(self, chunk: int) -> tuple[int, int]:
        """Return the first customer position of a chunk and one past its last."""
        lo = chunk * self.size
        return lo, min(lo + self.size, self.n_customers)

    def tables_of(self, chunk: int) -> Tables:
        """Return the tables of one chunk's customers (activity rows in input order).

        A chunk of every customer is the tables themselves, not a copy of them.
        """
        lo, hi = self.bounds(chunk)
        if lo == 0 and hi == self.n_customers:
            return self.tables
        customers = self.tables.customers.iloc[lo:hi].reset_index(drop=True)
        ids = pd.CategoricalDtype(pd.Index(customers["customer_id"]))
        activity = {
            name: _chunk_rows(self.tables.table(name), self.partitions[name].rows(chunk), lo, ids)
            for name in self.partitions
        }
        return dataclasses.replace(self.tables, customers=customers, **activity)


def customer_chunks(tables: Tables, size: int) -> CustomerChunks:
    """Route every activity table's rows to chunks of ``size`` consecutive customers.

    Args:
        tables: validated tables (pipeline.data.loader), customers sorted by id.
        size: customers per chunk (params ``scoring.chunk_customers``).
    """
    n = len(tables.customers)
    partitions = {
        name: RowPartition(tables.table(name)["customer_idx"].to_numpy(np.int32), size, n)
        for name in ACTIVITY_TABLES
        if tables.table(name) is not None
    }
    return CustomerChunks(tables, size, partitions)


def _chunk_rows(
    frame: pd.DataFrame, rows: slice | np.ndarray, lo: int, ids: pd.CategoricalDtype
) -> pd.DataFrame:
    """Return a chunk's rows with ``customer_idx`` (and the id codes) counted from the chunk."""
    part = frame.iloc[rows]
    local = part["customer_idx"].to_numpy(np.int32) - np.int32(lo)
    customer_id = pd.Categorical.from_codes(local, dtype=ids, validate=False)
    return part.assign(customer_id=customer_id, customer_idx=local).reset_index(drop=True)
