"""Fund flows: bank <-> brokerage transfers in, out and net, and their weight against assets.

Inputs are the panel's monthly transfer amounts and counts (table ``transfers``,
optional: without it every feature here is NaN and ``warn_outflow`` False) and
total assets (table ``balances``). Holds the guideline's key indicator
``warn_outflow``.
"""

from __future__ import annotations

import numpy as np

from features.builder.windows import Monthly, months_since_positive, ratio, window_sum


def inflow_1m(inflow_monthly: Monthly) -> np.ndarray:
    """Sum transfers in (bank to brokerage) of the as-of month (CNY).

    Business definition: derived signal (multi-window sums of inflow).
    """
    return window_sum(inflow_monthly, 1)


def inflow_3m(inflow_monthly: Monthly) -> np.ndarray:
    """Sum transfers in of the 3 months to the as-of date (CNY).

    Business definition: derived signal (multi-window sums of inflow); of a younger account,
    its months.
    """
    return window_sum(inflow_monthly, 3)


def inflow_12m(inflow_monthly: Monthly) -> np.ndarray:
    """Sum transfers in of the 12 months to the as-of date (CNY).

    Business definition: derived signal (multi-window sums of inflow); of a younger account,
    its months.
    """
    return window_sum(inflow_monthly, 12)


def outflow_1m(outflow_monthly: Monthly) -> np.ndarray:
    """Sum transfers out (brokerage to bank) of the as-of month (CNY).

    Business definition: derived signal (multi-window sums of outflow).
    """
    return window_sum(outflow_monthly, 1)


def outflow_3m(outflow_monthly: Monthly) -> np.ndarray:
    """Sum transfers out of the 3 months to the as-of date (CNY).

    Business definition: derived signal (multi-window sums of outflow); of a younger account,
    its months.
    """
    return window_sum(outflow_monthly, 3)


def outflow_6m(outflow_monthly: Monthly) -> np.ndarray:
    """Sum transfers out of the 6 months to the as-of date (CNY).

    Business definition: guideline key indicator "fund outflow", its numerator: transfers out
    in months T-5..T (of a younger account: its months).
    """
    return window_sum(outflow_monthly, 6)


def outflow_12m(outflow_monthly: Monthly) -> np.ndarray:
    """Sum transfers out of the 12 months to the as-of date (CNY).

    Business definition: derived signal (multi-window sums of outflow); of a younger account,
    its months.
    """
    return window_sum(outflow_monthly, 12)


def net_flow_1m(net_flow_monthly: Monthly) -> np.ndarray:
    """Sum transfers in less transfers out of the as-of month (CNY, negative: money left).

    Business definition: derived signal (net flow); the customer's part of the month's asset
    change (the rest is market profit or loss, see market_pnl_1m).
    """
    return window_sum(net_flow_monthly, 1)


def net_flow_3m(net_flow_monthly: Monthly) -> np.ndarray:
    """Sum net transfers in of the 3 months to the as-of date (CNY).

    Business definition: derived signal (net flow over 3 months).
    """
    return window_sum(net_flow_monthly, 3)


def net_flow_12m(net_flow_monthly: Monthly) -> np.ndarray:
    """Sum net transfers in of the 12 months to the as-of date (CNY).

    Business definition: derived signal (net flow over 12 months); also the proxy for the
    guideline's "asset growth potential" in customer value.
    """
    return window_sum(net_flow_monthly, 12)


def outflow_count_6m(outflow_count_monthly: Monthly) -> np.ndarray:
    """Count transfers out in the 6 months to the as-of date.

    Business definition: guideline key indicator "fund outflow", its count condition: number of
    transfers out in months T-5..T (of a younger account: its months).
    """
    return window_sum(outflow_count_monthly, 6)


def outflow_share_6m(outflow_6m: np.ndarray, total_assets: np.ndarray) -> np.ndarray:
    """Relate 6 months of transfers out to current total assets.

    Business definition: guideline key indicator "fund outflow", its measure: transfers out in
    the last 6 months / total assets (cash + market value) at the as-of month end. NaN when
    assets are zero or unknown (no balance row that month, or no balances table).
    """
    return ratio(outflow_6m, total_assets)


def warn_outflow(
    outflow_6m: np.ndarray,
    outflow_count_6m: np.ndarray,
    total_assets: np.ndarray,
    *,
    outflow_share: float,
    outflow_min_count: int,
) -> np.ndarray:
    """Flag customers moving a large share of their assets out of the brokerage.

    Business definition: guideline key indicator "fund outflow": at least 1 transfer out in the
    last 6 months and their sum above 30% of current total assets. Compared without dividing,
    so an account emptied to zero assets by its transfers out is flagged; unknown assets give
    False. An account younger than 6 months counts the transfers of its months, which are all
    its transfers of the last 6 months.

    Args:
        outflow_6m: transfers out in the last 6 months (CNY).
        outflow_count_6m: number of those transfers.
        total_assets: total assets at the as-of month end (CNY).
        outflow_share: rules.outflow_share (0.30).
        outflow_min_count: rules.outflow_min_count (1).
    """
    return (outflow_count_6m >= outflow_min_count) & (outflow_6m > outflow_share * total_assets)


def net_flow_share_3m(net_flow_3m: np.ndarray, total_assets: np.ndarray) -> np.ndarray:
    """Relate 3 months of net transfers in to current total assets (negative: money leaving).

    Business definition: derived signal (flow ratio): net transfers in of months T-2..T / total
    assets at the as-of month end; NaN for zero or unknown assets.
    """
    return ratio(net_flow_3m, total_assets)


def months_since_last_inflow(inflow_monthly: Monthly) -> np.ndarray:
    """Count months since the last month with a transfer in (0: this month).

    Business definition: derived signal (recency of transfers in); NaN when none ever.
    """
    return months_since_positive(inflow_monthly)
