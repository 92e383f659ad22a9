"""Logistic regression on standardised features: the second reference model.

Median imputation with missing-value indicators, one-hot categoricals,
standard scaling and a class-balanced logistic regression. Class balancing
inflates probabilities, so when validation months are given the model is
calibrated on them exactly as LightGBM is, and its log loss and Brier score
compare fairly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from models.calibration import Calibrator, calibration_report, fit_calibrator
from models.lightgbm_model import churn_labels, feature_frame, model_params
from pipeline.core.errors import ChurnError
from pipeline.core.params import ModelParams


def logistic_pipeline(frame: pd.DataFrame, params: ModelParams) -> Pipeline:
    """Return the unfitted preprocessing + logistic regression pipeline for these columns."""
    categorical = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    numeric = [c for c in frame.columns if c not in categorical]
    numeric_steps = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", add_indicator=True)),
            ("scale", StandardScaler()),
        ]
    )
    columns = ColumnTransformer(
        [
            ("numeric", numeric_steps, numeric),
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                categorical,
            ),
        ]
    )
    regression = LogisticRegression(
        C=params.logistic.C,
        max_iter=params.logistic.max_iter,
        class_weight="balanced",
        random_state=params.seed,
    )
    return Pipeline([("columns", columns), ("regression", regression)])


class ChurnLogistic:
    """Class-balanced logistic regression, calibrated on validation months when given.

    Args:
        params: params.yaml ``model:`` (seed, calibration, logistic.C, logistic.max_iter).
        feature_columns: the model's input columns.
    """

    def __init__(self, params: ModelParams | Mapping[str, Any], feature_columns: Sequence[str]):
        self.params = params
        self.feature_columns = feature_columns

    def fit(
        self,
        X: pd.DataFrame,
        y: Any,
        X_valid: pd.DataFrame | None = None,
        y_valid: Any = None,
    ) -> ChurnLogistic:
        """Fit on the training months; calibrate on the validation months if given."""
        settings = model_params(self.params)
        train = feature_frame(X, self.feature_columns)
        y_train = churn_labels(y, len(train), "training months")
        if len(np.unique(y_train)) < 2:
            raise ChurnError("logistic regression needs churners and non-churners in training")
        self.pipeline_ = logistic_pipeline(train, settings).fit(train, y_train)
        self.feature_columns_ = list(self.feature_columns)
        self.classes_ = np.array([0, 1])
        self.calibrator_ = Calibrator("none")
        self.calibration_report_ = None
        if X_valid is not None:
            y_val = churn_labels(y_valid, len(X_valid), "validation months")
            raw_valid = self.predict_raw(X_valid)
            self.calibrator_ = fit_calibrator(raw_valid, y_val, settings.calibration)
            self.calibration_report_ = calibration_report(raw_valid, y_val, self.calibrator_)
        return self

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        """Return the uncalibrated (class-balanced) probabilities."""
        if not hasattr(self, "pipeline_"):
            raise ChurnError("ChurnLogistic is not fitted: call fit() first")
        return self.pipeline_.predict_proba(feature_frame(X, self.feature_columns_))[:, 1]

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Return calibrated ``[[1 - p, p]]`` per row."""
        raw = self.predict_raw(X)
        p = self.calibrator_.predict(raw)
        return np.column_stack([1.0 - p, p])
