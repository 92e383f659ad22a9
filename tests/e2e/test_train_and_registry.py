"""End to end: the real CLI trains against a real MLflow server over HTTP.

One training run is shared by the tests of this module (it takes a while);
each test checks one thing a user relies on.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.tracking.registry import load_packaged_model

pytestmark = pytest.mark.slow
MODEL_NAME = "e2e-churn"


def _train(data: Path, out: Path, server: str):
    result = CliRunner().invoke(
        app,
        [
            "train",
            "--data",
            str(data),
            "--out",
            str(out),
            "--set",
            f"tracking.uri={server}",
            "--set",
            f"tracking.model_name={MODEL_NAME}",
            "--set",
            "tracking.experiment=e2e",
        ],
    )
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def trained(demo_data, mlflow_server, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "first"
    result = _train(demo_data, out, mlflow_server)
    return out, result.output


def test_train_writes_metrics_json_of_the_documented_shape(trained):
    out, _ = trained
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["cohort"]) >= {"test_as_of", "rows", "churn_rate"}
    assert len(metrics["cohort"]["test_as_of"]) == 3
    for model in ("lightgbm", "rules", "logistic", "btyd"):
        assert set(metrics["models"][model]) >= {
            "roc_auc",
            "pr_auc",
            "brier",
            "lift_at_10pct",
            "recall_at_rule_volume",
            "assets_at_risk_recall",
        }


def test_model_beats_the_rules_on_demo_data(trained):
    out, _ = trained
    models = json.loads((out / "metrics.json").read_text())["models"]
    assert models["lightgbm"]["pr_auc"] > 1.5 * models["rules"]["pr_auc"]
    assert models["lightgbm"]["roc_auc"] > models["rules"]["roc_auc"]


def test_report_is_self_contained_html(trained):
    out, _ = trained
    html = (out / "report.html").read_text()
    assert "<html" in html.lower() and "data:image/png;base64," in html
    assert not re.search(r"""(src|href)=["']https?://""", html)
    for plot in ("roc", "pr", "gain", "calibration", "importance"):
        assert (out / "plots" / f"{plot}.png").stat().st_size > 1000
    assert "<th>btyd</th>" in html and "P(no trade in the next 3 months), calibrated" in html


def test_first_version_becomes_champion_and_loads_back_over_http(trained, mlflow_server):
    out, output = trained
    assert "champion" in output
    mlflow.set_tracking_uri(mlflow_server)
    champion = load_packaged_model(f"models:/{MODEL_NAME}@champion").churn_model()
    cohort = pd.read_parquet(out / "test_cohort.parquet")
    scores = pd.read_parquet(out / "test_scores.parquet")
    assert len(scores) == len(cohort)
    expected = load_packaged_model(str(out / "model")).churn_model().predict_proba(cohort)
    np.testing.assert_allclose(champion.predict_proba(cohort), expected, rtol=0, atol=1e-12)


def test_run_records_params_data_fingerprint_commit_and_model(trained, mlflow_server):
    mlflow.set_tracking_uri(mlflow_server)
    client = mlflow.MlflowClient()
    version = client.get_model_version_by_alias(MODEL_NAME, "champion")
    run = client.get_run(version.run_id)
    assert run.data.params["label.horizon_months"] == "3"
    assert len(run.data.tags["data_fingerprint"]) == 64
    assert run.data.tags["git_commit"]
    assert run.data.metrics["lightgbm.pr_auc"] > 0
    assert 0 < run.data.metrics["btyd.roc_auc"] < 1
    assert float(run.data.params["btyd.alpha"]) > 0
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "run")}
    assert {"run/metrics.json", "run/report.html", "run/run_facts.json"} <= artifacts
    # Customer-level files stay in the run folder, out of the tracking store.
    assert not {"run/test_cohort.parquet", "run/test_scores.parquet"} & artifacts
    assert not any(path.startswith("run/rejected") for path in artifacts)


def test_the_experiment_opens_in_the_model_training_view(trained, mlflow_server):
    client = mlflow.MlflowClient(tracking_uri=mlflow_server)
    experiment = client.get_experiment_by_name("e2e")
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"


def test_the_cohorts_are_logged_as_datasets_and_metrics_filed_by_model(trained, mlflow_server):
    out, _ = trained
    client = mlflow.MlflowClient(tracking_uri=mlflow_server)
    version = client.get_model_version_by_alias(MODEL_NAME, "champion")
    run = client.get_run(version.run_id)
    fingerprint = run.data.tags["data_fingerprint"]
    inputs = {
        next(tag.value for tag in d.tags if tag.key == "mlflow.data.context"): d.dataset
        for d in run.inputs.dataset_inputs
    }
    assert set(inputs) == {"training", "testing"}
    assert all(d.digest == fingerprint[:32] for d in inputs.values())
    rows = json.loads(inputs["testing"].profile)["num_rows"]
    assert rows == json.loads((out / "metrics.json").read_text())["cohort"]["rows"]
    # The run spans the training: it starts before the fit, not when it is logged.
    assert (run.info.end_time - run.info.start_time) / 1000 > 1.0
    mlflow.set_tracking_uri(mlflow_server)
    (model,) = mlflow.search_logged_models(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"source_run_id = '{run.info.run_id}'",
        output_format="list",
    )
    assert {metric.key.split(".")[0] for metric in model.metrics} == {"lightgbm"}
    assert {"rules.pr_auc", "logistic.pr_auc", "lightgbm.pr_auc"} <= set(run.data.metrics)


def test_the_report_says_which_run_version_alias_date_and_commit_it_is(trained, mlflow_server):
    out, _ = trained
    client = mlflow.MlflowClient(tracking_uri=mlflow_server)
    version = client.get_model_version_by_alias(MODEL_NAME, "champion")
    run = client.get_run(version.run_id)
    html = (out / "report.html").read_text()
    assert run.info.run_id in html
    assert f"{MODEL_NAME} version {version.version}" in html
    assert "champion: beats the rules" in html
    assert run.data.tags["git_commit"] in html
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d UTC</td>", html)
    assert "not registered yet" not in html
    logged = Path(
        mlflow.artifacts.download_artifacts(
            run_id=run.info.run_id, artifact_path="run/report.html", tracking_uri=mlflow_server
        )
    ).read_text()
    assert logged == html  # the store holds the final report, not the one before registration


def test_retraining_on_the_same_data_params_and_code_registers_no_new_version(
    trained, demo_data, mlflow_server, tmp_path
):
    first, _ = trained
    client = mlflow.MlflowClient(tracking_uri=mlflow_server)
    before = client.search_model_versions(f"name = '{MODEL_NAME}'")
    result = _train(demo_data, tmp_path / "second", mlflow_server)
    assert "no new model version: version 1 (run " in result.output
    assert client.search_model_versions(f"name = '{MODEL_NAME}'") == before
    # Same inputs and seeds: the same model and the same scores.
    a = pd.read_parquet(first / "test_scores.parquet")
    b = pd.read_parquet(tmp_path / "second" / "test_scores.parquet")
    pd.testing.assert_frame_equal(a, b)
    (run,) = client.search_runs(
        [client.get_experiment_by_name("e2e").experiment_id],
        filter_string="tags.same_model_as_run != ''",
    )
    assert run.data.tags["model_version"] == "1"
    assert run.data.tags["same_model_as_run"] == before[0].run_id


def test_evaluate_recomputes_the_same_metrics(trained):
    out, _ = trained
    before = json.loads((out / "metrics.json").read_text())
    result = CliRunner().invoke(app, ["evaluate", "--run", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "metrics.json").read_text()) == before


def test_evaluate_refuses_a_folder_that_is_not_a_run(tmp_path):
    result = CliRunner().invoke(app, ["evaluate", "--run", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a `churn train` run folder" in result.output


def test_search_trials_are_logged_as_nested_runs(demo_data, tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = CliRunner().invoke(
        app,
        [
            "train",
            "--data",
            str(demo_data),
            "--out",
            str(tmp_path / "run"),
            "--set",
            f"tracking.uri={uri}",
            "--set",
            "model.search.enabled=true",
            "--set",
            "model.search.trials=2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "search: 2 trials" in result.output
    mlflow.set_tracking_uri(uri)
    runs = mlflow.search_runs(experiment_names=["brokerage-churn"], output_format="list")
    trials = [r for r in runs if r.info.run_name.startswith("search trial")]
    parents = [r for r in runs if not r.info.run_name.startswith("search trial")]
    assert len(trials) == 2 and len(parents) == 1
    assert all(r.data.tags["mlflow.parentRunId"] == parents[0].info.run_id for r in trials)
    assert all("validation_pr_auc" in r.data.metrics for r in trials)
