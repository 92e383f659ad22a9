"""The report's money tables by hand: the 80/20 curve, value at risk by tier and band."""

import numpy as np
import pandas as pd

from pipeline.training.report_sections import cause_sections, value_sections
from pipeline.training.value_figures import revenue_concentration, value_at_risk_table


def test_the_80_20_curve_takes_the_highest_revenue_first():
    curve = revenue_concentration(np.array([20.0, 100.0, np.nan, 50.0, 30.0]))
    got = {row["top_accounts_share"]: (row["accounts"], row["revenue_share"]) for row in curve}
    # 5 accounts, total 200: the top 1%..20% is one account (100), the top half 3 (180)
    assert got[0.01] == (1, 0.5) and got[0.2] == (1, 0.5)
    assert got[0.5] == (3, 0.9)


def test_value_at_risk_adds_up_per_tier_and_band():
    money = pd.DataFrame(
        {
            "revenue_12m_cny": [1.0, 1.0, 1.0],
            "lifetime_value_cny": [1000.0, 500.0, 200.0],
            "value_at_risk_cny": [400.0, 50.0, 20.0],
        }
    )
    tier = pd.Series(["mass", "mass", None])
    rows = value_at_risk_table(money, tier, np.array(["high", "low", "low"]), ["low", "high"])
    got = {(r["value_tier"], r["risk_band"]): (r["accounts"], r["value_at_risk_cny"]) for r in rows}
    assert got[("mass", "high")] == (1, 400.0)
    assert got[("mass", "low")] == (1, 50.0)
    assert got[("unknown", "low")] == (1, 20.0)
    assert got[("unknown", "high")] == (0, 0.0)


def test_the_report_sections_show_the_curve_and_the_confusion():
    value = {
        "as_of": "2023-09-30",
        "accounts": 5,
        "revenue_12m_cny": 200.0,
        "lifetime_value_cny": 1700.0,
        "value_at_risk_cny": 470.0,
        "revenue_concentration": revenue_concentration(np.array([100.0, 50.0, 30.0, 20.0])),
        "value_at_risk_by_tier_band": [
            {
                "value_tier": "mass",
                "risk_band": "low",
                "accounts": 5,
                "lifetime_value_cny": 1.0,
                "value_at_risk_cny": 470.0,
            }
        ],
    }
    html = "".join(value_sections(value))
    assert "80/20 curve" in html and "value at risk (probability x lifetime value) CNY 470" in html
    causes = {
        "fitted": True,
        "accounts": 4,
        "accuracy": 0.5,
        "top2_accuracy": 0.75,
        "commonest_reason": "service",
        "commonest_share": 0.5,
        "training_accounts": 10,
        "per_cause": {"service": {"support": 2, "precision": 0.5, "recall": 0.5}},
        "confusion": {"service": {"service": 1, "other": 1}},
    }
    html = "".join(cause_sections(causes))
    assert "accuracy 50.0%" in html and "top-2 accuracy 75.0%" in html and "Confusion" in html
    assert "playbook's drivers" in "".join(cause_sections({"fitted": False}))
    assert cause_sections(None) == []
