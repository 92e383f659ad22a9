"""Routing rows to chunks of customers: every layout gives each chunk its rows in input order."""

import numpy as np
import pytest

from features.builder.partition import RowPartition


def _expected(customer_idx, chunk, k):
    return np.flatnonzero(customer_idx // chunk == k)


def _layouts(rng, n_customers):
    per_month = [np.sort(rng.integers(0, n_customers, 300)) for _ in range(12)]
    return {
        "sorted by customer": np.sort(rng.integers(0, n_customers, 3000)),
        "month by month, each sorted": np.concatenate(per_month),  # 12 runs
        "any order": rng.integers(0, n_customers, 20_000),  # thousands of runs: radix sort
        "empty": np.empty(0, dtype=np.int64),
    }


@pytest.mark.parametrize("chunk", [1, 7, 50, 1000])
def test_each_chunk_gets_exactly_its_rows_in_input_order(chunk):
    rng = np.random.default_rng(7)
    n_customers = 200
    for layout, customer_idx in _layouts(rng, n_customers).items():
        customer_idx = customer_idx.astype(np.int32)
        partition = RowPartition(customer_idx, chunk, n_customers)
        for k in range(partition.n_chunks):
            got = np.arange(len(customer_idx))[partition.rows(k)]
            assert np.array_equal(got, _expected(customer_idx, chunk, k)), (layout, k)
