"""Trade mix: what the customer trades (stocks, funds, bonds) over the last 12 months.

Inputs are the panel's monthly traded value per ``trades.security_type``; when
that optional column is absent these features are NaN. Trades with a missing
security type count in the total but in no type.
"""

from __future__ import annotations

import numpy as np

from features.builder.windows import Monthly, ratio, window_sum


def _share_12m(kind_amount_monthly: Monthly, traded_amount_monthly: Monthly) -> np.ndarray:
    return ratio(window_sum(kind_amount_monthly, 12), window_sum(traded_amount_monthly, 12))


def stock_share_12m(stock_amount_monthly: Monthly, traded_amount_monthly: Monthly) -> np.ndarray:
    """Share of the last 12 months' traded value that was in stocks.

    Business definition: derived signal (trade mix): stock traded value / all traded value over
    months T-11..T; NaN without trades.
    """
    return _share_12m(stock_amount_monthly, traded_amount_monthly)


def fund_share_12m(fund_amount_monthly: Monthly, traded_amount_monthly: Monthly) -> np.ndarray:
    """Share of the last 12 months' traded value that was in funds.

    Business definition: derived signal (trade mix): fund traded value / all traded value over
    months T-11..T; NaN without trades.
    """
    return _share_12m(fund_amount_monthly, traded_amount_monthly)


def bond_share_12m(bond_amount_monthly: Monthly, traded_amount_monthly: Monthly) -> np.ndarray:
    """Share of the last 12 months' traded value that was in bonds.

    Business definition: derived signal (trade mix): bond traded value / all traded value over
    months T-11..T; NaN without trades.
    """
    return _share_12m(bond_amount_monthly, traded_amount_monthly)


def product_types_12m(
    stock_amount_monthly: Monthly,
    fund_amount_monthly: Monthly,
    bond_amount_monthly: Monthly,
    other_amount_monthly: Monthly,
) -> np.ndarray:
    """Count the security types (stock, fund, bond, other) traded in the last 12 months.

    Business definition: derived signal (trade mix); also the proxy for the guideline's
    "appetite for new products" in customer value: breadth of products used, 0 to 4.
    """
    kinds = (stock_amount_monthly, fund_amount_monthly, bond_amount_monthly, other_amount_monthly)
    total = np.zeros(stock_amount_monthly.clock.shape)
    for kind in kinds:
        total += window_sum(kind, 12) > 0
    # NaN (no security_type column) propagates from any window.
    total[np.isnan(window_sum(stock_amount_monthly, 12))] = np.nan
    return total
