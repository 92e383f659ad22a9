"""A packaged churn model as plain files: the booster, the calibrator, the metadata.

No pickle: ``model.lgb`` is the LightGBM booster in LightGBM's own text format,
``calibrator.json`` the calibrator's learned numbers (``Calibrator.to_dict``),
``churn_model.json`` the feature list (the booster's order), the feature-builder
version, the label, the fitted rule baseline (``RuleBaseline.to_dict``), the
training cohort's distributions for drift, the training categories of each
categorical feature, and the sha256 of ``model.lgb`` and ``calibrator.json``.
Reading verifies each file's checksum before parsing it, so a damaged file is
refused naming it instead of reaching LightGBM's parser. The MLflow side (the
pyfunc flavour around this folder, the registry) is pipeline/tracking/registry.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm
import pandas as pd

from models.calibration import Calibrator
from models.cause_model import ChurnCauseModel
from models.lightgbm_model import ChurnLightGBM
from pipeline.core.errors import ChurnError

DATA_FOLDER = "churn_model"
BOOSTER_FILE = "model.lgb"
CALIBRATOR_FILE = "calibrator.json"
META_FILE = "churn_model.json"
CAUSE_FILE = "cause_model.lgb"
CHECKSUMMED_FILES = (BOOSTER_FILE, CALIBRATOR_FILE)
CAUSE_META = "cause_model"
"""Metadata key of the optional cause model: its classes, features and iteration; the
booster itself is ``cause_model.lgb`` (checksummed like the others)."""


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
    meta, files = _with_cause_file(meta, folder)
    full = {
        **meta,
        "categories": training_categories(booster, example),
        "files": {name: sha256_of(folder / name) for name in files},
    }
    (folder / META_FILE).write_text(json.dumps(full, indent=2, default=str))
    return folder


def _with_cause_file(meta: Mapping[str, Any], folder: Path) -> tuple[dict[str, Any], tuple]:
    """Move the cause model's booster text (if any) out of the metadata into its own file."""
    cause = meta.get(CAUSE_META)
    if cause is None:
        return dict(meta), CHECKSUMMED_FILES
    (folder / CAUSE_FILE).write_text(cause["booster"])
    rest = {key: value for key, value in cause.items() if key != "booster"}
    return {**meta, CAUSE_META: rest}, (*CHECKSUMMED_FILES, CAUSE_FILE)


@dataclass(frozen=True)
class PackagedModel:
    """A model loaded back from the registry, a run or a folder."""

    booster: Any
    calibrator: Calibrator
    meta: dict[str, Any]
    source: str
    cause: ChurnCauseModel | None = None

    def churn_model(self) -> ChurnLightGBM:
        """Return the calibrated model ready to predict (a fitted ChurnLightGBM)."""
        return ChurnLightGBM.from_parts(
            self.booster,
            self.calibrator,
            feature_columns=self.meta["feature_columns"],
            best_iteration=int(self.meta["best_iteration"]),
        )


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
    cause = _read_cause_model(folder, meta, recorded)
    try:
        calibrator = Calibrator.from_dict(_read_json(folder / CALIBRATOR_FILE, source))
    except (ChurnError, KeyError, TypeError, ValueError) as exc:
        raise ChurnError(f"{folder / CALIBRATOR_FILE}: not a calibrator ({exc})") from None
    return PackagedModel(booster, calibrator, meta, source, cause)


def _read_cause_model(folder: Path, meta: Mapping[str, Any], recorded: Mapping) -> Any:
    """Return the packaged cause model, None when the model was trained without reasons."""
    state = meta.get(CAUSE_META)
    if state is None:
        return None
    _verify(folder / CAUSE_FILE, recorded.get(CAUSE_FILE))
    _read_booster(folder / CAUSE_FILE)  # a clear error naming the file if it is not a booster
    try:
        return ChurnCauseModel.from_dict({**state, "booster": (folder / CAUSE_FILE).read_text()})
    except (KeyError, TypeError, ValueError) as exc:
        raise ChurnError(
            f"{folder / META_FILE}: {CAUSE_META} is not a cause model ({exc})"
        ) from None


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
