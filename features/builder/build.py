"""Build the feature matrix: per-customer features chunk by chunk, then the market step.

``build_feature_matrix`` = ``build_customer_features`` (each customer's own rows
only, chunked, safe to run per partition of customers) followed by the one
cross-customer step: ``market_reference`` (a small per-month aggregate),
``combine_market_references`` (for several partitions) and
``apply_market_reference`` (adds the market-relative columns). A distributed
engine runs the first two per partition, combines the references, and applies
the combined reference per partition; the result equals the local build to the
last bit::

    frames = [build_customer_features(part_tables, as_of, params) for part_tables in parts]
    reference = combine_market_references([market_reference(f) for f in frames])
    matrix = pd.concat([apply_market_reference(f, reference, params) for f in frames])
    # == build_feature_matrix(tables, as_of, params), once sorted by (as_of, customer_id)

Partitions must hold all rows of their customers (partition by customer), and a
categorical ``customers.branch`` with the same categories everywhere (the branch
categories are the column's categories; without them each partition would use
the branches it happens to hold).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence

import pandas as pd

from features.builder.market_step import (
    apply_market_reference,
    combine_market_references,
    market_reference,
)
from features.builder.memory import build_memory
from features.builder.output import FeatureOutput
from features.builder.panel import AsOfPlan, plan_as_of
from features.builder.quantities import TABLE_QUANTITIES, TRADE_MIX_QUANTITIES, chunk_panel
from features.builder.registry import (
    FEATURES,
    INDICATOR_FLAGS,
    customer_features,
    leaf_inputs,
)
from features.builder.resolve import evaluate
from features.builder.rows import activity_rows
from features.profile import customer_attributes
from pipeline.core.contract import Tables
from pipeline.core.params import Params

__all__ = [
    "MissingTableWarning",
    "apply_market_reference",
    "build_customer_features",
    "build_feature_matrix",
    "combine_market_references",
    "market_reference",
]


class MissingTableWarning(UserWarning):
    """An optional table or column is absent: the features needing it are NaN, their flags False."""


def build_feature_matrix(
    tables: Tables, as_of: Sequence[pd.Timestamp], params: Params
) -> pd.DataFrame:
    """Build every feature for the accounts open at each as-of month end.

    Args:
        tables: validated tables (pipeline.data.loader).
        as_of: month ends (midnight); duplicates are dropped, order does not matter.
        params: the run's params (``rules:`` thresholds, ``features:`` settings).

    Returns:
        One row per (customer_id, as_of) for accounts open at that as-of (open_date <= T,
        closed_date null or > T): ``customer_id`` (str), ``as_of`` (datetime64[us]), then the
        features in registry order (float32 numbers, bool ``warn_*`` flags, categoricals with
        fixed categories), sorted by (as_of, customer_id); identical whatever the chunk size.

    Raises:
        ValueError: no as-of date, or one that is not a month end.
    """
    frame = build_customer_features(tables, as_of, params)
    return apply_market_reference(frame, market_reference(frame), params)


def build_customer_features(
    tables: Tables, as_of: Sequence[pd.Timestamp], params: Params
) -> pd.DataFrame:
    """Build the features that depend only on each customer's own rows (no market columns).

    Rows, ids, order and dtypes as :func:`build_feature_matrix`, without the market-relative
    columns. Running it on a subset of customers (a partition) gives exactly those customers'
    rows of the whole build, provided categorical ``customers.branch`` carries the same
    categories everywhere (branch categories are the column's categories, else its values).
    Warns (``MissingTableWarning``) once per missing optional table or column.
    """
    plan = plan_as_of(tables, as_of)
    warn_missing_inputs(tables)
    features = customer_features()
    categories = {f.name: f.categories(tables.customers, params) for f in features if f.categories}
    with build_memory():
        output = FeatureOutput(plan, features)
        chunk_rows = activity_rows(tables, params.features.chunk_customers)
        attributes = customer_attributes(tables.customers)
        for chunk, lo, hi in _chunks(plan, params.features.chunk_customers):
            panel = chunk_panel(plan, chunk_rows, attributes, chunk, lo, hi)
            output.write(plan.is_open[:, lo:hi], evaluate(features, panel, params))
        return output.frame(tables.customers["customer_id"], categories)


def _chunks(plan: AsOfPlan, size: int) -> Iterator[tuple[int, int, int]]:
    n = plan.is_open.shape[1]
    for chunk, lo in enumerate(range(0, n, size)):
        hi = min(lo + size, n)
        if plan.is_open[:, lo:hi].any():
            yield chunk, lo, hi


def warn_missing_inputs(tables: Tables) -> None:
    """Warn once per missing optional table (or trades.security_type), naming what it disables."""
    missing = {
        name: TABLE_QUANTITIES[name] for name in TABLE_QUANTITIES if tables.table(name) is None
    }
    if tables.table("trades") is not None and "security_type" not in tables.trades:
        missing["trades.security_type"] = TRADE_MIX_QUANTITIES
    for source, quantities in missing.items():
        affected = [f.name for f in FEATURES if leaf_inputs(f.name) & set(quantities)]
        flags = [name for name in INDICATOR_FLAGS if name in affected]
        indicators = f"; indicators reading it: {', '.join(flags)}" if flags else ""
        warnings.warn(
            f"optional input {source!r} is missing: values computed from it are NaN and flags "
            f"on them False ({len(affected)} features read it{indicators})",
            MissingTableWarning,
            stacklevel=3,
        )
