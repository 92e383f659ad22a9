"""Row rules: each bad input lands in quarantine with its reason; nothing is dropped silently."""

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.errors import DataContractError
from pipeline.core.params import Params
from pipeline.data.loader import load_tables, tables_from_frames
from pipeline.data.quarantine import REJECTED_SHARE_RULE

LENIENT = Params.model_validate({"validation": {"max_rejected_share": 1.0}})


def dates(values) -> pd.Series:
    return pd.Series(pd.to_datetime(values, format="ISO8601"), dtype="datetime64[us]")


def frames() -> dict[str, pd.DataFrame]:
    """C1 open since 2023-01-10; C2 open 2023-02-01, closed 2023-06-15; C3 open 2023-03-15."""
    return {
        "customers": pd.DataFrame(
            {
                "customer_id": ["C1", "C2", "C3"],
                "open_date": dates(["2023-01-10", "2023-02-01", "2023-03-15"]),
                "closed_date": dates([None, "2023-06-15", None]),
                "close_reason": [None, "service", None],
                "channel": ["online", "onsite", "online"],
            }
        ),
        "trades": pd.DataFrame(
            {
                "customer_id": ["C1", "C2", "C3", "C1"],
                "trade_date": dates(
                    ["2023-01-10 09:30", "2023-06-15 15:00", "2023-04-03", "2023-07-31 14:00"]
                ),
                "security_type": ["stock", "fund", "bond", "other"],
                "side": ["buy", "sell", "buy", "sell"],
                "amount": [1000.0, 500.0, 20.0, 30.0],
                "commission": [1.0, 0.5, 0.0, 0.1],
            }
        ),
        "transfers": pd.DataFrame(
            {
                "customer_id": ["C1", "C2"],
                "transfer_date": dates(["2023-01-10", "2023-06-15 10:00"]),
                "direction": ["in", "out"],
                "amount": [5000.0, 480.0],
            }
        ),
        "balances": pd.DataFrame(
            {
                "customer_id": ["C1", "C1", "C2", "C3"],
                "month_end": dates(["2023-01-31", "2023-02-28", "2023-05-31", "2023-03-31"]),
                "cash": [4000.0, 3900.0, 0.0, 10.0],
                "market_value": [1000.0, 0.0, 480.0, 20.0],
            }
        ),
        "events": pd.DataFrame(
            {
                "customer_id": ["C2", "C1"],
                "event_date": dates(["2023-05-20 11:00", "2023-02-01"]),
                "event_type": ["complaint", "contact"],
            }
        ),
    }


def load(tmp_path, tables, params=LENIENT):
    return tables_from_frames(tables, params, tmp_path / "rejected")


def rejected(tmp_path, table) -> list[tuple[int, str]]:
    """(source_row, reason) of each quarantined row of a table; [] when no file."""
    path = tmp_path / "rejected" / f"{table}.parquet"
    if not path.exists():
        return []
    q = pd.read_parquet(path)
    return list(zip(q["source_row"].tolist(), q["reason"].tolist(), strict=True))


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


def test_csv_quarantine_keeps_values_as_read(tmp_path):
    folder = tmp_path / "csv"
    folder.mkdir()
    for name, frame in frames().items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    text = (folder / "trades.csv").read_text().replace("C3,2023-04-03", "C3,2023-04-31")
    (folder / "trades.csv").write_text(text.replace(",500.0,", ",five hundred,"))
    load_tables(folder, LENIENT, tmp_path / "rejected")
    assert rejected(tmp_path, "trades") == [
        (1, "amount: not a number"),
        (2, "trade_date: not a date"),
    ]
    q = pd.read_parquet(tmp_path / "rejected" / "trades.parquet")
    assert q["amount"].tolist() == ["five hundred", "20.0"]
    assert q["trade_date"].tolist()[1] == "2023-04-31 00:00:00"  # no 31 April


def test_source_row_counts_across_the_files_of_a_folder(tmp_path):
    data = frames()
    folder = tmp_path / "d"
    (folder / "trades").mkdir(parents=True)
    for name, frame in data.items():
        if name != "trades":
            pq.write_table(
                pa.Table.from_pandas(frame, preserve_index=False), folder / f"{name}.parquet"
            )
    trades = data["trades"].assign(amount=[1000.0, 500.0, 20.0, -30.0])
    for part, rows in enumerate([[0, 1], [2, 3]]):
        pq.write_table(
            pa.Table.from_pandas(trades.iloc[rows], preserve_index=False),
            folder / "trades" / f"part-{part}.parquet",
        )
    load_tables(folder, LENIENT, tmp_path / "rejected")
    assert rejected(tmp_path, "trades") == [(3, "amount: must be > 0")]


def test_rejected_share_above_the_limit_fails_after_writing_the_quarantine(tmp_path):
    data = frames()
    data["trades"].loc[2, "amount"] = -20.0  # 1 of 4 trades = 25% > 1%
    with pytest.raises(DataContractError) as err:
        load(tmp_path, data, Params())
    assert (err.value.table, err.value.column, err.value.rule) == (
        "trades",
        None,
        REJECTED_SHARE_RULE,
    )
    message = str(err.value)
    assert "1 of 4 rows (25.00%)" in message and "amount: must be > 0: 1" in message
    assert str(tmp_path / "rejected" / "trades.parquet") in message
    assert rejected(tmp_path, "trades") == [(2, "amount: must be > 0")]


def test_rejected_share_at_the_limit_passes(tmp_path):
    data = frames()
    data["trades"].loc[2, "amount"] = -20.0
    params = Params.model_validate({"validation": {"max_rejected_share": 0.25}})
    assert len(load(tmp_path, data, params).tables.trades) == 3


def test_a_stale_quarantine_file_is_removed_when_the_table_is_clean(tmp_path):
    data = frames()
    data["trades"].loc[2, "amount"] = -20.0
    load(tmp_path, data)
    assert (tmp_path / "rejected" / "trades.parquet").exists()
    load(tmp_path, frames())
    assert not (tmp_path / "rejected" / "trades.parquet").exists()


def test_without_a_rejected_folder_nothing_is_written_but_rows_are_counted(tmp_path):
    data = frames()
    data["trades"].loc[2, "amount"] = -20.0
    result = tables_from_frames(data, LENIENT, None)
    assert result.report.tables["trades"].rows_rejected == 1
    assert result.report.tables["trades"].quarantine_path is None
    assert "not written" in result.report.render()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["C1", "C2", "C3", "C9", None]),
            st.sampled_from(["2023-01-09", "2023-02-01 10:00", "2023-06-15", "2023-06-16", "x"]),
            st.sampled_from([-1.0, 0.0, 5.0, 100.0, None]),
            st.sampled_from([-0.5, 0.0, 1.0]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_every_row_is_either_kept_or_quarantined(rows):
    data = frames()
    # One readable row, so no column is entirely unreadable (a structural error).
    rows = [("C1", "2023-02-01", 1.0, 0.0), *rows]
    trades = pd.DataFrame(rows, columns=["customer_id", "trade_date", "amount", "commission"])
    data["trades"] = trades.assign(tag=range(len(trades)))
    result = tables_from_frames(data, LENIENT, None)
    kept = result.tables.trades
    report = result.report.tables["trades"]
    assert report.rows_kept + report.rows_rejected == len(trades) == report.rows_read
    assert len(kept) == report.rows_kept
    # Kept rows obey the rules and point at their own customer.
    assert (kept["amount"] > 0).all() and (kept["commission"] >= 0).all()
    ids = result.tables.customers["customer_id"].to_numpy()
    assert (ids[kept["customer_idx"]] == kept["customer_id"].astype(str).to_numpy()).all()
    assert kept["tag"].is_monotonic_increasing  # input order kept
