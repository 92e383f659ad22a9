"""The market reference: per as-of month, the distribution of a few ratios over open accounts.

Market-relative signals compare a customer's ratio with the same ratio over all
accounts open that month (a bear month lowers everyone). The distribution is
kept as a histogram of counts on fixed, signed bins read straight off the bits
of the float64 value: the exponent and the top 7 mantissa bits, i.e. 128 bins
per doubling (0.4-0.8% wide) for magnitudes 2^-20 (about 1e-6) to 2^40 (about
1e12), one bin for zero, and magnitudes outside that range clipped to the end
bins. Integer bit operations only, so every machine bins a value alike. So:

- a reference is small (15,361 int64 counts per ratio and month) whatever the
  number of accounts, and references of several partitions combine by adding
  counts, exactly: a distributed build equals the local one to the last bit;
- the month's median is the centre of the bin holding the lower median (within
  0.4% of the exact median), and a customer's percentile is the mid-rank of its
  bin: (accounts in lower bins + half the accounts in its bin) / accounts.

NaN and infinite values are left out of the counts and get NaN.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

_SHIFT = 45  # float64 bits below the exponent and the top 7 mantissa bits
_LOW_KEY = int(np.float64(2.0**-20).view(np.int64)) >> _SHIFT
SIDE_BINS = 60 * 128
N_BINS = 2 * SIDE_BINS + 1
ZERO_BIN = SIDE_BINS


def value_bins(values: np.ndarray) -> np.ndarray:
    """Return each value's bin (ordered like the values), -1 for NaN or infinite values."""
    values = np.asarray(values, dtype=np.float64)
    # For non-negative doubles the int64 bit pattern grows with the value.
    steps = np.abs(values).view(np.int64) >> _SHIFT
    steps -= _LOW_KEY
    np.clip(steps, 0, SIDE_BINS - 1, out=steps)
    steps += 1
    bins = np.where(values > 0, ZERO_BIN + steps, ZERO_BIN - steps)
    bins[values == 0] = ZERO_BIN
    bins[~np.isfinite(values)] = -1
    return bins


def bin_centres(bins: np.ndarray) -> np.ndarray:
    """Return the representative value of bins: 0 for the zero bin, else the bin's midpoint."""
    offset = np.asarray(bins, dtype=np.int64) - ZERO_BIN
    keys = (np.abs(offset) - 1 + _LOW_KEY) << _SHIFT
    centre = (keys | (1 << (_SHIFT - 1))).view(np.float64)
    return np.where(offset == 0, 0.0, np.sign(offset) * centre)


@dataclass(frozen=True)
class MarketReference:
    """Histograms of the reference ratios per as-of month, from one or more partitions.

    Attributes:
        as_of: the as-of month ends, sorted, ``datetime64[us]``.
        counts: ratio column -> int64 counts ``[as_of, N_BINS]``.
    """

    as_of: np.ndarray
    counts: Mapping[str, np.ndarray]

    def medians(self, column: str) -> np.ndarray:
        """Return each as-of month's median of a column (NaN for a month without values)."""
        counts = self.counts[column]
        totals = counts.sum(axis=1)
        cumulative = np.cumsum(counts, axis=1)
        lower_median_rank = np.maximum(totals - 1, 0) // 2
        # The first bin whose cumulative count passes the rank holds the lower median.
        bins = (cumulative <= lower_median_rank[:, None]).sum(axis=1)
        return np.where(totals > 0, bin_centres(np.minimum(bins, N_BINS - 1)), np.nan)

    def percentiles(self, column: str, as_of_code: np.ndarray, bins: np.ndarray) -> np.ndarray:
        """Return the mid-rank percentile (0 to 1) of values in their as-of month."""
        counts = self.counts[column].astype(np.float64)
        below = np.cumsum(counts, axis=1) - counts
        totals = counts.sum(axis=1)
        valid = bins >= 0
        flat = as_of_code * N_BINS + np.where(valid, bins, 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = (below.ravel()[flat] + 0.5 * counts.ravel()[flat]) / totals[as_of_code]
        return np.where(valid, share, np.nan)

    def as_of_codes(self, as_of: np.ndarray) -> np.ndarray:
        """Return each row's as-of position in the reference.

        Raises:
            ValueError: a row's as-of month is not in the reference.
        """
        values = np.asarray(as_of, dtype="datetime64[us]")
        codes = np.searchsorted(self.as_of, values)
        inside = codes < len(self.as_of)
        if not (inside.all() and (self.as_of[codes] == values).all()):
            missing = sorted(set(values.tolist()) - set(self.as_of.tolist()))
            raise ValueError(f"the market reference holds no as-of month {missing[:3]}")
        return codes


def histogram_reference(as_of: np.ndarray, columns: Mapping[str, np.ndarray]) -> MarketReference:
    """Count each column's values per as-of month into the fixed bins."""
    months, codes = np.unique(np.asarray(as_of, dtype="datetime64[us]"), return_inverse=True)
    counts = {}
    for name, values in columns.items():
        bins = value_bins(values)
        valid = bins >= 0
        flat = codes[valid] * N_BINS + bins[valid]
        hist = np.bincount(flat, minlength=len(months) * N_BINS)
        counts[name] = hist.astype(np.int64).reshape(len(months), N_BINS)
    return MarketReference(months, counts)


def combine(references: Sequence[MarketReference]) -> MarketReference:
    """Add the counts of several references (partitions) into one, month by month.

    Raises:
        ValueError: no reference, or references over different columns.
    """
    if not references:
        raise ValueError("no market reference to combine")
    names = list(references[0].counts)
    if any(list(r.counts) != names for r in references):
        raise ValueError("market references hold different columns")
    months = np.unique(np.concatenate([r.as_of for r in references]))
    counts = {name: np.zeros((len(months), N_BINS), dtype=np.int64) for name in names}
    for reference in references:
        rows = np.searchsorted(months, reference.as_of)
        for name in names:
            counts[name][rows] += reference.counts[name]
    return MarketReference(months, counts)
