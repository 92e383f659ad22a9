"""Training data: stacked feature snapshots with point-in-time labels, split out of time."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipeline.core.contract import Tables
from pipeline.core.errors import ChurnError
from pipeline.core.params import Params

KEYS = ["customer_id", "as_of"]


@dataclass(frozen=True)
class Cohorts:
    """Feature rows with labels for the three out-of-time parts."""

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    split: object  # pipeline.cohorts.split.Split


def labelled_matrix(
    features: pd.DataFrame, labels: pd.DataFrame, *, unlabelled_ok: bool = False
) -> pd.DataFrame:
    """Join features and labels on (customer_id, as_of).

    Both hold the accounts open at each as-of. Some definitions cannot label every
    account (asset_drain needs a balance row at T and T+H): with ``unlabelled_ok``
    those feature rows are left out and counted in ``attrs["unlabelled_rows"]``;
    otherwise any mismatch is an error.

    Raises:
        ChurnError: a label without a feature row, or an unlabelled row when not allowed.
    """
    merged = features.merge(labels, on=KEYS, how="outer", indicator=True, validate="one_to_one")
    orphans = merged[merged["_merge"] == "right_only"]
    unlabelled = merged[merged["_merge"] == "left_only"]
    if len(orphans) or (len(unlabelled) and not unlabelled_ok):
        bad = pd.concat([orphans, unlabelled])
        sample = bad[KEYS + ["_merge"]].head(5).to_dict("records")
        raise ChurnError(
            f"features and labels disagree on the population for {len(bad)} rows, e.g. {sample}"
        )
    result = merged[merged["_merge"] == "both"].drop(columns="_merge").reset_index(drop=True)
    result["label"] = result["label"].astype("int8")
    result.attrs["unlabelled_rows"] = len(unlabelled)
    return result


def build_cohorts(tables: Tables, params: Params) -> Cohorts:
    """Stack snapshots over the configured as-of months, label them, split out of time."""
    from features.builder.build import build_feature_matrix
    from pipeline.cohorts.labels import make_labels
    from pipeline.cohorts.snapshots import snapshot_months
    from pipeline.cohorts.split import out_of_time_split

    months = snapshot_months(tables, params.snapshots, params.label)
    split = out_of_time_split(months, params.split, params.label.horizon_months)
    used = sorted(set(split.train) | set(split.validation) | set(split.test))
    features = build_feature_matrix(tables, used, params)
    labels = make_labels(tables, used, params.label)
    frame = labelled_matrix(
        features, labels, unlabelled_ok=params.label.definition == "asset_drain"
    )
    if frame.attrs["unlabelled_rows"]:
        print(  # reported, never silent: these accounts have no balance row at T or T+H
            f"note: {frame.attrs['unlabelled_rows']:,} account-months without a balance row "
            "at T or T+H have no asset_drain label and are left out of training"
        )
    parts = [
        frame[frame["as_of"].isin(pd.DatetimeIndex(m))].reset_index(drop=True)
        for m in (split.train, split.validation, split.test)
    ]
    for name, part in zip(("training", "validation", "test"), parts, strict=True):
        if part["label"].nunique() < 2:
            raise ChurnError(f"the {name} months hold a single class; widen snapshots or split")
    return Cohorts(*parts, split=split)
