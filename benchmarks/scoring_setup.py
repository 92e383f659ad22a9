"""Set-up of benchmarks/bench_scoring.py: the demo data sets and the small model, made once.

Data: `churn generate` (pipeline.stages.generate, 36 months from 2021-01, seed 5)
per size. Model: a LightGBM of ``trees`` trees (31 leaves) trained on six months
of the smallest data set, saved as a packaged-model folder; trained again when the
feature builder changed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

AS_OF = "2023-12-31"  # the last month of 36 generated from 2021-01
TRAIN_LAST = "2023-09-30"


def data_folder(work: Path, customers: int) -> Path:
    from pipeline.stages.generate import generate_stage

    folder = work / f"data_{customers}"
    if not (folder / "customers.parquet").exists():
        generate_stage(folder, customers=customers, months=36, seed=5, start="2021-01")
    return folder


def model_folder(work: Path, data: Path, trees: int) -> Path:
    """Train (once per feature-builder version) a small packaged model on six months."""
    from features.builder.version import builder_version

    folder = work / f"model_{trees}_{builder_version()}"
    if not folder.exists():
        train_model(data, folder, trees)
    return folder


def train_model(data: Path, folder: Path, trees: int) -> None:
    from features.builder.build import build_feature_matrix
    from features.builder.registry import model_feature_columns
    from features.builder.version import builder_version
    from models.drift import reference_profile
    from models.lightgbm_model import ChurnLightGBM
    from pipeline.cohorts.labels import make_labels
    from pipeline.core.params import Params
    from pipeline.data.loader import load_tables
    from pipeline.tracking.registry import save_model

    params = Params.model_validate({"model": {"lightgbm": {"n_estimators": trees}}})
    tables = load_tables(data, params, None).tables
    months = list(pd.date_range(end=TRAIN_LAST, periods=6, freq="ME"))
    matrix = build_feature_matrix(tables, months, params)
    matrix = matrix.merge(make_labels(tables, months, params.label), on=["customer_id", "as_of"])
    train = matrix[matrix["as_of"].isin(months[:4])]
    valid = matrix[matrix["as_of"].isin(months[4:])]
    columns = model_feature_columns()
    model = ChurnLightGBM.from_params(params.model, columns).fit(
        train, train["label"], eval_set=(valid, valid["label"])
    )
    meta = {
        "feature_columns": columns,
        "feature_builder_version": builder_version(),
        "best_iteration": model.best_iteration_,
        "label": params.label.model_dump(),
        "reference": reference_profile(
            train, columns, model.predict_proba(train)[:, 1], params.scoring.psi_bins
        ),
    }
    example = train.loc[:, columns].head(5)
    save_model(model.booster_, model.calibrator_, meta, example, folder)
