"""Helpers of the scoring tests: test params, model metadata, edited model copies."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.params import Params

TRAIN_MONTHS = ["2022-09-30", "2022-10-31", "2022-11-30", "2022-12-31"]
VALID_MONTHS = ["2023-01-31", "2023-02-28"]
SCORED_AS_OF = "2023-03-31"  # its 3-month window ends at the demo data's end, 2023-06-30
LATEST_AS_OF = "2023-06-30"


def small_params(**sections) -> Params:
    """Test params: one thread, few trees, small chunks."""
    tree = {
        "model": {"lightgbm": {"num_threads": 1, "n_estimators": 25, "min_child_samples": 20}},
        "scoring": {"chunk_customers": 700},
    }
    for section, values in sections.items():
        tree[section] = {**tree.get(section, {}), **values}
    return Params.model_validate(tree)


def model_meta(model, rules, train: pd.DataFrame, columns: list[str], params: Params) -> dict:
    """The metadata training packages with a model (training/outputs.py), plus the rules."""
    from features.builder.version import builder_version
    from models.drift import reference_profile

    return {
        "feature_columns": list(columns),
        "feature_builder_version": builder_version(),
        "best_iteration": int(model.best_iteration_),
        "label": params.label.model_dump(),
        "split": {"train": TRAIN_MONTHS, "validation": VALID_MONTHS, "test": []},
        "calibration": params.model.calibration,
        "calibration_report": model.calibration_report_,
        "reference": reference_profile(
            train, columns, model.predict_proba(train)[:, 1], params.scoring.psi_bins
        ),
        "rules": rules.to_dict(),
    }


def edited_model(folder: Path, target: Path, edit) -> Path:
    """Copy a packaged model and apply ``edit(meta)`` to its metadata."""
    shutil.copytree(folder, target)
    path = target / "data" / "churn_model" / "churn_model.json"
    meta = json.loads(path.read_text())
    edit(meta)
    path.write_text(json.dumps(meta))
    return target


SETTINGS = ["model.lightgbm.num_threads=1", "scoring.chunk_customers=700"]


def churn_score(data, out, model, tracking, *settings, as_of=SCORED_AS_OF, csv=None):
    args = [
        "score",
        "--data",
        str(data),
        "--as-of",
        as_of,
        "--out",
        str(out),
        "--model",
        str(model),
        "--set",
        f"tracking.uri={tracking}",
    ]
    args += ["--csv", str(csv)] if csv else []
    for setting in [*SETTINGS, *settings]:
        args += ["--set", setting]
    return CliRunner().invoke(app, args)
