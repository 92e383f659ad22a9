"""Commission: what the broker earns from the customer, the rate paid, and drops in both.

Inputs are the panel's monthly commission and traded value (table ``trades``) and
total assets. Holds the guideline's key indicator ``warn_commission_drop``.
"""

from __future__ import annotations

import numpy as np

from features.builder.windows import Monthly, ratio, slope, value_at, window_mean, window_sum


def _commission_in(commission_monthly: Monthly, months: int) -> np.ndarray:
    return window_sum(commission_monthly, months)


def commission_1m(commission_monthly: Monthly) -> np.ndarray:
    """Sum the commission earned in the as-of month (CNY).

    Business definition: derived signal (multi-window sums): commission of all trades in the
    calendar month of the as-of date.
    """
    return _commission_in(commission_monthly, 1)


def commission_3m(commission_monthly: Monthly) -> np.ndarray:
    """Sum the commission earned in the 3 months to the as-of date (CNY).

    Business definition: derived signal (multi-window sums): commission of months T-2..T (of a
    younger account: its months).
    """
    return _commission_in(commission_monthly, 3)


def commission_12m(commission_monthly: Monthly) -> np.ndarray:
    """Sum the commission earned in the 12 months to the as-of date (CNY).

    Business definition: derived signal (multi-window sums): commission of months T-11..T (of a
    younger account: its months).
    """
    return _commission_in(commission_monthly, 12)


def commission_vs_prev(
    commission_monthly: Monthly, total_assets: np.ndarray, *, large_customer_assets: float
) -> np.ndarray:
    """Compare this month's commission with the average of the months before.

    Business definition: guideline key indicator "commission drop", its measure: commission
    this month / mean monthly commission of the previous 3 months, or of the previous 6 months
    for large customers (total assets at the as-of month end at or above the threshold; unknown
    assets count as not large). An account younger than the window plus this month (4 or 7
    months) is compared with the mean of the previous months it has. NaN when those months
    earned nothing or the account has no previous month.

    Args:
        commission_monthly: monthly commission.
        total_assets: total assets at the as-of month end.
        large_customer_assets: rules.large_customer_assets (CNY 1,000,000).
    """
    previous_3 = window_mean(commission_monthly, 3, lag=1)
    previous_6 = window_mean(commission_monthly, 6, lag=1)
    previous = np.where(total_assets >= large_customer_assets, previous_6, previous_3)
    return ratio(value_at(commission_monthly, 0), previous)


def warn_commission_drop(
    commission_vs_prev: np.ndarray, *, commission_drop_share: float
) -> np.ndarray:
    """Flag a month whose commission fell more than a share below the previous average.

    Business definition: guideline key indicator "commission drop": this month's commission
    more than 30% below the mean of the previous 3 months (6 for large customers; for a younger
    account, of the previous months it has), i.e. commission_vs_prev < 1 - 0.30 (False when
    the measure is NaN).

    Args:
        commission_vs_prev: this month's commission / the previous months' mean.
        commission_drop_share: rules.commission_drop_share (0.30).
    """
    return commission_vs_prev < 1.0 - commission_drop_share


def commission_rate_3m(commission_3m: np.ndarray, traded_amount_3m: np.ndarray) -> np.ndarray:
    """Compute the effective commission rate of the last 3 months (commission per CNY traded).

    Business definition: derived signal (effective commission rate): commission of months
    T-2..T / traded value of the same months; NaN without trades.
    """
    return ratio(commission_3m, traded_amount_3m)


def commission_rate_change(
    commission_monthly: Monthly, traded_amount_monthly: Monthly
) -> np.ndarray:
    """Measure the relative change of the effective commission rate against the 3 months before.

    Business definition: derived signal (change of the effective rate; fee cuts granted show as
    negative values): rate of months T-2..T / rate of months T-5..T-3 - 1.
    """
    recent = ratio(window_sum(commission_monthly, 3), window_sum(traded_amount_monthly, 3))
    earlier = ratio(
        window_sum(commission_monthly, 3, lag=3), window_sum(traded_amount_monthly, 3, lag=3)
    )
    return ratio(recent, earlier) - 1.0


def commission_slope_6m(commission_monthly: Monthly) -> np.ndarray:
    """Fit the monthly trend of commission over 6 months (CNY per month, per month).

    Business definition: derived signal (6-month slopes): least-squares slope of monthly
    commission over months T-5..T (of a younger account: its months; NaN below 2).
    """
    return slope(commission_monthly, 6)


def commission_yield_12m(commission_12m: np.ndarray, total_assets: np.ndarray) -> np.ndarray:
    """Relate 12 months of commission to current total assets.

    Business definition: derived signal (commission as share of value): commission of months
    T-11..T / total assets at the as-of month end; NaN for zero or unknown assets.
    """
    return ratio(commission_12m, total_assets)
