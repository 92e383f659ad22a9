"""Training on a two-worker LocalCluster: gathered bit for bit, or lightgbm.dask above the limit."""

import io
import warnings

import numpy as np
import pandas as pd
from engine_helpers import dask_train
from rich.console import Console

from features.builder.registry import model_feature_columns
from pipeline.cohorts.cohorts import build_cohorts
from pipeline.training.fit import fit_models


def test_training_gathers_a_small_matrix_and_equals_local(client, tables, params):
    columns = model_feature_columns()
    log = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        local = build_cohorts(tables, params)
        expected = fit_models(local, columns, params, Console(file=io.StringIO()))
        cohorts, fitted = dask_train(tables, columns, params, client, Console(file=log))
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
        cohorts, fitted = dask_train(tables, columns, params, client, Console(file=log))
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
    from models.estimator import feature_frame

    return feature_frame(frame, columns)
