"""warn_empty_position, warn_big_loss and the asset signals on hand-written customers.

As-of 2023-06-30. Big loss: loss = -(assets June - assets May - net transfers in June),
compared with 50% of May's assets.
"""

import math

import pytest
from feature_fixtures import (
    balances,
    build,
    customers,
    load,
    monthly_balances,
    row,
    transfers,
)


@pytest.fixture(scope="module")
def matrix():
    plans = {
        # empty position: market value 0 at month ends
        "empty_2": {"2023-04": (100, 50), "2023-05": (100, 0), "2023-06": (100, 0)},
        "empty_3": {"2023-04": (100, 0), "2023-05": (100, 0), "2023-06": (100, 0)},
        "empty_1": {"2023-04": (100, 0), "2023-05": (100, 5), "2023-06": (100, 0)},
        "gap": {"2023-04": (100, 0), "2023-06": (100, 0)},  # May missing breaks the run
        "no_june": {"2023-04": (100, 0), "2023-05": (100, 0)},
        # big loss: May 1000 -> June
        "loss_at": {"2023-05": (0, 1000), "2023-06": (0, 500)},  # loss 500 = 50%: not above
        "loss_over": {"2023-05": (0, 1000), "2023-06": (0, 499)},  # 501 > 500
        "loss_under": {"2023-05": (0, 1000), "2023-06": (0, 501)},
        "moved_out": {"2023-05": (0, 1000), "2023-06": (0, 400)},  # 300 of the 600 left by transfer
        "from_zero": {"2023-05": (0, 0), "2023-06": (0, 0)},
        # average cash: the months of the last 12 with a balance row
        "cash_varies": {
            "2022-06": (9000, 0),
            "2023-04": (300, 0),
            "2023-05": (0, 10),
            "2023-06": (600, 0),
        },
    }
    held = [r for customer, plan in plans.items() for r in monthly_balances(customer, plan)]
    flows = transfers([("moved_out", "2023-06-12", "out", 300.0)])
    return build(load(customers=customers(*plans), balances=balances(held), transfers=flows))


@pytest.mark.parametrize(
    ("customer", "flag", "streak"),
    [
        ("empty_2", True, 2.0),
        ("empty_3", True, 3.0),
        ("empty_1", False, 1.0),
        ("gap", False, 1.0),
        ("no_june", False, float("nan")),
    ],
)
def test_empty_position_months_in_a_row(matrix, customer, flag, streak):
    got = row(matrix, customer)
    assert bool(got["warn_empty_position"]) is flag
    if math.isnan(streak):
        assert math.isnan(got["empty_position_streak"])
    else:
        assert got["empty_position_streak"] == streak


def test_empty_position_of_a_one_month_old_account():
    plan = {"2023-06": (100.0, 0.0)}
    people = customers("new", opened="2023-06-01")
    tables = load(customers=people, balances=balances(monthly_balances("new", plan)))
    got = row(build(tables), "new")
    assert got["empty_position_streak"] == 1  # its one month end: 1 < 2 in a row
    assert bool(got["warn_empty_position"]) is False


@pytest.mark.parametrize(
    ("customer", "flag", "share"),
    [
        ("loss_at", False, 0.500),
        ("loss_over", True, 0.501),
        ("loss_under", False, 0.499),
        # 400 - 1000 - (0 - 300) = -300 market loss: 30%, though assets fell 60%
        ("moved_out", False, 0.300),
    ],
)
def test_big_loss_against_half_the_assets(matrix, customer, flag, share):
    got = row(matrix, customer)
    assert bool(got["warn_big_loss"]) is flag
    assert got["loss_share_1m"] == pytest.approx(share, rel=1e-6)


def test_market_pnl_is_split_from_net_flow(matrix):
    got = row(matrix, "moved_out")
    assert got["market_pnl_1m"] == -300
    assert got["net_flow_1m"] == -300
    assert got["asset_change_1m"] == pytest.approx(-0.6)


def test_loss_from_zero_assets_is_undefined(matrix):
    got = row(matrix, "from_zero")
    assert math.isnan(got["loss_share_1m"])
    assert bool(got["warn_big_loss"]) is False


def test_asset_levels_changes_and_drawdown():
    plan = {f"2022-{m:02d}": (0.0, 1000.0 + 100 * m) for m in range(7, 13)}  # peak 2200 in Dec
    plan.update({f"2023-{m:02d}": (200.0, 1000.0) for m in range(1, 7)})  # 1200 from Jan
    tables = load(customers=customers("x"), balances=balances(monthly_balances("x", plan)))
    got = row(build(tables), "x")
    assert got["total_assets"] == 1200
    assert got["cash_share"] == pytest.approx(200 / 1200)
    assert got["asset_change_1m"] == pytest.approx(0.0)
    assert got["asset_change_6m"] == pytest.approx(1200 / 2200 - 1)  # Dec 2022 -> Jun 2023
    assert got["drawdown_12m"] == pytest.approx(1 - 1200 / 2200)  # Jul 2022..Jun 2023 peak
    # No transfers table: the market's share of a change cannot be separated.
    assert math.isnan(got["market_pnl_3m"])


def test_missing_balance_month_is_nan_not_zero():
    plan = {"2023-04": (100.0, 100.0), "2023-06": (100.0, 100.0)}
    tables = load(customers=customers("x"), balances=balances(monthly_balances("x", plan)))
    got = row(build(tables), "x")
    assert got["total_assets"] == 200
    assert math.isnan(got["asset_change_1m"])  # May unknown, not 0
    assert math.isnan(got["asset_change_3m"])  # March unknown
    assert got["drawdown_12m"] == 0  # the peak of the months that are known: 200


@pytest.mark.parametrize(
    ("customer", "mean"),
    [
        ("cash_varies", 300.0),  # (300 + 0 + 600) / 3; June 2022 is 13 months back
        ("gap", 100.0),  # April and June, May unknown: not a zero
        ("loss_at", 0.0),
    ],
)
def test_average_cash_over_the_known_months_of_the_last_12(matrix, customer, mean):
    assert row(matrix, customer)["cash_mean_12m"] == pytest.approx(mean)
