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
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from models.calibration import Calibrator, calibration_report, fit_calibrator
from models.estimator import (
    CHURN_CLASSES,
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

_DEFAULTS = ModelParams()
_LGB = _DEFAULTS.lightgbm


def classifier_settings(estimator: ChurnLightGBM, y_train: np.ndarray) -> dict[str, Any]:
    """Return the LightGBM classifier settings an estimator's params and its 0/1 labels call for.

    A pure function: the class imbalance is taken from ``y_train`` (``scale_pos_weight``,
    negatives per positive) unless the params fix it or give a ``class_weight``.
    The Dask engine passes the same settings to ``lightgbm.dask``.
    """
    imbalance: dict[str, Any] = {"class_weight": estimator.class_weight}
    if estimator.class_weight is None:
        positives = max(int(np.sum(y_train)), 1)
        ratio = (len(y_train) - positives) / positives
        weight = ratio if estimator.scale_pos_weight is None else estimator.scale_pos_weight
        imbalance = {"scale_pos_weight": float(weight)}
    return {
        "n_estimators": estimator.n_estimators,
        "learning_rate": estimator.learning_rate,
        "num_leaves": estimator.num_leaves,
        "min_child_samples": estimator.min_child_samples,
        "subsample": estimator.subsample,
        "subsample_freq": estimator.subsample_freq,
        "colsample_bytree": estimator.colsample_bytree,
        "reg_lambda": estimator.reg_lambda,
        "n_jobs": estimator.num_threads,
        "random_state": estimator.random_state,
        "deterministic": True,
        "force_row_wise": True,
        "metric": "average_precision",
        "verbose": -1,
        **imbalance,
    }


class ChurnLightGBM(BinaryChurnTags, ClassifierMixin, BaseEstimator):
    """LightGBM with class weighting, early stopping and calibration on validation months.

    A scikit-learn classifier: the constructor only stores its parameters (the keys of
    params.yaml ``model.lightgbm`` plus ``random_state`` = ``model.seed`` and
    ``calibration``), so ``clone``, ``get_params``/``set_params`` and search tools work.
    :meth:`from_params` builds one from params.yaml's ``model:`` section.

    Args:
        n_estimators: the most trees; early stopping decides how many are used.
        learning_rate: LightGBM's shrinkage.
        num_leaves: leaves per tree.
        min_child_samples: fewest rows in a leaf.
        subsample: row share bagged per iteration.
        subsample_freq: bag every this many iterations.
        colsample_bytree: feature share per tree.
        reg_lambda: L2 regularisation.
        class_weight: ``"balanced"``, a ``{0: weight, 1: weight}`` mapping or None (then
            ``scale_pos_weight``).
        scale_pos_weight: positive-class weight; None: negatives per positive in training.
        early_stopping_rounds: stop after this many rounds without a better validation PR-AUC.
        num_threads: LightGBM threads (fixed, for deterministic results).
        random_state: the seed of every random draw.
        calibration: ``isotonic``, ``sigmoid`` or ``none``, fitted on the validation rows.
        feature_columns: the model's input columns, in order; None: every column of X.
    """

    def __init__(
        self,
        n_estimators: int = _LGB.n_estimators,
        learning_rate: float = _LGB.learning_rate,
        num_leaves: int = _LGB.num_leaves,
        min_child_samples: int = _LGB.min_child_samples,
        subsample: float = _LGB.subsample,
        subsample_freq: int = _LGB.subsample_freq,
        colsample_bytree: float = _LGB.colsample_bytree,
        reg_lambda: float = _LGB.reg_lambda,
        class_weight: str | None = _LGB.class_weight,
        scale_pos_weight: float | None = _LGB.scale_pos_weight,
        early_stopping_rounds: int = _LGB.early_stopping_rounds,
        num_threads: int = _LGB.num_threads,
        random_state: int = _DEFAULTS.seed,
        calibration: str = _DEFAULTS.calibration,
        feature_columns: Sequence[str] | None = None,
    ):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.subsample_freq = subsample_freq
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.class_weight = class_weight
        self.scale_pos_weight = scale_pos_weight
        self.early_stopping_rounds = early_stopping_rounds
        self.num_threads = num_threads
        self.random_state = random_state
        self.calibration = calibration
        self.feature_columns = feature_columns

    @classmethod
    def from_params(
        cls, params: ModelParams | Mapping[str, Any], feature_columns: Sequence[str] | None
    ) -> ChurnLightGBM:
        """Return the estimator params.yaml ``model:`` describes (seed, calibration, lightgbm.*)."""
        settings = model_params(params)
        return cls(
            **settings.lightgbm.model_dump(),
            random_state=settings.seed,
            calibration=settings.calibration,
            feature_columns=None if feature_columns is None else list(feature_columns),
        )

    def fit(self, X: Any, y: Any, *, eval_set: tuple[Any, Any] | None = None) -> ChurnLightGBM:
        """Train; with ``eval_set``, stop early and calibrate on those (validation) rows.

        Args:
            X: the training months' feature matrix (a DataFrame, or a 2-D array).
            y: training labels, two classes (churn: 0 and 1).
            eval_set: ``(X_valid, y_valid)``, the validation months: early stopping
                picks the tree count by their PR-AUC and the calibrator (``calibration``)
                is fitted to their raw scores. Without it every tree is kept and the
                probabilities are the raw ones (calibration ``none``).

        Raises:
            ChurnError: missing feature columns, labels that are not binary, or no
                churner in the training or validation rows.
        """
        X = as_frame(X)
        columns = model_columns(X, self.feature_columns)
        train = feature_frame(X, columns)
        self.classes_, y_train = binary_target(y, len(train), "training months")
        fit_kwargs: dict[str, Any] = {}
        if eval_set is not None:
            X_valid = as_frame(eval_set[0], columns)
            valid = feature_frame(X_valid, columns)
            y_val = binary_target(eval_set[1], len(valid), "validation months", self.classes_)[1]
            if y_val.sum() == 0:
                raise InputError(
                    "LightGBM needs churners in both the training and validation months"
                )
            fit_kwargs = {
                "eval_X": (valid,),
                "eval_y": (y_val,),
                "callbacks": [
                    early_stopping(
                        self.early_stopping_rounds, first_metric_only=True, verbose=False
                    )
                ],
            }
        if y_train.sum() == 0 or y_train.sum() == len(y_train):
            raise InputError(
                "LightGBM needs churners in both the training and validation months "
                "(the training rows hold one class)"
            )
        settings = classifier_settings(self, y_train)
        self.scale_pos_weight_ = settings.get("scale_pos_weight")
        self.estimator_ = LGBMClassifier(**settings).fit(train, y_train, **fit_kwargs)
        self.booster_ = self.estimator_.booster_
        self.best_iteration_ = int(self.estimator_.best_iteration_ or self.booster_.num_trees())
        self.feature_columns_ = columns
        self.n_features_in_ = len(columns)
        self.calibrator_ = Calibrator("none")
        self.calibration_report_ = None
        if eval_set is not None:
            raw_valid = self.predict_raw(valid)
            self.calibrator_ = fit_calibrator(raw_valid, y_val, self.calibration)
            self.calibration_report_ = calibration_report(raw_valid, y_val, self.calibrator_)
        return self

    def refitted(self, X: Any, y: Any, *, n_estimators: int) -> ChurnLightGBM:
        """Return a copy trained on ``X, y`` with exactly ``n_estimators`` trees.

        For the refit on every matured month once early stopping chose the tree count:
        no rows are left to stop on or calibrate with, so the copy keeps this model's
        calibrator (a monotone map: the refit's ranking is its own).

        Raises:
            ModelNotFittedError: this model is not fitted.
        """
        self._check_fitted()
        refit = clone(self).set_params(n_estimators=int(n_estimators)).fit(X, y)
        refit.calibrator_ = self.calibrator_
        refit.calibration_report_ = self.calibration_report_
        return refit

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
        model = cls.from_params(params if params is not None else ModelParams(), feature_columns)
        model.booster_ = booster
        model.calibrator_ = calibrator
        model.best_iteration_ = int(best_iteration)
        model.feature_columns_ = list(feature_columns)
        model.n_features_in_ = len(model.feature_columns_)
        model.classes_ = CHURN_CLASSES
        model.calibration_report_ = None
        return model

    def _check_fitted(self) -> None:
        if not hasattr(self, "booster_"):
            raise ModelNotFittedError("ChurnLightGBM is not fitted: call fit() first")

    def _frame(self, X: Any) -> pd.DataFrame:
        self._check_fitted()
        return feature_frame(
            as_frame(X, self.feature_columns_, type(self).__name__), self.feature_columns_
        )

    def predict_raw(self, X: Any) -> np.ndarray:
        """Return the uncalibrated probabilities of the best iteration."""
        frame = self._frame(X)
        return self.booster_.predict(frame, num_iteration=self.best_iteration_)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Return calibrated ``[[1 - p, p]]`` per row."""
        raw = self.predict_raw(X)
        p = self.calibrator_.predict(raw)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """Return the more probable class of each row."""
        proba = self.predict_proba(X)
        return predicted_class(self.classes_, proba)

    def contributions(self, X: Any) -> pd.DataFrame:
        """Return per-feature contributions to the raw log-odds, plus a ``bias`` column.

        LightGBM's exact tree SHAP values (``pred_contrib``); each row sums to the
        uncalibrated log-odds. Costly on large inputs: explain selected rows.
        """
        frame = self._frame(X)
        values = self.booster_.predict(frame, num_iteration=self.best_iteration_, pred_contrib=True)
        return pd.DataFrame(values, index=frame.index, columns=[*self.feature_columns_, "bias"])
