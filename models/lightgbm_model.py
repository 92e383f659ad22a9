"""The calibrated LightGBM churn model.

Early stopping and calibration both use the validation months. Early stopping
picks one number (the tree count) by validation PR-AUC, a ranking metric that
calibration, a monotone map, cannot change; the calibrator then maps the
raw scores of those same months to probabilities. Splitting three validation
months further would leave each step with too few churners, and the test
months stay untouched by both, so the out-of-time evaluation remains honest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier, early_stopping

from models.calibration import Calibrator, calibration_report, fit_calibrator
from pipeline.core.errors import ChurnError
from pipeline.core.params import ModelParams


def model_params(params: ModelParams | Mapping[str, Any]) -> ModelParams:
    """Accept params.yaml ``model:`` as a ModelParams or a plain mapping."""
    return params if isinstance(params, ModelParams) else ModelParams.model_validate(params)


def feature_frame(X: pd.DataFrame, feature_columns: Sequence[str]) -> pd.DataFrame:
    """Return the model columns of X as the models take them: booleans as 0/1 floats.

    Numeric columns keep their NaN; categoricals stay pandas ``category``.
    Training and scoring must both pass through this function.

    Raises:
        ChurnError: a feature column is missing or holds text instead of a category.
    """
    missing = [column for column in feature_columns if column not in X.columns]
    if missing:
        raise ChurnError(f"feature matrix lacks model columns {missing}")
    frame = X.loc[:, list(feature_columns)].copy()
    for column in frame.columns:
        dtype = frame[column].dtype
        if pd.api.types.is_bool_dtype(dtype):
            frame[column] = frame[column].astype("float64")
        elif not (isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_numeric_dtype(dtype)):
            raise ChurnError(
                f"feature column {column!r} has dtype {dtype}; models take numbers, "
                "booleans or pandas categories"
            )
    return frame


def churn_labels(y: Any, rows: int, what: str) -> np.ndarray:
    """Return labels as a 0/1 int array, checking their count and values."""
    labels = np.asarray(y)
    if len(labels) != rows:
        raise ChurnError(f"{what}: {rows} rows but {len(labels)} labels")
    if not np.isin(labels, [0, 1]).all():
        raise ChurnError(f"{what}: labels must be 0 or 1, found {sorted(set(labels.tolist()))[:5]}")
    return labels.astype(np.int64)


class ChurnLightGBM:
    """LightGBM with class weighting, early stopping and calibration on validation months.

    Args:
        params: params.yaml ``model:`` (seed, calibration, lightgbm.*).
        feature_columns: the model's input columns, in order.
    """

    def __init__(self, params: ModelParams | Mapping[str, Any], feature_columns: Sequence[str]):
        self.params = params
        self.feature_columns = feature_columns

    def classifier(self, y_train: np.ndarray) -> LGBMClassifier:
        """Return the unfitted LightGBM classifier these params and labels call for.

        The class imbalance is taken from ``y_train`` (scale_pos_weight) unless
        params fix it; the Dask engine reuses these settings for lightgbm.dask.
        """
        settings = model_params(self.params)
        lgb = settings.lightgbm
        imbalance: dict[str, Any] = {"class_weight": "balanced"}
        if lgb.class_weight is None:
            positives = max(int(y_train.sum()), 1)
            ratio = (len(y_train) - positives) / positives
            weight = ratio if lgb.scale_pos_weight is None else lgb.scale_pos_weight
            imbalance = {"scale_pos_weight": weight}
        self.scale_pos_weight_ = imbalance.get("scale_pos_weight")
        return LGBMClassifier(
            n_estimators=lgb.n_estimators,
            learning_rate=lgb.learning_rate,
            num_leaves=lgb.num_leaves,
            min_child_samples=lgb.min_child_samples,
            subsample=lgb.subsample,
            subsample_freq=lgb.subsample_freq,
            colsample_bytree=lgb.colsample_bytree,
            reg_lambda=lgb.reg_lambda,
            n_jobs=lgb.num_threads,
            random_state=settings.seed,
            deterministic=True,
            force_row_wise=True,
            metric="average_precision",
            verbose=-1,
            **imbalance,
        )

    def fit(self, X: pd.DataFrame, y: Any, X_valid: pd.DataFrame, y_valid: Any) -> ChurnLightGBM:
        """Train on the training months, stop early and calibrate on the validation months."""
        train = feature_frame(X, self.feature_columns)
        valid = feature_frame(X_valid, self.feature_columns)
        y_train = churn_labels(y, len(train), "training months")
        y_val = churn_labels(y_valid, len(valid), "validation months")
        if y_train.sum() == 0 or y_val.sum() == 0:
            raise ChurnError("LightGBM needs churners in both the training and validation months")
        rounds = model_params(self.params).lightgbm.early_stopping_rounds
        self.estimator_ = self.classifier(y_train).fit(
            train,
            y_train,
            eval_X=(valid,),
            eval_y=(y_val,),
            callbacks=[early_stopping(rounds, first_metric_only=True, verbose=False)],
        )
        self.booster_ = self.estimator_.booster_
        self.best_iteration_ = int(self.estimator_.best_iteration_ or self.booster_.num_trees())
        self.feature_columns_ = list(self.feature_columns)
        self.classes_ = np.array([0, 1])
        raw_valid = self.predict_raw(valid)
        method = model_params(self.params).calibration
        self.calibrator_: Calibrator = fit_calibrator(raw_valid, y_val, method)
        self.calibration_report_ = calibration_report(raw_valid, y_val, self.calibrator_)
        return self

    @classmethod
    def from_parts(
        cls,
        booster: Any,
        calibrator: Calibrator,
        *,
        feature_columns: Sequence[str],
        best_iteration: int,
        params: ModelParams | Mapping[str, Any] | None = None,
    ) -> ChurnLightGBM:
        """Rebuild a fitted model from a saved booster and calibrator (the registry's form)."""
        model = cls(params if params is not None else ModelParams(), feature_columns)
        model.booster_ = booster
        model.calibrator_ = calibrator
        model.best_iteration_ = int(best_iteration)
        model.feature_columns_ = list(feature_columns)
        model.classes_ = np.array([0, 1])
        model.calibration_report_ = None
        return model

    def _check_fitted(self) -> None:
        if not hasattr(self, "booster_"):
            raise ChurnError("ChurnLightGBM is not fitted: call fit() first")

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        """Return the uncalibrated probabilities of the best iteration."""
        self._check_fitted()
        frame = feature_frame(X, self.feature_columns_)
        return self.booster_.predict(frame, num_iteration=self.best_iteration_)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Return calibrated ``[[1 - p, p]]`` per row."""
        raw = self.predict_raw(X)
        p = self.calibrator_.predict(raw)
        return np.column_stack([1.0 - p, p])

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Return per-feature contributions to the raw log-odds, plus a ``bias`` column.

        LightGBM's exact tree SHAP values (``pred_contrib``); each row sums to the
        uncalibrated log-odds. Costly on large inputs: explain selected rows.
        """
        self._check_fitted()
        frame = feature_frame(X, self.feature_columns_)
        values = self.booster_.predict(frame, num_iteration=self.best_iteration_, pred_contrib=True)
        return pd.DataFrame(values, index=X.index, columns=[*self.feature_columns_, "bias"])
