"""The loader's refusals and reports: missing files and columns, empty tables, observation end."""

import pandas as pd
import pytest
from loader_fixtures import valid_frames, write_csv, write_parquet

from pipeline.core.errors import ChurnError, DataContractError, ParamsError
from pipeline.core.params import Params
from pipeline.data.loader import load_tables, tables_from_frames


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
