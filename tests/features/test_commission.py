"""warn_commission_drop and the commission signals on hand-written customers (as-of 2023-06-30).

Small customers compare June's commission with the mean of Mar..May; large ones
(assets >= 1,000,000) with the mean of Dec..May. The flag needs June below
(1 - 0.30) x that mean.
"""

import math

import pytest
from feature_fixtures import balances, build, customers, load, monthly_balances, row, trades

MONTHS = ["2022-12", "2023-01", "2023-02", "2023-03", "2023-04", "2023-05", "2023-06"]


def _month_trades(customer: str, commissions: list[float]) -> list[tuple]:
    # One trade on the 10th of each month, traded amount 1000 x commission.
    return [
        (customer, f"{month}-10", 1000.0 * fee, fee)
        for month, fee in zip(MONTHS, commissions, strict=True)
        if fee > 0
    ]


@pytest.fixture(scope="module")
def matrix():
    history = {
        "at": [100, 100, 100, 100, 100, 100, 70],  # 70 / 100 = 0.70: not below 0.70
        "under": [100, 100, 100, 100, 100, 100, 71],  # 0.71
        "over": [100, 100, 100, 100, 100, 100, 69],  # 0.69 < 0.70
        "large": [400, 400, 400, 100, 100, 100, 100],  # 6-month mean 250: 100 / 250 = 0.4
        "small_same": [400, 400, 400, 100, 100, 100, 100],  # 3-month mean 100: 1.0
        "threshold": [400, 400, 400, 100, 100, 100, 100],  # assets exactly 1,000,000: large
        "none_before": [0, 0, 0, 0, 0, 0, 50],  # nothing to drop from
        "young": [0, 0, 0, 0, 100, 100, 10],  # opened April: 3 months of history
    }
    people = customers(*history)
    people.loc[people.customer_id == "young", "open_date"] = "2023-04-03"
    rows = [t for customer, fees in history.items() for t in _month_trades(customer, fees)]
    assets = {"large": 2_000_000.0, "threshold": 1_000_000.0}
    held = [
        r
        for customer in history
        for r in monthly_balances(customer, {"2023-06": (assets.get(customer, 50_000.0), 0.0)})
    ]
    tables = load(customers=people, trades=trades(rows), balances=balances(held))
    return build(tables)


@pytest.mark.parametrize(
    ("customer", "flag", "measure"),
    [
        ("at", False, 0.70),
        ("under", False, 0.71),
        ("over", True, 0.69),
        ("large", True, 0.40),
        ("small_same", False, 1.00),
        ("threshold", True, 0.40),
    ],
)
def test_commission_against_previous_average(matrix, customer, flag, measure):
    got = row(matrix, customer)
    assert bool(got["warn_commission_drop"]) is flag
    assert got["commission_vs_prev"] == pytest.approx(measure, rel=1e-6)


def test_no_commission_before_means_no_drop(matrix):
    got = row(matrix, "none_before")
    assert math.isnan(got["commission_vs_prev"])
    assert bool(got["warn_commission_drop"]) is False


def test_account_younger_than_window_compares_with_the_months_it_has(matrix):
    # Opened April: of Mar..May only Apr and May exist, mean (100 + 100) / 2 = 100;
    # June's 10 / 100 = 0.1 is more than 30% below it.
    got = row(matrix, "young")
    assert got["commission_vs_prev"] == pytest.approx(0.1, rel=1e-6)
    assert bool(got["warn_commission_drop"]) is True
    assert got["commission_3m"] == 210  # Apr..Jun are all its months


def test_commission_windows_rate_and_yield(matrix):
    got = row(matrix, "large")
    assert got["commission_1m"] == 100
    assert got["commission_3m"] == 300
    # Jul 2022..Jun 2023: 400 x 3 (Dec..Feb) + 100 x 4 (Mar..Jun) = 1600
    assert got["commission_12m"] == 1600
    assert got["commission_rate_3m"] == pytest.approx(0.001)  # 1000 traded per 1 commission
    assert got["commission_rate_change"] == pytest.approx(0.0, abs=1e-9)
    assert got["commission_yield_12m"] == pytest.approx(1600 / 2_000_000)
    # Slope of Jan..Jun = 400, 400, 100, 100, 100, 100 against x = -5..0:
    # sum((x - mean x) * y) = (-2.5 - 1.5) x 400 + (-0.5 + 0.5 + 1.5 + 2.5) x 100 = -1200
    # sum((x - mean x)^2) = 17.5, slope = -1200 / 17.5
    assert got["commission_slope_6m"] == pytest.approx(-1200 / 17.5, rel=1e-6)


def test_fee_cut_shows_as_falling_rate():
    # Same traded amount (100,000 a month) with the fee cut from 0.3% to 0.2% in April.
    rows = [("x", f"2023-{m:02d}-05", 100_000.0, 300.0 if m < 4 else 200.0) for m in range(1, 7)]
    got = row(build(load(customers=customers("x"), trades=trades(rows))), "x")
    assert got["commission_rate_3m"] == pytest.approx(0.002)
    assert got["commission_rate_change"] == pytest.approx(0.002 / 0.003 - 1, rel=1e-6)
