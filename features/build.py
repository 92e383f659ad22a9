"""Build the feature matrix: per-customer features chunk by chunk, then the market step.

``build_feature_matrix`` = ``build_customer_features`` (each customer's own rows
only, chunked, safe to run per partition of customers) followed by the one
cross-customer step: ``market_reference`` (a small per-month aggregate),
``combine_market_references`` (for several partitions) and
``apply_market_reference`` (adds the market-relative columns). A distributed
engine runs the first two per partition, combines the references, and applies
the combined reference per partition; the result equals the local build to the
last bit.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from features.output import FeatureOutput
from features.panel import TABLE_QUANTITIES, TRADE_MIX_QUANTITIES, AsOfPlan, chunk_panel, plan_as_of
from features.profile import customer_attributes
from features.reference import MarketReference, combine, histogram_reference, value_bins
from features.registry import (
    FEATURES,
    INDICATOR_FLAGS,
    MARKET_SUFFIXES,
    customer_features,
    evaluate,
    leaf_inputs,
    market_features,
    reference_columns,
)
from features.rows import activity_rows
from pipeline.contract import Tables
from pipeline.params import Params

ID_COLUMNS = ("customer_id", "as_of")


class MissingTableWarning(UserWarning):
    """An optional table or column is absent: the features needing it are NaN, their flags False."""


def build_feature_matrix(
    tables: Tables, as_of: Sequence[pd.Timestamp], params: Params
) -> pd.DataFrame:
    """Build every feature for the accounts open at each as-of month end.

    Args:
        tables: validated tables (pipeline.loader).
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
    output = FeatureOutput(plan, features)
    chunk_rows = activity_rows(tables, params.features.chunk_customers)
    attributes = customer_attributes(tables.customers)
    for chunk, lo, hi in _chunks(plan, params.features.chunk_customers):
        panel = chunk_panel(plan, chunk_rows, attributes, chunk, lo, hi)
        output.write(plan.is_open[:, lo:hi], evaluate(features, panel, params))
    categories = {f.name: f.categories(tables.customers, params) for f in features if f.categories}
    return output.frame(tables.customers["customer_id"], categories)


def _chunks(plan: AsOfPlan, size: int) -> Iterator[tuple[int, int, int]]:
    n = plan.is_open.shape[1]
    for chunk, lo in enumerate(range(0, n, size)):
        hi = min(lo + size, n)
        if plan.is_open[:, lo:hi].any():
            yield chunk, lo, hi


def market_reference(frame: pd.DataFrame) -> MarketReference:
    """Summarise the frame's reference ratios per as-of month (histogram counts).

    Args:
        frame: output of :func:`build_customer_features` (or a partition of it).
    """
    columns = {name: frame[name].to_numpy(np.float64) for name in reference_columns()}
    return histogram_reference(frame["as_of"].to_numpy(), columns)


def combine_market_references(references: Sequence[MarketReference]) -> MarketReference:
    """Combine the references of several partitions into the reference of all of them, exactly."""
    return combine(references)


def apply_market_reference(
    frame: pd.DataFrame, reference: MarketReference, params: Params
) -> pd.DataFrame:
    """Add the market-relative columns to a per-customer frame, given the month's reference.

    Args:
        frame: output of :func:`build_customer_features` (or a partition of it).
        reference: :func:`market_reference` of all open accounts (combined over partitions).
        params: the run's params (``features.value_weight_*`` for customer_value).

    Returns:
        A new frame: ids, then every feature in registry order (extra columns kept last).
    """
    inputs = _MarketInputs(frame, reference)
    values = evaluate(market_features(), inputs, params)
    added = {name: np.asarray(v, dtype=np.float32) for name, v in values.items()}
    out = frame.assign(**added)
    ordered = [*ID_COLUMNS, *(f.name for f in FEATURES)]
    extra = [c for c in out.columns if c not in ordered]
    return out[ordered + extra]


class _MarketInputs(Mapping):
    """Frame columns, plus each reference column's month median and percentile, by name."""

    def __init__(self, frame: pd.DataFrame, reference: MarketReference):
        self.frame, self.reference = frame, reference
        self.codes = reference.as_of_codes(frame["as_of"].to_numpy())

    def __getitem__(self, name: str) -> np.ndarray:
        if name in self.frame.columns:
            return self.frame[name].to_numpy(np.float64)
        base, suffix = _split_market_name(name)
        if suffix is None or base not in self.reference.counts:
            raise KeyError(name)
        if suffix == "_market_median":
            return self.reference.medians(base)[self.codes]
        bins = value_bins(self.frame[base].to_numpy(np.float64))
        return self.reference.percentiles(base, self.codes, bins)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        base, suffix = _split_market_name(name)
        return name in self.frame.columns or (suffix is not None and base in self.reference.counts)

    def __iter__(self):
        return iter(self.frame.columns)

    def __len__(self) -> int:
        return len(self.frame.columns)


def _split_market_name(name: str) -> tuple[str, str | None]:
    for suffix in MARKET_SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix), suffix
    return name, None


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
        warnings.warn(
            f"optional input {source!r} is missing: {len(affected)} features are NaN"
            + (
                f"; indicators {', '.join(flags)} are False and their measures NaN" if flags else ""
            ),
            MissingTableWarning,
            stacklevel=3,
        )
