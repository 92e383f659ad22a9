"""The state of every account, carried from one month end to the next.

The simulator keeps one numpy array per quantity over all accounts and updates
them month by month; no code loops over customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.demo.market import Market
from pipeline.demo.population import Population

NEVER = np.iinfo(np.int32).max
# "Long ago" for month stamps: far enough back to count as never, small enough to subtract.
LONG_AGO = -10_000
NO_CAUSE = -1
# Share of accounts sitting in cash at the start, by the first month's regime.
EMPTY_AT_START = {"bull": 0.05, "bear": 0.25}


@dataclass
class Book:
    """Mutable per-account state; every array has one entry per account."""

    cash: np.ndarray
    market_value: np.ndarray
    empty: np.ndarray  # holding no securities (empty position)
    rate: np.ndarray  # current commission rate; granted fee cuts lower it
    loss_memory: np.ndarray  # decaying sum of monthly losses as a share of assets
    service_grievance: np.ndarray  # decaying count of complaints and outages suffered
    fee_grievance: np.ndarray  # decaying count of refused fee-cut requests
    manager_left_month: np.ndarray  # month the personal manager last left
    complaints_last_month: np.ndarray
    episode_cause: np.ndarray  # cause index of a decision to leave under way, or NO_CAUSE
    episode_start: np.ndarray  # first month of its precursors
    episode_length: np.ndarray  # precursor months before closing
    episode_strength: np.ndarray  # how visibly this customer signals (0 = silent)
    episode_closes: np.ndarray  # whether the episode ends in closure (else it fades)
    close_month: np.ndarray  # simulated month of closure, NEVER while open
    close_day: np.ndarray  # epoch day of closure, -1 while open
    close_reason: np.ndarray  # cause index, NO_CAUSE while open

    @property
    def assets(self) -> np.ndarray:
        """Total assets: cash plus market value."""
        return self.cash + self.market_value


def opening_book(rng: np.random.Generator, population: Population, market: Market) -> Book:
    """Return the book at the start: existing accounts funded, new ones still empty."""
    n = population.size
    existing = population.open_month < 0
    empty_share = EMPTY_AT_START["bear" if market.bear[0] else "bull"]
    empty = existing & (rng.random(n) < empty_share)
    assets = np.where(existing, population.initial_assets, 0.0)
    market_value = np.where(empty, 0.0, (assets * population.appetite).round(2))
    return Book(
        cash=(assets - market_value).round(2),
        market_value=market_value,
        empty=empty,
        rate=population.initial_rate.copy(),
        loss_memory=np.zeros(n),
        service_grievance=np.zeros(n),
        fee_grievance=np.zeros(n),
        manager_left_month=np.full(n, LONG_AGO, np.int32),
        complaints_last_month=np.zeros(n, np.int64),
        episode_cause=np.full(n, NO_CAUSE, np.int8),
        episode_start=np.zeros(n, np.int32),
        episode_length=np.zeros(n, np.int32),
        episode_strength=np.zeros(n),
        episode_closes=np.zeros(n, bool),
        close_month=np.full(n, NEVER, np.int32),
        close_day=np.full(n, -1, np.int64),
        close_reason=np.full(n, NO_CAUSE, np.int8),
    )
