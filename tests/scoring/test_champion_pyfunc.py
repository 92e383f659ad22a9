"""A plain MLflow client uses the champion: ``mlflow.pyfunc.load_model("models:/...@champion")``.

Through a real (sqlite) registry: the pyfunc's ``predict`` on the matrix `churn
features` writes equals the calibrated probability `churn score` writes, and its
own input example scores.
"""

from __future__ import annotations

import mlflow
import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest
from scoring_fixtures import SCORED_AS_OF, churn_score
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.params import TrackingParams
from pipeline.tracking.mlflow_store import use_experiment
from pipeline.tracking.registry import load_packaged_model, log_model

pytestmark = pytest.mark.slow
NAME = "churn-pyfunc"


@pytest.fixture(scope="module")
def registry(model_folder, demo_matrix, tmp_path_factory) -> str:
    """A sqlite tracking store whose ``churn-pyfunc`` champion is the test model."""
    tracking = f"sqlite:///{tmp_path_factory.mktemp('registry') / 'mlflow.db'}"
    packaged = load_packaged_model(str(model_folder))
    use_experiment(TrackingParams(uri=tracking, experiment="pyfunc"))
    columns = packaged.meta["feature_columns"]
    with mlflow.start_run():
        info = log_model(
            packaged.booster, packaged.calibrator, packaged.meta, demo_matrix[columns].head(5), NAME
        )
    mlflow.MlflowClient().set_registered_model_alias(
        NAME, "champion", info.registered_model_version
    )
    return tracking


def test_pyfunc_predict_on_churn_features_output_equals_churn_score(registry, demo_data, tmp_path):
    features_file, scores_file = tmp_path / "features.parquet", tmp_path / "scores.parquet"
    result = CliRunner().invoke(
        app,
        [
            "features",
            "--data",
            str(demo_data),
            "--as-of",
            SCORED_AS_OF,
            "--out",
            str(features_file),
        ],
    )
    assert result.exit_code == 0, result.output
    uri = f"models:/{NAME}@champion"
    result = churn_score(demo_data, scores_file, uri, registry, f"tracking.model_name={NAME}")
    assert result.exit_code == 0, result.output

    mlflow.set_tracking_uri(registry)
    champion = mlflow.pyfunc.load_model(uri)
    features = pd.read_parquet(features_file)  # float32, bool flags, categories, ids
    probability = np.asarray(champion.predict(features), dtype=float)
    scores = pd.read_parquet(scores_file).set_index("customer_id")
    expected = scores.loc[features["customer_id"], "churn_probability"].to_numpy()
    assert len(probability) == len(features) == len(scores)
    np.testing.assert_allclose(probability, expected, rtol=0, atol=1e-9)
    assert probability.min() > 0.0 and probability.max() < 1.0


def test_pyfunc_scores_its_own_input_example(registry, model_folder, demo_matrix):
    mlflow.set_tracking_uri(registry)
    champion = mlflow.pyfunc.load_model(f"models:/{NAME}@champion")
    example = champion.input_example
    assert example is not None and len(example) == 5
    probability = np.asarray(champion.predict(example), dtype=float)
    model = load_packaged_model(str(model_folder)).churn_model()
    columns = model.feature_columns_
    np.testing.assert_allclose(
        probability, model.predict_proba(demo_matrix[columns].head(5))[:, 1], rtol=0, atol=1e-9
    )


def test_the_pyfunc_signature_takes_the_builder_types(registry):
    mlflow.set_tracking_uri(registry)
    schema = mlflow.pyfunc.load_model(f"models:/{NAME}@champion").metadata.get_input_schema()
    types = {spec.name: spec.to_dict()["type"] for spec in schema.inputs}
    assert types["trades_1m"] == "double"
    assert types["warn_outflow"] == "boolean"
    assert types["channel"] == "any" and types["value_tier"] == "any"
