"""The market: an index that switches between bull and bear spells.

Bear spells are what make the guideline's rules noisy: in a bear month almost
everyone trades less, many sell out to cash and assets fall with the index,
so trade-drop, empty-position, commission-drop and big-loss indicators fire for
customers who have no intention of leaving.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Monthly regime persistence: bull spells last about a year on average
# (1 / (1 - 0.92)), bear spells about seven months (1 / (1 - 0.85)).
STAY_BULL = 0.92
STAY_BEAR = 0.85
# Monthly index return by regime (mean, standard deviation).
BULL_RETURN = (0.018, 0.045)
BEAR_RETURN = (-0.035, 0.065)
# A demo history must show both regimes, or half of the story is missing:
# at least a sixth of the months in bear and a third in bull markets.
MIN_BEAR_SHARE = 1 / 6
MIN_BULL_SHARE = 1 / 3
_MAX_DRAWS = 200
# The effect of a bear month lingers: hazards and flows look back this far.
BEAR_MEMORY_MONTHS = 3
# A trading-system outage (a bad day for online customers) happens in about
# one month in twenty and brings a wave of complaints.
OUTAGE_PROBABILITY = 0.05


@dataclass(frozen=True)
class Market:
    """The simulated market, one entry per month.

    Attributes:
        bear: whether the month is in a bear spell.
        index_return: the index's return over the month.
        outage: whether online trading had an outage that month.
    """

    bear: np.ndarray
    index_return: np.ndarray
    outage: np.ndarray

    @property
    def index_level(self) -> np.ndarray:
        """Index level at each month end, starting from 1000 before the first month."""
        return 1000.0 * np.cumprod(1.0 + self.index_return)

    @property
    def recent_bear(self) -> np.ndarray:
        """Whether the month or one of the few before it was a bear month."""
        padded = np.concatenate([np.zeros(BEAR_MEMORY_MONTHS, bool), self.bear])
        windows = np.lib.stride_tricks.sliding_window_view(padded, BEAR_MEMORY_MONTHS + 1)
        return windows.any(axis=1)


def simulate_market(rng: np.random.Generator, months: int, bear_spell_months: int = 0) -> Market:
    """Draw a regime path with both bull and bear spells, then the index returns.

    Args:
        rng: the market's own random stream.
        months: simulated months.
        bear_spell_months: force one bear spell over the last this many months (the months a
            model is tested on then sit in a long bear market); 0 keeps the drawn path.
    """
    if not 0 <= bear_spell_months <= months:
        raise ValueError(f"bear_spell_months must be 0 to {months}, not {bear_spell_months}")
    bear = _regime_path_with_both_spells(rng, months)
    if bear_spell_months:
        bear[months - bear_spell_months :] = True
    mean = np.where(bear, BEAR_RETURN[0], BULL_RETURN[0])
    sd = np.where(bear, BEAR_RETURN[1], BULL_RETURN[1])
    index_return = np.maximum(mean + sd * rng.standard_normal(months), -0.4)
    outage = rng.random(months) < OUTAGE_PROBABILITY
    return Market(bear=bear, index_return=index_return, outage=outage)


def _regime_path_with_both_spells(rng: np.random.Generator, months: int) -> np.ndarray:
    path = _regime_path(rng, months)
    for _ in range(_MAX_DRAWS):
        if _shows_both_regimes(path):
            return path
        path = _regime_path(rng, months)
    # Practically unreachable; a fixed mid-history bear spell keeps runs deterministic.
    path = np.zeros(months, bool)
    path[months // 3 : months // 3 + max(1, months // 4)] = True
    return path


def _regime_path(rng: np.random.Generator, months: int) -> np.ndarray:
    stationary_bear = (1 - STAY_BULL) / ((1 - STAY_BULL) + (1 - STAY_BEAR))
    draws = rng.random(months)
    path = np.empty(months, bool)
    state = draws[0] < stationary_bear
    for month in range(months):
        if month > 0:
            stay = STAY_BEAR if state else STAY_BULL
            state = state if draws[month] < stay else not state
        path[month] = state
    return path


def _shows_both_regimes(path: np.ndarray) -> bool:
    months = len(path)
    if months < 2:
        return True
    bear_months = int(path.sum())
    return bear_months >= max(1, round(MIN_BEAR_SHARE * months)) and (
        months - bear_months >= max(1, round(MIN_BULL_SHARE * months))
    )
