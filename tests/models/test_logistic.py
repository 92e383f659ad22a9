import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from models.logistic import ChurnLogistic
from pipeline.core.errors import ChurnError
from pipeline.core.params import ModelParams


def test_logistic_finds_the_planted_signal(fitted, parts):
    X_test, y_test = parts["test"]
    p = fitted["logistic"].predict_proba(X_test)
    assert p.shape == (len(X_test), 2) and np.allclose(p.sum(axis=1), 1.0)
    assert roc_auc_score(y_test, p[:, 1]) > 0.75


def test_pipeline_imputes_scales_and_one_hot_encodes(fitted):
    pipeline = fitted["logistic"].pipeline_
    names = list(pipeline.named_steps["columns"].get_feature_names_out())
    assert "numeric__missingindicator_commission_vs_prev3m" in names
    assert "categorical__channel_online" in names
    regression = pipeline.named_steps["regression"]
    assert regression.class_weight == "balanced" and regression.random_state == 7


def test_calibration_on_validation_months_fixes_class_balancing(fitted):
    report = fitted["logistic"].calibration_report_
    assert report["brier_after"] <= report["brier_before"]


def test_without_validation_months_probabilities_are_raw(parts, feature_columns):
    X, y = parts["train"]
    model = ChurnLogistic.from_params(ModelParams(), feature_columns).fit(X, y)
    assert model.calibration_report_ is None
    assert np.allclose(model.predict_proba(X)[:, 1], model.predict_raw(X), atol=1e-6)


def test_refit_is_identical_and_unseen_categories_score(fitted, parts, feature_columns):
    (X, y), (X_valid, y_valid) = parts["train"], parts["valid"]
    again = ChurnLogistic.from_params(ModelParams(), feature_columns).fit(
        X, y, eval_set=(X_valid, y_valid)
    )
    X_test = parts["test"][0].head(4).copy()
    assert np.array_equal(again.predict_proba(X_test), fitted["logistic"].predict_proba(X_test))
    X_test["branch"] = pd.Categorical(["B9", None, "B1", "B2"])
    assert np.isfinite(again.predict_proba(X_test)).all()


def test_predict_before_fit_is_an_error(parts, feature_columns):
    with pytest.raises(ChurnError, match="not fitted"):
        ChurnLogistic.from_params(ModelParams(), feature_columns).predict_proba(parts["test"][0])
