"""warn_trade_drop, trade windows, recency, mix and turnover on hand-written customers.

As-of 2023-06-30. Trade drop: June's trade count against 50% of the mean monthly
count of Mar..May.
"""

import math

import pytest
from feature_fixtures import balances, build, customers, load, monthly_balances, row, trades


def _trades_per_month(customer: str, counts: dict[str, int], amount: float = 100.0) -> list:
    return [
        (customer, f"{month}-{day + 1:02d}", amount, 1.0)
        for month, count in counts.items()
        for day in range(count)
    ]


@pytest.fixture(scope="module")
def matrix():
    plans = {
        "at": {"2023-03": 4, "2023-04": 4, "2023-05": 4, "2023-06": 2},  # 2 / 4 = 0.5: not below
        "over": {"2023-03": 4, "2023-04": 4, "2023-05": 4, "2023-06": 1},  # 0.25 < 0.5
        "under": {"2023-03": 4, "2023-04": 4, "2023-05": 4, "2023-06": 3},  # 0.75
        "none_before": {"2023-06": 2},
        "quiet_now": {"2022-09": 1, "2023-03": 2, "2023-04": 2, "2023-05": 2},  # none in June
    }
    rows = [t for customer, plan in plans.items() for t in _trades_per_month(customer, plan)]
    return build(load(customers=customers(*plans), trades=trades(rows)))


@pytest.mark.parametrize(
    ("customer", "flag", "measure"),
    [("at", False, 0.5), ("over", True, 0.25), ("under", False, 0.75), ("quiet_now", True, 0.0)],
)
def test_trade_count_against_half_the_previous_average(matrix, customer, flag, measure):
    got = row(matrix, customer)
    assert bool(got["warn_trade_drop"]) is flag
    assert got["trades_vs_prev3m"] == pytest.approx(measure)


def test_no_trades_before_means_no_drop(matrix):
    got = row(matrix, "none_before")
    assert math.isnan(got["trades_vs_prev3m"])
    assert bool(got["warn_trade_drop"]) is False


def test_windows_recency_and_activity(matrix):
    got = row(matrix, "quiet_now")
    assert got["trades_1m"] == 0
    assert got["trades_3m"] == 4  # Apr + May
    assert got["trades_12m"] == 7  # Sep 2022 falls in Jul 2022..Jun 2023
    assert got["traded_amount_3m"] == 400
    assert got["months_since_last_trade"] == 1  # May -> June
    assert got["active_months_12m"] == 4  # Sep, Mar, Apr, May
    # Apr..Jun = 4 trades, Jan..Mar = 2 trades
    assert got["trades_3m_vs_prev_3m"] == pytest.approx(2.0)


def test_never_traded_has_no_recency():
    # The only trade is after the as-of date, so at T the account never traded.
    tables = load(customers=customers("x"), trades=trades([("x", "2023-07-03", 100.0, 1.0)]))
    got = row(build(tables), "x")
    assert math.isnan(got["months_since_last_trade"])
    assert got["trades_12m"] == 0


def test_trade_mix_and_turnover():
    rows = [
        ("x", "2023-02-01", 600.0, 1.0),
        ("x", "2023-03-01", 300.0, 1.0),
        ("x", "2023-04-01", 100.0, 1.0),
        ("x", "2023-05-01", 1000.0, 1.0),
    ]
    kinds = ["stock", "fund", "bond", None]  # a trade without a type counts in the total only
    held = balances(monthly_balances("x", {"2023-06": (1000.0, 1000.0)}))
    tables = load(customers=customers("x"), trades=trades(rows, security_type=kinds), balances=held)
    got = row(build(tables), "x")
    assert got["stock_share_12m"] == pytest.approx(600 / 2000)
    assert got["fund_share_12m"] == pytest.approx(300 / 2000)
    assert got["bond_share_12m"] == pytest.approx(100 / 2000)
    assert got["product_types_12m"] == 3
    assert got["turnover_3m"] == pytest.approx((100 + 1000) / 2000)  # Apr..Jun / assets


def test_trade_slope_over_six_months():
    counts = {f"2023-{m:02d}": m for m in range(1, 7)}  # 1, 2, ..., 6 trades: +1 per month
    rows = _trades_per_month("x", counts)
    got = row(build(load(customers=customers("x"), trades=trades(rows))), "x")
    assert got["trades_slope_6m"] == pytest.approx(1.0)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_missing_security_type_column_warns():
    tables = load(customers=customers("x"), trades=trades([("x", "2023-06-01", 1.0, 0.1)]))
    with pytest.warns(UserWarning, match="trades.security_type"):
        got = row(build(tables, quiet=False), "x")
    assert math.isnan(got["stock_share_12m"]) and math.isnan(got["product_types_12m"])
