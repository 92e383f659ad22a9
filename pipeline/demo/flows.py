"""Money moving between bank and brokerage (bank-securities transfers).

Ordinary life moves money too: salaries come in, profits and living costs go
out, and now and then a loyal customer withdraws most of the account to buy a
flat. Against that background, leaving customers drain their funds over the
months before closing, and the closure itself takes out whatever is left.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from pipeline.demo import days
from pipeline.demo.behaviour import MonthWindow
from pipeline.demo.churn import DRAIN
from pipeline.demo.days import MonthCalendar
from pipeline.demo.population import Population
from pipeline.demo.rows import ARROW_SCHEMAS, split_amounts, transfer_table

# Deposits come faster in bull markets, withdrawals in bear markets.
DEPOSIT_REGIME = {"bull": 1.15, "bear": 0.75}
WITHDRAWAL_REGIME = {"bull": 1.0, "bear": 1.25}
# An ordinary withdrawal takes a few percent of assets (log-normal median 4%).
WITHDRAWAL_SHARE_MEDIAN, WITHDRAWAL_SHARE_SD = 0.03, 0.8
# A large life expense (a flat, school fees): monthly chance and share of assets taken.
LIFE_EXPENSE_CHANCE = 0.006
LIFE_EXPENSE_SHARE = (0.3, 0.85)
# At full drain intensity a leaver moves out this share of what is left each month.
DRAIN_SPEED = 0.6
# Ordinary withdrawals never empty an account completely; only a closure does.
MAX_OUT_SHARE = 0.98
# Transfers smaller than this (CNY) are not worth making.
MIN_TRANSFER_TOTAL = 10.0
IN, OUT = 0, 1


def month_transfers(
    rng, calendar: MonthCalendar, month: int, ids: pa.Array, population: Population,
    window: MonthWindow, effects: np.ndarray, *, bear: bool, assets: np.ndarray,
):  # fmt: skip
    """Draw the month's transfers before closure; return (table, money in, money out).

    Args:
        rng: the run's random generator.
        calendar: the simulated months.
        month: index of this month.
        ids: customer ids, by account.
        population: the accounts' traits.
        window: who can act on which days this month.
        effects: precursor intensities of leaving customers (churn.EFFECTS x accounts).
        bear: whether this is a bear month.
        assets: each account's assets after the month's market move and commission.
    """
    pop, share = population, window.trading_share
    regime = "bear" if bear else "bull"
    n = pop.size
    opening_total = np.where(window.opening, pop.initial_assets.round(2), 0.0)
    deposits = rng.poisson(
        pop.deposit_rate * DEPOSIT_REGIME[regime] * share * (1 - effects[DRAIN]) * ~window.closing
    )
    deposit_total = deposits * pop.deposit_amount * rng.lognormal(-0.18, 0.6, n)
    base = np.maximum(assets, 0.0) + opening_total + deposit_total
    withdrawals = rng.poisson(pop.withdrawal_rate * WITHDRAWAL_REGIME[regime] * share)
    withdrawal_share = withdrawals * rng.lognormal(
        np.log(WITHDRAWAL_SHARE_MEDIAN), WITHDRAWAL_SHARE_SD, n
    )
    life = (rng.random(n) < LIFE_EXPENSE_CHANCE * share) * rng.uniform(*LIFE_EXPENSE_SHARE, n)
    drain = DRAIN_SPEED * effects[DRAIN] * (share > 0)
    out_share = np.minimum(np.minimum(withdrawal_share, 0.6) + life + drain, MAX_OUT_SHARE)
    drains = np.where(drain > 0.02, 1 + rng.poisson(0.5, n), 0)
    kinds = [
        (IN, window.opening.astype(np.int64), opening_total),
        (IN, deposits, deposit_total),
        (OUT, withdrawals + (life > 0) + drains, base * out_share),
    ]
    return _transfer_rows(rng, calendar, month, ids, window, kinds)


def _transfer_rows(rng, calendar, month, ids, window: MonthWindow, kinds):
    n = len(window.lo)
    parts, money = [], {IN: np.zeros(n), OUT: np.zeros(n)}
    for position, (direction, counts, totals) in enumerate(kinds):
        counts = np.where(totals >= MIN_TRANSFER_TOTAL, counts, 0)
        who, amount = split_amounts(rng, counts, totals)
        if position == 0:  # the opening deposit lands on the opening day
            day = calendar.first_day[month] + window.lo[who] - 1
        else:
            day = days.draw_trading_days(rng, calendar, month, window.lo[who], window.hi[who])
        seconds = days.seconds_in_hours(rng, len(who), 9, 16)
        parts.append(
            transfer_table(ids, who, day, seconds, np.full(len(who), direction, np.int8), amount)
        )
        money[direction] += np.bincount(who, amount, minlength=n)
    return pa.concat_tables(parts), money[IN], money[OUT]


def closing_withdrawals(
    rng, calendar: MonthCalendar, month: int, ids: pa.Array, window: MonthWindow, assets
) -> pa.Table:
    """Return the last transfer out of each closing account: everything left, on its last day."""
    who = np.flatnonzero(window.closing & (assets >= 0.01))
    trading = calendar.trading_days[month]
    last = trading[np.searchsorted(trading, window.hi[who], side="right") - 1]
    day = calendar.first_day[month] + last - 1
    seconds = days.seconds_in_hours(rng, len(who), 9, 16)
    amount = np.floor(assets[who] * 100) / 100
    if len(who) == 0:
        return ARROW_SCHEMAS["transfers"].empty_table()
    return transfer_table(ids, who, day, seconds, np.full(len(who), OUT, np.int8), amount)
