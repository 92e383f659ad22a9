"""The Dask engine on a two-worker LocalCluster equals the local engine.

Features to the last bit, scores within 1e-9, training bit for bit when the
matrix is gathered; a worker killed mid-step changes nothing; a scoring job
killed midway publishes nothing.
"""

import contextlib
import io
import os
import subprocess
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from features.build import build_feature_matrix
from features.registry import model_feature_columns
from models.lightgbm_model import ChurnLightGBM
from pipeline.distributed import build_feature_matrix_dask, dask_client, read_dataset, score_dask
from pipeline.distributed.cluster import PARTITIONS_PER_WORKER, partition_count
from pipeline.distributed.features import (
    feature_partitions,
    gather_frames,
    write_feature_dataset_dask,
)
from pipeline.distributed.partitions import customer_partitions
from pipeline.distributed.reading import load_partitions
from pipeline.distributed.training import train_models_dask
from pipeline.loader import load_tables
from pipeline.params import Params
from pipeline.scoring.bands import risk_ranks
from pipeline.training import fit_models
from pipeline.training_data import build_cohorts

AS_OF = [pd.Timestamp("2021-12-31"), pd.Timestamp("2022-06-30"), pd.Timestamp("2022-09-30")]
SCORED = pd.Timestamp("2022-09-30")


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit="1.5GiB",
            dashboard_address=":0",
            scheduler_kwargs={"dashboard": False},
        ) as cluster,
        Client(cluster) as dask_client,
    ):
        yield dask_client


@pytest.fixture
def params() -> Params:
    params = Params()
    params.engine.kind = "dask"
    params.engine.partitions = 6
    params.model.lightgbm.n_estimators = 20
    return params


@pytest.fixture(scope="module")
def tables(split_demo_data):
    return load_tables(split_demo_data, Params(), None).tables


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
    matrix = build_feature_matrix_dask(tables, AS_OF, params, client)
    pd.testing.assert_frame_equal(matrix, local_features, check_exact=True)


def test_features_read_by_workers_from_split_files_equal_local(
    client, split_demo_data, params, local_features
):
    matrix = build_feature_matrix_dask(f"file://{split_demo_data}", AS_OF, params, client)
    pd.testing.assert_frame_equal(matrix, local_features, check_exact=True)


def test_feature_dataset_published_by_the_workers_holds_the_local_rows(
    client, split_demo_data, params, local_features, tmp_path
):
    out = tmp_path / "features"
    rows = write_feature_dataset_dask(str(split_demo_data), AS_OF, params, client, out)
    assert rows == len(local_features)
    assert len(list(out.glob("part-*.parquet"))) == 6 and (out / "_SUCCESS").exists()
    dataset = read_dataset(str(out)).sort_values(["as_of", "customer_id"], ignore_index=True)
    # Parquet keeps values and the fixed categories; the text dtype is Arrow's own.
    pd.testing.assert_frame_equal(
        dataset, local_features, check_exact=True, check_dtype=False, check_categorical=True
    )


def test_worker_read_reports_the_loader_counts(client, split_demo_data, params, tables):
    local = load_tables(split_demo_data, Params(), None).report
    partitioned = load_partitions(str(split_demo_data), params, client, 6)
    assert partitioned.observation_end == tables.observation_end
    for name, table in local.tables.items():
        mine = partitioned.report.tables[name]
        assert (mine.rows_read, mine.rows_rejected) == (table.rows_read, table.rows_rejected)
    assert partitioned.report.warnings == [w for w in local.warnings if "optional" in w]


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
    partitioned = load_partitions(str(split_demo_data), params, client, 6)
    futures = feature_partitions(partitioned, months, params, client)
    killed = _kill_a_worker_running(client, "quiet_customer_features")
    result = gather_frames(futures, client)
    pd.testing.assert_frame_equal(result, expected, check_exact=True)
    client.wait_for_workers(2, timeout=60)
    assert killed  # the Nanny restarted it; the cluster is whole for the next tests


def test_worker_killed_while_building_from_client_tables_is_rescattered(client, tables, params):
    months = list(pd.date_range("2021-06-30", "2022-09-30", freq="ME"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = build_feature_matrix(tables, months, params)
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(build_feature_matrix_dask, tables, months, params, client)
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


@pytest.fixture(scope="module")
def model(tables):
    params = Params()
    params.model.lightgbm.n_estimators = 20
    cohorts = build_cohorts(tables, params)
    train, valid = cohorts.train, cohorts.validation
    return ChurnLightGBM(params.model, model_feature_columns()).fit(
        train, train["label"], valid, valid["label"]
    )


def test_scores_equal_local_within_1e_9(client, tables, params, model, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        features = build_feature_matrix(tables, [SCORED], params)
    expected = model.predict_proba(features)[:, 1]
    result = score_dask(tables, SCORED, model, params, client, str(tmp_path / "scores"))
    scores = read_dataset(str(tmp_path / "scores"))
    assert sorted(p.name for p in (tmp_path / "scores").iterdir())[-1] == "part-00005.parquet"
    scores = scores.sort_values("customer_id", ignore_index=True)
    assert scores["customer_id"].tolist() == features["customer_id"].tolist()
    np.testing.assert_allclose(scores["churn_probability"], expected, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(scores["rank"], risk_ranks(expected))
    assert result.accounts == len(features) == sum(result.band_counts.values())


KILLED_JOB = """
import sys, time
import joblib
import pandas as pd
from distributed import Client
from pipeline.distributed.scoring import probability_rows, score_dask
from pipeline.params import Params


def slow_rows(features, probability, ranking):
    time.sleep(1.5)
    return probability_rows(features, probability, ranking)


if __name__ == "__main__":
    scheduler, data, model_path, out = sys.argv[1:5]
    params = Params()
    params.engine.partitions = 6
    with Client(scheduler) as client:
        score_dask(data, pd.Timestamp("2022-09-30"), joblib.load(model_path), params, client,
                   out, partition_rows=slow_rows)
"""


def _wait_for_a_staged_part(folder: Path, process, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if list(folder.glob(".scores-*.tmp/part-*.parquet")):
            return
        if process.poll() is not None:
            raise AssertionError(f"the job ended before it was killed: {process.returncode}")
        time.sleep(0.01)
    raise AssertionError("the job never wrote a part")


def test_job_killed_midway_leaves_the_previous_dataset_published(
    client, split_demo_data, tables, params, model, tmp_path
):
    out = tmp_path / "scores"
    score_dask(tables, SCORED, model, params, client, str(out))
    before = read_dataset(str(out))
    joblib.dump(model, tmp_path / "model.joblib")
    script = tmp_path / "job.py"
    script.write_text(KILLED_JOB)
    scheduler = client.scheduler.address
    args = [str(split_demo_data), str(tmp_path / "model.joblib"), str(out)]
    with open(tmp_path / "job.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, str(script), scheduler, *args], stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_for_a_staged_part(tmp_path, process)
        finally:
            process.kill()
            process.wait()
    staged = list(tmp_path.glob(".scores-*.tmp"))
    assert len(staged) == 1 and len(list(staged[0].glob("part-*"))) < 6
    pd.testing.assert_frame_equal(read_dataset(str(out)), before)


def test_training_gathers_a_small_matrix_and_equals_local(client, tables, params):
    columns = model_feature_columns()
    log = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        local = build_cohorts(tables, params)
        expected = fit_models(local, columns, params, Console(file=io.StringIO()))
        cohorts, fitted = train_models_dask(tables, columns, params, client, Console(file=log))
    assert "gathered to the client" in log.getvalue()
    for part in ("train", "validation", "test"):
        pd.testing.assert_frame_equal(
            getattr(cohorts, part), getattr(local, part), check_exact=True
        )
    for name in ("lightgbm", "logistic"):
        np.testing.assert_array_equal(
            fitted.models[name].predict_proba(local.test),
            expected.models[name].predict_proba(local.test),
        )


def test_training_above_the_gather_limit_uses_lightgbm_dask(client, tables, params):
    params.engine.gather_max_rows = 3000
    columns = model_feature_columns()
    log = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cohorts, fitted = train_models_dask(tables, columns, params, client, Console(file=log))
    assert "lightgbm.dask" in log.getvalue()
    model = fitted.lightgbm
    assert 1 <= model.best_iteration_ <= 20
    assert len(cohorts.train) < 3600  # a seeded sample of about 3,000 rows per part
    probability = model.predict_proba(cohorts.test)[:, 1]
    assert ((probability >= 0) & (probability <= 1)).all()
    contributions = model.contributions(cohorts.test.head(5))
    np.testing.assert_allclose(
        contributions.sum(axis=1),
        model.booster_.predict(
            model_frame(cohorts.test.head(5), columns),
            num_iteration=model.best_iteration_,
            raw_score=True,
        ),
        rtol=1e-9,
    )


def model_frame(frame, columns):
    from models.lightgbm_model import feature_frame

    return feature_frame(frame, columns)
