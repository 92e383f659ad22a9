"""The quarantine as files: values kept as read, source rows, the rejected share, stale files."""

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from validation_fixtures import LENIENT, frames, load, rejected

from pipeline.core.errors import DataContractError
from pipeline.core.params import Params
from pipeline.data.loader import load_tables, tables_from_frames
from pipeline.data.quarantine import REJECTED_SHARE_RULE


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
