"""Turn per-account monthly counts into the contract's rows (Arrow tables).

Each month the simulator knows, per account, how many trades, transfers and
service events happened; these helpers expand the counts with ``np.repeat``
and draw each row's date, time and amount in one vectorised step.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from pipeline.core.contract import (
    CHANNELS,
    CLOSE_REASONS,
    DIRECTIONS,
    EVENT_TYPES,
    SECURITY_TYPES,
    SIDES,
)
from pipeline.demo import days
from pipeline.demo.days import MonthCalendar

_ID = ("customer_id", pa.string())
ARROW_SCHEMAS: dict[str, pa.Schema] = {
    "customers": pa.schema(
        [
            _ID,
            ("open_date", pa.date32()),
            ("closed_date", pa.date32()),
            ("close_reason", pa.string()),
            ("branch", pa.string()),
            ("birth_year", pa.int32()),
            ("channel", pa.string()),
            ("advisor_id", pa.string()),
        ]
    ),
    "trades": pa.schema(
        [
            _ID,
            ("trade_date", pa.date32()),
            ("security_type", pa.string()),
            ("side", pa.string()),
            ("amount", pa.float64()),
            ("commission", pa.float64()),
        ]
    ),
    "transfers": pa.schema(
        [
            _ID,
            ("transfer_date", pa.timestamp("us")),
            ("direction", pa.string()),
            ("amount", pa.float64()),
        ]
    ),
    "balances": pa.schema(
        [_ID, ("month_end", pa.date32()), ("cash", pa.float64()), ("market_value", pa.float64())]
    ),
    "events": pa.schema([_ID, ("event_date", pa.timestamp("us")), ("event_type", pa.string())]),
}
# Security mix by trading style (stock, fund, bond, other): conservative
# customers hold funds and bonds, speculators almost only stocks.
SECURITY_MIX = np.cumsum(
    [[0.45, 0.30, 0.20, 0.05], [0.70, 0.18, 0.07, 0.05], [0.85, 0.08, 0.02, 0.05]], axis=1
)
MIN_TRADE_AMOUNT = 100.0
MIN_FEE_PER_TRADE = 5.0
_MICROS_PER_DAY = 86_400_000_000


def customer_ids(customers: int) -> pa.Array:
    """Return ids "C0000001", ... zero-padded to one width so they sort naturally."""
    width = max(7, len(str(customers)))
    return pa.array(np.char.add("C", np.char.zfill(np.arange(1, customers + 1).astype(str), width)))


def label(vocabulary: tuple[str, ...], codes: np.ndarray) -> pa.Array:
    """Return the strings of a vocabulary picked by integer codes."""
    return pa.array(vocabulary, pa.string()).take(pa.array(codes))


def trade_rows(rng, calendar: MonthCalendar, month: int, ids: pa.Array, counts, ctx: dict):
    """Return this month's trades table and the commission each account paid.

    ``ctx`` holds per-account arrays: ``lo``, ``hi`` (activity window), ``size``
    (typical trade, CNY), ``cap`` (largest possible trade), ``rate``, ``min_fee``,
    ``sell_share`` and ``style``.
    """
    who = np.repeat(np.arange(len(counts)), counts)
    n = len(who)
    trade_day = days.draw_trading_days(rng, calendar, month, ctx["lo"][who], ctx["hi"][who])
    amount = ctx["size"][who] * rng.lognormal(-0.18, 0.6, n)
    amount = np.maximum(np.minimum(amount, ctx["cap"][who]), MIN_TRADE_AMOUNT).round(2)
    commission = np.maximum(ctx["rate"][who] * amount, ctx["min_fee"][who]).round(2)
    security = (rng.random(n)[:, None] > SECURITY_MIX[ctx["style"][who]]).sum(axis=1)
    side = (rng.random(n) < ctx["sell_share"][who]).astype(np.int8)  # 0 buy, 1 sell
    table = pa.table(
        [
            ids.take(pa.array(who)),
            pa.array(trade_day.astype(np.int32), pa.date32()),
            label(SECURITY_TYPES, np.minimum(security, len(SECURITY_TYPES) - 1)),
            label(SIDES, side),
            pa.array(amount),
            pa.array(commission),
        ],
        schema=ARROW_SCHEMAS["trades"],
    )
    return table, np.bincount(who, commission, minlength=len(counts))


def split_amounts(rng, counts: np.ndarray, totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split each account's total over its ``counts`` rows; return (row account, row amount)."""
    who = np.repeat(np.arange(len(counts)), counts)
    weight = 0.3 + rng.exponential(1.0, len(who))
    weight_sum = np.bincount(who, weight, minlength=len(counts))
    amount = (totals[who] * weight / weight_sum[who]).round(2)
    return who, np.maximum(amount, 0.01)


def timestamps(epoch_days: np.ndarray, seconds: np.ndarray) -> pa.Array:
    """Return Arrow microsecond timestamps from epoch days and seconds after midnight."""
    micros = epoch_days.astype(np.int64) * _MICROS_PER_DAY + seconds * 1_000_000
    return pa.array(micros, pa.timestamp("us"))


def transfer_table(ids: pa.Array, who, transfer_day, seconds, direction, amount) -> pa.Table:
    """Return a transfers table from row arrays (direction: 0 in, 1 out)."""
    return pa.table(
        [ids.take(pa.array(who)), timestamps(transfer_day, seconds), label(DIRECTIONS, direction),
         pa.array(amount)],
        schema=ARROW_SCHEMAS["transfers"],
    )  # fmt: skip


def event_rows(rng, calendar: MonthCalendar, month: int, ids, counts, lo, hi) -> pa.Table:
    """Return this month's events from a (complaint, fee_cut_request, contact) x accounts count."""
    n_accounts = counts.shape[1]
    kind = np.repeat(np.arange(len(EVENT_TYPES)), counts.sum(axis=1))
    who = np.concatenate([np.repeat(np.arange(n_accounts), row) for row in counts])
    complaint = kind == EVENT_TYPES.index("complaint")
    # Complaints come any day of the week, at any waking hour; fee talks and
    # contacts happen on working days in office hours.
    any_day = days.draw_calendar_days(rng, calendar, month, lo[who], np.maximum(hi[who], lo[who]))
    work_day = np.zeros(len(who), np.int64)
    work_day[~complaint] = days.draw_trading_days(
        rng, calendar, month, lo[who[~complaint]], hi[who[~complaint]]
    )
    event_day = np.where(complaint, any_day, work_day)
    seconds = np.where(
        complaint,
        days.seconds_in_hours(rng, len(who), 8, 22),
        days.seconds_in_hours(rng, len(who), 9, 18),
    )
    return pa.table(
        [ids.take(pa.array(who)), timestamps(event_day, seconds), label(EVENT_TYPES, kind)],
        schema=ARROW_SCHEMAS["events"],
    )


def balance_rows(calendar: MonthCalendar, month: int, ids, open_at_end, cash, market_value):
    """Return the month-end balances of the accounts still open at the month end."""
    who = np.flatnonzero(open_at_end)
    month_end = np.full(len(who), calendar.month_end[month], np.int32)
    return pa.table(
        [ids.take(pa.array(who)), pa.array(month_end, pa.date32()), pa.array(cash[who]),
         pa.array(market_value[who])],
        schema=ARROW_SCHEMAS["balances"],
    )  # fmt: skip


ACCOUNTS_PER_ADVISOR = 150
"""About how many managed accounts one simulated advisor (客户经理) looks after."""


def advisor_ids(branches, branch: np.ndarray, has_manager: np.ndarray) -> pa.Array:
    """Return each managed account's advisor (``<branch>-A07``), null for unmanaged accounts.

    Advisors are dealt round the managed accounts of each branch by a fixed
    multiplicative hash of the account's position, so no random draw is spent
    and the rest of the simulation is unchanged.
    """
    position = np.arange(len(branch), dtype=np.uint64)
    managed_per_branch = np.bincount(branch[has_manager], minlength=len(branches))
    advisors = np.maximum(managed_per_branch // ACCOUNTS_PER_ADVISOR, 1)
    number = (
        (position * np.uint64(2654435761)) % np.uint64(2**32) % advisors[branch].astype(np.uint64)
    )
    names = np.array(
        [f"{branches[b]}-A{n + 1:02d}" for b, n in zip(branch, number, strict=True)], dtype=object
    )
    return pa.array(names, pa.string(), mask=~has_manager)


def customer_rows(ids: pa.Array, population, book, months: int, branches) -> pa.Table:
    """Return the customers table; only closures inside the simulated period are recorded."""
    closed = book.close_month < months
    closed_day = np.where(closed, book.close_day, 0).astype(np.int32)
    reason = np.asarray(CLOSE_REASONS, dtype=object)[np.maximum(book.close_reason, 0)]
    return pa.table(
        [
            ids,
            pa.array(population.open_day.astype(np.int32), pa.date32()),
            pa.array(closed_day, pa.date32(), mask=~closed),
            pa.array(reason, pa.string(), mask=~closed),
            label(branches, population.branch),
            pa.array(population.birth_year, pa.int32()),
            label(CHANNELS, np.where(population.online, 0, 1)),
            advisor_ids(branches, population.branch, population.has_manager),
        ],
        schema=ARROW_SCHEMAS["customers"],
    )
