"""One simulated month, in the order things happen to an account.

The market moves portfolios; customers decide whether to sit in cash, trade,
talk to the broker (complaints, fee-cut requests, manager contacts) and move
money; the month end books the balances; and at last each open account may
decide to leave, which shapes the months that follow.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from pipeline.demo import behaviour, churn, flows, rows
from pipeline.demo.behaviour import MonthWindow
from pipeline.demo.book import NEVER, NO_CAUSE, Book
from pipeline.demo.days import MonthCalendar
from pipeline.demo.market import Market
from pipeline.demo.population import Population


@dataclass(frozen=True)
class World:
    """Everything fixed for a run: calendar, market, customers and their ids."""

    calendar: MonthCalendar
    market: Market
    population: Population
    ids: pa.Array
    # Per cause, the share of leavers who show no precursor (churn.SILENT_SHARE by default).
    silent_share: np.ndarray = field(default_factory=lambda: churn.SILENT_SHARE)


@dataclass(frozen=True)
class Month:
    """What holds for everyone this month: its index, regime, and who can act when."""

    index: int
    bear: bool
    outage: bool
    window: MonthWindow
    effects: np.ndarray  # precursor intensities (churn.EFFECTS x accounts)


def simulate_month(rng, world: World, book: Book, month: int) -> Iterator[tuple[str, pa.Table]]:
    """Advance the book by one month and yield the month's rows, table by table."""
    _schedule_closing_days(rng, world.calendar, book, month)
    now = Month(
        index=month,
        bear=bool(world.market.bear[month]),
        outage=bool(world.market.outage[month]),
        window=behaviour.month_window(world.population, book, world.calendar, month),
        effects=churn.precursor_effects(book, month),
    )
    returns = behaviour.portfolio_returns(rng, world.population, world.market, month)
    moved_market_value = book.market_value * (1 + returns)
    loss = np.maximum(book.market_value - moved_market_value, 0)
    loss_share = loss / np.maximum(book.assets, 1)
    empty = np.where(
        now.window.opening, False, behaviour.next_empty_positions(rng, book, now.effects, now.bear)
    )
    trades, commission = _trade(rng, world, book, now, empty)
    yield "trades", trades
    yield "events", _talk_to_broker(rng, world, book, now, loss_share)
    after_market = moved_market_value + book.cash - commission
    transfers, assets = _move_money(rng, world, now, after_market)
    yield from (("transfers", table) for table in transfers)
    _settle_month_end(rng, world.population, book, now, assets, empty)
    yield (
        "balances",
        rows.balance_rows(
            world.calendar, month, world.ids, now.window.open_at_end, book.cash, book.market_value
        ),
    )
    _decide_departures(rng, world, book, now)


def _schedule_closing_days(rng, calendar: MonthCalendar, book: Book, month: int) -> None:
    # The closing day follows at least one trading day of the month, on which
    # the last money leaves.
    who = np.flatnonzero(book.close_month == month)
    later_days = calendar.trading_days[month][1:]
    day_of_month = later_days[rng.integers(0, len(later_days), len(who))]
    book.close_day[who] = calendar.first_day[month] + day_of_month - 1
    book.close_reason[who] = book.episode_cause[who]


def _trade(rng, world: World, book: Book, now: Month, empty: np.ndarray):
    pop, window = world.population, now.window
    was_empty = book.empty
    working_assets = book.assets + np.where(window.opening, pop.initial_assets, 0.0)
    expected = behaviour.expected_trades(
        pop, now.effects, window, bear=now.bear, empty=was_empty & empty
    )
    counts = behaviour.trade_counts(rng, expected, working_assets)
    # Selling out to cash means mostly sells; returning to the market or a
    # first month means mostly buys; draining funds means selling.
    sell_share = np.where(empty & ~was_empty, 0.85, np.where(was_empty & ~empty, 0.15, 0.5))
    sell_share = np.where(window.opening, 0.1, sell_share)
    context = {
        "lo": window.lo,
        "hi": window.hi,
        "size": working_assets * pop.trade_size,
        "cap": np.maximum(1.5 * working_assets, rows.MIN_TRADE_AMOUNT),
        "rate": book.rate,
        "min_fee": np.where(pop.min_fee_waived, 0.0, rows.MIN_FEE_PER_TRADE),
        "sell_share": np.clip(sell_share + 0.35 * now.effects[churn.DRAIN], 0, 0.95),
        "style": pop.style,
    }
    return rows.trade_rows(rng, world.calendar, now.index, world.ids, counts, context)


def _talk_to_broker(rng, world: World, book: Book, now: Month, loss_share) -> pa.Table:
    pop, window = world.population, now.window
    events = behaviour.service_event_counts(
        rng, pop, book, now.effects, window,
        month=now.index, loss_share=loss_share, outage=now.outage,
    )  # fmt: skip
    table = rows.event_rows(rng, world.calendar, now.index, world.ids, events, window.lo, window.hi)
    complaints, fee_requests = events[0], events[1]
    granted = behaviour.grant_fee_cuts(rng, book, np.where(window.alive, fee_requests, 0))
    churn.retain_after_fee_cut(rng, book, granted, now.index)
    outage_hit = now.outage & pop.online & window.alive
    behaviour.remember_experiences(book, loss_share, complaints, outage_hit)
    return table


def _move_money(rng, world: World, now: Month, after_market: np.ndarray):
    transfers, money_in, money_out = flows.month_transfers(
        rng, world.calendar, now.index, world.ids, world.population, now.window, now.effects,
        bear=now.bear, assets=after_market,
    )  # fmt: skip
    assets = np.maximum(after_market + money_in - money_out, 0.0)
    closing = flows.closing_withdrawals(
        rng, world.calendar, now.index, world.ids, now.window, assets
    )
    return [transfers, closing], assets


def _settle_month_end(rng, pop: Population, book: Book, now: Month, assets, empty) -> None:
    # Invested customers rebalance towards their appetite, a little more
    # cautiously in bear markets; an empty position holds only cash; closed
    # accounts hold nothing.
    target = pop.appetite * (0.8 if now.bear else 1.0) * rng.lognormal(0.0, 0.1, pop.size)
    share = np.where(empty, 0.0, np.clip(target, 0.0, 0.98))
    assets = np.where(now.window.open_at_end, assets, 0.0)
    book.market_value[:] = (assets * share).round(2)
    book.cash[:] = np.maximum((assets - book.market_value).round(2), 0.0)
    book.empty[:] = np.where(now.window.alive, empty, book.empty)


def _decide_departures(rng, world: World, book: Book, now: Month) -> None:
    behaviour.managers_move_on(rng, world.population, book, now.index)
    churn.end_wavering_episodes(book, now.index)
    if now.index + 1 >= world.calendar.months:
        return  # a decision now could show nothing inside the simulated period
    hazard = churn.leaving_hazard(
        world.population, book, world.market, now.index, int(world.calendar.first_day[now.index])
    )
    undecided = (book.episode_cause == NO_CAUSE) & (book.close_month == NEVER)
    churn.start_episodes(
        rng, book, hazard, now.window.open_at_end & undecided, now.index, world.silent_share
    )
