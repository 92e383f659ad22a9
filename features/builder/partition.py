"""Rows of an activity table grouped by chunk of customers, computed once per table.

Customers are processed in chunks of consecutive ``customer_idx`` (customers are
sorted by id, so a chunk is a contiguous id range). Each table's rows are routed
to their chunk once, keeping input order inside a chunk (so sums come out the
same whatever the chunk size), in the cheapest way the table's order allows:

- rows in runs ordered by ``customer_idx`` (a table sorted by customer is one
  run; one exported month by month, each month sorted by customer, is one run
  per month): each run is cut with ``searchsorted``, nothing is copied;
- any other order: rows are sorted by chunk number block by block with a stable
  radix sort, and the order (4 bytes a row) is kept.
"""

from __future__ import annotations

import numpy as np

_BLOCK_ROWS = 1 << 20
_MAX_RUNS = 4096


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
        firsts = np.arange(self.n_chunks + 1, dtype=np.int64) * chunk_customers
        starts = np.concatenate([[0], np.flatnonzero(customer_idx[1:] < customer_idx[:-1]) + 1])
        self._runs: np.ndarray | None = None
        self._blocks: list | None = None
        if len(starts) <= _MAX_RUNS:
            ends = np.append(starts[1:], len(customer_idx))
            self._runs = np.stack(
                [
                    s + np.searchsorted(customer_idx[s:e], firsts)
                    for s, e in zip(starts, ends, strict=True)
                ]
            )
        else:
            self._blocks = [
                _sorted_block(customer_idx, start, chunk_customers, self.n_chunks)
                for start in range(0, len(customer_idx), _BLOCK_ROWS)
            ]

    def rows(self, chunk: int) -> slice | np.ndarray:
        """Return the rows of a chunk in input order, as a slice or increasing positions."""
        if self._runs is not None:
            lo, hi = self._runs[:, chunk], self._runs[:, chunk + 1]
            if len(lo) == 1:
                return slice(int(lo[0]), int(hi[0]))
            pieces = [np.arange(a, b) for a, b in zip(lo, hi, strict=True) if b > a]
            return np.concatenate(pieces) if pieces else np.empty(0, dtype=np.int64)
        parts = [
            start + order[bounds[chunk] : bounds[chunk + 1]].astype(np.int64)
            for start, order, bounds in self._blocks
        ]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def _sorted_block(customer_idx: np.ndarray, start: int, chunk: int, n_chunks: int):
    block = customer_idx[start : start + _BLOCK_ROWS]
    key_type = np.uint16 if n_chunks <= np.iinfo(np.uint16).max else np.int64
    keys = (block // chunk).astype(key_type)
    # numpy's stable sort of 16-bit keys is a radix sort: linear and order-preserving.
    order = np.argsort(keys, kind="stable").astype(np.int32)
    bounds = np.zeros(n_chunks + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n_chunks), out=bounds[1:])
    return start, order, bounds
