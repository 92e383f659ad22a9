"""Rows of an activity table grouped by chunk of customers, computed once per table.

Customers are processed in chunks of consecutive ``customer_idx`` (customers are
sorted by id, so a chunk is a contiguous id range). Each table's rows are routed
to their chunk once: a table already ordered by ``customer_idx`` is cut with
``searchsorted`` (no copy at all); any other order is sorted by chunk number
block by block with a stable radix sort, so rows keep their input order inside a
chunk and sums come out the same whatever the chunk size.
"""

from __future__ import annotations

import numpy as np

_BLOCK_ROWS = 1 << 20


class RowPartition:
    """Which rows of one table belong to each chunk of customers."""

    def __init__(self, customer_idx: np.ndarray, chunk_customers: int, n_customers: int):
        """Route rows to chunks.

        Args:
            customer_idx: row position of each row's customer in ``customers``.
            chunk_customers: customers per chunk (params ``features.chunk_customers``).
            n_customers: number of customers.
        """
        self.n_chunks = max(1, -(-n_customers // chunk_customers))
        self._chunk = chunk_customers
        firsts = np.arange(self.n_chunks + 1, dtype=np.int64) * chunk_customers
        if _is_sorted(customer_idx):
            self._bounds = np.searchsorted(customer_idx, firsts, side="left")
            self._blocks = None
        else:
            self._bounds = None
            self._blocks = [
                _sorted_block(customer_idx, start, chunk_customers, self.n_chunks)
                for start in range(0, len(customer_idx), _BLOCK_ROWS)
            ]

    def rows(self, chunk: int) -> slice | np.ndarray:
        """Return the rows of a chunk in input order, as a slice or increasing positions."""
        if self._blocks is None:
            return slice(int(self._bounds[chunk]), int(self._bounds[chunk + 1]))
        parts = [
            start + order[bounds[chunk] : bounds[chunk + 1]].astype(np.int64)
            for start, order, bounds in self._blocks
        ]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def _is_sorted(values: np.ndarray) -> bool:
    return bool(len(values) < 2 or np.all(values[1:] >= values[:-1]))


def _sorted_block(customer_idx: np.ndarray, start: int, chunk: int, n_chunks: int):
    block = customer_idx[start : start + _BLOCK_ROWS]
    key_type = np.uint16 if n_chunks <= np.iinfo(np.uint16).max else np.int64
    keys = (block // chunk).astype(key_type)
    # numpy's stable sort of 16-bit keys is a radix sort: linear and order-preserving.
    order = np.argsort(keys, kind="stable").astype(np.int32)
    bounds = np.zeros(n_chunks + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n_chunks), out=bounds[1:])
    return start, order, bounds
