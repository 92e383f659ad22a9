"""The cause model's rows: each closed account's features at the month end before it closed."""

import pandas as pd
from rich.console import Console

from pipeline.cohorts.cohorts import Cohorts
from pipeline.core.contract import Tables
from pipeline.core.params import Params
from pipeline.training.causes import closures, rows_before_closing, train_cause_model


def _tables(customers: pd.DataFrame) -> Tables:
    return Tables(customers=customers, trades=None, transfers=None, balances=None, events=None)


def test_the_row_before_closing_is_the_previous_month_end():
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "closed_date": pd.to_datetime(["2023-05-15", "2023-05-31", None, "2023-06-01"]),
            "close_reason": ["service", "commission", None, None],
        }
    )
    got = closures(_tables(customers))
    # a and b closed in May: the as-of before is April's end; c is open; d has no reason
    assert got["customer_id"].tolist() == ["a", "b"]
    assert got["as_of"].tolist() == [pd.Timestamp("2023-04-30")] * 2
    assert got["close_reason"].tolist() == ["service", "commission"]


def test_no_close_reason_column_means_no_closures():
    customers = pd.DataFrame({"customer_id": ["a"], "closed_date": pd.to_datetime(["2023-05-15"])})
    assert closures(_tables(customers)).empty


def test_only_the_month_before_closing_joins_the_reason():
    cohort = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "as_of": pd.to_datetime(["2023-03-31", "2023-04-30", "2023-04-30"]),
            "x": [1.0, 2.0, 3.0],
        }
    )
    closed = pd.DataFrame(
        {"customer_id": ["a"], "as_of": pd.to_datetime(["2023-04-30"]), "close_reason": ["service"]}
    )
    got = rows_before_closing(cohort, closed)
    assert got[["customer_id", "x", "close_reason"]].values.tolist() == [["a", 2.0, "service"]]


def test_too_few_reasons_fit_no_cause_model_and_say_so():
    cohort = pd.DataFrame(
        {"customer_id": ["a"], "as_of": pd.to_datetime(["2023-04-30"]), "x": [1.0]}
    )
    closed = pd.DataFrame(
        {"customer_id": ["a"], "as_of": pd.to_datetime(["2023-04-30"]), "close_reason": ["service"]}
    )
    console = Console(record=True, width=200)
    got = train_cause_model(Cohorts(cohort, cohort, cohort, None), closed, ["x"], Params(), console)
    assert got is None
    assert "none fitted; likely causes come from the playbook's drivers" in console.export_text()
