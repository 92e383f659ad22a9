"""Recency and regularity in days, and the point-in-time BTYD summary of trading.

Months since the last trade is a coarse clock; these count days, as of the
as-of month end T, from the panel's day-level trade and transfer quantities
(features/builder/quantities.py). The BTYD ("buy till you die") summary is what a
BG/NBD or Pareto/NBD model lives on: frequency (repeat trade days), recency
(first to last trade day) and age (first trade day to T), computed at T from
rows dated on or before T only. "Ever" means since the first month the data
cover: a long-standing account's first trade is its first in the export.
"""

from __future__ import annotations

import numpy as np

from features.builder.windows import (
    Monthly,
    earliest_to_date,
    latest_to_date,
    ratio,
    total_to_date,
    window_sum,
)


def days_since_last_trade(last_trade_day_monthly: Monthly, as_of_day: np.ndarray) -> np.ndarray:
    """Count days from the last trade to the as-of month end (0: traded on it).

    Business definition: derived signal (recency in days, the BTYD clock): T - the day of the
    latest trade on or before T; NaN when the account never traded.
    """
    return as_of_day - latest_to_date(last_trade_day_monthly)


def days_since_last_transfer(
    last_transfer_day_monthly: Monthly, as_of_day: np.ndarray
) -> np.ndarray:
    """Count days from the last transfer in or out to the as-of month end.

    Business definition: derived signal (recency of money movements in days): T - the day of
    the latest transfer on or before T; NaN when none ever or without the transfers table.
    """
    return as_of_day - latest_to_date(last_transfer_day_monthly)


def trade_gap_mean_days_12m(
    trade_gap_days_monthly: Monthly, trade_gaps_monthly: Monthly
) -> np.ndarray:
    """Average the gaps in days between consecutive trade days over the last 12 months.

    Business definition: derived signal (regularity: the customer's usual rhythm): mean of
    the day gaps between consecutive distinct trade days, over the gaps ending in months
    T-11..T (of a younger account: its months); NaN without such a gap (fewer than 2 trade
    days).
    """
    return ratio(window_sum(trade_gap_days_monthly, 12), window_sum(trade_gaps_monthly, 12))


def trade_gap_cv_12m(
    trade_gap_days_monthly: Monthly,
    trade_gap_squares_monthly: Monthly,
    trade_gaps_monthly: Monthly,
) -> np.ndarray:
    """Measure how irregular trading is: spread of the gaps between trade days over their mean.

    Business definition: derived signal (regularity): coefficient of variation (population
    standard deviation / mean) of the day gaps between consecutive distinct trade days ending
    in months T-11..T; 0 for a perfectly regular rhythm; NaN with fewer than 2 gaps.
    """
    count = window_sum(trade_gaps_monthly, 12)
    mean = ratio(window_sum(trade_gap_days_monthly, 12), count)
    mean_square = ratio(window_sum(trade_gap_squares_monthly, 12), count)
    spread = np.sqrt(np.maximum(mean_square - mean * mean, 0.0))
    return np.where(count >= 2, ratio(spread, mean), np.nan)


def trades_per_active_month_12m(
    trades_12m: np.ndarray, active_months_12m: np.ndarray
) -> np.ndarray:
    """Average the trades of the months with trading among the last 12.

    Business definition: derived signal (intensity when active): trades in months T-11..T /
    months among them holding a trade; NaN without a trading month.
    """
    return ratio(trades_12m, active_months_12m)


def repeat_trade_days(trade_days_monthly: Monthly) -> np.ndarray:
    """Count the distinct days with a trade after the first one, up to the as-of date.

    Business definition: BTYD frequency (repeat purchases at day resolution): distinct trade
    days on or before T, less one; NaN when the account never traded.
    """
    days = total_to_date(trade_days_monthly)
    return np.where(days > 0, days - 1.0, np.nan)


def first_to_last_trade_days(
    first_trade_day_monthly: Monthly, last_trade_day_monthly: Monthly
) -> np.ndarray:
    """Count days from the first to the latest trade on or before the as-of date.

    Business definition: BTYD recency: day of the latest trade - day of the first, both on
    or before T (0 with a single trade day); NaN when the account never traded.
    """
    return latest_to_date(last_trade_day_monthly) - earliest_to_date(first_trade_day_monthly)


def days_since_first_trade(first_trade_day_monthly: Monthly, as_of_day: np.ndarray) -> np.ndarray:
    """Count days from the first trade to the as-of month end.

    Business definition: BTYD age ("T" in BG/NBD): T - the day of the first trade; NaN when
    the account never traded (its age as a customer is tenure_months).
    """
    return as_of_day - earliest_to_date(first_trade_day_monthly)
