"""End to end: `churn score` through the real CLI on demo data, a model trained in the test,
and a real (sqlite) MLflow store."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from scoring_fixtures import SCORED_AS_OF, churn_score, small_params
from typer.testing import CliRunner

from features.builder.build import build_feature_matrix
from features.builder.registry import model_feature_columns
from models.lifetime_value import MONEY_COLUMNS, account_money
from models.rules import RULE_FLAGS
from pipeline.cli import app
from pipeline.cohorts.labels import population
from pipeline.core.contract import CLOSE_REASONS
from pipeline.core.params import TrackingParams
from pipeline.scoring.bands import top_count
from pipeline.scoring.causes import DRIVERS_SOURCE, SLOW_MARKET_SOURCE
from pipeline.scoring.output import scores_schema
from pipeline.scoring.playbook import load_playbook
from pipeline.tracking.mlflow_store import use_experiment
from pipeline.tracking.registry import load_packaged_model

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scored(demo_data, model_folder, tracking, tmp_path_factory):
    out = tmp_path_factory.mktemp("scores") / "scores.parquet"
    result = churn_score(demo_data, out, model_folder, tracking, csv=out.with_suffix(".csv"))
    assert result.exit_code == 0, result.output
    return out, result.output, pd.read_parquet(out)


def test_one_row_per_open_account_with_every_documented_column(scored, demo_tables):
    _, _, scores = scored
    as_of = pd.Timestamp(SCORED_AS_OF)
    open_ids = demo_tables.customers.loc[population(demo_tables.customers, as_of), "customer_id"]
    assert scores["customer_id"].tolist() == open_ids.tolist()
    assert list(scores.columns) == scores_schema(3).names
    assert (scores["as_of"] == as_of).all()
    assert sorted(scores["rank"]) == list(range(1, len(scores) + 1))


def test_probabilities_and_flags_equal_the_model_on_the_whole_feature_matrix(
    scored, demo_tables, model_folder
):
    _, _, scores = scored
    X = build_feature_matrix(demo_tables, [pd.Timestamp(SCORED_AS_OF)], small_params())
    expected = load_packaged_model(str(model_folder)).churn_model().predict_proba(X)[:, 1]
    np.testing.assert_array_equal(scores["churn_probability"].to_numpy(), expected)
    for flag in RULE_FLAGS:
        assert scores[flag].tolist() == X[flag].tolist()
    np.testing.assert_allclose(scores["customer_value"], X["customer_value"], equal_nan=True)
    money = account_money(X, expected, small_params().value, horizon_months=3)
    for column in MONEY_COLUMNS:
        np.testing.assert_allclose(scores[column], money[column])
    np.testing.assert_allclose(
        scores["value_at_risk_cny"], scores["churn_probability"] * scores["lifetime_value_cny"]
    )


def test_bands_reasons_causes_and_plays_follow_the_params_and_the_playbook(scored):
    _, _, scores = scored
    p = scores["churn_probability"]
    expected_band = np.where(p >= 0.3, "high", np.where(p >= 0.1, "medium", "low"))
    assert scores["risk_band"].tolist() == expected_band.tolist()
    # model reasons for the top 20%, and at least for the call list of K = 500
    explained = scores["rank"] <= max(top_count(0.2, len(scores)), 500)
    assert (scores.loc[explained, "reason_source"] == "model").all()
    assert (scores.loc[~explained, "reason_source"] == "rules").all()
    assert scores.loc[explained, "reason_1"].notna().all()  # the top always has a driver
    no_rule = ~scores[list(RULE_FLAGS)].any(axis=1)
    assert scores.loc[~explained & no_rule, "reason_1"].isna().all()
    assert scores["likely_cause"].isin(CLOSE_REASONS).all()
    # No cause model in this package: the playbook's drivers decide, and say so.
    assert scores["cause_source"].isin([DRIVERS_SOURCE, SLOW_MARKET_SOURCE]).all()
    assert scores["likely_cause_probability"].isna().all()
    slow = scores["cause_source"] == SLOW_MARKET_SOURCE
    assert (scores.loc[slow, "likely_cause"] == "other").all()
    playbook = load_playbook(None, model_feature_columns())
    assert scores["retention_play"].str.endswith(playbook.failed_retention).all()
    opening = {c.name: c.play.split("{")[0][:40] for c in playbook.causes}
    starts = [
        play.startswith(playbook.slow_market[:40] if is_slow else opening[cause])
        for play, cause, is_slow in zip(
            scores["retention_play"], scores["likely_cause"], slow, strict=True
        )
    ]
    assert all(starts)
    assert scores["rule_level"].isin(["none", "yellow", "red"]).all()


def test_every_account_on_the_call_list_has_reasons(scored):
    _, _, scores = scored
    call_list = scores[scores["rank"] <= small_params().evaluation.call_list_capacity]
    assert len(call_list) == 500
    assert call_list["reason_1"].notna().all()
    assert (call_list["reason_source"] == "model").all()


def test_the_csv_export_holds_the_same_rows_in_rank_order_rounded(scored):
    out, _, scores = scored
    exported = pd.read_csv(out.with_suffix(".csv"), dtype={"customer_id": str})
    ranked = scores.sort_values("rank").reset_index(drop=True)
    assert exported["rank"].tolist() == list(range(1, len(scores) + 1))
    assert exported["customer_id"].tolist() == ranked["customer_id"].tolist()
    np.testing.assert_allclose(
        exported["churn_probability"], ranked["churn_probability"], rtol=0, atol=5e-5
    )
    assert (exported["churn_probability"] == exported["churn_probability"].round(4)).all()
    money = exported["value_at_risk_cny"].dropna()
    assert (money == money.round(2)).all()
    assert exported["likely_cause"].tolist() == ranked["likely_cause"].tolist()


def test_the_summary_and_the_mlflow_run_report_the_same_counts(scored, tracking):
    out, output, scores = scored
    counts = scores["risk_band"].value_counts()
    assert f"scored {len(scores):,} accounts open at {SCORED_AS_OF}" in output
    assert f"high {counts.get('high', 0):,}" in output and "top likely causes" in output
    mlflow.set_tracking_uri(tracking)
    runs = mlflow.search_runs(
        experiment_names=["brokerage-churn"],
        filter_string=f"tags.`churn.kind` = 'scoring' and tags.`churn.as_of` = '{SCORED_AS_OF}'",
        output_format="list",
    )
    run = runs[0]
    assert run.data.metrics["accounts_scored"] == len(scores)
    for band in ("low", "medium", "high"):
        assert run.data.metrics[f"band.{band}"] == counts.get(band, 0)
    assert run.data.tags["churn.label"] == "closure/3m"
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "scores")}
    assert artifacts == {"scores/scores.parquet"}
    drift = pd.read_csv(out.with_name("scores_drift.csv"))
    # One row per model column and one for the churn probability.
    assert set(drift.columns) == {"column", "psi", "drifted"}
    assert sorted(drift["column"]) == sorted([*model_feature_columns(), "churn_probability"])
    assert out.with_name("scores_drift.png").stat().st_size > 1000


def test_two_runs_write_byte_identical_files(scored, demo_data, model_folder, tracking, tmp_path):
    out, _, _ = scored
    again = tmp_path / "again.parquet"
    result = churn_score(demo_data, again, model_folder, tracking, csv=again.with_suffix(".csv"))
    assert result.exit_code == 0, result.output
    assert again.read_bytes() == out.read_bytes()
    assert again.with_suffix(".csv").read_bytes() == out.with_suffix(".csv").read_bytes()


def test_bands_by_rank_and_model_reasons_for_everyone(demo_data, model_folder, tracking, tmp_path):
    out = tmp_path / "ranked.parquet"
    result = churn_score(
        demo_data,
        out,
        model_folder,
        tracking,
        "scoring.band_by=rank",
        "scoring.reasons_top_share=all",
        "scoring.reasons_per_account=2",
    )
    assert result.exit_code == 0, result.output
    scores = pd.read_parquet(out)
    n = len(scores)
    # top 10% high, next 20% medium, the rest low
    high, medium = top_count(0.1, n), top_count(0.3, n) - top_count(0.1, n)
    assert scores["risk_band"].value_counts().to_dict() == {
        "high": high,
        "medium": medium,
        "low": n - high - medium,
    }
    assert (scores["reason_source"] == "model").all()
    assert "reason_3" not in scores.columns


def test_the_default_model_is_the_registry_champion(demo_data, model_folder, demo_matrix, tmp_path):
    from models.estimator import feature_frame
    from pipeline.tracking.registry import log_model

    tracking = f"sqlite:///{tmp_path / 'registry.db'}"
    packaged = load_packaged_model(str(model_folder))
    use_experiment(
        TrackingParams(uri=tracking, experiment="registration")
    )  # artifacts beside the db
    with mlflow.start_run():
        example = feature_frame(demo_matrix.head(5), packaged.meta["feature_columns"])
        info = log_model(packaged.booster, packaged.calibrator, packaged.meta, example, "churny")
    client = mlflow.MlflowClient()
    client.set_registered_model_alias("churny", "champion", info.registered_model_version)
    args = [
        "score",
        "--data",
        str(demo_data),
        "--as-of",
        SCORED_AS_OF,
        "--out",
        str(tmp_path / "s.parquet"),
        "--set",
        f"tracking.uri={tracking}",
        "--set",
        "tracking.model_name=churny",
        "--set",
        "model.lightgbm.num_threads=1",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "models:/churny@champion" in result.output
    run = mlflow.search_runs(
        experiment_names=["brokerage-churn"],
        output_format="list",
        filter_string="tags.`churn.kind` = 'scoring'",
    )[0]
    assert run.data.tags["churn.model_version"] == str(info.registered_model_version)


def test_dask_engine_publishes_the_same_rows_with_drift_and_a_run(
    scored, demo_data, model_folder, tracking, tmp_path
):
    from pipeline.data.publish import read_dataset

    _, _, local = scored
    out = tmp_path / "scores"  # a dataset folder: parts published with _SUCCESS last
    result = churn_score(
        demo_data, out, model_folder, tracking, "engine.kind=dask", "engine.partitions=3"
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "scores" / "_SUCCESS").exists()
    distributed = read_dataset(str(tmp_path / "scores")).sort_values("customer_id")
    local = local.sort_values("customer_id")
    assert distributed["customer_id"].tolist() == local["customer_id"].tolist()
    np.testing.assert_allclose(
        distributed["churn_probability"], local["churn_probability"], rtol=0, atol=1e-9
    )
    assert distributed["rank"].tolist() == local["rank"].tolist()
    drift = pd.read_csv(tmp_path / "scores_drift.csv")
    assert {"column", "psi", "drifted"} <= set(drift.columns) and len(drift) > 50
    mlflow.set_tracking_uri(tracking)
    runs = mlflow.search_runs(
        search_all_experiments=True,
        filter_string="tags.`churn.engine` = 'dask'",
        output_format="list",
    )
    assert len(runs) == 1
    assert runs[0].data.metrics["accounts_scored"] == len(local)


def test_the_chunk_size_changes_nothing_but_the_file_layout(
    scored, demo_data, model_folder, tracking, tmp_path
):
    _, _, scores = scored
    out = tmp_path / "one_chunk.parquet"
    result = churn_score(demo_data, out, model_folder, tracking, "scoring.chunk_customers=5000")
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(pd.read_parquet(out), scores)


@pytest.mark.parametrize("workers", [1, 2])  # one at a time here; in two worker processes
def test_partitions_on_disk_score_the_same_rows_and_say_so(
    scored, demo_data, model_folder, tracking, tmp_path, workers
):
    out, output, scores = scored
    mine = tmp_path / "partitioned.parquet"
    csv = mine.with_suffix(".csv")
    settings = ["engine.partitions=4", f"engine.n_workers={workers}"]
    result = churn_score(demo_data, mine, model_folder, tracking, *settings, csv=csv)
    assert result.exit_code == 0, result.output
    rows = pd.read_parquet(mine).sort_values("customer_id", ignore_index=True)
    pd.testing.assert_frame_equal(rows, scores.sort_values("customer_id", ignore_index=True))
    exported = pd.read_csv(csv).sort_values("customer_id", ignore_index=True)
    expected = pd.read_csv(out.with_suffix(".csv")).sort_values("customer_id", ignore_index=True)
    pd.testing.assert_frame_equal(exported, expected)
    assert "4 customer partitions on disk" in result.output
    passes = [line for line in result.output.splitlines() if line.startswith("reasons ")]
    assert passes and passes[-1].split()[-2] == "4/4"  # the bar counts partitions
