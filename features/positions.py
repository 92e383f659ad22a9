"""Positions: assets at month ends, their changes, and how much of a change the market made.

Inputs are the panel's month-end cash, market value and total assets (table
``balances``, optional; a month without a balance row is NaN, not 0) and net
transfers in (table ``transfers``). Holds the guideline's key indicator
``warn_empty_position`` and auxiliary indicator ``warn_big_loss``.
"""

from __future__ import annotations

import numpy as np

from features.builder.windows import (
    Monthly,
    ratio,
    trailing_streak,
    value_at,
    window_max,
    window_sum,
)


def total_assets(assets_monthly: Monthly) -> np.ndarray:
    """Read total assets (cash + market value) at the as-of month end (CNY).

    Business definition: contract's total assets = cash + market_value of the as-of month's
    balance row; NaN when that row is missing.
    """
    return value_at(assets_monthly, 0)


def cash_share(cash_monthly: Monthly, total_assets: np.ndarray) -> np.ndarray:
    """Share of total assets held as cash at the as-of month end.

    Business definition: derived signal (asset level): cash / total assets; 1 means an empty
    position; NaN for zero or unknown assets.
    """
    return ratio(value_at(cash_monthly, 0), total_assets)


def cash_mean_12m(cash_monthly: Monthly) -> np.ndarray:
    """Average the month-end cash balance over the last 12 months (CNY).

    Business definition: the broker's interest-spread revenue is earned on the client's average
    cash balance (branch value documents: revenue = commission + interest spread on client
    cash): mean month-end cash over the months of T-11..T that have a balance row (of a
    younger account: its months); NaN when none has.
    """
    if not cash_monthly.available:
        return cash_monthly.nan()
    known = ~np.isnan(cash_monthly.values)
    clock = cash_monthly.clock
    total = window_sum(Monthly(np.where(known, cash_monthly.values, 0.0), clock), 12)
    return ratio(total, window_sum(Monthly(known.astype(np.float64), clock), 12))


def _asset_change(assets_monthly: Monthly, months: int) -> np.ndarray:
    return ratio(value_at(assets_monthly, 0), value_at(assets_monthly, months)) - 1.0


def asset_change_1m(assets_monthly: Monthly) -> np.ndarray:
    """Relative change of total assets over the last month.

    Business definition: derived signal (asset change over 1 month): assets at T / assets at
    T-1 month end - 1; NaN when either is missing or the earlier is zero.
    """
    return _asset_change(assets_monthly, 1)


def asset_change_3m(assets_monthly: Monthly) -> np.ndarray:
    """Relative change of total assets over the last 3 months.

    Business definition: derived signal (asset change over 3 months): assets at T / assets at
    T-3 - 1.
    """
    return _asset_change(assets_monthly, 3)


def asset_change_6m(assets_monthly: Monthly) -> np.ndarray:
    """Relative change of total assets over the last 6 months.

    Business definition: derived signal (asset change over 6 months): assets at T / assets at
    T-6 - 1.
    """
    return _asset_change(assets_monthly, 6)


def drawdown_12m(assets_monthly: Monthly, total_assets: np.ndarray) -> np.ndarray:
    """Measure how far total assets sit below their 12-month peak.

    Business definition: derived signal (drawdown from the 12-month peak): 1 - assets at T /
    highest known month-end assets of months T-11..T (of a younger account: its months).
    """
    return 1.0 - ratio(total_assets, window_max(assets_monthly, 12))


def market_pnl_1m(assets_monthly: Monthly, net_flow_monthly: Monthly) -> np.ndarray:
    """Split out the market's part of the month's asset change (CNY).

    Business definition: contract's profit/loss = change in total assets less the month's net
    transfers in, so a market fall is not read as money leaving.
    """
    change = value_at(assets_monthly, 0) - value_at(assets_monthly, 1)
    return change - window_sum(net_flow_monthly, 1)


def market_pnl_3m(assets_monthly: Monthly, net_flow_monthly: Monthly) -> np.ndarray:
    """Split out the market's part of the asset change over 3 months (CNY).

    Business definition: derived signal (market P&L vs net flow): assets at T - assets at T-3
    less net transfers in of months T-2..T.
    """
    change = value_at(assets_monthly, 0) - value_at(assets_monthly, 3)
    return change - window_sum(net_flow_monthly, 3)


def market_return_3m(market_pnl_3m: np.ndarray, assets_monthly: Monthly) -> np.ndarray:
    """Relate 3 months of market profit or loss to the assets held 3 months ago.

    Business definition: derived signal (market P&L share): market_pnl_3m / assets at T-3.
    """
    return ratio(market_pnl_3m, value_at(assets_monthly, 3))


def loss_share_1m(market_pnl_1m: np.ndarray, assets_monthly: Monthly) -> np.ndarray:
    """Relate this month's loss to the assets held at the start of the month.

    Business definition: guideline auxiliary indicator "big loss", its measure: the month's
    loss (minus its profit/loss) / total assets at the previous month end; negative for a
    gain; NaN when the previous assets are zero or unknown.
    """
    return ratio(-market_pnl_1m, value_at(assets_monthly, 1))


def warn_big_loss(loss_share_1m: np.ndarray, *, big_loss_share: float) -> np.ndarray:
    """Flag a month whose loss exceeded a share of the assets.

    Business definition: guideline auxiliary indicator "big loss": this month's loss above 50%
    of assets (False when the measure is NaN).

    Args:
        loss_share_1m: the month's loss / assets at the previous month end.
        big_loss_share: rules.big_loss_share (0.50).
    """
    return loss_share_1m > big_loss_share


def empty_position_streak(market_value_monthly: Monthly) -> np.ndarray:
    """Count the month ends in a row, up to the as-of, with zero market value.

    Business definition: guideline key indicator "empty position", its measure: consecutive
    month ends ending at T whose market value is zero (a missing balance row breaks the run,
    so the run never reaches before the account opened). NaN when the as-of month's balance
    row is missing.

    Args:
        market_value_monthly: month-end market value.
    """
    if not market_value_monthly.available:
        return market_value_monthly.nan()
    clock = market_value_monthly.clock
    streak = trailing_streak(market_value_monthly.values == 0, clock)
    streak[np.isnan(value_at(market_value_monthly, 0))] = np.nan
    return streak


def warn_empty_position(
    empty_position_streak: np.ndarray, *, empty_position_months: int
) -> np.ndarray:
    """Flag customers who have held no securities for several month ends in a row.

    Business definition: guideline key indicator "empty position": market value zero at this
    and the previous month end (2 months in a row).

    Args:
        empty_position_streak: month ends in a row with zero market value.
        empty_position_months: rules.empty_position_months (2).
    """
    return empty_position_streak >= empty_position_months
