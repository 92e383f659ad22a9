"""The feature matrix's columns, preallocated once and filled chunk by chunk.

Rows are the accounts open at each as-of month, ordered by (as_of, customer_id):
customers are sorted by id and a chunk is a contiguous id range, so a chunk's
rows for one as-of month are one contiguous block of the output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from features.builder.panel import AsOfPlan
from features.builder.registry import Feature

DTYPES = {"number": np.float32, "flag": np.bool_, "category": np.int32}
"""Storage of each feature kind: float32 numbers (NaN missing), bool flags, category codes."""


class FeatureOutput:
    """Preallocated columns of the per-customer features, written one chunk at a time."""

    def __init__(self, plan: AsOfPlan, features: Sequence[Feature]):
        """Allocate one column per feature for every open (account, as-of) row.

        Args:
            plan: the as-of plan (who is open when).
            features: the features to hold, in output order.
        """
        self.plan = plan
        counts = plan.is_open.sum(axis=1).astype(np.int64)
        self.n_rows = int(counts.sum())
        self._block_start = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self._written = np.zeros(len(counts), dtype=np.int64)
        self.columns = {f.name: np.empty(self.n_rows, dtype=DTYPES[f.kind]) for f in features}

    def write(self, is_open: np.ndarray, values: Mapping[str, np.ndarray]) -> None:
        """Store a chunk's ``[as_of x customer]`` values of its open accounts (chunks in order)."""
        counts = is_open.sum(axis=1)
        picked = np.flatnonzero(is_open.ravel())
        source = np.concatenate([[0], np.cumsum(counts)])
        target = self._block_start + self._written
        blocks = [
            (int(target[k]), int(source[k]), int(counts[k]))
            for k in range(len(counts))
            if counts[k]
        ]
        for name, column in self.columns.items():
            chunk_values = np.ravel(values[name]).take(picked)
            for start, offset, count in blocks:
                column[start : start + count] = chunk_values[offset : offset + count]
        self._written += counts

    def frame(
        self, customer_ids: pd.Series, categories: Mapping[str, Sequence[str]]
    ) -> pd.DataFrame:
        """Return ``customer_id``, ``as_of`` and the feature columns as a DataFrame (no copies).

        Args:
            customer_ids: ``customers.customer_id`` in customer order.
            categories: fixed categories of each categorical feature.
        """
        as_of_pos, customer_pos = np.nonzero(self.plan.is_open)
        ids = (
            customer_ids.astype("str")
            if not pd.api.types.is_string_dtype(customer_ids)
            else (customer_ids)
        )
        data: dict[str, object] = {
            "customer_id": pd.Series(ids.array.take(customer_pos), dtype="str"),
            "as_of": self.plan.as_of.to_numpy()[as_of_pos],
        }
        for name, column in self.columns.items():
            if name in categories:
                dtype = pd.CategoricalDtype(list(categories[name]))
                data[name] = pd.Categorical.from_codes(column, dtype=dtype)
            else:
                data[name] = column
        return pd.DataFrame(data, copy=False)
