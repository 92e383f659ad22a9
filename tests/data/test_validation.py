"""Row rules: each bad input lands in quarantine with its reason; nothing is dropped silently."""

import pandas as pd
import pytest
from validation_fixtures import dates, frames, load, rejected


def test_clean_data_writes_no_quarantine(tmp_path):
    result = load(tmp_path, frames())
    assert all(t.rows_rejected == 0 for t in result.report.tables.values())
    assert not list(tmp_path.glob("rejected/*.parquet"))


def test_null_in_a_required_column(tmp_path):
    data = frames()
    data["trades"].loc[1, "amount"] = None
    data["events"].loc[0, "event_type"] = None
    result = load(tmp_path, data)
    assert rejected(tmp_path, "trades") == [(1, "amount: missing")]
    assert rejected(tmp_path, "events") == [(0, "event_type: missing")]
    assert result.report.tables["trades"].rejected_by_rule == {"amount: missing": 1}
    assert len(result.tables.trades) == 3


def test_blank_id_is_missing(tmp_path):
    data = frames()
    data["trades"].loc[2, "customer_id"] = "  "
    load(tmp_path, data)
    assert rejected(tmp_path, "trades") == [(2, "customer_id: missing")]


def test_duplicate_customer_rejects_every_copy_and_its_activity(tmp_path):
    data = frames()
    data["customers"] = pd.concat([data["customers"], data["customers"].iloc[[0]]])
    result = load(tmp_path, data)
    # Rows 0 and 3 are both C1: neither is chosen silently.
    assert rejected(tmp_path, "customers") == [
        (0, "customer_id: duplicate"),
        (3, "customer_id: duplicate"),
    ]
    # C1's trades (rows 0, 3), transfer (0), balances (0, 1) and event (1) follow.
    assert rejected(tmp_path, "trades") == [
        (0, "customer_id: customer rejected"),
        (3, "customer_id: customer rejected"),
    ]
    assert [r for r, _ in rejected(tmp_path, "balances")] == [0, 1]
    assert rejected(tmp_path, "events") == [(1, "customer_id: customer rejected")]
    assert result.tables.customers["customer_id"].tolist() == ["C2", "C3"]
    assert result.tables.trades["customer_idx"].tolist() == [0, 1]


def test_duplicate_balance_month(tmp_path):
    data = frames()
    data["balances"] = pd.concat([data["balances"], data["balances"].iloc[[1]]])
    load(tmp_path, data)
    assert rejected(tmp_path, "balances") == [
        (1, "customer_id+month_end: duplicate"),
        (4, "customer_id+month_end: duplicate"),
    ]


@pytest.mark.parametrize("order", [["customer_id", "month_end"], ["month_end", "customer_id"]])
def test_duplicate_balance_month_in_a_sorted_table(tmp_path, order):
    data = frames()
    balances = pd.concat([data["balances"], data["balances"].iloc[[0]]])
    data["balances"] = balances.sort_values(order, kind="stable").reset_index(drop=True)
    load(tmp_path, data)
    # C1's 2023-01-31 row twice, adjacent after sorting either way.
    rows = (
        data["balances"]
        .index[
            (data["balances"]["customer_id"] == "C1")
            & (data["balances"]["month_end"] == pd.Timestamp("2023-01-31"))
        ]
        .tolist()
    )
    assert rejected(tmp_path, "balances") == [
        (row, "customer_id+month_end: duplicate") for row in rows
    ]
    assert len(rows) == 2


@pytest.mark.parametrize(
    ("table", "column", "row", "value", "legal"),
    [
        ("customers", "close_reason", 1, "angry", "identity, relocation, service"),
        ("customers", "channel", 0, "phone", "online, onsite"),
        ("trades", "security_type", 2, "crypto", "stock, fund, bond, other"),
        ("trades", "side", 3, "hold", "buy, sell"),
        ("transfers", "direction", 1, "sideways", "in, out"),
        ("events", "event_type", 0, "visit", "complaint, fee_cut_request, contact"),
    ],
)
def test_value_outside_an_enumeration(tmp_path, table, column, row, value, legal):
    data = frames()
    data[table].loc[row, column] = value
    load(tmp_path, data)
    [(source_row, reason)] = rejected(tmp_path, table)
    assert source_row == row
    assert reason.startswith(f"{column}: not one of {legal}")
    q = pd.read_parquet(tmp_path / "rejected" / f"{table}.parquet")
    assert q[column].tolist() == [value]  # the value as read


@pytest.mark.parametrize(
    ("table", "column", "row", "value", "reason"),
    [
        ("trades", "amount", 0, 0.0, "amount: must be > 0"),
        ("trades", "amount", 1, -5.0, "amount: must be > 0"),
        ("transfers", "amount", 0, 0.0, "amount: must be > 0"),
        ("trades", "commission", 2, -0.01, "commission: must be >= 0"),
        ("balances", "cash", 3, -1.0, "cash: must be >= 0"),
        ("balances", "market_value", 2, -480.0, "market_value: must be >= 0"),
    ],
)
def test_value_outside_its_range(tmp_path, table, column, row, value, reason):
    data = frames()
    data[table].loc[row, column] = value
    load(tmp_path, data)
    assert rejected(tmp_path, table) == [(row, reason)]


def test_zero_commission_cash_and_market_value_are_legal(tmp_path):
    # trades row 2 has commission 0, balances rows 1 and 2 hold zero market value / cash.
    load(tmp_path, frames())
    assert rejected(tmp_path, "trades") == [] and rejected(tmp_path, "balances") == []


def test_unknown_customer(tmp_path):
    data = frames()
    data["transfers"].loc[1, "customer_id"] = "C9"
    load(tmp_path, data)
    assert rejected(tmp_path, "transfers") == [(1, "customer_id: unknown customer")]


def test_activity_before_opening_and_after_closing_at_day_level(tmp_path):
    data = frames()
    # C2 opened 2023-02-01 and closed 2023-06-15.
    data["trades"]["customer_id"] = ["C2", "C2", "C2", "C2"]
    data["trades"]["trade_date"] = dates(
        ["2023-01-31 23:59", "2023-02-01 00:00", "2023-06-15 15:00", "2023-06-16 00:00"]
    )
    data["events"].loc[0, "event_date"] = pd.Timestamp("2023-06-16 09:00")
    data["balances"].loc[2, "month_end"] = pd.Timestamp("2023-06-30")
    load(tmp_path, data)
    # 15:00 on the closing day and midnight of the opening day are fine.
    assert rejected(tmp_path, "trades") == [
        (0, "trade_date: before open_date"),
        (3, "trade_date: after closed_date"),
    ]
    assert rejected(tmp_path, "events") == [(0, "event_date: after closed_date")]
    assert rejected(tmp_path, "balances") == [(2, "month_end: after closed_date")]


def test_closing_before_opening(tmp_path):
    data = frames()
    data["customers"].loc[2, "closed_date"] = pd.Timestamp("2023-03-14")
    load(tmp_path, data)
    assert rejected(tmp_path, "customers") == [(2, "closed_date: before open_date")]
    assert rejected(tmp_path, "trades") == [(2, "customer_id: customer rejected")]


def test_closing_on_the_opening_day_is_legal(tmp_path):
    data = frames()
    data["customers"].loc[2, "closed_date"] = pd.Timestamp("2023-03-15")
    data["trades"].loc[2, "trade_date"] = pd.Timestamp("2023-03-15 10:00")
    data["balances"] = data["balances"].iloc[:3]
    load(tmp_path, data)
    assert rejected(tmp_path, "customers") == [] and rejected(tmp_path, "trades") == []


def test_month_end_that_is_not_a_month_end(tmp_path):
    data = frames()
    data["balances"].loc[1, "month_end"] = pd.Timestamp("2023-02-27")
    load(tmp_path, data)
    assert rejected(tmp_path, "balances") == [(1, "month_end: not a month end")]


def test_a_row_breaking_several_rules_is_quarantined_once_with_every_reason(tmp_path):
    data = frames()
    data["trades"].loc[3, ["customer_id", "amount", "commission"]] = ["C9", -1.0, -1.0]
    result = load(tmp_path, data)
    assert rejected(tmp_path, "trades") == [
        (3, "amount: must be > 0; commission: must be >= 0; customer_id: unknown customer")
    ]
    report = result.report.tables["trades"]
    assert report.rows_rejected == 1
    assert report.rejected_by_rule == {
        "amount: must be > 0": 1,
        "commission: must be >= 0": 1,
        "customer_id: unknown customer": 1,
    }


def test_a_value_that_fails_coercion_is_a_row_problem_kept_as_read(tmp_path):
    data = frames()
    data["trades"]["amount"] = ["1000", "abc", "20", "30.5"]
    data["events"]["event_date"] = ["2023-05-20 11:00", "yesterday"]
    result = load(tmp_path, data)
    assert rejected(tmp_path, "trades") == [(1, "amount: not a number")]
    assert rejected(tmp_path, "events") == [(1, "event_date: not a date")]
    q = pd.read_parquet(tmp_path / "rejected" / "trades.parquet")
    assert q["amount"].tolist() == ["abc"]
    assert result.tables.trades["amount"].tolist() == [1000.0, 20.0, 30.5]


def test_dates_outside_1900_2199_are_rejected(tmp_path):
    data = frames()
    data["customers"]["closed_date"] = ["", "9999-12-31", None]
    load(tmp_path, data)
    assert rejected(tmp_path, "customers") == [(1, "closed_date: outside 1900-2199")]
