"""Market-relative signals: a customer's ratios against all accounts open the same month.

In a bear month everyone trades less and many sit in cash without leaving; a
customer's drop means more when it is larger than the market's. These features
are the one cross-customer step of the build: their ``*_market_median`` and
``*_market_pct`` inputs come from the month's market reference
(features/builder/reference.py), computed over every open account of that as-of month.

Activity ratios (recent vs earlier trading) are divided by the month's median.
Flow and return ratios are signed and their median is often exactly 0 (most
accounts move no money in a given half year), so they are compared by
difference instead; every ratio also gets its percentile that month.
"""

from __future__ import annotations

import numpy as np

from features.builder.windows import ratio


def trades_ratio_vs_market(
    trades_3m_vs_prev_3m: np.ndarray, trades_3m_vs_prev_3m_market_median: np.ndarray
) -> np.ndarray:
    """Divide the customer's recent-vs-earlier trade ratio by the month's median ratio.

    Business definition: market-relative signal (issue 3 section 3): trades_3m_vs_prev_3m / its
    median over accounts open that month; below 1 means trading fell more than the market's.
    """
    return ratio(trades_3m_vs_prev_3m, trades_3m_vs_prev_3m_market_median)


def trades_ratio_market_pct(trades_3m_vs_prev_3m_market_pct: np.ndarray) -> np.ndarray:
    """Rank the customer's recent-vs-earlier trade ratio among open accounts (0 to 1).

    Business definition: market-relative signal: percentile of trades_3m_vs_prev_3m that month.
    """
    return trades_3m_vs_prev_3m_market_pct


def amount_ratio_vs_market(
    traded_amount_3m_vs_prev_3m: np.ndarray,
    traded_amount_3m_vs_prev_3m_market_median: np.ndarray,
) -> np.ndarray:
    """Divide the customer's recent-vs-earlier traded value ratio by the month's median ratio.

    Business definition: market-relative signal: traded_amount_3m_vs_prev_3m / its median over
    accounts open that month.
    """
    return ratio(traded_amount_3m_vs_prev_3m, traded_amount_3m_vs_prev_3m_market_median)


def amount_ratio_market_pct(traded_amount_3m_vs_prev_3m_market_pct: np.ndarray) -> np.ndarray:
    """Rank the customer's recent-vs-earlier traded value ratio among open accounts (0 to 1).

    Business definition: market-relative signal: percentile of traded_amount_3m_vs_prev_3m that
    month.
    """
    return traded_amount_3m_vs_prev_3m_market_pct


def outflow_share_above_market(
    outflow_share_6m: np.ndarray, outflow_share_6m_market_median: np.ndarray
) -> np.ndarray:
    """Subtract the month's median 6-month outflow share from the customer's.

    Business definition: market-relative signal: outflow_share_6m minus its median over
    accounts open that month (the median is usually 0, so a ratio would be undefined).
    """
    return outflow_share_6m - outflow_share_6m_market_median


def outflow_share_market_pct(outflow_share_6m_market_pct: np.ndarray) -> np.ndarray:
    """Rank the customer's 6-month outflow share among open accounts (0 to 1).

    Business definition: market-relative signal: percentile of outflow_share_6m that month.
    """
    return outflow_share_6m_market_pct


def net_flow_share_above_market(
    net_flow_share_3m: np.ndarray, net_flow_share_3m_market_median: np.ndarray
) -> np.ndarray:
    """Subtract the month's median 3-month net flow share from the customer's.

    Business definition: market-relative signal: net_flow_share_3m minus its median over
    accounts open that month (signed, so compared by difference).
    """
    return net_flow_share_3m - net_flow_share_3m_market_median


def net_flow_share_market_pct(net_flow_share_3m_market_pct: np.ndarray) -> np.ndarray:
    """Rank the customer's 3-month net flow share among open accounts (0 to 1).

    Business definition: market-relative signal: percentile of net_flow_share_3m that month.
    """
    return net_flow_share_3m_market_pct


def market_return_above_market(
    market_return_3m: np.ndarray, market_return_3m_market_median: np.ndarray
) -> np.ndarray:
    """Subtract the month's median 3-month market return from the customer's.

    Business definition: market-relative signal: market_return_3m minus its median over
    accounts open that month, so a loss the whole market shared reads as ordinary.
    """
    return market_return_3m - market_return_3m_market_median


def market_return_market_pct(market_return_3m_market_pct: np.ndarray) -> np.ndarray:
    """Rank the customer's 3-month market return among open accounts (0 to 1).

    Business definition: market-relative signal: percentile of market_return_3m that month.
    """
    return market_return_3m_market_pct
