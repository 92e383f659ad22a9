"""Training cohorts on the cluster: feature snapshots and labels per partition, split out of time.

The same months, labels and split as :func:`pipeline.cohorts.cohorts.build_cohorts`;
only where the rows live differs. Each partition's labelled frame stays on its
worker; :func:`gather_cohorts` brings them to the client and joins them exactly
as the local build does, or :func:`sampled_cohorts` brings a seeded sample of
each part when the whole would not fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.cohorts.cohorts import Cohorts, labelled_matrix
from pipeline.core.contract import Tables
from pipeline.core.errors import ChurnError
from pipeline.core.params import LabelParams, Params
from pipeline.data.partitions import PartitionedTables, scatter_tables
from pipeline.engine.dask_features import (
    feature_partitions,
    gather_frames,
    warn_missing_inputs_once,
)

PARTS = ("train", "validation", "test")


@dataclass
class DistributedCohorts:
    """Feature snapshots and labels held on the cluster, one future per partition.

    Attributes:
        features: futures of each partition's feature frame (every used month).
        labels: futures of each partition's labels (the same rows, plus ``label``).
        rows: part name (train, validation, test) -> number of rows.
        split: the out-of-time split (pipeline.cohorts.split.Split).
        retries: reruns of a failed task (``engine.retries``).
    """

    features: list
    labels: list
    rows: dict[str, int]
    split: object
    retries: int = 0
    labelled: list | None = field(default=None, repr=False)

    @property
    def fit_rows(self) -> int:
        """Rows the model fits on: training plus validation months."""
        return self.rows["train"] + self.rows["validation"]

    def part(self, name: str, client) -> list:
        """Return futures of each partition's labelled rows of a part (train, validation, test)."""
        if self.labelled is None:
            self.labelled = [
                client.submit(labelled_matrix, f, lab, retries=self.retries)
                for f, lab in zip(self.features, self.labels, strict=True)
            ]
        months = getattr(self.split, name)
        return [client.submit(_months_of, frame, months) for frame in self.labelled]


def build_cohorts_dask(tables: Tables, params: Params, client) -> DistributedCohorts:
    """Stack feature snapshots with labels on the cluster and split them out of time.

    Args:
        tables: validated tables held by the client (months and split come from them).
        params: the run's params (``snapshots``, ``label``, ``split``, ``engine``, ...).
        client: a ``distributed.Client``.
    """
    from pipeline.cohorts.snapshots import snapshot_months
    from pipeline.cohorts.split import out_of_time_split
    from pipeline.engine.dask_cluster import partition_count

    months = snapshot_months(tables, params.snapshots, params.label)
    split = out_of_time_split(months, params.split, params.label.horizon_months)
    used = sorted(set(split.train) | set(split.validation) | set(split.test))
    partitioned = scatter_tables(tables, client, partition_count(params.engine, client))
    warn_missing_inputs_once(partitioned, client)
    return _cohorts(partitioned, used, split, params, client)


def _cohorts(
    partitioned: PartitionedTables, used: list, split, params: Params, client
) -> DistributedCohorts:
    retries = params.engine.retries
    features = feature_partitions(partitioned, used, params, client)
    labels = [
        client.submit(_labels, part, used, params.label, retries=retries)
        for part in partitioned.parts
    ]
    counts = client.gather([client.submit(_rows_per_month, lab) for lab in labels])
    total = pd.concat(counts).groupby(level=0).sum() if counts else pd.Series(dtype=int)
    rows = {
        name: int(total[total.index.isin(pd.DatetimeIndex(getattr(split, name)))].sum())
        for name in PARTS
    }
    return DistributedCohorts(features, labels, rows, split, retries)


def gather_cohorts(cohorts: DistributedCohorts, client) -> Cohorts:
    """Bring the cohorts to the client: the same frames as the local ``build_cohorts``."""
    features = gather_frames(cohorts.features, client)
    labels = gather_frames(cohorts.labels, client)
    return split_cohorts(labelled_matrix(features, labels), cohorts.split)


def sampled_cohorts(cohorts: DistributedCohorts, max_rows: int, seed: int, client) -> Cohorts:
    """Bring a seeded random sample of each part to the client, at most ``max_rows`` per part.

    Each partition keeps the same share of its rows (seed + partition number), so the
    sample is reproducible; rows are ordered like the local cohorts.
    """
    frames = {}
    for name in PARTS:
        futures = cohorts.part(name, client)
        share = min(1.0, max_rows / max(cohorts.rows[name], 1))
        sampled = [
            client.submit(_sample, frame, share, seed + number)
            for number, frame in enumerate(futures)
        ]
        parts = [p for p in client.gather(sampled) if len(p)]
        frame = pd.concat(parts, ignore_index=True) if parts else client.gather(futures[0])
        frames[name] = frame.sort_values(["customer_id", "as_of"], kind="stable", ignore_index=True)
    _check_both_classes(frames)
    return Cohorts(frames["train"], frames["validation"], frames["test"], split=cohorts.split)


def split_cohorts(frame: pd.DataFrame, split) -> Cohorts:
    """Cut a labelled matrix into the split's parts (as ``build_cohorts`` does).

    Raises:
        ChurnError: a part holds a single class.
    """
    frames = {
        name: frame[frame["as_of"].isin(pd.DatetimeIndex(getattr(split, name)))].reset_index(
            drop=True
        )
        for name in PARTS
    }
    _check_both_classes(frames)
    return Cohorts(frames["train"], frames["validation"], frames["test"], split=split)


def _check_both_classes(frames: dict[str, pd.DataFrame]) -> None:
    for name, label in zip(PARTS, ("training", "validation", "test"), strict=True):
        if frames[name]["label"].nunique() < 2:
            raise ChurnError(f"the {label} months hold a single class; widen snapshots or split")


def _labels(tables: Tables, months: list, label: LabelParams) -> pd.DataFrame:
    from pipeline.cohorts.labels import make_labels

    return make_labels(tables, months, label)


def _rows_per_month(labels: pd.DataFrame) -> pd.Series:
    return labels.groupby("as_of").size()


def _months_of(frame: pd.DataFrame, months: list) -> pd.DataFrame:
    return frame[frame["as_of"].isin(pd.DatetimeIndex(months))].reset_index(drop=True)


def _sample(frame: pd.DataFrame, share: float, seed: int) -> pd.DataFrame:
    if share >= 1.0:
        return frame
    keep = np.random.default_rng(seed).random(len(frame)) < share
    return frame[keep].reset_index(drop=True)
