"""Training data: stacked feature snapshots with point-in-time labels, split out of time.

Written once over partitions of customers (pipeline/core/executor.py): each
partition's feature snapshots (pipeline/cohorts/matrix.py) and labels stay
where the executor keeps them; only their row counts per month come back. Then
:func:`gather_cohorts` joins the partitions exactly as one build would, or
:func:`sampled_cohorts` brings a seeded sample of each part when the whole would
not fit on this machine. :func:`build_cohorts` is the whole flow in this process.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.cohorts.labels import make_labels
from pipeline.cohorts.matrix import feature_partitions, gather_frames, warn_missing_inputs_once
from pipeline.cohorts.short_history import training_calendar
from pipeline.cohorts.snapshots import DataSpan, first_dates, first_month_of
from pipeline.cohorts.split import Split
from pipeline.cohorts.treated import TREATED, treated_account_months
from pipeline.core.contract import Tables
from pipeline.core.errors import ChurnError
from pipeline.core.executor import Executor, InProcessExecutor
from pipeline.core.params import LabelParams, Params
from pipeline.data.partitions import PartitionedTables, partition_tables

KEYS = ["customer_id", "as_of"]
PARTS = ("train", "validation", "test")
PART_NAMES = {"train": "training", "validation": "validation", "test": "test"}


@dataclass(frozen=True)
class Cohorts:
    """Feature rows with labels for the three out-of-time parts.

    ``matured_gap`` holds the rows of the purge gap between training and validation
    (built only when the model is refitted on every matured month), else None.
    """

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    split: Split
    matured_gap: pd.DataFrame | None = None

    def refit_rows(self) -> pd.DataFrame:
        """Return the rows of every matured month (training, first gap, validation), by month.

        Raises:
            ChurnError: the gap's rows were not built (``model.refit`` off, or sampled).
        """
        if self.matured_gap is None:
            raise ChurnError("the cohorts hold no purge-gap rows: build them with model.refit")
        parts = [self.train, self.matured_gap, self.validation]
        frame = pd.concat([part for part in parts if len(part)], ignore_index=True)
        return frame.sort_values(["as_of", "customer_id"], kind="stable", ignore_index=True)


@dataclass
class PartitionedCohorts:
    """Feature snapshots and labels held by the executor, one handle per partition.

    Attributes:
        features: handles of each partition's feature frame (every used month).
        labels: handles of each partition's labels (the same rows, plus ``label``).
        rows: part name (train, validation, test) -> number of rows.
        split: the out-of-time split.
        unlabelled_ok: whether feature rows without a label are left out (asset_drain).
        with_gap: whether the first purge gap's months were built too (for the refit).
    """

    features: list
    labels: list
    rows: dict[str, int]
    split: Split
    unlabelled_ok: bool = False
    exclude_treated: bool = True
    with_gap: bool = False
    labelled: list | None = field(default=None, repr=False)

    @property
    def fit_rows(self) -> int:
        """Rows the model fits on: training plus validation months."""
        return self.rows["train"] + self.rows["validation"]

    def part(self, name: str, executor: Executor) -> list:
        """Return handles of each partition's labelled rows of a part (train, validation, test)."""
        if self.labelled is None:
            self.labelled = [
                executor.submit(_labelled, f, lab, self.unlabelled_ok, self.exclude_treated)
                for f, lab in zip(self.features, self.labels, strict=True)
            ]
        months = getattr(self.split, name)
        return [executor.submit(_months_of, frame, months) for frame in self.labelled]


def build_cohorts(tables: Tables, params: Params) -> Cohorts:
    """Stack snapshots over the configured as-of months, label them, split out of time."""
    executor = InProcessExecutor()
    partitioned = partition_tables(tables, executor, 1)
    return gather_cohorts(executor, partitioned_cohorts(executor, partitioned, params))


def data_span_of(executor: Executor, partitioned: PartitionedTables) -> DataSpan:
    """Return the months the partitioned data cover (first activity month, observation end)."""
    dates = executor.gather([executor.submit(first_dates, part) for part in partitioned.parts])
    return DataSpan(first_month_of(dates), partitioned.observation_end)


def partitioned_cohorts(
    executor: Executor, partitioned: PartitionedTables, params: Params
) -> PartitionedCohorts:
    """Build feature snapshots with labels per partition and split them out of time.

    Args:
        executor: where the partitions run.
        partitioned: the validated tables, partitioned by customer.
        params: the run's params (``snapshots``, ``label``, ``split``, ``features``, ``rules``).
    """
    _, split = training_calendar(data_span_of(executor, partitioned), params)
    used = sorted(set(split.train) | set(split.validation) | set(split.test))
    if params.model.refit:
        used = sorted(set(used) | set(split.matured_gap))
    warn_missing_inputs_once(executor, partitioned)
    features = feature_partitions(executor, partitioned, used, params)
    labels = [executor.submit(_labels, part, used, params.label) for part in partitioned.parts]
    exclude_treated = params.retention.treated_in_training == "exclude"
    counts = executor.gather([executor.submit(_rows_per_month, lab) for lab in labels])
    total = pd.concat(counts).groupby(level=0).sum() if counts else pd.Series(dtype=int)
    rows = {
        name: int(total[total.index.isin(pd.DatetimeIndex(getattr(split, name)))].sum())
        for name in PARTS
    }
    unlabelled_ok = params.label.definition == "asset_drain"
    return PartitionedCohorts(
        features,
        labels,
        rows,
        split,
        unlabelled_ok,
        exclude_treated=exclude_treated,
        with_gap=params.model.refit,
    )


def gather_cohorts(executor: Executor, cohorts: PartitionedCohorts) -> Cohorts:
    """Bring the cohorts here: the frames one build over all customers gives.

    Raises:
        ChurnError: a part holds a single class.
    """
    features = gather_frames(executor, cohorts.features)
    labels = gather_frames(executor, cohorts.labels)
    frame = labelled_matrix(
        features,
        labels,
        unlabelled_ok=cohorts.unlabelled_ok,
        exclude_treated=cohorts.exclude_treated,
    )
    if frame.attrs["treated_rows"]:
        print(  # reported, never silent: the policy of params retention.treated_in_training
            f"note: {frame.attrs['treated_rows']:,} account-months contacted by the retention "
            "loop inside their label window are left out of training and evaluation"
        )
    if frame.attrs["unlabelled_rows"]:
        print(  # reported, never silent: these accounts have no balance row at T or T+H
            f"note: {frame.attrs['unlabelled_rows']:,} account-months without a balance row "
            "at T or T+H have no asset_drain label and are left out of training"
        )
    return split_cohorts(frame, cohorts.split, with_gap=cohorts.with_gap)


def sampled_cohorts(
    executor: Executor, cohorts: PartitionedCohorts, max_rows: int, seed: int
) -> Cohorts:
    """Bring a seeded random sample of each part here, at most ``max_rows`` per part.

    Each partition keeps the same share of its rows (seed + partition number), so the
    sample is reproducible; rows are ordered like the gathered cohorts.
    """
    frames = {}
    for name in PARTS:
        handles = cohorts.part(name, executor)
        share = min(1.0, max_rows / max(cohorts.rows[name], 1))
        sampled = [
            executor.submit(_sample, frame, share, seed + number)
            for number, frame in enumerate(handles)
        ]
        parts = [p for p in executor.gather(sampled) if len(p)]
        frame = pd.concat(parts, ignore_index=True) if parts else executor.gather(handles[:1])[0]
        frames[name] = frame.sort_values(["customer_id", "as_of"], kind="stable", ignore_index=True)
    _check_both_classes(frames)
    return Cohorts(frames["train"], frames["validation"], frames["test"], split=cohorts.split)


def split_cohorts(frame: pd.DataFrame, split: Split, *, with_gap: bool = False) -> Cohorts:
    """Cut a labelled matrix into the split's parts (and the first purge gap, ``with_gap``).

    Raises:
        ChurnError: a part holds a single class.
    """
    frames = {name: _months_of(frame, getattr(split, name)) for name in PARTS}
    _check_both_classes(frames)
    gap = _months_of(frame, split.matured_gap) if with_gap else None
    return Cohorts(frames["train"], frames["validation"], frames["test"], split, gap)


def labelled_matrix(
    features: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    unlabelled_ok: bool = False,
    exclude_treated: bool = True,
) -> pd.DataFrame:
    """Join features and labels on (customer_id, as_of).

    Both hold the accounts open at each as-of. Some definitions cannot label every
    account (asset_drain needs a balance row at T and T+H): with ``unlabelled_ok``
    those feature rows are left out and counted in ``attrs["unlabelled_rows"]``;
    otherwise any mismatch is an error. Labels flagged ``treated``
    (pipeline/cohorts/treated.py) are left out with ``exclude_treated`` and
    counted in ``attrs["treated_rows"]``; the flag never reaches the matrix.

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
    treated = result.pop(TREATED).to_numpy(dtype=bool) if TREATED in result else None
    if treated is not None and exclude_treated:
        result = result[~treated].reset_index(drop=True)
    result["label"] = result["label"].astype("int8")
    result.attrs["unlabelled_rows"] = len(unlabelled)
    result.attrs["treated_rows"] = (
        int(treated.sum()) if treated is not None and exclude_treated else 0
    )
    return result


def _check_both_classes(frames: dict[str, pd.DataFrame]) -> None:
    for name in PARTS:
        if frames[name]["label"].nunique() < 2:
            raise ChurnError(
                f"the {PART_NAMES[name]} months hold a single class; widen snapshots or split"
            )


def _labels(tables: Tables, months: list, label: LabelParams) -> pd.DataFrame:
    labels = make_labels(tables, months, label)
    if tables.retention_actions is None:
        return labels
    return labels.assign(**{TREATED: treated_account_months(tables, labels, label.horizon_months)})


def _labelled(
    features: pd.DataFrame, labels: pd.DataFrame, unlabelled_ok: bool, exclude_treated: bool
) -> pd.DataFrame:
    return labelled_matrix(
        features, labels, unlabelled_ok=unlabelled_ok, exclude_treated=exclude_treated
    )


def _rows_per_month(labels: pd.DataFrame) -> pd.Series:
    return labels.groupby("as_of").size()


def _months_of(frame: pd.DataFrame, months: list) -> pd.DataFrame:
    return frame[frame["as_of"].isin(pd.DatetimeIndex(months))].reset_index(drop=True)


def _sample(frame: pd.DataFrame, share: float, seed: int) -> pd.DataFrame:
    if share >= 1.0:
        return frame
    keep = np.random.default_rng(seed).random(len(frame)) < share
    return frame[keep].reset_index(drop=True)
