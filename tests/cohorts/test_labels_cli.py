"""`churn labels` through the real command line."""

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from pipeline.cli import app


def ts(values) -> pd.Series:
    return pd.Series(pd.to_datetime(values, format="ISO8601"), dtype="datetime64[us]")


def write_tables(folder, with_balances=True):
    folder.mkdir(parents=True)
    # Four accounts; data runs to 2024-06-30, so with H = 3 the last as-of is 2024-03-31.
    tables = {
        "customers": pd.DataFrame(
            {
                "customer_id": ["A", "B", "C", "D"],
                "open_date": ts(["2023-12-01"] * 4),
                "closed_date": ts([None, "2024-02-10", None, None]),
            }
        ),
        "trades": pd.DataFrame(
            {
                "customer_id": ["A", "A", "B", "C", "D"],
                "trade_date": ts(
                    ["2023-12-05", "2024-06-30", "2024-01-05", "2024-01-20", "2024-04-02"]
                ),
                "amount": [1.0] * 5,
                "commission": [0.0] * 5,
            }
        ),
    }
    if with_balances:
        tables["balances"] = pd.DataFrame(
            {
                "customer_id": ["A", "A", "C", "C", "D", "D"],
                "month_end": ts(["2023-12-31", "2024-03-31"] * 3),
                "cash": [100.0, 90.0, 100.0, 10.0, 100.0, 100.0],
                "market_value": [0.0] * 6,
            }
        )
    for name, frame in tables.items():
        pq.write_table(
            pa.Table.from_pandas(frame, preserve_index=False), folder / f"{name}.parquet"
        )
    return folder


def test_labels_prints_and_writes_base_rates(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = write_tables(tmp_path / "data")
    result = CliRunner().invoke(app, ["labels", "--data", str(data), "--out", "rates.csv"])
    assert result.exit_code == 0, result.output
    assert "closure*" in result.output and "dormancy" in result.output
    rates = pd.read_csv(tmp_path / "rates.csv")
    assert list(rates.columns) == [
        "definition",
        "as_of",
        "population",
        "labelled",
        "churners",
        "churn_rate",
    ]
    # As-of 2023-12-31 .. 2024-03-31 (activity starts Dec 2023), three definitions.
    assert len(rates) == 12
    dec = rates[rates["as_of"] == "2023-12-31"].set_index("definition")
    # At 2023-12-31, window (Dec 31, Mar 31]: B closes (closure 1 of 4); A has no trade
    # in Jan-Mar, B traded Jan 5, C Jan 20, D none (dormancy: A and D);
    # asset_drain: B closed, C fell from 100 to 10 (< 20%), A 90 and D 100 are fine;
    # every account has both balances or a closing, so all 4 are labelled.
    assert dec.loc["closure", ["population", "churners"]].tolist() == [4, 1]
    assert dec.loc["dormancy", "churners"] == 2
    assert dec.loc["asset_drain", ["labelled", "churners"]].tolist() == [4, 2]


def test_labels_without_balances_warns_and_reports_the_rest(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = write_tables(tmp_path / "data", with_balances=False)
    result = CliRunner().invoke(app, ["labels", "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert "asset_drain labels unavailable" in result.output
    assert "closure*" in result.output
