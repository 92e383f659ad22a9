"""Customer value per the retention guideline's weights, and the value tier by assets.

The guideline weighs contribution net of cost 50%, asset growth potential 20%,
appetite for new products 10%, influence 10% and personal resources 10%. The data
supports these proxies, each turned into its percentile among accounts open that
month (so the weights apply to comparable 0-1 scales):

- contribution net of cost: ``contribution_12m`` (annualised commission less the
  servicing cost, params ``features.servicing_cost_per_month``);
- asset growth potential: ``net_flow_12m`` (money the customer brought in over the
  year);
- appetite for new products: ``product_types_12m`` (security types traded);
- influence: ``tenure_months`` (long-standing customers are the referral base; a
  weak proxy, the data holds nothing on influence);
- personal resources: ``total_assets``.
"""

from __future__ import annotations

import numpy as np

from features.builder.windows import Monthly, window_sum


def contribution_12m(
    commission_monthly: Monthly, history_months: np.ndarray, *, servicing_cost_per_month: float
) -> np.ndarray:
    """Estimate the yearly contribution net of servicing cost (CNY per year).

    Business definition: guideline customer value, "contribution net of cost" (weight 50%):
    commission of the last 12 months (annualised over the months the account has existed when
    younger) less 12 months of servicing cost.

    Args:
        commission_monthly: monthly commission.
        history_months: months the account has existed at the as-of month.
        servicing_cost_per_month: features.servicing_cost_per_month (CNY 20).
    """
    months = np.clip(history_months, 1.0, 12.0)  # rows of accounts not yet open are dropped
    # A younger account's 12-month sum covers its whole history.
    commission = window_sum(commission_monthly, 12)
    return commission * 12.0 / months - 12.0 * servicing_cost_per_month


def value_tier(
    total_assets: np.ndarray, *, value_tier_assets: list[float], value_tier_names: list[str]
) -> np.ndarray:
    """Place each customer in a value tier by total assets (a category).

    Business definition: guideline value tiers by assets: below CNY 100k mass, below 1M
    affluent, else high net worth; missing when assets are unknown.

    Args:
        total_assets: total assets at the as-of month end.
        value_tier_assets: features.value_tier_assets, increasing tier thresholds (CNY).
        value_tier_names: features.value_tier_names, one name more than thresholds.
    """
    if len(value_tier_names) != len(value_tier_assets) + 1:
        raise ValueError("value_tier_names needs one name more than value_tier_assets")
    tier = np.searchsorted(np.asarray(value_tier_assets, dtype=np.float64), total_assets, "right")
    return np.where(np.isnan(total_assets), -1, tier)


def customer_value(
    contribution_12m_market_pct: np.ndarray,
    net_flow_12m_market_pct: np.ndarray,
    product_types_12m_market_pct: np.ndarray,
    tenure_months_market_pct: np.ndarray,
    total_assets_market_pct: np.ndarray,
    *,
    value_weight_contribution: float,
    value_weight_growth: float,
    value_weight_product_appetite: float,
    value_weight_influence: float,
    value_weight_resources: float,
) -> np.ndarray:
    """Score customer value from 0 to 100 with the guideline's weights.

    Business definition: guideline customer value = 50% contribution net of cost + 20% asset
    growth potential + 10% new-product appetite + 10% influence + 10% personal resources, each
    proxy (module docstring) as its percentile among accounts open that month; a missing proxy
    drops out and the other weights are rescaled; NaN when all are missing. Unit: points from 0
    to 100 (a rank among that month's accounts, not money; the scores file's CNY columns are
    revenue_12m_cny, lifetime_value_cny and value_at_risk_cny).

    Args:
        contribution_12m_market_pct: percentile of contribution net of cost.
        net_flow_12m_market_pct: percentile of 12-month net inflow (growth potential).
        product_types_12m_market_pct: percentile of security types traded (product appetite).
        tenure_months_market_pct: percentile of tenure (influence proxy).
        total_assets_market_pct: percentile of total assets (personal resources).
        value_weight_contribution: features.value_weight_contribution (0.5).
        value_weight_growth: features.value_weight_growth (0.2).
        value_weight_product_appetite: features.value_weight_product_appetite (0.1).
        value_weight_influence: features.value_weight_influence (0.1).
        value_weight_resources: features.value_weight_resources (0.1).
    """
    parts = (
        (contribution_12m_market_pct, value_weight_contribution),
        (net_flow_12m_market_pct, value_weight_growth),
        (product_types_12m_market_pct, value_weight_product_appetite),
        (tenure_months_market_pct, value_weight_influence),
        (total_assets_market_pct, value_weight_resources),
    )
    score = np.zeros(len(contribution_12m_market_pct))
    weight = np.zeros(len(contribution_12m_market_pct))
    for percentile, part_weight in parts:
        known = ~np.isnan(percentile)
        score[known] += part_weight * percentile[known]
        weight[known] += part_weight
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight > 0, 100.0 * score / weight, np.nan)
