"""Rank and risk band of every scored account.

Rank 1 is the highest probability; accounts with equal probabilities are ranked
by customer id, so the ranking is a definite order and reruns agree. A band is
chosen either by probability (``scoring.band_cuts`` are probabilities; a
probability equal to a cut falls in the higher band) or by rank (the cuts are
shares of the ranked list from the top: cuts ``[0.1, 0.3]`` with names ``[low,
medium, high]`` make the top 10% high, the next 20% medium, the rest low).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def risk_ranks(probability: np.ndarray) -> np.ndarray:
    """Return each account's rank, 1 = highest probability, ties by position (customer id order).

    Args:
        probability: churn probabilities of accounts ordered by customer id.
    """
    p = np.asarray(probability, dtype=np.float64)
    order = np.lexsort((np.arange(len(p)), -p))
    ranks = np.empty(len(p), dtype=np.int64)
    ranks[order] = np.arange(1, len(p) + 1)
    return ranks


def bands_by_probability(
    probability: np.ndarray, cuts: Sequence[float], names: Sequence[str]
) -> np.ndarray:
    """Return each account's band name; a probability on a cut point falls in the higher band."""
    index = np.searchsorted(np.asarray(cuts, dtype=np.float64), probability, side="right")
    return np.asarray(names, dtype=object)[index]


def bands_by_rank(ranks: np.ndarray, cuts: Sequence[float], names: Sequence[str]) -> np.ndarray:
    """Return each account's band name from its rank; cuts are shares of the list from the top.

    The top ``ceil(cut x accounts)`` ranks are inside a cut, so the highest band is never
    empty while its share is above zero. The last name is the highest band.
    """
    n = len(ranks)
    places = np.asarray([top_count(cut, n) for cut in cuts], dtype=np.int64)
    from_top = np.searchsorted(places, np.asarray(ranks, dtype=np.int64), side="left")
    return np.asarray(names, dtype=object)[len(names) - 1 - from_top]


def top_count(share: float, accounts: int) -> int:
    """Return how many accounts a top share covers: ``ceil(share x accounts)``, within [0, n]."""
    # Rounding first keeps 0.2 x 10 at 2 despite the binary fraction.
    return min(accounts, max(0, math.ceil(round(share * accounts, 9))))


def risk_bands(
    probability: np.ndarray,
    ranks: np.ndarray,
    *,
    band_by: str,
    cuts: Sequence[float],
    names: Sequence[str],
) -> np.ndarray:
    """Return each account's risk band under ``scoring.band_by`` (probability or rank)."""
    if band_by == "rank":
        return bands_by_rank(ranks, cuts, names)
    return bands_by_probability(probability, cuts, names)
