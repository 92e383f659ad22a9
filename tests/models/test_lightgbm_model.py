import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from models.estimator import feature_frame
from models.lightgbm_model import ChurnLightGBM
from pipeline.core.errors import ChurnError
from pipeline.core.params import ModelParams


def test_fit_exposes_the_learned_state(fitted, parts, feature_columns):
    model = fitted["lightgbm"]
    X_test = parts["test"][0]
    assert model.feature_columns_ == feature_columns
    assert 1 <= model.best_iteration_ < 600  # early stopping cut the 600 rounds
    p = model.predict_proba(X_test)
    assert p.shape == (len(X_test), 2)
    assert np.allclose(p.sum(axis=1), 1.0) and ((p > 0) & (p < 1)).all()


def test_scale_pos_weight_comes_from_the_training_base_rate(fitted, parts):
    y = parts["train"][1]
    assert fitted["lightgbm"].scale_pos_weight_ == pytest.approx((y == 0).sum() / (y == 1).sum())


def test_class_weight_balanced_replaces_scale_pos_weight(parts, fit_lightgbm):
    model = fit_lightgbm(lightgbm={"class_weight": "balanced", "n_estimators": 30})
    assert model.scale_pos_weight_ is None
    assert model.estimator_.get_params()["class_weight"] == "balanced"


def test_the_planted_signal_is_found_out_of_time(fitted, parts):
    X_test, y_test = parts["test"]
    assert roc_auc_score(y_test, fitted["lightgbm"].predict_proba(X_test)[:, 1]) > 0.75


def test_two_fits_give_identical_models(fitted, parts, fit_lightgbm):
    again = fit_lightgbm()
    X_test = parts["test"][0]
    assert again.booster_.model_to_string() == fitted["lightgbm"].booster_.model_to_string()
    assert np.array_equal(again.predict_proba(X_test), fitted["lightgbm"].predict_proba(X_test))


def test_two_threaded_fits_are_identical_too(parts, fit_lightgbm):
    # Bagging and feature sampling with two threads: deterministic=True and force_row_wise.
    small = {"num_threads": 2, "n_estimators": 20, "early_stopping_rounds": 5}
    first, second = fit_lightgbm(lightgbm=small), fit_lightgbm(lightgbm=small)
    assert first.booster_.model_to_string() == second.booster_.model_to_string()


def test_the_default_calibration_is_sigmoid_and_keeps_the_ranking(parts, fitted):
    model = fitted["lightgbm"]
    assert model.calibration_report_["method"] == "sigmoid"
    X = parts["test"][0]
    raw = model.predict_raw(X)
    calibrated = model.predict_proba(X)[:, 1]
    order = np.argsort(raw, kind="stable")
    # No ties where the raw scores differ, the same order, never exactly 0 or 1.
    distinct = np.diff(raw[order]) > 0
    assert (np.diff(calibrated[order])[distinct] > 0).all()
    assert ((calibrated > 0) & (calibrated < 1)).all()


def test_isotonic_calibration_keeps_or_improves_brier(fit_lightgbm):
    report = fit_lightgbm(calibration="isotonic").calibration_report_
    assert report["method"] == "isotonic"
    assert report["brier_after"] <= report["brier_before"]
    # scale_pos_weight inflates raw probabilities; calibration brings log loss down too.
    assert report["log_loss_after"] < report["log_loss_before"]


def test_sigmoid_calibration_keeps_or_improves_log_loss(parts, fit_lightgbm):
    report = fit_lightgbm(calibration="sigmoid").calibration_report_
    assert report["log_loss_after"] <= report["log_loss_before"]


def test_no_calibration_leaves_raw_probabilities(parts, fit_lightgbm):
    model = fit_lightgbm(calibration="none")
    X_test = parts["test"][0]
    assert np.allclose(model.predict_proba(X_test)[:, 1], model.predict_raw(X_test), atol=1e-6)
    assert model.calibration_report_["brier_after"] == pytest.approx(
        model.calibration_report_["brier_before"]
    )


def test_contributions_sum_to_the_raw_log_odds(fitted, parts, feature_columns):
    X_test = parts["test"][0].head(50)
    contributions = fitted["lightgbm"].contributions(X_test)
    assert list(contributions.columns) == [*feature_columns, "bias"]
    assert contributions.index.equals(X_test.index)
    raw = fitted["lightgbm"].predict_raw(X_test)
    assert np.allclose(contributions.sum(axis=1), np.log(raw / (1 - raw)), atol=1e-6)


def test_unseen_category_and_missing_values_score(fitted, parts):
    X_test = parts["test"][0].head(5).copy()
    X_test["branch"] = pd.Categorical(["B9", "B1", None, "B2", "B3"])
    X_test.loc[0, "outflow_share_6m"] = np.nan
    p = fitted["lightgbm"].predict_proba(X_test)
    assert np.isfinite(p).all()


def test_inputs_are_not_mutated(parts, fit_lightgbm):
    X, y = parts["train"]
    before = X.copy()
    fit_lightgbm(lightgbm={"n_estimators": 5})
    pd.testing.assert_frame_equal(X, before)


def test_booleans_become_floats_and_text_is_refused(parts, feature_columns):
    X = parts["train"][0]
    frame = feature_frame(X, feature_columns)
    assert frame["warn_outflow"].dtype == "float64"
    assert isinstance(frame["channel"].dtype, pd.CategoricalDtype)
    with pytest.raises(ChurnError, match="'channel' has dtype"):
        feature_frame(X.assign(channel=X["channel"].astype(str)), feature_columns)
    with pytest.raises(ChurnError, match="lacks model columns \\['noise'\\]"):
        feature_frame(X.drop(columns="noise"), feature_columns)


def test_validation_without_churners_is_an_error(parts, feature_columns):
    (X, y), (X_valid, y_valid) = parts["train"], parts["valid"]
    with pytest.raises(ChurnError, match="churners in both"):
        ChurnLightGBM.from_params(ModelParams(), feature_columns).fit(
            X, y, eval_set=(X_valid, y_valid * 0)
        )


def test_predict_before_fit_is_an_error(parts, feature_columns):
    with pytest.raises(ChurnError, match="not fitted"):
        ChurnLightGBM.from_params(ModelParams(), feature_columns).predict_proba(parts["test"][0])
