"""End to end: score two months through the CLI, then `churn monitor` judges the one whose
label window the data cover, against a real (sqlite) MLflow store."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from scoring_fixtures import LATEST_AS_OF, SCORED_AS_OF, edited_model, small_params
from sklearn.metrics import average_precision_score, roc_auc_score
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.cohorts.labels import make_labels

pytestmark = pytest.mark.slow


def invoke(*args: str, tracking: str):
    argv = [*args, "--set", f"tracking.uri={tracking}", "--set", "model.lightgbm.num_threads=1"]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    return result.output


def score(data, model, out, as_of, tracking):
    return invoke(
        "score",
        "--data",
        str(data),
        "--as-of",
        as_of,
        "--out",
        str(out),
        "--model",
        str(model),
        tracking=tracking,
    )


@pytest.fixture(scope="module")
def monitored(demo_data, model_folder, tmp_path_factory):
    folder = tmp_path_factory.mktemp("monitor")
    tracking = f"sqlite:///{folder / 'mlflow.db'}"
    score(demo_data, model_folder, folder / "march.parquet", SCORED_AS_OF, tracking)
    score(demo_data, model_folder, folder / "june.parquet", LATEST_AS_OF, tracking)
    output = invoke("monitor", "--data", str(demo_data), tracking=tracking)
    return folder, tracking, output


def test_only_months_with_a_complete_label_window_are_judged(monitored):
    _, _, output = monitored
    text = " ".join(output.split())
    assert f"{LATEST_AS_OF}: label window ends 2023-09-30" in text and "not judged yet" in text
    assert SCORED_AS_OF in text and "lightgbm" in text and "rules" in text


def test_realised_metrics_are_those_of_the_stored_scores_against_the_labels(monitored, demo_tables):
    folder, tracking, _ = monitored
    scores = pd.read_parquet(folder / "march.parquet")
    labels = make_labels(demo_tables, [pd.Timestamp(SCORED_AS_OF)], small_params().label)
    joined = scores.merge(labels, on=["customer_id", "as_of"])
    assert len(joined) == len(scores)
    mlflow.set_tracking_uri(tracking)
    run = mlflow.search_runs(
        experiment_names=["brokerage-churn"],
        filter_string="tags.`churn.kind` = 'monitoring'",
        output_format="list",
    )[0]
    client = mlflow.MlflowClient()
    history = client.get_metric_history(run.info.run_id, "lightgbm.pr_auc")
    assert [(m.step, m.value) for m in history] == [
        (
            202303,
            pytest.approx(average_precision_score(joined["label"], joined["churn_probability"])),
        )
    ]
    roc = client.get_metric_history(run.info.run_id, "lightgbm.roc_auc")[0].value
    assert roc == pytest.approx(roc_auc_score(joined["label"], joined["churn_probability"]))
    # the rules are judged by the fitted baseline's probabilities: a log loss exists
    assert client.get_metric_history(run.info.run_id, "rules.log_loss")
    table = client.list_artifacts(run.info.run_id)
    assert "realised_performance.csv" in {a.path for a in table}
    # the model's lead over the rules, with its bootstrap interval over customers
    lead = client.get_metric_history(run.info.run_id, "lightgbm.pr_auc_minus_rules")[0].value
    rules_pr = client.get_metric_history(run.info.run_id, "rules.pr_auc")[0].value
    assert lead == pytest.approx(history[0].value - rules_pr)
    low = client.get_metric_history(run.info.run_id, "lightgbm.pr_auc_minus_rules_low")[0].value
    high = client.get_metric_history(run.info.run_id, "lightgbm.pr_auc_minus_rules_high")[0]
    assert low <= lead <= high.value


def test_the_printed_table_gives_the_lead_over_the_rules(monitored):
    _, _, output = monitored
    text = " ".join(output.split())
    assert f"{SCORED_AS_OF}: lightgbm minus rules on PR-AUC" in text
    assert "95% interval over resampled customers" in text


def test_without_a_packaged_rule_baseline_the_rules_are_ranked_by_their_count(
    demo_data, model_folder, tmp_path
):
    model = edited_model(model_folder, tmp_path / "model", lambda meta: meta.pop("rules"))
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    score(demo_data, model, tmp_path / "march.parquet", SCORED_AS_OF, tracking)
    invoke("monitor", "--data", str(demo_data), tracking=tracking)
    mlflow.set_tracking_uri(tracking)
    run = mlflow.search_runs(
        experiment_names=["brokerage-churn"],
        filter_string="tags.`churn.kind` = 'monitoring'",
        output_format="list",
    )[0]
    metrics = run.data.metrics
    assert "rules.log_loss" not in metrics and "rules.brier" not in metrics
    scores = pd.read_parquet(tmp_path / "march.parquet")
    assert scores["rule_level"].notna().all()
    assert np.isfinite(metrics["rules.roc_auc"])


def test_monitor_without_scoring_runs_says_so(demo_data, tmp_path):
    output = invoke("monitor", "--data", str(demo_data), tracking=f"sqlite:///{tmp_path}/m.db")
    assert "no scoring runs" in output
