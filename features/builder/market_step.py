"""The cross-customer step: market reference per as-of month, then the market-relative columns.

A distributed engine runs :func:`market_reference` per partition of customers,
adds the results with :func:`combine_market_references`, and runs
:func:`apply_market_reference` per partition with the combined reference; the
result equals the local build to the last bit (features/builder/reference.py says why).
Rows are processed in blocks so temporaries stay small whatever the frame size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from features.builder.memory import build_memory
from features.builder.reference import N_BINS, MarketReference, combine, value_bins
from features.builder.registry import (
    FEATURES,
    MARKET_SUFFIXES,
    market_features,
    reference_columns,
)
from features.builder.resolve import evaluate
from pipeline.core.params import Params

ID_COLUMNS = ("customer_id", "as_of")
_BLOCK_ROWS = 1 << 18


def _blocks(n: int) -> list[slice]:
    return [slice(start, min(start + _BLOCK_ROWS, n)) for start in range(0, n, _BLOCK_ROWS)]


def market_reference(frame: pd.DataFrame) -> MarketReference:
    """Count the frame's reference ratios per as-of month into the fixed histogram bins.

    Args:
        frame: output of features.builder.build.build_customer_features (or a partition of it).

    Returns:
        The partition's reference: small, and exactly additive over partitions.
    """
    codes, months = pd.factorize(frame["as_of"], sort=True)
    months = np.asarray(months, dtype="datetime64[us]")
    counts = {name: np.zeros(len(months) * N_BINS, dtype=np.int64) for name in reference_columns()}
    for block in _blocks(len(frame)):
        offset = codes[block].astype(np.int64) * N_BINS
        for name, total in counts.items():
            bins = value_bins(frame[name].to_numpy()[block])
            valid = bins >= 0
            total += np.bincount((offset + bins)[valid], minlength=total.size)
    shaped = {name: total.reshape(len(months), N_BINS) for name, total in counts.items()}
    return MarketReference(months, shaped)


def combine_market_references(references: Sequence[MarketReference]) -> MarketReference:
    """Combine the references of several partitions into the reference of all of them, exactly."""
    return combine(references)


def apply_market_reference(
    frame: pd.DataFrame, reference: MarketReference, params: Params
) -> pd.DataFrame:
    """Add the market-relative columns to a per-customer frame, given the months' reference.

    Args:
        frame: output of features.builder.build.build_customer_features (or a partition of it).
        reference: :func:`market_reference` of all open accounts (combined over partitions).
        params: the run's params (``features.value_weight_*`` for customer_value).

    Returns:
        A new frame: ids, then every feature in registry order (extra columns kept last).

    Raises:
        ValueError: a row's as-of month is missing from the reference.
    """
    codes = reference.as_of_codes(frame["as_of"].to_numpy())
    wanted = market_features()
    with build_memory():
        added = {f.name: np.empty(len(frame), dtype=np.float32) for f in wanted}
        for block in _blocks(len(frame)):
            inputs = _MarketInputs(frame, reference, codes, block)
            for name, values in evaluate(wanted, inputs, params).items():
                added[name][block] = values
    columns: dict[str, object] = {name: frame[name] for name in frame.columns}
    columns.update(added)
    ordered = [*ID_COLUMNS, *(f.name for f in FEATURES)]
    ordered += [c for c in columns if c not in ordered]
    # Assembled without copying: assign() would copy every new column once more.
    return pd.DataFrame({c: columns[c] for c in ordered}, index=frame.index, copy=False)


class _MarketInputs(Mapping):
    """One block of frame columns, plus each reference column's median and percentile, by name."""

    def __init__(self, frame: pd.DataFrame, reference: MarketReference, codes, block: slice):
        self.frame, self.reference, self.block = frame, reference, block
        self.codes = codes[block]

    def _column(self, name: str) -> np.ndarray:
        return self.frame[name].to_numpy()[self.block].astype(np.float64)

    def __getitem__(self, name: str) -> np.ndarray:
        if name in self.frame.columns:
            return self._column(name)
        base, suffix = _split_market_name(name)
        if suffix is None or base not in self.reference.counts:
            raise KeyError(name)
        if suffix == "_market_median":
            return self.reference.medians(base)[self.codes]
        bins = value_bins(self._column(base))
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
