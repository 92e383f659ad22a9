"""The model registry: package a trained model, log it, load it back, pick the champion.

A packaged model is an MLflow model with one flavour, ``python_function``
(loader module :mod:`pipeline.tracking.pyfunc`), so any MLflow client gets the
calibrated churn probability from ``mlflow.pyfunc.load_model(uri).predict(X)``.
Its data folder ``data/churn_model/`` holds plain files, no pickle:

- ``model.lgb``: the LightGBM booster as LightGBM's own text format;
- ``calibrator.json``: the calibrator's learned numbers (``Calibrator.to_dict``);
- ``churn_model.json``: feature list (the booster's order), feature-builder version,
  label, the fitted rule baseline (``RuleBaseline.to_dict``), the training cohort's
  score and feature distributions for drift, the training categories of each
  categorical feature, and the sha256 of ``model.lgb`` and ``calibrator.json``.

Loading verifies each file's checksum before parsing it, so a damaged file is
refused naming it instead of reaching LightGBM's parser. The same folder layout
serves a registry URI, a run URI and a local folder.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm
import mlflow
import mlflow.pyfunc
import numpy as np
import pandas as pd
import sklearn
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema
from mlflow.types.schema import AnyType

from models.package import (
    DATA_FOLDER,
    META_FILE,
    PackagedModel,
    read_model_data,
    write_model_data,
)
from pipeline.core.errors import ChurnError
from pipeline.tracking.mlflow_store import quiet_mlflow
from pipeline.training.outputs import TrainingOutputs, replaced_folder

LOADER_MODULE = "pipeline.tracking.pyfunc"
PIP_REQUIREMENTS = [
    f"lightgbm=={lightgbm.__version__}",
    f"pandas=={pd.__version__}",
    f"numpy=={np.__version__}",
    f"scikit-learn=={sklearn.__version__}",
    "pyarrow",
]


@dataclass(frozen=True)
class Promotion:
    """Which alias a new model version gets, and why."""

    alias: str
    reason: str


def decide_promotion(
    metric: str, candidate: float, rules: float, champion: float | None
) -> Promotion:
    """Return ``champion`` when the candidate beats the rules and the champion, else ``challenger``.

    All three numbers are the same metric on the same out-of-time cohort;
    ``champion`` is None when there is no comparable champion.
    """
    if not np.isfinite(candidate):
        return Promotion("challenger", f"{metric} of the new model is undefined on this cohort")
    if not candidate > rules:
        return Promotion(
            "challenger",
            f"does not beat the rules on {metric} ({candidate:.4f} <= {rules:.4f})",
        )
    if champion is not None and not candidate > champion:
        return Promotion(
            "challenger",
            f"does not beat the champion on {metric} ({candidate:.4f} <= {champion:.4f})",
        )
    against = "no comparable champion" if champion is None else f"champion {champion:.4f}"
    return Promotion(
        "champion", f"beats the rules ({rules:.4f}) and {against} on {metric}: {candidate:.4f}"
    )


def model_signature(example: pd.DataFrame):
    """Return the pyfunc signature for rows as the feature builder emits them.

    Numbers are ``double`` (MLflow upcasts the builder's float32 exactly, and float64
    passes too), ``warn_*`` flags ``boolean``, categoricals ``any`` (MLflow's schema
    enforcement refuses pandas categories against ``string``; the model recasts
    them to the training categories itself). Other columns an input carries, such as
    ``customer_id`` and ``as_of``, are ignored.
    """

    def spec(column: str) -> ColSpec:
        dtype = example[column].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            return ColSpec(AnyType(), column)
        if pd.api.types.is_bool_dtype(dtype):
            return ColSpec("boolean", column)
        return ColSpec("double", column)

    return ModelSignature(
        inputs=Schema([spec(str(c)) for c in example.columns]),
        outputs=Schema([ColSpec("double", "churn_probability")]),
    )


def _pyfunc_arguments(booster, calibrator, meta, example: pd.DataFrame, scratch: Path) -> dict:
    columns = list(meta["feature_columns"])
    rows = example.loc[:, columns]
    return {
        "loader_module": LOADER_MODULE,
        "data_path": str(write_model_data(booster, calibrator, meta, rows, scratch / DATA_FOLDER)),
        "signature": model_signature(rows),
        "input_example": rows,
        "pip_requirements": PIP_REQUIREMENTS,
        "metadata": {"feature_builder_version": meta.get("feature_builder_version")},
    }


def save_model(booster: Any, calibrator: Any, meta: dict, example: pd.DataFrame, path: Path):
    """Save a packaged model to a local folder (the run folder's copy).

    Args:
        booster: the fitted LightGBM booster.
        calibrator: its fitted :class:`~models.calibration.Calibrator`.
        meta: the metadata (``feature_columns`` in the booster's order, and the rest).
        example: a few rows as the feature builder emits them (float32 numbers, bool
            flags, pandas categoricals): the input example and the signature's types.
        path: the folder to create (it must not exist).
    """
    with tempfile.TemporaryDirectory() as scratch:
        arguments = _pyfunc_arguments(booster, calibrator, meta, example, Path(scratch))
        mlflow.pyfunc.save_model(str(path), **arguments)


def save_run_model(outputs: TrainingOutputs) -> Path:
    """Write a training run's packaged model into its run folder (replaced whole, atomically)."""
    lightgbm = outputs.fitted.lightgbm
    with replaced_folder(outputs.model_folder) as temp:
        save_model(
            lightgbm.booster_, lightgbm.calibrator_, outputs.model_meta, outputs.example, temp
        )
    return outputs.model_folder


def log_run_model(outputs: TrainingOutputs):
    """Log a training run's packaged model to the active MLflow run (registered later)."""
    lightgbm = outputs.fitted.lightgbm
    return log_model(
        lightgbm.booster_,
        lightgbm.calibrator_,
        outputs.model_meta,
        outputs.example,
    )


def log_model(
    booster: Any, calibrator: Any, meta: dict, example: pd.DataFrame, name: str | None = None
):
    """Log a packaged model to the active MLflow run; register it under ``name`` if given."""
    with tempfile.TemporaryDirectory() as scratch:
        arguments = _pyfunc_arguments(booster, calibrator, meta, example, Path(scratch))
        return mlflow.pyfunc.log_model(name="model", registered_model_name=name, **arguments)


def load_packaged_model(uri: str) -> PackagedModel:
    """Load a packaged model from ``models:/name@alias``, ``runs:/id/model`` or a folder.

    Raises:
        ChurnError: the model cannot be found, is not a packaged churn model, or one of
            its files is damaged (each named).
    """
    quiet_mlflow()
    try:
        folder = Path(uri) if Path(uri).exists() else Path(mlflow.artifacts.download_artifacts(uri))
    except Exception as exc:  # MLflow raises many types for "not there"
        raise ChurnError(f"cannot load model {uri!r}: {exc}") from None
    data = folder / "data" / DATA_FOLDER
    if not (data / META_FILE).exists():
        if (folder / "extra_files" / META_FILE).exists():
            raise ChurnError(
                f"{uri!r} is a churn model in the format before plain-data packaging "
                "(a pickled calibrator): retrain it once with churn train"
            )
        raise ChurnError(
            f"{uri!r} is not a packaged churn model (no data/{DATA_FOLDER}/{META_FILE})"
        )
    return read_model_data(data, uri)


def champion_version(client: Any, name: str):
    """Return the registry version holding the ``champion`` alias, or None."""
    try:
        return client.get_model_version_by_alias(name, "champion")
    except MlflowException:
        return None


def set_alias(client: Any, name: str, version: str, promotion: Promotion) -> None:
    """Point the promotion's alias at a version and record the reason on it."""
    client.set_registered_model_alias(name, promotion.alias, version)
    client.set_model_version_tag(name, version, "promotion", promotion.alias)
    client.set_model_version_tag(name, version, "promotion_reason", promotion.reason)
