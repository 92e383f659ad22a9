"""What an account is worth in CNY: yearly revenue, lifetime value and value at risk.

The branch value documents give the broker's revenue from a client as
commission plus the interest spread on the client's cash, and manage clients by
lifetime value (终身价值) and the 80/20 rule. Here:

- ``revenue_12m_cny`` = commission of the last 12 months + ``value.interest_spread_rate``
  x the average month-end cash balance of those months;
- the monthly revenue is that year's revenue over the months it covers (an
  account younger than 12 months is annualised over its months);
- the model predicts the probability p of churn within the label horizon of H
  months. Read as a constant monthly hazard h, the chance of staying H months is
  (1 - h)^H = 1 - p, so h = 1 - (1 - p)^(1/H);
- ``lifetime_value_cny`` = the expected revenue of the next ``value.lifetime_months``
  months L: month t's revenue is earned when the account is still open at its
  start (probability (1 - h)^(t-1)) and discounted by (1 + r)^t with r the monthly
  rate of ``value.discount_rate`` a year. Summed:
  m / (1 + r) x (1 - q^L) / (1 - q), with q = (1 - h) / (1 + r) (m x L when q = 1);
- ``value_at_risk_cny`` = p x ``lifetime_value_cny``: what the broker expects to lose if
  the account's churn risk is not acted on, consistent with the probability by
  construction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.core.params import ValueParams

MONEY_COLUMNS = ("revenue_12m_cny", "lifetime_value_cny", "value_at_risk_cny")
INPUT_COLUMNS = ("commission_12m", "cash_mean_12m", "tenure_months")


def revenue_12m_cny(
    commission_12m: np.ndarray, cash_mean_12m: np.ndarray, *, interest_spread_rate: float
) -> np.ndarray:
    """Return the broker's revenue from each account over the last 12 months (CNY).

    Commission plus the interest spread on the average cash balance. Unknown cash
    (no balances table or no balance row in the year) earns no spread; unknown
    commission counts as none.
    """
    spread = interest_spread_rate * np.nan_to_num(np.asarray(cash_mean_12m, np.float64))
    return np.nan_to_num(np.asarray(commission_12m, np.float64)) + spread


def monthly_revenue_cny(revenue_12m: np.ndarray, tenure_months: np.ndarray) -> np.ndarray:
    """Return the monthly revenue: the 12-month revenue over the months it covers (1 to 12)."""
    covered = np.clip(np.nan_to_num(np.asarray(tenure_months, np.float64)) + 1.0, 1.0, 12.0)
    return revenue_12m / covered


def monthly_churn_hazard(probability: np.ndarray, horizon_months: int) -> np.ndarray:
    """Return the constant monthly hazard h with 1 - (1 - h)^H = p (the horizon probability)."""
    p = np.clip(np.asarray(probability, np.float64), 0.0, 1.0)
    return 1.0 - (1.0 - p) ** (1.0 / horizon_months)


def lifetime_value_cny(
    monthly_revenue: np.ndarray,
    hazard: np.ndarray,
    *,
    lifetime_months: int,
    discount_rate: float,
) -> np.ndarray:
    """Return the discounted expected revenue of the next ``lifetime_months`` months (CNY)."""
    monthly_rate = (1.0 + discount_rate) ** (1.0 / 12.0) - 1.0
    q = (1.0 - np.asarray(hazard, np.float64)) / (1.0 + monthly_rate)
    with np.errstate(invalid="ignore", divide="ignore"):
        annuity = np.where(
            np.isclose(q, 1.0),
            float(lifetime_months),
            (1.0 - q**lifetime_months) / (1.0 - q) / (1.0 + monthly_rate),
        )
    return monthly_revenue * annuity


def account_money(
    frame: pd.DataFrame, probability: np.ndarray, value: ValueParams, horizon_months: int
) -> pd.DataFrame:
    """Return revenue, lifetime value and value at risk (CNY) of each row, in the frame's order.

    Args:
        frame: feature rows with ``commission_12m``, ``cash_mean_12m`` and ``tenure_months``.
        probability: the calibrated churn probability within the label horizon, per row.
        value: params ``value:``.
        horizon_months: the label horizon the probability refers to.
    """
    revenue = revenue_12m_cny(
        frame["commission_12m"].to_numpy(np.float64),
        frame["cash_mean_12m"].to_numpy(np.float64),
        interest_spread_rate=value.interest_spread_rate,
    )
    lifetime = lifetime_value_cny(
        monthly_revenue_cny(revenue, frame["tenure_months"].to_numpy(np.float64)),
        monthly_churn_hazard(probability, horizon_months),
        lifetime_months=value.lifetime_months,
        discount_rate=value.discount_rate,
    )
    at_risk = np.asarray(probability, np.float64) * lifetime
    return pd.DataFrame(
        dict(zip(MONEY_COLUMNS, (revenue, lifetime, at_risk), strict=True)), index=frame.index
    )
