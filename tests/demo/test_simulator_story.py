"""The demo data tells the intended story: noisy warning signs, cause-specific precursors.

One 5,000-account, 36-month book (seed 2024) is simulated once; each test
checks one part of the story in docs/demo-data.md on the rows as written.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.demo import simulate, simulated_market

SEED, MONTHS, START = 2024, 36, "2021-01"
DRAINING_CAUSES = ("poached", "relocation", "private_fund", "incentive")


def _month(dates: pd.Series) -> pd.Series:
    """Month index from the start: January 2021 is 0."""
    return (dates.dt.year - 2021) * 12 + dates.dt.month - 1


@pytest.fixture(scope="module")
def book() -> dict[str, pd.DataFrame]:
    tables = simulate(5000, MONTHS, SEED, START)
    for table, column in {
        "trades": "trade_date",
        "transfers": "transfer_date",
        "balances": "month_end",
        "events": "event_date",
    }.items():
        tables[table]["month"] = _month(tables[table][column])
    customers = tables["customers"]
    customers["close_month"] = _month(customers["closed_date"])
    return tables


@pytest.fixture(scope="module")
def bear() -> np.ndarray:
    return simulated_market(SEED, MONTHS).bear


def _outflow_share_3m(book, pairs: pd.DataFrame) -> pd.Series:
    """Transfers out in months T-2..T over total assets at the end of T-3, per (customer_id, T)."""
    out = book["transfers"].query("direction == 'out'").groupby(["customer_id", "month"])["amount"]
    out = out.sum()
    balances = book["balances"].set_index(["customer_id", "month"])
    assets = balances["cash"] + balances["market_value"]
    flows = sum(
        out.reindex(pd.MultiIndex.from_arrays([pairs.customer_id, pairs["T"] - lag]))
        .fillna(0.0)
        .to_numpy()
        for lag in range(3)
    )
    base = assets.reindex(pd.MultiIndex.from_arrays([pairs.customer_id, pairs["T"] - 3]))
    return pd.Series(flows / np.maximum(base.to_numpy(), 1.0)).clip(upper=2.0)


def _stayer_balances(book) -> pd.DataFrame:
    customers = book["customers"]
    stayers = customers.customer_id[customers.closed_date.isna()]
    return book["balances"][book["balances"].customer_id.isin(stayers)]


def _churner_pairs(customers: pd.DataFrame, causes=None) -> pd.DataFrame:
    closed = customers.dropna(subset=["closed_date"])
    if causes is not None:
        closed = closed[closed.close_reason.isin(causes)]
    pairs = pd.DataFrame({"customer_id": closed.customer_id, "T": closed.close_month - 1})
    return pairs[pairs["T"] >= 4]


def test_churners_drain_funds_before_closing_more_than_stayers(book):
    customers = book["customers"]
    stayer_pairs = _stayer_balances(book).query("month >= 4")
    stayer_share = _outflow_share_3m(book, stayer_pairs.rename(columns={"month": "T"}))
    churner_share = _outflow_share_3m(book, _churner_pairs(customers))
    assert churner_share.mean() > 2 * stayer_share.mean()
    # Yet outflows are no proof: many stayers move large sums out too.
    assert (stayer_share > 0.3).mean() > 0.02


def test_draining_causes_move_money_out_and_silent_causes_mostly_do_not(book):
    customers = book["customers"]
    draining = _outflow_share_3m(book, _churner_pairs(customers, DRAINING_CAUSES))
    identity = _outflow_share_3m(book, _churner_pairs(customers, ["identity"]))
    assert draining.median() > 2 * identity.median()


def test_bear_months_trade_less_than_bull_months(book, bear):
    trades = book["trades"].groupby("month").size()
    open_accounts = book["balances"].groupby("month").size()
    per_account = (trades / open_accounts).to_numpy()
    assert bear.any() and (~bear).any()
    assert per_account[bear].mean() < 0.7 * per_account[~bear].mean()


def test_stayers_sit_in_cash_too_mostly_in_bear_months(book, bear):
    balances = _stayer_balances(book)
    empty_share = (balances.market_value == 0).groupby(balances.month).mean().to_numpy()
    assert empty_share[bear].mean() > 0.10
    assert empty_share[bear].mean() > 2 * empty_share[~bear].mean()
    # The guideline's "empty two months running" fires for many who never leave.
    wide = (balances.market_value == 0).groupby([balances.customer_id, balances.month]).any()
    wide = wide.unstack(fill_value=False).to_numpy()
    two_running = (wide[:, 1:] & wide[:, :-1]).any(axis=1)
    assert two_running.mean() > 0.10


def test_yearly_churn_is_higher_after_bear_months(book, bear):
    closures = book["customers"].close_month.value_counts().reindex(range(MONTHS), fill_value=0)
    open_accounts = book["balances"].groupby("month").size().reindex(range(MONTHS))
    rate = closures.to_numpy()[1:] / open_accounts.to_numpy()[:-1]
    recent_bear = np.array([bear[max(0, m - 4) : m].any() for m in range(1, MONTHS)])
    assert rate[recent_bear].mean() > rate[~recent_bear].mean()


def test_complaints_precede_big_loss_and_service_closures(book):
    customers = book["customers"]
    unhappy = customers[customers.close_reason.isin(["big_loss", "service"])]
    complaints = book["events"].query("event_type == 'complaint'")
    before = complaints.merge(unhappy[["customer_id", "close_month"]], on="customer_id")
    before = before[before.month >= before.close_month - 3]
    unhappy_rate = len(before) / (3 * len(unhappy))
    stayers = customers.closed_date.isna()
    stayer_rate = complaints.customer_id.isin(set(customers.customer_id[stayers])).sum() / (
        book["balances"].customer_id.isin(set(customers.customer_id[stayers])).sum()
    )
    assert unhappy_rate > 3 * stayer_rate


def test_fee_cuts_lower_the_commission_rate_of_those_who_ask(book):
    # Large trades only, so the 5-yuan minimum does not blur the rate.
    trades = book["trades"].query("amount > 20000")
    rate = (trades.commission / trades.amount).groupby([trades.customer_id, trades.month]).mean()
    requests = book["events"].query("event_type == 'fee_cut_request'")
    first = requests.groupby("customer_id").month.min()
    rate = rate.reset_index(name="rate").merge(first.rename("asked"), on="customer_id")
    before = rate[(rate.month < rate.asked) & (rate.month >= rate.asked - 3)]
    after = rate[(rate.month > rate.asked) & (rate.month <= rate.asked + 3)]
    both = (
        before.groupby("customer_id")
        .rate.mean()
        .to_frame("before")
        .join(after.groupby("customer_id").rate.mean().rename("after"), how="inner")
    )
    assert len(both) > 100
    # About half are granted a cut of 15-45%: the mean ratio is near 0.85.
    assert (both.after / both.before).mean() < 0.95
