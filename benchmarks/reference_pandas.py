"""A straightforward pandas implementation of the core features: one groupby pass per as-of date.

The benchmark's yardstick, not product code. For every as-of month it filters
each table to the window it needs and groups by customer, as one would write it
first in pandas. It covers 33 of the registry's columns (the eight indicators,
their measures and the main windowed sums) with the same definitions, so the
benchmark can also check that both implementations agree.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pipeline.core.calendar import month_index
from pipeline.core.contract import Tables
from pipeline.core.params import Params

COLUMNS = [
    "trades_1m", "trades_3m", "trades_12m", "traded_amount_1m", "traded_amount_3m",
    "traded_amount_12m", "commission_1m", "commission_3m", "commission_12m",
    "trades_vs_prev3m", "warn_trade_drop", "commission_vs_prev", "warn_commission_drop",
    "inflow_3m", "outflow_3m", "outflow_6m", "net_flow_3m", "outflow_count_6m",
    "total_assets", "outflow_share_6m", "warn_outflow", "loss_share_1m", "warn_big_loss",
    "empty_position_streak", "warn_empty_position", "complaints_2m", "warn_complaint",
    "fee_cut_requests_2m", "warn_fee_cut_request", "contacts_recent_vs_prev3m",
    "warn_contact_drop", "months_since_last_trade", "tenure_months",
]  # fmt: skip


def _with_month(frame: pd.DataFrame, date_column: str) -> pd.DataFrame:
    return frame.assign(month=month_index(frame[date_column]))


def _window(frame: pd.DataFrame, end: int, months: int) -> pd.DataFrame:
    return frame[(frame["month"] <= end) & (frame["month"] > end - months)]


def _sum_by_customer(frame, end, months, column=None, index=None) -> pd.Series:
    part = _window(frame, end, months).groupby("customer_idx")
    total = part.size() if column is None else part[column].sum()
    return total.reindex(index, fill_value=0).astype(float)


def _mean(history: pd.Series, months: int, lag: int, total: pd.Series) -> pd.Series:
    """Per-month mean over the window's months the account existed (NaN when none did)."""
    available = (history - lag).clip(lower=0, upper=months)
    return total / available.where(available > 0)


def reference_features(tables: Tables, as_of: Sequence[pd.Timestamp], params: Params):
    """Return the reference columns for accounts open at each as-of date, sorted like the build."""
    trades = _with_month(tables.trades, "trade_date")
    transfers = _with_month(tables.transfers, "transfer_date")
    balances = _with_month(tables.balances, "month_end")
    events = _with_month(tables.events, "event_date")
    customers = tables.customers.assign(open_month=month_index(tables.customers["open_date"]))
    firsts = [frame["month"].min() for frame in (trades, transfers, balances, events) if len(frame)]
    customers.attrs["first_data_month"] = int(min(firsts))
    frames = []
    for end_date in sorted(set(as_of)):
        frames.append(_one_as_of(end_date, customers, trades, transfers, balances, events, params))
    return pd.concat(frames, ignore_index=True)


def _one_as_of(end_date, customers, trades, transfers, balances, events, params):
    end = int(month_index(pd.DatetimeIndex([end_date]))[0])
    closed = customers["closed_date"]
    is_open = (customers["open_date"] <= end_date) & (closed.isna() | (closed > end_date))
    idx = pd.Index(np.flatnonzero(is_open), name="customer_idx")
    history = pd.Series(end - customers["open_month"].to_numpy()[idx] + 1, index=idx)
    # Averages leave out the months before the first data month, as the build does.
    covered = history.clip(upper=end - customers.attrs["first_data_month"] + 1)
    out = pd.DataFrame(index=idx)
    out["customer_id"] = customers["customer_id"].to_numpy()[idx]
    out["as_of"] = end_date
    _trade_columns(out, trades, end, idx, covered, params)
    _flow_columns(out, transfers, balances, end, idx, covered, params)
    _event_columns(out, events, end, idx, covered)
    out["tenure_months"] = history - 1.0
    return out.reset_index(drop=True)[["customer_id", "as_of", *COLUMNS]]


def _trade_columns(out, trades, end, idx, history, params):
    rules = params.rules
    for months in (1, 3, 12):
        out[f"trades_{months}m"] = _sum_by_customer(trades, end, months, None, idx)
        for column, name in (("amount", "traded_amount"), ("commission", "commission")):
            out[f"{name}_{months}m"] = _sum_by_customer(trades, end, months, column, idx)
    previous = _mean(history, 3, 1, _sum_by_customer(trades, end - 1, 3, None, idx))
    out["trades_vs_prev3m"] = out["trades_1m"] / previous.replace(0, np.nan)
    out["warn_trade_drop"] = out["trades_vs_prev3m"] < rules.trade_drop_share
    fees_3 = _mean(history, 3, 1, _sum_by_customer(trades, end - 1, 3, "commission", idx))
    fees_6 = _mean(history, 6, 1, _sum_by_customer(trades, end - 1, 6, "commission", idx))
    last_month = trades[trades["month"] <= end].groupby("customer_idx")["month"].max()
    out["months_since_last_trade"] = end - last_month.reindex(idx).astype(float)
    out["_fees_3"], out["_fees_6"] = fees_3, fees_6


def _flow_columns(out, transfers, balances, end, idx, history, params):
    rules = params.rules
    outs, ins = (
        transfers[transfers["direction"] == "out"],
        transfers[transfers["direction"] == "in"],
    )
    out["inflow_3m"] = _sum_by_customer(ins, end, 3, "amount", idx)
    out["outflow_3m"] = _sum_by_customer(outs, end, 3, "amount", idx)
    out["outflow_6m"] = _sum_by_customer(outs, end, 6, "amount", idx)
    out["net_flow_3m"] = out["inflow_3m"] - out["outflow_3m"]
    out["outflow_count_6m"] = _sum_by_customer(outs, end, 6, None, idx)
    now = balances[balances["month"] == end].set_index("customer_idx").reindex(idx)
    before = balances[balances["month"] == end - 1].set_index("customer_idx").reindex(idx)
    assets = now["cash"] + now["market_value"]
    previous = (before["cash"] + before["market_value"]).where(history >= 2)
    out["total_assets"] = assets
    out["outflow_share_6m"] = out["outflow_6m"] / assets.replace(0, np.nan)
    out["warn_outflow"] = (out["outflow_count_6m"] >= rules.outflow_min_count) & (
        out["outflow_6m"] > rules.outflow_share * assets
    )
    net_1m = _sum_by_customer(ins, end, 1, "amount", idx) - _sum_by_customer(
        outs, end, 1, "amount", idx
    )
    out["loss_share_1m"] = -((assets - previous) - net_1m) / previous.replace(0, np.nan)
    out["warn_big_loss"] = out["loss_share_1m"] > rules.big_loss_share
    large = assets >= rules.large_customer_assets
    mean = out.pop("_fees_6").where(large, out.pop("_fees_3"))
    out["commission_vs_prev"] = out["commission_1m"] / mean.replace(0, np.nan)
    out["warn_commission_drop"] = out["commission_vs_prev"] < 1 - rules.commission_drop_share
    streak = _empty_streak(balances, end, idx)
    out["empty_position_streak"] = streak.where(assets.notna())
    out["warn_empty_position"] = out["empty_position_streak"] >= rules.empty_position_months


def _empty_streak(balances, end, idx) -> pd.Series:
    streak = pd.Series(0.0, index=idx)
    running = pd.Series(True, index=idx)
    for lag in range(0, 36):
        month = balances[balances["month"] == end - lag].set_index("customer_idx")
        empty = (month["market_value"] == 0).reindex(idx, fill_value=False)
        running &= empty
        if not running.any():
            break
        streak += running
    return streak


def _event_columns(out, events, end, idx, history):
    kinds = {
        kind: events[events["event_type"] == kind]
        for kind in ("complaint", "fee_cut_request", "contact")
    }
    out["complaints_2m"] = _sum_by_customer(kinds["complaint"], end, 2, None, idx)
    out["warn_complaint"] = out["complaints_2m"] > 0
    requests = _sum_by_customer(kinds["fee_cut_request"], end, 2, None, idx)
    out["fee_cut_requests_2m"] = requests
    out["warn_fee_cut_request"] = out["fee_cut_requests_2m"] > 0
    contacts = kinds["contact"]
    this = _sum_by_customer(contacts, end, 1, None, idx)
    last = _sum_by_customer(contacts, end - 1, 1, None, idx)
    previous = _mean(history, 3, 2, _sum_by_customer(contacts, end - 2, 3, None, idx))
    out["contacts_recent_vs_prev3m"] = np.maximum(this, last) / previous.replace(0, np.nan)
    out["warn_contact_drop"] = out["contacts_recent_vs_prev3m"] < 1
