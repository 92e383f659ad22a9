"""A small model trained on the shared demo data, saved as a local packaged-model folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from scoring_fixtures import TRAIN_MONTHS, VALID_MONTHS, model_meta, small_params


@pytest.fixture(scope="session")
def demo_tables(demo_data):
    from pipeline.data.loader import load_tables

    return load_tables(demo_data, small_params(), None).tables


@pytest.fixture(scope="session")
def demo_matrix(demo_tables):
    """Labelled features of the training and validation months."""
    from features.builder.build import build_feature_matrix
    from pipeline.cohorts.labels import make_labels

    months = [pd.Timestamp(m) for m in TRAIN_MONTHS + VALID_MONTHS]
    params = small_params()
    features = build_feature_matrix(demo_tables, months, params)
    labels = make_labels(demo_tables, months, params.label)
    return features.merge(labels, on=["customer_id", "as_of"], validate="one_to_one")


@pytest.fixture(scope="session")
def model_folder(demo_matrix, tmp_path_factory) -> Path:
    """A packaged model (booster, calibrator, metadata) trained on the demo months."""
    from features.builder.registry import model_feature_columns
    from models.lightgbm_model import ChurnLightGBM
    from models.rules import RuleBaseline
    from pipeline.tracking.registry import save_model

    params = small_params()
    columns = model_feature_columns()
    train = demo_matrix[demo_matrix["as_of"].isin(pd.DatetimeIndex(TRAIN_MONTHS))]
    valid = demo_matrix[demo_matrix["as_of"].isin(pd.DatetimeIndex(VALID_MONTHS))]
    model = ChurnLightGBM.from_params(params.model, columns).fit(
        train, train["label"], eval_set=(valid, valid["label"])
    )
    rules = RuleBaseline(params.rules.weights, params.rules.levels).fit(train, train["label"])
    folder = tmp_path_factory.mktemp("model") / "model"
    meta = model_meta(model, rules, train, columns, params)
    save_model(model.booster_, model.calibrator_, meta, train.loc[:, columns].head(5), folder)
    return folder


@pytest.fixture(scope="module")
def tracking(tmp_path_factory) -> str:
    """A fresh sqlite MLflow store for one test module."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
