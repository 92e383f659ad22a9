"""What the test cohort's accounts are worth: the 80/20 curve and value at risk by tier and band.

Computed on the latest test month with the model's calibrated probabilities and
the same money definitions as the scores file (models/lifetime_value.py), so the
report shows what the monthly call list is worth in CNY.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from models.lifetime_value import account_money
from pipeline.core.params import Params
from pipeline.scoring.bands import risk_bands, risk_ranks, top_count

TOP_SHARES = (0.01, 0.05, 0.1, 0.2, 0.5)
"""Shares of accounts (the highest revenue first) on the 80/20 curve."""


def revenue_concentration(revenue: np.ndarray) -> list[dict[str, float]]:
    """Return, per top share of accounts by revenue, their share of the total revenue."""
    ordered = np.sort(np.nan_to_num(np.asarray(revenue, np.float64)))[::-1]
    total = ordered.sum()
    return [
        {
            "top_accounts_share": share,
            "accounts": top_count(share, len(ordered)),
            "revenue_share": float(ordered[: top_count(share, len(ordered))].sum() / total)
            if total > 0
            else None,
        }
        for share in TOP_SHARES
    ]


def value_at_risk_table(
    money: pd.DataFrame, tier: pd.Series, band: np.ndarray, band_names
) -> list[dict[str, Any]]:
    """Return accounts, lifetime value and value at risk (CNY) per value tier and risk band."""
    frame = money.assign(
        value_tier=tier.astype(object).fillna("unknown").to_numpy(),
        risk_band=pd.Categorical(band, categories=list(band_names)),
    )
    grouped = frame.groupby(["value_tier", "risk_band"], observed=False, sort=True)
    table = grouped.agg(
        accounts=("value_at_risk_cny", "size"),
        lifetime_value_cny=("lifetime_value_cny", "sum"),
        value_at_risk_cny=("value_at_risk_cny", "sum"),
    ).reset_index()
    table["risk_band"] = table["risk_band"].astype(str)
    return table.to_dict(orient="records")


def value_figures(model, cohort: pd.DataFrame, params: Params) -> dict[str, Any]:
    """Return the latest test month's 80/20 curve and value at risk by tier and band.

    Args:
        model: the fitted LightGBM model (calibrated probabilities).
        cohort: the test cohort (feature rows with ``as_of``).
        params: the run's params (``value:``, ``label:``, ``scoring:`` bands).
    """
    month = cohort["as_of"].max()
    rows = cohort.loc[cohort["as_of"] == month]
    probability = model.predict_proba(rows)[:, 1]
    money = account_money(rows, probability, params.value, params.label.horizon_months)
    scoring = params.scoring
    band = risk_bands(
        probability,
        risk_ranks(probability),
        band_by=scoring.band_by,
        cuts=scoring.band_cuts,
        names=scoring.band_names,
    )
    return {
        "as_of": pd.Timestamp(month).date().isoformat(),
        "accounts": len(rows),
        "revenue_12m_cny": float(money["revenue_12m_cny"].sum()),
        "lifetime_value_cny": float(money["lifetime_value_cny"].sum()),
        "value_at_risk_cny": float(money["value_at_risk_cny"].sum()),
        "revenue_concentration": revenue_concentration(money["revenue_12m_cny"].to_numpy()),
        "value_at_risk_by_tier_band": value_at_risk_table(
            money, rows["value_tier"], band, scoring.band_names
        ),
    }
