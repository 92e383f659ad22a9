"""The loader: files and formats, structural errors, coercion, the assembled Tables."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.core.errors import ChurnError, DataContractError, ParamsError
from pipeline.core.params import Params
from pipeline.data.loader import load_tables, tables_from_frames


def dates(values) -> pd.Series:
    return pd.Series(pd.to_datetime(values, format="ISO8601"), dtype="datetime64[us]")


def valid_frames() -> dict[str, pd.DataFrame]:
    """Three accounts, every table, every row legal; the latest date is 2023-07-31."""
    customers = pd.DataFrame(
        {
            "customer_id": ["C3", "C1", "C2"],
            "open_date": dates(["2023-03-15", "2023-01-10", "2023-02-01"]),
            "closed_date": dates([None, None, "2023-06-15"]),
            "close_reason": [None, None, "service"],
            "branch": ["SH", "BJ", None],
            "birth_year": [1980, 1975, 1990],
            "channel": ["online", "onsite", "online"],
        }
    )
    trades = pd.DataFrame(
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
    )
    transfers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "transfer_date": dates(["2023-01-10", "2023-06-15 10:00"]),
            "direction": ["in", "out"],
            "amount": [5000.0, 480.0],
        }
    )
    balances = pd.DataFrame(
        {
            "customer_id": ["C1", "C1", "C2", "C3"],
            "month_end": dates(["2023-01-31", "2023-02-28", "2023-05-31", "2023-03-31"]),
            "cash": [4000.0, 3900.0, 0.0, 10.0],
            "market_value": [1000.0, 0.0, 480.0, 20.0],
        }
    )
    events = pd.DataFrame(
        {
            "customer_id": ["C2", "C1"],
            "event_date": dates(["2023-05-20 11:00", "2023-02-01"]),
            "event_type": ["complaint", "contact"],
        }
    )
    return {
        "customers": customers,
        "trades": trades,
        "transfers": transfers,
        "balances": balances,
        "events": events,
    }


def write_parquet(folder, frames):
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        pq.write_table(
            pa.Table.from_pandas(frame, preserve_index=False), folder / f"{name}.parquet"
        )
    return folder


def write_csv(folder, frames):
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def test_minimal_frames_build_tables():
    result = tables_from_frames(
        {
            "customers": pd.DataFrame(
                {
                    "customer_id": ["b", "a"],
                    "open_date": ["2023-01-01", "2023-02-01"],
                    "closed_date": [None, None],
                }
            ),
            "trades": pd.DataFrame(
                {
                    "customer_id": ["a", "b", "a"],
                    "trade_date": ["2023-02-01", "2023-03-31 15:00", "2023-03-01"],
                    "amount": [1.0, 2.0, 3.0],
                    "commission": [0.1, 0.2, 0.3],
                }
            ),
        }
    )
    tables = result.tables
    assert tables.customers["customer_id"].tolist() == ["a", "b"]  # sorted
    # a is row 0, b is row 1; trades keep their input order.
    assert tables.trades["customer_idx"].tolist() == [0, 1, 0]
    assert tables.trades["customer_idx"].dtype == np.int32
    assert tables.trades["customer_id"].astype(str).tolist() == ["a", "b", "a"]
    assert tables.transfers is None and tables.balances is None and tables.events is None
    assert tables.missing_tables == ("transfers", "balances", "events")
    # Latest date 2023-03-31 15:00 is on a month end -> observation_end that day.
    assert tables.observation_end == pd.Timestamp("2023-03-31")


def test_assembled_types(tmp_path):
    tables = load_tables(write_parquet(tmp_path / "d", valid_frames()), Params(), None).tables
    customers = tables.customers
    assert customers["customer_id"].tolist() == ["C1", "C2", "C3"]
    assert pd.api.types.is_string_dtype(customers["customer_id"].dtype)
    assert customers["open_date"].dtype == "datetime64[us]"
    assert customers["channel"].dtype == "category"
    assert customers["close_reason"].dtype == "category"
    assert customers["birth_year"].tolist() == [1975, 1990, 1980]
    trades = tables.trades
    assert trades["trade_date"].dtype == "datetime64[us]"
    assert trades["amount"].dtype == "float64"
    assert trades["side"].dtype == "category"
    # Codes of the categorical id are the customer positions.
    assert (trades["customer_id"].cat.codes.to_numpy() == trades["customer_idx"].to_numpy()).all()
    assert trades["customer_idx"].tolist() == [0, 1, 2, 0]
    assert tables.balances["customer_idx"].tolist() == [0, 0, 1, 2]
    assert tables.missing_tables == ()


def test_input_frames_are_not_modified():
    frames = valid_frames()
    before = {name: frame.copy() for name, frame in frames.items()}
    tables_from_frames(frames)
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(frame, before[name])


def test_csv_and_parquet_give_the_same_tables(tmp_path):
    from_parquet = load_tables(write_parquet(tmp_path / "p", valid_frames()), Params(), None)
    from_csv = load_tables(write_csv(tmp_path / "c", valid_frames()), Params(), None)
    for name in ("customers", "trades", "transfers", "balances", "events"):
        pd.testing.assert_frame_equal(
            from_csv.tables.table(name), from_parquet.tables.table(name), check_categorical=False
        )
    assert from_csv.tables.observation_end == from_parquet.tables.observation_end


def test_parquet_is_preferred_over_csv(tmp_path):
    folder = write_parquet(tmp_path / "d", valid_frames())
    (folder / "trades.csv").write_text("customer_id\nonly an id column\n")
    result = load_tables(folder, Params(), None)
    assert result.report.tables["trades"].source.endswith("trades.parquet")
    assert len(result.tables.trades) == 4


def test_a_folder_of_parquet_files_is_one_table_in_file_name_order(tmp_path):
    frames = valid_frames()
    trades = frames.pop("trades")
    folder = write_parquet(tmp_path / "d", frames)
    (folder / "trades").mkdir()
    pq.write_table(
        pa.Table.from_pandas(trades.iloc[2:], preserve_index=False),
        folder / "trades" / "part-1.parquet",
    )
    pq.write_table(
        pa.Table.from_pandas(trades.iloc[:2], preserve_index=False),
        folder / "trades" / "part-0.parquet",
    )
    (folder / "trades" / "_SUCCESS").write_text("")
    tables = load_tables(folder, Params(), None).tables
    assert tables.trades["amount"].tolist() == [1000.0, 500.0, 20.0, 30.0]


def test_numeric_and_date_strings_are_coerced():
    frames = valid_frames()
    frames["trades"] = frames["trades"].astype({"amount": str, "commission": str})
    frames["trades"]["trade_date"] = [
        "2023-01-10T09:30:00",
        "2023-06-15 15:00",
        "2023-04-03",
        "2023-07-31 14:00:00",
    ]
    frames["customers"]["open_date"] = ["2023-03-15", "2023-01-10", "2023-02-01"]
    frames["customers"]["birth_year"] = ["1980", "1975", "1990"]
    tables = tables_from_frames(frames).tables
    expected = tables_from_frames(valid_frames()).tables
    pd.testing.assert_frame_equal(tables.trades, expected.trades)
    pd.testing.assert_frame_equal(tables.customers, expected.customers)


def test_integer_ids_become_strings_and_csv_keeps_leading_zeros(tmp_path):
    frames = valid_frames()
    ids = {"C1": "007", "C2": "010", "C3": "100"}
    for frame in frames.values():
        frame["customer_id"] = frame["customer_id"].map(ids)
    tables = load_tables(write_csv(tmp_path / "c", frames), Params(), None).tables
    assert tables.customers["customer_id"].tolist() == ["007", "010", "100"]
    frames["customers"]["customer_id"] = [100, 7, 10]
    frames["trades"]["customer_id"] = [7, 10, 100, 7]
    in_memory = tables_from_frames({"customers": frames["customers"], "trades": frames["trades"]})
    assert in_memory.tables.customers["customer_id"].tolist() == ["10", "100", "7"]
    assert in_memory.tables.trades["customer_idx"].tolist() == [2, 0, 1, 2]


def test_a_date_column_keeps_the_day_only():
    frames = valid_frames()
    frames["customers"]["open_date"] = dates(["2023-03-15 16:20", "2023-01-10", "2023-02-01 08:00"])
    opened = tables_from_frames(frames).tables.customers["open_date"]
    assert opened.tolist() == list(pd.to_datetime(["2023-01-10", "2023-02-01", "2023-03-15"]))


# --- structural problems -------------------------------------------------------------


def test_missing_required_file(tmp_path):
    frames = valid_frames()
    del frames["trades"]
    folder = write_parquet(tmp_path / "d", frames)
    with pytest.raises(DataContractError) as err:
        load_tables(folder, Params(), None)
    assert (err.value.table, err.value.column, err.value.rule) == (
        "trades",
        None,
        "required table missing",
    )
    assert "trades.parquet" in str(err.value) and "trades.csv" in str(err.value)


def test_missing_optional_files_are_warnings_naming_what_switches_off(tmp_path):
    frames = valid_frames()
    del frames["balances"], frames["events"]
    result = load_tables(write_parquet(tmp_path / "d", frames), Params(), None)
    assert result.tables.balances is None and result.tables.events is None
    assert result.tables.missing_tables == ("balances", "events")
    warnings = "\n".join(result.report.warnings)
    assert "balances is missing" in warnings and "asset_drain" in warnings
    assert "events is missing" in warnings and "complaints" in warnings
    assert "warning: optional table balances is missing" in result.report.render()


def test_missing_required_column(tmp_path):
    frames = valid_frames()
    frames["trades"] = frames["trades"].drop(columns="commission")
    with pytest.raises(DataContractError) as err:
        load_tables(write_csv(tmp_path / "d", frames), Params(), None)
    assert (err.value.table, err.value.column, err.value.rule) == (
        "trades",
        "commission",
        "required column missing",
    )
    assert str(err.value).startswith("trades.commission: required column missing")


def test_a_column_of_words_cannot_be_read_as_numbers(tmp_path):
    frames = valid_frames()
    frames["trades"]["amount"] = ["ten", "a lot", "n/a", "-"]
    with pytest.raises(DataContractError) as err:
        load_tables(write_csv(tmp_path / "d", frames), Params(), None)
    assert (err.value.table, err.value.column, err.value.rule) == (
        "trades",
        "amount",
        "cannot be read as a number",
    )
    assert "'ten'" in str(err.value)


def test_a_numeric_column_cannot_be_read_as_dates():
    frames = valid_frames()
    frames["events"]["event_date"] = [20230520, 20230201]
    with pytest.raises(DataContractError) as err:
        tables_from_frames(frames)
    assert (err.value.table, err.value.column, err.value.rule) == (
        "events",
        "event_date",
        "cannot be read as a date",
    )


def test_empty_required_table(tmp_path):
    frames = valid_frames()
    frames["trades"] = frames["trades"].iloc[:0]
    with pytest.raises(DataContractError) as err:
        load_tables(write_parquet(tmp_path / "d", frames), Params(), None)
    assert (err.value.table, err.value.column, err.value.rule) == ("trades", None, "empty table")


def test_an_empty_optional_table_is_loaded_empty():
    frames = valid_frames()
    frames["events"] = frames["events"].iloc[:0]
    tables = tables_from_frames(frames).tables
    assert len(tables.events) == 0 and "customer_idx" in tables.events


def test_an_unreadable_file(tmp_path):
    folder = write_parquet(tmp_path / "d", valid_frames())
    (folder / "balances.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataContractError) as err:
        load_tables(folder, Params(), None)
    assert (err.value.table, err.value.rule) == ("balances", "unreadable file")


def test_missing_data_folder_and_quarantine_into_the_data_folder(tmp_path):
    with pytest.raises(ChurnError, match="data folder not found"):
        load_tables(tmp_path / "nowhere", Params(), None)
    folder = write_parquet(tmp_path / "d", valid_frames())
    with pytest.raises(ChurnError, match="must not be the data folder"):
        load_tables(folder, Params(), folder)


def test_unknown_frame_name():
    with pytest.raises(ChurnError, match="unknown tables"):
        tables_from_frames({**valid_frames(), "trade": valid_frames()["trades"]})


# --- observation end -------------------------------------------------------------------


def test_observation_end_is_the_month_end_on_or_before_the_latest_date():
    frames = valid_frames()
    # Latest date 2023-07-31 14:00 (a trade) -> 2023-07-31.
    assert tables_from_frames(frames).tables.observation_end == pd.Timestamp("2023-07-31")
    # Without that trade the latest date is 2023-06-15 -> the month end before, 2023-05-31.
    frames["trades"] = frames["trades"].iloc[:3]
    assert tables_from_frames(frames).tables.observation_end == pd.Timestamp("2023-05-31")


def test_a_closing_date_after_the_data_leaves_observation_end_and_means_open():
    frames = valid_frames()
    frames["customers"]["closed_date"] = pd.to_datetime([None, "2099-12-31", "2023-06-15"])
    loaded = tables_from_frames(frames)
    # Opening and closing dates never set the end: the latest activity does (2023-07-31).
    assert loaded.tables.observation_end == pd.Timestamp("2023-07-31")
    assert any(
        "1 accounts have a closed_date after observation_end" in w for w in loaded.report.warnings
    )


def test_configured_observation_end_wins_and_must_be_a_month_end():
    params = Params.model_validate({"data": {"observation_end": "2023-06"}})
    assert tables_from_frames(valid_frames(), params).tables.observation_end == pd.Timestamp(
        "2023-06-30"
    )
    params = Params.model_validate({"data": {"observation_end": "2023-06-15"}})
    with pytest.raises(ParamsError, match="data.observation_end"):
        tables_from_frames(valid_frames(), params)


def test_configured_observation_end_after_all_data_is_warned_about():
    params = Params.model_validate({"data": {"observation_end": "2024-12-31"}})
    report = tables_from_frames(valid_frames(), params).report
    assert any("after the latest dated row (2023-07-31)" in w for w in report.warnings)


def test_report_counts_and_render(tmp_path):
    result = load_tables(write_parquet(tmp_path / "d", valid_frames()), Params(), None)
    trades = result.report.tables["trades"]
    assert (trades.rows_read, trades.rows_kept, trades.rows_rejected) == (4, 4, 0)
    text = result.report.render()
    assert "observation_end: 2023-07-31" in text
    assert "trades" in text and "customers" in text
