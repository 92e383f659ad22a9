"""`churn validate` through the real command line on Parquet files written here."""

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pipeline.cli import app


def write_tables(folder, amount_of_third_trade=20.0):
    folder.mkdir(parents=True)
    tables = {
        "customers": pd.DataFrame(
            {
                "customer_id": ["C1", "C2"],
                "open_date": pd.to_datetime(["2023-01-10", "2023-02-01"]).date,
                "closed_date": pd.to_datetime([None, "2023-06-15"]).date,
            }
        ),
        "trades": pd.DataFrame(
            {
                "customer_id": ["C1", "C2", "C1", "C9"],
                "trade_date": pd.to_datetime(
                    ["2023-01-10", "2023-06-15", "2023-03-01", "2023-03-01"]
                ),
                "amount": [1000.0, 500.0, amount_of_third_trade, 10.0],
                "commission": [1.0, 0.5, 0.0, 0.0],
            }
        ),
        "balances": pd.DataFrame(
            {
                "customer_id": ["C1", "C2"],
                "month_end": pd.to_datetime(["2023-03-31", "2023-05-31"]).date,
                "cash": [10.0, 0.0],
                "market_value": [5.0, 0.0],
            }
        ),
    }
    for name, frame in tables.items():
        pq.write_table(
            pa.Table.from_pandas(frame, preserve_index=False), folder / f"{name}.parquet"
        )
    return folder


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # packaged default params, runs/ under tmp
    return tmp_path


def test_validate_prints_the_report_and_quarantines(in_tmp):
    data = write_tables(in_tmp / "data")
    result = CliRunner().invoke(
        app,
        [
            "validate",
            "--data",
            str(data),
            "--out",
            "run",
            "--set",
            "validation.max_rejected_share=0.5",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "customers" in result.output and "trades" in result.output
    assert "1  customer_id: unknown customer" in result.output
    assert "optional table transfers is missing" in result.output
    # Latest date 2023-06-15 (a closing and a trade): the month end on or before it.
    assert "observation_end: 2023-05-31" in result.output
    q = pd.read_parquet(in_tmp / "run" / "rejected" / "trades.parquet")
    assert q[["source_row", "reason"]].values.tolist() == [[3, "customer_id: unknown customer"]]
    assert "observation_end: 2023-05-31" in (in_tmp / "run" / "validation.txt").read_text()


def test_validate_fails_with_exit_2_when_too_many_rows_are_rejected(in_tmp):
    data = write_tables(in_tmp / "data", amount_of_third_trade=-20.0)
    result = CliRunner().invoke(app, ["validate", "--data", str(data), "--out", "run"])
    assert result.exit_code == 2
    assert "trades: rejected share above validation.max_rejected_share" in result.output
    assert "amount: must be > 0: 1" in result.output
    # The quarantine is there to inspect although the run failed.
    q = pd.read_parquet(in_tmp / "run" / "rejected" / "trades.parquet")
    assert q["source_row"].tolist() == [2, 3]


def test_validate_names_a_missing_column(in_tmp):
    data = write_tables(in_tmp / "data")
    frame = pd.read_parquet(data / "balances.parquet").drop(columns="cash")
    frame.to_parquet(data / "balances.parquet")
    result = CliRunner().invoke(app, ["validate", "--data", str(data), "--out", "run"])
    assert result.exit_code == 2
    assert "balances.cash: required column missing" in result.output
