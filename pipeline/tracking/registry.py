"""The model registry: package a trained model, log it, load it back, pick the champion.

A packaged model is an MLflow LightGBM-flavour model (the booster, with
signature and input example) whose ``extra_files`` carry the calibrator and
``churn_model.json`` (feature list, feature-builder version, label, training
cohort's score and feature distributions for drift). The same folder layout
serves a registry URI, a run URI and a local folder.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from pipeline.core.errors import ChurnError

CALIBRATOR_FILE = "calibrator.joblib"
META_FILE = "churn_model.json"
PIP_REQUIREMENTS = ["lightgbm", "pandas", "pyarrow", "scikit-learn", "joblib"]


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


def model_files(calibrator: Any, meta: dict[str, Any], folder: Path) -> list[str]:
    """Write the calibrator and metadata beside a model and return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(calibrator, folder / CALIBRATOR_FILE)
    (folder / META_FILE).write_text(json.dumps(meta, indent=2, default=str))
    return [str(folder / CALIBRATOR_FILE), str(folder / META_FILE)]


def _signature(booster: Any, example: pd.DataFrame):
    from mlflow.models import infer_signature

    return infer_signature(example, booster.predict(example))


def save_model(booster: Any, calibrator: Any, meta: dict, example: pd.DataFrame, path: Path):
    """Save a packaged model to a local folder (the run folder's copy)."""
    import mlflow.lightgbm

    with tempfile.TemporaryDirectory() as scratch:
        extra = model_files(calibrator, meta, Path(scratch))
        mlflow.lightgbm.save_model(
            booster,
            path=str(path),
            signature=_signature(booster, example),
            input_example=example,
            extra_files=extra,
            pip_requirements=PIP_REQUIREMENTS,
        )


def log_model(booster: Any, calibrator: Any, meta: dict, example: pd.DataFrame, name: str):
    """Log a packaged model to the active MLflow run and register it under ``name``."""
    import mlflow.lightgbm

    with tempfile.TemporaryDirectory() as scratch:
        extra = model_files(calibrator, meta, Path(scratch))
        return mlflow.lightgbm.log_model(
            booster,
            name="model",
            signature=_signature(booster, example),
            input_example=example,
            extra_files=extra,
            registered_model_name=name,
            pip_requirements=PIP_REQUIREMENTS,
            metadata={"feature_builder_version": meta.get("feature_builder_version")},
        )


@dataclass(frozen=True)
class PackagedModel:
    """A model loaded back from the registry, a run or a folder."""

    booster: Any
    calibrator: Any
    meta: dict[str, Any]
    source: str

    def churn_model(self):
        """Return the calibrated model ready to predict (a fitted ChurnLightGBM)."""
        from models.lightgbm_model import ChurnLightGBM

        return ChurnLightGBM.from_parts(
            self.booster,
            self.calibrator,
            feature_columns=self.meta["feature_columns"],
            best_iteration=int(self.meta["best_iteration"]),
        )


def load_packaged_model(uri: str) -> PackagedModel:
    """Load a packaged model from ``models:/name@alias``, ``runs:/id/model`` or a folder.

    Raises:
        ChurnError: the model cannot be found or is not a packaged churn model.
    """
    import mlflow
    import mlflow.lightgbm

    from pipeline.tracking.mlflow_store import quiet_mlflow

    quiet_mlflow()
    try:
        folder = Path(uri) if Path(uri).exists() else Path(mlflow.artifacts.download_artifacts(uri))
        booster = mlflow.lightgbm.load_model(str(folder))
    except Exception as exc:  # MLflow raises many types for "not there"
        raise ChurnError(f"cannot load model {uri!r}: {exc}") from None
    extra = folder / "extra_files"
    if not (extra / META_FILE).exists():
        raise ChurnError(f"{uri!r} is not a packaged churn model (no extra_files/{META_FILE})")
    meta = json.loads((extra / META_FILE).read_text())
    return PackagedModel(booster, joblib.load(extra / CALIBRATOR_FILE), meta, uri)


def champion_version(client: Any, name: str):
    """Return the registry version holding the ``champion`` alias, or None."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, "champion")
    except MlflowException:
        return None


def set_alias(client: Any, name: str, version: str, promotion: Promotion) -> None:
    """Point the promotion's alias at a version and record the reason on it."""
    client.set_registered_model_alias(name, promotion.alias, version)
    client.set_model_version_tag(name, version, "promotion", promotion.alias)
    client.set_model_version_tag(name, version, "promotion_reason", promotion.reason)
