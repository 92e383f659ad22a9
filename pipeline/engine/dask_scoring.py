"""Scoring on a Dask cluster: one Parquet file per partition, published atomically.

Three passes, as the local job's (pipeline/scoring/job.py), with the partitions
in place of chunks:

1. on the workers, each partition's features (pipeline/engine/features.py)
   and calibrated churn probabilities, kept where they are;
2. on the client, the global step: every account's probability (8 bytes and an
   id per account) ranked and banded by :func:`pipeline.scoring.job.rank_cohort`
   in customer-id order, so ranks and ties agree with the local job;
3. on the workers, each partition's rows written to ``part-NNNNN.parquet`` in a
   staging folder that is published with a ``_SUCCESS`` marker last
   (pipeline/engine/publish.py).

The rows a part holds are decided by ``partition_rows``; the default writes the
first columns of the local scores file (customer_id, as_of, churn_probability,
risk_band, rank), sorted by customer_id within the part.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from models.drift import SCORE
from pipeline.core.contract import Tables
from pipeline.core.params import Params
from pipeline.data.partitions import PartitionedTables
from pipeline.data.publish import part_name, staged_dataset, write_part
from pipeline.engine.dask_cluster import broadcast
from pipeline.engine.dask_features import (
    feature_partitions,
    partitioned_tables,
    warn_missing_inputs_once,
    with_rescatter,
)
from pipeline.scoring.stability import StabilityCounter

PartitionRows = Callable[[pd.DataFrame, np.ndarray, pd.DataFrame], pa.Table]
"""``(features, probability, ranking)`` of one partition -> its rows of the scores dataset.

``ranking`` holds ``rank``, ``risk_band`` and ``explained`` (model reasons due) per row.
"""

SCORES_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("as_of", pa.timestamp("us")),
        ("churn_probability", pa.float64()),
        ("risk_band", pa.string()),
        ("rank", pa.int64()),
    ]
)


@dataclass
class ScoresDataset:
    """A published scores dataset and what the run decided."""

    path: str
    as_of: pd.Timestamp
    accounts: int
    parts: int
    band_counts: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)
    stability: StabilityCounter | None = None


def probability_rows(
    features: pd.DataFrame, probability: np.ndarray, ranking: pd.DataFrame
) -> pa.Table:
    """Return a partition's rows: id, as-of, probability, band and rank (:data:`SCORES_SCHEMA`)."""
    columns = {
        "customer_id": pa.array(features["customer_id"].to_numpy(dtype=object), pa.string()),
        "as_of": pa.array(features["as_of"].to_numpy(dtype="datetime64[us]"), pa.timestamp("us")),
        "churn_probability": pa.array(probability, pa.float64()),
        "risk_band": pa.array(ranking["risk_band"].to_numpy(dtype=object), pa.string()),
        "rank": pa.array(ranking["rank"].to_numpy(dtype=np.int64), pa.int64()),
    }
    return pa.Table.from_pydict(columns, schema=SCORES_SCHEMA)


@dataclass(frozen=True)
class ExplainedRows:
    """The local job's full rows for a partition: rules, reasons, likely cause, play.

    Use as ``partition_rows`` to write the scores file's columns
    (:func:`pipeline.scoring.output.scores_schema`) exactly as the local job decides them.

    Attributes:
        model: the checked scoring model (pipeline.scoring.model).
        playbook: the retention playbook (each worker builds its own cause finder from it,
            as the finder's answer cache does not travel).
        per_account: ``scoring.reasons_per_account``.
    """

    model: object
    playbook: object
    per_account: int

    def __call__(
        self, features: pd.DataFrame, probability: np.ndarray, ranking: pd.DataFrame
    ) -> pa.Table:
        """Decide and assemble one partition's rows (the job's per-chunk step)."""
        from pipeline.scoring.assemble import scores_table
        from pipeline.scoring.causes import CauseFinder
        from pipeline.scoring.job import Ranking, decide_accounts

        decided = Ranking(
            probability,
            ranking["rank"].to_numpy(),
            ranking["risk_band"].to_numpy(),
            ranking["explained"].to_numpy(),
        )
        chunk = decide_accounts(
            features, decided, slice(None), self.model, CauseFinder(self.playbook), self.per_account
        )
        return scores_table(chunk, self.per_account)


def score_dask(
    tables_or_source: Tables | PartitionedTables | str | Path,
    as_of: pd.Timestamp,
    model,
    params: Params,
    client,
    out: str | Path,
    partition_rows: PartitionRows = probability_rows,
    rejected_dir: Path | str | None = None,
    reference: dict | None = None,
) -> ScoresDataset:
    """Score every account open at ``as_of`` on the cluster into the dataset folder ``out``.

    Args:
        tables_or_source: as :func:`pipeline.engine.dask_features.build_feature_matrix_dask`.
        as_of: the month end scored (midnight).
        model: a fitted model with ``predict_proba`` (a ``ChurnLightGBM``).
        params: the run's params (``scoring``, ``features``, ``rules``, ``engine``).
        client: a ``distributed.Client``.
        out: the dataset folder (local path or fsspec URL every worker can write).
        partition_rows: turns a partition's features and decisions into its rows.
        rejected_dir: quarantine folder when the workers read a data location.
        reference: the model's training profile (``meta["reference"]``); when given,
            every partition counts its drift and ``stability`` holds the total.

    Returns:
        The dataset's path, accounts, parts, band counts and timings.
    """
    started = time.perf_counter()
    partitioned = partitioned_tables(tables_or_source, params, client, rejected_dir)
    warn_missing_inputs_once(partitioned, client)

    def step(parts: PartitionedTables) -> ScoresDataset:
        return _score(
            parts, pd.Timestamp(as_of), model, params, client, str(out), partition_rows, reference
        )

    result = with_rescatter(partitioned, client, params, step)
    result.seconds["total"] = time.perf_counter() - started
    return result


def _score(
    partitioned, as_of, model, params, client, out, partition_rows, reference=None
) -> ScoresDataset:
    from pipeline.scoring.job import rank_cohort

    started = time.perf_counter()
    retries = params.engine.retries
    frames = feature_partitions(partitioned, [as_of], params, client)
    shared_model = broadcast(client, model)
    shared_rows = broadcast(client, partition_rows)
    scored = [client.submit(_probability, f, shared_model, retries=retries) for f in frames]
    keys = client.gather(
        [client.submit(_ids_and_probability, f, p) for f, p in zip(frames, scored, strict=True)]
    )
    stability = _stability(client, frames, scored, reference)
    seconds = {"probabilities": time.perf_counter() - started}
    ranked = _ranked(keys, lambda p: rank_cohort(p, params.scoring))
    with staged_dataset(out) as staging:
        written = [
            client.submit(
                _write_rows,
                frame,
                probability,
                ranked[number],
                f"{staging.url}/{part_name(number)}",
                shared_rows,
                retries=retries,
            )
            for number, (frame, probability) in enumerate(zip(frames, scored, strict=True))
        ]
        accounts = sum(client.gather(written))
        bands = pd.concat(ranked)["risk_band"].value_counts()
        band_counts = {name: int(bands.get(name, 0)) for name in params.scoring.band_names}
        staging.summary = {"as_of": str(as_of.date()), "accounts": accounts, "parts": len(written)}
    seconds["written"] = time.perf_counter() - started
    return ScoresDataset(out, as_of, accounts, len(written), band_counts, seconds, stability)


def _stability(client, frames, scored, reference) -> StabilityCounter | None:
    """Count every partition in the training profile's bins and add the counts up."""
    if not reference:
        return None
    shared = broadcast(client, reference)
    counters = client.gather(
        [client.submit(_count_drift, f, p, shared) for f, p in zip(frames, scored, strict=True)]
    )
    total = StabilityCounter(reference)
    for counter in counters:
        total.merge(counter)
    return total


def _count_drift(features: pd.DataFrame, probability: np.ndarray, reference) -> StabilityCounter:
    counter = StabilityCounter(reference)
    counter.add(features.assign(**{SCORE: probability}))
    return counter


def _ranked(keys: list[pd.DataFrame], rank) -> list[pd.DataFrame]:
    """Rank every account in customer-id order; return each partition's rank, band, explained."""
    sizes = [len(k) for k in keys]
    everyone = pd.concat(keys, ignore_index=True)
    order = everyone["customer_id"].astype("str").argsort(kind="stable").to_numpy()
    ranking = rank(everyone["churn_probability"].to_numpy()[order])
    decided = pd.DataFrame(
        {"rank": ranking.rank, "risk_band": ranking.band, "explained": ranking.explained}
    )
    decided.index = order
    decided = decided.sort_index()
    bounds = np.cumsum([0, *sizes])
    return [
        decided.iloc[lo:hi].reset_index(drop=True)
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
    ]


def _probability(features: pd.DataFrame, model) -> np.ndarray:
    return model.predict_proba(features)[:, 1]


def _ids_and_probability(features: pd.DataFrame, probability: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": features["customer_id"].array,
            "churn_probability": probability,
        }
    )


def _write_rows(features, probability, ranking, url: str, partition_rows) -> int:
    return write_part(partition_rows(features, probability, ranking), url)
