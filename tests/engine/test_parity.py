"""Every command on both engines, through the real CLI, on the same files: the same outputs.

The data are the demo brokerage split into multi-file Parquet folders (1,500
accounts, 24 months). The Dask engine runs a two-worker LocalCluster with four
customer partitions; each engine tracks into its own sqlite MLflow store, so
`churn monitor` on each judges that engine's own scoring run.
"""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.scoring.output import scores_schema

pytestmark = pytest.mark.slow
ENGINES = {
    "local": [],
    "dask": ["engine.kind=dask", "engine.n_workers=2", "engine.partitions=4"],
}
COMMON = ["model.lightgbm.n_estimators=20", "model.lightgbm.num_threads=1"]
SCORED = "2022-09-30"  # its 3-month label window ends with the data, 2022-12-31
FLOATS = [
    "churn_probability",
    "customer_value",
    "revenue_12m_cny",
    "lifetime_value_cny",
    "value_at_risk_cny",
    "total_assets",
]


def churn(*args: str, engine: str, tracking: str | None = None) -> str:
    settings = [*COMMON, *ENGINES[engine]]
    if tracking is not None:
        settings.append(f"tracking.uri={tracking}")
    argv = list(args)
    for setting in settings:
        argv += ["--set", setting]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, f"{engine}: {result.output}"
    return result.output


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("parity-mlflow")
    return {engine: f"sqlite:///{root / f'{engine}.db'}" for engine in ENGINES}


@pytest.fixture(scope="module")
def trained(split_demo_data, stores, tmp_path_factory) -> dict:
    """Both engines trained for every label definition: run folders by (definition, engine)."""
    root = tmp_path_factory.mktemp("parity-train")
    runs = {}
    for definition in ("closure", "dormancy", "asset_drain"):
        for engine in ENGINES:
            out = root / f"{definition}-{engine}"
            churn(
                "train",
                "--data",
                str(split_demo_data),
                "--out",
                str(out),
                "--set",
                f"label.definition={definition}",
                engine=engine,
                tracking=stores[engine],
            )
            runs[definition, engine] = out
    return runs


@pytest.fixture(scope="module")
def scored(split_demo_data, trained, stores, tmp_path_factory) -> dict:
    """Both engines score one month with the local closure model; files by engine."""
    root = tmp_path_factory.mktemp("parity-score")
    model = trained["closure", "local"] / "model"
    files = {}
    for engine in ENGINES:
        out, csv = root / f"{engine}.parquet", root / f"{engine}.csv"
        churn(
            "score",
            "--data",
            str(split_demo_data),
            "--as-of",
            SCORED,
            "--out",
            str(out),
            "--csv",
            str(csv),
            "--model",
            str(model),
            engine=engine,
            tracking=stores[engine],
        )
        files[engine] = (out, csv)
    return files


def test_churn_features_is_bit_equal_on_both_engines(split_demo_data, tmp_path):
    matrices = {}
    for engine in ENGINES:
        out = tmp_path / f"{engine}.parquet"
        churn(
            "features",
            "--data",
            str(split_demo_data),
            "--as-of",
            "2022-06-30",
            "--as-of",
            "2022-12-31",
            "--out",
            str(out),
            engine=engine,
        )
        matrices[engine] = pd.read_parquet(out)
    assert len(matrices["local"]) > 2000
    pd.testing.assert_frame_equal(matrices["dask"], matrices["local"], check_exact=True)


@pytest.mark.parametrize("definition", ["closure", "dormancy", "asset_drain"])
def test_churn_train_gathers_the_same_cohorts_and_models_on_both_engines(trained, definition):
    local, dask = trained[definition, "local"], trained[definition, "dask"]
    pd.testing.assert_frame_equal(
        pd.read_parquet(dask / "test_cohort.parquet"),
        pd.read_parquet(local / "test_cohort.parquet"),
        check_exact=True,
    )
    local_metrics = json.loads((local / "metrics.json").read_text())
    dask_metrics = json.loads((dask / "metrics.json").read_text())
    assert local_metrics["cohort"]["rows"] > 1000
    assert dask_metrics["models"] == local_metrics["models"]
    assert json.loads((dask / "split.json").read_text()) == json.loads(
        (local / "split.json").read_text()
    )


def test_churn_score_writes_every_column_and_the_csv_alike_on_both_engines(scored):
    (local_file, local_csv), (dask_file, dask_csv) = scored["local"], scored["dask"]
    local = pd.read_parquet(local_file).sort_values("customer_id", ignore_index=True)
    dask = pd.read_parquet(dask_file).sort_values("customer_id", ignore_index=True)
    assert list(dask.columns) == list(local.columns) == scores_schema(3).names
    assert len(local) > 500
    for column in FLOATS:
        np.testing.assert_allclose(dask[column], local[column], rtol=0, atol=1e-9)
    pd.testing.assert_frame_equal(dask.drop(columns=FLOATS), local.drop(columns=FLOATS))
    csv = {
        engine: pd.read_csv(path, dtype={"customer_id": str}).sort_values(
            "customer_id", ignore_index=True
        )
        for engine, path in (("local", local_csv), ("dask", dask_csv))
    }
    assert list(csv["dask"].columns) == list(csv["local"].columns)
    assert csv["dask"]["customer_id"].tolist() == local["customer_id"].tolist()
    np.testing.assert_allclose(
        csv["dask"]["churn_probability"], csv["local"]["churn_probability"], rtol=0, atol=1e-9
    )


def test_scoring_runs_are_logged_alike_on_both_engines(scored, stores):
    logged = {}
    for engine, store in stores.items():
        mlflow.set_tracking_uri(store)
        (run,) = mlflow.search_runs(
            search_all_experiments=True,
            filter_string="tags.`churn.kind` = 'scoring'",
            output_format="list",
        )
        artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id)}
        logged[engine] = (run, artifacts)
    (local, local_artifacts), (dask, dask_artifacts) = logged["local"], logged["dask"]
    assert dask.data.tags["churn.engine"] == "dask" and local.data.tags["churn.engine"] == "local"
    assert dask.data.params == local.data.params
    assert dask_artifacts == local_artifacts and "scores" in local_artifacts
    assert dask.data.metrics["accounts_scored"] == local.data.metrics["accounts_scored"]


def test_churn_monitor_judges_local_and_dask_scoring_runs_alike(split_demo_data, scored, stores):
    judged = {}
    for engine, store in stores.items():
        output = churn("monitor", "--data", str(split_demo_data), engine=engine, tracking=store)
        assert SCORED in output
        mlflow.set_tracking_uri(store)
        (run,) = mlflow.search_runs(
            search_all_experiments=True,
            filter_string="tags.`churn.kind` = 'monitoring'",
            output_format="list",
        )
        judged[engine] = run.data.metrics
    assert judged["local"]["lightgbm.pr_auc"] > 0
    assert judged["dask"].keys() == judged["local"].keys()
    for name, value in judged["local"].items():
        assert judged["dask"][name] == pytest.approx(value, abs=1e-9), name
