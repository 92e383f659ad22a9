"""The monthly scoring job: every account open at the as-of date, scored, explained, written.

Written once over partitions of customers (pipeline/core/executor.py); the local
engine runs one partition in this process, the Dask engine many on a cluster.
Three passes, each over chunks of customers within a partition, keep memory
bounded by the chunk size:

1. features: each chunk's customer features and market reference (cohort.py); the
   partitions' references are combined into the cohort's;
2. probabilities: the market columns, the calibrated probability, and the drift
   counts against the training cohort; every account's id and probability come
   back here, where ranks and bands are set for the whole cohort
   (pipeline/scoring/ranking.py);
3. reasons and rows: the top ``scoring.reasons_top_share`` by rank get model
   reasons, the rest rule reasons; then the likely cause and play
   (pipeline/scoring/decide.py). In this process each chunk goes straight to the
   output files; from a cluster each partition's rows come back one partition at
   a time and are written here, so both engines write the same files, CSV and
   compact copy included.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from features.builder.build import combine_market_references
from models.drift import SCORE
from pipeline.core.collector import cycle_collection_paused
from pipeline.core.contract import Tables
from pipeline.core.errors import ChurnError
from pipeline.core.executor import Executor, InProcessExecutor
from pipeline.core.params import Params
from pipeline.data.partitions import PartitionedTables, partition_tables
from pipeline.scoring.assemble import compact_table, scores_table
from pipeline.scoring.causes import CauseFinder
from pipeline.scoring.cohort import ChunkedCohort, Progress, no_progress
from pipeline.scoring.decide import decide_accounts
from pipeline.scoring.model import ScoringModel
from pipeline.scoring.output import ScoresWriter
from pipeline.scoring.passes import PassProgress
from pipeline.scoring.playbook import Playbook
from pipeline.scoring.ranking import Ranking, ranked_in_id_order
from pipeline.scoring.stability import StabilityCounter


@dataclass
class ScoringResult:
    """What a scoring run decided, for the summary and the tracking run."""

    as_of: pd.Timestamp
    probability: np.ndarray
    band_counts: dict[str, int]
    explained: int
    drift: pd.DataFrame
    cause_counts: Counter = field(default_factory=Counter)
    value_at_risk: float = 0.0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def accounts(self) -> int:
        """Accounts scored."""
        return len(self.probability)


def score_cohort(
    tables: Tables,
    as_of: pd.Timestamp,
    model: ScoringModel,
    causes: CauseFinder,
    params: Params,
    writer: ScoresWriter,
    progress: Progress = no_progress,
) -> ScoringResult:
    """Score every account open at ``as_of`` in this process (:func:`score_partitions`)."""
    executor = InProcessExecutor()
    partitioned = partition_tables(tables, executor, 1)
    return score_partitions(executor, partitioned, as_of, model, causes, params, writer, progress)


def score_partitions(
    executor: Executor,
    partitioned: PartitionedTables,
    as_of: pd.Timestamp,
    model: ScoringModel,
    causes: CauseFinder,
    params: Params,
    writer: ScoresWriter,
    progress: Progress = no_progress,
) -> ScoringResult:
    """Score every account open at ``as_of`` and append the rows to ``writer``.

    Args:
        executor: where the partitions run.
        partitioned: the validated tables, partitioned by customer.
        as_of: the month end scored (midnight).
        model: the checked model and rule baselines (pipeline.scoring.model).
        causes: the likely-cause finder over the retention playbook.
        params: the run's params (``scoring:``, ``features:``, ``rules:``).
        writer: where the rows go (pipeline.scoring.output).
        progress: called after each chunk of each pass (after each partition on a cluster).

    Returns:
        The counts, score distribution, drift table and timings of the run.

    Raises:
        ChurnError: no account is open at ``as_of``.
    """
    started = time.perf_counter()
    scoring = params.scoring
    n_parts = len(partitioned.parts)
    # Chunk by chunk on one partition here; partition by partition on several here (the
    # local engine on disk); once per pass from a cluster.
    in_tasks = progress if executor.in_process and n_parts == 1 else no_progress
    shared_model = executor.share(model)
    cohorts = []
    features = PassProgress(progress, executor, "features", n_parts)
    for part in partitioned.parts:
        cohorts.append(executor.submit(_partition_cohort, part, as_of, params, in_tasks))
        features.submitted(cohorts[-1])
    features_seconds = time.perf_counter() - started  # in this process; on a cluster, submitted
    reference = executor.submit(
        _cohort_reference, [executor.submit(_reference_of, c) for c in cohorts], as_of
    )
    scored = []
    probabilities = PassProgress(progress, executor, "probabilities", n_parts)
    for cohort in cohorts:
        scored.append(
            executor.submit(_partition_probabilities, cohort, reference, shared_model, in_tasks)
        )
        probabilities.submitted(scored[-1])
    parts = executor.gather(scored)
    features.finished()
    probabilities.finished()
    seconds = {"features": features_seconds, "probabilities": time.perf_counter() - started}
    rankings = ranked_in_id_order(
        [part.probability for part in parts],
        [part.ids for part in parts],
        scoring,
        params.evaluation.call_list_capacity,
    )
    stability = StabilityCounter(model.meta.get("reference") or {})
    for part in parts:
        stability.merge(part.stability)
    result = ScoringResult(
        as_of=as_of,
        probability=np.concatenate([r.probability for r in rankings]),
        band_counts={
            name: int(sum((r.band == name).sum() for r in rankings)) for name in scoring.band_names
        },
        explained=int(sum(r.explained.sum() for r in rankings)),
        drift=stability.table(scoring.psi_threshold, _profiled(model)),
    )
    sink = writer if executor.in_process else None
    rows = []
    reasons = PassProgress(progress, executor, "reasons", n_parts)
    for cohort, ranking in zip(cohorts, rankings, strict=True):
        rows.append(
            executor.submit(
                _partition_rows,
                cohort,
                reference,
                ranking,
                shared_model,
                causes.playbook,
                scoring.reasons_per_account,
                params,
                sink,
                in_tasks,
            )
        )
        reasons.submitted(rows[-1])
    for part in executor.results(rows):
        for scores, compact in part.tables:
            writer.write(scores)
            writer.write_compact(compact)
        result.cause_counts.update(part.cause_counts)
        result.value_at_risk += part.value_at_risk
    reasons.finished()
    executor.gather([executor.submit(_close, cohort) for cohort in cohorts])
    result.seconds = {**seconds, "total": time.perf_counter() - started}
    return result


@dataclass
class PartitionProbabilities:
    """One partition's account ids, calibrated probabilities and drift counts."""

    ids: np.ndarray
    probability: np.ndarray
    stability: StabilityCounter


@dataclass
class PartitionRows:
    """One partition's written rows (or, when a sink took them, none) and its totals."""

    tables: list[tuple[pa.Table, pa.Table]]
    cause_counts: Counter
    value_at_risk: float


def _partition_cohort(
    tables: Tables, as_of: pd.Timestamp, params: Params, progress: Progress
) -> ChunkedCohort:
    cohort = ChunkedCohort(tables, as_of, params)
    cohort.build_customer_step(progress, require_open=False)
    return cohort


def _reference_of(cohort: ChunkedCohort):
    return cohort.reference


def _cohort_reference(references: list, as_of: pd.Timestamp):
    present = [reference for reference in references if reference is not None]
    if not present:
        raise ChurnError(f"no account is open at {as_of.date()}: nothing to score")
    return present[0] if len(present) == 1 else combine_market_references(present)


def _partition_probabilities(
    cohort: ChunkedCohort, reference, model: ScoringModel, progress: Progress
) -> PartitionProbabilities:
    """Return a partition's ids, probabilities (customer order) and drift counts."""
    stability = StabilityCounter(model.meta.get("reference") or {})
    ids, probabilities = [], []
    for chunk, frame in cohort.frames(reference):
        probability = model.churn_probability(frame)
        stability.add(frame.assign(**{SCORE: probability}))
        ids.append(frame["customer_id"].to_numpy(dtype=object))
        probabilities.append(probability)
        progress("probabilities", chunk + 1, cohort.n_frames)
    if not probabilities:
        return PartitionProbabilities(np.empty(0, object), np.empty(0), stability)
    return PartitionProbabilities(np.concatenate(ids), np.concatenate(probabilities), stability)


def _partition_rows(
    cohort: ChunkedCohort,
    reference,
    ranking: Ranking,
    model: ScoringModel,
    playbook: Playbook,
    per_account: int,
    params: Params,
    sink: ScoresWriter | None,
    progress: Progress,
) -> PartitionRows:
    """Third pass over a partition: reasons, causes and plays per chunk, as output rows."""
    causes = CauseFinder(playbook)  # one per partition: its answer cache does not travel
    result = PartitionRows([], Counter(), 0.0)
    offset = 0
    for chunk, frame in cohort.frames(reference):
        rows = slice(offset, offset + len(frame))
        with cycle_collection_paused():  # a few small objects per account, no cycles
            scored = decide_accounts(
                frame, ranking, rows, model, causes, per_account, params, cohort.customers
            )
            tables = (scores_table(scored, per_account), compact_table(scored))
        if sink is not None:
            sink.write(tables[0])
            sink.write_compact(tables[1])
        else:
            result.tables.append(tables)
        result.cause_counts.update(scored.cause.cause)
        result.value_at_risk += float(np.nansum(scored.money["value_at_risk_cny"]))
        offset += len(frame)
        progress("reasons", chunk + 1, cohort.n_frames)
    return result


def _close(cohort: ChunkedCohort) -> None:
    cohort.close()


def _profiled(model: ScoringModel) -> set[str]:
    return {*model.feature_columns, SCORE}
