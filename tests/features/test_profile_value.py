"""Tenure, optional attributes, value tiers and the contribution proxy."""

import math

import pandas as pd
import pytest
from feature_fixtures import balances, build, customers, load, monthly_balances, row, trades

from pipeline.core.params import Params


def test_tenure_age_channel_and_branch():
    people = customers(
        "a",
        "b",
        opened="2021-06-30",
        birth_year=[1980, None],
        channel=["onsite", None],
        branch=["north", "east"],
    )
    matrix = build(load(customers=people))
    a, b = row(matrix, "a"), row(matrix, "b")
    assert a["tenure_months"] == 24  # June 2021 -> June 2023
    assert a["age_years"] == 43  # 2023 - 1980
    assert math.isnan(b["age_years"])
    assert a["channel"] == "onsite" and pd.isna(b["channel"])
    assert list(matrix["branch"].cat.categories) == ["east", "north"]  # sorted, fixed
    assert a["branch"] == "north"


def test_absent_attribute_columns_give_missing_values():
    matrix = build(load(customers=customers("a")))
    got = row(matrix, "a")
    assert math.isnan(got["age_years"]) and pd.isna(got["channel"]) and pd.isna(got["branch"])
    assert list(matrix["branch"].cat.categories) == []


@pytest.mark.parametrize(
    ("assets", "tier"),
    [
        (99_999.0, "mass"),
        (100_000.0, "affluent"),  # "below 100k mass": 100k itself is affluent
        (999_999.0, "affluent"),
        (1_000_000.0, "high_net_worth"),
    ],
)
def test_value_tier_thresholds(assets, tier):
    held = balances(monthly_balances("x", {"2023-06": (assets, 0.0)}))
    assert row(build(load(customers=customers("x"), balances=held)), "x")["value_tier"] == tier


def test_value_tier_unknown_without_balance():
    assert pd.isna(row(build(load(customers=customers("x"))), "x")["value_tier"])


def test_contribution_nets_servicing_cost_and_annualises_young_accounts():
    rows = [("old", f"2023-{m:02d}-03", 1000.0, 50.0) for m in range(1, 7)]  # 300 in 12 months
    rows += [("new", "2023-05-03", 1000.0, 50.0), ("new", "2023-06-03", 1000.0, 50.0)]
    people = customers("old", "new")
    people.loc[people.customer_id == "new", "open_date"] = "2023-03-01"  # 4 months: Mar..Jun
    matrix = build(load(customers=people, trades=trades(rows)))
    # 300 - 12 x 20 = 60; new: 100 over 4 months -> 300 a year - 240 = 60
    assert row(matrix, "old")["contribution_12m"] == pytest.approx(60.0)
    assert row(matrix, "new")["contribution_12m"] == pytest.approx(60.0)
    cheaper = Params()
    cheaper.features.servicing_cost_per_month = 0.0
    assert row(build(load(customers=people, trades=trades(rows)), params=cheaper), "old")[
        "contribution_12m"
    ] == pytest.approx(300.0)


def test_customer_value_ranks_the_bigger_contributor_higher():
    rows = [("big", "2023-06-03", 100_000.0, 500.0), ("small", "2023-06-03", 1000.0, 5.0)]
    matrix = build(load(customers=customers("big", "small"), trades=trades(rows)))
    assert row(matrix, "big")["customer_value"] > row(matrix, "small")["customer_value"]
    assert matrix["customer_value"].between(0, 100).all()
