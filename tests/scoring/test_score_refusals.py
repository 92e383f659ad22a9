"""`churn score` through the real CLI when something is off: a model of other features or
another feature builder, an as-of after the data, a bad playbook, a shifted cohort."""

from __future__ import annotations

import pandas as pd
import pytest
from scoring_fixtures import LATEST_AS_OF, churn_score, edited_model

pytestmark = pytest.mark.slow


def test_a_model_with_other_features_is_refused_naming_them(
    demo_data, model_folder, tracking, tmp_path
):
    def swap(meta):
        meta["feature_columns"] = [c for c in meta["feature_columns"] if c != "trades_1m"]
        meta["feature_columns"].append("trades_yesterday")

    model = edited_model(model_folder, tmp_path / "model", swap)
    out = tmp_path / "scores.parquet"
    result = churn_score(demo_data, out, model, tracking)
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "the model needs but the code does not build: ['trades_yesterday']" in message
    assert "not trained on: ['trades_1m']" in message
    assert not out.exists()


def test_a_model_from_another_feature_builder_is_refused(
    demo_data, model_folder, tracking, tmp_path
):
    model = edited_model(
        model_folder,
        tmp_path / "model",
        lambda m: m.update(feature_builder_version="fb-000000000000"),
    )
    result = churn_score(demo_data, tmp_path / "s.parquet", model, tracking)
    assert result.exit_code == 2
    assert "fb-000000000000 at training" in " ".join(result.output.split())


def test_an_as_of_after_the_data_or_a_bad_playbook_is_refused(
    demo_data, model_folder, tracking, tmp_path
):
    result = churn_score(
        demo_data, tmp_path / "s.parquet", model_folder, tracking, as_of="2023-07-31"
    )
    assert result.exit_code == 2 and "after the data's observation_end" in result.output
    playbook = tmp_path / "playbook.yaml"
    playbook.write_text("causes:\n  greed:\n    play: buy them lunch\n")
    result = churn_score(
        demo_data, tmp_path / "s.parquet", model_folder, tracking, f"scoring.playbook={playbook}"
    )
    assert result.exit_code == 2 and "unknown cause ['greed']" in result.output


def test_a_shifted_cohort_is_warned_about_in_the_summary(
    demo_data, model_folder, tracking, tmp_path
):
    def older_and_richer_training_cohort(meta):
        # training saw everyone in the top assets decile: today's cohort has shifted down
        profile = meta["reference"]["total_assets"]
        profile["shares"] = [0.0] * (len(profile["shares"]) - 2) + [1.0, 0.0]

    model = edited_model(model_folder, tmp_path / "model", older_and_richer_training_cohort)
    result = churn_score(demo_data, tmp_path / "s.parquet", model, tracking, as_of=LATEST_AS_OF)
    assert result.exit_code == 0, result.output
    assert "DRIFT:" in result.output and "total_assets: PSI" in result.output
    drift = pd.read_csv(tmp_path / "s_drift.csv")
    assert drift.iloc[0]["column"] == "total_assets" and drift.iloc[0]["drifted"]
