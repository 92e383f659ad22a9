"""What customers do in a month: invest, trade, talk to the broker.

Ordinary behaviour already produces every warning sign the guideline lists:
bear markets cut trading and push many into cash, stock picks go badly wrong,
customers ask for lower fees and managers move on. A leaving customer's
precursors (see churn.py) are layered on top of this background, so the signs
alone are ambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.demo.book import Book
from pipeline.demo.churn import COMPLAIN, CONTACT_CUT, EMPTY, FEE_ASK, TRADE_CUT
from pipeline.demo.days import MonthCalendar, trading_days_between
from pipeline.demo.market import Market
from pipeline.demo.population import COMMISSION_RATE_RANGE, Population

# Chance a month ends with a sell-out to cash (entering) or a return to the market (leaving).
ENTER_EMPTY = {"bull": 0.012, "bear": 0.09}
LEAVE_EMPTY = {"bull": 0.30, "bear": 0.08}
# Everyone trades less in a bear market; sitting in cash means hardly trading.
TRADING_IN_BEAR = 0.5
TRADING_WHEN_EMPTY = 0.2
# Per-month noise on trading (log-normal sd): one quiet month is no signal.
TRADING_NOISE_SD = 0.35
MIN_ASSETS_TO_TRADE = 1_000.0
# A stock pick that goes very wrong (limit-down runs): monthly chance by regime.
CRASH_CHANCE = {"bull": 0.003, "bear": 0.015}
# Fee-cut requests: granted about half the time, more often for wealthy customers.
FEE_CUT_GRANT_CHANCE = (0.4, 0.6, 0.8)  # by value tier
FEE_CUT_FACTOR = (0.55, 0.85)
# Manager contacts a month by channel, scaled up for wealthier tiers.
CONTACTS_WITH_MANAGER = {"onsite": 0.9, "online": 0.35}
CONTACTS_SERVICE_CENTRE = 0.05
CONTACT_TIER_FACTOR = np.array([1.0, 1.5, 2.5])
# Managers move on: monthly chance per customer with a manager; contacts dip for
# a few months until the successor settles in.
MANAGER_LEAVES = 0.012
MANAGER_GAP_CONTACTS = (0.15, 0.15, 0.5, 0.5)
TIER_ASSETS = [100_000.0, 1_000_000.0]


@dataclass(frozen=True)
class MonthWindow:
    """Which days of the month each account could act on.

    Attributes:
        alive: open at some point during the month.
        lo, hi: first and last day-of-month of possible activity (closing day excluded).
        trading_share: share of the month's trading days inside [lo, hi].
        opening, closing: the account opens / closes this month.
        open_at_end: still open at the month end (gets a balance row).
    """

    alive: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    trading_share: np.ndarray
    opening: np.ndarray
    closing: np.ndarray
    open_at_end: np.ndarray


def month_window(population: Population, book: Book, calendar: MonthCalendar, month: int):
    """Return the activity window of every account in ``month``."""
    first, n_days = calendar.first_day[month], calendar.n_days[month]
    opening = population.open_month == month
    closing = book.close_month == month
    alive = (population.open_month <= month) & (book.close_month >= month)
    lo = np.where(opening, population.open_day - first + 1, 1)
    hi = np.where(closing, book.close_day - first, n_days)
    hi = np.where(alive, hi, 0)
    n_trading = len(calendar.trading_days[month])
    trading_share = trading_days_between(calendar, month, lo, hi) / n_trading
    return MonthWindow(
        alive=alive,
        lo=lo,
        hi=hi,
        trading_share=np.where(alive, trading_share, 0.0),
        opening=opening,
        closing=closing,
        open_at_end=alive & ~closing,
    )


def value_tier(assets: np.ndarray) -> np.ndarray:
    """Return 0 mass (< 100k), 1 affluent (< 1M), 2 high net worth."""
    return np.searchsorted(TIER_ASSETS, assets, side="right")


def portfolio_returns(rng, population: Population, market: Market, month: int) -> np.ndarray:
    """Return each portfolio's monthly return: index exposure, stock picking, rare crashes."""
    n = population.size
    regime = "bear" if market.bear[month] else "bull"
    picking = population.idiosyncratic_sd * rng.standard_t(4, n) / np.sqrt(2)
    crash = (rng.random(n) < CRASH_CHANCE[regime] * (1 + population.style)) * rng.uniform(
        0.3, 0.75, n
    )
    returns = population.beta * market.index_return[month] + picking - crash
    return np.maximum(returns, -0.9)


def next_empty_positions(rng, book: Book, effects: np.ndarray, bear: bool) -> np.ndarray:
    """Return who holds no securities at this month end."""
    regime = "bear" if bear else "bull"
    enter = np.clip(ENTER_EMPTY[regime] + 0.6 * effects[EMPTY], 0, 1)
    leave = LEAVE_EMPTY[regime] * (1 - effects[EMPTY])
    u = rng.random(len(book.empty))
    return np.where(book.empty, u >= leave, u < enter)


def expected_trades(
    population: Population, effects: np.ndarray, window: MonthWindow, *, bear: bool, empty
) -> np.ndarray:
    """Return the expected number of trades this month (before month noise)."""
    regime = TRADING_IN_BEAR if bear else 1.0
    position = np.where(empty, TRADING_WHEN_EMPTY, 1.0)
    leaving = 1 - 0.9 * effects[TRADE_CUT]
    return population.activity * regime * position * leaving * window.trading_share


def trade_counts(rng, expected: np.ndarray, assets: np.ndarray) -> np.ndarray:
    """Draw this month's number of trades around the expectation."""
    noise = rng.lognormal(-(TRADING_NOISE_SD**2) / 2, TRADING_NOISE_SD, len(expected))
    counts = rng.poisson(np.minimum(expected * noise, 60.0))
    return np.where(assets >= MIN_ASSETS_TO_TRADE, counts, 0)


def service_event_counts(rng, population, book, effects, window, *, month, loss_share, outage):
    """Draw complaints, fee-cut requests and manager contacts (a 3 x accounts count array)."""
    badness = population.branch_service_badness[population.branch]
    complaint_rate = (
        0.004 * badness
        + 0.6 * np.clip(loss_share - 0.1, 0, 0.5)
        + 0.04 * (outage & population.online)
        + 0.5 * effects[COMPLAIN]
    )
    fee_rate = (
        0.004
        + 0.03 * (book.rate / COMMISSION_RATE_RANGE[1]) * np.minimum(population.activity / 5, 2)
        + 0.15 * book.fee_grievance
        + 0.6 * effects[FEE_ASK]
    )
    contact_rate = _contact_rate(population, book, month) * (1 - 0.95 * effects[CONTACT_CUT])
    contact_rate = contact_rate + 0.3 * book.complaints_last_month  # the service centre follows up
    rates = np.stack([complaint_rate, fee_rate, contact_rate]) * window.trading_share
    return rng.poisson(rates)


def _contact_rate(population: Population, book: Book, month: int) -> np.ndarray:
    manager = np.where(
        population.online, CONTACTS_WITH_MANAGER["online"], CONTACTS_WITH_MANAGER["onsite"]
    )
    base = np.where(population.has_manager, manager, CONTACTS_SERVICE_CENTRE)
    since = month - book.manager_left_month
    gap = np.asarray(MANAGER_GAP_CONTACTS)
    after_departure = np.where(since < len(gap), gap[np.clip(since, 0, len(gap) - 1)], 1.0)
    return base * CONTACT_TIER_FACTOR[value_tier(book.assets)] * after_departure


def managers_move_on(rng, population: Population, book: Book, month: int) -> None:
    """Some personal managers leave this month; their customers lose their contact."""
    leaves = population.has_manager & (rng.random(population.size) < MANAGER_LEAVES)
    book.manager_left_month[leaves] = month


def remember_experiences(book: Book, loss_share, complaints, outage_hit) -> None:
    """Update the decaying memories of losses and bad service that drive the hazards."""
    book.loss_memory[:] = 0.6 * book.loss_memory + loss_share
    book.service_grievance[:] = 0.75 * book.service_grievance + complaints + 0.5 * outage_hit
    book.complaints_last_month[:] = complaints


def grant_fee_cuts(rng, book: Book, requests: np.ndarray) -> np.ndarray:
    """Decide fee-cut requests; a granted cut lowers the rate from next month. Returns granted."""
    asked = requests > 0
    chance = np.asarray(FEE_CUT_GRANT_CHANCE)[value_tier(book.assets)]
    granted = asked & (rng.random(len(asked)) < chance)
    cut = rng.uniform(*FEE_CUT_FACTOR, len(asked))
    book.rate[:] = np.where(
        granted, np.maximum(book.rate * cut, COMMISSION_RATE_RANGE[0]), book.rate
    )
    book.fee_grievance[:] = 0.8 * book.fee_grievance + (asked & ~granted)
    return granted
