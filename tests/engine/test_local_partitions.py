"""The local engine on partitions kept on disk loads, quarantines and reports as on one partition.

The faulty export (tests/engine/partition_fixtures.py) is loaded whole and on
partitions, one at a time here and side by side in worker processes.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from partition_fixtures import load, quarantining_params

from pipeline.core.contract import SCHEMAS
from pipeline.core.errors import DataContractError
from pipeline.core.params import Params
from pipeline.data.partitions import customer_partitions
from pipeline.data.validation import UNKNOWN_CUSTOMER


@pytest.fixture
def params() -> Params:
    return quarantining_params()


@pytest.fixture
def one(faulty, params, tmp_path):
    return load(faulty, params, tmp_path / "one", 1)


# One call at a time in this process, and side by side in two worker processes.
LAYOUTS = [(3, 1), (8, 1), (3, 2)]


@pytest.mark.parametrize(("n_partitions", "workers"), LAYOUTS)
def test_quarantine_files_equal_the_one_partition_load(
    faulty, params, tmp_path, one, n_partitions, workers
):
    load(faulty, params, tmp_path / "many", n_partitions, workers)
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert sorted(p.name for p in (tmp_path / "many").iterdir()) == names  # no staging left
    assert {"trades.parquet", "events.parquet"} <= set(names)
    for name in names:
        expected = pd.read_parquet(tmp_path / "one" / name)
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "many" / name), expected)
    trades = pd.read_parquet(tmp_path / "one" / "trades.parquet")
    assert trades["reason"].str.contains(UNKNOWN_CUSTOMER).sum() == 1
    assert trades["reason"].str.contains("after observation_end").sum() == 1
    assert trades["reason"].nunique() >= 4
    files = [pq.read_metadata(faulty / "trades" / f"part-00{i}.parquet").num_rows for i in (0, 1)]
    nobody = files[0] + files[1] - 5  # the first of the five rows appended to the middle file
    unknown = trades[trades["reason"].str.contains(UNKNOWN_CUSTOMER)]
    assert unknown["source_row"].tolist() == [nobody]  # counted across the files


@pytest.mark.parametrize(("n_partitions", "workers"), LAYOUTS)
def test_report_and_rows_equal_the_one_partition_load(
    faulty, params, tmp_path, one, n_partitions, workers
):
    (whole, [tables]), (parts, pieces) = one, load(faulty, params, tmp_path, n_partitions, workers)
    assert parts.observation_end == whole.observation_end
    assert parts.report.warnings == whole.report.warnings
    # The partitions' counts add up to the whole load's one warning (two accounts).
    assert any(w.startswith("2 accounts have a closed_date after") for w in whole.report.warnings)
    for name, expected in whole.report.tables.items():
        mine = parts.report.tables[name]
        assert (mine.rows_read, mine.rows_rejected, mine.rows_after_end) == (
            expected.rows_read,
            expected.rows_rejected,
            expected.rows_after_end,
        )
        assert mine.rejected_by_rule == expected.rejected_by_rule
        assert (mine.quarantine_path is None) == (expected.quarantine_path is None)
        if mine.quarantine_path is not None:
            assert mine.quarantine_path.name == f"{name}.parquet"
    assert len(pieces) == n_partitions
    ids = sorted(i for part in pieces for i in part.customers["customer_id"])
    assert ids == tables.customers["customer_id"].tolist()
    for name in ("trades", "transfers", "balances", "events"):
        rows = sum(len(getattr(part, name)) for part in pieces)
        assert rows == len(getattr(tables, name))
        mine = pd.concat([getattr(part, name) for part in pieces]).drop(columns="customer_idx")
        expected = getattr(tables, name).drop(columns="customer_idx")
        key = ["customer_id", SCHEMAS[name].date_column]
        mine = mine.astype({"customer_id": str}).sort_values(key, kind="stable")
        expected = expected.astype({"customer_id": str}).sort_values(key, kind="stable")
        pd.testing.assert_frame_equal(
            mine.reset_index(drop=True), expected.reset_index(drop=True), check_categorical=False
        )


def test_too_many_rejected_rows_are_refused_with_the_quarantine_written(faulty, tmp_path):
    params = Params()
    params.validation.max_rejected_share = 0.0
    with pytest.raises(DataContractError, match="trades.*limit 0.00%") as refused:
        load(faulty, params, tmp_path / "many", 4, workers=2)
    assert str(tmp_path / "many" / "trades.parquet") in str(refused.value)
    with pytest.raises(DataContractError):
        load(faulty, params, tmp_path / "one", 1)
    for name in sorted(p.name for p in (tmp_path / "one").iterdir()):
        expected = pd.read_parquet(tmp_path / "one" / name)
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "many" / name), expected)
    assert not [p for p in (tmp_path / "many").iterdir() if p.name.startswith(".")]


def test_the_quarantine_folder_must_not_be_the_data_folder(faulty, params):
    from pipeline.core.errors import ChurnError

    with pytest.raises(ChurnError, match="must not be the data folder"):
        load(faulty, params, faulty, 4)


def test_rows_of_a_partition_without_customers_are_quarantined_not_lost(tmp_path):
    data = tmp_path / "tiny"
    data.mkdir()
    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "open_date": pd.to_datetime(["2021-01-04", "2021-02-01", "2021-03-01"]),
            "closed_date": pd.to_datetime([None, None, None]),
        }
    )
    customers.to_parquet(data / "customers.parquet")
    trades = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C9", "C3", "C1"],
            "trade_date": pd.to_datetime(
                ["2021-05-03", "2021-05-04", "2021-05-05", "2021-05-06", "2021-06-01"]
            ),
            "amount": [100.0, 200.0, 300.0, 50.0, 400.0],
            "commission": [1.0, 2.0, 3.0, 0.5, 4.0],
        }
    )
    trades.to_parquet(data / "trades.parquet")
    ids = np.array(["C1", "C2", "C3", "C9"], dtype=object)

    def c9_alone(n: int) -> bool:
        *others, c9 = customer_partitions(ids, n)
        return c9 not in others  # every customer trades: no partition of customers lacks trades

    n = next(n for n in range(2, 256) if c9_alone(n))
    params = Params()
    params.validation.max_rejected_share = 0.5
    load(data, params, tmp_path / "one", 1)
    loaded, _ = load(data, params, tmp_path / "many", n)
    assert loaded.report.tables["trades"].rejected_by_rule == {UNKNOWN_CUSTOMER: 1}
    rejected = pd.read_parquet(tmp_path / "many" / "trades.parquet")
    assert rejected[["source_row", "reason"]].values.tolist() == [[2, UNKNOWN_CUSTOMER]]
    pd.testing.assert_frame_equal(rejected, pd.read_parquet(tmp_path / "one" / "trades.parquet"))


def test_a_clean_export_leaves_no_quarantine_folder(split_demo_data, tmp_path):
    whole, _ = load(split_demo_data, Params(), tmp_path / "one", 1)
    assert all(t.rows_rejected == 0 for t in whole.report.tables.values())
    load(split_demo_data, Params(), tmp_path / "many", 3)
    assert not (tmp_path / "one").exists() and not (tmp_path / "many").exists()


def test_churn_validate_on_partitions_reports_and_quarantines_as_whole(faulty, tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    def validate(out, *settings):
        args = ["validate", "--data", str(faulty), "--out", str(out)]
        for setting in ("validation.duplicate_rows=quarantine", *settings):
            args += ["--set", setting]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        lines = (out / "validation.txt").read_text().splitlines()
        return [line for line in lines if "validated in" not in line]

    whole = validate(tmp_path / "one")
    parts = validate(tmp_path / "many", "engine.partitions=5")
    assert parts[-1].startswith("held as 5 customer partitions on disk")
    assert parts[:-1] == [line.replace("/one/", "/many/") for line in whole]
    for name in sorted(p.name for p in (tmp_path / "one" / "rejected").iterdir()):
        expected = pd.read_parquet(tmp_path / "one" / "rejected" / name)
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "many" / "rejected" / name), expected
        )


def test_columns_keep_the_export_order_with_the_id_not_first(split_demo_data, params, tmp_path):
    # A partition waiting for the observation end keeps no typed ids; the finish puts the
    # column back where the export had it (here after the date, before an extra column).
    data = tmp_path / "data"
    shutil.copytree(split_demo_data, data)
    for file in sorted((data / "trades").glob("*.parquet")):
        trades = pd.read_parquet(file)
        order = [
            "trade_date",
            "customer_id",
            *[c for c in trades if c not in ("trade_date", "customer_id")],
        ]
        trades[order].assign(desk="D1").to_parquet(file, index=False)
    (_, [tables]), (_, pieces) = (
        load(data, params, tmp_path / "one", 1),
        load(data, params, tmp_path / "many", 3),
    )
    assert list(tables.trades.columns)[:2] == ["trade_date", "customer_id"]
    for part in pieces:
        assert list(part.trades.columns) == list(tables.trades.columns)
