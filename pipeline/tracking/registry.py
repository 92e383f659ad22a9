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

import hashlib
import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import pandas as pd
import sklearn

from models.calibration import Calibrator
from models.lightgbm_model import ChurnLightGBM
from pipeline.core.errors import ChurnError

DATA_FOLDER = "churn_model"
BOOSTER_FILE = "model.lgb"
CALIBRATOR_FILE = "calibrator.json"
META_FILE = "churn_model.json"
CHECKSUMMED_FILES = (BOOSTER_FILE, CALIBRATOR_FILE)
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


def sha256_of(path: Path) -> str:
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def training_categories(booster: Any, example: pd.DataFrame) -> dict[str, list]:
    """Return each categorical feature's training categories, as the booster recorded them.

    LightGBM keeps the category lists of its pandas training frame in column order;
    ``example`` (rows with the training dtypes) says which columns those were.
    """
    columns = [c for c in example.columns if isinstance(example[c].dtype, pd.CategoricalDtype)]
    recorded = booster.pandas_categorical or []
    if len(recorded) != len(columns):
        raise ChurnError(
            f"the booster records {len(recorded)} categorical features, the example has "
            f"{len(columns)} ({columns}): pass rows with the training dtypes"
        )
    return {column: list(values) for column, values in zip(columns, recorded, strict=True)}


def write_model_data(
    booster: Any, calibrator: Calibrator, meta: Mapping[str, Any], example: pd.DataFrame, folder
) -> Path:
    """Write the booster, calibrator and metadata (with their checksums) into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / BOOSTER_FILE).write_text(booster.model_to_string())
    (folder / CALIBRATOR_FILE).write_text(json.dumps(calibrator.to_dict(), indent=2))
    full = {
        **meta,
        "categories": training_categories(booster, example),
        "files": {name: sha256_of(folder / name) for name in CHECKSUMMED_FILES},
    }
    (folder / META_FILE).write_text(json.dumps(full, indent=2, default=str))
    return folder


def model_signature(example: pd.DataFrame):
    """Return the pyfunc signature for rows as the feature builder emits them.

    Numbers are ``double`` (MLflow upcasts the builder's float32 exactly, and float64
    passes too), ``warn_*`` flags ``boolean``, categoricals ``any`` (MLflow's schema
    enforcement refuses pandas categories against ``string``; the model recasts
    them to the training categories itself). Other columns an input carries, such as
    ``customer_id`` and ``as_of``, are ignored.
    """
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema
    from mlflow.types.schema import AnyType

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
    import mlflow.pyfunc

    with tempfile.TemporaryDirectory() as scratch:
        arguments = _pyfunc_arguments(booster, calibrator, meta, example, Path(scratch))
        mlflow.pyfunc.save_model(str(path), **arguments)


def log_model(booster: Any, calibrator: Any, meta: dict, example: pd.DataFrame, name: str):
    """Log a packaged model to the active MLflow run and register it under ``name``."""
    import mlflow.pyfunc

    with tempfile.TemporaryDirectory() as scratch:
        arguments = _pyfunc_arguments(booster, calibrator, meta, example, Path(scratch))
        return mlflow.pyfunc.log_model(name="model", registered_model_name=name, **arguments)


@dataclass(frozen=True)
class PackagedModel:
    """A model loaded back from the registry, a run or a folder."""

    booster: Any
    calibrator: Calibrator
    meta: dict[str, Any]
    source: str

    def churn_model(self) -> ChurnLightGBM:
        """Return the calibrated model ready to predict (a fitted ChurnLightGBM)."""
        return ChurnLightGBM.from_parts(
            self.booster,
            self.calibrator,
            feature_columns=self.meta["feature_columns"],
            best_iteration=int(self.meta["best_iteration"]),
        )


def load_packaged_model(uri: str) -> PackagedModel:
    """Load a packaged model from ``models:/name@alias``, ``runs:/id/model`` or a folder.

    Raises:
        ChurnError: the model cannot be found, is not a packaged churn model, or one of
            its files is damaged (each named).
    """
    import mlflow

    from pipeline.tracking.mlflow_store import quiet_mlflow

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


def read_model_data(folder: Path, source: str) -> PackagedModel:
    """Read a packaged model's data folder, verifying every file's checksum before parsing it.

    Raises:
        ChurnError: naming the file that is missing, unreadable or not what training wrote.
    """
    meta = _read_json(folder / META_FILE, source)
    recorded = meta.get("files")
    if not isinstance(recorded, dict):
        raise ChurnError(f"{folder / META_FILE}: records no file checksums; retrain the model")
    for name in CHECKSUMMED_FILES:
        _verify(folder / name, recorded.get(name))
    booster = _read_booster(folder / BOOSTER_FILE)
    try:
        calibrator = Calibrator.from_dict(_read_json(folder / CALIBRATOR_FILE, source))
    except (ChurnError, KeyError, TypeError, ValueError) as exc:
        raise ChurnError(f"{folder / CALIBRATOR_FILE}: not a calibrator ({exc})") from None
    return PackagedModel(booster, calibrator, meta, source)


def _verify(path: Path, expected: Any) -> None:
    if not path.is_file():
        raise ChurnError(f"model file {path} is missing")
    if not isinstance(expected, str):
        raise ChurnError(f"model file {path} has no recorded checksum; retrain the model")
    actual = sha256_of(path)
    if actual != expected:
        raise ChurnError(
            f"model file {path} is damaged or was edited: its sha256 {actual[:12]}... differs "
            f"from the {expected[:12]}... recorded at training"
        )


def _read_booster(path: Path) -> Any:
    try:
        return lightgbm.Booster(model_str=path.read_text())
    except Exception as exc:  # LightGBM raises its own error type, or a UnicodeError
        raise ChurnError(f"model file {path} is not a LightGBM model ({exc})") from None


def _read_json(path: Path, source: str) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ChurnError(f"model {source!r}: cannot read {path}: {exc}") from None
    if not isinstance(value, dict):
        raise ChurnError(f"model {source!r}: {path} does not hold a JSON object")
    return value


def feature_order_problems(meta: Mapping[str, Any], booster: Any) -> list[str]:
    """Return how the metadata's feature list differs from the booster's own (empty: none)."""
    listed: Sequence[str] = list(meta.get("feature_columns") or [])
    own = list(booster.feature_name())
    if listed == own:
        return []
    if sorted(listed) == sorted(own):
        first = next(i for i, (a, b) in enumerate(zip(listed, own, strict=True)) if a != b)
        return [
            f"the metadata lists the booster's features in another order (position {first}: "
            f"{listed[first]!r} in the metadata, {own[first]!r} in model.lgb)"
        ]
    return [
        f"the metadata's feature list ({len(listed)} columns) is not the booster's own "
        f"({len(own)} columns in model.lgb)"
    ]


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
