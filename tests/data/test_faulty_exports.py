"""Faults real brokerage exports have, made from demo data, through the real `churn` CLI.

Each case is refused with exit 2 naming what is wrong, or handled and reported;
never a silent wrong answer. The clean export is the session's demo data
(3,000 accounts over 30 months, ending 2023-06-30).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cli_faults import END, churn, copy_of, validate

from pipeline.core.params import Params
from pipeline.data.loader import load_tables


@pytest.fixture(scope="module")
def clean(demo_data):
    return load_tables(demo_data, Params(), None)


def test_the_clean_export_ends_in_june_2023(clean):
    assert clean.tables.observation_end == pd.Timestamp(END)


def append_rows(path: Path, rows: pd.DataFrame) -> None:
    table = pq.read_table(path)
    extra = pa.Table.from_pandas(rows, preserve_index=False).cast(table.schema)
    pq.write_table(pa.concat_tables([table, extra]), path)


def test_one_future_dated_event_neither_moves_the_end_nor_is_used(demo_data, clean, tmp_path):
    data = copy_of(demo_data, tmp_path / "data")
    someone = clean.tables.customers["customer_id"].iloc[0]
    events = pq.read_table(data / "events.parquet").to_pandas().head(1)
    events = events.assign(customer_id=someone, event_date=pd.Timestamp("2023-11-15"))
    append_rows(data / "events.parquet", events)
    code, output = validate(data, tmp_path / "run")
    assert code == 0, output
    assert f"observation_end: {END}" in output
    assert "set by the last month whose active accounts reach data.min_activity_share" in output
    assert "later month(s) with stray activity left out" in output
    rejected = pd.read_parquet(tmp_path / "run" / "rejected" / "events.parquet")
    assert rejected["reason"].tolist() == ["event_date: after observation_end"]
    loaded = load_tables(data, Params(), None)
    assert loaded.tables.events["event_date"].max() < pd.Timestamp(END) + pd.Timedelta(days=1)
    assert len(loaded.tables.events) == len(clean.tables.events)


def test_a_closed_date_in_2099_means_open_at_the_end(demo_data, clean, tmp_path):
    data = copy_of(demo_data, tmp_path / "data")
    customers = pq.read_table(data / "customers.parquet").to_pandas(date_as_object=False)
    open_now = customers["closed_date"].isna()
    customers.loc[open_now.idxmax(), "closed_date"] = pd.Timestamp("2099-12-31")
    pq.write_table(
        pa.Table.from_pandas(customers, preserve_index=False), data / "customers.parquet"
    )
    code, output = validate(data, tmp_path / "run")
    assert code == 0, output
    assert f"observation_end: {END}" in output
    assert "1 accounts have a closed_date after observation_end" in output
    rates = churn("labels", "--data", str(data), "--out", str(tmp_path / "rates.csv"))
    clean_rates = churn("labels", "--data", str(demo_data), "--out", str(tmp_path / "clean.csv"))
    assert rates.exit_code == clean_rates.exit_code == 0
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "rates.csv"), pd.read_csv(tmp_path / "clean.csv")
    )


def test_every_file_of_a_partitioned_folder_is_read(demo_data, clean, tmp_path):
    data = copy_of(demo_data, tmp_path / "data")
    trades = pq.read_table(data / "trades.parquet")
    (data / "trades.parquet").unlink()
    half = trades.num_rows // 2
    (data / "trades" / "year=2022").mkdir(parents=True)
    pq.write_table(trades.slice(0, half), data / "trades" / "year=2022" / "part-0.parquet")
    pq.write_table(trades.slice(half), data / "trades" / "PART-1.PARQUET")
    (data / "trades" / "_SUCCESS").write_text("")
    code, output = validate(data, tmp_path / "run")
    assert code == 0, output
    loaded = load_tables(data, Params(), None)
    assert loaded.report.tables["trades"].rows_read == trades.num_rows
    assert len(loaded.tables.trades) == len(clean.tables.trades)


def test_a_file_that_is_not_parquet_in_a_table_folder_is_named(demo_data, tmp_path):
    data = copy_of(demo_data, tmp_path / "data")
    (data / "trades.parquet").rename(tmp_path / "trades.parquet")
    (data / "trades").mkdir()
    shutil.copy(tmp_path / "trades.parquet", data / "trades" / "part-0.parquet")
    (data / "trades" / "part-1.csv").write_text("customer_id,trade_date\n")
    code, output = validate(data, tmp_path / "run")
    assert code == 2
    assert "trades" in output and "part-1.csv" in output and "not Parquet" in output


def test_csv_times_with_an_offset_keep_their_local_wall_clock(demo_data, clean, tmp_path):
    data = copy_of(demo_data, tmp_path / "data")
    transfers = pq.read_table(data / "transfers.parquet").to_pandas()
    (data / "transfers.parquet").unlink()
    local = transfers["transfer_date"].dt.strftime("%Y-%m-%dT%H:%M")
    transfers["transfer_date"] = local + "+08:00"  # Beijing time, as a Chinese broker exports
    transfers.to_csv(data / "transfers.csv", index=False)
    code, output = validate(data, tmp_path / "run")
    assert code == 0, output
    assert not (tmp_path / "run" / "rejected" / "transfers.parquet").exists()
    loaded = load_tables(data, Params(), None)
    expected = clean.tables.transfers["transfer_date"].dt.floor("min")
    pd.testing.assert_series_equal(
        loaded.tables.transfers["transfer_date"], expected, check_names=False
    )


def rewrite(path: Path, edit) -> None:
    frame = pq.read_table(path).to_pandas(date_as_object=False)
    pq.write_table(pa.Table.from_pandas(edit(frame), preserve_index=False), path)


def test_absurd_cash_and_birth_year_are_quarantined_with_their_bound(demo_data, tmp_path):
    data = copy_of(demo_data, tmp_path / "data")

    def absurd_cash(balances):
        balances.loc[5, "cash"] = 1e300
        return balances

    def born_in_3000(customers):
        customers.loc[7, "birth_year"] = 3000
        return customers

    rewrite(data / "balances.parquet", absurd_cash)
    rewrite(data / "customers.parquet", born_in_3000)
    code, output = validate(data, tmp_path / "run")
    assert code == 0, output
    rejected = tmp_path / "run" / "rejected"
    balances = pd.read_parquet(rejected / "balances.parquet")
    assert "cash: above validation.max_money" in balances["reason"].tolist()
    customers = pd.read_parquet(rejected / "customers.parquet")
    assert customers["reason"].tolist() == [
        "birth_year: less than validation.min_customer_age years before open_date"
    ]
    assert customers["source_row"].tolist() == [7]


def test_exact_duplicate_trades_are_reported_or_quarantined_as_params_say(
    demo_data, clean, tmp_path
):
    data = copy_of(demo_data, tmp_path / "data")
    trades = pq.read_table(data / "trades.parquet")
    pq.write_table(pa.concat_tables([trades, trades.slice(10, 3)]), data / "trades.parquet")
    already = clean.report.tables["trades"].rows_repeated  # equal trades on one day
    code, output = validate(data, tmp_path / "run")
    assert code == 0, output
    assert f"warning: {already + 3:,} rows of trades repeat an earlier row" in output
    assert len(load_tables(data, Params(), None).tables.trades) == len(clean.tables.trades) + 3
    quarantine = ["--set", "validation.duplicate_rows=quarantine"]
    result = churn("validate", "--data", str(data), "--out", str(tmp_path / "q"), *quarantine)
    assert result.exit_code == 0, result.output
    rejected = pd.read_parquet(tmp_path / "q" / "rejected" / "trades.parquet")
    assert set(rejected["reason"]) == {"duplicate row"} and len(rejected) == already + 3
    assert rejected["source_row"].tolist()[-3:] == [trades.num_rows + i for i in range(3)]


def test_an_input_column_named_reason_survives_the_quarantine(demo_data, tmp_path):
    data = copy_of(demo_data, tmp_path / "data")

    def with_own_reason(trades):
        trades["reason"] = "broker note"
        trades.loc[3, "amount"] = -1.0
        return trades

    rewrite(data / "trades.parquet", with_own_reason)
    code, output = validate(data, tmp_path / "run")
    assert code == 0, output
    rejected = pd.read_parquet(tmp_path / "run" / "rejected" / "trades.parquet")
    row = rejected[rejected["source_row"] == 3]
    assert row["reason"].tolist() == ["amount: must be > 0"]
    assert row["input_reason"].tolist() == ["broker note"]
    assert set(rejected["input_reason"]) == {"broker note"}


def test_a_table_stored_as_csv_and_parquet_reads_parquet_and_names_the_csv(demo_data, tmp_path):
    data = copy_of(demo_data, tmp_path / "data")
    pd.read_parquet(data / "customers.parquet").head(3).to_csv(data / "customers.csv", index=False)
    code, output = validate(data, tmp_path / "run")
    assert code == 0, output
    assert "customers.csv also found and NOT read" in output
    assert "customers.parquet is read (the contract prefers Parquet)" in output


def test_a_header_only_optional_table_is_unavailable_not_zero(demo_data, tmp_path):
    data = copy_of(demo_data, tmp_path / "data")
    (data / "transfers.parquet").unlink()
    (data / "transfers.csv").write_text("customer_id,transfer_date,direction,amount\n")
    code, output = validate(data, tmp_path / "run")
    assert code == 0, output
    assert "optional table transfers is missing or empty" in output
    out = tmp_path / "features.parquet"
    built = churn("features", "--data", str(data), "--as-of", END, "--out", str(out))
    assert built.exit_code == 0, built.output
    assert pd.read_parquet(out)["outflow_share_6m"].isna().all()
