"""The simulated retention desk: advisors call the accounts of a call list, and some stay.

The retention loop (docs/retention-loop.md) needs a world that answers calls.
Given a month's call plan (the accounts of the lists ``churn score`` wrote, and
the held-back control accounts), the desk acts on the first trading day of the
next month: each contacted account is reached with probability
:data:`REACH_RATE`; a reached account that has decided to leave (an episode
that will end in closure in a later month) is won back with the probability
its *true* cause gives in :data:`CONTACT_SAVES` - relocation and identity
cannot be talked out of, a service or fee grievance often can. Control
accounts are not called. Every planned account open that day gets one row of
``retention_actions``, control accounts included, so the measured effect can
compare like with like.

The desk draws from its own random stream, so a run with calls and one without
live through the same market and the same customers' other choices.
The desk also keeps the ground truth the measurement is checked against: which
contacted accounts it saved and in which month they would have closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from pipeline.demo import days, rows
from pipeline.demo.book import NEVER, NO_CAUSE, Book
from pipeline.demo.days import MonthCalendar

CONTACT_SAVES = np.array(
    # identity relocation service big_loss commission incentive poached
    # relationship fee_cut_demand private_fund other
    [0.0, 0.0, 0.6, 0.35, 0.45, 0.3, 0.25, 0.2, 0.5, 0.3, 0.15]
)
"""Per true cause, the chance that reaching a leaving customer wins them back."""
REACH_RATE = 0.8
"""Share of planned calls that reach the customer."""


@dataclass(frozen=True)
class CallPlan:
    """One month's call plan: account positions, the play chosen, and the control marker."""

    accounts: np.ndarray  # positions in the book
    plays: np.ndarray  # playbook cause names
    control: np.ndarray  # held back, not called


@dataclass
class DeskRecord:
    """What the desk did: per contacted account, its play, whether saved and when it would close."""

    list_month: list[int] = field(default_factory=list)
    accounts: list[np.ndarray] = field(default_factory=list)
    plays: list[np.ndarray] = field(default_factory=list)
    saved_close_month: list[np.ndarray] = field(default_factory=list)  # NEVER when not saved


def call_accounts(
    rng: np.random.Generator,
    calendar: MonthCalendar,
    ids: pa.Array,
    book: Book,
    month: int,
    plan: CallPlan,
    record: DeskRecord,
) -> pa.Table:
    """Act on a plan on the first trading day of ``month``; return its retention_actions rows."""
    day = int(calendar.first_day[month] + calendar.trading_days[month][0] - 1)
    first_day = int(calendar.first_day[month])
    still_open = (book.close_month[plan.accounts] >= month) & ~(
        (book.close_day[plan.accounts] >= 0) & (book.close_day[plan.accounts] < first_day)
    )
    accounts, plays = plan.accounts[still_open], plan.plays[still_open]
    control = plan.control[still_open]
    called = ~control
    reached = called & (rng.random(len(accounts)) < REACH_RATE)
    cause = book.episode_cause[accounts]
    leaving = (cause != NO_CAUSE) & book.episode_closes[accounts]
    leaving &= book.close_month[accounts] > month
    chance = np.where(cause >= 0, CONTACT_SAVES[np.maximum(cause, 0)], 0.0)
    saved = reached & leaving & (rng.random(len(accounts)) < chance)
    saved_close = np.where(saved, book.close_month[accounts], NEVER)
    book.episode_closes[accounts[saved]] = False
    book.close_month[accounts[saved]] = NEVER
    record.list_month.append(month - 1)
    record.accounts.append(accounts[called])
    record.plays.append(plays[called])
    record.saved_close_month.append(saved_close[called])
    outcome = np.where(
        control,
        "not_contacted",
        np.where(saved, "retained", np.where(reached, "reached", "not_reached")),
    )
    seconds = days.seconds_in_hours(rng, len(accounts), 9, 18)
    return pa.table(
        {
            "customer_id": ids.take(pa.array(accounts)),
            "action_date": rows.timestamps(np.full(len(accounts), day), seconds),
            "play": pa.array(plays.astype(str), pa.string()),
            "channel": pa.array(np.where(called, "phone", None), pa.string()),
            "outcome": pa.array(outcome, pa.string()),
            "control": pa.array(control, pa.bool_()),
        }
    )


def true_effects(record: DeskRecord, horizon_months: int) -> dict[str, tuple[float, int]]:
    """Return, per play and over all (``"all plays"``), the churn the calls prevented.

    Like the measurement (pipeline/retention/effect.py), each contacted account
    counts once, at its first list month T0 and with that list's play: it is
    prevented when some call saved it from a closure inside (T0, T0+H] - the
    intention-to-treat effect of being put on the list to call - with the
    number of contacted accounts behind each figure.
    """
    if not record.accounts:
        return {}
    months = np.concatenate(
        [np.full(len(a), m) for m, a in zip(record.list_month, record.accounts, strict=True)]
    )
    accounts = np.concatenate(record.accounts)
    plays = np.concatenate(record.plays).astype(str)
    closes = np.concatenate(record.saved_close_month)
    first = {}
    for account, month, play in zip(accounts, months, plays, strict=True):
        first.setdefault(int(account), (int(month), play))
    saved_close = {}
    for account, close in zip(accounts, closes, strict=True):
        if close != NEVER:
            saved_close[int(account)] = min(int(close), saved_close.get(int(account), NEVER))
    prevented = {
        a: saved_close.get(a, NEVER) <= month + horizon_months for a, (month, _) in first.items()
    }
    by_play: dict[str, list[bool]] = {}
    for account, (_, play) in first.items():
        by_play.setdefault(play, []).append(prevented[account])
    effects = {play: (float(np.mean(v)), len(v)) for play, v in sorted(by_play.items())}
    effects["all plays"] = (float(np.mean(list(prevented.values()))), len(prevented))
    return effects
