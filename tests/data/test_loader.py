"""The loader: files and formats, coercion, the assembled Tables."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from loader_fixtures import dates, valid_frames, write_csv, write_parquet

from pipeline.core.params import Params
from pipeline.data.loader import load_tables, tables_from_frames


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
