"""Features on a two-worker LocalCluster: equal to the local engine to the last bit.

From client tables and from files the workers read; a worker killed mid-step
changes nothing; the cluster context manager closes what it started.
"""

import contextlib
import os
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from engine_helpers import dask_feature_dataset, dask_features

from features.builder.build import build_feature_matrix
from pipeline.cohorts.matrix import feature_partitions, gather_frames
from pipeline.core.errors import DataContractError
from pipeline.core.params import Params
from pipeline.data.loader import load_tables
from pipeline.data.partitioned import load_partitions
from pipeline.data.partitions import customer_partitions
from pipeline.data.publish import read_dataset
from pipeline.data.validation import UNKNOWN_CUSTOMER
from pipeline.engine.dask_cluster import PARTITIONS_PER_WORKER, dask_client, partition_count
from pipeline.engine.dask_engine import DaskExecutor

AS_OF = [pd.Timestamp("2021-12-31"), pd.Timestamp("2022-06-30"), pd.Timestamp("2022-09-30")]


@pytest.fixture(scope="module")
def local_features(tables):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_feature_matrix(tables, AS_OF, Params())


def test_workers_hash_customers_as_the_client_does(client):
    ids = np.array(["C0000001", "C0000002", "000123"], dtype=object)
    on_workers = client.run(customer_partitions, ids, 8)
    assert len(on_workers) == 2
    for parts in on_workers.values():
        assert parts.tolist() == customer_partitions(ids, 8).tolist()


def test_features_from_client_tables_equal_local_to_the_bit(client, tables, params, local_features):
    matrix = dask_features(tables, AS_OF, params, client)
    pd.testing.assert_frame_equal(matrix, local_features, check_exact=True)


def test_features_read_by_workers_from_split_files_equal_local(
    client, split_demo_data, params, local_features
):
    matrix = dask_features(f"file://{split_demo_data}", AS_OF, params, client)
    pd.testing.assert_frame_equal(matrix, local_features, check_exact=True)


def test_feature_dataset_published_by_the_workers_holds_the_local_rows(
    client, split_demo_data, params, local_features, tmp_path
):
    out = tmp_path / "features"
    rows = dask_feature_dataset(str(split_demo_data), AS_OF, params, client, out)
    assert rows == len(local_features)
    assert len(list(out.glob("part-*.parquet"))) == 6 and (out / "_SUCCESS").exists()
    dataset = read_dataset(str(out)).sort_values(["as_of", "customer_id"], ignore_index=True)
    # Parquet keeps values and the fixed categories; the text dtype is Arrow's own.
    pd.testing.assert_frame_equal(
        dataset, local_features, check_exact=True, check_dtype=False, check_categorical=True
    )


def test_worker_read_reports_the_loader_counts(client, split_demo_data, params, tables):
    local = load_tables(split_demo_data, Params(), None).report
    partitioned = load_partitions(
        str(split_demo_data), params, DaskExecutor(client, params.engine.retries), 6
    )
    assert partitioned.observation_end == tables.observation_end
    for name, table in local.tables.items():
        mine = partitioned.report.tables[name]
        assert (mine.rows_read, mine.rows_rejected) == (table.rows_read, table.rows_rejected)
    assert partitioned.report.warnings == local.warnings


def write_tiny_data(folder: Path) -> Path:
    """Three customers; trades for C1 and C2 only, one of them by an unknown customer C9."""
    folder.mkdir()
    pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "open_date": pd.to_datetime(["2021-01-04", "2021-02-01", "2021-03-01"]),
            "closed_date": pd.to_datetime([None, None, None]),
        }
    ).to_parquet(folder / "customers.parquet")
    pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C9", "C1"],
            "trade_date": pd.to_datetime(["2021-05-03", "2021-05-04", "2021-05-05", "2021-06-01"]),
            "amount": [100.0, 200.0, 300.0, 400.0],
            "commission": [1.0, 2.0, 3.0, 4.0],
        }
    ).to_parquet(folder / "trades.parquet")
    return folder


def test_worker_read_applies_the_rejected_share_to_the_whole_table(client, params, tmp_path):
    data = write_tiny_data(tmp_path / "tiny")
    params.validation.max_rejected_share = 0.2
    # C9's trade is 1 of 4 rows (25%) however the partitions cut the table.
    with pytest.raises(DataContractError, match="trades.*1 of 4 rows"):
        load_partitions(str(data), params, DaskExecutor(client, params.engine.retries), 1)
    params.validation.max_rejected_share = 0.3
    loaded = load_partitions(str(data), params, DaskExecutor(client, params.engine.retries), 1)
    assert loaded.report.tables["trades"].rejected_by_rule == {UNKNOWN_CUSTOMER: 1}


def test_partition_with_customers_but_no_trades_is_refused_clearly(client, params, tmp_path):
    data = write_tiny_data(tmp_path / "tiny")
    ids = np.array(["C1", "C2", "C3", "C9"], dtype=object)

    def c3_alone(n: int) -> bool:
        c1, c2, c3, c9 = customer_partitions(ids, n)
        return c3 not in (c1, c2, c9)

    # The first partition count that leaves C3 (no trades) alone in its partition.
    n = next(n for n in range(2, 64) if c3_alone(n))
    with pytest.raises(DataContractError, match="no trades rows.*engine.partitions"):
        load_partitions(str(data), params, DaskExecutor(client, params.engine.retries), n)


def _kill_a_worker_running(client, function_name: str, timeout: float = 60.0) -> str:
    """Kill (os._exit) the first worker seen running ``function_name``; return its address."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for worker, keys in client.processing().items():
            if any(function_name in str(key) for key in keys):
                # The worker dies mid-call, as intended: the call's error says so.
                with contextlib.suppress(Exception):
                    client.run(os._exit, 1, workers=[worker])
                return worker
        time.sleep(0.005)
    raise AssertionError(f"no worker was seen running {function_name}")


def test_worker_killed_during_the_feature_step_is_retried(client, split_demo_data, params, tables):
    months = list(pd.date_range("2021-06-30", "2022-09-30", freq="ME"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = build_feature_matrix(tables, months, params)
    partitioned = load_partitions(
        str(split_demo_data), params, DaskExecutor(client, params.engine.retries), 6
    )
    executor = DaskExecutor(client, params.engine.retries)
    futures = feature_partitions(executor, partitioned, months, params)
    killed = _kill_a_worker_running(client, "quiet_customer_features")
    result = gather_frames(executor, futures)
    pd.testing.assert_frame_equal(result, expected, check_exact=True)
    client.wait_for_workers(2, timeout=60)
    assert killed  # the Nanny restarted it; the cluster is whole for the next tests


def test_worker_killed_while_building_from_client_tables_is_rescattered(client, tables, params):
    months = list(pd.date_range("2021-06-30", "2022-09-30", freq="ME"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = build_feature_matrix(tables, months, params)
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(dask_features, tables, months, params, client)
        _kill_a_worker_running(client, "quiet_customer_features")
        result = running.result(timeout=120)
    pd.testing.assert_frame_equal(result, expected, check_exact=True)
    client.wait_for_workers(2, timeout=60)


def test_dask_client_connects_to_a_scheduler_and_leaves_it_running(client, params):
    params.engine.scheduler_address = client.scheduler.address
    with dask_client(params.engine) as connected:
        assert connected.submit(sum, [1, 2]).result() == 3
        assert partition_count(params.engine, connected) == 6
    assert client.submit(sum, [3, 4]).result() == 7


def test_dask_client_starts_and_stops_a_local_cluster(params):
    params.engine.n_workers, params.engine.worker_memory = 1, "512MiB"
    params.engine.partitions = None
    with dask_client(params.engine) as started:
        assert started.submit(sum, [1, 2]).result() == 3
        assert partition_count(params.engine, started) == PARTITIONS_PER_WORKER
        cluster = started.cluster
    assert cluster.status.name == "closed"
