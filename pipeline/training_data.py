"""Training data: stacked feature snapshots with point-in-time labels, split out of time."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipeline.contract import Tables
from pipeline.errors import ChurnError
from pipeline.params import Params

KEYS = ["customer_id", "as_of"]


@dataclass(frozen=True)
class Cohorts:
    """Feature rows with labels for the three out-of-time parts."""

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    split: object  # pipeline.split.Split


def labelled_matrix(features: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Join features and labels on (customer_id, as_of); both must hold the same population.

    Raises:
        ChurnError: when a feature row has no label or a label has no feature row.
    """
    merged = features.merge(labels, on=KEYS, how="outer", indicator=True, validate="one_to_one")
    unmatched = merged[merged["_merge"] != "both"]
    if len(unmatched):
        sample = unmatched[KEYS + ["_merge"]].head(5).to_dict("records")
        raise ChurnError(
            f"features and labels disagree on the population for {len(unmatched)} rows, "
            f"e.g. {sample}"
        )
    return merged.drop(columns="_merge")


def build_cohorts(tables: Tables, params: Params) -> Cohorts:
    """Stack snapshots over the configured as-of months, label them, split out of time."""
    from features.build import build_feature_matrix
    from pipeline.labels import make_labels
    from pipeline.snapshots import snapshot_months
    from pipeline.split import out_of_time_split

    months = snapshot_months(tables, params.snapshots, params.label)
    split = out_of_time_split(months, params.split, params.label.horizon_months)
    used = sorted(set(split.train) | set(split.validation) | set(split.test))
    features = build_feature_matrix(tables, used, params)
    labels = make_labels(tables, used, params.label)
    frame = labelled_matrix(features, labels)
    parts = [
        frame[frame["as_of"].isin(pd.DatetimeIndex(m))].reset_index(drop=True)
        for m in (split.train, split.validation, split.test)
    ]
    for name, part in zip(("training", "validation", "test"), parts, strict=True):
        if part["label"].nunique() < 2:
            raise ChurnError(f"the {name} months hold a single class; widen snapshots or split")
    return Cohorts(*parts, split=split)
