"""The local engine on partitions kept on disk loads, quarantines and reports as on one partition.

The export is the split demo data (three files per table) with faults added to
the middle file of trades and events, so ``source_row`` must count across files
and partitions: an unknown customer, a trade before its account opened, a
future-dated trade and event (after the observation end), and an exact copy of
a trade (quarantined with ``validation.duplicate_rows: quarantine``).
"""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.core.contract import SCHEMAS
from pipeline.core.errors import DataContractError
from pipeline.core.params import Params
from pipeline.data.partitions import customer_partitions
from pipeline.data.validation import UNKNOWN_CUSTOMER
from pipeline.engine.local import LocalEngine, partitions_for, workers_for
from pipeline.engine.spill import Spilled, SpillingExecutor


def append_to(path: Path, rows: pd.DataFrame) -> None:
    table = pq.read_table(path)
    extra = pa.Table.from_pandas(rows, preserve_index=False).cast(table.schema)
    pq.write_table(pa.concat_tables([table, extra]), path, row_group_size=4000)


@pytest.fixture(scope="module")
def faulty(split_demo_data, tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("faulty") / "data"
    shutil.copytree(split_demo_data, data)
    middle = data / "trades" / "part-001.parquet"
    trades = pq.read_table(middle).to_pandas().head(4).reset_index(drop=True)
    trades.loc[0, "customer_id"] = "NOBODY"
    trades.loc[1, "trade_date"] = pd.Timestamp("2019-01-02")  # before any account opened
    trades.loc[2, "trade_date"] = pd.Timestamp("2031-05-05")  # a stray far after the end
    append_to(middle, pd.concat([trades, trades.iloc[[3]]], ignore_index=True))
    customers_file = data / "customers" / "part-001.parquet"
    schema = pq.read_schema(customers_file)
    customers = pq.read_table(customers_file).to_pandas(date_as_object=False)
    still_open = customers.index[customers["closed_date"].isna()][:2]
    customers.loc[still_open, "closed_date"] = pd.Timestamp("2099-12-31")  # open at the end
    table = pa.Table.from_pandas(customers, preserve_index=False).cast(schema)
    pq.write_table(table, customers_file)
    events_file = data / "events" / "part-001.parquet"
    events = pq.read_table(events_file).to_pandas().head(1)
    append_to(events_file, events.assign(event_date=pd.Timestamp("2030-01-15")))
    return data


@pytest.fixture
def params() -> Params:
    params = Params()
    params.validation.duplicate_rows = "quarantine"
    return params


def load(data: Path, params: Params, rejected: Path, n_partitions: int, workers: int = 1):
    engine = LocalEngine(n_partitions, workers=workers)
    assert engine.workers == workers_for(n_partitions, workers)  # 2 on a machine of 2+ cores
    try:
        loaded = engine.load(data, params, rejected)
        return loaded, engine.executor.gather(loaded.parts)
    finally:
        engine.close()


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


def test_large_results_wait_on_disk_and_come_back_equal(tmp_path):
    executor = SpillingExecutor(tmp_path, keep_bytes=1000)
    frame = pd.DataFrame({"x": range(10_000), "y": ["a", "b"] * 5_000})
    big = executor.submit(pd.DataFrame.copy, frame)
    small = executor.submit(len, frame)
    assert isinstance(big, Spilled) and big.path.exists()
    assert executor.gather([small]) == [10_000]
    pd.testing.assert_frame_equal(executor.gather([big])[0], frame)
    head, tail = executor.submit_parts(lambda f: [f.head(9_000), f["x"].iloc[-3:].tolist()], 2, big)
    assert isinstance(head, Spilled) and not isinstance(tail, Spilled)
    total = executor.submit(lambda a, b: len(a) + len(b), head, tail)
    assert list(executor.results([total])) == [9_003]
    with pytest.raises(ValueError, match="expected 3 parts"):
        executor.submit_parts(lambda f: [f, f], 3, big)
    path = head.path
    del head  # nothing can read it any more: its file goes
    gc.collect()
    assert not path.exists() and big.path.exists()
    executor.close()
    assert not big.path.exists()


def test_partitions_follow_the_stored_rows_when_not_fixed(faulty, params, tmp_path):
    stored = sum(
        pq.read_metadata(file).num_rows for file in faulty.glob("*/*.parquet")
    )  # hand count: every Parquet file's footer
    assert partitions_for(faulty, stored) == 1
    assert partitions_for(faulty, stored // 3 + 1) == 3
    assert partitions_for(tmp_path / "absent", 10) == 1  # the load then refuses it clearly
    # Two workers hold two partitions at a time: each gets half the rows.
    assert partitions_for(faulty, stored, workers=2) == 1  # within partition_rows: whole
    assert partitions_for(faulty, stored // 3 + 1, workers=2) == 6
    assert partitions_for(faulty, stored - 1, workers=2) == 3  # ceil(2 x (1 + 1 / (stored - 1)))
    engine = LocalEngine(None, partition_rows=stored // 3 + 1)
    try:
        loaded = engine.load(faulty, params, tmp_path / "rejected")
        assert engine.n_partitions == 3 and len(loaded.parts) == 3
        assert "held as 3 customer partitions on disk" in loaded.report.render()
    finally:
        engine.close()
    fixed = LocalEngine(2, partition_rows=10)  # a fixed count wins over the row count
    try:
        assert len(fixed.load(faulty, params, None).parts) == 2
    finally:
        fixed.close()


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


def test_a_spill_folder_that_does_not_exist_is_refused_by_the_cli(faulty, tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    out = tmp_path / "features.parquet"
    args = ["features", "--data", str(faulty), "--as-of", "2022-06", "--out", str(out)]
    settings = ["--set", "engine.partitions=3", "--set", f"engine.spill_dir={tmp_path / 'no'}"]
    result = CliRunner().invoke(app, [*args, *settings])
    assert result.exit_code == 2, result.output
    assert "engine.spill_dir" in result.output and "No such file or directory" in result.output
    assert not out.exists()


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


def test_spill_folders_of_killed_runs_on_this_machine_are_removed(split_demo_data, tmp_path):
    import os
    import socket
    import subprocess
    import sys

    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = int(ended.stdout)
    host = "".join(c if c.isalnum() else "_" for c in socket.gethostname())
    killed = tmp_path / f"churn-partitions-{host}-{dead}-abc123"
    living = tmp_path / f"churn-partitions-{host}-{os.getpid()}-def456"
    elsewhere = tmp_path / f"churn-partitions-otherhost-{dead}-ghi789"
    for folder in (killed, living, elsewhere):
        folder.mkdir()
        (folder / "0000001.pickle").write_bytes(b"x" * 100)
    engine = LocalEngine(3, spill_dir=tmp_path)
    try:
        loaded = engine.load(split_demo_data, Params(), None)
        assert loaded.report.layout.endswith("removed 1 spill folder(s) left by killed runs")
    finally:
        engine.close()
    assert not killed.exists()
    assert living.exists() and elsewhere.exists()  # a running job's, another machine's
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([living.name, elsewhere.name])


def test_a_load_interrupted_after_some_partitions_leaves_no_partial_quarantine(
    faulty, params, tmp_path, monkeypatch
):
    import pipeline.data.partitioned as partitioned

    finished = []

    def interrupted_on_the_third(*args):
        if len(finished) == 2:
            raise KeyboardInterrupt  # Ctrl-C while the fourth partition is being finished
        finished.append(args)
        return partitioned.finished_partition.__wrapped__(*args)

    interrupted_on_the_third.__wrapped__ = partitioned.finished_partition
    monkeypatch.setattr(partitioned, "finished_partition", interrupted_on_the_third)
    rejected = tmp_path / "rejected"
    with pytest.raises(KeyboardInterrupt):
        load(faulty, params, rejected, 4)
    assert len(finished) == 2  # two partitions had staged their quarantine files
    assert not rejected.exists()  # neither their files nor the staging folder are left
