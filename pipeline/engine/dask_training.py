"""LightGBM trained where the partitions live (``lightgbm.dask``), for cohorts too large to gather.

The training flow (pipeline/training/fit.py) gathers the cohorts when the
training and validation months hold at most ``engine.gather_max_rows`` rows;
above that it asks the Dask executor for this fit. LightGBM trains on the
workers with ``lightgbm.dask.DaskLGBMClassifier`` (data parallel; it sets its
own threads, so ``model.lightgbm.num_threads`` is ignored), with the local
model's settings. Its early stopping is read off the validation metric each
worker recorded, on the validation rows that worker held, with the local rule
(stop after ``early_stopping_rounds`` rounds without improvement, keep the
best). The calibrator is fitted on the client to the raw validation scores of
all rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import dask.dataframe as dd
import numpy as np
import pandas as pd
from lightgbm.dask import DaskLGBMClassifier

from models.calibration import calibration_report, fit_calibrator
from models.estimator import feature_frame
from models.lightgbm_model import ChurnLightGBM, classifier_settings
from pipeline.cohorts.cohorts import PartitionedCohorts
from pipeline.core.params import ModelParams


def fit_lightgbm_dask(
    cohorts: PartitionedCohorts, columns: Sequence[str], model: ModelParams, executor
) -> ChurnLightGBM:
    """Train LightGBM on the workers; return a calibrated :class:`ChurnLightGBM`.

    Args:
        cohorts: the partitioned cohorts (pipeline.cohorts.cohorts).
        columns: the model's feature columns.
        model: params.yaml ``model:``.
        executor: the Dask executor holding the partitions (its ``client`` trains).
    """
    client = executor.client

    X, y = _dask_part(cohorts, "train", columns, executor)
    X_valid, y_valid = _dask_part(cohorts, "validation", columns, executor)
    template = ChurnLightGBM.from_params(model, columns)
    settings = classifier_settings(template, y.compute().to_numpy())
    settings.pop("n_jobs", None)
    estimator = DaskLGBMClassifier(client=client, **settings)
    estimator.fit(X, y, eval_set=[(X_valid, y_valid)], eval_names=["validation"])
    history = estimator.evals_result_.get("validation", {}).get("average_precision", [])
    best = early_stopping_iteration(history, model.lightgbm.early_stopping_rounds)
    booster = estimator.booster_
    raw, labels = _raw_validation_scores(cohorts, booster, columns, best or None, executor)
    calibrator = fit_calibrator(raw, labels, model.calibration)
    fitted = ChurnLightGBM.from_parts(
        booster,
        calibrator,
        feature_columns=columns,
        best_iteration=best or booster.num_trees(),
        params=model,
    )
    fitted.calibration_report_ = calibration_report(raw, labels, calibrator)
    fitted.scale_pos_weight_ = settings.get("scale_pos_weight")
    return fitted


def early_stopping_iteration(history: Sequence[float], rounds: int) -> int:
    """Return the tree count early stopping keeps, replayed on a recorded metric (higher wins).

    Stops at the first round ``rounds`` rounds after the best so far, like LightGBM's
    callback; 0 when nothing was recorded (keep every tree).
    """
    best, best_round = -np.inf, 0
    for number, value in enumerate(history, start=1):
        if value > best:
            best, best_round = value, number
        elif number - best_round >= rounds:
            break
    return best_round


def _dask_part(cohorts: PartitionedCohorts, name: str, columns: Sequence[str], executor):
    """Return a part's model columns and labels as Dask collections (without empty partitions)."""
    frames = cohorts.part(name, executor)
    sizes = executor.gather([executor.submit(len, f) for f in frames])
    frames = [f for f, size in zip(frames, sizes, strict=True) if size]
    X_parts = [executor.submit(feature_frame, f, list(columns)) for f in frames]
    y_parts = [executor.submit(_labels_of, f) for f in frames]
    X_meta = executor.gather([executor.submit(_empty, X_parts[0])])[0]
    y_meta = pd.Series(dtype="int64", name="label")
    return dd.from_delayed(X_parts, meta=X_meta), dd.from_delayed(y_parts, meta=y_meta)


def _raw_validation_scores(cohorts, booster, columns, best, executor):
    model = executor.share(booster)
    scored = [
        executor.submit(_raw_scores, f, model, list(columns), best)
        for f in cohorts.part("validation", executor)
    ]
    pairs = executor.gather(scored)
    return np.concatenate([r for r, _ in pairs]), np.concatenate([y for _, y in pairs])


def _raw_scores(frame: pd.DataFrame, booster, columns: list[str], best: int | None):
    raw = booster.predict(feature_frame(frame, columns), num_iteration=best)
    return raw, frame["label"].to_numpy(np.int64)


def _labels_of(frame: pd.DataFrame) -> pd.Series:
    return frame["label"].astype("int64")


def _empty(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[:0]
