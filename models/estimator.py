"""What the churn classifiers share as scikit-learn estimators: targets, inputs, predictions.

The models take a pandas feature matrix whose columns they pick by name (a
cohort also carries ids and labels), or, as any scikit-learn classifier, a plain
2-D array whose columns are then named ``x0, x1, ...``. Targets are any two
classes (churn data uses 0 and 1); the second of the sorted classes is the
positive one, whose probability is ``predict_proba(X)[:, 1]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, column_or_1d

from pipeline.core.errors import ChurnError
from pipeline.core.params import ModelParams


class InputError(ChurnError, ValueError):
    """Inputs a model cannot take: a ChurnError for the CLI, a ValueError for scikit-learn."""


class ModelNotFittedError(ChurnError, NotFittedError):
    """A model asked to predict before ``fit``."""


CHURN_CLASSES = np.array([0, 1])


class BinaryChurnTags:
    """The scikit-learn tags of the churn models: binary, NaN and categoricals allowed."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        return tags


def binary_target(
    y: Any, rows: int, what: str, classes: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(classes, codes)``: the two classes and each label's class index (0 or 1).

    Args:
        y: the labels, one per row.
        rows: the number of rows they label.
        what: which rows, for error messages ("training months").
        classes: the classes learned in training, to code held-out labels against; by
            default ``[0, 1]`` when every label is 0 or 1 (churn labels, even if one class is
            absent: the models say whether they can fit that), else the sorted distinct
            values of ``y``, which must be exactly two.

    Raises:
        InputError: a label count that differs from ``rows``, a target that is not binary,
            or a held-out label outside ``classes``.
    """
    labels = column_or_1d(y, warn=True)
    if len(labels) != rows:
        raise InputError(f"{what}: {rows} rows but {len(labels)} labels")
    if classes is None:
        if pd.isna(labels).any():
            raise InputError(f"{what}: labels hold missing values (NaN)")
        classes = np.unique(labels)
        if labels.dtype.kind in "biuf" and np.isin(classes, CHURN_CLASSES).all():
            classes = CHURN_CLASSES
        elif len(classes) != 2:
            target = type_of_target(labels, input_name="y", raise_unknown=True)
            raise InputError(
                f"{what}: Only binary classification is supported. The type of the target "
                f"is {target} with classes {classes.tolist()[:5]} (churn: 0 or 1)"
            )
    unknown = ~np.isin(labels, classes)
    if unknown.any():
        raise InputError(
            f"{what}: labels {sorted(set(labels[unknown].tolist()))[:5]} are not among the "
            f"training classes {list(classes)}"
        )
    return classes, np.searchsorted(classes, labels).astype(np.int64)


def as_frame(
    X: Any, columns: Sequence[str] | None = None, model: str = "the model"
) -> pd.DataFrame:
    """Return X as a DataFrame: a frame as it is (column names as text), an array with names.

    Args:
        X: a DataFrame or a 2-D array-like of numbers.
        columns: names for an array's columns (default ``x0, x1, ...``).
        model: the model's name, for the error message.

    Raises:
        InputError: an array with a different number of columns than ``columns``.
    """
    if isinstance(X, pd.DataFrame):
        if all(isinstance(c, str) for c in X.columns):
            return X
        return X.rename(columns=str)
    values = check_array(X, dtype="numeric", ensure_all_finite="allow-nan")
    names = list(columns) if columns is not None else [f"x{i}" for i in range(values.shape[1])]
    if values.shape[1] != len(names):
        raise InputError(
            f"X has {values.shape[1]} features, but {model} is expecting {len(names)} "
            "features as input"
        )
    return pd.DataFrame(values, columns=names)


def model_columns(X: pd.DataFrame, feature_columns: Sequence[str] | None) -> list[str]:
    """Return the columns a model trains on: the given ones, else every column of X."""
    return list(feature_columns) if feature_columns is not None else [str(c) for c in X.columns]


def predicted_class(classes: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """Return the class whose probability is the larger (the positive one on a tie)."""
    return classes[(proba[:, 1] >= 0.5).astype(np.int64)]


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
    """Return churn labels as a 0/1 int array, checking their count and values."""
    return binary_target(y, rows, what, classes=CHURN_CLASSES)[1]
