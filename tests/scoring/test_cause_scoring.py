"""A packaged model with a cause model: its files, and `churn score` naming causes from it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scoring_fixtures import SCORED_AS_OF, churn_score, small_params

from features.builder.build import build_feature_matrix
from features.builder.registry import model_feature_columns
from models.cause_model import ChurnCauseModel
from models.package import CAUSE_FILE
from pipeline.core.contract import CLOSE_REASONS
from pipeline.core.errors import ChurnError
from pipeline.scoring.causes import MODEL_SOURCE
from pipeline.tracking.registry import load_packaged_model, save_model
from pipeline.training.causes import closures, rows_before_closing

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cause_model(demo_matrix, demo_tables) -> ChurnCauseModel:
    """A small cause model on the demo months' closed accounts with a recorded reason."""
    rows = rows_before_closing(demo_matrix, closures(demo_tables))
    assert rows["close_reason"].nunique() > 2
    return ChurnCauseModel(
        feature_columns=model_feature_columns(), n_estimators=15, num_threads=1
    ).fit(rows, rows["close_reason"])


@pytest.fixture(scope="module")
def model_with_causes(model_folder, cause_model, demo_matrix, tmp_path_factory):
    """The session's packaged model, packaged again with the cause model."""
    packaged = load_packaged_model(str(model_folder))
    meta = {k: v for k, v in packaged.meta.items() if k not in ("files", "categories")}
    meta["cause_model"] = cause_model.to_dict()
    folder = tmp_path_factory.mktemp("causes") / "model"
    example = demo_matrix.loc[:, model_feature_columns()].head(5)
    save_model(packaged.booster, packaged.calibrator, meta, example, folder)
    return folder


def test_the_cause_model_is_a_checksummed_file_of_the_package(model_with_causes, cause_model):
    data = model_with_causes / "data" / "churn_model"
    packaged = load_packaged_model(str(model_with_causes))
    assert "booster" not in packaged.meta["cause_model"]  # the booster is its own file
    assert CAUSE_FILE in packaged.meta["files"]
    assert list(packaged.cause.classes_) == list(cause_model.classes_)
    text = (data / CAUSE_FILE).read_text()
    (data / CAUSE_FILE).write_text(text.replace("Tree=0", "Tree=0 ", 1))
    try:
        with pytest.raises(ChurnError, match="cause_model.lgb is damaged or was edited"):
            load_packaged_model(str(model_with_causes))
    finally:
        (data / CAUSE_FILE).write_text(text)


def test_churn_score_names_the_cause_model_s_cause_and_probability(
    model_with_causes, cause_model, demo_data, demo_tables, tmp_path
):
    out = tmp_path / "scores.parquet"
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = churn_score(demo_data, out, model_with_causes, tracking)
    assert result.exit_code == 0, result.output
    scores = pd.read_parquet(out)
    X = build_feature_matrix(demo_tables, [pd.Timestamp(SCORED_AS_OF)], small_params())
    probability = cause_model.predict_proba(X)
    assert (scores["cause_source"] == MODEL_SOURCE).all()
    assert scores["likely_cause"].tolist() == list(cause_model.classes_[probability.argmax(1)])
    np.testing.assert_allclose(scores["likely_cause_probability"], probability.max(axis=1))
    assert scores["likely_cause"].isin(CLOSE_REASONS).all()
