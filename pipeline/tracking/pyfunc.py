"""The packaged churn model as MLflow's ``python_function`` flavour, for any MLflow client.

``mlflow.pyfunc.load_model("models:/<name>@champion")`` imports this module and calls
:func:`_load_pyfunc` on the model's data folder; ``predict`` then returns the
calibrated churn probability, exactly what ``churn score`` writes, for a feature
matrix as ``churn features`` writes it. The files are read by the project's own
loader (checksums verified, nothing unpickled).

MLflow's schema enforcement turns pandas categories into text (and float32 into
float64, exactly); :func:`model_input` recasts each categorical column to the
categories the booster was trained with, so LightGBM sees the same codes as in
``churn score``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.package import PackagedModel, feature_order_problems, read_model_data
from pipeline.core.errors import ChurnError


def model_input(frame: pd.DataFrame, categories: Mapping[str, list]) -> pd.DataFrame:
    """Return the rows with each categorical feature recast to its training categories.

    Values outside the training categories become missing, as LightGBM treats them.
    """
    recast = frame.copy()
    for column, values in categories.items():
        if column in recast.columns:
            recast[column] = pd.Categorical(recast[column], categories=values)
    return recast


class ChurnPyfunc:
    """The calibrated LightGBM model behind ``mlflow.pyfunc``'s ``predict``."""

    def __init__(self, packaged: PackagedModel):
        self.packaged = packaged
        self.model = packaged.churn_model()

    def predict(self, model_input_frame: pd.DataFrame, params: dict[str, Any] | None = None):
        """Return the calibrated churn probability of each row (a float64 array)."""
        frame = model_input(model_input_frame, self.packaged.meta.get("categories", {}))
        return np.asarray(self.model.predict_proba(frame)[:, 1], dtype=np.float64)


def _load_pyfunc(data_path: str) -> ChurnPyfunc:
    """Load the model from its data folder (MLflow's loader-module entry point).

    Raises:
        ChurnError: a damaged file, or a feature list that is not the booster's own.
    """
    packaged = read_model_data(Path(data_path), data_path)
    problems = feature_order_problems(packaged.meta, packaged.booster)
    if problems:
        raise ChurnError(f"model {data_path!r}: " + "; ".join(problems))
    return ChurnPyfunc(packaged)
