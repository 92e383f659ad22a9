"""`churn features` on a small Parquet folder written here, through the real CLI."""

import pandas as pd
import pyarrow.parquet as pq
from typer.testing import CliRunner

from features.builder.registry import model_feature_columns
from pipeline.cli import app


def _write_folder(folder):
    folder.mkdir()
    pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "open_date": pd.to_datetime(["2022-01-03", "2022-02-01", "2023-07-01"]),
            "closed_date": pd.to_datetime([None, "2023-05-20", None]),
            "channel": ["online", "onsite", None],
        }
    ).to_parquet(folder / "customers.parquet")
    pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c"],
            "trade_date": pd.to_datetime(
                ["2023-04-03", "2023-06-30 14:00", "2023-03-01", "2023-07-02"], format="ISO8601"
            ),
            "amount": [1000.0, 500.0, 200.0, 50.0],
            "commission": [1.0, 0.5, 0.2, 0.05],
        }
    ).to_parquet(folder / "trades.parquet")
    pd.DataFrame(
        {
            "customer_id": ["a", "a"],
            "month_end": pd.to_datetime(["2023-05-31", "2023-06-30"]),
            "cash": [100.0, 80.0],
            "market_value": [900.0, 0.0],
        }
    ).to_parquet(folder / "balances.parquet")


def test_churn_features_writes_the_matrix(tmp_path):
    data, out = tmp_path / "data", tmp_path / "run" / "features.parquet"
    _write_folder(data)
    result = CliRunner().invoke(
        app,
        [
            "features",
            "--data",
            str(data),
            "--as-of",
            "2023-04-30",
            "--as-of",
            "2023-06",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "rows x" in result.output and "warning: optional input 'transfers'" in result.output
    matrix = pq.read_table(out).to_pandas()
    # April: a and b open; June: only a (b closed in May, c opens in July).
    assert matrix[["customer_id", "as_of"]].astype(str).values.tolist() == [
        ["a", "2023-04-30"],
        ["b", "2023-04-30"],
        ["a", "2023-06-30"],
    ]
    assert list(matrix.columns) == ["customer_id", "as_of", *model_feature_columns()]
    june = matrix.iloc[2]
    assert june["trades_1m"] == 1 and june["total_assets"] == 80
    assert list(out.parent.iterdir()) == [out]  # no temporary file left behind


def test_churn_features_refuses_a_date_that_is_not_a_month_end(tmp_path):
    data = tmp_path / "data"
    _write_folder(data)
    out = tmp_path / "f.parquet"
    result = CliRunner().invoke(
        app, ["features", "--data", str(data), "--as-of", "2023-06-15", "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "not a month end" in result.output
    assert not out.exists()
