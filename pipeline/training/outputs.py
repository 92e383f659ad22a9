"""A training run's folder: metrics.json, report.html, plots, scores, models, packaged model.

Every file is written atomically; the folder is what `churn evaluate` reads back
and what is logged to MLflow as the run's artifacts.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import pandas as pd

from features.builder.version import builder_version
from models.drift import reference_profile
from pipeline.core.atomic import atomic_path, atomic_write_parquet, atomic_write_text
from pipeline.core.params import Params
from pipeline.training.evaluation_outputs import (
    FACTS_FILE,
    METRICS_FILE,
    REPORT_FILE,
    read_facts,
    write_evaluation,
    write_json,
)
from pipeline.training.report_sections import restamp_run_facts

TEST_COHORT = "test_cohort.parquet"
MODELS_FILE = "models.joblib"
__all__ = ["METRICS_FILE", "MODELS_FILE", "REPORT_FILE", "TEST_COHORT", "write_training_outputs"]


@dataclass
class TrainingOutputs:
    """Paths of a run folder, and what packaging its model takes (pipeline/tracking/registry.py).

    ``model_folder`` is where the packaged model goes; the tracking layer writes it
    (an MLflow model) with :func:`replaced_folder`.
    """

    folder: Path
    metrics: Path
    report: Path
    model_folder: Path
    model_meta: dict[str, Any]
    example: pd.DataFrame
    fitted: Any


def model_meta(fitted, cohorts, columns, params: Params) -> dict[str, Any]:
    """Return what a packaged model must carry besides its booster and calibrator."""
    lightgbm = fitted.lightgbm
    train = cohorts.train
    return {
        **cause_model_meta(fitted),
        "feature_columns": list(columns),
        "feature_builder_version": builder_version(),
        "best_iteration": int(lightgbm.best_iteration_),
        "label": params.label.model_dump(),
        "split": {
            part: [m.date().isoformat() for m in getattr(cohorts.split, part)]
            for part in ("train", "validation", "test")
        },
        "calibration": params.model.calibration,
        "calibration_report": lightgbm.calibration_report_,
        "rules": fitted.rules.to_dict(),
        "reference": reference_profile(
            train, columns, lightgbm.predict_proba(train)[:, 1], params.scoring.psi_bins
        ),
    }


def cause_model_meta(fitted) -> dict[str, Any]:
    """Return the cause model's packaged data and out-of-time figures (empty: none fitted)."""
    if getattr(fitted, "cause", None) is None:
        return {}
    measures = fitted.cause.measures
    summary = {key: measures[key] for key in ("accounts", "accuracy", "top2_accuracy")}
    return {"cause_model": {**fitted.cause.model.to_dict(), "evaluation": summary}}


def write_training_outputs(
    out: Path, fitted, cohorts, evaluation, columns, params: Params, facts: dict | None = None
) -> TrainingOutputs:
    """Write the run folder (all but the packaged model) and return its paths.

    ``facts`` identify the run at the top of its report (:func:`restamp_report`
    completes them once the model is registered).
    """
    out.mkdir(parents=True, exist_ok=True)
    split = cohorts.split
    write_json(
        {
            "describe": split.describe(),
            **{
                part: [m.date().isoformat() for m in getattr(split, part)]
                for part in ("train", "validation", "purged", "test")
            },
            "refit": [m.date().isoformat() for m in fitted.refit_months],
        },
        out / "split.json",
    )
    report = write_evaluation(
        out, fitted.models, cohorts.test, evaluation, columns, params, split.describe(), facts
    )
    atomic_write_parquet(cohorts.test, out / TEST_COHORT)
    with atomic_path(out / MODELS_FILE) as temp:
        joblib.dump(fitted.models, temp)
    meta = model_meta(fitted, cohorts, columns, params)
    example = cohorts.test.loc[:, list(columns)].head(5)
    model_folder = out / "model"
    return TrainingOutputs(out, out / METRICS_FILE, report, model_folder, meta, example, fitted)


def restamp_report(outputs: TrainingOutputs, facts: dict[str, str]) -> Path:
    """Rewrite the report's and run_facts.json's run facts (the version and alias, once known)."""
    shown = {**(read_facts(outputs.folder) or {}), **facts}
    write_json(shown, outputs.folder / FACTS_FILE)
    html = restamp_run_facts(outputs.report.read_text(encoding="utf-8"), shown)
    return atomic_write_text(html, outputs.report)


@contextmanager
def replaced_folder(folder: Path) -> Iterator[Path]:
    """Yield a temporary sibling folder that replaces ``folder`` once the block succeeds.

    The old folder is moved aside first (a rename), so a failure at any point
    leaves either the old folder or the complete new one in place.
    """
    with atomic_path(folder.with_name(folder.name + ".new")) as temp:
        yield temp
    aside = folder.with_name(f".{folder.name}.old")
    shutil.rmtree(aside, ignore_errors=True)
    if folder.exists():
        os.replace(folder, aside)
    os.replace(folder.with_name(folder.name + ".new"), folder)
    shutil.rmtree(aside, ignore_errors=True)
