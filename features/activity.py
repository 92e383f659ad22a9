"""Trading activity: how often and how much the customer trades, and whether it is fading.

Inputs are the panel's monthly trade counts and traded amounts (table ``trades``).
Holds the guideline's auxiliary indicator ``warn_trade_drop``.
"""

from __future__ import annotations

import numpy as np

from features.builder.windows import (
    Monthly,
    months_positive,
    months_since_positive,
    ratio,
    slope,
    value_at,
    window_mean,
    window_sum,
)


def _trades_in(trades_monthly: Monthly, months: int) -> np.ndarray:
    return window_sum(trades_monthly, months)


def trades_1m(trades_monthly: Monthly) -> np.ndarray:
    """Count trades in the as-of month.

    Business definition: derived signal (issue 3 section 3, multi-window counts): trades
    executed in the calendar month of the as-of date.
    """
    return _trades_in(trades_monthly, 1)


def trades_3m(trades_monthly: Monthly) -> np.ndarray:
    """Count trades in the 3 months to the as-of date.

    Business definition: derived signal (multi-window counts): trades in the as-of month and
    the 2 before it (of a younger account: its months).
    """
    return _trades_in(trades_monthly, 3)


def trades_12m(trades_monthly: Monthly) -> np.ndarray:
    """Count trades in the 12 months to the as-of date.

    Business definition: derived signal (multi-window counts): trades over the last 12 months
    (of a younger account: its months).
    """
    return _trades_in(trades_monthly, 12)


def _amount_in(traded_amount_monthly: Monthly, months: int) -> np.ndarray:
    return window_sum(traded_amount_monthly, months)


def traded_amount_1m(traded_amount_monthly: Monthly) -> np.ndarray:
    """Sum the traded value of the as-of month (CNY).

    Business definition: derived signal (multi-window sums): value of all trades in the
    calendar month of the as-of date.
    """
    return _amount_in(traded_amount_monthly, 1)


def traded_amount_3m(traded_amount_monthly: Monthly) -> np.ndarray:
    """Sum the traded value of the 3 months to the as-of date (CNY).

    Business definition: derived signal (multi-window sums): value of all trades in the last
    3 months (of a younger account: its months).
    """
    return _amount_in(traded_amount_monthly, 3)


def traded_amount_12m(traded_amount_monthly: Monthly) -> np.ndarray:
    """Sum the traded value of the 12 months to the as-of date (CNY).

    Business definition: derived signal (multi-window sums): value of all trades in the last
    12 months (of a younger account: its months).
    """
    return _amount_in(traded_amount_monthly, 12)


def trades_vs_prev3m(trades_monthly: Monthly) -> np.ndarray:
    """Compare this month's trade count with the average of the 3 months before.

    Business definition: guideline auxiliary indicator "trade drop", its measure: trades this
    month / mean monthly trades of the previous 3 months (of an account younger than 4 months:
    the mean over its previous months). NaN when those months hold no trade (nothing to drop
    from) or the account has no previous month.
    """
    return ratio(value_at(trades_monthly, 0), window_mean(trades_monthly, 3, lag=1))


def warn_trade_drop(trades_vs_prev3m: np.ndarray, *, trade_drop_share: float) -> np.ndarray:
    """Flag a month whose trade count fell below a share of the previous 3-month average.

    Business definition: guideline auxiliary indicator "trade drop": trade count this month
    below 50% of the previous 3-month average (for an account younger than 4 months, the
    average of the previous months it has; False when the measure is NaN).

    Args:
        trades_vs_prev3m: this month's trades / previous 3-month average.
        trade_drop_share: rules.trade_drop_share, the share of the average (0.50).
    """
    return trades_vs_prev3m < trade_drop_share


def _recent_vs_earlier(series: Monthly, months: int) -> np.ndarray:
    # Monthly means, so a young account's partial earlier window compares like for like.
    return ratio(window_mean(series, months), window_mean(series, months, lag=months))


def trades_3m_vs_prev_3m(trades_monthly: Monthly) -> np.ndarray:
    """Compare trades of the last 3 months with the 3 months before them.

    Business definition: derived signal (ratio of recent to earlier windows): mean monthly
    trades of months T-2..T / of months T-5..T-3, each over the months the account existed
    (for a full history, trades of the one window over the other); NaN when the earlier window
    holds no trade or no month of the account.
    """
    return _recent_vs_earlier(trades_monthly, 3)


def traded_amount_3m_vs_prev_3m(traded_amount_monthly: Monthly) -> np.ndarray:
    """Compare traded value of the last 3 months with the 3 months before them.

    Business definition: derived signal (ratio of recent to earlier windows): mean monthly
    traded value of months T-2..T / of months T-5..T-3, each over the months the account
    existed; NaN when the earlier window holds no trade or no month of the account.
    """
    return _recent_vs_earlier(traded_amount_monthly, 3)


def trades_slope_6m(trades_monthly: Monthly) -> np.ndarray:
    """Fit the monthly trend of trade counts over 6 months (trades per month, per month).

    Business definition: derived signal (6-month slopes): least-squares slope of the monthly
    trade count over months T-5..T (of a younger account: its months; NaN below 2); negative
    when trading fades.
    """
    return slope(trades_monthly, 6)


def months_since_last_trade(trades_monthly: Monthly) -> np.ndarray:
    """Count months since the last month with a trade (0: traded this month).

    Business definition: derived signal (recency): as-of month minus the last month holding a
    trade; NaN when the account never traded.
    """
    return months_since_positive(trades_monthly)


def active_months_12m(trades_monthly: Monthly) -> np.ndarray:
    """Count months with at least one trade among the last 12.

    Business definition: derived signal (months with activity): months T-11..T holding a trade
    (of a younger account: among its months).
    """
    return months_positive(trades_monthly, 12)


def turnover_3m(traded_amount_3m: np.ndarray, total_assets: np.ndarray) -> np.ndarray:
    """Relate 3 months of traded value to current total assets.

    Business definition: derived signal (turnover): traded value of the last 3 months / total
    assets (cash + market value) at the as-of month end; NaN for zero or unknown assets.
    """
    return ratio(traded_amount_3m, total_assets)
