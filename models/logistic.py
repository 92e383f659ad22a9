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
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from models.calibration import validation_calibration
from models.estimator import (
    BinaryChurnTags,
    InputError,
    ModelNotFittedError,
    as_frame,
    binary_target,
    feature_frame,
    model_columns,
    model_params,
    predicted_class,
)
from pipeline.core.params import ModelParams


def logistic_pipeline(frame: pd.DataFrame, C: float, max_iter: int, random_state: int) -> Pipeline:
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
        C=C,
        max_iter=max_iter,
        class_weight="balanced",
        random_state=random_state,
    )
    return Pipeline([("columns", columns), ("regression", regression)])


_DEFAULTS = ModelParams()


class ChurnLogistic(BinaryChurnTags, ClassifierMixin, BaseEstimator):
    """Class-balanced logistic regression, calibrated on validation months when given.

    A scikit-learn classifier whose constructor only stores its parameters;
    :meth:`from_params` builds one from params.yaml's ``model:`` section.

    Args:
        C: inverse regularisation strength (``model.logistic.C``).
        max_iter: solver iterations (``model.logistic.max_iter``).
        random_state: the seed (``model.seed``).
        calibration: ``isotonic``, ``sigmoid`` or ``none``, fitted on the validation rows.
        feature_columns: the model's input columns; None: every column of X.
    """

    def __init__(
        self,
        C: float = _DEFAULTS.logistic.C,
        max_iter: int = _DEFAULTS.logistic.max_iter,
        random_state: int = _DEFAULTS.seed,
        calibration: str = _DEFAULTS.calibration,
        feature_columns: Sequence[str] | None = None,
    ):
        self.C = C
        self.max_iter = max_iter
        self.random_state = random_state
        self.calibration = calibration
        self.feature_columns = feature_columns

    @classmethod
    def from_params(
        cls, params: ModelParams | Mapping[str, Any], feature_columns: Sequence[str] | None
    ) -> ChurnLogistic:
        """Return the estimator params.yaml ``model:`` describes (seed, calibration, logistic.*)."""
        settings = model_params(params)
        return cls(
            C=settings.logistic.C,
            max_iter=settings.logistic.max_iter,
            random_state=settings.seed,
            calibration=settings.calibration,
            feature_columns=None if feature_columns is None else list(feature_columns),
        )

    def fit(self, X: Any, y: Any, *, eval_set: tuple[Any, Any] | None = None) -> ChurnLogistic:
        """Fit on the training months; calibrate on ``eval_set``'s rows if given.

        Args:
            X: the training months' feature matrix (a DataFrame, or a 2-D array).
            y: training labels, two classes (churn: 0 and 1).
            eval_set: ``(X_valid, y_valid)``, the validation months the calibrator
                (``calibration``) is fitted on; without it probabilities stay raw.

        Raises:
            ChurnError: missing feature columns, or labels that are not two classes.
        """
        X = as_frame(X)
        columns = model_columns(X, self.feature_columns)
        train = feature_frame(X, columns)
        self.classes_, y_train = binary_target(y, len(train), "training months")
        if len(np.unique(y_train)) < 2:
            raise InputError(
                "logistic regression needs churners and non-churners in training "
                "(the training rows hold one class)"
            )
        self.pipeline_ = logistic_pipeline(train, self.C, self.max_iter, self.random_state).fit(
            train, y_train
        )
        self.n_iter_ = self.pipeline_.named_steps["regression"].n_iter_
        self.feature_columns_ = columns
        self.n_features_in_ = len(columns)
        self.calibrator_, self.calibration_report_ = validation_calibration(
            self, eval_set, columns, self.calibration
        )
        return self

    def predict_raw(self, X: Any) -> np.ndarray:
        """Return the uncalibrated (class-balanced) probabilities."""
        if not hasattr(self, "pipeline_"):
            raise ModelNotFittedError("ChurnLogistic is not fitted: call fit() first")
        frame = feature_frame(
            as_frame(X, self.feature_columns_, type(self).__name__), self.feature_columns_
        )
        return self.pipeline_.predict_proba(frame)[:, 1]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Return calibrated ``[[1 - p, p]]`` per row."""
        raw = self.predict_raw(X)
        p = self.calibrator_.predict(raw)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """Return the more probable class of each row."""
        proba = self.predict_proba(X)
        return predicted_class(self.classes_, proba)
