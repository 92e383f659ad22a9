"""Windows of accounts younger than the window, checked by pencil (as-of 2023-06-30).

A window covers the months the account has existed: sums and counts add its
months, averages divide by them, slopes fit them; NaN only where the window
holds no month of the account's life.
"""

import math

import pytest
from feature_fixtures import (
    balances,
    build,
    customers,
    events,
    load,
    monthly_balances,
    row,
    trades,
    transfers,
)


@pytest.fixture(scope="module")
def matrix():
    people = customers("two_months", "one_month", "three_months")
    people["open_date"] = ["2023-05-10", "2023-06-03", "2023-04-03"]
    rows = [
        # two_months: May 3 trades, June 2 trades; CNY 100 traded and 1 commission each.
        ("two_months", "2023-05-12", 100.0, 1.0),
        ("two_months", "2023-05-12", 100.0, 1.0),
        ("two_months", "2023-05-20", 100.0, 1.0),
        ("two_months", "2023-06-05", 100.0, 1.0),
        ("two_months", "2023-06-25", 100.0, 1.0),
        ("one_month", "2023-06-04", 100.0, 1.0),
        ("three_months", "2023-04-05", 100.0, 1.0),
    ]
    held = monthly_balances("two_months", {"2023-05": (1000.0, 500.0), "2023-06": (800.0, 0.0)})
    held += monthly_balances("one_month", {"2023-06": (1000.0, 0.0)})
    moves = [("two_months", "2023-06-10", "out", 400.0), ("one_month", "2023-06-10", "in", 50.0)]
    calls = [("three_months", "2023-04-07", "contact"), ("three_months", "2023-04-20", "contact")]
    calls += [("three_months", "2023-06-07", "contact")]
    tables = load(
        customers=people,
        trades=trades(rows),
        balances=balances(held),
        transfers=transfers(moves),
        events=events(calls),
    )
    return build(tables)


def test_sums_over_3_6_and_12_months_cover_the_two_months_it_has(matrix):
    got = row(matrix, "two_months")
    assert got["tenure_months"] == 1
    assert got["trades_1m"] == 2
    assert got["trades_3m"] == 5
    assert got["trades_12m"] == 5
    assert got["traded_amount_12m"] == 500
    assert got["commission_12m"] == 5
    assert got["outflow_6m"] == 400
    assert got["outflow_count_6m"] == 1
    assert got["active_months_12m"] == 2


def test_previous_3_month_average_is_over_its_one_previous_month(matrix):
    got = row(matrix, "two_months")
    # June 2 trades / May's 3 (the only previous month): 0.67, not below 50%.
    assert got["trades_vs_prev3m"] == pytest.approx(2 / 3)
    assert bool(got["warn_trade_drop"]) is False
    # Commission 2 / 3 = 0.67 is more than 30% below May's 3.
    assert got["commission_vs_prev"] == pytest.approx(2 / 3)
    assert bool(got["warn_commission_drop"]) is True


def test_earlier_window_without_any_month_of_the_account_is_nan(matrix):
    got = row(matrix, "two_months")
    assert math.isnan(got["trades_3m_vs_prev_3m"])  # Jan..Mar: not open yet
    assert math.isnan(got["commission_rate_change"])
    assert math.isnan(got["asset_change_3m"])  # no month end 3 months ago


def test_slope_fits_the_months_it_has(matrix):
    # Two points: 3 trades at x = -1 (May), 2 at x = 0 (June): slope -1 per month.
    assert row(matrix, "two_months")["trades_slope_6m"] == pytest.approx(-1.0)
    assert row(matrix, "two_months")["commission_slope_6m"] == pytest.approx(-1.0)
    assert math.isnan(row(matrix, "one_month")["trades_slope_6m"])  # one point, no slope


def test_peak_and_changes_over_its_own_month_ends(matrix):
    got = row(matrix, "two_months")
    # Peak of 1500 in May, 800 in June.
    assert got["drawdown_12m"] == pytest.approx(1 - 800 / 1500)
    assert got["asset_change_1m"] == pytest.approx(800 / 1500 - 1)
    # Contribution annualised over 2 months: 5 x 12 / 2 - 12 x 20.
    assert got["contribution_12m"] == pytest.approx(30 - 240)


def test_a_one_month_old_account_has_no_previous_average(matrix):
    got = row(matrix, "one_month")
    assert got["trades_12m"] == 1
    assert got["inflow_12m"] == 50
    assert math.isnan(got["trades_vs_prev3m"])
    assert bool(got["warn_trade_drop"]) is False
    assert math.isnan(got["commission_vs_prev"])
    assert math.isnan(got["asset_change_1m"])


def test_contact_drop_compares_with_the_month_of_the_window_it_has(matrix):
    got = row(matrix, "three_months")
    # Recent: min(June 1, May 0) = 0; of Feb..Apr only April exists, with 2 contacts.
    assert got["contacts_recent_vs_prev3m"] == pytest.approx(0.0)
    assert bool(got["warn_contact_drop"]) is True
    assert got["contacts_12m"] == 3
