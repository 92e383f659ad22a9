"""warn_outflow and the flow signals on hand-written customers (as-of 2023-06-30).

Every customer holds cash 1000 and no securities at 2023-06-30, so the guideline's
threshold is 30% x 1000 = 300: transfers out over Jan..Jun 2023 must sum above 300.
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

from pipeline.core.params import Params

IDS = ["at", "under", "over", "two_out", "old", "asof_day", "after", "emptied", "no_row", "young"]


@pytest.fixture(scope="module")
def matrix():
    people = customers(*IDS)
    people.loc[people.customer_id == "young", "open_date"] = "2023-02-01"  # 5 months at June
    rows = [
        ("at", "2023-03-15", "out", 300.0),  # 300 = 30% of 1000: not above
        ("under", "2023-03-15", "out", 299.0),
        ("over", "2023-03-15", "out", 301.0),  # 301 > 300
        ("two_out", "2023-01-02", "out", 150.0),  # Jan 2 is inside Jan..Jun
        ("two_out", "2023-06-29", "out", 151.0),  # 150 + 151 = 301 > 300
        ("two_out", "2023-04-01", "in", 5000.0),  # money in does not offset money out
        ("old", "2022-12-31", "out", 900.0),  # December is outside the 6 months
        ("asof_day", "2023-06-30 15:30:00", "out", 400.0),  # on T, with a time of day: counts
        ("after", "2023-07-01", "out", 900.0),  # after T: never seen at T
        ("emptied", "2023-05-10", "out", 100.0),
        ("no_row", "2023-05-10", "out", 900.0),
        ("young", "2023-03-01", "out", 900.0),
    ]
    held = []
    for customer in IDS:
        if customer == "emptied":
            held += monthly_balances(customer, {"2023-06": (0.0, 0.0)})
        elif customer == "no_row":
            held += monthly_balances(customer, {"2023-05": (1000.0, 0.0)})  # none for June
        else:
            held += monthly_balances(customer, {"2023-06": (1000.0, 0.0)})
    tables = load(customers=people, transfers=transfers(rows), balances=balances(held))
    return build(tables)


@pytest.mark.parametrize(
    ("customer", "flag", "share"),
    [
        ("at", False, 0.300),
        ("under", False, 0.299),
        ("over", True, 0.301),
        ("two_out", True, 0.301),
        ("old", False, 0.0),
        ("asof_day", True, 0.400),
        ("after", False, 0.0),
    ],
)
def test_outflow_share_against_thirty_percent(matrix, customer, flag, share):
    got = row(matrix, customer)
    assert bool(got["warn_outflow"]) is flag
    assert got["outflow_share_6m"] == pytest.approx(share, rel=1e-6)


def test_transfer_counts_and_net_flow(matrix):
    got = row(matrix, "two_out")
    assert got["outflow_count_6m"] == 2
    assert got["outflow_6m"] == 301
    assert got["inflow_3m"] == 5000  # Apr..Jun
    assert got["net_flow_3m"] == 5000 - 151  # June 29's 151 is in Apr..Jun, Jan 2's 150 is not
    assert got["net_flow_share_3m"] == pytest.approx(4849 / 1000)
    assert got["months_since_last_inflow"] == 2  # April -> June


def test_emptied_account_is_flagged_though_its_share_is_undefined(matrix):
    # Assets 0 after 100 out: 100 > 30% x 0, so the flag holds; 100 / 0 is reported as NaN.
    got = row(matrix, "emptied")
    assert bool(got["warn_outflow"]) is True
    assert math.isnan(got["outflow_share_6m"])


def test_month_without_balance_row_gives_unknown_assets(matrix):
    got = row(matrix, "no_row")
    assert math.isnan(got["total_assets"])
    assert math.isnan(got["outflow_share_6m"])
    assert bool(got["warn_outflow"]) is False


def test_account_younger_than_six_months_counts_the_months_it_has(matrix):
    got = row(matrix, "young")  # opened Feb 2023: Feb..Jun is 5 months, all its transfers
    assert got["outflow_6m"] == 900
    assert got["outflow_count_6m"] == 1
    assert got["outflow_share_6m"] == pytest.approx(0.9)  # 900 / 1000 > 30%
    assert bool(got["warn_outflow"]) is True


def test_minimum_count_of_transfers_out_is_a_param():
    # One transfer of 500 out of 1000 (50%): flagged with min_count 1, not with 2.
    tables = load(
        customers=customers("x"),
        transfers=transfers([("x", "2023-06-01", "out", 500.0)]),
        balances=balances(monthly_balances("x", {"2023-06": (1000.0, 0.0)})),
    )
    strict = Params()
    strict.rules.outflow_min_count = 2
    assert bool(row(build(tables), "x")["warn_outflow"]) is True
    assert bool(row(build(tables, params=strict), "x")["warn_outflow"]) is False


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_missing_transfers_table_warns_and_switches_the_indicator_off():
    tables = load(
        customers=customers("x"),
        balances=balances(monthly_balances("x", {"2023-06": (1000.0, 0.0)})),
    )
    with pytest.warns(UserWarning, match="'transfers' is missing.*warn_outflow"):
        matrix = build(tables, quiet=False)
    got = row(matrix, "x")
    assert math.isnan(got["outflow_share_6m"]) and math.isnan(got["net_flow_12m"])
    assert bool(got["warn_outflow"]) is False
    assert got["total_assets"] == 1000  # balances still read
