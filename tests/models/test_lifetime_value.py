"""Revenue, lifetime value and value at risk in CNY, checked with a pencil."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.lifetime_value import (
    account_money,
    lifetime_value_cny,
    monthly_churn_hazard,
    monthly_revenue_cny,
    revenue_12m_cny,
)
from pipeline.core.params import ValueParams


def test_revenue_is_commission_plus_the_spread_on_average_cash():
    got = revenue_12m_cny(
        np.array([1200.0, 0.0, 500.0, np.nan]),
        np.array([100_000.0, 50_000.0, np.nan, 10_000.0]),
        interest_spread_rate=0.015,
    )
    # 1200 + 1.5% of 100k; 0 + 1.5% of 50k; unknown cash earns no spread; no commission: 0
    np.testing.assert_allclose(got, [2700.0, 750.0, 500.0, 150.0])


def test_a_young_account_is_annualised_over_its_months():
    # tenure 0 = the open month: one month of revenue; 5 -> 6 months; 30 -> 12
    got = monthly_revenue_cny(np.array([600.0, 600.0, 1200.0]), np.array([0.0, 5.0, 30.0]))
    np.testing.assert_allclose(got, [600.0, 100.0, 100.0])


def test_hazard_reproduces_the_horizon_probability():
    # 1 - (1 - 0.271)^(1/3) = 1 - 0.9 = 0.1
    assert monthly_churn_hazard(np.array([0.271]), 3)[0] == pytest.approx(0.1)
    assert monthly_churn_hazard(np.array([0.0]), 3)[0] == 0.0


def test_lifetime_value_without_churn_or_discount_is_the_plain_sum():
    got = lifetime_value_cny(
        np.array([100.0]), np.array([0.0]), lifetime_months=12, discount_rate=0
    )
    assert got[0] == pytest.approx(1200.0)


def test_lifetime_value_with_churn_sums_the_survival_chances():
    # h = 0.5, no discount, 3 months: 100 x (1 + 0.5 + 0.25) = 175
    got = lifetime_value_cny(np.array([100.0]), np.array([0.5]), lifetime_months=3, discount_rate=0)
    assert got[0] == pytest.approx(175.0)


def test_lifetime_value_discounts_each_month():
    # the yearly rate whose monthly rate is 10%, over 2 months:
    r = 0.1
    yearly = (1 + r) ** 12 - 1
    got = lifetime_value_cny(
        np.array([110.0]), np.array([0.0]), lifetime_months=2, discount_rate=yearly
    )
    # 110 / 1.1 + 110 / 1.21 = 100 + 90.909...
    assert got[0] == pytest.approx(100.0 + 110.0 / 1.21)


def test_account_money_is_consistent_by_construction():
    frame = pd.DataFrame(
        {
            "commission_12m": [1200.0, 240.0],
            "cash_mean_12m": [0.0, 0.0],
            "tenure_months": [40.0, 1.0],
        },
        index=[7, 3],
    )
    value = ValueParams(interest_spread_rate=0.0, lifetime_months=12, discount_rate=0.0)
    got = account_money(frame, np.array([0.0, 0.271]), value, horizon_months=3)
    assert list(got.index) == [7, 3]
    np.testing.assert_allclose(got["revenue_12m_cny"], [1200.0, 240.0])
    # 100 a month for 12 months; 120 a month (2 months of history) at h = 0.1:
    # 120 x (1 - 0.9^12) / 0.1
    np.testing.assert_allclose(got["lifetime_value_cny"], [1200.0, 1200.0 * (1 - 0.9**12)])
    np.testing.assert_allclose(
        got["value_at_risk_cny"], np.array([0.0, 0.271]) * got["lifetime_value_cny"]
    )


@settings(deadline=None)  # pure arithmetic; a loaded machine must not fail it
@given(
    p=st.floats(0.0, 1.0),
    revenue=st.floats(0.0, 1e7),
    months=st.integers(1, 240),
    rate=st.floats(0.0, 0.5),
)
def test_lifetime_value_is_bounded_by_the_undiscounted_sure_revenue(p, revenue, months, rate):
    hazard = monthly_churn_hazard(np.array([p]), 3)
    got = lifetime_value_cny(
        np.array([revenue]), hazard, lifetime_months=months, discount_rate=rate
    )
    assert 0.0 <= got[0] <= revenue * months * (1 + 1e-9) + 1e-9
